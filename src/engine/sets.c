/* sets.c - greedy colourings of probe windows by overlap.
 *
 * Each set keeps a grid of m x m cells: two windows whose corners share a
 * cell overlap, so a cell holds at most one member, and a new window can
 * only collide with members in the 3 x 3 cells around its own. */
#include "sets.h"

#include <stdlib.h>
#include <string.h>

#include "pty_error.h"

void pty_sets_free(pty_sets *s)
{
    if (!s) return;
    free(s->members);
    free(s->end);
    memset(s, 0, sizeof *s);
}

static int collides(const int *cells, int gh, int gw, const int *window, int m, int j)
{
    const int r = window[2 * j] / m, c = window[2 * j + 1] / m;
    for (int dr = -1; dr <= 1; dr++)
        for (int dc = -1; dc <= 1; dc++) {
            int rr = r + dr, cc = c + dc;
            if (rr < 0 || cc < 0 || rr >= gh || cc >= gw) continue;
            int o = cells[rr * gw + cc];
            if (o < 0) continue;
            if (abs(window[2 * o] - window[2 * j]) < m && abs(window[2 * o + 1] - window[2 * j + 1]) < m) return 1;
        }
    return 0;
}

/* A pass over W workers costs sum_s ceil(B_s / W) position-times.  A chain
 * of moves s0 -> s1 -> ... -> sk (one window out of each set into the next,
 * each fitting where it lands) changes only B_s0 and B_sk, and lowers the
 * cost by one when B_s0 % W == 1 and B_sk % W != 0.  Such chains are found
 * breadth first and applied until none is left: single moves alone stall
 * with windows stuck in sets of one.  parent, via, queue: n_sets each. */
static void balance(const int *window, int n, int m, int gh, int gw, int workers, int max_size, int n_sets, int *cells,
                    int *count, int *set_of, int *parent, int *via, int *queue)
{
    const size_t ncell = (size_t)gh * gw;
    for (int improved = 1; improved;) {
        improved = 0;
        for (int s0 = 0; s0 < n_sets; s0++) {
            if (count[s0] % workers != 1) continue;
            for (int t = 0; t < n_sets; t++) parent[t] = -1;
            parent[s0] = s0;
            queue[0] = s0;
            int found = -1;
            for (int head = 0, tail = 1; head < tail && found < 0; head++)
                for (int j = 0; j < n && found < 0; j++) {
                    if (set_of[j] != queue[head]) continue;
                    for (int t = 0; t < n_sets && found < 0; t++) {
                        if (parent[t] >= 0 || collides(cells + (size_t)t * ncell, gh, gw, window, m, j)) continue;
                        parent[t] = queue[head];
                        via[t] = j;
                        queue[tail++] = t;
                        if (count[t] % workers && (max_size <= 0 || count[t] < max_size)) found = t;
                    }
                }
            if (found < 0) continue;
            for (int t = found; t != s0; t = parent[t]) {
                const int j = via[t];
                const size_t cell = (size_t)(window[2 * j] / m) * gw + window[2 * j + 1] / m;
                cells[(size_t)parent[t] * ncell + cell] = -1;
                cells[(size_t)t * ncell + cell] = j;
                set_of[j] = t;
            }
            count[s0]--;
            count[found]++;
            improved = 1;
        }
    }
}

/* A set's members top to bottom (then left to right): CPU workers take a
 * set's positions in this order, so pass after pass each core keeps to
 * its own band of the object's rows and its cache, instead of taking over
 * object lines the other core wrote last.  Bands of rows, not sides: the
 * object is stored by rows, so two sides meet in every row, where one
 * core's windows end a few lines from where the other's begin (and the
 * hardware prefetchers run on along the row into them); two bands meet in
 * one row.  Measured, 2 threads, sides against bands: ptycho bench --rows
 * 20 --cols 20, 64^2 5.4 against 4.7-4.8 ms an iteration, 128^2 23.0-23.4
 * against 21.5-21.6; the lane of the right side took 10 % longer than the
 * left's, whichever core ran it.  Insertion sort: sets are small. */
static void by_row(const int *window, int *members, int n)
{
    for (int i = 1; i < n; i++) {
        const int j = members[i], row = window[2 * j], col = window[2 * j + 1];
        int k = i;
        for (; k > 0; k--) {
            const int q = members[k - 1];
            if (window[2 * q] < row || (window[2 * q] == row && window[2 * q + 1] <= col)) break;
            members[k] = q;
        }
        members[k] = j;
    }
}

/* Windows by top row, then left column, then index (qsort is not stable). */
typedef struct {
    int row, col, index;
} corner_key;

static int by_corner(const void *a, const void *b)
{
    const corner_key *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* One colouring: set_of[j] for each window, count[s] for each set. */
typedef struct {
    int *cells, *count, *set_of, n_sets, cap;
} colouring;

static void colouring_free(colouring *c)
{
    free(c->cells);
    free(c->count);
    free(c->set_of);
    memset(c, 0, sizeof *c);
}

/* Windows in the order visit[], each into a set it fits (no overlap, below
 * max_size): the smallest such set (smallest) or the first.  A new set
 * where none fits. */
static int colour(const int *window, int n, int m, int gh, int gw, const int *visit, int smallest, int max_size,
                  colouring *c)
{
    const size_t ncell = (size_t)gh * gw;
    c->set_of = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->set_of);
    PTY_CHECK(c->set_of, PTY_ERR_NOMEM, "cannot allocate sets for %d positions", n);
    for (int t = 0; t < n; t++) {
        const int j = visit[t];
        int s = c->n_sets;
        for (int q = 0; q < c->n_sets; q++)
            if ((s == c->n_sets || (smallest && c->count[q] < c->count[s])) &&
                (max_size <= 0 || c->count[q] < max_size) &&
                !collides(c->cells + (size_t)q * ncell, gh, gw, window, m, j)) {
                s = q;
                if (!smallest) break;
            }
        if (s == c->n_sets) {
            if (c->n_sets == c->cap) {
                int ncap = c->cap ? 2 * c->cap : 16;
                int *nc = realloc(c->cells, (size_t)ncap * ncell * sizeof *nc);
                if (nc) c->cells = nc;
                int *nn = nc ? realloc(c->count, (size_t)ncap * sizeof *nn) : NULL;
                PTY_CHECK(nn, PTY_ERR_NOMEM, "cannot allocate %d sets of windows", ncap);
                c->count = nn;
                c->cap = ncap;
            }
            for (size_t i = 0; i < ncell; i++) c->cells[(size_t)c->n_sets * ncell + i] = -1;
            c->count[c->n_sets++] = 0;
        }
        c->cells[(size_t)s * ncell + (size_t)(window[2 * j] / m) * gw + window[2 * j + 1] / m] = j;
        c->set_of[j] = s;
        c->count[s]++;
    }
    return PTY_OK;
}

/* What a set's end costs (its barrier, and on the CPU the lanes' probe
 * steps merged), in position-times: perf of ptycho bench --rows 20 --cols
 * 20 --frame 64 on 2 threads put the merges and barriers at a fifth of a
 * pass of 135 sets and 204 position-times, about 0.3 of a position's time
 * a set. */
#define SET_END_COST 0.3

/* A pass's modelled length on `workers` threads, in position-times:
 * sum_s ceil(size_s / workers), plus each set's end. */
static double pass_length(const colouring *c, int workers)
{
    double t = 0.0;
    for (int s = 0; s < c->n_sets; s++) t += (c->count[s] + workers - 1) / workers + SET_END_COST;
    return t;
}

/* Two colourings, the shorter pass kept (the sweep where they tie):
 *  - random: windows in an order drawn from rng, each into the smallest
 *    set it fits.  Even sets keep the workers busy (first fit would leave
 *    many sets of one), and where sets are capped (PTY_MAX_SET_SIZE) it
 *    fills them: a jittered raster of the seed scan's 21000 windows of
 *    256^2 in 1313-1314 sets (the sweep: about 1350; test_sets.c);
 *  - sweep: by rows over the scan, each into the first set it fits: each
 *    window meets the sets its neighbours just joined, and on a raster
 *    this colours a lattice with the fewest sets.  ptycho bench --rows 20
 *    --cols 20 (step 7 px at 64^2, where any 10 x 10 block of windows
 *    overlap one another, so 100 sets at least): 100 sets of 4, where the
 *    random order made 135 (66 of 2, 8 of 3, 61 of 4); an iteration on 2
 *    threads took 0.91x the time at 64^2, 0.90x at 128^2 and 0.93x at
 *    256^2 with one mode (medians of 6-12 paired runs), five modes within
 *    noise.
 * For several workers, windows then move between sets (balance) before
 * the two are compared. */
int pty_sets_build(const int *window, int n, int m, int obj_h, int obj_w, int workers, int max_size, pty_rng *rng,
                   pty_sets *out)
{
    memset(out, 0, sizeof *out);
    const int gh = obj_h / m + 1, gw = obj_w / m + 1;
    int *visit = malloc((size_t)(n > 0 ? n : 1) * sizeof *visit);
    int *work = malloc((size_t)3 * (n > 0 ? n : 1) * sizeof *work); /* 3 x n_sets, n_sets <= n */
    corner_key *key = malloc((size_t)(n > 0 ? n : 1) * sizeof *key);
    colouring cand[2] = {{0}, {0}};
    int rc = PTY_OK, best = 1;
    out->members = malloc((size_t)(n > 0 ? n : 1) * sizeof *out->members);
    if (!visit || !work || !key || !out->members) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate sets for %d positions", n);
        goto done;
    }
    for (int k = 0; k < 2 && rc == PTY_OK; k++) {
        colouring *c = &cand[k];
        if (k == 0) {
            pty_rng_permutation(rng, visit, n);
        } else {
            for (int j = 0; j < n; j++) key[j] = (corner_key){window[2 * j], window[2 * j + 1], j};
            qsort(key, (size_t)n, sizeof *key, by_corner);
            for (int t = 0; t < n; t++) visit[t] = key[t].index;
        }
        rc = colour(window, n, m, gh, gw, visit, k == 0, max_size, c);
        if (rc != PTY_OK || workers <= 1) continue;
        balance(window, n, m, gh, gw, workers, max_size, c->n_sets, c->cells, c->count, c->set_of, work, work + n,
                work + 2 * n);
        /* drop the sets that emptied, keeping the others' order */
        int *remap = work, kept = 0;
        for (int s = 0; s < c->n_sets; s++) {
            if (!c->count[s]) continue;
            c->count[kept] = c->count[s];
            remap[s] = kept++;
        }
        for (int j = 0; j < n; j++) c->set_of[j] = remap[c->set_of[j]];
        c->n_sets = kept;
    }
    if (rc != PTY_OK) goto done;
    if (pass_length(&cand[0], workers) < pass_length(&cand[1], workers)) best = 0;
    colouring *c = &cand[best];
    out->end = malloc((size_t)(c->n_sets > 0 ? c->n_sets : 1) * sizeof *out->end);
    if (!out->end) {
        rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d sets", c->n_sets);
        goto done;
    }
    int *count = c->count, n_sets = c->n_sets;
    for (int s = 0, acc = 0; s < n_sets; s++) out->end[s] = acc += count[s];
    for (int s = n_sets - 1; s >= 0; s--) count[s] = s ? out->end[s - 1] : 0; /* fill cursors */
    for (int j = 0; j < n; j++) out->members[count[c->set_of[j]]++] = j;
    for (int s = 0; s < n_sets; s++) {
        const int b = s ? out->end[s - 1] : 0;
        by_row(window, out->members + b, out->end[s] - b);
    }
    out->n = n;
    out->n_sets = n_sets;
done:
    free(visit);
    free(work);
    free(key);
    colouring_free(&cand[0]);
    colouring_free(&cand[1]);
    if (rc != PTY_OK) pty_sets_free(out);
    return rc;
}

int pty_sets_check_ends(const int *end, int n_sets, int n, const char *who)
{
    for (int s = 0; s < n_sets; s++)
        PTY_CHECK(end[s] > (s ? end[s - 1] : 0), PTY_ERR_ARG, "%s: set %d is empty or out of order", who, s);
    const int covered = n_sets > 0 ? end[n_sets - 1] : 0;
    PTY_CHECK(covered == n, PTY_ERR_ARG, "%s: the sets cover %d of %d positions", who, covered, n);
    return PTY_OK;
}

int pty_sets_largest(const int *end, int n_sets)
{
    int most = 1;
    for (int s = 0; s < n_sets; s++) {
        int size = end[s] - (s ? end[s - 1] : 0);
        if (size > most) most = size;
    }
    return most;
}

void pty_sets_shuffle(const pty_sets *s, pty_rng *rng, int *order, int *set_end, int *scratch)
{
    pty_rng_permutation(rng, scratch, s->n_sets);
    int k = 0;
    for (int i = 0; i < s->n_sets; i++) {
        int set = scratch[i], b = set ? s->end[set - 1] : 0;
        memcpy(order + k, s->members + b, (size_t)(s->end[set] - b) * sizeof *order);
        k += s->end[set] - b;
        set_end[i] = k;
    }
}
