/* probe_guess.h - the first probe of a reconstruction: the file's, a model
 * of the optics, or the best of a short search.
 *
 * ePIE recovers the probe only from a start in the right basin: a flat
 * disc cannot find a defocused zone-plate beam whose Fresnel rings fill
 * the window (Fourier error stalls at 0.06 from iteration 30 on ptycho's
 * and an independent simulator's scans).  What the data fix is the far
 * field's modulus (the mean pattern is the pupil's intensity, smeared by
 * the object); what they leave open is the pupil's phase, above all its
 * defocus.  So the search keeps the measured modulus and tries defocus
 * phases of both signs, a few iterations each on a central subset of the
 * scan, and keeps the one with the lowest Fourier error. */
#ifndef PTY_PROBE_GUESS_H
#define PTY_PROBE_GUESS_H

#include "dataset.h"
#include "engine.h"
#include "probe_model.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PTY_GUESS_AUTO = 0,  /* the file's probe; without one, a search (or `data` when search is off) */
    PTY_GUESS_DATA,      /* measured far-field modulus with the phase of a soft disc of diameter_px (before 0.2 the only start) */
    PTY_GUESS_DISC,      /* flat real-space disc of diameter_px */
    PTY_GUESS_GAUSS,     /* real Gaussian of FWHM diameter_px */
    PTY_GUESS_APERTURE,  /* a lens of given aperture, focal length and defocus (pty_lens_pupil) */
    PTY_GUESS_N
};
/* Their names for --probe-model, indexed by PTY_GUESS_*. */
extern const char *const pty_guess_names[PTY_GUESS_N];

typedef struct pty_probe_guess_options {
    int model;          /* PTY_GUESS_* */
    int search;         /* 1: search when model is auto and the input has no probe */
    double diameter_px; /* data, disc, gauss: size in object pixels (<= 0: m/2) */
    pty_lens lens;      /* aperture */
} pty_probe_guess_options;

void pty_probe_guess_options_default(pty_probe_guess_options *o);

/* What was chosen, for the progress header and the result file. */
typedef struct pty_probe_guess_report {
    char how[320];      /* e.g. "search: measured modulus, defocus for a 38 px spot (converging), ..." */
    double seconds;
    int n_candidates;   /* tried by the search (0 otherwise) */
} pty_probe_guess_report;

/* Give d a first probe mode (d->probe, one mode, power = mean counts / m^2)
 * unless it has one and no model was asked for.  The search runs one plan
 * of `p` (one mode, no centring; backend, threads and order as `p`) on the
 * frames nearest the scan's centre, sized to cost about a tenth of 100
 * iterations of the whole scan.  Messages name the flag at fault. */
int pty_probe_guess(pty_dataset *d, const pty_probe_guess_options *o, const pty_recon_params *p,
                    pty_probe_guess_report *rep);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PROBE_GUESS_H */
