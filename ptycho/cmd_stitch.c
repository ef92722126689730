/* cmd_stitch.c - `ptycho stitch PART.h5...`: register, phase-normalise and
 * blend partial reconstructions written by separate runs (one result file
 * per block, e.g. `ptycho recon --write-partials` or independent jobs on
 * parts of one scan), with the same merge tree as the asynchronous mode.
 *
 * Parts are placed on one grid through their positions: position (0, 0)
 * sits at each part's /object_position_origin, so part i lands at offset
 * origin_global - origin_i.  A fractional offset (blocks whose positions
 * were not on one pixel grid) is applied as a sub-pixel shift first.
 * Blending weights are a part's /weight (partials of a multi-rank run,
 * feathered toward the block's own pixels), else its illumination from its
 * probe and positions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "illumination.h"
#include "merge_tree.h"
#include "opts.h"
#include "pty_error.h"
#include "staging.h"
#include "pty_log.h"
#include "register.h"
#include "result_read.h"
#include "result_write.h"

#define MAX_PARTS 4096

/* One part on the common grid: whole-pixel offset, sub-pixel rest applied. */
static int place_part(const pty_result_file *f, const char *name, const double origin[2], pty_partial *out)
{
    double off[2], frac[2];
    for (int a = 0; a < 2; a++) {
        off[a] = round(origin[a] - f->origin[a]);
        frac[a] = (origin[a] - f->origin[a]) - off[a];
    }
    const size_t n = (size_t)f->h * f->w;
    /* named here, by file: the merge would only know it as partial A or B */
    for (size_t i = 0; i < n; i++)
        PTY_CHECK(isfinite(f->object[i].re) && isfinite(f->object[i].im), PTY_ERR_DATA,
                  "'%s': the object is not finite at pixel (%zu, %zu) (a run that diverged?); leave the part out",
                  name, i / (size_t)f->w, i % (size_t)f->w);
    for (size_t i = 0; f->weight && i < n; i++)
        PTY_CHECK(isfinite(f->weight[i]) && f->weight[i] >= 0.0f, PTY_ERR_DATA,
                  "'%s': /weight is %g at pixel (%zu, %zu); weights must be finite and >= 0", name,
                  (double)f->weight[i], i / (size_t)f->w, i % (size_t)f->w);
    PTY_TRY(pty_partial_alloc(out, f->h, f->w, (int)off[0], (int)off[1]));
    memcpy(out->object, f->object, n * sizeof *out->object);
    int *window = malloc((size_t)f->n_positions * 2 * sizeof *window);
    PTY_CHECK(window, PTY_ERR_NOMEM, "'%s': cannot allocate %d windows", name, f->n_positions);
    int rc = PTY_OK;
    for (int j = 0; j < f->n_positions && rc == PTY_OK; j++)
        for (int a = 0; a < 2; a++) {
            /* the same rounding as the reconstruction's geometry */
            long w = lround(f->positions[2 * j + a] + f->origin[a] - f->m / 2);
            long size = a == 0 ? f->h : f->w;
            if (w < 0 || w + f->m > size)
                rc = pty_error_set(PTY_ERR_DATA, "'%s': position %d lies outside its %dx%d object", name, j, f->h,
                                   f->w);
            window[2 * j + a] = (int)w;
        }
    if (rc == PTY_OK && f->weight) /* a partial of a multi-rank run: its own (feathered) weight */
        memcpy(out->weight, f->weight, n * sizeof *out->weight);
    else if (rc == PTY_OK)
        rc = pty_illumination(f->probe, f->n_modes, f->m, window, f->n_positions, f->h, f->w, out->weight);
    free(window);
    if (rc == PTY_OK && (frac[0] != 0.0 || frac[1] != 0.0))
        rc = pty_shift_image(out->object, f->h, f->w, frac[0], frac[1]);
    return rc;
}

static int stitch_files(const char **names, int n, const char *output, const pty_merge_options *mo, int no_tiff,
                        const char *cmdline)
{
    pty_result_file *f = calloc((size_t)n, sizeof *f);
    pty_partial *parts = calloc((size_t)n, sizeof *parts);
    double *positions = NULL;
    pty_merge_record *records = NULL;
    int n_records = 0, rc = PTY_OK, total = 0;
    if (!f || !parts) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d parts", n);
        goto done;
    }
    double origin[2] = {0, 0};
    for (int i = 0; i < n && rc == PTY_OK; i++) {
        rc = pty_result_read(names[i], 0, 0, &f[i]);
        if (rc != PTY_OK) break;
        if (f[i].m != f[0].m || f[i].n_modes != f[0].n_modes)
            rc = pty_error_set(PTY_ERR_DATA, "'%s' has %d probe mode(s) of %dx%d, '%s' %d of %dx%d: not parts of one scan",
                               names[i], f[i].n_modes, f[i].m, f[i].m, names[0], f[0].n_modes, f[0].m, f[0].m);
        if (rc == PTY_OK && i > 0) rc = pty_result_check_pixels(&f[0], names[0], &f[i], names[i], "stitching");
        for (int a = 0; a < 2; a++) origin[a] = i == 0 ? f[i].origin[a] : fmax(origin[a], f[i].origin[a]);
        total += f[i].n_positions;
    }
    for (int i = 0; i < n && rc == PTY_OK; i++) rc = place_part(&f[i], names[i], origin, &parts[i]);
    if (rc != PTY_OK) goto done;
    positions = malloc((size_t)total * 2 * sizeof *positions);
    if (!positions) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions", total);
        goto done;
    }
    double *next = positions;
    for (int i = 0; i < n; i++) {
        memcpy(next, f[i].positions, (size_t)f[i].n_positions * 2 * sizeof *next);
        next += 2 * (size_t)f[i].n_positions;
    }
    if ((rc = pty_merge_tree_local(parts, n, mo, names, &records, &n_records)) != PTY_OK) goto done;
    for (int i = 0; i < n_records; i++) {
        char line[256];
        pty_merge_describe(&records[i].report, line, sizeof line);
        pty_info("merge %s <- %s: %s", names[records[i].into], names[records[i].from], line);
    }
    pty_recon_params p;
    pty_recon_params_default(&p);
    p.n_modes = f[0].n_modes;
    double pixel = 0.0;
    for (int i = 0; i < n && !(pixel > 0.0); i++) pixel = f[i].pixel_size;
    pty_dist_result dr = {.records = records, .n_records = n_records, .partition = {.rows = n, .cols = 1}};
    pty_dist_options dopt;
    pty_dist_options_default(&dopt);
    dopt.merge = *mo;
    pty_result res = {
        .object = parts[0].object, .obj_h = parts[0].h, .obj_w = parts[0].w,
        .origin = {origin[0] - parts[0].offset[0], origin[1] - parts[0].offset[1]},
        .probe = f[0].probe, .n_modes = f[0].n_modes, .m = f[0].m,
        .positions = positions, .n_positions = total, .backend = "stitch", .input = names[0],
        .pixel_size = pixel, /* the parts' (they agree, checked above) */
        .command_line = cmdline, .params = &p, .dist = &dr, .dist_options = &dopt, .n_ranks = n,
    };
    char path[4200]; /* the prefix (at most 4095) and ".h5" */
    snprintf(path, sizeof path, "%s.h5", output);
    if ((rc = pty_result_write_h5(path, &res)) != PTY_OK) goto done;
    if (!no_tiff && (rc = pty_result_write_tiffs(output, &res)) != PTY_OK) goto done;
    pty_info("stitched %d parts into a %dx%d object: wrote %s%s", n, parts[0].h, parts[0].w, path,
             no_tiff ? "" : " and TIFFs");
done:
    for (int i = 0; f && i < n; i++) pty_result_file_free(&f[i]);
    for (int i = 0; parts && i < n; i++) pty_partial_free(&parts[i]);
    free(f);
    free(parts);
    free(positions);
    free(records);
    return rc;
}

int pty_cmd_stitch(int argc, char **argv)
{
    static const char *synopsis = "PART.h5 PART.h5 ... --output PREFIX [options]";
    int known_offsets = 0;
    pty_output_flags out = {0};
    pty_merge_options mo;
    pty_merge_options_default(&mo);
    const pty_option own[] = {
        PTY_OPT("known-offsets", PTY_OPT_FLAG, &known_offsets, 1, 0, "no registration or normalisation: blend at the positions' offsets"),
    };
    pty_opt_block blocks[3];
    pty_opts_stitch(&blocks[0], &mo);
    PTY_OPT_BLOCK(&blocks[1], "parts", own, NULL, NULL);
    pty_opts_output(&blocks[2], &out);
    const char *names[MAX_PARTS];
    int n = 0;
    PTY_TRY(pty_args_parse("stitch", synopsis, argc, argv, 2, blocks, 3, names, MAX_PARTS, &n));
    PTY_CHECK(n >= 2, PTY_ERR_ARG, "ptycho stitch: give at least two part files (got %d), in block order", n);
    if (known_offsets) mo.register_shift = mo.normalise = mo.fit_ramp = 0;
    char cmdline[4096] = "ptycho stitch";
    for (int i = 2; i < argc && strlen(cmdline) + strlen(argv[i]) + 2 < sizeof cmdline; i++) {
        strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    PTY_TRY(pty_stage_lock(out.prefix)); /* no other run writes PREFIX meanwhile */
    return stitch_files(names, n, out.prefix, &mo, out.no_tiff, cmdline);
}
