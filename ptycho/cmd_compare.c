/* cmd_compare.c - `ptycho compare RESULT.h5 TRUTH.h5`: NRMSE of a
 * reconstructed object against a ground truth (DESIGN.md §4).
 *
 * The truth is a simulated CXI file's /entry_1/ground_truth group or, when
 * that is absent, another result file, so two reconstructions can be
 * compared (and a simulated file may stand as RESULT, for a sanity check).
 * The region compared is the one RESULT scanned: its positions, widened by
 * a quarter of the truth's probe width (a block of a multi-rank run is
 * scored on its own area).  With --seam-band, the NRMSE is also split into
 * the bands around the lines where a multi-rank result was joined.
 * Output: one "key values" line per quantity, or one JSON object (--json). */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "commands.h"
#include "compare.h"
#include "h5util.h"
#include "pty_error.h"
#include "png_write.h"
#include "pty_log.h"
#include "tiff_io.h"
#include "result_read.h"

static void print_result(const pty_compare_result *r, int json)
{
    if (json) {
        printf("{\"nrmse\": %.6g, \"shift_px\": [%.4f, %.4f], \"phase_ramp_rad_per_px\": [%.6g, %.6g], "
               "\"global_factor\": [%.6g, %.4f], \"region\": [%d, %d, %d, %d], \"probe_width_px\": %.2f",
               r->nrmse, r->shift[0], r->shift[1], r->ramp[0], r->ramp[1], r->g_abs, r->g_phase, r->region[0],
               r->region[1], r->region[2], r->region[3], r->probe_width);
        if (r->seam_px > 0 || r->away_px > 0)
            printf(", \"nrmse_seam\": %.6g, \"nrmse_away\": %.6g, \"seam_px\": %ld, \"away_px\": %ld",
                   r->nrmse_seam, r->nrmse_away, r->seam_px, r->away_px);
        printf("}\n");
        return;
    }
    printf("nrmse %.6g\n", r->nrmse);
    printf("shift_px %.4f %.4f\n", r->shift[0], r->shift[1]);
    printf("phase_ramp_rad_per_px %.6g %.6g\n", r->ramp[0], r->ramp[1]);
    printf("global_factor %.6g %.4f\n", r->g_abs, r->g_phase);
    printf("region %d %d %d %d\n", r->region[0], r->region[1], r->region[2], r->region[3]);
    printf("probe_width_px %.2f\n", r->probe_width);
    if (r->seam_px > 0 || r->away_px > 0) {
        printf("nrmse_seam %.6g\n", r->nrmse_seam);
        printf("nrmse_away %.6g\n", r->nrmse_away);
        printf("seam_px %ld\naway_px %ld\n", r->seam_px, r->away_px);
    }
}

static int write_map(const char *prefix, pty_compare_result *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.tif", prefix);
    int rc = pty_tiff_write_float(path, r->error_map, 1, r->region[2], r->region[3], 0.0,
                                  "ptycho compare: |g exp(ik.r) O - O_true| over the region");
    snprintf(path, sizeof path, "%s.png", prefix);
    if (rc == PTY_OK) rc = pty_png_write_gray(path, r->error_map, r->region[2], r->region[3], 0.0f, 0.0f);
    free(r->error_map);
    r->error_map = NULL;
    return rc;
}

int pty_cmd_compare(int argc, char **argv)
{
    static const char *synopsis = "RESULT.h5 TRUTH.h5 [--upsample N] [--json]";
    int upsample = 20, json = 0;
    double band = 0.0;
    const char *map = NULL;
    const pty_option opts[] = {
        /* its range is the library's (pty_compare_objects), stated once */
        PTY_OPT("upsample", PTY_OPT_INT, &upsample, 1, 0,
         "sub-pixel registration up-sampling factor, points per pixel (default 20)"),
        PTY_OPT("json", PTY_OPT_FLAG, &json, 0, -1, "print one JSON object instead of key/value lines"),
        PTY_OPT("error-map", PTY_OPT_STRING, &map, 1, 0, "write |g e^{ik.r} O - O_true| over the region as FILE.tif (float) and FILE.png"),
        PTY_OPT("seam-band", PTY_OPT_DOUBLE, &band, 0.5, 1e4,
         "also give the NRMSE within this many pixels of the lines where a multi-rank result was joined, and away from them"),
    };
    const char *files[2];
    int n_files = 0;
    pty_opt_block block;
    PTY_OPT_BLOCK(&block, "comparison", opts, NULL, NULL);
    PTY_TRY(pty_args_parse("compare", synopsis, argc, argv, 2, &block, 1, files, 2, &n_files));
    PTY_CHECK(n_files == 2, PTY_ERR_ARG,
              "ptycho compare: expected RESULT.h5 and TRUTH.h5, got %d file%s (see 'ptycho compare --help')",
              n_files, n_files == 1 ? "" : "s");

    pty_result_file rec = {0}, truth = {0};
    pty_compare_result res;
    int rc = pty_result_read(files[0], 0, band > 0, &rec);
    if (rc == PTY_OK) rc = pty_result_read(files[1], 1, 0, &truth);
    if (rc == PTY_OK) rc = pty_result_check_pixels(&rec, files[0], &truth, files[1], "comparing");
    if (rc == PTY_OK) {
        double width = pty_probe_width(truth.probe, truth.n_modes, truth.m);
        if (width <= 0.0) pty_warn("'%s': the probe has no power; the region is the probe-centre bounding box", files[1]);
        pty_compare_seams seams = {.row_cuts = rec.cuts, .col_cuts = rec.cuts + rec.n_row_cuts, .n_row_cuts = rec.n_row_cuts,
                                   .n_col_cuts = rec.n_col_cuts, .band = band, .want_map = map != NULL};
        rc = pty_compare_objects_seams(rec.object, rec.h, rec.w, rec.origin, truth.object, truth.h, truth.w,
                                       truth.origin, rec.positions, rec.n_positions, width, upsample,
                                       band > 0 || map ? &seams : NULL, &res);
        if (rc == PTY_OK && map) rc = write_map(map, &res);
        if (rc != PTY_OK) pty_error_context("comparing '%s' with '%s'", files[0], files[1]);
    }
    if (rc == PTY_OK) print_result(&res, json);
    pty_result_file_free(&rec);
    pty_result_file_free(&truth);
    return rc;
}
