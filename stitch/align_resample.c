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
