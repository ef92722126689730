/* position_file.h - probe positions from a text file beside the frames.
 *
 * At a beamline the positions often come from another system than the
 * detector (interferometers, the motion controller, a fly-scan's trigger
 * box) and land in a CSV or whitespace table, one row per trigger.  Rows
 * are matched to frames by a trigger (frame number) column when there is
 * one, else row k is frame k.  A detector may miss triggers and a recorder
 * may drop rows: frames without a row are left out and rows without a frame
 * ignored, each named in one warning, so a shifted scan is never
 * reconstructed silently. */
#ifndef PTY_POSITION_FILE_H
#define PTY_POSITION_FILE_H

#include "cxi_read.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read o->positions_file (a text table; see pty_read_options) for a scan of
 * n_frames frames whose object pixel is dx metres (0 when unknown: then only
 * pixel units work).  Gives the frames that have a position: *index (n of
 * them, increasing frame numbers) and *positions (n x 2 object pixels, (row,
 * col), with o's transpose and flips), both malloc'ed.  Errors name the file,
 * the line and the flag: PTY_ERR_IO (cannot open), PTY_ERR_DATA (a column
 * missing, a non-number, a non-integer or repeated trigger, units unknown,
 * no frame with a position), PTY_ERR_ARG (bad flags). */
int pty_position_file_read(const pty_read_options *o, int n_frames, double dx, double **positions, int **index, int *n);

#ifdef __cplusplus
}
#endif
#endif /* PTY_POSITION_FILE_H */
