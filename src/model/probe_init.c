/* probe_init.c - initial probe from the mean diffraction pattern. */
#include "probe_init.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

double pty_mean_frame_counts(const pty_dataset *d) { return pty_dataset_total_intensity(d) / d->n_frames; }

int pty_mean_pattern(const pty_dataset *d, double *mean)
{
    const size_t npix = (size_t)d->m * d->m;
    int *count = calloc(npix, sizeof *count);
    PTY_CHECK(count, PTY_ERR_NOMEM, "cannot allocate the mean pattern (%dx%d)", d->m, d->m);
    memset(mean, 0, npix * sizeof *mean);
    for (int j = 0; j < d->n_frames; j++) {
        const float *a = d->amplitudes + (size_t)j * npix;
        for (size_t i = 0; i < npix; i++)
            if (a[i] >= 0.0f) {
                mean[i] += (double)a[i] * a[i];
                count[i]++;
            }
    }
    for (size_t i = 0; i < npix; i++) mean[i] = count[i] ? mean[i] / count[i] : NAN;
    free(count);
    return PTY_OK;
}

int pty_probe_from_data(const pty_dataset *d, double diameter_px, pty_cf *out)
{
    const int m = d->m;
    const size_t npix = (size_t)m * m;
    if (diameter_px <= 0) diameter_px = 0.5 * m;
    double *mean = malloc(npix * sizeof *mean);
    fftwf_complex *buf = fftwf_alloc_complex(npix);
    fftwf_plan fwd = NULL, inv = NULL;
    int rc = PTY_OK;
    if (!mean || !buf) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the initial probe (%dx%d)", m, m);
        goto done;
    }
    fwd = fftwf_plan_dft_2d(m, m, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
    inv = fftwf_plan_dft_2d(m, m, buf, buf, FFTW_BACKWARD, FFTW_ESTIMATE);
    if (!fwd || !inv) {
        rc = pty_error_set(PTY_ERR_FFT, "FFTW could not plan the initial probe (%dx%d)", m, m);
        goto done;
    }
    if ((rc = pty_mean_pattern(d, mean)) != PTY_OK) goto done;
    /* soft-edged disc: its spectrum supplies a phase consistent with a
       compact, centred illumination of about the right size */
    const double rad = 0.5 * diameter_px, edge = fmax(1.0, 0.1 * rad);
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double dist = hypot(r - m / 2, c - m / 2);
            double v = 0.5 * (1.0 - tanh((dist - rad) / edge));
            buf[(size_t)r * m + c][0] = (float)v;
            buf[(size_t)r * m + c][1] = 0.0f;
        }
    fftwf_execute(fwd);
    for (size_t i = 0; i < npix; i++) {
        double mod = hypot(buf[i][0], buf[i][1]);
        double target = isnan(mean[i]) ? mod : sqrt(mean[i]);
        /* unmeasured pixels keep the model's modulus scaled later with the rest */
        double s = mod > 0 ? target / mod : 0.0;
        buf[i][0] = (float)(buf[i][0] * s);
        buf[i][1] = (float)(buf[i][1] * s);
    }
    fftwf_execute(inv);
    double power = 0.0;
    for (size_t i = 0; i < npix; i++) {
        out[i] = pty_cf_make(buf[i][0], buf[i][1]);
        power += pty_cabs2(out[i]);
    }
    /* Parseval with an unscaled forward FFT: sum_q |F P|^2 = N sum_r |P|^2 */
    double want = pty_mean_frame_counts(d) / (double)npix;
    if (!(power > 0.0) || !(want > 0.0)) {
        rc = pty_error_set(PTY_ERR_DATA, "the frames hold no counts: cannot build an initial probe");
        goto done;
    }
    float scale = (float)sqrt(want / power);
    for (size_t i = 0; i < npix; i++) {
        out[i].re *= scale;
        out[i].im *= scale;
    }
done:
    if (fwd) fftwf_destroy_plan(fwd);
    if (inv) fftwf_destroy_plan(inv);
    fftwf_free(buf);
    free(mean);
    return rc;
}
