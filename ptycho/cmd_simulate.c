/* cmd_simulate.c - `ptycho simulate`: write a simulated scan (CXI) with its
 * ground truth.
 *
 * Parses the flags into pty_sim_params, runs the simulator and the CXI
 * writer, and prints a short summary (frames, object size, pixel size,
 * overlap, photons). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "commands.h"
#include "pty_error.h"
#include "sim_cxi.h"
#include "staging.h"
#include "simulate.h"

static const char *simulate_synopsis = "--output FILE.cxi [options]";

int pty_cmd_simulate(int argc, char **argv)
{
    pty_sim_params p;
    pty_sim_defaults(&p);
    const char *output = NULL, *probe = "aperture", *noise = "none", *object = "star";
    const pty_option opts[] = {
        PTY_OPT("output", PTY_OPT_STRING, &output, 1, 0, "CXI file to write (required)"),
        PTY_OPT("jitter", PTY_OPT_DOUBLE, &p.jitter, 1, 0, "random offset, uniform in +-jitter object pixels per axis (default 0)"),
        PTY_OPT("position-error", PTY_OPT_DOUBLE, &p.position_error, 1, 0, "the file's positions err from the true ones (which made the frames and stay in /entry_1/ground_truth/positions_px) by a normal error of this RMS per axis, pixels (default 0)"),
        PTY_OPT("jitter-whole-pixels", PTY_OPT_FLAG, &p.jitter_whole, 1, 0, "draw the jitter from the whole numbers -J..J (positions stay on the pixel grid)"),
        PTY_OPT("probe", PTY_OPT_STRING, &probe, 1, 0, "probe model: aperture (defocused lens: --probe-diameter is its geometric spot) | gaussian | disc (default aperture)"),
        PTY_OPT("probe-diameter", PTY_OPT_DOUBLE, &p.probe_diameter, 1, 4096, "probe diameter, object pixels, up to the frame; aperture: geometric spot, gaussian: FWHM (default 3m/8)"),
        PTY_OPT("probe-curvature", PTY_OPT_DOUBLE, &p.probe_curvature, 0, 100, "gaussian, disc: wavefront phase at the FWHM / edge radius, rad: a beam away from its waist (default 3 for gaussian, 0 for disc; a flat Gaussian on the star stagnates in any ePIE, see README)"),
        PTY_OPT("modes", PTY_OPT_INT, &p.modes, 1, 0, "incoherent probe modes K (default 1)"),
        PTY_OPT("mode-decay", PTY_OPT_DOUBLE, &p.mode_decay, 1, 0, "power of mode k relative to mode k-1 (default 0.5)"),
        PTY_OPT("fly-steps", PTY_OPT_INT, &p.fly_steps, 1, 0, "sub-positions per exposure; >1 simulates a fly scan along the columns (default 1)"),
        PTY_OPT("fly-length", PTY_OPT_DOUBLE, &p.fly_length, 1, 0, "distance moved during one exposure, object pixels (default: the step)"),
        PTY_OPT("photons", PTY_OPT_DOUBLE, &p.photons, 1, 0, "mean total counts per frame (default 1e6)"),
        PTY_OPT("noise", PTY_OPT_STRING, &noise, 1, 0, "none|poisson (default none)"),
        PTY_OPT("object", PTY_OPT_STRING, &object, 1, 0, "star (built-in Siemens star) | tiff (default star)"),
        PTY_OPT("object-magnitude", PTY_OPT_STRING, &p.object.magnitude_path, 1, 0, "grayscale TIFF for the magnitude (with --object tiff)"),
        PTY_OPT("object-phase", PTY_OPT_STRING, &p.object.phase_path, 1, 0, "grayscale TIFF for the phase (with --object tiff)"),
        PTY_OPT("phase-max", PTY_OPT_DOUBLE, &p.object.phase_max, 1, 0, "object phase range [0, phase-max], rad (default 1.0)"),
        PTY_OPT("magnitude-min", PTY_OPT_DOUBLE, &p.object.magnitude_min, 1, 0, "object magnitude range [magnitude-min, 1] (default 0.6)"),
        PTY_OPT("energy", PTY_OPT_DOUBLE, &p.energy_ev, 1, 0, "photon energy, eV (default 8000)"),
        PTY_OPT("distance", PTY_OPT_DOUBLE, &p.distance_m, 1, 0, "sample-detector distance, m (default 2.0)"),
        PTY_OPT("detector-pixel", PTY_OPT_DOUBLE, &p.detector_pixel_m, 1, 0, "detector pixel size, m (default 75e-6)"),
        PTY_OPT("pad", PTY_OPT_INT, &p.pad, 1, 0, "object margin around the scanned windows, pixels (default 8)"),
        PTY_OPT("seed", PTY_OPT_U64, &p.seed, 0, 18446744073709551615.0, "random seed (jitter, noise); same seed = same file (default 1)"),
    };
    /* Ranges are the library's (pty_sim_validate, after all flags are parsed), stated once.  The
       table keeps two: --probe-diameter and --probe-curvature below 0 are the library's "from the
       frame" and "from the model", which a typed value must not reach by mistake. */
    pty_opt_block blocks[2];
    pty_opts_scan(&blocks[0], &p);
    PTY_OPT_BLOCK(&blocks[1], "simulation", opts, NULL, NULL);
    const char *pos[1];
    int n_pos = 0;
    PTY_TRY(pty_args_parse("simulate", simulate_synopsis, argc, argv, 2, blocks, 2, pos, 0, &n_pos));
    PTY_CHECK(output, PTY_ERR_ARG, "ptycho simulate: --output FILE.cxi is required (see 'ptycho simulate --help')");
    PTY_TRY(pty_probe_kind_parse(probe, &p.probe));
    PTY_TRY(pty_object_kind_parse(object, &p.object.kind));
    if (strcmp(noise, "none") == 0) p.poisson = 0;
    else if (strcmp(noise, "poisson") == 0) p.poisson = 1;
    else return pty_error_set(PTY_ERR_ARG, "--noise must be one of none|poisson, got '%s'", noise);
    if (p.object.kind != PTY_OBJECT_TIFF && (p.object.magnitude_path || p.object.phase_path))
        return pty_error_set(PTY_ERR_ARG, "--object-magnitude and --object-phase need --object tiff");
    int rc = pty_sim_validate(&p);
    if (rc != PTY_OK) {
        pty_error_context("ptycho simulate");
        return rc;
    }
    PTY_TRY(pty_stage_lock(output)); /* before a long simulation: the directory takes files, no other run writes there */

    pty_simulation sim;
    rc = pty_sim_run(&p, &sim);
    if (rc == PTY_OK) rc = pty_sim_write_cxi(output, &p, &sim);
    if (rc == PTY_OK) {
        const double step = pty_sim_step(&p);
        double overlap = 100.0 * (1.0 - step / sim.diameter_px);
        printf("simulated %d frames (%d x %d raster, step %g px, jitter %g px) of %dx%d -> %s\n", sim.n, p.rows,
               p.cols, step, p.jitter, sim.m, sim.m, output);
        printf("  object %d x %d px, pixel size %.4g nm, probe %s %.4g px, %d mode%s%s\n", sim.geom.obj_h,
               sim.geom.obj_w, sim.pixel_size_m * 1e9, pty_probe_kind_name(p.probe), sim.diameter_px, sim.modes,
               sim.modes == 1 ? "" : "s", p.fly_steps > 1 ? ", fly scan" : "");
        printf("  overlap %.0f%% (1 - step/diameter), mean %.4g photons/frame (%s noise)\n",
               overlap > 0 ? overlap : 0.0, sim.mean_counts, p.poisson ? "Poisson" : "no");
        if (p.fly_steps > 1)
            printf("  fly scan: %d sub-positions over %.4g px per exposure\n", p.fly_steps, sim.fly_length_px);
    }
    pty_sim_free(&sim);
    return rc;
}
