/* geometry.c - object extent and window corners from probe positions. */
#include "geometry.h"

#include <math.h>
#include <stdlib.h>

#include "pty_error.h"

int pty_geometry_create(const double *positions, int n, int m, int pad, pty_geometry *g)
{
    g->window = NULL;
    g->shift = NULL;
    g->n = n;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int j = 0; j < n; j++) {
        for (int a = 0; a < 2; a++) {
            double p = positions[2 * j + a];
            PTY_CHECK(isfinite(p), PTY_ERR_DATA, "position %d is not finite", j);
            if (p < lo[a]) lo[a] = p;
            if (p > hi[a]) hi[a] = p;
        }
    }
    /* A scan inside one pixel is no scan: positions in metres read as
       pixels put every frame on one spot (seen: 144 frames, an 82 x 82
       object, and a meaningless result with exit 0). */
    PTY_CHECK(n < 2 || hi[0] - lo[0] >= 1.0 || hi[1] - lo[1] >= 1.0, PTY_ERR_DATA,
              "all %d positions lie within %.3g x %.3g object pixels, so every frame sees the same spot; are they in "
              "the right unit (metres given as pixels?) and is the pixel size right?",
              n, hi[0] - lo[0], hi[1] - lo[1]);
    int size[2];
    for (int a = 0; a < 2; a++) {
        double extent = hi[a] - lo[a] + m + 2.0 * pad + 1.0;
        PTY_CHECK(extent <= PTY_MAX_OBJECT_SIDE, PTY_ERR_DATA,
                  "positions span %.4g pixels along %s, an object wider than %d pixels; "
                  "are they in the right unit (metres vs pixels) and is the pixel size right?",
                  hi[a] - lo[a], a == 0 ? "rows" : "columns", PTY_MAX_OBJECT_SIDE);
        size[a] = (int)ceil(extent);
        /* the window of the lowest position starts at `pad` */
        g->origin[a] = pad + m / 2 - lo[a];
    }
    g->obj_h = size[0];
    g->obj_w = size[1];
    g->window = calloc((size_t)n * 2, sizeof *g->window); /* pty_geometry_place compares with it */
    g->shift = malloc((size_t)n * 2 * sizeof *g->shift);
    if (!g->window || !g->shift) {
        pty_geometry_free(g);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d window corners", n);
    }
    int fractional = 0;
    for (int j = 0; j < n; j++) {
        pty_geometry_place_position(g, j, positions + 2 * j, m);
        fractional |= g->shift[2 * j] != 0.0f || g->shift[2 * j + 1] != 0.0f;
    }
    if (!fractional) { /* on the pixel grid: nothing to move */
        free(g->shift);
        g->shift = NULL;
    }
    return PTY_OK;
}

int pty_geometry_subset(const pty_geometry *global, const int *idx, int n, int m, int pad, pty_geometry *sub,
                        int offset[2])
{
    sub->window = NULL;
    sub->shift = NULL;
    sub->n = n;
    PTY_CHECK(n >= 1, PTY_ERR_ARG, "geometry subset: no positions");
    int lo[2] = {global->obj_h, global->obj_w}, hi[2] = {0, 0};
    for (int j = 0; j < n; j++)
        for (int a = 0; a < 2; a++) {
            int w = global->window[2 * idx[j] + a];
            if (w < lo[a]) lo[a] = w;
            if (w + m > hi[a]) hi[a] = w + m;
        }
    const int size[2] = {global->obj_h, global->obj_w};
    for (int a = 0; a < 2; a++) {
        offset[a] = lo[a] - pad < 0 ? 0 : lo[a] - pad;
        hi[a] = hi[a] + pad > size[a] ? size[a] : hi[a] + pad;
        sub->origin[a] = global->origin[a] - offset[a];
    }
    sub->obj_h = hi[0] - offset[0];
    sub->obj_w = hi[1] - offset[1];
    sub->window = malloc((size_t)n * 2 * sizeof *sub->window);
    PTY_CHECK(sub->window, PTY_ERR_NOMEM, "cannot allocate %d window corners", n);
    for (int j = 0; j < n; j++)
        for (int a = 0; a < 2; a++) sub->window[2 * j + a] = global->window[2 * idx[j] + a] - offset[a];
    if (global->shift) {
        sub->shift = malloc((size_t)n * 2 * sizeof *sub->shift);
        if (!sub->shift) {
            pty_geometry_free(sub);
            return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d window shifts", n);
        }
        for (int j = 0; j < n; j++)
            for (int a = 0; a < 2; a++) sub->shift[2 * j + a] = global->shift[2 * idx[j] + a];
    }
    return PTY_OK;
}

int pty_geometry_grid(int n, int h, int w, const double origin[2], pty_geometry *g)
{
    g->window = NULL;
    g->shift = NULL;
    g->n = n;
    g->obj_h = h;
    g->obj_w = w;
    g->origin[0] = origin[0];
    g->origin[1] = origin[1];
    PTY_CHECK(h >= 1 && w >= 1 && h <= PTY_MAX_OBJECT_SIDE && w <= PTY_MAX_OBJECT_SIDE, PTY_ERR_DATA,
              "an object grid of %d x %d pixels is out of range (at most %d a side); are the positions in the right "
              "unit?", h, w, PTY_MAX_OBJECT_SIDE);
    g->window = calloc((size_t)(n > 0 ? n : 1) * 2, sizeof *g->window);
    g->shift = calloc((size_t)(n > 0 ? n : 1) * 2, sizeof *g->shift);
    if (!g->window || !g->shift) {
        pty_geometry_free(g);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d window corners", n);
    }
    return PTY_OK;
}

void pty_geometry_free(pty_geometry *g)
{
    if (!g) return;
    free(g->window);
    free(g->shift);
    g->window = NULL;
    g->shift = NULL;
}

int pty_geometry_place(pty_geometry *g, int j, const double corner[2], int m)
{
    const int size[2] = {g->obj_h, g->obj_w};
    int moved = 0;
    for (int a = 0; a < 2; a++) {
        int w = (int)lround(corner[a]);
        if (w < 0) w = 0;
        if (w > size[a] - m) w = size[a] - m;
        moved |= w != g->window[2 * j + a];
        g->window[2 * j + a] = w;
        if (g->shift) g->shift[2 * j + a] = (float)fmin(fmax(corner[a] - w, -0.5), 0.5);
    }
    return moved;
}

void pty_geometry_corner(const pty_geometry *g, const double *position, int m, double corner[2])
{
    for (int a = 0; a < 2; a++) corner[a] = position[a] + g->origin[a] - m / 2;
}

int pty_geometry_place_position(pty_geometry *g, int j, const double *position, int m)
{
    double corner[2];
    pty_geometry_corner(g, position, m, corner);
    return pty_geometry_place(g, j, corner, m);
}

int pty_geometry_fits(const pty_geometry *g, const double *position, int m)
{
    double corner[2];
    pty_geometry_corner(g, position, m, corner);
    const int size[2] = {g->obj_h, g->obj_w};
    for (int a = 0; a < 2; a++)
        if (!(lround(corner[a]) >= 0 && lround(corner[a]) + m <= size[a])) return 0;
    return 1;
}
