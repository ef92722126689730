/* test_modes.c - eigen-orthogonalisation keeps the incoherent intensity,
 * yields orthogonal modes sorted by power, and ignores the input order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "pty_test.h"

static void random_modes(pty_cf *p, int K, size_t npix, uint64_t seed)
{
    pty_rng r;
    pty_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)K * npix; i++) p[i] = pty_cf_make((float)pty_rng_normal(&r), (float)pty_rng_normal(&r));
}

static double max_offdiag_rel(const pty_cf *p, int K, size_t npix, double *powers)
{
    double worst = 0;
    for (int k = 0; k < K; k++) {
        for (int l = 0; l < K; l++) {
            double re = 0, im = 0;
            for (size_t i = 0; i < npix; i++) {
                pty_cf a = p[k * npix + i], b = p[l * npix + i];
                re += (double)a.re * b.re + (double)a.im * b.im;
                im += (double)a.im * b.re - (double)a.re * b.im;
            }
            if (k == l) powers[k] = re;
            else worst = fmax(worst, hypot(re, im));
        }
    }
    return worst / powers[0];
}

int main(void)
{
    const int K = 5;
    const size_t npix = 32 * 32;
    pty_cf *p = malloc(K * npix * sizeof *p), *q = malloc(K * npix * sizeof *q);
    double power[5], check[5];
    random_modes(p, K, npix, 7);
    double *intensity = calloc(npix, sizeof *intensity);
    for (int k = 0; k < K; k++)
        for (size_t i = 0; i < npix; i++) intensity[i] += pty_cabs2(p[k * npix + i]);

    PTY_TEST("orthogonalize succeeds", pty_modes_orthogonalize(p, K, npix, power) == 0);
    PTY_TEST("modes are orthogonal (off-diagonal Gram < 1e-5 of top power)", max_offdiag_rel(p, K, npix, check) < 1e-5);
    int sorted = 1, match = 1;
    for (int k = 0; k < K; k++) {
        if (k > 0 && power[k] > power[k - 1]) sorted = 0;
        if (fabs(power[k] - check[k]) > 1e-4 * power[0]) match = 0;
    }
    PTY_TEST("modes sorted by decreasing power", sorted);
    PTY_TEST("reported powers equal the modes' powers", match);
    double worst = 0;
    for (size_t i = 0; i < npix; i++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += pty_cabs2(p[k * npix + i]);
        worst = fmax(worst, fabs(s - intensity[i]) / (intensity[i] + 1e-12));
    }
    PTY_TEST("incoherent intensity sum_k |P_k|^2 kept per pixel (rel 1e-4)", worst < 1e-4);

    /* same modes in reverse order must give the same powers */
    random_modes(q, K, npix, 7);
    pty_cf *rev = malloc(K * npix * sizeof *rev);
    for (int k = 0; k < K; k++) memcpy(rev + k * npix, q + (K - 1 - k) * npix, npix * sizeof *rev);
    double power_rev[5];
    pty_modes_orthogonalize(rev, K, npix, power_rev);
    int same = 1;
    for (int k = 0; k < K; k++)
        if (fabs(power_rev[k] - power[k]) > 1e-4 * power[0]) same = 0;
    PTY_TEST("result independent of mode order", same);

    /* seeding: extra modes get the requested fraction and survive orthogonalisation */
    const int m = 32;
    pty_cf *s = calloc(3 * npix, sizeof *s);
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double d2 = (r - 16.0) * (r - 16.0) + (c - 16.0) * (c - 16.0);
            s[r * m + c] = pty_cf_make((float)exp(-d2 / 40.0), 0.0f);
        }
    pty_rng rng;
    pty_rng_seed(&rng, 3);
    double share[3];
    PTY_TEST("seeding succeeds", pty_modes_seed(s, 3, m, 0.05f, &rng) == 0);
    pty_modes_power_share(s, 3, npix, share);
    PTY_TEST("seeded extra modes hold a few per cent each", share[1] > 0.02 && share[1] < 0.08 && share[2] > 0.02);
    free(p);
    free(q);
    free(rev);
    free(s);
    free(intensity);
    return pty_test_report();
}
