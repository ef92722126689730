/* opts_input.c - the input block: which file, which datasets, and the
 * geometry a file may lack or get wrong (pty_read_options). */
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "pty_error.h"

/* --positions-px names the positions dataset too, in pixels instead of metres. */
static int check_input(void *ctx)
{
    pty_input_flags *f = ctx;
    pty_read_options *ro = f->read;
    if (ro->frames_pattern) {
        const char *pc = strchr(ro->frames_pattern, '%');
        PTY_CHECK(pc && !strchr(pc + 1, '%') && strcspn(pc + 1, "diu") < strlen(pc + 1) &&
                      strspn(pc + 1, "0123456789") == strcspn(pc + 1, "diu"),
                  PTY_ERR_ARG, "--frames-pattern must hold one integer conversion such as %%06d, got '%s'",
                  ro->frames_pattern);
        PTY_CHECK(ro->frames_per_file >= 1, PTY_ERR_ARG, "--frames-pattern needs --frames-per-file");
        if (!ro->path) {
            /* the first file stands for the input: the messages and the geometry name it */
            static char first[4200];
            snprintf(first, sizeof first, ro->frames_pattern, ro->first_file);
            ro->path = first;
        }
    }
    if (!f->positions_px) return PTY_OK;
    PTY_CHECK(!f->read->positions, PTY_ERR_ARG, "give either --positions or --positions-px, not both");
    f->read->positions = f->positions_px;
    f->read->positions_px = 1;
    return PTY_OK;
}

void pty_opts_input(pty_opt_block *b, pty_input_flags *f)
{
    pty_read_options *ro = f->read;
    const pty_option table[] = {
        PTY_OPT("input", PTY_OPT_STRING, &ro->path, 1, 0, "input CXI/HDF5 file (or give it as the first argument)"),
        PTY_OPT("frames", PTY_OPT_STRING, &ro->frames, 1, 0, "frames dataset (N, H, W), detector-centred unless --crop, or a group of data_NNNNNN parts (a detector master) (default /entry_1/data_1/data, else /entry/data)"),
        PTY_OPT("positions", PTY_OPT_STRING, &ro->positions, 1, 0, "positions dataset in metres, CXI N x 3 or 3 x N (x, y, z) (default: CXI translation)"),
        PTY_OPT("positions-px", PTY_OPT_STRING, &f->positions_px, 1, 0, "positions dataset in object pixels, N x 2 (row, col), instead of --positions"),
        PTY_OPT("energy", PTY_OPT_DOUBLE, &ro->energy_ev, 1, 1e7, "photon energy, eV (default: from the file, J)"),
        PTY_OPT("distance", PTY_OPT_DOUBLE, &ro->distance_m, 1e-6, 1e3, "sample-detector distance, m (default: from the file)"),
        PTY_OPT("pixel-size", PTY_OPT_DOUBLE, &ro->pixel_m, 1e-9, 1.0, "detector pixel size, m (default: from the file)"),
        PTY_OPT("mask", PTY_OPT_STRING, &ro->mask, 1, 0, "mask dataset, detector-sized or (M, M), non-zero = bad (default CXI detector_1/mask, else a master's detectorSpecific/pixel_mask, if present)"),
        PTY_OPT("probe", PTY_OPT_STRING, &ro->probe, 1, 0, "initial probe dataset, complex (M, M) or (K, M, M) (default CXI source_1/illumination if present)"),
        PTY_OPT("transpose", PTY_OPT_FLAG, &ro->transpose, 1, 0, "swap the row and column of every position"),
        PTY_OPT("flip-x", PTY_OPT_FLAG, &ro->flip_x, 1, 0, "negate the horizontal (column) positions"),
        PTY_OPT("flip-y", PTY_OPT_FLAG, &ro->flip_y, 1, 0, "negate the vertical (row) positions"),
        PTY_OPT("frames-pattern", PTY_OPT_STRING, &ro->frames_pattern, 1, 0, "frames in numbered files instead: a printf pattern, e.g. scan_%06d.h5, each holding --frames (default /entry/data/data)"),
        PTY_OPT("first-file", PTY_OPT_INT, &ro->first_file, 0, 1000000000, "--frames-pattern: the first file's number (default 0)"),
        PTY_OPT("frames-per-file", PTY_OPT_INT, &ro->frames_per_file, 1, 1000000000, "--frames-pattern: frames in each file"),
        PTY_OPT("frame-count", PTY_OPT_INT, &ro->frame_count, 1, 1000000000, "--frames-pattern: frames in all (default: --raster's rows x columns)"),
        PTY_CHOICE("half-set", &ro->half_set, pty_half_set_names, 3, "all|even|odd: reconstruct every frame, or one of the two interleaved halves (frames 0, 2, 4 ... or 1, 3, 5 ...), whose results 'ptycho frc' correlates"),
    };
    PTY_OPT_BLOCK(b, "input", table, check_input, f);
}
