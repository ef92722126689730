/* simulate.c - far-field frames from a truth object and truth probe modes.
 *
 * Probe spectra are computed once; each (frame, sub-position) shifts them by
 * the fractional part of the window corner with a phase ramp, so positions
 * are exact.  Frames are independent, so OpenMP splits them over threads and
 * Poisson noise draws from one stream per frame: the bytes do not depend on
 * the thread count. */
#include "simulate.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "dataset.h"
#include "modes.h"
#include "pty_error.h"
#include "rng.h"

#define PTY_SIM_MAX_MODES 32

void pty_sim_defaults(pty_sim_params *p)
{
    memset(p, 0, sizeof *p);
    p->rows = p->cols = 16;
    p->step = 8.0;
    p->m = 64;
    p->probe = PTY_PROBE_APERTURE;
    p->modes = 1;
    p->mode_decay = 0.5;
    p->fly_steps = 1;
    p->photons = 1e6;
    p->object.kind = PTY_OBJECT_STAR;
    p->object.phase_max = 1.0;
    p->object.magnitude_min = 0.6;
    p->energy_ev = 8000.0;
    p->distance_m = 2.0;
    p->detector_pixel_m = 75e-6;
    p->pad = 8;
    p->seed = 1;
    p->probe_curvature = -1.0;
}

/* A flat (real) Gaussian on the built-in star stagnates in every ePIE, ours
 * and an independent numpy one, even with the true probe held fixed (NRMSE
 * 0.41, 0.44): a real symmetric probe makes the far field of the star's
 * nearly binary phase almost centrosymmetric, so the object and its
 * conjugate explain the data equally well and ePIE mixes the two.  Beams
 * at a beamline are curved away from their waist; 3 rad at the FWHM radius
 * breaks the symmetry: true probe held fixed 0.0099, default start 0.022
 * (100 iterations; 2 rad: 0.048, 0.051). */
static double curvature_of(const pty_sim_params *p)
{
    if (p->probe == PTY_PROBE_APERTURE) return 0.0;
    if (p->probe_curvature >= 0) return p->probe_curvature;
    return p->probe == PTY_PROBE_GAUSSIAN ? 3.0 : 0.0;
}

static double diameter_of(const pty_sim_params *p) { return p->probe_diameter > 0 ? p->probe_diameter : 3.0 * p->m / 8.0; }

double pty_sim_step(const pty_sim_params *p) { return p->step > 0 ? p->step : round(0.3 * diameter_of(p)); }

int pty_sim_validate_raster(const pty_sim_params *p)
{
    PTY_CHECK(p->rows >= 1 && p->cols >= 1 && p->rows <= 100000 && p->cols <= 100000, PTY_ERR_ARG,
              "--rows %d and --cols %d must lie in [1, 100000]", p->rows, p->cols);
    PTY_CHECK((double)p->rows * p->cols <= 1e7, PTY_ERR_ARG, "--rows %d x --cols %d is more than 1e7 frames",
              p->rows, p->cols);
    PTY_CHECK(p->step == 0 || (p->step >= 1e-3 && p->step <= 1e5), PTY_ERR_ARG,
              "--step %g must be 0 (70 %% overlap) or lie in [0.001, 1e5] pixels", p->step);
    PTY_CHECK(p->jitter >= 0 && p->jitter <= 1e5, PTY_ERR_ARG, "--jitter %g must lie in [0, 1e5] pixels", p->jitter);
    PTY_CHECK(p->position_error >= 0 && p->position_error <= 1e3, PTY_ERR_ARG,
              "--position-error %g must lie in [0, 1000] pixels", p->position_error);
    PTY_CHECK(p->m >= 16 && p->m <= 4096, PTY_ERR_ARG, "--frame %d must lie in [16, 4096] pixels", p->m);
    return PTY_OK;
}

int pty_sim_validate(const pty_sim_params *p)
{
    PTY_TRY(pty_sim_validate_raster(p));
    double d = diameter_of(p);
    PTY_CHECK(d >= 1.0 && d <= p->m, PTY_ERR_ARG, "--probe-diameter %g must lie in [1, --frame %d] pixels", d, p->m);
    PTY_CHECK(p->probe_curvature < 0 || (isfinite(p->probe_curvature) && p->probe_curvature <= 100), PTY_ERR_ARG,
              "--probe-curvature %g must lie in [0, 100] rad", p->probe_curvature);
    PTY_CHECK(p->probe_curvature < 0 || p->probe != PTY_PROBE_APERTURE, PTY_ERR_ARG,
              "--probe-curvature applies to --probe gaussian and disc (an aperture's defocus sets its own)");
    PTY_CHECK(p->modes >= 1 && p->modes <= PTY_SIM_MAX_MODES, PTY_ERR_ARG, "--modes %d must lie in [1, %d]",
              p->modes, PTY_SIM_MAX_MODES);
    PTY_CHECK(p->mode_decay > 0 && p->mode_decay <= 1, PTY_ERR_ARG, "--mode-decay %g must lie in (0, 1]",
              p->mode_decay);
    PTY_CHECK(p->fly_steps >= 1 && p->fly_steps <= 1000, PTY_ERR_ARG, "--fly-steps %d must lie in [1, 1000]",
              p->fly_steps);
    PTY_CHECK(p->fly_length >= 0 && p->fly_length <= 1e5, PTY_ERR_ARG, "--fly-length %g must lie in [0, 1e5] pixels",
              p->fly_length);
    PTY_CHECK(p->photons >= 1e-3 && p->photons <= 1e15, PTY_ERR_ARG, "--photons %g must lie in [0.001, 1e15]",
              p->photons);
    PTY_CHECK(p->energy_ev >= 1 && p->energy_ev <= 1e7, PTY_ERR_ARG, "--energy %g must lie in [1, 1e7] eV", p->energy_ev);
    PTY_CHECK(p->distance_m >= 1e-6 && p->distance_m <= 1e3, PTY_ERR_ARG, "--distance %g must lie in [1e-6, 1000] m",
              p->distance_m);
    PTY_CHECK(p->detector_pixel_m >= 1e-9 && p->detector_pixel_m <= 1, PTY_ERR_ARG,
              "--detector-pixel %g must lie in [1e-9, 1] m", p->detector_pixel_m);
    PTY_CHECK(p->pad >= 0 && p->pad <= 4096, PTY_ERR_ARG, "--pad %d must lie in [0, 4096] pixels", p->pad);
    PTY_CHECK(p->object.phase_max >= 0 && p->object.phase_max <= 1e3, PTY_ERR_ARG,
              "--phase-max %g must lie in [0, 1000] rad", p->object.phase_max);
    PTY_CHECK(p->object.magnitude_min >= 0 && p->object.magnitude_min <= 1, PTY_ERR_ARG,
              "--magnitude-min %g must lie in [0, 1]", p->object.magnitude_min);
    if (p->object.kind == PTY_OBJECT_TIFF)
        PTY_CHECK(p->object.magnitude_path && p->object.phase_path, PTY_ERR_ARG,
                  "--object tiff needs both --object-magnitude FILE and --object-phase FILE");
    return PTY_OK;
}

/* Exponents (a, b) of the k-th monomial x^a y^b of degree >= 1, in order
 * x, y, x^2, xy, y^2, x^3, ... */
static void monomial(int k, int *a, int *b)
{
    int n = 1;
    while (k > n + 1) {
        k -= n + 1;
        n++;
    }
    *a = n - (k - 1);
    *b = k - 1;
}

/* Truth modes: mode 0 from the model; mode k >= 1 is mode 0 times a
 * low-order polynomial of the probe coordinates (with a wide Gaussian taper
 * so the tails stay small), all orthogonalised, then set to powers
 * proportional to decay^k with total power 1. */
static int make_modes(const pty_sim_params *p, double diameter, pty_cf *probe)
{
    const int m = p->m, K = p->modes;
    const size_t npix = (size_t)m * m;
    PTY_TRY(pty_probe_model(p->probe, m, diameter, 1.0, probe));
    const double curve = curvature_of(p), r_edge = 0.5 * diameter;
    if (curve != 0.0)
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++) {
                const double q = ((double)(r - m / 2) * (r - m / 2) + (double)(c - m / 2) * (c - m / 2)) / (r_edge * r_edge);
                probe[(size_t)r * m + c] = pty_cmul(probe[(size_t)r * m + c],
                                                   pty_cf_make((float)cos(curve * q), (float)sin(curve * q)));
            }
    if (K == 1) return PTY_OK;
    const double s = 0.5 * diameter;
    double want[PTY_SIM_MAX_MODES], got[PTY_SIM_MAX_MODES], total = 0.0;
    for (int k = 0; k < K; k++) total += want[k] = pow(p->mode_decay, k);
    for (int k = 1; k < K; k++) {
        int a, b;
        monomial(k, &a, &b);
        pty_cf *mode = probe + (size_t)k * npix;
        double power = 0.0;
        for (int r = 0; r < m; r++)
            for (int c = 0; c < m; c++) {
                double x = (c - m / 2) / s, y = (r - m / 2) / s;
                double f = pow(x, a) * pow(y, b) * exp(-0.25 * (x * x + y * y));
                pty_cf z = probe[(size_t)r * m + c];
                mode[(size_t)r * m + c] = pty_cf_make((float)(f * z.re), (float)(f * z.im));
                power += f * f * pty_cabs2(z);
            }
        float g = (float)sqrt(want[k] / power);
        for (size_t i = 0; i < npix; i++) mode[i] = pty_cf_make(mode[i].re * g, mode[i].im * g);
    }
    PTY_TRY(pty_modes_orthogonalize(probe, K, npix, got));
    for (int k = 0; k < K; k++) {
        PTY_CHECK(got[k] > 0, PTY_ERR_DATA, "probe mode %d has no power (--probe-diameter too small?)", k);
        float g = (float)sqrt(want[k] / total / got[k]);
        for (size_t i = 0; i < npix; i++) probe[k * npix + i] = pty_cf_make(probe[k * npix + i].re * g, probe[k * npix + i].im * g);
    }
    return PTY_OK;
}

/* Raster positions plus jitter, and the sub-positions of each exposure. */
static void make_positions(const pty_sim_params *p, double fly, double *pos, double *sub)
{
    pty_rng rng;
    pty_rng_seed(&rng, p->seed);
    const int ns = p->fly_steps;
    const double step = pty_sim_step(p);
    for (int i = 0; i < p->rows; i++)
        for (int j = 0; j < p->cols; j++) {
            double *q = pos + 2 * ((size_t)i * p->cols + j);
            q[0] = i * step;
            q[1] = j * step;
            if (p->jitter > 0 && p->jitter_whole) {
                /* on the pixel grid, where a reconstruction that rounds
                   positions has no model error */
                int span = 2 * (int)p->jitter + 1;
                q[0] += (int)(pty_rng_uniform(&rng) * span) - (int)p->jitter;
                q[1] += (int)(pty_rng_uniform(&rng) * span) - (int)p->jitter;
            } else if (p->jitter > 0) {
                q[0] += p->jitter * (2.0 * pty_rng_uniform(&rng) - 1.0);
                q[1] += p->jitter * (2.0 * pty_rng_uniform(&rng) - 1.0);
            }
            /* the midpoints of ns equal parts of the path, centred on q */
            for (int s = 0; s < ns; s++) {
                double *t = sub + 2 * (((size_t)i * p->cols + j) * ns + s);
                t[0] = q[0];
                t[1] = q[1] + (ns > 1 ? fly * ((s + 0.5) / ns - 0.5) : 0.0);
            }
        }
}

typedef struct {
    const pty_simulation *sim;
    const pty_cf *spectra; /* K*m*m FFT of each mode */
    const double *sub;     /* n*ns*2 sub-positions */
    int ns;
    fftwf_plan fwd, inv;
} frame_job;

/* Frame j, noise-free, unscaled, detector-centred, into out (m*m). */
static int one_frame(const frame_job *job, int j, fftwf_complex *shifted, fftwf_complex *psi, float *acc,
                     float *out)
{
    const pty_simulation *sim = job->sim;
    const int m = sim->m, K = sim->modes, W = sim->geom.obj_w;
    const size_t npix = (size_t)m * m;
    const float inv_n = 1.0f / (float)npix;
    memset(acc, 0, npix * sizeof *acc);
    for (int s = 0; s < job->ns; s++) {
        double corner[2];
        pty_geometry_corner(&sim->geom, job->sub + 2 * ((size_t)j * job->ns + s), m, corner);
        int w0[2];
        double frac[2];
        const int lim[2] = {sim->geom.obj_h - m, sim->geom.obj_w - m};
        for (int a = 0; a < 2; a++) {
            w0[a] = (int)floor(corner[a]);
            if (w0[a] < 0) w0[a] = 0; /* rounding at the edge of the grid */
            if (w0[a] > lim[a]) w0[a] = lim[a];
            frac[a] = corner[a] - w0[a];
        }
        for (int k = 0; k < K; k++) {
            memcpy(shifted, job->spectra + k * npix, npix * sizeof *shifted);
            PTY_TRY(pty_probe_phase_ramp((pty_cf *)shifted, m, frac[0], frac[1]));
            fftwf_execute_dft(job->inv, shifted, shifted);
            for (int r = 0; r < m; r++) {
                const pty_cf *o = sim->object + (size_t)(w0[0] + r) * W + w0[1];
                for (int c = 0; c < m; c++) {
                    size_t i = (size_t)r * m + c;
                    pty_cf pr = pty_cf_make(shifted[i][0] * inv_n, shifted[i][1] * inv_n);
                    pty_cf z = pty_cmul(pr, o[c]);
                    psi[i][0] = z.re;
                    psi[i][1] = z.im;
                }
            }
            fftwf_execute_dft(job->fwd, psi, psi);
            for (size_t i = 0; i < npix; i++) acc[i] += psi[i][0] * psi[i][0] + psi[i][1] * psi[i][1];
        }
    }
    /* average over sub-positions, and move zero frequency to (m/2, m/2) */
    const float inv_s = 1.0f / (float)job->ns;
    for (int u = 0; u < m; u++)
        for (int v = 0; v < m; v++)
            out[(size_t)((u + m / 2) % m) * m + (v + m / 2) % m] = acc[(size_t)u * m + v] * inv_s;
    return PTY_OK;
}

/* All frames, in parallel over frames with per-thread buffers. */
static int all_frames(const frame_job *job)
{
    const pty_simulation *sim = job->sim;
    const size_t npix = (size_t)sim->m * sim->m;
    int rc = PTY_OK;
#pragma omp parallel
    {
        fftwf_complex *shifted = fftwf_alloc_complex(npix), *psi = fftwf_alloc_complex(npix);
        float *acc = malloc(npix * sizeof *acc);
        int mine = shifted && psi && acc ? PTY_OK : PTY_ERR_NOMEM;
#pragma omp for schedule(dynamic, 4)
        for (int j = 0; j < sim->n; j++)
            if (mine == PTY_OK) mine = one_frame(job, j, shifted, psi, acc, sim->frames + (size_t)j * npix);
        if (mine != PTY_OK) {
#pragma omp critical(pty_sim_error)
            rc = mine;
        }
        fftwf_free(shifted);
        fftwf_free(psi);
        free(acc);
    }
    if (rc == PTY_ERR_NOMEM) return pty_error_set(rc, "cannot allocate simulation buffers (%dx%d)", sim->m, sim->m);
    return rc;
}

static void poisson_noise(const pty_sim_params *p, pty_simulation *sim)
{
    const size_t npix = (size_t)sim->m * sim->m;
#pragma omp parallel for schedule(dynamic, 4)
    for (int j = 0; j < sim->n; j++) {
        pty_rng rng; /* one stream per frame: same bytes for any thread count */
        pty_rng_seed(&rng, p->seed + 0x632be59bd9b4e019ULL * (uint64_t)(j + 1));
        float *f = sim->frames + (size_t)j * npix;
        for (size_t i = 0; i < npix; i++) f[i] = (float)pty_rng_poisson(&rng, f[i]);
    }
}

int pty_sim_run(const pty_sim_params *p, pty_simulation *sim)
{
    memset(sim, 0, sizeof *sim);
    PTY_TRY(pty_sim_validate(p));
    const int m = p->m, K = p->modes, ns = p->fly_steps, n = p->rows * p->cols;
    const size_t npix = (size_t)m * m;
    sim->n = n;
    sim->m = m;
    sim->modes = K;
    sim->diameter_px = diameter_of(p);
    sim->curvature_rad = curvature_of(p);
    sim->fly_length_px = ns > 1 ? (p->fly_length > 0 ? p->fly_length : pty_sim_step(p)) : 0.0;
    /* lambda = h c / E (CODATA exact h, c, e) */
    sim->wavelength_m = PTY_HC_J_M / (p->energy_ev * PTY_EV_J);
    sim->pixel_size_m = pty_object_pixel_size(sim->wavelength_m, p->distance_m, m, p->detector_pixel_m);

    double *sub = malloc((size_t)n * ns * 2 * sizeof *sub);
    sim->positions = malloc((size_t)n * 2 * sizeof *sim->positions);
    sim->probe = malloc(K * npix * sizeof *sim->probe);
    sim->frames = malloc((size_t)n * npix * sizeof *sim->frames);
    pty_cf *spectra = fftwf_malloc(K * npix * sizeof *spectra);
    fftwf_complex *plan_buf = fftwf_alloc_complex(npix);
    frame_job job = {sim, spectra, sub, ns, NULL, NULL};
    int rc = PTY_OK;
    if (!sub || !sim->positions || !sim->probe || !sim->frames || !spectra || !plan_buf) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frames of %dx%d (%.2f GiB)", n, m, m,
                           (double)n * npix * sizeof(float) / 1073741824.0);
        goto done;
    }
    make_positions(p, sim->fly_length_px, sim->positions, sub);
    /* the object grid holds every sub-position's window */
    if ((rc = pty_geometry_create(sub, n * ns, m, p->pad, &sim->geom)) != PTY_OK) goto done;
    const size_t nobj = (size_t)sim->geom.obj_h * sim->geom.obj_w;
    if (!(sim->object = malloc(nobj * sizeof *sim->object))) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate a %dx%d object", sim->geom.obj_h, sim->geom.obj_w);
        goto done;
    }
    if ((rc = pty_object_model(&p->object, sim->geom.obj_h, sim->geom.obj_w, sim->object)) != PTY_OK) goto done;
    if ((rc = make_modes(p, sim->diameter_px, sim->probe)) != PTY_OK) goto done;

    job.fwd = fftwf_plan_dft_2d(m, m, plan_buf, plan_buf, FFTW_FORWARD, FFTW_ESTIMATE);
    job.inv = fftwf_plan_dft_2d(m, m, plan_buf, plan_buf, FFTW_BACKWARD, FFTW_ESTIMATE);
    if (!job.fwd || !job.inv) {
        rc = pty_error_set(PTY_ERR_FFT, "FFTW could not plan %dx%d transforms", m, m);
        goto done;
    }
    for (int k = 0; k < K; k++) {
        memcpy(plan_buf, sim->probe + k * npix, npix * sizeof *spectra);
        fftwf_execute(job.fwd);
        memcpy(spectra + k * npix, plan_buf, npix * sizeof *spectra);
    }
    if ((rc = all_frames(&job)) != PTY_OK) goto done;

    /* the probe was made with unit power: scale it and the frames so the
       mean frame holds `photons` counts (sum_q |F psi|^2 = N sum_r |psi|^2) */
    double total = 0.0;
    for (size_t i = 0; i < (size_t)n * npix; i++) total += sim->frames[i];
    if (!(total > 0.0) || !isfinite(total)) {
        rc = pty_error_set(PTY_ERR_DATA, "simulated frames hold no intensity (object magnitude all zero?)");
        goto done;
    }
    const double scale = p->photons * n / total;
    for (size_t i = 0; i < (size_t)n * npix; i++) sim->frames[i] = (float)(sim->frames[i] * scale);
    const float g = (float)sqrt(scale);
    for (size_t i = 0; i < K * npix; i++) sim->probe[i] = pty_cf_make(sim->probe[i].re * g, sim->probe[i].im * g);
    if (p->poisson) poisson_noise(p, sim);
    total = 0.0;
    for (size_t i = 0; i < (size_t)n * npix; i++) total += sim->frames[i];
    sim->mean_counts = total / n;
done:
    if (job.fwd) fftwf_destroy_plan(job.fwd);
    if (job.inv) fftwf_destroy_plan(job.inv);
    fftwf_free(plan_buf);
    fftwf_free(spectra);
    free(sub);
    return rc;
}

void pty_sim_free(pty_simulation *sim)
{
    if (!sim) return;
    free(sim->frames);
    free(sim->positions);
    free(sim->object);
    free(sim->probe);
    pty_geometry_free(&sim->geom);
    memset(sim, 0, sizeof *sim);
}
