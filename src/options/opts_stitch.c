/* opts_stitch.c - the stitch block (pty_merge_options): registering,
 * normalising and blending blocks, in recon's asynchronous mode and in
 * ptycho stitch alike.  Ranges: pty_merge_options_check.  The spellings
 * ptycho stitch had before the block was shared are kept as old ones. */
#include "opts.h"

static int check_stitch(void *ctx)
{
    return pty_merge_options_check(ctx);
}

void pty_opts_stitch(pty_opt_block *b, pty_merge_options *m)
{
    const pty_option table[] = {
        PTY_OPT("stitch-upsample", PTY_OPT_INT, &m->upsample, 1, 0, "registration up-sampling kappa, 1 to 1000"),
        PTY_OPT("stitch-max-error", PTY_OPT_DOUBLE, &m->max_error, 1, 0, "refuse a registration above this error, 0 to 1, and use the known offset"),
        PTY_OPT("stitch-max-shift", PTY_OPT_DOUBLE, &m->max_shift, 1, 0, "refuse a registration shifting more than this many pixels, 0 to 1e4"),
        PTY_CHOICE("stitch-ramp", &m->fit_ramp, pty_on_off_names, 2, "on|off: also remove a linear phase ramp between blocks, fitted on their overlap (default off: it helps some scans by up to 15 % and harms others by up to 25 %, see README)"),
        PTY_ALIAS("upsample", "stitch-upsample", NULL, NULL),
        PTY_ALIAS("max-error", "stitch-max-error", NULL, NULL),
        PTY_ALIAS("max-shift", "stitch-max-shift", NULL, NULL),
        PTY_ALIAS("ramp", "stitch-ramp", NULL, NULL),
        PTY_ALIAS("no-ramp", "stitch-ramp", "off", NULL),
        PTY_ALIAS("stitch-no-ramp", "stitch-ramp", "off", NULL),
    };
    PTY_OPT_BLOCK(b, "stitching blocks (recon --mpi-mode async, ptycho stitch)", table, check_stitch, m);
}
