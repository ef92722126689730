/* positions.c - corners moved by measured steps, without common drift. */
#include "positions.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

int pty_positions_create(const pty_geometry *g, int m, pty_positions *out)
{
    memset(out, 0, sizeof *out);
    const size_t n2 = (size_t)g->n * 2;
    out->n = g->n;
    out->m = m;
    out->obj_h = g->obj_h;
    out->obj_w = g->obj_w;
    out->origin[0] = g->origin[0];
    out->origin[1] = g->origin[1];
    out->start = malloc(n2 * sizeof *out->start);
    out->corner = malloc(n2 * sizeof *out->corner);
    out->steps = calloc(n2, sizeof *out->steps);
    if (!out->start || !out->corner || !out->steps) {
        pty_positions_free(out);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions for position correction", g->n);
    }
    for (size_t i = 0; i < n2; i++) out->start[i] = g->window[i] + (g->shift ? g->shift[i] : 0.0f);
    memcpy(out->corner, out->start, n2 * sizeof *out->corner);
    return PTY_OK;
}

void pty_positions_free(pty_positions *p)
{
    if (!p) return;
    free(p->start);
    free(p->corner);
    free(p->steps);
    memset(p, 0, sizeof *p);
}

/* Windows and shifts from the corners; how many windows changed. */
static int to_grid(const pty_positions *p, pty_geometry *g)
{
    int moved = 0;
    for (int j = 0; j < p->n; j++) moved += pty_geometry_place(g, j, p->corner + 2 * (size_t)j, p->m);
    return moved;
}

void pty_positions_reset(pty_positions *p, pty_geometry *g)
{
    memcpy(p->corner, p->start, (size_t)p->n * 2 * sizeof *p->corner);
    to_grid(p, g);
}

/* Solve the 3x3 system a x = b (row-major) for two right-hand sides, b
 * holding them as columns (3x2).  0 when a is singular (positions on a
 * line: no affine part to fit). */
static int solve3(double a[9], double b[6])
{
    for (int c = 0; c < 3; c++) {
        int piv = c;
        for (int r = c + 1; r < 3; r++)
            if (fabs(a[3 * r + c]) > fabs(a[3 * piv + c])) piv = r;
        if (!(fabs(a[3 * piv + c]) > 1e-12 * (fabs(a[0]) + 1.0))) return 0;
        for (int k = 0; k < 3; k++) {
            double t = a[3 * c + k];
            a[3 * c + k] = a[3 * piv + k];
            a[3 * piv + k] = t;
        }
        for (int k = 0; k < 2; k++) {
            double t = b[2 * c + k];
            b[2 * c + k] = b[2 * piv + k];
            b[2 * piv + k] = t;
        }
        for (int r = 0; r < 3; r++) {
            if (r == c) continue;
            const double f = a[3 * r + c] / a[3 * c + c];
            for (int k = 0; k < 3; k++) a[3 * r + k] -= f * a[3 * c + k];
            for (int k = 0; k < 2; k++) b[2 * r + k] -= f * b[2 * c + k];
        }
    }
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 2; k++) b[2 * r + k] /= a[3 * r + r];
    return 1;
}

int pty_positions_apply(pty_positions *p, float max_step, int affine, pty_sum_fn sum, pty_geometry *g, int *moved)
{
    PTY_CHECK(g->shift, PTY_ERR_ARG, "position correction needs sub-pixel shifts in the geometry");
    const size_t n2 = (size_t)p->n * 2;
    for (size_t i = 0; i < n2; i++) {
        const float s = p->steps[i];
        p->corner[i] += isfinite(s) ? fmaxf(-max_step, fminf(max_step, s)) : 0.0f;
    }
    /* The displacement d = corner - start is fitted by b + A x over the start positions x (probe
       centres, the same frame on every rank), A = 0 without `affine`: v holds the normal equations
       sum [1 x][1 x]^T (9) and sum [1 x] d^T (6), summed over the ranks that share the object. */
    double v[15] = {0};
    for (int j = 0; j < p->n; j++) {
        const double x[3] = {1.0, affine ? p->start[2 * j] - p->origin[0] : 0.0,
                             affine ? p->start[2 * j + 1] - p->origin[1] : 0.0};
        const double d[2] = {p->corner[2 * j] - p->start[2 * j], p->corner[2 * j + 1] - p->start[2 * j + 1]};
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++) v[3 * r + c] += x[r] * x[c];
            for (int a = 0; a < 2; a++) v[9 + 2 * r + a] += x[r] * d[a];
        }
    }
    if (sum) PTY_TRY(sum(v, 15));
    double coef[6] = {0}; /* rows: b, then the row and column slopes; columns: the two axes */
    if (v[0] > 0.0) {
        memcpy(coef, v + 9, sizeof coef);
        if (!affine || !solve3(v, coef)) {
            memset(coef, 0, sizeof coef);
            coef[0] = v[9] / v[0];
            coef[1] = v[10] / v[0];
        }
    }
    const double hi[2] = {p->obj_h - p->m, p->obj_w - p->m};
    for (int j = 0; j < p->n; j++) {
        const double x[3] = {1.0, p->start[2 * j] - p->origin[0], p->start[2 * j + 1] - p->origin[1]};
        for (int a = 0; a < 2; a++) {
            double *c = &p->corner[2 * j + a];
            *c -= coef[a] + coef[2 + a] * x[1] + coef[4 + a] * x[2];
            *c = fmin(fmax(*c, 0.0), hi[a]); /* a window never leaves the object */
        }
    }
    *moved = to_grid(p, g);
    return PTY_OK;
}
