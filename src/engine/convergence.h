/* convergence.h - is a finished run's Fourier error where the data allow?
 *
 * A reconstruction can end, with exit status 0, in a local minimum: the
 * error stalls far above what photon noise leaves (seen: 2.2e-2 where the
 * same scan converges to 2.2e-3 from a better first probe).  Counting
 * noise sets the scale: for Poisson counts the square root has variance
 * about 1/4 above a few photons and about the count below, so a converged
 * model leaves sum_pixels min(I, 1/4) / sum I (the "noise floor") or a few
 * times that where the model is incomplete (real data: the Siemens star
 * ends at 2.2x its floor with 5 modes, 3.4x with 1). */
#ifndef PTY_CONVERGENCE_H
#define PTY_CONVERGENCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An error this many times the noise floor is "far above" it. */
#define PTY_STALL_FLOOR_FACTOR 5.0

enum {
    PTY_CONVERGED = 0, /* within PTY_STALL_FLOOR_FACTOR of the floor, or too few iterations to judge */
    PTY_STALLED,       /* far above the floor and falling less than 5 % over the last fifth of the run */
    PTY_STILL_FALLING  /* far above the floor but still falling: more iterations may get there */
};

/* Judge errors[0..n) against the noise floor (a share of the measured
 * intensity, as the errors are).  Needs at least 20 iterations. */
int pty_convergence_judge(const double *errors, int n, double floor);

/* One line of advice for a verdict other than PTY_CONVERGED, naming the
 * error, its multiple of the floor and what to try; `who` prefixes it
 * (e.g. "rank 3's block"). */
void pty_convergence_advice(int verdict, const double *errors, int n, double floor, const char *who, char *buf,
                            size_t size);

#ifdef __cplusplus
}
#endif
#endif /* PTY_CONVERGENCE_H */
