/* cmd_recon.c - `ptycho recon`: read a scan, run ePIE with K probe modes,
 * write the HDF5 result and TIFF images.  Inputs and the output directory
 * are checked before any iteration runs, so a mistake costs seconds. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "comm.h"
#include "cxi_read.h"
#include "distributed.h"
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

static void print_setup(void *user, const pty_dist_info *i)
{
    const progress_state *s = user;
    if (s->quiet) return;
    printf("  frames %d of %dx%d, object %dx%d px", i->n_frames, i->m, i->m, i->obj_h, i->obj_w);
    if (i->pixel_size > 0) printf(", pixel %.4g nm", i->pixel_size * 1e9);
    printf("\n  backend %s, %s order, %d mode%s, alpha %g, beta %g%s, probe from iteration %d, %d iterations\n",
           i->backend, pty_order_names[i->params->order], i->params->n_modes,
           i->params->n_modes > 1 ? "s" : "", i->params->alpha, i->params->beta, i->params->rpie >= 0 ? " (rPIE)" : "",
           i->params->probe_start, s->total);
    if (i->n_ranks > 1)
        printf("  partition %dx%d, rank 0 holds %d positions (%d own) and a %dx%d box\n", i->partition->rows,
               i->partition->cols, i->partition->n_members[0], i->partition->n_core[0], i->box_h, i->box_w);
    if (i->probe_start[0]) printf("  first probe: %s\n", i->probe_start);
    printf("  read %.2f s, setup %.2f s\n", i->read_s, i->setup_s);
    fflush(stdout);
}

/* Where the ranks' time went: the numbers behind a scaling estimate. */
static void print_rank_summary(const pty_dist_result *d, int n, int mode)
{
    double cmax = 0, csum = 0, xmax = 0, xsum = 0, mmax = 0, bmax = 0, pmax = 0, psum = 0;
    for (int r = 0; r < n; r++) {
        const pty_rank_stats *s = &d->stats[r];
        cmax = s->compute_s > cmax ? s->compute_s : cmax;
        xmax = s->comm_s > xmax ? s->comm_s : xmax;
        mmax = s->merge_s > mmax ? s->merge_s : mmax;
        bmax = s->bytes_sent > bmax ? s->bytes_sent : bmax;
        pmax = s->n_positions > pmax ? s->n_positions : pmax;
        csum += s->compute_s;
        xsum += s->comm_s;
        psum += s->n_positions;
    }
    printf("  ranks: compute %.2f s max, %.2f mean; communication %.2f s max, %.2f mean; merge %.2f s; "
           "%.2f MB sent max\n", cmax, csum / n, xmax, xsum / n, mmax, bmax / 1e6);
    printf("  positions per rank (own + halo): %.0f max, %.0f mean, %.2f x the scan\n", pmax, psum / n,
           psum / d->n_positions);
    if (mode == PTY_MODE_SYNC) {
        double smax = 0;
        for (int r = 0; r < n; r++) smax = d->stats[r].share_s > smax ? d->stats[r].share_s : smax;
        printf("  sync: %.1f kB sent per share by rank 0; %.2f ms per share (slowest rank, waiting included)\n",
               d->bytes_per_share / 1e3, 1e3 * smax / d->n_shares);
    }
}

/* What each pairwise merge found (DESIGN.md §3: report every registration). */
static void report_merges(const pty_dist_result *d)
{
    for (int i = 0; i < d->n_records; i++) {
        char line[256];
        pty_merge_describe(&d->records[i].report, line, sizeof line);
        pty_info("  merge block %d <- %d: %s", d->records[i].into, d->records[i].from, line);
    }
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

/* Everything the command line decides. */
typedef struct recon_job {
    pty_read_options ro;
    pty_recon_params p;
    pty_dist_options dopt;
    const char *input, *output; /* output points at prefix once parsed */
    const char *partials;       /* --write-partials PREFIX, or NULL */
    char prefix[4096];
    int iterations, quiet, no_tiff, every;
} recon_job;

static const char *const mode_names[] = {"async", "sync"};

/* --write-partials: each rank's block to PREFIX_rank<R>.h5 (input for ptycho stitch). */
static int write_block(void *user, const pty_dist_block *b)
{
    char path[4200];
    snprintf(path, sizeof path, "%s_rank%d.h5", (const char *)user, b->rank);
    return pty_result_write_block(path, b);
}

/* Parse and check the command line; every rank does the same and agrees. */
static int recon_setup(int argc, char **argv, recon_job *job)
{
    memset(job, 0, sizeof *job);
    pty_read_options_default(&job->ro);
    pty_recon_params_default(&job->p);
    pty_dist_options_default(&job->dopt);
    pty_read_options *const ro = &job->ro;
    pty_recon_params *const pp = &job->p;
    pty_dist_options *const dopt = &job->dopt;
    const char *positions_px = NULL, *backend = "auto", *obj_norm = "global", *mpi_mode = NULL, *old_mode = NULL, *partition = NULL;
    const char *order = "auto", *gpu_frames = "auto", *probe_model = "auto", *probe_search = "on";
    job->output = "ptycho_recon";
    job->iterations = 100;
    double rpie = -1.0;
    int fixed_drift = 0, no_ramp = 0;
    const char *stitch_ramp = "off";

    /* The ePIE parameters' ranges (min 1 > max 0 here: any value) live in one place, the library's
       pty_recon_params_check, which runs once all flags are parsed and names the flag.  --rpie keeps
       its [0, 1] here: a negative value is the library's "off" and must not be reachable by mistake. */
    const pty_option opts[] = {
        {"input", PTY_OPT_STRING, &job->input, 1, 0, "input CXI/HDF5 file (or give it as the first argument)"},
        {"output", PTY_OPT_STRING, &job->output, 1, 0, "output prefix: PREFIX.h5 and PREFIX_*.tif, a trailing .h5 dropped (default ptycho_recon)"},
        {"frames", PTY_OPT_STRING, &ro->frames, 1, 0, "frames dataset (N, M, M), detector-centred (default /entry_1/data_1/data)"},
        {"positions", PTY_OPT_STRING, &ro->positions, 1, 0, "positions dataset in metres, CXI N x 3 or 3 x N (x, y, z) (default: CXI translation)"},
        {"positions-px", PTY_OPT_STRING, &positions_px, 1, 0, "positions dataset in object pixels, N x 2 (row, col), instead of --positions"},
        {"energy", PTY_OPT_DOUBLE, &ro->energy_ev, 1, 1e7, "photon energy, eV (default: from the file, J)"},
        {"distance", PTY_OPT_DOUBLE, &ro->distance_m, 1e-6, 1e3, "sample-detector distance, m (default: from the file)"},
        {"pixel-size", PTY_OPT_DOUBLE, &ro->pixel_m, 1e-9, 1.0, "detector pixel size, m (default: from the file)"},
        {"mask", PTY_OPT_STRING, &ro->mask, 1, 0, "mask dataset (M, M), 0 = good (default CXI detector_1/mask if present)"},
        {"probe", PTY_OPT_STRING, &ro->probe, 1, 0, "initial probe dataset, complex (M, M) or (K, M, M) (default CXI source_1/illumination if present)"},
        {"transpose", PTY_OPT_FLAG, &ro->transpose, 1, 0, "swap the row and column of every position"},
        {"flip-x", PTY_OPT_FLAG, &ro->flip_x, 1, 0, "negate the horizontal (column) positions"},
        {"flip-y", PTY_OPT_FLAG, &ro->flip_y, 1, 0, "negate the vertical (row) positions"},
        {"iterations", PTY_OPT_INT, &job->iterations, 0, 1000000, "ePIE iterations (default 100)"},
        {"modes", PTY_OPT_INT, &pp->n_modes, 1, 0, "incoherent probe modes K, 1 to 64 (default 1)"},
        {"alpha", PTY_OPT_FLOAT, &pp->alpha, 1, 0, "object step, in (0, 2] (default 1)"},
        {"beta", PTY_OPT_FLOAT, &pp->beta, 1, 0, "probe step, in [0, 2], 0 = keep the probe fixed (default 1)"},
        {"rpie", PTY_OPT_DOUBLE, &rpie, 0, 1, "use rPIE with this regularisation a in (0, 1], e.g. 0.1 (default off: ePIE)"},
        {"obj-norm", PTY_OPT_STRING, &obj_norm, 1, 0, "max|O|^2 of the probe step: global|patch (default global)"},
        {"probe-start", PTY_OPT_INT, &pp->probe_start, 1, 0, "first iteration that updates the probe (default 10)"},
        {"mode-power", PTY_OPT_FLOAT, &pp->mode_power, 1, 0, "initial power of each extra mode, fraction of mode 1, in (0, 1) (default 0.05)"},
        {"ortho-every", PTY_OPT_INT, &pp->ortho_every, 1, 0, "orthogonalise modes every N iterations, 0 = never (default 1)"},
        {"probe-model", PTY_OPT_STRING, &probe_model, 1, 0, "first probe: auto (the file's; without one, a search) | data (measured far-field modulus, phase of a disc of --probe-diameter) | disc | gauss (real, --probe-diameter wide: diameter, FWHM) | aperture (a lens: --probe-aperture, --probe-focal-length, --probe-defocus) (default auto)"},
        {"probe-search", PTY_OPT_STRING, &probe_search, 1, 0, "on|off: with no probe in the file and no --probe-model, try defocus phases of both signs on the measured modulus, a few iterations each on the central frames, and keep the best (default on; off: --probe-model data)"},
        {"probe-diameter", PTY_OPT_DOUBLE, &pp->probe_diameter, 0, 1e5, "size of the data/disc/gauss first probe, object pixels (default M/2)"},
        {"probe-aperture", PTY_OPT_DOUBLE, &dopt->guess.lens.aperture_m, 1e-9, 1.0, "--probe-model aperture: lens (zone plate, KB acceptance) diameter A, m; its far field is a disc of radius A z / (2 f p) detector pixels"},
        {"probe-focal-length", PTY_OPT_DOUBLE, &dopt->guess.lens.focal_length_m, 1e-6, 1e3, "--probe-model aperture: focal length f, m"},
        {"probe-defocus", PTY_OPT_DOUBLE, &dopt->guess.lens.defocus_m, -1e3, 1e3, "--probe-model aperture: focus-to-sample distance dz, m, > 0 when the sample is downstream of the focus; the beam is A |dz| / f wide, its pupil phase -pi dz (q p)^2 / (lambda z^2)"},
        {"no-probe-centering", PTY_OPT_FLAG, &fixed_drift, 1, 0, "let probe and object drift together (default: keep the probe centred in its window)"},
        {"seed", PTY_OPT_U64, &pp->seed, 0, 18446744073709551615.0, "random seed for position order and mode seeding (default 1)"},
        {"pad", PTY_OPT_INT, &pp->pad, 1, 0, "object margin around the scan, pixels, 0 to 4096 (default 8)"},
        {"backend", PTY_OPT_STRING, &backend, 1, 0, "auto|cpu|cuda (default auto: CUDA if a GPU is present)"},
        {"order", PTY_OPT_STRING, &order, 1, 0, "sequential (one position at a time) | batched (sets of non-overlapping windows at once: GPU batches, CPU threads) | auto (default: batched on a GPU or more than one CPU thread)"},
        {"gpu-frames", PTY_OPT_STRING, &gpu_frames, 1, 0, "auto|resident|streamed: frames on the GPU, or streamed from host memory chunk by chunk (default auto: on the GPU when they fit)"},
        {"fft-wisdom", PTY_OPT_STRING, &pp->fft_wisdom, 1, 0, "CPU: FFTW plans read from FILE and saved back; runs sharing FILE (and flags) give identical results (default: plans timed afresh)"},
        {"threads", PTY_OPT_INT, &pp->n_threads, 0, 1024, "CPU threads, 0 = all cores, shared among the MPI ranks of a node (default 0)"},
        {"print-every", PTY_OPT_INT, &job->every, 0, 1000000, "progress line every N iterations (default 1)"},
        {"no-tiff", PTY_OPT_FLAG, &job->no_tiff, 1, 0, "write only the HDF5 result"},
        {"quiet", PTY_OPT_FLAG, &job->quiet, 1, 0, "no progress lines"},
        {"mpi-mode", PTY_OPT_STRING, &mpi_mode, 1, 0, "several ranks (mpirun): async (independent blocks, registered and stitched) | sync (blocks share overlaps and probe) (default async)"},
        {"mode", PTY_OPT_STRING, &old_mode, 1, 0, "old name of --mpi-mode (too close to --modes), still accepted with a warning"},
        {"partition", PTY_OPT_STRING, &partition, 1, 0, "block grid RxC over the ranks, e.g. 4x2 (default: as square as the scan allows)"},
        {"overlap", PTY_OPT_DOUBLE, &dopt->overlap, 0, 1000, "halo of each block, in scan steps (default 4)"},
        {"share-every", PTY_OPT_INT, &dopt->share_every, 1, 1000000, "sync: iterations between exchanges of overlaps and probe (default 1)"},
        {"stitch-upsample", PTY_OPT_INT, &dopt->merge.upsample, 1, 1000, "async: registration up-sampling kappa (default 20)"},
        {"stitch-max-error", PTY_OPT_DOUBLE, &dopt->merge.max_error, 0, 1, "async: refuse a registration above this error and use the known offset (default 0.5)"},
        {"stitch-max-shift", PTY_OPT_DOUBLE, &dopt->merge.max_shift, 0, 1e4, "async: refuse a registration shifting more than this many pixels (default 8)"},
        {"write-partials", PTY_OPT_STRING, &job->partials, 1, 0, "also write each rank's block to PREFIX_rank<R>.h5 (for ptycho stitch or inspection)"},
        {"stitch-ramp", PTY_OPT_STRING, &stitch_ramp, 1, 0, "async: on|off: also remove a linear phase ramp between blocks, fitted on their overlap (default off: it helps some scans by up to 15 % and harms others by up to 25 %, see README)"},
        {"stitch-no-ramp", PTY_OPT_FLAG, &no_ramp, 1, 0, "old spelling of --stitch-ramp off"},
    };
    const int n_opts = (int)(sizeof opts / sizeof opts[0]);
    const char *pos[1];
    int n_pos = 0;
    PTY_TRY(pty_args_parse("recon", recon_synopsis, argc, argv, 2, opts, n_opts, pos, 1, &n_pos));
    if (n_pos == 1) {
        PTY_CHECK(!job->input, PTY_ERR_ARG, "ptycho recon: give the input once (--input or first argument)");
        job->input = pos[0];
    }
    PTY_CHECK(job->input, PTY_ERR_ARG, "ptycho recon: no input file (give --input FILE; see 'ptycho recon --help')");
    PTY_CHECK(job->iterations >= 1, PTY_ERR_ARG, "ptycho recon: --iterations must be at least 1");
    static const char *const backends[] = {"auto", "cpu", "cuda"};
    static const char *const norms[] = {"patch", "global"};
    PTY_TRY(pty_args_choice("recon", "backend", backend, backends, 3, &pp->backend));
    PTY_TRY(pty_args_choice("recon", "obj-norm", obj_norm, norms, 2, &pp->obj_norm));
    pp->rpie = (float)rpie;
    pp->center_probe = !fixed_drift;
    if (positions_px) {
        PTY_CHECK(!ro->positions, PTY_ERR_ARG, "ptycho recon: give either --positions or --positions-px, not both");
        ro->positions = positions_px;
        ro->positions_px = 1;
    }
    ro->path = job->input;
    PTY_TRY(pty_recon_params_check(pp));
    PTY_TRY(pty_args_output_prefix("recon", job->output, job->prefix, sizeof job->prefix));
    job->output = job->prefix;
    if (pty_comm_rank() == 0) PTY_TRY(check_output_dir(job->output));

    if (old_mode) {
        PTY_CHECK(!mpi_mode || strcmp(mpi_mode, old_mode) == 0, PTY_ERR_ARG,
                  "ptycho recon: --mode %s and --mpi-mode %s disagree (--mode is the old name of --mpi-mode)", old_mode,
                  mpi_mode);
        if (pty_comm_rank() == 0) pty_warn("--mode is the old name of --mpi-mode (it reads too much like --modes): use --mpi-mode %s", old_mode);
        mpi_mode = old_mode;
    }
    PTY_TRY(pty_args_choice("recon", "mpi-mode", mpi_mode ? mpi_mode : "async", mode_names, 2, &dopt->mode));
    PTY_TRY(pty_args_choice("recon", "order", order, pty_order_names, 3, &pp->order));
    PTY_TRY(pty_args_choice("recon", "gpu-frames", gpu_frames, pty_gpu_frames_names, 3, &pp->gpu_frames));
    PTY_TRY(pty_args_choice("recon", "probe-model", probe_model, pty_guess_names, PTY_GUESS_N, &dopt->guess.model));
    PTY_TRY(pty_args_choice("recon", "probe-search", probe_search, pty_on_off_names, 2, &dopt->guess.search));
    PTY_TRY(pty_args_choice("recon", "stitch-ramp", stitch_ramp, pty_on_off_names, 2, &dopt->merge.fit_ramp));
    PTY_CHECK(!(no_ramp && dopt->merge.fit_ramp), PTY_ERR_ARG, "ptycho recon: --stitch-no-ramp and --stitch-ramp on contradict each other");
    dopt->guess.diameter_px = pp->probe_diameter;
    dopt->progress_every = job->quiet ? 0 : job->every > 0 ? job->every : 1;
    const pty_lens *lens = &dopt->guess.lens;
    const int lens_given = lens->aperture_m > 0 || lens->focal_length_m > 0 || lens->defocus_m != 0;
    PTY_CHECK(dopt->guess.model == PTY_GUESS_APERTURE || !lens_given, PTY_ERR_ARG,
              "ptycho recon: --probe-aperture, --probe-focal-length and --probe-defocus describe --probe-model aperture");
    PTY_CHECK(dopt->guess.model != PTY_GUESS_APERTURE || (lens->aperture_m > 0 && lens->focal_length_m > 0), PTY_ERR_ARG,
              "ptycho recon: --probe-model aperture needs --probe-aperture and --probe-focal-length (and --probe-defocus, default 0: in focus)");
    if (partition) {
        char extra;
        PTY_CHECK(sscanf(partition, "%dx%d%c", &dopt->rows, &dopt->cols, &extra) == 2 && dopt->rows >= 1 &&
                      dopt->cols >= 1,
                  PTY_ERR_ARG, "ptycho recon: --partition must look like 4x2 (rows x columns), got '%s'", partition);
    }
    return PTY_OK;
}

int pty_cmd_recon(int argc, char **argv)
{
    recon_job job;
    PTY_TRY(pty_comm_agree(recon_setup(argc, argv, &job)));
    const pty_recon_params p = job.p;
    const pty_dist_options dopt = job.dopt;
    const char *const input = job.input, *const output = job.output;
    const int iterations = job.iterations, no_tiff = job.no_tiff, every = job.every;
    int quiet = job.quiet;
    const int rank = pty_comm_rank(), n_ranks = pty_comm_size();
    if (rank != 0) quiet = 1;

    double t0 = pty_now_s();
    pty_dist_result dr;
    double *share = NULL;
    char *cmdline = NULL;
    progress_state ps = {quiet, iterations, every > 0 ? every : 1, 0.0};
    if (!quiet) {
        printf("ptycho recon: %s\n", input);
        if (n_ranks > 1) printf("  %d ranks, %s mode\n", n_ranks, mode_names[dopt.mode]);
        fflush(stdout);
    }
    job.dopt.ready = print_setup;
    job.dopt.ready_user = &ps;
    if (job.partials) {
        job.dopt.block_done = write_block;
        job.dopt.block_user = (void *)job.partials;
    }
    int rc = pty_dist_reconstruct(&job.ro, &p, &job.dopt, iterations, print_progress, &ps, &dr);
    if (rc != PTY_OK) return rc;
    if (rank != 0) goto done;
    const int m = dr.m;
    const pty_partial *obj = &dr.object;
    const pty_cf *probe = dr.probe;
    share = malloc((size_t)p.n_modes * sizeof *share);
    cmdline = join_args(argc, argv);
    if (!share || !cmdline) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the result");
        goto done;
    }
    pty_modes_power_share(probe, p.n_modes, (size_t)m * m, share);
    const pty_rank_stats *s0 = &dr.stats[0];
    pty_recon_params ran = p; /* with the order the plan chose */
    ran.order = dr.order;
    /* several ranks: wall time from the end of setup to the merged object on rank 0 */
    double iterate_s = n_ranks > 1 ? pty_now_s() - t0 - s0->read_s - s0->setup_s : s0->compute_s;
    report_merges(&dr);
    pty_result res = {
        .object = obj->object, .obj_h = obj->h, .obj_w = obj->w,
        .origin = {dr.origin[0], dr.origin[1]},
        .probe = probe, .n_modes = p.n_modes, .m = m,
        .errors = dr.errors, .n_errors = dr.n_errors,
        .positions = dr.positions, .n_positions = dr.n_positions,
        .pixel_size = dr.pixel_size, .backend = dr.backend,
        .input = input, .command_line = cmdline,
        .read_s = s0->read_s, .setup_s = s0->setup_s, .iterate_s = iterate_s, .params = &ran,
        .probe_start = dr.guess.how,
        .dist = n_ranks > 1 ? &dr : NULL, .dist_options = &dopt, .n_ranks = n_ranks,
    };
    char path[4096];
    snprintf(path, sizeof path, "%s.h5", output);
    if ((rc = pty_result_write_h5(path, &res)) != PTY_OK) goto done;
    if (!no_tiff && (rc = pty_result_write_tiffs(output, &res)) != PTY_OK) goto done;
    if (!quiet) {
        const int n_err = dr.n_errors;
        printf("done: %d iterations in %.2f s (%.2f ms/it, %.0f frame-updates/s), final error %.4e\n", n_err,
               res.iterate_s, 1e3 * res.iterate_s / n_err, (double)dr.n_positions * n_err / res.iterate_s,
               dr.errors[n_err - 1]);
        if (n_ranks > 1) print_rank_summary(&dr, n_ranks, dopt.mode);
        printf("  mode power shares:");
        for (int k = 0; k < p.n_modes; k++) printf(" %.3f", share[k]);
        printf("\n  wrote %s%s\n", path, no_tiff ? "" : " and images (_object_phase.tif/.png, _object_magnitude.tif, _probe_modes.tif)");
    }
done:
    free(cmdline);
    free(share);
    pty_dist_result_free(&dr);
    return pty_comm_agree(rc); /* a failed write on rank 0 fails every rank, with one message */
}
