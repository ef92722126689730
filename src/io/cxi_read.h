/* cxi_read.h - read a ptychography scan from a CXI (or any HDF5) file.
 *
 * Every dataset path can be overridden, since beamline files rarely follow
 * CXI exactly (DESIGN.md §2).  The reader validates shapes, counts, units and
 * values before the large frame read, and fails with one message naming the
 * file, the dataset and the flag that would fix it. */
#ifndef PTY_CXI_READ_H
#define PTY_CXI_READ_H

#include <hdf5.h>

#include "dataset.h"
#include "detector_prep.h"
#include "frame_series.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CXI default paths (SI units: J, m). */
#define PTY_CXI_FRAMES "/entry_1/data_1/data"
#define PTY_CXI_ENERGY "/entry_1/instrument_1/source_1/energy"
#define PTY_CXI_DISTANCE "/entry_1/instrument_1/detector_1/distance"
#define PTY_CXI_PIXEL "/entry_1/instrument_1/detector_1/x_pixel_size"
#define PTY_CXI_MASK "/entry_1/instrument_1/detector_1/mask"
#define PTY_CXI_PROBE "/entry_1/instrument_1/source_1/illumination"


/* Two independent halves of one scan, for a Fourier ring correlation of
 * their reconstructions (`ptycho frc`): interleaved, so each covers the
 * whole area at twice the step.  Names for --half-set, indexed by value. */
enum { PTY_HALF_ALL = 0, PTY_HALF_EVEN = 1, PTY_HALF_ODD = 2 };
extern const char *const pty_half_set_names[3];

typedef struct pty_read_options {
    const char *path;      /* input file */
    const char *frames;    /* (N, M, M) intensities, detector-centred (zero frequency at (M/2, M/2)),
                              any integer or float type; default (and NULL) PTY_CXI_FRAMES */
    const char *positions; /* NULL = the first existing of /entry_1/data_1/translation,
                              /entry_1/sample_1/geometry_1/translation,
                              /entry_1/instrument_1/detector_1/translation */
    int positions_px;      /* 1: positions are (N, 2) object pixels, columns (row, col);
                              0: metres, N x 3, 3 x N or N x 2, columns (x, y[, z]) */
    const char *energy;    /* photon energy, J; default PTY_CXI_ENERGY (NULL: not in the file) */
    const char *distance;  /* sample-detector distance, m; default PTY_CXI_DISTANCE (NULL: not in the file) */
    const char *pixel;     /* detector pixel size, m (square pixels); default PTY_CXI_PIXEL (NULL: not in the file) */
    const char *mask;      /* (M, M), 0 = good, non-zero = bad; optional at the default path
                              PTY_CXI_MASK, required when another path is given; NULL = none */
    const char *probe;     /* complex (h5py r/i compound) (M, M) or (K, M, M), real space,
                              centred; optional at PTY_CXI_PROBE, required elsewhere; NULL = none */
    double energy_ev, distance_m, pixel_m; /* overrides of the file's values when > 0 (energy in eV) */
    int transpose, flip_x, flip_y;         /* applied, in this order, to (row, col) after unit
                                              conversion: swap; negate col; negate row */
    int half_set;            /* PTY_HALF_*: every frame, or one of the two interleaved halves (frames
                                0, 2, 4 ... or 1, 3, 5 ...), which then is the scan: positions,
                                counts and frame_subset's indices are the half's */
    const int *frame_subset; /* NULL: all frames; else n_subset distinct frame indices, strictly
                                increasing, to read only those (one MPI rank's share) */
    int n_subset;
    /* Positions from another file than the frames: */
    const char *positions_file;   /* a text table (CSV, tabs or spaces; '#' comments; an optional header
                                     line naming the columns: position_file.h), or an HDF5 file holding
                                     the dataset `positions` names (default: CXI's translation) */
    const char *position_columns; /* "X,Y": the columns of x (horizontal: the object's columns) and y, by
                                     header name or 1-based number; NULL: the header's x..., y...,
                                     else columns 1 and 2 */
    const char *trigger_column;   /* the column of frame numbers (triggers), by name or number; NULL:
                                     row k is frame k */
    int first_trigger;            /* the trigger number of frame 0 */
    const char *position_units;   /* "nm", "um", "mm", "m" or "px" (object pixels); NULL: from the
                                     header's names (x_um, y[nm]) */
    double position_scale[2];     /* x and y are multiplied by these (a sign, cos(chi) of a rotated
                                     sample); 0: 1 */
    /* Frames in numbered files (as ptychopy reads them: frame_series.h), and a raster scan: */
    const char *frames_pattern; /* printf pattern of the files, e.g. "scan_%06d.h5"; NULL: the input's */
    int first_file;             /* the number of the first file */
    int frames_per_file;        /* frames in each file */
    int frame_count;            /* frames in all (0: raster rows x cols) */
    int raster[2];              /* rows, cols > 0: positions of a raster, row by row (the column fast),
                                   centred on zero, instead of a positions dataset */
    double raster_step[2];      /* its steps between rows and between columns, m */
    /* Detector preparation (detector_prep.h), for frames as a detector writes them: */
    int crop;                /* frame side M after binning; 0: the frames' own side (square frames) */
    int bin;                 /* pixels summed per side (0 or 1: none) */
    double center[2];        /* beam centre (row, col), detector pixels; NaN: the file's (Eiger
                                beam_center_y, beam_center_x), else the detector's middle */
    int center_fit;          /* 1: the centroid of the summed frames instead */
    double saturation;       /* counts at or above are unusable; 0: the file's cutoff (Eiger), else
                                the largest value of an integer type (a detector's overflow mark) */
    const char *mask_file;   /* a TIFF mask (non-zero = bad), detector-sized or M x M, added to the file's */
    const char *dark;        /* dark/background counts to subtract: a TIFF file (.tif, .tiff) or a
                                dataset in the input, (H, W) or (K, H, W) averaged */
} pty_read_options;

/* Fill `o` with the CXI defaults above: no overrides, no transpose or flips,
 * metre positions found by searching the CXI translation paths, all frames. */
void pty_read_options_default(pty_read_options *o);

/* Read the scan described by `o` into a new dataset (free it with
 * pty_dataset_destroy): amplitudes sqrt(I) in FFT order with the mask, NaN,
 * Inf and negative pixels marked PTY_MASKED (one warning gives their count);
 * positions in object pixels (row, col).  A frame with no counts at any
 * usable pixel (never written: HDF5 gives the fill value; or damaged) is
 * left out, every pixel masked, and one warning names such frames; pixels
 * above 1000 times the median frame's largest count are masked as not
 * measurements, with one warning naming the largest.
 *
 * With o->frame_subset the dataset holds only those frames and their
 * positions, in that order (n_frames = n_subset), read through an HDF5
 * hyperslab selection; everything else (counts, shapes, geometry, positions,
 * mask, probe) is still validated against the whole file, with the same
 * messages.  A subset that is empty, not strictly increasing or holds an index
 * outside [0, N) is PTY_ERR_ARG naming the index and N.  The check that some
 * frame has signal is made only when reading all frames: a rank's share may
 * legitimately be dark, so a caller reading subsets checks the total itself
 * (pty_dataset_total_intensity summed over ranks).
 *
 * Metre positions become pixels through dx = lambda z / (M p), lambda = h c / E:
 * row = y / dx, col = x / dx.  Energy, distance and pixel size are then
 * required (from the file or the overrides); with pixel positions they are
 * optional and the dataset's geometry fields stay 0 where unknown.
 *
 * Errors (message names file and dataset): PTY_ERR_ARG (bad frame subset),
 * PTY_ERR_IO (cannot open), PTY_ERR_HDF5 (not HDF5, missing dataset, wrong
 * shape or type, frames that cannot be read or decompressed), PTY_ERR_DATA
 * (count mismatch, non-finite position, non-positive geometry, no frame with
 * counts at a usable pixel), PTY_ERR_NOMEM.  On failure *out is NULL and
 * nothing is left open or allocated. */
int pty_dataset_read(const pty_read_options *o, pty_dataset **out);

/* Read only the probe positions of all N frames (N x 2, object pixels, (row,
 * col), after unit conversion, transpose and flips, exactly as
 * pty_dataset_read gives them for all frames) and the frame side m, e.g. to
 * partition the scan among MPI ranks before each reads its frames.
 * *positions is malloc'ed (free it with free).  Same validation and messages
 * as pty_dataset_read, mask and probe included, except that frames are not
 * read; o->frame_subset is ignored.  On failure *positions is NULL and *n =
 * *m = 0. */
int pty_positions_read(const pty_read_options *o, double **positions, int *n, int *m);

/* The same in two steps, for a reader that needs the positions before it
 * knows which frames to read (MPI ranks take their block's): the checks
 * and positions once (pty_scan_open: the header, masks, dark, a fitted
 * centre, the position file, each with its warnings), then any frame subset
 * (pty_scan_read, o->frame_subset's rules and messages), as often as
 * wanted.  pty_dataset_read and pty_positions_read are these.  The
 * positions are the scan's own (valid until pty_scan_close). */
typedef struct pty_scan pty_scan;
int pty_scan_open(const pty_read_options *o, pty_scan **out);
const double *pty_scan_positions(const pty_scan *s, int *n, int *m);
int pty_scan_read(const pty_scan *s, const int *subset, int n_subset, pty_dataset **out);
void pty_scan_close(pty_scan *s);

/* What a scan file holds besides its frames and positions (a file being
 * written reads this once, then its frames as they come: live_read.h). */
typedef struct pty_scan_header {
    const char *frames;      /* the frames dataset's (or parts group's) path */
    pty_frame_series series; /* the frames, open */
    int n, m;                /* frames in the file now, prepared frame side */
    double wavelength, distance, detector_pixel, pixel_size; /* as pty_dataset's (detector_pixel binned) */
    unsigned char *mask;     /* m x m, non-zero = bad, or NULL */
    pty_cf *probe;           /* probe_modes x m x m, or NULL */
    int probe_modes;
    /* the detector window and its preparation */
    int height, width;       /* frames as stored */
    int r0, c0;              /* the window's first detector pixel (may lie outside) */
    pty_detector_prep prep;  /* its dark and mask point at the two below */
    float *dark;             /* win x win or NULL */
    unsigned char *raw_mask; /* win x win or NULL */
    pty_detector_info info;  /* what was done, for the result */
} pty_scan_header;

/* Read and check the header of the open file (o->path names it in
 * messages), with the messages pty_dataset_read gives; a file still being
 * written may hold no frames yet when allow_empty.  Free with
 * pty_scan_header_free (also after a failure). */
int pty_scan_header_read(hid_t file, const pty_read_options *o, int allow_empty, pty_scan_header *h);
void pty_scan_header_free(pty_scan_header *h);

/* 1 when frames are used as stored but for the saturation count: no
 * window, binning, dark or detector-sized mask (what the live reader,
 * which reads whole frames, accepts). */
int pty_scan_header_plain(const pty_scan_header *h);

/* Frames index[0 .. count) (increasing) of the header's series, prepared,
 * into out (count x m x m detector-centred intensities) and masks (count x
 * m x m, 1 = unusable; the header's m x m mask included).  scratch holds
 * count x win x win floats (unused when the header is plain: the frames are
 * read into out directly).  *saturated (may be NULL) is increased by the
 * raw pixels at or above the saturation count. */
int pty_scan_frames_read(const pty_scan_header *h, const int *index, int count, float *scratch, float *out,
                         unsigned char *masks, long *saturated);

/* The positions dataset o names, or the first CXI translation path present. */
int pty_positions_path(hid_t file, const pty_read_options *o, const char **path);

/* One position as stored (a, b: (row, col) pixels with o->positions_px,
 * else (x, y) metres; dx the object pixel size) into object pixels
 * (row, col), with o's transpose and flips.  Returns 0 when not finite. */
int pty_position_to_pixels(const pty_read_options *o, double a, double b, double dx, double out[2]);

#ifdef __cplusplus
}
#endif
#endif /* PTY_CXI_READ_H */
