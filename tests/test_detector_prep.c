/* test_detector_prep.c - a detector window made into a frame: binning sums,
 * a masked or saturated part masks its binned pixel, a bad value stays NaN
 * for the dataset to count, the dark is subtracted and clipped at zero; and
 * the beam centre of a summed image. */
#include <math.h>
#include <string.h>

#include "detector_prep.h"
#include "pty_test.h"

#define M 3
#define B 2
#define W (M * B)

int main(void)
{
    float raw[W * W], dark[W * W], out[M * M];
    unsigned char mask[W * W] = {0}, out_mask[M * M];
    for (int i = 0; i < W * W; i++) {
        raw[i] = (float)(10 + i);
        dark[i] = 11.0f;
    }
    /* binned pixel (0, 1) holds raw (0..1, 2..3); (1, 1) raw (2..3, 2..3); (2, 2) raw (4..5, 4..5) */
    mask[0 * W + 3] = 1;   /* part of binned (0, 1): masked */
    raw[2 * W + 2] = 1e6f; /* part of binned (1, 1): saturated */
    raw[5 * W + 5] = NAN;  /* part of binned (2, 2): a bad value */
    pty_detector_prep p = {.m = M, .bin = B, .win = W, .dark = NULL, .mask = mask, .saturation = 1e5};
    long sat = pty_detector_prep_frame(&p, raw, out, out_mask);
    const float want00 = raw[0] + raw[1] + raw[W] + raw[W + 1];
    PTY_TEST("bin 2: a pixel is the sum of its four", out[0] == want00 && out_mask[0] == 0);
    PTY_TEST("a masked part masks the binned pixel", out_mask[1] == 1 && out[1] == 0.0f);
    PTY_TEST("a saturated part masks the binned pixel and is counted", out_mask[M + 1] == 1 && sat == 1);
    PTY_TEST("a NaN part leaves the binned pixel NaN, unmasked (the dataset counts it)",
             isnan(out[2 * M + 2]) && out_mask[2 * M + 2] == 0);
    p.dark = dark;
    pty_detector_prep_frame(&p, raw, out, out_mask);
    PTY_TEST("dark subtracted, negatives clipped: raw 10 - 11 counts 0", out[0] == want00 - 44.0f + 1.0f);
    float flat[4] = {5, 5, 5, 5};
    pty_detector_prep one = {.m = 2, .bin = 1, .win = 2, .dark = NULL, .mask = NULL, .saturation = 0};
    sat = pty_detector_prep_frame(&one, flat, out, out_mask);
    PTY_TEST("bin 1, no mask, no limit: counts as they are", memcmp(out, flat, sizeof flat) == 0 && sat == 0 &&
             !out_mask[0] && !out_mask[3]);

    double img[7 * 9];
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 9; c++) img[r * 9 + c] = 1.0 + (r >= 3 && r <= 5 && c >= 1 && c <= 3 ? 100.0 : 0.0);
    img[0] = NAN;
    double centre[2];
    PTY_TEST("centroid of the bright block (rows 3-5, cols 1-3), the dim background ignored",
             pty_detector_centroid(img, 7, 9, centre) && fabs(centre[0] - 4.0) < 1e-12 && fabs(centre[1] - 2.0) < 1e-12);
    memset(img, 0, sizeof img);
    PTY_TEST("centroid of nothing: none", !pty_detector_centroid(img, 7, 9, centre));
    return pty_test_report();
}
