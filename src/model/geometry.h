/* geometry.h - from probe positions to the object grid.
 *
 * Positions are probe centres (row, col) in object pixels with an arbitrary
 * origin.  The object grid holds every m x m probe window plus `pad` pixels
 * on each side; `origin` is where position (0, 0) falls on that grid, so a
 * reconstruction and a ground truth made with the same positions can be
 * overlaid.  Windows sit at integer pixels (positions are rounded, as in
 * ptychopy); the simulator uses the exact positions. */
#ifndef PTY_GEOMETRY_H
#define PTY_GEOMETRY_H

#ifdef __cplusplus
extern "C" {
#endif

/* Largest object side the geometry accepts; larger means positions are
 * almost certainly in the wrong unit. */
#define PTY_MAX_OBJECT_SIDE 32768

typedef struct pty_geometry {
    int obj_h, obj_w;  /* object size in pixels */
    double origin[2];  /* object-grid (row, col) of position (0, 0) */
    int *window;       /* n*2 top-left (row, col) of each probe window */
    float *shift;      /* n*2: how far each position's exact corner lies past its window's (row, col),
                          in [-0.5, 0.5] px: the probe is moved by it inside the window
                          (pty_shift_factor); NULL when every position sits on the pixel grid */
    int n;
} pty_geometry;

/* Compute the object grid for n positions and m x m windows.  Fails with
 * PTY_ERR_DATA (message naming the extent) when positions are non-finite or
 * the object would exceed PTY_MAX_OBJECT_SIDE.  Free with pty_geometry_free. */
int pty_geometry_create(const double *positions, int n, int m, int pad, pty_geometry *g);
void pty_geometry_free(pty_geometry *g);

/* An h x w grid on which position (0, 0) falls at `origin`, with room for
 * n windows, all at (0, 0) with zero shifts until placed (a scan whose
 * positions arrive one by one).  Free with pty_geometry_free. */
int pty_geometry_grid(int n, int h, int w, const double origin[2], pty_geometry *g);

/* The part of a global grid that positions idx[0..n-1] need: the bounding
 * box of their windows plus `pad`, clipped to the global object.  `sub`
 * gets that box's size, its own origin and windows in its own pixels (the
 * global windows minus the offset, so rounding is the same on every rank);
 * offset[] is the box's top-left on the global grid.  Free with
 * pty_geometry_free. */
int pty_geometry_subset(const pty_geometry *global, const int *idx, int n, int m, int pad, pty_geometry *sub,
                        int offset[2]);

/* Place window j for an exact corner: at the nearest whole pixel, kept inside the object, with
 * the rest (clipped to [-0.5, 0.5]) as its shift when g->shift exists.  Returns 1 when the
 * window moved. */
int pty_geometry_place(pty_geometry *g, int j, const double corner[2], int m);

/* Top-left window corner, in object pixels, of the exact (unrounded) position. */
void pty_geometry_corner(const pty_geometry *g, const double *position, int m, double corner[2]);

/* Place window j for a position (row, col): pty_geometry_place at its corner. */
int pty_geometry_place_position(pty_geometry *g, int j, const double *position, int m);

/* 1 when the window of a position, rounded as pty_geometry_place rounds it,
 * lies on the grid (a growing scan's grid may have to grow first). */
int pty_geometry_fits(const pty_geometry *g, const double *position, int m);

#ifdef __cplusplus
}
#endif
#endif /* PTY_GEOMETRY_H */
