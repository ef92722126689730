/* make_bad_inputs.c - writes the malformed input files the end-to-end
 * tests feed to `ptycho recon` (tests/cli/bad_input.sh and the MPI tests), so
 * the tests need no Python or h5py.  Each file is a small valid CXI scan with
 * one defect.
 *
 * corrupt_tail.cxi has its frames chunked one per chunk and deflated, and the
 * stored bytes of the last frame's chunk overwritten with garbage, as a bad
 * disk block would: frames 0..14 read, frame 15 does not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxi_read.h"
#include "h5util.h"
#include "pty_error.h"

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
    int corrupt_tail;     /* deflated chunks, the last one overwritten with garbage */
} defect;

/* Overwrite the stored (compressed) bytes of the last frame's chunk of the
 * frames dataset in place, behind HDF5's back. */
static int corrupt_last_chunk(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? H5I_INVALID_HID : H5Dopen2(f, "/entry_1/data_1/data", H5P_DEFAULT);
    hsize_t offset[3] = {N - 1, 0, 0}, size = 0;
    haddr_t addr = HADDR_UNDEF;
    unsigned filter_mask = 1;
    herr_t e = d < 0 ? -1 : H5Dget_chunk_info_by_coord(d, offset, &filter_mask, &addr, &size);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    if (e < 0 || addr == HADDR_UNDEF || size == 0 || filter_mask != 0) {
        fprintf(stderr, "make_bad_inputs: '%s': no deflated chunk for frame %d\n", path, N - 1);
        return 1;
    }
    FILE *fp = fopen(path, "r+b");
    if (!fp) return 1;
    int bad = fseek(fp, (long)addr, SEEK_SET) != 0;
    /* 0xA5 is no zlib header (compression method 5), so inflate fails at once */
    for (hsize_t i = 0; i < size && !bad; i++) bad = fputc(0xA5, fp) == EOF;
    bad |= fclose(fp) != 0;
    return bad;
}

/* corrupt_tail.cxi must fail only where it was broken: the first 8 frames
 * read, all frames do not (PTY_ERR_HDF5). */
static int check_corrupt_tail(const char *path)
{
    static const int first8[] = {0, 1, 2, 3, 4, 5, 6, 7};
    pty_read_options o;
    pty_dataset *d = NULL;
    pty_read_options_default(&o);
    o.path = path;
    o.frame_subset = first8;
    o.n_subset = 8;
    int rc = pty_dataset_read(&o, &d);
    pty_dataset_destroy(d);
    if (rc != PTY_OK) {
        fprintf(stderr, "make_bad_inputs: '%s': frames 0..7 do not read: %s\n", path, pty_error_message());
        return 1;
    }
    o.frame_subset = NULL;
    o.n_subset = 0;
    d = NULL;
    rc = pty_dataset_read(&o, &d);
    pty_dataset_destroy(d);
    if (rc != PTY_ERR_HDF5) {
        fprintf(stderr, "make_bad_inputs: '%s': reading every frame should fail with an HDF5 error, got '%s'\n", path,
                pty_error_message());
        return 1;
    }
    pty_error_clear();
    return 0;
}

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
        if (d->corrupt_tail) {
            pty_h5_write_frames(f, "/entry_1/data_1/data", frames, N, M);
        } else if (d->frames_rank == 3) {
            hsize_t dims[3] = {N, M, (hsize_t)d->frames_w};
            pty_h5_write_float(f, "/entry_1/data_1/data", frames, 3, dims);
        } else {
            hsize_t dims[2] = {N * M, (hsize_t)d->frames_w};
            pty_h5_write_float(f, "/entry_1/data_1/data", frames, 2, dims);
        }
    }
    /* 4 x 4 raster, 0.3 um step: about 2.3 pixels at 8 keV, 2 m, 75 um pixels */
    double *pos = calloc((size_t)d->n_positions * 3, sizeof *pos);
    for (int j = 0; j < d->n_positions; j++) {
        pos[3 * j] = (j % 4) * 0.3e-6 * d->position_scale;
        pos[3 * j + 1] = (j / 4) * 0.3e-6 * d->position_scale;
    }
    hsize_t pdims[2] = {(hsize_t)d->n_positions, 3};
    pty_h5_write_double(f, "/entry_1/sample_1/geometry_1/translation", pos, 2, pdims);
    /* the same in metres as (row, col) pairs: what a user hands --positions-px by mistake */
    for (int j = 0; j < d->n_positions; j++) {
        pos[2 * j] = (j / 4) * 0.3e-6 * d->position_scale;
        pos[2 * j + 1] = (j % 4) * 0.3e-6 * d->position_scale;
    }
    hsize_t rc_dims[2] = {(hsize_t)d->n_positions, 2};
    pty_h5_write_double(f, "/positions_metres_rc", pos, 2, rc_dims);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/source_1/energy", d->energy_j);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/distance", d->distance_m);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/x_pixel_size", 75e-6);
    pty_h5_write_scalar(f, "/entry_1/instrument_1/detector_1/y_pixel_size", 75e-6);
    H5Fclose(f);
    free(frames);
    free(pos);
    if (d->corrupt_tail) return corrupt_last_chunk(path) || check_corrupt_tail(path);
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
        {"good", 3, M, N, 0, 1, e8kev, 2.0, 0, 0},
        {"no_frames", 3, M, N, 0, 1, e8kev, 2.0, 1, 0},
        {"rank2", 2, M, N, 0, 1, e8kev, 2.0, 0, 0},
        {"nonsquare", 3, M / 2, N, 0, 1, e8kev, 2.0, 0, 0},
        {"count_mismatch", 3, M, N - 1, 0, 1, e8kev, 2.0, 0, 0},
        {"bad_values", 3, M, N, 1, 1, e8kev, 2.0, 0, 0},
        {"far_positions", 3, M, N, 0, 1e6, e8kev, 2.0, 0, 0},
        {"zero_energy", 3, M, N, 0, 1, 0.0, 2.0, 0, 0},
        {"negative_distance", 3, M, N, 0, 1, e8kev, -1.0, 0, 0},
        {"corrupt_tail", 3, M, N, 0, 1, e8kev, 2.0, 0, 1},
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
