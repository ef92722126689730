/* epie_kernels.cu - CUDA kernels of one ePIE position and their launchers.
 *
 * Every kernel maps one thread to one pixel of the m x m frame and loops over
 * the K probe modes, calling the same pty_pixel.h functions, in the same order,
 * as the CPU reference (src/backend_cpu.c).  Maxima are block-reduced and then
 * merged with atomicMax on the float bits (valid: the values are >= +0, and
 * non-negative IEEE floats order like their bit patterns as ints); the Fourier
 * error is block-reduced in double and merged with one atomicAdd per block. */
#include "epie_kernels.cuh"

#include "cuda_check.h"

/* ------------------------------------------------------------------------- */
/* block reductions (result valid in thread 0; every thread must call them)   */

static __device__ __forceinline__ float warp_max(float v)
{
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
    return v;
}

static __device__ __forceinline__ double warp_sum(double v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

/* Max over the block of v >= 0; blockDim.x must be a multiple of 32. */
static __device__ float block_max(float v)
{
    __shared__ float partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    __syncthreads(); /* partial may still be read by an earlier call */
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.0f;
        v = warp_max(v);
    }
    return v;
}

static __device__ double block_sum(double v)
{
    __shared__ double partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)(blockDim.x >> 5) ? partial[lane] : 0.0;
        v = warp_sum(v);
    }
    return v;
}

/* *addr = max(*addr, v) for v >= +0 and *addr >= +0. */
static __device__ __forceinline__ void atomic_max_nonneg(float *addr, float v)
{
    atomicMax(reinterpret_cast<int *>(addr), __float_as_int(v));
}

/* ------------------------------------------------------------------------- */
/* kernels                                                                    */

static __global__ void object_max_kernel(const pty_cf *__restrict__ obj, size_t n, float *__restrict__ out)
{
    float mx = 0.0f;
    const size_t step = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        mx = fmaxf(mx, pty_cabs2(obj[i]));
    mx = block_max(mx);
    if (threadIdx.x == 0) atomic_max_nonneg(out, mx);
}

static __global__ void exit_waves_kernel(const pty_cf *__restrict__ patch, int obj_w,
                                         const pty_cf *__restrict__ probe, pty_cf *__restrict__ psi, int m,
                                         int n_modes, float *__restrict__ maxima)
{
    const size_t npix = (size_t)m * m;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    float patch_pow = 0.0f, probe_pow = 0.0f;
    if (i < (int)npix) {
        const int r = i / m, col = i - r * m;
        const pty_cf o = patch[(size_t)r * obj_w + col];
        float pp = 0.0f;
        for (int k = 0; k < n_modes; k++) {
            const pty_cf pk = probe[k * npix + i];
            psi[k * npix + i] = pty_cmul(pk, o);
            pp += pty_cabs2(pk);
        }
        patch_pow = pty_cabs2(o);
        probe_pow = pp;
    }
    patch_pow = block_max(patch_pow);
    probe_pow = block_max(probe_pow);
    if (threadIdx.x == 0) {
        atomic_max_nonneg(&maxima[0], patch_pow);
        atomic_max_nonneg(&maxima[1], probe_pow);
    }
}

static __global__ void modulus_kernel(pty_cf *__restrict__ far, const float *__restrict__ amp, int m,
                                      int n_modes, double *__restrict__ err)
{
    const size_t npix = (size_t)m * m;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    double e = 0.0;
    if (i < (int)npix) {
        float model = 0.0f;
        for (int k = 0; k < n_modes; k++) model += pty_cabs2(far[k * npix + i]);
        const float a = amp[i];
        e = pty_fourier_error_term(a, model);
        const float f = pty_modulus_factor(a, model);
        for (int k = 0; k < n_modes; k++) {
            far[k * npix + i].re *= f;
            far[k * npix + i].im *= f;
        }
    }
    e = block_sum(e);
    if (threadIdx.x == 0) atomicAdd(err, e);
}

static __global__ void update_kernel(pty_cf *__restrict__ patch, int obj_w, pty_cf *__restrict__ probe,
                                     pty_cf *__restrict__ far, const pty_cf *__restrict__ psi, int m,
                                     int n_modes, float alpha, float beta, float rpie, float inv_n,
                                     const float *maxima, const float *obj_max_at, float *reset)
{
    const size_t npix = (size_t)m * m;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    /* the other slot was last read by the previous position's update, which has finished */
    if (blockIdx.x == 0 && threadIdx.x < 2) reset[threadIdx.x] = 0.0f;
    const float probe_max = maxima[1];
    const float obj_max = *obj_max_at;
    const float probe_step = (beta > 0.0f && obj_max > 0.0f) ? beta / obj_max : 0.0f;
    if (probe_max <= 0.0f || i >= (int)npix) return; /* a dark probe cannot update anything */
    const int r = i / m, col = i - r * m;
    for (int k = 0; k < n_modes; k++) far[k * npix + i] = pty_exit_delta(far[k * npix + i], psi[k * npix + i], inv_n);
    pty_update_pixel(&patch[(size_t)r * obj_w + col], &probe[i], &far[i], npix, n_modes, alpha, rpie, probe_max,
                     probe_step);
}

/* ------------------------------------------------------------------------- */
/* launchers                                                                  */

int pty_cuda_object_max(cudaStream_t stream, const pty_cf *d_obj, size_t n, float *d_max)
{
    if (n == 0) return PTY_OK;
    size_t blocks = PTY_CEIL_DIV(n, (size_t)PTY_CUDA_BLOCK);
    if (blocks > 4096) blocks = 4096; /* grid-stride loop covers the rest */
    object_max_kernel<<<(unsigned)blocks, PTY_CUDA_BLOCK, 0, stream>>>(d_obj, n, d_max);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_exit_waves(cudaStream_t stream, const pty_cf *d_patch, int obj_w, const pty_cf *d_probe,
                        pty_cf *d_psi, int m, int n_modes, float *d_max)
{
    const int npix = m * m;
    exit_waves_kernel<<<PTY_CEIL_DIV(npix, PTY_CUDA_BLOCK), PTY_CUDA_BLOCK, 0, stream>>>(d_patch, obj_w, d_probe,
                                                                                       d_psi, m, n_modes, d_max);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_modulus(cudaStream_t stream, pty_cf *d_far, const float *d_amp, int m, int n_modes, double *d_err)
{
    const int npix = m * m;
    modulus_kernel<<<PTY_CEIL_DIV(npix, PTY_CUDA_BLOCK), PTY_CUDA_BLOCK, 0, stream>>>(d_far, d_amp, m, n_modes,
                                                                                    d_err);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_update(cudaStream_t stream, pty_cf *d_patch, int obj_w, pty_cf *d_probe, pty_cf *d_far,
                    const pty_cf *d_psi, int m, int n_modes, float alpha, float beta, float rpie,
                    float inv_n, const float *d_max, const float *d_obj_max, float *d_reset)
{
    const int npix = m * m;
    update_kernel<<<PTY_CEIL_DIV(npix, PTY_CUDA_BLOCK), PTY_CUDA_BLOCK, 0, stream>>>(
        d_patch, obj_w, d_probe, d_far, d_psi, m, n_modes, alpha, beta, rpie, inv_n, d_max, d_obj_max, d_reset);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}
