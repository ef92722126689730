/* cxi_read.c - load a scan from a CXI/HDF5 file into a pty_dataset, validating it.
 *
 * The cheap checks (frame shape, geometry, positions, mask, probe) all run
 * before the frames are allocated and read, so a wrong path or unit fails in
 * milliseconds rather than after minutes of I/O.  Frames are then read in
 * chunks into a scratch buffer and centred, square-rooted and masked one at a
 * time by pty_dataset_set_frame.  A subset of the frames (one MPI rank's) is
 * read the same way, each chunk through a hyperslab selection of its runs of
 * consecutive indices, after the same checks on the whole file. */
#include "cxi_read.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "position_file.h"
#include "pty_error.h"
#include "pty_log.h"

#define FRAME_CHUNK 64                  /* frames per HDF5 read */
#define SCRATCH_BYTES ((size_t)64 << 20) /* ... but no more than this per read */

const char *const pty_half_set_names[3] = {"all", "even", "odd"};

/* Where CXI writers put the translation, most common first (DESIGN.md §2). */
static const char *const cxi_translations[] = {
    "/entry_1/data_1/translation",
    "/entry_1/sample_1/geometry_1/translation",
    "/entry_1/instrument_1/detector_1/translation",
};

void pty_read_options_default(pty_read_options *o)
{
    memset(o, 0, sizeof *o);
    o->frames = PTY_CXI_FRAMES;
    o->energy = PTY_CXI_ENERGY;
    o->distance = PTY_CXI_DISTANCE;
    o->pixel = PTY_CXI_PIXEL;
    o->mask = PTY_CXI_MASK;
    o->probe = PTY_CXI_PROBE;
    o->center[0] = o->center[1] = NAN;
    o->bin = 1;
}

int pty_positions_path(hid_t file, const pty_read_options *o, const char **out)
{
    const char *f = o->path, *path = o->positions;
    *out = NULL;
    if (!path) {
        for (size_t i = 0; i < sizeof cxi_translations / sizeof *cxi_translations && !path; i++)
            if (pty_h5_exists(file, cxi_translations[i])) path = cxi_translations[i];
        PTY_CHECK(path, PTY_ERR_HDF5,
                  "'%s' has no positions dataset (tried '%s', '%s', '%s'); give its path with --positions or --positions-px",
                  f, cxi_translations[0], cxi_translations[1], cxi_translations[2]);
    } else {
        PTY_CHECK(pty_h5_exists(file, path), PTY_ERR_HDF5,
                  "'%s' has no positions dataset (tried '%s'); give its path with --positions or --positions-px", f, path);
    }
    *out = path;
    return PTY_OK;
}

int pty_position_to_pixels(const pty_read_options *o, double a, double b, double dx, double out[2])
{
    double row = o->positions_px ? a : b / dx;
    double col = o->positions_px ? b : a / dx;
    if (!isfinite(a) || !isfinite(b) || !isfinite(row) || !isfinite(col)) return 0;
    if (o->transpose) {
        double t = row;
        row = col;
        col = t;
    }
    if (o->flip_x) col = -col;
    if (o->flip_y) row = -row;
    out[0] = row;
    out[1] = col;
    return 1;
}

/* Positions into pos (n x 2, object pixels (row, col)), dx = object pixel
 * size in metres (used only for metre positions). */
static int read_positions(hid_t file, const pty_read_options *o, int n, double dx, double *pos)
{
    const char *f = o->path, *path;
    PTY_TRY(pty_positions_path(file, o, &path));
    int rank;
    hsize_t dims[4];
    char shape[96];
    PTY_TRY(pty_h5_shape(file, f, path, &rank, dims));
    pty_h5_shape_str(rank, dims, shape, sizeof shape);

    /* Metre layouts are ambiguous for tiny scans (3x3, 3x2), so prefer the
       reading whose count matches the frames, then the rule "3 x N is
       transposed" (PyNX) for the count-mismatch message. */
    const hsize_t nn = (hsize_t)n;
    hsize_t count = 0;
    int cols = 0, transposed = 0;
    if (rank == 2) {
        hsize_t a = dims[0], b = dims[1];
        if (o->positions_px ? b == 2 : a == nn && (b == 2 || b == 3)) {
            count = a;
            cols = (int)b;
        } else if (!o->positions_px && a == 3 && b != 3) {
            count = b;
            cols = 3;
            transposed = 1;
        } else if (!o->positions_px && (b == 2 || b == 3)) {
            count = a;
            cols = (int)b;
        }
    }
    if (cols == 0) {
        if (o->positions_px)
            return pty_error_set(PTY_ERR_HDF5,
                                 "'%s': positions dataset '%s' has shape %s; pixel positions must be N x 2, columns (row, col)",
                                 f, path, shape);
        return pty_error_set(PTY_ERR_HDF5,
                             "'%s': positions dataset '%s' has shape %s; positions in metres must be N x 3, 3 x N or N x 2, "
                             "columns (x, y[, z]); for pixels use --positions-px",
                             f, path, shape);
    }
    PTY_CHECK(count == nn, PTY_ERR_DATA, "'%s': positions dataset '%s' holds %llu positions but there are %d frames", f, path,
              (unsigned long long)count, n);

    size_t total = (size_t)n * cols;
    double *raw = malloc(total * sizeof *raw);
    PTY_CHECK(raw, PTY_ERR_NOMEM, "cannot allocate %zu positions", total);
    int rc = pty_h5_read_double(file, f, path, raw, total);
    for (int j = 0; j < n && rc == PTY_OK; j++) {
        /* a = first column (row for pixels, x for metres), b = second */
        double a = transposed ? raw[j] : raw[(size_t)j * cols];
        double b = transposed ? raw[(size_t)n + j] : raw[(size_t)j * cols + 1];
        if (!pty_position_to_pixels(o, a, b, dx, pos + 2 * (size_t)j)) {
            rc = pty_error_set(PTY_ERR_DATA, "'%s': positions dataset '%s' has a non-finite value at position %d (%g, %g)", f,
                               path, j, a, b);
            break;
        }
    }
    free(raw);
    return rc;
}

/* File index of the k-th frame read: subset[k], or k when reading all. */
static int frame_index(const int *subset, int k) { return subset ? subset[k] : k; }

/* Frames that hold nothing and pixels no detector counts: what an
 * acquisition cut short (unwritten chunks read as the fill value, zero), a
 * damaged chunk index (read as zeros without an error) or one absurd pixel
 * (a single 1e30 count, which swamps every update it takes part in) leave
 * in a file. */
typedef struct screen {
    int n_empty, listed;       /* frames with no counts at usable pixels; how many of them are named */
    int empty[8];              /* the first ones, by file index */
    float *frame_max;          /* per frame: the largest amplitude (grown as frames come) */
    int cap;
} screen;

/* A pixel above this many times the median frame's largest count (in
 * intensity) is not a measurement.  Across a scan the brightest pixel of a
 * frame (the direct beam or the central speckle) varies by a few times;
 * a factor 1000 leaves that alone and catches counts no detector makes. */
#define PTY_OUTLIER_FACTOR 1000.0

/* Frame j (file index `index`): no counts at any usable pixel leaves it
 * out (every pixel masked); note its largest amplitude. */
static void screen_frame(pty_dataset *d, int j, int index, screen *sc)
{
    const size_t mm = (size_t)d->m * d->m;
    float *amp = d->amplitudes + (size_t)j * mm, mx = 0.0f;
    for (size_t i = 0; i < mm; i++) mx = amp[i] > mx ? amp[i] : mx;
    if (j >= sc->cap) {
        const int cap = sc->cap ? 2 * sc->cap : 1024;
        float *m = realloc(sc->frame_max, (size_t)(cap > j + 1 ? cap : j + 1) * sizeof *m);
        if (m) {
            sc->frame_max = m;
            sc->cap = cap > j + 1 ? cap : j + 1;
        }
    }
    if (j < sc->cap) sc->frame_max[j] = mx;
    if (mx > 0.0f) return;
    long newly = 0;
    for (size_t i = 0; i < mm; i++)
        if (amp[i] >= 0.0f) {
            amp[i] = PTY_MASKED;
            newly++;
        }
    d->n_masked += newly;
    if (sc->listed < (int)(sizeof sc->empty / sizeof *sc->empty)) sc->empty[sc->listed++] = index;
    sc->n_empty++;
}

static int by_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* After the read: say which frames were left out (refuse, when `all` the
 * file's frames were read, if every one was), and mask the pixels above
 * PTY_OUTLIER_FACTOR times the median frame's largest count, naming the
 * largest by its frame's file index (index[j] of dataset frame j). */
static int screen_report(pty_dataset *d, screen *sc, const char *f, const char *path, const int *index, int all)
{
    const int n = d->n_frames;
    const size_t mm = (size_t)d->m * d->m;
    int rc = PTY_OK;
    if (sc->n_empty == n && all)
        rc = pty_error_set(PTY_ERR_DATA,
                           "'%s': every frame of '%s' is zero at all unmasked pixels (or has no usable pixel: NaN, "
                           "negative or masked)",
                           f, path);
    if (rc == PTY_OK && sc->n_empty > 0) {
        char list[160] = "";
        size_t len = 0;
        for (int i = 0; i < sc->listed && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", i ? ", " : "", sc->empty[i]);
        pty_warn("'%s': %d of %d frames of '%s' hold no counts at any usable pixel (never written, or unreadable "
                 "without an error: an acquisition cut short or a damaged file): frame%s %s%s; they are left out",
                 f, sc->n_empty, n, path, sc->n_empty > 1 ? "s" : "", list, sc->n_empty > sc->listed ? ", ..." : "");
    }
    if (rc == PTY_OK && sc->frame_max && sc->cap >= n && n > sc->n_empty) {
        float *sorted = malloc((size_t)n * sizeof *sorted);
        int k = 0;
        for (int j = 0; sorted && j < n; j++)
            if (sc->frame_max[j] > 0.0f) sorted[k++] = sc->frame_max[j];
        if (sorted && k > 0) {
            qsort(sorted, (size_t)k, sizeof *sorted, by_float);
            const float median = sorted[k / 2], limit = median * (float)sqrt(PTY_OUTLIER_FACTOR);
            long n_out = 0;
            float worst = 0.0f;
            int worst_frame = -1, worst_pixel = 0;
            for (int j = 0; j < n; j++) {
                if (!(sc->frame_max[j] > limit)) continue;
                float *amp = d->amplitudes + (size_t)j * mm;
                for (size_t i = 0; i < mm; i++)
                    if (amp[i] > limit) {
                        if (amp[i] > worst) {
                            worst = amp[i];
                            worst_frame = j;
                            worst_pixel = (int)i;
                        }
                        amp[i] = PTY_MASKED;
                        n_out++;
                    }
            }
            d->n_masked += n_out;
            if (n_out > 0) {
                const int m = d->m, h = m / 2;
                const int row = (worst_pixel / m + h) % m, col = (worst_pixel % m + h) % m; /* detector-centred */
                pty_warn("'%s': %ld pixel%s of '%s' above %.4g counts (%g times the median frame's largest, %.4g) "
                         "are masked as not measurements; the largest, %.4g counts, in frame %d at pixel (%d, %d)",
                         f, n_out, n_out > 1 ? "s" : "", path, (double)limit * limit, PTY_OUTLIER_FACTOR,
                         (double)median * median, (double)worst * worst, index[worst_frame], row, col);
            }
        }
        free(sorted);
    }
    free(sc->frame_max);
    sc->frame_max = NULL;
    return rc;
}

/* Read the frames into d (n_frames, m set): series frames index[0 ..
 * d->n_frames), prepared, in chunks through one scratch buffer.  Leave out
 * (mask) frames with no counts and mask absurd pixels, each with one warning
 * (screen_report); refuse, when reading all, a scan with no usable frame;
 * warn once about bad values and once about saturated pixels. */
static int read_frames(const pty_scan_header *h, const char *f, const int *index, int all, pty_dataset *d)
{
    const int n = d->n_frames;
    /* frames as stored need no window buffer: they are read into place */
    const size_t mm = (size_t)d->m * d->m, ww = pty_scan_header_plain(h) ? 0 : (size_t)h->prep.win * h->prep.win;
    size_t chunk = SCRATCH_BYTES / ((ww + mm) * sizeof(float) + mm);
    if (chunk < 1) chunk = 1;
    if (chunk > FRAME_CHUNK) chunk = FRAME_CHUNK;
    if (chunk > (size_t)n) chunk = (size_t)n;
    float *scratch = ww ? malloc(chunk * ww * sizeof *scratch) : NULL, *prepared = malloc(chunk * mm * sizeof *prepared);
    unsigned char *masks = malloc(chunk * mm);
    int rc = (scratch || !ww) && prepared && masks ? PTY_OK
                                         : pty_error_set(PTY_ERR_NOMEM, "cannot allocate a %.1f MiB frame buffer",
                                                         (double)(chunk * (ww + mm) * sizeof *scratch) / (1 << 20));
    long n_bad = 0, saturated = 0;
    int bad_frames = 0, first_bad = -1;
    screen sc = {0};
    for (int first = 0; first < n && rc == PTY_OK; first += (int)chunk) {
        int count = n - first < (int)chunk ? n - first : (int)chunk;
        rc = pty_scan_frames_read(h, index + first, count, scratch, prepared, masks, &saturated);
        for (int k = 0; k < count && rc == PTY_OK; k++) {
            const int j = first + k;
            long bad = pty_dataset_set_frame(d, j, prepared + (size_t)k * mm, masks + (size_t)k * mm);
            if (bad > 0) {
                n_bad += bad;
                if (bad_frames++ == 0) first_bad = index[j];
            }
            screen_frame(d, j, index[j], &sc);
        }
    }
    free(scratch);
    free(prepared);
    free(masks);
    if (rc != PTY_OK) {
        free(sc.frame_max);
        return rc;
    }
    if (n_bad > 0)
        pty_warn("'%s': %ld pixels of '%s' are NaN, Inf or negative, in %d of %d frames (first in frame %d); they are masked",
                 f, n_bad, h->frames, bad_frames, n, first_bad);
    if (saturated > 0)
        pty_warn("'%s': %ld pixels of '%s' at or above %.10g counts (saturation: %s) are masked in the frames that have them",
                 f, saturated, h->frames, h->info.saturation, h->info.saturation_from);
    d->detector = h->info;
    d->detector.saturated = saturated;
    return screen_report(d, &sc, f, h->frames, index, all);
}

/* What the checks before the frame read establish (pty_scan_open). */
typedef struct pty_scan scan;
struct pty_scan {
    pty_read_options o;   /* as opened (o.path names the file in messages) */
    hid_t file;
    pty_scan_header h;
    int n;                /* frames of the scan: those with a position (of the half) */
    int *index;           /* n: scan frame j is frame index[j] of the file's series */
    double *pos;          /* n x 2 object pixels (row, col) */
};

static void scan_close(scan *s)
{
    pty_scan_header_free(&s->h);
    if (s->file >= 0) H5Fclose(s->file);
    free(s->pos);
    free(s->index);
    memset(s, 0, sizeof *s);
    s->file = H5I_INVALID_HID;
}

/* A raster of o->raster[0] rows and o->raster[1] columns, row by row, the
 * column fast, centred on zero (as ptychopy makes its Cartesian grid). */
static int raster_positions(const pty_read_options *o, int nf, double dx, scan *s)
{
    const int rows = o->raster[0], cols = o->raster[1];
    PTY_CHECK(rows > 0 && cols > 0 && (long long)rows * cols == nf, PTY_ERR_DATA,
              "'%s': a %dx%d raster has %lld positions but there are %d frames", o->path, rows, cols,
              (long long)rows * cols, nf);
    PTY_CHECK(dx > 0.0, PTY_ERR_DATA,
              "'%s': a raster in metres needs the object pixel size (--energy, --distance, --pixel-size)", o->path);
    s->n = nf;
    s->pos = malloc((size_t)nf * 2 * sizeof *s->pos);
    s->index = malloc((size_t)nf * sizeof *s->index);
    PTY_CHECK(s->pos && s->index, PTY_ERR_NOMEM, "cannot allocate %d positions", nf);
    pty_read_options metres = *o;
    metres.positions_px = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const int k = i * cols + j;
            const double y = (i - (rows - 1) / 2.0) * o->raster_step[0], x = (j - (cols - 1) / 2.0) * o->raster_step[1];
            pty_position_to_pixels(&metres, x, y, dx, s->pos + 2 * (size_t)k);
            s->index[k] = k;
        }
    return PTY_OK;
}

/* Open the file and run every check except the frame read: frame shape,
 * geometry, positions (read and converted), mask and probe.  On failure the
 * caller closes s. */
static int scan_check(const pty_read_options *o, scan *s)
{
    const char *f = o->path;
    PTY_TRY(pty_h5_open_read(f, &s->file));
    PTY_TRY(pty_scan_header_read(s->file, o, 0, &s->h));
    const int nf = s->h.n;
    if (o->raster[0] > 0) {
        PTY_TRY(raster_positions(o, nf, s->h.pixel_size, s));
    } else if (o->positions_file && H5Fis_hdf5(o->positions_file) <= 0) {
        PTY_TRY(pty_position_file_read(o, nf, s->h.pixel_size, &s->pos, &s->index, &s->n));
    } else {
        s->n = nf;
        s->pos = malloc((size_t)nf * 2 * sizeof *s->pos);
        s->index = malloc((size_t)nf * sizeof *s->index);
        PTY_CHECK(s->pos && s->index, PTY_ERR_NOMEM, "cannot allocate %d positions", nf);
        for (int j = 0; j < nf; j++) s->index[j] = j;
        if (o->positions_file) {
            /* positions in a second HDF5 file, by the same rules as in the frames' file */
            pty_read_options other = *o;
            other.path = o->positions_file;
            hid_t pf;
            PTY_TRY(pty_h5_open_read(other.path, &pf));
            const int rc = read_positions(pf, &other, nf, s->h.pixel_size, s->pos);
            H5Fclose(pf);
            PTY_TRY(rc);
        } else {
            PTY_TRY(read_positions(s->file, o, nf, s->h.pixel_size, s->pos));
        }
    }
    if (o->half_set != PTY_HALF_ALL) {
        PTY_CHECK(o->half_set == PTY_HALF_EVEN || o->half_set == PTY_HALF_ODD, PTY_ERR_ARG, "--half-set: unknown half %d",
                  o->half_set);
        const int parity = o->half_set - 1, count = (s->n - parity + 1) / 2;
        PTY_CHECK(count >= 1, PTY_ERR_DATA, "'%s': --half-set %s: the scan has %d frame%s, so that half is empty", f,
                  pty_half_set_names[o->half_set], s->n, s->n == 1 ? "" : "s");
        for (int j = 0; j < count; j++) {
            s->pos[2 * (size_t)j] = s->pos[2 * (2 * (size_t)j + parity)];
            s->pos[2 * (size_t)j + 1] = s->pos[2 * (2 * (size_t)j + parity) + 1];
            s->index[j] = s->index[2 * j + parity];
        }
        s->n = count;
    }
    return PTY_OK;
}

int pty_scan_open(const pty_read_options *o, pty_scan **out)
{
    *out = NULL;
    PTY_CHECK(o && o->path, PTY_ERR_ARG, "no input file given");
    scan *s = calloc(1, sizeof *s);
    PTY_CHECK(s, PTY_ERR_NOMEM, "cannot allocate a scan");
    s->file = H5I_INVALID_HID;
    s->o = *o;
    int rc = scan_check(o, s);
    if (rc != PTY_OK) {
        pty_scan_close(s);
        return rc;
    }
    *out = s;
    return PTY_OK;
}

void pty_scan_close(pty_scan *s)
{
    if (!s) return;
    scan_close(s);
    free(s);
}

const double *pty_scan_positions(const pty_scan *s, int *n, int *m)
{
    *n = s->n;
    *m = s->h.m;
    return s->pos;
}

/* The frame subset, if any, against the n frames of the scan. */
static int check_subset(const scan *s, const int *sub, int n_sub)
{
    const char *f = s->o.path, *frames = s->h.frames;
    if (!sub) {
        PTY_CHECK(n_sub == 0, PTY_ERR_ARG, "'%s': a frame subset of %d indices was given without the indices", f,
                  n_sub);
        return PTY_OK;
    }
    PTY_CHECK(n_sub >= 1, PTY_ERR_ARG, "'%s': the frame subset is empty (%d indices); '%s' holds %d frames", f,
              n_sub, frames, s->n);
    for (int k = 0; k < n_sub; k++) {
        PTY_CHECK(sub[k] >= 0 && sub[k] < s->n, PTY_ERR_ARG,
                  "'%s': frame index %d (subset entry %d) is out of range: '%s' holds %d frames (0 to %d)", f, sub[k],
                  k, frames, s->n, s->n - 1);
        PTY_CHECK(k == 0 || sub[k] > sub[k - 1], PTY_ERR_ARG,
                  "'%s': frame index %d (subset entry %d) does not follow %d: the subset must be strictly increasing "
                  "('%s' holds %d frames)",
                  f, sub[k], k, sub[k - 1], frames, s->n);
    }
    return PTY_OK;
}

int pty_scan_read(const pty_scan *s, const int *sub, int n_sub, pty_dataset **out)
{
    pty_dataset *d = NULL;
    *out = NULL;
    int rc = check_subset(s, sub, n_sub);
    if (rc == PTY_OK) rc = pty_dataset_create(sub ? n_sub : s->n, s->h.m, &d);
    int *index = rc == PTY_OK ? malloc(sizeof *index * (size_t)d->n_frames) : NULL;
    if (rc == PTY_OK && !index) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frame indices", d->n_frames);
    const size_t nprobe = (size_t)s->h.probe_modes * s->h.m * s->h.m;
    if (rc == PTY_OK && s->h.probe) {
        d->probe = malloc(nprobe * sizeof *d->probe);
        if (d->probe) memcpy(d->probe, s->h.probe, nprobe * sizeof *d->probe);
        else rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the probe");
        d->probe_modes = s->h.probe_modes;
    }
    if (rc != PTY_OK) {
        free(index);
        pty_dataset_destroy(d);
        return rc;
    }
    for (int k = 0; k < d->n_frames; k++) {
        const size_t j = (size_t)frame_index(sub, k);
        d->positions[2 * (size_t)k] = s->pos[2 * j];
        d->positions[2 * (size_t)k + 1] = s->pos[2 * j + 1];
        index[k] = s->index[j];
    }
    d->wavelength = s->h.wavelength;
    d->distance = s->h.distance;
    d->detector_pixel = s->h.detector_pixel;
    d->pixel_size = s->h.pixel_size;
    /* "all": every frame of the file is read, so a scan with none usable is refused here */
    const int all = !sub && d->n_frames == s->h.n;
    rc = read_frames(&s->h, s->o.path, index, all, d);
    free(index);
    if (rc != PTY_OK) {
        pty_dataset_destroy(d);
        return rc;
    }
    *out = d;
    return PTY_OK;
}

int pty_dataset_read(const pty_read_options *o, pty_dataset **out)
{
    pty_scan *s;
    *out = NULL;
    PTY_TRY(pty_scan_open(o, &s));
    const int rc = pty_scan_read(s, o->frame_subset, o->n_subset, out);
    pty_scan_close(s);
    return rc;
}

int pty_positions_read(const pty_read_options *o, double **positions, int *n, int *m)
{
    pty_scan *s;
    *positions = NULL;
    *n = *m = 0;
    PTY_TRY(pty_scan_open(o, &s));
    *positions = s->pos;
    *n = s->n;
    *m = s->h.m;
    s->pos = NULL; /* the caller's now */
    pty_scan_close(s);
    return PTY_OK;
}
