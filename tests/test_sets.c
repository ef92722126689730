/* test_sets.c - sets of non-overlapping windows: every position in exactly
 * one set, no two windows of a set overlap, sets roughly even, the shuffled
 * order keeps each set together, each set's members run top to bottom,
 * and balancing for W workers never adds overlaps and shortens a pass on
 * W threads. */
#include <stdlib.h>
#include <string.h>

#include "geometry.h"
#include "pty_error.h"
#include "pty_test.h"
#include "rng.h"
#include "sets.h"

/* every position in exactly one set, and no two windows of a set overlap */
static int valid(const pty_sets *s, const int *window, int n, int m)
{
    int *seen = calloc((size_t)n, sizeof *seen), ok = s->n == n && s->end[s->n_sets - 1] == n;
    for (int k = 0; k < s->n_sets; k++) {
        int b = k ? s->end[k - 1] : 0, e = s->end[k];
        ok &= e > b;
        for (int i = b; i < e; i++) {
            seen[s->members[i]]++;
            for (int j = b; j < i; j++) {
                const int *wi = window + 2 * s->members[i], *wj = window + 2 * s->members[j];
                if (abs(wi[0] - wj[0]) < m && abs(wi[1] - wj[1]) < m) ok = 0;
            }
        }
    }
    for (int j = 0; j < n; j++) ok &= seen[j] == 1;
    free(seen);
    return ok;
}

/* each set's members top to bottom, then left to right: the CPU lanes take
 * contiguous shares of a set, so each keeps to a band of the object's rows */
static int by_rows(const pty_sets *s, const int *window)
{
    for (int k = 0; k < s->n_sets; k++)
        for (int i = (k ? s->end[k - 1] : 0) + 1; i < s->end[k]; i++) {
            const int *a = window + 2 * s->members[i - 1], *b = window + 2 * s->members[i];
            if (a[0] > b[0] || (a[0] == b[0] && a[1] > b[1])) return 0;
        }
    return 1;
}

/* a pass's length on W threads, in position-times */
static int cost(const pty_sets *s, int W)
{
    int c = 0;
    for (int k = 0; k < s->n_sets; k++) c += (s->end[k] - (k ? s->end[k - 1] : 0) + W - 1) / W;
    return c;
}

/* the bench's raster (no jitter): rows x rows windows of m, step 0.3 x 3m/8 */
static int raster(int rows, int m, pty_geometry *g)
{
    const int n = rows * rows;
    const double step = (double)(int)(0.3 * 3.0 * m / 8.0 + 0.5);
    double *pos = malloc(sizeof(double) * 2 * n);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < rows; c++) {
            pos[2 * (r * rows + c)] = step * r;
            pos[2 * (r * rows + c) + 1] = step * c;
        }
    int rc = pty_geometry_create(pos, n, m, 8, g);
    free(pos);
    return rc;
}

int main(void)
{
    const int R = 24, m = 128, n = R * R;
    double *pos = malloc(sizeof(double) * 2 * n);
    pty_rng rng;
    pty_rng_seed(&rng, 7);
    for (int r = 0; r < R; r++)
        for (int c = 0; c < R; c++) {
            pos[2 * (r * R + c)] = 14.0 * r + (double)(pty_rng_next(&rng) % 3) - 1.0;
            pos[2 * (r * R + c) + 1] = 14.0 * c + (double)(pty_rng_next(&rng) % 3) - 1.0;
        }
    pty_geometry g;
    PTY_TEST("geometry", pty_geometry_create(pos, n, m, 8, &g) == PTY_OK);
    pty_sets s;
    PTY_TEST("sets built", pty_sets_build(g.window, n, m, g.obj_h, g.obj_w, 1, 0, &rng, &s) == PTY_OK);
    int small = 0;
    for (int k = 0; k < s.n_sets; k++) small += s.end[k] - (k ? s.end[k - 1] : 0) < 2;
    PTY_TEST("every position in exactly one set, no two windows of a set overlap", valid(&s, g.window, n, m));
    PTY_TEST("each set's members top to bottom, then left to right", by_rows(&s, g.window));
    /* 10 x 10 window classes are needed (128 / 14 px), so about 100-150 sets of ~4 */
    PTY_TEST("about as many sets as window classes", s.n_sets >= 100 && s.n_sets <= 170);
    PTY_TEST("few sets of one (workers stay busy)", small <= s.n_sets / 10);
    int *order = malloc(sizeof(int) * n), *end = malloc(sizeof(int) * s.n_sets), *scratch = malloc(sizeof(int) * s.n_sets);
    int *seen = calloc((size_t)n, sizeof *seen);
    pty_sets_shuffle(&s, &rng, order, end, scratch);
    int together = end[s.n_sets - 1] == n;
    for (int i = 0; i < n; i++) seen[order[i]]++;
    for (int j = 0; j < n; j++) together &= seen[j] == 1;
    for (int k = 0; k < s.n_sets && together; k++) {
        int b = k ? end[k - 1] : 0;
        for (int i = b + 1; i < end[k]; i++) {
            const int *wi = g.window + 2 * order[i], *wj = g.window + 2 * order[b];
            if (abs(wi[0] - wj[0]) < m && abs(wi[1] - wj[1]) < m) together = 0;
        }
    }
    PTY_TEST("a shuffled pass visits every position once, sets kept whole", together);
    PTY_TEST("a shuffled pass's set ends pass the backends' check", pty_sets_check_ends(end, s.n_sets, n, "t") == PTY_OK);
    {
        const int falls[3] = {2, 1, 4}, empty[3] = {2, 2, 4}, short_of[2] = {2, 3};
        PTY_TEST("falling set ends refused",
                 pty_sets_check_ends(falls, 3, 4, "t") == PTY_ERR_ARG &&
                     strcmp(pty_error_message(), "t: set 1 is empty or out of order") == 0);
        PTY_TEST("an empty set refused", pty_sets_check_ends(empty, 3, 4, "t") == PTY_ERR_ARG);
        PTY_TEST("sets that miss positions refused",
                 pty_sets_check_ends(short_of, 2, 4, "t") == PTY_ERR_ARG &&
                     strcmp(pty_error_message(), "t: the sets cover 3 of 4 positions") == 0);
        PTY_TEST("no sets for no positions", pty_sets_check_ends(NULL, 0, 0, "t") == PTY_OK);
    }
    free(order);
    free(end);
    free(scratch);
    free(seen);
    pty_sets_free(&s);
    pty_geometry_free(&g);
    free(pos);

    /* On the bench's rasters (step 0.11 m), any 10 x 10 block of windows
       overlap one another: no colouring has fewer than 100 sets, and the
       sweep by rows makes those 100.  At 64 px on 16 x 16 the 4 x 4 windows
       of rows and columns 6..9 overlap every other window: 16 sets of one
       are forced, so 2 threads need at least (256 + 16) / 2 = 136
       position-times. */
    const int rasters[3][2] = {{16, 64}, {20, 64}, {24, 128}};
    for (int c = 0; c < 3; c++) {
        const int rows = rasters[c][0], mm = rasters[c][1], nn = rows * rows;
        PTY_TEST("raster: geometry", raster(rows, mm, &g) == PTY_OK);
        pty_sets plain, two, three;
        pty_rng_seed(&rng, 3);
        PTY_TEST("raster: greedy sets", pty_sets_build(g.window, nn, mm, g.obj_h, g.obj_w, 1, 0, &rng, &plain) == PTY_OK);
        PTY_TEST("raster: sets for 2 workers",
                 pty_sets_build(g.window, nn, mm, g.obj_h, g.obj_w, 2, 0, &rng, &two) == PTY_OK);
        PTY_TEST("raster: sets for 3 workers",
                 pty_sets_build(g.window, nn, mm, g.obj_h, g.obj_w, 3, 0, &rng, &three) == PTY_OK);
        PTY_TEST("raster: balanced sets still valid (2 workers)", valid(&two, g.window, nn, mm));
        PTY_TEST("raster: balanced sets still valid (3 workers)", valid(&three, g.window, nn, mm));
        PTY_TEST("raster: balanced sets' members top to bottom", by_rows(&two, g.window) && by_rows(&three, g.window));
        PTY_TEST("raster: one worker's sets the fewest possible", plain.n_sets == 100);
        PTY_TEST("raster: sets for 2 workers no longer a pass on 2 threads", cost(&two, 2) <= cost(&plain, 2));
        PTY_TEST("raster: sets for 3 workers no longer a pass on 3 threads", cost(&three, 3) <= cost(&plain, 3));
        if (rows == 16)
            PTY_TEST("raster 16 x 16: 2 threads at the bound, in 100 sets", cost(&two, 2) == 136 && two.n_sets == 100);
        if (rows == 20)
            PTY_TEST("raster 20 x 20 (the bench's): 100 sets of 4 for 2 workers",
                     cost(&two, 2) == 200 && two.n_sets == 100);
        /* a cap on the set size holds, balanced or not */
        pty_sets capped;
        PTY_TEST("raster: sets of at most 3 for 2 workers",
                 pty_sets_build(g.window, nn, mm, g.obj_h, g.obj_w, 2, 3, &rng, &capped) == PTY_OK &&
                     valid(&capped, g.window, nn, mm) && pty_sets_largest(capped.end, capped.n_sets) <= 3 &&
                     capped.n_sets >= plain.n_sets);
        pty_sets_free(&capped);
        pty_sets_free(&plain);
        pty_sets_free(&two);
        pty_sets_free(&three);
        pty_geometry_free(&g);
    }

    /* The seed scan's shape, jittered: 175 x 120 windows of 256 px, sets of
       at most 16.  The sweep leaves sets part-filled (about 1350 sets); the
       random order fills them (1314, one above the fewest the cap allows),
       and is the one kept. */
    {
        const int rows = 175, cols = 120, mm = 256, nn = rows * cols;
        double *jit = malloc(sizeof(double) * 2 * nn);
        pty_rng_seed(&rng, 5);
        for (int i = 0; i < nn; i++) {
            jit[2 * i] = 28.0 * (i / cols) + (double)(pty_rng_next(&rng) % 11) - 5.0;
            jit[2 * i + 1] = 28.0 * (i % cols) + (double)(pty_rng_next(&rng) % 11) - 5.0;
        }
        PTY_TEST("seed-sized scan: geometry", pty_geometry_create(jit, nn, mm, 8, &g) == PTY_OK);
        pty_sets capped;
        PTY_TEST("seed-sized scan: sets of at most 16 for 2 workers",
                 pty_sets_build(g.window, nn, mm, g.obj_h, g.obj_w, 2, 16, &rng, &capped) == PTY_OK &&
                     valid(&capped, g.window, nn, mm) && pty_sets_largest(capped.end, capped.n_sets) <= 16);
        PTY_TEST("seed-sized scan: within one of the fewest sets the cap allows", capped.n_sets <= (nn + 15) / 16 + 1);
        pty_sets_free(&capped);
        pty_geometry_free(&g);
        free(jit);
    }
    return pty_test_report();
}
