/* bench_rows.c - the CPU's pixel loops (src/engine/cpu_rows.c) timed alone,
 * on one m x m window whose rows stay in cache: nanoseconds a pixel and mode
 * for each loop, the best of 5 rounds of `calls` calls.  A benchmark, not a
 * test (ctest does not run it); the figures in cpu_rows.c and the README's
 * issue 17 section come from it:
 *
 *   build/tests/bench_rows [m] [modes] [calls] [gap]   (default 64 1 2000, the backend's gap)
 *
 * gap: complex numbers between one mode's m x m pixels and the next mode's
 * (pty_mode_stride's by default; 0 puts them m*m apart).  PTY_VECTOR_BITS=256
 * in the environment times the AVX2 copy on a CPU with AVX-512.
 *
 * The update is timed twice: as the batched order runs it (the steps added
 * to a lane's sum) and as the sequential order does (into the probe itself,
 * with the new probe's maximum).  Steps are tiny so that the values stay
 * put over the calls. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_rows.h"
#include "fft_wisdom.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float uniform(unsigned *state) /* in [0, 1) */
{
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / (float)(1u << 24);
}

enum { LOOPS = 5 };
static const char *const names[LOOPS] = {"exit waves", "projection", "update (into a lane's sum)",
                                         "update (into the probe, with its maximum)", "the probe power's maximum"};

int main(int argc, char **argv)
{
    const int m = argc > 1 ? atoi(argv[1]) : 64, K = argc > 2 ? atoi(argv[2]) : 1;
    const int calls = argc > 3 ? atoi(argv[3]) : 2000;
    const size_t npix = (size_t)m * m, obj_w = 3 * (size_t)m;
    const long gap = argc > 4 ? atol(argv[4]) : (long)(pty_mode_stride(npix) - npix);
    if (m < 1 || m > 4096 || K < 1 || K > 64 || calls < 1 || gap < 0 || gap > 1 << 20) {
        fprintf(stderr, "usage: bench_rows [m (1..4096)] [modes (1..64)] [calls (>= 1)] [gap (0..2^20)]\n");
        return 2;
    }
    const size_t ms = npix + (size_t)gap; /* from one mode to the next */
    pty_cf *obj = malloc(obj_w * m * sizeof *obj), *probe = malloc(ms * K * sizeof *probe);
    pty_cf *far = malloc(ms * K * sizeof *far), *sums = malloc(ms * K * sizeof *sums);
    float *amp = malloc(npix * sizeof *amp);
    if (!obj || !probe || !far || !sums || !amp) {
        fprintf(stderr, "bench_rows: out of memory\n");
        return 1;
    }
    unsigned state = 1;
    for (size_t i = 0; i < obj_w * m; i++) obj[i] = pty_cf_make(1.0f + uniform(&state), uniform(&state));
    for (size_t i = 0; i < ms * K; i++) probe[i] = far[i] = pty_cf_make(uniform(&state), uniform(&state));
    for (size_t i = 0; i < npix; i++) amp[i] = uniform(&state);
    const float inv_n = 1.0f / (float)npix, tiny = 1e-9f;
    double best[LOOPS];
    for (int l = 0; l < LOOPS; l++) best[l] = 1e30;
    volatile float sink = 0.0f;
    for (int round = 0; round < 5; round++)
        for (int l = 0; l < LOOPS; l++) {
            float mx = 0.0f;
            const double t0 = now_s();
            for (int c = 0; c < calls; c++) switch (l) {
                case 0: pty_rows_exit_waves(m, m, K, ms, obj, obj_w, probe, far, NULL); break;
                case 1: sink += (float)pty_rows_project((int)npix, K, ms, amp, far); break;
                case 2: pty_rows_update(m, m, K, ms, obj, obj_w, probe, far, inv_n, NULL, tiny, tiny, sums, c == 0, NULL); break;
                case 3: pty_rows_update(m, m, K, ms, obj, obj_w, probe, far, inv_n, NULL, tiny, tiny, probe, 0, &mx); break;
                default: sink += pty_rows_probe_power((int)npix, K, ms, probe, NULL); break;
                }
            const double t = now_s() - t0;
            if (t < best[l]) best[l] = t;
            sink += mx;
        }
    printf("bench_rows: %dx%d window, %d mode%s (%ld complex between them), %d-bit copy, best of 5 x %d calls, "
           "ns a pixel and mode\n",
           m, m, K, K > 1 ? "s" : "", gap, pty_rows_vector_bits(), calls);
    for (int l = 0; l < LOOPS; l++) printf("  %-44s %7.3f\n", names[l], 1e9 * best[l] / ((double)calls * npix * K));
    free(obj), free(probe), free(far), free(sums), free(amp);
    return 0;
}
