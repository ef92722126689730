/* cpu_rows_dispatch.c - cpu_rows.h's functions: each calls the copy of the
 * loops (cpu_rows_copy.h) this CPU runs fastest, chosen once at load.
 *
 * The AVX-512 copy where the CPU has x86-64-v4, unless PTY_VECTOR_BITS is
 * set below 512 (to compare the copies on one machine, and to test the
 * narrow one there: tests/CMakeLists.txt).  Measured on this project's
 * 2-core VM (tests/bench_rows 64 K 1000, ns a pixel and mode, the AVX2
 * copy -> the AVX-512 one, two alternating runs), 1 mode / 5 modes: update
 * into a lane's sum 0.77 -> 0.68 / 0.91 -> 0.78; into the probe with its
 * maximum 1.07-1.11 -> 0.80-0.83 / 0.97 -> 0.78; projection 0.77-0.79 ->
 * 0.44 / 0.41 -> 0.32; exit waves and the power's maximum unchanged (they
 * wait on memory).  Every copy gives the same bits. */
#include <stdlib.h>

#include "cpu_rows_copy.h"

#ifdef PTY_ROWS_HAVE_AVX512
static int wide; /* run the AVX-512 copy */

__attribute__((constructor)) static void choose_copy(void)
{
    __builtin_cpu_init(); /* gcc's CPU model may not be filled in yet when constructors run */
    const char *bits = getenv("PTY_VECTOR_BITS");
    wide = __builtin_cpu_supports("x86-64-v4") && !(bits && *bits && atoi(bits) < 512);
}
#define CALL(name, ...) (wide ? name##_avx512(__VA_ARGS__) : name##_narrow(__VA_ARGS__))
#else
#define CALL(name, ...) name##_narrow(__VA_ARGS__)
#endif

int pty_rows_vector_bits(void)
{
#ifdef PTY_ROWS_HAVE_AVX512
    if (wide) return 512;
    return __builtin_cpu_supports("avx2") ? 256 : 128; /* the loader's pick of target_clones */
#else
    return 0;
#endif
}

float pty_rows_probe_power(int n, int n_modes, size_t stride, const pty_cf *probe, float *power)
{
    return CALL(pty_rows_probe_power, n, n_modes, stride, probe, power);
}

float pty_rows_add_steps(int n, int n_modes, size_t stride, pty_cf *probe, const pty_cf *sums, int n_sums,
                         size_t sum_stride, float *power)
{
    return CALL(pty_rows_add_steps, n, n_modes, stride, probe, sums, n_sums, sum_stride, power);
}

void pty_rows_exit_waves(int nr, int m, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w,
                         const pty_cf *probe, pty_cf *psi, float *obj_max)
{
    CALL(pty_rows_exit_waves, nr, m, n_modes, stride, obj, obj_w, probe, psi, obj_max);
}

double pty_rows_project(int n, int n_modes, size_t stride, const float *amp, pty_cf *far)
{
    return CALL(pty_rows_project, n, n_modes, stride, amp, far);
}

void pty_rows_update(int nr, int m, int n_modes, size_t stride, pty_cf *obj, size_t obj_w, const pty_cf *probe,
                     const pty_cf *far, float inv_n, const float *obj_step, float step, float probe_step,
                     pty_cf *probe_out, int probe_out_fresh, float *probe_out_max)
{
    CALL(pty_rows_update, nr, m, n_modes, stride, obj, obj_w, probe, far, inv_n, obj_step, step, probe_step,
         probe_out, probe_out_fresh, probe_out_max);
}

void pty_rows_position_terms(int n, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w, int up, int down,
                             const pty_cf *probe, const pty_cf *back, float inv_n, const float *weight,
                             double sums[4])
{
    CALL(pty_rows_position_terms, n, n_modes, stride, obj, obj_w, up, down, probe, back, inv_n, weight, sums);
}

void pty_rows_shift_row(int m, int n_modes, size_t stride, pty_cf a, const pty_cf *col, const pty_cf *x, pty_cf *out,
                        int accumulate)
{
    CALL(pty_rows_shift_row, m, n_modes, stride, a, col, x, out, accumulate);
}

void pty_rows_scaled(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst, int accumulate)
{
    CALL(pty_rows_scaled, n, n_modes, stride, y, s, dst, accumulate);
}

float pty_rows_scaled_power(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst, float *power)
{
    return CALL(pty_rows_scaled_power, n, n_modes, stride, y, s, dst, power);
}
