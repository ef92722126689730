/* illumination.c - summed probe intensity over a set of windows. */
#include "illumination.h"

#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

int pty_illumination(const pty_cf *probe, int n_modes, int m, const int *window, int n, int h, int w, float *out)
{
    const size_t npix = (size_t)m * m;
    /* the mode-summed intensity is the same for every window: make it once */
    float *intensity = malloc(npix * sizeof *intensity);
    PTY_CHECK(intensity, PTY_ERR_NOMEM, "cannot allocate a %dx%d illumination scratch", m, m);
    for (size_t i = 0; i < npix; i++) {
        float s = 0.0f;
        for (int k = 0; k < n_modes; k++) s += pty_cabs2(probe[k * npix + i]);
        intensity[i] = s;
    }
    memset(out, 0, (size_t)h * w * sizeof *out);
    for (int j = 0; j < n; j++) {
        const int r0 = window[2 * j], c0 = window[2 * j + 1];
        for (int y = 0; y < m; y++) {
            float *row = out + (size_t)(r0 + y) * w + c0;
            const float *src = intensity + (size_t)y * m;
            for (int x = 0; x < m; x++) row[x] += src[x];
        }
    }
    free(intensity);
    return PTY_OK;
}
