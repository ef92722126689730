/* cmd_recon.c - `ptycho recon`: read a scan, run ePIE with K probe modes,
 * write the HDF5 result and TIFF images.  Inputs and the output directory
 * are checked before any iteration runs, so a mistake costs seconds. */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "commands.h"
#include "cxi_read.h"
#include "distributed.h"
#include "engine.h"
#include "follow.h"
#include "live_read.h"
#include "modes.h"
#include "opts.h"
#include "pty_error.h"
#include "pty_log.h"
#include "ptychopy_flags.h"
#include "recon_checkpoint.h"
#include "result_read.h"
#include "result_write.h"
#include "staging.h"

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
        printf("  sync: %.1f kB sent and %.1f kB of object copied out of and back into its plan per share by rank 0; "
               "%.2f ms per share (slowest rank, waiting included)\n",
               d->bytes_per_share / 1e3, d->bytes_copied_per_share / 1e3, 1e3 * smax / d->n_shares);
    }
}

/* How far position correction moved the positions. */
static void print_position_moves(const pty_dist_result *d)
{
    double sum2 = 0.0, mx = 0.0;
    for (int i = 0; i < 2 * d->n_positions; i++) {
        const double x = d->refined_positions[i] - d->positions[i];
        sum2 += x * x;
        mx = fabs(x) > mx ? fabs(x) : mx;
    }
    printf("  position correction moved the positions by %.3f px RMS per axis, at most %.3f px\n",
           sqrt(sum2 / (2.0 * d->n_positions)), mx);
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

/* Before any work: the result would not replace an input (staging.h refuses it again at the
 * write), and PREFIX is this run's (PREFIX.lock; it also proves the directory writable). */
static int claim_output(const char *prefix)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.h5", prefix);
    PTY_CHECK(!pty_stage_is_input(path), PTY_ERR_ARG,
              "--output %s: '%s' is an input of this run and would be replaced by the result; choose another --output",
              prefix, path);
    return pty_stage_lock(prefix);
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
    pty_output_flags out;
    const char *input, *output; /* output points at out.prefix once parsed */
    const char *partials;       /* --write-partials PREFIX, or NULL */
    int iterations, quiet, no_tiff, every;
    int follow;                 /* --follow: the input is still being written */
    pty_follow_options fo;
    int final_iterations;       /* -1: as --iterations */
    double frames_planned;
    const char *preview_dir;
    int no_preview;
    const char *init_from;      /* --init-from FILE: a result, checkpoint or ptychodus product */
    pty_result_file init;       /* what it holds */
    int checkpoint_every;       /* --checkpoint-every N */
    pty_checkpoint_job checkpoint;
    int ptychodus;              /* --ptychodus: also PREFIX_product.h5 */
} recon_job;

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
    job->out.output = "ptycho_recon";
    job->iterations = 100;
    pty_follow_options_default(&job->fo);
    job->final_iterations = -1;
    const pty_option follow[] = {
        PTY_OPT("follow", PTY_OPT_FLAG, &job->follow, 1, 0, "the input is still being written (HDF5 SWMR, e.g. by ptycho replay or a beamline writer): wait for it, reconstruct while frames arrive, finish when the scan is complete"),
        PTY_OPT("min-frames", PTY_OPT_INT, &job->fo.min_frames, 0, 100000000, "--follow: start after this many frames (default 0: a tenth of the planned scan, at least 16)"),
        PTY_OPT("final-iterations", PTY_OPT_INT, &job->final_iterations, 0, 10000000, "--follow: iterations over the whole scan once it is complete (default: --iterations)"),
        PTY_OPT("follow-timeout", PTY_OPT_DOUBLE, &job->fo.timeout_s, 0.001, 1e7, "--follow: seconds to wait for the file to appear, and for a new frame, before ending with what came (default 60)"),
        PTY_OPT("frames-planned", PTY_OPT_DOUBLE, &job->frames_planned, 0, 1e12, "--follow: frames the scan will have, when the file does not say (its writer is done when it has written them)"),
        PTY_OPT("preview-every", PTY_OPT_DOUBLE, &job->fo.preview_every_s, 0.01, 1e6, "--follow: seconds between previews (default 2)"),
        PTY_OPT("preview-dir", PTY_OPT_STRING, &job->preview_dir, 1, 0, "--follow: directory of the previews and their page index.html (default PREFIX_live)"),
        PTY_OPT("no-preview", PTY_OPT_FLAG, &job->no_preview, 1, 0, "--follow: write no previews"),
    };
    pty_input_flags input = {.read = &job->ro};
    pty_partition_flags partition = {&job->dopt, NULL};
    const pty_option progress[] = {
        PTY_OPT("print-every", PTY_OPT_INT, &job->every, 0, 1000000, "progress line every N iterations (default 1)"),
        PTY_OPT("quiet", PTY_OPT_FLAG, &job->quiet, 1, 0, "no progress lines"),
        PTY_OPT("write-partials", PTY_OPT_STRING, &job->partials, 1, 0, "also write each rank's block to PREFIX_rank<R>.h5 (for ptycho stitch or inspection)"),
        PTY_OPT("ptychodus", PTY_OPT_FLAG, &job->ptychodus, 1, 0, "also write the result as a ptychodus product, PREFIX_product.h5"),
    };
    const pty_option restart[] = {
        PTY_OPT("init-from", PTY_OPT_STRING, &job->init_from, 1, 0, "start from the object and probe of a result, a ptychodus product or a checkpoint (which also takes up its iteration count: --iterations is the total)"),
        PTY_OPT("checkpoint-every", PTY_OPT_INT, &job->checkpoint_every, 1, 100000000, "write PREFIX_checkpoint.h5 every N iterations (one rank), removed when the run ends well; resume a killed run with --init-from PREFIX_checkpoint.h5"),
    };
    pty_opt_block blocks[11];
    pty_opts_input(&blocks[0], &input);
    pty_opts_detector(&blocks[1], &input);
    pty_opts_position_file(&blocks[2], &input);
    pty_opts_epie(&blocks[3], &job->p, &job->iterations);
    pty_opts_probe(&blocks[4], &job->dopt.guess);
    pty_opts_partition(&blocks[5], &partition);
    pty_opts_stitch(&blocks[6], &job->dopt.merge);
    pty_opts_output(&blocks[7], &job->out);
    PTY_OPT_BLOCK(&blocks[8], "progress", progress, NULL, NULL);
    PTY_OPT_BLOCK(&blocks[9], "live reconstruction", follow, NULL, NULL);
    PTY_OPT_BLOCK(&blocks[10], "start and resume", restart, NULL, NULL);
    const char *pos[1];
    int n_pos = 0;
    PTY_TRY(pty_args_parse("recon", recon_synopsis, argc, argv, 2, blocks, 11, pos, 1, &n_pos));
    if (n_pos == 1) {
        PTY_CHECK(!job->ro.path, PTY_ERR_ARG, "ptycho recon: give the input once (--input or first argument)");
        job->ro.path = pos[0];
    }
    PTY_CHECK(job->ro.path, PTY_ERR_ARG, "ptycho recon: no input file (give --input FILE; see 'ptycho recon --help')");
    job->input = job->ro.path;
    job->output = job->out.prefix;
    job->no_tiff = job->out.no_tiff;
    if (pty_comm_rank() == 0) PTY_TRY(claim_output(job->output));
    if (job->init_from) {
        PTY_CHECK(!job->follow, PTY_ERR_ARG, "--init-from cannot be used with --follow (yet)");
        PTY_TRY(pty_result_read(job->init_from, 0, 0, &job->init));
        job->dopt.init = &job->init;
        job->dopt.init_name = job->init_from;
        char own[4200];
        pty_checkpoint_path(job->output, own, sizeof own);
        /* resuming from this prefix's checkpoint, held in memory now: the next ones replace it */
        if (pty_same_file(job->init_from, own)) pty_stage_release(own);
    }
    if (job->checkpoint_every > 0) {
        PTY_CHECK(!job->follow && pty_comm_size() == 1, PTY_ERR_ARG,
                  "--checkpoint-every works on one rank without --follow (for now)");
        job->checkpoint = (pty_checkpoint_job){job->output, NULL, &job->p};
        job->dopt.checkpoint_every = job->checkpoint_every;
        job->dopt.checkpoint = pty_recon_checkpoint;
        job->dopt.checkpoint_user = &job->checkpoint;
    }
    job->p.probe_diameter = job->dopt.guess.diameter_px; /* the engine's data start and the guess alike */
    job->dopt.progress_every = job->quiet ? 0 : job->every > 0 ? job->every : 1;
    if (job->follow) {
        PTY_CHECK(job->ro.half_set == PTY_HALF_ALL, PTY_ERR_ARG, "--follow cannot take --half-set");
        PTY_CHECK(job->p.position_start < 0, PTY_ERR_ARG,
                  "position correction cannot yet follow a scan whose frames are still arriving (--follow); leave "
                  "out --position-correction");
        job->fo.final_iterations = job->final_iterations >= 0 ? job->final_iterations : job->iterations;
        job->fo.guess = job->dopt.guess;
        job->fo.dist = &job->dopt;
        static char dir[4200];
        snprintf(dir, sizeof dir, "%s_live", job->output);
        job->fo.preview_dir = job->no_preview ? NULL : job->preview_dir ? job->preview_dir : dir;
    }
    return PTY_OK;
}

/* --follow: a line every second or so, and whenever the state changes. */
typedef struct follow_print {
    int quiet;
    double next;
    const char *state;
} follow_print;

static void print_follow(void *user, const pty_live_status *s)
{
    follow_print *fp = user;
    const double now = pty_now_s();
    if (fp->quiet || (now < fp->next && s->state == fp->state)) return;
    fp->next = now + 1.0;
    fp->state = s->state;
    if (s->iteration == 0) {
        printf("  %-9s frames %lld of %s%lld read, %d usable\n", s->state, s->seen, s->planned > 0 ? "" : "? ",
               s->planned > 0 ? s->planned : s->available, s->used);
    } else {
        printf("  %-9s iter %5d | frames %d used, %lld read of %lld | err %.4e | %6.0f frame-updates/s | lag %.2f s\n",
               s->state, s->iteration, s->used, s->seen, s->planned > 0 ? s->planned : s->available, s->error,
               s->frame_updates_per_s, s->lag_s);
    }
    fflush(stdout);
}

/* The same file, whether or not it exists yet: its directory's real path and its name. */
static int same_file(const char *a, const char *b)
{
    char da[4200], db[4200], ra[PATH_MAX], rb[PATH_MAX];
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    if (!realpath(dirname(da), ra) || !realpath(dirname(db), rb) || strcmp(ra, rb) != 0) return 0;
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    return strcmp(basename(da), basename(db)) == 0;
}

/* ptycho recon --follow: one process follows the file, then writes the result as recon does. */
static int run_follow(recon_job *job, int argc, char **argv)
{
    char result[4200];
    snprintf(result, sizeof result, "%s.h5", job->output);
    PTY_CHECK(!same_file(result, job->input), PTY_ERR_ARG,
              "--output %s would write the result over the scan being followed (%s): choose another prefix",
              job->output, job->input);
    follow_print fp = {job->quiet || pty_comm_rank() != 0, 0.0, NULL};
    job->fo.progress = print_follow;
    job->fo.user = &fp;
    if (!fp.quiet) {
        printf("ptycho recon --follow: %s (waiting up to %g s for it and for each new frame)\n", job->input,
               job->fo.timeout_s);
        if (pty_comm_size() > 1)
            printf("  %d ranks, %s mode\n", pty_comm_size(), pty_mode_names[job->dopt.mode]);
        if (job->fo.preview_dir) printf("  previews: %s/index.html every %g s\n", job->fo.preview_dir, job->fo.preview_every_s);
        fflush(stdout);
    }
    pty_frame_source *src = NULL;
    PTY_TRY(pty_comm_agree(pty_live_source_open(&job->ro, job->fo.timeout_s, (long long)job->frames_planned, &src)));
    pty_follow_result fr;
    int rc = pty_follow_reconstruct(src, &job->p, &job->fo, &fr);
    pty_source_close(src);
    /* a rank's own error ends the job (pty_comm_fail); a stalled writer is every rank's verdict */
    if (rc != PTY_OK && rc != PTY_ERR_INCOMPLETE) return rc;
    if (pty_comm_rank() != 0) {
        pty_follow_result_free(&fr);
        return pty_comm_agree(rc);
    }
    if (!fr.object) return pty_comm_agree(rc); /* nothing came */
    const int follow_rc = rc; /* PTY_ERR_INCOMPLETE: write what came, then say so */
    char *msg = follow_rc != PTY_OK ? strdup(pty_error_message()) : NULL;
    char *cmdline = join_args(argc, argv);
    pty_recon_params ran = job->p;
    ran.order = fr.order;
    pty_result res = {
        .object = fr.object, .obj_h = fr.obj_h, .obj_w = fr.obj_w, .origin = {fr.origin[0], fr.origin[1]},
        .probe = fr.probe, .n_modes = fr.n_modes, .m = fr.m, .errors = fr.errors, .n_errors = fr.n_errors,
        .positions = fr.positions, .n_positions = fr.n_positions, .pixel_size = fr.pixel_size,
        .backend = fr.backend, .input = job->input, .command_line = cmdline, .setup_s = fr.setup_s,
        .iterate_s = fr.iterate_s, .params = &ran, .probe_start = fr.guess.how,
    };
    char path[4096];
    snprintf(path, sizeof path, "%s.h5", job->output);
    rc = cmdline ? pty_result_write_h5(path, &res) : pty_error_set(PTY_ERR_NOMEM, "cannot allocate the result");
    if (rc == PTY_OK && !job->no_tiff) rc = pty_result_write_tiffs(job->output, &res);
    const pty_follow_report *r = &fr.report;
    if (rc == PTY_OK && !job->quiet) {
        printf("done: %d iterations (%d while frames arrived, %d after), final error %.4e\n", fr.n_errors,
               r->live_iterations, fr.n_errors - r->live_iterations, fr.n_errors ? fr.errors[fr.n_errors - 1] : 0.0);
        printf("  frames: %d used of %lld read (%d never written, %d repeated); scan %s\n", r->used, r->seen,
               r->missing, r->duplicate, r->complete ? "complete" : "INCOMPLETE");
        printf("  times from the start: first frame %.2f s, first pass %.2f s", r->t_first_frame, r->t_start);
        if (r->n_previews) printf(", first preview %.2f s", r->t_first_preview);
        printf(", scan %s seen %.2f s, end %.2f s\n", r->complete ? "complete" : "stalled", r->t_complete, r->t_end);
        printf("  passes per frame before the final iterations: least %.0f, median %.0f; grid grown %d times\n",
               r->updates_min, r->updates_median, r->regrids);
        printf("  wrote %s%s\n", path, job->no_tiff ? "" : " and images");
        fflush(stdout);
    }
    free(cmdline);
    pty_follow_result_free(&fr);
    if (rc == PTY_OK && follow_rc != PTY_OK) rc = pty_error_set(follow_rc, "%s (result written to %s)", msg, path);
    free(msg);
    return pty_comm_agree(rc);
}

static int run_recon(int argc, char **argv);

/* ptychopy's flags (ptychopy_flags.h): run the same with recon's, shown. */
int pty_cmd_recon(int argc, char **argv)
{
    if (!pty_ptychopy_detect(argc, argv, 2)) return run_recon(argc, argv);
    int n;
    char **native;
    PTY_TRY(pty_ptychopy_translate(argc, argv, 2, &n, &native));
    if (pty_comm_rank() == 0) {
        printf("ptychopy's command line as ptycho's:");
        for (int i = 0; i < n; i++) printf(" %s", native[i]);
        printf("\n");
        fflush(stdout);
    }
    const int rc = run_recon(n, native);
    pty_ptychopy_free(n, native);
    return rc;
}

static int run_recon(int argc, char **argv)
{
    recon_job job;
    PTY_TRY(pty_comm_agree(recon_setup(argc, argv, &job)));
    if (job.follow) return run_follow(&job, argc, argv);
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
        if (n_ranks > 1) printf("  %d ranks, %s mode\n", n_ranks, pty_mode_names[dopt.mode]);
        fflush(stdout);
    }
    job.dopt.ready = print_setup;
    job.dopt.ready_user = &ps;
    char *ck_line = job.checkpoint_every > 0 ? join_args(argc, argv) : NULL;
    job.checkpoint.command_line = ck_line;
    if (job.partials) {
        job.dopt.block_done = write_block;
        job.dopt.block_user = (void *)job.partials;
    }
    int rc = pty_dist_reconstruct(&job.ro, &p, &job.dopt, iterations, print_progress, &ps, &dr);
    free(ck_line);
    pty_result_file_free(&job.init);
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
        .positions = dr.positions, .refined_positions = dr.refined_positions, .n_positions = dr.n_positions,
        .pixel_size = dr.pixel_size, .backend = dr.backend,
        .input = input, .command_line = cmdline,
        .read_s = s0->read_s, .setup_s = s0->setup_s, .iterate_s = iterate_s, .params = &ran,
        .probe_start = dr.guess.how,
        .dist = n_ranks > 1 ? &dr : NULL, .dist_options = &dopt, .n_ranks = n_ranks, .detector = &dr.detector,
        .wavelength = dr.wavelength, .distance = dr.distance,
    };
    char path[4096];
    snprintf(path, sizeof path, "%s.h5", output);
    if ((rc = pty_result_write_h5(path, &res)) != PTY_OK) goto done;
    if (job.ptychodus) {
        snprintf(path, sizeof path, "%s_product.h5", output);
        if ((rc = pty_result_write_product(path, &res)) != PTY_OK) goto done;
        snprintf(path, sizeof path, "%s.h5", output);
    }
    if (job.checkpoint_every > 0) {
        char ck[4200];
        pty_checkpoint_path(output, ck, sizeof ck);
        unlink(ck); /* the run ended well: its result supersedes the checkpoint */
    }
    if (!no_tiff && (rc = pty_result_write_tiffs(output, &res)) != PTY_OK) goto done;
    if (!quiet) {
        const int n_err = dr.n_errors;
        printf("done: %d iterations in %.2f s (%.2f ms/it, %.0f frame-updates/s), final error %.4e\n", n_err,
               res.iterate_s, 1e3 * res.iterate_s / n_err, (double)dr.n_positions * n_err / res.iterate_s,
               dr.errors[n_err - 1]);
        if (n_ranks > 1) print_rank_summary(&dr, n_ranks, dopt.mode);
        if (dr.refined_positions) print_position_moves(&dr);
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
