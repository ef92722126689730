/* probe_guess.c - the first probe: file, optics model, or search. */
#include "probe_guess.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_init.h"
#include "pty_error.h"
#include "pty_log.h"
#include "threads.h"

const char *const pty_guess_names[PTY_GUESS_N] = {"auto", "data", "disc", "gauss", "aperture"};

/* Spots tried, as fractions of the window, each with both signs of the
 * defocus (0: the pupil in focus).  Defocused beams used for ptychography
 * fill from a third of the window to all of it; the grid is refined once
 * around the best. */
static const double search_spots[] = {0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9};
#define N_SPOTS ((int)(sizeof search_spots / sizeof search_spots[0]))
/* Iterations a candidate runs; the probe moves from the second on. */
#define SEARCH_ITERATIONS 4
/* The candidates' position updates may cost this many iterations of the
 * whole scan; with planning, restarts and the mean pattern the search then
 * takes about a tenth of a 100-iteration run (400 frames of 64^2, 2
 * threads: 10 gave 13 %).  At least this many frames, though: */
#define SEARCH_BUDGET_ITERATIONS 7.0
#define SEARCH_MIN_FRAMES 36
/* A patch this large shows everything the search looks at; more would only
 * copy frames (the seed case's budget alone would be 3500 frames of 256^2,
 * 0.9 GB). */
#define SEARCH_MAX_FRAMES 400

void pty_probe_guess_options_default(pty_probe_guess_options *o)
{
    memset(o, 0, sizeof *o);
    o->model = PTY_GUESS_AUTO;
    o->search = 1;
}

/* sqrt of the mean measured intensity, FFT order.  Pixels no frame
 * measures (a beam stop, a mask) take the mean of the measured pixels at
 * their distance from the centre, so the pupil has no hole there. */
static int mean_modulus(const pty_dataset *d, float *out)
{
    const int m = d->m;
    const size_t npix = (size_t)m * m;
    /* rings up to the corner, m / sqrt(2) < m pixels out */
    double *mean = malloc(npix * sizeof *mean), *ring = calloc(2 * (size_t)m, sizeof *ring);
    int rc = mean && ring ? pty_mean_pattern(d, mean)
                          : pty_error_set(PTY_ERR_NOMEM, "cannot allocate the mean pattern (%dx%d)", m, m);
    if (rc != PTY_OK) goto done;
    for (int u = 0; u < m; u++)
        for (int v = 0; v < m; v++) {
            const size_t i = (size_t)u * m + v;
            const int r = (int)lround(hypot(pty_signed_freq(u, m), pty_signed_freq(v, m)));
            if (!isnan(mean[i])) {
                ring[2 * r] += mean[i];
                ring[2 * r + 1] += 1.0;
            }
        }
    for (int u = 0; u < m; u++)
        for (int v = 0; v < m; v++) {
            const size_t i = (size_t)u * m + v;
            const int r = (int)lround(hypot(pty_signed_freq(u, m), pty_signed_freq(v, m)));
            const double fill = ring[2 * r + 1] > 0 ? ring[2 * r] / ring[2 * r + 1] : 0.0;
            out[i] = (float)sqrt(isnan(mean[i]) ? fill : mean[i]);
        }
done:
    free(mean);
    free(ring);
    return rc;
}

/* Radius of the pupil a uniform disc would have: the measured pattern's
 * 90 % power radius over sqrt(0.9). */
static double pupil_radius(const float *modulus, int m)
{
    double *ring = calloc((size_t)m, sizeof *ring), total = 0.0;
    if (!ring) return m / 4.0;
    for (int u = 0; u < m; u++)
        for (int v = 0; v < m; v++) {
            const int r = (int)floor(hypot(pty_signed_freq(u, m), pty_signed_freq(v, m)));
            const double w = (double)modulus[(size_t)u * m + v] * modulus[(size_t)u * m + v];
            if (r < m) ring[r] += w;
            total += w;
        }
    double acc = 0.0, r90 = m / 2.0;
    for (int r = 0; r < m; r++) {
        if (acc + ring[r] >= 0.9 * total) {
            r90 = r + (ring[r] > 0 ? (0.9 * total - acc) / ring[r] : 0.0);
            break;
        }
        acc += ring[r];
    }
    free(ring);
    const double a = r90 / sqrt(0.9);
    return a < 1.0 ? 1.0 : a;
}

/* The n_sub frames nearest the centre of the scan's bounding box: a
 * compact patch, overlapping as the whole scan does. */
static int central_subset(const pty_dataset *d, int n_sub, pty_dataset **out)
{
    const int n = d->n_frames, m = d->m;
    const size_t npix = (size_t)m * m;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int j = 0; j < n; j++)
        for (int a = 0; a < 2; a++) {
            lo[a] = fmin(lo[a], d->positions[2 * j + a]);
            hi[a] = fmax(hi[a], d->positions[2 * j + a]);
        }
    double *dist = malloc((size_t)n * sizeof *dist);
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!dist || !idx) {
        free(dist);
        free(idx);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the search subset");
    }
    for (int j = 0; j < n; j++) {
        dist[j] = hypot(d->positions[2 * j] - 0.5 * (lo[0] + hi[0]), d->positions[2 * j + 1] - 0.5 * (lo[1] + hi[1]));
        idx[j] = j;
    }
    /* partial selection sort: n_sub is a small share of n */
    for (int k = 0; k < n_sub; k++) {
        int best = k;
        for (int j = k + 1; j < n; j++)
            if (dist[idx[j]] < dist[idx[best]]) best = j;
        int t = idx[k];
        idx[k] = idx[best];
        idx[best] = t;
    }
    int rc = pty_dataset_create(n_sub, m, out);
    if (rc == PTY_OK) {
        pty_dataset *s = *out;
        for (int k = 0; k < n_sub; k++) {
            memcpy(s->amplitudes + (size_t)k * npix, d->amplitudes + (size_t)idx[k] * npix, npix * sizeof(float));
            s->positions[2 * k] = d->positions[2 * idx[k]];
            s->positions[2 * k + 1] = d->positions[2 * idx[k] + 1];
        }
        s->wavelength = d->wavelength;
        s->distance = d->distance;
        s->detector_pixel = d->detector_pixel;
        s->pixel_size = d->pixel_size;
    }
    free(dist);
    free(idx);
    return rc;
}

typedef struct candidate {
    double spot;      /* geometric spot, object pixels (0: in focus) */
    int sign;         /* +1 converging (focus behind the sample), -1 diverging */
    double error;     /* Fourier error after SEARCH_ITERATIONS */
} candidate;

/* The candidate's probe: the measured pupil, curved to focus to its spot. */
static int candidate_probe(const float *modulus, int m, double radius, double power, const candidate *c, pty_cf *probe)
{
    PTY_TRY(pty_probe_pupil(modulus, m, radius, c->sign * pty_pupil_curvature(m, radius, c->spot), probe));
    return pty_probe_normalise(probe, (size_t)m * m, power);
}

/* c->error: the Fourier error after SEARCH_ITERATIONS on `plan` from `probe`. */
static int try_candidate(pty_plan *plan, const pty_cf *probe, candidate *c)
{
    PTY_TRY(pty_plan_restart(plan, probe));
    int rc = pty_plan_execute(plan, SEARCH_ITERATIONS, NULL, NULL);
    if (rc != PTY_OK && rc != PTY_ERR_DIVERGED) return rc;
    int n;
    const double *err = pty_plan_errors(plan, &n);
    /* a candidate that diverges is simply a bad one */
    c->error = rc == PTY_OK && n > 0 && isfinite(err[n - 1]) ? err[n - 1] : INFINITY;
    if (rc != PTY_OK) pty_error_clear();
    return PTY_OK;
}

/* Candidates c[0..n) tried on n_plans plans, at once where there are
 * several.  A plan restarts from each candidate's probe, its random order
 * included, so a candidate's error does not depend on which plan tries it
 * or after which other; the plans' FFTs come from the same wisdom.  The
 * probes are made first, one after another: pty_probe_pupil plans an FFT,
 * and FFTW's planner is not thread-safe.  On an error, the first failing
 * candidate's. */
static int try_candidates(pty_plan *const *plans, int n_plans, const float *modulus, int m, double radius,
                          double power, candidate *c, int n, pty_cf *probes)
{
    const size_t npix = (size_t)m * m;
    for (int i = 0; i < n; i++) PTY_TRY(candidate_probe(modulus, m, radius, power, &c[i], probes + i * npix));
    int rc = PTY_OK, failed = n;
    char why[512] = "";
#pragma omp parallel for schedule(dynamic) num_threads(n_plans) if (n_plans > 1)
    for (int i = 0; i < n; i++) {
        int first;
#pragma omp atomic read
        first = failed;
        if (i > first) continue; /* every candidate before i has started: the first failure is still found */
        const int r = try_candidate(plans[omp_get_thread_num()], probes + i * npix, &c[i]);
        if (r != PTY_OK) {
#pragma omp critical(probe_search_error)
            if (i < failed) {
                snprintf(why, sizeof why, "%s", pty_error_message());
                rc = r;
#pragma omp atomic write
                failed = i;
            }
        }
    }
    return rc == PTY_OK ? PTY_OK : pty_error_set(rc, "%s", why);
}

static const char *sign_name(int sign) { return sign > 0 ? "converging" : "diverging"; }

/* *best: the first of c[0..n) with a lower error than it, each candidate's
 * error logged (PTYCHO_DEBUG=1); *tried counts them. */
static void keep_best(const candidate *c, int n, candidate *best, int *tried)
{
    for (int i = 0; i < n; i++, (*tried)++) {
        pty_log(PTY_LOG_DEBUG, "probe search: spot %.1f px %s: error %.4e", c[i].spot, sign_name(c[i].sign), c[i].error);
        if (c[i].error < best->error) *best = c[i];
    }
}

static int search(pty_dataset *d, const pty_recon_params *p, double power, pty_probe_guess_report *rep, pty_cf *probe)
{
    const int m = d->m;
    const size_t npix = (size_t)m * m;
    const int n_cand = 2 * N_SPOTS - 1 + 2;
    int n_sub = (int)(SEARCH_BUDGET_ITERATIONS * d->n_frames / (n_cand * SEARCH_ITERATIONS));
    if (n_sub < SEARCH_MIN_FRAMES) n_sub = SEARCH_MIN_FRAMES;
    if (n_sub > SEARCH_MAX_FRAMES) n_sub = SEARCH_MAX_FRAMES;
    if (n_sub > d->n_frames) n_sub = d->n_frames;
    float *modulus = malloc(npix * sizeof *modulus);
    PTY_CHECK(modulus, PTY_ERR_NOMEM, "cannot allocate the mean pattern (%dx%d)", m, m);
    pty_dataset *sub = NULL;
    /* On the CPU the candidates run at once, each on a plan of one thread of
       its own: a candidate's passes over a few dozen central frames have sets
       of one window, which a plan of several threads shares out row by row
       at three barriers a position, slower than one thread (Siemens star:
       0.99 s on 2 threads against 0.80 on 1).  The search then also finds
       the same probe on any number of threads. */
    enum { N_GRID = 2 * N_SPOTS - 1 };
    pty_plan *plans[N_GRID] = {NULL};
    const int threads = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    const int n_plans = pty_backend_on_host(p->backend) && threads > 1 ? (threads < N_GRID ? threads : N_GRID) : 1;
    pty_cf *probes = malloc(N_GRID * npix * sizeof *probes);
    candidate grid[N_GRID], near[2];
    /* the plans of one thread would not try the threads the run asks for: the check they make */
    int rc = probes ? pty_threads_check(threads)
                    : pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d probes of %dx%d", N_GRID, m, m);
    if (rc == PTY_OK) rc = mean_modulus(d, modulus);
    const double radius = rc == PTY_OK ? pupil_radius(modulus, m) : 0.0;
    if (rc == PTY_OK) rc = central_subset(d, n_sub, &sub);
    pty_recon_params sp = *p;
    sp.n_modes = 1;
    sp.probe_start = 1;
    sp.center_probe = 0;
    if (n_plans > 1) sp.n_threads = 1;
    double t_plan = pty_now_s();
    for (int w = 0; w < n_plans && rc == PTY_OK; w++) rc = pty_plan_create(sub, &sp, NULL, &plans[w]);
    pty_log(PTY_LOG_DEBUG, "probe search: %d central frames, %d plan%s, %.3f s", n_sub, n_plans,
            n_plans > 1 ? "s" : "", pty_now_s() - t_plan);
    candidate best = {0, 1, INFINITY};
    int tried = 0, n_grid = 0, n_near = 0;
    for (int i = 0; i < N_SPOTS; i++)
        for (int sign = 1; sign >= (i ? -1 : 1); sign -= 2) grid[n_grid++] = (candidate){search_spots[i] * m, sign, 0};
    if (rc == PTY_OK) rc = try_candidates(plans, n_plans, modulus, m, radius, power, grid, n_grid, probes);
    if (rc == PTY_OK) keep_best(grid, n_grid, &best, &tried);
    /* one refinement: half a grid step either side of the best spot */
    const double half = 0.5 * (search_spots[1] - search_spots[0]) * m;
    for (int side = -1; side <= 1; side += 2) {
        const candidate c = {best.spot + side * half, best.sign, 0};
        if (c.spot >= 0.0 && c.spot <= (double)m) near[n_near++] = c;
    }
    if (rc == PTY_OK) rc = try_candidates(plans, n_plans, modulus, m, radius, power, near, n_near, probes);
    if (rc == PTY_OK) keep_best(near, n_near, &best, &tried);
    if (rc == PTY_OK && !isfinite(best.error))
        rc = pty_error_set(PTY_ERR_DIVERGED, "probe search: every candidate probe diverged on the central %d frames; "
                           "give a probe (--probe), a model (--probe-model) or a smaller --beta", n_sub);
    if (rc == PTY_OK) rc = pty_probe_pupil(modulus, m, radius, best.sign * pty_pupil_curvature(m, radius, best.spot), probe);
    if (rc == PTY_OK) rc = pty_probe_normalise(probe, npix, power);
    if (rc == PTY_OK) {
        rep->n_candidates = tried;
        if (best.spot > 0.0)
            snprintf(rep->how, sizeof rep->how,
                     "search: measured far-field modulus (pupil radius %.1f px) defocused to a %.1f px spot (%s); "
                     "error %.3e after %d iterations on %d frames, best of %d",
                     radius, best.spot, sign_name(best.sign), best.error, SEARCH_ITERATIONS, n_sub, tried);
        else
            snprintf(rep->how, sizeof rep->how,
                     "search: measured far-field modulus (pupil radius %.1f px) in focus; error %.3e after %d "
                     "iterations on %d frames, best of %d",
                     radius, best.error, SEARCH_ITERATIONS, n_sub, tried);
    }
    for (int w = 0; w < n_plans; w++) pty_plan_destroy(plans[w]);
    pty_dataset_destroy(sub);
    free(probes);
    free(modulus);
    return rc;
}

int pty_probe_guess(pty_dataset *d, const pty_probe_guess_options *o, const pty_recon_params *p,
                    pty_probe_guess_report *rep)
{
    memset(rep, 0, sizeof *rep);
    PTY_CHECK(o->model >= 0 && o->model < PTY_GUESS_N, PTY_ERR_ARG, "--probe-model: unknown model %d", o->model);
    const double t0 = pty_now_s();
    const int m = d->m;
    const size_t npix = (size_t)m * m;
    if (o->model == PTY_GUESS_AUTO && d->probe) {
        snprintf(rep->how, sizeof rep->how, "file: %d mode%s", d->probe_modes, d->probe_modes > 1 ? "s" : "");
        return PTY_OK;
    }
    const double diameter = o->diameter_px > 0 ? o->diameter_px : 0.5 * m;
    PTY_CHECK(o->model == PTY_GUESS_AUTO || o->model == PTY_GUESS_APERTURE || diameter <= 4.0 * m, PTY_ERR_ARG,
              "--probe-diameter %g is more than four windows (%d px) wide", diameter, m);
    pty_cf *probe = malloc(npix * sizeof *probe);
    PTY_CHECK(probe, PTY_ERR_NOMEM, "cannot allocate a %dx%d probe", m, m);
    const double power = pty_mean_frame_counts(d) / (double)npix;
    int rc = PTY_OK;
    const int model = o->model == PTY_GUESS_AUTO && !o->search ? PTY_GUESS_DATA : o->model;
    switch (model) {
    case PTY_GUESS_AUTO:
        rc = search(d, p, power, rep, probe);
        break;
    case PTY_GUESS_DATA:
        rc = pty_probe_from_data(d, diameter, probe);
        snprintf(rep->how, sizeof rep->how, "data: measured far-field modulus, phase of a %.1f px disc", diameter);
        break;
    case PTY_GUESS_DISC:
    case PTY_GUESS_GAUSS:
        rc = pty_probe_model(o->model == PTY_GUESS_DISC ? PTY_PROBE_DISC : PTY_PROBE_GAUSSIAN, m, diameter, power,
                             probe);
        snprintf(rep->how, sizeof rep->how, "%s of %.1f px", o->model == PTY_GUESS_DISC ? "disc" : "gauss (FWHM)",
                 diameter);
        break;
    case PTY_GUESS_APERTURE: {
        const double pix = d->pixel_size;
        rc = pty_probe_lens(&o->lens, m, d->wavelength, d->distance, d->detector_pixel, power, probe);
        if (rc == PTY_OK)
            snprintf(rep->how, sizeof rep->how,
                     "aperture: lens of %.4g m, focal length %.4g m, defocus %.4g m: spot %.1f px (%.3g m)",
                     o->lens.aperture_m, o->lens.focal_length_m, o->lens.defocus_m,
                     o->lens.aperture_m * fabs(o->lens.defocus_m) / o->lens.focal_length_m / pix,
                     o->lens.aperture_m * fabs(o->lens.defocus_m) / o->lens.focal_length_m);
        break;
    }
    default:
        break;
    }
    if (rc != PTY_OK) {
        free(probe);
        return rc;
    }
    if (d->probe && o->model != PTY_GUESS_AUTO)
        pty_info("--probe-model %s replaces the input's probe", pty_guess_names[o->model]);
    free(d->probe);
    d->probe = probe;
    d->probe_modes = 1;
    rep->seconds = pty_now_s() - t0;
    if (model == PTY_GUESS_AUTO) {
        const size_t len = strlen(rep->how);
        snprintf(rep->how + len, sizeof rep->how - len, ", %.2f s", rep->seconds);
    }
    return PTY_OK;
}
