/* cmd_replay.c - `ptycho replay`: a finished CXI scan written again frame
 * by frame, at a stated rate, into a file that grows as an acquisition's
 * would (live_write.h: HDF5 SWMR, frames_written, complete).  It stands in
 * for a beamline writer, so that following a scan while it is written can
 * be run and tested anywhere.  The scan is read into memory first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "h5util.h"
#include "live_write.h"
#include "pty_error.h"
#include "pty_log.h"
#include "staging.h"

#define FRAMES "/entry_1/data_1/data"
#define TRANSLATION "/entry_1/data_1/translation"

typedef struct replay_scan {
    float *frames;        /* n*m*m counts */
    double *translation;  /* n*3, metres */
    int n, m;
    pty_live_meta meta;
} replay_scan;

static int read_scan(const char *path, replay_scan *s)
{
    hid_t f;
    PTY_TRY(pty_h5_open_read(path, &f));
    int rank = 0, trank = 0;
    hsize_t dims[4] = {0}, tdims[4] = {0};
    int rc = pty_h5_shape(f, path, FRAMES, &rank, dims);
    if (rc == PTY_OK) rc = pty_h5_shape(f, path, TRANSLATION, &trank, tdims);
    if (rc == PTY_OK && (rank != 3 || dims[1] != dims[2] || dims[0] < 1 || dims[0] > 10000000))
        rc = pty_error_set(PTY_ERR_DATA, "'%s': %s must hold N square frames (N x M x M)", path, FRAMES);
    if (rc == PTY_OK && (trank != 2 || tdims[0] != dims[0] || tdims[1] != 3))
        rc = pty_error_set(PTY_ERR_DATA, "'%s': %s must be %llu x 3 (one (x, y, z) a frame)", path, TRANSLATION,
                           (unsigned long long)dims[0]);
    if (rc == PTY_OK) {
        s->n = (int)dims[0];
        s->m = (int)dims[1];
        const size_t count = (size_t)s->n * s->m * s->m;
        s->frames = malloc(count * sizeof *s->frames);
        s->translation = malloc((size_t)s->n * 3 * sizeof *s->translation);
        if (!s->frames || !s->translation)
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot hold the %d frames of '%s' in memory", s->n, path);
        if (rc == PTY_OK) rc = pty_h5_read_float(f, path, FRAMES, s->frames, count);
        if (rc == PTY_OK) rc = pty_h5_read_double(f, path, TRANSLATION, s->translation, (size_t)s->n * 3);
    }
    /* the geometry as the file states it; a follower without it is told by its own reader */
    const char *meta_paths[3] = {"/entry_1/instrument_1/source_1/energy", "/entry_1/instrument_1/detector_1/distance",
                                 "/entry_1/instrument_1/detector_1/x_pixel_size"};
    double *meta[3] = {&s->meta.energy_j, &s->meta.distance_m, &s->meta.pixel_m};
    for (int i = 0; i < 3 && rc == PTY_OK; i++)
        if (pty_h5_exists(f, meta_paths[i])) rc = pty_h5_read_scalar(f, path, meta_paths[i], meta[i]);
    H5Fclose(f);
    return rc;
}

int pty_cmd_replay(int argc, char **argv)
{
    static const char *synopsis = "--input SCAN.cxi --output LIVE.h5 [--rate HZ] [--batch N] [--stop-after N]";
    const char *input = NULL, *output = NULL;
    double rate = 500.0;
    int batch = 1, stop_after = 0, quiet = 0, hide_plan = 0;
    const pty_option opts[] = {
        PTY_OPT("input", PTY_OPT_STRING, &input, 1, 0, "finished CXI scan to write again (required)"),
        PTY_OPT("output", PTY_OPT_STRING, &output, 1, 0, "the growing SWMR file (required; replaced if it exists)"),
        PTY_OPT("rate", PTY_OPT_DOUBLE, &rate, 0.001, 1e7, "frames per second"),
        PTY_OPT("batch", PTY_OPT_INT, &batch, 1, 100000, "frames per write (a detector's readout burst)"),
        PTY_OPT("stop-after", PTY_OPT_INT, &stop_after, 0, 100000000, "stop after this many frames without marking the scan complete, as a writer that died (0: write all)"),
        PTY_OPT("hide-plan", PTY_OPT_FLAG, &hide_plan, 1, 0, "leave out the planned positions (/entry_1/live/planned_translation), as a writer that does not know the scan ahead: a follower then grows the object as positions arrive"),
        PTY_OPT("quiet", PTY_OPT_FLAG, &quiet, 1, 0, "no progress lines"),
    };
    pty_opt_block block;
    PTY_OPT_BLOCK(&block, "replay", opts, NULL, NULL);
    const char *positional[1];
    int n_positional = 0;
    PTY_TRY(pty_args_parse("replay", synopsis, argc, argv, 2, &block, 1, positional, 0, &n_positional));
    PTY_CHECK(input && output, PTY_ERR_ARG, "ptycho replay: give --input SCAN.cxi and --output LIVE.h5");
    PTY_CHECK(strcmp(input, output) != 0 && !pty_same_file(input, output), PTY_ERR_ARG,
              "ptycho replay: --output %s would overwrite the input", output);

    replay_scan s = {0};
    pty_live_writer *w = NULL;
    int rc = read_scan(input, &s);
    const int total = rc == PTY_OK ? (stop_after > 0 && stop_after < s.n ? stop_after : s.n) : 0;
    if (rc == PTY_OK && !hide_plan) {
        s.meta.planned_translation = s.translation;
        s.meta.n_planned = s.n;
    }
    if (rc == PTY_OK) rc = pty_live_create(output, s.m, s.n, &s.meta, &w);
    if (rc == PTY_OK && !quiet) {
        printf("ptycho replay: %d frames of %dx%d from %s into %s at %g Hz%s\n", s.n, s.m, s.m, input, output, rate,
               total < s.n ? " (stopping early, scan left incomplete)" : "");
        fflush(stdout);
    }
    const double t0 = pty_now_s();
    for (int at = 0; rc == PTY_OK && at < total; at += batch) {
        const int nb = total - at < batch ? total - at : batch;
        pty_sleep_s(t0 + (at + nb) / rate - pty_now_s()); /* a burst leaves when its last frame has been exposed */
        rc = pty_live_append(w, s.frames + (size_t)at * s.m * s.m, s.translation + 3 * (size_t)at, nb);
    }
    if (rc == PTY_OK && total == s.n) rc = pty_live_finish(w);
    if (rc == PTY_OK && !quiet)
        printf("wrote %d frames in %.2f s%s\n", total, pty_now_s() - t0, total == s.n ? ", scan complete" : "");
    pty_live_close(w);
    free(s.frames);
    free(s.translation);
    return rc;
}
