/* illumination.h - how strongly each object pixel was illuminated.
 *
 * w(r) = sum over positions j of sum_k |P_k(r - window_j)|^2: the weight of
 * a rank's partial object when overlapping partials are averaged or blended
 * (DESIGN.md §3), so a pixel seen by many bright positions counts more than
 * one at the edge of a block that only a probe's tail reached. */
#ifndef PTY_ILLUMINATION_H
#define PTY_ILLUMINATION_H

#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fill out (h*w) with the illumination of n windows (top-left (row, col),
 * n x 2, inside the h x w grid) by the K modes of an m x m probe.
 * Errors: PTY_ERR_NOMEM. */
int pty_illumination(const pty_cf *probe, int n_modes, int m, const int *window, int n, int h, int w, float *out);

/* The same with the caller's m*m floats of scratch: allocates nothing; the
 * probe's modes lie mode_stride apart (m*m above). */
void pty_illumination_in(const pty_cf *probe, int n_modes, size_t mode_stride, int m, const int *window, int n, int h,
                         int w, float *out, float *scratch);

/* Multiply a block's weights (h x w, its grid's origin `origin`) by how far
 * the block can be trusted: 1 up to its core box (position coordinates
 * [core_lo, core_hi), may be infinite), then a raised cosine to 1e-3 at
 * `width` pixels beyond it.  Illumination alone would give a block's halo
 * pixels, seen by the same frames as its neighbour's core, as much weight
 * as the neighbour's, although the block knows them worse (they lie at its
 * free edge); feathering hands each pixel to the block that owns it and
 * blends only near the cut. */
void pty_feather_block(float *weight, int h, int w, const double origin[2], const double core_lo[2],
                       const double core_hi[2], double width);

#ifdef __cplusplus
}
#endif
#endif /* PTY_ILLUMINATION_H */
