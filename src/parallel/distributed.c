/* distributed.c - partition, per-rank read and plan, iterate (with sharing
 * in sync mode), merge.  Every step before the first iteration ends in an
 * agreement, so a bad input stops all ranks with one message; after that a
 * failing rank returns its own error and the program aborts the job. */
#include "distributed.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "convergence.h"
#include "illumination.h"
#include "modes.h"
#include "pty_error.h"
#include "pty_log.h"
#include "sync_share.h"

const char *const pty_mode_names[2] = {"async", "sync"};

int pty_dist_options_check(const pty_dist_options *o)
{
    PTY_CHECK(o->mode == PTY_MODE_ASYNC || o->mode == PTY_MODE_SYNC, PTY_ERR_ARG, "--mpi-mode must be async or sync");
    PTY_CHECK(o->rows >= 0 && o->cols >= 0 && (o->rows > 0) == (o->cols > 0), PTY_ERR_ARG,
              "--partition %dx%d: rows and columns must both be >= 1", o->rows, o->cols);
    PTY_CHECK(o->overlap >= 0.0 && o->overlap <= 1000.0, PTY_ERR_ARG,
              "--overlap must be in [0, 1000] scan steps (got %g)", o->overlap);
    PTY_CHECK(o->share_every >= 1 && o->share_every <= 1000000, PTY_ERR_ARG,
              "--share-every must be in [1, 1000000] (got %d)", o->share_every);
    return pty_merge_options_check(&o->merge);
}

void pty_dist_options_default(pty_dist_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = PTY_MODE_ASYNC;
    o->overlap = 4.0;
    o->share_every = 1;
    pty_merge_options_default(&o->merge);
    pty_probe_guess_options_default(&o->guess);
}

void pty_dist_result_free(pty_dist_result *r)
{
    if (!r) return;
    pty_partial_free(&r->object);
    free(r->probe);
    free(r->errors);
    free(r->positions);
    free(r->refined_positions);
    pty_partition_free(&r->partition);
    free(r->stats);
    free(r->records);
    memset(r, 0, sizeof *r);
}

/* Every rank's object box, computed identically everywhere (no messages). */
static int all_boxes(const pty_geometry *global, const pty_partition *part, int m, int pad, pty_box *boxes)
{
    for (int b = 0; b < part->n_blocks; b++) {
        pty_geometry sub;
        int off[2];
        PTY_TRY(pty_geometry_subset(global, part->members[b], part->n_members[b], m, pad, &sub, off));
        boxes[b] = (pty_box){{off[0], off[1]}, sub.obj_h, sub.obj_w};
        pty_geometry_free(&sub);
    }
    return PTY_OK;
}

/* Everyone starts from rank 0's initial probe: in sync mode the probes are
 * averaged and must start alike; in async mode it removes one source of
 * difference (global phase, mode order) between the partial objects. */
static int share_initial_probe(pty_plan *plan, size_t nprobe)
{
    pty_cf *probe = malloc(nprobe * sizeof *probe);
    PTY_CHECK(probe, PTY_ERR_NOMEM, "cannot allocate the probe");
    int rc = pty_plan_get_probe(plan, probe);
    if (rc == PTY_OK) rc = pty_comm_bcast(probe, nprobe * sizeof *probe, 0);
    if (rc == PTY_OK) rc = pty_plan_set_probe(plan, probe);
    free(probe);
    return rc;
}

/* The error over all ranks' frames: sum of numerators over sum of intensities. */
static int global_errors(pty_plan *plan, double intensity, pty_dist_result *out)
{
    int n;
    const double *e = pty_plan_errors(plan, &n);
    double *buf = malloc((size_t)(n + 1) * sizeof *buf);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate the error history");
    for (int i = 0; i < n; i++) buf[i] = e[i] * intensity;
    buf[n] = intensity;
    int rc = pty_comm_sum_doubles(buf, (size_t)n + 1);
    if (rc != PTY_OK) {
        free(buf);
        return rc;
    }
    for (int i = 0; i < n; i++) buf[i] /= buf[n];
    out->errors = buf;
    out->n_errors = n;
    return PTY_OK;
}

/* PTYCHO_FAIL_AT=RANK:ITERATION makes that rank fail as if out of memory
 * before that iteration: the only way to test, deterministically, that a
 * rank dying mid-run ends the whole job with one message. */
static int injected_failure(int iteration)
{
    const char *v = getenv("PTYCHO_FAIL_AT");
    int rank, at;
    if (!v || sscanf(v, "%d:%d", &rank, &at) != 2 || rank != pty_comm_rank() || iteration < at) return PTY_OK;
    return pty_error_set(PTY_ERR_NOMEM, "out of memory before iteration %d (injected by PTYCHO_FAIL_AT=%s)", at + 1,
                         v);
}

/* Run n iterations, one at a time when a failure is to be injected. */
static int run_chunk(pty_plan *plan, int done, int n, pty_progress_fn progress, void *user)
{
    if (!getenv("PTYCHO_FAIL_AT")) return pty_plan_execute(plan, n, progress, user);
    for (int t = done; t < done + n; t++) {
        PTY_TRY(injected_failure(t));
        PTY_TRY(pty_plan_execute(plan, 1, progress, user));
    }
    return PTY_OK;
}

/* The progress callback with the error over all ranks' frames where the
 * caller wants it: every rank reduces at the same iterations. */
typedef struct global_progress {
    pty_progress_fn fn;
    void *user;
    double intensity; /* this rank's error denominator */
    int every, total;
} global_progress;

static int progress_global(void *user, int iter, int n_iter, double error, double seconds)
{
    global_progress *g = user;
    const int done = iter + 1;
    if (done % g->every == 0 || done == g->total || done == 1) {
        double sums[2] = {error * g->intensity, g->intensity};
        int rc = pty_comm_sum_doubles(sums, 2);
        if (rc == PTY_OK && sums[1] > 0) error = sums[0] / sums[1];
    }
    return g->fn(g->user, iter, n_iter, error, seconds);
}

/* Warn when an error history stalled far above its noise floor. */
static void judge(const double *errors, int n, double floor, const char *who)
{
    const int verdict = pty_convergence_judge(errors, n, floor);
    if (verdict == PTY_CONVERGED) return;
    char line[768];
    pty_convergence_advice(verdict, errors, n, floor, who, line, sizeof line);
    pty_warn("%s", line);
}

/* Position correction's result over the whole scan: each position as the
 * rank that owns it (its core) moved it, summed into place on every rank. */
static int gather_positions(const pty_plan *plan, const pty_partition *part, int n, pty_dist_result *out)
{
    const int me = pty_comm_rank(), P = pty_comm_size();
    const int mine = P > 1 ? part->n_members[me] : n;
    double *all = calloc((size_t)n * 2, sizeof *all), *local = malloc((size_t)mine * 2 * sizeof *local);
    if (!all || !local) {
        free(all);
        free(local);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d refined positions", n);
    }
    pty_plan_positions(plan, local);
    for (int i = 0; i < mine; i++) {
        const int j = P > 1 ? part->members[me][i] : i;
        if (P == 1 || part->owner[j] == me) {
            all[2 * j] = local[2 * i];
            all[2 * j + 1] = local[2 * i + 1];
        }
    }
    free(local);
    int rc = P > 1 ? pty_comm_sum_doubles(all, (size_t)n * 2) : PTY_OK;
    if (rc != PTY_OK) {
        free(all);
        return rc;
    }
    out->refined_positions = all;
    return PTY_OK;
}

static int iterate(pty_plan *plan, const pty_dist_options *o, const pty_box *boxes, int m, int n_modes, int center,
                   const float *feather, int n_iter, pty_progress_fn progress, void *user, pty_dist_result *out,
                   double *share_s)
{
    if (o->checkpoint_every > 0 && o->checkpoint && pty_comm_size() == 1) {
        int rc = PTY_OK, done;
        pty_plan_errors(plan, &done);
        while (done < n_iter && rc == PTY_OK) {
            const int k = n_iter - done < o->checkpoint_every ? n_iter - done : o->checkpoint_every;
            rc = run_chunk(plan, done, k, progress, user);
            done += k;
            if (rc == PTY_OK && done < n_iter) rc = o->checkpoint(o->checkpoint_user, plan, out);
        }
        return rc;
    }
    int already;
    pty_plan_errors(plan, &already);
    n_iter -= already; /* a resumed run does what is left */
    if (o->mode == PTY_MODE_ASYNC || pty_comm_size() == 1) return run_chunk(plan, 0, n_iter, progress, user);
    pty_sync *sync = NULL;
    PTY_TRY(pty_sync_create(boxes, pty_comm_size(), pty_comm_rank(), m, n_modes, center, feather, &sync));
    out->bytes_per_share = pty_sync_bytes_per_share(sync);
    out->bytes_copied_per_share = pty_sync_copied_bytes_per_share(sync);
    int rc = PTY_OK;
    for (int done = 0; done < n_iter && rc == PTY_OK;) {
        int k = n_iter - done < o->share_every ? n_iter - done : o->share_every;
        rc = run_chunk(plan, done, k, progress, user);
        double t0 = pty_now_s();
        if (rc == PTY_OK) rc = pty_sync_share(sync, plan);
        *share_s += pty_now_s() - t0;
        out->n_shares++;
        done += k;
    }
    pty_sync_destroy(sync);
    return rc;
}

/* The start of --init-from fits this scan and run: frame side, modes, pixel
 * size, and (a checkpoint) not past the iterations asked. */
static int check_init(const pty_dist_options *o, const pty_dataset *d, const pty_recon_params *p, int n_iter)
{
    const pty_result_file *r = o->init;
    const char *f = o->init_name ? o->init_name : "--init-from";
    PTY_CHECK(r->m == d->m, PTY_ERR_DATA, "--init-from '%s': its probe is %dx%d but the frames are %dx%d", f, r->m, r->m,
              d->m, d->m);
    PTY_CHECK(r->n_modes == p->n_modes, PTY_ERR_DATA, "--init-from '%s' holds %d probe mode%s; give --modes %d", f,
              r->n_modes, r->n_modes == 1 ? "" : "s", r->n_modes);
    if (r->pixel_size > 0.0 && d->pixel_size > 0.0)
        PTY_CHECK(fabs(r->pixel_size - d->pixel_size) <= 1e-3 * d->pixel_size, PTY_ERR_DATA,
                  "--init-from '%s' has object pixels of %.4g nm but this scan's are %.4g nm", f, r->pixel_size * 1e9,
                  d->pixel_size * 1e9);
    PTY_CHECK(r->iterations_done < n_iter, PTY_ERR_ARG,
              "--init-from '%s' is a checkpoint after %d iterations: give --iterations above that (the total)", f,
              r->iterations_done);
    return PTY_OK;
}

/* Object, probe and (a checkpoint) iteration count from o->init: the object
 * placed on this plan's box by the two origins, rounded to whole pixels. */
static int start_from(pty_plan *plan, const pty_result_file *r)
{
    const pty_geometry *g = pty_plan_geometry(plan);
    const size_t n = (size_t)g->obj_h * g->obj_w;
    pty_cf *obj = malloc(n * sizeof *obj);
    PTY_CHECK(obj, PTY_ERR_NOMEM, "cannot allocate a %dx%d object", g->obj_h, g->obj_w);
    const long dr = lround(r->origin[0] - g->origin[0]), dc = lround(r->origin[1] - g->origin[1]);
    for (long i = 0; i < g->obj_h; i++)
        for (long j = 0; j < g->obj_w; j++) {
            const long si = i + dr, sj = j + dc;
            obj[(size_t)i * g->obj_w + j] = si >= 0 && si < r->h && sj >= 0 && sj < r->w ? r->object[(size_t)si * r->w + sj]
                                                                                           : pty_cf_make(1.0f, 0.0f);
        }
    int rc = pty_plan_set_object(plan, obj);
    free(obj);
    if (rc == PTY_OK) rc = pty_plan_set_probe(plan, r->probe);
    if (rc == PTY_OK && r->iterations_done > 0)
        rc = pty_plan_resume(plan, r->errors, r->iterations_done, r->has_rng ? r->rng_state : NULL);
    return rc;
}

int pty_dist_reconstruct(const pty_read_options *ro_in, const pty_recon_params *p_in, const pty_dist_options *o,
                         int n_iter, pty_progress_fn progress, void *user, pty_dist_result *out)
{
    memset(out, 0, sizeof *out);
    const int me = pty_comm_rank(), P = pty_comm_size();
    pty_recon_params p = *p_in;
    pty_rank_stats st = {0};
    pty_geometry global = {0}, sub = {0};
    pty_scan *scan = NULL;
    pty_dataset *d = NULL;
    pty_plan *plan = NULL;
    pty_box *boxes = NULL;
    pty_partial mine = {0};
    float *feather = NULL;
    int n = 0, m = 0, offset[2] = {0, 0};
    double t0 = pty_now_s();

    /* 1. positions and partition: the same on every rank */
    int rc = pty_dist_options_check(o);
    /* the scan is checked (header, position file, centre fit) once; its frames read below */
    if (rc == PTY_OK) rc = pty_scan_open(ro_in, &scan);
    if (rc == PTY_OK) {
        const double *pos = pty_scan_positions(scan, &n, &m);
        out->positions = malloc((size_t)n * 2 * sizeof *out->positions);
        if (out->positions) memcpy(out->positions, pos, (size_t)n * 2 * sizeof *pos);
        else rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions", n);
    }
    if (rc == PTY_OK) {
        out->n_positions = n;
        rc = pty_partition_create(out->positions, n, P, o->rows, o->cols, o->overlap, &out->partition);
    }
    if (rc == PTY_OK) rc = pty_geometry_create(out->positions, n, m, p.pad, &global);
    if (rc == PTY_OK && P > 1) {
        boxes = malloc((size_t)P * sizeof *boxes);
        rc = boxes ? all_boxes(&global, &out->partition, m, p.pad, boxes)
                   : pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d boxes", P);
    }
    if ((rc = pty_comm_agree(rc)) != PTY_OK) goto done;

    /* 2. this rank's frames only */
    const pty_partition *part = &out->partition;
    rc = pty_scan_read(scan, P > 1 ? part->members[me] : NULL, P > 1 ? part->n_members[me] : 0, &d);
    pty_scan_close(scan);
    scan = NULL;
    st.read_s = pty_now_s() - t0;
    if ((rc = pty_comm_agree(rc)) != PTY_OK) goto done;
    out->pixel_size = d->pixel_size;
    out->wavelength = d->wavelength;
    out->distance = d->distance;
    out->detector = d->detector;
    double saturated = (double)d->detector.saturated;
    if ((rc = pty_comm_sum_doubles(&saturated, 1)) != PTY_OK) goto done;
    out->detector.saturated = (long)saturated;

    /* the first probe: rank 0 chooses (a search looks at its own frames),
       the others take it from rank 0 once their plans exist */
    if (o->init) {
        rc = check_init(o, d, &p, n_iter);
        if (rc == PTY_OK)
            snprintf(out->guess.how, sizeof out->guess.how, "from '%s'%s", o->init_name ? o->init_name : "--init-from",
                     o->init->iterations_done > 0 ? " (a checkpoint: resumed)" : "");
    } else if (me == 0) {
        pty_recon_params sp = p;
        if (P > 1 && sp.n_threads == 0 && pty_comm_local_size() > 1) sp.n_threads = 1;
        rc = pty_probe_guess(d, &o->guess, &sp, &out->guess);
    }
    if ((rc = pty_comm_agree(rc)) != PTY_OK) goto done;

    /* 3. plan on this rank's box of the global grid */
    if (P > 1) {
        rc = pty_geometry_subset(&global, part->members[me], part->n_members[me], m, p.pad, &sub, offset);
        p.seed += (uint64_t)me; /* independent position orders */
        if (o->mode == PTY_MODE_SYNC) p.center_probe = 0; /* done on the shared probe (sync_share) */
    }
    p.device = pty_comm_local_rank();
    /* --threads 0 means all cores: shared among the ranks of a node, whose
       threads would otherwise take turns at every barrier of a pass */
    if (p.n_threads == 0 && pty_comm_local_size() > 1) {
        p.n_threads = omp_get_num_procs() / pty_comm_local_size();
        if (p.n_threads < 1) p.n_threads = 1;
    }
    if (rc == PTY_OK) rc = pty_plan_create(d, &p, P > 1 ? &sub : NULL, &plan);
    if (rc == PTY_OK) out->order = p.order = pty_plan_order(plan); /* auto resolved, for the results */
    out->m = m;
    out->n_modes = p.n_modes;
    const size_t nprobe = (size_t)p.n_modes * m * m;
    if (rc == PTY_OK) {
        out->backend = pty_plan_backend_name(plan);
        out->probe = malloc(nprobe * sizeof *out->probe);
        if (!out->probe) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the probe");
    }
    if (rc == PTY_OK && o->init) rc = start_from(plan, o->init);
    if ((rc = pty_comm_agree(rc)) != PTY_OK) goto done;
    if (P > 1 && !o->init && (rc = pty_comm_agree(share_initial_probe(plan, nprobe))) != PTY_OK) goto done;
    /* sync: one object, so one mean position over all ranks; async: each block holds its own */
    if (P > 1 && o->mode == PTY_MODE_SYNC) pty_plan_set_position_sum(plan, pty_comm_sum_doubles);
    double setup_s;
    pty_plan_timings(plan, &setup_s, &st.compute_s);
    st.setup_s = setup_s;

    if (o->ready) {
        const pty_geometry *g = pty_plan_geometry(plan);
        pty_dist_info info = {
            .n_frames = n, .m = m, .n_ranks = P, .obj_h = global.obj_h, .obj_w = global.obj_w,
            .box_h = g->obj_h, .box_w = g->obj_w, .pixel_size = d->pixel_size, .read_s = st.read_s,
            .setup_s = st.setup_s, .backend = out->backend, .probe_start = out->guess.how, .params = &p,
            .partition = part,
        };
        o->ready(o->ready_user, &info);
    }

    /* 4. iterate; from here on an error is this rank's alone */
    double comm_before = pty_comm_seconds();
    if (P > 1) {
        const pty_geometry *g = pty_plan_geometry(plan);
        feather = malloc((size_t)g->obj_h * g->obj_w * sizeof *feather);
        if (!feather) {
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the %dx%d weights", g->obj_h, g->obj_w);
            goto done;
        }
        for (size_t i = 0; i < (size_t)g->obj_h * g->obj_w; i++) feather[i] = 1.0f;
        const int br = me / part->cols, bc = me % part->cols;
        const double lo[2] = {part->row_cuts[br], part->col_cuts[bc]};
        const double hi[2] = {part->row_cuts[br + 1], part->col_cuts[bc + 1]};
        pty_feather_block(feather, g->obj_h, g->obj_w, g->origin, lo, hi, part->halo);
    }
    global_progress gp = {progress, user, pty_plan_total_intensity(plan), o->progress_every, n_iter};
    const int reduce = P > 1 && progress && o->progress_every > 0;
    rc = iterate(plan, o, boxes, m, p.n_modes, p_in->center_probe, feather, n_iter, reduce ? progress_global : progress,
                 reduce ? (void *)&gp : user, out, &st.share_s);
    if (rc != PTY_OK) goto done;
    if ((rc = global_errors(plan, pty_plan_total_intensity(plan), out)) != PTY_OK) goto done;
    {
        int n_own;
        const double *own = pty_plan_errors(plan, &n_own);
        double floor[2] = {pty_plan_noise_floor(plan) * pty_plan_total_intensity(plan), pty_plan_total_intensity(plan)};
        if ((rc = pty_comm_sum_doubles(floor, 2)) != PTY_OK) goto done;
        char who[64];
        snprintf(who, sizeof who, "rank %d's block", me);
        if (P > 1) judge(own, n_own, pty_plan_noise_floor(plan), who);
        if (me == 0) judge(out->errors, out->n_errors, floor[1] > 0 ? floor[0] / floor[1] : 0.0, "the reconstruction");
    }
    if (p.position_start >= 0 && (rc = gather_positions(plan, part, n, out)) != PTY_OK) goto done;
    pty_plan_timings(plan, &setup_s, &st.compute_s);
    st.comm_s = pty_comm_seconds() - comm_before;

    /* 5. merge the partial objects */
    const pty_geometry *g = pty_plan_geometry(plan);
    if ((rc = pty_partial_alloc(&mine, g->obj_h, g->obj_w, offset[0], offset[1])) != PTY_OK) goto done;
    if ((rc = pty_plan_get_object(plan, mine.object)) != PTY_OK) goto done;
    if ((rc = pty_plan_get_probe(plan, out->probe)) != PTY_OK) goto done;
    rc = pty_illumination(out->probe, p.n_modes, m, g->window, g->n, g->obj_h, g->obj_w, mine.weight);
    if (rc != PTY_OK) goto done;
    if (feather)
        for (size_t i = 0; i < (size_t)g->obj_h * g->obj_w; i++) mine.weight[i] *= feather[i];
    if (o->block_done) {
        pty_dist_block blk = {.plan = plan, .data = d, .params = &p, .probe = out->probe, .partial = &mine,
                              .origin = {global.origin[0] - mine.offset[0], global.origin[1] - mine.offset[1]},
                              .rank = me};
        rc = o->block_done(o->block_user, &blk);
    }
    /* every rank writes its block here, and all may fail alike (a directory they cannot write):
       one agreed error, one message, not one a rank */
    if ((rc = pty_comm_agree(rc)) != PTY_OK) goto done;
    double t_merge = pty_now_s(), comm_merge = pty_comm_seconds();
    pty_merge_options mo = o->merge;
    if (o->mode == PTY_MODE_SYNC) mo.register_shift = mo.normalise = mo.fit_ramp = 0;
    rc = pty_merge_tree_mpi(&mine, &mo, &out->records, &out->n_records);
    if (rc != PTY_OK) goto done;
    st.merge_s = pty_now_s() - t_merge - (pty_comm_seconds() - comm_merge);
    st.comm_s += pty_comm_seconds() - comm_merge;

    /* 6. per-rank figures to rank 0 */
    st.n_core = part->n_core[me];
    st.n_positions = part->n_members[me];
    st.box[0] = offset[0];
    st.box[1] = offset[1];
    st.box[2] = g->obj_h;
    st.box[3] = g->obj_w;
    st.bytes_sent = pty_comm_bytes_sent();
    if (me == 0) {
        out->stats = malloc((size_t)P * sizeof *out->stats);
        if (!out->stats) {
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate rank statistics");
            goto done;
        }
        out->object = mine;
        memset(&mine, 0, sizeof mine);
        out->origin[0] = global.origin[0] - out->object.offset[0];
        out->origin[1] = global.origin[1] - out->object.offset[1];
    }
    rc = pty_comm_gather(&st, sizeof st, out->stats, 0);
done:
    pty_scan_close(scan);
    pty_partial_free(&mine);
    pty_plan_destroy(plan);
    pty_dataset_destroy(d);
    pty_geometry_free(&sub);
    pty_geometry_free(&global);
    free(boxes);
    free(feather);
    if (rc != PTY_OK) pty_dist_result_free(out);
    return rc;
}
