/* merge_tree.h - merge P partial objects in log2(P) rounds of pairwise
 * merges (DESIGN.md §3): in round k, block b (b a multiple of 2^(k+1))
 * takes in block b + 2^k.  With blocks numbered row-major on the partition
 * grid, each pair is a pair of neighbours (or of neighbouring groups), so
 * every merge has an overlap to register on, and no rank ever holds more
 * than its share until the last round.  The same schedule runs across MPI
 * ranks (ptycho recon) and inside one process (ptycho stitch). */
#ifndef PTY_MERGE_TREE_H
#define PTY_MERGE_TREE_H

#include <stddef.h>

#include "merge.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One pairwise merge: group starting at block `from` merged into the group
 * starting at block `into`. */
typedef struct pty_merge_record {
    int into, from;
    pty_merge_report report;
} pty_merge_record;

/* One line about a merge: what registration found and what was applied. */
void pty_merge_describe(const pty_merge_report *r, char *buf, size_t size);

/* Collective over all ranks: each passes its partial; on return rank 0's
 * *mine holds the merge of all of them and *records (malloc'ed, may be
 * NULL when *n_records is 0) every merge done, in schedule order; on other
 * ranks *mine has been freed. */
int pty_merge_tree_mpi(pty_partial *mine, const pty_merge_options *o, pty_merge_record **records, int *n_records);

/* The same schedule over n partials held by this process; parts[0]
 * receives the result and the others are freed.  names (may be NULL): the
 * parts' files, for the message of a merge that fails. */
int pty_merge_tree_local(pty_partial *parts, int n, const pty_merge_options *o, const char *const *names,
                         pty_merge_record **records, int *n_records);

#ifdef __cplusplus
}
#endif
#endif /* PTY_MERGE_TREE_H */
