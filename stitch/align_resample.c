/* align_resample.c - the resampler of align.h: a window of an image at a
 * sub-pixel shift, by a Fourier shift of a mirror-extended copy, on FFT
 * plans made once per window size.
 *
 * The window plus a margin of real image is mirrored to twice its size in
 * each axis, so its periodic extension is continuous: the shift then rings
 * only at the mirror's kinks, which the margin keeps away from the window. */
#include "align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "numeric.h"
#include "pty_error.h"

/* Pixels of real image around the window: ringing from the mirror's kinks
 * decays within a few. */
#define ALIGN_MARGIN 16

struct pty_resampler {
    int h, w;        /* window */
    int hh, ww;      /* window + margins, the quarter of the mirrored block */
    pty_cf *block;   /* 2hh x 2ww, FFTW-aligned */
    fftwf_plan fwd, inv;
    pty_cd *er, *ec; /* shift factors, 2hh and 2ww */
    pty_cd *ramp_r, *ramp_c; /* ramp factors per row and column of the quarter, hh and ww */
};

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

int pty_resampler_create(int h, int w, pty_resampler **out)
{
    PTY_CHECK(out != NULL, PTY_ERR_ARG, "pty_resampler_create: NULL argument");
    *out = NULL;
    PTY_CHECK(h >= 1 && w >= 1 && (double)h * w <= 1e9, PTY_ERR_ARG,
              "resampler: window %d x %d must be positive (and at most 1e9 pixels)", h, w);
    pty_resampler *r = calloc(1, sizeof *r);
    PTY_CHECK(r != NULL, PTY_ERR_NOMEM, "resampler: out of memory");
    r->h = h;
    r->w = w;
    r->hh = smooth_size(h + 2 * ALIGN_MARGIN + 1);
    r->ww = smooth_size(w + 2 * ALIGN_MARGIN + 1);
    int H = 2 * r->hh, W = 2 * r->ww;
    r->block = (pty_cf *)fftwf_alloc_complex((size_t)H * W);
    r->er = malloc(sizeof *r->er * (size_t)H);
    r->ec = malloc(sizeof *r->ec * (size_t)W);
    r->ramp_r = malloc(sizeof *r->ramp_r * (size_t)r->hh);
    r->ramp_c = malloc(sizeof *r->ramp_c * (size_t)r->ww);
    if (!r->block || !r->er || !r->ec || !r->ramp_r || !r->ramp_c) {
        pty_resampler_destroy(r);
        return pty_error_set(PTY_ERR_NOMEM, "resampler: cannot allocate a %d x %d block for a %d x %d window", H,
                             W, h, w);
    }
    /* FFTW_ESTIMATE plans leave the array untouched, so planning in place is safe. */
    fftwf_complex *z = (fftwf_complex *)r->block;
    r->fwd = fftwf_plan_dft_2d(H, W, z, z, FFTW_FORWARD, FFTW_ESTIMATE);
    r->inv = fftwf_plan_dft_2d(H, W, z, z, FFTW_BACKWARD, FFTW_ESTIMATE);
    if (!r->fwd || !r->inv) {
        pty_resampler_destroy(r);
        return pty_error_set(PTY_ERR_FFT, "resampler: cannot plan a %d x %d FFT", H, W);
    }
    *out = r;
    return PTY_OK;
}

void pty_resampler_destroy(pty_resampler *r)
{
    if (!r) return;
    if (r->fwd) fftwf_destroy_plan(r->fwd);
    if (r->inv) fftwf_destroy_plan(r->inv);
    fftwf_free(r->block);
    free(r->er);
    free(r->ec);
    free(r->ramp_r);
    free(r->ramp_c);
    free(r);
}

/* ramp[j] = exp(i k (q0 + j - shift - origin)), the ramp at source pixel
 * q0 + j, whose window coordinate is q0 + j - shift - corner; origin =
 * corner + centre. */
static void ramp_factors(pty_cd *ramp, int n, long long q0, double k, double shift, double origin)
{
    for (int j = 0; j < n; j++) ramp[j] = pty_cd_expi(k * ((double)(q0 + j) - shift - origin));
}

int pty_resampler_run(pty_resampler *r, const pty_cf *src, int sh, int sw, const long long corner[2],
                      const double shift[2], const double k[2], const double centre[2], pty_cf *dst)
{
    PTY_CHECK(r && src && corner && shift && k && centre && dst, PTY_ERR_ARG, "pty_resampler_run: NULL argument");
    PTY_CHECK(sh >= 1 && sw >= 1, PTY_ERR_ARG, "resampler: source image %d x %d must be positive", sh, sw);
    PTY_CHECK(isfinite(shift[0]) && isfinite(shift[1]) && isfinite(k[0]) && isfinite(k[1]), PTY_ERR_ARG,
              "resampler: shift (%g, %g) and ramp (%g, %g) must be finite", shift[0], shift[1], k[0], k[1]);
    double fl[2] = {floor(shift[0]), floor(shift[1])};
    double fu[2] = {shift[0] - fl[0], shift[1] - fl[1]};
    int exact = fu[0] == 0.0 && fu[1] == 0.0;
    /* an integer shift needs no margin: window pixel i is quarter pixel i + m */
    int m = exact ? 0 : ALIGN_MARGIN, hh = exact ? r->h : r->hh, ww = exact ? r->w : r->ww;
    long long q0[2] = {corner[0] + (long long)fl[0] - m, corner[1] + (long long)fl[1] - m};
    int ramped = k[0] != 0.0 || k[1] != 0.0;
    if (ramped) {
        ramp_factors(r->ramp_r, hh, q0[0], k[0], shift[0], (double)corner[0] + centre[0]);
        ramp_factors(r->ramp_c, ww, q0[1], k[1], shift[1], (double)corner[1] + centre[1]);
    }
    int H = 2 * hh, W = 2 * ww;
    for (int j = 0; j < hh; j++) {
        long long qr = pty_reflect(q0[0] + j, sh);
        for (int l = 0; l < ww; l++) {
            pty_cf z = src[qr * sw + pty_reflect(q0[1] + l, sw)];
            if (ramped) {
                pty_cd v = pty_cd_mul(pty_cd_of(z), pty_cd_mul(r->ramp_r[j], r->ramp_c[l]));
                z = pty_cf_make((float)v.re, (float)v.im);
            }
            if (exact) {
                dst[(size_t)j * r->w + l] = z;
                continue;
            }
            r->block[(size_t)j * W + l] = z;
            r->block[(size_t)j * W + (W - 1 - l)] = z;
            r->block[(size_t)(H - 1 - j) * W + l] = z;
            r->block[(size_t)(H - 1 - j) * W + (W - 1 - l)] = z;
        }
    }
    if (exact) return PTY_OK;
    fftwf_execute(r->fwd);
    pty_shift_spectrum(r->block, H, W, -fu[0], -fu[1], r->er, r->ec);
    fftwf_execute(r->inv);
    for (int i = 0; i < r->h; i++)
        memcpy(dst + (size_t)i * r->w, r->block + (size_t)(m + i) * W + m, sizeof(pty_cf) * r->w);
    return PTY_OK;
}

/* ---- the short-kernel shift (pty_shift_image_short) ----------------------
 *
 * A Kaiser-windowed sinc of 2 T taps, T = PTY_SHIFT_TAPS = 8, normalised so
 * a constant stays constant.  Relative RMS error against the exact Fourier
 * shift, 1-D random signals band-limited to a fraction of Nyquist, shifted
 * by 0.37 px (numpy):
 *     band 0.5: 4.3e-5    band 0.7: 1.3e-4    band 0.8: 9.3e-3
 * and in tests/test_merge.c (a field with content up to Nyquist, merged at
 * three sub-pixel shifts) 3.6-3.8e-5 on the overlap, where the Fourier
 * shift of the mirrored box gave 4.5-4.8e-5.  Beta 8 is that test's choice:
 * beta 5 gave 4.3e-4 there, 7 6.0e-5, 9 3.2e-5 (and T = 12, beta 8
 * 4.8e-5).  A reconstruction keeps little near Nyquist (the probe's
 * support blurs it, noise dominates there), and a merge blends B with A
 * where they overlap, so these sit far inside a block's noise (1e-2). */
#define SHIFT_T PTY_SHIFT_TAPS
#define SHIFT_KAISER_BETA 8.0
#define PTY_SHIFT_PI 3.14159265358979323846

/* I0(x), the modified Bessel function of order 0: its power series, which
 * for the window's x <= 8 ends below 1e-17 of the sum within 30 terms. */
static double bessel_i0(double x)
{
    double term = 1.0, sum = 1.0, q = 0.25 * x * x;
    for (int k = 1; k < 40 && term > 1e-17 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/* The taps moving an axis by its fraction f in [0, 1): tap j weighs the
 * source sample j - (T - 1) from the shift's whole part.  f = 0 is an exact
 * copy. */
static void shift_taps(double f, float *tap)
{
    double w[2 * SHIFT_T], sum = 0.0;
    for (int j = 0; j < 2 * SHIFT_T; j++) {
        const double x = (double)(j - (SHIFT_T - 1)) - f, u = x / SHIFT_T;
        const double sinc = x == 0.0 ? 1.0 : sin(PTY_SHIFT_PI * x) / (PTY_SHIFT_PI * x);
        w[j] = f == 0.0 ? (j == SHIFT_T - 1) : sinc * bessel_i0(SHIFT_KAISER_BETA * sqrt(fmax(0.0, 1.0 - u * u)));
        sum += w[j];
    }
    for (int j = 0; j < 2 * SHIFT_T; j++) tap[j] = (float)(w[j] / sum);
}

/* One image of nc floats a pixel (2: complex, 1: real) moved by `shift`, the
 * ramp (when ramp_r is not NULL: its factor at each virtual source row and
 * column, as below) applied to the source first.  Rows are filtered along
 * their columns once each into a ring of the 2 T rows an output row needs,
 * so the work is 4 T multiply-adds a pixel and a float and the memory 2 T
 * rows.  Virtual source row v (0 <= v < h + 2 T - 1) is image row
 * floor(shift_r) - (T - 1) + v, reflected; columns likewise. */
static void shift_planes(const float *src, int h, int w, int nc, const double shift[2], const pty_cd *ramp_r,
                         const pty_cd *ramp_c, float *ext, float *ring, float *dst)
{
    float tr[2 * SHIFT_T], tc[2 * SHIFT_T];
    const double fl_r = floor(shift[0]), fl_c = floor(shift[1]);
    shift_taps(shift[0] - fl_r, tr);
    shift_taps(shift[1] - fl_c, tc);
    const long long r0 = (long long)fl_r - (SHIFT_T - 1), c0 = (long long)fl_c - (SHIFT_T - 1);
    const int we = w + 2 * SHIFT_T - 1;
    const size_t row = (size_t)w * nc;
    for (int v = 0; v < h + 2 * SHIFT_T - 1; v++) {
        /* filter virtual source row v into the ring; output row r = v - (2 T - 1) is then complete */
        const float *in = src + (size_t)pty_reflect(r0 + v, h) * row;
        for (int x = 0; x < we; x++) {
            const float *z = in + (size_t)pty_reflect(c0 + x, w) * nc;
            if (ramp_r) { /* as pty_resampler_run applies it */
                const pty_cd f = pty_cd_mul(pty_cd_of(pty_cf_make(z[0], z[1])), pty_cd_mul(ramp_r[v], ramp_c[x]));
                ext[2 * x] = (float)f.re, ext[2 * x + 1] = (float)f.im;
            } else {
                for (int ch = 0; ch < nc; ch++) ext[(size_t)x * nc + ch] = z[ch];
            }
        }
        float *out = ring + (size_t)(v % (2 * SHIFT_T)) * row;
        for (size_t i = 0; i < row; i++) out[i] = 0.0f;
        for (int j = 0; j < 2 * SHIFT_T; j++) {
            const float t = tc[j], *restrict e = ext + (size_t)j * nc;
            for (size_t i = 0; i < row; i++) out[i] += t * e[i];
        }
        const int r = v - (2 * SHIFT_T - 1);
        if (r < 0) continue;
        float *restrict d = dst + (size_t)r * row;
        for (size_t i = 0; i < row; i++) d[i] = 0.0f;
        for (int j = 0; j < 2 * SHIFT_T; j++) {
            const float t = tr[j], *restrict y = ring + (size_t)((r + j) % (2 * SHIFT_T)) * row;
            for (size_t i = 0; i < row; i++) d[i] += t * y[i];
        }
    }
}

static int shift_short(const float *src, int h, int w, int nc, const double shift[2], const double k[2],
                       const double centre[2], float *dst)
{
    PTY_CHECK(src && dst && shift, PTY_ERR_ARG, "pty_shift_image_short: NULL argument");
    PTY_CHECK(h >= 1 && w >= 1 && (double)h * w <= 1e9, PTY_ERR_ARG, "shift: image %d x %d must be positive", h, w);
    PTY_CHECK(isfinite(shift[0]) && isfinite(shift[1]) && (!k || (isfinite(k[0]) && isfinite(k[1]))), PTY_ERR_ARG,
              "shift: shift (%g, %g) and ramp must be finite", shift[0], shift[1]);
    const int ramped = k && (k[0] != 0.0 || k[1] != 0.0);
    PTY_CHECK(!ramped || centre, PTY_ERR_ARG, "pty_shift_image_short: a ramp needs its centre");
    const int he = h + 2 * SHIFT_T - 1, we = w + 2 * SHIFT_T - 1;
    float *ext = malloc(sizeof *ext * (size_t)we * nc);
    float *ring = malloc(sizeof *ring * (size_t)2 * SHIFT_T * w * nc);
    pty_cd *ramp_r = ramped ? malloc(sizeof *ramp_r * (size_t)he) : NULL;
    pty_cd *ramp_c = ramped ? malloc(sizeof *ramp_c * (size_t)we) : NULL;
    if (!ext || !ring || (ramped && (!ramp_r || !ramp_c))) {
        free(ext), free(ring), free(ramp_r), free(ramp_c);
        return pty_error_set(PTY_ERR_NOMEM, "shift: cannot allocate the rows to shift a %d x %d image", h, w);
    }
    if (ramped) { /* the ramp at the virtual source rows and columns (corner 0) */
        ramp_factors(ramp_r, he, (long long)floor(shift[0]) - (SHIFT_T - 1), k[0], shift[0], centre[0]);
        ramp_factors(ramp_c, we, (long long)floor(shift[1]) - (SHIFT_T - 1), k[1], shift[1], centre[1]);
    }
    shift_planes(src, h, w, nc, shift, ramp_r, ramp_c, ext, ring, dst);
    free(ext), free(ring), free(ramp_r), free(ramp_c);
    return PTY_OK;
}

int pty_shift_image_short(const pty_cf *src, int h, int w, const double shift[2], const double k[2],
                          const double centre[2], pty_cf *dst)
{
    return shift_short((const float *)src, h, w, 2, shift, k, centre, (float *)dst);
}

int pty_shift_real_short(const float *src, int h, int w, const double shift[2], float *dst)
{
    return shift_short(src, h, w, 1, shift, NULL, NULL, dst);
}
