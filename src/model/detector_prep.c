/* detector_prep.c - window, invalid pixels, dark, binning: one detector frame made ready. */
#include "detector_prep.h"

#include <math.h>
#include <string.h>

long pty_detector_prep_frame(const pty_detector_prep *p, const float *raw, float *out, unsigned char *out_mask)
{
    const int m = p->m, b = p->bin, win = p->win;
    const float sat = p->saturation > 0.0 ? (float)p->saturation : INFINITY;
    long saturated = 0;
    for (int r = 0; r < m; r++)
        for (int c = 0; c < m; c++) {
            double sum = 0.0;
            int masked = 0, bad_value = 0;
            for (int i = 0; i < b; i++)
                for (int j = 0; j < b; j++) {
                    const size_t q = (size_t)(r * b + i) * win + (size_t)(c * b + j);
                    const float v = raw[q];
                    if (p->mask && p->mask[q]) {
                        masked = 1;
                    } else if (v >= sat) {
                        saturated++;
                        masked = 1;
                    } else if (!isfinite(v) || v < 0.0f) {
                        bad_value = 1;
                    } else {
                        const double x = p->dark ? (double)v - p->dark[q] : (double)v;
                        sum += x > 0.0 ? x : 0.0;
                    }
                }
            /* a bad value stays NaN, so the dataset counts it among the values it reports */
            out[(size_t)r * m + c] = masked ? 0.0f : bad_value ? NAN : (float)sum;
            out_mask[(size_t)r * m + c] = (unsigned char)masked;
        }
    return saturated;
}

int pty_detector_centroid(const double *sum, int h, int w, double centre[2])
{
    double peak = 0.0;
    for (size_t i = 0; i < (size_t)h * w; i++)
        if (isfinite(sum[i]) && sum[i] > peak) peak = sum[i];
    if (!(peak > 0.0)) return 0;
    double total = 0.0, rs = 0.0, cs = 0.0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            const double v = sum[(size_t)r * w + c];
            if (!(isfinite(v) && v > 0.1 * peak)) continue;
            total += v;
            rs += v * r;
            cs += v * c;
        }
    centre[0] = rs / total;
    centre[1] = cs / total;
    return 1;
}
