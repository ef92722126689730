/* numeric.h - two small numerical tools shared by the fits in compare.c
 * (reconstruction vs truth) and stitch/merge.c (partial vs partial). */
#ifndef PTY_NUMERIC_H
#define PTY_NUMERIC_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index q reflected into [0, n), half-sample symmetric, so a window that
 * overhangs an image continues it without a jump. */
static inline long long pty_reflect(long long q, long long n)
{
    long long period = 2 * n;
    q %= period;
    if (q < 0) q += period;
    return q < n ? q : period - 1 - q;
}

/* Solve the n x n (n <= 6) normal equations a x = b of a Gauss-Newton step,
 * Jacobi-scaled and lightly damped, so that a direction the data do not
 * determine (a shift along featureless stripes) gets 0.  a and b are
 * overwritten. */
void pty_solve_damped(double a[6][6], double b[6], int n, double x[6]);

/* Refine a ramp k1 (rad/px, from a DFT peak) of p (h x w): remove it from p
 * in place, then k = k1 + the plane fitted to what is left, whose phase no
 * longer wraps. */
void pty_refine_ramp(pty_cf *p, int h, int w, const double k1[2], double k[2]);

/* Add to slope[] the |p|-weighted least-squares plane through the phase of
 * p (h x w) relative to (ref_re, ref_im): phi(i, j) ≈ a + slope0 i + slope1 j,
 * phi = arg(p conj(ref)).  Used after a ramp's DFT peak has been removed,
 * when phi no longer wraps; nothing is added for a degenerate layout. */
void pty_phase_plane_add(const pty_cf *p, int h, int w, double ref_re, double ref_im, double slope[2]);

#ifdef __cplusplus
}
#endif
#endif /* PTY_NUMERIC_H */
