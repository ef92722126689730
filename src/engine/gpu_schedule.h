/* gpu_schedule.h - the host-side decisions of the CUDA backend, in plain C so
 * the CPU tests check them: how many positions one batched launch takes,
 * whether the frames stay on the GPU or stream from host memory, how much
 * device memory that needs, and which host-to-device copies a chunk of
 * streamed frames takes.
 *
 * A pass processes each set of non-overlapping windows (sets.h) as one
 * chunk of batched launches when it fits the batch (else chunks of the
 * batch and one for the rest).  The sets are fixed when the plan is made,
 * so batched cuFFT plans are made then for exactly the chunk sizes they
 * need, plus every power of two up to the batch: a set of another size
 * (a caller's own sets) runs as the binary digits of its size
 * (137 = 128 + 8 + 1).  No transform is wasted, no plan made in the loop. */
#ifndef PTY_GPU_SCHEDULE_H
#define PTY_GPU_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where the frames live during a reconstruction on a GPU. */
enum {
    PTY_FRAMES_AUTO = 0,     /* on the GPU when they fit, else streamed */
    PTY_FRAMES_RESIDENT = 1, /* on the GPU, or fail */
    PTY_FRAMES_STREAMED = 2  /* in pinned host memory, copied chunk by chunk, overlapped with compute */
};

/* Largest batch a launch takes (positions), and the most probe-step
 * accumulators a batch sums into (one per group of positions; the groups
 * are added in a fixed order, so the probe does not depend on timing). */
#define PTY_GPU_MAX_BATCH 1024
#define PTY_GPU_MAX_GROUPS 8
/* Below this batch, resident frames lose to streamed ones with a larger
 * batch: a launch per position leaves the GPU idle (DESIGN.md §3). */
#define PTY_GPU_MIN_RESIDENT_BATCH 8
/* Device memory kept free for the CUDA context, cuFFT and other users. */
#define PTY_GPU_RESERVE_BYTES ((size_t)256 << 20)

typedef struct pty_gpu_sizes {
    int m;          /* frame side */
    int n_modes;    /* K */
    int n_frames;
    size_t n_object;  /* object pixels */
    int max_set;    /* largest set of a pass (1 in sequential order, pty_sets_largest) */
    int subpixel;   /* 1: positions off the pixel grid, each chunk position with its own moved probe */
    int refine_positions; /* 1: position correction: the object's illumination weights and 4 sums a frame */
} pty_gpu_sizes;

/* What the backend allocates. */
typedef struct pty_gpu_layout {
    int batch;        /* positions a launch takes at most (a power of two) */
    int groups;       /* probe-step accumulators, min(batch, PTY_GPU_MAX_GROUPS) */
    int streamed;     /* frames in host memory, two staging buffers of `batch` frames on the GPU */
    size_t bytes;     /* device memory of the arena, including the FFT work area */
    size_t fft_work;  /* the FFT work area assumed */
} pty_gpu_layout;

/* cuFFT's work area for `batch` x K transforms (supplied by the caller, so
 * the choice can be tested without cuFFT), or PTY_GPU_NO_PLAN when no plan
 * can be made for that batch: pty_gpu_choose_layout then skips it. */
#define PTY_GPU_NO_PLAN SIZE_MAX
typedef size_t (*pty_gpu_fft_work_fn)(void *user, int batch);

/* Device bytes of one layout (frames resident or two staging buffers). */
size_t pty_gpu_layout_bytes(const pty_gpu_sizes *z, int batch, int streamed, size_t fft_work);

/* Choose the layout for `frames` (PTY_FRAMES_*) within `free_bytes` of
 * device memory (less PTY_GPU_RESERVE_BYTES): resident frames with the
 * largest batch down to PTY_GPU_MIN_RESIDENT_BATCH (or the largest set when
 * smaller), then streamed frames with the largest batch down to 1.  Fails
 * with PTY_ERR_NOMEM and a message giving the memory needed and free, or
 * saying that cuFFT could plan no batch at all. */
int pty_gpu_choose_layout(const pty_gpu_sizes *z, int frames, size_t free_bytes, pty_gpu_fft_work_fn work,
                          void *user, pty_gpu_layout *out);

/* Mark need[c] = 1 (need has batch + 1 entries, zeroed by the caller) for
 * every chunk size the sets take with this batch, and for every power of
 * two up to it. */
void pty_gpu_chunk_sizes(const int *set_end, int n_sets, int batch, unsigned char *need);

/* The next chunk of a set with `remaining` positions: min(remaining, batch)
 * when have[] marks it (may be NULL), else the largest power of two below. */
int pty_gpu_next_chunk(int remaining, int batch, const unsigned char *have);

/* Host-to-device copies for a chunk of n frames: frames[b] is stored at
 * host slot slot_of[frames[b]]; runs of consecutive slots become one copy.
 * Writes run_slot[r] (first host slot) and run_len[r] (frames) and returns
 * the number of runs; run r lands at the sum of the earlier lengths. */
int pty_gpu_copy_runs(const int *frames, int n, const int *slot_of, int *run_slot, int *run_len);

#ifdef __cplusplus
}
#endif
#endif /* PTY_GPU_SCHEDULE_H */
