/* bench_cuda.cu - the device's measured copy bandwidths, the floors that
 * `ptycho bench` compares an iteration's memory traffic with (DESIGN.md §4).
 *
 * A device-to-device cudaMemcpy reads and writes every byte once, so its
 * bandwidth counts 2 x bytes per copy; a pinned host-to-device copy (what
 * streamed frames take) counts the bytes once.  The best of several timed
 * copies of 512 MiB (after one warm-up) is reported. */
#include <string.h>

#include "backend.h"
#include "cuda_check.h"

/* Best time of 5 copies after a warm-up, in ms; 0 on failure. */
static float best_copy_ms(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaEvent_t t0,
                          cudaEvent_t t1)
{
    float best_ms = 0.0f;
    for (int rep = 0; rep < 6; rep++) {
        float ms = 0.0f;
        if (cudaEventRecord(t0) != cudaSuccess || cudaMemcpy(dst, src, bytes, kind) != cudaSuccess ||
            cudaEventRecord(t1) != cudaSuccess || cudaEventSynchronize(t1) != cudaSuccess ||
            cudaEventElapsedTime(&ms, t0, t1) != cudaSuccess)
            return 0.0f;
        if (rep > 0 && (best_ms == 0.0f || ms < best_ms)) best_ms = ms; /* rep 0 warms up */
    }
    return best_ms;
}

extern "C" int pty_cuda_bandwidth(int device, double *d2d_bytes_per_s, double *h2d_bytes_per_s, double *total_bytes)
{
    const size_t bytes = (size_t)512 << 20;
    int count = pty_cuda_device_count();
    PTY_CHECK(count > 0, PTY_ERR_GPU, "bench: no CUDA device is available");
    PTY_CUDA(cudaSetDevice((device % count + count) % count));
    size_t free_b = 0, total_b = 0;
    PTY_CUDA(cudaMemGetInfo(&free_b, &total_b));
    *total_bytes = (double)total_b;
    void *a = NULL, *b = NULL;
    cudaEvent_t t0 = NULL, t1 = NULL;
    int rc = PTY_OK;
    if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
        cudaGetLastError();
        rc = pty_error_set(PTY_ERR_NOMEM, "bench: cannot allocate 2 x 512 MiB on the GPU to measure its bandwidth");
    }
    if (rc == PTY_OK && (cudaEventCreate(&t0) != cudaSuccess || cudaEventCreate(&t1) != cudaSuccess))
        rc = pty_error_set(PTY_ERR_GPU, "bench: cannot create CUDA events");
    void *host = NULL;
    if (rc == PTY_OK && cudaHostAlloc(&host, bytes, cudaHostAllocDefault) != cudaSuccess) {
        cudaGetLastError();
        rc = pty_error_set(PTY_ERR_NOMEM, "bench: cannot pin 512 MiB of host memory to measure the copy bandwidth");
    }
    if (rc == PTY_OK) {
        memset(host, 0, bytes);
        float d2d = best_copy_ms(b, a, bytes, cudaMemcpyDeviceToDevice, t0, t1);
        float h2d = d2d > 0.0f ? best_copy_ms(a, host, bytes, cudaMemcpyHostToDevice, t0, t1) : 0.0f;
        if (h2d <= 0.0f)
            rc = pty_error_set(PTY_ERR_GPU, "bench: timing a copy failed (%s)", cudaGetErrorString(cudaGetLastError()));
        else {
            *d2d_bytes_per_s = 2.0 * (double)bytes / (d2d * 1e-3);
            *h2d_bytes_per_s = (double)bytes / (h2d * 1e-3);
        }
    }
    if (host) cudaFreeHost(host);
    if (t0) cudaEventDestroy(t0);
    if (t1) cudaEventDestroy(t1);
    cudaFree(a);
    cudaFree(b);
    return rc;
}

/* The cuFFT floor: one forward and one inverse transform of n_modes m x m frames, batched over
 * `batch` frames (the backend's set batch) and the modes, in place, single precision: the best of
 * 5 timed rounds after a warm-up, per frame. */
extern "C" int pty_cuda_fft_floor(int device, int m, int n_modes, int batch, double *s_per_frame)
{
    *s_per_frame = 0.0;
    int count = pty_cuda_device_count();
    PTY_CHECK(count > 0, PTY_ERR_GPU, "bench: no CUDA device is available");
    PTY_CHECK(m >= 1 && n_modes >= 1 && batch >= 1, PTY_ERR_ARG, "bench: bad FFT floor sizes");
    PTY_CUDA(cudaSetDevice((device % count + count) % count));
    const size_t n = (size_t)batch * n_modes * m * m;
    cufftComplex *buf = NULL;
    if (cudaMalloc(&buf, n * sizeof *buf) != cudaSuccess) {
        cudaGetLastError();
        return pty_error_set(PTY_ERR_NOMEM, "bench: cannot allocate %.2f GiB on the GPU for the FFT floor",
                             (double)(n * sizeof *buf) / (1 << 30));
    }
    cufftHandle plan = 0;
    int dims[2] = {m, m};
    cudaEvent_t t0 = NULL, t1 = NULL;
    int rc = PTY_OK;
    if (cufftPlanMany(&plan, 2, dims, NULL, 1, m * m, NULL, 1, m * m, CUFFT_C2C, batch * n_modes) != CUFFT_SUCCESS)
        rc = pty_error_set(PTY_ERR_FFT, "bench: cuFFT cannot plan %d transforms of %dx%d", batch * n_modes, m, m);
    if (rc == PTY_OK && (cudaEventCreate(&t0) != cudaSuccess || cudaEventCreate(&t1) != cudaSuccess))
        rc = pty_error_set(PTY_ERR_GPU, "bench: cannot create CUDA events");
    if (rc == PTY_OK && cudaMemset(buf, 0, n * sizeof *buf) != cudaSuccess)
        rc = pty_error_set(PTY_ERR_GPU, "bench: cannot clear the FFT buffer");
    float best_ms = 0.0f;
    for (int rep = 0; rc == PTY_OK && rep < 6; rep++) {
        float ms = 0.0f;
        if (cudaEventRecord(t0) != cudaSuccess || cufftExecC2C(plan, buf, buf, CUFFT_FORWARD) != CUFFT_SUCCESS ||
            cufftExecC2C(plan, buf, buf, CUFFT_INVERSE) != CUFFT_SUCCESS || cudaEventRecord(t1) != cudaSuccess ||
            cudaEventSynchronize(t1) != cudaSuccess || cudaEventElapsedTime(&ms, t0, t1) != cudaSuccess)
            rc = pty_error_set(PTY_ERR_GPU, "bench: timing cuFFT failed (%s)", cudaGetErrorString(cudaGetLastError()));
        else if (rep > 0 && (best_ms == 0.0f || ms < best_ms))
            best_ms = ms; /* rep 0 warms up */
    }
    if (rc == PTY_OK) *s_per_frame = best_ms * 1e-3 / batch;
    if (plan) cufftDestroy(plan);
    if (t0) cudaEventDestroy(t0);
    if (t1) cudaEventDestroy(t1);
    cudaFree(buf);
    return rc;
}
