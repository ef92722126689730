/* cuda_check.h - translate CUDA runtime and cuFFT failures into ptycho status codes.
 *
 * PTY_CUDA(call) and PTY_CUFFT(call) record "<call> failed (<cause>) [file:line func]"
 * with pty_error_set (PTY_ERR_GPU / PTY_ERR_FFT) and return that status from the
 * calling function; the library never exits.  Call PTY_CUDA(cudaGetLastError())
 * after every kernel launch.  Included only by the kernels/ .cu files. */
#ifndef PTY_CUDA_CHECK_H
#define PTY_CUDA_CHECK_H

#include <cuda_runtime.h>
#include <cufft.h>
#include <string.h>

#include "pty_error.h"

/* Blocks needed to cover n items with blocks of b. */
#define PTY_CEIL_DIV(n, b) (((n) + (b) - 1) / (b))

/* File name without its directory, for short messages. */
static inline const char *pty_cuda_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Name of a cuFFT status (cuFFT has no error-string function). */
static inline const char *pty_cufft_strerror(cufftResult r)
{
    switch (r) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED: out of GPU memory";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    case CUFFT_MISSING_DEPENDENCY: return "CUFFT_MISSING_DEPENDENCY";
    case CUFFT_NVRTC_FAILURE: return "CUFFT_NVRTC_FAILURE";
    case CUFFT_NVJITLINK_FAILURE: return "CUFFT_NVJITLINK_FAILURE";
    case CUFFT_NVSHMEM_FAILURE: return "CUFFT_NVSHMEM_FAILURE";
    default: return "unknown cuFFT status";
    }
}

/* Run a CUDA runtime call; on failure record PTY_ERR_GPU and return it. */
#define PTY_CUDA(call)                                                                             \
    do {                                                                                           \
        cudaError_t pty_cuda_e_ = (call);                                                          \
        if (pty_cuda_e_ != cudaSuccess)                                                            \
            return pty_error_set(PTY_ERR_GPU, "%s failed (%s: %s) [%s:%d %s]", #call,              \
                                 cudaGetErrorName(pty_cuda_e_), cudaGetErrorString(pty_cuda_e_),   \
                                 pty_cuda_basename(__FILE__), __LINE__, __func__);                 \
    } while (0)

/* Run a cuFFT call; on failure record PTY_ERR_FFT and return it. */
#define PTY_CUFFT(call)                                                                            \
    do {                                                                                           \
        cufftResult pty_cufft_r_ = (call);                                                         \
        if (pty_cufft_r_ != CUFFT_SUCCESS)                                                         \
            return pty_error_set(PTY_ERR_FFT, "%s failed (%s) [%s:%d %s]", #call,                  \
                                 pty_cufft_strerror(pty_cufft_r_), pty_cuda_basename(__FILE__),    \
                                 __LINE__, __func__);                                              \
    } while (0)

#endif /* PTY_CUDA_CHECK_H */
