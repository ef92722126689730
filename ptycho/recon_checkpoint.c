/* recon_checkpoint.c - a run's state every N iterations, written as a result file. */
#include "recon_checkpoint.h"

#include <stdio.h>
#include <stdlib.h>

#include "pty_error.h"
#include "result_write.h"
#include "staging.h"

void pty_checkpoint_path(const char *prefix, char *path, size_t size)
{
    snprintf(path, size, "%s_checkpoint.h5", prefix);
}

int pty_recon_checkpoint(void *user, pty_plan *plan, const struct pty_dist_result *so_far)
{
    const pty_checkpoint_job *job = user;
    const pty_geometry *g = pty_plan_geometry(plan);
    const int m = so_far->m, k = so_far->n_modes;
    pty_cf *object = malloc((size_t)g->obj_h * g->obj_w * sizeof *object);
    pty_cf *probe = malloc((size_t)k * m * m * sizeof *probe);
    int rc = object && probe ? PTY_OK : pty_error_set(PTY_ERR_NOMEM, "cannot allocate the checkpoint");
    if (rc == PTY_OK) rc = pty_plan_get_object(plan, object);
    if (rc == PTY_OK) rc = pty_plan_get_probe(plan, probe);
    int n_errors = 0;
    const double *errors = pty_plan_errors(plan, &n_errors);
    uint64_t rng[4];
    pty_plan_rng_state(plan, rng);
    const pty_result res = {
        .object = object, .obj_h = g->obj_h, .obj_w = g->obj_w, .origin = {g->origin[0], g->origin[1]},
        .probe = probe, .n_modes = k, .m = m, .errors = errors, .n_errors = n_errors,
        .positions = so_far->positions, .n_positions = so_far->n_positions, .pixel_size = so_far->pixel_size,
        .backend = so_far->backend, .input = "", .command_line = job->command_line, .params = job->params,
        .probe_start = so_far->guess.how, .iterations_done = n_errors, .rng_state = rng,
        .wavelength = so_far->wavelength, .distance = so_far->distance,
    };
    char path[4200];
    pty_checkpoint_path(job->prefix, path, sizeof path);
    if (rc == PTY_OK) rc = pty_result_write_h5(path, &res);
    /* in place now, replacing the one before: a run killed later resumes from here */
    if (rc == PTY_OK) rc = pty_stage_commit();
    free(object);
    free(probe);
    return rc;
}
