/* probe_init.h - a first probe when the input file has none.
 *
 * The Fourier modulus comes from the data (the square root of the mean
 * measured intensity, which is what an object of unit transmission would
 * give), the real-space size from a soft disc of the given diameter; the
 * probe is then scaled to the measured photon flux.  Nothing here looks at
 * a ground truth. */
#ifndef PTY_PROBE_INIT_H
#define PTY_PROBE_INIT_H

#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fill out (m*m, centred at (m/2, m/2)) with the initial probe of dataset d.
 * diameter_px <= 0 picks m/2.  Power: sum_r |P|^2 = mean frame counts / m^2,
 * so that a transmission-one object reproduces the measured counts. */
int pty_probe_from_data(const pty_dataset *d, double diameter_px, pty_cf *out);

/* The mean measured intensity of each detector pixel over the frames that
 * measure it (m*m, FFT order like the amplitudes); NAN where no frame does
 * (masked everywhere).  PTY_ERR_NOMEM. */
int pty_mean_pattern(const pty_dataset *d, double *mean);

/* Mean total counts per frame over unmasked pixels. */
double pty_mean_frame_counts(const pty_dataset *d);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PROBE_INIT_H */
