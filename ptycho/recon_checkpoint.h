/* recon_checkpoint.h - `ptycho recon --checkpoint-every N`: the state of a
 * run written every N iterations, so a killed run resumes with
 * `--init-from PREFIX_checkpoint.h5` (recon_checkpoint.c). */
#ifndef PTY_RECON_CHECKPOINT_H
#define PTY_RECON_CHECKPOINT_H

#include "distributed.h"

typedef struct pty_checkpoint_job {
    const char *prefix;       /* the run's --output: the checkpoint is PREFIX_checkpoint.h5 */
    const char *command_line;
    const pty_recon_params *params;
} pty_checkpoint_job;

/* pty_dist_options.checkpoint: the plan's object, probe and error history
 * as a result file with /checkpoint/iterations_done, in place at once
 * (atomically replacing the one before). */
int pty_recon_checkpoint(void *user, pty_plan *plan, const struct pty_dist_result *so_far);

/* The checkpoint's name for a prefix, in path (size bytes). */
void pty_checkpoint_path(const char *prefix, char *path, size_t size);

#endif /* PTY_RECON_CHECKPOINT_H */
