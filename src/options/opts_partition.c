/* opts_partition.c - the several-ranks block (pty_dist_options without its
 * merge options, which are the stitch block's): how the scan is cut into
 * blocks and how the ranks work together.  Ranges: pty_dist_options_check. */
#include <stdio.h>

#include "opts.h"
#include "pty_error.h"

static int check_partition(void *ctx)
{
    pty_partition_flags *f = ctx;
    if (f->grid) {
        char extra;
        PTY_CHECK(sscanf(f->grid, "%dx%d%c", &f->dist->rows, &f->dist->cols, &extra) == 2 && f->dist->rows >= 1 &&
                      f->dist->cols >= 1,
                  PTY_ERR_ARG, "--partition must look like 4x2 (rows x columns), got '%s'", f->grid);
    }
    return pty_dist_options_check(f->dist);
}

void pty_opts_partition(pty_opt_block *b, pty_partition_flags *f)
{
    pty_dist_options *d = f->dist;
    const pty_option table[] = {
        PTY_CHOICE("mpi-mode", &d->mode, pty_mode_names, 2, "async (independent blocks, registered and stitched) | sync (blocks share overlaps and probe)"),
        PTY_ALIAS("mode", "mpi-mode", NULL, "it reads too much like --modes"),
        PTY_OPT("partition", PTY_OPT_STRING, &f->grid, 1, 0, "block grid RxC over the ranks, e.g. 4x2 (default: as square as the scan allows)"),
        PTY_OPT("overlap", PTY_OPT_DOUBLE, &d->overlap, 1, 0, "halo of each block, in scan steps, 0 to 1000"),
        PTY_OPT("share-every", PTY_OPT_INT, &d->share_every, 1, 0, "sync: iterations between exchanges of overlaps and probe, 1 to 1000000"),
    };
    PTY_OPT_BLOCK(b, "several ranks (mpirun)", table, check_partition, f);
}
