/* live_write.h - a scan written as it is acquired: an HDF5 file in
 * single-writer/multiple-reader (SWMR) mode whose frames and positions grow
 * along their first axis, for readers that follow it (`ptycho replay`
 * makes one from a finished scan; `ptycho recon --follow` reads it through
 * live_read.h).
 *
 * Layout (CXI, every object made before SWMR starts, as SWMR requires):
 *   /entry_1/instrument_1/detector_1/data   (N, M, M) float32, chunks of one
 *       frame, N growing (soft link /entry_1/data_1/data)
 *   /entry_1/sample_1/geometry_1/translation (N, 3) float64, metres, (x, y, z)
 *       growing with the frames (soft link /entry_1/data_1/translation)
 *   energy (J), detector distance and pixel sizes (m), as a CXI file has them
 *   /entry_1/live/frames_planned  int64: frames the scan will have (0: unknown)
 *   /entry_1/live/frames_written  int64: frames and positions complete on disk
 *   /entry_1/live/complete        int32: 1 once the writer has finished
 *   /entry_1/live/planned_translation (P, 3) float64, metres: the whole scan
 *       as planned, when the writer knows it (optional; a follower sizes the
 *       object from it)
 * The protocol a reader relies on: the writer grows and fills both datasets
 * and flushes them before it raises frames_written, and sets complete last;
 * a reader reads frames_written (and complete) first and refreshes the
 * frames and translations after it, then takes frames [0, frames_written)
 * only, whatever the datasets' extents say (read the other way round, the
 * counter can be newer than the extents: seen in a test under load); a file
 * whose frames_written stops growing without complete = 1 is a writer that
 * stalled or died. */
#ifndef PTY_LIVE_WRITE_H
#define PTY_LIVE_WRITE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_live_meta {
    double energy_j, distance_m, pixel_m; /* 0: not known, not written */
    const double *planned_translation;    /* n_planned x 3 (x, y, z) metres, or NULL: not written */
    int64_t n_planned;
} pty_live_meta;

typedef struct pty_live_writer pty_live_writer;

/* Create `path` (truncating it) for frames of m x m with frames_planned
 * frames expected (0: unknown), and start SWMR writing. */
int pty_live_create(const char *path, int m, int64_t frames_planned, const pty_live_meta *meta,
                    pty_live_writer **out);

/* Append n frames (n*m*m counts) and their translations (n*3, metres),
 * flush, then raise frames_written. */
int pty_live_append(pty_live_writer *w, const float *frames, const double *translations, int n);

/* Set complete = 1 (the scan has ended: no more frames). */
int pty_live_finish(pty_live_writer *w);

/* Close the file (NULL: no-op); frames_written stays what it was. */
void pty_live_close(pty_live_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* PTY_LIVE_WRITE_H */
