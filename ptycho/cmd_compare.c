/* cmd_compare.c - `ptycho compare RESULT.h5 TRUTH.h5`: NRMSE of a
 * reconstructed object against a ground truth (DESIGN.md §4).
 *
 * The truth is a simulated CXI file's /entry_1/ground_truth group or, when
 * that is absent, another result file, so two reconstructions can be
 * compared (and a simulated file may stand as RESULT, for a sanity check).  The scanned region comes from the truth's positions and probe.
 * Output: one "key values" line per quantity, or one JSON object (--json). */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "commands.h"
#include "compare.h"
#include "h5util.h"
#include "pty_error.h"
#include "pty_log.h"

#define TRUTH_GROUP "/entry_1/ground_truth"

typedef struct obj_file {
    pty_cf *object;
    int h, w;
    double origin[2];
    pty_cf *probe; /* n_modes x m x m; only read for the truth */
    int n_modes, m;
    double *positions; /* n x 2 (row, col) px relative to the origin; truth only */
    int n_positions;
} obj_file;

static void obj_file_free(obj_file *o)
{
    free(o->object);
    free(o->probe);
    free(o->positions);
}

static int alloc_or_fail(void *p, const char *fname, const char *what)
{
    if (!p) return pty_error_set(PTY_ERR_NOMEM, "'%s': cannot allocate memory for %s", fname, what);
    return PTY_OK;
}

/* Read object and origin from `prefix` (and, with `full`, probe and
 * positions).  Shapes are checked so the message names the dataset. */
static int read_datasets(hid_t f, const char *fname, const char *prefix, int full, obj_file *o)
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
    if (!full) return PTY_OK;

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
static int read_file(const char *fname, int truth, obj_file *o)
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
    if (rc == PTY_OK) rc = read_datasets(f, fname, prefix, truth, o);
    H5Fclose(f);
    return rc;
}

static void print_result(const pty_compare_result *r, int json)
{
    if (json) {
        printf("{\"nrmse\": %.6g, \"shift_px\": [%.4f, %.4f], \"phase_ramp_rad_per_px\": [%.6g, %.6g], "
               "\"global_factor\": [%.6g, %.4f], \"region\": [%d, %d, %d, %d], \"probe_width_px\": %.2f}\n",
               r->nrmse, r->shift[0], r->shift[1], r->ramp[0], r->ramp[1], r->g_abs, r->g_phase, r->region[0],
               r->region[1], r->region[2], r->region[3], r->probe_width);
        return;
    }
    printf("nrmse %.6g\n", r->nrmse);
    printf("shift_px %.4f %.4f\n", r->shift[0], r->shift[1]);
    printf("phase_ramp_rad_per_px %.6g %.6g\n", r->ramp[0], r->ramp[1]);
    printf("global_factor %.6g %.4f\n", r->g_abs, r->g_phase);
    printf("region %d %d %d %d\n", r->region[0], r->region[1], r->region[2], r->region[3]);
    printf("probe_width_px %.2f\n", r->probe_width);
}

int pty_cmd_compare(int argc, char **argv)
{
    static const char *synopsis = "RESULT.h5 TRUTH.h5 [--upsample N] [--json]";
    int upsample = 20, json = 0;
    const pty_option opts[] = {
        {"upsample", PTY_OPT_INT, &upsample, 1, 1000,
         "sub-pixel registration up-sampling factor, points per pixel (default 20)"},
        {"json", PTY_OPT_FLAG, &json, 0, -1, "print one JSON object instead of key/value lines"},
    };
    const char *files[2];
    int n_files = 0;
    PTY_TRY(pty_args_parse("compare", synopsis, argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), files, 2,
                           &n_files));
    PTY_CHECK(n_files == 2, PTY_ERR_ARG,
              "ptycho compare: expected RESULT.h5 and TRUTH.h5, got %d file%s (see 'ptycho compare --help')",
              n_files, n_files == 1 ? "" : "s");

    obj_file rec = {0}, truth = {0};
    pty_compare_result res;
    int rc = read_file(files[0], 0, &rec);
    if (rc == PTY_OK) rc = read_file(files[1], 1, &truth);
    if (rc == PTY_OK) {
        double width = pty_probe_width(truth.probe, truth.n_modes, truth.m);
        if (width <= 0.0) pty_warn("'%s': the probe has no power; the region is the probe-centre bounding box", files[1]);
        rc = pty_compare_objects(rec.object, rec.h, rec.w, rec.origin, truth.object, truth.h, truth.w, truth.origin,
                                 truth.positions, truth.n_positions, width, upsample, &res);
        if (rc != PTY_OK) pty_error_context("comparing '%s' with '%s'", files[0], files[1]);
    }
    if (rc == PTY_OK) print_result(&res, json);
    obj_file_free(&rec);
    obj_file_free(&truth);
    return rc;
}
