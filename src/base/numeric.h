/* numeric.h - small numerical helpers below the fits in compare.c and
 * stitch/merge.c: a double-precision complex for the sums and DFT kernels of
 * registration (the images themselves stay pty_cf), reflected indices, the
 * damped normal-equation solver and the ramp refinement.
 *
 * A struct, not C99 double complex, for the reason pty_pixel.h gives: the
 * headers must also compile as C++ (and CUDA), and one complex type family
 * reads more plainly than two.  The products are written out as C99's
 * complex multiply computes them (re = ac - bd, im = ad + bc), so code moved
 * from double complex to pty_cd gives the same bits. */
#ifndef PTY_NUMERIC_H
#define PTY_NUMERIC_H

#include <math.h>

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_cd {
    double re, im;
} pty_cd;

static inline pty_cd pty_cd_make(double re, double im)
{
    pty_cd z;
    z.re = re;
    z.im = im;
    return z;
}

/* The single-precision value, exactly. */
static inline pty_cd pty_cd_of(pty_cf z) { return pty_cd_make(z.re, z.im); }

static inline pty_cd pty_cd_add(pty_cd a, pty_cd b) { return pty_cd_make(a.re + b.re, a.im + b.im); }

static inline pty_cd pty_cd_mul(pty_cd a, pty_cd b)
{
    return pty_cd_make(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

/* exp(i x) */
static inline pty_cd pty_cd_expi(double x) { return pty_cd_make(cos(x), sin(x)); }

static inline double pty_cd_abs(pty_cd a) { return hypot(a.re, a.im); }

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
