/* detector_prep.h - from a detector image to the frame ePIE fits.
 *
 * A detector is larger than the region worth reconstructing and is not
 * centred on the beam; it has gaps, dead and hot pixels, a count at which it
 * saturates, and a background.  One frame is prepared in this order, each
 * step on raw counts where its meaning is defined:
 *
 *   window   the (m * bin)^2 pixels around the beam centre, read from the
 *            file
 *   invalid  flagged in the detector mask (gaps, dead and hot pixels, and
 *            pixels beyond the detector's edge) or at or above
 *            `saturation`: masked in this frame; NaN, Inf or negative:
 *            left NaN, which the dataset masks and reports as bad values
 *   dark     subtracted, the result clipped at 0 (counts are not negative)
 *   bin      bin x bin pixels summed into one; a binned pixel with any
 *            unusable part is unusable (a partial sum would read as a dip)
 *
 * The result is an m x m detector-centred intensity frame and its per-frame
 * mask, which pty_dataset_set_frame takes.  The same code runs for every
 * reader (offline, live), on one frame at a time. */
#ifndef PTY_DETECTOR_PREP_H
#define PTY_DETECTOR_PREP_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_detector_prep {
    int m;                     /* prepared frame side */
    int bin;                   /* >= 1 */
    int win;                   /* m * bin: the window's side on the detector */
    const float *dark;         /* win x win counts to subtract, or NULL */
    const unsigned char *mask; /* win x win, non-zero = bad pixel, or NULL */
    double saturation;         /* counts at or above are unusable; <= 0: no limit */
} pty_detector_prep;

/* What was done to a scan's frames, recorded with its result. */
typedef struct pty_detector_info {
    int height, width;         /* frames as stored; 0: not read from a file */
    int bin;                   /* 1: none */
    int r0, c0;                /* the window's first detector pixel */
    double centre[2];          /* beam centre (row, col), detector pixels */
    char centre_from[200];     /* "--center", "fitted (centroid of N frames)", the file's dataset, "middle" */
    double saturation;         /* counts at or above were unusable; 0: no limit */
    char saturation_from[200];
    char dark[1100];           /* where the dark came from; "" none */
    char mask[2300];           /* where the masks came from; "" none */
    long saturated;            /* raw pixels at or above the saturation count, all frames read */
} pty_detector_info;

/* Prepare one frame: raw (win x win counts) into out (m x m intensities,
 * NaN where a part held a bad value) and out_mask (m x m, 1 = masked in this
 * frame).  Returns the number of raw
 * pixels at or above the saturation count. */
long pty_detector_prep_frame(const pty_detector_prep *p, const float *raw, float *out, unsigned char *out_mask);

/* The beam centre of a summed detector image (h x w, NaN = unusable): the
 * intensity-weighted centroid of the pixels above a tenth of the brightest,
 * so a diffuse background does not pull it.  (row, col) in pixels; returns
 * 0 when nothing is above that level. */
int pty_detector_centroid(const double *sum, int h, int w, double centre[2]);

#ifdef __cplusplus
}
#endif
#endif /* PTY_DETECTOR_PREP_H */
