/* rng.h - small, fast, reproducible random numbers (xoshiro256**,
 * seeded by splitmix64), the same on every platform, so the same seed gives
 * the same simulated file and the same reconstruction. */
#ifndef PTY_RNG_H
#define PTY_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_rng {
    uint64_t s[4];
} pty_rng;

void pty_rng_seed(pty_rng *r, uint64_t seed);
uint64_t pty_rng_next(pty_rng *r);
/* uniform in [0, 1) with 53 random bits */
double pty_rng_uniform(pty_rng *r);
/* standard normal (Box-Muller) */
double pty_rng_normal(pty_rng *r);
/* Poisson with mean lambda >= 0 (exact for small lambda, PTRS for large) */
double pty_rng_poisson(pty_rng *r, double lambda);
/* random permutation of 0..n-1 into perm (Fisher-Yates) */
void pty_rng_permutation(pty_rng *r, int *perm, int n);

#ifdef __cplusplus
}
#endif
#endif /* PTY_RNG_H */
