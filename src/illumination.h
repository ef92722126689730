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

#ifdef __cplusplus
}
#endif
#endif /* PTY_ILLUMINATION_H */
