/* epie_kernels.cu - the batched ePIE kernels and their launchers.
 *
 * A chunk's kernels run on a grid of (pixel blocks, positions): one thread
 * per pixel of one position's m x m frame, looping over the K probe modes and
 * calling the same pty_pixel.h functions, in the same order, as the CPU
 * reference (src/engine/backend_cpu.c).  Maxima are block-reduced and merged with
 * atomicMax on the float bits (valid: the values are >= +0, and non-negative
 * IEEE floats order like their bit patterns as ints); the Fourier error is
 * block-reduced in double and merged with one atomicAdd per block.  The
 * probe steps go to per-group accumulators owned by one thread per pixel,
 * so their sum does not depend on scheduling; with sub-pixel positions each
 * position's steps are moved back by its offset in Fourier space and summed
 * there, in position order, by one thread per pixel. */
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

static __device__ __forceinline__ float probe_power(const pty_cf *__restrict__ probe, size_t npix, int n_modes, int i)
{
    float pp = 0.0f;
    for (int k = 0; k < n_modes; k++) pp += pty_cabs2(probe[k * npix + i]);
    return pp;
}

static __global__ void probe_max_kernel(const pty_cf *__restrict__ probe, int m, int n_modes, float *__restrict__ out)
{
    const size_t npix = (size_t)m * m;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    float pp = i < (int)npix ? probe_power(probe, npix, n_modes, i) : 0.0f;
    pp = block_max(pp);
    if (threadIdx.x == 0) atomic_max_nonneg(out, pp);
}

/* The object pixel under pixel i of frame j's window. */
static __device__ __forceinline__ pty_cf *object_at(pty_cuda_object obj, int j, int i, int m)
{
    const int r = i / m, col = i - r * m;
    return obj.data + (size_t)(obj.window[2 * j] + r) * obj.obj_w + obj.window[2 * j + 1] + col;
}

static __global__ void exit_waves_kernel(pty_cuda_object obj, const int *__restrict__ frames,
                                         const pty_cf *__restrict__ probe, size_t probe_stride,
                                         pty_cf *__restrict__ psi, int m, int n_modes, float *__restrict__ patch_max,
                                         float *__restrict__ probe_max_each)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    const pty_cf *pb = probe + b * probe_stride;
    float patch_pow = 0.0f, probe_pow = 0.0f;
    if (i < (int)npix) {
        const pty_cf o = *object_at(obj, frames[b], i, m);
        pty_cf *out = psi + b * nprobe;
        for (int k = 0; k < n_modes; k++) {
            const pty_cf p = pb[k * npix + i];
            out[k * npix + i] = pty_cmul(p, o);
            probe_pow += pty_cabs2(p);
        }
        patch_pow = pty_cabs2(o);
    }
    /* the branches are uniform over the grid: no thread skips a reduction alone */
    if (patch_max) {
        patch_pow = block_max(patch_pow);
        if (threadIdx.x == 0) atomic_max_nonneg(&patch_max[b], patch_pow);
    }
    if (probe_max_each) {
        probe_pow = block_max(probe_pow);
        if (threadIdx.x == 0) atomic_max_nonneg(&probe_max_each[b], probe_pow);
    }
}

static __global__ void modulus_kernel(pty_cf *__restrict__ far, const float *__restrict__ amp,
                                      const int *__restrict__ frames, int m, int n_modes, double *__restrict__ err)
{
    const size_t npix = (size_t)m * m;
    const int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    double e = 0.0;
    if (i < (int)npix) {
        pty_cf *f = far + b * npix * n_modes;
        float model = 0.0f;
        for (int k = 0; k < n_modes; k++) model += pty_cabs2(f[k * npix + i]);
        const float a = amp[(size_t)(frames ? frames[b] : b) * npix + i];
        e = pty_fourier_error_term(a, model);
        const float s = pty_modulus_factor(a, model);
        for (int k = 0; k < n_modes; k++) {
            f[k * npix + i].re *= s;
            f[k * npix + i].im *= s;
        }
    }
    e = block_sum(e);
    if (threadIdx.x == 0) atomicAdd(err, e);
}

static __global__ void update_kernel(pty_cuda_object obj, const int *__restrict__ frames, int n,
                                     const pty_cf *__restrict__ probe, size_t probe_stride, pty_cf *__restrict__ far,
                                     pty_cf *__restrict__ psi, pty_cf *__restrict__ acc, int m, int n_modes,
                                     float inv_n, pty_cuda_steps st)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int g = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int)npix) return;
    /* this thread owns pixel i of group g's accumulator, and of each of its positions' exit waves:
       no other thread adds to them */
    pty_cf *group_out = acc ? acc + g * nprobe + i : NULL;
    for (int b = g; b < n; b += gridDim.y) {
        pty_cf *ex = psi + b * nprobe + i;
        /* moved probes: the position's own steps replace its exit waves, to be moved back */
        pty_cf *out = st.steps_in_psi ? ex : group_out;
        const float probe_max = st.probe_max_each ? st.probe_max_each[b] : *st.probe_max;
        if (probe_max <= 0.0f) { /* a dark probe cannot update anything */
            for (int k = 0; st.steps_in_psi && k < n_modes; k++) ex[k * npix] = pty_cf_make(0.0f, 0.0f);
            continue;
        }
        pty_cf *delta = far + b * nprobe + i;
        for (int k = 0; k < n_modes; k++) delta[k * npix] = pty_exit_delta(delta[k * npix], ex[k * npix], inv_n);
        for (int k = 0; st.steps_in_psi && k < n_modes; k++) ex[k * npix] = pty_cf_make(0.0f, 0.0f);
        const float obj_max = st.global_max ? *st.global_max : st.patch_max[b];
        const float probe_step = pty_probe_step(st.beta, obj_max, st.set_size);
        pty_cf o_old = pty_update_object_pixel(object_at(obj, frames[b], i, m), probe + b * probe_stride + i, delta,
                                               npix, n_modes, st.alpha, st.rpie, probe_max);
        if (probe_step != 0.0f && out) pty_probe_increment(out, o_old, delta, npix, n_modes, probe_step);
    }
}

/* moved[b][k] = spec[k] times position frames[b]'s shift factors (pty_shift_factor), over N: the
 * spectra of the probe moved by each position's sub-pixel offset, for the unscaled inverse FFT. */
static __global__ void shift_spectra_kernel(const pty_cf *__restrict__ spec, pty_cf *__restrict__ moved,
                                            const int *__restrict__ frames, const float *__restrict__ shift, int m,
                                            int n_modes)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int)npix) return;
    const int j = frames[b], u = i / m, v = i - u * m;
    const float inv_n = 1.0f / (float)npix;
    pty_cf f = pty_cmul(pty_shift_factor(u, m, shift[2 * j]), pty_shift_factor(v, m, shift[2 * j + 1]));
    f = pty_cf_make(f.re * inv_n, f.im * inv_n);
    for (int k = 0; k < n_modes; k++) moved[b * nprobe + k * npix + i] = pty_cmul(spec[k * npix + i], f);
}

/* acc[k] += sum over the chunk, in position order, of steps[b][k] times the factors of the shift
 * back by -(frames[b]'s offset), over N: the positions' probe-step spectra moved back and summed,
 * for one unscaled inverse FFT at the end of the set. */
static __global__ void unshift_steps_kernel(const pty_cf *__restrict__ steps, pty_cf *__restrict__ acc,
                                            const int *__restrict__ frames, const float *__restrict__ shift, int n,
                                            int m, int n_modes)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int)npix) return;
    const int u = i / m, v = i - u * m;
    const float inv_n = 1.0f / (float)npix;
    /* positions outside, so each position's factor is made once; each (mode, pixel) still sums
       its positions in order */
    for (int b = 0; b < n; b++) {
        const int j = frames[b];
        pty_cf f = pty_cmul(pty_shift_factor(u, m, -shift[2 * j]), pty_shift_factor(v, m, -shift[2 * j + 1]));
        f = pty_cf_make(f.re * inv_n, f.im * inv_n);
        for (int k = 0; k < n_modes; k++) {
            const pty_cf x = pty_cmul(steps[b * nprobe + k * npix + i], f);
            acc[k * npix + i].re += x.re;
            acc[k * npix + i].im += x.im;
        }
    }
}

static __global__ void probe_apply_kernel(pty_cf *__restrict__ probe, pty_cf *__restrict__ acc, int groups, int m,
                                          int n_modes, float *__restrict__ max_next, float *__restrict__ max_done)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    /* every update kernel of the finished set, the only readers of max_done, has completed */
    if (blockIdx.x == 0 && threadIdx.x == 0) *max_done = 0.0f;
    float pp = 0.0f;
    if (i < (int)npix) {
        for (int k = 0; k < n_modes; k++) {
            pty_cf p = probe[k * npix + i];
            for (int g = 0; g < groups; g++) {
                pty_cf *a = &acc[g * nprobe + k * npix + i];
                p.re += a->re;
                p.im += a->im;
                *a = pty_cf_make(0.0f, 0.0f);
            }
            probe[k * npix + i] = p;
            pp += pty_cabs2(p);
        }
    }
    pp = block_max(pp);
    if (threadIdx.x == 0) atomic_max_nonneg(max_next, pp);
}

/* ------------------------------------------------------------------------- */
/* launchers                                                                  */

static dim3 pixel_grid(int m, int positions)
{
    return dim3((unsigned)PTY_CEIL_DIV(m * m, PTY_CUDA_BLOCK), (unsigned)positions, 1);
}

int pty_cuda_object_max(cudaStream_t stream, const pty_cf *d_obj, size_t n, float *d_max)
{
    if (n == 0) return PTY_OK;
    size_t blocks = PTY_CEIL_DIV(n, (size_t)PTY_CUDA_BLOCK);
    if (blocks > 4096) blocks = 4096; /* grid-stride loop covers the rest */
    object_max_kernel<<<(unsigned)blocks, PTY_CUDA_BLOCK, 0, stream>>>(d_obj, n, d_max);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_probe_max(cudaStream_t stream, const pty_cf *d_probe, int m, int n_modes, float *d_max)
{
    probe_max_kernel<<<pixel_grid(m, 1), PTY_CUDA_BLOCK, 0, stream>>>(d_probe, m, n_modes, d_max);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_exit_waves(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n, const pty_cf *d_probe,
                        size_t probe_stride, pty_cf *d_psi, int m, int n_modes, float *d_patch_max,
                        float *d_probe_max_each)
{
    exit_waves_kernel<<<pixel_grid(m, n), PTY_CUDA_BLOCK, 0, stream>>>(obj, d_frames, d_probe, probe_stride, d_psi, m,
                                                                       n_modes, d_patch_max, d_probe_max_each);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_modulus(cudaStream_t stream, pty_cf *d_far, const float *d_amp, const int *d_frames, int n, int m,
                     int n_modes, double *d_err)
{
    modulus_kernel<<<pixel_grid(m, n), PTY_CUDA_BLOCK, 0, stream>>>(d_far, d_amp, d_frames, m, n_modes, d_err);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_update(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n, const pty_cf *d_probe,
                    size_t probe_stride, pty_cf *d_far, pty_cf *d_psi, pty_cf *d_acc, int groups, int m, int n_modes,
                    pty_cuda_steps steps)
{
    const int g = groups < n ? groups : n;
    update_kernel<<<pixel_grid(m, g), PTY_CUDA_BLOCK, 0, stream>>>(obj, d_frames, n, d_probe, probe_stride, d_far,
                                                                   d_psi, d_acc, m, n_modes, 1.0f / (float)(m * m),
                                                                   steps);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_probe_apply(cudaStream_t stream, pty_cf *d_probe, pty_cf *d_acc, int groups, int m, int n_modes,
                         float *d_max_next, float *d_max_done)
{
    probe_apply_kernel<<<pixel_grid(m, 1), PTY_CUDA_BLOCK, 0, stream>>>(d_probe, d_acc, groups, m, n_modes,
                                                                        d_max_next, d_max_done);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_shift_probe(cudaStream_t stream, const pty_cf *d_spec, pty_cf *d_moved, const int *d_frames,
                         const float *d_shift, int n, int m, int n_modes)
{
    shift_spectra_kernel<<<pixel_grid(m, n), PTY_CUDA_BLOCK, 0, stream>>>(d_spec, d_moved, d_frames, d_shift, m,
                                                                          n_modes);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_unshift_steps(cudaStream_t stream, const pty_cf *d_steps, pty_cf *d_acc, const int *d_frames,
                           const float *d_shift, int n, int m, int n_modes)
{
    unshift_steps_kernel<<<pixel_grid(m, 1), PTY_CUDA_BLOCK, 0, stream>>>(d_steps, d_acc, d_frames, d_shift, n, m,
                                                                          n_modes);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

/* ------------------------------------------------------------------------- */
/* position correction                                                        */

/* illum[window of frame j] += sum_k |P_k|^2, one thread per pixel, the frames strided over the grid's
 * rows (at most 65535 of them; float atomics: the order of the sum varies, by rounding only; these
 * are weights). */
static __global__ void illumination_kernel(const pty_cf *__restrict__ probe, int m, int n_modes,
                                           const int *__restrict__ window, int n_frames, int obj_w,
                                           float *__restrict__ illum)
{
    const size_t npix = (size_t)m * m;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int)npix) return;
    const int r = i / m, col = i - r * m;
    const float power = probe_power(probe, npix, n_modes, i);
    for (int j = blockIdx.y; j < n_frames; j += gridDim.y)
        atomicAdd(&illum[(size_t)(window[2 * j] + r) * obj_w + window[2 * j + 1] + col], power);
}

static __global__ void float_max_kernel(const float *__restrict__ x, size_t n, float *__restrict__ out)
{
    float mx = 0.0f;
    const size_t step = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) mx = fmaxf(mx, x[i]);
    mx = block_max(mx);
    if (threadIdx.x == 0) atomic_max_nonneg(out, mx);
}

/* illum = I / (I + max I), the weights of the position terms (pty_position_terms) */
static __global__ void illumination_weights_kernel(float *__restrict__ illum, size_t n, const float *__restrict__ mx)
{
    const float top = *mx;
    const size_t step = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        illum[i] = pty_illumination_weight(illum[i], top);
}

/* The four position sums of each chunk position (pty_position_terms), from the object before the
 * update, the back-propagated far field and the exit waves; block-reduced and added to
 * sums[4 * frames[b] ..]. */
static __global__ void position_terms_kernel(pty_cuda_object obj, const int *__restrict__ frames,
                                             const pty_cf *__restrict__ probe, size_t probe_stride,
                                             const pty_cf *__restrict__ far, const pty_cf *__restrict__ psi, int m,
                                             int n_modes, const float *__restrict__ weight,
                                             double *__restrict__ sums)
{
    const size_t npix = (size_t)m * m, nprobe = npix * n_modes;
    const int b = blockIdx.y, i = blockIdx.x * blockDim.x + threadIdx.x, j = frames[b];
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (i < (int)npix) {
        const int r = i / m, col = i - r * m;
        const int y = obj.window[2 * j] + r, x = obj.window[2 * j + 1] + col, w = obj.obj_w;
        const pty_cf *o = obj.data + (size_t)y * w + x;
        /* within the window only: the chunk's windows touch and are being updated (cpu_rows.h) */
        const int up = r > 0, down = r + 1 < m, left = col > 0, right = col + 1 < m;
        const pty_cf do_r = pty_central_difference(up ? o[-w] : *o, down ? o[w] : *o, up && down);
        const pty_cf do_c = pty_central_difference(left ? o[-1] : *o, right ? o[1] : *o, left && right);
        pty_position_terms(do_r, do_c, probe + b * probe_stride + i, far + b * nprobe + i, psi + b * nprobe + i,
                           npix, n_modes, 1.0f / (float)npix, weight[(size_t)y * w + x], t);
    }
    for (int a = 0; a < 4; a++) {
        const double v = block_sum((double)t[a]);
        if (threadIdx.x == 0) atomicAdd(&sums[4 * (size_t)j + a], v);
    }
}

static unsigned grid_stride_blocks(size_t n)
{
    size_t blocks = PTY_CEIL_DIV(n, (size_t)PTY_CUDA_BLOCK);
    return (unsigned)(blocks > 4096 ? 4096 : blocks ? blocks : 1);
}

int pty_cuda_illumination_weights(cudaStream_t stream, const pty_cf *d_probe, int m, int n_modes, const int *d_window,
                                  int n_frames, int obj_w, float *d_illum, size_t n_obj, float *d_max)
{
    PTY_CUDA(cudaMemsetAsync(d_illum, 0, n_obj * sizeof(float), stream));
    PTY_CUDA(cudaMemsetAsync(d_max, 0, sizeof(float), stream));
    if (n_frames > 0) {
        illumination_kernel<<<pixel_grid(m, n_frames < 65535 ? n_frames : 65535), PTY_CUDA_BLOCK, 0, stream>>>(
            d_probe, m, n_modes, d_window, n_frames, obj_w, d_illum);
        PTY_CUDA(cudaGetLastError());
    }
    float_max_kernel<<<grid_stride_blocks(n_obj), PTY_CUDA_BLOCK, 0, stream>>>(d_illum, n_obj, d_max);
    PTY_CUDA(cudaGetLastError());
    illumination_weights_kernel<<<grid_stride_blocks(n_obj), PTY_CUDA_BLOCK, 0, stream>>>(d_illum, n_obj, d_max);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}

int pty_cuda_position_terms(cudaStream_t stream, pty_cuda_object obj, const int *d_frames, int n,
                            const pty_cf *d_probe, size_t probe_stride, const pty_cf *d_far, const pty_cf *d_psi,
                            int m, int n_modes, const float *d_weight, double *d_sums)
{
    position_terms_kernel<<<pixel_grid(m, n), PTY_CUDA_BLOCK, 0, stream>>>(obj, d_frames, d_probe,
                                                                           probe_stride, d_far, d_psi, m, n_modes,
                                                                           d_weight, d_sums);
    PTY_CUDA(cudaGetLastError());
    return PTY_OK;
}
