/* make_bad_inputs.c - writes the malformed input files the end-to-end
 * tests feed to `ptycho recon` (tests/cli/bad_input.sh), so the tests need
 * no Python or h5py.  Each file is a small valid CXI scan with one defect. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"

enum { N = 16, M = 32 };

typedef struct defect {
    const char *name;
    int frames_rank;      /* 3 normally */
    int frames_w;         /* M normally; != M makes non-square frames */
    int n_positions;      /* N normally */
    int bad_values;       /* put NaN, Inf and negative counts in frames */
    double position_scale;/* 1 normally; huge spreads positions absurdly */
    double energy_j;
    double distance_m;
    int no_frames;
} defect;

static int write_scan(const char *dir, const defect *d)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.cxi", dir, d->name);
    hid_t f;
    if (pty_h5_create(path, &f) != 0) return 1;
    float *frames = calloc((size_t)N * M * d->frames_w, sizeof *frames);
    for (int j = 0; j < N; j++)
        for (int i = 0; i < M * d->frames_w; i++) frames[(size_t)j * M * d->frames_w + i] = (float)(1 + (i * 7 + j) % 13);
    if (d->bad_values) {
        frames[5] = NAN;
        frames[M * d->frames_w + 9] = INFINITY;
        frames[3 * M * d->frames_w + 2] = -4.0f;
    }
    if (!d->no_frames) {
        if (d->frames_rank == 3) {
            hsize_t dims[3] = {N, M, (hsize_t)d->frames_w};
            pty_h5_write_float(f, "/entry_1/data_1/data", frames, 3, dims);
        } else {
            hsize_t dims[2] = {N * M, (hsize_t)d->frames_w};
            pty_h5_write_float(f, "/entry_1/data_1/data", frames, 2, dims);
        }
    }
    /* 4 x 4 raster, 3 um step: a few pixels at 8 keV, 2 m, 75 um pixels */
    double *pos = calloc((size_t)d->n_positions * 3, sizeof *pos);
    for (int j = 0; j < d->n_positions; j++) {
        pos[3 * j] = (j % 4) * 0.3e-6 * d->position_scale;
        pos[3 * j + 1] = (j / 4) * 0.3e-6 * d->position_scale;
    }
    hsize_t pdims[2] = {(hsize_t)d->n_positions, 3};
    pty_h5_write_double(f, "/entry_1/sample_1/geometry_1/translation", pos, 2, pdims);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/source_1/energy", d->energy_j);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/distance", d->distance_m);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/x_pixel_size", 75e-6);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/y_pixel_size", 75e-6);
    H5Fclose(f);
    free(frames);
    free(pos);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_bad_inputs DIR\n");
        return 2;
    }
    pty_h5_init();
    const double e8kev = 8000 * 1.602176634e-19;
    const defect defects[] = {
        {"good", 3, M, N, 0, 1, e8kev, 2.0, 0},
        {"no_frames", 3, M, N, 0, 1, e8kev, 2.0, 1},
        {"rank2", 2, M, N, 0, 1, e8kev, 2.0, 0},
        {"nonsquare", 3, M / 2, N, 0, 1, e8kev, 2.0, 0},
        {"count_mismatch", 3, M, N - 1, 0, 1, e8kev, 2.0, 0},
        {"bad_values", 3, M, N, 1, 1, e8kev, 2.0, 0},
        {"far_positions", 3, M, N, 0, 1e6, e8kev, 2.0, 0},
        {"zero_energy", 3, M, N, 0, 1, 0.0, 2.0, 0},
        {"negative_distance", 3, M, N, 0, 1, e8kev, -1.0, 0},
    };
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++)
        if (write_scan(argv[1], &defects[i])) return 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/not_hdf5.cxi", argv[1]);
    FILE *t = fopen(path, "w");
    if (!t) return 1;
    fputs("this is a text file, not HDF5\n", t);
    fclose(t);
    return 0;
}
