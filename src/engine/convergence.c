/* convergence.c - a finished run's error against its noise floor. */
#include "convergence.h"

#include <math.h>
#include <stdio.h>

#define MIN_ITERATIONS 20
/* "Stopped falling": less than this relative drop over the last fifth of the run. */
#define STALL_DROP 0.05

/* The last fifth of the run, at least 10 iterations (fewer if the run is shorter). */
static int window(int n)
{
    const int w = n / 5 < 10 ? 10 : n / 5;
    return w > n - 1 ? n - 1 : w;
}

static double drop_over_last_fifth(const double *e, int n)
{
    const double before = e[n - 1 - window(n)];
    return before > 0 ? (before - e[n - 1]) / before : 0.0;
}

int pty_convergence_judge(const double *errors, int n, double floor)
{
    if (n < MIN_ITERATIONS || !(floor > 0.0) || !isfinite(errors[n - 1])) return PTY_CONVERGED;
    if (errors[n - 1] <= PTY_STALL_FLOOR_FACTOR * floor) return PTY_CONVERGED;
    return drop_over_last_fifth(errors, n) < STALL_DROP ? PTY_STALLED : PTY_STILL_FALLING;
}

void pty_convergence_advice(int verdict, const double *errors, int n, double floor, const char *who, char *buf,
                            size_t size)
{
    const double last = n > 0 ? errors[n - 1] : NAN;
    if (verdict == PTY_STALLED)
        snprintf(buf, size,
                 "%s: the Fourier error stopped falling at %.3e, %.0f times what photon noise leaves (%.2e): the "
                 "reconstruction is likely stuck (wrong first probe, positions or geometry). Try a probe from the "
                 "optics (--probe-model aperture), the probe search (no --probe, --probe-search on), more --modes "
                 "for a fly scan, or check the position axes (--transpose, --flip-x, --flip-y)",
                 who, last, last / floor, floor);
    else
        snprintf(buf, size,
                 "%s: the Fourier error ended at %.3e, %.0f times what photon noise leaves (%.2e), and was still "
                 "falling (%.0f %% over the last %d iterations): more --iterations may help; if it stays this high, "
                 "the first probe, positions or geometry are likely wrong (see --probe-model, --probe-search, "
                 "--transpose, --flip-x, --flip-y)",
                 who, last, last / floor, floor, 100.0 * drop_over_last_fifth(errors, n), window(n));
}
