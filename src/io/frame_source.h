/* frame_source.h - the frames of a scan that is still being acquired,
 * wherever they come from.
 *
 * The follower (src/live/follow.h) asks a source how many frames exist and
 * reads them in acquisition order; it knows nothing of files or streams.
 * An HDF5 file written in SWMR mode (live_read.h) is one source; a network
 * stream (ZeroMQ, as PtyPy and NSLS-II's holoptycho receive Eiger frames)
 * would be a second, behind the same three calls, without touching the
 * engine or the follower. */
#ifndef PTY_FRAME_SOURCE_H
#define PTY_FRAME_SOURCE_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a source knows now. */
typedef struct pty_source_state {
    long long available; /* frames 0 .. available-1 (and their positions) can be read */
    long long planned;   /* frames the scan will have; 0: unknown */
    int complete;        /* 1: no more frames will come */
} pty_source_state;

typedef struct pty_frame_source pty_frame_source;
struct pty_frame_source {
    const char *name; /* the file or stream, for messages */
    /* Fixed once the source is open (as pty_dataset's fields): */
    int m;
    double wavelength, distance, detector_pixel, pixel_size;
    unsigned char *mask;      /* m x m, non-zero = bad, or NULL */
    pty_cf *probe;            /* probe_modes x m x m initial probe, or NULL */
    int probe_modes;
    double *planned_positions; /* n_planned x 2 probe centres (row, col), object pixels, of the whole
                                  scan as planned, or NULL: the object's extent when known */
    long long n_planned;
    /* The three calls; each returns PTY_OK or an error with its message. */
    int (*poll)(pty_frame_source *s, pty_source_state *out);
    /* frames first .. first+n-1 (all < available): intensities n x m x m, detector-centred as
       stored; positions n x 2 object pixels (row, col), NaN where the source has none */
    int (*read)(pty_frame_source *s, long long first, int n, float *intensities, double *positions);
    void (*close)(pty_frame_source *s); /* frees everything, the struct too */
    void *impl;
};

/* Close and free a source; NULL is a no-op. */
static inline void pty_source_close(pty_frame_source *s)
{
    if (s) s->close(s);
}

#ifdef __cplusplus
}
#endif
#endif /* PTY_FRAME_SOURCE_H */
