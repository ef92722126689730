/* compare.c - NRMSE of a reconstruction against a ground truth.
 *
 * The truth's scanned region is the window of an aligner (stitch/align.h)
 * whose moving image is the reconstruction, resampled by a Fourier shift of
 * a mirrored window.  Sub-pixel registration and the ramp's DFT peak give a
 * start; Gauss-Newton then minimises ||g e^{ik.(r-rc)} O_rec(r + d + t) - O_true||
 * jointly in t, k and g, which the alternating estimates only approach. */
#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "pty_error.h"
#include "pty_log.h"

#define CMP_GN_ITERATIONS 30
/* Gauss-Newton stops below this step (px, and rad of ramp across the
 * region): the reported shift is good to ~1e-5 px on noise-free data. */
#define CMP_GN_TOLERANCE 1e-5

typedef struct ring_px {
    double d2, p;
} ring_px;

static int by_distance(const void *a, const void *b)
{
    double x = ((const ring_px *)a)->d2, y = ((const ring_px *)b)->d2;
    return (x > y) - (x < y);
}

double pty_probe_width(const pty_cf *probe, int n_modes, int m)
{
    if (!probe || n_modes < 1 || m < 1) return 0.0;
    size_t npix = (size_t)m * m;
    ring_px *px = malloc(sizeof *px * npix);
    if (!px) return 0.0;
    double total = 0.0, c = (double)(m / 2);
    for (size_t i = 0; i < npix; i++) {
        double r = (double)(i / m) - c, q = (double)(i % m) - c, p = 0.0;
        for (int k = 0; k < n_modes; k++) p += pty_cabs2(probe[(size_t)k * npix + i]);
        px[i].d2 = r * r + q * q;
        px[i].p = p;
        total += p;
    }
    double width = 0.0;
    if (total > 0.0 && isfinite(total)) {
        qsort(px, npix, sizeof *px, by_distance);
        double target = 0.9 * total, cum = 0.0, prev_r = 0.0;
        for (size_t i = 0; i < npix; i++) {
            double r = sqrt(px[i].d2);
            if (cum + px[i].p >= target) {
                /* interpolate inside the ring so the width varies smoothly with the probe */
                double f = px[i].p > 0.0 ? (target - cum) / px[i].p : 1.0;
                width = 2.0 * (prev_r + f * (r - prev_r));
                break;
            }
            cum += px[i].p;
            prev_r = r;
        }
    }
    free(px);
    return width;
}

typedef struct cmp_ctx {
    pty_aligner *al;  /* window = the region; moving = the reconstruction */
    pty_align_fit_options fit; /* all free; the admissible shifts keep the region on the reconstruction */
    int r0, c0, h, w; /* region, truth pixels */
    pty_cf *truth;    /* h x w crop of the truth */
    double e_truth;   /* sum |truth|^2 over the region */
} cmp_ctx;

/* Scanned region in truth pixels: probe-centre bounding box + width/4, clipped. */
static int find_region(const double *pos, int n, double width, const double origin[2], int th, int tw, int reg[4])
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            double v = pos[2 * i + a];
            PTY_CHECK(isfinite(v), PTY_ERR_DATA, "compare: position %d (%g, %g) is not finite", i, pos[2 * i],
                      pos[2 * i + 1]);
            lo[a] = fmin(lo[a], v);
            hi[a] = fmax(hi[a], v);
        }
    int size[2] = {th, tw}, a0[2], a1[2];
    for (int a = 0; a < 2; a++) {
        double l = ceil(origin[a] + lo[a] - width / 4.0 - 1e-9), h = floor(origin[a] + hi[a] + width / 4.0 + 1e-9);
        a0[a] = (int)fmax(l, 0.0);
        a1[a] = (int)fmin(h, size[a] - 1.0);
    }
    PTY_CHECK(a1[0] - a0[0] >= 3 && a1[1] - a0[1] >= 3, PTY_ERR_DATA,
              "compare: the scanned region (rows %.1f..%.1f, cols %.1f..%.1f of the truth) has fewer than 4 x 4 "
              "pixels on the %d x %d truth object (positions in the wrong unit or origin?)",
              origin[0] + lo[0] - width / 4, origin[0] + hi[0] + width / 4, origin[1] + lo[1] - width / 4,
              origin[1] + hi[1] + width / 4, th, tw);
    reg[0] = a0[0];
    reg[1] = a0[1];
    reg[2] = a1[0] - a0[0] + 1;
    reg[3] = a1[1] - a0[1] + 1;
    return PTY_OK;
}

static void keep(pty_compare_result *out, const double shift[2], const double k[2], const double g[2], double nrmse)
{
    out->nrmse = nrmse;
    out->shift[0] = shift[0], out->shift[1] = shift[1];
    out->ramp[0] = k[0], out->ramp[1] = k[1];
    out->g_abs = hypot(g[0], g[1]);
    out->g_phase = atan2(g[1], g[0]);
}

/* Start from registration and the ramp's DFT peak (two alternating rounds:
 * they find large shifts and ramps), then minimise the NRMSE jointly by
 * Gauss-Newton (pty_aligner_fit).  Registration alone is not enough: on the
 * periodically wrapped crops it is biased toward zero shift, badly so for
 * smooth objects whose features are as large as the region.  u = d + shift
 * is the shift on the reconstruction's grid. */
static int fit_all(cmp_ctx *x, const double d[2], pty_compare_result *out)
{
    double shift[2] = {0.0, 0.0}, k[2] = {0.0, 0.0}, u[2];
    for (int round = 0; round < 2; round++) {
        pty_registration reg;
        u[0] = d[0] + shift[0], u[1] = d[1] + shift[1];
        PTY_TRY(pty_aligner_register(x->al, u, k, &reg));
        out->reg_error = reg.error;
        u[0] += reg.shift[0], u[1] += reg.shift[1];
        if (pty_align_admissible(&x->fit, u)) {
            shift[0] += reg.shift[0], shift[1] += reg.shift[1];
        } else if (round == 1) {
            /* round 0 may fail for want of the ramp; a second failure is worth telling */
            pty_warn("compare: registration (shift %.2f, %.2f px, error %.3f) would move the region off the "
                     "reconstruction; keeping shift (%.2f, %.2f)", reg.shift[0], reg.shift[1], reg.error, shift[0],
                     shift[1]);
        }
        u[0] = d[0] + shift[0], u[1] = d[1] + shift[1];
        double dk[2];
        PTY_TRY(pty_aligner_ramp(x->al, u, k, dk));
        k[0] += dk[0], k[1] += dk[1];
    }
    pty_align_state st = {.shift = {d[0] + shift[0], d[1] + shift[1]}, .ramp = {k[0], k[1]}};
    PTY_TRY(pty_aligner_fit(x->al, &x->fit, &st));
    shift[0] = st.shift[0] - d[0], shift[1] = st.shift[1] - d[1];
    keep(out, shift, st.ramp, st.g, sqrt(st.misfit / x->e_truth));
    return PTY_OK;
}

/* NRMSE of the final fit inside and outside the seam bands. */
static int seam_errors(cmp_ctx *x, const double d[2], const double truth_origin[2], const pty_compare_seams *s,
                       pty_compare_result *r)
{
    double u[2] = {d[0] + r->shift[0], d[1] + r->shift[1]};
    double g[2] = {r->g_abs * cos(r->g_phase), r->g_abs * sin(r->g_phase)};
    const pty_cf *model;
    PTY_TRY(pty_aligner_model(x->al, u, r->ramp, &model));
    double err[2] = {0, 0}, ref[2] = {0, 0};
    long count[2] = {0, 0};
    for (int i = 0; i < x->h; i++)
        for (int l = 0; l < x->w; l++) {
            double row = x->r0 + i - truth_origin[0], col = x->c0 + l - truth_origin[1];
            int seam = 0;
            for (int c = 0; c < s->n_row_cuts && !seam && s->band > 0; c++) seam = fabs(row - s->row_cuts[c]) <= s->band;
            for (int c = 0; c < s->n_col_cuts && !seam && s->band > 0; c++) seam = fabs(col - s->col_cuts[c]) <= s->band;
            size_t q = (size_t)i * x->w + l;
            pty_cf m = model[q], t = x->truth[q];
            double dr = g[0] * m.re - g[1] * m.im - t.re, di = g[0] * m.im + g[1] * m.re - t.im;
            err[seam] += dr * dr + di * di;
            ref[seam] += pty_cabs2(t);
            count[seam]++;
        }
    if (s->want_map) {
        r->error_map = malloc(sizeof(float) * (size_t)x->h * x->w);
        PTY_CHECK(r->error_map, PTY_ERR_NOMEM, "compare: cannot allocate the error map");
        for (size_t q = 0; q < (size_t)x->h * x->w; q++) {
            pty_cf m = model[q], t = x->truth[q];
            r->error_map[q] = (float)hypot(g[0] * m.re - g[1] * m.im - t.re, g[0] * m.im + g[1] * m.re - t.im);
        }
    }
    if (s->want_aligned) {
        const size_t n = (size_t)x->h * x->w;
        r->aligned = malloc(sizeof(pty_cf) * n);
        r->reference = malloc(sizeof(pty_cf) * n);
        PTY_CHECK(r->aligned && r->reference, PTY_ERR_NOMEM, "compare: cannot allocate the aligned images");
        for (size_t q = 0; q < n; q++) {
            const pty_cf m = model[q];
            r->aligned[q] = pty_cf_make((float)(g[0] * m.re - g[1] * m.im), (float)(g[0] * m.im + g[1] * m.re));
        }
        memcpy(r->reference, x->truth, sizeof(pty_cf) * n);
    }
    if (s->band > 0) {
        r->nrmse_away = ref[0] > 0 ? sqrt(err[0] / ref[0]) : 0.0;
        r->nrmse_seam = ref[1] > 0 ? sqrt(err[1] / ref[1]) : 0.0;
        r->away_px = count[0];
        r->seam_px = count[1];
    }
    return PTY_OK;
}

void pty_compare_result_free(pty_compare_result *r)
{
    free(r->error_map);
    free(r->aligned);
    free(r->reference);
    r->error_map = NULL;
    r->aligned = r->reference = NULL;
}

int pty_compare_objects(const pty_cf *rec, int rec_h, int rec_w, const double rec_origin[2], const pty_cf *truth,
                        int truth_h, int truth_w, const double truth_origin[2], const double *positions,
                        int n_positions, double probe_width, int upsample, pty_compare_result *out)
{
    return pty_compare_objects_seams(rec, rec_h, rec_w, rec_origin, truth, truth_h, truth_w, truth_origin, positions,
                                     n_positions, probe_width, upsample, NULL, out);
}

int pty_compare_objects_seams(const pty_cf *rec, int rec_h, int rec_w, const double rec_origin[2],
                              const pty_cf *truth, int truth_h, int truth_w, const double truth_origin[2],
                              const double *positions, int n_positions, double probe_width, int upsample,
                              const pty_compare_seams *seams, pty_compare_result *out)
{
    PTY_CHECK(rec && truth && rec_origin && truth_origin && positions && out, PTY_ERR_ARG,
              "pty_compare_objects: NULL argument");
    PTY_CHECK(rec_h >= 4 && rec_w >= 4 && truth_h >= 4 && truth_w >= 4, PTY_ERR_ARG,
              "compare: objects must be at least 4 x 4 (reconstruction %d x %d, truth %d x %d)", rec_h, rec_w,
              truth_h, truth_w);
    PTY_CHECK(upsample >= 1 && upsample <= 1000, PTY_ERR_ARG, "--upsample must be in [1, 1000] (got %d)", upsample);
    PTY_CHECK(n_positions >= 1, PTY_ERR_DATA, "compare: no scan positions to define the scanned region");
    PTY_CHECK(isfinite(probe_width) && probe_width >= 0.0, PTY_ERR_DATA, "compare: probe width %g is invalid",
              probe_width);
    PTY_CHECK(isfinite(rec_origin[0]) && isfinite(rec_origin[1]) && isfinite(truth_origin[0]) &&
                  isfinite(truth_origin[1]),
              PTY_ERR_DATA, "compare: object origins must be finite");

    cmp_ctx x = {.fit = {.fit_shift = 1, .fit_ramp = 1, .max_iterations = CMP_GN_ITERATIONS,
                         .tolerance = CMP_GN_TOLERANCE}};
    int reg[4] = {0};
    PTY_TRY(find_region(positions, n_positions, probe_width, truth_origin, truth_h, truth_w, reg));
    x.r0 = reg[0], x.c0 = reg[1], x.h = reg[2], x.w = reg[3];
    /* the region, moved by u, lies on the reconstruction (to the nearest pixel) */
    x.fit.shift_min[0] = -0.5 - x.r0, x.fit.shift_max[0] = rec_h - 0.5 - (x.r0 + x.h - 1);
    x.fit.shift_min[1] = -0.5 - x.c0, x.fit.shift_max[1] = rec_w - 0.5 - (x.c0 + x.w - 1);
    double d[2] = {rec_origin[0] - truth_origin[0], rec_origin[1] - truth_origin[1]};
    PTY_CHECK(pty_align_admissible(&x.fit, d), PTY_ERR_DATA,
              "compare: the scanned region (truth rows %d..%d, cols %d..%d) maps to reconstruction rows "
              "%.1f..%.1f, cols %.1f..%.1f, outside the %d x %d reconstruction (origins: reconstruction "
              "(%g, %g), truth (%g, %g))",
              x.r0, x.r0 + x.h - 1, x.c0, x.c0 + x.w - 1, x.r0 + d[0], x.r0 + x.h - 1 + d[0], x.c0 + d[1],
              x.c0 + x.w - 1 + d[1], rec_h, rec_w, rec_origin[0], rec_origin[1], truth_origin[0], truth_origin[1]);

    x.truth = malloc(sizeof(pty_cf) * (size_t)x.h * x.w);
    int rc = x.truth ? pty_aligner_create(x.h, x.w, upsample, &x.al)
                     : pty_error_set(PTY_ERR_NOMEM, "compare: cannot allocate a %d x %d region", x.h, x.w);
    if (rc != PTY_OK) goto done;
    for (int i = 0; i < x.h; i++)
        for (int l = 0; l < x.w; l++) {
            pty_cf t = truth[(size_t)(x.r0 + i) * truth_w + x.c0 + l];
            x.truth[(size_t)i * x.w + l] = t;
            x.e_truth += (double)t.re * t.re + (double)t.im * t.im;
        }
    double e_rec = 0.0;
    for (size_t i = 0; i < (size_t)rec_h * rec_w; i++) e_rec += pty_cabs2(rec[i]);
    if (!(x.e_truth > 0.0) || !isfinite(x.e_truth) || !isfinite(e_rec)) {
        rc = pty_error_set(PTY_ERR_DATA, "compare: the %s has %s", isfinite(e_rec) ? "truth" : "reconstruction",
                           isfinite(e_rec) && isfinite(x.e_truth) ? "no power in the scanned region"
                                                                  : "non-finite values");
        goto done;
    }
    pty_align_images im = {.moving = rec, .moving_h = rec_h, .moving_w = rec_w, .corner = {x.r0, x.c0},
                           .target = x.truth};
    if ((rc = pty_aligner_set_images(x.al, &im)) != PTY_OK) goto done;
    pty_compare_result r = {.probe_width = probe_width};
    memcpy(r.region, reg, sizeof reg);
    if ((rc = fit_all(&x, d, &r)) == PTY_OK && seams) rc = seam_errors(&x, d, truth_origin, seams, &r);
    if (rc == PTY_OK) *out = r;
    else pty_compare_result_free(&r);
done:
    pty_aligner_destroy(x.al);
    free(x.truth);
    return rc;
}
