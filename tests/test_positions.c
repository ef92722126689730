/* test_positions.c - position correction's math and bookkeeping.
 *
 * pty_position_terms: an object that is a smooth blob seen through a
 * Gaussian probe at the wrong corner gives, from the exit-wave change that
 * the true corner's exit waves ask for (Delta = psi_true - psi), a step
 * that points to the true corner and covers most of a small error.
 * pty_positions_apply: a common shift is removed entirely, an affine map of
 * the positions too when asked (and only its mean otherwise), steps are
 * clipped to the limit, windows stay inside the object, and windows plus
 * shifts always add up to the corners. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "positions.h"
#include "pty_pixel.h"
#include "pty_test.h"

#define M 32
#define H 64

/* A smooth complex object: a Gaussian bump in phase and magnitude. */
static pty_cf object_at(double r, double c)
{
    const double d2 = (r - 30.0) * (r - 30.0) + (c - 34.0) * (c - 34.0);
    const double a = 1.0 - 0.4 * exp(-d2 / 60.0), ph = 0.8 * exp(-d2 / 40.0);
    return pty_cf_make((float)(a * cos(ph)), (float)(a * sin(ph)));
}

static pty_cf probe_at(double r, double c)
{
    const double d2 = (r - M / 2) * (r - M / 2) + (c - M / 2) * (c - M / 2);
    return pty_cf_make((float)exp(-d2 / 50.0), 0.0f);
}

/* The step the math gives when the window sits at `guess` and the object
 * was seen from `truth` (both whole-pixel corners; the object evaluated
 * analytically so the exit waves of both are exact). */
static void step_for(const double guess[2], const double truth[2], float step[2])
{
    double sums[4] = {0};
    for (int r = 0; r < M; r++)
        for (int c = 0; c < M; c++) {
            const pty_cf p = probe_at(r, c);
            const pty_cf o = object_at(guess[0] + r, guess[1] + c);
            const pty_cf psi = pty_cmul(p, o), target = pty_cmul(p, object_at(truth[0] + r, truth[1] + c));
            const pty_cf up = object_at(guess[0] + r - 1, guess[1] + c), dn = object_at(guess[0] + r + 1, guess[1] + c);
            const pty_cf lf = object_at(guess[0] + r, guess[1] + c - 1), rt = object_at(guess[0] + r, guess[1] + c + 1);
            const pty_cf do_r = pty_cf_make(0.5f * (dn.re - up.re), 0.5f * (dn.im - up.im));
            const pty_cf do_c = pty_cf_make(0.5f * (rt.re - lf.re), 0.5f * (rt.im - lf.im));
            /* back = N (psi + Delta) with inv_n = 1/N: Delta = target - psi */
            const pty_cf back = pty_cf_make(4.0f * target.re, 4.0f * target.im);
            float t[4] = {0};
            pty_position_terms(do_r, do_c, &p, &back, &psi, 1, 1, 0.25f, 1.0f, t);
            for (int a = 0; a < 4; a++) sums[a] += t[a];
        }
    step[0] = pty_position_step(sums[0], sums[1]);
    step[1] = pty_position_step(sums[2], sums[3]);
}

static void grid(pty_geometry *g, int n_side)
{
    g->n = n_side * n_side;
    g->obj_h = g->obj_w = H;
    g->origin[0] = g->origin[1] = 3.0;
    g->window = malloc((size_t)g->n * 2 * sizeof *g->window);
    g->shift = calloc((size_t)g->n * 2, sizeof *g->shift);
    for (int i = 0; i < n_side; i++)
        for (int j = 0; j < n_side; j++) {
            g->window[2 * (i * n_side + j)] = 4 + 6 * i;
            g->window[2 * (i * n_side + j) + 1] = 4 + 6 * j;
        }
}

/* Largest |corner - (window + shift)|. */
static double consistency(const pty_positions *p, const pty_geometry *g)
{
    double worst = 0;
    for (int i = 0; i < 2 * p->n; i++) worst = fmax(worst, fabs(p->corner[i] - (g->window[i] + g->shift[i])));
    return worst;
}

int main(void)
{
    /* the math: small errors, each axis and both */
    const double truth[2] = {14, 18};
    const double guesses[][2] = {{15, 18}, {14, 16}, {13, 19}};
    double worst_ratio = 0;
    int toward = 1;
    for (int t = 0; t < 3; t++) {
        float s[2];
        step_for(guesses[t], truth, s);
        for (int a = 0; a < 2; a++) {
            const double want = truth[a] - guesses[t][a];
            if (want != 0) {
                toward &= (s[a] > 0) == (want > 0);
                worst_ratio = fmax(worst_ratio, fabs(s[a] / want - 1.0));
            } else {
                worst_ratio = fmax(worst_ratio, fabs(s[a]) / 1.0);
            }
        }
        printf("        window at (%g, %g), true (%g, %g): step (%+.3f, %+.3f)\n", guesses[t][0], guesses[t][1],
               truth[0], truth[1], s[0], s[1]);
    }
    PTY_TEST("the step points from the window toward the true corner on every axis that is off", toward);
    PTY_TEST("and covers the error within 50 % (a Gauss-Newton step on a smooth object)", worst_ratio < 0.5);

    /* the bookkeeping */
    pty_geometry g;
    grid(&g, 5);
    pty_positions p;
    PTY_TEST("positions from a geometry", pty_positions_create(&g, M, &p) == 0);
    int moved = 0;
    for (int j = 0; j < p.n; j++) {
        p.steps[2 * j] = 0.25f;
        p.steps[2 * j + 1] = -0.1f;
    }
    PTY_TEST("apply (common shift)", pty_positions_apply(&p, 0.3f, 0, NULL, &g, &moved) == 0);
    double off = 0;
    for (int i = 0; i < 2 * p.n; i++) off = fmax(off, fabs(p.corner[i] - p.start[i]));
    PTY_TEST("a common shift is removed entirely (every corner back within 1e-12)", off < 1e-12 && moved == 0);

    /* an affine step (scale 1 % plus a shift) and one outlier's step */
    for (int j = 0; j < p.n; j++)
        for (int a = 0; a < 2; a++)
            p.steps[2 * j + a] = (float)(0.1 + 0.01 * (p.start[2 * j + a] - 16.0));
    p.steps[2 * 12] = 5.0f; /* the middle one: clipped to the limit */
    double step_mean = 0;   /* of the row steps as clipped */
    for (int j = 0; j < p.n; j++) step_mean += fmin(p.steps[2 * j], 0.3) / p.n;
    pty_positions q;
    pty_positions_create(&g, M, &q);
    memcpy(q.steps, p.steps, (size_t)p.n * 2 * sizeof *p.steps);
    pty_geometry g2;
    grid(&g2, 5);
    PTY_TEST("apply (mean only)", pty_positions_apply(&p, 0.3f, 0, NULL, &g, &moved) == 0);
    PTY_TEST("apply (affine)", pty_positions_apply(&q, 0.3f, 1, NULL, &g2, &moved) == 0);
    double mean[2] = {0}, slope_left = 0, affine_left = 0;
    for (int j = 0; j < p.n; j++)
        for (int a = 0; a < 2; a++) mean[a] += (p.corner[2 * j + a] - p.start[2 * j + a]) / p.n;
    for (int j = 0; j < p.n; j++) {
        if (j == 12) continue;
        slope_left = fmax(slope_left, fabs(p.corner[2 * j + 1] - p.start[2 * j + 1]));
        affine_left = fmax(affine_left, fabs(q.corner[2 * j + 1] - q.start[2 * j + 1]));
    }
    printf("        mean only: mean (%.2e, %.2e), largest column move %.3f; affine: %.2e\n", mean[0], mean[1],
           slope_left, affine_left);
    PTY_TEST("mean only: the mean move is 0 and the scale stays (moves up to 0.12 px)",
             fabs(mean[0]) < 1e-9 && fabs(mean[1]) < 1e-9 && slope_left > 0.1);
    PTY_TEST("affine: the scale goes too (the rest moves < 0.02 px: only the outlier's share)", affine_left < 0.02);
    PTY_TEST("the outlier's step is clipped to 0.3 px (less its share of the mean)",
             fabs(p.corner[24] - p.start[24] - (0.3 - step_mean)) < 1e-6);
    PTY_TEST("windows plus shifts are the corners (within 1e-6)", consistency(&p, &g) < 1e-6 && consistency(&q, &g2) < 1e-6);

    /* a window pushed past the object's edge stays inside */
    pty_positions_reset(&p, &g);
    for (int i = 0; i < 2 * p.n; i++) p.steps[i] = 0.0f;
    for (int t = 0; t < 20; t++) {
        p.steps[0] = -0.5f; /* the corner at (4, 4) pulled up and left */
        pty_positions_apply(&p, 0.5f, 0, NULL, &g, &moved);
    }
    int inside = 1;
    for (int j = 0; j < p.n; j++)
        for (int a = 0; a < 2; a++) inside &= g.window[2 * j + a] >= 0 && g.window[2 * j + a] + M <= H;
    PTY_TEST("windows stay inside the object however far a position is pulled", inside && p.corner[0] >= 0.0);
    pty_positions_free(&p);
    pty_positions_free(&q);
    pty_geometry_free(&g);
    pty_geometry_free(&g2);
    return pty_test_report();
}
