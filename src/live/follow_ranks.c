/* follow_ranks.c - blocks, boxes and the collective steps of a followed scan on several ranks. */
#include "follow_ranks.h"

#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "illumination.h"
#include "merge_tree.h"
#include "pty_error.h"

int pty_follow_ranks_create(const double *planned, long long n_planned, int m, int n_modes, int pad,
                            const pty_dist_options *o, pty_follow_ranks *r)
{
    memset(r, 0, sizeof *r);
    r->me = pty_comm_rank();
    r->n = pty_comm_size();
    r->n_planned = n_planned;
    r->share_every = o->share_every;
    r->merge = o->merge;
    r->merge.register_shift = r->merge.normalise = r->merge.fit_ramp = 0; /* one object: the offsets are known */
    PTY_TRY(pty_dist_options_check(o));
    PTY_CHECK(o->mode == PTY_MODE_SYNC, PTY_ERR_ARG,
              "--follow on several ranks runs in sync mode: add --mpi-mode sync (async blocks would be registered only "
              "at the end, so previews could not show one object)");
    PTY_CHECK(n_planned >= r->n && n_planned <= 100000000, PTY_ERR_DATA,
              "--follow on %d ranks needs the planned positions of the scan (%lld given in the file)", r->n, n_planned);
    const int n = (int)n_planned;
    PTY_TRY(pty_partition_create(planned, n, r->n, o->rows, o->cols, o->overlap, &r->part));
    PTY_TRY(pty_geometry_create(planned, n, m, pad, &r->global));
    const pty_partition *p = &r->part;
    PTY_TRY(pty_geometry_subset(&r->global, p->members[r->me], p->n_members[r->me], m, pad, &r->box, r->offset));
    r->mine = calloc((size_t)n, 1);
    r->boxes = malloc((size_t)r->n * sizeof *r->boxes);
    r->feather = malloc((size_t)r->box.obj_h * r->box.obj_w * sizeof *r->feather);
    PTY_CHECK(r->mine && r->boxes && r->feather, PTY_ERR_NOMEM, "cannot allocate the blocks of %d ranks", r->n);
    for (int i = 0; i < p->n_members[r->me]; i++) r->mine[p->members[r->me][i]] = 1;
    for (int b = 0; b < r->n; b++) {
        pty_geometry sub;
        int off[2];
        PTY_TRY(pty_geometry_subset(&r->global, p->members[b], p->n_members[b], m, pad, &sub, off));
        r->boxes[b] = (pty_box){{off[0], off[1]}, sub.obj_h, sub.obj_w};
        pty_geometry_free(&sub);
    }
    for (size_t i = 0; i < (size_t)r->box.obj_h * r->box.obj_w; i++) r->feather[i] = 1.0f;
    const int br = r->me / p->cols, bc = r->me % p->cols;
    const double lo[2] = {p->row_cuts[br], p->col_cuts[bc]}, hi[2] = {p->row_cuts[br + 1], p->col_cuts[bc + 1]};
    pty_feather_block(r->feather, r->box.obj_h, r->box.obj_w, r->box.origin, lo, hi, p->halo);
    return pty_sync_create(r->boxes, r->n, r->me, m, n_modes, 1, r->feather, &r->sync);
}

void pty_follow_ranks_free(pty_follow_ranks *r)
{
    pty_sync_destroy(r->sync);
    pty_partition_free(&r->part);
    pty_geometry_free(&r->global);
    pty_geometry_free(&r->box);
    free(r->mine);
    free(r->boxes);
    free(r->feather);
    memset(r, 0, sizeof *r);
}

int pty_follow_ranks_agree(pty_source_state *st, int *stalled)
{
    const int n = pty_comm_size();
    double mine[2] = {(double)st->available, (double)st->complete}, *all = malloc((size_t)n * 2 * sizeof *all);
    PTY_CHECK(all, PTY_ERR_NOMEM, "cannot allocate %d ranks' views", n);
    int rc = pty_comm_gather(mine, sizeof mine, all, 0);
    double agreed[3] = {mine[0], mine[1], (double)*stalled};
    for (int b = 1; rc == PTY_OK && pty_comm_rank() == 0 && b < n; b++) {
        if (all[2 * b] < agreed[0]) agreed[0] = all[2 * b];
        if (all[2 * b + 1] < agreed[1]) agreed[1] = all[2 * b + 1];
    }
    free(all);
    PTY_TRY(rc);
    PTY_TRY(pty_comm_bcast(agreed, sizeof agreed, 0));
    st->available = (long long)agreed[0];
    st->complete = agreed[1] > 0.5;
    *stalled = agreed[2] > 0.5;
    return PTY_OK;
}

int pty_follow_ranks_decide(int *flags) { return pty_comm_bcast(flags, sizeof *flags, 0); }

int pty_follow_ranks_error(const pty_plan *plan, double *error)
{
    int n;
    const double *e = pty_plan_errors(plan, &n);
    const double intensity = pty_plan_total_intensity(plan);
    double sums[2] = {n > 0 ? e[n - 1] * intensity : 0.0, intensity};
    PTY_TRY(pty_comm_sum_doubles(sums, 2));
    *error = sums[1] > 0.0 ? sums[0] / sums[1] : 0.0;
    return PTY_OK;
}

int pty_follow_ranks_object(const pty_follow_ranks *r, pty_plan *plan, const pty_cf *probe, int n_modes, int m,
                            pty_partial *out)
{
    const pty_geometry *g = pty_plan_geometry(plan);
    PTY_TRY(pty_partial_alloc(out, g->obj_h, g->obj_w, r->offset[0], r->offset[1]));
    int n_windows;
    const int *windows = pty_plan_active_windows(plan, &n_windows);
    int rc = pty_plan_get_object(plan, out->object);
    if (rc == PTY_OK) rc = pty_illumination(probe, n_modes, m, windows, n_windows, g->obj_h, g->obj_w, out->weight);
    for (size_t i = 0; rc == PTY_OK && i < (size_t)g->obj_h * g->obj_w; i++) out->weight[i] *= r->feather[i];
    pty_merge_record *records = NULL;
    int n_records = 0;
    if (rc == PTY_OK) rc = pty_merge_tree_mpi(out, &r->merge, &records, &n_records);
    free(records);
    if (rc != PTY_OK) pty_partial_free(out);
    return rc;
}
