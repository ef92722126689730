/* backend.h - the interface every compute backend implements.
 *
 * The engine (engine.c) owns the algorithm's schedule; a backend owns the
 * memory and runs ePIE passes over positions.  The CPU table lives in
 * backend_cpu.c, the CUDA one in kernels/backend_cuda.cu (PTY_HAVE_CUDA).
 * Both call the per-pixel math of pty_pixel.h. */
#ifndef PTY_BACKEND_H
#define PTY_BACKEND_H

#include "gpu_schedule.h"
#include "pty_pixel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything a backend needs to set up.  Pointers are only read during
 * create, except `amplitudes`: the CPU backend reads them in place until
 * destroy (a copy would double the host memory the frames take), the CUDA
 * backend copies them. */
typedef struct pty_backend_setup {
    int m;                         /* frame side */
    int n_frames;
    int n_modes;                   /* K incoherent probe modes */
    int obj_h, obj_w;              /* object size */
    const float *amplitudes;       /* n_frames*m*m, sqrt(I) in FFT order, PTY_MASKED = free */
    const int *window;             /* n_frames*2 top-left (row, col) of each window */
    const pty_cf *object;          /* obj_h*obj_w initial object */
    const pty_cf *probe;           /* n_modes*m*m initial probe modes */
    int n_threads;                 /* CPU threads (CPU backend only) */
    int device;                    /* CUDA device index, taken modulo the device count (CUDA only) */
    unsigned fft_flags;            /* PTY_FFT_* planning rigour */
    const char *fft_wisdom;        /* CPU: FFTW plans read from and saved to this file (fft_wisdom.h), or NULL */
    /* Batched order: the sets as built (sets.h; all NULL / 0 in sequential
       order): set s is frame_order[set_end[s-1] .. set_end[s]).  The GPU
       sizes and plans its batched launches for these sets once, and stores
       streamed frames set by set so that a set is one copy. */
    const int *frame_order;
    const int *set_end;
    int n_sets;
    int gpu_frames;                /* PTY_FRAMES_* (gpu_schedule.h), CUDA only */
    /* n_frames*2 sub-pixel offsets of the positions in their windows (pty_geometry.shift): the probe
       is moved by them (pty_shift_factor); NULL: on the pixel grid. */
    const float *shift;
    int refine_positions;          /* 1: passes will ask for position steps (pass_params.position_steps) */
} pty_backend_setup;

/* What a backend reports about itself after create (`ptycho bench`). */
typedef struct pty_backend_stats {
    double upload_s;      /* copying frames, object and probe into the backend's memory */
    double device_bytes;  /* GPU memory held (0 on the CPU) */
    int batch;            /* positions one launch takes at most (GPU), workers of a set (CPU) */
    int frames_streamed;  /* 1: the frames stream from host memory every pass */
} pty_backend_stats;

enum { PTY_FFT_ESTIMATE = 0, PTY_FFT_MEASURE = 1 };

/* Which max|O|^2 normalises the probe step. */
enum {
    PTY_OBJNORM_PATCH = 0,  /* max over this position's object patch (before update) */
    PTY_OBJNORM_GLOBAL = 1  /* max over the whole object, taken at the start of each pass */
};

/* Step parameters of one ePIE pass. */
typedef struct pty_pass_params {
    float alpha;      /* object step */
    float beta;       /* probe step; 0 = probe fixed */
    float rpie;       /* rPIE regularisation a in [0,1]; < 0 = plain ePIE */
    int obj_norm;     /* PTY_OBJNORM_* */
    /* Sets (may be NULL: every position its own set, the sequential order):
       positions order[set_end[s-1] .. set_end[s]) form set s, n_sets sets in
       all, and no two windows of a set overlap.  A backend may process a set
       at once: object updates are then exactly those of the sequential
       order, and the set's probe steps are combined (pty_probe_step). */
    const int *set_end;
    int n_sets;
    /* Position correction (may be NULL: off): for each position j the pass visits, the move of its
       window's corner that best explains its exit-wave change, (row, col) at 2j (pty_position_terms,
       measured before its update).  Only for a backend created with refine_positions. */
    float *position_steps;
} pty_pass_params;

typedef struct pty_backend_ops {
    const char *name;
    /* 1: a pass runs on the host's threads, each taking whole positions of a set (the CPU: sets are
       balanced to multiples of the thread count, and one thread runs the sequential order by default);
       0: a pass takes a whole set at once (a GPU) */
    int host_threads;
    /* allocate, plan FFTs, upload frames, object and probe */
    int (*create)(const pty_backend_setup *s, void **impl);
    /* free all; NULL is a no-op */
    void (*destroy)(void *impl);
    /* one ePIE pass over positions order[0..n-1], each frame at most once (in sets when
       p->set_end); *err_num = sum over positions and unmasked pixels of
       (sqrt(sum_k|Psi_k|^2) - sqrt(I))^2, measured before each position's update */
    int (*pass)(void *impl, const int *order, int n, const pty_pass_params *p, double *err_num);
    /* copy rows [r0, r0 + h) x columns [c0, c0 + w) of the object (obj_h x obj_w; the caller
       checks the rectangle) to host memory, h x w row-major: the whole object, or the strips a
       sync share exchanges; or the probe (n_modes*m*m) */
    int (*get_object)(void *impl, int r0, int c0, int h, int w, pty_cf *out);
    int (*get_probe)(void *impl, pty_cf *out);
    /* replace the probe modes (after orthogonalisation on the host) */
    int (*set_probe)(void *impl, const pty_cf *in);
    /* replace that rectangle of the object (after sharing overlaps with other ranks) */
    int (*set_object)(void *impl, int r0, int c0, int h, int w, const pty_cf *in);
    void (*stats)(const void *impl, pty_backend_stats *out);
    /* new windows (n_frames*2) and sub-pixel offsets (n_frames*2; the backend was created with
       setup.shift) after position correction moved them */
    int (*set_positions)(void *impl, const int *window, const float *shift);
    /* frames[0..n) of `amplitudes` (the array given at create, n_frames*m*m) have new data (a scan
       still arriving): the CPU reads them in place, the CUDA backend copies them */
    int (*update_frames)(void *impl, const float *amplitudes, const int *frames, int n);
} pty_backend_ops;

extern const pty_backend_ops pty_backend_cpu;

#ifdef PTY_HAVE_CUDA
extern const pty_backend_ops pty_backend_cuda;
/* Number of usable CUDA devices; 0 (never an error) when there is no driver or GPU. */
int pty_cuda_device_count(void);
/* Measured bandwidths for `ptycho bench`: device-to-device copies (bytes
 * read + written per second), pinned host-to-device copies, and the
 * device's memory size. */
int pty_cuda_bandwidth(int device, double *d2d_bytes_per_s, double *h2d_bytes_per_s, double *total_bytes);
/* The cuFFT floor: seconds per frame for one forward and one inverse transform of n_modes m x m
 * frames, batched `batch` frames at a time, in place. */
int pty_cuda_fft_floor(int device, int m, int n_modes, int batch, double *s_per_frame);
#endif

#ifdef __cplusplus
}
#endif
#endif /* PTY_BACKEND_H */
