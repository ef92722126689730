/* frame_series.c - one dataset or a master's data_NNNNNN parts, read as one stack. */
#include "frame_series.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "pty_error.h"

/* "data_" followed by digits only: the parts a detector's file writer makes. */
static int is_part_name(const char *name)
{
    if (strncmp(name, "data_", 5) != 0 || !name[5]) return 0;
    for (const char *p = name + 5; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
}

typedef struct names {
    char (*name)[64];
    int n, cap, too_long;
} names;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    names *l = data;
    if (!is_part_name(name)) return 0;
    if (strlen(name) >= sizeof l->name[0]) {
        l->too_long = 1;
        return 0;
    }
    if (l->n == l->cap) {
        const int cap = l->cap ? 2 * l->cap : 16;
        char(*grown)[64] = realloc(l->name, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        l->name = grown;
        l->cap = cap;
    }
    snprintf(l->name[l->n++], sizeof l->name[0], "%s", name);
    return 0;
}

/* Shape and type of one part; fills p->dset, p->space, p->count. */
static int open_part(hid_t file, const char *f, const char *flag_path, pty_frame_part *p, int *h, int *w)
{
    if (!pty_h5_exists(file, p->path)) {
        char why[1400];
        pty_h5_why_missing(file, p->path, why, sizeof why);
        return pty_error_set(PTY_ERR_HDF5, "'%s': cannot open frames '%s'%s%s", f, p->path, why,
                             strcmp(p->path, flag_path) == 0 ? "; give the frames' path with --frames" : "");
    }
    p->dset = H5Dopen2(file, p->path, H5P_DEFAULT);
    PTY_CHECK(p->dset >= 0, PTY_ERR_HDF5, "'%s': '%s' is not a dataset; give the frames' path with --frames", f,
              p->path);
    p->space = H5Dget_space(p->dset);
    hsize_t dims[8];
    const int rank = p->space < 0 ? -1 : H5Sget_simple_extent_ndims(p->space);
    PTY_CHECK(rank == 3, PTY_ERR_HDF5, "'%s': frames dataset '%s' must be 3-D (N, M, M), got rank %d", f, p->path,
              rank);
    H5Sget_simple_extent_dims(p->space, dims, NULL);
    PTY_CHECK(dims[1] <= INT_MAX && dims[2] <= INT_MAX && dims[0] <= INT_MAX, PTY_ERR_HDF5,
              "'%s': frames dataset '%s' is too large (%llu x %llu x %llu)", f, p->path,
              (unsigned long long)dims[0], (unsigned long long)dims[1], (unsigned long long)dims[2]);
    hid_t t = H5Dget_type(p->dset);
    const int cls = t < 0 ? -1 : (int)H5Tget_class(t);
    if (t >= 0) H5Tclose(t);
    PTY_CHECK(cls == H5T_INTEGER || cls == H5T_FLOAT, PTY_ERR_HDF5,
              "'%s': frames dataset '%s' must hold integer or float intensities%s", f, p->path,
              pty_h5_is_complex(file, p->path) ? ", not complex numbers" : "");
    p->count = (long long)dims[0];
    *h = (int)dims[1];
    *w = (int)dims[2];
    return PTY_OK;
}

static int open_series(hid_t file, const char *f, const char *path, int allow_empty, pty_frame_series *s)
{
    H5O_info_t info;
    const int is_group = pty_h5_exists(file, path) && H5Oget_info_by_name(file, path, &info, H5P_DEFAULT) >= 0 &&
                         info.type == H5O_TYPE_GROUP;
    names l = {0};
    if (is_group) {
        hsize_t idx = 0;
        if (H5Literate_by_name(file, path, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &l, H5P_DEFAULT) < 0) {
            free(l.name);
            return pty_error_set(PTY_ERR_HDF5, "'%s': cannot list the group '%s'", f, path);
        }
        char single[sizeof s->path];
        const int len = snprintf(single, sizeof single, "%s%sdata", path, path[strlen(path) - 1] == '/' ? "" : "/");
        if (l.n == 0 && len > 0 && (size_t)len < sizeof single && pty_h5_exists(file, single)) {
            /* NeXus NXmx with one frames dataset: <group>/data */
            free(l.name);
            memcpy(s->path, single, sizeof single);
            return open_series(file, f, s->path, allow_empty, s);
        }
        if (l.n == 0) {
            free(l.name);
            return pty_error_set(PTY_ERR_HDF5,
                                 "'%s': '%s' is a group without frames (no dataset, and no members data_000001, "
                                 "data_000002 ... as a detector's master file has); give the frames' path with --frames",
                                 f, path);
        }
    }
    const int n_parts = is_group ? l.n : 1;
    s->parts = calloc((size_t)n_parts, sizeof *s->parts);
    if (!s->parts) {
        free(l.name);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frame parts", n_parts);
    }
    for (int i = 0; i < n_parts; i++) {
        s->parts[i].dset = s->parts[i].space = s->parts[i].file = H5I_INVALID_HID;
        if (is_group)
            snprintf(s->parts[i].path, sizeof s->parts[i].path, "%s%s%s", path,
                     path[strlen(path) - 1] == '/' ? "" : "/", l.name[i]);
        else
            snprintf(s->parts[i].path, sizeof s->parts[i].path, "%s", path);
    }
    s->n_parts = n_parts;
    free(l.name);
    for (int i = 0; i < n_parts; i++) {
        int h, w;
        pty_frame_part *p = s->parts + i;
        PTY_TRY(open_part(file, f, path, p, &h, &w));
        if (i == 0) {
            s->height = h;
            s->width = w;
        }
        PTY_CHECK(h == s->height && w == s->width, PTY_ERR_HDF5,
                  "'%s': frames '%s' are %dx%d but '%s' holds frames of %dx%d", f, p->path, h, w, s->parts[0].path,
                  s->height, s->width);
        p->first = s->n;
        s->n += p->count;
        PTY_CHECK(s->n <= INT_MAX, PTY_ERR_HDF5, "'%s': '%s' holds more than %d frames", f, path, INT_MAX);
    }
    PTY_CHECK(s->n >= 1 || allow_empty, PTY_ERR_HDF5, "'%s': frames dataset '%s' holds no frames", f, path);
    return PTY_OK;
}

int pty_frame_series_open(hid_t file, const char *f, const char *path, int allow_empty, pty_frame_series *s)
{
    memset(s, 0, sizeof *s);
    s->file = f;
    PTY_CHECK(strlen(path) < sizeof s->path, PTY_ERR_ARG, "frames path too long: '%s'", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    if (!pty_h5_exists(file, path)) {
        char why[1200];
        pty_h5_why_missing(file, path, why, sizeof why);
        return pty_error_set(PTY_ERR_HDF5, "'%s' has no dataset '%s'%s; give its path with --frames", f, path, why);
    }
    return open_series(file, f, path, allow_empty, s);
}

void pty_frame_series_close(pty_frame_series *s)
{
    for (int i = 0; i < s->n_parts; i++) {
        if (s->parts[i].space >= 0) H5Sclose(s->parts[i].space);
        if (s->parts[i].dset >= 0) H5Dclose(s->parts[i].dset);
        if (s->parts[i].file >= 0) H5Fclose(s->parts[i].file);
    }
    free(s->parts);
    s->parts = NULL;
    s->n_parts = 0;
}

/* The part holding series frame j (parts are in order; a binary search). */
static int part_of(const pty_frame_series *s, long long j)
{
    int lo = 0, hi = s->n_parts - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (s->parts[mid].first <= j) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Frames index[k0 .. k1) all in part p, into out: one hyperslab per run of
 * consecutive indices, OR-ed; the indices increase, so HDF5 delivers them in
 * the order asked. */
static herr_t read_in_part(const pty_frame_part *p, const int *index, int k0, int k1, int r0, int c0, int h, int w,
                           float *out)
{
    for (int k = k0; k < k1;) {
        int r = k + 1;
        while (r < k1 && index[r] == index[r - 1] + 1) r++;
        hsize_t start[3] = {(hsize_t)(index[k] - p->first), (hsize_t)r0, (hsize_t)c0};
        hsize_t cnt[3] = {(hsize_t)(r - k), (hsize_t)h, (hsize_t)w};
        if (H5Sselect_hyperslab(p->space, k == k0 ? H5S_SELECT_SET : H5S_SELECT_OR, start, NULL, cnt, NULL) < 0)
            return -1;
        k = r;
    }
    hsize_t mdims[3] = {(hsize_t)(k1 - k0), (hsize_t)h, (hsize_t)w};
    hid_t ms = H5Screate_simple(3, mdims, NULL);
    if (ms < 0) return -1;
    herr_t e = H5Dread(p->dset, H5T_NATIVE_FLOAT, ms, p->space, H5P_DEFAULT, out);
    H5Sclose(ms);
    return e;
}

/* A part's compression filter this HDF5 cannot load, named (PTY_OK if none). */
static int missing_filter(const pty_frame_series *s, const pty_frame_part *p)
{
    hid_t dcpl = H5Dget_create_plist(p->dset);
    const int nf = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
    int rc = PTY_OK;
    for (int i = 0; i < nf && rc == PTY_OK; i++) {
        unsigned flags = 0, config = 0;
        size_t nelm = 0;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelm, NULL, sizeof name, name, &config);
        if (id < 0 || H5Zfilter_avail(id) > 0) continue;
        /* the registered ids detector files use most (support.hdfgroup.org/services/filters.html) */
        static const struct { int id; const char *name; } known[] = {
            {307, "bzip2"}, {32000, "LZF"}, {32001, "Blosc"}, {32004, "LZ4"}, {32008, "bitshuffle"},
            {32015, "Zstandard"},
        };
        for (size_t j = 0; j < sizeof known / sizeof *known && !name[0]; j++)
            if (known[j].id == (int)id) snprintf(name, sizeof name, "%s", known[j].name);
        rc = pty_error_set(PTY_ERR_HDF5,
                           "'%s': cannot read '%s': it is compressed with HDF5 filter %d%s%s%s, which is not "
                           "available; install its plugin (Debian: hdf5-filter-plugin and bitshuffle, which "
                           "ptycho finds by itself) or set HDF5_PLUGIN_PATH to its directory",
                           s->file, p->path, (int)id, name[0] ? " (" : "", name, name[0] ? ")" : "");
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    return rc;
}

int pty_frame_series_read(const pty_frame_series *s, const int *index, int count, int r0, int c0, int h, int w,
                          float *out)
{
    const size_t hw = (size_t)h * w;
    for (int k = 0; k < count;) {
        const int pi = part_of(s, index[k]);
        const pty_frame_part *p = s->parts + pi;
        int k1 = k + 1;
        while (k1 < count && index[k1] < p->first + p->count) k1++;
        if (read_in_part(p, index, k, k1, r0, c0, h, w, out + (size_t)k * hw) < 0) {
            PTY_TRY(missing_filter(s, p));
            for (int j = k; j < k1; j++)
                if (read_in_part(p, index, j, j + 1, r0, c0, h, w, out + (size_t)j * hw) < 0)
                    return pty_error_set(PTY_ERR_HDF5, "'%s': cannot read frame %d of '%s' (corrupt or unreadable data)",
                                         s->file, index[j], p->path);
            return pty_error_set(PTY_ERR_HDF5, "'%s': cannot read frames %d..%d of '%s' (corrupt or unreadable data)",
                                 s->file, index[k], index[k1 - 1], p->path);
        }
        k = k1;
    }
    return PTY_OK;
}

int pty_frame_series_open_files(const char *pattern, int first, int per_file, int n_frames, const char *path,
                                pty_frame_series *s)
{
    memset(s, 0, sizeof *s);
    s->file = pattern;
    snprintf(s->path, sizeof s->path, "%s", path);
    PTY_CHECK(per_file >= 1 && n_frames >= 1, PTY_ERR_ARG, "frames per file (%d) and frames (%d) must be positive",
              per_file, n_frames);
    const int n_parts = (n_frames + per_file - 1) / per_file;
    s->parts = calloc((size_t)n_parts, sizeof *s->parts);
    PTY_CHECK(s->parts, PTY_ERR_NOMEM, "cannot allocate %d frame parts", n_parts);
    s->n_parts = n_parts;
    for (int i = 0; i < n_parts; i++) s->parts[i].dset = s->parts[i].space = s->parts[i].file = H5I_INVALID_HID;
    for (int i = 0; i < n_parts; i++) {
        pty_frame_part *p = s->parts + i;
        char name[1100];
        snprintf(name, sizeof name, pattern, i + first);
        PTY_TRY(pty_h5_open_read(name, &p->file));
        snprintf(p->path, sizeof p->path, "%s", path);
        int h, w;
        PTY_TRY(open_part(p->file, name, path, p, &h, &w));
        if (i == 0) {
            s->height = h;
            s->width = w;
        }
        PTY_CHECK(h == s->height && w == s->width, PTY_ERR_HDF5, "'%s': frames '%s' are %dx%d but the first file's are %dx%d",
                  name, path, h, w, s->height, s->width);
        const long long want = i == n_parts - 1 ? n_frames - (long long)i * per_file : per_file;
        PTY_CHECK(p->count >= want, PTY_ERR_HDF5, "'%s': '%s' holds %lld frames; %lld expected (frames per file)", name,
                  path, p->count, want);
        p->first = (long long)i * per_file;
        p->count = want;
    }
    s->n = n_frames;
    return PTY_OK;
}
