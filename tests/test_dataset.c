/* test_dataset.c - frames into amplitudes: centring, square root, masking,
 * and frames adopted in place equal to frames copied. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "pty_error.h"
#include "pty_test.h"

#define M 5 /* odd: the centre is pixel (2, 2) */
#define NF 3

static float intensity_at(int j, int r, int c) { return (float)(j * 100 + r * M + c); }

int main(void)
{
    float frames[NF * M * M];
    for (int j = 0; j < NF; j++)
        for (int r = 0; r < M; r++)
            for (int c = 0; c < M; c++) frames[(j * M + r) * M + c] = intensity_at(j, r, c);
    frames[(1 * M + 0) * M + 3] = NAN;   /* frame 1 */
    frames[(2 * M + 4) * M + 4] = -2.0f; /* frame 2 */
    unsigned char mask[M * M] = {0};
    mask[1] = 1;

    pty_dataset *d = NULL;
    PTY_TEST("create: 3 frames of 5x5", pty_dataset_create(NF, M, &d) == PTY_OK && d);
    long bad = 0;
    for (int j = 0; j < NF; j++) bad += pty_dataset_set_frame(d, j, frames + j * M * M, j == 0 ? mask : NULL);
    PTY_TEST("set_frame: the detector centre goes to pixel [0][0] as sqrt(I)",
             d->amplitudes[0] == sqrtf(intensity_at(0, 2, 2)));
    PTY_TEST("set_frame: detector (0, 0) holds frequency (-2, -2): pixel [3][3]",
             d->amplitudes[3 * M + 3] == sqrtf(intensity_at(0, 0, 0)));
    PTY_TEST("set_frame: a flagged pixel is masked", d->amplitudes[(M - 2) * M + (1 - 2 + M) % M] == PTY_MASKED);
    PTY_TEST("set_frame: NaN and negative counts are masked and counted as bad", bad == 2);
    PTY_TEST("set_frame: masked pixels summed over frames", d->n_masked == 3);
    double want = 0.0;
    for (int i = 0; i < NF * M * M; i++)
        if (d->amplitudes[i] >= 0.0f) want += (double)d->amplitudes[i] * d->amplitudes[i];
    PTY_TEST("total intensity: unmasked pixels only", fabs(pty_dataset_total_intensity(d) - want) < 1e-9 * want);

    /* adopted frames: the same amplitudes, made in place */
    float *owned = malloc(sizeof frames);
    memcpy(owned, frames, sizeof frames);
    pty_dataset *a = NULL;
    PTY_TEST("adopt: 3 frames of 5x5", pty_dataset_adopt(NF, M, owned, &a) == PTY_OK && a);
    PTY_TEST("adopt: the frames are the dataset's amplitudes now", a && a->amplitudes == owned);
    /* d's frame 0 had a mask, which adopt does not take: compare frames 1, 2 */
    PTY_TEST("adopt: amplitudes as set_frame makes them",
             a && memcmp(a->amplitudes + M * M, d->amplitudes + M * M, 2 * M * M * sizeof(float)) == 0);
    PTY_TEST("adopt: bad pixels masked", a && a->n_masked == 2);
    pty_dataset_destroy(a);
    pty_dataset_destroy(d);

    pty_dataset *e = NULL;
    int rc = pty_dataset_adopt(0, M, malloc(16), &e); /* freed although refused */
    PTY_TEST("adopt: no frames is refused, with the reason", rc == PTY_ERR_ARG && e == NULL &&
             strcmp(pty_error_message(), "dataset needs at least one frame of positive size (got 0 frames of 5)") == 0);
    return pty_test_report();
}
