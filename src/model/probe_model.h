/* probe_model.h - model illuminations for the simulator and for a
 * reconstruction's first probe, and exact sub-pixel probe shifts.
 *
 * Probes are m x m, real space, centred at pixel (m/2, m/2), normalised to a
 * given power sum_r |P|^2.  FFT conventions as in pty_pixel.h (forward
 * unscaled, inverse scaled by 1/N).  The functions that plan FFTs call the
 * FFTW planner, which is not thread-safe: call them from one thread. */
#ifndef PTY_PROBE_MODEL_H
#define PTY_PROBE_MODEL_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTY_PROBE_APERTURE, /* focused circular aperture (zone-plate-like), defocused */
    PTY_PROBE_GAUSSIAN, /* real Gaussian */
    PTY_PROBE_DISC      /* real, flat disc with a one-pixel soft edge */
} pty_probe_kind;

/* Signed frequency of FFT index k of m: 0, 1, ..., then negative from (m+1)/2. */
static inline int pty_signed_freq(int k, int m) { return k < (m + 1) / 2 ? k : k - m; }

/* "aperture", "gaussian" or "disc" (case-insensitive); PTY_ERR_ARG names the value otherwise. */
int pty_probe_kind_parse(const char *s, pty_probe_kind *kind);
const char *pty_probe_kind_name(pty_probe_kind kind);

/* Fill out (m*m) with a probe of the given kind, centred at (m/2, m/2), with
 * sum_r |P|^2 = power.
 *   aperture: in the pupil (Fourier) plane, a disc of radius a = m/4
 *     frequency pixels carrying a defocus phase phi_max (q/a)^2 with
 *     phi_max = pi a D / (2 m), so that the geometric (ray) spot in real space
 *     has diameter D = diameter_px; the edge is anti-aliased over one pixel.
 *     Real space = centred inverse FFT of the pupil.
 *   gaussian: real, with intensity |P|^2 of full width at half maximum D.
 *   disc: real, uniform inside diameter D, edge softened over a pixel.
 * Needs m >= 4 and 0 < diameter_px; PTY_ERR_ARG otherwise, PTY_ERR_FFT or
 * PTY_ERR_NOMEM when FFTW fails. */
int pty_probe_model(pty_probe_kind kind, int m, double diameter_px, double power, pty_cf *out);

/* Scale p (npix) so that sum |p|^2 = power; PTY_ERR_DATA when p has none. */
int pty_probe_normalise(pty_cf *p, size_t npix, double power);

/* The probe whose far field (its forward FFT) is a pupil of modulus
 * `modulus` (m*m, FFT order; NULL: a disc of `radius` pixels, edge
 * anti-aliased over one pixel) and phase curvature * q^2, q the distance
 * from zero frequency in pixels: a focusing optic seen out of focus.
 * Real space, centred at (m/2, m/2), not normalised.  Plans FFTW. */
int pty_probe_pupil(const float *modulus, int m, double radius, double curvature, pty_cf *out);

/* The curvature that spreads a pupil of `radius` pixels into a geometric
 * (ray-optics) spot of spot_px pixels: c = pi D / (2 m a).  Either sign
 * gives the same spot: + converging onto a focus behind the sample, -
 * diverging from one before it. */
double pty_pupil_curvature(int m, double radius, double spot_px);

/* A focusing lens (zone plate; KB mirrors as a round aperture of the same
 * acceptance) and where the sample sits relative to its focus. */
typedef struct pty_lens {
    double aperture_m;     /* A: diameter of the lens; numerical aperture A / 2f */
    double focal_length_m; /* f */
    double defocus_m;      /* focus-to-sample distance dz, > 0 when the sample is downstream of the focus */
} pty_lens;

/* The lens's pupil in a far-field geometry of wavelength lambda, detector
 * distance z and pixel p, m x m frames: the cone of half-angle A/2f lights a
 * disc of radius a = A z / (2 f p) detector pixels, and propagation by dz
 * (Fresnel) gives its angular spectrum the phase -pi lambda dz nu^2 at
 * spatial frequency nu = q p / (lambda z), i.e. curvature
 * c = -pi dz p^2 / (lambda z^2) per pixel^2.  The spot is then
 * D = A |dz| / f = 2 m |c| a / pi object pixels.  PTY_ERR_ARG naming the
 * flag when a parameter is not positive, the disc is under a pixel or over
 * half the frame, or the spot is wider than the window. */
int pty_lens_pupil(const pty_lens *lens, int m, double wavelength_m, double distance_m, double detector_pixel_m,
                   double *radius, double *curvature);

/* The lens's probe (pty_lens_pupil, then pty_probe_pupil) with sum |P|^2 = power. */
int pty_probe_lens(const pty_lens *lens, int m, double wavelength_m, double distance_m, double detector_pixel_m,
                   double power, pty_cf *out);

/* Multiply an FFT-order m x m spectrum by the phase ramp
 * exp(-2 pi i (k_r dr + k_c dc) / m) (signed frequencies k), which moves the
 * real-space field by (+dr, +dc) pixels (rows, columns), circularly.
 * PTY_ERR_NOMEM (spectrum unchanged) if scratch memory cannot be had. */
int pty_probe_phase_ramp(pty_cf *spectrum, int m, double dr, double dc);

/* Shift probe (m*m, real space) by (dr, dc) pixels, any real amounts, in
 * place, through the Fourier shift theorem (band-limited interpolation,
 * circular at the edges; power is kept).  PTY_ERR_FFT / PTY_ERR_NOMEM on failure,
 * the probe then being unchanged. */
int pty_probe_shift(pty_cf *probe, int m, double dr, double dc);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PROBE_MODEL_H */
