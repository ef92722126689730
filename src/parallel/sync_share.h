/* sync_share.h - the synchronous mode's exchange (DESIGN.md §3).
 *
 * Every few iterations each rank sends to each rank whose object box
 * overlaps its own (its up-to-8 neighbours on a block grid) the strip they
 * share, as illumination-weighted values, receives theirs, and replaces the
 * strip by the weighted average over all holders.  Contributions are summed
 * in rank order, so every holder of a pixel computes the same value and the
 * ranks converge to one object, with one phase and one offset.  The probe
 * modes are then aligned to rank 0's (pty_modes_align), averaged over all
 * ranks, and re-orthogonalised, so all ranks also share one probe. */
#ifndef PTY_SYNC_SHARE_H
#define PTY_SYNC_SHARE_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A rank's object box on the global object grid. */
typedef struct pty_box {
    int off[2]; /* top-left (row, col) */
    int h, w;
} pty_box;

typedef struct pty_sync pty_sync;

/* Prepare the exchange for rank `me` given every rank's box; allocates all
 * buffers now so sharing never allocates.  center = 1 centres the shared
 * probe after each share (pty_plan_center_probe); the plans must then be
 * made with center_probe off, or ranks would roll their objects apart.
 * feather (my box, may be NULL) multiplies the illumination weights
 * (pty_feather_block). */
int pty_sync_create(const pty_box *boxes, int n_ranks, int me, int m, int n_modes, int center, const float *feather,
                    pty_sync **out);
void pty_sync_destroy(pty_sync *s);

/* Collective: share overlaps and the probe of `plan` (whose object is this
 * rank's box) with all ranks. */
int pty_sync_share(pty_sync *s, pty_plan *plan);

/* Bytes this rank sends per share (strips and probe). */
double pty_sync_bytes_per_share(const pty_sync *s);

/* Bytes of object this rank moves between its plan and the host per share:
 * its strips, out and back in (on a GPU, over the bus). */
double pty_sync_copied_bytes_per_share(const pty_sync *s);

#ifdef __cplusplus
}
#endif
#endif /* PTY_SYNC_SHARE_H */
