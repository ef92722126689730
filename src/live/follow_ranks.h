/* follow_ranks.h - the follower on several MPI ranks (sync mode).
 *
 * The planned scan is cut into blocks as `ptycho recon` cuts a finished
 * one (partition.h); each rank keeps the arriving frames of its block (core
 * and halo) on its box of the planned grid.  Ranks stay in step: they poll
 * at the same passes and take the same number of frames (the fewest any
 * rank's reader sees), rank 0 decides when to poll, preview and give up on
 * a stalled writer, overlaps and probes are shared every `share_every`
 * passes (sync_share.h), and the whole object is merged onto rank 0 for
 * previews and the result (merge_tree.h, offsets known, no registration). */
#ifndef PTY_FOLLOW_RANKS_H
#define PTY_FOLLOW_RANKS_H

#include "distributed.h"
#include "frame_source.h"
#include "merge.h"
#include "sync_share.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_follow_ranks {
    int me, n;                  /* this rank, ranks */
    pty_partition part;
    long long n_planned;
    unsigned char *mine;        /* n_planned: my block holds planned frame j */
    pty_geometry global;        /* the planned scan's grid */
    pty_geometry box;           /* my part of it: size and origin (its windows are the planned ones) */
    int offset[2];              /* my box's top-left on the global grid */
    pty_box *boxes;             /* every rank's */
    float *feather;             /* my box: trust in my own pixels */
    pty_sync *sync;
    int share_every;
    pty_merge_options merge;
} pty_follow_ranks;

/* Set up rank pty_comm_rank() of pty_comm_size() for a scan planned at
 * `planned` (n_planned x 2 object pixels): same on every rank, no messages
 * but the sync buffers'.  Errors: PTY_ERR_ARG (options), PTY_ERR_NOMEM. */
int pty_follow_ranks_create(const double *planned, long long n_planned, int m, int n_modes, int pad,
                            const pty_dist_options *o, pty_follow_ranks *r);
void pty_follow_ranks_free(pty_follow_ranks *r);

/* Collective: every rank's view of the source in, one view out: the fewest
 * frames any rank can read, complete when all say so; *stalled is rank 0's
 * verdict. */
int pty_follow_ranks_agree(pty_source_state *st, int *stalled);

/* Collective: rank 0's *flags to every rank. */
int pty_follow_ranks_decide(int *flags);

/* Collective: the Fourier error of the last pass over all ranks' frames. */
int pty_follow_ranks_error(const pty_plan *plan, double *error);

/* Collective: the whole object onto rank 0 (*out: the merged object and
 * its offset on the global grid; other ranks get nothing). */
int pty_follow_ranks_object(const pty_follow_ranks *r, pty_plan *plan, const pty_cf *probe, int n_modes, int m,
                            pty_partial *out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_FOLLOW_RANKS_H */
