/* engine.c - the ePIE schedule: random position order, probe-update start,
 * mode orthogonalisation, error bookkeeping and divergence checks, on top
 * of whichever backend the plan chose. */
#include "engine.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"
#include "positions.h"
#include "probe_init.h"
#include "pty_error.h"
#include "pty_log.h"
#include "rng.h"
#include "sets.h"
#include "threads.h"

/* The most windows in one set of the batched order.  A set's probe steps
 * all start from one probe, so the probe moves about twice per set
 * (pty_probe_step) where the sequential order moves it once per position:
 * larger sets converge more slowly per iteration.  Measured on a 100 x 100
 * raster of 64^2 (step 7, one thread, 40 iterations; sequential NRMSE
 * 0.0742): sets of up to 55 windows 0.0924, at most 32 0.0823, 16 0.0769,
 * 8 0.0746.  16 keeps a GPU launch at 16 x K frames, about 10^6 pixels at
 * 256^2 (the seed case: 21000 / 16 = 1313 sets instead of 165 of up to 132). */
#define PTY_MAX_SET_SIZE 16

/* Probe centring rolls probe and object only when at most this share of
 * the probe's power wraps around the window's edge.  Independent
 * simulator, beam filling 90 % of the window, first probe 6 px off centre:
 * NRMSE 0.018 with centring at this bound, 0.031 without; at 1e-3 it
 * refused a roll that wrapped 0.13 % and helped (3 px off: 0.015 against
 * 0.021). */
#define PTY_CENTRING_MAX_WRAP 1e-2

/* Position correction moves a position by at most this many pixels per
 * axis and iteration (--position-max-step).  On the independent
 * simulator's scan with 1.5 px RMS position errors (tests/cli/
 * recon_positions.sh), 0.3 and 1.0 end equally close (0.175 px RMS), so
 * the limit costs nothing there; on ptycho's Siemens star, where the
 * spokes' period makes a 3 px error ambiguous, 1.0 from the first
 * iteration let positions run off (1.65 px RMS from 1.45) where 0.1 and
 * 0.3 ended at 0.96 and 1.02. */
#define PTY_POSITION_MAX_STEP 0.3f

/* A probe whose power grows past this multiple of its start has blown up. */
#define PTY_DIVERGED_POWER_RATIO 100.0

struct pty_plan {
    pty_recon_params params;
    const pty_backend_ops *ops;
    void *impl;
    pty_geometry geom;
    int m, n_frames;
    double total_intensity;   /* denominator of the Fourier error */
    double noise_floor;       /* the error photon noise alone leaves (pty_dataset_noise_floor's, over the active frames) */
    double probe_power_start;
    pty_rng rng;
    int *order;
    int *active;              /* the frames passes visit (all, or those of a live scan that have arrived) */
    int n_active;
    unsigned char *is_active; /* n_frames flags, for add_frames' checks */
    int *active_windows;      /* the active frames' windows, in `active` order (sets, illumination) */
    double noise_sum;         /* numerator of the noise floor over the active frames */
    pty_sets sets;            /* batched order: the sets, built once (again when windows move) */
    int set_workers;          /* the workers a set is balanced for */
    int *set_end, *set_scratch;
    pty_cf *probe_host;       /* scratch for orthogonalisation */
    pty_cf *object_host;      /* the object on the host, for probe centring */
    void *scratch;            /* probe centring's roll and orthogonalisation's work space: made at
                                 create, so execute allocates nothing but the error history */
    pty_positions positions;  /* position correction (params.position_start >= 0) */
    pty_sum_fn position_sum;
    double *errors;
    int n_done, errors_cap;
    int warned_rising;
    double setup_s, iterate_s;
};

const char *const pty_order_names[3] = {"sequential", "batched", "auto"};

void pty_recon_params_default(pty_recon_params *p)
{
    memset(p, 0, sizeof *p);
    p->n_modes = 1;
    p->alpha = 1.0f;
    p->beta = 1.0f;
    p->rpie = -1.0f;
    p->obj_norm = PTY_OBJNORM_GLOBAL;
    p->probe_start = 10;
    p->mode_power = 0.05f;
    p->ortho_every = 1;
    p->seed = 1;
    p->pad = 8;
    p->backend = PTY_BACKEND_AUTO;
    p->n_threads = 0;
    p->probe_diameter = 0.0;
    p->center_probe = 1;
    p->order = PTY_ORDER_AUTO;
    p->position_start = -1;
    p->position_max_step = PTY_POSITION_MAX_STEP;
}

int pty_recon_params_check(const pty_recon_params *p)
{
    PTY_CHECK(p->n_modes >= 1 && p->n_modes <= 64, PTY_ERR_ARG, "--modes must be between 1 and 64 (got %d)", p->n_modes);
    PTY_CHECK(p->alpha > 0.0f && p->alpha <= 2.0f, PTY_ERR_ARG, "--alpha must be in (0, 2] (got %g)", p->alpha);
    PTY_CHECK(p->beta >= 0.0f && p->beta <= 2.0f, PTY_ERR_ARG, "--beta must be in [0, 2] (got %g)", p->beta);
    /* a = 0 divides by sum_k |P_k(r)|^2 alone, 0 wherever the probe is dark (0 * inf = NaN) */
    PTY_CHECK(p->rpie < 0.0f || (p->rpie > 0.0f && p->rpie <= 1.0f), PTY_ERR_ARG,
              "--rpie must be in (0, 1] (got %g): a = 0 divides by the probe's intensity, which is 0 outside it",
              p->rpie);
    PTY_CHECK(p->probe_start >= 0, PTY_ERR_ARG, "--probe-start must be >= 0 (got %d)", p->probe_start);
    PTY_CHECK(p->mode_power > 0.0f && p->mode_power < 1.0f, PTY_ERR_ARG, "--mode-power must be in (0, 1) (got %g)",
              p->mode_power);
    PTY_CHECK(p->ortho_every >= 0, PTY_ERR_ARG, "--ortho-every must be >= 0 (got %d)", p->ortho_every);
    PTY_CHECK(p->order == PTY_ORDER_SEQUENTIAL || p->order == PTY_ORDER_BATCHED || p->order == PTY_ORDER_AUTO,
              PTY_ERR_ARG, "--order must be sequential, batched or auto");
    PTY_CHECK(p->gpu_frames >= PTY_FRAMES_AUTO && p->gpu_frames <= PTY_FRAMES_STREAMED, PTY_ERR_ARG,
              "--gpu-frames must be auto, resident or streamed");
    PTY_CHECK(p->pad >= 0 && p->pad <= 4096, PTY_ERR_ARG, "--pad must be in [0, 4096] (got %d)", p->pad);
    PTY_CHECK(p->position_max_step > 0.0f && p->position_max_step <= 8.0f, PTY_ERR_ARG,
              "--position-max-step must be in (0, 8] pixels (got %g)", p->position_max_step);
    return PTY_OK;
}

int pty_backend_on_host(int wanted)
{
#ifdef PTY_HAVE_CUDA
    return wanted == PTY_BACKEND_CPU || (wanted == PTY_BACKEND_AUTO && pty_cuda_device_count() <= 0);
#else
    return wanted != PTY_BACKEND_CUDA;
#endif
}

static int choose_backend(int wanted, const pty_backend_ops **ops)
{
    if (!pty_backend_on_host(wanted)) {
#ifdef PTY_HAVE_CUDA
        PTY_CHECK(pty_cuda_device_count() > 0, PTY_ERR_GPU, "--backend cuda: no CUDA device is available");
        *ops = &pty_backend_cuda;
        return PTY_OK;
#else
        return pty_error_set(PTY_ERR_GPU, "--backend cuda: this ptycho was built without CUDA");
#endif
    }
    /* once a process: the probe search makes a plan a thread before the run's own */
    static int said = 0;
    if (wanted == PTY_BACKEND_AUTO && !said) {
        said = 1;
#ifdef PTY_HAVE_CUDA
        pty_info("no CUDA device found: using the CPU backend");
#else
        pty_info("built without CUDA: using the CPU backend");
#endif
    }
    *ops = &pty_backend_cpu;
    return PTY_OK;
}

static int initial_probe(const pty_dataset *d, const pty_recon_params *p, pty_rng *rng, pty_cf *probe)
{
    const size_t npix = (size_t)d->m * d->m;
    int have = 0;
    if (d->probe && d->probe_modes > 0) {
        have = d->probe_modes < p->n_modes ? d->probe_modes : p->n_modes;
        memcpy(probe, d->probe, have * npix * sizeof *probe);
    } else {
        PTY_TRY(pty_probe_from_data(d, p->probe_diameter, probe));
        have = 1;
    }
    if (have < p->n_modes) {
        /* seed the missing modes from the strongest one given */
        pty_cf *extra = malloc((size_t)(p->n_modes - have + 1) * npix * sizeof *extra);
        PTY_CHECK(extra, PTY_ERR_NOMEM, "cannot allocate %d probe modes", p->n_modes);
        memcpy(extra, probe, npix * sizeof *extra);
        memset(extra + npix, 0, (size_t)(p->n_modes - have) * npix * sizeof *extra);
        int rc = pty_modes_seed(extra, p->n_modes - have + 1, d->m, p->mode_power, rng);
        if (rc == PTY_OK) memcpy(probe + have * npix, extra + npix, (size_t)(p->n_modes - have) * npix * sizeof *extra);
        free(extra);
        PTY_TRY(rc);
    }
    return pty_modes_orthogonalize(probe, p->n_modes, npix, NULL);
}

/* sum |P|^2 over all modes: the divergence check compares it with the start */
static double total_power(const pty_cf *probe, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += pty_cabs2(probe[i]);
    return sum;
}

/* The batched order's sets for the active frames' windows as they are now
 * (again after position correction moves a window or frames arrive: a set's
 * windows must not overlap). */
static int build_sets(pty_plan *plan)
{
    pty_sets_free(&plan->sets);
    if (plan->n_active == 0) /* a live plan whose frames have not come yet: no sets */
        return plan->set_end || (plan->set_end = malloc(sizeof(int))) ? PTY_OK
                                                                      : pty_error_set(PTY_ERR_NOMEM, "cannot allocate sets");
    PTY_TRY(pty_sets_build(plan->active_windows, plan->n_active, plan->m, plan->geom.obj_h, plan->geom.obj_w,
                           plan->set_workers, PTY_MAX_SET_SIZE, &plan->rng, &plan->sets));
    for (int k = 0; k < plan->sets.n; k++) plan->sets.members[k] = plan->active[plan->sets.members[k]];
    const size_t bytes = (size_t)(plan->sets.n_sets > 0 ? plan->sets.n_sets : 1) * sizeof(int);
    int *end = realloc(plan->set_end, bytes), *scratch = end ? realloc(plan->set_scratch, bytes) : NULL;
    if (end) plan->set_end = end;
    if (scratch) plan->set_scratch = scratch;
    PTY_CHECK(end && scratch, PTY_ERR_NOMEM, "cannot allocate %d sets", plan->sets.n_sets);
    return PTY_OK;
}

static void refresh_active_windows(pty_plan *plan)
{
    for (int i = 0; i < plan->n_active; i++) {
        plan->active_windows[2 * i] = plan->geom.window[2 * plan->active[i]];
        plan->active_windows[2 * i + 1] = plan->geom.window[2 * plan->active[i] + 1];
    }
}

/* Frames j of `frames` join the passes: their counts join the error's
 * denominator and the noise floor. */
static void activate(pty_plan *plan, const pty_dataset *d, const int *frames, int n)
{
    for (int i = 0; i < n; i++) {
        double noise;
        plan->total_intensity += pty_dataset_frame_counts(d, frames[i], &noise);
        plan->noise_sum += noise;
        plan->is_active[frames[i]] = 1;
        plan->active[plan->n_active++] = frames[i];
    }
    plan->noise_floor = plan->total_intensity > 0.0 ? plan->noise_sum / plan->total_intensity : 0.0;
    refresh_active_windows(plan);
}

/* Distinct frame indices in [0, n_frames) that are not yet active (a
 * frame's flag marks it as given in this call, and is cleared after). */
static int check_new_frames(pty_plan *plan, const int *frames, int n, const char *who)
{
    PTY_CHECK(n >= 0 && plan->n_active + n <= plan->n_frames, PTY_ERR_ARG, "%s: %d frames do not fit beside %d of %d",
              who, n, plan->n_active, plan->n_frames);
    enum { GIVEN = 2 };
    int rc = PTY_OK, i = 0;
    for (; i < n && rc == PTY_OK; i++) {
        const int j = frames[i];
        if (j < 0 || j >= plan->n_frames)
            rc = pty_error_set(PTY_ERR_ARG, "%s: frame %d is outside [0, %d)", who, j, plan->n_frames);
        else if (plan->is_active[j] == GIVEN)
            rc = pty_error_set(PTY_ERR_ARG, "%s: frame %d is given twice", who, j);
        else if (plan->is_active[j])
            rc = pty_error_set(PTY_ERR_ARG, "%s: frame %d is already in the passes", who, j);
        else
            plan->is_active[j] = GIVEN;
    }
    for (int k = 0; k < i - (rc != PTY_OK); k++) plan->is_active[frames[k]] = 0;
    return rc;
}

static int copy_geometry(const pty_geometry *from, pty_geometry *to)
{
    *to = *from;
    to->window = malloc((size_t)from->n * 2 * sizeof *to->window);
    to->shift = from->shift ? malloc((size_t)from->n * 2 * sizeof *to->shift) : NULL;
    if (!to->window || (from->shift && !to->shift)) {
        pty_geometry_free(to);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d window corners", from->n);
    }
    memcpy(to->window, from->window, (size_t)from->n * 2 * sizeof *to->window);
    if (from->shift) memcpy(to->shift, from->shift, (size_t)from->n * 2 * sizeof *to->shift);
    return PTY_OK;
}

int pty_plan_create(const pty_dataset *d, const pty_recon_params *p, const pty_geometry *grid, pty_plan **out)
{
    return pty_plan_create_partial(d, p, grid, NULL, d->n_frames, out);
}

int pty_plan_create_partial(const pty_dataset *d, const pty_recon_params *p, const pty_geometry *grid,
                            const int *frames, int n_given, pty_plan **out)
{
    *out = NULL;
    PTY_TRY(pty_recon_params_check(p));
    const int partial = frames != NULL;
    PTY_CHECK(!partial || p->position_start < 0, PTY_ERR_ARG,
              "position correction cannot yet follow a scan whose frames are still arriving (--follow); leave out "
              "--position-correction");
    double t0 = pty_now_s();
    pty_plan *plan = calloc(1, sizeof *plan);
    PTY_CHECK(plan, PTY_ERR_NOMEM, "cannot allocate a plan");
    int rc = PTY_OK;
    plan->params = *p;
    plan->m = d->m;
    plan->n_frames = d->n_frames;
    const size_t npix = (size_t)d->m * d->m;
    pty_rng_seed(&plan->rng, p->seed);
    if (grid && grid->n != d->n_frames) {
        rc = pty_error_set(PTY_ERR_ARG, "plan: grid has %d windows for %d frames", grid->n, d->n_frames);
        goto fail;
    }
    rc = grid ? copy_geometry(grid, &plan->geom) : pty_geometry_create(d->positions, d->n_frames, d->m, p->pad, &plan->geom);
    if (rc != PTY_OK) goto fail;
    const size_t nobj = (size_t)plan->geom.obj_h * plan->geom.obj_w;
    const size_t roll_bytes = (npix > nobj ? npix : nobj) * sizeof(pty_cf);
    const size_t modes_bytes = pty_modes_scratch_bytes(p->n_modes, npix);
    plan->object_host = malloc(nobj * sizeof *plan->object_host);
    plan->scratch = malloc(roll_bytes > modes_bytes ? roll_bytes : modes_bytes);
    plan->probe_host = malloc(npix * p->n_modes * sizeof *plan->probe_host);
    plan->order = malloc((size_t)d->n_frames * sizeof *plan->order);
    plan->active = malloc((size_t)d->n_frames * sizeof *plan->active);
    plan->is_active = calloc((size_t)d->n_frames + 1, 1);
    plan->active_windows = malloc((size_t)d->n_frames * 2 * sizeof *plan->active_windows);
    if (!plan->object_host || !plan->scratch || !plan->probe_host || !plan->order || !plan->active ||
        !plan->is_active || !plan->active_windows) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the %dx%d object", plan->geom.obj_h, plan->geom.obj_w);
        goto fail;
    }
    for (size_t i = 0; i < nobj; i++) plan->object_host[i] = pty_cf_make(1.0f, 0.0f);
    if ((rc = initial_probe(d, p, &plan->rng, plan->probe_host)) != PTY_OK) goto fail;
    plan->probe_power_start = total_power(plan->probe_host, npix * p->n_modes);
    if (!partial) { /* every frame, in order (activate reads and writes `active` in step) */
        for (int j = 0; j < d->n_frames; j++) plan->active[j] = j;
        frames = plan->active;
    } else if ((rc = check_new_frames(plan, frames, n_given, "plan")) != PTY_OK) {
        goto fail;
    }
    activate(plan, d, frames, n_given); /* one pass over the frames: intensity and noise floor */
    if (!partial && !(plan->total_intensity > 0.0)) {
        rc = pty_error_set(PTY_ERR_DATA, "the frames hold no counts at unmasked pixels");
        goto fail;
    }
    if ((rc = choose_backend(p->backend, &plan->ops)) != PTY_OK) goto fail;
    const int on_host = plan->ops->host_threads;
    const int cpu_threads = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    if ((rc = pty_threads_check(cpu_threads)) != PTY_OK) goto fail;
    if (p->order == PTY_ORDER_AUTO)
        plan->params.order = on_host && cpu_threads == 1 ? PTY_ORDER_SEQUENTIAL : PTY_ORDER_BATCHED;
    if (p->position_start >= 0 || partial) {
        /* positions leave the pixel grid as they move (or arrive): the backend must be ready to move its probe */
        if (!plan->geom.shift && !(plan->geom.shift = calloc((size_t)d->n_frames * 2, sizeof *plan->geom.shift))) {
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d window shifts", d->n_frames);
            goto fail;
        }
        if (p->position_start >= 0 && (rc = pty_positions_create(&plan->geom, d->m, &plan->positions)) != PTY_OK)
            goto fail;
    }
    if (plan->params.order == PTY_ORDER_BATCHED) {
        /* CPU threads take whole positions, so sets are balanced to multiples
           of the thread count; a GPU takes a whole set at once */
        plan->set_workers = on_host ? cpu_threads : 1;
        if ((rc = build_sets(plan)) != PTY_OK) goto fail;
    }
    /* a partial plan's sets change as frames arrive: the backend is sized for
       sets of the largest size, in frame order (the CUDA backend's batch) */
    int *sized_ends = NULL, *identity = NULL;
    int n_sized = 0;
    if (partial && plan->set_end) {
        n_sized = (d->n_frames + PTY_MAX_SET_SIZE - 1) / PTY_MAX_SET_SIZE;
        sized_ends = malloc((size_t)(n_sized > 0 ? n_sized : 1) * sizeof *sized_ends);
        identity = malloc((size_t)(d->n_frames > 0 ? d->n_frames : 1) * sizeof *identity);
        if (!sized_ends || !identity) {
            free(sized_ends);
            free(identity);
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d set ends", n_sized);
            goto fail;
        }
        for (int s = 0; s < n_sized; s++)
            sized_ends[s] = (s + 1) * PTY_MAX_SET_SIZE < d->n_frames ? (s + 1) * PTY_MAX_SET_SIZE : d->n_frames;
        for (int j = 0; j < d->n_frames; j++) identity[j] = j;
    }
    pty_backend_setup s = {
        .m = d->m,
        .n_frames = d->n_frames,
        .n_modes = p->n_modes,
        .obj_h = plan->geom.obj_h,
        .obj_w = plan->geom.obj_w,
        .amplitudes = d->amplitudes,
        .window = plan->geom.window,
        .object = plan->object_host,
        .probe = plan->probe_host,
        .n_threads = cpu_threads,
        .device = p->device,
        .fft_flags = PTY_FFT_MEASURE,
        .fft_wisdom = p->fft_wisdom,
        .frame_order = identity ? identity : plan->set_end ? plan->sets.members : NULL,
        .set_end = sized_ends ? sized_ends : plan->set_end ? plan->sets.end : NULL,
        .n_sets = sized_ends ? n_sized : plan->set_end ? plan->sets.n_sets : 0,
        .gpu_frames = p->gpu_frames,
        .shift = plan->geom.shift,
        .refine_positions = p->position_start >= 0,
    };
    rc = plan->ops->create(&s, &plan->impl);
    free(sized_ends);
    free(identity);
    if (rc != PTY_OK) goto fail;
    plan->setup_s = pty_now_s() - t0;
    *out = plan;
    return PTY_OK;
fail:
    pty_plan_destroy(plan);
    return rc;
}

void pty_plan_destroy(pty_plan *plan)
{
    if (!plan) return;
    if (plan->ops && plan->impl) plan->ops->destroy(plan->impl);
    pty_geometry_free(&plan->geom);
    pty_positions_free(&plan->positions);
    free(plan->order);
    free(plan->active);
    free(plan->is_active);
    free(plan->active_windows);
    pty_sets_free(&plan->sets);
    free(plan->set_end);
    free(plan->set_scratch);
    free(plan->probe_host);
    free(plan->object_host);
    free(plan->scratch);
    free(plan->errors);
    free(plan);
}

/* Probe and object may drift together: P(x + s), O(r + s) give the same
 * exit waves up to a shift inside the window, hence the same data.  Nothing
 * in ePIE holds them in place, and two ranks that reconstruct neighbouring
 * blocks drift differently (whole pixels, seen in tests), which leaves the
 * stitcher to register shifts of several pixels over a narrow overlap.
 * Rolling both back by whole pixels whenever the probe's centre of
 * intensity is half a pixel or more off the window centre fixes the drift
 * (as PtyPy's probe centring does) and costs nothing otherwise. */
static int center_probe(pty_plan *plan)
{
    const int m = plan->m, K = plan->params.n_modes;
    const size_t npix = (size_t)m * m;
    double sum = 0.0, cr = 0.0, cc = 0.0;
    for (int k = 0; k < K; k++)
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++) {
                double v = pty_cabs2(plan->probe_host[k * npix + (size_t)y * m + x]);
                sum += v;
                cr += v * y;
                cc += v * x;
            }
    if (!(sum > 0.0)) return PTY_OK;
    /* whole pixels only once the centre is a pixel off: rounding at half a
       pixel flips a probe centred between two pixels (a (m-1)/2 centre,
       as many simulators make) back and forth every iteration */
    int s[2] = {(int)trunc(cr / sum - m / 2), (int)trunc(cc / sum - m / 2)};
    if (s[0] == 0 && s[1] == 0) return PTY_OK;
    /* The roll wraps |s| rows and columns of the probe to the far side.  A
       compact probe is dark there and loses nothing; a probe that fills its
       window (a defocused zone plate, rings to the edges) would be torn
       apart, and cannot drift far anyway: the window holds it (reported on
       such probes before this guard: NRMSE 0.15 with centring, 1e-4 without). */
    double edge = 0.0;
    for (int k = 0; k < K; k++)
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++) {
                const int wraps_r = s[0] > 0 ? y < s[0] : y >= m + s[0];
                const int wraps_c = s[1] > 0 ? x < s[1] : x >= m + s[1];
                if ((s[0] && wraps_r) || (s[1] && wraps_c)) edge += pty_cabs2(plan->probe_host[k * npix + (size_t)y * m + x]);
            }
    if (edge > PTY_CENTRING_MAX_WRAP * sum) {
        pty_log(PTY_LOG_DEBUG, "probe centring: not rolling by (%d, %d): %.2g of the power would wrap", s[0], s[1],
                edge / sum);
        return PTY_OK;
    }
    const int h = plan->geom.obj_h, w = plan->geom.obj_w;
    pty_log(PTY_LOG_DEBUG, "probe centring: rolled probe and object by (%d, %d) px", s[0], s[1]);
    pty_cf *tmp = plan->scratch;
    /* the probe wraps inside its window (its tails are small there) */
    for (int k = 0; k < K; k++) {
        pty_cf *mode = plan->probe_host + k * npix;
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++)
                tmp[(size_t)y * m + x] = mode[(size_t)((y + s[0] % m + m) % m) * m + (x + s[1] % m + m) % m];
        memcpy(mode, tmp, npix * sizeof *mode);
    }
    int rc = plan->ops->set_probe(plan->impl, plan->probe_host);
    /* the object does not wrap: what enters at the edge is unilluminated padding */
    if (rc == PTY_OK) rc = pty_plan_get_object(plan, plan->object_host);
    if (rc == PTY_OK) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int yy = y + s[0], xx = x + s[1];
                tmp[(size_t)y * w + x] = yy >= 0 && yy < h && xx >= 0 && xx < w ? plan->object_host[(size_t)yy * w + xx]
                                                                               : pty_cf_make(1.0f, 0.0f);
            }
        rc = pty_plan_set_object(plan, tmp);
    }
    return rc;
}

int pty_plan_restart(pty_plan *plan, const pty_cf *probe)
{
    const size_t npix = (size_t)plan->m * plan->m, nobj = (size_t)plan->geom.obj_h * plan->geom.obj_w;
    for (size_t i = 0; i < nobj; i++) plan->object_host[i] = pty_cf_make(1.0f, 0.0f);
    PTY_TRY(pty_plan_set_object(plan, plan->object_host));
    PTY_TRY(plan->ops->set_probe(plan->impl, probe));
    if (plan->positions.corner) {
        pty_positions_reset(&plan->positions, &plan->geom);
        PTY_TRY(plan->ops->set_positions(plan->impl, plan->geom.window, plan->geom.shift));
        refresh_active_windows(plan);
        if (plan->set_end) PTY_TRY(build_sets(plan));
    }
    plan->probe_power_start = total_power(probe, npix * plan->params.n_modes);
    pty_rng_seed(&plan->rng, plan->params.seed);
    plan->n_done = 0;
    plan->warned_rising = 0;
    return PTY_OK;
}

void pty_plan_rng_state(const pty_plan *plan, uint64_t out[4])
{
    memcpy(out, plan->rng.s, sizeof plan->rng.s);
}

int pty_plan_resume(pty_plan *plan, const double *errors, int n_done, const uint64_t rng_state[4])
{
    PTY_CHECK(n_done >= 0, PTY_ERR_ARG, "cannot resume at iteration %d", n_done);
    if (n_done > plan->errors_cap) {
        double *e = realloc(plan->errors, (size_t)n_done * sizeof *e);
        PTY_CHECK(e, PTY_ERR_NOMEM, "cannot allocate the error history");
        plan->errors = e;
        plan->errors_cap = n_done;
    }
    if (n_done) memcpy(plan->errors, errors, (size_t)n_done * sizeof *errors);
    plan->n_done = n_done;
    if (rng_state) memcpy(plan->rng.s, rng_state, sizeof plan->rng.s);
    return PTY_OK;
}

int pty_plan_center_probe(pty_plan *plan)
{
    PTY_TRY(plan->ops->get_probe(plan->impl, plan->probe_host));
    return center_probe(plan);
}

/* Orthogonalise the modes and check the probe has not blown up. */
static int probe_housekeeping(pty_plan *plan, int iter, int orthogonalise)
{
    const pty_recon_params *p = &plan->params;
    const size_t npix = (size_t)plan->m * plan->m;
    PTY_TRY(plan->ops->get_probe(plan->impl, plan->probe_host));
    const double power = total_power(plan->probe_host, npix * p->n_modes);
    if (!isfinite(power) || power > PTY_DIVERGED_POWER_RATIO * plan->probe_power_start)
        return pty_error_set(PTY_ERR_DIVERGED,
                             "iteration %d: probe power grew %.3g times its start (diverging); try a smaller --beta "
                             "(e.g. 0.5) or a later --probe-start",
                             iter + 1, power / plan->probe_power_start);
    if (orthogonalise) {
        PTY_TRY(pty_modes_orthogonalize_in(plan->probe_host, p->n_modes, npix, NULL, plan->scratch));
        PTY_TRY(plan->ops->set_probe(plan->impl, plan->probe_host));
    }
    return p->center_probe ? center_probe(plan) : PTY_OK;
}

/* Position correction after a pass: the corners take the steps the pass
 * measured (positions.h), and the backend (and the sets) the windows. */
static int move_positions(pty_plan *plan)
{
    const pty_recon_params *p = &plan->params;
    int moved;
    PTY_TRY(pty_positions_apply(&plan->positions, p->position_max_step, p->position_affine, plan->position_sum,
                                &plan->geom, &moved));
    PTY_TRY(plan->ops->set_positions(plan->impl, plan->geom.window, plan->geom.shift));
    refresh_active_windows(plan);
    return moved && plan->set_end ? build_sets(plan) : PTY_OK;
}

int pty_plan_execute(pty_plan *plan, int n_iter, pty_progress_fn progress, void *user)
{
    const pty_recon_params *p = &plan->params;
    if (plan->n_done + n_iter > plan->errors_cap) {
        double *e = realloc(plan->errors, (size_t)(plan->n_done + n_iter) * sizeof *e);
        PTY_CHECK(e, PTY_ERR_NOMEM, "cannot allocate the error history");
        plan->errors = e;
        plan->errors_cap = plan->n_done + n_iter;
    }
    for (int t = 0; t < n_iter; t++) {
        const int iter = plan->n_done;
        double t0 = pty_now_s();
        if (plan->set_end)
            pty_sets_shuffle(&plan->sets, &plan->rng, plan->order, plan->set_end, plan->set_scratch);
        else {
            pty_rng_permutation(&plan->rng, plan->order, plan->n_active);
            for (int i = 0; i < plan->n_active; i++) plan->order[i] = plan->active[plan->order[i]];
        }
        int update_probe = iter >= p->probe_start && p->beta > 0.0f;
        pty_pass_params pp = {
            .alpha = p->alpha,
            .beta = update_probe ? p->beta : 0.0f,
            .rpie = p->rpie,
            .obj_norm = p->obj_norm,
            .set_end = plan->set_end,
            .n_sets = plan->set_end ? plan->sets.n_sets : 0,
        };
        const int refine = p->position_start >= 0 && iter >= p->position_start;
        if (refine) pp.position_steps = plan->positions.steps;
        double err_num = 0.0;
        PTY_TRY(plan->ops->pass(plan->impl, plan->order, plan->n_active, &pp, &err_num));
        if (refine) PTY_TRY(move_positions(plan));
        /* a live plan may run before its frames come (another rank's block fills first) */
        double error = plan->total_intensity > 0.0 ? err_num / plan->total_intensity : 0.0;
        if (!isfinite(error))
            return pty_error_set(PTY_ERR_DIVERGED,
                                 "iteration %d: the Fourier error is not finite (diverged); try smaller --alpha/--beta",
                                 iter + 1);
        if (update_probe) {
            int ortho = p->n_modes > 1 && p->ortho_every > 0 && (iter + 1) % p->ortho_every == 0;
            PTY_TRY(probe_housekeeping(plan, iter, ortho));
        }
        plan->errors[iter] = error;
        plan->n_done++;
        if (!plan->warned_rising && iter >= 20) {
            double best = plan->errors[0];
            for (int i = 1; i < iter; i++) best = fmin(best, plan->errors[i]);
            if (error > 2.0 * best) {
                pty_warn("iteration %d: Fourier error %.3e is more than twice its best %.3e (diverging?); "
                         "consider a smaller --beta",
                         iter + 1, error, best);
                plan->warned_rising = 1;
            }
        }
        double dt = pty_now_s() - t0;
        plan->iterate_s += dt;
        if (progress && progress(user, iter, n_iter, error, dt)) break;
    }
    return PTY_OK;
}

int pty_plan_add_frames(pty_plan *plan, const pty_dataset *d, const int *frames, int n)
{
    PTY_TRY(check_new_frames(plan, frames, n, "adding frames"));
    PTY_CHECK(plan->geom.shift, PTY_ERR_ARG, "adding frames: the plan was not created for a growing scan");
    const int m = plan->m;
    for (int i = 0; i < n; i++) { /* all checked before any is placed */
        const double *pos = d->positions + 2 * (size_t)frames[i];
        PTY_CHECK(pty_geometry_fits(&plan->geom, pos, m), PTY_ERR_DATA,
                  "frame %d at (%.2f, %.2f) px lies outside the %dx%d object grid", frames[i], pos[0], pos[1],
                  plan->geom.obj_h, plan->geom.obj_w);
    }
    for (int i = 0; i < n; i++) pty_geometry_place_position(&plan->geom, frames[i], d->positions + 2 * (size_t)frames[i], m);
    PTY_TRY(plan->ops->update_frames(plan->impl, d->amplitudes, frames, n));
    PTY_TRY(plan->ops->set_positions(plan->impl, plan->geom.window, plan->geom.shift));
    activate(plan, d, frames, n);
    return plan->set_end ? build_sets(plan) : PTY_OK;
}

int pty_plan_n_active(const pty_plan *plan) { return plan->n_active; }

const int *pty_plan_active_windows(const pty_plan *plan, int *n)
{
    *n = plan->n_active;
    return plan->active_windows;
}

const pty_geometry *pty_plan_geometry(const pty_plan *plan) { return &plan->geom; }

void pty_plan_positions(const pty_plan *plan, double *out)
{
    const pty_geometry *g = &plan->geom;
    for (int j = 0; j < g->n; j++)
        for (int a = 0; a < 2; a++) {
            const size_t i = 2 * (size_t)j + a;
            const double corner = plan->positions.corner ? plan->positions.corner[i]
                                                         : g->window[i] + (g->shift ? g->shift[i] : 0.0f);
            out[i] = corner - g->origin[a] + plan->m / 2;
        }
}

void pty_plan_set_position_sum(pty_plan *plan, int (*sum)(double *v, size_t n)) { plan->position_sum = sum; }

const char *pty_plan_backend_name(const pty_plan *plan) { return plan->ops->name; }

int pty_plan_order(const pty_plan *plan) { return plan->params.order; }

void pty_plan_sets(const pty_plan *plan, int *n_sets, int *largest)
{
    *n_sets = plan->sets.n_sets;
    *largest = pty_sets_largest(plan->sets.end, plan->sets.n_sets);
}

/* PTY_OK when rows [r0, r0 + h) x columns [c0, c0 + w) lie in the object. */
static int check_rect(const pty_plan *plan, int r0, int c0, int h, int w)
{
    const int oh = plan->geom.obj_h, ow = plan->geom.obj_w;
    PTY_CHECK(r0 >= 0 && c0 >= 0 && h >= 0 && w >= 0 && r0 <= oh - h && c0 <= ow - w, PTY_ERR_ARG,
              "object rectangle %d x %d at (%d, %d) leaves the %d x %d object", h, w, r0, c0, oh, ow);
    return PTY_OK;
}

int pty_plan_get_object_rect(pty_plan *plan, int r0, int c0, int h, int w, pty_cf *out)
{
    PTY_TRY(check_rect(plan, r0, c0, h, w));
    return h && w ? plan->ops->get_object(plan->impl, r0, c0, h, w, out) : PTY_OK;
}

int pty_plan_set_object_rect(pty_plan *plan, int r0, int c0, int h, int w, const pty_cf *in)
{
    PTY_TRY(check_rect(plan, r0, c0, h, w));
    return h && w ? plan->ops->set_object(plan->impl, r0, c0, h, w, in) : PTY_OK;
}

int pty_plan_get_object(pty_plan *plan, pty_cf *out)
{
    return pty_plan_get_object_rect(plan, 0, 0, plan->geom.obj_h, plan->geom.obj_w, out);
}

int pty_plan_get_probe(pty_plan *plan, pty_cf *out) { return plan->ops->get_probe(plan->impl, out); }

int pty_plan_set_object(pty_plan *plan, const pty_cf *in)
{
    return pty_plan_set_object_rect(plan, 0, 0, plan->geom.obj_h, plan->geom.obj_w, in);
}

int pty_plan_set_probe(pty_plan *plan, const pty_cf *in) { return plan->ops->set_probe(plan->impl, in); }

const double *pty_plan_errors(const pty_plan *plan, int *n)
{
    *n = plan->n_done;
    return plan->errors;
}

double pty_plan_total_intensity(const pty_plan *plan) { return plan->total_intensity; }

double pty_plan_noise_floor(const pty_plan *plan) { return plan->noise_floor; }

void pty_plan_timings(const pty_plan *plan, double *setup_s, double *iterate_s)
{
    *setup_s = plan->setup_s;
    *iterate_s = plan->iterate_s;
}

void pty_plan_backend_stats(const pty_plan *plan, pty_backend_stats *out)
{
    memset(out, 0, sizeof *out);
    plan->ops->stats(plan->impl, out);
}
