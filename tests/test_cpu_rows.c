/* test_cpu_rows.c - the CPU's row loops (src/engine/cpu_rows.c) give, pixel for
 * pixel, what the per-pixel math of pty_pixel.h gives: the same operations
 * in the same order, so the results must be equal, not close.  Runs of 300
 * pixels, and windows of rows of 150, cross a block boundary and end in a
 * partial block; the frame has masked pixels, dark pixels and NaNs.  The
 * loops run in the copy the CPU picks (AVX2 here where it has it), against
 * pty_pixel.h compiled for the baseline: equal bits say the copies agree. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_rows.h"
#include "pty_test.h"

#define N 300
#define STRIDE (N + 7)
#define MAX_MODES 3

static unsigned lcg_state = 12345u;
static float uniform(void) /* in [-1, 1) */
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)(lcg_state >> 8) / (float)(1u << 23) - 1.0f;
}

static void fill(pty_cf *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = pty_cf_make(uniform(), uniform());
}

static int same_cf(const pty_cf *a, const pty_cf *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* A window of ROWS rows of W pixels (N in all) cut from an object OBJ_W
 * wide: rows of 150 pixels cross a block boundary and end in a partial
 * block. */
#define ROWS 2
#define W 150
#define OBJ_W (W + 13)

static void check_probe_power(int K)
{
    static pty_cf probe[MAX_MODES * STRIDE];
    static float power[N], want[N];
    fill(probe, (size_t)K * STRIDE);
    probe[K * STRIDE - STRIDE + 77] = pty_cf_make(NAN, 1.0f); /* a NaN must not become the maximum */
    float want_max = 0.0f;
    for (int i = 0; i < N; i++) {
        float pp = 0.0f;
        for (int k = 0; k < K; k++) pp += pty_cabs2(probe[k * STRIDE + i]);
        want[i] = pp;
        if (pp > want_max) want_max = pp;
    }
    const float mx = pty_rows_probe_power(N, K, STRIDE, probe, power);
    PTY_TEST(K == 1 ? "probe power, 1 mode: |P|^2 at each pixel" : "probe power, 3 modes: sum_k |P_k|^2 at each pixel",
             memcmp(power, want, sizeof power) == 0);
    PTY_TEST("probe power: its maximum, NaN skipped, with or without the map",
             mx == want_max && pty_rows_probe_power(N, K, STRIDE, probe, NULL) == want_max);
}

/* A set's lane sums added to the probe, and the new probe's power, in one
 * sweep: as adding them one after another and then pty_rows_probe_power. */
static void check_add_steps(int K)
{
    enum { LANES = 3 };
    static pty_cf probe[MAX_MODES * STRIDE], want[MAX_MODES * STRIDE], sums[LANES * MAX_MODES * STRIDE];
    static float power[N], want_power[N];
    fill(probe, (size_t)K * STRIDE);
    fill(sums, (size_t)LANES * K * STRIDE);
    memcpy(want, probe, sizeof probe);
    for (int w = 0; w < LANES; w++)
        for (size_t i = 0; i < (size_t)K * STRIDE; i++) {
            want[i].re += sums[(size_t)w * K * STRIDE + i].re;
            want[i].im += sums[(size_t)w * K * STRIDE + i].im;
        }
    const float want_max = pty_rows_probe_power(N, K, STRIDE, want, want_power);
    static pty_cf probe_again[MAX_MODES * STRIDE];
    memcpy(probe_again, probe, sizeof probe);
    const float mx = pty_rows_add_steps(N, K, STRIDE, probe, sums, LANES, (size_t)K * STRIDE, power);
    /* without the map (ePIE), the maximum comes from the pixels as they lie */
    const float mx_alone = pty_rows_add_steps(N, K, STRIDE, probe_again, sums, LANES, (size_t)K * STRIDE, NULL);
    int same = memcmp(probe_again, probe, (size_t)K * STRIDE * sizeof *probe) == 0;
    for (int k = 0; k < K; k++) same &= same_cf(probe + k * STRIDE, want + k * STRIDE, N);
    PTY_TEST(K == 1 ? "lane sums added, 1 mode: the probe, bit for bit" : "lane sums added, 3 modes: the probe, bit for bit",
             same);
    PTY_TEST("lane sums added: the new probe's power and its maximum",
             memcmp(power, want_power, sizeof power) == 0 && mx == want_max);
    PTY_TEST("lane sums added without the map of powers: the same maximum", mx_alone == want_max);
}

static void check_exit_waves(int K)
{
    static pty_cf obj[ROWS * OBJ_W], probe[MAX_MODES * STRIDE], psi[MAX_MODES * STRIDE], want[MAX_MODES * STRIDE];
    fill(obj, ROWS * OBJ_W);
    fill(probe, (size_t)K * STRIDE);
    obj[OBJ_W + 50] = pty_cf_make(NAN, 0.0f); /* a NaN must not become the maximum */
    obj[OBJ_W + W] = pty_cf_make(100.0f, 0.0f); /* outside the window: not its maximum */
    float om = 0.5f, want_om = 0.5f;
    for (int r = 0; r < ROWS; r++)
        for (int i = 0; i < W; i++) {
            const pty_cf o = obj[r * OBJ_W + i];
            for (int k = 0; k < K; k++) want[k * STRIDE + r * W + i] = pty_cmul(probe[k * STRIDE + r * W + i], o);
            if (pty_cabs2(o) > want_om) want_om = pty_cabs2(o);
        }
    memset(psi, 0, sizeof psi);
    pty_rows_exit_waves(ROWS, W, K, STRIDE, obj, OBJ_W, probe, psi, NULL);
    int same = 1;
    for (int k = 0; k < K; k++) same &= same_cf(psi + k * STRIDE, want + k * STRIDE, N);
    PTY_TEST(K == 1 ? "exit waves, 1 mode: P O over a window" : "exit waves, 3 modes: P_k O over a window", same);
    pty_rows_exit_waves(ROWS, W, K, STRIDE, obj, OBJ_W, probe, psi, &om);
    PTY_TEST("exit waves: the object's maximum in the window, NaN skipped", om == want_om);
}

static void check_project(int K)
{
    static pty_cf far[MAX_MODES * STRIDE], want[MAX_MODES * STRIDE];
    float amp[N];
    fill(far, (size_t)K * STRIDE);
    for (int i = 0; i < N; i++) amp[i] = 2.0f * fabsf(uniform());
    amp[3] = amp[130] = PTY_MASKED;
    for (int k = 0; k < K; k++) { /* no power: one pixel to zero, one kept */
        far[k * STRIDE + 10] = far[k * STRIDE + 190] = pty_cf_make(0.0f, 0.0f);
    }
    amp[10] = 0.0f;
    amp[190] = 0.7f;
    memcpy(want, far, sizeof far);
    double want_err = 0.0;
    for (int i = 0; i < N; i++) {
        float model = 0.0f;
        for (int k = 0; k < K; k++) model += pty_cabs2(want[k * STRIDE + i]);
        want_err += pty_fourier_error_term(amp[i], model);
        const float f = pty_modulus_factor(amp[i], model);
        for (int k = 0; k < K; k++) {
            want[k * STRIDE + i].re *= f;
            want[k * STRIDE + i].im *= f;
        }
    }
    double err = pty_rows_project(N, K, STRIDE, amp, far);
    int same = 1;
    for (int k = 0; k < K; k++) same &= same_cf(far + k * STRIDE, want + k * STRIDE, N);
    PTY_TEST(K == 1 ? "projection, 1 mode: the pixel rule's far field" : "projection, 3 modes: the pixel rule's far field",
             same);
    PTY_TEST("projection: the error numerator (summed in another order)", fabs(err - want_err) <= 1e-5 * want_err);
}

/* the update into the probe itself (sequential order) and into an
 * accumulator (a set), holding sums already or (fresh) nothing yet, each
 * against pty_pixel.h pixel by pixel */
static void check_update(int K, int into_probe, float rpie, float probe_step, int fresh)
{
    static pty_cf obj[ROWS * OBJ_W], w_obj[ROWS * OBJ_W], probe[MAX_MODES * STRIDE], psi[MAX_MODES * STRIDE], far[MAX_MODES * STRIDE];
    static pty_cf acc[MAX_MODES * STRIDE], w_probe[MAX_MODES * STRIDE], w_far[MAX_MODES * STRIDE],
        w_acc[MAX_MODES * STRIDE], far_in[MAX_MODES * STRIDE];
    static float power[N], step_map[N];
    fill(obj, ROWS * OBJ_W);
    fill(probe, (size_t)K * STRIDE);
    fill(far, (size_t)K * STRIDE);
    /* the exit waves the update makes again from probe and object */
    for (int k = 0; k < K; k++)
        for (int r = 0; r < ROWS; r++)
            for (int x = 0; x < W; x++)
                psi[k * STRIDE + r * W + x] = pty_cmul(probe[k * STRIDE + r * W + x], obj[r * OBJ_W + x]);
    fill(acc, (size_t)K * STRIDE);
    memcpy(w_acc, acc, sizeof acc);
    /* fresh: what acc holds must not matter; pixel by pixel, the steps add to zeros */
    if (fresh)
        for (int i = 0; i < K * STRIDE; i++) w_acc[i] = pty_cf_make(0.0f, 0.0f); /* as memset left it */
    memcpy(w_obj, obj, sizeof obj);
    memcpy(w_probe, probe, sizeof probe);
    memcpy(w_far, far, sizeof far);
    memcpy(far_in, far, sizeof far);
    const float inv_n = 1.0f / 4096.0f, alpha = 0.9f, probe_max = 1.7f;
    /* the object step as the backend makes it: one for all pixels (ePIE), or a map from the
       probe's power (rPIE) */
    pty_rows_probe_power(N, K, STRIDE, probe, power);
    for (int i = 0; i < N; i++) step_map[i] = pty_object_step(alpha, rpie, power[i], probe_max);
    for (int r = 0; r < ROWS; r++)
        for (int x = 0; x < W; x++) {
            const int i = r * W + x;
            pty_cf *o = &w_obj[r * OBJ_W + x];
            for (int k = 0; k < K; k++)
                w_far[k * STRIDE + i] = pty_exit_delta(w_far[k * STRIDE + i], psi[k * STRIDE + i], inv_n);
            if (into_probe) {
                pty_update_pixel(o, &w_probe[i], &w_far[i], STRIDE, K, alpha, rpie, probe_max, probe_step);
            } else {
                pty_cf old = pty_update_object_pixel(o, &w_probe[i], &w_far[i], STRIDE, K, alpha, rpie, probe_max);
                if (probe_step != 0.0f) pty_probe_increment(&w_acc[i], old, &w_far[i], STRIDE, K, probe_step);
            }
        }
    float new_max = 0.0f;
    pty_rows_update(ROWS, W, K, STRIDE, obj, OBJ_W, probe, far, inv_n, rpie < 0.0f ? NULL : step_map,
                    pty_object_step(alpha, rpie, 0.0f, probe_max), probe_step, into_probe ? probe : acc, fresh,
                    into_probe ? &new_max : NULL);
    int same = same_cf(obj, w_obj, ROWS * OBJ_W);
    /* the new probe's power maximum, taken on the way, is the one a pass over it gives */
    if (into_probe) same &= new_max == pty_rows_probe_power(ROWS * W, K, STRIDE, probe, NULL) && new_max > 0.0f;
    for (int k = 0; k < K; k++)
        /* far is left alone */
        same &= same_cf(far + k * STRIDE, far_in + k * STRIDE, N) &&
                same_cf(probe + k * STRIDE, w_probe + k * STRIDE, N) &&
                same_cf(acc + k * STRIDE, w_acc + k * STRIDE, N);
    char what[160];
    snprintf(what, sizeof what, "update, %d mode%s, %s, %s%s: object and probe as pixel by pixel, far kept", K,
             K > 1 ? "s" : "", into_probe ? "into the probe" : fresh ? "into a fresh accumulator" : "into an accumulator",
             rpie < 0 ? "ePIE" : "rPIE", probe_step == 0.0f ? ", probe fixed" : "");
    PTY_TEST(what, same);
}

static void check_pixel_rules(void)
{
    PTY_TEST("modulus factor: a masked pixel is left alone", pty_modulus_factor(PTY_MASKED, 4.0f) == 1.0f);
    PTY_TEST("modulus factor: sqrt(I) / |Psi|", pty_modulus_factor(3.0f, 4.0f) == 1.5f);
    PTY_TEST("modulus factor: no power, no counts: zero", pty_modulus_factor(0.0f, 0.0f) == 0.0f);
    PTY_TEST("modulus factor: no power, counts: kept to grow later", pty_modulus_factor(2.0f, 0.0f) == 1.0f);
    PTY_TEST("error term: (|Psi| - sqrt(I))^2, masked pixels none",
             pty_fourier_error_term(1.0f, 9.0f) == 4.0f && pty_fourier_error_term(PTY_MASKED, 9.0f) == 0.0f);
}

/* Position terms of a run that is the middle row of a 3-row object strip (up and down given) or
 * its first row (no row above): the row loop against pty_position_terms pixel by pixel, with
 * pty_central_difference inside the run and one-sided at its ends.  The row loop weights the sum
 * over modes once and sums in lanes: equal to rounding (1e-5 relative), not bit for bit. */
static void check_position_terms(int K, int up)
{
    static pty_cf obj[3 * N], probe[MAX_MODES * STRIDE], psi[MAX_MODES * STRIDE], back[MAX_MODES * STRIDE];
    static float weight[N];
    fill(obj, 3 * N);
    fill(probe, (size_t)K * STRIDE);
    fill(back, (size_t)K * STRIDE);
    for (int i = 0; i < N; i++) weight[i] = 0.5f + 0.5f * uniform();
    const pty_cf *row = obj + (up ? N : 0);
    for (int k = 0; k < K; k++) /* the exit waves the row loop makes again */
        for (int i = 0; i < N; i++) psi[k * STRIDE + i] = pty_cmul(probe[k * STRIDE + i], row[i]);
    const float inv_n = 1.0f / 64.0f;
    double got[4] = {0}, want[4] = {0}, scale[4] = {0};
    pty_rows_position_terms(N, K, STRIDE, row, N, up, 1, probe, back, inv_n, weight, got);
    for (int i = 0; i < N; i++) {
        const pty_cf o = row[i];
        const int l = i > 0, r = i < N - 1;
        const pty_cf do_r = pty_central_difference(up ? row[i - N] : o, row[i + N], up);
        const pty_cf do_c = pty_central_difference(l ? row[i - 1] : o, r ? row[i + 1] : o, l && r);
        float t[4] = {0};
        pty_position_terms(do_r, do_c, probe + i, back + i, psi + i, STRIDE, K, inv_n, weight[i], t);
        for (int a = 0; a < 4; a++) {
            want[a] += t[a];
            scale[a] += fabs(t[a]);
        }
    }
    int close = 1;
    for (int a = 0; a < 4; a++) close &= fabs(got[a] - want[a]) <= 1e-5 * scale[a];
    char what[160];
    snprintf(what, sizeof what, "position terms, %d mode%s, %s: the pixel rule's four sums", K, K > 1 ? "s" : "",
             up ? "rows above and below" : "no row above (one-sided)");
    PTY_TEST(what, close);
}

/* The Fourier shift's two loops (the CPU backend's move_probe): the phase
 * ramp's multiply along a row of N pixels, and the scaled copy or sum. */
static void check_shift(int K)
{
    static pty_cf x[MAX_MODES * STRIDE], want[MAX_MODES * STRIDE], col[N], dst[MAX_MODES * STRIDE],
        want_dst[MAX_MODES * STRIDE];
    const pty_cf a = pty_cf_make(0.6f, -0.8f);
    fill(x, (size_t)K * STRIDE);
    fill(col, N);
    memcpy(want, x, sizeof want);
    for (int i = 0; i < N; i++) {
        const pty_cf f = pty_cmul(a, col[i]);
        for (int k = 0; k < K; k++) want[k * STRIDE + i] = pty_cmul(want[k * STRIDE + i], f);
    }
    static pty_cf moved[MAX_MODES * STRIDE];
    pty_rows_shift_row(N, K, STRIDE, a, col, x, moved, 0);
    int apart = 1;
    for (int k = 0; k < K; k++) apart &= same_cf(moved + k * STRIDE, want + k * STRIDE, N);
    PTY_TEST("shift row into another array: the same bits", apart);
    static pty_cf sum[MAX_MODES * STRIDE], want_sum[MAX_MODES * STRIDE];
    fill(sum, (size_t)K * STRIDE);
    memcpy(want_sum, sum, sizeof sum);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < N; i++) {
            const pty_cf w = want[k * STRIDE + i], *s0 = &want_sum[k * STRIDE + i];
            want_sum[k * STRIDE + i] = pty_cf_make(s0->re + w.re, s0->im + w.im);
        }
    pty_rows_shift_row(N, K, STRIDE, a, col, x, sum, 1);
    int added = 1;
    for (int k = 0; k < K; k++) added &= same_cf(sum + k * STRIDE, want_sum + k * STRIDE, STRIDE);
    PTY_TEST("shift row added to a sum: the same bits, gaps untouched", added);
    pty_rows_shift_row(N, K, STRIDE, a, col, x, x, 0);
    PTY_TEST(K == 1 ? "shift row, 1 mode: x times a col, bit for bit" : "shift row, 3 modes: x_k times a col, bit for bit",
             memcmp(x, want, sizeof x) == 0);
    for (int acc = 0; acc <= 1; acc++) {
        fill(dst, (size_t)K * STRIDE);
        memcpy(want_dst, dst, sizeof dst);
        const float s = 1.0f / 300.0f;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < N; i++) {
                const pty_cf y = x[k * STRIDE + i], v = pty_cf_make(y.re * s, y.im * s);
                pty_cf *d = &want_dst[k * STRIDE + i];
                *d = acc ? pty_cf_make(d->re + v.re, d->im + v.im) : v;
            }
        pty_rows_scaled(N, K, STRIDE, x, s, dst, acc);
        int same = 1; /* the gaps between modes are not touched */
        for (int k = 0; k < K; k++) same &= same_cf(dst + k * STRIDE, want_dst + k * STRIDE, STRIDE);
        PTY_TEST(acc ? "scaled sum: dst + s y, each mode, gaps untouched" : "scaled copy: s y, each mode, gaps untouched",
                 same);
    }
    /* the moved probe made ready in the same sweep: the copy's bits, and the power map and
       maximum that pty_rows_probe_power gives of it */
    static pty_cf ready[MAX_MODES * STRIDE];
    static float power[N], want_power[N];
    x[17] = pty_cf_make(NAN, 0.0f); /* a NaN must not become the maximum */
    pty_rows_scaled(N, K, STRIDE, x, 0.25f, dst, 0);
    const float want_mx = pty_rows_probe_power(N, K, STRIDE, dst, want_power);
    const float mx = pty_rows_scaled_power(N, K, STRIDE, x, 0.25f, ready, power);
    int same = 1;
    for (int k = 0; k < K; k++) same &= same_cf(ready + k * STRIDE, dst + k * STRIDE, N);
    PTY_TEST("scaled copy with its power: the copy's bits", same);
    PTY_TEST("scaled copy with its power: the map and maximum of pty_rows_probe_power",
             memcmp(power, want_power, sizeof power) == 0 && mx == want_mx && !isnan(mx));
    PTY_TEST("scaled copy with its power: the same maximum without the map",
             pty_rows_scaled_power(N, K, STRIDE, x, 0.25f, ready, NULL) == want_mx);
}

int main(void)
{
    check_pixel_rules();
    for (int K = 1; K <= MAX_MODES; K += 2) {
        check_probe_power(K);
        check_add_steps(K);
        check_exit_waves(K);
        check_project(K);
        check_update(K, 1, -1.0f, 0.3f, 0);
        check_update(K, 0, -1.0f, 0.3f, 0);
        check_update(K, 0, -1.0f, 0.3f, 1);
        check_update(K, 0, 0.5f, 0.3f, 0);
        check_update(K, 0, 0.5f, 0.3f, 1);
        check_update(K, 1, -1.0f, 0.0f, 0);
        check_position_terms(K, 1);
        check_position_terms(K, 0);
        check_shift(K);
    }
    return pty_test_report();
}
