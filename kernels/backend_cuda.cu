/* backend_cuda.cu - the CUDA backend: sequential ePIE on one GPU with cuFFT.
 *
 * create() does everything that allocates: it plans one batched cuFFT of the K
 * probe modes, checks free device memory, makes one device allocation carved
 * into sub-arrays (llm.c style) and uploads frames, object and probe.  pass()
 * only queues kernels (epie_kernels.cu) and FFTs on one stream and syncs once
 * at the end.  It computes what src/backend_cpu.c computes, position by
 * position, through the same pty_pixel.h functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda_check.h"
#include "epie_kernels.cuh"

/* Device scalars: two slots {patch max |O|^2, probe max sum_k |P_k|^2} used by
 * alternate positions (the update of one position zeroes the other slot, so no
 * reset launch is needed), then the global object max of the pass. */
enum { SCALAR_SLOT0 = 0, SCALAR_SLOT1 = 2, SCALAR_GLOBAL_MAX = 4, N_SCALARS = 8 };

#define ARENA_ALIGN ((size_t)256)

typedef struct cuda_impl {
    int device;
    int m, n_frames, n_modes, obj_h, obj_w;
    size_t npix, nobj, nprobe;  /* m*m, obj_h*obj_w, n_modes*m*m */
    int *window;                /* host copy, n_frames*2 (row, col): passed to kernels by value */
    cudaStream_t stream;
    cufftHandle plan;           /* K transforms of m x m, both directions */
    int have_stream, have_plan;
    void *d_arena;              /* the one allocation; the pointers below point into it */
    size_t arena_bytes;
    float *d_amp;               /* n_frames*npix */
    pty_cf *d_object, *d_probe; /* nobj, nprobe */
    pty_cf *d_psi, *d_far;      /* exit waves, far field / delta: nprobe each */
    void *d_fft_work;           /* cuFFT work area */
    double *d_err;              /* error accumulator of a pass */
    float *d_scalars;           /* N_SCALARS, see above */
} cuda_impl;

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

/* Hand out `bytes` at *offset of the arena (offset only when base is NULL). */
static void *carve(char *base, size_t *offset, size_t bytes)
{
    void *p = base ? base + *offset : NULL;
    *offset += align_up(bytes ? bytes : 1);
    return p;
}

/* Lay the sub-arrays out in the arena; with base NULL only sizes it. */
static size_t layout(cuda_impl *c, char *base, size_t fft_work)
{
    size_t off = 0;
    c->d_amp = (float *)carve(base, &off, (size_t)c->n_frames * c->npix * sizeof(float));
    c->d_object = (pty_cf *)carve(base, &off, c->nobj * sizeof(pty_cf));
    c->d_probe = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
    c->d_psi = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
    c->d_far = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
    c->d_fft_work = carve(base, &off, fft_work);
    c->d_err = (double *)carve(base, &off, sizeof(double));
    c->d_scalars = (float *)carve(base, &off, N_SCALARS * sizeof(float));
    return off;
}

static void cuda_destroy(void *impl)
{
    cuda_impl *c = (cuda_impl *)impl;
    if (!c) return;
    /* errors are ignored: there is nothing left to report them to */
    cudaSetDevice(c->device);
    if (c->have_stream) cudaStreamSynchronize(c->stream);
    if (c->have_plan) cufftDestroy(c->plan);
    if (c->d_arena) cudaFree(c->d_arena);
    if (c->have_stream) cudaStreamDestroy(c->stream);
    cudaGetLastError(); /* do not leave a sticky error from teardown to the next caller */
    free(c->window);
    free(c);
}

static int check_setup(const pty_backend_setup *s)
{
    PTY_CHECK(s->m > 0 && s->n_modes > 0 && s->n_frames >= 0 && s->obj_h >= s->m && s->obj_w >= s->m,
              PTY_ERR_ARG, "CUDA backend: bad sizes (m %d, modes %d, frames %d, object %dx%d)", s->m, s->n_modes,
              s->n_frames, s->obj_h, s->obj_w);
    PTY_CHECK((long long)s->m * s->m * s->n_modes <= INT32_MAX, PTY_ERR_ARG,
              "CUDA backend: %d modes of %dx%d exceed the kernels' 32-bit pixel index", s->n_modes, s->m, s->m);
    for (int j = 0; j < s->n_frames; j++) {
        const int r = s->window[2 * j], col = s->window[2 * j + 1];
        PTY_CHECK(r >= 0 && col >= 0 && r + s->m <= s->obj_h && col + s->m <= s->obj_w, PTY_ERR_ARG,
                  "CUDA backend: window %d at (%d, %d) leaves the %dx%d object", j, r, col, s->obj_h, s->obj_w);
    }
    return PTY_OK;
}

/* Everything create() does after the struct exists; on failure the caller destroys c. */
static int setup_device(cuda_impl *c, const pty_backend_setup *s)
{
    const int count = pty_cuda_device_count();
    PTY_CHECK(count > 0, PTY_ERR_GPU, "CUDA backend: no CUDA device is available");
    c->device = (s->device % count + count) % count; /* ranks of a node share its GPUs round-robin */
    PTY_CUDA(cudaSetDevice(c->device));
    PTY_CUDA(cudaStreamCreate(&c->stream));
    c->have_stream = 1;

    /* plan first, without a work area, so the memory check knows its size */
    PTY_CUFFT(cufftCreate(&c->plan));
    c->have_plan = 1;
    PTY_CUFFT(cufftSetAutoAllocation(c->plan, 0));
    int n[2] = {c->m, c->m};
    size_t fft_work = 0;
    PTY_CUFFT(cufftMakePlanMany(c->plan, 2, n, NULL, 1, (int)c->npix, NULL, 1, (int)c->npix, CUFFT_C2C, c->n_modes,
                                &fft_work));
    PTY_CUFFT(cufftSetStream(c->plan, c->stream));

    c->arena_bytes = layout(c, NULL, fft_work);
    size_t free_b = 0, total_b = 0;
    PTY_CUDA(cudaMemGetInfo(&free_b, &total_b));
    const double gib = 1024.0 * 1024.0 * 1024.0;
    PTY_CHECK(c->arena_bytes <= free_b, PTY_ERR_NOMEM,
              "CUDA backend needs %.2f GiB of GPU memory, device %d has %.2f GiB free (of %.2f GiB)",
              c->arena_bytes / gib, c->device, free_b / gib, total_b / gib);
    cudaError_t e = cudaMalloc(&c->d_arena, c->arena_bytes);
    if (e != cudaSuccess) {
        c->d_arena = NULL;
        cudaGetLastError();
        return pty_error_set(PTY_ERR_NOMEM, "CUDA backend cannot allocate %.2f GiB of GPU memory (%s)",
                             c->arena_bytes / gib, cudaGetErrorString(e));
    }
    layout(c, (char *)c->d_arena, fft_work);
    PTY_CUFFT(cufftSetWorkArea(c->plan, c->d_fft_work));

    PTY_CUDA(cudaMemcpyAsync(c->d_amp, s->amplitudes, (size_t)c->n_frames * c->npix * sizeof(float),
                             cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemcpyAsync(c->d_object, s->object, c->nobj * sizeof(pty_cf), cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemcpyAsync(c->d_probe, s->probe, c->nprobe * sizeof(pty_cf), cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemsetAsync(c->d_scalars, 0, N_SCALARS * sizeof(float), c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    return PTY_OK;
}

static int cuda_create(const pty_backend_setup *s, void **out)
{
    *out = NULL;
    PTY_TRY(check_setup(s));
    cuda_impl *c = (cuda_impl *)calloc(1, sizeof *c);
    if (!c) return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the CUDA backend");
    c->m = s->m;
    c->n_frames = s->n_frames;
    c->n_modes = s->n_modes;
    c->obj_h = s->obj_h;
    c->obj_w = s->obj_w;
    c->npix = (size_t)s->m * s->m;
    c->nobj = (size_t)s->obj_h * s->obj_w;
    c->nprobe = c->npix * s->n_modes;
    const size_t nwin = (size_t)(s->n_frames > 0 ? s->n_frames : 1) * 2;
    c->window = (int *)malloc(nwin * sizeof *c->window);
    if (!c->window) {
        cuda_destroy(c);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the CUDA backend's window table");
    }
    memcpy(c->window, s->window, (size_t)s->n_frames * 2 * sizeof *c->window);
    int rc = setup_device(c, s);
    if (rc != PTY_OK) {
        cuda_destroy(c);
        return rc;
    }
    *out = c;
    return PTY_OK;
}

static int cuda_pass(void *impl, const int *order, int n, const pty_pass_params *p, double *err_num)
{
    cuda_impl *c = (cuda_impl *)impl;
    *err_num = 0.0;
    for (int t = 0; t < n; t++)
        PTY_CHECK(order[t] >= 0 && order[t] < c->n_frames, PTY_ERR_ARG,
                  "CUDA backend: order[%d] = %d is not a frame index (0..%d)", t, order[t], c->n_frames - 1);
    const int global = p->obj_norm == PTY_OBJNORM_GLOBAL;
    float *d_global_max = c->d_scalars + SCALAR_GLOBAL_MAX;
    const float inv_n = 1.0f / (float)c->npix;

    PTY_CUDA(cudaSetDevice(c->device));
    PTY_CUDA(cudaMemsetAsync(c->d_err, 0, sizeof(double), c->stream));
    PTY_CUDA(cudaMemsetAsync(c->d_scalars, 0, N_SCALARS * sizeof(float), c->stream));
    if (global) PTY_TRY(pty_cuda_object_max(c->stream, c->d_object, c->nobj, d_global_max));

    cufftComplex *psi = reinterpret_cast<cufftComplex *>(c->d_psi);
    cufftComplex *far = reinterpret_cast<cufftComplex *>(c->d_far);
    for (int t = 0; t < n; t++) {
        const int j = order[t];
        float *slot = c->d_scalars + ((t & 1) ? SCALAR_SLOT1 : SCALAR_SLOT0);
        float *next = c->d_scalars + ((t & 1) ? SCALAR_SLOT0 : SCALAR_SLOT1);
        pty_cf *d_patch = c->d_object + (size_t)c->window[2 * j] * c->obj_w + c->window[2 * j + 1];
        PTY_TRY(pty_cuda_exit_waves(c->stream, d_patch, c->obj_w, c->d_probe, c->d_psi, c->m, c->n_modes, slot));
        PTY_CUFFT(cufftExecC2C(c->plan, psi, far, CUFFT_FORWARD));
        PTY_TRY(pty_cuda_modulus(c->stream, c->d_far, c->d_amp + (size_t)j * c->npix, c->m, c->n_modes, c->d_err));
        PTY_CUFFT(cufftExecC2C(c->plan, far, far, CUFFT_INVERSE));
        PTY_TRY(pty_cuda_update(c->stream, d_patch, c->obj_w, c->d_probe, c->d_far, c->d_psi, c->m, c->n_modes,
                                p->alpha, p->beta, p->rpie, inv_n, slot, global ? d_global_max : slot, next));
    }

    double err = 0.0;
    PTY_CUDA(cudaMemcpyAsync(&err, c->d_err, sizeof err, cudaMemcpyDeviceToHost, c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    PTY_CUDA(cudaGetLastError());
    *err_num = err;
    return PTY_OK;
}

/* Synchronous copy on the backend's stream. */
static int copy_sync(cuda_impl *c, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    PTY_CUDA(cudaSetDevice(c->device));
    PTY_CUDA(cudaMemcpyAsync(dst, src, bytes, kind, c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    return PTY_OK;
}

static int cuda_get_object(void *impl, pty_cf *out)
{
    cuda_impl *c = (cuda_impl *)impl;
    return copy_sync(c, out, c->d_object, c->nobj * sizeof *out, cudaMemcpyDeviceToHost);
}

static int cuda_get_probe(void *impl, pty_cf *out)
{
    cuda_impl *c = (cuda_impl *)impl;
    return copy_sync(c, out, c->d_probe, c->nprobe * sizeof *out, cudaMemcpyDeviceToHost);
}

static int cuda_set_probe(void *impl, const pty_cf *in)
{
    cuda_impl *c = (cuda_impl *)impl;
    return copy_sync(c, c->d_probe, in, c->nprobe * sizeof *in, cudaMemcpyHostToDevice);
}

static int cuda_set_object(void *impl, const pty_cf *in)
{
    cuda_impl *c = (cuda_impl *)impl;
    return copy_sync(c, c->d_object, in, c->nobj * sizeof *in, cudaMemcpyHostToDevice);
}

extern "C" int pty_cuda_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError(); /* no driver or no device: clear the error, report none */
        return 0;
    }
    return count;
}

/* Positional initialisation: designated initialisers are C++20. */
extern "C" const pty_backend_ops pty_backend_cuda = {
    "cuda", cuda_create, cuda_destroy, cuda_pass, cuda_get_object, cuda_get_probe, cuda_set_probe,
    cuda_set_object,
};
