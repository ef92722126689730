/* opts.h - the parameter blocks' flag tables, one file each (opts_*.c).
 *
 * A block is the flags of one library parameter set, written once and
 * handed by every command that takes the set to pty_args_parse, so a
 * setting has one name, one range and one help line in every command:
 *
 *   block      settings                         commands
 *   input      pty_read_options                 recon
 *   detector   pty_read_options (preparation)   recon
 *   positions  pty_read_options (position file) recon
 *   epie       pty_recon_params, iterations      recon, bench
 *   probe      pty_probe_guess_options          recon
 *   partition  pty_dist_options (MPI)           recon
 *   stitch     pty_merge_options                recon, stitch
 *   output     result prefix, TIFFs              recon, stitch
 *   scan       pty_sim_params raster             simulate, bench
 *
 * Ranges a library checks (pty_recon_params_check, pty_merge_options_check,
 * pty_dist_options_check) are stated there only: the block's check calls
 * it once all flags are parsed.  A command's own settings (recon's
 * --print-every, stitch's --known-offsets, bench's scan) stay in its file. */
#ifndef PTY_OPTS_H
#define PTY_OPTS_H

#include "args.h"
#include "cxi_read.h"
#include "distributed.h"
#include "engine.h"
#include "simulate.h"

/* --input (also recon's first argument), datasets, geometry overrides. */
typedef struct pty_input_flags {
    pty_read_options *read;
    const char *positions_px; /* --positions-px as given; the check moves it into read */
    const char *center;       /* --center ROW,COL or fit, parsed by the detector block's check */
    const char *scale;        /* --position-scale SX,SY, parsed by the position-file block's check */
    const char *raster;       /* --raster RxC, parsed there too */
    const char *raster_step;  /* --raster-step ROW,COL (m), parsed there too */
} pty_input_flags;
void pty_opts_input(pty_opt_block *b, pty_input_flags *f);

/* The detector's images made into frames: --crop, --center, --bin, --saturation, --mask-file, --dark. */
void pty_opts_detector(pty_opt_block *b, pty_input_flags *f);

/* Positions from another file: --positions-file and how to read it. */
void pty_opts_position_file(pty_opt_block *b, pty_input_flags *f);

/* The reconstruction: steps, modes, order, backend; and how many iterations. */
void pty_opts_epie(pty_opt_block *b, pty_recon_params *p, int *iterations);

/* The first probe (--probe-model and its sizes). */
void pty_opts_probe(pty_opt_block *b, pty_probe_guess_options *g);

/* Several ranks: --mpi-mode, --partition, --overlap, --share-every. */
typedef struct pty_partition_flags {
    pty_dist_options *dist;
    const char *grid; /* --partition RxC as given; the check parses it into dist */
} pty_partition_flags;
void pty_opts_partition(pty_opt_block *b, pty_partition_flags *f);

/* Registering and blending blocks (recon's async merges, ptycho stitch). */
void pty_opts_stitch(pty_opt_block *b, pty_merge_options *m);

/* A simulated raster: --rows, --cols, --step, --frame (pty_sim_validate). */
void pty_opts_scan(pty_opt_block *b, pty_sim_params *p);

/* Where the result goes. */
typedef struct pty_output_flags {
    const char *output; /* --output as given; NULL (no default) makes it required */
    int no_tiff;
    char prefix[4096];  /* output without a trailing ".h5", set by the check */
} pty_output_flags;
void pty_opts_output(pty_opt_block *b, pty_output_flags *f);

#endif /* PTY_OPTS_H */
