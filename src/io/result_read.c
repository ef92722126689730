/* result_read.c - read the object, probe and positions of a result file
 * or of a simulated scan's ground truth. */
#include "result_read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "pty_error.h"

#define TRUTH_GROUP "/entry_1/ground_truth"


void pty_result_file_free(pty_result_file *o)
{
    if (!o) return;
    free(o->object);
    free(o->probe);
    free(o->positions);
    free(o->cuts);
    free(o->weight);
    free(o->errors);
    memset(o, 0, sizeof *o);
}

static int alloc_or_fail(void *p, const char *fname, const char *what)
{
    if (!p) return pty_error_set(PTY_ERR_NOMEM, "'%s': cannot allocate memory for %s", fname, what);
    return PTY_OK;
}

/* /mpi/row_cuts_px and /mpi/col_cuts_px of a multi-rank result (either may be absent). */
static int read_cuts(hid_t f, const char *fname, pty_result_file *o)
{
    static const char *const paths[2] = {"/mpi/row_cuts_px", "/mpi/col_cuts_px"};
    int n[2] = {0, 0};
    hsize_t dims[4];
    int rank;
    for (int a = 0; a < 2; a++)
        if (pty_h5_exists(f, paths[a])) {
            PTY_TRY(pty_h5_shape(f, fname, paths[a], &rank, dims));
            PTY_CHECK(rank == 1 && dims[0] < 100000, PTY_ERR_HDF5, "'%s': '%s' must be a short 1-D list", fname,
                      paths[a]);
            n[a] = (int)dims[0];
        }
    PTY_CHECK(n[0] + n[1] > 0, PTY_ERR_ARG,
              "--seam-band: '%s' has no /mpi/row_cuts_px or /mpi/col_cuts_px (not a multi-rank result)", fname);
    o->cuts = malloc(sizeof(double) * (size_t)(n[0] + n[1]));
    PTY_TRY(alloc_or_fail(o->cuts, fname, "the seam lines"));
    if (n[0]) PTY_TRY(pty_h5_read_double(f, fname, paths[0], o->cuts, (size_t)n[0]));
    if (n[1]) PTY_TRY(pty_h5_read_double(f, fname, paths[1], o->cuts + n[0], (size_t)n[1]));
    o->n_row_cuts = n[0];
    o->n_col_cuts = n[1];
    return PTY_OK;
}

/* Read object, origin, probe and positions from `prefix`.  Shapes are
 * checked so the message names the dataset. */
static int read_datasets(hid_t f, const char *fname, const char *prefix, pty_result_file *o)
{
    char path[256];
    int rank;
    hsize_t dims[4];
    snprintf(path, sizeof path, "%s/object", prefix);
    PTY_TRY(pty_h5_shape(f, fname, path, &rank, dims));
    PTY_CHECK(rank == 2 && dims[0] >= 4 && dims[1] >= 4 && dims[0] * dims[1] < ((hsize_t)1 << 31), PTY_ERR_HDF5,
              "'%s': dataset '%s' must be a 2-D complex image of at least 4 x 4 (rank %d)", fname, path, rank);
    o->h = (int)dims[0], o->w = (int)dims[1];
    o->object = malloc(sizeof(pty_cf) * (size_t)o->h * o->w);
    PTY_TRY(alloc_or_fail(o->object, fname, path));
    PTY_TRY(pty_h5_read_complex(f, fname, path, o->object, (size_t)o->h * o->w));
    snprintf(path, sizeof path, "%s/object_position_origin", prefix);
    PTY_TRY(pty_h5_read_double(f, fname, path, o->origin, 2));

    snprintf(path, sizeof path, "%s/probe", prefix);
    PTY_TRY(pty_h5_shape(f, fname, path, &rank, dims));
    int ok = (rank == 2 && dims[0] == dims[1]) || (rank == 3 && dims[1] == dims[2]);
    PTY_CHECK(ok && dims[rank - 1] >= 1 && dims[rank - 1] <= 65536 && (rank == 2 || dims[0] <= 4096), PTY_ERR_HDF5,
              "'%s': dataset '%s' must be (K, M, M) or (M, M) probe modes (rank %d)", fname, path, rank);
    o->n_modes = rank == 3 ? (int)dims[0] : 1;
    o->m = (int)dims[rank - 1];
    size_t np = (size_t)o->n_modes * o->m * o->m;
    o->probe = malloc(sizeof(pty_cf) * np);
    PTY_TRY(alloc_or_fail(o->probe, fname, path));
    PTY_TRY(pty_h5_read_complex(f, fname, path, o->probe, np));

    snprintf(path, sizeof path, "%s/positions_px", prefix);
    PTY_TRY(pty_h5_shape(f, fname, path, &rank, dims));
    PTY_CHECK(rank == 2 && dims[1] == 2 && dims[0] >= 1 && dims[0] < ((hsize_t)1 << 30), PTY_ERR_HDF5,
              "'%s': dataset '%s' must be (N, 2) probe centres (row, col) in pixels", fname, path);
    o->n_positions = (int)dims[0];
    o->positions = malloc(sizeof(double) * 2 * (size_t)o->n_positions);
    PTY_TRY(alloc_or_fail(o->positions, fname, path));
    return pty_h5_read_double(f, fname, path, o->positions, 2 * (size_t)o->n_positions);
}

/* A ptychodus product: /object (L, H, W) or (H, W) with pixel and centre
 * attributes, /probe (C, I, M, M), (I, M, M) or (M, M), positions in metres. */
static int read_product(hid_t f, const char *fname, pty_result_file *o)
{
    int rank;
    hsize_t dims[4];
    PTY_TRY(pty_h5_shape(f, fname, "/object", &rank, dims));
    const hsize_t h = dims[rank - 2], w = dims[rank - 1];
    PTY_CHECK((rank == 2 || rank == 3) && h >= 4 && w >= 4 && h * w < ((hsize_t)1 << 31), PTY_ERR_HDF5,
              "'%s': the product's '/object' must be (layers, H, W) or (H, W), complex (rank %d)", fname, rank);
    PTY_CHECK(rank == 2 || dims[0] == 1, PTY_ERR_DATA,
              "'%s': the product's object has %llu layers (multislice); ptycho reconstructs one", fname,
              (unsigned long long)dims[0]);
    PTY_CHECK(pty_h5_is_complex(f, "/object"), PTY_ERR_HDF5, "'%s': the product's '/object' is not complex", fname);
    o->h = (int)h, o->w = (int)w;
    o->object = malloc(sizeof(pty_cf) * (size_t)o->h * o->w);
    PTY_TRY(alloc_or_fail(o->object, fname, "/object"));
    PTY_TRY(pty_h5_read_complex(f, fname, "/object", o->object, (size_t)o->h * o->w));
    double dx = 0, cx = 0, cy = 0;
    hid_t obj = H5Dopen2(f, "/object", H5P_DEFAULT);
    const char *names[3] = {"pixel_width_m", "center_x_m", "center_y_m"};
    double *vals[3] = {&dx, &cx, &cy};
    int rc = PTY_OK;
    for (int i = 0; i < 3 && rc == PTY_OK; i++) {
        hid_t a = H5Aexists(obj, names[i]) > 0 ? H5Aopen(obj, names[i], H5P_DEFAULT) : H5I_INVALID_HID;
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, vals[i]) < 0)
            rc = pty_error_set(PTY_ERR_HDF5, "'%s': the product's '/object' has no attribute '%s'", fname, names[i]);
        if (a >= 0) H5Aclose(a);
    }
    H5Dclose(obj);
    PTY_TRY(rc);
    PTY_CHECK(isfinite(dx) && dx > 0 && isfinite(cx) && isfinite(cy), PTY_ERR_DATA,
              "'%s': the product's object pixel (%g m) or centre (%g, %g m) is not usable", fname, dx, cx, cy);
    o->pixel_size = dx;
    o->origin[0] = o->h / 2.0 - cy / dx;
    o->origin[1] = o->w / 2.0 - cx / dx;

    PTY_TRY(pty_h5_shape(f, fname, "/probe", &rank, dims));
    const hsize_t m = dims[rank - 1];
    PTY_CHECK(rank >= 2 && rank <= 4 && dims[rank - 2] == m && m >= 1 && m <= 65536, PTY_ERR_HDF5,
              "'%s': the product's '/probe' must be (C, I, M, M), (I, M, M) or (M, M) (rank %d)", fname, rank);
    o->n_modes = rank >= 3 ? (int)dims[rank - 3] : 1;
    o->m = (int)m;
    const size_t np = (size_t)o->n_modes * o->m * o->m;
    size_t total = np * (rank == 4 ? (size_t)dims[0] : 1);
    pty_cf *all = malloc(sizeof(pty_cf) * total);
    PTY_TRY(alloc_or_fail(all, fname, "/probe"));
    rc = pty_h5_read_complex(f, fname, "/probe", all, total);
    o->probe = all; /* the first coherent mode's incoherent modes come first */
    PTY_TRY(rc);

    PTY_TRY(pty_h5_shape(f, fname, "/probe_position_x_m", &rank, dims));
    PTY_CHECK(rank == 1 && dims[0] >= 1 && dims[0] < ((hsize_t)1 << 30), PTY_ERR_HDF5,
              "'%s': the product's '/probe_position_x_m' must be a list", fname);
    o->n_positions = (int)dims[0];
    double *xy = malloc(sizeof(double) * 2 * (size_t)o->n_positions);
    o->positions = malloc(sizeof(double) * 2 * (size_t)o->n_positions);
    rc = alloc_or_fail(xy && o->positions ? xy : NULL, fname, "the positions");
    if (rc == PTY_OK) rc = pty_h5_read_double(f, fname, "/probe_position_x_m", xy, (size_t)o->n_positions);
    if (rc == PTY_OK) rc = pty_h5_read_double(f, fname, "/probe_position_y_m", xy + o->n_positions, (size_t)o->n_positions);
    for (int j = 0; rc == PTY_OK && j < o->n_positions; j++) {
        o->positions[2 * (size_t)j] = xy[o->n_positions + j] / dx;
        o->positions[2 * (size_t)j + 1] = xy[j] / dx;
    }
    free(xy);
    o->product = 1;
    return rc;
}

/* The error history and, for a checkpoint, how far it got. */
static int read_history(hid_t f, const char *fname, pty_result_file *o)
{
    const char *path = o->product ? "/loss_values" : "/error";
    if (pty_h5_exists(f, path)) {
        int rank;
        hsize_t dims[4];
        PTY_TRY(pty_h5_shape(f, fname, path, &rank, dims));
        PTY_CHECK(rank == 1 && dims[0] < 100000000, PTY_ERR_HDF5, "'%s': '%s' must be a list", fname, path);
        o->n_errors = (int)dims[0];
        o->errors = malloc(sizeof(double) * (dims[0] ? dims[0] : 1));
        PTY_TRY(alloc_or_fail(o->errors, fname, path));
        if (o->n_errors) PTY_TRY(pty_h5_read_double(f, fname, path, o->errors, (size_t)o->n_errors));
    }
    if (pty_h5_exists(f, "/checkpoint/iterations_done")) {
        double v;
        PTY_TRY(pty_h5_read_scalar(f, fname, "/checkpoint/iterations_done", &v));
        PTY_CHECK(v >= 1 && v <= 1e9 && v == floor(v) && (int)v <= o->n_errors, PTY_ERR_DATA,
                  "'%s': '/checkpoint/iterations_done' (%g) does not match its error history (%d)", fname, v,
                  o->n_errors);
        o->iterations_done = (int)v;
        char hex[80];
        unsigned long long w[4];
        if (pty_h5_attr_read_string(f, "/checkpoint", "rng_state", hex, sizeof hex) && strlen(hex) == 64 &&
            sscanf(hex, "%16llx%16llx%16llx%16llx", &w[0], &w[1], &w[2], &w[3]) == 4) {
            for (int i = 0; i < 4; i++) o->rng_state[i] = w[i];
            o->has_rng = 1;
        }
    }
    return PTY_OK;
}

/* A truth file is a simulated CXI (ground_truth group) or a result file; a
 * result is a result file, or a simulated CXI for a sanity check. */
int pty_result_read(const char *fname, int truth, int seams, pty_result_file *o)
{
    hid_t f;
    PTY_TRY(pty_h5_open_read(fname, &f));
    int has_gt = pty_h5_exists(f, TRUTH_GROUP "/object"), has_obj = pty_h5_exists(f, "/object");
    const char *prefix = (truth && has_gt) || (!has_obj && has_gt) ? TRUTH_GROUP : "";
    int rc = PTY_OK;
    if (!has_gt && !has_obj)
        rc = pty_error_set(PTY_ERR_HDF5,
                           "'%s' has neither '/object' (a ptycho result) nor '" TRUTH_GROUP "/object' (a simulated "
                           "scan)", fname);
    hid_t obj = rc == PTY_OK && !prefix[0] ? H5Dopen2(f, "/object", H5P_DEFAULT) : H5I_INVALID_HID;
    const int product = obj >= 0 && H5Aexists(obj, "center_x_m") > 0;
    if (obj >= 0) H5Dclose(obj);
    if (rc == PTY_OK) rc = product ? read_product(f, fname, o) : read_datasets(f, fname, prefix, o);
    if (rc == PTY_OK && !prefix[0]) rc = read_history(f, fname, o);
    const char *pixel = prefix[0] ? TRUTH_GROUP "/object_pixel_size" : product ? "" : "/pixel_size";
    if (rc == PTY_OK && pixel[0] && pty_h5_exists(f, pixel) && pty_h5_read_scalar(f, fname, pixel, &o->pixel_size) != PTY_OK)
        o->pixel_size = 0.0, pty_error_clear(); /* unreadable is unknown: only figures in nm need it */
    if (!(o->pixel_size > 0.0) || !isfinite(o->pixel_size)) o->pixel_size = 0.0;
    if (rc == PTY_OK && seams) rc = read_cuts(f, fname, o);
    if (rc == PTY_OK && !truth && pty_h5_exists(f, "/weight")) {
        o->weight = malloc(sizeof(float) * (size_t)o->h * o->w);
        rc = alloc_or_fail(o->weight, fname, "/weight");
        if (rc == PTY_OK) rc = pty_h5_read_float(f, fname, "/weight", o->weight, (size_t)o->h * o->w);
    }
    H5Fclose(f);
    return rc;
}


int pty_result_check_pixels(const pty_result_file *a, const char *name_a, const pty_result_file *b,
                            const char *name_b, const char *what)
{
    const double x = a->pixel_size, y = b->pixel_size;
    if (!(x > 0.0) || !(y > 0.0)) return PTY_OK; /* unknown: nothing to compare */
    const double apart = fabs(x - y) / fmax(x, y);
    PTY_CHECK(apart <= 1e-3, PTY_ERR_DATA,
              "'%s' has object pixels of %.4g nm and '%s' of %.4g nm (%.2g %% apart): %s needs results of one pixel "
              "size (are they from different scans or geometries?)",
              name_a, x * 1e9, name_b, y * 1e9, 100.0 * apart, what);
    return PTY_OK;
}
