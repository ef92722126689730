/* gpu_schedule.c - batch size, frame placement and copy runs of the CUDA
 * backend (see gpu_schedule.h). */
#include "gpu_schedule.h"

#include <stdint.h>

#include "pty_error.h"

/* Alignment slack of the arena: each of its sub-arrays starts on 256 bytes. */
#define ARENA_SLACK ((size_t)24 * 256)

static int groups_of(int batch) { return batch < PTY_GPU_MAX_GROUPS ? batch : PTY_GPU_MAX_GROUPS; }

size_t pty_gpu_layout_bytes(const pty_gpu_sizes *z, int batch, int streamed, size_t fft_work)
{
    const size_t npix = (size_t)z->m * z->m, nprobe = npix * z->n_modes, cf = 8;
    const size_t frames = (streamed ? 2 * (size_t)batch : (size_t)z->n_frames) * npix * sizeof(float);
    return frames + z->n_object * cf               /* object */
           + nprobe * cf                           /* probe */
           + 2 * (size_t)batch * nprobe * cf       /* exit waves, far field */
           + (z->subpixel ? 0 : (size_t)groups_of(batch) * nprobe * cf) /* probe-step accumulators */
           + (size_t)z->n_frames * 3 * sizeof(int) /* pass order, window corners */
           + (size_t)batch * sizeof(float)         /* patch maxima */
           + (z->subpixel ? (size_t)batch * nprobe * cf /* moved probes */
                                + 2 * nprobe * cf       /* probe spectrum, summed step spectra */
                                + (size_t)z->n_frames * 2 * sizeof(float) /* sub-pixel offsets */
                                + (size_t)batch * sizeof(float)           /* moved probes' maxima */
                          : 0)
           + (z->refine_positions ? z->n_object * sizeof(float)              /* illumination weights */
                                        + (size_t)z->n_frames * 4 * sizeof(double) /* position sums */
                                  : 0)
           + fft_work + ARENA_SLACK + 64;          /* error sum, scalars */
}

/* The batch covering the largest set, within PTY_GPU_MAX_BATCH and cuFFT's
 * 32-bit element count of one batched plan. */
static int top_batch(const pty_gpu_sizes *z)
{
    const long long nprobe = (long long)z->m * z->m * z->n_modes;
    int p = 1;
    while (p < z->max_set && p < PTY_GPU_MAX_BATCH && 2 * p * nprobe <= INT32_MAX) p *= 2;
    return p;
}

/* Try batches from `top` halving down to `bottom`; 1 when one fits. */
static int try_batches(const pty_gpu_sizes *z, int streamed, int top, int bottom, size_t budget,
                       pty_gpu_fft_work_fn work, void *user, pty_gpu_layout *out)
{
    for (int b = top; b >= bottom && b >= 1; b /= 2) {
        size_t w = work(user, b);
        if (w == PTY_GPU_NO_PLAN) continue;
        size_t bytes = pty_gpu_layout_bytes(z, b, streamed, w);
        if (bytes <= budget) {
            out->batch = b;
            out->groups = groups_of(b);
            out->streamed = streamed;
            out->bytes = bytes;
            out->fft_work = w;
            return 1;
        }
    }
    return 0;
}

int pty_gpu_choose_layout(const pty_gpu_sizes *z, int frames, size_t free_bytes, pty_gpu_fft_work_fn work,
                          void *user, pty_gpu_layout *out)
{
    PTY_CHECK(z->m > 0 && z->n_modes > 0 && z->n_frames >= 0 && z->max_set >= 1, PTY_ERR_ARG,
              "CUDA backend: bad sizes (m %d, modes %d, frames %d, largest set %d)", z->m, z->n_modes, z->n_frames,
              z->max_set);
    const size_t budget = free_bytes > PTY_GPU_RESERVE_BYTES ? free_bytes - PTY_GPU_RESERVE_BYTES : 0;
    const int top = top_batch(z);
    const int bottom = top < PTY_GPU_MIN_RESIDENT_BATCH ? top : PTY_GPU_MIN_RESIDENT_BATCH;
    if (frames != PTY_FRAMES_STREAMED &&
        try_batches(z, 0, top, frames == PTY_FRAMES_RESIDENT ? 1 : bottom, budget, work, user, out))
        return PTY_OK;
    if (frames != PTY_FRAMES_RESIDENT && try_batches(z, 1, top, 1, budget, work, user, out)) return PTY_OK;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    const int streamed = frames != PTY_FRAMES_RESIDENT;
    const size_t work1 = work(user, 1);
    PTY_CHECK(work1 != PTY_GPU_NO_PLAN, PTY_ERR_NOMEM,
              "cuFFT cannot plan even one %dx%d transform of %d %s (the GPU has %.2f GiB free); "
              "use fewer --modes or the CPU backend (--backend cpu)",
              z->m, z->m, z->n_modes, z->n_modes > 1 ? "modes" : "mode", free_bytes / gib);
    const size_t need = pty_gpu_layout_bytes(z, 1, streamed, work1) + PTY_GPU_RESERVE_BYTES;
    const char *modes = z->n_modes > 1 ? "modes" : "mode";
    if (streamed)
        return pty_error_set(PTY_ERR_NOMEM,
                             "the GPU has %.2f GiB free, too little for this reconstruction: with the frames streamed "
                             "from host memory it still needs %.2f GiB for the %.2f-Mpixel object, %d probe %s of "
                             "%dx%d and the working buffers; use fewer --modes or more ranks (each holds a smaller "
                             "object)",
                             free_bytes / gib, need / gib, z->n_object / 1e6, z->n_modes, modes, z->m, z->m);
    return pty_error_set(PTY_ERR_NOMEM,
                         "the GPU has %.2f GiB free, too little for this reconstruction: with the frames on the GPU "
                         "(--gpu-frames resident) it needs %.2f GiB for the frames, the %.2f-Mpixel object and %d "
                         "probe %s of %dx%d; try --gpu-frames auto",
                         free_bytes / gib, need / gib, z->n_object / 1e6, z->n_modes, modes, z->m, z->m);
}

void pty_gpu_chunk_sizes(const int *set_end, int n_sets, int batch, unsigned char *need)
{
    for (int c = 1; c <= batch; c *= 2) need[c] = 1;
    for (int s = 0; s < n_sets; s++) {
        int size = set_end[s] - (s ? set_end[s - 1] : 0);
        if (size >= batch) need[batch] = 1;
        if (size % batch) need[size % batch] = 1;
    }
}

int pty_gpu_next_chunk(int remaining, int batch, const unsigned char *have)
{
    int cap = remaining < batch ? remaining : batch, c = 1;
    if (have && have[cap]) return cap;
    while (2 * c <= cap) c *= 2;
    return c;
}

int pty_gpu_copy_runs(const int *frames, int n, const int *slot_of, int *run_slot, int *run_len)
{
    int runs = 0;
    for (int b = 0; b < n; b++) {
        const int s = slot_of[frames[b]];
        if (runs > 0 && run_slot[runs - 1] + run_len[runs - 1] == s) {
            run_len[runs - 1]++;
        } else {
            run_slot[runs] = s;
            run_len[runs] = 1;
            runs++;
        }
    }
    return runs;
}
