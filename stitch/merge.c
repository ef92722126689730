/* merge.c - pairwise merge of partial objects: register B on A over their
 * overlap, remove B's translation, phase ramp and complex factor, blend
 * with illumination weights (DESIGN.md §3 "Asynchronous").
 *
 * B is resampled by a Fourier shift of a mirror-extended window (as in
 * compare.c), so its content never wraps around its box.  On the overlap,
 * one taper (both weights and a Tukey window) serves A and B.  Registering
 * tapered images is biased toward zero shift, because the taper does not
 * move with B's content (by up to half the shift on a 40 px overlap), so a
 * few registration rounds, each after shifting B by the estimate so far,
 * only bring B close; Gauss-Newton on the tapered misfit
 * sum m |A - g e^{ik.r} B(r + s)|^2, whose minimum is unbiased, finishes.
 * The fit sees A and B smoothed by [1 2 1]/4 (see smooth()).  Sums are
 * double; images are single precision. */
#include "merge.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "numeric.h"
#include "pty_error.h"
#include "pty_log.h"
#include "register.h"

static const double pi = 3.14159265358979323846;

/* A pixel is well seen by a partial when its weight is at least this
 * fraction of the partial's maximum: below it the reconstruction is mostly
 * the initial guess and says little about the object. */
#define MERGE_SEEN 0.15
/* Fewer well-seen overlap pixels than this cannot fix a shift or factor. */
#define MERGE_MIN_OVERLAP 64
/* Weight fraction above which a pixel counts fully in the registration taper. */
#define MERGE_TRUST 0.5
/* Tukey taper at the overlap rectangle's edges, at most this many px per side. */
#define MERGE_TAPER 16
/* Largest side of the overlap window the registration and fit use. */
#define MERGE_FIT_MAX 256

/* Real pixels around a resampled window: ringing from the mirror's kinks decays within a few. */
#define MERGE_MARGIN 16
/* Registration rounds before Gauss-Newton: each leaves up to half the shift. */
#define MERGE_START_ROUNDS 3
#define MERGE_GN_ITERATIONS 20
#define MERGE_MAX_PIXELS 1e9

void pty_merge_options_default(pty_merge_options *o)
{
    if (!o) return;
    o->register_shift = 1;
    o->normalise = 1;
    o->fit_ramp = 0;
    o->upsample = 20;
    o->max_error = 0.5;
    o->max_shift = 8.0;
    o->warn_error = 0.05;
}

int pty_partial_alloc(pty_partial *p, int h, int w, int off_r, int off_c)
{
    PTY_CHECK(p != NULL, PTY_ERR_ARG, "pty_partial_alloc: NULL partial");
    memset(p, 0, sizeof *p);
    PTY_CHECK(h >= 1 && w >= 1 && (double)h * w <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "partial object: size %d x %d must be positive (and at most 1e9 pixels)", h, w);
    size_t n = (size_t)h * w;
    p->object = malloc(sizeof *p->object * n);
    p->weight = calloc(n, sizeof *p->weight);
    if (!p->object || !p->weight) {
        pty_partial_free(p);
        return pty_error_set(PTY_ERR_NOMEM, "partial object: cannot allocate %d x %d pixels", h, w);
    }
    for (size_t i = 0; i < n; i++) p->object[i] = pty_cf_make(1.0f, 0.0f);
    p->h = h;
    p->w = w;
    p->offset[0] = off_r;
    p->offset[1] = off_c;
    return PTY_OK;
}

void pty_partial_free(pty_partial *p)
{
    if (!p) return;
    free(p->object);
    free(p->weight);
    memset(p, 0, sizeof *p);
}

/* Sizes, finite objects, finite non-negative weights; *wmax = max weight. */
static int check_partial(const pty_partial *p, const char *name, double *wmax)
{
    PTY_CHECK(p->object && p->weight, PTY_ERR_ARG, "merge: partial %s has no %s array", name,
              p->object ? "weight" : "object");
    PTY_CHECK(p->h >= 1 && p->w >= 1 && (double)p->h * p->w <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "merge: partial %s is %d x %d (must be positive, at most 1e9 pixels)", name, p->h, p->w);
    size_t n = (size_t)p->h * p->w;
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        float v = p->weight[i];
        PTY_CHECK(isfinite(v) && v >= 0.0f, PTY_ERR_DATA,
                  "merge: partial %s has weight %g at pixel (%zu, %zu); weights must be finite and >= 0", name,
                  (double)v, i / (size_t)p->w, i % (size_t)p->w);
        if (v > m) m = v;
        PTY_CHECK(isfinite(p->object[i].re) && isfinite(p->object[i].im), PTY_ERR_DATA,
                  "merge: partial %s has a non-finite object value at pixel (%zu, %zu)", name, i / (size_t)p->w,
                  i % (size_t)p->w);
    }
    *wmax = m;
    return PTY_OK;
}

static int is_smooth(int n)
{
    static const int primes[4] = {2, 3, 5, 7};
    for (int i = 0; i < 4; i++)
        while (n % primes[i] == 0) n /= primes[i];
    return n == 1;
}

/* Smallest n' >= n with factors 2, 3, 5, 7 only: FFTW is much faster there. */
static int smooth_size(int n)
{
    while (!is_smooth(n)) n++;
    return n;
}

/* dst (h x w) = src (sh x sw) sampled at (r0 + i + s0, c0 + j + s1), i.e.
 * src's content moved by -s, with src reflected beyond its edges.  The
 * fractional part is a Fourier shift of the window (plus a margin) mirrored
 * to twice its size, whose periodic extension is continuous. */
static int resample(const pty_cf *src, int sh, int sw, long long r0, long long c0, int h, int w, const double s[2],
                    pty_cf *dst)
{
    double fl[2] = {floor(s[0]), floor(s[1])};
    double fu[2] = {s[0] - fl[0], s[1] - fl[1]};
    long long iu[2] = {(long long)fl[0], (long long)fl[1]};
    if (fu[0] == 0.0 && fu[1] == 0.0) {
        /* integer shift: a copy, exact */
        for (int i = 0; i < h; i++) {
            long long q = pty_reflect(r0 + iu[0] + i, sh);
            for (int j = 0; j < w; j++) dst[(size_t)i * w + j] = src[q * sw + pty_reflect(c0 + iu[1] + j, sw)];
        }
        return PTY_OK;
    }
    int hh = smooth_size(h + 2 * MERGE_MARGIN + 1), ww = smooth_size(w + 2 * MERGE_MARGIN + 1);
    int H = 2 * hh, W = 2 * ww;
    pty_cf *buf = (pty_cf *)fftwf_alloc_complex((size_t)H * W);
    if (!buf) return pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate a %d x %d resampling window", H, W);
    for (int j = 0; j < hh; j++) {
        long long q = pty_reflect(r0 + iu[0] - MERGE_MARGIN + j, sh);
        for (int l = 0; l < ww; l++) {
            pty_cf z = src[q * sw + pty_reflect(c0 + iu[1] - MERGE_MARGIN + l, sw)];
            buf[(size_t)j * W + l] = z;
            buf[(size_t)j * W + (W - 1 - l)] = z;
            buf[(size_t)(H - 1 - j) * W + l] = z;
            buf[(size_t)(H - 1 - j) * W + (W - 1 - l)] = z;
        }
    }
    int rc = pty_shift_image(buf, H, W, -fu[0], -fu[1]);
    if (rc == PTY_OK)
        for (int i = 0; i < h; i++)
            memcpy(dst + (size_t)i * w, buf + (size_t)(MERGE_MARGIN + i) * W + MERGE_MARGIN, sizeof(pty_cf) * w);
    fftwf_free(buf);
    return rc;
}

/* Multiply img (h x w, pixel (0, 0) at global (r0, c0)) by
 * exp(i k.(r - centre)), phases in double. */
static void apply_ramp(pty_cf *img, int h, int w, long long r0, long long c0, const double k[2],
                       const double centre[2])
{
    if (k[0] == 0.0 && k[1] == 0.0) return;
    for (int i = 0; i < h; i++) {
        double ar = k[0] * ((double)(r0 + i) - centre[0]);
        for (int j = 0; j < w; j++) {
            double a = ar + k[1] * ((double)(c0 + j) - centre[1]);
            pty_cf f = pty_cf_make((float)cos(a), (float)sin(a));
            img[(size_t)i * w + j] = pty_cmul(img[(size_t)i * w + j], f);
        }
    }
}

/* Hann-tapered edge of a Tukey window over n samples. */
static double tukey(int i, int n)
{
    int taper = n / 4 < MERGE_TAPER ? n / 4 : MERGE_TAPER;
    int d = i < n - 1 - i ? i : n - 1 - i;
    if (d >= taper) return 1.0;
    return 0.5 * (1.0 - cos(pi * (d + 0.5) / taper));
}

/* The overlap rectangle (global rows R0.., cols C0..) and its buffers. */
typedef struct merge_ctx {
    const pty_partial *a, *b;
    double amax, bmax;
    long long R0, C0;
    int oh, ow;
    double centre[2]; /* global (row, col) of the overlap's centre: origin of the ramp */
    float *mask;      /* oh x ow taper, the same for both images */
    pty_cf *af;       /* A on the overlap, smoothed */
    pty_cf *ac;       /* mask * af */
    pty_cf *bc;       /* B corrected by the current shift and ramp, smoothed */
    pty_cf *tmp;      /* mask * bc, A conj(bc), a trial bc */
    pty_cf *d[2];     /* d bc / d shift (row, col) */
    pty_cf *scratch;  /* for smooth() */
} merge_ctx;

/* Smooth z (h x w) by [1 2 1]/4 along both axes (edges clamped), response
 * cos^2(pi f) per axis: 0 at Nyquist.  The fit uses smoothed A and B because
 * a Fourier shift loses the Nyquist bin and, near B's mirrored edges, more:
 * the energy of B's noise under the taper dips by ~2% at half-pixel shifts,
 * which biased the least-squares shift by 0.2 px at 20% noise.  Smoothed,
 * it is flat to 1e-3, and the noise is 7x weaker. */
static void smooth(pty_cf *z, int h, int w, pty_cf *t)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            pty_cf a = z[(size_t)i * w + (j > 0 ? j - 1 : 0)], b = z[(size_t)i * w + j];
            pty_cf c = z[(size_t)i * w + (j < w - 1 ? j + 1 : w - 1)];
            t[(size_t)i * w + j] = pty_cf_make(0.25f * (a.re + c.re) + 0.5f * b.re, 0.25f * (a.im + c.im) + 0.5f * b.im);
        }
    for (int i = 0; i < h; i++) {
        const pty_cf *up = t + (size_t)(i > 0 ? i - 1 : 0) * w, *mid = t + (size_t)i * w;
        const pty_cf *down = t + (size_t)(i < h - 1 ? i + 1 : h - 1) * w;
        for (int j = 0; j < w; j++)
            z[(size_t)i * w + j] = pty_cf_make(0.25f * (up[j].re + down[j].re) + 0.5f * mid[j].re,
                                               0.25f * (up[j].im + down[j].im) + 0.5f * mid[j].im);
    }
}

/* dst = exp(i k.(r - centre)) B(r + s) on the overlap, smoothed. */
static int crop_b(merge_ctx *x, const double s[2], const double k[2], pty_cf *dst)
{
    const pty_partial *b = x->b;
    PTY_TRY(resample(b->object, b->h, b->w, x->R0 - b->offset[0], x->C0 - b->offset[1], x->oh, x->ow, s, dst));
    apply_ramp(dst, x->oh, x->ow, x->R0, x->C0, k, x->centre);
    smooth(dst, x->oh, x->ow, x->scratch);
    return PTY_OK;
}

/* Residual ramp dk of A conj(bc) on the overlap, weighted by the taper: the
 * DFT peak (pty_find_ramp), then a |p|-weighted least-squares plane through
 * the phase left after removing it, for accuracy below the peak finder's
 * grid.  *ok = 0 when the product has no power (nothing to fit). */
static int estimate_ramp(merge_ctx *x, int upsample, double dk[2], int *ok)
{
    int h = x->oh, w = x->ow;
    size_t n = (size_t)h * w;
    for (size_t i = 0; i < n; i++) x->tmp[i] = pty_cmul_conj(x->bc[i], x->ac[i]);
    double k1[2];
    *ok = 0;
    int rc = pty_find_ramp(x->tmp, h, w, upsample, k1, NULL);
    if (rc == PTY_ERR_DATA) {
        pty_error_clear();
        return PTY_OK;
    }
    PTY_TRY(rc);
    pty_refine_ramp(x->tmp, h, w, k1, dk);
    *ok = 1;
    return PTY_OK;
}

/* Taper, smoothed A and masked smoothed A on the overlap; returns the
 * well-seen pixel count (both weights >= MERGE_SEEN of their maxima, B
 * unshifted). */
static long build_mask(merge_ctx *x)
{
    const pty_partial *a = x->a, *b = x->b;
    long seen = 0;
    for (int i = 0; i < x->oh; i++) {
        double ti = tukey(i, x->oh);
        size_t ra = (size_t)(x->R0 - a->offset[0] + i), rb = (size_t)(x->R0 - b->offset[0] + i);
        for (int j = 0; j < x->ow; j++) {
            size_t ca = (size_t)(x->C0 - a->offset[1] + j), cb = (size_t)(x->C0 - b->offset[1] + j);
            double wa = x->amax > 0.0 ? a->weight[ra * a->w + ca] / x->amax : 0.0;
            double wb = x->bmax > 0.0 ? b->weight[rb * b->w + cb] / x->bmax : 0.0;
            if (wa >= MERGE_SEEN && wb >= MERGE_SEEN) seen++;
            double m = ti * tukey(j, x->ow) * fmin(1.0, wa / MERGE_TRUST) * fmin(1.0, wb / MERGE_TRUST);
            x->mask[(size_t)i * x->ow + j] = (float)m;
            x->af[(size_t)i * x->ow + j] = a->object[ra * a->w + ca];
        }
    }
    smooth(x->af, x->oh, x->ow, x->scratch);
    for (size_t q = 0; q < (size_t)x->oh * x->ow; q++)
        x->ac[q] = pty_cf_make(x->mask[q] * x->af[q].re, x->mask[q] * x->af[q].im);
    return seen;
}

/* Register mask*A against mask*bc (bc must be current). */
static int register_masked(merge_ctx *x, int upsample, pty_registration *reg)
{
    size_t n = (size_t)x->oh * x->ow;
    for (size_t i = 0; i < n; i++) x->tmp[i] = pty_cf_make(x->mask[i] * x->bc[i].re, x->mask[i] * x->bc[i].im);
    return pty_register(x->ac, x->tmp, x->oh, x->ow, upsample, reg);
}

/* min over g of sum mask |A - g bb|^2, and that g. */
static double misfit(const merge_ctx *x, const pty_cf *bb, double g[2])
{
    size_t n = (size_t)x->oh * x->ow;
    double nr = 0.0, ni = 0.0, den = 0.0, ea = 0.0;
    for (size_t i = 0; i < n; i++) {
        double m = x->mask[i];
        pty_cf va = x->af[i], vb = bb[i];
        nr += m * ((double)vb.re * va.re + (double)vb.im * va.im);
        ni += m * ((double)vb.re * va.im - (double)vb.im * va.re);
        den += m * ((double)vb.re * vb.re + (double)vb.im * vb.im);
        ea += m * ((double)va.re * va.re + (double)va.im * va.im);
    }
    g[0] = den > 0.0 ? nr / den : 0.0;
    g[1] = den > 0.0 ? ni / den : 0.0;
    double e = den > 0.0 ? ea - (nr * nr + ni * ni) / den : ea;
    return e > 0.0 ? e : 0.0;
}

/* One Gauss-Newton step for min sum mask |A - g exp(i k.(r-c)) B(r + s)|^2 in
 * (g, s, k), s and k only where asked: A - g bc ≈ dg bc + g (d bc/ds) ds +
 * i (r - c).dk g bc.  bc must be at (s, k); d bc/ds comes from central
 * differences of the Fourier-interpolated B (a smooth function of s).
 * Leaves bc at (s, k). */
static int gauss_newton_step(merge_ctx *x, const double s[2], const double k[2], const double g[2], int use_s,
                             int use_k, double ds[2], double dk[2])
{
    const double eps = 0.01;
    size_t n = (size_t)x->oh * x->ow;
    if (use_s)
        for (int a = 0; a < 2; a++) {
            double sp[2] = {s[0], s[1]}, sm[2] = {s[0], s[1]};
            sp[a] += eps, sm[a] -= eps;
            PTY_TRY(crop_b(x, sp, k, x->d[a]));
            PTY_TRY(crop_b(x, sm, k, x->tmp));
            for (size_t i = 0; i < n; i++)
                x->d[a][i] = pty_cf_make((float)((x->d[a][i].re - x->tmp[i].re) / (2 * eps)),
                                         (float)((x->d[a][i].im - x->tmp[i].im) / (2 * eps)));
        }
    int idx[6], np = 0;
    idx[np++] = 0, idx[np++] = 1;
    if (use_s) idx[np++] = 2, idx[np++] = 3;
    if (use_k) idx[np++] = 4, idx[np++] = 5;
    double a[6][6] = {{0}}, b[6] = {0}, step[6] = {0};
    for (int i = 0; i < x->oh; i++)
        for (int j = 0; j < x->ow; j++) {
            size_t p = (size_t)i * x->ow + j;
            double m = x->mask[p];
            if (!(m > 0.0)) continue;
            double yr = i - (x->oh - 1) / 2.0, yc = j - (x->ow - 1) / 2.0;
            double br = x->bc[p].re, bi = x->bc[p].im;
            double gbr = g[0] * br - g[1] * bi, gbi = g[0] * bi + g[1] * br; /* g bc */
            double jr[6] = {br, -bi, 0, 0, -yr * gbi, -yc * gbi}, ji[6] = {bi, br, 0, 0, yr * gbr, yc * gbr};
            if (use_s)
                for (int q = 0; q < 2; q++) {
                    pty_cf d = x->d[q][p];
                    jr[2 + q] = g[0] * d.re - g[1] * d.im;
                    ji[2 + q] = g[0] * d.im + g[1] * d.re;
                }
            double rr = x->af[p].re - gbr, ri = x->af[p].im - gbi;
            for (int u = 0; u < np; u++) {
                int pu = idx[u];
                b[u] += m * (jr[pu] * rr + ji[pu] * ri);
                for (int v = u; v < np; v++) a[u][v] += m * (jr[pu] * jr[idx[v]] + ji[pu] * ji[idx[v]]);
            }
        }
    for (int u = 0; u < np; u++)
        for (int v = 0; v < u; v++) a[u][v] = a[v][u];
    pty_solve_damped(a, b, np, step);
    ds[0] = ds[1] = dk[0] = dk[1] = 0.0;
    for (int u = 0; u < np; u++) {
        if (idx[u] == 2 || idx[u] == 3) ds[idx[u] - 2] = step[u];
        if (idx[u] == 4 || idx[u] == 5) dk[idx[u] - 4] = step[u];
    }
    return PTY_OK;
}

/* Misfit at (s, k) + lambda (ds, dk) into *e, g; the trial bc into tmp.  A
 * trial beyond `limit` px counts as infinitely bad. */
static int trial(merge_ctx *x, const double s[2], const double k[2], const double ds[2], const double dk[2],
                 double lambda, double limit, double *e, double g[2])
{
    double s2[2] = {s[0] + lambda * ds[0], s[1] + lambda * ds[1]};
    double k2[2] = {k[0] + lambda * dk[0], k[1] + lambda * dk[1]};
    *e = INFINITY;
    if (!(hypot(s2[0], s2[1]) <= limit)) return PTY_OK;
    PTY_TRY(crop_b(x, s2, k2, x->tmp));
    *e = misfit(x, x->tmp, g);
    return PTY_OK;
}

/* Minimise the weighted misfit from (s, k) by Gauss-Newton steps with a
 * line search.  The taper multiplies the residual, not the images, so it
 * does not bias the minimum: on noise-free data the misfit is 0 at the true
 * s and k.  On noisy data the Gauss-Newton Hessian counts the energy of the
 * noise's derivative, which the full Hessian cancels, so its steps are too
 * short by that ratio: the line search doubles them while the misfit falls,
 * and halves them when it rises.  Leaves bc at the result. */
static int refine(merge_ctx *x, const pty_merge_options *o, double s[2], double k[2])
{
    double g[2], limit = 2.0 * o->max_shift + 2.0;
    PTY_TRY(crop_b(x, s, k, x->bc));
    double e = misfit(x, x->bc, g);
    for (int it = 0; it < MERGE_GN_ITERATIONS; it++) {
        double ds[2], dk[2], e1, g1[2];
        PTY_TRY(gauss_newton_step(x, s, k, g, o->register_shift, o->fit_ramp, ds, dk));
        double lambda = 1.0;
        PTY_TRY(trial(x, s, k, ds, dk, lambda, limit, &e1, g1));
        if (e1 <= e) {
            for (int tries = 0; tries < 8; tries++) {
                double e2, g2[2];
                PTY_TRY(trial(x, s, k, ds, dk, 2.0 * lambda, limit, &e2, g2));
                if (!(e2 < e1)) break;
                lambda *= 2.0, e1 = e2, g1[0] = g2[0], g1[1] = g2[1];
            }
        } else {
            for (int tries = 0; tries < 8 && !(e1 <= e); tries++) {
                lambda *= 0.5;
                PTY_TRY(trial(x, s, k, ds, dk, lambda, limit, &e1, g1));
            }
            if (!(e1 <= e)) break;
        }
        s[0] += lambda * ds[0], s[1] += lambda * ds[1], k[0] += lambda * dk[0], k[1] += lambda * dk[1];
        g[0] = g1[0], g[1] = g1[1];
        e = e1;
        PTY_TRY(crop_b(x, s, k, x->bc));
        if (lambda * hypot(ds[0], ds[1]) < 1e-4 && lambda * hypot(dk[0] * x->oh, dk[1] * x->ow) < 1e-4) break;
    }
    return PTY_OK;
}

/* Shift s (and with fit_ramp the ramp k) of B relative to A: a few rounds of
 * registration and ramp estimates, each made after B has been corrected by
 * the others, bring them close (the fixed taper biases each registration
 * toward 0 by up to half the remaining shift); Gauss-Newton finishes.  The
 * reported error is that of a last registration of the aligned images.
 * *reg_error = NAN when no registration ran; *ok = 0 when registration was
 * impossible (an image without power on the overlap). */
static int find_shift_and_ramp(merge_ctx *x, const pty_merge_options *o, double s[2], double k[2],
                               double *reg_error, int *ok)
{
    s[0] = s[1] = k[0] = k[1] = 0.0;
    *reg_error = NAN;
    *ok = 1;
    pty_registration reg;
    for (int round = 0; round < MERGE_START_ROUNDS; round++) {
        PTY_TRY(crop_b(x, s, k, x->bc));
        if (o->register_shift) {
            int rc = register_masked(x, o->upsample, &reg);
            if (rc == PTY_ERR_DATA) {
                pty_warn("merge: cannot register the overlap: %s", pty_error_message());
                pty_error_clear();
                *ok = 0;
                return PTY_OK;
            }
            PTY_TRY(rc);
            s[0] += reg.shift[0];
            s[1] += reg.shift[1];
            *reg_error = reg.error;
            /* far beyond the limit: it will be refused, do not chase it */
            if (!(hypot(s[0], s[1]) <= 2.0 * o->max_shift + 2.0)) return PTY_OK;
            if (o->fit_ramp) PTY_TRY(crop_b(x, s, k, x->bc));
        }
        if (o->fit_ramp) {
            double dk[2];
            int have;
            PTY_TRY(estimate_ramp(x, o->upsample, dk, &have));
            if (have) k[0] += dk[0], k[1] += dk[1];
        }
    }
    PTY_TRY(refine(x, o, s, k));
    if (o->register_shift) {
        PTY_TRY(register_masked(x, o->upsample, &reg));
        *reg_error = reg.error;
        pty_log(PTY_LOG_DEBUG,
                "merge: shift (%.4f, %.4f) px, ramp (%.2e, %.2e) rad/px, registration error %.2e, "
                "residual registration shift (%.4f, %.4f) px",
                s[0], s[1], k[0], k[1], reg.error, reg.shift[0], reg.shift[1]);
    }
    return PTY_OK;
}

/* 1 when global (r, c) lies in p's box. */
static int covers(const pty_partial *p, long long r, long long c)
{
    return r >= p->offset[0] && r < (long long)p->offset[0] + p->h && c >= p->offset[1] &&
           c < (long long)p->offset[1] + p->w;
}

int pty_merge_options_check(const pty_merge_options *o)
{
    PTY_CHECK(o->upsample >= 1 && o->upsample <= 1000, PTY_ERR_ARG, "--stitch-upsample must be in [1, 1000] (got %d)",
              o->upsample);
    PTY_CHECK(o->max_error >= 0.0 && o->max_error <= 1.0, PTY_ERR_ARG,
              "--stitch-max-error must be in [0, 1] (got %g): registration errors lie in [0, 1]", o->max_error);
    PTY_CHECK(o->max_shift >= 0.0 && o->max_shift <= 1e4, PTY_ERR_ARG,
              "--stitch-max-shift must be in [0, 1e4] pixels (got %g)", o->max_shift);
    return PTY_OK;
}

int pty_merge_pair(const pty_partial *a, const pty_partial *b, const pty_merge_options *o, pty_partial *out,
                   pty_merge_report *rep)
{
    PTY_CHECK(a && b && out, PTY_ERR_ARG, "pty_merge_pair: NULL argument");
    PTY_CHECK(out != a && out != b, PTY_ERR_ARG, "pty_merge_pair: the output must be a new partial, not an input");
    memset(out, 0, sizeof *out);
    pty_merge_options opt;
    pty_merge_options_default(&opt);
    if (o) opt = *o;
    PTY_TRY(pty_merge_options_check(&opt));
    merge_ctx x = {.a = a, .b = b};
    PTY_TRY(check_partial(a, "A", &x.amax));
    PTY_TRY(check_partial(b, "B", &x.bmax));

    long long ar1 = (long long)a->offset[0] + a->h, ac1 = (long long)a->offset[1] + a->w;
    long long br1 = (long long)b->offset[0] + b->h, bc1 = (long long)b->offset[1] + b->w;
    long long ur0 = a->offset[0] < b->offset[0] ? a->offset[0] : b->offset[0];
    long long uc0 = a->offset[1] < b->offset[1] ? a->offset[1] : b->offset[1];
    long long uh = (ar1 > br1 ? ar1 : br1) - ur0, uw = (ac1 > bc1 ? ac1 : bc1) - uc0;
    PTY_CHECK(uh <= INT_MAX && uw <= INT_MAX && (double)uh * (double)uw <= MERGE_MAX_PIXELS, PTY_ERR_ARG,
              "merge: the union of A (%d x %d at %d, %d) and B (%d x %d at %d, %d) is %lld x %lld pixels, "
              "more than 1e9 (offsets in the wrong unit?)",
              a->h, a->w, a->offset[0], a->offset[1], b->h, b->w, b->offset[0], b->offset[1], uh, uw);

    x.R0 = a->offset[0] > b->offset[0] ? a->offset[0] : b->offset[0];
    x.C0 = a->offset[1] > b->offset[1] ? a->offset[1] : b->offset[1];
    long long oh = (ar1 < br1 ? ar1 : br1) - x.R0, ow = (ac1 < bc1 ? ac1 : bc1) - x.C0;
    int overlap = oh > 0 && ow > 0;
    x.oh = overlap ? (int)oh : 0;
    x.ow = overlap ? (int)ow : 0;
    /* Shift, ramp and factor are global, so a central window of the overlap
       determines them; fitting a whole 1000-pixel seam cost seconds a merge
       (several FFTs of twice the window per Gauss-Newton step). */
    if (x.oh > MERGE_FIT_MAX) x.R0 += (x.oh - MERGE_FIT_MAX) / 2, x.oh = MERGE_FIT_MAX;
    if (x.ow > MERGE_FIT_MAX) x.C0 += (x.ow - MERGE_FIT_MAX) / 2, x.ow = MERGE_FIT_MAX;
    x.centre[0] = (double)x.R0 + (x.oh - 1) / 2.0;
    x.centre[1] = (double)x.C0 + (x.ow - 1) / 2.0;

    pty_merge_report r = {.reg_error = NAN, .amplitude = 1.0};
    if (overlap) r.ramp_origin[0] = x.centre[0], r.ramp_origin[1] = x.centre[1];
    double s[2] = {0.0, 0.0}, k[2] = {0.0, 0.0}, g[2] = {1.0, 0.0};
    int rc = PTY_OK, correct = 0;
    size_t nb = (size_t)b->h * b->w;
    pty_cf *bobj = NULL, *wtmp = NULL;
    float *bw = NULL;

    if (overlap) {
        size_t n = (size_t)x.oh * x.ow;
        x.mask = malloc(sizeof *x.mask * n);
        x.af = malloc(sizeof *x.af * n);
        x.ac = malloc(sizeof *x.ac * n);
        x.bc = malloc(sizeof *x.bc * n);
        x.tmp = malloc(sizeof *x.tmp * n);
        x.d[0] = malloc(sizeof *x.d[0] * n);
        x.d[1] = malloc(sizeof *x.d[1] * n);
        x.scratch = malloc(sizeof *x.scratch * n);
        if (!x.mask || !x.af || !x.ac || !x.bc || !x.tmp || !x.d[0] || !x.d[1] || !x.scratch) {
            rc = pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate buffers for a %d x %d overlap", x.oh, x.ow);
            goto done;
        }
    }
    long seen = overlap ? build_mask(&x) : 0;
    int wanted = opt.register_shift || opt.normalise || opt.fit_ramp;
    if (wanted && seen < MERGE_MIN_OVERLAP) {
        pty_warn("merge: A (%d x %d at %d, %d) and B (%d x %d at %d, %d) share %ld well-seen pixels (< %d); "
                 "blending at the known offsets without registration or normalisation",
                 a->h, a->w, a->offset[0], a->offset[1], b->h, b->w, b->offset[0], b->offset[1], seen,
                 MERGE_MIN_OVERLAP);
    } else if (wanted) {
        correct = 1;
        if (opt.register_shift || opt.fit_ramp) {
            int ok;
            if ((rc = find_shift_and_ramp(&x, &opt, s, k, &r.reg_error, &ok)) != PTY_OK) goto done;
            if (opt.register_shift) {
                double len = hypot(s[0], s[1]);
                if (ok && r.reg_error <= opt.max_error && len <= opt.max_shift) {
                    r.accepted = 1;
                    if (r.reg_error > opt.warn_error) {
                        r.disagree = 1;
                        pty_warn("merge: B (at %d, %d) and A (at %d, %d) disagree: registration error %.3f, above "
                                 "%.3f (blocks that both converged give about 0.01); one of them has likely not "
                                 "converged: look at each block (--write-partials) and its error",
                                 b->offset[0], b->offset[1], a->offset[0], a->offset[1], r.reg_error,
                                 opt.warn_error);
                    }
                } else {
                    if (ok)
                        pty_warn("merge: registration of B (at %d, %d) on A (at %d, %d) refused: shift (%.2f, %.2f) "
                                 "px (limit %.2f), error %.3f (limit %.3f); merging at the known offsets without "
                                 "shift, ramp or phase/amplitude normalisation",
                                 b->offset[0], b->offset[1], a->offset[0], a->offset[1], s[0], s[1], opt.max_shift,
                                 r.reg_error, opt.max_error);
                    s[0] = s[1] = k[0] = k[1] = 0.0;
                    correct = 0;
                }
            }
        }
    }

    /* B' and its weight on B's box */
    bobj = malloc(sizeof *bobj * nb);
    bw = malloc(sizeof *bw * nb);
    if (!bobj || !bw) {
        rc = pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate a %d x %d copy of B", b->h, b->w);
        goto done;
    }
    if (s[0] != 0.0 || s[1] != 0.0) {
        if ((rc = resample(b->object, b->h, b->w, 0, 0, b->h, b->w, s, bobj)) != PTY_OK) goto done;
        /* the weight says where B's content is reliable, so it moves with the content */
        wtmp = calloc(2 * nb, sizeof *wtmp);
        if (!wtmp) {
            rc = pty_error_set(PTY_ERR_NOMEM, "merge: cannot allocate two %d x %d copies of B's weight", b->h, b->w);
            goto done;
        }
        for (size_t i = 0; i < nb; i++) wtmp[i] = pty_cf_make(b->weight[i], 0.0f);
        if ((rc = resample(wtmp, b->h, b->w, 0, 0, b->h, b->w, s, wtmp + nb)) != PTY_OK) goto done;
        /* Fourier interpolation rings slightly below 0 next to unseen pixels */
        for (size_t i = 0; i < nb; i++) bw[i] = wtmp[nb + i].re > 0.0f ? wtmp[nb + i].re : 0.0f;
    } else {
        memcpy(bobj, b->object, sizeof *bobj * nb);
        memcpy(bw, b->weight, sizeof *bw * nb);
    }
    if (correct) apply_ramp(bobj, b->h, b->w, b->offset[0], b->offset[1], k, x.centre);

    /* g from the well-seen overlap after the shift (the count is reported either way):
       phase arg sum w A conj(B'), amplitude sqrt(sum w |A|^2 / sum w |B'|^2).  The energy ratio treats A
       and B alike; the least-squares |g| = |sum w A conj(B')| / sum w |B'|^2 would shrink B by the
       noise and residual misfit in it. */
    double num_re = 0.0, num_im = 0.0, ea = 0.0, eb = 0.0;
    long count = 0;
    for (long long i = 0; i < x.oh; i++)
        for (long long j = 0; j < x.ow; j++) {
            size_t pa = (size_t)(x.R0 - a->offset[0] + i) * a->w + (size_t)(x.C0 - a->offset[1] + j);
            size_t pb = (size_t)(x.R0 - b->offset[0] + i) * b->w + (size_t)(x.C0 - b->offset[1] + j);
            double wa = x.amax > 0.0 ? a->weight[pa] / x.amax : 0.0, wb = x.bmax > 0.0 ? bw[pb] / x.bmax : 0.0;
            if (!(wa >= MERGE_SEEN && wb >= MERGE_SEEN)) continue;
            count++;
            pty_cf va = a->object[pa], vb = bobj[pb];
            double wt = wa * wb;
            num_re += wt * ((double)vb.re * va.re + (double)vb.im * va.im);
            num_im += wt * ((double)vb.re * va.im - (double)vb.im * va.re);
            ea += wt * ((double)va.re * va.re + (double)va.im * va.im);
            eb += wt * ((double)vb.re * vb.re + (double)vb.im * vb.im);
        }
    r.overlap_px = count;
    if (correct && opt.normalise) {
        double amp = eb > 0.0 ? sqrt(ea / eb) : 0.0, ph = atan2(num_im, num_re);
        if (count >= MERGE_MIN_OVERLAP && amp > 0.0 && isfinite(amp) && (num_re != 0.0 || num_im != 0.0)) {
            g[0] = amp * cos(ph), g[1] = amp * sin(ph);
            pty_cf gf = pty_cf_make((float)g[0], (float)g[1]);
            for (size_t i = 0; i < nb; i++) bobj[i] = pty_cmul(bobj[i], gf);
        } else {
            pty_warn("merge: A or B has no usable power on the %ld-pixel well-seen overlap; "
                     "B's phase and amplitude are left as they are", count);
        }
    }
    if (correct) {
        r.ramp[0] = k[0], r.ramp[1] = k[1];
        r.shift[0] = s[0], r.shift[1] = s[1];
    }
    r.phase = atan2(g[1], g[0]);
    r.amplitude = hypot(g[0], g[1]);

    if ((rc = pty_partial_alloc(out, (int)uh, (int)uw, (int)ur0, (int)uc0)) != PTY_OK) goto done;
    for (long long i = 0; i < uh; i++)
        for (long long j = 0; j < uw; j++) {
            long long gr = ur0 + i, gc = uc0 + j;
            int in_a = covers(a, gr, gc), in_b = covers(b, gr, gc);
            size_t pa = in_a ? (size_t)(gr - a->offset[0]) * a->w + (size_t)(gc - a->offset[1]) : 0;
            size_t pb = in_b ? (size_t)(gr - b->offset[0]) * b->w + (size_t)(gc - b->offset[1]) : 0;
            double wa = in_a ? a->weight[pa] : 0.0, wb = in_b ? bw[pb] : 0.0, wsum = wa + wb;
            pty_cf *dst = out->object + (size_t)i * uw + j;
            if (wsum > 0.0) {
                pty_cf va = in_a ? a->object[pa] : pty_cf_make(0.0f, 0.0f);
                pty_cf vb = in_b ? bobj[pb] : pty_cf_make(0.0f, 0.0f);
                *dst = pty_cf_make((float)((wa * va.re + wb * vb.re) / wsum), (float)((wa * va.im + wb * vb.im) / wsum));
                out->weight[(size_t)i * uw + j] = (float)wsum;
            } else if (in_a) {
                *dst = a->object[pa];
            } else if (in_b) {
                *dst = bobj[pb];
            }
        }
    if (rep) *rep = r;
done:
    if (rc != PTY_OK) pty_partial_free(out);
    free(x.mask);
    free(x.af);
    free(x.ac);
    free(x.bc);
    free(x.tmp);
    free(x.d[0]);
    free(x.d[1]);
    free(x.scratch);
    free(bobj);
    free(bw);
    free(wtmp);
    return rc;
}
