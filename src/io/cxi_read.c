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
#include "pty_error.h"
#include "pty_log.h"

#define PLANCK_J_S 6.62607015e-34 /* exact, SI 2019 */
#define LIGHT_M_S 299792458.0
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
}

/* "4x3", "16x16x16" or "scalar", for messages. */
static void shape_str(int rank, const hsize_t *dims, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    if (rank == 0) snprintf(buf, size, "scalar");
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, i ? "x%llu" : "%llu", (unsigned long long)dims[i]);
}

/* HDF5 type class of a dataset known to exist, -1 if it cannot be opened. */
static int dataset_class(hid_t file, const char *path)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t t = H5Dget_type(d);
    int cls = t < 0 ? -1 : (int)H5Tget_class(t);
    if (t >= 0) H5Tclose(t);
    H5Dclose(d);
    return cls;
}

static int frames_shape(hid_t file, const char *f, const char *path, int allow_empty, int *n, int *m)
{
    int rank;
    hsize_t dims[4];
    if (!pty_h5_exists(file, path)) {
        char why[1200];
        pty_h5_why_missing(file, path, why, sizeof why);
        return pty_error_set(PTY_ERR_HDF5, "'%s' has no dataset '%s'%s; give its path with --frames", f, path, why);
    }
    PTY_TRY(pty_h5_shape(file, f, path, &rank, dims));
    PTY_CHECK(rank == 3, PTY_ERR_HDF5, "'%s': frames dataset '%s' must be 3-D (N, M, M), got rank %d", f, path, rank);
    unsigned long long nf = dims[0], h = dims[1], w = dims[2];
    PTY_CHECK(h == w, PTY_ERR_HDF5, "'%s': frames dataset '%s' has non-square frames %llux%llu", f, path, h, w);
    PTY_CHECK(h >= PTY_MIN_FRAME && h <= PTY_MAX_FRAME, PTY_ERR_HDF5,
              "'%s': frames dataset '%s' has frames of %llux%llu pixels, out of range (%d to %d)", f, path, h, w,
              PTY_MIN_FRAME, PTY_MAX_FRAME);
    PTY_CHECK(nf >= 1 || allow_empty, PTY_ERR_HDF5, "'%s': frames dataset '%s' holds no frames", f, path);
    PTY_CHECK(nf <= INT_MAX, PTY_ERR_HDF5, "'%s': frames dataset '%s' holds %llu frames, more than %d", f, path, nf,
              INT_MAX);
    int cls = dataset_class(file, path);
    PTY_CHECK(cls == H5T_INTEGER || cls == H5T_FLOAT, PTY_ERR_HDF5,
              "'%s': frames dataset '%s' must hold integer or float intensities%s", f, path,
              pty_h5_is_complex(file, path) ? ", not complex numbers" : "");
    *n = (int)nf;
    *m = (int)h;
    return PTY_OK;
}

/* One geometry scalar: the override when > 0, else the file's value, which
 * must then be finite and positive.  Missing is an error only when `needed`
 * (positions in metres); otherwise the value stays 0 (unknown). */
static int geometry_value(hid_t file, const char *f, const char *path, double override, int needed,
                          const char *what, const char *unit, const char *flag, double *out)
{
    *out = 0.0;
    if (override > 0.0) {
        *out = override;
        return PTY_OK;
    }
    if (!path || !pty_h5_exists(file, path)) {
        if (!needed) return PTY_OK;
        return pty_error_set(PTY_ERR_HDF5,
                             "'%s' has no %s dataset '%s', needed to convert positions from metres to pixels; "
                             "give it with %s, or give positions in pixels with --positions-px",
                             f, what, path ? path : "(none)", flag);
    }
    double v;
    PTY_TRY(pty_h5_read_scalar(file, f, path, &v));
    PTY_CHECK(isfinite(v) && v > 0.0, PTY_ERR_DATA, "'%s': %s must be positive (dataset '%s' holds %g %s); override it with %s",
              f, what, path, v, unit, flag);
    *out = v;
    return PTY_OK;
}

/* Warn when y_pixel_size, next to an x_pixel_size, disagrees with it: the
 * reader assumes square pixels. */
static void check_square_pixels(hid_t file, const char *f, const char *xpath, double x)
{
    static const char suffix[] = "x_pixel_size";
    char ypath[1024];
    size_t len = strlen(xpath), ls = sizeof suffix - 1;
    if (len < ls || len >= sizeof ypath || strcmp(xpath + len - ls, suffix) != 0) return;
    memcpy(ypath, xpath, len + 1);
    ypath[len - ls] = 'y';
    double y;
    if (!pty_h5_exists(file, ypath) || pty_h5_read_scalar(file, f, ypath, &y) != PTY_OK) {
        pty_error_clear();
        return;
    }
    if (isfinite(y) && fabs(y - x) > 1e-6 * x)
        pty_warn("'%s': detector pixels are not square ('%s' = %g m, '%s' = %g m); using %g m", f, xpath, x, ypath, y,
                 x);
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
    shape_str(rank, dims, shape, sizeof shape);

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

/* Shape of an optional dataset.  *present = 0 when it is absent at its
 * default CXI path; a path the user named (`flag`) must exist. */
static int optional_shape(hid_t file, const char *f, const char *path, const char *dflt, const char *what,
                          const char *flag, int *present, int *rank, hsize_t dims[4], char *shape, size_t len)
{
    *present = 0;
    if (!path) return PTY_OK;
    if (!pty_h5_exists(file, path)) {
        if (strcmp(path, dflt) == 0) return PTY_OK;
        return pty_error_set(PTY_ERR_HDF5, "'%s' has no %s dataset '%s'; check the path given with %s", f, what, path,
                             flag);
    }
    PTY_TRY(pty_h5_shape(file, f, path, rank, dims));
    shape_str(*rank, dims, shape, len);
    *present = 1;
    return PTY_OK;
}

/* The detector mask as 0/1 bytes, or *out = NULL when there is none.  The
 * default CXI path may be absent; a path the user named must exist. */
static int read_mask(hid_t file, const pty_read_options *o, int m, unsigned char **out)
{
    const char *f = o->path, *path = o->mask;
    int present = 0, rank = 0;
    hsize_t dims[4];
    char shape[96];
    *out = NULL;
    PTY_TRY(optional_shape(file, f, path, PTY_CXI_MASK, "mask", "--mask", &present, &rank, dims, shape, sizeof shape));
    if (!present) return PTY_OK;
    PTY_CHECK(rank == 2 && dims[0] == (hsize_t)m && dims[1] == (hsize_t)m, PTY_ERR_HDF5,
              "'%s': mask dataset '%s' has shape %s but frames are %dx%d", f, path, shape, m, m);
    size_t mm = (size_t)m * m;
    float *v = malloc(mm * sizeof *v);
    unsigned char *mask = malloc(mm);
    int rc = PTY_OK;
    if (!v || !mask) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate a %dx%d mask", m, m);
    } else {
        rc = pty_h5_read_float(file, f, path, v, mm);
        /* NaN compares unequal to 0, so a NaN in the mask means bad too */
        for (size_t i = 0; rc == PTY_OK && i < mm; i++) mask[i] = v[i] != 0.0f;
    }
    free(v);
    if (rc != PTY_OK) {
        free(mask);
        return rc;
    }
    *out = mask;
    return PTY_OK;
}

/* The initial probe, *out = NULL when there is none; same path rule as the mask. */
static int read_probe(hid_t file, const pty_read_options *o, int m, pty_cf **out, int *modes)
{
    const char *f = o->path, *path = o->probe;
    int present = 0, rank = 0;
    hsize_t dims[4];
    char shape[96];
    *out = NULL;
    *modes = 0;
    PTY_TRY(optional_shape(file, f, path, PTY_CXI_PROBE, "probe", "--probe", &present, &rank, dims, shape, sizeof shape));
    if (!present) return PTY_OK;
    const hsize_t mh = (hsize_t)m;
    int ok = (rank == 2 && dims[0] == mh && dims[1] == mh) || (rank == 3 && dims[0] >= 1 && dims[1] == mh && dims[2] == mh);
    PTY_CHECK(ok, PTY_ERR_HDF5, "'%s': probe dataset '%s' has shape %s but frames are %dx%d; it must be %dx%d or Kx%dx%d", f,
              path, shape, m, m, m, m, m, m);
    PTY_CHECK(rank == 2 || dims[0] <= PTY_MAX_PROBE_MODES, PTY_ERR_HDF5, "'%s': probe dataset '%s' holds %llu modes, more than %d",
              f, path, (unsigned long long)dims[0], PTY_MAX_PROBE_MODES);
    PTY_CHECK(pty_h5_is_complex(file, path), PTY_ERR_HDF5,
              "'%s': probe dataset '%s' is not complex (a compound with members 'r' and 'i', as h5py writes)", f, path);
    int k = rank == 2 ? 1 : (int)dims[0];
    size_t total = (size_t)k * m * m;
    pty_cf *probe = malloc(total * sizeof *probe);
    PTY_CHECK(probe, PTY_ERR_NOMEM, "cannot allocate a %dx%dx%d probe", k, m, m);
    int rc = pty_h5_read_complex(file, f, path, probe, total);
    double power = 0.0;
    for (size_t i = 0; rc == PTY_OK && i < total; i++) {
        if (!isfinite(probe[i].re) || !isfinite(probe[i].im))
            rc = pty_error_set(PTY_ERR_DATA, "'%s': probe dataset '%s' has a non-finite value at element %zu", f, path, i);
        power += pty_cabs2(probe[i]);
    }
    if (rc == PTY_OK && !(power > 0.0))
        rc = pty_error_set(PTY_ERR_DATA, "'%s': probe dataset '%s' is zero everywhere", f, path);
    if (rc != PTY_OK) {
        free(probe);
        return rc;
    }
    *out = probe;
    *modes = k;
    return PTY_OK;
}

/* File index of the k-th frame read: subset[k], or k when reading all. */
static int frame_index(const int *subset, int k) { return subset ? subset[k] : k; }

/* Read frames k0 .. k0+count-1 of the read order (file indices
 * frame_index(subset, k)) into out (count x m x m floats).  The file
 * selection is one hyperslab per run of consecutive indices, OR-ed together;
 * since the indices increase, HDF5 delivers them in the order asked. */
static herr_t read_selected(hid_t dset, hid_t fs, const int *subset, int k0, int count, hsize_t m, float *out)
{
    for (int k = 0; k < count;) {
        int r = k + 1;
        while (r < count && frame_index(subset, k0 + r) == frame_index(subset, k0 + r - 1) + 1) r++;
        hsize_t start[3] = {(hsize_t)frame_index(subset, k0 + k), 0, 0}, cnt[3] = {(hsize_t)(r - k), m, m};
        if (H5Sselect_hyperslab(fs, k == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start, NULL, cnt, NULL) < 0) return -1;
        k = r;
    }
    hsize_t mdims[3] = {(hsize_t)count, m, m};
    hid_t ms = H5Screate_simple(3, mdims, NULL);
    if (ms < 0) return -1;
    herr_t e = H5Dread(dset, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out);
    H5Sclose(ms);
    return e;
}

/* Explain a failed read of frames k0 .. k0+count-1: a compression filter
 * this HDF5 cannot load (the usual cause with detector files), else the
 * first frame that cannot be read on its own (corrupt data), else the range. */
static int frames_read_error(hid_t dset, hid_t fs, const char *f, const char *path, const int *subset, int k0,
                             int count, hsize_t m, float *scratch)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    int nf = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags = 0, config = 0;
        size_t nelm = 0;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelm, NULL, sizeof name, name, &config);
        if (id >= 0 && H5Zfilter_avail(id) <= 0) {
            /* the registered ids detector files use most (support.hdfgroup.org/services/filters.html) */
            static const struct { int id; const char *name; } known[] = {
                {307, "bzip2"}, {32000, "LZF"}, {32001, "Blosc"}, {32004, "LZ4"}, {32008, "bitshuffle"},
                {32015, "Zstandard"},
            };
            for (size_t j = 0; j < sizeof known / sizeof *known && !name[0]; j++)
                if (known[j].id == (int)id) snprintf(name, sizeof name, "%s", known[j].name);
            H5Pclose(dcpl);
            return pty_error_set(PTY_ERR_HDF5,
                                 "'%s': cannot read '%s': it is compressed with HDF5 filter %d%s%s%s, which is not "
                                 "available; install its plugin (Debian: hdf5-filter-plugin and bitshuffle, which "
                                 "ptycho finds by itself) or set HDF5_PLUGIN_PATH to its directory",
                                 f, path, (int)id, name[0] ? " (" : "", name, name[0] ? ")" : "");
        }
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    for (int k = 0; k < count; k++)
        if (read_selected(dset, fs, subset, k0 + k, 1, m, scratch) < 0)
            return pty_error_set(PTY_ERR_HDF5, "'%s': cannot read frame %d of '%s' (corrupt or unreadable data)", f,
                                 frame_index(subset, k0 + k), path);
    return pty_error_set(PTY_ERR_HDF5, "'%s': cannot read frames %d..%d of '%s' (corrupt or unreadable data)", f,
                         frame_index(subset, k0), frame_index(subset, k0 + count - 1), path);
}

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

/* After the read: say which frames were left out (refuse when all were),
 * and mask the pixels above PTY_OUTLIER_FACTOR times the median frame's
 * largest count, naming the largest. */
static int screen_report(pty_dataset *d, screen *sc, const char *f, const char *path, const int *subset)
{
    const int n = d->n_frames;
    const size_t mm = (size_t)d->m * d->m;
    int rc = PTY_OK;
    if (sc->n_empty == n && !subset)
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
                         (double)median * median, (double)worst * worst, frame_index(subset, worst_frame), row, col);
            }
        }
        free(sorted);
    }
    free(sc->frame_max);
    sc->frame_max = NULL;
    return rc;
}

/* Read the frames into d (n_frames, m set): all of them, or subset[0 ..
 * d->n_frames) when subset is not NULL, in chunks of consecutive read order
 * through one scratch buffer.  Leave out (mask) frames with no counts and
 * mask absurd pixels, each with one warning (screen_report); refuse, when
 * reading all, a scan with no usable frame; warn once about bad values. */
static int read_frames(hid_t file, const char *f, const char *path, const unsigned char *mask, const int *subset,
                       pty_dataset *d)
{
    const int n = d->n_frames;
    const size_t mm = (size_t)d->m * d->m;
    size_t chunk = SCRATCH_BYTES / (mm * sizeof(float));
    if (chunk < 1) chunk = 1;
    if (chunk > FRAME_CHUNK) chunk = FRAME_CHUNK;
    if (chunk > (size_t)n) chunk = (size_t)n;
    float *scratch = malloc(chunk * mm * sizeof *scratch);
    PTY_CHECK(scratch, PTY_ERR_NOMEM, "cannot allocate a %.1f MiB frame buffer",
              (double)(chunk * mm * sizeof *scratch) / (1 << 20));
    hid_t dset = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t fs = dset < 0 ? H5I_INVALID_HID : H5Dget_space(dset);
    if (fs < 0) {
        if (dset >= 0) H5Dclose(dset);
        free(scratch);
        return pty_error_set(PTY_ERR_HDF5, "'%s': cannot open frames dataset '%s'", f, path);
    }

    long n_bad = 0;
    int bad_frames = 0, first_bad = -1, rc = PTY_OK;
    screen sc = {0};
    for (int first = 0; first < n && rc == PTY_OK; first += (int)chunk) {
        int count = n - first < (int)chunk ? n - first : (int)chunk;
        if (read_selected(dset, fs, subset, first, count, (hsize_t)d->m, scratch) < 0)
            rc = frames_read_error(dset, fs, f, path, subset, first, count, (hsize_t)d->m, scratch);
        for (int k = 0; k < count && rc == PTY_OK; k++) {
            const int j = first + k;
            long bad = pty_dataset_set_frame(d, j, scratch + (size_t)k * mm, mask);
            if (bad > 0) {
                n_bad += bad;
                if (bad_frames++ == 0) first_bad = frame_index(subset, j);
            }
            screen_frame(d, j, frame_index(subset, j), &sc);
        }
    }
    H5Sclose(fs);
    H5Dclose(dset);
    free(scratch);
    PTY_TRY(rc);
    if (n_bad > 0)
        pty_warn("'%s': %ld pixels of '%s' are NaN, Inf or negative, in %d of %d frames (first in frame %d); they are masked",
                 f, n_bad, path, bad_frames, n, first_bad);
    return screen_report(d, &sc, f, path, subset);
}

/* What the checks before the frame read establish, shared by
 * pty_dataset_read and pty_positions_read. */
typedef struct scan {
    hid_t file;
    const char *frames; /* frames dataset path */
    int n, m;           /* frames in the file, frame side */
    double wavelength, distance, pixel, dx;
    double *pos;          /* n x 2 object pixels (row, col) */
    unsigned char *mask;  /* m x m or NULL */
    pty_cf *probe;        /* modes x m x m or NULL */
    int modes;
    int half;             /* PTY_HALF_*: n and pos are the half's, frame j of the half is file frame 2j + half - 1 */
} scan;

static void scan_close(scan *s)
{
    if (s->file >= 0) H5Fclose(s->file);
    free(s->pos);
    free(s->mask);
    free(s->probe);
    memset(s, 0, sizeof *s);
    s->file = H5I_INVALID_HID;
}

int pty_scan_header_read(hid_t file, const pty_read_options *o, int allow_empty, pty_scan_header *h)
{
    const char *f = o->path;
    const int needed = !o->positions_px;
    double energy;
    memset(h, 0, sizeof *h);
    h->frames = o->frames ? o->frames : PTY_CXI_FRAMES;
    int rc = frames_shape(file, f, h->frames, allow_empty, &h->n, &h->m);
    if (rc == PTY_OK)
        rc = geometry_value(file, f, o->energy, o->energy_ev * PTY_EV_J, needed, "energy", "J", "--energy (eV)", &energy);
    if (rc == PTY_OK)
        rc = geometry_value(file, f, o->distance, o->distance_m, needed, "distance", "m", "--distance (m)", &h->distance);
    if (rc == PTY_OK)
        rc = geometry_value(file, f, o->pixel, o->pixel_m, needed, "detector pixel size", "m", "--pixel-size (m)",
                            &h->detector_pixel);
    if (rc != PTY_OK) return rc;
    /* Energy stored in eV or keV instead of J is a common slip; photons between
       0.1 eV and 1 MeV cover every ptychography source. */
    if (energy > 0.0 && !(o->energy_ev > 0.0) && (energy < 0.1 * PTY_EV_J || energy > 1e6 * PTY_EV_J))
        pty_warn("'%s': energy %g J ('%s') is %g eV, implausible for photons; CXI stores joules: "
                 "if the file holds eV or keV, give the energy with --energy (eV)",
                 f, energy, o->energy, energy / PTY_EV_J);
    if (h->detector_pixel > 0.0 && !(o->pixel_m > 0.0)) check_square_pixels(file, f, o->pixel, h->detector_pixel);
    if (energy > 0.0) h->wavelength = PLANCK_J_S * LIGHT_M_S / energy;
    h->pixel_size = pty_object_pixel_size(h->wavelength, h->distance, h->m, h->detector_pixel);
    rc = read_mask(file, o, h->m, &h->mask);
    if (rc == PTY_OK) rc = read_probe(file, o, h->m, &h->probe, &h->probe_modes);
    if (rc != PTY_OK) pty_scan_header_free(h);
    return rc;
}

void pty_scan_header_free(pty_scan_header *h)
{
    free(h->mask);
    free(h->probe);
    h->mask = NULL;
    h->probe = NULL;
}

/* Open the file and run every check except the frame read: frame shape,
 * geometry, positions (read and converted), mask and probe.  On failure the
 * caller closes s. */
static int scan_check(const pty_read_options *o, scan *s)
{
    const char *f = o->path;
    pty_scan_header h;
    PTY_TRY(pty_h5_open_read(f, &s->file));
    PTY_TRY(pty_scan_header_read(s->file, o, 0, &h));
    s->frames = h.frames;
    s->n = h.n;
    s->m = h.m;
    s->wavelength = h.wavelength;
    s->distance = h.distance;
    s->pixel = h.detector_pixel;
    s->dx = h.pixel_size;
    s->mask = h.mask;
    s->probe = h.probe;
    s->modes = h.probe_modes;

    s->pos = malloc((size_t)s->n * 2 * sizeof *s->pos);
    PTY_CHECK(s->pos, PTY_ERR_NOMEM, "cannot allocate %d positions", s->n);
    PTY_TRY(read_positions(s->file, o, s->n, s->dx, s->pos));
    if (o->half_set != PTY_HALF_ALL) {
        PTY_CHECK(o->half_set == PTY_HALF_EVEN || o->half_set == PTY_HALF_ODD, PTY_ERR_ARG, "--half-set: unknown half %d",
                  o->half_set);
        const int parity = o->half_set - 1, count = (s->n - parity + 1) / 2;
        PTY_CHECK(count >= 1, PTY_ERR_DATA, "'%s': --half-set %s: the scan has %d frame%s, so that half is empty", f,
                  pty_half_set_names[o->half_set], s->n, s->n == 1 ? "" : "s");
        for (int j = 0; j < count; j++) {
            s->pos[2 * (size_t)j] = s->pos[2 * (2 * (size_t)j + parity)];
            s->pos[2 * (size_t)j + 1] = s->pos[2 * (2 * (size_t)j + parity) + 1];
        }
        s->n = count;
        s->half = o->half_set;
    }
    return PTY_OK;
}

static int scan_open(const pty_read_options *o, scan *s)
{
    memset(s, 0, sizeof *s);
    s->file = H5I_INVALID_HID;
    PTY_CHECK(o && o->path, PTY_ERR_ARG, "no input file given");
    int rc = scan_check(o, s);
    if (rc != PTY_OK) scan_close(s);
    return rc;
}

/* The frame subset, if any, against the n frames of the file. */
static int check_subset(const pty_read_options *o, const scan *s)
{
    const int *sub = o->frame_subset;
    const char *f = o->path;
    if (!sub) {
        PTY_CHECK(o->n_subset == 0, PTY_ERR_ARG, "'%s': a frame subset of %d indices was given without the indices", f,
                  o->n_subset);
        return PTY_OK;
    }
    PTY_CHECK(o->n_subset >= 1, PTY_ERR_ARG, "'%s': the frame subset is empty (%d indices); '%s' holds %d frames", f,
              o->n_subset, s->frames, s->n);
    for (int k = 0; k < o->n_subset; k++) {
        PTY_CHECK(sub[k] >= 0 && sub[k] < s->n, PTY_ERR_ARG,
                  "'%s': frame index %d (subset entry %d) is out of range: '%s' holds %d frames (0 to %d)", f, sub[k],
                  k, s->frames, s->n, s->n - 1);
        PTY_CHECK(k == 0 || sub[k] > sub[k - 1], PTY_ERR_ARG,
                  "'%s': frame index %d (subset entry %d) does not follow %d: the subset must be strictly increasing "
                  "('%s' holds %d frames)",
                  f, sub[k], k, sub[k - 1], s->frames, s->n);
    }
    return PTY_OK;
}

int pty_dataset_read(const pty_read_options *o, pty_dataset **out)
{
    scan s;
    pty_dataset *d = NULL;
    *out = NULL;
    PTY_TRY(scan_open(o, &s));
    const int *sub = o->frame_subset;
    int rc = check_subset(o, &s);
    if (rc == PTY_OK) rc = pty_dataset_create(sub ? o->n_subset : s.n, s.m, &d);
    if (rc != PTY_OK) {
        scan_close(&s);
        return rc;
    }
    for (int k = 0; k < d->n_frames; k++) {
        const size_t j = (size_t)frame_index(sub, k);
        d->positions[2 * (size_t)k] = s.pos[2 * j];
        d->positions[2 * (size_t)k + 1] = s.pos[2 * j + 1];
    }
    d->wavelength = s.wavelength;
    d->distance = s.distance;
    d->detector_pixel = s.pixel;
    d->pixel_size = s.dx;
    d->probe = s.probe;
    d->probe_modes = s.modes;
    s.probe = NULL; /* owned by d now */
    /* a half: the file's frames are every other one, at 2j + parity */
    int *file_order = NULL;
    if (s.half) {
        file_order = malloc(sizeof *file_order * (size_t)d->n_frames);
        if (!file_order) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frame indices", d->n_frames);
        for (int k = 0; file_order && k < d->n_frames; k++) file_order[k] = 2 * frame_index(sub, k) + s.half - 1;
    }
    if (rc == PTY_OK) rc = read_frames(s.file, o->path, s.frames, s.mask, file_order ? file_order : sub, d);
    free(file_order);
    scan_close(&s);
    if (rc != PTY_OK) {
        pty_dataset_destroy(d);
        return rc;
    }
    *out = d;
    return PTY_OK;
}

int pty_positions_read(const pty_read_options *o, double **positions, int *n, int *m)
{
    scan s;
    *positions = NULL;
    *n = *m = 0;
    PTY_TRY(scan_open(o, &s));
    *positions = s.pos;
    *n = s.n;
    *m = s.m;
    s.pos = NULL; /* the caller's now */
    scan_close(&s);
    return PTY_OK;
}
