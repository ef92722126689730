/* rng.c - xoshiro256** (Blackman & Vigna) with normal, Poisson and permutations. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pty_rng_seed(pty_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t pty_rng_next(pty_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double pty_rng_uniform(pty_rng *r) { return (double)(pty_rng_next(r) >> 11) * 0x1.0p-53; }

double pty_rng_normal(pty_rng *r)
{
    double u1 = pty_rng_uniform(r), u2 = pty_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double pty_rng_poisson(pty_rng *r, double lambda)
{
    if (lambda <= 0.0) return 0.0;
    if (lambda < 30.0) {
        /* Knuth: multiply uniforms until below exp(-lambda) */
        double l = exp(-lambda), p = 1.0;
        int k = 0;
        do {
            k++;
            p *= pty_rng_uniform(r);
        } while (p > l);
        return k - 1;
    }
    /* Hörmann's PTRS transformed rejection, exact for lambda >= 10 */
    double slam = sqrt(lambda), loglam = log(lambda);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = pty_rng_uniform(r) - 0.5, v = pty_rng_uniform(r);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= vr) return k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - lgamma(k + 1)) return k;
    }
}

void pty_rng_permutation(pty_rng *r, int *perm, int n)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(pty_rng_uniform(r) * (i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
