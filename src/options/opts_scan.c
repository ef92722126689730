/* opts_scan.c - the simulated raster's block (pty_sim_params: rows,
 * columns, step, frame size), taken by simulate and by bench, which
 * simulates its scan in memory.  Ranges are the simulator's
 * (pty_sim_validate_raster), checked once all flags are parsed. */
#include "opts.h"

static int check_scan(void *ctx) { return pty_sim_validate_raster(ctx); }

void pty_opts_scan(pty_opt_block *b, pty_sim_params *p)
{
    const pty_option table[] = {
        PTY_OPT("rows", PTY_OPT_INT, &p->rows, 1, 0, "raster rows, 1 to 100000"),
        PTY_OPT("cols", PTY_OPT_INT, &p->cols, 1, 0, "raster columns, 1 to 100000 (at most 1e7 positions)"),
        PTY_OPT("step", PTY_OPT_DOUBLE, &p->step, 1, 0, "raster step, object pixels; 0 = 0.3 x the probe diameter (70 % overlap)"),
        PTY_OPT("frame", PTY_OPT_INT, &p->m, 1, 0, "frame size m, detector pixels, 16 to 4096"),
    };
    PTY_OPT_BLOCK(b, "scan", table, check_scan, p);
}
