/* test_sets.c - sets of non-overlapping windows: every position in exactly
 * one set, no two windows of a set overlap, sets roughly even, and the
 * shuffled order keeps each set together. */
#include <stdlib.h>
#include <string.h>

#include "geometry.h"
#include "pty_error.h"
#include "pty_test.h"
#include "rng.h"
#include "sets.h"

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
    PTY_TEST("sets built", pty_sets_build(g.window, n, m, g.obj_h, g.obj_w, &rng, &s) == PTY_OK);
    int *seen = calloc((size_t)n, sizeof *seen), once = 1, disjoint = 1, small = 0;
    for (int k = 0; k < s.n_sets; k++) {
        int b = k ? s.end[k - 1] : 0, e = s.end[k];
        if (e - b < 2) small++;
        for (int i = b; i < e; i++) {
            seen[s.members[i]]++;
            for (int j = b; j < i; j++) {
                const int *wi = g.window + 2 * s.members[i], *wj = g.window + 2 * s.members[j];
                if (abs(wi[0] - wj[0]) < m && abs(wi[1] - wj[1]) < m) disjoint = 0;
            }
        }
    }
    for (int j = 0; j < n; j++) once &= seen[j] == 1;
    PTY_TEST("every position in exactly one set", once);
    PTY_TEST("no two windows of a set overlap", disjoint);
    /* 10 x 10 window classes are needed (128 / 14 px), so about 100-150 sets of ~4 */
    PTY_TEST("about as many sets as window classes", s.n_sets >= 100 && s.n_sets <= 170);
    PTY_TEST("few sets of one (workers stay busy)", small <= s.n_sets / 10);
    int *order = malloc(sizeof(int) * n), *end = malloc(sizeof(int) * s.n_sets), *scratch = malloc(sizeof(int) * s.n_sets);
    pty_sets_shuffle(&s, &rng, order, end, scratch);
    int together = end[s.n_sets - 1] == n;
    memset(seen, 0, sizeof(int) * n);
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
    free(order);
    free(end);
    free(scratch);
    free(seen);
    pty_sets_free(&s);
    pty_geometry_free(&g);
    free(pos);
    return pty_test_report();
}
