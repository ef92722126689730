/* opts_detector.c - the detector block: from a detector's images to the
 * frames ePIE fits (pty_read_options' preparation fields, detector_prep.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "pty_error.h"

/* --center ROW,COL or fit. */
static int check_detector(void *ctx)
{
    pty_input_flags *f = ctx;
    pty_read_options *ro = f->read;
    if (!f->center) return PTY_OK;
    if (strcmp(f->center, "fit") == 0) {
        ro->center_fit = 1;
        return PTY_OK;
    }
    char extra;
    PTY_CHECK(sscanf(f->center, "%lf,%lf%c", &ro->center[0], &ro->center[1], &extra) == 2 && isfinite(ro->center[0]) &&
                  isfinite(ro->center[1]),
              PTY_ERR_ARG, "--center must be ROW,COL (detector pixels) or fit, got '%s'", f->center);
    return PTY_OK;
}

void pty_opts_detector(pty_opt_block *b, pty_input_flags *f)
{
    pty_read_options *ro = f->read;
    const pty_option table[] = {
        PTY_OPT("crop", PTY_OPT_INT, &ro->crop, PTY_MIN_FRAME, PTY_MAX_FRAME, "reconstruct the M x M frames (after --bin) around the beam centre (default: the frames as stored, which must then be square)"),
        PTY_OPT("center", PTY_OPT_STRING, &f->center, 1, 0, "beam centre ROW,COL in detector pixels, or fit (the centroid of the summed frames) (default: the file's beam_center_y/x, else the middle)"),
        PTY_OPT("bin", PTY_OPT_INT, &ro->bin, 1, 64, "sum B x B detector pixels into one (a binned pixel with a bad part is masked)"),
        PTY_OPT("saturation", PTY_OPT_DOUBLE, &ro->saturation, 1e-30, 1e300, "counts at or above this are masked in that frame (default: the file's count cutoff, else the largest value of integer frames)"),
        PTY_OPT("mask-file", PTY_OPT_STRING, &ro->mask_file, 1, 0, "TIFF mask, non-zero = bad, detector-sized or M x M, added to the file's mask"),
        PTY_OPT("dark", PTY_OPT_STRING, &ro->dark, 1, 0, "dark/background counts subtracted before binning (negatives become 0): a .tif file, or a dataset (H, W) or (K, H, W) in the input"),
    };
    PTY_OPT_BLOCK(b, "detector", table, check_detector, f);
}
