/* distributed.h - one reconstruction over all MPI ranks (DESIGN.md §3).
 *
 * The scan is partitioned into blocks (partition.h), one per rank; each
 * rank reads only its own frames and holds only its part of the object.
 *   asynchronous: ranks iterate independently, then their partial objects
 *     are registered, phase-normalised and blended in a merge tree;
 *   synchronous: every `share_every` iterations ranks average the strips
 *     they share and their probes (sync_share.h), so they converge to one
 *     object; the final blend uses the known offsets only.
 * With one rank this is exactly the single-process reconstruction. */
#ifndef PTY_DISTRIBUTED_H
#define PTY_DISTRIBUTED_H

#include "cxi_read.h"
#include "engine.h"
#include "merge_tree.h"
#include "partition.h"
#include "probe_guess.h"
#include "result_read.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PTY_MODE_ASYNC = 0, PTY_MODE_SYNC = 1 };
/* Their names (--mpi-mode), indexed by PTY_MODE_*. */
extern const char *const pty_mode_names[2];

/* What a run is about to do, once every rank is set up (for a progress header). */
typedef struct pty_dist_info {
    int n_frames, m, n_ranks;
    int obj_h, obj_w;                /* the whole object grid */
    int box_h, box_w;                /* rank 0's part of it */
    double pixel_size, read_s, setup_s;
    const char *backend;
    const char *probe_start;         /* how rank 0 chose the first probe */
    const pty_recon_params *params;
    const struct pty_partition *partition;
} pty_dist_info;

/* One rank's finished block, before the merge: what a result file of its
 * own needs (results layer: pty_result_write_block). */
typedef struct pty_dist_block {
    const pty_plan *plan;           /* its errors, timings and backend */
    const pty_dataset *data;        /* its frames' positions and pixel size */
    const pty_recon_params *params;
    const pty_cf *probe;            /* params->n_modes x m x m */
    const pty_partial *partial;     /* object and weight on its box */
    double origin[2];               /* (row, col) of position (0, 0) on the partial's box */
    int rank;
} pty_dist_block;

struct pty_dist_result; /* below: what a run gives */

typedef struct pty_dist_options {
    int mode;              /* PTY_MODE_* */
    int rows, cols;        /* --partition; 0 x 0 = automatic */
    double overlap;        /* halo, scan steps */
    int share_every;       /* sync: iterations between exchanges */
    pty_merge_options merge;
    pty_probe_guess_options guess; /* the first probe (rank 0 chooses, all ranks start from it) */
    int (*block_done)(void *user, const pty_dist_block *b); /* may be NULL; called on every rank with its
                              block before the merge (ptycho recon --write-partials writes it to a file:
                              this layer writes none); a non-zero return on any rank ends the run on all
                              with that error (agreed: one message) */
    void *block_user;
    int progress_every;    /* several ranks: every this many iterations (and the first and last) the
                              progress callback gets the error over all ranks' frames, one small
                              all-reduce; 0: each rank's own error, no communication */
    void (*ready)(void *user, const pty_dist_info *info); /* may be NULL; called on every rank */
    void *ready_user;
    const pty_result_file *init;   /* may be NULL: start from its object (placed by its origin on each
                                      rank's box; transmission one where it has none) and probe, of the
                                      same frame side, modes and pixel size; a checkpoint's
                                      (iterations_done > 0) count and error history are taken up, and the
                                      run ends at the iterations asked in all */
    const char *init_name;         /* its file, for messages */
    int checkpoint_every;          /* > 0: call checkpoint every this many iterations (one rank) */
    int (*checkpoint)(void *user, pty_plan *plan, const struct pty_dist_result *so_far);
    void *checkpoint_user;
} pty_dist_options;

void pty_dist_options_default(pty_dist_options *o);

/* The ranges of the partition and exchange settings, stated here once:
 * overlap [0, 1000] scan steps, share_every [1, 1000000], rows and cols
 * >= 0 (0 x 0: automatic); the merge options by pty_merge_options_check.
 * PTY_ERR_ARG naming the flag. */
int pty_dist_options_check(const pty_dist_options *o);

/* Per-rank figures for the result file; all doubles so one gather moves them. */
typedef struct pty_rank_stats {
    double n_core, n_positions; /* positions owned, and used (core + halo) */
    double box[4];              /* object box on the global grid: row, col, h, w */
    double read_s, setup_s, compute_s, comm_s, merge_s;
    double share_s;             /* sync: whole exchanges (copies, packing, MPI, averaging, probe) */
    double bytes_sent;
} pty_rank_stats;

typedef struct pty_dist_result {
    pty_partial object;         /* rank 0: the merged object (offset on the global grid) */
    double origin[2];           /* rank 0: grid (row, col) of position (0, 0) on `object` */
    pty_cf *probe;              /* n_modes*m*m, rank 0's probe */
    int m, n_modes;
    double *errors;             /* Fourier error per iteration over all ranks' frames */
    int n_errors;
    double *positions;          /* all n_positions x 2 probe centres */
    double *refined_positions;  /* position correction: all n_positions x 2 probe centres where it moved
                                   them (each position's owner's), the same frame; NULL without */
    int n_positions;
    double pixel_size, wavelength, distance;
    pty_detector_info detector; /* how the frames were prepared (saturated pixels: all ranks') */
    pty_partition partition;
    pty_rank_stats *stats;      /* rank 0: one per rank */
    pty_merge_record *records;  /* rank 0: the merges, in schedule order */
    int n_records;
    double bytes_per_share;     /* sync: bytes rank 0 sends per share */
    double bytes_copied_per_share; /* sync: bytes of object rank 0 moves between its plan and the host per share */
    int n_shares;               /* sync: exchanges done */
    int order;                  /* PTY_ORDER_* the ranks ran (auto resolved) */
    const char *backend;
    pty_probe_guess_report guess; /* rank 0: how the first probe was chosen */
} pty_dist_result;

/* Read (each rank its own frames), reconstruct for n_iter iterations and
 * merge.  `progress` is called on every rank after each of its iterations
 * with its own block's error, or the global one (o->progress_every).  A
 * finished run whose error stalled far above its noise floor (convergence.h)
 * warns, for each block and for the whole.  Errors during reading and setup are agreed
 * across ranks (pty_comm_agree); a later error is this rank's own. */
int pty_dist_reconstruct(const pty_read_options *ro, const pty_recon_params *p, const pty_dist_options *o,
                         int n_iter, pty_progress_fn progress, void *user, pty_dist_result *out);
void pty_dist_result_free(pty_dist_result *r);

#ifdef __cplusplus
}
#endif
#endif /* PTY_DISTRIBUTED_H */
