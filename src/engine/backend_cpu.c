/* backend_cpu.c - the reference backend: ePIE on the CPU with FFTW plans
 * made once.  Each position runs the same per-pixel functions (pty_pixel.h)
 * the CUDA kernels run.  In sequential order OpenMP spreads a position's
 * pixel loops and its K mode FFTs over cores once a position carries enough
 * work to pay for the fork (see PTY_CPU_PARALLEL_PIXELS); in batched order
 * the threads take whole positions of a set, and share the odd ones out
 * (cpu_sets). */
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu_rows.h"
#include "fft_wisdom.h"
#include "illumination.h"
#include "pty_error.h"
#include "pty_log.h"
#include "sets.h"

/* Sequential order: below this many pixels x modes per position, one
 * thread.  A parallel region per position costs little on idle cores (64x64,
 * 1 mode: 20.5 ms/it on two threads vs 22.6 on one) but OpenMP's spinning
 * workers collapse when the machine is oversubscribed: two such runs side by
 * side on 2 cores went from 5 s to over 3 minutes.  From 128x128 threads pay
 * (199 vs 156 ms/it).  The batched order spreads whole positions over the
 * threads instead (cpu_sets), whatever the frame size. */
#define PTY_CPU_PARALLEL_PIXELS 16384

/* A kind of pass and how fast it ran (choose_workers): the workers it runs
 * on, passes on fewer since all were tried and before they are tried again,
 * seconds a position of the last two passes on all and of the last on fewer
 * (0: none yet).  Sequential passes are kinds with n_sets 0. */
typedef struct cpu_pass_kind {
    int n, n_sets, probe;
    int active, since_all, retry_after;
    double all[2], fewer;
} cpu_pass_kind;
#define CPU_KINDS 4

typedef struct cpu_impl {
    int m, n_frames, n_modes, obj_h, obj_w, n_threads;
    int n_workers;               /* threads over the positions of a set (batched order) */
    size_t npix;                 /* m*m */
    size_t mode_stride;          /* from one mode to the next in probe-sized arrays (pty_mode_stride) */
    const float *amplitudes;     /* n_frames*npix, the caller's, read in place */
    int *window;                 /* n_frames*2 */
    pty_cf *object, *probe;      /* obj_h*obj_w, n_modes modes mode_stride apart (as every probe-sized array) */
    size_t lane_stride;          /* from one worker's (or lane's) probe-sized array to the next's (pty_thread_stride) */
    pty_cf *far;                 /* exit waves, then far field: n_modes modes per worker, lane_stride apart */
    /* batched order: each worker's copy of the probe,
       and its summed probe steps, for even and odd sets (cpu_sets) */
    pty_cf *probe_copy, *probe_acc;
    pty_cf *split_far;           /* the buffer of a position all workers share */
    fftwf_plan forward, inverse; /* K transforms of far in place, n_threads each */
    fftwf_plan forward1, inverse1; /* the same on one thread, for the workers */
    /* one worker's rows or columns (m / n_workers lines, all modes) of a
       position shared by all workers (cpu_split), on split_far; NULL: none is shared */
    fftwf_plan rows_fwd, cols_fwd, cols_inv, rows_inv;
    float *split_max;            /* each part's patch maximum in cpu_split */
    double *lane_err;            /* each lane's error sum in cpu_sets */
    double *row_sums;            /* 4 m: a sequential position's sums, row by row (cpu_slot.by_rows) */
    /* batched order: how many workers run the lanes of each kind of pass (choose_workers) */
    cpu_pass_kind kinds[CPU_KINDS]; /* choose_workers' figures, by kind of pass */
    int next_kind;
    /* per worker, lane_stride apart: the object's step at each pixel (rPIE) for its
       probe and for the probe moved to a position off the pixel grid */
    float *obj_step, *moved_obj_step;
    /* sub-pixel positions (NULL without): each position's offset in its window, and per worker
       the probe moved by it and the probe steps it takes there */
    float *shift;
    pty_cf *moved, *moved_steps;
    pty_cf *spectrum;            /* per worker: its probe's spectrum, kept while the probe stands (move_probe) */
    /* per lane, for even and odd sets (as probe_acc): the lane's probe steps moved back, summed as
       spectra, and whether any is in (a batched pass with the probe in its spectrum, cpu_sets) */
    pty_cf *step_spectra;
    int *lanes_live;
    pty_cf *factors;             /* per worker: one axis's m phase factors */
    /* position correction (NULL without): the object's illumination by the scan over its maximum,
       the weight of each pixel's position terms (illumination_weights), made at the start of each
       pass that refines positions; and the m*m scratch making it takes */
    float *illum, *illum_scratch;
    double upload_s;             /* copying object and probe in (the frames are read in place) */
} cpu_impl;

/* Where one position's work happens: a worker's buffers and plans, the
 * threads its pixel loops may use, the probe it reads and where its probe
 * steps go. */
typedef struct cpu_slot {
    pty_cf *far;
    const pty_cf *probe;
    pty_cf *probe_out;
    /* what the object step needs of `probe`, made when the probe changes
       (probe_ready): max_r sum_k |P_k(r)|^2, and the step, one for all
       pixels (ePIE: obj_step NULL) or one a pixel (rPIE, in step_buf) */
    float probe_max, step;
    const float *obj_step;
    float *step_buf;
    int set_size; /* positions whose probe steps are averaged (1: sequential) */
    fftwf_plan forward, inverse;
    int threads;
    pty_cf *moved, *moved_steps; /* this worker's sub-pixel buffers (NULL without shifts) */
    /* the spectrum of `probe`, made by the first position off the grid, and *spectrum_ok
       while it holds: the caller clears it where the probe changes, except in a pass with the
       probe in its spectrum (spectral, spectral_pass), where the spectrum is the probe */
    pty_cf *spectrum;
    int *spectrum_ok;
    int spectral;
    /* a spectral pass: where the probe steps go, moved back as spectra (a batched lane's sum, which
       cpu_sets adds to each worker's spectrum at the set's end; NULL: `spectrum` itself), and
       *steps_live, set once one is in */
    pty_cf *step_spectrum;
    int *steps_live;
    pty_cf *factors;             /* and its m column factors */
    float *moved_step_buf;       /* and the step buffer of the moved probe */
    /* the loops run row by row on `threads` threads (sequential order on
       several threads), each row's sums kept apart in cpu_impl.row_sums and
       added in row order, so the result does not depend on the thread count;
       0: each stage in one call on one thread (a worker's position) */
    int by_rows;
} cpu_slot;

/* FFTW's threaded plans (sequential order on several threads) cut each
 * transform into jobs when they are planned.  FFTW hands the jobs to this
 * loop, which runs them on fft_team threads of OpenMP's team, set by the
 * thread that executes the plan: a pass can then run on fewer threads than
 * its plans were made for (choose_workers) and give the same bits. */
static _Thread_local int fft_team; /* 0: one thread a job */
static void fft_jobs(void *(*work)(char *), char *jobdata, size_t elsize, int njobs, void *data)
{
    (void)data;
    const int team = fft_team > 0 && fft_team < njobs ? fft_team : njobs;
#pragma omp parallel for num_threads(team) if (team > 1) schedule(static)
    for (int i = 0; i < njobs; i++) work(jobdata + elsize * (size_t)i);
}

static void cpu_destroy(void *p)
{
    cpu_impl *c = p;
    if (!c) return;
    if (c->forward) fftwf_destroy_plan(c->forward);
    if (c->inverse) fftwf_destroy_plan(c->inverse);
    if (c->forward1) fftwf_destroy_plan(c->forward1);
    if (c->inverse1) fftwf_destroy_plan(c->inverse1);
    fftwf_plan split[4] = {c->rows_fwd, c->cols_fwd, c->cols_inv, c->rows_inv};
    for (int i = 0; i < 4; i++)
        if (split[i]) fftwf_destroy_plan(split[i]);
    free(c->split_max);
    free(c->lane_err);
    free(c->row_sums);
    free(c->obj_step);
    free(c->moved_obj_step);
    free(c->shift);
    fftwf_free(c->moved);
    fftwf_free(c->moved_steps);
    fftwf_free(c->spectrum);
    fftwf_free(c->step_spectra);
    free(c->lanes_live);
    free(c->factors);
    free(c->illum);
    free(c->illum_scratch);
    fftwf_free(c->far);
    fftwf_free(c->probe_copy);
    fftwf_free(c->probe_acc);
    fftwf_free(c->split_far);
    fftwf_free(c->object);
    fftwf_free(c->probe);
    free(c->window);
    free(c);
}

/* Plans for cpu_split: worker t transforms rows, then columns, t q ..
 * (t + 1) q, q = m / n_workers, of worker 0's buffers.  Only where q is
 * whole and every worker's first row and column sits at the alignment
 * FFTW planned for; otherwise the odd positions of a set run whole. */
static int plan_split(cpu_impl *c, unsigned flags)
{
    const int m = c->m, W = c->n_workers, q = W > 1 ? m / W : 0;
    if (q == 0 || m % W) return 1;
    for (int t = 1; t < W; t++)
        if (fftwf_alignment_of((float *)(c->split_far + (size_t)t * q)) ||
            fftwf_alignment_of((float *)(c->split_far + (size_t)t * q * m)))
            return 1;
    fftwf_complex *far = (fftwf_complex *)c->split_far;
    /* a line of m points; q lines; K modes */
    const fftwf_iodim row = {m, 1, 1}, col = {m, m, m};
    const int ms = (int)c->mode_stride;
    const fftwf_iodim rows[2] = {{q, m, m}, {c->n_modes, ms, ms}}, cols[2] = {{q, 1, 1}, {c->n_modes, ms, ms}};
    c->rows_fwd = fftwf_plan_guru_dft(1, &row, 2, rows, far, far, FFTW_FORWARD, flags);
    c->cols_fwd = fftwf_plan_guru_dft(1, &col, 2, cols, far, far, FFTW_FORWARD, flags);
    c->cols_inv = fftwf_plan_guru_dft(1, &col, 2, cols, far, far, FFTW_BACKWARD, flags);
    c->rows_inv = fftwf_plan_guru_dft(1, &row, 2, rows, far, far, FFTW_BACKWARD, flags);
    return c->rows_fwd && c->cols_fwd && c->cols_inv && c->rows_inv;
}

/* The K transforms of a worker's far buffer in place, modes mode_stride
 * apart, in direction `sign`, on the threads FFTW is set to plan for. */
static fftwf_plan plan_modes(const cpu_impl *c, int sign, unsigned flags)
{
    int n[2] = {c->m, c->m};
    const int dist = (int)c->mode_stride;
    fftwf_complex *far = (fftwf_complex *)c->far;
    return fftwf_plan_many_dft(2, n, c->n_modes, far, NULL, 1, dist, far, NULL, 1, dist, sign, flags);
}

/* The probe from the caller's layout (modes npix apart) into the backend's
 * (mode_stride apart); the gaps zero. */
static void probe_in(cpu_impl *c, const pty_cf *in)
{
    memset(c->probe, 0, c->mode_stride * c->n_modes * sizeof *c->probe);
    for (int k = 0; k < c->n_modes; k++)
        memcpy(c->probe + (size_t)k * c->mode_stride, in + (size_t)k * c->npix, c->npix * sizeof *in);
}

static int cpu_create(const pty_backend_setup *s, void **out)
{
    *out = NULL;
    int rc;
    cpu_impl *c = calloc(1, sizeof *c);
    if (!c) return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the CPU backend");
    c->m = s->m;
    c->n_frames = s->n_frames;
    c->n_modes = s->n_modes;
    c->obj_h = s->obj_h;
    c->obj_w = s->obj_w;
    c->npix = (size_t)s->m * s->m;
    c->mode_stride = pty_mode_stride(c->npix);
    c->n_threads = s->n_threads > 0 ? s->n_threads : omp_get_max_threads();
    c->n_workers = c->n_threads;
    if (c->npix * c->n_modes < PTY_CPU_PARALLEL_PIXELS) c->n_threads = 1;
    const size_t nobj = (size_t)s->obj_h * s->obj_w, nprobe = c->mode_stride * s->n_modes;
    c->amplitudes = s->amplitudes;
    c->window = malloc((size_t)s->n_frames * 2 * sizeof *c->window);
    c->object = (pty_cf *)fftwf_alloc_complex(nobj);
    c->probe = (pty_cf *)fftwf_alloc_complex(nprobe);
    c->lane_stride = pty_thread_stride(nprobe); /* fft_wisdom.h: the gap between workers */
    c->far = (pty_cf *)fftwf_alloc_complex(c->lane_stride * c->n_workers);
    c->probe_copy = (pty_cf *)fftwf_alloc_complex(c->lane_stride * c->n_workers);
    c->probe_acc = (pty_cf *)fftwf_alloc_complex(c->lane_stride * 2 * c->n_workers);
    c->split_far = (pty_cf *)fftwf_alloc_complex(nprobe);
    c->split_max = malloc((size_t)c->n_workers * sizeof *c->split_max);
    c->lane_err = malloc((size_t)c->n_workers * sizeof *c->lane_err);
    c->row_sums = malloc((size_t)4 * s->m * sizeof *c->row_sums);
    /* (lane_stride floats a worker: npix and a gap) */
    c->obj_step = malloc(c->lane_stride * c->n_workers * sizeof *c->obj_step);
    c->moved_obj_step = malloc(c->lane_stride * c->n_workers * sizeof *c->moved_obj_step);
    int moved_ok = 1;
    if (s->shift) {
        c->shift = malloc((size_t)s->n_frames * 2 * sizeof *c->shift);
        c->moved = (pty_cf *)fftwf_alloc_complex(c->lane_stride * c->n_workers);
        c->moved_steps = (pty_cf *)fftwf_alloc_complex(c->lane_stride * c->n_workers);
        c->spectrum = (pty_cf *)fftwf_alloc_complex(c->lane_stride * c->n_workers);
        c->step_spectra = (pty_cf *)fftwf_alloc_complex(c->lane_stride * 2 * c->n_workers);
        c->lanes_live = calloc((size_t)2 * c->n_workers, sizeof *c->lanes_live);
        c->factors = malloc((size_t)s->m * c->n_workers * sizeof *c->factors);
        moved_ok = c->shift && c->moved && c->moved_steps && c->spectrum && c->step_spectra && c->lanes_live && c->factors;
        /* each position writes its steps afresh; the gaps between modes, which move_probe
           copies whole, are never written */
        if (c->moved_steps) memset(c->moved_steps, 0, c->lane_stride * c->n_workers * sizeof *c->moved_steps);
    }
    if (s->refine_positions) {
        c->illum = malloc(nobj * sizeof *c->illum);
        c->illum_scratch = malloc(c->npix * sizeof *c->illum_scratch);
        moved_ok = moved_ok && c->illum && c->illum_scratch;
    }
    if (!c->window || !c->object || !c->probe || !c->far || !c->probe_copy ||
        !c->probe_acc || !c->split_far || !c->split_max || !c->lane_err || !c->row_sums || !c->obj_step || !c->moved_obj_step || !moved_ok) {
        double gib = (nobj * (s->refine_positions ? 12.0 : 8.0) + 2.0 * nprobe * 8.0 +
                      (s->shift ? 9.0 : 4.0) * c->n_workers * c->lane_stride * 8.0 + 8.0 * c->n_workers * c->lane_stride) /
                     (1 << 30);
        cpu_destroy(c);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %.2f GiB of host memory for the CPU backend", gib);
    }
    /* plan before filling: FFTW_MEASURE overwrites the arrays it plans on */
    static int threads_ready = 0;
    if (!threads_ready && (threads_ready = fftwf_init_threads())) fftwf_threads_set_callback(fft_jobs, NULL);
    if (s->fft_wisdom && (rc = pty_fft_wisdom_load(s->fft_wisdom)) != PTY_OK) {
        cpu_destroy(c);
        return rc;
    }
    const unsigned flags = s->fft_flags == PTY_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
    /* the workers' plans run inside a parallel region: one thread each, and
       executed on each worker's own (equally aligned) buffers.  They run
       every position of a batched pass, and get the longer search where it
       pays (pty_fft_planner); the others are timed as usual (patient plans
       of two threads and of the split passes took the bench's setup at
       256^2 from 0.8 to 27 s).  Planned first: with one thread the
       whole-position plans below are the same problem, and FFTW takes them
       from the wisdom these leave. */
    const unsigned flags1 = s->fft_flags == PTY_FFT_MEASURE ? pty_fft_planner(s->m) : FFTW_ESTIMATE;
    fftwf_plan_with_nthreads(1);
    c->forward1 = plan_modes(c, FFTW_FORWARD, flags1);
    c->inverse1 = plan_modes(c, FFTW_BACKWARD, flags1);
    fftwf_plan_with_nthreads(c->n_threads);
    c->forward = plan_modes(c, FFTW_FORWARD, flags);
    c->inverse = plan_modes(c, FFTW_BACKWARD, flags);
    fftwf_plan_with_nthreads(1);
    /* a position shared by the workers (cpu_split) would have to move its probe and sum its
       position terms in pieces: with sub-pixel shifts or position correction every position runs
       whole */
    const int whole = s->shift || s->refine_positions;
    if (!c->forward || !c->inverse || !c->forward1 || !c->inverse1 || (!whole && !plan_split(c, flags))) {
        cpu_destroy(c);
        return pty_error_set(PTY_ERR_FFT, "FFTW could not plan %d transforms of %dx%d", s->n_modes, s->m, s->m);
    }
    if (s->fft_wisdom && (rc = pty_fft_wisdom_save(s->fft_wisdom)) != PTY_OK) {
        cpu_destroy(c);
        return rc;
    }
    double t0 = pty_now_s();
    memcpy(c->window, s->window, (size_t)s->n_frames * 2 * sizeof *c->window);
    if (s->shift) memcpy(c->shift, s->shift, (size_t)s->n_frames * 2 * sizeof *c->shift);
    memcpy(c->object, s->object, nobj * sizeof *c->object);
    probe_in(c, s->probe);
    c->upload_s = pty_now_s() - t0;
    *out = c;
    return PTY_OK;
}

static float object_max_power(const cpu_impl *c, int nt)
{
    float mx = 0.0f;
    const size_t n = (size_t)c->obj_h * c->obj_w;
#pragma omp parallel for reduction(max : mx) num_threads(nt) if (nt > 1)
    for (size_t i = 0; i < n; i++) mx = fmaxf(mx, pty_cabs2(c->object[i]));
    return mx;
}

/* The steps of one position over rows [r0, r1) (or columns [c0, c1)), so
 * that one worker runs all of them (cpu_position) or all workers share
 * them (cpu_split).  On one thread a stage is called once for the window:
 * an OpenMP region, even one that runs on a single thread, allocates a team
 * (GOMP_parallel), and a position's work at 64x64 is a few microseconds. */

/* The slot's object step from its probe's power maximum mx and, with rPIE,
 * the power at each pixel in slot->step_buf. */
static void object_step(const cpu_impl *c, cpu_slot *slot, const pty_pass_params *p, float mx)
{
    const int per_pixel = !(p->rpie < 0.0f);
    float *power = slot->step_buf;
    slot->probe_max = mx;
    slot->step = pty_object_step(p->alpha, p->rpie, 0.0f, mx);
    slot->obj_step = per_pixel ? power : NULL;
    if (per_pixel)
        for (size_t i = 0; i < c->npix; i++) power[i] = pty_object_step(p->alpha, p->rpie, power[i], mx);
}

/* The object step of the slot's probe (pty_object_step): its power's
 * maximum, and with rPIE the step at each pixel, over nt threads. */
static void probe_ready(const cpu_impl *c, cpu_slot *slot, const pty_pass_params *p, int nt)
{
    const int m = c->m, K = c->n_modes;
    const int per_pixel = !(p->rpie < 0.0f);
    float *power = per_pixel ? slot->step_buf : NULL, mx = 0.0f;
    if (nt == 1) {
        mx = pty_rows_probe_power((int)c->npix, K, c->mode_stride, slot->probe, power);
    } else {
#pragma omp parallel for reduction(max : mx) num_threads(nt)
        for (int r = 0; r < m; r++) {
            const float rm = pty_rows_probe_power(m, K, c->mode_stride, slot->probe + (size_t)r * m, power ? power + (size_t)r * m : NULL);
            mx = rm > mx ? rm : mx;
        }
    }
    object_step(c, slot, p, mx);
}

/* Exit waves of rows [r0, r1), raising *patch_max to the object's power
 * there unless patch_max is NULL. */
static void exit_waves(const cpu_impl *c, const pty_cf *obj, const pty_cf *probe, int r0, int r1, pty_cf *psi,
                       float *patch_max)
{
    const size_t m = (size_t)c->m;
    pty_rows_exit_waves(r1 - r0, c->m, c->n_modes, c->mode_stride, obj + (size_t)r0 * c->obj_w, (size_t)c->obj_w,
                        probe + r0 * m, psi + r0 * m, patch_max);
}

/* Modulus constraint on the far field's rows [r0, r1) x columns [c0, c1);
 * returns their error numerator. */
static double project(const cpu_impl *c, const float *amp, int r0, int r1, int c0, int c1, pty_cf *far)
{
    const size_t m = (size_t)c->m;
    if (c0 == 0 && c1 == c->m) return pty_rows_project((r1 - r0) * c->m, c->n_modes, c->mode_stride, amp + r0 * m, far + r0 * m);
    double err = 0.0;
    for (int r = r0; r < r1; r++) err += pty_rows_project(c1 - c0, c->n_modes, c->mode_stride, amp + r * m + c0, far + r * m + c0);
    return err;
}

/* The probe step of one position, by the pass's max|O|^2 rule. */
static float probe_step_of(const pty_pass_params *p, float global_obj_max, float patch_max, int set_size)
{
    return pty_probe_step(p->beta, p->obj_norm == PTY_OBJNORM_GLOBAL ? global_obj_max : patch_max, set_size);
}

/* Joint update of rows [r0, r1) from the back-propagated far field: the
 * object in place, the probe steps added to probe_out (written, if
 * fresh); *probe_out_max raised to the new probe's power there unless
 * NULL (pty_rows_update). */
static void update(const cpu_impl *c, pty_cf *obj, int r0, int r1, float probe_step, pty_cf *far,
                   const cpu_slot *slot, int fresh, float *probe_out_max)
{
    const size_t m = (size_t)c->m;
    pty_rows_update(r1 - r0, c->m, c->n_modes, c->mode_stride, obj + (size_t)r0 * c->obj_w, (size_t)c->obj_w,
                    slot->probe + r0 * m, far + r0 * m, 1.0f / (float)c->npix,
                    slot->obj_step ? slot->obj_step + r0 * m : NULL, slot->step, probe_step, slot->probe_out + r0 * m,
                    fresh, probe_out_max);
}

/* out (+)= the spectra `in` times the phase ramp (pty_shift_factor) that
 * moves their modes by (fr, fc) pixels, row by row on the slot's threads.
 * accumulate: add to out instead of writing it. */
static void apply_ramp(const cpu_impl *c, const cpu_slot *slot, const pty_cf *in, float fr, float fc, pty_cf *out,
                       int accumulate)
{
    const int m = c->m, nt = slot->threads;
    pty_cf *col = slot->factors;
    for (int v = 0; v < m; v++) col[v] = pty_shift_factor(v, m, fc);
#pragma omp parallel for num_threads(nt) if (nt > 1)
    for (int u = 0; u < m; u++)
        pty_rows_shift_row(m, c->n_modes, c->mode_stride, pty_shift_factor(u, m, fr), col, in + (size_t)u * m,
                           out + (size_t)u * m, accumulate);
}

/* dst_k (+)= the spectra spec_k (unscaled, transformed in place) brought
 * back by the slot's inverse plan and 1/N: probe steps moved back, or the
 * probe itself at the end of a spectral pass.  accumulate: add to dst. */
static void add_back(const cpu_impl *c, const cpu_slot *slot, pty_cf *spec, pty_cf *dst, int accumulate)
{
    const int m = c->m, K = c->n_modes, nt = slot->threads;
    const size_t ms = c->mode_stride;
    const float inv_n = 1.0f / (float)c->npix;
    fftwf_execute_dft(slot->inverse, (fftwf_complex *)spec, (fftwf_complex *)spec);
    if (nt == 1) {
        pty_rows_scaled((int)c->npix, K, ms, spec, inv_n, dst, accumulate);
        return;
    }
#pragma omp parallel for num_threads(nt)
    for (int u = 0; u < m; u++)
        pty_rows_scaled(m, K, ms, spec + (size_t)u * m, inv_n, dst + (size_t)u * m, accumulate);
}

/* The slot's spectrum of its probe, unless *spectrum_ok says it holds. */
static void make_spectrum(const cpu_impl *c, const cpu_slot *slot)
{
    if (*slot->spectrum_ok) return;
    memcpy(slot->spectrum, slot->probe, c->n_modes * c->mode_stride * sizeof *slot->probe);
    fftwf_execute_dft(slot->forward, (fftwf_complex *)slot->spectrum, (fftwf_complex *)slot->spectrum);
    *slot->spectrum_ok = 1;
}

/* The probe from the slot's spectrum at the end of a spectral pass, on its
 * far buffer and plans: dst = F^-1[spectrum] / N. */
static void probe_from_spectrum(const cpu_impl *c, const cpu_slot *slot, pty_cf *dst)
{
    memcpy(slot->far, slot->spectrum, c->n_modes * c->mode_stride * sizeof *slot->far);
    add_back(c, slot, slot->far, dst, 0);
}

/* dst = the slot's probe moved by (fr, fc) pixels inside the window,
 * through its spectrum (pty_shift_factor), on the slot's far buffer and
 * plans; returns its power maximum, and writes its power map to power
 * unless NULL (what probe_ready would make of it).  The probe's spectrum is
 * made once and kept (slot->spectrum, *slot->spectrum_ok) for the next
 * positions that see the same probe, a set's in batched order: the same
 * plan on the same numbers gives the same bits. */
static float move_probe(const cpu_impl *c, const cpu_slot *slot, float fr, float fc, pty_cf *dst, float *power)
{
    const int m = c->m, K = c->n_modes, nt = slot->threads;
    const size_t npix = c->npix, ms = c->mode_stride;
    const float inv_n = 1.0f / (float)npix;
    make_spectrum(c, slot);
    apply_ramp(c, slot, slot->spectrum, fr, fc, slot->far, 0);
    fftwf_execute_dft(slot->inverse, (fftwf_complex *)slot->far, (fftwf_complex *)slot->far);
    /* each mode's pixels, not the gaps between modes */
    const pty_cf *y = slot->far;
    if (nt == 1) return pty_rows_scaled_power((int)npix, K, ms, y, inv_n, dst, power);
    float mx = 0.0f;
#pragma omp parallel for reduction(max : mx) num_threads(nt)
    for (int u = 0; u < m; u++) {
        const size_t at = (size_t)u * m;
        const float rm = pty_rows_scaled_power(m, K, ms, y + at, inv_n, dst + at, power ? power + at : NULL);
        mx = rm > mx ? rm : mx;
    }
    return mx;
}

/* Position correction: the move of position j's window corner that best explains its exit-wave
 * change (pty_position_terms), from the object before this position's update. */
static void position_step(const cpu_impl *c, int j, const pty_cf *obj, const cpu_slot *slot, const pty_cf *far,
                          float *step)
{
    const int m = c->m, nt = slot->threads, wr = c->window[2 * j], wc = c->window[2 * j + 1];
    const size_t mm = (size_t)m;
    const float *weight = c->illum + (size_t)wr * c->obj_w + wc;
    double sums[4] = {0.0, 0.0, 0.0, 0.0};
#define ROW_TERMS(r, out)                                                                                                \
    pty_rows_position_terms(m, c->n_modes, c->mode_stride, obj + (size_t)(r) * c->obj_w, (size_t)c->obj_w, (r) > 0,      \
                            (r) + 1 < m, slot->probe + (r) * mm, far + (r) * mm, 1.0f / (float)c->npix,                  \
                            weight + (size_t)(r) * c->obj_w, out)
    if (!slot->by_rows) {
        for (int r = 0; r < m; r++) ROW_TERMS(r, sums);
    } else {
        double *rows = c->row_sums;
#pragma omp parallel for num_threads(nt) if (nt > 1)
        for (int r = 0; r < m; r++) {
            double *own = rows + 4 * (size_t)r;
            own[0] = own[1] = own[2] = own[3] = 0.0;
            ROW_TERMS(r, own);
        }
        for (int r = 0; r < m; r++)
            for (int q = 0; q < 4; q++) sums[q] += rows[4 * (size_t)r + q];
    }
#undef ROW_TERMS
    step[0] = pty_position_step(sums[0], sums[1]);
    step[1] = pty_position_step(sums[2], sums[3]);
}

/* Whether position j lies off the pixel grid (its probe moved, move_probe). */
static int is_off_grid(const cpu_impl *c, int j)
{
    const float *f = c->shift ? c->shift + 2 * (size_t)j : NULL;
    return f && (f[0] != 0.0f || f[1] != 0.0f);
}

/* Whether a pass keeps the probe in its spectrum: one whose probe takes
 * steps, on positions mostly off the grid.  Such a position moves the
 * probe through its spectrum and its steps back the same way, and made the
 * spectrum from the probe and brought the steps back by a transform each;
 * in a spectral pass the steps join the spectrum as they are and the probe
 * is made from it once at the pass's end, so a position takes four
 * transforms, not six (sequential order) and a set saves two (batched).  A
 * position on the grid then moves the probe by zero, four transforms
 * where it would take two: hence "mostly". */
static int spectral_pass(const cpu_impl *c, const int *order, int n, const pty_pass_params *p)
{
    if (!c->shift || !(p->beta > 0.0f)) return 0;
    int off = 0;
    for (int t = 0; t < n; t++) off += is_off_grid(c, order[t]);
    return 2 * off > n;
}

/* One position: exit waves, projection, back-propagation, joint update.
 * The object is updated in place; the probe steps go to slot->probe_out
 * (the probe itself in sequential order, a worker's accumulator in a set).
 * *new_probe_max (unless NULL): where the steps went into the probe itself
 * and ePIE's one object step is all that the next position needs of it,
 * the new probe's power maximum, taken in the update; else -1, and
 * probe_ready must look at the probe again.  *out_empty (unless NULL):
 * probe_out holds nothing yet, and is written instead of added to (a
 * lane's first position: no zeros to clear and read back); left 1 if
 * this position took no probe step. */
static double cpu_position(cpu_impl *c, int j, const pty_pass_params *p, float global_obj_max,
                           const cpu_slot *given, float *new_probe_max, int *out_empty)
{
    if (new_probe_max) *new_probe_max = -1.0f;
    const int m = c->m, nt = given->threads;
    /* a position off the pixel grid sees the probe moved by its offset, and its probe steps,
       taken there, move back by it before they join the others */
    const float *f = c->shift ? c->shift + 2 * (size_t)j : NULL;
    const int off_grid = given->spectral || is_off_grid(c, j);
    cpu_slot moved = *given;
    const cpu_slot *slot = given;
    if (off_grid) {
        const float mx = move_probe(c, given, f[0], f[1], given->moved, p->rpie < 0.0f ? NULL : given->moved_step_buf);
        moved.probe = given->moved;
        moved.probe_out = given->moved_steps;
        moved.step_buf = given->moved_step_buf;
        object_step(c, &moved, p, mx); /* what probe_ready makes of the moved probe */
        slot = &moved;
    }
    pty_cf *obj = c->object + (size_t)c->window[2 * j] * c->obj_w + c->window[2 * j + 1];
    const float *amp = c->amplitudes + (size_t)j * c->npix;
    pty_cf *far = slot->far;
    /* the patch's maximum only where the probe step takes it */
    float patch_max = 0.0f, *want_patch = p->obj_norm == PTY_OBJNORM_PATCH ? &patch_max : NULL;
    double err = 0.0;
    if (!slot->by_rows) {
        exit_waves(c, obj, slot->probe, 0, m, far, want_patch);
        fftwf_execute_dft(slot->forward, (fftwf_complex *)far, (fftwf_complex *)far);
        err = project(c, amp, 0, m, 0, m, far);
    } else {
        double *rows = c->row_sums;
#pragma omp parallel for reduction(max : patch_max) num_threads(nt) if (nt > 1)
        for (int r = 0; r < m; r++) exit_waves(c, obj, slot->probe, r, r + 1, far, want_patch ? &patch_max : NULL);
        fftwf_execute_dft(slot->forward, (fftwf_complex *)far, (fftwf_complex *)far);
#pragma omp parallel for num_threads(nt) if (nt > 1)
        for (int r = 0; r < m; r++) rows[r] = project(c, amp, r, r + 1, 0, m, far);
        for (int r = 0; r < m; r++) err += rows[r];
    }
    fftwf_execute_dft(slot->inverse, (fftwf_complex *)far, (fftwf_complex *)far);
    if (p->position_steps) position_step(c, j, obj, slot, far, p->position_steps + 2 * (size_t)j);

    if (slot->probe_max <= 0.0f) return err; /* a dark probe cannot update anything */
    const float probe_step = probe_step_of(p, global_obj_max, patch_max, slot->set_size);
    const int fuse = new_probe_max && !off_grid && probe_step != 0.0f && slot->probe_out == slot->probe && !slot->obj_step;
    /* off the grid the steps are written afresh to moved_steps, this position's alone (its gaps
       between modes stay zero), and reach the probe by a move back: through the spectra of a
       spectral pass, or added to probe_out */
    const int empty = out_empty && *out_empty && probe_step != 0.0f;
    if (empty && off_grid && !given->spectral)
        memset(given->probe_out, 0, c->mode_stride * c->n_modes * sizeof *given->probe_out);
    const int fresh = off_grid || empty;
    float mx = 0.0f, *want_max = fuse ? &mx : NULL;
    if (!slot->by_rows) {
        update(c, obj, 0, m, probe_step, far, slot, fresh, want_max);
    } else {
#pragma omp parallel for reduction(max : mx) num_threads(nt) if (nt > 1)
        for (int r = 0; r < m; r++) update(c, obj, r, r + 1, probe_step, far, slot, fresh, want_max ? &mx : NULL);
    }
    if (fuse) *new_probe_max = mx;
    if (off_grid && probe_step != 0.0f) {
        /* the steps move back through their spectra: in a spectral pass into the probe's
           spectrum (sequential) or the lane's sum of them (batched), else back at once */
        pty_cf *steps = given->moved_steps;
        fftwf_execute_dft(given->forward, (fftwf_complex *)steps, (fftwf_complex *)steps);
        if (given->spectral) {
            pty_cf *into = given->step_spectrum ? given->step_spectrum : given->spectrum;
            apply_ramp(c, given, steps, -f[0], -f[1], into, !given->step_spectrum || *given->steps_live);
            *given->steps_live = 1;
        } else {
            apply_ramp(c, given, steps, -f[0], -f[1], given->far, 0);
            add_back(c, given, given->far, given->probe_out, 1);
        }
    }
    if (empty) *out_empty = 0;
    return err;
}

/* One position shared by the lanes (see cpu_sets), so a set's odd one out
 * does not leave workers idle.  Part t (of n_workers) is rows and columns
 * [t q, (t + 1) q), the 2-D transforms split into their row and column
 * passes; worker a of `active` takes parts a, a + active, ..., and every
 * active worker must call it.  Part t's probe steps go to lane t's sum
 * (sums + t * lane_stride) and its error to lane_err[t], whoever runs it, so the
 * result does not depend on how many workers share the parts. */
static void cpu_split(cpu_impl *c, int j, const pty_pass_params *p, float global_obj_max, const cpu_slot *slot,
                      int a, int active, pty_cf *sums, double *lane_err)
{
    const int m = c->m, W = c->n_workers, q = m / W;
    pty_cf *obj = c->object + (size_t)c->window[2 * j] * c->obj_w + c->window[2 * j + 1];
    const float *amp = c->amplitudes + (size_t)j * c->npix;
    fftwf_complex *far = (fftwf_complex *)c->split_far;
    float *mx = c->split_max;
    for (int t = a; t < W; t += active) {
        const int r0 = t * q;
        mx[t] = 0.0f;
        exit_waves(c, obj, slot->probe, r0, r0 + q, c->split_far, p->obj_norm == PTY_OBJNORM_PATCH ? &mx[t] : NULL);
        fftwf_execute_dft(c->rows_fwd, far + (size_t)r0 * m, far + (size_t)r0 * m);
    }
#pragma omp barrier
    float patch_max = 0.0f;
    for (int w = 0; w < W; w++) patch_max = fmaxf(patch_max, mx[w]);
    /* the projection is pixelwise: it runs between the column passes */
    for (int t = a; t < W; t += active) {
        const int r0 = t * q;
        fftwf_execute_dft(c->cols_fwd, far + r0, far + r0);
        lane_err[t] += project(c, amp, 0, m, r0, r0 + q, c->split_far);
        fftwf_execute_dft(c->cols_inv, far + r0, far + r0);
    }
#pragma omp barrier
    const float probe_step = probe_step_of(p, global_obj_max, patch_max, slot->set_size);
    for (int t = a; t < W; t += active) {
        const int r0 = t * q;
        fftwf_execute_dft(c->rows_inv, far + (size_t)r0 * m, far + (size_t)r0 * m);
        cpu_slot part = *slot;
        part.probe_out = sums + t * c->lane_stride;
        if (slot->probe_max > 0.0f) update(c, obj, r0, r0 + q, probe_step, c->split_far, &part, 0, NULL);
    }
}

/* probe += the set's summed probe steps, lane 0's first: every worker
 * adds them to its own copy in the same order, so the copies stay equal
 * bit for bit; and the object step of the new probe, in the same sweep. */
static void add_set_steps(const cpu_impl *c, cpu_slot *slot, const pty_pass_params *p, pty_cf *probe,
                          const pty_cf *sums, int lanes)
{
    const float mx = pty_rows_add_steps((int)c->npix, c->n_modes, c->mode_stride, probe, sums, lanes, c->lane_stride,
                                        p->rpie < 0.0f ? NULL : slot->step_buf);
    object_step(c, slot, p, mx);
}

/* Positions [*b, *e) of a set's `whole` that lane l of `lanes` takes: the
 * contiguous share OpenMP's static schedule would give thread l. */
static void lane_share(int whole, int lanes, int l, int *b, int *e)
{
    int q = whole / lanes, t = whole % lanes;
    if (l < t) q++, t = 0;
    *b = q * l + t;
    *e = *b + q;
}

/* Sets of positions whose windows do not overlap, each cut into n_workers
 * lanes: lane l updates its positions' windows of the object and sums their
 * probe steps (and errors) by itself, and the n % n_workers positions left
 * over are shared out pixel by pixel (cpu_split).  `active` workers run the
 * lanes, worker a lanes a, a + active, ...: as many workers as there are
 * lanes on an idle machine, half when another process holds a core (see
 * choose_workers), with the same result either way, since what a lane sums
 * and the order its sums join the probe do not depend on who runs it.  One
 * barrier ends a set (three more where one is shared): then each worker
 * adds the lanes' sums to its own copy of the probe, so no second barrier
 * waits for one shared probe, and the sums alternate between two buffers,
 * so the next set's steps do not overwrite sums another worker is still
 * adding.  One parallel region serves the whole pass (a region per set cost
 * as much as the work of a small set).  In a spectral pass (spectral_pass)
 * the lanes sum their steps as spectra, in two buffers the same way, and
 * each worker adds them to its own spectrum of the probe.  *waited: the
 * workers' seconds at those barriers, summed. */
static double cpu_sets(cpu_impl *c, const int *order, const pty_pass_params *p, float global_obj_max, int active,
                       int spectral, double *waited)
{
    const size_t nprobe = c->mode_stride * c->n_modes;
    const int lanes = c->n_workers, update_probe = p->beta > 0.0f;
    double *lane_err = c->lane_err;
    for (int l = 0; l < lanes; l++) lane_err[l] = 0.0;
    double waited_all = 0.0;
#pragma omp parallel num_threads(active) reduction(+ : waited_all)
    {
        const int a = omp_get_thread_num();
        pty_cf *probe = c->probe_copy + a * c->lane_stride;
        memcpy(probe, c->probe, nprobe * sizeof *probe);
        int spectrum_ok = 0, steps_live = 0, stepped = 0; /* the probe stands until the set's end */
        cpu_slot slot = {.far = c->far + a * c->lane_stride,
                         .probe = probe,
                         .step_buf = c->obj_step + a * c->lane_stride,
                         .set_size = 1,
                         .forward = c->forward1,
                         .inverse = c->inverse1,
                         .threads = 1,
                         .moved = c->moved ? c->moved + a * c->lane_stride : NULL,
                         .moved_steps = c->moved_steps ? c->moved_steps + a * c->lane_stride : NULL,
                         .spectrum = c->spectrum ? c->spectrum + a * c->lane_stride : NULL,
                         .spectrum_ok = &spectrum_ok,
                         .spectral = spectral,
                         .steps_live = &steps_live,
                         .factors = c->factors ? c->factors + (size_t)a * c->m : NULL,
                         .moved_step_buf = c->moved_obj_step + a * c->lane_stride};
        /* a spectral pass moves the probe for every position, which reads the moved probe's step */
        if (spectral) make_spectrum(c, &slot); /* each set's end adds to it */
        else probe_ready(c, &slot, p, 1);
        for (int s = 0, start = 0; s < p->n_sets; start = p->set_end[s++]) {
            const int n = p->set_end[s] - start, whole = c->rows_fwd ? n - n % lanes : n;
            pty_cf *sums = c->probe_acc + (size_t)(s & 1) * lanes * c->lane_stride;
            pty_cf *spectra = c->step_spectra ? c->step_spectra + (size_t)(s & 1) * lanes * c->lane_stride : NULL;
            int *live = c->lanes_live ? c->lanes_live + (s & 1) * lanes : NULL;
            slot.set_size = n;
            for (int l = a; l < lanes; l += active) {
                int b, e;
                lane_share(whole, lanes, l, &b, &e);
                slot.probe_out = sums + l * c->lane_stride;
                slot.step_spectrum = spectra ? spectra + l * c->lane_stride : NULL;
                steps_live = 0;
                /* the others last read this sum before the previous set's barrier; the lane's first
                   probe steps write it (cpu_position), and where none did, zeros */
                int empty = update_probe;
                /* summed here, added once: the lanes' sums share a cache line */
                double e_lane = 0.0;
                for (int i = start + b; i < start + e; i++)
                    e_lane += cpu_position(c, order[i], p, global_obj_max, &slot, NULL, &empty);
                if (empty && !spectral) memset(slot.probe_out, 0, nprobe * sizeof *slot.probe_out);
                if (live) live[l] = steps_live;
                lane_err[l] += e_lane;
            }
            /* a shared position has buffers of its own and a window no other position of the set touches */
            for (int i = start + whole; i < start + n; i++)
                cpu_split(c, order[i], p, global_obj_max, &slot, a, active, sums, lane_err);
            const double arrived = pty_now_s();
#pragma omp barrier
            waited_all += pty_now_s() - arrived;
            if (spectral) {
                /* the lanes' steps join each worker's spectrum, lane 0's first, as add_set_steps */
                for (int l = 0; l < lanes; l++)
                    if (live[l]) {
                        pty_rows_scaled((int)c->npix, c->n_modes, c->mode_stride, spectra + l * c->lane_stride, 1.0f,
                                        slot.spectrum, 1);
                        stepped = 1;
                    }
            } else if (update_probe) {
                add_set_steps(c, &slot, p, probe, sums, lanes);
                spectrum_ok = 0;
            }
        }
        /* after every worker's copy in (there is no barrier without sets) */
#pragma omp barrier
        if (a == 0 && stepped) probe_from_spectrum(c, &slot, c->probe);
        else if (a == 0) memcpy(c->probe, probe, nprobe * sizeof *probe);
    }
    *waited = waited_all;
    double err = 0.0;
    for (int l = 0; l < lanes; l++) err += lane_err[l];
    return err;
}

/* Workers for a batched pass.  On an idle machine all lanes run at once.
 * When another process takes one of the cores, the worker it preempts
 * holds every set's barrier until it runs again, and two workers are
 * slower than one (Siemens star, 2 threads, a busy loop on one core:
 * 178.5 ms an iteration against 165 on one thread).  That shows as the
 * workers' time waiting at the barriers: a pass that waited more than
 * CPU_WAIT_LOADED of its time tries half the workers next, which stay
 * while they are faster a position than the better of the last two passes
 * on all (not the last alone: on an idle VM one pass in twenty or so runs
 * 1.4x slow and waits a third of its time, and half the workers beat it,
 * though not the passes around it); all are tried again after CPU_RETRY
 * passes, and after twice as many each time they lose, up to
 * CPU_RETRY_MAX (a sequential pass on all threads of a loaded machine is
 * 3.6x slower than on one: one in 16 of them cost 16 %).  Passes differ (the first-probe search runs sets of one on the
 * central frames, where the barriers of the shared position make half the
 * workers faster even on an idle machine), so each kind of pass (positions,
 * sets, probe moved or not) keeps its own figures.  The result is the same
 * on any number of workers (cpu_sets).  A sequential pass on several
 * threads is chosen for the same way, its lost share of the threads' time
 * standing in for the barriers' (cpu_pass), with the same bits on fewer
 * threads (cpu_slot.by_rows, fft_jobs): Siemens star, sequential order, 2
 * threads, a busy loop on one core, 378-392 ms an iteration before against
 * 187-200 ms (1 thread: 129-132); and since such a pass also drops to
 * fewer part way (CPU_SEQ_LOOK_S), 91-92 against 80-82 on one thread (the
 * probe kept as its spectrum by then, 20 iterations).
 * PTYCHO_CPU_WORKERS=N fixes the count (tests). */
#define CPU_WAIT_LOADED 0.3
#define CPU_RETRY 16
#define CPU_RETRY_MAX 64
/* A sequential pass on several threads also looks at its lost share every
 * this many seconds, and drops to fewer threads for the rest of the pass
 * once it finds them loaded: its bits do not depend on the threads, and a
 * whole pass on all threads of a loaded machine (its first, and each
 * retry) cost 3.7 passes on one.  Not shorter: the process's CPU time
 * moves in steps of a few milliseconds here, and over 5 ms windows an idle
 * run's share lost ranged from -0.32 to 0.49 (Siemens star, 2 threads). */
#define CPU_SEQ_LOOK_S 0.05

static cpu_pass_kind *pass_kind(cpu_impl *c, int n, int n_sets, int probe)
{
    for (int i = 0; i < CPU_KINDS; i++) {
        cpu_pass_kind *k = &c->kinds[i];
        if (k->n == n && k->n_sets == n_sets && k->probe == probe) return k;
    }
    cpu_pass_kind *k = &c->kinds[c->next_kind++ % CPU_KINDS];
    *k = (cpu_pass_kind){.n = n, .n_sets = n_sets, .probe = probe, .active = c->n_workers, .retry_after = CPU_RETRY};
    return k;
}

/* PTYCHO_CPU_WORKERS, or 0 where it is not set to a count. */
static int fixed_workers(void)
{
    const char *fixed = getenv("PTYCHO_CPU_WORKERS");
    return fixed && atoi(fixed) >= 1 ? atoi(fixed) : 0;
}

static int choose_workers(const cpu_impl *c, cpu_pass_kind *k)
{
    const int fixed = fixed_workers();
    if (fixed) return fixed < c->n_workers ? fixed : c->n_workers;
    if (k->active < c->n_workers && ++k->since_all >= k->retry_after) return c->n_workers;
    return k->active;
}

/* The better of the last two passes of kind k on all workers (0: none). */
static double best_on_all(const cpu_pass_kind *k)
{
    return k->all[1] > 0.0 && k->all[1] < k->all[0] ? k->all[1] : k->all[0];
}

/* Kind k ran r seconds a position on all workers. */
static void ran_on_all(cpu_pass_kind *k, double r)
{
    k->all[1] = k->all[0];
    k->all[0] = r;
}

/* Passes before all are tried again, after a retry of them lost. */
static int backed_off(int retry_after) { return retry_after < CPU_RETRY_MAX / 2 ? 2 * retry_after : CPU_RETRY_MAX; }

/* After a pass of kind k on `used` workers that took r seconds a position
 * and waited at barriers `waited` of its workers' time. */
static void workers_measured(const cpu_impl *c, cpu_pass_kind *k, int used, double r, double waited)
{
    const int all = c->n_workers, half = (all + 1) / 2;
    if (used == all) {
        ran_on_all(k, r);
        if (k->active < all) { /* the retry: all stay only where they beat fewer */
            const int won = best_on_all(k) < k->fewer;
            if (won) k->active = all;
            k->retry_after = won ? CPU_RETRY : backed_off(k->retry_after);
            k->since_all = 0;
        } else if (waited > CPU_WAIT_LOADED && half < all) {
            k->active = half;
            k->since_all = 0;
        }
    } else if (used == k->active) {
        k->fewer = r;
        if (!(r < best_on_all(k))) k->active = all;
    }
}

/* A pass of kind k that began on all workers and found them loaded part
 * way, after r seconds a position (sequential order, CPU_SEQ_LOOK_S): fewer
 * for the rest of it and from then on, as workers_measured would have
 * decided after the whole pass, with r as the figure on all. */
static void workers_dropped(const cpu_impl *c, cpu_pass_kind *k, double r)
{
    ran_on_all(k, r);
    if (k->active < c->n_workers) k->retry_after = backed_off(k->retry_after); /* a retry, lost */
    k->active = (c->n_workers + 1) / 2;
    k->since_all = 0;
}

/* The weights of the position terms (pty_position_terms): the scan's illumination of each object
 * pixel I, by the probe and windows as they are now, as I / (I + max I), so the well-lit pixels
 * count alike and only the dimly lit ones less. */
static void illumination_weights(cpu_impl *c)
{
    const size_t nobj = (size_t)c->obj_h * c->obj_w;
    pty_illumination_in(c->probe, c->n_modes, c->mode_stride, c->m, c->window, c->n_frames, c->obj_h, c->obj_w,
                        c->illum, c->illum_scratch);
    float mx = 0.0f;
    for (size_t i = 0; i < nobj; i++) mx = c->illum[i] > mx ? c->illum[i] : mx;
    for (size_t i = 0; i < nobj; i++) c->illum[i] = pty_illumination_weight(c->illum[i], mx);
}

static int cpu_pass(void *impl, const int *order, int n, const pty_pass_params *p, double *err_num)
{
    cpu_impl *c = impl;
    if (p->set_end) PTY_TRY(pty_sets_check_ends(p->set_end, p->n_sets, n, "CPU backend"));
    PTY_CHECK(!p->position_steps || c->illum, PTY_ERR_ARG, "CPU backend: position steps asked of a backend created "
                                                             "without refine_positions");
    const int batched = p->set_end != NULL;
    cpu_pass_kind *kind = batched || c->n_threads > 1 ? pass_kind(c, n, batched ? p->n_sets : 0, p->beta > 0.0f) : NULL;
    int active = kind ? choose_workers(c, kind) : 1;
    float global_obj_max = p->obj_norm == PTY_OBJNORM_GLOBAL ? object_max_power(c, active) : 0.0f;
    if (p->position_steps) illumination_weights(c);
    const double t0 = pty_now_s(), cpu0 = pty_cpu_s();
    double err = 0.0, waited = 0.0;
    int dropped = 0; /* a sequential pass that dropped to fewer threads part way (workers_dropped) */
    const int spectral = spectral_pass(c, order, n, p);
    if (batched) {
        err = cpu_sets(c, order, p, global_obj_max, active, spectral, &waited);
    } else {
        /* the probe stands through the pass where it takes no steps, and in a spectral pass it
           is the spectrum */
        int spectrum_ok = 0, stepped = 0;
        cpu_slot slot = {.far = c->far,
                         .probe = c->probe,
                         .probe_out = c->probe,
                         .step_buf = c->obj_step,
                         .set_size = 1,
                         .forward = c->forward,
                         .inverse = c->inverse,
                         .threads = active,
                         .moved = c->moved,
                         .moved_steps = c->moved_steps,
                         .spectrum = c->spectrum,
                         .spectrum_ok = &spectrum_ok,
                         .spectral = spectral,
                         .steps_live = &stepped,
                         .factors = c->factors,
                         .moved_step_buf = c->moved_obj_step,
                         .by_rows = c->n_threads > 1};
        fft_team = active;
        /* each position's probe steps change the probe the next one sees; a position off the
           grid reads only the moved probe's object step, so the probe's own waits until a
           position on the grid needs it */
        float new_max = -1.0f;
        double look_t = t0, look_cpu = cpu0;
        int looked_at = 0, may_drop = kind && active == c->n_workers && active > 1 && !fixed_workers();
        for (int t = 0, stale = 1; t < n; t++) {
            if (t > 0 && new_max >= 0.0f) object_step(c, &slot, p, new_max), stale = 0;
            if (stale && !spectral && !is_off_grid(c, order[t])) probe_ready(c, &slot, p, active), stale = 0;
            err += cpu_position(c, order[t], p, global_obj_max, &slot, &new_max, NULL);
            if (p->beta > 0.0f && !spectral) spectrum_ok = 0, stale = 1;
            if (!may_drop || t + 1 == n) continue;
            const double now = pty_now_s(), span = now - look_t;
            if (span < CPU_SEQ_LOOK_S) continue;
            const double cpu_now = pty_cpu_s();
            if (1.0 - (cpu_now - look_cpu) / (active * span) > CPU_WAIT_LOADED) {
                workers_dropped(c, kind, span / (t + 1 - looked_at));
                active = slot.threads = fft_team = kind->active;
                dropped = 1;
                may_drop = 0;
            }
            look_t = now;
            look_cpu = cpu_now;
            looked_at = t + 1;
        }
        if (stepped) probe_from_spectrum(c, &slot, c->probe);
        fft_team = 0;
    }
    const double wall = pty_now_s() - t0, cpu = pty_cpu_s() - cpu0;
    /* a sequential pass has no barriers of its own to time (its threads wait inside OpenMP's
       loops and FFTW's), so what it lost to other processes is the share of its threads' time
       the process did not get: a waiting thread spins, and counts as busy */
    if (kind && n > 0 && wall > 0.0 && !dropped)
        workers_measured(c, kind, active, wall / n, batched ? waited / (active * wall) : 1.0 - cpu / (active * wall));
    *err_num = err;
    return PTY_OK;
}

static int cpu_get_object(void *impl, int r0, int c0, int h, int w, pty_cf *out)
{
    const cpu_impl *c = impl;
    for (int r = 0; r < h; r++)
        memcpy(out + (size_t)r * w, c->object + (size_t)(r0 + r) * c->obj_w + c0, (size_t)w * sizeof *out);
    return PTY_OK;
}

static int cpu_get_probe(void *impl, pty_cf *out)
{
    const cpu_impl *c = impl;
    for (int k = 0; k < c->n_modes; k++)
        memcpy(out + (size_t)k * c->npix, c->probe + (size_t)k * c->mode_stride, c->npix * sizeof *out);
    return PTY_OK;
}

static int cpu_set_probe(void *impl, const pty_cf *in)
{
    probe_in(impl, in);
    return PTY_OK;
}

static int cpu_set_object(void *impl, int r0, int c0, int h, int w, const pty_cf *in)
{
    cpu_impl *c = impl;
    for (int r = 0; r < h; r++)
        memcpy(c->object + (size_t)(r0 + r) * c->obj_w + c0, in + (size_t)r * w, (size_t)w * sizeof *in);
    return PTY_OK;
}

static int cpu_set_positions(void *impl, const int *window, const float *shift)
{
    cpu_impl *c = impl;
    PTY_CHECK(c->shift, PTY_ERR_ARG, "CPU backend: positions can move only in a backend created with shifts");
    memcpy(c->window, window, (size_t)c->n_frames * 2 * sizeof *window);
    memcpy(c->shift, shift, (size_t)c->n_frames * 2 * sizeof *shift);
    return PTY_OK;
}

static int cpu_update_frames(void *impl, const float *amplitudes, const int *frames, int n)
{
    const cpu_impl *c = impl;
    (void)frames;
    (void)n;
    PTY_CHECK(amplitudes == c->amplitudes, PTY_ERR_ARG, "CPU backend: new frames must arrive in the array it reads");
    return PTY_OK;
}

static void cpu_stats(const void *impl, pty_backend_stats *out)
{
    const cpu_impl *c = impl;
    out->upload_s = c->upload_s;
    out->device_bytes = 0.0;
    out->batch = c->n_workers;
    out->frames_streamed = 0;
}

const pty_backend_ops pty_backend_cpu = {
    .name = "cpu",
    .host_threads = 1,
    .create = cpu_create,
    .destroy = cpu_destroy,
    .pass = cpu_pass,
    .get_object = cpu_get_object,
    .get_probe = cpu_get_probe,
    .set_probe = cpu_set_probe,
    .set_object = cpu_set_object,
    .stats = cpu_stats,
    .set_positions = cpu_set_positions,
    .update_frames = cpu_update_frames,
};
