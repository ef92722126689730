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
    if (rc == PTY_OK) rc = read_datasets(f, fname, prefix, o);
    const char *pixel = prefix[0] ? TRUTH_GROUP "/object_pixel_size" : "/pixel_size";
    if (rc == PTY_OK && pty_h5_exists(f, pixel) && pty_h5_read_scalar(f, fname, pixel, &o->pixel_size) != PTY_OK)
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
