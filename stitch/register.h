/* register.h - sub-pixel registration of complex images (Guizar-Sicairos,
 * Thurman & Fienup, Opt. Lett. 33, 156 (2008)), Fourier sub-pixel shifts and
 * linear-phase-ramp estimation.
 *
 * Used through the aligner (align.h), which `ptycho compare` (reconstruction
 * vs ground truth) and the asynchronous stitcher (overlaps of partial
 * objects, DESIGN.md §3) share, and by `ptycho stitch` to place parts. */
#ifndef PTY_REGISTER_H
#define PTY_REGISTER_H

#include "numeric.h"
#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Result of registering `mov` against `ref`.
 *
 * Sign convention: `shift` is the displacement of mov's content relative to
 * ref's, in pixels (row, col):
 *     mov(r) ≈ exp(i phase) · ref(r − shift)
 * so pty_shift_image(ref, shift) reproduces mov, and
 * pty_shift_image(mov, −shift) brings mov back onto ref. */
typedef struct pty_registration {
    double shift[2]; /* (row, col) displacement of mov relative to ref, pixels */
    double error;    /* sqrt(1 − |CC_max|² / (E_ref E_mov)): 0 = identical up to shift and
                        complex factor, ~1 = unrelated (E = Σ|image|², CC = Σ conj(ref) mov(·+shift)) */
    double phase;    /* arg CC_max: global phase of mov relative to ref, rad */
} pty_registration;

/* Register two h x w complex images (row-major) to about 1/upsample pixel,
 * usually better: cross-power spectrum, coarse peak from a 2x up-sampled
 * inverse FFT, then a matrix-multiply DFT over ±0.75 pixel around it at
 * `upsample` points per pixel and a parabolic fit of the three samples
 * around the maximum.  Shifts are found modulo the image size and reported
 * in about [−h/2, h/2) x [−w/2, w/2).  Any h, w >= 1; upsample in [1, 1000]
 * (20 gives ~0.01 px on smooth images).  The images are treated as periodic:
 * taper or crop them so that content does not wrap.
 * Errors: PTY_ERR_ARG (sizes, upsample, NULL), PTY_ERR_DATA (an image has
 * no power or is not finite), PTY_ERR_NOMEM, PTY_ERR_FFT.  *out is written
 * only on success.  Plans FFTs (FFTW_ESTIMATE): FFTW's planner is not
 * thread-safe, so call from one thread at a time. */
int pty_register(const pty_cf *ref, const pty_cf *mov, int h, int w, int upsample, pty_registration *out);

/* Shift a complex image in place by (dr, dc) pixels by the Fourier shift
 * theorem: img'(r) = img(r − (dr, dc)), periodic boundary.  For even sizes
 * the Nyquist bin is multiplied by cos(π d), the mean of its two possible
 * phase factors, so real images stay real; integer shifts are exact rolls.
 * Errors: PTY_ERR_ARG, PTY_ERR_FFT.  Same threading note as above. */
int pty_shift_image(pty_cf *img, int h, int w, double dr, double dc);

/* The middle of pty_shift_image, for callers that keep their own FFT plans
 * (the aligner, align.h): multiply a forward-transformed h x w image by the
 * shift theorem's factors for (dr, dc) and by 1/(h w), so that the inverse
 * FFT gives the image shifted.  er and ec are scratch of h and w values;
 * nothing is allocated or checked. */
void pty_shift_spectrum(pty_cf *spec, int h, int w, double dr, double dc, pty_cd *er, pty_cd *ec);

/* Dominant linear phase ramp of an h x w complex image: the k (rad/pixel,
 * (row, col)) maximising |Σ_r img(r) exp(−i k·r)|, found like the
 * registration peak (2x coarse FFT, then up-sampled DFT + parabolic fit), so
 * img(r) ≈ a(r) exp(i k·r) with a(r) slowly varying.  k is in about [−π, π) per
 * axis.  *value (may be NULL) receives Σ_r img(r) exp(−i k·r) as (re, im),
 * r counted from pixel (0, 0).  Errors as pty_register. */
int pty_find_ramp(const pty_cf *img, int h, int w, int upsample, double k[2], double value[2]);

/* The same two, planned once: a registrar holds the FFT plans and buffers
 * of one h x w image size at one up-sampling, so a fit that registers the
 * same window many times (stitch/align) plans once and the calls allocate
 * nothing.  Arguments and errors as above (create: size, upsample, memory,
 * FFT; the calls: NULL, data).  Planning is not thread-safe (FFTW); a
 * registrar is used by one thread at a time. */
typedef struct pty_registrar pty_registrar;
int pty_registrar_create(int h, int w, int upsample, pty_registrar **out);
int pty_registrar_register(pty_registrar *r, const pty_cf *ref, const pty_cf *mov, pty_registration *out);
int pty_registrar_find_ramp(pty_registrar *r, const pty_cf *img, double k[2], double value[2]);
void pty_registrar_destroy(pty_registrar *r);

#ifdef __cplusplus
}
#endif
#endif /* PTY_REGISTER_H */
