/* compare.c - NRMSE of a reconstruction against a ground truth.
 *
 * The reconstruction is resampled onto the truth's scanned region (Fourier
 * shift of a mirrored window).  Sub-pixel registration and the ramp's DFT
 * peak (refined by a |.|-weighted plane fit of the residual phase) give a
 * start; Gauss-Newton then minimises ||g e^{ik.(r-rc)} O_rec(r + d + t) - O_true||
 * jointly in t, k and g, which the alternating estimates only approach. */
#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "numeric.h"
#include "pty_error.h"
#include "pty_log.h"
#include "register.h"

/* Pixels of real reconstruction around the region when it is resampled:
 * residual ringing from the window edge decays over a few pixels. */
#define CMP_MARGIN 16
#define CMP_GN_ITERATIONS 30

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
    const pty_cf *rec;
    int rh, rw;
    int r0, c0, h, w; /* region, truth pixels */
    double rc[2];     /* region centre, truth pixels: origin of the phase ramp */
    int hh, ww;       /* resampling window: region + margins + 1 */
    pty_cf *mirror;   /* 2hh x 2ww */
    pty_cf *truth;    /* h x w crop of the truth */
    pty_cf *model;    /* h x w: e^{ik.(r-rc)} O_rec(r + u) */
    pty_cf *prod;     /* h x w scratch */
    pty_cf *d_r, *d_c; /* h x w: d model / d u */
    double *phase_r, *phase_c; /* window phase factors, (cos, sin) pairs */
} cmp_ctx;

/* 1 when the region, moved by u, lies on the reconstruction (to the nearest pixel). */
static int region_fits(const cmp_ctx *x, const double u[2])
{
    return x->r0 + u[0] >= -0.5 && x->r0 + x->h - 1 + u[0] <= x->rh - 0.5 && x->c0 + u[1] >= -0.5 &&
           x->c0 + x->w - 1 + u[1] <= x->rw - 0.5;
}

/* model(r) = exp(i k.(r - rc)) O_rec(r + u) on the region.  The ramp is applied
 * before the sub-pixel shift (F(q) = O_rec(q) exp(i k.(q - u - rc)), model =
 * F(r + u)) so that the shift interpolates a ramp-free image, and the window is
 * mirrored to 2hh x 2ww so its periodic extension is continuous. */
static int build_model(cmp_ctx *x, const double u[2], const double k[2])
{
    int iu[2] = {(int)floor(u[0]), (int)floor(u[1])};
    double fu[2] = {u[0] - iu[0], u[1] - iu[1]};
    int H = 2 * x->hh, W = 2 * x->ww;
    for (int j = 0; j < x->hh; j++) {
        double a = k[0] * (x->r0 + iu[0] - CMP_MARGIN + j - u[0] - x->rc[0]);
        x->phase_r[2 * j] = cos(a);
        x->phase_r[2 * j + 1] = sin(a);
    }
    for (int l = 0; l < x->ww; l++) {
        double a = k[1] * (x->c0 + iu[1] - CMP_MARGIN + l - u[1] - x->rc[1]);
        x->phase_c[2 * l] = cos(a);
        x->phase_c[2 * l + 1] = sin(a);
    }
    for (int j = 0; j < x->hh; j++) {
        int qr = (int)pty_reflect(x->r0 + iu[0] - CMP_MARGIN + j, x->rh);
        for (int l = 0; l < x->ww; l++) {
            int qc = (int)pty_reflect(x->c0 + iu[1] - CMP_MARGIN + l, x->rw);
            pty_cf v = x->rec[(size_t)qr * x->rw + qc];
            double cr = x->phase_r[2 * j] * x->phase_c[2 * l] - x->phase_r[2 * j + 1] * x->phase_c[2 * l + 1];
            double ci = x->phase_r[2 * j] * x->phase_c[2 * l + 1] + x->phase_r[2 * j + 1] * x->phase_c[2 * l];
            pty_cf z = pty_cf_make((float)(v.re * cr - v.im * ci), (float)(v.re * ci + v.im * cr));
            x->mirror[(size_t)j * W + l] = z;
            x->mirror[(size_t)j * W + (W - 1 - l)] = z;
            x->mirror[(size_t)(H - 1 - j) * W + l] = z;
            x->mirror[(size_t)(H - 1 - j) * W + (W - 1 - l)] = z;
        }
    }
    PTY_TRY(pty_shift_image(x->mirror, H, W, -fu[0], -fu[1]));
    for (int i = 0; i < x->h; i++)
        memcpy(x->model + (size_t)i * x->w, x->mirror + (size_t)(CMP_MARGIN + i) * W + CMP_MARGIN,
               sizeof(pty_cf) * x->w);
    return PTY_OK;
}

/* Residual ramp dk of the truth against the model, so that exp(i dk.r) model
 * matches better: the DFT peak of p = truth conj(model), then a |p|-weighted
 * least-squares plane through the phase left after removing that peak
 * (sub-grid accuracy, and harmless once the phase is unwrapped by the peak). */
static int estimate_ramp(cmp_ctx *x, int upsample, double dk[2])
{
    size_t n = (size_t)x->h * x->w;
    for (size_t i = 0; i < n; i++) x->prod[i] = pty_cmul_conj(x->model[i], x->truth[i]);
    double k1[2];
    PTY_TRY(pty_find_ramp(x->prod, x->h, x->w, upsample, k1, NULL));
    pty_refine_ramp(x->prod, x->h, x->w, k1, dk);
    return PTY_OK;
}

/* Least-squares g = sum conj(model) truth / sum |model|^2 and the NRMSE it leaves. */
static void fit_factor(const cmp_ctx *x, double g[2], double *nrmse)
{
    size_t n = (size_t)x->h * x->w;
    double nr = 0.0, ni = 0.0, den = 0.0, et = 0.0, err = 0.0;
    for (size_t i = 0; i < n; i++) {
        pty_cf m = x->model[i], t = x->truth[i];
        nr += (double)m.re * t.re + (double)m.im * t.im;
        ni += (double)m.re * t.im - (double)m.im * t.re;
        den += pty_cabs2(m);
        et += pty_cabs2(t);
    }
    g[0] = den > 0.0 ? nr / den : 0.0;
    g[1] = den > 0.0 ? ni / den : 0.0;
    for (size_t i = 0; i < n; i++) {
        pty_cf m = x->model[i], t = x->truth[i];
        double dr = g[0] * m.re - g[1] * m.im - t.re, di = g[0] * m.im + g[1] * m.re - t.im;
        err += dr * dr + di * di;
    }
    *nrmse = sqrt(err / et);
}

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

/* d model / d u by central differences of build_model (the model is a
 * smooth, Fourier-interpolated function of u); leaves x->model at u+e_col. */
static int model_gradient(cmp_ctx *x, const double u[2], const double k[2])
{
    const double eps = 0.01;
    size_t n = (size_t)x->h * x->w;
    pty_cf *out[2] = {x->d_r, x->d_c};
    for (int a = 0; a < 2; a++) {
        double up[2] = {u[0], u[1]}, um[2] = {u[0], u[1]};
        up[a] += eps, um[a] -= eps;
        PTY_TRY(build_model(x, um, k));
        memcpy(out[a], x->model, sizeof(pty_cf) * n);
        PTY_TRY(build_model(x, up, k));
        for (size_t i = 0; i < n; i++)
            out[a][i] = pty_cf_make((float)((x->model[i].re - out[a][i].re) / (2 * eps)),
                                    (float)((x->model[i].im - out[a][i].im) / (2 * eps)));
    }
    return PTY_OK;
}

/* One Gauss-Newton step for min ||T - g M(u, k)|| in (g, u, k):
 * T - g M ≈ dg M + g (dM/du) du + g i (r - rc) M dk.  Needs x->model at
 * (u, k), copied to x->prod, and the gradients in x->d_r, x->d_c. */
static void gauss_newton_step(const cmp_ctx *x, const double g[2], double du[2], double dk[2])
{
    double a[6][6] = {{0}}, b[6] = {0}, step[6];
    for (int i = 0; i < x->h; i++)
        for (int l = 0; l < x->w; l++) {
            size_t p = (size_t)i * x->w + l;
            double mr = x->prod[p].re, mi = x->prod[p].im, yr = i - (x->h - 1) / 2.0, yc = l - (x->w - 1) / 2.0;
            double gmr = g[0] * mr - g[1] * mi, gmi = g[0] * mi + g[1] * mr; /* g M */
            double br[6], bi[6];
            br[0] = mr, bi[0] = mi;
            br[1] = -mi, bi[1] = mr;
            br[2] = g[0] * x->d_r[p].re - g[1] * x->d_r[p].im, bi[2] = g[0] * x->d_r[p].im + g[1] * x->d_r[p].re;
            br[3] = g[0] * x->d_c[p].re - g[1] * x->d_c[p].im, bi[3] = g[0] * x->d_c[p].im + g[1] * x->d_c[p].re;
            br[4] = -yr * gmi, bi[4] = yr * gmr;
            br[5] = -yc * gmi, bi[5] = yc * gmr;
            double rr = x->truth[p].re - gmr, ri = x->truth[p].im - gmi;
            for (int j = 0; j < 6; j++) {
                b[j] += br[j] * rr + bi[j] * ri;
                for (int q = j; q < 6; q++) a[j][q] += br[j] * br[q] + bi[j] * bi[q];
            }
        }
    for (int j = 0; j < 6; j++)
        for (int q = 0; q < j; q++) a[j][q] = a[q][j];
    pty_solve_damped(a, b, 6, step);
    du[0] = step[2], du[1] = step[3], dk[0] = step[4], dk[1] = step[5];
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
 * Gauss-Newton.  Registration alone is not enough: on the periodically
 * wrapped crops it is biased toward zero shift, badly so for smooth objects
 * whose features are as large as the region. */
static int fit_all(cmp_ctx *x, const double d[2], int upsample, pty_compare_result *out)
{
    double shift[2] = {0.0, 0.0}, k[2] = {0.0, 0.0}, u[2], g[2], nrmse;
    for (int round = 0; round < 2; round++) {
        pty_registration reg;
        u[0] = d[0] + shift[0], u[1] = d[1] + shift[1];
        PTY_TRY(build_model(x, u, k));
        PTY_TRY(pty_register(x->truth, x->model, x->h, x->w, upsample, &reg));
        out->reg_error = reg.error;
        u[0] += reg.shift[0], u[1] += reg.shift[1];
        if (region_fits(x, u)) {
            shift[0] += reg.shift[0], shift[1] += reg.shift[1];
        } else if (round == 1) {
            /* round 0 may fail for want of the ramp; a second failure is worth telling */
            pty_warn("compare: registration (shift %.2f, %.2f px, error %.3f) would move the region off the "
                     "reconstruction; keeping shift (%.2f, %.2f)", reg.shift[0], reg.shift[1], reg.error, shift[0],
                     shift[1]);
        }
        u[0] = d[0] + shift[0], u[1] = d[1] + shift[1];
        PTY_TRY(build_model(x, u, k));
        double dk[2];
        PTY_TRY(estimate_ramp(x, upsample, dk));
        k[0] += dk[0], k[1] += dk[1];
    }
    u[0] = d[0] + shift[0], u[1] = d[1] + shift[1];
    PTY_TRY(build_model(x, u, k));
    fit_factor(x, g, &nrmse);
    keep(out, shift, k, g, nrmse);
    size_t n = (size_t)x->h * x->w;
    for (int it = 0; it < CMP_GN_ITERATIONS; it++) {
        double du[2], dk[2], lambda = 1.0;
        memcpy(x->prod, x->model, sizeof(pty_cf) * n);
        PTY_TRY(model_gradient(x, u, k));
        gauss_newton_step(x, g, du, dk);
        int accepted = 0;
        for (int tries = 0; tries < 8 && !accepted; tries++, lambda *= 0.5) {
            double u2[2] = {u[0] + lambda * du[0], u[1] + lambda * du[1]};
            double k2[2] = {k[0] + lambda * dk[0], k[1] + lambda * dk[1]}, g2[2], e2;
            if (!region_fits(x, u2)) continue;
            PTY_TRY(build_model(x, u2, k2));
            fit_factor(x, g2, &e2);
            if (!(e2 <= nrmse)) continue;
            accepted = 1;
            u[0] = u2[0], u[1] = u2[1], k[0] = k2[0], k[1] = k2[1], g[0] = g2[0], g[1] = g2[1];
            shift[0] = u[0] - d[0], shift[1] = u[1] - d[1];
            nrmse = e2;
            keep(out, shift, k, g, nrmse);
        }
        if (!accepted || (hypot(du[0], du[1]) < 1e-5 && hypot(dk[0] * x->h, dk[1] * x->w) < 1e-5)) break;
    }
    return PTY_OK;
}

/* NRMSE of the final fit inside and outside the seam bands. */
static int seam_errors(cmp_ctx *x, const double d[2], const double truth_origin[2], const pty_compare_seams *s,
                       pty_compare_result *r)
{
    double u[2] = {d[0] + r->shift[0], d[1] + r->shift[1]};
    double g[2] = {r->g_abs * cos(r->g_phase), r->g_abs * sin(r->g_phase)};
    PTY_TRY(build_model(x, u, r->ramp));
    double err[2] = {0, 0}, ref[2] = {0, 0};
    long count[2] = {0, 0};
    for (int i = 0; i < x->h; i++)
        for (int l = 0; l < x->w; l++) {
            double row = x->r0 + i - truth_origin[0], col = x->c0 + l - truth_origin[1];
            int seam = 0;
            for (int c = 0; c < s->n_row_cuts && !seam && s->band > 0; c++) seam = fabs(row - s->row_cuts[c]) <= s->band;
            for (int c = 0; c < s->n_col_cuts && !seam && s->band > 0; c++) seam = fabs(col - s->col_cuts[c]) <= s->band;
            size_t q = (size_t)i * x->w + l;
            pty_cf m = x->model[q], t = x->truth[q];
            double dr = g[0] * m.re - g[1] * m.im - t.re, di = g[0] * m.im + g[1] * m.re - t.im;
            err[seam] += dr * dr + di * di;
            ref[seam] += pty_cabs2(t);
            count[seam]++;
        }
    if (s->want_map) {
        r->error_map = malloc(sizeof(float) * (size_t)x->h * x->w);
        PTY_CHECK(r->error_map, PTY_ERR_NOMEM, "compare: cannot allocate the error map");
        for (size_t q = 0; q < (size_t)x->h * x->w; q++) {
            pty_cf m = x->model[q], t = x->truth[q];
            r->error_map[q] = (float)hypot(g[0] * m.re - g[1] * m.im - t.re, g[0] * m.im + g[1] * m.re - t.im);
        }
    }
    if (s->band > 0) {
        r->nrmse_away = ref[0] > 0 ? sqrt(err[0] / ref[0]) : 0.0;
        r->nrmse_seam = ref[1] > 0 ? sqrt(err[1] / ref[1]) : 0.0;
        r->away_px = count[0];
        r->seam_px = count[1];
    }
    return PTY_OK;
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
    PTY_CHECK(upsample >= 1 && upsample <= 1000, PTY_ERR_ARG, "compare: upsample %d must be in [1, 1000]", upsample);
    PTY_CHECK(n_positions >= 1, PTY_ERR_DATA, "compare: no scan positions to define the scanned region");
    PTY_CHECK(isfinite(probe_width) && probe_width >= 0.0, PTY_ERR_DATA, "compare: probe width %g is invalid",
              probe_width);
    PTY_CHECK(isfinite(rec_origin[0]) && isfinite(rec_origin[1]) && isfinite(truth_origin[0]) &&
                  isfinite(truth_origin[1]),
              PTY_ERR_DATA, "compare: object origins must be finite");

    cmp_ctx x = {.rec = rec, .rh = rec_h, .rw = rec_w};
    int reg[4] = {0};
    PTY_TRY(find_region(positions, n_positions, probe_width, truth_origin, truth_h, truth_w, reg));
    x.r0 = reg[0], x.c0 = reg[1], x.h = reg[2], x.w = reg[3];
    x.rc[0] = x.r0 + (x.h - 1) / 2.0;
    x.rc[1] = x.c0 + (x.w - 1) / 2.0;
    double d[2] = {rec_origin[0] - truth_origin[0], rec_origin[1] - truth_origin[1]};
    PTY_CHECK(region_fits(&x, d), PTY_ERR_DATA,
              "compare: the scanned region (truth rows %d..%d, cols %d..%d) maps to reconstruction rows "
              "%.1f..%.1f, cols %.1f..%.1f, outside the %d x %d reconstruction (origins: reconstruction "
              "(%g, %g), truth (%g, %g))",
              x.r0, x.r0 + x.h - 1, x.c0, x.c0 + x.w - 1, x.r0 + d[0], x.r0 + x.h - 1 + d[0], x.c0 + d[1],
              x.c0 + x.w - 1 + d[1], rec_h, rec_w, rec_origin[0], rec_origin[1], truth_origin[0], truth_origin[1]);

    x.hh = x.h + 2 * CMP_MARGIN + 1;
    x.ww = x.w + 2 * CMP_MARGIN + 1;
    size_t n = (size_t)x.h * x.w;
    x.mirror = (pty_cf *)fftwf_alloc_complex((size_t)4 * x.hh * x.ww);
    x.truth = malloc(sizeof(pty_cf) * n);
    x.model = malloc(sizeof(pty_cf) * n);
    x.prod = malloc(sizeof(pty_cf) * n);
    x.d_r = malloc(sizeof(pty_cf) * n);
    x.d_c = malloc(sizeof(pty_cf) * n);
    x.phase_r = malloc(sizeof(double) * 2 * x.hh);
    x.phase_c = malloc(sizeof(double) * 2 * x.ww);
    int rc = PTY_OK;
    if (!x.mirror || !x.truth || !x.model || !x.prod || !x.d_r || !x.d_c || !x.phase_r || !x.phase_c) {
        rc = pty_error_set(PTY_ERR_NOMEM, "compare: cannot allocate buffers for a %d x %d region", x.h, x.w);
        goto done;
    }
    double e_truth = 0.0;
    for (int i = 0; i < x.h; i++)
        for (int l = 0; l < x.w; l++) {
            pty_cf t = truth[(size_t)(x.r0 + i) * truth_w + x.c0 + l];
            x.truth[(size_t)i * x.w + l] = t;
            e_truth += pty_cabs2(t);
        }
    double e_rec = 0.0;
    for (size_t i = 0; i < (size_t)rec_h * rec_w; i++) e_rec += pty_cabs2(rec[i]);
    if (!(e_truth > 0.0) || !isfinite(e_truth) || !isfinite(e_rec)) {
        rc = pty_error_set(PTY_ERR_DATA, "compare: the %s has %s", isfinite(e_rec) ? "truth" : "reconstruction",
                           isfinite(e_rec) && isfinite(e_truth) ? "no power in the scanned region"
                                                                : "non-finite values");
        goto done;
    }
    pty_compare_result r = {.probe_width = probe_width};
    memcpy(r.region, reg, sizeof reg);
    if ((rc = fit_all(&x, d, upsample, &r)) == PTY_OK && seams) rc = seam_errors(&x, d, truth_origin, seams, &r);
    if (rc == PTY_OK) *out = r;
done:
    fftwf_free(x.mirror);
    free(x.truth);
    free(x.model);
    free(x.prod);
    free(x.d_r);
    free(x.d_c);
    free(x.phase_r);
    free(x.phase_c);
    return rc;
}
