/* align.h - aligning a complex image onto a reference up to what
 * ptychography cannot determine: a translation, a linear phase ramp and a
 * complex factor.  One module for the two places that need it: `ptycho
 * compare` (a reconstruction onto its ground truth, src/results/compare.c)
 * and the stitcher (partial B onto partial A on their overlap, merge.c).
 *
 * Named for the operation, not for either caller.  It lives in stitch/
 * because the stitcher's layer may use only src/base, while compare's layer
 * (results) may use stitch/.
 *
 * Plan once, run many (FFTW style).  A pty_resampler samples an h x w
 * window of an image at a sub-pixel shift: a Fourier shift of a
 * mirror-extended copy, so nothing wraps around and the window's edges do
 * not ring into it.  A pty_aligner (a resampler plus the fit's buffers, for
 * one window size) fits
 *     min over s, k, g of  sum_p w(p) |T(p) - g M(p; s, k)|^2,
 *     M(p; s, k) = exp(i k.(p - c)) moving(corner + p + s),
 * p a window pixel, c the window's centre, w an optional weight (a taper,
 * a mask).  Creating one plans the FFTs and allocates; resampling, the
 * factor and the Gauss-Newton fit allocate nothing and make no plans.  The
 * start estimates (pty_aligner_register, pty_aligner_ramp) call
 * pty_register and pty_find_ramp, which plan their own FFTs, a few times a
 * fit.  FFTW's planner is not thread-safe: create, destroy and the start
 * estimates from one thread at a time. */
#ifndef PTY_ALIGN_H
#define PTY_ALIGN_H

#include "pty_pixel.h"
#include "register.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_resampler pty_resampler;

/* Plans and buffers for h x w windows (h, w >= 1, at most 1e9 pixels).
 * Errors: PTY_ERR_ARG, PTY_ERR_NOMEM, PTY_ERR_FFT; *out is NULL on error. */
int pty_resampler_create(int h, int w, pty_resampler **out);

/* NULL is fine. */
void pty_resampler_destroy(pty_resampler *r);

/* dst(p) = exp(i k.(p - centre)) src(corner + p + shift) for the window
 * pixels p = (i, j), 0 <= i < h, 0 <= j < w; src (sh x sw, row-major) is
 * reflected beyond its edges (numeric.h pty_reflect).  The ramp is applied
 * before the sub-pixel shift, so the shift interpolates a ramp-free image.
 * An integer shift is an exact copy.  `centre` is in window pixels and may
 * lie outside the window.  Errors: PTY_ERR_ARG (NULL, sizes, non-finite
 * shift or ramp); dst is then unchanged. */
int pty_resampler_run(pty_resampler *r, const pty_cf *src, int sh, int sw, const long long corner[2],
                      const double shift[2], const double k[2], const double centre[2], pty_cf *dst);

/* A whole image at a sub-pixel shift, in time linear in its size: the
 * resampler's Fourier shift of a mirrored copy costs FFTs of four times the
 * image, which for a merge's partner box at the seed's size took seconds.
 * dst(p) = exp(i k.(p - centre)) src(p + shift) for every pixel p of the
 * h x w image (reflected beyond its edges), the ramp applied before the
 * shift as pty_resampler_run does; the shift's whole part is an exact
 * index shift and its fraction a separable windowed sinc of
 * 2 PTY_SHIFT_TAPS taps per axis (align_resample.c states its accuracy).
 * k may be NULL (no ramp).  Errors: PTY_ERR_ARG (NULL, sizes, non-finite
 * shift or ramp), PTY_ERR_NOMEM; dst is then unchanged. */
#define PTY_SHIFT_TAPS 8
int pty_shift_image_short(const pty_cf *src, int h, int w, const double shift[2], const double k[2],
                          const double centre[2], pty_cf *dst);

/* The same for a real image (a weight), without a ramp. */
int pty_shift_real_short(const float *src, int h, int w, const double shift[2], float *dst);

typedef struct pty_aligner pty_aligner;

/* A resampler, a registrar (register.h) at `upsample` and the fit's
 * buffers for h x w windows: every plan and buffer a fit needs, made once,
 * so the calls below allocate nothing.  Errors as pty_resampler_create and
 * pty_registrar_create (upsample in [1, 1000]). */
int pty_aligner_create(int h, int w, int upsample, pty_aligner **out);

/* NULL is fine. */
void pty_aligner_destroy(pty_aligner *al);

/* What an aligner fits. */
typedef struct pty_align_images {
    const pty_cf *moving;  /* moving_h x moving_w, reflected beyond its edges; borrowed until the next
                              pty_aligner_set_images */
    int moving_h, moving_w;
    long long corner[2];   /* moving's pixel under window pixel (0, 0) at shift 0 */
    const pty_cf *target;  /* h x w, T (copied) */
    const float *weight;   /* h x w, w >= 0 (copied); NULL: 1 everywhere */
    int smooth;            /* 1: T and M both smoothed by [1 2 1]/4 per axis (edges clamped), which removes
                              the Nyquist bin a Fourier shift cannot move and weakens noise (merge.c) */
} pty_align_images;

/* Hand the aligner its images (T, and w T for the start estimates, are
 * computed here).  Errors: PTY_ERR_ARG (NULL, sizes). */
int pty_aligner_set_images(pty_aligner *al, const pty_align_images *im);

/* M(.; shift, k) as the fit sees it (smoothed with `smooth`): *model points
 * into the aligner, valid until its next call.  Errors: PTY_ERR_ARG. */
int pty_aligner_model(pty_aligner *al, const double shift[2], const double k[2], const pty_cf **model);

/* Registration of w M(.; shift, k) (moving) against w T (reference) by
 * pty_register at the aligner's upsample: reg->shift is what to add to
 * `shift`.  Errors as pty_register (PTY_ERR_DATA: an image without power
 * on the window). */
int pty_aligner_register(pty_aligner *al, const double shift[2], const double k[2], pty_registration *reg);

/* Residual ramp dk (rad/px) to add to k: the DFT peak of w T conj(M)
 * (pty_find_ramp at the aligner's upsample), refined by a |.|-weighted least-squares
 * plane through the phase left once that peak is removed (sub-grid
 * accuracy; the peak has unwrapped the phase).  Errors as pty_find_ramp
 * (PTY_ERR_DATA: the product has no power). */
int pty_aligner_ramp(pty_aligner *al, const double shift[2], const double k[2], double dk[2]);

/* A point of the fit. */
typedef struct pty_align_state {
    double shift[2]; /* s, px (row, col) */
    double ramp[2];  /* k, rad/px (row, col), phase 0 at the window's centre */
    double g[2];     /* complex factor (re, im): the least-squares g at (s, k) */
    double misfit;   /* sum_p w |T - g M|^2 at (s, k, g) */
} pty_align_state;

typedef struct pty_align_fit_options {
    int fit_shift, fit_ramp; /* which of s and k are free (g always is) */
    int max_iterations;      /* Gauss-Newton steps at most */
    double tolerance;        /* stop once a step moves s by less than this (px) and k's phase across the
                                window (k_row h, k_col w) by less (rad) */
    double shift_min[2], shift_max[2]; /* admissible s: a trial outside counts as infinitely bad */
} pty_align_fit_options;

/* 1 when shift lies in o's admissible box. */
int pty_align_admissible(const pty_align_fit_options *o, const double shift[2]);

/* g and the misfit at st->shift, st->ramp.  Errors: PTY_ERR_ARG. */
int pty_aligner_factor(pty_aligner *al, pty_align_state *st);

/* Minimise the misfit from st->shift, st->ramp by Gauss-Newton steps (the
 * derivative in s by central differences of the Fourier-interpolated M)
 * with a line search that doubles a step while the misfit falls and halves
 * it while it rises: on noisy images the Gauss-Newton Hessian also counts
 * the energy of the noise's derivative, which the full Hessian cancels, so
 * its steps are too short.  The weight multiplies the residual, not the
 * images, so it does not bias the minimum.  On return *st is the best point
 * found (the start when no step lowered the misfit), with its g and misfit.
 * Errors: PTY_ERR_ARG (NULL, options). */
int pty_aligner_fit(pty_aligner *al, const pty_align_fit_options *o, pty_align_state *st);

#ifdef __cplusplus
}
#endif
#endif /* PTY_ALIGN_H */
