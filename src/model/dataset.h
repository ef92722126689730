/* dataset.h - a ptychography scan held in memory, ready for reconstruction.
 *
 * Whatever the file layout, readers and the simulator produce this one
 * struct: amplitudes in FFT order with the mask folded in, positions in
 * object pixels, geometry in SI units. */
#ifndef PTY_DATASET_H
#define PTY_DATASET_H

#include "detector_prep.h"
#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Frame sides the library takes: below 8 px there is no ptychography, above
 * 8192 px one frame's FFT work area alone passes 0.5 GiB. */
#define PTY_MIN_FRAME 8
#define PTY_MAX_FRAME 8192
/* Probe modes a probe may hold (more has never been useful: 15 suffice for
 * fly scans, DESIGN.md). */
#define PTY_MAX_PROBE_MODES 256

typedef struct pty_dataset {
    int n_frames;          /* N */
    int m;                 /* frames are m x m pixels */
    float *amplitudes;     /* N*m*m: sqrt(I) in FFT order (zero frequency at [0][0]);
                              PTY_MASKED where the pixel is unconstrained */
    double *positions;     /* N*2: probe-centre (row, col) in object pixels; the
                              origin is arbitrary, only differences matter */
    double wavelength;     /* m, 0 when unknown */
    double distance;       /* sample-detector distance, m, 0 when unknown */
    double detector_pixel; /* m, 0 when unknown */
    double pixel_size;     /* object pixel size lambda*z/(m*p), m, 0 when unknown */
    pty_cf *probe;         /* probe_modes*m*m initial probe, real space, centred;
                              NULL when the input has none */
    int probe_modes;
    long n_masked;         /* detector pixels left unconstrained, summed over frames */
    pty_detector_info detector; /* how the frames were prepared from the detector's (zero: as given) */
} pty_dataset;

/* Photons: joules per electronvolt, and h c in J m, so lambda = PTY_HC_J_M / E
 * (exact, SI 2019). */
#define PTY_EV_J 1.602176634e-19
#define PTY_HC_J_M (6.62607015e-34 * 299792458.0)

/* The object pixel of far-field ptychography, lambda z / (m p), m; 0 when
 * any of the three is unknown (<= 0). */
static inline double pty_object_pixel_size(double wavelength, double distance, int m, double detector_pixel)
{
    return wavelength > 0 && distance > 0 && detector_pixel > 0 && m > 0 ? wavelength * distance / (m * detector_pixel)
                                                                           : 0.0;
}

/* Allocate an empty dataset of n frames of m x m (amplitudes and positions
 * zeroed, no probe).  Free with pty_dataset_destroy. */
int pty_dataset_create(int n_frames, int m, pty_dataset **out);

/* The same around n_frames detector-centred intensity frames (m*m each,
 * malloc'ed), turned into the dataset's amplitudes in place (as
 * pty_dataset_set_frame, no mask): the dataset owns them from now on, on
 * failure too.  For frames made in memory, which a copy would hold twice. */
int pty_dataset_adopt(int n_frames, int m, float *intensities, pty_dataset **out);

/* Free everything the dataset owns; NULL is a no-op. */
void pty_dataset_destroy(pty_dataset *d);

/* Fill frame j's amplitudes from detector-centred intensities `intensity`
 * (m*m, zero frequency at pixel (m/2, m/2)): take sqrt, move to FFT order,
 * and mark as PTY_MASKED every pixel that is non-finite, negative, or
 * flagged in `mask` (m*m, non-zero = bad, may be NULL).  Returns the number
 * of pixels masked because of bad values (not counting `mask`). */
long pty_dataset_set_frame(pty_dataset *d, int j, const float *intensity, const unsigned char *mask);

/* The Fourier error photon noise alone leaves (convergence.h): sum over
 * unmasked pixels of min(I, 1/4), over sum I; 0 without counts.  *total
 * (may be NULL) gets sum I, pty_dataset_total_intensity from the same pass. */
double pty_dataset_noise_floor(const pty_dataset *d, double *total);

/* Frame j's measured intensity at unmasked pixels; *noise gets its part of
 * the noise floor's numerator (sum of min(I, 1/4)). */
double pty_dataset_frame_counts(const pty_dataset *d, int j, double *noise);

/* Sum over all frames of measured intensity at unmasked pixels, the
 * denominator of the Fourier error. */
double pty_dataset_total_intensity(const pty_dataset *d);

#ifdef __cplusplus
}
#endif
#endif /* PTY_DATASET_H */
