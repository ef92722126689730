/* test_merge.c - pairwise merge of partial objects (stitch/merge.h).
 *
 * The truth T is a crop of a smooth periodic band-limited complex field, so
 * a Fourier shift of the field is exact: partial B is cut from the shifted
 * field, and its content is genuinely displaced by a known sub-pixel amount
 * (not wrapped around its own box).  A covers the left 100 columns of a
 * 160 x 160 grid, B the right 100; their weights fall smoothly to 0 at each
 * block's edges, like an illumination sum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "merge.h"
#include "pty_error.h"
#include "pty_test.h"
#include "test_images.h"
#include "register.h"
#include "rng.h"

#define GH 160 /* global grid */
#define GW 160
#define BIG 192 /* periodic field; the grid is its crop at (PAD, PAD) */
#define PAD 16
#define EDGE 16.0 /* px over which a block's weight rises from 0 */


/* Periodic n x n field: amplitude 0.5..1, phase +-1.5 rad with features of a
 * few px, band-limited (~1e-5 left at Nyquist). */
static pty_cf *make_field(int n, uint64_t seed)
{
    pty_rng r;
    pty_rng_seed(&r, seed);
    size_t np = (size_t)n * n;
    pty_cf *a = malloc(sizeof *a * np), *out = malloc(sizeof *out * np);
    for (size_t i = 0; i < np; i++) a[i] = pty_cf_make((float)pty_rng_normal(&r), (float)pty_rng_normal(&r));
    lowpass(a, n, n, 0.04);
    double rms = 0;
    for (size_t i = 0; i < np; i++) rms += pty_cabs2(a[i]);
    rms = sqrt(rms / np);
    for (size_t i = 0; i < np; i++) {
        double amp = 0.75 + 0.25 * tanh(a[i].re / rms), ph = 1.5 * tanh(a[i].im / rms);
        out[i] = pty_cf_make((float)(amp * cos(ph)), (float)(amp * sin(ph)));
    }
    lowpass(out, n, n, 0.1);
    free(a);
    return out;
}

/* 0 at a block's edge pixel, 1 from EDGE px inward (smoothstep). */
static double edge(int d, int n)
{
    int e = d < n - 1 - d ? d : n - 1 - d;
    double t = e / EDGE;
    return t >= 1.0 ? 1.0 : t * t * (3.0 - 2.0 * t);
}

/* A partial of the grid: rows 0..GH-1, cols c0..c0+w-1, content from `field`
 * (BIG x BIG) at grid offset (PAD, PAD), times G exp(i K.r) (r global). */
static void cut_partial(pty_partial *p, const pty_cf *field, int c0, int w, double G, double gph, const double K[2])
{
    pty_partial_alloc(p, GH, w, 0, c0);
    for (int i = 0; i < GH; i++)
        for (int j = 0; j < w; j++) {
            double ph = gph + K[0] * i + K[1] * (c0 + j);
            pty_cf f = pty_cf_make((float)(G * cos(ph)), (float)(G * sin(ph)));
            p->object[(size_t)i * w + j] = pty_cmul(field[(size_t)(i + PAD) * BIG + c0 + j + PAD], f);
            p->weight[(size_t)i * w + j] = (float)(1e4 * edge(i, GH) * edge(j, w));
        }
}

/* Relative RMS error of the merged object against T (= field crop) over
 * the grid pixels in `region`: 1 = well-seen overlap, 0 = the rest with
 * merged weight >= 5% of its maximum. */
static double rel_error(const pty_partial *m, const pty_cf *field, const pty_partial *a, const pty_partial *b,
                        int region)
{
    double wmax = 0, err = 0, ref = 0;
    for (size_t i = 0; i < (size_t)m->h * m->w; i++) wmax = fmax(wmax, m->weight[i]);
    for (int i = 0; i < GH; i++)
        for (int c = 0; c < GW; c++) {
            int ja = c - a->offset[1], jb = c - b->offset[1];
            double wa = ja >= 0 && ja < a->w ? a->weight[(size_t)i * a->w + ja] / 1e4 : 0.0;
            double wb = jb >= 0 && jb < b->w ? b->weight[(size_t)i * b->w + jb] / 1e4 : 0.0;
            int in_overlap = wa >= 0.15 && wb >= 0.15;
            size_t q = (size_t)(i - m->offset[0]) * m->w + (c - m->offset[1]);
            if (region ? !in_overlap : (in_overlap || m->weight[q] < 0.05 * wmax)) continue;
            pty_cf t = field[(size_t)(i + PAD) * BIG + c + PAD], v = m->object[q];
            err += (v.re - t.re) * (v.re - t.re) + (v.im - t.im) * (v.im - t.im);
            ref += pty_cabs2(t);
        }
    return sqrt(err / ref);
}

/* Relative RMS that complex noise of standard deviation sigma in both A and
 * B (after B's correction) leaves in the blend over the well-seen overlap:
 * sigma^2 (w_a^2 + w_b^2) / (w_a + w_b)^2 per pixel. */
static double blended_noise(const pty_cf *field, const pty_partial *a, const pty_partial *b, double sigma)
{
    double var = 0, ref = 0;
    for (int i = 0; i < GH; i++)
        for (int c = b->offset[1]; c < a->w; c++) {
            double wa = a->weight[(size_t)i * a->w + c] / 1e4, wb = b->weight[(size_t)i * b->w + c - b->offset[1]] / 1e4;
            if (!(wa >= 0.15 && wb >= 0.15)) continue;
            var += sigma * sigma * (wa * wa + wb * wb) / ((wa + wb) * (wa + wb));
            ref += pty_cabs2(field[(size_t)(i + PAD) * BIG + c + PAD]);
        }
    return sqrt(var / ref);
}

/* B displaced by s, times G e^{i gph} e^{i K.r}; merged onto A = T; checks
 * the recovered shift, factor and ramp and the merged object. */
static void check_registered_merge(const pty_cf *field, const double s[2], double G, double gph, const double K[2],
                                   double noise, int fit_ramp, const char *name)
{
    pty_cf *moved = malloc(sizeof *moved * BIG * BIG);
    memcpy(moved, field, sizeof *moved * BIG * BIG);
    pty_shift_image(moved, BIG, BIG, s[0], s[1]);
    const double zero[2] = {0, 0};
    pty_partial a, b, m;
    cut_partial(&a, field, 0, 100, 1.0, 0.0, zero);
    cut_partial(&b, moved, 60, 100, G, gph, K);
    if (noise > 0) {
        pty_rng r;
        pty_rng_seed(&r, 123);
        for (size_t i = 0; i < (size_t)GH * 100; i++) {
            a.object[i].re += (float)(noise * 0.8 * pty_rng_normal(&r) / sqrt(2.0));
            a.object[i].im += (float)(noise * 0.8 * pty_rng_normal(&r) / sqrt(2.0));
            b.object[i].re += (float)(noise * G * 0.8 * pty_rng_normal(&r) / sqrt(2.0));
            b.object[i].im += (float)(noise * G * 0.8 * pty_rng_normal(&r) / sqrt(2.0));
        }
    }
    pty_merge_options o;
    pty_merge_options_default(&o);
    o.fit_ramp = fit_ramp;
    pty_merge_report rep;
    char what[200];
    int rc = pty_merge_pair(&a, &b, &o, &m, &rep);
    snprintf(what, sizeof what, "%s: merge succeeds and accepts the registration", name);
    PTY_TEST(what, rc == PTY_OK && rep.accepted == 1);
    if (rc != PTY_OK) {
        printf("        %s\n", pty_error_message());
        pty_partial_free(&a), pty_partial_free(&b), free(moved);
        return;
    }
    double es = fmax(fabs(rep.shift[0] - s[0]), fabs(rep.shift[1] - s[1]));
    double eo = rel_error(&m, field, &a, &b, 1), ee = rel_error(&m, field, &a, &b, 0);
    printf("        %s: shift (%.4f, %.4f) [applied (%.3f, %.3f), |error| %.1e px], reg error %.2e, "
           "g = %.5f e^{i %.5f}, ramp (%.5f, %.5f), overlap %ld px\n",
           name, rep.shift[0], rep.shift[1], s[0], s[1], es, rep.reg_error, rep.amplitude, rep.phase, rep.ramp[0],
           rep.ramp[1], rep.overlap_px);
    printf("        %s: relative RMS error vs T: overlap %.2e, elsewhere %.2e\n", name, eo, ee);
    /* noise-free: limited by B's mirrored edge under the taper (~3e-4 px); 20% noise in A and B:
       a few 0.01 px (a rough Cramer-Rao estimate for this overlap is ~0.01 px) */
    double tol_s = noise > 0 ? 0.05 : 2e-3, tol_ph = noise > 0 ? 0.02 : 1e-3;
    snprintf(what, sizeof what, "%s: shift recovered within %g px", name, tol_s);
    PTY_TEST(what, es < tol_s);
    if (K[0] == 0.0 && K[1] == 0.0) {
        double eph = fabs(remainder(rep.phase + gph, 2 * M_PI)), eamp = fabs(rep.amplitude * G - 1);
        printf("        %s: phase error %.1e rad, amplitude error %.1e (relative)\n", name, eph, eamp);
        snprintf(what, sizeof what, "%s: phase -%.2f rad within %g rad, amplitude 1/%.2f within 1%%", name, gph,
                 tol_ph, G);
        PTY_TEST(what, eph < tol_ph && eamp < 0.01);
    } else {
        double ek = fmax(fabs(rep.ramp[0] + K[0]), fabs(rep.ramp[1] + K[1]));
        printf("        %s: ramp error %.1e rad/px\n", name, ek);
        snprintf(what, sizeof what, "%s: ramp -K recovered within 1e-5 rad/px", name);
        PTY_TEST(what, ek < 1e-5);
    }
    if (noise > 0) {
        double expect = blended_noise(field, &a, &b, noise * 0.8);
        printf("        %s: blended noise alone would give %.3e on the overlap\n", name, expect);
        snprintf(what, sizeof what, "%s: merged overlap error within 5%% of the blended noise alone", name);
        PTY_TEST(what, eo < 1.05 * expect);
        snprintf(what, sizeof what, "%s: registration error (%.3f) accepted, well below max_error", name,
                 rep.reg_error);
        PTY_TEST(what, rep.reg_error < 0.5 * o.max_error);
    } else {
        snprintf(what, sizeof what,
                 "%s: merged object matches T (relative RMS < 2e-4 on the overlap, < 5e-3 elsewhere)", name);
        PTY_TEST(what, eo < 2e-4 && ee < 5e-3);
    }
    PTY_TEST("merged box is the union of A and B", m.h == GH && m.w == GW && m.offset[0] == 0 && m.offset[1] == 0);
    int finite = 1;
    for (size_t i = 0; i < (size_t)m.h * m.w; i++)
        finite &= isfinite(m.object[i].re) && isfinite(m.object[i].im) && isfinite(m.weight[i]) && m.weight[i] >= 0;
    PTY_TEST("merged object and weight are finite, weights >= 0", finite);
    pty_partial_free(&a), pty_partial_free(&b), pty_partial_free(&m);
    free(moved);
}

static void test_registered(const pty_cf *field)
{
    const double zero[2] = {0, 0}, K[2] = {0.013, -0.021};
    check_registered_merge(field, (double[2]){0.3, -2.7}, 1.3, 0.7, zero, 0.0, 0, "shift (0.3, -2.7)");
    check_registered_merge(field, (double[2]){-1.45, 2.2}, 0.8, -2.0, zero, 0.0, 0, "shift (-1.45, 2.2)");
    check_registered_merge(field, (double[2]){0.62, 1.3}, 1.1, 0.4, K, 0.0, 1, "shift (0.62, 1.3) + ramp");
    check_registered_merge(field, (double[2]){-0.8, -1.15}, 1.3, 0.7, zero, 0.2, 0, "20% noise");
}

/* Known offsets: the merge is exactly the weighted average. */
static void test_sync(const pty_cf *field)
{
    const double zero[2] = {0, 0};
    pty_partial a, b, m;
    pty_merge_options o;
    pty_merge_options_default(&o);
    o.register_shift = 0;
    o.normalise = 0;
    pty_merge_report rep;
    cut_partial(&a, field, 0, 100, 1.0, 0.0, zero);
    cut_partial(&b, field, 60, 100, 1.0, 0.0, zero);
    int rc = pty_merge_pair(&a, &b, &o, &m, &rep);
    double d = 0;
    for (int i = 0; i < GH && rc == PTY_OK; i++)
        for (int c = 0; c < GW; c++) {
            pty_cf t = field[(size_t)(i + PAD) * BIG + c + PAD], v = m.object[(size_t)i * GW + c];
            d = fmax(d, hypot(v.re - t.re, v.im - t.im));
        }
    printf("        identical A and B, known offsets: max |merged - T| = %.1e, shift (%g, %g), reg error %g\n", d,
           rep.shift[0], rep.shift[1], rep.reg_error);
    PTY_TEST("sync: identical content merges to T to float precision (< 1e-6)", rc == PTY_OK && d < 1e-6);
    PTY_TEST("sync: nothing registered (shift 0, reg_error NAN, accepted 0)",
             rep.shift[0] == 0 && rep.shift[1] == 0 && isnan(rep.reg_error) && rep.accepted == 0);
    int wsum = 1;
    for (int i = 0; i < GH && rc == PTY_OK; i++)
        for (int c = 0; c < GW; c++) {
            double wa = c < 100 ? a.weight[(size_t)i * 100 + c] : 0, wb = c >= 60 ? b.weight[(size_t)i * 100 + c - 60] : 0;
            wsum &= fabs(m.weight[(size_t)i * GW + c] - (wa + wb)) <= 1e-6 * (wa + wb);
        }
    PTY_TEST("sync: merged weight = w_a + w_b", rc == PTY_OK && wsum);
    pty_partial_free(&m);

    /* different content: exactly (w_a A + w_b B) / (w_a + w_b) */
    for (size_t i = 0; i < (size_t)GH * 100; i++) b.object[i] = pty_cmul(b.object[i], pty_cf_make(0.5f, 1.5f));
    rc = pty_merge_pair(&a, &b, &o, &m, &rep);
    d = 0;
    for (int i = 0; i < GH && rc == PTY_OK; i++)
        for (int c = 60; c < 100; c++) {
            double wa = a.weight[(size_t)i * 100 + c], wb = b.weight[(size_t)i * 100 + c - 60];
            pty_cf va = a.object[(size_t)i * 100 + c], vb = b.object[(size_t)i * 100 + c - 60];
            pty_cf v = m.object[(size_t)i * GW + c];
            double er = wa + wb > 0 ? (wa * va.re + wb * vb.re) / (wa + wb) : va.re;
            double ei = wa + wb > 0 ? (wa * va.im + wb * vb.im) / (wa + wb) : va.im;
            d = fmax(d, hypot(v.re - er, v.im - ei));
        }
    printf("        different content: max deviation from the weighted average %.1e\n", d);
    PTY_TEST("sync: different content gives the weighted average (< 1e-6)", rc == PTY_OK && d < 1e-6);
    pty_partial_free(&m);

    /* normalisation without registration removes the factor */
    o.normalise = 1;
    rc = pty_merge_pair(&a, &b, &o, &m, &rep);
    double g_abs = 1 / hypot(0.5, 1.5), g_ph = -atan2(1.5, 0.5);
    printf("        sync + normalise: g = %.6f e^{i %.6f} [expect %.6f e^{i %.6f}]\n", rep.amplitude, rep.phase, g_abs,
           g_ph);
    PTY_TEST("sync + normalise: factor removed (1e-5)",
             rc == PTY_OK && fabs(rep.amplitude - g_abs) < 1e-5 && fabs(rep.phase - g_ph) < 1e-5 && rep.accepted == 0);
    pty_partial_free(&a), pty_partial_free(&b), pty_partial_free(&m);
}

/* B with nothing in common with A: refused, merged at its offset unchanged. */
static void test_unrelated(const pty_cf *field)
{
    const double zero[2] = {0, 0};
    pty_partial a, b, m;
    cut_partial(&a, field, 0, 100, 1.0, 0.0, zero);
    cut_partial(&b, field, 60, 100, 1.0, 0.0, zero);
    pty_rng r;
    pty_rng_seed(&r, 4);
    for (size_t i = 0; i < (size_t)GH * 100; i++)
        b.object[i] = pty_cf_make((float)pty_rng_normal(&r), (float)pty_rng_normal(&r));
    pty_merge_report rep;
    int rc = pty_merge_pair(&a, &b, NULL, &m, &rep);
    printf("        unrelated B: reg error %.3f, accepted %d, shift (%g, %g), g %g e^{i %g}\n", rep.reg_error,
           rep.accepted, rep.shift[0], rep.shift[1], rep.amplitude, rep.phase);
    PTY_TEST("unrelated B: merge succeeds, registration refused", rc == PTY_OK && rep.accepted == 0);
    PTY_TEST("unrelated B: registration error above max_error 0.5", rep.reg_error > 0.5);
    PTY_TEST("unrelated B: no shift or factor applied", rep.shift[0] == 0 && rep.shift[1] == 0 &&
                                                            rep.amplitude == 1 && rep.phase == 0);
    int same = rc == PTY_OK;
    for (int i = 0; i < GH && same; i++) {
        same &= memcmp(&m.object[(size_t)i * GW], &a.object[(size_t)i * 100], sizeof(pty_cf) * 60) == 0;
        same &= memcmp(&m.object[(size_t)i * GW + 100], &b.object[(size_t)i * 100 + 40], sizeof(pty_cf) * 60) == 0;
    }
    PTY_TEST("unrelated B: A-only and B-only regions keep their content exactly", same);
    pty_partial_free(&a), pty_partial_free(&b), pty_partial_free(&m);
}

static void fill_block(pty_partial *p, int h, int w, int r0, int c0, float base)
{
    pty_partial_alloc(p, h, w, r0, c0);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            p->object[(size_t)i * w + j] = pty_cf_make(base + 0.01f * i, -0.02f * j);
            p->weight[(size_t)i * w + j] = (float)(edge(i, h) * edge(j, w));
        }
}

/* Disjoint and corner-touching boxes: plain blending, no registration. */
static void test_disjoint(void)
{
    pty_partial a, b, m;
    pty_merge_report rep;
    fill_block(&a, 40, 40, -20, -5, 0.5f);
    fill_block(&b, 30, 30, 80, 45, 2.0f);
    int rc = pty_merge_pair(&a, &b, NULL, &m, &rep);
    PTY_TEST("disjoint boxes merge without error", rc == PTY_OK);
    PTY_TEST("disjoint: accepted 0, overlap 0, no factor", rep.accepted == 0 && rep.overlap_px == 0 &&
                                                               rep.amplitude == 1 && isnan(rep.reg_error));
    PTY_TEST("disjoint: union box (-20, -5) 130 x 80",
             m.offset[0] == -20 && m.offset[1] == -5 && m.h == 130 && m.w == 80);
    int same = rc == PTY_OK;
    for (int i = 0; i < 40 && same; i++)
        same &= memcmp(&m.object[(size_t)i * 80], &a.object[(size_t)i * 40], sizeof(pty_cf) * 40) == 0 &&
                memcmp(&m.weight[(size_t)i * 80], &a.weight[(size_t)i * 40], sizeof(float) * 40) == 0;
    for (int i = 0; i < 30 && same; i++)
        same &= memcmp(&m.object[(size_t)(i + 100) * 80 + 50], &b.object[(size_t)i * 30], sizeof(pty_cf) * 30) == 0 &&
                memcmp(&m.weight[(size_t)(i + 100) * 80 + 50], &b.weight[(size_t)i * 30], sizeof(float) * 30) == 0;
    PTY_TEST("disjoint: each region keeps its content and weight", same);
    pty_cf gap = rc == PTY_OK ? m.object[(size_t)60 * 80 + 10] : pty_cf_make(0, 0);
    PTY_TEST("disjoint: uncovered pixels are 1+0i with weight 0",
             rc == PTY_OK && gap.re == 1.0f && gap.im == 0.0f && m.weight[(size_t)60 * 80 + 10] == 0.0f);
    pty_partial_free(&b), pty_partial_free(&m);

    /* touching at a corner: 10 x 10 overlap of low weights */
    fill_block(&b, 40, 40, 10, 25, 2.0f);
    rc = pty_merge_pair(&a, &b, NULL, &m, &rep);
    printf("        corner overlap: %ld well-seen pixels, accepted %d\n", rep.overlap_px, rep.accepted);
    PTY_TEST("corner overlap: merged without registration", rc == PTY_OK && rep.accepted == 0 && rep.overlap_px < 64);
    /* global (15, 30): A local (35, 35), B local (5, 5); both weights > 0 */
    size_t p = (size_t)(15 + 20) * m.w + (30 + 5);
    double wa = a.weight[(size_t)35 * 40 + 35], wb = b.weight[(size_t)5 * 40 + 5];
    pty_cf va = a.object[(size_t)35 * 40 + 35], vb = b.object[(size_t)5 * 40 + 5];
    double er = (wa * va.re + wb * vb.re) / (wa + wb);
    PTY_TEST("corner overlap: blended by weight", rc == PTY_OK && wa > 0 && wb > 0 && fabs(m.object[p].re - er) < 1e-6);
    pty_partial_free(&a), pty_partial_free(&b), pty_partial_free(&m);
}

static void test_bad_arguments(void)
{
    pty_partial a, b, m, z;
    fill_block(&a, 20, 20, 0, 0, 1.0f);
    fill_block(&b, 20, 20, 0, 10, 1.0f);
    memset(&z, 0, sizeof z);
    pty_merge_options o;
    pty_merge_options_default(&o);
    PTY_TEST("alloc h = 0 refused", pty_partial_alloc(&m, 0, 5, 0, 0) == PTY_ERR_ARG && m.object == NULL);
    PTY_TEST("alloc w < 0 refused", pty_partial_alloc(&m, 5, -1, 0, 0) == PTY_ERR_ARG);
    PTY_TEST("alloc NULL refused", pty_partial_alloc(NULL, 5, 5, 0, 0) == PTY_ERR_ARG);
    PTY_TEST("NULL a refused", pty_merge_pair(NULL, &b, &o, &m, NULL) == PTY_ERR_ARG);
    PTY_TEST("NULL b refused", pty_merge_pair(&a, NULL, &o, &m, NULL) == PTY_ERR_ARG);
    PTY_TEST("NULL out refused", pty_merge_pair(&a, &b, &o, NULL, NULL) == PTY_ERR_ARG);
    PTY_TEST("out == a refused", pty_merge_pair(&a, &b, &o, &a, NULL) == PTY_ERR_ARG && a.object != NULL);
    PTY_TEST("empty partial refused", pty_merge_pair(&a, &z, &o, &m, NULL) == PTY_ERR_ARG && m.object == NULL);
    z.object = a.object, z.weight = a.weight, z.w = 20;
    PTY_TEST("partial with h = 0 refused", pty_merge_pair(&a, &z, &o, &m, NULL) == PTY_ERR_ARG);
    o.upsample = 0;
    PTY_TEST("upsample 0 refused", pty_merge_pair(&a, &b, &o, &m, NULL) == PTY_ERR_ARG);
    pty_merge_options_default(&o);
    o.max_error = NAN;
    PTY_TEST("max_error NaN refused", pty_merge_pair(&a, &b, &o, &m, NULL) == PTY_ERR_ARG);
    pty_merge_options_default(&o);
    b.weight[7] = -1.0f;
    PTY_TEST("negative weight refused (PTY_ERR_DATA)", pty_merge_pair(&a, &b, &o, &m, NULL) == PTY_ERR_DATA);
    printf("        %s\n", pty_error_message());
    b.weight[7] = 0.0f;
    b.object[3].im = NAN;
    PTY_TEST("NaN object refused (PTY_ERR_DATA)", pty_merge_pair(&a, &b, &o, &m, NULL) == PTY_ERR_DATA);
    b.object[3].im = 0.0f;
    b.offset[1] = 2000000000;
    a.offset[1] = -2000000000;
    PTY_TEST("union too large refused", pty_merge_pair(&a, &b, &o, &m, NULL) == PTY_ERR_ARG && m.object == NULL);
    printf("        %s\n", pty_error_message());
    pty_partial_free(&a), pty_partial_free(&b);
    pty_partial_free(NULL);
}

int main(void)
{
    pty_cf *field = make_field(BIG, 2024);
    test_registered(field);
    test_sync(field);
    test_unrelated(field);
    test_disjoint();
    test_bad_arguments();
    free(field);
    return pty_test_report();
}
