/* illumination.c - summed probe intensity over a set of windows. */
#include "illumination.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

int pty_illumination(const pty_cf *probe, int n_modes, int m, const int *window, int n, int h, int w, float *out)
{
    float *intensity = malloc((size_t)m * m * sizeof *intensity);
    PTY_CHECK(intensity, PTY_ERR_NOMEM, "cannot allocate a %dx%d illumination scratch", m, m);
    pty_illumination_in(probe, n_modes, (size_t)m * m, m, window, n, h, w, out, intensity);
    free(intensity);
    return PTY_OK;
}

void pty_illumination_in(const pty_cf *probe, int n_modes, size_t mode_stride, int m, const int *window, int n, int h,
                         int w, float *out, float *intensity)
{
    const size_t npix = (size_t)m * m;
    /* the mode-summed intensity is the same for every window: make it once */
    for (size_t i = 0; i < npix; i++) {
        float s = 0.0f;
        for (int k = 0; k < n_modes; k++) s += pty_cabs2(probe[k * mode_stride + i]);
        intensity[i] = s;
    }
    /* A focused probe fills a fraction of its window: add only the box where
       its intensity exceeds 1e-6 of the peak (a weight needs no more), which
       is ~16x less work for a probe a quarter of the window wide. */
    float peak = 0.0f;
    for (size_t i = 0; i < npix; i++) peak = intensity[i] > peak ? intensity[i] : peak;
    int lo[2] = {m, m}, hi[2] = {-1, -1};
    for (int y = 0; y < m; y++)
        for (int x = 0; x < m; x++)
            if (intensity[(size_t)y * m + x] > 1e-6f * peak) {
                lo[0] = y < lo[0] ? y : lo[0], hi[0] = y > hi[0] ? y : hi[0];
                lo[1] = x < lo[1] ? x : lo[1], hi[1] = x > hi[1] ? x : hi[1];
            }
    memset(out, 0, (size_t)h * w * sizeof *out);
    for (int j = 0; j < n && hi[0] >= 0; j++) {
        const int r0 = window[2 * j], c0 = window[2 * j + 1];
        for (int y = lo[0]; y <= hi[0]; y++) {
            float *row = out + (size_t)(r0 + y) * w + c0;
            const float *src = intensity + (size_t)y * m;
            for (int x = lo[1]; x <= hi[1]; x++) row[x] += src[x];
        }
    }
}

/* Distance of coordinate v outside [lo, hi), 0 inside. */
static double outside(double v, double lo, double hi) { return v < lo ? lo - v : v >= hi ? v - hi : 0.0; }

void pty_feather_block(float *weight, int h, int w, const double origin[2], const double core_lo[2],
                       const double core_hi[2], double width)
{
    const double floor_w = 1e-3, pi = 3.14159265358979323846;
    for (int y = 0; y < h; y++) {
        double dy = outside(y - origin[0], core_lo[0], core_hi[0]);
        for (int x = 0; x < w; x++) {
            double d = fmax(dy, outside(x - origin[1], core_lo[1], core_hi[1]));
            double f = d <= 0.0 ? 1.0 : d >= width ? floor_w : fmax(floor_w, 0.5 * (1.0 + cos(pi * d / width)));
            weight[(size_t)y * w + x] *= (float)f;
        }
    }
}
