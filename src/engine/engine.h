/* engine.h - ePIE reconstruction plans: create once, execute, destroy.
 *
 * Modelled on FFTW: pty_plan_create does all allocation, FFT planning,
 * probe initialisation and data upload; pty_plan_execute runs iterations
 * and allocates nothing but room for the errors it appends (once a call);
 * the result is read back with the getters. */
#ifndef PTY_ENGINE_H
#define PTY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "dataset.h"
#include "geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PTY_BACKEND_AUTO = 0, PTY_BACKEND_CPU = 1, PTY_BACKEND_CUDA = 2 };
/* Position order within a pass: one at a time in random order, or sets of
 * positions with non-overlapping windows at once (sets.h); auto is batched
 * where the backend runs several positions at once (a GPU, or more than one
 * CPU thread) and sequential on one CPU thread, where both cost the same. */
enum { PTY_ORDER_SEQUENTIAL = 0, PTY_ORDER_BATCHED = 1, PTY_ORDER_AUTO = 2 };
/* Their names (--order, results), indexed by PTY_ORDER_*. */
extern const char *const pty_order_names[3];

typedef struct pty_recon_params {
    int n_modes;            /* K incoherent probe modes (>= 1) */
    float alpha;            /* object step */
    float beta;             /* probe step */
    float rpie;             /* < 0: ePIE; else rPIE regularisation a in [0, 1] */
    int obj_norm;           /* PTY_OBJNORM_PATCH | PTY_OBJNORM_GLOBAL for the probe step */
    int probe_start;        /* first iteration (0-based) that updates the probe */
    float mode_power;       /* initial power of each extra mode, fraction of mode 1 */
    int ortho_every;        /* eigen-orthogonalise the modes every N iterations (0 = never) */
    uint64_t seed;          /* random position order and mode initialisation */
    int pad;                /* object margin around the scanned area, pixels */
    int backend;            /* PTY_BACKEND_* */
    int n_threads;          /* CPU threads, 0 = all cores */
    double probe_diameter;  /* model probe diameter in pixels when the input has no probe
                               (0 = estimate from the data) */
    int device;             /* CUDA device index (taken modulo the device count) */
    int order;              /* PTY_ORDER_* */
    int gpu_frames;         /* PTY_FRAMES_*: frames on the GPU, streamed from host memory, or as they fit */
    int center_probe;       /* keep the probe's centre of intensity within a pixel of the window
                               centre, moving the object with it (removes the free drift of both),
                               unless the roll would wrap a probe that fills its window */
    const char *fft_wisdom; /* CPU: FFTW wisdom file, so repeated runs plan alike and give the same
                               bits (fft_wisdom.h); NULL: plans timed afresh each run */
    int position_start;     /* first iteration (0-based) that refines the positions (positions.h); < 0: never */
    float position_max_step; /* most a position moves along an axis in one iteration, pixels */
    int position_affine;    /* position correction also removes an affine map of the positions, not
                               only their mean shift */
} pty_recon_params;

/* Defaults, chosen by measurement (see README "Defaults"). */
void pty_recon_params_default(pty_recon_params *p);

/* Check a parameter set; the message names the offending flag. */
int pty_recon_params_check(const pty_recon_params *p);

typedef struct pty_plan pty_plan;

/* Called after every iteration; return non-zero to stop early. */
typedef int (*pty_progress_fn)(void *user, int iter, int n_iter, double error, double seconds);

/* Build a plan for dataset d.  The dataset must outlive the plan: on the
 * CPU the frames are read in place.  `grid` (may be NULL)
 * gives the object grid and windows to use, e.g. a rank's part of a global
 * grid (pty_geometry_subset); NULL computes them from d's positions.  Fails
 * with a message naming the problem; *out is NULL then. */
int pty_plan_create(const pty_dataset *d, const pty_recon_params *p, const pty_geometry *grid, pty_plan **out);

/* A plan for a scan still being acquired (`ptycho recon --follow`): d holds
 * room for all n_frames frames, but only frames[0..n) hold data yet, and
 * passes visit only those.  `grid` (may be NULL) places every window; those
 * of frames still to come are placeholders, placed when they arrive.
 * Frames join with pty_plan_add_frames.  n may be 0 (passes then do
 * nothing, with error 0: one MPI rank's block before its frames come).
 * Position correction is refused. */
int pty_plan_create_partial(const pty_dataset *d, const pty_recon_params *p, const pty_geometry *grid,
                            const int *frames, int n, pty_plan **out);

/* Frames frames[0..n) of d (the dataset the plan was made on) now hold their
 * amplitudes and positions: place their windows and visit them from the next
 * pass on; their counts join the Fourier error's denominator.  A frame whose
 * window would leave the object grid is PTY_ERR_DATA (nothing changes: the
 * caller makes a larger plan); one already visited or given twice is
 * PTY_ERR_ARG. */
int pty_plan_add_frames(pty_plan *plan, const pty_dataset *d, const int *frames, int n);

/* How many frames the passes visit. */
int pty_plan_n_active(const pty_plan *plan);

/* The windows (top-left (row, col), *n x 2) of the frames the passes visit,
 * as placed now: what the object's illumination sums over (all windows of a
 * plan made by pty_plan_create, in frame order). */
const int *pty_plan_active_windows(const pty_plan *plan, int *n);

/* Run n_iter more iterations.  Returns PTY_ERR_DIVERGED (with the iteration
 * named) if the error becomes non-finite or the probe power explodes. */
int pty_plan_execute(pty_plan *plan, int n_iter, pty_progress_fn progress, void *user);

void pty_plan_destroy(pty_plan *plan);

/* The order the plan runs (PTY_ORDER_AUTO resolved), and in batched order
 * its number of sets and the largest (0 and 1 in sequential order). */
int pty_plan_order(const pty_plan *plan);
void pty_plan_sets(const pty_plan *plan, int *n_sets, int *largest);

/* Whether a plan asking for backend `wanted` (PTY_BACKEND_*) runs on the CPU backend. */
int pty_backend_on_host(int wanted);

/* Geometry of the object grid and the backend actually used. */
const pty_geometry *pty_plan_geometry(const pty_plan *plan);
const char *pty_plan_backend_name(const pty_plan *plan);

/* Copy out the current object (obj_h*obj_w) and probe (K*m*m, modes sorted by
 * power when orthogonalisation is on). */
int pty_plan_get_object(pty_plan *plan, pty_cf *out);
int pty_plan_get_probe(pty_plan *plan, pty_cf *out);

/* Replace the object or the probe modes between executes (ranks sharing
 * their overlaps and probes, DESIGN.md §3 synchronous mode). */
int pty_plan_set_object(pty_plan *plan, const pty_cf *in);
int pty_plan_set_probe(pty_plan *plan, const pty_cf *in);

/* The same for rows [r0, r0 + h) x columns [c0, c0 + w) of the object,
 * h x w row-major on the host: a sync share moves only the strips it
 * exchanges between a GPU and the host.  PTY_ERR_ARG when the rectangle
 * leaves the object. */
int pty_plan_get_object_rect(pty_plan *plan, int r0, int c0, int h, int w, pty_cf *out);
int pty_plan_set_object_rect(pty_plan *plan, int r0, int c0, int h, int w, const pty_cf *in);

/* Start again from `probe` (n_modes*m*m, as given: not orthogonalised)
 * and a transmission-one object, with the error history, iteration count
 * and random order reset: the same plan tries several starts (probe
 * search) without planning its FFTs again. */
int pty_plan_restart(pty_plan *plan, const pty_cf *probe);

/* Continue an interrupted run: the iteration count becomes n_done and the
 * error history its first n_done entries (errors), so iteration-dependent
 * steps (probe start, position correction, orthogonalisation) take up
 * where they were; with rng_state (may be NULL) the position order goes on
 * as it would have.  The object and probe are set separately. */
int pty_plan_resume(pty_plan *plan, const double *errors, int n_done, const uint64_t rng_state[4]);

/* The random generator's state now (for a checkpoint). */
void pty_plan_rng_state(const pty_plan *plan, uint64_t out[4]);

/* Roll probe and object back by whole pixels when the probe's centre of
 * intensity is a pixel or more off its window's centre and at most 1 % of
 * its power would wrap around the window (what center_probe does after
 * each probe update).  Ranks sharing one probe call
 * this after agreeing on it, so they all move their objects alike. */
int pty_plan_center_probe(pty_plan *plan);

/* The probe centres (row, col) as the input's positions, in object pixels, that the plan runs
 * now: the positions given (rounded to 1e-7 px), or where position correction moved them.  out
 * holds 2 per frame. */
void pty_plan_positions(const pty_plan *plan, double *out);

/* Position correction keeps the positions' mean (and affine part) fixed over
 * all positions that `sum` adds up: ranks reconstructing one object (sync
 * mode) pass a sum over the ranks, and call execute alike.  Default NULL:
 * the plan's own positions. */
void pty_plan_set_position_sum(pty_plan *plan, int (*sum)(double *v, size_t n));

/* Fourier error per completed iteration, sum (|Psi| - sqrt(I))^2 / sum I. */
const double *pty_plan_errors(const pty_plan *plan, int *n);

/* Measured intensity summed over the plan's frames at unmasked pixels: the
 * denominator of the Fourier error (taken once, at create). */
double pty_plan_total_intensity(const pty_plan *plan);

/* The Fourier error photon noise alone would leave on the plan's frames
 * (pty_dataset_noise_floor, taken at create): what convergence.h judges
 * a finished run's error against. */
double pty_plan_noise_floor(const pty_plan *plan);

/* Seconds spent in create (setup) and in execute (iterations). */
void pty_plan_timings(const pty_plan *plan, double *setup_s, double *iterate_s);

/* What the backend reports: upload time, device memory, batch, streaming. */
void pty_plan_backend_stats(const pty_plan *plan, pty_backend_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_ENGINE_H */
