/* bench_cuda.cu - the device's measured copy bandwidth, the floor that
 * `ptycho bench` compares an iteration's memory traffic with (DESIGN.md §4).
 *
 * A device-to-device cudaMemcpy reads and writes every byte once, so the
 * bandwidth counts 2 x bytes per copy; the best of several timed copies of
 * 512 MiB (after one warm-up) is reported. */
#include "backend.h"
#include "cuda_check.h"

extern "C" int pty_cuda_copy_bandwidth(int device, double *bytes_per_s, double *total_bytes)
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
    float best_ms = 0.0f;
    for (int rep = 0; rep < 6 && rc == PTY_OK; rep++) {
        float ms = 0.0f;
        if (cudaEventRecord(t0) != cudaSuccess || cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice) != cudaSuccess ||
            cudaEventRecord(t1) != cudaSuccess || cudaEventSynchronize(t1) != cudaSuccess ||
            cudaEventElapsedTime(&ms, t0, t1) != cudaSuccess) {
            rc = pty_error_set(PTY_ERR_GPU, "bench: timing a device copy failed (%s)",
                               cudaGetErrorString(cudaGetLastError()));
            break;
        }
        if (rep > 0 && (best_ms == 0.0f || ms < best_ms)) best_ms = ms; /* rep 0 warms up */
    }
    if (rc == PTY_OK) *bytes_per_s = 2.0 * (double)bytes / (best_ms * 1e-3);
    if (t0) cudaEventDestroy(t0);
    if (t1) cudaEventDestroy(t1);
    cudaFree(a);
    cudaFree(b);
    return rc;
}
