/* epie_kernels.cuh - launchers of the per-position ePIE kernels (epie_kernels.cu).
 *
 * One position of a pass is: pty_cuda_exit_waves -> forward FFT -> pty_cuda_modulus
 * -> inverse FFT -> pty_cuda_update, all queued on one stream with no host sync.
 * The step sizes are derived on the device from maxima the first kernel leaves
 * in device memory, so the host never waits for them.  Each launcher checks its
 * launch and returns PTY_OK or PTY_ERR_GPU (pty_error_set).  All pointers are
 * device pointers; complex buffers hold n_modes frames of m*m, mode-major. */
#ifndef PTY_EPIE_KERNELS_CUH
#define PTY_EPIE_KERNELS_CUH

#include <cuda_runtime.h>
#include <stddef.h>

#include "pty_pixel.h"

/* Threads per block of every ePIE kernel (a multiple of the warp size). */
#define PTY_CUDA_BLOCK 256

/* d_max[0] = max(d_max[0], max_i |obj[i]|^2) over n pixels (d_max[0] must start >= 0). */
int pty_cuda_object_max(cudaStream_t stream, const pty_cf *d_obj, size_t n, float *d_max);

/* psi_k = P_k * O_patch for every pixel and mode (DESIGN.md §2, exit wave), and
 * d_max[0] = max(d_max[0], max_r |O_patch(r)|^2), d_max[1] = max(d_max[1], max_r sum_k |P_k(r)|^2),
 * both taken before the update; d_max must be zeroed (or smaller) first.
 * d_patch points at the window's top-left object pixel; obj_w is the object row stride. */
int pty_cuda_exit_waves(cudaStream_t stream, const pty_cf *d_patch, int obj_w, const pty_cf *d_probe,
                        pty_cf *d_psi, int m, int n_modes, float *d_max);

/* Modulus projection in place on the far field Psi_k (unscaled forward FFT):
 * Psi_k *= pty_modulus_factor(amp, sum_k |Psi_k|^2), masked pixels (amp < 0) untouched;
 * *d_err += sum over the frame of pty_fourier_error_term (in double). */
int pty_cuda_modulus(cudaStream_t stream, pty_cf *d_far, const float *d_amp, int m, int n_modes,
                     double *d_err);

/* Joint object and probe update (Maiden & Rodenburg 2009, eqs. 6-7, via pty_update_pixel):
 * d_far holds the unscaled inverse FFT of the projected Psi'_k and is overwritten
 * with Delta_k = d_far / N - psi_k.  probe_max = d_max[1]; obj_max = *d_obj_max
 * (the patch slot d_max[0] or the global maximum); probe_step = beta / obj_max when
 * beta > 0 and obj_max > 0, else 0; nothing changes when probe_max <= 0 (as the CPU).
 * d_reset[0..1] are zeroed for the next position's maxima. */
int pty_cuda_update(cudaStream_t stream, pty_cf *d_patch, int obj_w, pty_cf *d_probe, pty_cf *d_far,
                    const pty_cf *d_psi, int m, int n_modes, float alpha, float beta, float rpie,
                    float inv_n, const float *d_max, const float *d_obj_max, float *d_reset);

#endif /* PTY_EPIE_KERNELS_CUH */
