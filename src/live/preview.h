/* preview.h - what a person at the beamline watches while a scan is
 * reconstructed as it arrives: files in one directory, each replaced
 * atomically (written under a temporary name, then renamed), so a viewer
 * never sees half a file.
 *
 *   object_phase.png, object_magnitude.png  8-bit quick-looks (0.5-99.5 percentile range)
 *   object_phase.tif, object_magnitude.tif  float32 (Fiji, tifffile)
 *   probe_modes.png   |P_k| side by side, strongest first, each on its own scale
 *   error.svg         Fourier error per iteration (log scale), the frames' arrival marked
 *   status.json       the numbers (pty_live_status); status.js the same for the page
 *   index.html        written once: opened from disk in any browser (no server), it shows the
 *                     images, the curve and the numbers and reloads them as they change */
#ifndef PTY_PREVIEW_H
#define PTY_PREVIEW_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a followed reconstruction stands. */
typedef struct pty_live_status {
    const char *state;          /* "waiting", "following", "final", "done", "stalled" */
    const char *input;          /* the file followed */
    int iteration;              /* passes done */
    double error;               /* Fourier error of the last pass (0 before the first) */
    long long available;        /* frames the source holds */
    long long seen;             /* frames read from it */
    int used;                   /* frames in the passes */
    int missing, duplicate;     /* frames skipped: unwritten or without a position; repeated */
    long long planned;          /* frames the scan will have (0: unknown) */
    double started_unix;        /* when the follower started, seconds since 1970 (to line up with other logs) */
    double elapsed_s;           /* since the follower started */
    double frame_updates_per_s; /* over the last pass */
    double lag_s;               /* how long the oldest frame not yet in the passes has been waiting (0: none) */
    int preview;                /* this preview's number, from 1 */
} pty_live_status;

/* Write index.html into dir (created if missing), reloading every refresh_s. */
int pty_preview_page(const char *dir, double refresh_s);

typedef struct pty_preview {
    const pty_cf *object;
    int obj_h, obj_w;
    double pixel_size;          /* m, 0 unknown (for the TIFFs) */
    const pty_cf *probe;
    int n_modes, m;
    const double *errors;
    int n_errors;
    const int *arrivals;        /* n_arrivals iterations at which frames joined (marked on the curve) */
    int n_arrivals;
    const pty_live_status *status;
} pty_preview;

/* Replace every preview file in dir. */
int pty_preview_write(const char *dir, const pty_preview *pv);

#ifdef __cplusplus
}
#endif
#endif /* PTY_PREVIEW_H */
