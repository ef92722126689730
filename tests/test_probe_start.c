/* test_probe_start.c - the pieces behind the first probe and the
 * convergence verdict: the lens pupil's geometry and refusals, the pupil
 * probe against a direct Fresnel propagation, the noise floor, and the
 * stalled / still-falling / converged judgement. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convergence.h"
#include "dataset.h"
#include "probe_model.h"
#include "pty_error.h"
#include "pty_test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static void lens_geometry(void)
{
    /* A = 80 um, f = 0.1 m, z = 2 m, p = 75 um: a = A z / (2 f p) = 10.667 px;
       dz = 1 mm at 8 keV (lambda = 1.5498e-10 m): c = -pi dz p^2 / (lambda z^2) */
    const double lambda = 1.5498024804150033e-10;
    pty_lens lens = {80e-6, 0.1, 1e-3};
    double a = 0, c = 0;
    int rc = pty_lens_pupil(&lens, 64, lambda, 2.0, 75e-6, &a, &c);
    PTY_TEST("lens pupil: accepted", rc == PTY_OK);
    PTY_TEST("lens pupil: radius A z / (2 f p)", fabs(a - 80e-6 * 2.0 / (2 * 0.1 * 75e-6)) < 1e-9);
    PTY_TEST("lens pupil: curvature -pi dz p^2 / (lambda z^2)",
             fabs(c + M_PI * 1e-3 * 75e-6 * 75e-6 / (lambda * 4.0)) < 1e-12);
    /* the spot 2 m |c| a / pi equals A |dz| / f in object pixels dx = lambda z / (m p) */
    const double dx = lambda * 2.0 / (64 * 75e-6);
    PTY_TEST("lens pupil: geometric spot A |dz| / f", fabs(2 * 64 * fabs(c) * a / M_PI - 80e-6 * 1e-3 / 0.1 / dx) < 1e-6);
    lens.defocus_m = 1.0;
    rc = pty_lens_pupil(&lens, 64, lambda, 2.0, 75e-6, &a, &c);
    PTY_TEST("lens pupil: a beam wider than the window is refused by flag",
             rc == PTY_ERR_ARG && strstr(pty_error_message(), "--probe-defocus 1 m makes a beam"));
    pty_lens wide = {8e-3, 0.1, 0.0};
    rc = pty_lens_pupil(&wide, 64, lambda, 2.0, 75e-6, &a, &c);
    PTY_TEST("lens pupil: a cone wider than the detector is refused by flag",
             rc == PTY_ERR_ARG && strstr(pty_error_message(), "--probe-aperture 0.008 m"));
    rc = pty_lens_pupil(&lens, 64, 0.0, 2.0, 75e-6, &a, &c);
    PTY_TEST("lens pupil: no energy is refused, naming what is missing",
             rc == PTY_ERR_ARG && strstr(pty_error_message(), "needs the energy"));
}

/* The pupil probe against a direct sum: the inverse DFT (2m grid, cropped)
 * of a disc with phase c q^2 at a few pixels. */
static void pupil_probe_direct(void)
{
    const int m = 32;
    const double a = 6.0, c = 0.05;
    pty_cf *p = malloc((size_t)m * m * sizeof *p);
    int rc = pty_probe_pupil(NULL, m, a, c, p);
    PTY_TEST("pupil probe: built", rc == PTY_OK);
    double worst = 0.0, peak = 0.0;
    for (size_t i = 0; i < (size_t)m * m; i++) peak = fmax(peak, sqrt(pty_cabs2(p[i])));
    const int pts[3][2] = {{16, 16}, {12, 20}, {3, 29}};
    for (int t = 0; t < 3; t++) {
        const int y = pts[t][0] - m / 2, x = pts[t][1] - m / 2, n = 2 * m;
        double complex sum = 0;
        for (int u = -m; u < m; u++)
            for (int v = -m; v < m; v++) {
                const double q = hypot(u, v) / 2.0; /* frame pixels */
                const double w = fmin(1.0, fmax(0.0, 2.0 * (a - q) + 0.5));
                if (w > 0) sum += w * cexp(I * (c * q * q + 2 * M_PI * ((double)u * y + (double)v * x) / n));
            }
        /* FFTW's backward transform is unscaled, and so is the pupil probe */
        const pty_cf got = p[(size_t)pts[t][0] * m + pts[t][1]];
        worst = fmax(worst, cabs(sum - (got.re + I * got.im)));
    }
    printf("        pupil probe: largest difference %.2e of the peak %.3g\n", worst / peak, peak);
    PTY_TEST("pupil probe: equals the direct inverse DFT of the defocused disc (1e-5 of the peak)",
             worst < 1e-5 * peak);
    free(p);
}

static void noise_floor(void)
{
    pty_dataset *d = NULL;
    PTY_TEST("noise floor: dataset", pty_dataset_create(1, 2, &d) == PTY_OK);
    /* counts 100, 1, 0.04 and a masked pixel: floor (0.25 + 0.25 + 0.04) / 101.04 */
    const float amp[4] = {10.0f, 1.0f, 0.2f, PTY_MASKED};
    memcpy(d->amplitudes, amp, sizeof amp);
    double total = 0.0;
    PTY_TEST("noise floor: sum min(I, 1/4) / sum I over unmasked pixels",
             fabs(pty_dataset_noise_floor(d, &total) - 0.54 / 101.04) < 1e-6);
    PTY_TEST("noise floor: the same pass gives the total intensity", total == pty_dataset_total_intensity(d));
    pty_dataset_destroy(d);
}

static void judge(void)
{
    double e[100];
    for (int i = 0; i < 100; i++) e[i] = 0.02 + 0.04 * exp(-i / 10.0); /* levels off at 0.02 */
    PTY_TEST("convergence: flat far above the floor is stalled", pty_convergence_judge(e, 100, 1e-3) == PTY_STALLED);
    PTY_TEST("convergence: flat near the floor is converged", pty_convergence_judge(e, 100, 0.01) == PTY_CONVERGED);
    for (int i = 0; i < 100; i++) e[i] = 0.06 * exp(-i / 60.0); /* still falling 28 % over 20 iterations */
    PTY_TEST("convergence: falling far above the floor is still falling",
             pty_convergence_judge(e, 100, 1e-3) == PTY_STILL_FALLING);
    PTY_TEST("convergence: fewer than 20 iterations are not judged",
             pty_convergence_judge(e, 19, 1e-6) == PTY_CONVERGED);
    char line[768];
    for (int i = 0; i < 100; i++) e[i] = 0.022;
    pty_convergence_advice(PTY_STALLED, e, 100, 1e-3, "rank 3's block", line, sizeof line);
    PTY_TEST("convergence: the advice names who, the error, the multiple of the floor and what to try",
             strstr(line, "rank 3's block: the Fourier error stopped falling at 2.200e-02, 22 times") &&
                 strstr(line, "--probe-model aperture"));
}

int main(void)
{
    lens_geometry();
    pupil_probe_direct();
    noise_floor();
    judge();
    return pty_test_report();
}
