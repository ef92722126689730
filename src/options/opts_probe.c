/* opts_probe.c - the first-probe block (pty_probe_guess_options): a model,
 * the search, and the lens of the aperture model. */
#include "opts.h"
#include "pty_error.h"

/* The lens flags describe the aperture model, which needs two of them. */
static int check_probe(void *ctx)
{
    const pty_probe_guess_options *g = ctx;
    const pty_lens *lens = &g->lens;
    const int lens_given = lens->aperture_m > 0 || lens->focal_length_m > 0 || lens->defocus_m != 0;
    PTY_CHECK(g->model == PTY_GUESS_APERTURE || !lens_given, PTY_ERR_ARG,
              "--probe-aperture, --probe-focal-length and --probe-defocus describe --probe-model aperture");
    PTY_CHECK(g->model != PTY_GUESS_APERTURE || (lens->aperture_m > 0 && lens->focal_length_m > 0), PTY_ERR_ARG,
              "--probe-model aperture needs --probe-aperture and --probe-focal-length (and --probe-defocus, default 0: in focus)");
    return PTY_OK;
}

void pty_opts_probe(pty_opt_block *b, pty_probe_guess_options *g)
{
    const pty_option table[] = {
        PTY_CHOICE("probe-model", &g->model, pty_guess_names, PTY_GUESS_N, "first probe: auto (the file's; without one, a search) | data (measured far-field modulus, phase of a disc of --probe-diameter) | disc | gauss (real, --probe-diameter wide: diameter, FWHM) | aperture (a lens: --probe-aperture, --probe-focal-length, --probe-defocus) (default auto)"),
        PTY_CHOICE("probe-search", &g->search, pty_on_off_names, 2, "on|off: with no probe in the file and no --probe-model, try defocus phases of both signs on the measured modulus, a few iterations each on the central frames, and keep the best (default on; off: --probe-model data)"),
        PTY_OPT("probe-diameter", PTY_OPT_DOUBLE, &g->diameter_px, 0, 1e5, "size of the data/disc/gauss first probe, object pixels (default M/2)"),
        PTY_OPT("probe-aperture", PTY_OPT_DOUBLE, &g->lens.aperture_m, 1e-9, 1.0, "--probe-model aperture: lens (zone plate, KB acceptance) diameter A, m; its far field is a disc of radius A z / (2 f p) detector pixels (no default)"),
        PTY_OPT("probe-focal-length", PTY_OPT_DOUBLE, &g->lens.focal_length_m, 1e-6, 1e3, "--probe-model aperture: focal length f, m (no default)"),
        PTY_OPT("probe-defocus", PTY_OPT_DOUBLE, &g->lens.defocus_m, -1e3, 1e3, "--probe-model aperture: focus-to-sample distance dz, m, > 0 when the sample is downstream of the focus; the beam is A |dz| / f wide, its pupil phase -pi dz (q p)^2 / (lambda z^2)"),
    };
    PTY_OPT_BLOCK(b, "first probe", table, check_probe, g);
}
