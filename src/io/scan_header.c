/* scan_header.c - everything about a scan but its positions, checked before
 * the large frame read: the frames (one dataset or a detector's parts), the
 * geometry (CXI in SI units, or a detector master's NeXus fields with their
 * units), the detector window with its masks, dark and saturation, and the
 * initial probe.  Frames are then read through pty_scan_frames_read, which
 * prepares them (detector_prep.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxi_read.h"
#include "h5util.h"
#include "pty_error.h"
#include "pty_log.h"
#include "tiff_io.h"

#define CENTRE_FRAMES 64 /* frames summed to fit the beam centre */

/* Where a detector's own file writer (Eiger, Velociprobe: NeXus NXmx) puts
 * what CXI keeps elsewhere; used when the CXI path is absent. */
#define NX_DET "/entry/instrument/detector"
static const char nx_frames[] = "/entry/data";
static const char nx_mask[] = NX_DET "/detectorSpecific/pixel_mask";
static const char nx_cutoff[] = NX_DET "/detectorSpecific/countrate_correction_count_cutoff";
static const char nx_centre_row[] = NX_DET "/beam_center_y", nx_centre_col[] = NX_DET "/beam_center_x";

enum { LENGTH, ENERGY, WAVELENGTH };
typedef struct source {
    const char *path;
    int kind;         /* LENGTH, ENERGY, or WAVELENGTH (a length giving the energy) */
    const char *unit; /* when the dataset has no units attribute */
} source;

/* SI factor of a unit as NeXus files write it; 0 when unknown. */
static double unit_factor(int kind, const char *u)
{
    static const struct { const char *name; int kind; double f; } units[] = {
        {"m", LENGTH, 1.0},      {"meter", LENGTH, 1.0},    {"meters", LENGTH, 1.0},  {"metre", LENGTH, 1.0},
        {"mm", LENGTH, 1e-3},    {"um", LENGTH, 1e-6},      {"micron", LENGTH, 1e-6}, {"microns", LENGTH, 1e-6},
        {"nm", LENGTH, 1e-9},    {"angstrom", LENGTH, 1e-10}, {"A", LENGTH, 1e-10},   {"Angstrom", LENGTH, 1e-10},
        {"J", ENERGY, 1.0},      {"eV", ENERGY, PTY_EV_J},  {"keV", ENERGY, 1e3 * PTY_EV_J},
    };
    const int k = kind == WAVELENGTH ? LENGTH : kind;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (units[i].kind == k && strcmp(units[i].name, u) == 0) return units[i].f;
    return 0.0;
}

/* One geometry scalar in SI units (energy in J): the override when > 0,
 * else the first source present: the CXI path (or the one the user named),
 * then, when that is the default, the detector master's.  A `units`
 * attribute is honoured.  Missing is an error only when `needed` (positions
 * in metres); otherwise the value stays 0 (unknown).  *from names the
 * dataset used. */
static int geometry_value(hid_t file, const char *f, const char *path, const char *dflt, const source *fallback,
                          int n_fallback, double override, int needed, const char *what, const char *flag,
                          double *out, const char **from)
{
    *out = 0.0;
    *from = NULL;
    if (override > 0.0) {
        *out = override;
        return PTY_OK;
    }
    source s = {path, fallback ? fallback[0].kind : LENGTH, NULL};
    int found = path && pty_h5_exists(file, path);
    for (int i = 0; !found && path && strcmp(path, dflt) == 0 && i < n_fallback; i++)
        if (pty_h5_exists(file, fallback[i].path)) {
            s = fallback[i];
            found = 1;
        }
    if (!found) {
        if (!needed) return PTY_OK;
        return pty_error_set(PTY_ERR_HDF5,
                             "'%s' has no %s dataset '%s', needed to convert positions from metres to pixels; "
                             "give it with %s, or give positions in pixels with --positions-px",
                             f, what, path ? path : "(none)", flag);
    }
    double v;
    PTY_TRY(pty_h5_read_scalar(file, f, s.path, &v));
    char unit[64];
    double factor = 1.0;
    const char *u = pty_h5_attr_read_string(file, s.path, "units", unit, sizeof unit) ? unit : s.unit;
    if (u && u[0]) {
        factor = unit_factor(s.kind, u);
        PTY_CHECK(factor > 0.0, PTY_ERR_DATA, "'%s': %s dataset '%s' is in '%s', a unit ptycho does not know; give the %s with %s",
                  f, what, s.path, u, what, flag);
    }
    const char *shown = u && u[0] ? u : s.kind == ENERGY ? "J" : "m"; /* CXI: SI units */
    PTY_CHECK(isfinite(v) && v > 0.0, PTY_ERR_DATA, "'%s': %s must be positive (dataset '%s' holds %g %s); override it with %s",
              f, what, s.path, v, shown, flag);
    *out = s.kind == WAVELENGTH ? PTY_HC_J_M / (v * factor) : v * factor;
    *from = s.path;
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
    char unit[64];
    if (pty_h5_attr_read_string(file, ypath, "units", unit, sizeof unit)) y *= unit_factor(LENGTH, unit);
    if (isfinite(y) && fabs(y - x) > 1e-6 * x)
        pty_warn("'%s': detector pixels are not square ('%s' = %g m, '%s' = %g m); using %g m", f, xpath, x, ypath, y,
                 x);
}

/* The geometry: wavelength, distance, (binned) detector pixel, object pixel. */
static int read_geometry(hid_t file, const pty_read_options *o, pty_scan_header *h, int bin)
{
    static const source energy_nx[] = {
        {NX_DET "/detectorSpecific/photon_energy", ENERGY, "eV"},
        {"/entry/instrument/beam/incident_wavelength", WAVELENGTH, "angstrom"},
    };
    static const source distance_nx[] = {{NX_DET "/detector_distance", LENGTH, "m"}};
    static const source pixel_nx[] = {{NX_DET "/x_pixel_size", LENGTH, "m"}};
    const char *f = o->path, *from;
    const int needed = !o->positions_px;
    double energy, pixel;
    PTY_TRY(geometry_value(file, f, o->energy, PTY_CXI_ENERGY, energy_nx, 2, o->energy_ev * PTY_EV_J, needed, "energy",
                           "--energy (eV)", &energy, &from));
    /* Energy stored in eV or keV instead of J (without a units attribute) is a
       common slip; photons between 0.1 eV and 1 MeV cover every ptychography source. */
    if (from && energy > 0.0 && (energy < 0.1 * PTY_EV_J || energy > 1e6 * PTY_EV_J))
        pty_warn("'%s': energy %g J ('%s') is %g eV, implausible for photons; CXI stores joules: "
                 "if the file holds eV or keV, give the energy with --energy (eV)",
                 f, energy, from, energy / PTY_EV_J);
    PTY_TRY(geometry_value(file, f, o->distance, PTY_CXI_DISTANCE, distance_nx, 1, o->distance_m, needed, "distance",
                           "--distance (m)", &h->distance, &from));
    PTY_TRY(geometry_value(file, f, o->pixel, PTY_CXI_PIXEL, pixel_nx, 1, o->pixel_m, needed, "detector pixel size",
                           "--pixel-size (m)", &pixel, &from));
    if (from) check_square_pixels(file, f, from, pixel);
    if (energy > 0.0) h->wavelength = PTY_HC_J_M / energy;
    h->detector_pixel = pixel * bin;
    h->pixel_size = pty_object_pixel_size(h->wavelength, h->distance, h->m, h->detector_pixel);
    return PTY_OK;
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
    pty_h5_shape_str(*rank, dims, shape, len);
    *present = 1;
    return PTY_OK;
}

/* Masks gathered before the window is known: the detector-sized one (h x
 * w, from the file's dataset and a TIFF) and the frame-sized one (m x m). */
typedef struct masks {
    unsigned char *detector, *frame;
} masks;

static int add_mask(const char *f, const char *name, const float *v, int rows, int cols, const pty_scan_header *h,
                    masks *k, const char *flag, char *record, size_t record_size)
{
    unsigned char **dst = NULL;
    if (rows == h->height && cols == h->width) dst = &k->detector;
    else if (rows == h->m && cols == h->m) dst = &k->frame;
    if (!dst) {
        if (h->height == h->m && h->width == h->m)
            return pty_error_set(PTY_ERR_HDF5, "'%s': mask %s has shape %dx%d but frames are %dx%d", f, name, rows, cols,
                                 h->m, h->m);
        return pty_error_set(PTY_ERR_HDF5,
                             "'%s': mask %s has shape %dx%d; it must be the detector's %dx%d or the prepared frame's %dx%d (%s)",
                             f, name, rows, cols, h->height, h->width, h->m, h->m, flag);
    }
    const size_t n = (size_t)rows * cols;
    if (!*dst) *dst = calloc(n, 1);
    PTY_CHECK(*dst, PTY_ERR_NOMEM, "cannot allocate a %dx%d mask", rows, cols);
    long bad = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f) { /* NaN compares unequal to 0, so a NaN in the mask means bad too */
            (*dst)[i] = 1;
            bad++;
        }
    const size_t len = strlen(record);
    snprintf(record + len, record_size - len, "%s%s (%ld pixels)", len ? "; " : "", name, bad);
    return PTY_OK;
}

/* The file's mask dataset (CXI, or the detector master's pixel_mask) and
 * the TIFF of --mask-file. */
static int read_masks(hid_t file, const pty_read_options *o, pty_scan_header *h, masks *k)
{
    const char *f = o->path, *path = o->mask;
    if (path && strcmp(path, PTY_CXI_MASK) == 0 && !pty_h5_exists(file, path) && pty_h5_exists(file, nx_mask))
        path = nx_mask;
    int present = 0, rank = 0;
    hsize_t dims[4];
    char shape[96];
    PTY_TRY(optional_shape(file, f, path, PTY_CXI_MASK, "mask", "--mask", &present, &rank, dims, shape, sizeof shape));
    if (present) {
        PTY_CHECK(rank == 2 && dims[0] <= 65536 && dims[1] <= 65536, PTY_ERR_HDF5,
                  "'%s': mask dataset '%s' has shape %s; it must be 2-D", f, path, shape);
        const size_t n = (size_t)dims[0] * dims[1];
        float *v = malloc((n ? n : 1) * sizeof *v);
        PTY_CHECK(v, PTY_ERR_NOMEM, "cannot allocate a %s mask", shape);
        char name[1100];
        snprintf(name, sizeof name, "dataset '%s'", path);
        int rc = pty_h5_read_float(file, f, path, v, n);
        if (rc == PTY_OK)
            rc = add_mask(f, name, v, (int)dims[0], (int)dims[1], h, k, "--mask", h->info.mask, sizeof h->info.mask);
        free(v);
        PTY_TRY(rc);
    }
    if (o->mask_file) {
        float *v;
        int rows, cols;
        PTY_TRY(pty_tiff_read_gray(o->mask_file, &v, &rows, &cols));
        char name[1100];
        snprintf(name, sizeof name, "'%s' (--mask-file)", o->mask_file);
        int rc = add_mask(o->mask_file, name, v, rows, cols, h, k, "--mask-file", h->info.mask, sizeof h->info.mask);
        free(v);
        PTY_TRY(rc);
    }
    return PTY_OK;
}

/* The dark (background) counts, detector-sized: a TIFF, or a dataset (H, W)
 * or (K, H, W), averaged over K. */
static int read_dark(hid_t file, const pty_read_options *o, const pty_scan_header *h, float **out)
{
    const char *f = o->path, *d = o->dark;
    *out = NULL;
    if (!d) return PTY_OK;
    const size_t len = strlen(d), hw = (size_t)h->height * h->width;
    const int tiff = (len > 4 && strcmp(d + len - 4, ".tif") == 0) || (len > 5 && strcmp(d + len - 5, ".tiff") == 0);
    float *v = NULL;
    long long k = 1;
    if (tiff) {
        int rows, cols;
        PTY_TRY(pty_tiff_read_gray(d, &v, &rows, &cols));
        if (rows != h->height || cols != h->width) {
            free(v);
            return pty_error_set(PTY_ERR_DATA, "'%s' (--dark) is %dx%d but the detector's frames are %dx%d", d, rows,
                                 cols, h->height, h->width);
        }
    } else {
        int rank;
        hsize_t dims[4];
        char shape[96];
        if (!pty_h5_exists(file, d))
            return pty_error_set(PTY_ERR_HDF5, "'%s' has no dark dataset '%s' (--dark: a dataset in the input, or a .tif file)",
                                 f, d);
        PTY_TRY(pty_h5_shape(file, f, d, &rank, dims));
        pty_h5_shape_str(rank, dims, shape, sizeof shape);
        const int ok = (rank == 2 && dims[0] == (hsize_t)h->height && dims[1] == (hsize_t)h->width) ||
                       (rank == 3 && dims[0] >= 1 && dims[1] == (hsize_t)h->height && dims[2] == (hsize_t)h->width);
        PTY_CHECK(ok, PTY_ERR_DATA, "'%s': dark dataset '%s' has shape %s; it must be %dx%d or Kx%dx%d (--dark)", f, d,
                  shape, h->height, h->width, h->height, h->width);
        k = rank == 3 ? (long long)dims[0] : 1;
        v = malloc((size_t)k * hw * sizeof *v);
        PTY_CHECK(v, PTY_ERR_NOMEM, "cannot allocate the dark frames '%s' (%s)", d, shape);
        const int rc = pty_h5_read_float(file, f, d, v, (size_t)k * hw);
        if (rc != PTY_OK) {
            free(v);
            return rc;
        }
        for (size_t i = 0; i < hw; i++) {
            double s = 0.0;
            for (long long j = 0; j < k; j++) s += v[(size_t)j * hw + i];
            v[i] = (float)(s / (double)k);
        }
    }
    for (size_t i = 0; i < hw; i++)
        if (!isfinite(v[i])) {
            free(v);
            return pty_error_set(PTY_ERR_DATA, "'%s': dark %s has a non-finite value at pixel (%zu, %zu)", tiff ? d : f,
                                 tiff ? "image" : d, i / (size_t)h->width, i % (size_t)h->width);
        }
    *out = v;
    return PTY_OK;
}

/* The count at or above which a pixel is unusable: --saturation, the
 * detector's count cutoff, else the overflow mark of integer frames. */
static int read_saturation(hid_t file, const pty_read_options *o, pty_scan_header *h)
{
    pty_detector_info *in = &h->info;
    if (o->saturation > 0.0) {
        in->saturation = o->saturation;
        snprintf(in->saturation_from, sizeof in->saturation_from, "--saturation");
        return PTY_OK;
    }
    if (pty_h5_exists(file, nx_cutoff)) {
        double v;
        PTY_TRY(pty_h5_read_scalar(file, o->path, nx_cutoff, &v));
        if (isfinite(v) && v > 0.0) {
            in->saturation = v;
            snprintf(in->saturation_from, sizeof in->saturation_from, "'%s'", nx_cutoff);
            return PTY_OK;
        }
    }
    if (h->series.n_parts < 1) return PTY_OK;
    hid_t t = H5Dget_type(h->series.parts[0].dset);
    if (t >= 0 && H5Tget_class(t) == H5T_INTEGER) {
        const int bits = (int)H5Tget_size(t) * 8 - (H5Tget_sign(t) == H5T_SGN_2 ? 1 : 0);
        /* a detector marks a pixel it could not count (overflow, gap) with its type's largest value */
        in->saturation = ldexp(1.0, bits) - 1.0;
        snprintf(in->saturation_from, sizeof in->saturation_from, "the largest value of %d-bit %s frames",
                 (int)H5Tget_size(t) * 8, H5Tget_sign(t) == H5T_SGN_2 ? "signed" : "unsigned");
    }
    if (t >= 0) H5Tclose(t);
    return PTY_OK;
}

/* Up to CENTRE_FRAMES frames spread over the scan, summed (masked and
 * saturated pixels NaN), and their centroid. */
static int fit_centre(const pty_read_options *o, pty_scan_header *h, const unsigned char *mask, double centre[2])
{
    const size_t hw = (size_t)h->height * h->width;
    const int n = (int)h->series.n, use = n < CENTRE_FRAMES ? n : CENTRE_FRAMES;
    PTY_CHECK(n >= 1, PTY_ERR_DATA, "'%s': --center fit: the file holds no frames yet", o->path);
    double *sum = calloc(hw, sizeof *sum);
    float *frame = malloc(hw * sizeof *frame);
    int rc = sum && frame ? PTY_OK : pty_error_set(PTY_ERR_NOMEM, "cannot allocate two %dx%d images", h->height, h->width);
    for (int i = 0; rc == PTY_OK && i < use; i++) {
        const int index = (int)((long long)i * n / use);
        rc = pty_frame_series_read(&h->series, &index, 1, 0, 0, h->height, h->width, frame);
        const double sat = h->info.saturation > 0.0 ? h->info.saturation : INFINITY;
        for (size_t q = 0; rc == PTY_OK && q < hw; q++)
            sum[q] += (mask && mask[q]) || !(frame[q] >= 0.0f) || frame[q] >= sat ? NAN : frame[q];
    }
    if (rc == PTY_OK && !pty_detector_centroid(sum, h->height, h->width, centre))
        rc = pty_error_set(PTY_ERR_DATA, "'%s': --center fit: the frames hold no counts to find the beam in", o->path);
    if (rc == PTY_OK)
        snprintf(h->info.centre_from, sizeof h->info.centre_from, "fitted: centroid of %d frames (%.2f, %.2f)", use,
                 centre[0], centre[1]);
    free(sum);
    free(frame);
    return rc;
}

static int find_centre(hid_t file, const pty_read_options *o, pty_scan_header *h, const unsigned char *mask)
{
    pty_detector_info *in = &h->info;
    if (isfinite(o->center[0]) && isfinite(o->center[1])) {
        in->centre[0] = o->center[0];
        in->centre[1] = o->center[1];
        snprintf(in->centre_from, sizeof in->centre_from, "--center");
        return PTY_OK;
    }
    if (o->center_fit) return fit_centre(o, h, mask, in->centre);
    if (pty_h5_exists(file, nx_centre_row) && pty_h5_exists(file, nx_centre_col)) {
        PTY_TRY(pty_h5_read_scalar(file, o->path, nx_centre_row, &in->centre[0]));
        PTY_TRY(pty_h5_read_scalar(file, o->path, nx_centre_col, &in->centre[1]));
        PTY_CHECK(isfinite(in->centre[0]) && isfinite(in->centre[1]), PTY_ERR_DATA,
                  "'%s': the beam centre ('%s', '%s') is not finite; give it with --center ROW,COL", o->path,
                  nx_centre_row, nx_centre_col);
        snprintf(in->centre_from, sizeof in->centre_from, "'%s', '%s'", nx_centre_row, nx_centre_col);
        return PTY_OK;
    }
    in->centre[0] = h->height / 2;
    in->centre[1] = h->width / 2;
    snprintf(in->centre_from, sizeof in->centre_from, "the detector's middle");
    return PTY_OK;
}

/* The detector pixel under window pixel (r, c), or -1 beyond the detector. */
static long detector_pixel(const pty_scan_header *h, int r, int c)
{
    const int dr = h->r0 + r, dc = h->c0 + c;
    return dr >= 0 && dr < h->height && dc >= 0 && dc < h->width ? (long)dr * h->width + dc : -1;
}

/* win x win bytes of a detector-sized mask from (r0, c0); pixels beyond the
 * detector are bad.  NULL mask: only those. */
static unsigned char *window_mask(const unsigned char *mask, const pty_scan_header *h, int win)
{
    unsigned char *w = malloc((size_t)win * win);
    for (int r = 0; w && r < win; r++)
        for (int c = 0; c < win; c++) {
            const long q = detector_pixel(h, r, c);
            w[(size_t)r * win + c] = q < 0 || (mask && mask[q]);
        }
    return w;
}

/* The window around the centre, the frame side checks, and the prepared
 * masks and dark. */
static int make_window(const pty_read_options *o, pty_scan_header *h, masks *k, const float *dark)
{
    const char *f = o->path;
    const int bin = h->prep.bin, win = h->m * bin;
    pty_detector_info *in = &h->info;
    h->prep.m = h->m;
    h->prep.win = win;
    h->r0 = (int)lround(in->centre[0] - (win / 2 + (bin - 1) / 2.0));
    h->c0 = (int)lround(in->centre[1] - (win / 2 + (bin - 1) / 2.0));
    in->r0 = h->r0;
    in->c0 = h->c0;
    const int r1 = h->r0 + win, c1 = h->c0 + win;
    PTY_CHECK(r1 > 0 && c1 > 0 && h->r0 < h->height && h->c0 < h->width, PTY_ERR_ARG,
              "'%s': the %dx%d window around the beam centre (%.1f, %.1f) (%s) lies outside the %dx%d detector; "
              "give the centre with --center ROW,COL",
              f, win, win, in->centre[0], in->centre[1], in->centre_from, h->height, h->width);
    const int outside = h->r0 < 0 || h->c0 < 0 || r1 > h->height || c1 > h->width;
    if (outside)
        pty_warn("'%s': the %dx%d window around the beam centre (%.1f, %.1f) (%s) reaches beyond the %dx%d detector "
                 "(rows %d..%d, columns %d..%d); those pixels are masked",
                 f, win, win, in->centre[0], in->centre[1], in->centre_from, h->height, h->width, h->r0, r1 - 1, h->c0,
                 c1 - 1);
    if (k->detector || outside) {
        h->raw_mask = window_mask(k->detector, h, win);
        PTY_CHECK(h->raw_mask, PTY_ERR_NOMEM, "cannot allocate a %dx%d mask", win, win);
    }
    if (dark) {
        h->dark = malloc((size_t)win * win * sizeof *h->dark);
        PTY_CHECK(h->dark, PTY_ERR_NOMEM, "cannot allocate a %dx%d dark", win, win);
        for (int r = 0; r < win; r++)
            for (int c = 0; c < win; c++) {
                const long q = detector_pixel(h, r, c);
                h->dark[(size_t)r * win + c] = q >= 0 ? dark[q] : 0.0f;
            }
    }
    h->mask = k->frame;
    k->frame = NULL;
    h->prep.mask = h->raw_mask;
    h->prep.dark = h->dark;
    h->prep.saturation = in->saturation;
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

/* The frames, their shape, and the prepared frame side. */
static int open_frames(hid_t file, const pty_read_options *o, int allow_empty, pty_scan_header *h)
{
    const char *f = o->path;
    h->frames = o->frames ? o->frames : PTY_CXI_FRAMES;
    /* a detector's master file has its frames where NeXus puts them */
    if (!o->frames || strcmp(o->frames, PTY_CXI_FRAMES) == 0)
        if (!pty_h5_exists(file, h->frames) && pty_h5_exists(file, nx_frames)) h->frames = nx_frames;
    if (o->frames_pattern) {
        const int n = o->frame_count > 0 ? o->frame_count : o->raster[0] * o->raster[1];
        PTY_CHECK(n > 0, PTY_ERR_ARG, "--frames-pattern: give the number of frames (--frame-count or --raster)");
        PTY_TRY(pty_frame_series_open_files(o->frames_pattern, o->first_file, o->frames_per_file, n,
                                            o->frames ? o->frames : "/entry/data/data", &h->series));
        h->frames = h->series.path;
    } else {
        PTY_TRY(pty_frame_series_open(file, f, h->frames, allow_empty, &h->series));
    }
    const int bin = o->bin > 1 ? o->bin : 1, height = h->series.height, width = h->series.width;
    h->n = (int)h->series.n;
    h->height = h->info.height = height;
    h->width = h->info.width = width;
    h->prep.bin = h->info.bin = bin;
    if (o->crop > 0) {
        h->m = o->crop;
    } else {
        PTY_CHECK(height == width, PTY_ERR_HDF5,
                  "'%s': frames '%s' are %dx%d, not square: choose the M x M region around the beam centre with "
                  "--crop M (and --center ROW,COL where the file has no beam centre)",
                  f, h->frames, height, width);
        h->m = height / bin;
    }
    PTY_CHECK(h->m >= PTY_MIN_FRAME && h->m <= PTY_MAX_FRAME, PTY_ERR_HDF5,
              "'%s': frames dataset '%s' has frames of %dx%d pixels%s, out of range (%d to %d)%s", f, h->frames, h->m,
              h->m, bin > 1 ? " after binning" : "", PTY_MIN_FRAME, PTY_MAX_FRAME,
              o->crop > 0 ? " (--crop)" : bin > 1 ? " (--bin)" : "");
    return PTY_OK;
}

int pty_scan_header_read(hid_t file, const pty_read_options *o, int allow_empty, pty_scan_header *h)
{
    memset(h, 0, sizeof *h);
    masks k = {NULL, NULL};
    float *dark = NULL;
    int rc = open_frames(file, o, allow_empty, h);
    if (rc == PTY_OK) rc = read_geometry(file, o, h, h->prep.bin);
    if (rc == PTY_OK) rc = read_masks(file, o, h, &k);
    if (rc == PTY_OK) rc = read_dark(file, o, h, &dark);
    if (rc == PTY_OK && dark) snprintf(h->info.dark, sizeof h->info.dark, "%s", o->dark);
    if (rc == PTY_OK) rc = read_saturation(file, o, h);
    if (rc == PTY_OK) rc = find_centre(file, o, h, k.detector);
    if (rc == PTY_OK) rc = make_window(o, h, &k, dark);
    if (rc == PTY_OK) rc = read_probe(file, o, h->m, &h->probe, &h->probe_modes);
    free(k.detector);
    free(k.frame);
    free(dark);
    if (rc != PTY_OK) pty_scan_header_free(h);
    return rc;
}

void pty_scan_header_free(pty_scan_header *h)
{
    pty_frame_series_close(&h->series);
    free(h->mask);
    free(h->probe);
    free(h->dark);
    free(h->raw_mask);
    h->mask = NULL;
    h->probe = NULL;
    h->dark = NULL;
    h->raw_mask = NULL;
}

int pty_scan_header_plain(const pty_scan_header *h)
{
    return h->prep.bin == 1 && h->m == h->height && h->m == h->width && h->r0 == 0 && h->c0 == 0 && !h->dark &&
           !h->raw_mask;
}

int pty_scan_frames_read(const pty_scan_header *h, const int *index, int count, float *scratch, float *out,
                         unsigned char *masks, long *saturated)
{
    const int win = h->prep.win, m = h->m;
    const size_t ww = (size_t)win * win, mm = (size_t)m * m;
    /* the part of the window on the detector */
    const int r0 = h->r0 > 0 ? h->r0 : 0, c0 = h->c0 > 0 ? h->c0 : 0;
    const int r1 = h->r0 + win < h->height ? h->r0 + win : h->height, c1 = h->c0 + win < h->width ? h->c0 + win : h->width;
    const int rows = r1 - r0, cols = c1 - c0, plain = pty_scan_header_plain(h);
    /* frames as stored are read straight into place */
    PTY_TRY(pty_frame_series_read(&h->series, index, count, r0, c0, rows, cols, plain ? out : scratch));
    if (rows != win || cols != win) {
        /* spread each frame's rows to their places in the window, last first so nothing is overwritten */
        for (int k = count - 1; k >= 0; k--) {
            float *dst = scratch + (size_t)k * ww;
            for (int r = rows - 1; r >= 0; r--)
                memmove(dst + (size_t)(r + r0 - h->r0) * win + (c0 - h->c0),
                        scratch + ((size_t)k * rows + r) * cols, (size_t)cols * sizeof *scratch);
            /* pixels beyond the edge: masked by the window's mask; zero them so no NaN is counted */
            for (int r = 0; r < win; r++)
                for (int c = 0; c < win; c++)
                    if (r + h->r0 < r0 || r + h->r0 >= r1 || c + h->c0 < c0 || c + h->c0 >= c1) dst[(size_t)r * win + c] = 0.0f;
        }
    }
    for (int k = 0; k < count; k++) {
        unsigned char *mk = masks + (size_t)k * mm;
        if (plain) {
            /* as stored; bad values stay for the dataset to count */
            const float *o = out + (size_t)k * mm;
            if (h->mask) memcpy(mk, h->mask, mm);
            else memset(mk, 0, mm);
            const float sat = h->prep.saturation > 0.0 ? (float)h->prep.saturation : INFINITY;
            for (size_t i = 0; sat < INFINITY && i < mm; i++)
                if (o[i] >= sat) {
                    mk[i] = 1;
                    if (saturated) ++*saturated;
                }
        } else {
            const long s = pty_detector_prep_frame(&h->prep, scratch + (size_t)k * ww, out + (size_t)k * mm, mk);
            if (saturated) *saturated += s;
            for (size_t i = 0; h->mask && i < mm; i++) mk[i] |= h->mask[i];
        }
    }
    return PTY_OK;
}
