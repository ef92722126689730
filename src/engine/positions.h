/* positions.h - position correction's bookkeeping.
 *
 * Each pass measures, for every position, the move of its window's exact
 * corner that best explains its exit-wave change (pty_position_terms).
 * Here the corners take those moves, limited per iteration, and lose any
 * common drift: a shift of all positions (or, on request, an affine map of
 * them) moved with the object changes no data, so nothing in the data holds
 * it, and left alone the object would wander with it.  The corners then
 * become whole-pixel windows and sub-pixel shifts again (the geometry the
 * backends run). */
#ifndef PTY_POSITIONS_H
#define PTY_POSITIONS_H

#include <stddef.h>

#include "geometry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sums v[0..n) over every process that shares one object (several MPI
 * ranks in sync mode), in place, the same on all; NULL: these positions
 * alone. */
typedef int (*pty_sum_fn)(double *v, size_t n);

typedef struct pty_positions {
    int n, m, obj_h, obj_w;
    double origin[2];  /* the grid's origin (geometry.h): corner - origin + m/2 is a probe centre */
    double *start;     /* n*2 corners as the plan began */
    double *corner;    /* n*2 corners now */
    float *steps;      /* n*2 moves the last pass measured (pty_pass_params.position_steps) */
} pty_positions;

/* Corners from g's windows and shifts (none: on the grid). */
int pty_positions_create(const pty_geometry *g, int m, pty_positions *out);
void pty_positions_free(pty_positions *p);

/* Back to the corners as the plan began, and g's windows and shifts with them. */
void pty_positions_reset(pty_positions *p, pty_geometry *g);

/* Take the pass's steps, each axis's limited to +-max_step pixels; remove
 * the displacements' mean (affine: their best affine function of the
 * start positions) over all positions `sum` reaches; keep every window
 * inside the object; and write g's windows and shifts (g->shift must
 * exist).  *moved: how many windows changed by whole pixels. */
int pty_positions_apply(pty_positions *p, float max_step, int affine, pty_sum_fn sum, pty_geometry *g, int *moved);

#ifdef __cplusplus
}
#endif
#endif /* PTY_POSITIONS_H */
