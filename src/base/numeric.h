/* numeric.h - small numerical helpers: a double-precision complex for sums,
 * DFT kernels and small matrices (registration, resampling, the probe modes'
 * eigenproblem; images themselves stay pty_cf), and reflected indices.
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

static inline pty_cd pty_cd_conj(pty_cd a) { return pty_cd_make(a.re, -a.im); }

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

#ifdef __cplusplus
}
#endif
#endif /* PTY_NUMERIC_H */
