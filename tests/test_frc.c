/* test_frc.c - Fourier ring correlation against what theory says it must be.
 *
 * Two images that share a white signal of power S and carry independent
 * white noise of power N each correlate at S / (S + N) in every ring (the
 * expectation of |sum A conj(B)| / sqrt(sum|A|^2 sum|B|^2) for large rings),
 * so S = N gives 0.5 and S = 3N gives 0.75; an image against itself gives 1
 * and never crosses a threshold; independent noise gives about 1/sqrt(n)
 * per ring, below the half-bit curve.  A low-pass signal (a Gaussian blur of
 * white noise) plus white noise crosses where the signal's spectrum falls
 * to the noise's, which is computed here in closed form. */
#include <math.h>
#include <stdlib.h>

#include "frc.h"
#include "pty_test.h"
#include "rng.h"

#define H 96
#define W 80

static double mean_frc(const pty_frc_curve *c, int k0, int k1)
{
    double s = 0;
    for (int k = k0; k < k1; k++) s += c->frc[k];
    return s / (k1 - k0);
}

/* a = s + n1, b = s + n2 with Var(s) = ps, Var(n) = pn (complex, per component half) */
static void pair(pty_rng *r, double ps, double pn, pty_cf *a, pty_cf *b)
{
    const double ss = sqrt(ps / 2), sn = sqrt(pn / 2);
    for (int i = 0; i < H * W; i++) {
        const double sr = ss * pty_rng_normal(r), si = ss * pty_rng_normal(r);
        a[i] = pty_cf_make((float)(sr + sn * pty_rng_normal(r)), (float)(si + sn * pty_rng_normal(r)));
        b[i] = pty_cf_make((float)(sr + sn * pty_rng_normal(r)), (float)(si + sn * pty_rng_normal(r)));
    }
}

int main(void)
{
    pty_cf *a = malloc(sizeof *a * H * W), *b = malloc(sizeof *b * H * W);
    pty_rng r;
    pty_rng_seed(&r, 5);
    pty_frc_curve c;

    pair(&r, 1.0, 1.0, a, b);
    PTY_TEST("S = N: computed", pty_frc(a, b, H, W, &c) == 0 && c.size == 96 && c.n_rings == 49);
    double m = mean_frc(&c, 5, c.n_rings);
    printf("        S = N: mean FRC over rings 5..48 = %.4f (theory 0.5)\n", m);
    PTY_TEST("S = N: FRC 0.5 +- 0.03", fabs(m - 0.5) < 0.03);
    pty_frc_free(&c);

    pair(&r, 3.0, 1.0, a, b);
    pty_frc(a, b, H, W, &c);
    m = mean_frc(&c, 5, c.n_rings);
    printf("        S = 3N: mean FRC = %.4f (theory 0.75)\n", m);
    PTY_TEST("S = 3N: FRC 0.75 +- 0.03", fabs(m - 0.75) < 0.03);
    PTY_TEST("S = 3N: above both thresholds to Nyquist", c.cross_half_bit == 0.5 && c.cross_one_seventh == 0.5);
    pty_frc_free(&c);

    pty_frc(a, a, H, W, &c);
    PTY_TEST("an image against itself: FRC 1 everywhere", mean_frc(&c, 0, c.n_rings) > 1 - 1e-9);
    pty_frc_free(&c);

    pair(&r, 0.0, 1.0, a, b);
    pty_frc(a, b, H, W, &c);
    m = mean_frc(&c, 5, c.n_rings);
    printf("        independent noise: mean FRC = %.4f, first half-bit crossing %.4f cycles/px\n", m,
           c.cross_half_bit);
    PTY_TEST("independent noise: FRC small (< 0.15) and crosses the half-bit curve at once",
             m < 0.15 && c.cross_half_bit < 2.0 / c.size);
    pty_frc_free(&c);

    /* low-pass signal: white noise blurred by a Gaussian of sigma px has the power
       spectrum 2 exp(-(2 pi sigma f)^2) per pixel; FRC = S / (S + N) = 1/7 where S(f) = N / 6 */
    {
        const double sigma = 1.5;
        pty_cf *s = malloc(sizeof *s * H * W), *t = malloc(sizeof *t * H * W);
        for (int i = 0; i < H * W; i++)
            s[i] = pty_cf_make((float)pty_rng_normal(&r), (float)pty_rng_normal(&r));
        /* separable Gaussian blur, periodic */
        const int R = 8;
        double kern[2 * 8 + 1], ks = 0;
        for (int d = -R; d <= R; d++) ks += kern[d + R] = exp(-d * d / (2 * sigma * sigma));
        for (int d = 0; d <= 2 * R; d++) kern[d] /= ks;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double re = 0, im = 0;
                for (int d = -R; d <= R; d++) {
                    pty_cf v = s[i * W + (j + d + W) % W];
                    re += kern[d + R] * v.re, im += kern[d + R] * v.im;
                }
                t[i * W + j] = pty_cf_make((float)re, (float)im);
            }
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double re = 0, im = 0;
                for (int d = -R; d <= R; d++) {
                    pty_cf v = t[((i + d + H) % H) * W + j];
                    re += kern[d + R] * v.re, im += kern[d + R] * v.im;
                }
                s[i * W + j] = pty_cf_make((float)re, (float)im);
            }
        /* per-pixel signal spectrum: 2 exp(-(2 pi sigma f)^2) (2 = complex variance); noise pn per pixel */
        const double pn = 0.02;
        const double sn = sqrt(pn / 2);
        for (int i = 0; i < H * W; i++) {
            a[i] = pty_cf_make((float)(s[i].re + sn * pty_rng_normal(&r)), (float)(s[i].im + sn * pty_rng_normal(&r)));
            b[i] = pty_cf_make((float)(s[i].re + sn * pty_rng_normal(&r)), (float)(s[i].im + sn * pty_rng_normal(&r)));
        }
        /* S(f) = N/6: 2 exp(-(2 pi sigma f)^2) = pn / 6 */
        const double f_expect = sqrt(log(2.0 * 6.0 / pn)) / (2 * 3.14159265358979323846 * sigma);
        pty_frc(a, b, H, W, &c);
        printf("        blurred signal (sigma %.1f px) + noise: 1/7 crossing %.4f cycles/px (theory %.4f), "
               "half-bit %.4f\n", sigma, c.cross_one_seventh, f_expect, c.cross_half_bit);
        PTY_TEST("blurred signal: the 1/7 crossing within 10 % of theory",
                 fabs(c.cross_one_seventh - f_expect) < 0.1 * f_expect);
        PTY_TEST("blurred signal: a half-bit crossing between half the 1/7 theory and Nyquist",
                 c.cross_half_bit > 0.5 * f_expect && c.cross_half_bit < 0.5);
        pty_frc_free(&c);
        free(s);
        free(t);
    }

    PTY_TEST("bad sizes refused", pty_frc(a, b, 4, 4, &c) != 0);
    a[7].re = NAN;
    PTY_TEST("non-finite values refused", pty_frc(a, b, H, W, &c) != 0);
    free(a);
    free(b);
    return pty_test_report();
}
