/* opts_input.c - the input block: which file, which datasets, and the
 * geometry a file may lack or get wrong (pty_read_options). */
#include "opts.h"
#include "pty_error.h"

/* --positions-px names the positions dataset too, in pixels instead of metres. */
static int check_input(void *ctx)
{
    pty_input_flags *f = ctx;
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
        PTY_OPT("frames", PTY_OPT_STRING, &ro->frames, 1, 0, "frames dataset (N, M, M), detector-centred (default /entry_1/data_1/data)"),
        PTY_OPT("positions", PTY_OPT_STRING, &ro->positions, 1, 0, "positions dataset in metres, CXI N x 3 or 3 x N (x, y, z) (default: CXI translation)"),
        PTY_OPT("positions-px", PTY_OPT_STRING, &f->positions_px, 1, 0, "positions dataset in object pixels, N x 2 (row, col), instead of --positions"),
        PTY_OPT("energy", PTY_OPT_DOUBLE, &ro->energy_ev, 1, 1e7, "photon energy, eV (default: from the file, J)"),
        PTY_OPT("distance", PTY_OPT_DOUBLE, &ro->distance_m, 1e-6, 1e3, "sample-detector distance, m (default: from the file)"),
        PTY_OPT("pixel-size", PTY_OPT_DOUBLE, &ro->pixel_m, 1e-9, 1.0, "detector pixel size, m (default: from the file)"),
        PTY_OPT("mask", PTY_OPT_STRING, &ro->mask, 1, 0, "mask dataset (M, M), 0 = good (default CXI detector_1/mask if present)"),
        PTY_OPT("probe", PTY_OPT_STRING, &ro->probe, 1, 0, "initial probe dataset, complex (M, M) or (K, M, M) (default CXI source_1/illumination if present)"),
        PTY_OPT("transpose", PTY_OPT_FLAG, &ro->transpose, 1, 0, "swap the row and column of every position"),
        PTY_OPT("flip-x", PTY_OPT_FLAG, &ro->flip_x, 1, 0, "negate the horizontal (column) positions"),
        PTY_OPT("flip-y", PTY_OPT_FLAG, &ro->flip_y, 1, 0, "negate the vertical (row) positions"),
        PTY_CHOICE("half-set", &ro->half_set, pty_half_set_names, 3, "all|even|odd: reconstruct every frame, or one of the two interleaved halves (frames 0, 2, 4 ... or 1, 3, 5 ...), whose results 'ptycho frc' correlates"),
    };
    PTY_OPT_BLOCK(b, "input", table, check_input, f);
}
