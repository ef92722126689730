/* test_subpixel.c - the sub-pixel probe shift of pty_pixel.h
 * (pty_shift_factor): a Gaussian probe moved by a fractional offset through
 * its spectrum equals the Gaussian evaluated at the moved centre, the shift
 * by f then by -f gives the probe back to float precision (the factors
 * have modulus 1: unitary), and a whole-pixel shift is an exact roll. */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>

#include "pty_pixel.h"
#include "pty_test.h"

#define M 64

static void gaussian(pty_cf *p, double r0, double c0, double fwhm)
{
    const double s2 = 2.0 * pow(fwhm / 2.3548200450309493, 2);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            const double d2 = (i - r0) * (i - r0) + (j - c0) * (j - c0);
            /* a phase tilt too, so the complex factors are exercised */
            const double a = exp(-d2 / s2), ph = 0.05 * (i - r0) - 0.03 * (j - c0);
            p[i * M + j] = pty_cf_make((float)(a * cos(ph)), (float)(a * sin(ph)));
        }
}

static void shift(fftwf_plan fwd, fftwf_plan inv, pty_cf *p, float fr, float fc)
{
    fftwf_execute_dft(fwd, (fftwf_complex *)p, (fftwf_complex *)p);
    for (int u = 0; u < M; u++) {
        const pty_cf a = pty_shift_factor(u, M, fr);
        for (int v = 0; v < M; v++) p[u * M + v] = pty_cmul(pty_cmul(p[u * M + v], a), pty_shift_factor(v, M, fc));
    }
    fftwf_execute_dft(inv, (fftwf_complex *)p, (fftwf_complex *)p);
    for (int i = 0; i < M * M; i++) p[i] = pty_cf_make(p[i].re / (M * M), p[i].im / (M * M));
}

static double rel_error(const pty_cf *a, const pty_cf *b)
{
    double e = 0, n = 0;
    for (int i = 0; i < M * M; i++) {
        const double dr = a[i].re - b[i].re, di = a[i].im - b[i].im;
        e += dr * dr + di * di;
        n += pty_cabs2(b[i]);
    }
    return sqrt(e / n);
}

int main(void)
{
    pty_cf *p = (pty_cf *)fftwf_alloc_complex(M * M);
    pty_cf *want = malloc(sizeof *want * M * M), *orig = malloc(sizeof *orig * M * M);
    fftwf_plan fwd = fftwf_plan_dft_2d(M, M, (fftwf_complex *)p, (fftwf_complex *)p, FFTW_FORWARD, FFTW_ESTIMATE);
    fftwf_plan inv = fftwf_plan_dft_2d(M, M, (fftwf_complex *)p, (fftwf_complex *)p, FFTW_BACKWARD, FFTW_ESTIMATE);
    const float f[][2] = {{0.3f, -0.4f}, {-0.5f, 0.5f}, {0.0f, 0.25f}, {0.49f, 0.01f}};
    double worst = 0, worst_back = 0;
    for (int t = 0; t < 4; t++) {
        gaussian(p, 32, 32, 14);
        gaussian(orig, 32, 32, 14);
        gaussian(want, 32 + f[t][0], 32 + f[t][1], 14);
        shift(fwd, inv, p, f[t][0], f[t][1]);
        worst = fmax(worst, rel_error(p, want));
        shift(fwd, inv, p, -f[t][0], -f[t][1]);
        worst_back = fmax(worst_back, rel_error(p, orig));
    }
    printf("        Gaussian FWHM 14 px moved by up to half a pixel: worst relative error %.2e; and back %.2e\n",
           worst, worst_back);
    PTY_TEST("a fractional shift moves a compact probe to its new centre (< 1e-4)", worst < 1e-4);
    PTY_TEST("the shift by f then -f gives the probe back (unitary, < 1e-5)", worst_back < 1e-5);
    gaussian(p, 32, 32, 14);
    gaussian(orig, 32, 32, 14);
    shift(fwd, inv, p, 1.0f, -2.0f);
    double roll = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            const pty_cf a = p[i * M + j], b = orig[((i - 1 + M) % M) * M + (j + 2) % M];
            roll = fmax(roll, hypot(a.re - b.re, a.im - b.im));
        }
    PTY_TEST("a whole-pixel shift is a roll (max difference < 1e-5)", roll < 1e-5);
    double off_unit = 0;
    for (int q = 0; q < M; q++) {
        const pty_cf a = pty_shift_factor(q, M, 0.37f);
        off_unit = fmax(off_unit, fabs(hypot(a.re, a.im) - 1.0));
    }
    PTY_TEST("every factor has modulus 1, the Nyquist bin's too (within 1e-6)", off_unit < 1e-6);
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
    fftwf_free(p);
    free(want);
    free(orig);
    return pty_test_report();
}
