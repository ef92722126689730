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
    PTY_PROBE_GAUSSIAN  /* real Gaussian */
} pty_probe_kind;

/* "aperture" or "gaussian" (case-insensitive); PTY_ERR_ARG names the value otherwise. */
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
 * Needs m >= 4 and 0 < diameter_px; PTY_ERR_ARG otherwise, PTY_ERR_FFT or
 * PTY_ERR_NOMEM when FFTW fails. */
int pty_probe_model(pty_probe_kind kind, int m, double diameter_px, double power, pty_cf *out);

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
