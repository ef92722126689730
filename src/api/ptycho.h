/* ptycho.h - the public C interface of libptycho: ePIE ptychographic
 * reconstruction with incoherent probe modes, on the CPU or a CUDA GPU.
 *
 * One header, no HDF5, CUDA or MPI types: a program (or the Python binding
 * in python/) builds a scan from its own arrays or reads a CXI file, names
 * its settings exactly as `ptycho recon` names its flags, plans once and
 * iterates as often as it likes, reads the object, probe and errors back
 * and writes the same result files as the command line.
 *
 *     ptycho_settings *s;  ptycho_scan *scan;  ptycho_recon *r;
 *     ptycho_settings_create(&s);
 *     ptycho_settings_set(s, "modes", "3");
 *     ptycho_scan_read("scan.cxi", s, &scan);          // or ptycho_scan_create
 *     ptycho_recon_create(scan, s, &r);
 *     ptycho_recon_iterate(r, 100, NULL, NULL);
 *     ptycho_recon_write(r, "result", 1);              // result.h5 and TIFFs
 *
 * Every function returning int returns PTYCHO_OK (0) or a PTYCHO_ERR_*
 * status and never exits; ptycho_error_message() then says what failed,
 * naming the file, dataset or setting.  Conventions (DESIGN.md): complex
 * arrays are interleaved float32 (re, im), row-major; positions are probe
 * centres (row, col) in object pixels, any origin; intensities are
 * detector-centred (zero frequency at pixel (m/2, m/2)).  Not thread-safe:
 * use one thread per process (the library runs its own threads). */
#ifndef PTYCHO_H
#define PTYCHO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTYCHO_VERSION_MAJOR 0
#define PTYCHO_VERSION_MINOR 1
#define PTYCHO_VERSION_PATCH 0

/* Statuses (the values of the library's PTY_* codes). */
enum {
    PTYCHO_OK = 0,
    PTYCHO_ERR_ARG,      /* bad argument or setting */
    PTYCHO_ERR_IO,       /* a file cannot be opened, read, written or renamed */
    PTYCHO_ERR_HDF5,     /* not HDF5, a dataset missing, or of the wrong shape or type */
    PTYCHO_ERR_DATA,     /* inconsistent data (counts, NaN, geometry) */
    PTYCHO_ERR_FFT,      /* FFT planning failed */
    PTYCHO_ERR_GPU,      /* CUDA error or no usable device */
    PTYCHO_ERR_MPI,      /* MPI call failed */
    PTYCHO_ERR_NOMEM,    /* an allocation failed */
    PTYCHO_ERR_DIVERGED  /* the reconstruction diverged */
};

/* Interleaved single-precision complex, as numpy's complex64. */
typedef struct ptycho_complex {
    float re, im;
} ptycho_complex;

/* "0.1.0": the library's version (a program may have been built against
 * another header: compare with PTYCHO_VERSION_*). */
const char *ptycho_version(void);

/* What the last failing call said, "" when none; valid until the next call. */
const char *ptycho_error_message(void);

/* A status's name, e.g. "bad argument". */
const char *ptycho_status_name(int status);

/* ---- messages --------------------------------------------------------- */
enum { PTYCHO_LOG_ERROR = 0, PTYCHO_LOG_WARN = 1, PTYCHO_LOG_INFO = 2, PTYCHO_LOG_DEBUG = 3 };

/* Lines the library would print (warnings, the probe search's choice, ...)
 * go to `sink` instead of stdout/stderr: level and the line without
 * prefix or newline.  NULL: back to the streams. */
typedef void (*ptycho_log_fn)(void *user, int level, const char *line);
void ptycho_set_log(ptycho_log_fn sink, void *user);

/* Lines above `level` are dropped (default PTYCHO_LOG_INFO). */
void ptycho_set_log_level(int level);

/* ---- settings --------------------------------------------------------- */
/* Named settings: the names and values of `ptycho recon`'s flags without
 * the dashes ("modes" "3", "alpha" "0.5", "probe-model" "aperture",
 * "positions-px" "/entry/...", switches "on"/"off").  A value is checked
 * when the settings are used (ptycho_scan_read, ptycho_recon_create), with
 * the command line's message; setting a name twice keeps the last value.
 * `ptycho recon --help` lists them. */
typedef struct ptycho_settings ptycho_settings;

int ptycho_settings_create(ptycho_settings **out);
int ptycho_settings_set(ptycho_settings *s, const char *name, const char *value);
void ptycho_settings_destroy(ptycho_settings *s);

/* ---- scans ------------------------------------------------------------ */
typedef struct ptycho_scan ptycho_scan;

/* A scan from arrays: n_frames intensity frames of m x m (float32,
 * detector-centred), probe centres `positions` (n_frames x 2, (row, col)
 * object pixels) and an optional detector mask (m x m, non-zero = bad pixel;
 * NULL for none).  Non-finite and negative counts are masked.  The arrays
 * are read, not kept. */
int ptycho_scan_create(int n_frames, int m, const float *intensities, const double *positions, const uint8_t *mask,
                       ptycho_scan **out);

/* Optional physical geometry (all in metres; 0 = unknown): gives the
 * object's pixel size in the result and the lens model its scale. */
int ptycho_scan_set_geometry(ptycho_scan *scan, double wavelength, double distance, double detector_pixel);

/* The first probe (n_modes x m x m, real space, centred); without one a
 * reconstruction chooses it as `probe-model` says (default: a search). */
int ptycho_scan_set_probe(ptycho_scan *scan, int n_modes, const ptycho_complex *probe);

/* Read a CXI/HDF5 scan; the reader's settings (frames, positions,
 * positions-px, probe, mask, energy, distance, pixel-size, transpose,
 * flip-x, flip-y) come from `s` (NULL: CXI defaults). */
int ptycho_scan_read(const char *path, const ptycho_settings *s, ptycho_scan **out);

int ptycho_scan_shape(const ptycho_scan *scan, int *n_frames, int *m);
void ptycho_scan_destroy(ptycho_scan *scan);

/* ---- reconstruction ---------------------------------------------------- */
typedef struct ptycho_recon ptycho_recon;

/* Called after every iteration with its 0-based number, the iterations
 * asked of this call and the Fourier error; return non-zero to stop. */
typedef int (*ptycho_progress_fn)(void *user, int iteration, int n_iterations, double error);

/* Plan a reconstruction of `scan` (which must outlive it: frames are read
 * in place) with the ePIE settings of `s` (NULL: defaults): chooses the
 * first probe, plans the FFTs, uploads the frames.  The scan is not
 * changed. */
int ptycho_recon_create(const ptycho_scan *scan, const ptycho_settings *s, ptycho_recon **out);

/* Run n more iterations (continuing where the last call stopped).  A
 * progress callback that returns non-zero ends the call after that
 * iteration with PTYCHO_OK. */
int ptycho_recon_iterate(ptycho_recon *r, int n, ptycho_progress_fn progress, void *user);

/* The object grid: h x w pixels, position (0, 0) at (row, col) origin. */
void ptycho_recon_object_shape(const ptycho_recon *r, int *h, int *w, double origin[2]);
int ptycho_recon_get_object(const ptycho_recon *r, ptycho_complex *out);

/* The probe: n_modes x m x m. */
void ptycho_recon_probe_shape(const ptycho_recon *r, int *n_modes, int *m);
int ptycho_recon_get_probe(const ptycho_recon *r, ptycho_complex *out);

/* The probe centres (row, col) in object pixels, 2 per frame, in the
 * scan's frame of reference: where position correction
 * (--position-correction) has moved them, else the scan's own. */
int ptycho_recon_get_positions(const ptycho_recon *r, double *out);

/* Fourier error per iteration so far; the array is the recon's, valid
 * until the next iterate. */
const double *ptycho_recon_errors(const ptycho_recon *r, int *n);

/* Is the error where the data allow?  0: converged (within 5x the photon
 * noise floor, or fewer than 20 iterations to judge), 1: stalled far above
 * it, 2: far above it but still falling.  `advice` (may be NULL) gets the
 * command line's warning for 1 and 2, "" for 0. */
int ptycho_recon_verdict(const ptycho_recon *r, char *advice, size_t size);

/* "cpu" or "cuda", and how the first probe was chosen. */
const char *ptycho_recon_backend(const ptycho_recon *r);
const char *ptycho_recon_probe_start(const ptycho_recon *r);

/* PREFIX.h5 (the command line's result layout) and, with images != 0, its
 * TIFF and PNG images; files appear complete or not at all. */
int ptycho_recon_write(const ptycho_recon *r, const char *prefix, int images);

void ptycho_recon_destroy(ptycho_recon *r);

#ifdef __cplusplus
}
#endif
#endif /* PTYCHO_H */
