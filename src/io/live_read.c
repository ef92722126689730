/* live_read.c - an HDF5 file being written (SWMR) as a frame source. */
#include "live_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"
#include "pty_error.h"
#include "pty_log.h"

#define LIVE "/entry_1/live"
#define OPEN_RETRY_S 0.05

typedef struct live_file {
    pty_read_options o;
    char *path;
    hid_t file, frames, positions, written, complete; /* written, complete: -1 without /entry_1/live */
    int swmr;            /* 0: the file was opened as a finished one */
    int pos_cols;        /* 2 or 3 */
    long long planned;
    const char *frames_path, *positions_path;
    double saturation;   /* counts at or above: not measurements; 0: none */
} live_file;

static void live_close(pty_frame_source *s)
{
    if (!s) return;
    live_file *f = s->impl;
    if (f) {
        hid_t ids[4] = {f->frames, f->positions, f->written, f->complete};
        for (int i = 0; i < 4; i++)
            if (ids[i] >= 0) H5Dclose(ids[i]);
        if (f->file >= 0) H5Fclose(f->file);
        free(f->path);
        free(f);
    }
    free(s->mask);
    free(s->probe);
    free(s->planned_positions);
    free(s);
}

/* The file opened for reading: as a finished file (closed by its writer,
 * or never written in SWMR mode), else in SWMR mode (a writer holds it, or
 * died holding it).  Retried until timeout_s: it may not exist yet, or its writer may
 * not have started SWMR mode. */
static int open_waiting(live_file *f, double timeout_s)
{
    const double t0 = pty_now_s();
    int seen = 0;
    for (;;) {
        struct stat st;
        if (stat(f->path, &st) == 0) {
            seen = 1;
            /* a file no writer holds opens plainly (HDF5's lock refuses that while one writes) */
            f->file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
            f->swmr = 0;
            if (f->file < 0) {
                f->file = H5Fopen(f->path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
                f->swmr = f->file >= 0;
            }
            if (f->file >= 0) return PTY_OK;
        }
        if (pty_now_s() - t0 >= timeout_s) break;
        pty_sleep_s(OPEN_RETRY_S);
    }
    if (!seen)
        return pty_error_set(PTY_ERR_IO, "'%s' did not appear within %g s (--follow-timeout)", f->path, timeout_s);
    return pty_error_set(PTY_ERR_HDF5,
                         "'%s' exists but could not be opened for reading within %g s (--follow-timeout): not an HDF5 "
                         "file, or a writer holds it without SWMR mode",
                         f->path, timeout_s);
}

static int read_int64(hid_t d, int swmr, long long *v)
{
    int64_t x = 0;
    if (swmr && H5Drefresh(d) < 0) return 0;
    if (H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &x) < 0) return 0;
    *v = (long long)x;
    return 1;
}

static long long extent(hid_t d, int swmr)
{
    if (swmr) H5Drefresh(d);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4] = {0};
    const int ok = sp >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) >= 1;
    if (sp >= 0) H5Sclose(sp);
    return ok ? (long long)dims[0] : 0;
}

static int live_poll(pty_frame_source *s, pty_source_state *out)
{
    live_file *f = s->impl;
    memset(out, 0, sizeof *out);
    out->planned = f->planned;
    if (f->written >= 0) {
        /* the counter first, the datasets after it: the writer raises it last */
        long long written = 0, complete = 0;
        PTY_CHECK(read_int64(f->written, f->swmr, &written), PTY_ERR_HDF5, "'%s': cannot read '%s'", f->path,
                  LIVE "/frames_written");
        if (f->complete >= 0 && !read_int64(f->complete, f->swmr, &complete))
            return pty_error_set(PTY_ERR_HDF5, "'%s': cannot read '%s'", f->path, LIVE "/complete");
        const long long have_f = extent(f->frames, f->swmr), have_p = extent(f->positions, f->swmr);
        out->available = written < have_f ? written : have_f;
        if (have_p < out->available) out->available = have_p;
        out->complete = complete != 0;
    } else {
        const long long have_f = extent(f->frames, f->swmr), have_p = extent(f->positions, f->swmr);
        out->available = have_f < have_p ? have_f : have_p;
        out->complete = !f->swmr;
    }
    if (f->planned > 0 && out->available >= f->planned) {
        out->available = f->planned;
        out->complete = 1;
    }
    return PTY_OK;
}

/* Rows first .. first+n-1 of a dataset of rank 2 or 3 into out (doubles or floats). */
static int read_rows(hid_t d, hid_t mem_type, long long first, int n, void *out)
{
    hid_t fs = H5Dget_space(d);
    if (fs < 0) return 0;
    hsize_t dims[3] = {0, 0, 0};
    const int rank = H5Sget_simple_extent_dims(fs, dims, NULL);
    hsize_t start[3] = {(hsize_t)first, 0, 0}, count[3] = {(hsize_t)n, dims[1], dims[2]};
    hid_t ms = rank >= 2 ? H5Screate_simple(rank, count, NULL) : H5I_INVALID_HID;
    const int ok = ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                   H5Dread(d, mem_type, ms, fs, H5P_DEFAULT, out) >= 0;
    if (ms >= 0) H5Sclose(ms);
    H5Sclose(fs);
    return ok;
}

static int live_read(pty_frame_source *s, long long first, int n, float *intensities, double *positions)
{
    live_file *f = s->impl;
    if (n <= 0) return PTY_OK;
    double *raw = malloc((size_t)n * f->pos_cols * sizeof *raw);
    PTY_CHECK(raw, PTY_ERR_NOMEM, "cannot allocate %d positions", n);
    int rc = PTY_OK;
    if (!read_rows(f->frames, H5T_NATIVE_FLOAT, first, n, intensities))
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': cannot read frames %lld..%lld of '%s'", f->path, first, first + n - 1,
                           f->frames_path);
    else if (!read_rows(f->positions, H5T_NATIVE_DOUBLE, first, n, raw))
        rc = pty_error_set(PTY_ERR_HDF5, "'%s': cannot read positions %lld..%lld of '%s'", f->path, first,
                           first + n - 1, f->positions_path);
    /* a count at the saturation level is not a measurement: NaN, which the follower masks */
    const size_t total = (size_t)n * s->m * s->m;
    for (size_t i = 0; rc == PTY_OK && f->saturation > 0.0 && i < total; i++)
        if (intensities[i] >= f->saturation) intensities[i] = NAN;
    for (int i = 0; rc == PTY_OK && i < n; i++) {
        const double *r = raw + (size_t)i * f->pos_cols;
        if (!pty_position_to_pixels(&f->o, r[0], r[1], s->pixel_size, positions + 2 * (size_t)i))
            positions[2 * (size_t)i] = positions[2 * (size_t)i + 1] = NAN; /* the follower skips it */
    }
    free(raw);
    return rc;
}

/* The positions dataset must grow along its first axis: rows of 2 (pixels
 * or metres) or 3 (metres). */
static int open_positions(live_file *f)
{
    PTY_TRY(pty_positions_path(f->file, &f->o, &f->positions_path));
    int rank;
    hsize_t dims[4];
    PTY_TRY(pty_h5_shape(f->file, f->path, f->positions_path, &rank, dims));
    const int ok = rank == 2 && (dims[1] == 2 || (dims[1] == 3 && !f->o.positions_px));
    PTY_CHECK(ok, PTY_ERR_HDF5,
              "'%s': positions dataset '%s' of a scan being written must grow along its first axis: N x 2 (pixels "
              "with --positions-px, or metres) or N x 3 (metres), rank %d found",
              f->path, f->positions_path, rank);
    f->pos_cols = (int)dims[1];
    f->positions = H5Dopen2(f->file, f->positions_path, H5P_DEFAULT);
    PTY_CHECK(f->positions >= 0, PTY_ERR_HDF5, "'%s': cannot open '%s'", f->path, f->positions_path);
    return PTY_OK;
}

/* /entry_1/live/planned_translation (P x 3 metres) as object pixels. */
static int read_plan(live_file *f, pty_frame_source *s)
{
    const char *path = LIVE "/planned_translation";
    if (!pty_h5_exists(f->file, path)) return PTY_OK;
    int rank;
    hsize_t dims[4];
    PTY_TRY(pty_h5_shape(f->file, f->path, path, &rank, dims));
    PTY_CHECK(rank == 2 && dims[1] == 3 && dims[0] >= 1 && dims[0] <= 100000000, PTY_ERR_HDF5,
              "'%s': '%s' must be P x 3 (x, y, z) metres", f->path, path);
    PTY_CHECK(f->o.positions_px || s->pixel_size > 0, PTY_ERR_DATA,
              "'%s': '%s' is in metres, but the object pixel size is unknown", f->path, path);
    const size_t n = (size_t)dims[0];
    double *raw = malloc(n * 3 * sizeof *raw);
    s->planned_positions = malloc(n * 2 * sizeof *s->planned_positions);
    PTY_CHECK(raw && s->planned_positions, PTY_ERR_NOMEM, "cannot allocate %zu planned positions", n);
    pty_read_options metres = f->o;
    metres.positions_px = 0;
    int rc = pty_h5_read_double(f->file, f->path, path, raw, n * 3);
    for (size_t i = 0; rc == PTY_OK && i < n; i++)
        if (!pty_position_to_pixels(&metres, raw[3 * i], raw[3 * i + 1], s->pixel_size, s->planned_positions + 2 * i))
            rc = pty_error_set(PTY_ERR_DATA, "'%s': '%s' has a non-finite value at position %zu", f->path, path, i);
    free(raw);
    s->n_planned = rc == PTY_OK ? (long long)n : 0;
    return rc;
}

static int setup(live_file *f, pty_frame_source *s, double timeout_s, long long planned)
{
    PTY_TRY(open_waiting(f, timeout_s));
    pty_scan_header h;
    PTY_TRY(pty_scan_header_read(f->file, &f->o, 1, &h));
    const int plain = pty_scan_header_plain(&h) && h.series.n_parts == 1 && !f->o.positions_file;
    f->saturation = h.prep.saturation;
    pty_frame_series_close(&h.series); /* the live reader refreshes its own dataset */
    free(h.dark);
    free(h.raw_mask);
    if (!plain) {
        free(h.mask);
        free(h.probe);
        return pty_error_set(PTY_ERR_ARG,
                             "'%s': --follow reads frames as stored: one frames dataset, without --crop, --bin, "
                             "--center, --dark, a detector-sized mask or --positions-file",
                             f->path);
    }
    s->m = h.m;
    s->wavelength = h.wavelength;
    s->distance = h.distance;
    s->detector_pixel = h.detector_pixel;
    s->pixel_size = h.pixel_size;
    s->mask = h.mask;
    s->probe = h.probe;
    s->probe_modes = h.probe_modes;
    f->frames_path = h.frames;
    f->frames = H5Dopen2(f->file, h.frames, H5P_DEFAULT);
    PTY_CHECK(f->frames >= 0, PTY_ERR_HDF5, "'%s': cannot open '%s'", f->path, h.frames);
    PTY_TRY(open_positions(f));
    if (pty_h5_exists(f->file, LIVE "/frames_written")) {
        f->written = H5Dopen2(f->file, LIVE "/frames_written", H5P_DEFAULT);
        if (pty_h5_exists(f->file, LIVE "/complete")) f->complete = H5Dopen2(f->file, LIVE "/complete", H5P_DEFAULT);
        PTY_CHECK(f->written >= 0, PTY_ERR_HDF5, "'%s': cannot open '%s'", f->path, LIVE "/frames_written");
    }
    f->planned = planned;
    if (planned <= 0 && pty_h5_exists(f->file, LIVE "/frames_planned")) {
        double v = 0;
        PTY_TRY(pty_h5_read_scalar(f->file, f->path, LIVE "/frames_planned", &v));
        f->planned = v > 0 && v < 1e12 ? (long long)v : 0;
    }
    return read_plan(f, s);
}

int pty_live_source_open(const pty_read_options *o, double timeout_s, long long frames_planned,
                         pty_frame_source **out)
{
    *out = NULL;
    PTY_CHECK(o && o->path, PTY_ERR_ARG, "no input file given");
    PTY_CHECK(timeout_s > 0, PTY_ERR_ARG, "--follow-timeout must be positive (got %g)", timeout_s);
    pty_frame_source *s = calloc(1, sizeof *s);
    live_file *f = s ? calloc(1, sizeof *f) : NULL;
    if (!f) {
        free(s);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate a frame source");
    }
    s->impl = f;
    s->poll = live_poll;
    s->read = live_read;
    s->close = live_close;
    f->o = *o;
    f->file = f->frames = f->positions = f->written = f->complete = H5I_INVALID_HID;
    f->path = strdup(o->path);
    s->name = f->path;
    int rc = f->path ? setup(f, s, timeout_s, frames_planned) : pty_error_set(PTY_ERR_NOMEM, "cannot copy a path");
    if (rc != PTY_OK) {
        live_close(s);
        return rc;
    }
    *out = s;
    return PTY_OK;
}
