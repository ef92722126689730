/* frame_series.h - a scan's frames as one stack, however the file splits them.
 *
 * A CXI file holds its frames in one dataset.  A detector's master file
 * (Eiger, Velociprobe) holds a group whose members data_000001,
 * data_000002 ... are external links into data files of a few hundred or
 * thousand frames each, compressed chunk by chunk.  Both read here as frames
 * 0 .. n-1 in order (parts by their number), through one call that takes any
 * increasing set of frame indices and a detector window, so a reader never
 * sees where one part ends, and reads only the pixels it keeps. */
#ifndef PTY_FRAME_SERIES_H
#define PTY_FRAME_SERIES_H

#include <hdf5.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_frame_part {
    char path[1100];      /* the member, e.g. /entry/data/data_000002 */
    hid_t file;           /* a file of its own (pty_frame_series_open_files), else -1 */
    hid_t dset, space;
    long long first, count; /* its frames in the series */
} pty_frame_part;

typedef struct pty_frame_series {
    const char *file;     /* the file's name, for messages */
    char path[1024];      /* the dataset or group as given */
    pty_frame_part *parts;
    int n_parts;
    long long n;          /* frames in all parts */
    int height, width;    /* every part's frames are height x width */
} pty_frame_series;

/* Open `path` in `file` (named f in messages): a 3-D dataset (N, H, W) of
 * integer or float intensities, or a group whose members named data_<digits>
 * are such datasets of one frame shape (an external link is resolved beside
 * the file that holds it).  A member that cannot be opened (a data file
 * missing) or differs in shape or type is PTY_ERR_HDF5 naming it; the missing
 * path names the flag (--frames).  allow_empty: a series of no frames is
 * accepted (a file still being written).  Close with pty_frame_series_close,
 * also after a failure. */
int pty_frame_series_open(hid_t file, const char *f, const char *path, int allow_empty, pty_frame_series *s);
void pty_frame_series_close(pty_frame_series *s);

/* The frames of n_frames positions spread over numbered files, as ptychopy
 * reads them: frame k is frame k % per_file of the dataset `path` in the
 * file named by the printf pattern (one integer conversion, e.g.
 * "scan152_data_%06d.h5") at k / per_file + first.  A missing file, dataset
 * or frame is PTY_ERR_HDF5 (or PTY_ERR_IO) naming it. */
int pty_frame_series_open_files(const char *pattern, int first, int per_file, int n_frames, const char *path,
                                pty_frame_series *s);

/* Read frames index[0 .. count) (strictly increasing series indices), the
 * window of h x w pixels whose first is (r0, c0) (inside the frame), into out
 * (count x h x w floats).  A failure is explained: a compression filter this
 * HDF5 cannot load (naming the filter and the packages), else the first
 * frame that cannot be read on its own (corrupt data). */
int pty_frame_series_read(const pty_frame_series *s, const int *index, int count, int r0, int c0, int h, int w,
                          float *out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_FRAME_SERIES_H */
