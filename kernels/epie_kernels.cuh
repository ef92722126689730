/* epie_kernels.cuh - launchers of the batched ePIE kernels (epie_kernels.cu).
 *
 * One chunk of a set (positions whose windows do not overlap, sets.h) is:
 *   pty_cuda_exit_waves -> forward FFT of chunk x K frames -> pty_cuda_modulus
 *   -> inverse FFT -> pty_cuda_update,
 * and after the last chunk of a set pty_cuda_probe_apply adds the set's
 * summed probe steps to the probe.  Everything is queued on one stream with
 * no host sync: the step sizes come from maxima the kernels leave in device
 * memory.  Each launcher checks its launch and returns PTY_OK or PTY_ERR_GPU.
 * All pointers are device pointers; chunk buffers hold chunk x K frames of
 * m*m, position-major then mode-major, which is the cuFFT batch layout. */
#ifndef PTY_EPIE_KERNELS_CUH
#define PTY_EPIE_KERNELS_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#include "pty_pixel.h"

/* Threads per block of every ePIE kernel (a multiple of the warp size). */
#define PTY_CUDA_BLOCK 256

/* The object grid and the window table, as every kernel of a chunk sees them. */
typedef struct pty_cuda_object {
    pty_cf *data;        /* obj_h x obj_w, row-major */
    int obj_w;
    const int *window;   /* n_frames x 2: top-left (row, col) of each frame's window */
} pty_cuda_object;

/* d_max[0] = max(d_max[0], max_i |obj[i]|^2) over n pixels (d_max[0] must start >= 0). */
int pty_cuda_object_max(cudaStream_t stream, const pty_cf *d_obj, size_t n, float *d_max);

/* d_max[0] = max(d_max[0], max_r sum_k |P_k(r)|^2), the object step's normaliser. */
int pty_cuda_probe_max(cudaStream_t stream, const pty_cf *d_probe, int m, int n_modes, float *d_max);

/* For the n positions frames[0..n-1]: psi[b][k] = P_k * O_window(frames[b])
 * (DESIGN.md §2, exit wave), P being d_probe + b * probe_stride (0: one
 * probe for all; K*m*m: each position's moved probe) and, when not NULL,
 * d_patch_max[b] = max over the window of |O|^2 before the update and
 * d_probe_max_each[b] = max_r sum_k |P_k|^2 of its probe (both must start
 * at 0). */
int pty_cuda_exit_waves(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n, const pty_cf *d_probe,
                        size_t probe_stride, pty_cf *d_psi, int m, int n_modes, float *d_patch_max,
                        float *d_probe_max_each);

/* Modulus projection in place on the far fields Psi_bk (unscaled forward
 * FFT): Psi_bk *= pty_modulus_factor(amp_b, sum_k |Psi_bk|^2), masked pixels
 * (amp < 0) untouched; *d_err += the frame's pty_fourier_error_term sum (in
 * double).  amp_b is d_amp + frames[b] * m*m (frames resident), or
 * d_amp + b * m*m when d_frames is NULL (a chunk's streamed frames). */
int pty_cuda_modulus(cudaStream_t stream, pty_cf *d_far, const float *d_amp, const int *d_frames, int n, int m,
                     int n_modes, double *d_err);

/* Step parameters of an update, as pty_pass_params. */
typedef struct pty_cuda_steps {
    float alpha, beta, rpie;
    int set_size;            /* positions of the set whose probe steps are averaged (pty_probe_step) */
    const float *probe_max;  /* max_r sum_k |P_k|^2 of the probe the set sees */
    const float *global_max; /* max |O|^2 of the object at the pass start, or NULL: each window's patch max */
    const float *patch_max;  /* n, from pty_cuda_exit_waves (when global_max is NULL) */
    const float *probe_max_each; /* n: each position's own probe max (moved probes), or NULL: probe_max */
    int steps_in_psi;        /* 1: each position's probe steps replace its exit waves in d_psi (to be
                                moved back, pty_cuda_unshift_steps) instead of joining d_acc */
} pty_cuda_steps;

/* Object and probe halves of the update (Maiden & Rodenburg 2009, eqs. 6-7,
 * via pty_update_object_pixel and pty_probe_increment): d_far holds the
 * unscaled inverse FFT of Psi'_bk and becomes Delta_bk = d_far / N - psi_bk;
 * each window of the object is updated in place (the windows are disjoint),
 * and the probe steps pty_probe_step(beta, obj_max, set_size) * conj(O_old) Delta are summed into
 * d_acc[g] for position b in group g = b mod groups (d_acc may be NULL when
 * beta = 0).  Nothing changes when the probe max is <= 0 (as on the CPU). */
int pty_cuda_update(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n, const pty_cf *d_probe,
                    size_t probe_stride, pty_cf *d_far, pty_cf *d_psi, pty_cf *d_acc, int groups, int m, int n_modes,
                    pty_cuda_steps steps);

/* Sub-pixel positions (pty_shift_factor).  d_moved[b] = the spectra d_spec
 * (K*m*m, the probe's forward FFT) moved by frames[b]'s offset
 * (d_shift[2j], d_shift[2j+1]) and scaled by 1/N: the unscaled inverse FFT
 * of d_moved is each position's moved probe. */
int pty_cuda_shift_probe(cudaStream_t stream, const pty_cf *d_spec, pty_cf *d_moved, const int *d_frames,
                         const float *d_shift, int n, int m, int n_modes);

/* d_acc (K*m*m) += sum over b, in order, of the spectra d_steps[b] (the
 * forward FFT of position b's probe steps) moved back by -frames[b]'s
 * offset, over N: one unscaled inverse FFT of d_acc at the end of the set
 * gives the set's summed probe steps on the unmoved probe. */
int pty_cuda_unshift_steps(cudaStream_t stream, const pty_cf *d_steps, pty_cf *d_acc, const int *d_frames,
                           const float *d_shift, int n, int m, int n_modes);

/* End of a set: P_k += sum over the groups, in group order, of d_acc[g]
 * (then zeroed); d_max_next[0] = max(d_max_next[0], max_r sum_k |P_k|^2) of
 * the new probe (must start at 0), and d_max_done[0] (the finished set's
 * slot) is zeroed for the set after next. */
int pty_cuda_probe_apply(cudaStream_t stream, pty_cf *d_probe, pty_cf *d_acc, int groups, int m, int n_modes,
                         float *d_max_next, float *d_max_done);

/* Position correction.  d_illum (n_obj floats) = the weights of the
 * position terms, I / (I + max I), I the illumination of each object pixel
 * by the probe d_probe in the n_frames windows d_window (d_max: one float of
 * scratch). */
int pty_cuda_illumination_weights(cudaStream_t stream, const pty_cf *d_probe, int m, int n_modes, const int *d_window,
                                  int n_frames, int obj_w, float *d_illum, size_t n_obj, float *d_max);

/* d_sums[4 frames[b] + a] += the four sums of pty_position_terms over the
 * window of chunk position b (object derivatives by pty_central_difference
 * within the window, on the object before the update; d_far the unscaled back-propagated far
 * field, before pty_cuda_update turns it into Delta; probe as for
 * pty_cuda_exit_waves). */
int pty_cuda_position_terms(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n,
                            const pty_cf *d_probe, size_t probe_stride, const pty_cf *d_far, const pty_cf *d_psi,
                            int m, int n_modes, const float *d_weight, double *d_sums);

#endif /* PTY_EPIE_KERNELS_CUH */
