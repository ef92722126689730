/* backend_cuda.cu - the CUDA backend: batched ePIE on one GPU with cuFFT.
 *
 * create() does everything that allocates.  It chooses the batch and where
 * the frames live (gpu_schedule.c: on the GPU when they fit, else streamed
 * from pinned host memory), plans batched cuFFTs for the chunk sizes the
 * sets take (sharing one work area, gpu_schedule.h), makes one device allocation
 * carved into sub-arrays (llm.c style) and uploads frames, object and probe.
 *
 * pass() only queues work.  Each set of non-overlapping windows (sets.h; in
 * sequential order every position is a set of one) runs as one chunk of
 * batched launches (epie_kernels.cuh) when it fits the batch, then one kernel adds the set's summed
 * probe steps.  Streamed frames are copied on a second stream into two
 * staging buffers, chunk c+1 while chunk c computes.  The host syncs once,
 * at the end of the pass.  The arithmetic is src/engine/backend_cpu.c's, through
 * the same pty_pixel.h functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda_check.h"
#include "epie_kernels.cuh"
#include "gpu_schedule.h"
#include "pty_log.h"
#include "sets.h"

/* Device scalars: two probe-max slots used by alternate sets (the probe
 * update after a set fills the next slot and clears its own), then the
 * global object max of the pass, then the illumination's max (position
 * correction). */
enum { SCALAR_PROBE_MAX = 0, SCALAR_GLOBAL_MAX = 2, SCALAR_ILLUM_MAX = 3, N_SCALARS = 4 };

#define ARENA_ALIGN ((size_t)256)

typedef struct cuda_impl {
    int device;
    int m, n_frames, n_modes, obj_h, obj_w;
    size_t npix, nobj, nprobe;  /* m*m, obj_h*obj_w, n_modes*m*m */
    pty_gpu_layout lay;
    cudaStream_t stream, copy_stream;
    cudaEvent_t ready[2], freed[2]; /* streamed frames: staging buffer b filled / read */
    cufftHandle *plan_of;       /* batch + 1: plan_of[c] transforms c positions x K modes where planned[c] */
    unsigned char *planned;
    int have_stream, have_copy_stream, n_events;
    void *d_arena;              /* the one allocation; the pointers below point into it */
    float *d_amp;               /* resident: n_frames*npix; streamed: 2 staging buffers of batch*npix */
    pty_cf *d_object, *d_probe; /* nobj, nprobe */
    pty_cf *d_psi, *d_far;      /* exit waves, far field / delta: batch*nprobe each */
    pty_cf *d_acc;              /* probe-step accumulators: groups*nprobe */
    int *d_order, *d_window;    /* the pass order (n_frames), window corners (2*n_frames) */
    float *d_patch_max;         /* batch */
    /* sub-pixel positions (subpixel; NULL without): each position's offset in its window, the
       probe's spectrum (made at the start of each set), the chunk's moved probes and their maxima,
       and the set's probe steps moved back and summed in Fourier space */
    int subpixel;
    float *d_shift;             /* 2*n_frames */
    pty_cf *d_probe_spec, *d_step_spec; /* nprobe each */
    pty_cf *d_moved;            /* batch*nprobe */
    float *d_probe_max_each;    /* batch */
    /* position correction (refine; NULL without): the weights of the position terms and each
       frame's four sums, on the device and their copy on the host */
    int refine;
    float *d_illum;             /* nobj */
    double *d_pos_sums, *h_pos_sums; /* 4*n_frames */
    void *d_fft_work;
    double *d_err;              /* error sum of a pass */
    float *d_scalars;           /* N_SCALARS, see above */
    int *h_order;               /* pinned copy of the pass order */
    float *h_frames;            /* streamed: the frames in host memory, in slot order */
    int frames_pinned;
    int *slot_of, *run_slot, *run_len; /* streamed: frame -> host slot; one chunk's copy runs */
    double upload_s;
} cuda_impl;

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

/* Hand out `bytes` at *offset of the arena (offset only when base is NULL). */
static void *carve(char *base, size_t *offset, size_t bytes)
{
    void *p = base ? base + *offset : NULL;
    *offset += align_up(bytes ? bytes : 1);
    return p;
}

/* Lay the sub-arrays out in the arena (the sizes pty_gpu_layout_bytes counts). */
static size_t layout(cuda_impl *c, char *base)
{
    const pty_gpu_layout *l = &c->lay;
    const size_t frames = l->streamed ? 2 * (size_t)l->batch : (size_t)c->n_frames;
    size_t off = 0;
    c->d_amp = (float *)carve(base, &off, frames * c->npix * sizeof(float));
    c->d_object = (pty_cf *)carve(base, &off, c->nobj * sizeof(pty_cf));
    c->d_probe = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
    c->d_psi = (pty_cf *)carve(base, &off, (size_t)l->batch * c->nprobe * sizeof(pty_cf));
    c->d_far = (pty_cf *)carve(base, &off, (size_t)l->batch * c->nprobe * sizeof(pty_cf));
    /* moved probes sum their steps in Fourier space instead (d_step_spec) */
    if (!c->subpixel) c->d_acc = (pty_cf *)carve(base, &off, (size_t)l->groups * c->nprobe * sizeof(pty_cf));
    c->d_order = (int *)carve(base, &off, (size_t)c->n_frames * sizeof(int));
    c->d_window = (int *)carve(base, &off, (size_t)c->n_frames * 2 * sizeof(int));
    c->d_patch_max = (float *)carve(base, &off, (size_t)l->batch * sizeof(float));
    if (c->subpixel) {
        c->d_shift = (float *)carve(base, &off, (size_t)c->n_frames * 2 * sizeof(float));
        c->d_probe_spec = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
        c->d_step_spec = (pty_cf *)carve(base, &off, c->nprobe * sizeof(pty_cf));
        c->d_moved = (pty_cf *)carve(base, &off, (size_t)l->batch * c->nprobe * sizeof(pty_cf));
        c->d_probe_max_each = (float *)carve(base, &off, (size_t)l->batch * sizeof(float));
    }
    if (c->refine) {
        c->d_illum = (float *)carve(base, &off, c->nobj * sizeof(float));
        c->d_pos_sums = (double *)carve(base, &off, (size_t)c->n_frames * 4 * sizeof(double));
    }
    c->d_fft_work = carve(base, &off, l->fft_work);
    c->d_err = (double *)carve(base, &off, sizeof(double));
    c->d_scalars = (float *)carve(base, &off, N_SCALARS * sizeof(float));
    return off;
}

static void destroy_plans(cuda_impl *c)
{
    for (int b = 1; c->planned && b <= c->lay.batch; b++)
        if (c->planned[b]) cufftDestroy(c->plan_of[b]);
    free(c->planned);
    free(c->plan_of);
    c->planned = NULL;
    c->plan_of = NULL;
}

static void cuda_destroy(void *impl)
{
    cuda_impl *c = (cuda_impl *)impl;
    if (!c) return;
    /* errors are ignored: there is nothing left to report them to */
    cudaSetDevice(c->device);
    if (c->have_stream) cudaStreamSynchronize(c->stream);
    if (c->have_copy_stream) cudaStreamSynchronize(c->copy_stream);
    destroy_plans(c);
    if (c->d_arena) cudaFree(c->d_arena);
    for (int e = 0; e < c->n_events; e++) cudaEventDestroy(e < 2 ? c->ready[e] : c->freed[e - 2]);
    if (c->have_stream) cudaStreamDestroy(c->stream);
    if (c->have_copy_stream) cudaStreamDestroy(c->copy_stream);
    if (c->h_order) cudaFreeHost(c->h_order);
    if (c->frames_pinned)
        cudaFreeHost(c->h_frames);
    else
        free(c->h_frames);
    cudaGetLastError(); /* do not leave a sticky error from teardown to the next caller */
    free(c->h_pos_sums);
    free(c->slot_of);
    free(c->run_slot);
    free(c->run_len);
    free(c);
}

static int check_setup(const pty_backend_setup *s)
{
    PTY_CHECK(s->m > 0 && s->n_modes > 0 && s->n_frames >= 0 && s->obj_h >= s->m && s->obj_w >= s->m,
              PTY_ERR_ARG, "CUDA backend: bad sizes (m %d, modes %d, frames %d, object %dx%d)", s->m, s->n_modes,
              s->n_frames, s->obj_h, s->obj_w);
    PTY_CHECK((long long)s->m * s->m * s->n_modes <= INT32_MAX, PTY_ERR_ARG,
              "CUDA backend: %d modes of %dx%d exceed the kernels' 32-bit pixel index", s->n_modes, s->m, s->m);
    PTY_CHECK(s->gpu_frames >= PTY_FRAMES_AUTO && s->gpu_frames <= PTY_FRAMES_STREAMED, PTY_ERR_ARG,
              "CUDA backend: unknown frame placement %d", s->gpu_frames);
    for (int j = 0; j < s->n_frames; j++) {
        const int r = s->window[2 * j], col = s->window[2 * j + 1];
        PTY_CHECK(r >= 0 && col >= 0 && r + s->m <= s->obj_h && col + s->m <= s->obj_w, PTY_ERR_ARG,
                  "CUDA backend: window %d at (%d, %d) leaves the %dx%d object", j, r, col, s->obj_h, s->obj_w);
    }
    if (s->frame_order) {
        /* a permutation: every frame exactly once */
        char *seen = (char *)calloc((size_t)s->n_frames + 1, 1);
        PTY_CHECK(seen, PTY_ERR_NOMEM, "cannot allocate a frame-order check");
        int ok = 1;
        for (int t = 0; t < s->n_frames && ok; t++) {
            const int j = s->frame_order[t];
            ok = j >= 0 && j < s->n_frames && !seen[j];
            if (ok) seen[j] = 1;
        }
        free(seen);
        PTY_CHECK(ok, PTY_ERR_ARG, "CUDA backend: frame_order is not a permutation of the %d frames", s->n_frames);
        /* the plans are sized from these sets */
        PTY_TRY(pty_sets_check_ends(s->set_end, s->n_sets, s->n_frames, "CUDA backend"));
    }
    return PTY_OK;
}

/* Make a batched plan of `batch` positions x K modes without a work area;
 * *work gets the area it needs. */
static int make_plan(const cuda_impl *c, int batch, cufftHandle *plan, size_t *work)
{
    int n[2] = {c->m, c->m};
    PTY_CUFFT(cufftCreate(plan));
    cufftResult r = cufftSetAutoAllocation(*plan, 0);
    if (r == CUFFT_SUCCESS)
        r = cufftMakePlanMany(*plan, 2, n, NULL, 1, (int)c->npix, NULL, 1, (int)c->npix, CUFFT_C2C,
                              batch * c->n_modes, work);
    if (r != CUFFT_SUCCESS) {
        cufftDestroy(*plan);
        return pty_error_set(r == CUFFT_ALLOC_FAILED ? PTY_ERR_NOMEM : PTY_ERR_FFT,
                             "cuFFT cannot plan %d transforms of %dx%d (%s)", batch * c->n_modes, c->m, c->m,
                             pty_cufft_strerror(r));
    }
    return PTY_OK;
}

/* The work area cuFFT needs for a batch (for pty_gpu_choose_layout), or
 * PTY_GPU_NO_PLAN when cuFFT cannot plan it. */
static size_t fft_work_of(void *user, int batch)
{
    const cuda_impl *c = (const cuda_impl *)user;
    cufftHandle h;
    size_t work = 0;
    if (make_plan(c, batch, &h, &work) != PTY_OK) {
        pty_error_clear();
        return PTY_GPU_NO_PLAN;
    }
    cufftDestroy(h);
    return work;
}

/* Choose the layout, then plan the chunk sizes the sets take. */
static int plan_batches(cuda_impl *c, const pty_backend_setup *s)
{
    size_t free_b = 0, total_b = 0;
    PTY_CUDA(cudaMemGetInfo(&free_b, &total_b));
    pty_gpu_sizes z = {c->m,    c->n_modes, c->n_frames, c->nobj, pty_sets_largest(s->set_end, s->n_sets),
                       c->subpixel, c->refine};
    PTY_TRY(pty_gpu_choose_layout(&z, s->gpu_frames, free_b, fft_work_of, c, &c->lay));
    unsigned char *need = (unsigned char *)calloc((size_t)c->lay.batch + 1, 1);
    c->plan_of = (cufftHandle *)calloc((size_t)c->lay.batch + 1, sizeof *c->plan_of);
    c->planned = (unsigned char *)calloc((size_t)c->lay.batch + 1, 1);
    if (!need || !c->plan_of || !c->planned) {
        free(need);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the CUDA backend's plan table");
    }
    pty_gpu_chunk_sizes(s->set_end, s->n_sets, c->lay.batch, need);
    size_t work_max = 0;
    int rc = PTY_OK;
    for (int b = 1; b <= c->lay.batch && rc == PTY_OK; b++) {
        size_t work = 0;
        if (!need[b] || (rc = make_plan(c, b, &c->plan_of[b], &work)) != PTY_OK) continue;
        c->planned[b] = 1;
        if (work > work_max) work_max = work;
    }
    free(need);
    PTY_TRY(rc);
    c->lay.fft_work = work_max;
    c->lay.bytes = pty_gpu_layout_bytes(&z, c->lay.batch, c->lay.streamed, work_max);
    const double gib = 1024.0 * 1024.0 * 1024.0;
    PTY_CHECK(c->lay.bytes + PTY_GPU_RESERVE_BYTES <= free_b, PTY_ERR_NOMEM,
              "CUDA backend needs %.2f GiB of GPU memory, device %d has %.2f GiB free (of %.2f GiB)",
              c->lay.bytes / gib, c->device, free_b / gib, total_b / gib);
    for (int b = 1; b <= c->lay.batch; b++)
        if (c->planned[b]) PTY_CUFFT(cufftSetStream(c->plan_of[b], c->stream));
    return PTY_OK;
}

/* Streamed frames: host memory in slot order (the sets' members when
 * given, so a set's frames are contiguous), pinned so copies overlap. */
static int stage_frames_on_host(cuda_impl *c, const pty_backend_setup *s)
{
    const size_t bytes = (size_t)c->n_frames * c->npix * sizeof(float);
    c->slot_of = (int *)malloc((size_t)(c->n_frames > 0 ? c->n_frames : 1) * sizeof(int));
    c->run_slot = (int *)malloc((size_t)c->lay.batch * sizeof(int));
    c->run_len = (int *)malloc((size_t)c->lay.batch * sizeof(int));
    PTY_CHECK(c->slot_of && c->run_slot && c->run_len, PTY_ERR_NOMEM, "cannot allocate the frame-streaming tables");
    if (cudaHostAlloc((void **)&c->h_frames, bytes, cudaHostAllocDefault) == cudaSuccess) {
        c->frames_pinned = 1;
    } else {
        cudaGetLastError();
        c->h_frames = (float *)malloc(bytes);
        PTY_CHECK(c->h_frames, PTY_ERR_NOMEM, "cannot allocate %.2f GiB of host memory for the streamed frames",
                  bytes / (1024.0 * 1024.0 * 1024.0));
        pty_warn("cannot pin %.2f GiB of host memory: frames stream from pageable memory, without overlap",
                 bytes / (1024.0 * 1024.0 * 1024.0));
    }
    for (int t = 0; t < c->n_frames; t++) {
        const int j = s->frame_order ? s->frame_order[t] : t;
        c->slot_of[j] = t;
        memcpy(c->h_frames + (size_t)t * c->npix, s->amplitudes + (size_t)j * c->npix, c->npix * sizeof(float));
    }
    for (int e = 0; e < 4; e++) {
        PTY_CUDA(cudaEventCreateWithFlags(e < 2 ? &c->ready[e] : &c->freed[e - 2], cudaEventDisableTiming));
        c->n_events++;
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
    PTY_TRY(plan_batches(c, s));

    const double gib = 1024.0 * 1024.0 * 1024.0;
    cudaError_t e = cudaMalloc(&c->d_arena, c->lay.bytes);
    if (e != cudaSuccess) {
        c->d_arena = NULL;
        cudaGetLastError();
        return pty_error_set(PTY_ERR_NOMEM, "CUDA backend cannot allocate %.2f GiB of GPU memory (%s)",
                             c->lay.bytes / gib, cudaGetErrorString(e));
    }
    layout(c, (char *)c->d_arena);
    for (int b = 1; b <= c->lay.batch; b++)
        if (c->planned[b]) PTY_CUFFT(cufftSetWorkArea(c->plan_of[b], c->d_fft_work));
    PTY_CUDA(cudaHostAlloc((void **)&c->h_order, (size_t)(c->n_frames > 0 ? c->n_frames : 1) * sizeof(int),
                           cudaHostAllocDefault));
    if (c->lay.streamed) {
        PTY_CUDA(cudaStreamCreateWithFlags(&c->copy_stream, cudaStreamNonBlocking));
        c->have_copy_stream = 1;
        PTY_TRY(stage_frames_on_host(c, s));
    }

    double t0 = pty_now_s();
    if (!c->lay.streamed)
        PTY_CUDA(cudaMemcpyAsync(c->d_amp, s->amplitudes, (size_t)c->n_frames * c->npix * sizeof(float),
                                 cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemcpyAsync(c->d_window, s->window, (size_t)c->n_frames * 2 * sizeof(int), cudaMemcpyHostToDevice,
                             c->stream));
    if (c->subpixel) {
        PTY_CUDA(cudaMemcpyAsync(c->d_shift, s->shift, (size_t)c->n_frames * 2 * sizeof(float), cudaMemcpyHostToDevice,
                                 c->stream));
        PTY_CUDA(cudaMemsetAsync(c->d_step_spec, 0, c->nprobe * sizeof(pty_cf), c->stream));
    }
    PTY_CUDA(cudaMemcpyAsync(c->d_object, s->object, c->nobj * sizeof(pty_cf), cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemcpyAsync(c->d_probe, s->probe, c->nprobe * sizeof(pty_cf), cudaMemcpyHostToDevice, c->stream));
    if (c->d_acc) PTY_CUDA(cudaMemsetAsync(c->d_acc, 0, (size_t)c->lay.groups * c->nprobe * sizeof(pty_cf), c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    c->upload_s = pty_now_s() - t0;
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
    c->subpixel = s->shift != NULL;
    c->refine = s->refine_positions;
    const size_t sums = (size_t)(c->n_frames > 0 ? c->n_frames : 1) * 4;
    if (c->refine && !(c->h_pos_sums = (double *)malloc(sums * sizeof(double)))) {
        cuda_destroy(c);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the position sums of %d frames", s->n_frames);
    }
    int rc = setup_device(c, s);
    if (rc != PTY_OK) {
        cuda_destroy(c);
        return rc;
    }
    *out = c;
    return PTY_OK;
}

static int check_pass(const cuda_impl *c, const int *order, int n, const pty_pass_params *p)
{
    PTY_CHECK(!p->position_steps || c->refine, PTY_ERR_ARG,
              "CUDA backend: position steps asked of a backend created without refine_positions");
    PTY_CHECK(n >= 0 && n <= c->n_frames, PTY_ERR_ARG, "CUDA backend: a pass of %d positions over %d frames", n,
              c->n_frames);
    for (int t = 0; t < n; t++)
        PTY_CHECK(order[t] >= 0 && order[t] < c->n_frames, PTY_ERR_ARG,
                  "CUDA backend: order[%d] = %d is not a frame index (0..%d)", t, order[t], c->n_frames - 1);
    return p->set_end ? pty_sets_check_ends(p->set_end, p->n_sets, n, "CUDA backend") : PTY_OK;
}

/* Queue the copies of chunk `chunk`'s streamed frames into staging buffer
 * chunk % 2, after the chunk two back has finished reading it. */
static int queue_frame_copies(cuda_impl *c, const int *frames, int nb, int chunk)
{
    const int buf = chunk & 1;
    float *dst = c->d_amp + (size_t)buf * c->lay.batch * c->npix;
    PTY_CUDA(cudaStreamWaitEvent(c->copy_stream, c->freed[buf], 0));
    const int runs = pty_gpu_copy_runs(frames, nb, c->slot_of, c->run_slot, c->run_len);
    for (int r = 0, at = 0; r < runs; at += c->run_len[r++])
        PTY_CUDA(cudaMemcpyAsync(dst + (size_t)at * c->npix, c->h_frames + (size_t)c->run_slot[r] * c->npix,
                                 (size_t)c->run_len[r] * c->npix * sizeof(float), cudaMemcpyHostToDevice,
                                 c->copy_stream));
    PTY_CUDA(cudaEventRecord(c->ready[buf], c->copy_stream));
    return PTY_OK;
}

/* One chunk of nb positions order[at..at+nb) of a set of set_size, frames resident or streamed. */
static int queue_chunk(cuda_impl *c, const int *order, int at, int nb, int chunk, int set_size,
                       const pty_pass_params *p, float *d_probe_max)
{
    const int global = p->obj_norm == PTY_OBJNORM_GLOBAL;
    const int *d_frames = c->d_order + at;
    const cufftHandle plan = c->plan_of[nb];
    pty_cuda_object obj = {c->d_object, c->obj_w, c->d_window};
    cufftComplex *psi = reinterpret_cast<cufftComplex *>(c->d_psi);
    cufftComplex *far = reinterpret_cast<cufftComplex *>(c->d_far);

    if (c->lay.streamed) PTY_TRY(queue_frame_copies(c, order + at, nb, chunk));
    if (!global) PTY_CUDA(cudaMemsetAsync(c->d_patch_max, 0, (size_t)nb * sizeof(float), c->stream));
    /* sub-pixel positions: each position sees the probe moved by its offset (from the set's
       probe spectrum), and the object step is normalised by that probe's own maximum */
    const pty_cf *probe = c->d_probe;
    size_t probe_stride = 0;
    if (c->subpixel) {
        PTY_CUDA(cudaMemsetAsync(c->d_probe_max_each, 0, (size_t)nb * sizeof(float), c->stream));
        PTY_TRY(pty_cuda_shift_probe(c->stream, c->d_probe_spec, c->d_moved, d_frames, c->d_shift, nb, c->m,
                                     c->n_modes));
        cufftComplex *moved = reinterpret_cast<cufftComplex *>(c->d_moved);
        PTY_CUFFT(cufftExecC2C(plan, moved, moved, CUFFT_INVERSE));
        probe = c->d_moved;
        probe_stride = c->nprobe;
    }
    PTY_TRY(pty_cuda_exit_waves(c->stream, obj, d_frames, nb, probe, probe_stride, c->d_psi, c->m, c->n_modes,
                                global ? NULL : c->d_patch_max, c->subpixel ? c->d_probe_max_each : NULL));
    PTY_CUFFT(cufftExecC2C(plan, psi, far, CUFFT_FORWARD));
    if (c->lay.streamed) {
        const int buf = chunk & 1;
        PTY_CUDA(cudaStreamWaitEvent(c->stream, c->ready[buf], 0));
        PTY_TRY(pty_cuda_modulus(c->stream, c->d_far, c->d_amp + (size_t)buf * c->lay.batch * c->npix, NULL, nb,
                                 c->m, c->n_modes, c->d_err));
        PTY_CUDA(cudaEventRecord(c->freed[buf], c->stream));
    } else {
        PTY_TRY(pty_cuda_modulus(c->stream, c->d_far, c->d_amp, d_frames, nb, c->m, c->n_modes, c->d_err));
    }
    PTY_CUFFT(cufftExecC2C(plan, far, far, CUFFT_INVERSE));
    if (p->position_steps)
        PTY_TRY(pty_cuda_position_terms(c->stream, obj, d_frames, nb, probe, probe_stride, c->d_far,
                                        c->d_psi, c->m, c->n_modes, c->d_illum, c->d_pos_sums));
    const int update_probe = p->beta > 0.0f;
    pty_cuda_steps steps = {p->alpha, p->beta, p->rpie, set_size, d_probe_max,
                            global ? c->d_scalars + SCALAR_GLOBAL_MAX : NULL, c->d_patch_max,
                            c->subpixel ? c->d_probe_max_each : NULL, c->subpixel && update_probe};
    PTY_TRY(pty_cuda_update(c->stream, obj, d_frames, nb, probe, probe_stride, c->d_far, c->d_psi,
                            update_probe && !c->subpixel ? c->d_acc : NULL, c->lay.groups, c->m, c->n_modes, steps));
    if (!(c->subpixel && update_probe)) return PTY_OK;
    /* each position's steps, taken on its moved probe, move back by its offset before they join */
    PTY_CUFFT(cufftExecC2C(plan, psi, psi, CUFFT_FORWARD));
    return pty_cuda_unshift_steps(c->stream, c->d_psi, c->d_step_spec, d_frames, c->d_shift, nb, c->m, c->n_modes);
}

/* Queue one pass and wait for it (cuda_pass cleans up when it fails). */
static int run_pass(cuda_impl *c, const int *order, int n, const pty_pass_params *p, double *err_num)
{
    const int update_probe = p->beta > 0.0f, n_sets = p->set_end ? p->n_sets : n;
    float *probe_max = c->d_scalars + SCALAR_PROBE_MAX;

    PTY_CUDA(cudaSetDevice(c->device));
    memcpy(c->h_order, order, (size_t)n * sizeof *order);
    PTY_CUDA(cudaMemcpyAsync(c->d_order, c->h_order, (size_t)n * sizeof(int), cudaMemcpyHostToDevice, c->stream));
    PTY_CUDA(cudaMemsetAsync(c->d_err, 0, sizeof(double), c->stream));
    PTY_CUDA(cudaMemsetAsync(c->d_scalars, 0, N_SCALARS * sizeof(float), c->stream));
    if (p->obj_norm == PTY_OBJNORM_GLOBAL)
        PTY_TRY(pty_cuda_object_max(c->stream, c->d_object, c->nobj, c->d_scalars + SCALAR_GLOBAL_MAX));
    PTY_TRY(pty_cuda_probe_max(c->stream, c->d_probe, c->m, c->n_modes, probe_max));
    if (p->position_steps) {
        PTY_CUDA(cudaMemsetAsync(c->d_pos_sums, 0, (size_t)c->n_frames * 4 * sizeof(double), c->stream));
        PTY_TRY(pty_cuda_illumination_weights(c->stream, c->d_probe, c->m, c->n_modes, c->d_window, c->n_frames,
                                              c->obj_w, c->d_illum, c->nobj, c->d_scalars + SCALAR_ILLUM_MAX));
    }

    cufftComplex *probe = reinterpret_cast<cufftComplex *>(c->d_probe);
    cufftComplex *probe_spec = reinterpret_cast<cufftComplex *>(c->d_probe_spec);
    cufftComplex *step_spec = reinterpret_cast<cufftComplex *>(c->d_step_spec);
    for (int s = 0, start = 0, chunk = 0; s < n_sets; s++) {
        const int end = p->set_end ? p->set_end[s] : s + 1;
        /* with a fixed probe every set sees slot 0; else sets alternate slots */
        float *slot = probe_max + (update_probe ? (s & 1) : 0);
        /* plan_of[1] is K transforms: every power of two up to the batch is planned */
        if (c->subpixel && (update_probe || s == 0)) PTY_CUFFT(cufftExecC2C(c->plan_of[1], probe, probe_spec, CUFFT_FORWARD));
        for (int at = start; at < end; chunk++) {
            const int nb = pty_gpu_next_chunk(end - at, c->lay.batch, c->planned);
            PTY_TRY(queue_chunk(c, order, at, nb, chunk, end - start, p, slot));
            at += nb;
        }
        if (update_probe && c->subpixel) {
            /* the set's moved-back steps, summed in Fourier space, back to real space and onto the probe */
            PTY_CUFFT(cufftExecC2C(c->plan_of[1], step_spec, step_spec, CUFFT_INVERSE));
            PTY_TRY(pty_cuda_probe_apply(c->stream, c->d_probe, c->d_step_spec, 1, c->m, c->n_modes,
                                         probe_max + ((s + 1) & 1), slot));
        } else if (update_probe) {
            PTY_TRY(pty_cuda_probe_apply(c->stream, c->d_probe, c->d_acc, c->lay.groups, c->m, c->n_modes,
                                         probe_max + ((s + 1) & 1), slot));
        }
        start = end;
    }

    double err = 0.0;
    PTY_CUDA(cudaMemcpyAsync(&err, c->d_err, sizeof err, cudaMemcpyDeviceToHost, c->stream));
    if (p->position_steps)
        PTY_CUDA(cudaMemcpyAsync(c->h_pos_sums, c->d_pos_sums, (size_t)c->n_frames * 4 * sizeof(double),
                                 cudaMemcpyDeviceToHost, c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    PTY_CUDA(cudaGetLastError());
    *err_num = err;
    for (int t = 0; p->position_steps && t < n; t++) {
        const int j = order[t];
        const double *sum = c->h_pos_sums + 4 * (size_t)j;
        p->position_steps[2 * j] = pty_position_step(sum[0], sum[1]);
        p->position_steps[2 * j + 1] = pty_position_step(sum[2], sum[3]);
    }
    return PTY_OK;
}

static int cuda_pass(void *impl, const int *order, int n, const pty_pass_params *p, double *err_num)
{
    cuda_impl *c = (cuda_impl *)impl;
    *err_num = 0.0;
    PTY_TRY(check_pass(c, order, n, p));
    if (n == 0) return PTY_OK;
    const int rc = run_pass(c, order, n, p, err_num);
    if (rc != PTY_OK) {
        /* a pass that failed half-way may still have work queued (and copies
           reading h_order) and part of a set's probe steps summed: wait for
           it and clear the sums, so a caller may carry on; the first error's
           message stands */
        if (c->have_copy_stream) cudaStreamSynchronize(c->copy_stream);
        cudaStreamSynchronize(c->stream);
        if ((!c->d_acc || cudaMemset(c->d_acc, 0, (size_t)c->lay.groups * c->nprobe * sizeof(pty_cf)) == cudaSuccess) &&
            (!c->d_step_spec || cudaMemset(c->d_step_spec, 0, c->nprobe * sizeof(pty_cf)) == cudaSuccess))
            cudaDeviceSynchronize();
    }
    return rc;
}

/* Synchronous copy on the backend's stream. */
static int copy_sync(cuda_impl *c, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    PTY_CUDA(cudaSetDevice(c->device));
    PTY_CUDA(cudaMemcpyAsync(dst, src, bytes, kind, c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    return PTY_OK;
}

/* A rectangle of the object, h x w at (r0, c0), to or from host memory
 * (h x w, row-major): one strided copy. */
static int copy_rect_sync(cuda_impl *c, pty_cf *host, int r0, int c0, int h, int w, cudaMemcpyKind kind)
{
    pty_cf *dev = c->d_object + (size_t)r0 * c->obj_w + c0;
    const size_t row = (size_t)w * sizeof(pty_cf), pitch = (size_t)c->obj_w * sizeof(pty_cf);
    PTY_CUDA(cudaSetDevice(c->device));
    if (kind == cudaMemcpyDeviceToHost)
        PTY_CUDA(cudaMemcpy2DAsync(host, row, dev, pitch, row, (size_t)h, kind, c->stream));
    else
        PTY_CUDA(cudaMemcpy2DAsync(dev, pitch, host, row, row, (size_t)h, kind, c->stream));
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    return PTY_OK;
}

static int cuda_get_object(void *impl, int r0, int c0, int h, int w, pty_cf *out)
{
    return copy_rect_sync((cuda_impl *)impl, out, r0, c0, h, w, cudaMemcpyDeviceToHost);
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

static int cuda_set_object(void *impl, int r0, int c0, int h, int w, const pty_cf *in)
{
    return copy_rect_sync((cuda_impl *)impl, (pty_cf *)in, r0, c0, h, w, cudaMemcpyHostToDevice);
}

static int cuda_set_positions(void *impl, const int *window, const float *shift)
{
    cuda_impl *c = (cuda_impl *)impl;
    PTY_CHECK(c->subpixel, PTY_ERR_ARG, "CUDA backend: positions can move only in a backend created with shifts");
    for (int j = 0; j < c->n_frames; j++) {
        const int r = window[2 * j], col = window[2 * j + 1];
        PTY_CHECK(r >= 0 && col >= 0 && r + c->m <= c->obj_h && col + c->m <= c->obj_w, PTY_ERR_ARG,
                  "CUDA backend: window %d at (%d, %d) leaves the %dx%d object", j, r, col, c->obj_h, c->obj_w);
    }
    PTY_TRY(copy_sync(c, c->d_window, window, (size_t)c->n_frames * 2 * sizeof(int), cudaMemcpyHostToDevice));
    return copy_sync(c, c->d_shift, shift, (size_t)c->n_frames * 2 * sizeof(float), cudaMemcpyHostToDevice);
}

static int cuda_update_frames(void *impl, const float *amplitudes, const int *frames, int n)
{
    cuda_impl *c = (cuda_impl *)impl;
    PTY_CUDA(cudaSetDevice(c->device));
    for (int i = 0; i < n; i++) {
        const int j = frames[i];
        PTY_CHECK(j >= 0 && j < c->n_frames, PTY_ERR_ARG, "CUDA backend: frame %d is outside [0, %d)", j, c->n_frames);
        const float *src = amplitudes + (size_t)j * c->npix;
        if (c->lay.streamed)
            memcpy(c->h_frames + (size_t)c->slot_of[j] * c->npix, src, c->npix * sizeof(float));
        else
            PTY_CUDA(cudaMemcpyAsync(c->d_amp + (size_t)j * c->npix, src, c->npix * sizeof(float),
                                     cudaMemcpyHostToDevice, c->stream));
    }
    PTY_CUDA(cudaStreamSynchronize(c->stream));
    return PTY_OK;
}

static void cuda_stats(const void *impl, pty_backend_stats *out)
{
    const cuda_impl *c = (const cuda_impl *)impl;
    out->upload_s = c->upload_s;
    out->device_bytes = (double)c->lay.bytes;
    out->batch = c->lay.batch;
    out->frames_streamed = c->lay.streamed;
}

extern "C" int pty_cuda_device_count(void)
{
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaSuccess) return count;
    cudaGetLastError(); /* clear the error, report none */
    /* a GPU behind a driver older than this build's CUDA looks like no GPU:
       say why once, so the CPU fallback does not pass unnoticed (no driver
       at all, driver version 0, is a machine without a GPU) */
    static int said = 0;
    int driver = 0;
    if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
    if (err != cudaErrorNoDevice && driver > 0 && !said) {
        said = 1;
        pty_warn("CUDA driver %d.%d is installed but unusable by this build (CUDA %d.%d): %s; no GPU will be used",
                 driver / 1000, driver % 1000 / 10, CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10,
                 cudaGetErrorString(err));
    }
    return 0;
}

/* Positional initialisation: designated initialisers are C++20. */
extern "C" const pty_backend_ops pty_backend_cuda = {
    "cuda", 0, cuda_create, cuda_destroy, cuda_pass, cuda_get_object, cuda_get_probe, cuda_set_probe,
    cuda_set_object, cuda_stats, cuda_set_positions, cuda_update_frames,
};
