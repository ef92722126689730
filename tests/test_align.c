/* test_align.c - the alignment module (stitch/align.h): resampling at a
 * sub-pixel shift, the start estimates and the Gauss-Newton fit of shift,
 * ramp and factor, and one aligner reused over many fits.
 *
 * The images are sums of a few plane waves well below Nyquist, evaluated
 * exactly at any position, so a moving image whose content is displaced by
 * a sub-pixel S, tilted by a ramp and scaled by a factor is made without
 * interpolation, and is not periodic (as real reconstructions are not). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "numeric.h"
#include "pty_error.h"
#include "pty_test.h"
#include "rng.h"

#define N_WAVES 12
#define CH 96 /* moving image (canvas) */
#define CW 104
#define WH 48 /* window */
#define WW 40

static const double pi = 3.14159265358979323846;

typedef struct field {
    double kr[N_WAVES], kc[N_WAVES], re[N_WAVES], im[N_WAVES];
} field;

/* Wave numbers up to 0.8 rad/px (Nyquist is pi), a constant term so the
 * field has a mean, amplitudes ~0.3. */
static void field_make(field *f, uint64_t seed)
{
    pty_rng r;
    pty_rng_seed(&r, seed);
    for (int j = 0; j < N_WAVES; j++) {
        double k = j == 0 ? 0.0 : 0.8 * pty_rng_uniform(&r), a = 2 * pi * pty_rng_uniform(&r);
        f->kr[j] = k * cos(a), f->kc[j] = k * sin(a);
        f->re[j] = (j == 0 ? 1.0 : 0.3) * pty_rng_normal(&r);
        f->im[j] = (j == 0 ? 1.0 : 0.3) * pty_rng_normal(&r);
    }
}

static pty_cf field_at(const field *f, double r, double c)
{
    double re = 0, im = 0;
    for (int j = 0; j < N_WAVES; j++) {
        double a = f->kr[j] * r + f->kc[j] * c, cs = cos(a), sn = sin(a);
        re += f->re[j] * cs - f->im[j] * sn;
        im += f->re[j] * sn + f->im[j] * cs;
    }
    return pty_cf_make((float)re, (float)im);
}

/* A known misalignment of the moving image against the target. */
typedef struct case_t {
    uint64_t seed;
    double shift[2]; /* S: the moving image's content sits S further */
    double ramp[2];  /* K: the moving image carries exp(-i K.(p - c)) */
    double g[2];     /* G: and the factor G, so the fit should give g = 1/G */
    int weighted;    /* 1: as merge.c fits, a sine taper for weight and smoothed images */
} case_t;

/* moving(q) = G exp(-i K.(q - S - corner - c)) f(q - S) on the canvas; the
 * target is f(corner + p) on the window. */
static void make_images(const field *f, const case_t *t, const long long corner[2], pty_cf *moving, pty_cf *target)
{
    double cr = corner[0] + (WH - 1) / 2.0, cc = corner[1] + (WW - 1) / 2.0;
    for (int i = 0; i < CH; i++)
        for (int j = 0; j < CW; j++) {
            pty_cf v = field_at(f, i - t->shift[0], j - t->shift[1]);
            double a = -(t->ramp[0] * (i - t->shift[0] - cr) + t->ramp[1] * (j - t->shift[1] - cc));
            double fr = t->g[0] * cos(a) - t->g[1] * sin(a), fi = t->g[0] * sin(a) + t->g[1] * cos(a);
            moving[(size_t)i * CW + j] = pty_cf_make((float)(v.re * fr - v.im * fi), (float)(v.re * fi + v.im * fr));
        }
    for (int i = 0; i < WH; i++)
        for (int j = 0; j < WW; j++) target[(size_t)i * WW + j] = field_at(f, (double)(corner[0] + i), (double)(corner[1] + j));
}

static void make_taper(float *weight)
{
    for (int i = 0; i < WH; i++)
        for (int j = 0; j < WW; j++) weight[(size_t)i * WW + j] = (float)(sin(pi * (i + 0.5) / WH) * sin(pi * (j + 0.5) / WW));
}

/* compare.c's recipe: two rounds of registration and ramp, then the fit. */
static int align_case(pty_aligner *al, const case_t *t, pty_align_state *st)
{
    static pty_cf moving[CH * CW], target[WH * WW];
    static float weight[WH * WW];
    field f;
    field_make(&f, t->seed);
    const long long corner[2] = {24, 30};
    make_images(&f, t, corner, moving, target);
    make_taper(weight);
    pty_align_images im = {.moving = moving, .moving_h = CH, .moving_w = CW, .corner = {corner[0], corner[1]},
                           .target = target, .weight = t->weighted ? weight : NULL, .smooth = t->weighted};
    PTY_TRY(pty_aligner_set_images(al, &im));
    double s[2] = {0, 0}, k[2] = {0, 0};
    for (int round = 0; round < 2; round++) {
        pty_registration reg;
        double dk[2];
        PTY_TRY(pty_aligner_register(al, s, k, &reg));
        s[0] += reg.shift[0], s[1] += reg.shift[1];
        PTY_TRY(pty_aligner_ramp(al, s, k, dk));
        k[0] += dk[0], k[1] += dk[1];
    }
    pty_align_fit_options o = {.fit_shift = 1, .fit_ramp = 1, .max_iterations = 30, .tolerance = 1e-6,
                               .shift_min = {-10, -10}, .shift_max = {10, 10}};
    *st = (pty_align_state){.shift = {s[0], s[1]}, .ramp = {k[0], k[1]}};
    return pty_aligner_fit(al, &o, st);
}

static void test_resample(void)
{
    field f;
    field_make(&f, 7);
    static pty_cf src[CH * CW], dst[WH * WW];
    for (int i = 0; i < CH; i++)
        for (int j = 0; j < CW; j++) src[(size_t)i * CW + j] = field_at(&f, i, j);
    pty_resampler *r = NULL;
    PTY_TEST("resampler for a 48 x 40 window", pty_resampler_create(WH, WW, &r) == PTY_OK);
    if (!r) return;

    /* an integer shift reaching past the top-left edge: a reflected copy */
    const long long corner[2] = {2, 3};
    double s[2] = {-4, -5}, zero[2] = {0, 0}, centre[2] = {0, 0};
    int exact = pty_resampler_run(r, src, CH, CW, corner, s, zero, centre, dst) == PTY_OK;
    for (int i = 0; i < WH && exact; i++)
        for (int j = 0; j < WW && exact; j++) {
            int q = abs(i - 2) - (i < 2), l = abs(j - 2) - (j < 2); /* -1 -> 0, -2 -> 1 */
            exact = memcmp(&dst[(size_t)i * WW + j], &src[(size_t)q * CW + l], sizeof(pty_cf)) == 0;
        }
    PTY_TEST("integer shift: an exact copy, reflected beyond the edge", exact);

    /* sub-pixel shift and ramp inside the canvas: dst(p) = e^{ik.(p-c)} f(corner + p + s) */
    const long long inner[2] = {20, 30};
    double s2[2] = {3.37, -2.81}, k[2] = {0.031, -0.047}, c[2] = {10.0, 25.5}, worst = 0;
    PTY_TEST("sub-pixel shift with a ramp runs", pty_resampler_run(r, src, CH, CW, inner, s2, k, c, dst) == PTY_OK);
    for (int i = 0; i < WH; i++)
        for (int j = 0; j < WW; j++) {
            pty_cf v = field_at(&f, inner[0] + i + s2[0], inner[1] + j + s2[1]);
            double a = k[0] * (i - c[0]) + k[1] * (j - c[1]);
            double er = v.re * cos(a) - v.im * sin(a) - dst[(size_t)i * WW + j].re;
            double ei = v.re * sin(a) + v.im * cos(a) - dst[(size_t)i * WW + j].im;
            worst = fmax(worst, hypot(er, ei));
        }
    printf("        sub-pixel shift (3.37, -2.81) + ramp: max |error| %.2e (field rms ~1)\n", worst);
    PTY_TEST("sub-pixel shift + ramp matches the field at the shifted points within 2e-3", worst < 2e-3);

    double bad[2] = {NAN, 0};
    PTY_TEST("non-finite shift refused", pty_resampler_run(r, src, CH, CW, inner, bad, k, c, dst) == PTY_ERR_ARG);
    pty_resampler_destroy(r);
    PTY_TEST("empty window refused", pty_resampler_create(0, 5, &r) == PTY_ERR_ARG && r == NULL);
}

/* The short-kernel shift of a whole image (merge.c's B): against the field at the shifted points
 * away from the edges (within the kernel's 8 px of an edge the image is reflected, not the field),
 * against the resampler's convention for the ramp, exact for whole shifts; a real image too. */
static void test_shift_short(void)
{
    field f;
    field_make(&f, 11);
    static pty_cf src[CH * CW], dst[CH * CW], want[CH * CW];
    static float rsrc[CH * CW], rdst[CH * CW];
    for (int i = 0; i < CH; i++)
        for (int j = 0; j < CW; j++) src[(size_t)i * CW + j] = field_at(&f, i, j);
    const double s[2] = {1.37, -2.64}, k[2] = {0.031, -0.047}, c[2] = {40.0, 51.5};
    PTY_TEST("short-kernel shift with a ramp runs", pty_shift_image_short(src, CH, CW, s, k, c, dst) == PTY_OK);
    double worst = 0;
    const int m = PTY_SHIFT_TAPS + 3; /* + the shift's whole part */
    for (int i = m; i < CH - m; i++)
        for (int j = m; j < CW - m; j++) {
            pty_cf v = field_at(&f, i + s[0], j + s[1]);
            double a = k[0] * (i - c[0]) + k[1] * (j - c[1]);
            double er = v.re * cos(a) - v.im * sin(a) - dst[(size_t)i * CW + j].re;
            double ei = v.re * sin(a) + v.im * cos(a) - dst[(size_t)i * CW + j].im;
            worst = fmax(worst, hypot(er, ei));
        }
    printf("        short-kernel shift (1.37, -2.64) + ramp: max |error| %.2e away from the edges (field rms ~1)\n",
           worst);
    PTY_TEST("short-kernel shift + ramp matches the field at the shifted points within 2e-3", worst < 2e-3);

    /* the resampler's convention, on a window of the same image: the same values to interpolation error */
    pty_resampler *r = NULL;
    const long long corner[2] = {20, 30};
    const double cw[2] = {c[0] - corner[0], c[1] - corner[1]};
    int same = pty_resampler_create(WH, WW, &r) == PTY_OK &&
               pty_resampler_run(r, src, CH, CW, corner, s, k, cw, want) == PTY_OK;
    double diff = 0;
    for (int i = 0; same && i < WH; i++)
        for (int j = 0; j < WW; j++) {
            const pty_cf a = want[(size_t)i * WW + j], b = dst[(size_t)(corner[0] + i) * CW + corner[1] + j];
            diff = fmax(diff, hypot(a.re - b.re, a.im - b.im));
        }
    pty_resampler_destroy(r);
    PTY_TEST("short-kernel shift: the resampler's ramp and shift convention (within 2e-3)", same && diff < 2e-3);

    const double whole[2] = {-3, 2};
    int exact = pty_shift_image_short(src, CH, CW, whole, NULL, NULL, dst) == PTY_OK;
    for (int i = 0; i < CH && exact; i++)
        for (int j = 0; j < CW && exact; j++) {
            const long long q = pty_reflect(i - 3, CH), l = pty_reflect(j + 2, CW);
            exact = memcmp(&dst[(size_t)i * CW + j], &src[(size_t)q * CW + l], sizeof(pty_cf)) == 0;
        }
    PTY_TEST("short-kernel shift by whole pixels: an exact copy, reflected beyond the edges", exact);

    for (size_t i = 0; i < (size_t)CH * CW; i++) rsrc[i] = src[i].re;
    int real_ok = pty_shift_real_short(rsrc, CH, CW, s, rdst) == PTY_OK &&
                  pty_shift_image_short(src, CH, CW, s, NULL, NULL, dst) == PTY_OK;
    for (size_t i = 0; real_ok && i < (size_t)CH * CW; i++) real_ok = rdst[i] == dst[i].re;
    PTY_TEST("short-kernel shift of a real image: the complex shift's real part, bit for bit", real_ok);
    const double bad[2] = {NAN, 0};
    PTY_TEST("short-kernel shift: non-finite shift refused", pty_shift_image_short(src, CH, CW, bad, NULL, NULL, dst) == PTY_ERR_ARG);
}

static void test_fit(void)
{
    pty_aligner *al = NULL;
    PTY_TEST("aligner for a 48 x 40 window", pty_aligner_create(WH, WW, 20, &al) == PTY_OK);
    if (!al) return;
    /* G = 1.7 e^{0.9 i}: the fit's g should be 1/G */
    case_t t = {.seed = 11, .shift = {1.37, -2.64}, .ramp = {0.021, -0.034},
                .g = {1.7 * cos(0.9), 1.7 * sin(0.9)}};
    pty_align_state st;
    int rc = align_case(al, &t, &st);
    double es = hypot(st.shift[0] - t.shift[0], st.shift[1] - t.shift[1]);
    double ek = hypot(st.ramp[0] - t.ramp[0], st.ramp[1] - t.ramp[1]);
    double gabs = hypot(st.g[0], st.g[1]), gph = atan2(st.g[1], st.g[0]);
    double e_t = 0;
    {
        field f;
        field_make(&f, t.seed);
        for (int i = 0; i < WH; i++)
            for (int j = 0; j < WW; j++) {
                pty_cf v = field_at(&f, 24 + i, 30 + j);
                e_t += (double)v.re * v.re + (double)v.im * v.im;
            }
    }
    double nrmse = sqrt(st.misfit / e_t);
    printf("        fit: shift (%.6f, %.6f) [%.2e px], ramp (%.6f, %.6f) [%.2e rad/px], g %.6f e^{i %.6f}, "
           "nrmse %.2e\n",
           st.shift[0], st.shift[1], es, st.ramp[0], st.ramp[1], ek, gabs, gph, nrmse);
    PTY_TEST("fit of a known misalignment succeeds", rc == PTY_OK);
    PTY_TEST("sub-pixel shift (1.37, -2.64) recovered within 1e-5 px", es < 1e-5);
    PTY_TEST("ramp (0.021, -0.034) recovered within 1e-6 rad/px", ek < 1e-6);
    PTY_TEST("factor recovered: |g| = 1/1.7 within 1e-5, phase -0.9 within 1e-5 rad",
             fabs(gabs - 1 / 1.7) < 1e-5 && fabs(gph + 0.9) < 1e-5);
    PTY_TEST("what is left is interpolation error (nrmse < 2e-4)", nrmse < 2e-4);

    /* merge.c's use: the ramp held, a taper for weight, smoothed images; the box keeps the shift */
    static pty_cf moving[CH * CW], target[WH * WW];
    static float weight[WH * WW];
    field f;
    field_make(&f, 5);
    const long long corner[2] = {24, 30};
    case_t m = {.seed = 5, .shift = {-0.45, 0.8}, .ramp = {0, 0}, .g = {0.8, -0.3}};
    make_images(&f, &m, corner, moving, target);
    make_taper(weight);
    pty_align_images im = {.moving = moving, .moving_h = CH, .moving_w = CW, .corner = {corner[0], corner[1]},
                           .target = target, .weight = weight, .smooth = 1};
    pty_align_fit_options o = {.fit_shift = 1, .fit_ramp = 0, .max_iterations = 20, .tolerance = 1e-5,
                               .shift_min = {-2, -2}, .shift_max = {2, 2}};
    pty_align_state w = {{0, 0}, {0, 0}, {0, 0}, 0};
    rc = pty_aligner_set_images(al, &im);
    if (rc == PTY_OK) rc = pty_aligner_fit(al, &o, &w);
    double ew = hypot(w.shift[0] + 0.45, w.shift[1] - 0.8);
    printf("        weighted, smoothed, ramp held, from 0: shift (%.6f, %.6f) [%.2e px], ramp (%g, %g)\n", w.shift[0],
           w.shift[1], ew, w.ramp[0], w.ramp[1]);
    PTY_TEST("weighted fit from 0 finds the shift (-0.45, 0.8) within 1e-4 px", rc == PTY_OK && ew < 1e-4);
    PTY_TEST("a held ramp stays 0", w.ramp[0] == 0.0 && w.ramp[1] == 0.0);

    o.shift_max[1] = 0.5; /* the true column shift is outside the box */
    w = (pty_align_state){{0, 0}, {0, 0}, {0, 0}, 0};
    rc = pty_aligner_fit(al, &o, &w);
    PTY_TEST("a fit never leaves the admissible box", rc == PTY_OK && pty_align_admissible(&o, w.shift));
    o.max_iterations = -1;
    PTY_TEST("negative max_iterations refused", pty_aligner_fit(al, &o, &w) == PTY_ERR_ARG);
    pty_aligner_destroy(al);

    PTY_TEST("an aligner without images refuses to fit", pty_aligner_create(WH, WW, 20, &al) == PTY_OK &&
                                                             pty_aligner_factor(al, &w) == PTY_ERR_ARG);
    PTY_TEST("images without a target refused",
             pty_aligner_set_images(al, &(pty_align_images){.moving = moving, .moving_h = CH, .moving_w = CW}) ==
                 PTY_ERR_ARG);
    pty_aligner_destroy(al);
    pty_error_clear();
}

/* Plan once, run many: one aligner over several fits, weighted and not,
 * gives what a fresh aligner gives for each, to the bit (nothing of one fit
 * leaks into the next). */
static void test_reuse(void)
{
    const case_t cases[4] = {
        {.seed = 21, .shift = {0.3, 0.7}, .ramp = {0.01, 0.0}, .g = {1.0, 0.0}},
        {.seed = 22, .shift = {-2.25, 1.1}, .ramp = {-0.02, 0.015}, .g = {0.5, 0.5}, .weighted = 1},
        {.seed = 23, .shift = {3.6, -0.05}, .ramp = {0.0, -0.03}, .g = {-1.2, 0.1}},
        {.seed = 21, .shift = {0.3, 0.7}, .ramp = {0.01, 0.0}, .g = {1.0, 0.0}}, /* the first again */
    };
    pty_aligner *shared = NULL;
    int ok = pty_aligner_create(WH, WW, 20, &shared) == PTY_OK, same = 1;
    pty_align_state first = {{0}, {0}, {0}, 0};
    for (int c = 0; c < 4 && ok; c++) {
        pty_aligner *fresh = NULL;
        pty_align_state a, b;
        ok = align_case(shared, &cases[c], &a) == PTY_OK && pty_aligner_create(WH, WW, 20, &fresh) == PTY_OK &&
             align_case(fresh, &cases[c], &b) == PTY_OK;
        same = same && ok && memcmp(&a, &b, sizeof a) == 0;
        if (c == 0) first = a;
        if (c == 3) PTY_TEST("the first case again on the used aligner: the same result", memcmp(&a, &first, sizeof a) == 0);
        printf("        case %d: shift (%.5f, %.5f), misfit %.3e\n", c, a.shift[0], a.shift[1], a.misfit);
        pty_aligner_destroy(fresh);
    }
    PTY_TEST("four fits on one aligner run", ok);
    PTY_TEST("one aligner over four fits gives the fresh aligners' results bit for bit", ok && same);
    pty_aligner_destroy(shared);
}

int main(void)
{
    test_resample();
    test_shift_short();
    test_fit();
    test_reuse();
    return pty_test_report();
}
