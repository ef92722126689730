/* dataset.c - creation, frame loading (centring, sqrt, masking) and sums. */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

/* The dataset around `amplitudes` (NULL: allocate them), positions zeroed. */
static int dataset_alloc(int n_frames, int m, float *amplitudes, pty_dataset **out)
{
    *out = NULL;
    PTY_CHECK(n_frames > 0 && m > 0, PTY_ERR_ARG, "dataset needs at least one frame of positive size (got %d frames of %d)", n_frames, m);
    pty_dataset *d = calloc(1, sizeof *d);
    if (!d) goto fail;
    d->n_frames = n_frames;
    d->m = m;
    d->amplitudes = amplitudes ? amplitudes : malloc((size_t)n_frames * m * m * sizeof *d->amplitudes);
    d->positions = calloc((size_t)n_frames * 2, sizeof *d->positions);
    if (!d->amplitudes || !d->positions) goto fail;
    *out = d;
    return PTY_OK;
fail:
    if (d && amplitudes) d->amplitudes = NULL; /* the caller's still */
    pty_dataset_destroy(d);
    return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frames of %dx%d (%.1f GiB)", n_frames, m, m,
                         (double)n_frames * m * m * 4.0 / (1 << 30));
}

int pty_dataset_create(int n_frames, int m, pty_dataset **out) { return dataset_alloc(n_frames, m, NULL, out); }

int pty_dataset_adopt(int n_frames, int m, float *intensities, pty_dataset **out)
{
    const int rc = dataset_alloc(n_frames, m, intensities, out);
    if (rc != PTY_OK) {
        free(intensities);
        return rc;
    }
    const size_t mm = (size_t)m * m;
    float *frame = malloc(mm * sizeof *frame);
    if (!frame) {
        pty_dataset_destroy(*out);
        *out = NULL;
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate a frame of %dx%d", m, m);
    }
    for (int j = 0; j < n_frames; j++) {
        memcpy(frame, intensities + j * mm, mm * sizeof *frame);
        pty_dataset_set_frame(*out, j, frame, NULL);
    }
    free(frame);
    return PTY_OK;
}

void pty_dataset_destroy(pty_dataset *d)
{
    if (!d) return;
    free(d->amplitudes);
    free(d->positions);
    free(d->probe);
    free(d);
}

long pty_dataset_set_frame(pty_dataset *d, int j, const float *intensity, const unsigned char *mask)
{
    const int m = d->m, h = m / 2;
    float *amp = d->amplitudes + (size_t)j * m * m;
    long bad = 0, masked = 0;
    for (int r = 0; r < m; r++) {
        for (int c = 0; c < m; c++) {
            /* detector pixel (r, c) holds frequency (r - m/2, c - m/2): the
               inverse of fftshift, so odd sizes work too */
            int fr = (r - h + m) % m, fc = (c - h + m) % m;
            float v = intensity[(size_t)r * m + c];
            float a;
            if (!isfinite(v) || v < 0.0f) {
                bad++;
                a = PTY_MASKED;
            } else if (mask && mask[(size_t)r * m + c]) {
                a = PTY_MASKED;
            } else {
                a = sqrtf(v);
            }
            if (a < 0.0f) masked++;
            amp[(size_t)fr * m + fc] = a;
        }
    }
    d->n_masked += masked;
    return bad;
}

double pty_dataset_frame_counts(const pty_dataset *d, int j, double *noise)
{
    const size_t mm = (size_t)d->m * d->m;
    const float *amp = d->amplitudes + (size_t)j * mm;
    double sum = 0.0, floor = 0.0;
    for (size_t i = 0; i < mm; i++) {
        const double a2 = (double)amp[i] * amp[i];
        if (amp[i] > 0.0f) {
            sum += a2;
            floor += a2 < 0.25 ? a2 : 0.25;
        }
    }
    *noise = floor;
    return sum;
}

double pty_dataset_noise_floor(const pty_dataset *d, double *total)
{
    double sum = 0.0, noise = 0.0;
    for (int j = 0; j < d->n_frames; j++) {
        double fn;
        sum += pty_dataset_frame_counts(d, j, &fn);
        noise += fn;
    }
    if (total) *total = sum;
    return sum > 0.0 ? noise / sum : 0.0;
}

double pty_dataset_total_intensity(const pty_dataset *d)
{
    double sum = 0.0;
    size_t n = (size_t)d->n_frames * d->m * d->m;
    for (size_t i = 0; i < n; i++) {
        float a = d->amplitudes[i];
        if (a > 0.0f) sum += (double)a * a;
    }
    return sum;
}
