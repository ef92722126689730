/* test_register.c - sub-pixel registration, Fourier shifts, phase ramps,
 * probe width and the reconstruction-vs-truth NRMSE.
 *
 * Test images are smooth random complex fields with some sharp-edged
 * structure (a disk, a phase step), low-pass filtered so they are band-limited
 * and periodic: then a Fourier shift is exact and the known shifts are the
 * right answers, not approximations of them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "compare.h"
#include "pty_error.h"
#include "pty_test.h"
#include "test_images.h"
#include "register.h"
#include "rng.h"

static const double pi = 3.14159265358979323846;


/* Amplitude 0.7..1.3 with a brighter disk, phase +-1.5 rad with a 1 rad step. */
static pty_cf *make_object(int h, int w, uint64_t seed)
{
    pty_rng r;
    pty_rng_seed(&r, seed);
    pty_cf *a = malloc(sizeof *a * (size_t)h * w), *out = malloc(sizeof *out * (size_t)h * w);
    for (size_t i = 0; i < (size_t)h * w; i++) a[i] = pty_cf_make((float)pty_rng_normal(&r), (float)pty_rng_normal(&r));
    lowpass(a, h, w, 0.05);
    double rms = 0;
    for (size_t i = 0; i < (size_t)h * w; i++) rms += pty_cabs2(a[i]);
    rms = sqrt(rms / ((double)h * w));
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            pty_cf v = a[(size_t)i * w + j];
            double di = i - 0.3 * h, dj = j - 0.6 * w;
            double amp = 1.0 + 0.3 * tanh(v.re / rms) + (di * di + dj * dj < 0.02 * h * w ? 0.3 : 0.0);
            double ph = 1.5 * tanh(v.im / rms) + (i > h / 2 && j > w / 3 && j < 2 * w / 3 ? 1.0 : 0.0);
            out[(size_t)i * w + j] = pty_cf_make((float)(amp * cos(ph)), (float)(amp * sin(ph)));
        }
    lowpass(out, h, w, 0.1); /* ~4e-6 left at Nyquist */
    free(a);
    return out;
}

static pty_cf *copy_of(const pty_cf *a, size_t n)
{
    pty_cf *b = malloc(sizeof *b * n);
    memcpy(b, a, sizeof *b * n);
    return b;
}

static double max_diff(const pty_cf *a, const pty_cf *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, hypot(a[i].re - b[i].re, a[i].im - b[i].im));
    return m;
}

/* Register a shifted (and phase-offset) copy; returns the worst shift error. */
static double check_shift(const pty_cf *img, int h, int w, double dr, double dc, double phase, pty_registration *reg)
{
    size_t n = (size_t)h * w;
    pty_cf *mov = copy_of(img, n);
    pty_shift_image(mov, h, w, dr, dc);
    pty_cf rot = pty_cf_make((float)cos(phase), (float)sin(phase));
    for (size_t i = 0; i < n; i++) mov[i] = pty_cmul(mov[i], rot);
    int rc = pty_register(img, mov, h, w, 20, reg);
    free(mov);
    if (rc != PTY_OK) return INFINITY;
    printf("        shift (%.3f, %.3f) -> (%.5f, %.5f), phase %.5f, error %.2e\n", dr, dc, reg->shift[0],
           reg->shift[1], reg->phase, reg->error);
    return fmax(fabs(reg->shift[0] - dr), fabs(reg->shift[1] - dc));
}

static void test_registration(void)
{
    const int h = 96, w = 96;
    size_t n = (size_t)h * w;
    pty_cf *img = make_object(h, w, 11);
    pty_registration reg;

    double e1 = check_shift(img, h, w, 0.3, -2.7, 0.0, &reg);
    printf("        |error| = %.2e px\n", e1);
    PTY_TEST("shift (0.3, -2.7) recovered within 0.05 px at upsample 20", e1 < 0.05);
    PTY_TEST("registration error of an exact shifted copy < 1e-3", reg.error < 1e-3);
    double e2 = check_shift(img, h, w, 5.25, -1.6, 0.7, &reg);
    printf("        |error| = %.2e px\n", e2);
    PTY_TEST("shift (5.25, -1.6) recovered within 0.05 px", e2 < 0.05);
    PTY_TEST("constant phase offset 0.7 rad recovered within 0.01 rad", fabs(reg.phase - 0.7) < 0.01);
    PTY_TEST("sub-pixel accuracy is well below the 1/20 px grid (< 0.005 px)", fmax(e1, e2) < 0.005);
    double e3 = check_shift(img, h, w, -40.6, 33.45, -2.0, &reg);
    PTY_TEST("large shift (-40.6, 33.45) recovered within 0.05 px", e3 < 0.05);
    PTY_TEST("phase offset -2.0 rad recovered within 0.01 rad", fabs(reg.phase + 2.0) < 0.01);

    /* odd, non-square, not a power of two */
    pty_cf *odd = make_object(75, 90, 12);
    double e4 = check_shift(odd, 75, 90, -3.4, 7.15, 0.2, &reg);
    PTY_TEST("75 x 90 image: shift (-3.4, 7.15) within 0.05 px", e4 < 0.05);
    free(odd);

    /* noisy copy: 10% complex noise per pixel */
    pty_rng r;
    pty_rng_seed(&r, 5);
    pty_cf *noisy = copy_of(img, n);
    pty_shift_image(noisy, h, w, 1.37, 0.61);
    for (size_t i = 0; i < n; i++) {
        noisy[i].re += (float)(0.1 * pty_rng_normal(&r) / sqrt(2.0));
        noisy[i].im += (float)(0.1 * pty_rng_normal(&r) / sqrt(2.0));
    }
    PTY_TEST("noisy copy registers", pty_register(img, noisy, h, w, 20, &reg) == PTY_OK);
    printf("        noisy: (%.4f, %.4f), error %.3f\n", reg.shift[0], reg.shift[1], reg.error);
    PTY_TEST("noisy copy: shift within 0.05 px", fabs(reg.shift[0] - 1.37) < 0.05 && fabs(reg.shift[1] - 0.61) < 0.05);
    free(noisy);

    pty_cf *other = make_object(h, w, 99);
    PTY_TEST("unrelated images register without failing", pty_register(img, other, h, w, 20, &reg) == PTY_OK);
    printf("        unrelated images: registration error %.3f\n", reg.error);
    PTY_TEST("unrelated images give a large registration error (> 0.5)", reg.error > 0.5);
    free(other);

    /* shift_image: integer shifts are rolls; +d then -d returns the image */
    pty_cf *a = copy_of(img, n);
    pty_shift_image(a, h, w, 3, -5);
    PTY_TEST("integer shift is an exact roll (to 1e-5)",
             max_diff(a + 3 * w, img + 5, 1) < 1e-5 && hypot(a[(size_t)10 * w + 20].re - img[(size_t)7 * w + 25].re,
                                                             a[(size_t)10 * w + 20].im - img[(size_t)7 * w + 25].im) < 1e-5);
    memcpy(a, img, sizeof *a * n);
    pty_shift_image(a, h, w, 0.37, -1.81);
    pty_shift_image(a, h, w, -0.37, 1.81);
    PTY_TEST("shift by d then -d restores the image (to 1e-4)", max_diff(a, img, n) < 1e-4);
    free(a);

    double k[2], v[2];
    pty_cf *ramp = copy_of(img, n);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double ph = 0.21 * i - 0.087 * j, a2 = pty_cabs2(img[(size_t)i * w + j]);
            ramp[(size_t)i * w + j] = pty_cf_make((float)(a2 * cos(ph)), (float)(a2 * sin(ph)));
        }
    PTY_TEST("find_ramp runs", pty_find_ramp(ramp, h, w, 20, k, v) == PTY_OK);
    printf("        ramp (0.21, -0.087) -> (%.5f, %.5f)\n", k[0], k[1]);
    PTY_TEST("phase ramp of |img|^2 exp(i K.r) found within 1e-4 rad/px", fabs(k[0] - 0.21) < 1e-4 && fabs(k[1] + 0.087) < 1e-4);
    free(ramp);

    PTY_TEST("zero image refused", pty_register(img, (pty_cf[1]){{0, 0}}, 1, 1, 20, &reg) == PTY_ERR_DATA);
    PTY_TEST("upsample 0 refused", pty_register(img, img, h, w, 0, &reg) == PTY_ERR_ARG);
    free(img);
}

static void test_probe_width(void)
{
    const int m = 64;
    const double a = 6.0; /* amplitude exp(-r^2/(2 a^2)): 90% power within r = a sqrt(ln 10) */
    pty_cf *p = calloc((size_t)2 * m * m, sizeof *p);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double r2 = (i - m / 2) * (i - m / 2) + (j - m / 2) * (j - m / 2);
            p[(size_t)i * m + j] = pty_cf_make((float)(0.8 * exp(-r2 / (2 * a * a))), 0.0f);
            p[(size_t)m * m + (size_t)i * m + j] = pty_cf_make(0.0f, (float)(0.6 * exp(-r2 / (2 * a * a))));
        }
    double wdt = pty_probe_width(p, 2, m), expect = 2 * a * sqrt(log(10.0));
    printf("        gaussian probe width %.3f px (continuous value %.3f)\n", wdt, expect);
    PTY_TEST("probe width of a Gaussian within 0.5 px of 2 a sqrt(ln 10)", fabs(wdt - expect) < 0.5);
    memset(p, 0, sizeof *p * (size_t)m * m);
    PTY_TEST("probe width of a probe without power is 0", pty_probe_width(p, 1, m) == 0.0);
    free(p);
}

static void test_compare(void)
{
    /* truth = crop of a periodic field B at (20, 24); reconstruction = G e^{iK.q} B(q - s) on the whole grid */
    const int bh = 160, bw = 150, th = 100, tw = 90;
    pty_cf *big = make_object(bh, bw, 21);
    pty_cf *truth = malloc(sizeof *truth * (size_t)th * tw);
    for (int i = 0; i < th; i++) memcpy(truth + (size_t)i * tw, big + (size_t)(i + 20) * bw + 24, sizeof *truth * tw);
    const double s[2] = {0.37, -0.81}, K[2] = {0.03, -0.02}, G = 1.7, gph = 0.9;
    pty_cf *rec = copy_of(big, (size_t)bh * bw);
    pty_shift_image(rec, bh, bw, s[0], s[1]);
    for (int i = 0; i < bh; i++)
        for (int j = 0; j < bw; j++) {
            double ph = gph + K[0] * i + K[1] * j;
            pty_cf f = pty_cf_make((float)(G * cos(ph)), (float)(G * sin(ph)));
            rec[(size_t)i * bw + j] = pty_cmul(rec[(size_t)i * bw + j], f);
        }
    double t_origin[2] = {50, 45}, r_origin[2] = {50 + 20 + 0.25, 45 + 24 - 0.4};
    double pos[2 * 7 * 6];
    int np = 0;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 6; j++) {
            pos[2 * np] = -30 + 10 * i + 0.3 * j;
            pos[2 * np + 1] = -25 + 10 * j;
            np++;
        }
    pty_compare_result res;
    int rc = pty_compare_objects(rec, bh, bw, r_origin, truth, th, tw, t_origin, pos, np, 16.0, 20, &res);
    PTY_TEST("compare of shifted/ramped/scaled truth succeeds", rc == PTY_OK);
    if (rc != PTY_OK) printf("        %s\n", pty_error_message());
    double es[2] = {s[0] - 0.25, s[1] + 0.4};
    printf("        nrmse %.3e, shift (%.4f, %.4f) [expect (%.4f, %.4f)], ramp (%.5f, %.5f), g %.4f e^{i %.4f}, "
           "region %d %d %d %d, reg error %.2e\n",
           res.nrmse, res.shift[0], res.shift[1], es[0], es[1], res.ramp[0], res.ramp[1], res.g_abs, res.g_phase,
           res.region[0], res.region[1], res.region[2], res.region[3], res.reg_error);
    PTY_TEST("region = probe-centre bounding box + width/4", res.region[0] == 16 && res.region[1] == 16 &&
                                                                 res.region[2] == 84 - 16 + 2 && res.region[3] == 59);
    PTY_TEST("nrmse of the transformed truth < 1e-3", res.nrmse < 1e-3);
    PTY_TEST("shift recovered within 0.001 px", fabs(res.shift[0] - es[0]) < 1e-3 && fabs(res.shift[1] - es[1]) < 1e-3);
    PTY_TEST("phase ramp recovered (k = -K within 1e-4 rad/px)",
             fabs(res.ramp[0] + K[0]) < 1e-4 && fabs(res.ramp[1] + K[1]) < 1e-4);
    double rc_r = res.region[0] + (res.region[2] - 1) / 2.0, rc_c = res.region[1] + (res.region[3] - 1) / 2.0;
    double ph = -gph - K[0] * (rc_r + 20 + s[0]) - K[1] * (rc_c + 24 + s[1]);
    double dph = remainder(res.g_phase - ph, 2 * pi);
    PTY_TEST("global factor recovered (|g| = 1/G within 1e-3, phase within 1e-3 rad)",
             fabs(res.g_abs - 1 / G) < 1e-3 && fabs(dph) < 1e-3);

    /* A smooth object whose features are as large as the region: registration of
       the crops alone is biased toward zero (here by ~0.5 px), the joint fit is not. */
    {
        const int n = 120;
        pty_cf *st = malloc(sizeof *st * n * n), *sr = malloc(sizeof *sr * n * n);
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    double R = i - (pass ? 0.4 : 0.0), C = j + (pass ? 0.3 : 0.0);
                    double p = 0.05 * R + sin(0.2 * C) + 0.8 * sin(0.13 * R + 0.07 * C) * cos(0.11 * C);
                    double a = 1 + 0.3 * cos(0.17 * R) * sin(0.09 * C + 0.05 * R);
                    (pass ? sr : st)[(size_t)i * n + j] = pty_cf_make((float)(a * cos(p)), (float)(a * sin(p)));
                }
        double so[2] = {40, 40}, ro[2] = {41, 39}, sp[4] = {-10, -10, 20, 20};
        rc = pty_compare_objects(sr, n, n, ro, st, n, n, so, sp, 2, 16.0, 20, &res);
        printf("        smooth object: nrmse %.2e, shift (%.4f, %.4f) [expect (-0.6, 0.7)], initial registration "
               "error %.3f\n", res.nrmse, res.shift[0], res.shift[1], res.reg_error);
        PTY_TEST("smooth object: shift within 0.001 px and nrmse < 1e-3",
                 rc == PTY_OK && fabs(res.shift[0] + 0.6) < 1e-3 && fabs(res.shift[1] - 0.7) < 1e-3 && res.nrmse < 1e-3);
        free(st);
        free(sr);
    }

    /* the truth plus 5% complex noise, same grid */
    pty_rng r;
    pty_rng_seed(&r, 77);
    size_t tn = (size_t)th * tw;
    double rms = 0;
    for (size_t i = 0; i < tn; i++) rms += pty_cabs2(truth[i]);
    rms = sqrt(rms / tn);
    pty_cf *noisy = copy_of(truth, tn);
    for (size_t i = 0; i < tn; i++) {
        noisy[i].re += (float)(0.05 * rms * pty_rng_normal(&r) / sqrt(2.0));
        noisy[i].im += (float)(0.05 * rms * pty_rng_normal(&r) / sqrt(2.0));
    }
    rc = pty_compare_objects(noisy, th, tw, t_origin, truth, th, tw, t_origin, pos, np, 16.0, 20, &res);
    printf("        5%% noise: nrmse %.4f, shift (%.4f, %.4f)\n", res.nrmse, res.shift[0], res.shift[1]);
    PTY_TEST("truth + 5% noise: nrmse within 20% of 0.05", rc == PTY_OK && fabs(res.nrmse - 0.05) < 0.01);

    /* identical objects on the same grid, region reaching the truth's edges */
    double wide[4] = {-60, -60, 60, 60};
    rc = pty_compare_objects(truth, th, tw, t_origin, truth, th, tw, t_origin, wide, 2, 16.0, 20, &res);
    printf("        identical: nrmse %.2e, region %d %d %d %d\n", res.nrmse, res.region[0], res.region[1],
           res.region[2], res.region[3]);
    PTY_TEST("identical objects: nrmse < 1e-5 over the whole truth",
             rc == PTY_OK && res.nrmse < 1e-5 && res.region[2] == th && res.region[3] == tw);

    /* a reconstruction that does not cover the region is refused */
    double far[2] = {t_origin[0] - 40, t_origin[1]};
    rc = pty_compare_objects(truth, th, tw, far, truth, th, tw, t_origin, pos, np, 16.0, 20, &res);
    printf("        refused: %s\n", pty_error_message());
    PTY_TEST("region outside the reconstruction refused with PTY_ERR_DATA", rc == PTY_ERR_DATA);
    free(noisy);
    free(big);
    free(truth);
    free(rec);
}

int main(void)
{
    test_registration();
    test_probe_width();
    test_compare();
    return pty_test_report();
}
