/* cmd_frc.c - `ptycho frc A.h5 B.h5`: Fourier ring correlation of two
 * reconstructions of one object (e.g. the two halves of a scan,
 * `ptycho recon --half-set odd|even`), the resolution where it falls below
 * the half-bit and 1/7 thresholds, and the curve as CSV and PNG.
 *
 * The two objects are registered exactly as `ptycho compare` registers a
 * reconstruction on its truth (sub-pixel shift, global complex factor and
 * phase ramp removed, over the area A scanned, A resampled onto B's grid);
 * frc.h then apodises and correlates them.  A resolution is the full period
 * 1/f of the crossing frequency f, in pixels and, when the files state
 * their pixel size, in nm. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "compare.h"
#include "frc.h"
#include "pty_error.h"
#include "pty_log.h"
#include "result_read.h"

static void print_period(const char *key, double f, double pixel, int json, int last)
{
    const double px = pty_frc_period(f);
    if (json) {
        printf("\"%s_px\": %.4g, \"%s_nm\": %.4g, \"%s_reached\": %s%s", key, px, key,
               pixel > 0 ? px * pixel * 1e9 : 0.0, key, f < 0.5 ? "true" : "false", last ? "" : ", ");
        return;
    }
    printf("%s_px %.4g%s\n", key, px, f < 0.5 ? "" : " (not reached: above the threshold up to Nyquist)");
    if (pixel > 0) printf("%s_nm %.4g\n", key, px * pixel * 1e9);
}

int pty_cmd_frc(int argc, char **argv)
{
    static const char *synopsis = "A.h5 B.h5 [--output PREFIX] [--upsample N] [--json]";
    int upsample = 20, json = 0;
    const char *output = "frc";
    const pty_option opts[] = {
        PTY_OPT("output", PTY_OPT_STRING, &output, 1, 0, "the curve as PREFIX.csv and its plot as PREFIX.png (default frc)"),
        /* its range is the library's (pty_compare_objects), stated once */
        PTY_OPT("upsample", PTY_OPT_INT, &upsample, 1, 0, "registration up-sampling factor, points per pixel (default 20)"),
        PTY_OPT("json", PTY_OPT_FLAG, &json, 0, -1, "print one JSON object instead of key/value lines"),
    };
    const char *files[2];
    int n_files = 0;
    pty_opt_block block;
    PTY_OPT_BLOCK(&block, "Fourier ring correlation", opts, NULL, NULL);
    PTY_TRY(pty_args_parse("frc", synopsis, argc, argv, 2, &block, 1, files, 2, &n_files));
    PTY_CHECK(n_files == 2, PTY_ERR_ARG, "ptycho frc: expected two results A.h5 B.h5, got %d file%s (see 'ptycho frc --help')",
              n_files, n_files == 1 ? "" : "s");
    char csv[4200], png[4200];
    PTY_CHECK(output[0] && strlen(output) < 4000, PTY_ERR_ARG, "ptycho frc: --output '%s' is not a usable prefix", output);
    snprintf(csv, sizeof csv, "%s.csv", output);
    snprintf(png, sizeof png, "%s.png", output);
    PTY_CHECK(strcmp(csv, files[0]) && strcmp(csv, files[1]) && strcmp(png, files[0]) && strcmp(png, files[1]),
              PTY_ERR_ARG, "ptycho frc: --output %s would overwrite an input", output);

    pty_result_file a = {0}, b = {0};
    pty_compare_result res = {0};
    pty_frc_curve curve = {0};
    int rc = pty_result_read(files[0], 0, 0, &a);
    if (rc == PTY_OK) rc = pty_result_read(files[1], 1, 0, &b);
    if (rc == PTY_OK) rc = pty_result_check_pixels(&a, files[0], &b, files[1], "a Fourier ring correlation");
    const double pixel = a.pixel_size > 0 ? a.pixel_size : b.pixel_size;
    if (rc == PTY_OK) {
        const double width = pty_probe_width(b.probe, b.n_modes, b.m);
        pty_compare_seams want = {.want_aligned = 1};
        rc = pty_compare_objects_seams(a.object, a.h, a.w, a.origin, b.object, b.h, b.w, b.origin, a.positions,
                                       a.n_positions, width, upsample, &want, &res);
        if (rc == PTY_OK) rc = pty_frc(res.reference, res.aligned, res.region[2], res.region[3], &curve);
        if (rc != PTY_OK) pty_error_context("FRC of '%s' and '%s'", files[0], files[1]);
    }
    if (rc == PTY_OK) rc = pty_frc_write_csv(csv, &curve, pixel);
    if (rc == PTY_OK) rc = pty_frc_write_png(png, &curve);
    if (rc == PTY_OK) {
        if (json) printf("{");
        print_period("half_bit", curve.cross_half_bit, pixel, json, 0);
        print_period("one_seventh", curve.cross_one_seventh, pixel, json, 0);
        if (json)
            printf("\"shift_px\": [%.4f, %.4f], \"region\": [%d, %d, %d, %d], \"nrmse\": %.6g, \"curve\": \"%s\"}\n",
                   res.shift[0], res.shift[1], res.region[0], res.region[1], res.region[2], res.region[3], res.nrmse,
                   csv);
        else
            printf("shift_px %.4f %.4f\nregion %d %d %d %d\nnrmse %.6g\ncurve %s %s\n", res.shift[0], res.shift[1],
                   res.region[0], res.region[1], res.region[2], res.region[3], res.nrmse, csv, png);
    }
    pty_frc_free(&curve);
    pty_compare_result_free(&res);
    pty_result_file_free(&a);
    pty_result_file_free(&b);
    return rc;
}
