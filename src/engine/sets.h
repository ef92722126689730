/* sets.h - positions grouped into sets whose probe windows do not overlap.
 *
 * Within such a set the object updates of ePIE touch disjoint pixels, so
 * the set can run at once (threads, or one batched GPU launch) with the
 * object updated exactly as in sequential order; only the probe update
 * becomes the sum of the set's steps (DESIGN.md §3 "On one GPU"). */
#ifndef PTY_SETS_H
#define PTY_SETS_H

#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_sets {
    int n, n_sets;
    int *members; /* n position indices, grouped by set */
    int *end;     /* n_sets: set s is members[end[s-1] .. end[s]) */
} pty_sets;

/* Colour n windows (top-left (row, col), m x m, on an obj_h x obj_w grid)
 * so that no two windows of a set overlap, twice: greedily in an order
 * drawn from rng, and in a sweep by rows.  For workers > 1 (the threads
 * that will share each set) windows then move between each colouring's
 * sets until sum_s ceil(size_s / workers), the pass's length in
 * position-times on that many threads, stops falling.  The colouring
 * whose pass is shorter, counting a cost for each set's end, is kept.  No
 * set grows beyond max_size windows (0: no limit).  Errors:
 * PTY_ERR_NOMEM. */
int pty_sets_build(const int *window, int n, int m, int obj_h, int obj_w, int workers, int max_size, pty_rng *rng,
                   pty_sets *out);
void pty_sets_free(pty_sets *s);

/* The largest of n_sets sets ending at end[] (as pty_sets.end or a pass's
 * set_end); 1 when there are none (sequential order: sets of one). */
int pty_sets_largest(const int *end, int n_sets);

/* PTY_OK when end[0..n_sets) rises strictly from 0 to n (no empty set,
 * every position in one); else PTY_ERR_ARG with a message starting `who`. */
int pty_sets_check_ends(const int *end, int n_sets, int n, const char *who);

/* Fill order (n) and set_end (n_sets) for one pass: the sets in a random
 * order, each set's members as built. */
void pty_sets_shuffle(const pty_sets *s, pty_rng *rng, int *order, int *set_end, int *scratch);

#ifdef __cplusplus
}
#endif
#endif /* PTY_SETS_H */
