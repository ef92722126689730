/* object_model.h - the complex transmission of a simulated sample.
 *
 * Either a built-in procedural Siemens star (phase spokes with smooth
 * features on a smooth magnitude) or two grayscale TIFF images (magnitude
 * and phase) resampled to the object grid.  Magnitude lies in
 * [magnitude_min, 1], phase in [0, phase_max]. */
#ifndef PTY_OBJECT_MODEL_H
#define PTY_OBJECT_MODEL_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PTY_OBJECT_STAR, /* procedural Siemens star */
    PTY_OBJECT_TIFF  /* magnitude and phase from two TIFF images */
} pty_object_kind;

typedef struct pty_object_spec {
    pty_object_kind kind;
    const char *magnitude_path; /* TIFF, required for PTY_OBJECT_TIFF */
    const char *phase_path;     /* TIFF, required for PTY_OBJECT_TIFF */
    double phase_max;           /* rad, phase spans [0, phase_max] */
    double magnitude_min;       /* magnitude spans [magnitude_min, 1], 0 <= magnitude_min <= 1 */
} pty_object_spec;

/* "star" or "tiff" (case-insensitive); PTY_ERR_ARG names the value otherwise. */
int pty_object_kind_parse(const char *s, pty_object_kind *kind);
const char *pty_object_kind_name(pty_object_kind kind);

/* Fill out (h*w, row-major) with the object of `spec`.
 *   star: 36 spokes of phase 0..phase_max (anti-aliased edges, contrast
 *     fading out near the centre where the spokes get finer than ~2 pixels),
 *     centred off the middle, plus a few smooth phase bumps, on a magnitude
 *     made of a few wide Gaussian dips, so the object has no symmetry a
 *     reconstruction could hide behind.  Depends only on h and w.
 *   tiff: each image read with pty_tiff_read_gray, resampled bilinearly
 *     (pixel centres aligned) to h x w, then mapped linearly from its own
 *     [min, max] onto the magnitude / phase range (a constant image gives
 *     magnitude 1 / phase 0).
 * PTY_ERR_ARG for bad sizes or ranges or a missing TIFF name (the message
 * names the flag), PTY_ERR_IO / PTY_ERR_DATA from the TIFF reader. */
int pty_object_model(const pty_object_spec *spec, int h, int w, pty_cf *out);

#ifdef __cplusplus
}
#endif
#endif /* PTY_OBJECT_MODEL_H */
