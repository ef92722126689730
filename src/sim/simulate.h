/* simulate.h - simulated far-field ptychography scans with a known truth.
 *
 * Forward model of DESIGN.md §2: I_j = sum_k |F[P_k . O_j]|^2 (F unscaled),
 * averaged over sub-positions along the path for fly scans, detector-centred
 * (zero frequency at (m/2, m/2)), optional Poisson noise.  Positions are
 * exact (sub-pixel): each probe is shifted by the fractional part of its
 * window corner.  The same parameters and seed give the same bytes. */
#ifndef PTY_SIMULATE_H
#define PTY_SIMULATE_H

#include <stdint.h>

#include "geometry.h"
#include "object_model.h"
#include "probe_model.h"
#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_sim_params {
    int rows, cols;          /* raster size (default 16 x 16) */
    double step;             /* raster step, object pixels (8); 0: pty_sim_step's 70 % overlap */
    double jitter;           /* uniform in +-jitter pixels on each axis (0) */
    int jitter_whole;        /* jitter drawn from the whole numbers -J..J instead (0) */
    double position_error;   /* the file's positions err from the true ones (which made the frames and
                                stay in the ground truth) by a normal error of this RMS per axis, px (0) */
    int m;                   /* frame size (64) */
    pty_probe_kind probe;    /* PTY_PROBE_APERTURE */
    double probe_diameter;   /* pixels; <= 0 means 3m/8 */
    double probe_curvature;  /* gaussian, disc: wavefront phase at radius D/2, rad (a beam away from its
                                waist or focus is curved); < 0 means 3 for gaussian, 0 for disc */
    int modes;               /* incoherent probe modes K (1) */
    double mode_decay;       /* power of mode k over mode k-1 (0.5) */
    int fly_steps;           /* sub-positions per exposure (1 = step scan) */
    double fly_length;       /* pixels moved along columns during an exposure; <= 0 means step */
    double photons;          /* mean total counts per frame (1e6) */
    int poisson;             /* 1: Poisson noise (0) */
    pty_object_spec object;  /* star, phase_max 1 rad, magnitude_min 0.6 */
    double energy_ev;        /* 8000 eV */
    double distance_m;       /* 2.0 m */
    double detector_pixel_m; /* 75e-6 m */
    int pad;                 /* object margin around the windows, pixels (8) */
    uint64_t seed;           /* 1 */
} pty_sim_params;

/* The raster step used: p->step, or when it is 0 the step of 70 % overlap,
 * round(0.3 x the probe diameter) (the seed scan's ratio). */
double pty_sim_step(const pty_sim_params *p);

typedef struct pty_simulation {
    int n, m, modes;      /* frames, frame size, probe modes */
    float *frames;        /* n*m*m intensities, detector-centred */
    double *positions;    /* n*2 exact probe centres (row, col), pixels (exposure centre for fly scans) */
    pty_geometry geom;    /* object grid (holds every sub-position's window) */
    pty_cf *object;       /* geom.obj_h * geom.obj_w truth object */
    pty_cf *probe;        /* modes*m*m truth probe modes, centred, scaled to the photon count */
    double wavelength_m;  /* h c / E */
    double pixel_size_m;  /* object pixel size lambda z / (m p) */
    double mean_counts;   /* mean total counts per frame (after noise) */
    double diameter_px;   /* probe diameter used */
    double curvature_rad; /* wavefront phase at radius D/2 used (gaussian, disc; 0 for the aperture) */
    double fly_length_px; /* fly length used (0 for step scans) */
} pty_simulation;

/* The defaults above. */
void pty_sim_defaults(pty_sim_params *p);

/* Check the parameters; PTY_ERR_ARG with a message naming the flag. */
/* The raster alone (rows, cols, step, jitter, frame size), the part of
 * pty_sim_validate a command checks before the probe and object are known. */
int pty_sim_validate_raster(const pty_sim_params *p);
int pty_sim_validate(const pty_sim_params *p);

/* Run the simulation into *sim (free with pty_sim_free, also after a
 * failure).  Mean counts per frame equal p->photons before noise. */
int pty_sim_run(const pty_sim_params *p, pty_simulation *sim);
void pty_sim_free(pty_simulation *sim);

#ifdef __cplusplus
}
#endif
#endif /* PTY_SIMULATE_H */
