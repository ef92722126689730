/* cmd_recon.c - `ptycho recon`: read a scan, run ePIE with K probe modes,
 * write the HDF5 result and TIFF images.  Inputs and the output directory
 * are checked before any iteration runs, so a mistake costs seconds. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "cxi_read.h"
#include "engine.h"
#include "modes.h"
#include "pty_error.h"
#include "pty_log.h"
#include "result_write.h"

static const char *recon_synopsis = "--input FILE [--output PREFIX] [options]";

typedef struct progress_state {
    int quiet;
    int total;
    int every;
    double elapsed;
} progress_state;

static int print_progress(void *user, int iter, int n_iter, double error, double seconds)
{
    progress_state *s = user;
    (void)n_iter;
    s->elapsed += seconds;
    int done = iter + 1;
    if (s->quiet || (done % s->every != 0 && done != s->total && done != 1)) return 0;
    double per = s->elapsed / done;
    printf("iter %5d/%d | err %.4e | %8.1f ms/it | ETA %6.1f s\n", done, s->total, error, 1e3 * per,
           per * (s->total - done));
    fflush(stdout);
    return 0;
}

/* Fail early when the directory of `prefix` cannot take our files: try to
 * create a file there (access() would say yes to root on a read-only mount). */
static int check_output_dir(const char *prefix)
{
    char buf[4096], probe[4200];
    PTY_CHECK(strlen(prefix) < sizeof buf - 64, PTY_ERR_ARG, "--output path too long");
    strcpy(buf, prefix);
    const char *dir = dirname(buf);
    snprintf(probe, sizeof probe, "%s.write-test.tmp", prefix);
    FILE *f = fopen(probe, "w");
    if (!f) return pty_error_set(PTY_ERR_IO, "cannot write to output directory '%s' (%s)", dir, strerror(errno));
    fclose(f);
    remove(probe);
    return PTY_OK;
}

static int parse_choice(const char *flag, const char *value, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(value, names[i]) == 0) {
            *out = i;
            return PTY_OK;
        }
    return pty_error_set(PTY_ERR_ARG, "ptycho recon: --%s must be one of %s%s%s%s%s, got '%s'", flag, names[0],
                         n > 1 ? "|" : "", n > 1 ? names[1] : "", n > 2 ? "|" : "", n > 2 ? names[2] : "", value);
}

static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(s, argv[i]);
        if (i + 1 < argc) strcat(s, " ");
    }
    return s;
}

int pty_cmd_recon(int argc, char **argv)
{
    pty_read_options ro;
    pty_read_options_default(&ro);
    pty_recon_params p;
    pty_recon_params_default(&p);
    const char *input = NULL, *output = "ptycho_recon", *positions_px = NULL;
    const char *backend = "auto", *obj_norm = "global";
    int iterations = 100, quiet = 0, no_tiff = 0, every = 0;
    double rpie = -1.0;

    const pty_option opts[] = {
        {"input", PTY_OPT_STRING, &input, 1, 0, "input CXI/HDF5 file (or give it as the first argument)"},
        {"output", PTY_OPT_STRING, &output, 1, 0, "output prefix: PREFIX.h5 and PREFIX_*.tif (default ptycho_recon)"},
        {"frames", PTY_OPT_STRING, &ro.frames, 1, 0, "frames dataset (N, M, M), detector-centred (default /entry_1/data_1/data)"},
        {"positions", PTY_OPT_STRING, &ro.positions, 1, 0, "positions dataset in metres, CXI N x 3 or 3 x N (x, y, z) (default: CXI translation)"},
        {"positions-px", PTY_OPT_STRING, &positions_px, 1, 0, "positions dataset in object pixels, N x 2 (row, col), instead of --positions"},
        {"energy", PTY_OPT_DOUBLE, &ro.energy_ev, 1, 1e7, "photon energy, eV (default: from the file, J)"},
        {"distance", PTY_OPT_DOUBLE, &ro.distance_m, 1e-6, 1e3, "sample-detector distance, m (default: from the file)"},
        {"pixel-size", PTY_OPT_DOUBLE, &ro.pixel_m, 1e-9, 1.0, "detector pixel size, m (default: from the file)"},
        {"mask", PTY_OPT_STRING, &ro.mask, 1, 0, "mask dataset (M, M), 0 = good (default CXI detector_1/mask if present)"},
        {"probe", PTY_OPT_STRING, &ro.probe, 1, 0, "initial probe dataset, complex (M, M) or (K, M, M) (default CXI source_1/illumination if present)"},
        {"transpose", PTY_OPT_FLAG, &ro.transpose, 1, 0, "swap the row and column of every position"},
        {"flip-x", PTY_OPT_FLAG, &ro.flip_x, 1, 0, "negate the horizontal (column) positions"},
        {"flip-y", PTY_OPT_FLAG, &ro.flip_y, 1, 0, "negate the vertical (row) positions"},
        {"iterations", PTY_OPT_INT, &iterations, 0, 1000000, "ePIE iterations (default 100)"},
        {"modes", PTY_OPT_INT, &p.n_modes, 1, 64, "incoherent probe modes K (default 1)"},
        {"alpha", PTY_OPT_FLOAT, &p.alpha, 1e-6, 2, "object step (default 1)"},
        {"beta", PTY_OPT_FLOAT, &p.beta, 0, 2, "probe step, 0 = keep the probe fixed (default 1)"},
        {"rpie", PTY_OPT_DOUBLE, &rpie, 0, 1, "use rPIE with this regularisation a in [0,1] (default off: ePIE)"},
        {"obj-norm", PTY_OPT_STRING, &obj_norm, 1, 0, "max|O|^2 of the probe step: global|patch (default global)"},
        {"probe-start", PTY_OPT_INT, &p.probe_start, 0, 1000000, "first iteration that updates the probe (default 10)"},
        {"mode-power", PTY_OPT_FLOAT, &p.mode_power, 1e-6, 0.999, "initial power of each extra mode, fraction of mode 1 (default 0.05)"},
        {"ortho-every", PTY_OPT_INT, &p.ortho_every, 0, 1000000, "orthogonalise modes every N iterations, 0 = never (default 1)"},
        {"probe-diameter", PTY_OPT_DOUBLE, &p.probe_diameter, 0, 1e5, "initial probe diameter in pixels when the file has no probe (default M/2)"},
        {"seed", PTY_OPT_U64, &p.seed, 0, 1.8e19, "random seed for position order and mode seeding (default 1)"},
        {"pad", PTY_OPT_INT, &p.pad, 0, 4096, "object margin around the scan, pixels (default 8)"},
        {"backend", PTY_OPT_STRING, &backend, 1, 0, "auto|cpu|cuda (default auto: CUDA if a GPU is present)"},
        {"threads", PTY_OPT_INT, &p.n_threads, 0, 1024, "CPU threads, 0 = all cores (default 0)"},
        {"print-every", PTY_OPT_INT, &every, 0, 1000000, "progress line every N iterations (default 1)"},
        {"no-tiff", PTY_OPT_FLAG, &no_tiff, 1, 0, "write only the HDF5 result"},
        {"quiet", PTY_OPT_FLAG, &quiet, 1, 0, "no progress lines"},
    };
    const int n_opts = (int)(sizeof opts / sizeof opts[0]);
    const char *pos[1];
    int n_pos = 0;
    PTY_TRY(pty_args_parse("recon", recon_synopsis, argc, argv, 2, opts, n_opts, pos, 1, &n_pos));
    if (n_pos == 1) {
        PTY_CHECK(!input, PTY_ERR_ARG, "ptycho recon: give the input once (--input or first argument)");
        input = pos[0];
    }
    PTY_CHECK(input, PTY_ERR_ARG, "ptycho recon: no input file (give --input FILE; see 'ptycho recon --help')");
    PTY_CHECK(iterations >= 1, PTY_ERR_ARG, "ptycho recon: --iterations must be at least 1");
    static const char *const backends[] = {"auto", "cpu", "cuda"};
    static const char *const norms[] = {"patch", "global"};
    PTY_TRY(parse_choice("backend", backend, backends, 3, &p.backend));
    PTY_TRY(parse_choice("obj-norm", obj_norm, norms, 2, &p.obj_norm));
    p.rpie = (float)rpie;
    if (positions_px) {
        PTY_CHECK(!ro.positions, PTY_ERR_ARG, "ptycho recon: give either --positions or --positions-px, not both");
        ro.positions = positions_px;
        ro.positions_px = 1;
    }
    ro.path = input;
    PTY_TRY(pty_recon_params_check(&p));
    PTY_TRY(check_output_dir(output));

    double t0 = pty_now_s();
    pty_dataset *d = NULL;
    PTY_TRY(pty_dataset_read(&ro, &d));
    double read_s = pty_now_s() - t0;
    pty_plan *plan = NULL;
    pty_cf *object = NULL, *probe = NULL;
    double *share = NULL;
    char *cmdline = NULL;
    int rc = pty_plan_create(d, &p, &plan);
    if (rc != PTY_OK) goto done;
    const pty_geometry *g = pty_plan_geometry(plan);
    const int m = d->m;
    if (!quiet) {
        printf("ptycho recon: %s\n", input);
        printf("  frames %d of %dx%d, object %dx%d px", d->n_frames, m, m, g->obj_h, g->obj_w);
        if (d->pixel_size > 0) printf(", pixel %.4g nm", d->pixel_size * 1e9);
        printf("\n  backend %s, %d mode%s, alpha %g, beta %g%s, probe from iteration %d, %d iterations\n",
               pty_plan_backend_name(plan), p.n_modes, p.n_modes > 1 ? "s" : "", p.alpha, p.beta,
               p.rpie >= 0 ? " (rPIE)" : "", p.probe_start, iterations);
        printf("  read %.2f s, setup %.2f s\n", read_s, pty_now_s() - t0 - read_s);
    }
    progress_state ps = {quiet, iterations, every > 0 ? every : 1, 0.0};
    rc = pty_plan_execute(plan, iterations, print_progress, &ps);
    if (rc != PTY_OK) goto done;

    object = malloc((size_t)g->obj_h * g->obj_w * sizeof *object);
    probe = malloc((size_t)p.n_modes * m * m * sizeof *probe);
    share = malloc((size_t)p.n_modes * sizeof *share);
    cmdline = join_args(argc, argv);
    if (!object || !probe || !share || !cmdline) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the result");
        goto done;
    }
    if ((rc = pty_plan_get_object(plan, object)) != PTY_OK) goto done;
    if ((rc = pty_plan_get_probe(plan, probe)) != PTY_OK) goto done;
    pty_modes_power_share(probe, p.n_modes, (size_t)m * m, share);
    int n_err;
    const double *errors = pty_plan_errors(plan, &n_err);
    double setup_s, iterate_s;
    pty_plan_timings(plan, &setup_s, &iterate_s);
    pty_result res = {
        .object = object, .obj_h = g->obj_h, .obj_w = g->obj_w,
        .origin = {g->origin[0], g->origin[1]},
        .probe = probe, .n_modes = p.n_modes, .m = m, .mode_share = share,
        .errors = errors, .n_errors = n_err,
        .positions = d->positions, .n_positions = d->n_frames,
        .pixel_size = d->pixel_size, .backend = pty_plan_backend_name(plan),
        .input = input, .command_line = cmdline,
        .read_s = read_s, .setup_s = setup_s, .iterate_s = iterate_s, .params = &p,
    };
    char path[4096];
    snprintf(path, sizeof path, "%s.h5", output);
    if ((rc = pty_result_write_h5(path, &res)) != PTY_OK) goto done;
    if (!no_tiff && (rc = pty_result_write_tiffs(output, &res)) != PTY_OK) goto done;
    if (!quiet) {
        printf("done: %d iterations in %.2f s (%.2f ms/it, %.0f frame-updates/s), final error %.4e\n", n_err,
               iterate_s, 1e3 * iterate_s / n_err, (double)d->n_frames * n_err / iterate_s, errors[n_err - 1]);
        printf("  mode power shares:");
        for (int k = 0; k < p.n_modes; k++) printf(" %.3f", share[k]);
        printf("\n  wrote %s%s\n", path, no_tiff ? "" : " and TIFFs (_object_phase, _object_magnitude, _probe_modes)");
    }
done:
    free(cmdline);
    free(share);
    free(probe);
    free(object);
    pty_plan_destroy(plan);
    pty_dataset_destroy(d);
    return rc;
}
