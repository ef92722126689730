/* follow.c - the follower's loop: wait, start, take new frames between
 * passes, grow the grid when needed, finish, and keep the previews fresh. */
#include "follow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "comm.h"
#include "dataset.h"
#include "follow_ranks.h"
#include "geometry.h"
#include "pty_error.h"
#include "pty_log.h"

#define POLL_EVERY_S 0.02 /* the source is asked at most this often between passes */
#define WAIT_POLL_S 0.01  /* ... and this often while nothing runs */
#define READ_CHUNK 64     /* frames per read */
#define FIRST_CAPACITY 1024 /* frames stored before the first growth when the scan's length is unknown */

void pty_follow_options_default(pty_follow_options *o)
{
    memset(o, 0, sizeof *o);
    o->final_iterations = 100;
    o->timeout_s = 60.0;
    o->preview_every_s = 2.0;
    pty_probe_guess_options_default(&o->guess);
}

typedef struct follower {
    pty_frame_source *src;
    const pty_follow_options *o;
    pty_recon_params p;
    pty_dataset *d;              /* room for cap frames; the used ones first, in arrival order */
    int cap, used, in_plan;      /* frames stored; of them [0, in_plan) are in the passes */
    pty_plan *plan;
    int passes, n_plans;
    double *errors;
    int err_cap;
    int *arrival;                /* cap: passes done when each frame joined */
    long long *file_index;       /* cap: each stored frame's index in the source */
    double *all_pos;             /* every usable frame's position, in arrival order (the result's) */
    int n_all, all_cap;
    int multi, started;          /* several ranks (ranks below); the first pass has run */
    pty_follow_ranks ranks;
    int outside;                 /* frames of my block outside my box (several ranks) */
    int is_stalled, poll_due;    /* agreed verdicts */
    double polled;
    int *marks, n_marks, marks_cap; /* passes at which frames joined (the curve's grey lines) */
    float *chunk, *last;         /* READ_CHUNK frames as read; the previous frame (repeats) */
    double *chunk_pos;
    int have_last;
    long long bad_pixels, seen_local;
    pty_source_state st;
    double t0, t0_unix, t_grew, t_caught_up, next_preview, pass_s, iterate_s;
    const char *state;
    pty_follow_report rep;
    pty_probe_guess_report guess;
} follower;

/* Room for element n of a growing array of *cap elements of `size` bytes. */
static int reserve(void **array, int *cap, int n, size_t size)
{
    if (n < *cap) return PTY_OK;
    const int more = *cap ? 2 * *cap : 256;
    void *p = realloc(*array, (size_t)more * size);
    PTY_CHECK(p, PTY_ERR_NOMEM, "cannot allocate %d entries of the follower's records", more);
    *array = p;
    *cap = more;
    return PTY_OK;
}

static double since(const follower *f) { return pty_now_s() - f->t0; }

static void status_of(const follower *f, pty_live_status *s)
{
    memset(s, 0, sizeof *s);
    s->state = f->state;
    s->input = f->src->name;
    s->iteration = f->passes;
    s->error = f->passes > 0 ? f->errors[f->passes - 1] : 0.0;
    s->available = f->st.available;
    s->seen = f->rep.seen;
    s->used = f->multi ? f->n_all : f->plan ? f->in_plan : f->used; /* before the first pass: the frames stored */
    s->missing = f->rep.missing;
    s->duplicate = f->rep.duplicate;
    s->planned = f->st.planned;
    s->started_unix = f->t0_unix;
    s->elapsed_s = since(f);
    s->frame_updates_per_s = f->pass_s > 0 ? f->in_plan / f->pass_s : 0.0;
    s->lag_s = f->st.available > f->rep.seen || f->used > f->in_plan ? pty_now_s() - f->t_caught_up : 0.0;
    s->preview = f->rep.n_previews;
}

/* The frames the run waits for before its first pass. */
static int start_count(const follower *f)
{
    if (f->o->min_frames > 0) return f->o->min_frames;
    const long long planned = f->st.planned;
    long long n = planned > 0 ? (long long)ceil(PTY_FOLLOW_START_FRACTION * planned) : PTY_FOLLOW_MIN_START;
    if (n < PTY_FOLLOW_MIN_START) n = PTY_FOLLOW_MIN_START;
    return (int)n;
}

/* Every stored frame's window on g. */
static void place_stored(const follower *f, pty_geometry *g)
{
    for (int j = 0; j < f->used; j++) pty_geometry_place_position(g, j, f->d->positions + 2 * (size_t)j, f->d->m);
}

/* A grid (room for cap windows) that holds every stored frame: the old one
 * when they fit; else the old one grown on the sides they leave, by what
 * they need plus a margin of half the grid (at least a frame), so a scan
 * that keeps going grows it a few times only; with no old grid, the planned
 * scan's, or one around the frames so far with a frame's margin.  A grown
 * grid keeps the old one's pixels: its origin moves by whole pixels. */
static int make_grid(const follower *f, const pty_geometry *old, int cap, pty_geometry *out, int offset[2])
{
    const int m = f->d->m, pad = f->p.pad;
    pty_geometry base = {0};
    offset[0] = offset[1] = 0;
    if (f->multi) { /* my box of the planned grid, never grown: store() keeps only frames inside it */
        const pty_geometry *b = &f->ranks.box;
        PTY_TRY(pty_geometry_grid(cap, b->obj_h, b->obj_w, b->origin, out));
        place_stored(f, out);
        return PTY_OK;
    }
    if (!old) {
        const int planned = f->src->planned_positions != NULL;
        PTY_TRY(planned ? pty_geometry_create(f->src->planned_positions, (int)f->src->n_planned, m, pad, &base)
                        : pty_geometry_create(f->d->positions, f->used, m, pad + m, &base));
        old = &base;
    }
    int lo[2] = {0, 0}, hi[2] = {old->obj_h, old->obj_w};
    for (int j = 0; j < f->used; j++) {
        double corner[2];
        pty_geometry_corner(old, f->d->positions + 2 * (size_t)j, m, corner);
        for (int a = 0; a < 2; a++) {
            const int w = (int)lround(corner[a]);
            if (w < lo[a]) lo[a] = w;
            if (w + m > hi[a]) hi[a] = w + m;
        }
    }
    const int size[2] = {old->obj_h, old->obj_w};
    int grow_lo[2], grow_hi[2];
    for (int a = 0; a < 2; a++) {
        const int margin = size[a] / 2 > m ? size[a] / 2 : m;
        grow_lo[a] = lo[a] < 0 ? -lo[a] + pad + margin : 0;
        grow_hi[a] = hi[a] > size[a] ? hi[a] - size[a] + pad + margin : 0;
        offset[a] = grow_lo[a];
    }
    const double origin[2] = {old->origin[0] + grow_lo[0], old->origin[1] + grow_lo[1]};
    int rc = pty_geometry_grid(cap, size[0] + grow_lo[0] + grow_hi[0], size[1] + grow_lo[1] + grow_hi[1], origin, out);
    pty_geometry_free(&base);
    PTY_TRY(rc);
    place_stored(f, out);
    return PTY_OK;
}

/* A new frame store of cap frames holding the stored frames that `keep`
 * (by source index; NULL: all) marks, in their order.  Whatever read the old
 * store (a plan: the CPU backend reads frames in place) must be gone. */
static int restore(follower *f, int cap, const unsigned char *keep)
{
    const size_t npix = (size_t)f->d->m * f->d->m;
    pty_dataset *d = NULL;
    int *arrival = malloc((size_t)cap * sizeof *arrival);
    long long *index = malloc((size_t)cap * sizeof *index);
    int rc = arrival && index ? pty_dataset_create(cap, f->d->m, &d)
                              : pty_error_set(PTY_ERR_NOMEM, "cannot store %d frames", cap);
    if (rc != PTY_OK) {
        free(arrival);
        free(index);
        return rc;
    }
    int n = 0;
    for (int j = 0; j < f->used; j++) {
        if (keep && !keep[f->file_index[j]]) continue;
        memcpy(d->amplitudes + n * npix, f->d->amplitudes + j * npix, npix * sizeof *d->amplitudes);
        memcpy(d->positions + 2 * (size_t)n, f->d->positions + 2 * (size_t)j, 2 * sizeof *d->positions);
        arrival[n] = f->arrival[j];
        index[n++] = f->file_index[j];
    }
    d->wavelength = f->d->wavelength;
    d->distance = f->d->distance;
    d->detector_pixel = f->d->detector_pixel;
    d->pixel_size = f->d->pixel_size;
    d->n_masked = f->d->n_masked;
    d->probe = f->d->probe;
    d->probe_modes = f->d->probe_modes;
    f->d->probe = NULL;
    pty_dataset_destroy(f->d);
    free(f->arrival);
    free(f->file_index);
    f->d = d;
    f->arrival = arrival;
    f->file_index = index;
    f->cap = cap;
    f->used = f->in_plan = n;
    return PTY_OK;
}

/* A new plan over every stored frame, on a grid that holds them and with
 * room for cap frames, carrying the current object (into the same pixels)
 * and probe; the first plan starts from the probe guess.  The store is
 * replaced when cap grows (the old plan goes first). */
static int rebuild(follower *f, int cap)
{
    const int m = f->d->m, K = f->p.n_modes;
    const size_t npix = (size_t)m * m;
    pty_cf *object = NULL, *probe = NULL;
    pty_geometry old = {0}, grid = {0};
    int old_h = 0, old_w = 0, offset[2], rc = PTY_OK;
    if (f->plan) {
        const pty_geometry *g = pty_plan_geometry(f->plan);
        old_h = g->obj_h;
        old_w = g->obj_w;
        old = *g;
        old.window = NULL; /* only its size and origin are used */
        old.shift = NULL;
        object = malloc((size_t)old_h * old_w * sizeof *object);
        probe = malloc(npix * K * sizeof *probe);
        if (!object || !probe) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the %dx%d object", old_h, old_w);
        if (rc == PTY_OK) rc = pty_plan_get_object(f->plan, object);
        if (rc == PTY_OK) rc = pty_plan_get_probe(f->plan, probe);
        pty_plan_destroy(f->plan);
        f->plan = NULL;
        f->rep.regrids++;
    }
    if (rc == PTY_OK && cap > f->cap) {
        const int in_plan = f->in_plan;
        rc = restore(f, cap, NULL);
        f->in_plan = in_plan;
    }
    if (rc == PTY_OK && probe) { /* the plan starts from the probe it had */
        free(f->d->probe);
        f->d->probe = probe;
        f->d->probe_modes = K;
        probe = NULL;
    }
    if (rc == PTY_OK) rc = make_grid(f, f->n_plans ? &old : NULL, f->cap, &grid, offset);
    int *frames = rc == PTY_OK ? malloc((size_t)(f->used > 0 ? f->used : 1) * sizeof *frames) : NULL;
    if (rc == PTY_OK && !frames) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frame indices", f->used);
    for (int j = 0; frames && j < f->used; j++) frames[j] = j;
    if (rc == PTY_OK) {
        pty_recon_params p = f->p;
        p.probe_start = p.probe_start > f->passes ? p.probe_start - f->passes : 0;
        if (f->multi) p.center_probe = 0; /* done on the shared probe (sync_share.h) */
        p.seed += (uint64_t)f->n_plans; /* a fresh random order, not the first plan's again */
        rc = pty_plan_create_partial(f->d, &p, &grid, frames, f->used, &f->plan);
    }
    free(frames);
    if (rc == PTY_OK && object) { /* the old object into the same pixels of the larger grid */
        const int h = grid.obj_h, w = grid.obj_w;
        pty_cf *big = malloc((size_t)h * w * sizeof *big);
        if (!big) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the %dx%d object", h, w);
        for (size_t i = 0; big && i < (size_t)h * w; i++) big[i] = pty_cf_make(1.0f, 0.0f);
        for (int y = 0; big && y < old_h; y++)
            memcpy(big + (size_t)(y + offset[0]) * w + offset[1], object + (size_t)y * old_w, (size_t)old_w * sizeof *big);
        if (rc == PTY_OK) rc = pty_plan_set_object(f->plan, big);
        free(big);
    }
    if (rc == PTY_OK) {
        for (int j = f->in_plan; j < f->used; j++) f->arrival[j] = f->passes;
        f->in_plan = f->used;
        f->n_plans++;
        if (f->n_plans > 1)
            pty_info("follow: object grid now %dx%d px, frame store %d (%d frames in the passes)", grid.obj_h,
                     grid.obj_w, f->cap, f->used);
    }
    pty_geometry_free(&grid);
    free(object);
    free(probe);
    return rc;
}

/* A source frame just read: store it, or count it as skipped.  Several
 * ranks read every frame; once started, each keeps its block's. */
static int store(follower *f, const float *intensity, const double *pos, long long index)
{
    const int m = f->d->m;
    const size_t mm = (size_t)m * m;
    double counts = 0.0;
    for (size_t i = 0; i < mm; i++)
        if (intensity[i] > 0.0f && isfinite(intensity[i])) counts += intensity[i];
    const int repeat = f->have_last && memcmp(intensity, f->last, mm * sizeof *intensity) == 0;
    memcpy(f->last, intensity, mm * sizeof *intensity);
    f->have_last = 1;
    if (!isfinite(pos[0]) || !isfinite(pos[1]) || !(counts > 0.0)) {
        f->rep.missing++;
        return PTY_OK;
    }
    if (repeat) {
        f->rep.duplicate++;
        return PTY_OK;
    }
    PTY_TRY(reserve((void **)&f->all_pos, &f->all_cap, f->n_all, 2 * sizeof *f->all_pos));
    f->all_pos[2 * (size_t)f->n_all] = pos[0];
    f->all_pos[2 * (size_t)f->n_all++ + 1] = pos[1];
    if (f->multi && f->started) {
        if (index >= f->ranks.n_planned || !f->ranks.mine[index]) return PTY_OK;
        if (!pty_geometry_fits(&f->ranks.box, pos, m)) {
            f->outside++;
            return PTY_OK;
        }
    }
    if (f->used == f->cap) PTY_TRY(f->plan ? rebuild(f, 2 * f->cap) : restore(f, 2 * f->cap, NULL));
    f->bad_pixels += pty_dataset_set_frame(f->d, f->used, intensity, f->src->mask);
    f->d->positions[2 * (size_t)f->used] = pos[0];
    f->d->positions[2 * (size_t)f->used + 1] = pos[1];
    f->arrival[f->used] = f->passes;
    f->file_index[f->used] = index;
    f->used++;
    return PTY_OK;
}

/* Ask the source, read what is new, and put it into the passes. */
static int take(follower *f)
{
    pty_source_state st;
    PTY_TRY(f->src->poll(f->src, &st));
    if (st.available > f->seen_local) f->t_grew = pty_now_s();
    if (st.available > f->seen_local) f->seen_local = st.available;
    int stalled = !st.complete && pty_now_s() - f->t_grew > f->o->timeout_s;
    if (f->multi) PTY_TRY(pty_follow_ranks_agree(&st, &stalled));
    if (st.available < f->rep.seen) st.available = f->rep.seen; /* a view that went back: keep what was read */
    f->st = st;
    f->is_stalled = stalled;
    while (f->rep.seen < f->st.available) {
        const long long left = f->st.available - f->rep.seen;
        const int n = left < READ_CHUNK ? (int)left : READ_CHUNK;
        PTY_TRY(f->src->read(f->src, f->rep.seen, n, f->chunk, f->chunk_pos));
        if (f->rep.seen == 0) f->rep.t_first_frame = since(f);
        for (int k = 0; k < n; k++)
            PTY_TRY(store(f, f->chunk + (size_t)k * f->d->m * f->d->m, f->chunk_pos + 2 * (size_t)k, f->rep.seen + k));
        f->rep.seen += n;
    }
    if (f->plan && f->used > f->in_plan) {
        const pty_geometry *g = pty_plan_geometry(f->plan);
        int all_fit = 1;
        for (int j = f->in_plan; j < f->used && all_fit && !f->multi; j++)
            all_fit = pty_geometry_fits(g, f->d->positions + 2 * (size_t)j, f->d->m);
        if (!all_fit) {
            PTY_TRY(rebuild(f, f->cap));
        } else {
            const int n = f->used - f->in_plan;
            int *idx = malloc((size_t)n * sizeof *idx);
            PTY_CHECK(idx, PTY_ERR_NOMEM, "cannot allocate %d frame indices", n);
            for (int k = 0; k < n; k++) idx[k] = f->in_plan + k;
            const int rc = pty_plan_add_frames(f->plan, f->d, idx, n);
            free(idx);
            PTY_TRY(rc);
            for (int j = f->in_plan; j < f->used; j++) f->arrival[j] = f->passes;
            f->in_plan = f->used;
        }
        PTY_TRY(reserve((void **)&f->marks, &f->marks_cap, f->n_marks, sizeof *f->marks));
        f->marks[f->n_marks++] = f->passes;
    }
    if (f->rep.seen == f->st.available && f->in_plan == f->used) f->t_caught_up = pty_now_s();
    return PTY_OK;
}

/* The whole object (on rank 0 with several ranks, merged from the boxes)
 * and the probe, as they are now.  Collective with several ranks. */
static int whole(follower *f, pty_partial *obj, pty_cf *probe, double origin[2])
{
    const pty_geometry *g = pty_plan_geometry(f->plan);
    const int m = f->d->m, K = f->p.n_modes;
    memset(obj, 0, sizeof *obj);
    PTY_TRY(pty_plan_get_probe(f->plan, probe));
    if (f->multi) {
        PTY_TRY(pty_follow_ranks_object(&f->ranks, f->plan, probe, K, m, obj));
        origin[0] = f->ranks.global.origin[0] - obj->offset[0];
        origin[1] = f->ranks.global.origin[1] - obj->offset[1];
        return PTY_OK;
    }
    PTY_TRY(pty_partial_alloc(obj, g->obj_h, g->obj_w, 0, 0));
    origin[0] = g->origin[0];
    origin[1] = g->origin[1];
    const int rc = pty_plan_get_object(f->plan, obj->object);
    if (rc != PTY_OK) pty_partial_free(obj);
    return rc;
}

static int preview(follower *f)
{
    const char *dir = f->o->preview_dir;
    if (!dir || !f->plan) return PTY_OK;
    const int m = f->d->m, K = f->p.n_modes;
    pty_cf *probe = malloc((size_t)m * m * K * sizeof *probe);
    PTY_CHECK(probe, PTY_ERR_NOMEM, "cannot allocate the preview");
    pty_partial obj;
    double origin[2];
    int rc = whole(f, &obj, probe, origin);
    if (rc == PTY_OK && f->ranks.me == 0 && f->rep.n_previews == 0) /* made with the first preview: a run that */
        rc = pty_preview_page(dir, f->o->preview_every_s);               /* fails before has nothing to show */
    if (rc == PTY_OK && f->ranks.me == 0) {
        f->rep.n_previews++;
        pty_live_status s;
        status_of(f, &s);
        const pty_preview pv = {obj.object, obj.h, obj.w, f->d->pixel_size, probe, K, m, f->errors, f->passes,
                                f->marks, f->n_marks, &s};
        rc = pty_preview_write(dir, &pv);
        if (rc == PTY_OK && f->rep.n_previews == 1) f->rep.t_first_preview = since(f);
    }
    pty_partial_free(&obj);
    free(probe);
    f->next_preview = pty_now_s() + f->o->preview_every_s;
    return rc;
}

static void report_progress(follower *f)
{
    if (!f->o->progress) return;
    pty_live_status s;
    status_of(f, &s);
    f->o->progress(f->o->user, &s);
}

enum { DUE_POLL = 1, DUE_PREVIEW = 2 };

/* One pass over the frames in the plan (in step on every rank: the error
 * summed over ranks, overlaps shared, and rank 0's clock deciding whether
 * to poll or preview next). */
static int pass(follower *f)
{
    const double t = pty_now_s();
    PTY_TRY(pty_plan_execute(f->plan, 1, NULL, NULL));
    f->pass_s = pty_now_s() - t;
    f->iterate_s += f->pass_s;
    double error;
    if (f->multi) {
        PTY_TRY(pty_follow_ranks_error(f->plan, &error));
    } else {
        int n;
        error = pty_plan_errors(f->plan, &n)[n - 1];
    }
    PTY_TRY(reserve((void **)&f->errors, &f->err_cap, f->passes, sizeof *f->errors));
    f->errors[f->passes++] = error;
    if (f->multi && f->passes % f->ranks.share_every == 0) PTY_TRY(pty_sync_share(f->ranks.sync, f->plan));
    const double now = pty_now_s();
    int due = (now - f->polled >= POLL_EVERY_S ? DUE_POLL : 0) | (now >= f->next_preview ? DUE_PREVIEW : 0);
    if (f->multi) PTY_TRY(pty_follow_ranks_decide(&due));
    f->poll_due = due & DUE_POLL;
    if (due & DUE_PREVIEW) PTY_TRY(preview(f));
    report_progress(f);
    return PTY_OK;
}

static int finished(const follower *f) { return f->st.complete && f->rep.seen >= f->st.available; }

static int by_value(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* Passes each frame took part in so far: least and median. */
static void updates(follower *f)
{
    const int n = f->in_plan;
    int *u = n > 0 ? malloc((size_t)n * sizeof *u) : NULL;
    if (!u) return;
    for (int j = 0; j < n; j++) u[j] = f->passes - f->arrival[j];
    qsort(u, (size_t)n, sizeof *u, by_value);
    f->rep.updates_min = u[0];
    f->rep.updates_median = n % 2 ? u[n / 2] : 0.5 * (u[n / 2 - 1] + u[n / 2]);
    free(u);
}

/* The result (rank 0's; collective with several ranks). */
static int fill_result(follower *f, pty_follow_result *out)
{
    const int m = f->d->m, K = f->p.n_modes;
    out->m = m;
    out->n_modes = K;
    out->probe = malloc((size_t)m * m * K * sizeof *out->probe);
    PTY_CHECK(out->probe, PTY_ERR_NOMEM, "cannot allocate the result");
    pty_partial obj;
    PTY_TRY(whole(f, &obj, out->probe, out->origin));
    out->object = obj.object; /* rank 0's merge (NULL elsewhere) */
    out->obj_h = obj.h;
    out->obj_w = obj.w;
    free(obj.weight);
    out->errors = malloc((size_t)(f->passes > 0 ? f->passes : 1) * sizeof *out->errors);
    out->positions = malloc((size_t)(f->n_all > 0 ? f->n_all : 1) * 2 * sizeof *out->positions);
    PTY_CHECK(out->errors && out->positions, PTY_ERR_NOMEM, "cannot allocate the result");
    memcpy(out->errors, f->errors, (size_t)f->passes * sizeof *out->errors);
    out->n_errors = f->passes;
    memcpy(out->positions, f->all_pos, (size_t)f->n_all * 2 * sizeof *out->positions);
    out->n_positions = f->n_all;
    out->pixel_size = f->d->pixel_size;
    out->backend = pty_plan_backend_name(f->plan);
    out->order = pty_plan_order(f->plan);
    double setup_s, iterate_s;
    pty_plan_timings(f->plan, &setup_s, &iterate_s);
    out->setup_s = setup_s;
    out->iterate_s = f->iterate_s;
    out->guess = f->guess;
    return PTY_OK;
}

/* The first probe: chosen by rank 0 on the frames in so far, given to all. */
static int first_probe(follower *f)
{
    const int m = f->d->m;
    int rc = PTY_OK;
    if (f->ranks.me == 0) {
        pty_dataset view = *f->d;
        view.n_frames = f->used;
        pty_recon_params sp = f->p;
        if (f->multi && sp.n_threads == 0 && pty_comm_local_size() > 1) sp.n_threads = 1;
        rc = pty_probe_guess(&view, &f->o->guess, &sp, &f->guess);
        f->d->probe = view.probe;
        f->d->probe_modes = view.probe_modes;
    }
    if (!f->multi) return rc;
    PTY_TRY(pty_comm_agree(rc));
    int modes = f->d->probe_modes;
    PTY_TRY(pty_comm_bcast(&modes, sizeof modes, 0));
    const size_t bytes = (size_t)modes * m * m * sizeof *f->d->probe;
    if (f->ranks.me != 0) {
        free(f->d->probe);
        PTY_CHECK(f->d->probe = malloc(bytes), PTY_ERR_NOMEM, "cannot allocate the probe");
        f->d->probe_modes = modes;
    }
    return pty_comm_bcast(f->d->probe, bytes, 0);
}

/* Several ranks: from now on each keeps its block's frames only, inside its box. */
static int keep_my_block(follower *f)
{
    const pty_follow_ranks *r = &f->ranks;
    unsigned char *keep = calloc((size_t)r->n_planned + 1, 1);
    PTY_CHECK(keep, PTY_ERR_NOMEM, "cannot allocate %lld flags", r->n_planned);
    for (int j = 0; j < f->used; j++) {
        const long long i = f->file_index[j];
        if (i >= r->n_planned || !r->mine[i]) continue;
        if (pty_geometry_fits(&r->box, f->d->positions + 2 * (size_t)j, f->d->m)) keep[i] = 1;
        else f->outside++;
    }
    const int rc = restore(f, r->part.n_members[r->me], keep);
    free(keep);
    return rc;
}

static int run(follower *f, pty_follow_result *out)
{
    const pty_follow_options *o = f->o;
    const int m = f->src->m;
    PTY_CHECK(o->final_iterations >= 0, PTY_ERR_ARG, "--final-iterations must be >= 0 (got %d)",
              o->final_iterations);
    PTY_CHECK(o->timeout_s > 0, PTY_ERR_ARG, "--follow-timeout must be positive (got %g)", o->timeout_s);
    PTY_CHECK(!o->preview_dir || o->preview_every_s > 0, PTY_ERR_ARG, "--preview-every must be positive (got %g)",
              o->preview_every_s);
    f->chunk = malloc((size_t)READ_CHUNK * m * m * sizeof *f->chunk);
    f->last = malloc((size_t)m * m * sizeof *f->last);
    f->chunk_pos = malloc((size_t)READ_CHUNK * 2 * sizeof *f->chunk_pos);
    PTY_CHECK(f->chunk && f->last && f->chunk_pos, PTY_ERR_NOMEM, "cannot allocate %d frames of %dx%d", READ_CHUNK, m, m);
    PTY_TRY(f->src->poll(f->src, &f->st));
    f->cap = f->st.planned > 0 && f->st.planned < 100000000 ? (int)f->st.planned : FIRST_CAPACITY;
    f->arrival = malloc((size_t)f->cap * sizeof *f->arrival);
    f->file_index = malloc((size_t)f->cap * sizeof *f->file_index);
    PTY_CHECK(f->arrival && f->file_index, PTY_ERR_NOMEM, "cannot store %d frames", f->cap);
    PTY_TRY(pty_dataset_create(f->cap, m, &f->d));
    f->d->wavelength = f->src->wavelength;
    f->d->distance = f->src->distance;
    f->d->detector_pixel = f->src->detector_pixel;
    f->d->pixel_size = f->src->pixel_size;
    if (f->src->probe) {
        const size_t bytes = (size_t)f->src->probe_modes * m * m * sizeof *f->src->probe;
        PTY_CHECK(f->d->probe = malloc(bytes), PTY_ERR_NOMEM, "cannot copy the probe");
        memcpy(f->d->probe, f->src->probe, bytes);
        f->d->probe_modes = f->src->probe_modes;
    }

    /* 1. wait for the first frames (every rank reads them all) */
    f->state = "waiting";
    f->t_grew = f->t_caught_up = pty_now_s();
    for (;;) {
        PTY_TRY(take(f));
        if (f->used >= start_count(f) || finished(f) || f->is_stalled) break;
        report_progress(f);
        pty_sleep_s(WAIT_POLL_S);
    }
    if (f->used == 0) {
        if (finished(f))
            return pty_error_set(PTY_ERR_DATA, "'%s': the scan is complete but holds no usable frame (%d missing, %d repeated)",
                                 f->src->name, f->rep.missing, f->rep.duplicate);
        return pty_error_set(PTY_ERR_INCOMPLETE, "'%s': no usable frame arrived within %g s (--follow-timeout)",
                             f->src->name, o->timeout_s);
    }

    /* 2. the first probe, from the frames in so far, and the first plan */
    PTY_TRY(first_probe(f));
    if (f->multi) PTY_TRY(keep_my_block(f));
    f->started = 1;
    PTY_TRY(rebuild(f, f->cap));
    f->rep.t_start = since(f);
    f->next_preview = 0.0; /* the first pass writes the first preview */

    /* 3. iterate while frames arrive: what came while the probe was chosen
       first; the stall is judged only right after asking the source, so a
       long pass or setup is not mistaken for one */
    f->state = "following";
    PTY_TRY(take(f));
    f->polled = pty_now_s();
    while (!finished(f) && !f->is_stalled) {
        do {
            PTY_TRY(pass(f));
        } while (!f->poll_due);
        PTY_TRY(take(f));
        f->polled = pty_now_s();
    }
    const int was_stalled = !finished(f);
    f->rep.complete = !was_stalled;
    f->rep.live_iterations = f->passes;
    f->rep.t_complete = since(f);
    updates(f);

    /* 4. the last iterations over everything that came */
    f->state = "final";
    for (int k = 0; k < o->final_iterations; k++) PTY_TRY(pass(f));
    if (f->multi && f->passes % f->ranks.share_every != 0) PTY_TRY(pty_sync_share(f->ranks.sync, f->plan));
    f->rep.t_end = since(f);
    f->state = was_stalled ? "stalled" : "done";
    f->rep.used = f->multi ? f->n_all : f->in_plan;
    f->rep.planned = f->st.planned;
    PTY_TRY(preview(f));
    PTY_TRY(fill_result(f, out));
    if (f->bad_pixels > 0)
        pty_warn("'%s': %lld pixels were NaN, Inf or negative; they are masked", f->src->name, f->bad_pixels);
    if (f->rep.missing || f->rep.duplicate)
        pty_warn("'%s': skipped %d frames never written (no counts or no position) and %d repeating the frame "
                 "before them",
                 f->src->name, f->rep.missing, f->rep.duplicate);
    if (f->outside)
        pty_warn("rank %d: %d frames of its block lie outside the planned scan's box and were left out", f->ranks.me,
                 f->outside);
    if (was_stalled && f->st.planned > 0)
        return pty_error_set(PTY_ERR_INCOMPLETE,
                             "'%s': no new frame for %g s (--follow-timeout) and the scan is not marked complete: %lld "
                             "of %lld frames arrived; the result holds those",
                             f->src->name, o->timeout_s, f->rep.seen, f->st.planned);
    if (was_stalled)
        return pty_error_set(PTY_ERR_INCOMPLETE,
                             "'%s': no new frame for %g s (--follow-timeout) and the scan is not marked complete: %lld "
                             "frames arrived (the scan's length is unknown: --frames-planned); the result holds those",
                             f->src->name, o->timeout_s, f->rep.seen);
    return PTY_OK;
}

int pty_follow_reconstruct(pty_frame_source *src, const pty_recon_params *p, const pty_follow_options *o,
                           pty_follow_result *out)
{
    memset(out, 0, sizeof *out);
    PTY_TRY(pty_recon_params_check(p));
    PTY_CHECK(p->position_start < 0, PTY_ERR_ARG,
              "position correction cannot yet follow a scan whose frames are still arriving (--follow); leave out "
              "--position-correction");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    follower f = {.src = src, .o = o, .p = *p, .t0 = pty_now_s(), .t0_unix = now.tv_sec + 1e-9 * now.tv_nsec};
    int rc = PTY_OK;
    f.multi = pty_comm_size() > 1;
    if (f.multi) {
        pty_dist_options one;
        pty_dist_options_default(&one);
        rc = src->planned_positions ? PTY_OK
                                    : pty_error_set(PTY_ERR_DATA,
                                                    "'%s' does not state the planned positions (/entry_1/live/"
                                                    "planned_translation), which --follow on %d ranks cuts into blocks",
                                                    src->name, pty_comm_size());
        if (rc == PTY_OK)
            rc = pty_follow_ranks_create(src->planned_positions, src->n_planned, src->m, p->n_modes, p->pad,
                                         o->dist ? o->dist : &one, &f.ranks);
        /* --threads 0: the node's cores shared among its ranks, as ptycho recon does */
        if (f.p.n_threads == 0 && pty_comm_local_size() > 1) {
            f.p.n_threads = omp_get_num_procs() / pty_comm_local_size();
            if (f.p.n_threads < 1) f.p.n_threads = 1;
        }
        f.p.seed += (uint64_t)pty_comm_rank();
        rc = pty_comm_agree(rc);
    }
    if (rc == PTY_OK) rc = run(&f, out);
    out->report = f.rep;
    if (rc != PTY_OK && rc != PTY_ERR_INCOMPLETE) pty_follow_result_free(out);
    if (f.multi) pty_follow_ranks_free(&f.ranks);
    pty_plan_destroy(f.plan);
    pty_dataset_destroy(f.d);
    free(f.errors);
    free(f.arrival);
    free(f.file_index);
    free(f.all_pos);
    free(f.marks);
    free(f.chunk);
    free(f.last);
    free(f.chunk_pos);
    return rc;
}

void pty_follow_result_free(pty_follow_result *r)
{
    if (!r) return;
    free(r->object);
    free(r->probe);
    free(r->errors);
    free(r->positions);
    memset(r, 0, sizeof *r);
}
