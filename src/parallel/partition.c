/* partition.c - quantile cuts of the scan into blocks, plus halos. */
#include "partition.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void extent(const double *pos, int n, int axis, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int j = 0; j < n; j++) {
        *lo = fmin(*lo, pos[2 * j + axis]);
        *hi = fmax(*hi, pos[2 * j + axis]);
    }
}

void pty_partition_shape(const double *positions, int n, int n_blocks, int *rows, int *cols)
{
    double lo, hi, h, w;
    extent(positions, n, 0, &lo, &hi);
    h = hi - lo;
    extent(positions, n, 1, &lo, &hi);
    w = hi - lo;
    h = fmax(h, 1.0);
    w = fmax(w, 1.0);
    double best = INFINITY;
    *rows = n_blocks;
    *cols = 1;
    for (int r = n_blocks; r >= 1; r--) {
        if (n_blocks % r) continue;
        int c = n_blocks / r;
        double aspect = fabs(log((h / r) / (w / c)));
        if (aspect < best - 1e-9) {
            best = aspect;
            *rows = r;
            *cols = c;
        }
    }
}

/* Cut values splitting the sorted coordinates v[0..n-1] into k groups of
 * nearly equal size.  A cut between two equal values (one scan line) would
 * split a line, so it moves to the nearest gap between distinct values. */
static int quantile_cuts(double *v, int n, int k, double *cuts)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    cuts[0] = -INFINITY;
    cuts[k] = INFINITY;
    for (int i = 1; i < k; i++) {
        int target = (int)lround((double)i * n / k);
        int best = -1;
        for (int d = 0; d < n; d++) {
            int cand[2] = {target - d, target + d};
            for (int c = 0; c < 2; c++) {
                int j = cand[c];
                if (j >= 1 && j < n && v[j] > v[j - 1]) {
                    best = j;
                    break;
                }
            }
            if (best >= 0) break;
        }
        if (best < 0) return -1;
        cuts[i] = 0.5 * (v[best - 1] + v[best]);
        if (cuts[i] <= cuts[i - 1]) return -1;
    }
    return 0;
}

static int block_of(const pty_partition *p, const double *pos)
{
    int r = 0, c = 0;
    while (r + 1 < p->rows && pos[0] >= p->row_cuts[r + 1]) r++;
    while (c + 1 < p->cols && pos[1] >= p->col_cuts[c + 1]) c++;
    return r * p->cols + c;
}

int pty_partition_create(const double *positions, int n, int n_blocks, int rows, int cols, double overlap,
                         pty_partition *out)
{
    memset(out, 0, sizeof *out);
    PTY_CHECK(n >= 1 && n_blocks >= 1, PTY_ERR_ARG, "partition: %d positions into %d blocks", n, n_blocks);
    PTY_CHECK(overlap >= 0 && isfinite(overlap), PTY_ERR_ARG, "--overlap must be >= 0 scan steps (got %g)", overlap);
    if (rows == 0 && cols == 0) pty_partition_shape(positions, n, n_blocks, &rows, &cols);
    PTY_CHECK(rows >= 1 && cols >= 1 && rows * cols == n_blocks, PTY_ERR_ARG,
              "--partition %dx%d does not match the %d ranks", rows, cols, n_blocks);
    out->rows = rows;
    out->cols = cols;
    out->n_blocks = n_blocks;
    out->row_cuts = malloc((size_t)(rows + 1) * sizeof *out->row_cuts);
    out->col_cuts = malloc((size_t)(cols + 1) * sizeof *out->col_cuts);
    out->owner = malloc((size_t)n * sizeof *out->owner);
    out->n_members = calloc((size_t)n_blocks, sizeof *out->n_members);
    out->n_core = calloc((size_t)n_blocks, sizeof *out->n_core);
    out->members = calloc((size_t)n_blocks, sizeof *out->members);
    double *v = malloc((size_t)n * sizeof *v);
    int rc = PTY_OK;
    if (!out->row_cuts || !out->col_cuts || !out->owner || !out->n_members || !out->n_core || !out->members || !v) {
        rc = pty_error_set(PTY_ERR_NOMEM, "partition: cannot allocate for %d positions", n);
        goto done;
    }
    for (int axis = 0; axis < 2 && rc == PTY_OK; axis++) {
        for (int j = 0; j < n; j++) v[j] = positions[2 * j + axis];
        int k = axis == 0 ? rows : cols;
        if (quantile_cuts(v, n, k, axis == 0 ? out->row_cuts : out->col_cuts) != 0)
            rc = pty_error_set(PTY_ERR_ARG,
                               "cannot cut %d positions into %d block %s (too few distinct %s); use fewer ranks or "
                               "another --partition",
                               n, k, axis == 0 ? "rows" : "columns", axis == 0 ? "rows" : "columns");
    }
    if (rc != PTY_OK) goto done;
    double lo[2], hi[2];
    for (int a = 0; a < 2; a++) extent(positions, n, a, &lo[a], &hi[a]);
    double span[2] = {hi[0] - lo[0], hi[1] - lo[1]};
    if (span[0] > 0 && span[1] > 0)
        out->step = sqrt(span[0] * span[1] / n);
    else
        out->step = fmax(span[0], span[1]) / (n > 1 ? n - 1 : 1);
    out->halo = overlap * out->step;
    for (int j = 0; j < n; j++) {
        out->owner[j] = block_of(out, positions + 2 * j);
        out->n_core[out->owner[j]]++;
    }
    for (int b = 0; b < n_blocks && rc == PTY_OK; b++) {
        if (out->n_core[b] == 0) {
            rc = pty_error_set(PTY_ERR_ARG,
                               "block %d of the %dx%d partition holds no positions; use fewer ranks or another "
                               "--partition",
                               b, rows, cols);
            break;
        }
        int br = b / cols, bc = b % cols;
        double box_lo[2] = {out->row_cuts[br] - out->halo, out->col_cuts[bc] - out->halo};
        double box_hi[2] = {out->row_cuts[br + 1] + out->halo, out->col_cuts[bc + 1] + out->halo};
        out->members[b] = malloc((size_t)n * sizeof **out->members);
        if (!out->members[b]) {
            rc = pty_error_set(PTY_ERR_NOMEM, "partition: cannot allocate block %d", b);
            break;
        }
        int count = 0;
        for (int j = 0; j < n; j++) {
            const double *p = positions + 2 * j;
            /* core positions always; halo ones within the widened box (the
               core box's lower edges are inclusive, so keep them so here) */
            if (out->owner[j] == b || (p[0] >= box_lo[0] && p[0] <= box_hi[0] && p[1] >= box_lo[1] &&
                                       p[1] <= box_hi[1]))
                out->members[b][count++] = j;
        }
        out->n_members[b] = count;
    }
done:
    free(v);
    if (rc != PTY_OK) pty_partition_free(out);
    return rc;
}

void pty_partition_free(pty_partition *p)
{
    if (!p) return;
    if (p->members)
        for (int b = 0; b < p->n_blocks; b++) free(p->members[b]);
    free(p->members);
    free(p->n_members);
    free(p->n_core);
    free(p->owner);
    free(p->row_cuts);
    free(p->col_cuts);
    memset(p, 0, sizeof *p);
}
