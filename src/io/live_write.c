/* live_write.c - an SWMR scan file that grows as frames arrive. */
#include "live_write.h"

#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "pty_error.h"

#define DET "/entry_1/instrument_1/detector_1"
#define TRANSLATION "/entry_1/sample_1/geometry_1/translation"
#define LIVE "/entry_1/live"

struct pty_live_writer {
    hid_t file, data, translation, written, complete;
    int m;
    int64_t n;
    char *path;
};

/* An empty dataset of `rank` dims, the first unlimited, chunked by `chunk`. */
static hid_t create_growing(hid_t file, const char *path, hid_t type, int rank, const hsize_t *chunk)
{
    hsize_t dims[3] = {0, chunk[1], rank > 2 ? chunk[2] : 0}, maxdims[3] = {H5S_UNLIMITED, chunk[1], dims[2]};
    hid_t space = H5Screate_simple(rank, dims, maxdims), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, rank, chunk);
    hid_t d = H5Dcreate2(file, path, type, space, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

static int write_scalar_int(hid_t d, hid_t type, const void *v, const char *what)
{
    PTY_CHECK(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 && H5Dflush(d) >= 0, PTY_ERR_IO,
              "cannot write '%s'", what);
    return PTY_OK;
}

static int open_scalars(pty_live_writer *w, int64_t planned)
{
    const int64_t zero = 0;
    const int not_yet = 0;
    const hsize_t one = 1;
    PTY_TRY(pty_h5_write_int(w->file, LIVE "/complete", &not_yet, 0, &one)); /* int32 */
    hid_t space = H5Screate(H5S_SCALAR);
    const char *names[2] = {LIVE "/frames_planned", LIVE "/frames_written"};
    const int64_t values[2] = {planned, zero};
    int rc = PTY_OK;
    for (int i = 0; i < 2 && rc == PTY_OK; i++) {
        hid_t d = H5Dcreate2(w->file, names[i], H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &values[i]) < 0)
            rc = pty_error_set(PTY_ERR_IO, "cannot create '%s' in '%s'", names[i], w->path);
        if (i == 1 && d >= 0) w->written = d;
        else if (d >= 0) H5Dclose(d);
    }
    H5Sclose(space);
    PTY_TRY(rc);
    w->complete = H5Dopen2(w->file, LIVE "/complete", H5P_DEFAULT);
    PTY_CHECK(w->complete >= 0, PTY_ERR_IO, "cannot open '%s' in '%s'", LIVE "/complete", w->path);
    return PTY_OK;
}

static int setup(pty_live_writer *w, int64_t planned, const pty_live_meta *meta)
{
    /* SWMR needs the newest file format */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    w->file = H5Fcreate(w->path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    PTY_CHECK(w->file >= 0, PTY_ERR_IO, "cannot create '%s' (is the directory there and writable?)", w->path);
    const hsize_t frame_chunk[3] = {1, (hsize_t)w->m, (hsize_t)w->m}, pos_chunk[2] = {64, 3};
    w->data = create_growing(w->file, DET "/data", H5T_IEEE_F32LE, 3, frame_chunk);
    w->translation = create_growing(w->file, TRANSLATION, H5T_IEEE_F64LE, 2, pos_chunk);
    PTY_CHECK(w->data >= 0 && w->translation >= 0, PTY_ERR_IO, "cannot create the growing datasets of '%s'", w->path);
    PTY_TRY(pty_h5_soft_link(w->file, DET "/data", "/entry_1/data_1/data"));
    PTY_TRY(pty_h5_soft_link(w->file, TRANSLATION, "/entry_1/data_1/translation"));
    if (meta && meta->energy_j > 0)
        PTY_TRY(pty_h5_write_scalar(w->file, "/entry_1/instrument_1/source_1/energy", meta->energy_j));
    if (meta && meta->distance_m > 0) PTY_TRY(pty_h5_write_scalar(w->file, DET "/distance", meta->distance_m));
    if (meta && meta->pixel_m > 0) {
        PTY_TRY(pty_h5_write_scalar(w->file, DET "/x_pixel_size", meta->pixel_m));
        PTY_TRY(pty_h5_write_scalar(w->file, DET "/y_pixel_size", meta->pixel_m));
    }
    if (meta && meta->planned_translation && meta->n_planned > 0) {
        const hsize_t dims[2] = {(hsize_t)meta->n_planned, 3};
        PTY_TRY(pty_h5_write_double(w->file, LIVE "/planned_translation", meta->planned_translation, 2, dims));
    }
    PTY_TRY(open_scalars(w, planned));
    PTY_CHECK(H5Fstart_swmr_write(w->file) >= 0, PTY_ERR_IO, "cannot start SWMR writing of '%s'", w->path);
    return PTY_OK;
}

int pty_live_create(const char *path, int m, int64_t frames_planned, const pty_live_meta *meta,
                    pty_live_writer **out)
{
    *out = NULL;
    PTY_CHECK(m > 0 && frames_planned >= 0, PTY_ERR_ARG, "live file: bad frame size %d or plan %lld", m,
              (long long)frames_planned);
    pty_live_writer *w = calloc(1, sizeof *w);
    PTY_CHECK(w, PTY_ERR_NOMEM, "cannot allocate a live writer");
    w->file = w->data = w->translation = w->written = w->complete = H5I_INVALID_HID;
    w->m = m;
    w->path = strdup(path);
    int rc = w->path ? setup(w, frames_planned, meta) : pty_error_set(PTY_ERR_NOMEM, "cannot copy a path");
    if (rc != PTY_OK) {
        pty_live_close(w);
        return rc;
    }
    *out = w;
    return PTY_OK;
}

/* Rows [n0, n0 + n) of a growing dataset of rows of `row` elements. */
static int append_rows(hid_t d, hid_t mem_type, const void *rows, int64_t n0, int n, int rank, hsize_t row)
{
    hsize_t size[3] = {(hsize_t)(n0 + n), row, row}, start[3] = {(hsize_t)n0, 0, 0}, count[3] = {(hsize_t)n, row, row};
    if (rank == 2) size[1] = count[1] = row;
    if (H5Dset_extent(d, size) < 0) return 0;
    hid_t file_space = H5Dget_space(d), mem_space = H5Screate_simple(rank, count, NULL);
    int ok = H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(d, mem_type, mem_space, file_space, H5P_DEFAULT, rows) >= 0 && H5Dflush(d) >= 0;
    H5Sclose(mem_space);
    H5Sclose(file_space);
    return ok;
}

int pty_live_append(pty_live_writer *w, const float *frames, const double *translations, int n)
{
    if (n <= 0) return PTY_OK;
    PTY_CHECK(append_rows(w->data, H5T_NATIVE_FLOAT, frames, w->n, n, 3, (hsize_t)w->m) &&
                  append_rows(w->translation, H5T_NATIVE_DOUBLE, translations, w->n, n, 2, 3),
              PTY_ERR_IO, "cannot append %d frames to '%s' (disk full?)", n, w->path);
    w->n += n;
    return write_scalar_int(w->written, H5T_NATIVE_INT64, &w->n, LIVE "/frames_written");
}

int pty_live_finish(pty_live_writer *w)
{
    const int32_t done = 1;
    return write_scalar_int(w->complete, H5T_NATIVE_INT32, &done, LIVE "/complete");
}

void pty_live_close(pty_live_writer *w)
{
    if (!w) return;
    hid_t ids[4] = {w->data, w->translation, w->written, w->complete};
    for (int i = 0; i < 4; i++)
        if (ids[i] >= 0) H5Dclose(ids[i]);
    if (w->file >= 0) H5Fclose(w->file);
    free(w->path);
    free(w);
}
