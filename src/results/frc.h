/* frc.h - Fourier ring correlation of two aligned complex images: how far
 * out in spatial frequency two independent reconstructions of one object
 * agree (van Heel & Schatz, J. Struct. Biol. 151, 250 (2005) for the
 * half-bit threshold; the fixed 1/7 of Rosenthal & Henderson 2003).
 *
 *   FRC(k) = |sum_ring(k) A^ conj(B^)| / sqrt(sum_ring |A^|^2 sum_ring |B^|^2)
 *
 * over rings of width one frequency bin (1/N cycles per pixel) of the 2-D
 * spectra of A and B, each apodised by the same Tukey window and zero-padded
 * to an N x N square (N the larger side, even).  The images must already be
 * registered (stitch/align, as `ptycho compare` does): FRC itself removes
 * no shift, phase or ramp. */
#ifndef PTY_FRC_H
#define PTY_FRC_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pty_frc_curve {
    int n_rings;        /* N/2 + 1: ring k at frequency k/N cycles per pixel, k = 0 .. N/2 */
    int size;           /* N */
    double *frc;        /* n_rings values in [0, 1] */
    double *half_bit;   /* the half-bit threshold of each ring, (0.2071 + 1.9102/sqrt(n)) / (1.2071 + 0.9102/sqrt(n)) */
    long *n_pixels;     /* Fourier pixels in each ring */
    /* where the curve first falls below each threshold (from ring 1 on, linear between the rings
       around the crossing), in cycles per pixel; 0.5 (Nyquist) when it never does */
    double cross_half_bit, cross_one_seventh;
} pty_frc_curve;

/* Tukey taper of the window's edges: this fraction of each side, so the
 * image edges do not correlate as a sharp frame. */
#define PTY_FRC_TAPER 0.125

/* FRC of a and b (h x w, row-major, already aligned).  Errors: PTY_ERR_ARG
 * (NULL, sides < 8), PTY_ERR_DATA (non-finite values, an image without
 * power), PTY_ERR_NOMEM, PTY_ERR_FFT.  Free with pty_frc_free. */
int pty_frc(const pty_cf *a, const pty_cf *b, int h, int w, pty_frc_curve *out);
void pty_frc_free(pty_frc_curve *c);

/* The curve as CSV (ring, frequency per px and per nm (0 without a pixel
 * size, m), FRC, half-bit, 1/7, pixels) and as a PNG plot (frequency 0 to
 * Nyquist across, FRC 0 to 1 up: the curve black, the half-bit threshold
 * grey, 1/7 dashed, the half-bit crossing a dotted line).  Written under a
 * temporary name and renamed.  Errors: PTY_ERR_IO, PTY_ERR_NOMEM. */
int pty_frc_write_csv(const char *path, const pty_frc_curve *c, double pixel_size);
int pty_frc_write_png(const char *path, const pty_frc_curve *c);

/* Resolution of a crossing frequency f: the full period 1/f, in pixels. */
static inline double pty_frc_period(double f) { return f > 0 ? 1.0 / f : INFINITY; }

#ifdef __cplusplus
}
#endif
#endif /* PTY_FRC_H */
