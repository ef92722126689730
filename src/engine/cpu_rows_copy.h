/* cpu_rows_copy.h - the compiled copies of cpu_rows.c's loops, which
 * cpu_rows_dispatch.c chooses between (internal to the three files).
 *
 * cpu_rows.c is compiled twice on x86-64 with gcc: as itself, the loops in
 * vectors of 8 floats (the x86-64 baseline and an AVX2 copy, which the
 * loader picks: "narrow"), and as cpu_rows_avx512.c, in vectors of 16
 * floats for CPUs with AVX-512 (x86-64-v4: "avx512").  Every copy gives
 * the same bits (cpu_rows.c says how); tests/test_cpu_rows.c holds each to
 * pty_pixel.h's. */
#ifndef PTY_CPU_ROWS_COPY_H
#define PTY_CPU_ROWS_COPY_H

#include "cpu_rows.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PTY_BASELINE_ONLY)
#define PTY_ROWS_HAVE_AVX512 1
#endif

/* cpu_rows.h's functions, each under the name name_<copy> */
#define PTY_ROWS_DECLARE(copy)                                                                                         \
    float pty_rows_probe_power_##copy(int n, int n_modes, size_t stride, const pty_cf *probe, float *power);           \
    float pty_rows_add_steps_##copy(int n, int n_modes, size_t stride, pty_cf *probe, const pty_cf *sums, int n_sums,  \
                                    size_t sum_stride, float *power);                                                  \
    void pty_rows_exit_waves_##copy(int nr, int m, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w,        \
                                    const pty_cf *probe, pty_cf *psi, float *obj_max);                                 \
    double pty_rows_project_##copy(int n, int n_modes, size_t stride, const float *amp, pty_cf *far);                 \
    void pty_rows_update_##copy(int nr, int m, int n_modes, size_t stride, pty_cf *obj, size_t obj_w,                  \
                                const pty_cf *probe, const pty_cf *far, float inv_n, const float *obj_step,            \
                                float step, float probe_step, pty_cf *probe_out, int probe_out_fresh,                  \
                                float *probe_out_max);                                                                 \
    void pty_rows_position_terms_##copy(int n, int n_modes, size_t stride, const pty_cf *obj, size_t obj_w, int up,    \
                                        int down, const pty_cf *probe, const pty_cf *back, float inv_n,                \
                                        const float *weight, double sums[4]);                                  \
    void pty_rows_shift_row_##copy(int m, int n_modes, size_t stride, pty_cf a, const pty_cf *col, const pty_cf *x,    \
                                   pty_cf *out, int accumulate);                                                       \
    void pty_rows_scaled_##copy(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst,              \
                                int accumulate);                                                                       \
    float pty_rows_scaled_power_##copy(int n, int n_modes, size_t stride, const pty_cf *y, float s, pty_cf *dst,       \
                                       float *power);

PTY_ROWS_DECLARE(narrow)
#ifdef PTY_ROWS_HAVE_AVX512
PTY_ROWS_DECLARE(avx512)
#endif

#endif /* PTY_CPU_ROWS_COPY_H */
