/* opts_position_file.c - positions from a file beside the frames
 * (pty_read_options' position-file fields, position_file.h). */
#include <math.h>
#include <stdio.h>

#include "opts.h"
#include "pty_error.h"

/* --position-scale SX,SY (or one factor for both). */
static int check_position_file(void *ctx)
{
    pty_input_flags *f = ctx;
    pty_read_options *ro = f->read;
    char extra;
    if (f->raster) {
        PTY_CHECK(sscanf(f->raster, "%dx%d%c", &ro->raster[0], &ro->raster[1], &extra) == 2 && ro->raster[0] >= 1 &&
                      ro->raster[1] >= 1,
                  PTY_ERR_ARG, "--raster must be ROWSxCOLS, e.g. 30x30, got '%s'", f->raster);
        PTY_CHECK(f->raster_step, PTY_ERR_ARG, "--raster needs --raster-step ROW,COL (m)");
        PTY_CHECK(sscanf(f->raster_step, "%lf,%lf%c", &ro->raster_step[0], &ro->raster_step[1], &extra) == 2 &&
                      isfinite(ro->raster_step[0]) && isfinite(ro->raster_step[1]),
                  PTY_ERR_ARG, "--raster-step must be ROW,COL in metres, e.g. 50e-9,50e-9, got '%s'", f->raster_step);
        PTY_CHECK(!ro->positions_file && !ro->positions, PTY_ERR_ARG,
                  "give the positions once: --raster, --positions-file or --positions");
    }
    if (!f->scale) return PTY_OK;
    const int n = sscanf(f->scale, "%lf,%lf%c", &ro->position_scale[0], &ro->position_scale[1], &extra);
    if (n == 1) ro->position_scale[1] = ro->position_scale[0];
    PTY_CHECK((n == 1 || n == 2) && ro->position_scale[0] != 0.0 && ro->position_scale[1] != 0.0, PTY_ERR_ARG,
              "--position-scale must be SX,SY (non-zero factors, e.g. -1,0.866), got '%s'", f->scale);
    return PTY_OK;
}

void pty_opts_position_file(pty_opt_block *b, pty_input_flags *f)
{
    pty_read_options *ro = f->read;
    const pty_option table[] = {
        PTY_OPT("positions-file", PTY_OPT_STRING, &ro->positions_file, 1, 0, "positions from this file instead: a CSV or whitespace table (one row per frame or trigger), or an HDF5 file with the dataset --positions names"),
        PTY_OPT("position-columns", PTY_OPT_STRING, &ro->position_columns, 1, 0, "the table's x and y columns, X,Y, by header name or number from 1 (default: the header's x..., y..., else 1,2)"),
        PTY_OPT("position-units", PTY_OPT_STRING, &ro->position_units, 1, 0, "nm, um, mm, m or px (default: from the header, e.g. x_um)"),
        PTY_OPT("position-scale", PTY_OPT_STRING, &f->scale, 1, 0, "multiply x and y by SX,SY: a sign, or cos(chi) of a rotated sample"),
        PTY_OPT("trigger-column", PTY_OPT_STRING, &ro->trigger_column, 1, 0, "the table's column of frame numbers: rows are matched to frames by it; frames without a row are left out and named"),
        PTY_OPT("first-trigger", PTY_OPT_INT, &ro->first_trigger, -1000000000, 1000000000, "the trigger number of the first frame (default 0)"),
        PTY_OPT("raster", PTY_OPT_STRING, &f->raster, 1, 0, "positions of a ROWSxCOLS raster instead, row by row (the column fast), centred on zero"),
        PTY_OPT("raster-step", PTY_OPT_STRING, &f->raster_step, 1, 0, "--raster's steps between rows and between columns, ROW,COL in metres"),
    };
    PTY_OPT_BLOCK(b, "positions from a file", table, check_position_file, f);
}
