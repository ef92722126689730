/* test_gpu.c - the CUDA backend against the CPU reference backend.
 *
 * Each case builds a small fixed-seed problem (m x m frames, K probe modes,
 * a grid of overlapping windows on an object a little larger than the scan,
 * synthetic amplitudes from a perturbed object with FFTW, a few masked
 * pixels), runs the same passes through the reference (pty_backend_cpu, two
 * workers) and the device backend and compares object, probe and error
 * element-wise after every pass (llm.c validate_result style).  The cases
 * are chosen to reach the CUDA backend's paths: sequential and batched
 * order, fixed-probe passes, sets of more positions than accumulator groups,
 * sets split into several chunks (of sizes that are and are not powers of
 * two, planned and not), frames whose pixel count leaves partial CUDA
 * blocks, 1 to 3 modes, and frames streamed from host memory, which must
 * give the resident result exactly.  Each case says which paths it is there
 * for; the harness works out from the GPU schedule (gpu_schedule.h) which it
 * reaches and fails when a claim or a path is not covered.
 *
 *   test_gpu               the device is pty_backend_cuda.  Exits 77 (skip)
 *                          without CUDA or a device, fails instead when
 *                          PTY_EXPECT_GPU is set (scripts/gpu_check.sh).
 *   test_gpu --self-check  the device is pty_backend_cpu on one worker, so
 *                          the harness itself runs on any machine
 *                          (gpu_harness.unit): the cases must be well formed
 *                          and agree within the same tolerances.  Checks
 *                          that mean something only for CUDA (its batch,
 *                          streaming, its refusals of bad input) are
 *                          skipped or, where noted, adapted. */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "pty_error.h"
#include "pty_test.h"
#include "rng.h"
#include "sets.h"

static const double two_pi = 6.283185307179586;

/* Threads per block of the CUDA pixel kernels (PTY_CUDA_BLOCK in
 * kernels/epie_kernels.cuh, a CUDA-only header). */
#define CUDA_BLOCK 256
#define N_PASSES 3
/* The reference spreads a set's positions over two workers, sharing the odd
 * one out (backend_cpu.c cpu_sets, cpu_split); --self-check's device side
 * runs them on one, a different CPU path to compare against. */
#define REF_THREADS 2

/* ---- cases ---------------------------------------------------------------- */

/* Paths of the CUDA backend a case can reach (see coverage_of). */
enum {
    COV_FIXED_PROBE = 1 << 0,   /* beta = 0: probe-max slot 0 only, no accumulators, no probe_apply */
    COV_GROUP_LOOP = 1 << 1,    /* a chunk of more positions than accumulator groups: b += gridDim.y */
    COV_SPLIT_SET = 1 << 2,     /* a set larger than the batch, run as several chunks */
    COV_ODD_CHUNK = 1 << 3,     /* a chunk whose size is not a power of two (a planned size) */
    COV_DIGITS = 1 << 4,        /* a set's rest without a plan of its own, run as binary digits */
    COV_PARTIAL_BLOCK = 1 << 5, /* m*m not a multiple of the CUDA block */
    COV_K1 = 1 << 6,
    COV_K3 = 1 << 7,
    COV_STREAM_SPLIT = 1 << 8, /* streamed frames with a set over several chunks */
    COV_SUBPIXEL = 1 << 9,     /* positions off the grid: moved probes, steps moved back in Fourier space;
                                  position steps measured, and positions moved */
    COV_ALL = (1 << 10) - 1
};
static const char *const cov_names[] = {"fixed-probe",   "group-loop", "split-set", "odd-chunk",   "binary-digits",
                                        "partial-block", "K=1",        "K=3",       "stream-split", "sub-pixel"};

/* Set sizes of a schedule: SEQ is the sequential order (no sets), WHOLE a
 * set per class of non-overlapping windows, any other n cuts each class into
 * sets of at most n. */
enum { SEQ = 0, WHOLE = 1 << 20 };

typedef struct test_case {
    const char *name;
    int m, K, grid, step;
    int pad;                       /* object pixels beyond the scan: pad rows, 2 pad columns each side */
    int create_sets, pass_sets;    /* the sets create() plans for, the sets the passes use */
    const pty_pass_params *passes; /* N_PASSES */
    int streamed;                  /* also stream the frames: must equal resident exactly */
    unsigned expect;               /* the COV_* paths the case is here for */
    int subpixel;                  /* positions off the pixel grid: random offsets in [-0.5, 0.5]; and
                                      position correction: every pass measures position steps, and
                                      before the last all windows move a row down, with new offsets */
} test_case;

static const pty_pass_params standard_passes[N_PASSES] = {
    {.alpha = 1.0f, .beta = 0.5f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
    {.alpha = 1.0f, .beta = 0.5f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
    {.alpha = 1.0f, .beta = 0.5f, .rpie = 0.5f, .obj_norm = PTY_OBJNORM_GLOBAL},
};
/* The engine's first iterations hold the probe fixed, then let it move: the
 * last pass checks that the fixed ones left no stale probe-step state. */
static const pty_pass_params fixed_probe_passes[N_PASSES] = {
    {.alpha = 1.0f, .beta = 0.0f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
    {.alpha = 1.0f, .beta = 0.0f, .rpie = 0.5f, .obj_norm = PTY_OBJNORM_GLOBAL},
    {.alpha = 1.0f, .beta = 0.5f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
};

/* Windows at step 16 (m 32) or 12 (m 24) overlap their neighbours; a class
 * takes every other window along each axis.  Set sizes noted per case:
 * grid 4 gives classes of 4, grid 5 of 9, 6, 6, 4, grid 7 of 16, 12, 12, 9. */
static const test_case cases[] = {
    /* the original problem: 32x32, 2 modes, 4x4 grid on 80x80 */
    {"sequential", 32, 2, 4, 16, 0, SEQ, SEQ, standard_passes, 1, 0, 0},
    {"sets of 4", 32, 2, 4, 16, 0, WHOLE, WHOLE, standard_passes, 1, 0, 0},
    {"fixed probe, sequential", 32, 2, 4, 16, 0, SEQ, SEQ, fixed_probe_passes, 0, COV_FIXED_PROBE, 0},
    /* batch 16, 8 groups; m 24 = 576 pixels, 2.25 blocks */
    {"fixed probe, sets of 4..9, m 24, K 1", 24, 1, 5, 12, 3, WHOLE, WHOLE, fixed_probe_passes, 1,
     COV_FIXED_PROBE | COV_GROUP_LOOP | COV_ODD_CHUNK | COV_PARTIAL_BLOCK | COV_K1, 0},
    /* batch 16, 8 groups, chunks of 16, 12 and 9 */
    {"sets of 9..16, K 1", 32, 1, 7, 16, 2, WHOLE, WHOLE, standard_passes, 1, COV_GROUP_LOOP | COV_ODD_CHUNK | COV_K1, 0},
    /* planned for sets of <= 3 (batch 4, plans 1, 2, 3, 4); sets of 7 run as 4 + 3 */
    {"sets of <= 7 over a batch of 4, m 24, K 3", 24, 3, 5, 12, 3, 3, 7, standard_passes, 1,
     COV_SPLIT_SET | COV_ODD_CHUNK | COV_PARTIAL_BLOCK | COV_K3 | COV_STREAM_SPLIT, 0},
    /* batch 2: a set of 9 is 5 chunks */
    {"fixed probe, sets of 4..9 over a batch of 2, m 24", 24, 2, 5, 12, 3, 2, WHOLE, fixed_probe_passes, 1,
     COV_FIXED_PROBE | COV_SPLIT_SET | COV_PARTIAL_BLOCK | COV_STREAM_SPLIT, 0},
    /* planned for sets of <= 5 (batch 8, plans 1, 2, 4, 5, 8): a set of 6 runs as 4 + 2 */
    {"sets of 4..9 without plans of their size, m 24, K 1", 24, 1, 5, 12, 3, 5, WHOLE, standard_passes, 1,
     COV_SPLIT_SET | COV_DIGITS | COV_PARTIAL_BLOCK | COV_K1 | COV_STREAM_SPLIT, 0},
    /* created for sequential order (batch 1), then given sets of 4 */
    {"sets of 4 on a sequential backend, K 3", 32, 3, 4, 16, 0, SEQ, WHOLE, standard_passes, 1,
     COV_SPLIT_SET | COV_K3 | COV_STREAM_SPLIT, 0},
    /* sub-pixel offsets: each position its own moved probe, its probe steps moved back and summed in
       Fourier space across the chunks of a set (batch 4 over sets of up to 7: 4 + 3) */
    {"sub-pixel, sequential", 32, 2, 4, 16, 0, SEQ, SEQ, standard_passes, 1, COV_SUBPIXEL, 1},
    {"sub-pixel, sets of <= 7 over a batch of 4, m 24, K 3", 24, 3, 5, 12, 3, 3, 7, standard_passes, 1,
     COV_SUBPIXEL | COV_SPLIT_SET | COV_K3 | COV_STREAM_SPLIT, 1},
    {"sub-pixel, fixed probe, sets of 4..9, m 24, K 1", 24, 1, 5, 12, 3, WHOLE, WHOLE, fixed_probe_passes, 0,
     COV_SUBPIXEL | COV_FIXED_PROBE | COV_K1, 1},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- problem -------------------------------------------------------------- */

typedef struct problem {
    int m, K, nf, obj_h, obj_w, stride; /* stride: windows of a class are this many grid steps apart */
    int grid;
    size_t npix, nobj, nprobe;
    int *window;                 /* nf*2 top-left (row, col) */
    float *shift;                /* nf*2 sub-pixel offsets, or NULL */
    float *amp;                  /* nf*npix */
    pty_cf *obj0, *probe0, *probe_true;
} problem;

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        printf("FAILED  cannot allocate %zu bytes\n", bytes);
        exit(1);
    }
    return p;
}

/* A smooth random field on h x w: a sum of 6 low-frequency cosines, roughly in [-1, 1]. */
static void smooth_field(pty_rng *rng, double *f, int h, int w)
{
    double u[6], v[6], ph[6];
    for (int q = 0; q < 6; q++) {
        u[q] = 3.0 * (2.0 * pty_rng_uniform(rng) - 1.0);
        v[q] = 3.0 * (2.0 * pty_rng_uniform(rng) - 1.0);
        ph[q] = two_pi * pty_rng_uniform(rng);
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int q = 0; q < 6; q++) s += cos(two_pi * (u[q] * x / w + v[q] * y / h) + ph[q]);
            f[y * w + x] = s / 3.0;
        }
}

static pty_cf polar(double amp, double phase)
{
    return pty_cf_make((float)(amp * cos(phase)), (float)(amp * sin(phase)));
}

static double ipow(double x, int n)
{
    double r = 1.0;
    while (n-- > 0) r *= x;
    return r;
}

/* K probe modes: a Gaussian with a quadratic phase, then Hermite-Gauss-like
 * modes x, xy, x^2 y, ... of strength s1^k, so every mode differs. */
static void make_probe(pty_cf *p, int m, int K, double sigma, double s1, double curvature)
{
    const size_t npix = (size_t)m * m;
    for (int k = 0; k < K; k++)
        for (int y = 0; y < m; y++)
            for (int x = 0; x < m; x++) {
                double dx = x - m / 2 + 0.5, dy = y - m / 2 + 0.5, r2 = dx * dx + dy * dy;
                double g = exp(-r2 / (2.0 * sigma * sigma));
                double shape = ipow(s1, k) * ipow(dx / sigma, (k + 1) / 2) * ipow(dy / sigma, k / 2);
                p[k * npix + y * m + x] = polar(g * shape, 0.5 * k + curvature * r2);
            }
}

/* Forward model amp = sqrt(sum_k |F[P_k O_patch]|^2), forward FFT unscaled, FFT order. */
static void make_amplitudes(problem *pb, const pty_cf *truth)
{
    const int m = pb->m, np = (int)pb->npix;
    fftwf_complex *in = fftwf_alloc_complex(pb->npix), *out = fftwf_alloc_complex(pb->npix);
    fftwf_plan plan = fftwf_plan_dft_2d(m, m, in, out, FFTW_FORWARD, FFTW_ESTIMATE);
    for (int j = 0; j < pb->nf; j++) {
        float *a = pb->amp + (size_t)j * pb->npix;
        memset(a, 0, pb->npix * sizeof *a);
        const pty_cf *patch = truth + (size_t)pb->window[2 * j] * pb->obj_w + pb->window[2 * j + 1];
        for (int k = 0; k < pb->K; k++) {
            for (int r = 0; r < m; r++)
                for (int c = 0; c < m; c++) {
                    pty_cf z = pty_cmul(pb->probe_true[k * pb->npix + r * m + c], patch[(size_t)r * pb->obj_w + c]);
                    in[r * m + c][0] = z.re;
                    in[r * m + c][1] = z.im;
                }
            fftwf_execute(plan);
            for (int i = 0; i < np; i++) a[i] += out[i][0] * out[i][0] + out[i][1] * out[i][1];
        }
        for (int i = 0; i < np; i++) a[i] = sqrtf(a[i]);
    }
    fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
}

static int windows_inside(const problem *pb)
{
    for (int j = 0; j < pb->nf; j++) {
        const int r = pb->window[2 * j], c = pb->window[2 * j + 1];
        if (r < 0 || c < 0 || r + pb->m > pb->obj_h || c + pb->m > pb->obj_w) return 0;
    }
    return 1;
}

/* The problem of case tc; 0 (nothing made but the windows) when a window
 * leaves the object, which neither the frames made here nor the CPU
 * backend could survive. */
static int make_problem(problem *pb, const test_case *tc, pty_rng *rng)
{
    const int m = tc->m, span = tc->step * (tc->grid - 1) + m;
    pb->m = m;
    pb->K = tc->K;
    pb->grid = tc->grid;
    pb->nf = tc->grid * tc->grid;
    pb->stride = (m + tc->step - 1) / tc->step;
    /* not square when padded: a row/column mix-up in the object indexing shows */
    pb->obj_h = span + 2 * tc->pad;
    pb->obj_w = span + 4 * tc->pad;
    pb->npix = (size_t)m * m;
    pb->nobj = (size_t)pb->obj_h * pb->obj_w;
    pb->nprobe = pb->npix * tc->K;
    pb->window = xmalloc((size_t)2 * pb->nf * sizeof *pb->window);
    pb->amp = xmalloc((size_t)pb->nf * pb->npix * sizeof *pb->amp);
    pb->obj0 = xmalloc(pb->nobj * sizeof *pb->obj0);
    pb->probe0 = xmalloc(pb->nprobe * sizeof *pb->probe0);
    pb->probe_true = xmalloc(pb->nprobe * sizeof *pb->probe_true);
    for (int gy = 0; gy < tc->grid; gy++)
        for (int gx = 0; gx < tc->grid; gx++) {
            pb->window[2 * (gy * tc->grid + gx)] = tc->pad + gy * tc->step;
            pb->window[2 * (gy * tc->grid + gx) + 1] = 2 * tc->pad + gx * tc->step;
        }
    pb->shift = NULL;
    if (!windows_inside(pb)) return 0;
    if (tc->subpixel) {
        pb->shift = xmalloc((size_t)2 * pb->nf * sizeof *pb->shift);
        for (int i = 0; i < 2 * pb->nf; i++) pb->shift[i] = (float)(pty_rng_uniform(rng) - 0.5);
    }

    double *f[4];
    for (int q = 0; q < 4; q++) {
        f[q] = xmalloc(pb->nobj * sizeof *f[q]);
        smooth_field(rng, f[q], pb->obj_h, pb->obj_w);
    }
    pty_cf *truth = xmalloc(pb->nobj * sizeof *truth);
    for (size_t i = 0; i < pb->nobj; i++) {
        pb->obj0[i] = polar(0.9 + 0.1 * f[0][i], 0.3 * f[1][i]);
        truth[i] = polar((0.9 + 0.1 * f[0][i]) * (1.0 + 0.08 * f[2][i]), 0.3 * f[1][i] + 0.25 * f[3][i]);
    }
    const double scale = m / 32.0; /* the 32x32 probe's shape, at any m */
    make_probe(pb->probe_true, m, tc->K, 6.0 * scale, 0.4, 0.004 / (scale * scale));
    make_probe(pb->probe0, m, tc->K, 7.0 * scale, 0.2, 0.0);
    make_amplitudes(pb, truth);
    pb->amp[0] = PTY_MASKED; /* the zero-frequency pixel of frame 0, plus 3 random pixels per frame */
    for (int j = 0; j < pb->nf; j++)
        for (int q = 0; q < 3; q++)
            pb->amp[(size_t)j * pb->npix + (size_t)(pty_rng_uniform(rng) * pb->npix)] = PTY_MASKED;
    for (int q = 0; q < 4; q++) free(f[q]);
    free(truth);
    return 1;
}

static void free_problem(problem *pb)
{
    free(pb->window);
    free(pb->shift);
    free(pb->amp);
    free(pb->obj0);
    free(pb->probe0);
    free(pb->probe_true);
}

/* ---- schedules ------------------------------------------------------------ */

typedef struct schedule {
    int n;        /* positions */
    int *order;   /* n */
    int *set_end; /* n_sets */
    int n_sets;   /* 0: sequential order, every position a set of its own */
} schedule;

/* The order and sets of pass `pass` (0 also for create()).  Sequential: a
 * random permutation.  Sets: the classes (windows a stride apart) cut into
 * sets of at most `size`, visited in a rotated order each pass, members
 * reversed on odd passes, so that streamed frames sometimes lie in host
 * memory in the pass's order (one copy a chunk) and sometimes not (a copy a
 * frame). */
static void make_schedule(const problem *pb, int size, int pass, pty_rng *rng, schedule *sc)
{
    sc->n = pb->nf;
    sc->order = xmalloc((size_t)pb->nf * sizeof *sc->order);
    sc->set_end = xmalloc((size_t)pb->nf * sizeof *sc->set_end);
    sc->n_sets = 0;
    if (size == SEQ) {
        pty_rng_permutation(rng, sc->order, pb->nf);
        return;
    }
    const int s = pb->stride, n_classes = s * s, g = pb->grid;
    int n = 0;
    for (int q = 0; q < n_classes; q++) {
        const int cls = (q + pass) % n_classes, first = n;
        for (int gy = cls / s; gy < g; gy += s)
            for (int gx = cls % s; gx < g; gx += s) sc->order[n++] = gy * g + gx;
        if (pass & 1)
            for (int a = first, b = n - 1; a < b; a++, b--) {
                int t = sc->order[a];
                sc->order[a] = sc->order[b];
                sc->order[b] = t;
            }
        for (int at = first; at < n; at += size) sc->set_end[sc->n_sets++] = at + size < n ? at + size : n;
    }
}

static void free_schedule(schedule *sc)
{
    free(sc->order);
    free(sc->set_end);
}

static const int *set_end_of(const schedule *sc) { return sc->n_sets ? sc->set_end : NULL; }

static int windows_overlap(const problem *pb, int a, int b)
{
    const int *wa = pb->window + 2 * a, *wb = pb->window + 2 * b;
    return abs(wa[0] - wb[0]) < pb->m && abs(wa[1] - wb[1]) < pb->m;
}

/* What the backends are promised: the order is a permutation of the frames,
 * the sets cover it with none empty and no two windows of a set overlap.
 * The CPU backend checks none of it. */
static int schedule_ok(const problem *pb, const schedule *sc)
{
    char *seen = calloc((size_t)pb->nf, 1);
    int ok = seen && sc->n == pb->nf;
    for (int t = 0; ok && t < sc->n; t++) {
        const int j = sc->order[t];
        ok = j >= 0 && j < pb->nf && !seen[j];
        if (ok) seen[j] = 1;
    }
    free(seen);
    if (ok && sc->n_sets) ok = pty_sets_check_ends(sc->set_end, sc->n_sets, sc->n, "schedule") == PTY_OK;
    for (int s = 0, start = 0; ok && s < sc->n_sets; start = sc->set_end[s++])
        for (int a = start; ok && a < sc->set_end[s]; a++)
            for (int b = a + 1; ok && b < sc->set_end[s]; b++) ok = !windows_overlap(pb, sc->order[a], sc->order[b]);
    return ok;
}

/* ---- what the CUDA backend will do (host-side, runs anywhere) ------------- */

static size_t no_fft_work(void *user, int batch)
{
    (void)user;
    (void)batch;
    return 0;
}

/* The layout create() chooses for these sets on a GPU with memory to spare
 * (these problems take a few MiB). */
static pty_gpu_layout expected_layout(const problem *pb, const schedule *create, int frames)
{
    pty_gpu_sizes z = {pb->m, pb->K, pb->nf, pb->nobj, pty_sets_largest(set_end_of(create), create->n_sets),
                       pb->shift != NULL, pb->shift != NULL};
    pty_gpu_layout lay;
    memset(&lay, 0, sizeof lay);
    if (pty_gpu_choose_layout(&z, frames, (size_t)64 << 30, no_fft_work, NULL, &lay) != PTY_OK) lay.batch = 0;
    return lay;
}

/* The COV_* paths a case reaches, by replaying run_pass's chunking
 * (pty_gpu_next_chunk over the plans pty_gpu_chunk_sizes makes at create). */
static unsigned coverage_of(const test_case *tc, const problem *pb, const schedule *create, const schedule *passes,
                            const pty_gpu_layout *lay)
{
    unsigned got = 0;
    unsigned char *have = calloc((size_t)lay->batch + 1, 1);
    if (!have) return 0;
    pty_gpu_chunk_sizes(set_end_of(create), create->n_sets, lay->batch, have);
    for (int p = 0; p < N_PASSES; p++) {
        const schedule *sc = &passes[p];
        if (!(tc->passes[p].beta > 0.0f)) got |= COV_FIXED_PROBE;
        const int n_sets = sc->n_sets ? sc->n_sets : sc->n;
        for (int s = 0, start = 0; s < n_sets; s++) {
            const int end = sc->n_sets ? sc->set_end[s] : s + 1;
            int chunks = 0;
            for (int at = start; at < end; chunks++) {
                const int rest = end - at, cap = rest < lay->batch ? rest : lay->batch;
                const int nb = pty_gpu_next_chunk(rest, lay->batch, have);
                if (nb > lay->groups) got |= COV_GROUP_LOOP;
                if (nb & (nb - 1)) got |= COV_ODD_CHUNK;
                if (nb < cap) got |= COV_DIGITS;
                at += nb;
            }
            if (chunks > 1) got |= tc->streamed ? COV_SPLIT_SET | COV_STREAM_SPLIT : COV_SPLIT_SET;
            start = end;
        }
    }
    free(have);
    if (pb->npix % CUDA_BLOCK) got |= COV_PARTIAL_BLOCK;
    if (pb->K == 1) got |= COV_K1;
    if (pb->K == 3) got |= COV_K3;
    if (tc->subpixel) got |= COV_SUBPIXEL;
    return got;
}

static void print_coverage(const char *prefix, unsigned got)
{
    printf("%s", prefix);
    for (int b = 0; (1u << b) & COV_ALL; b++)
        if (got & (1u << b)) printf(" %s", cov_names[b]);
    printf("%s\n", got ? "" : " (baseline)");
}

/* ---- comparison ----------------------------------------------------------- */

typedef struct harness {
    const pty_backend_ops *dev; /* pty_backend_cuda; pty_backend_cpu in --self-check */
    int dev_threads;            /* n_threads of the device side (the CPU's workers) */
    int on_gpu;                 /* CUDA's own layout, streaming and refusals can be checked */
} harness;

/* Tolerances.  Both backends run the same float32 per-pixel code, but cuFFT
 * and FFTW sum in different orders (error ~1e-7 * log2 N relative to the
 * frame's norm), nvcc contracts a*b+c into FMAs where gcc does not, and the
 * error sum is reduced in a different order (in double).  These differences
 * feed back through the sequential updates (3 passes of up to 49 positions
 * here), so the element-wise agreement is ~1e-5 relative, not bitwise: rtol
 * 1e-3 leaves a wide margin while still catching any real bug (a wrong mode,
 * sign, mask, normalisation or max gives O(1e-2..1) errors).  atol = 1e-4 *
 * max|cpu| covers elements near zero (probe tails, where relative error is
 * meaningless).  The self-check's one- and two-worker CPU backends differ the
 * same way, by the order of a set's probe-step sums and by FFTW's split
 * row/column transforms of a shared position. */
static const double rtol = 1e-3, atol_frac = 1e-4, err_rtol = 1e-3;

/* Element-wise |dev - ref| <= atol + rtol |ref| with atol = atol_frac * max|ref|.
 * Prints the first 10 mismatches and the max abs / rel error; a non-finite
 * device value is a mismatch.  Returns 1 when everything matches. */
static int compare(const char *what, const pty_cf *ref, const pty_cf *dev, size_t n)
{
    double rmax = 0.0;
    for (size_t i = 0; i < n; i++) rmax = fmax(rmax, hypot(ref[i].re, ref[i].im));
    const double atol = atol_frac * rmax;
    double max_abs = 0.0, max_rel = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double r = hypot(ref[i].re, ref[i].im);
        double d = hypot((double)dev[i].re - ref[i].re, (double)dev[i].im - ref[i].im);
        int finite = isfinite(dev[i].re) && isfinite(dev[i].im);
        if (finite) {
            max_abs = fmax(max_abs, d);
            if (r > atol) max_rel = fmax(max_rel, d / r);
        }
        if (!finite || !(d <= atol + rtol * r)) {
            if (bad < 10)
                printf("  %s[%zu]: ref (%.7g, %.7g)  dev (%.7g, %.7g)\n", what, i, ref[i].re, ref[i].im, dev[i].re,
                       dev[i].im);
            bad++;
        }
    }
    printf("  %s: %zu/%zu mismatches, max abs err %.3g (atol %.3g), max rel err %.3g (rtol %.3g)\n", what, bad, n,
           max_abs, atol, max_rel, rtol);
    return bad == 0;
}

/* The comparison must fail where a bug would show: a 1% error in one
 * element, or a NaN, is a mismatch; a 1e-5 relative error is not. */
static void check_compare(void)
{
    enum { N = 64 };
    pty_cf ref[N], dev[N];
    for (int i = 0; i < N; i++) ref[i] = polar(1.0 + 0.01 * i, 0.1 * i);
    printf("\n==== the comparison itself ====\n");
    memcpy(dev, ref, sizeof dev);
    for (int i = 0; i < N; i++) dev[i].re *= 1.0f + 1e-5f;
    PTY_TEST("compare accepts a 1e-5 relative error", compare("close", ref, dev, N));
    dev[N / 2].im += 0.01f * (float)hypot(ref[N / 2].re, ref[N / 2].im);
    PTY_TEST("compare catches a 1% error in one element", !compare("one off", ref, dev, N));
    memcpy(dev, ref, sizeof dev);
    dev[3].re = NAN;
    PTY_TEST("compare catches a NaN", !compare("nan", ref, dev, N));
}

static void skip(const char *what) { printf("SKIPPED %s (CUDA only)\n", what); }

static pty_backend_setup setup_of(const problem *pb, const schedule *create, int threads, int frames)
{
    pty_backend_setup s;
    memset(&s, 0, sizeof s);
    s.m = pb->m;
    s.n_frames = pb->nf;
    s.n_modes = pb->K;
    s.obj_h = pb->obj_h;
    s.obj_w = pb->obj_w;
    s.amplitudes = pb->amp;
    s.window = pb->window;
    s.object = pb->obj0;
    s.probe = pb->probe0;
    s.n_threads = threads;
    s.fft_flags = PTY_FFT_ESTIMATE;
    if (create->n_sets) { /* else sequential order: no frame_order, no sets */
        s.frame_order = create->order;
        s.set_end = create->set_end;
        s.n_sets = create->n_sets;
    }
    s.gpu_frames = frames;
    s.shift = pb->shift;
    s.refine_positions = pb->shift != NULL;
    return s;
}

static void *create_backend(const pty_backend_ops *ops, const pty_backend_setup *s, const char *what)
{
    void *impl = NULL;
    char line[200];
    int rc = ops->create(s, &impl);
    if (rc != PTY_OK) printf("  %s create: %s: %s\n", ops->name, pty_strerror(rc), pty_error_message());
    snprintf(line, sizeof line, "%s: %s backend created", what, ops->name);
    PTY_TEST(line, rc == PTY_OK && impl);
    return rc == PTY_OK ? impl : NULL;
}

static int run_pass(const pty_backend_ops *ops, void *impl, const schedule *sc, const pty_pass_params *base,
                    double *err, float *position_steps)
{
    pty_pass_params pp = *base;
    pp.set_end = set_end_of(sc);
    pp.n_sets = sc->n_sets;
    pp.position_steps = position_steps;
    *err = -1.0;
    int rc = ops->pass(impl, sc->order, sc->n, &pp, err);
    if (rc != PTY_OK) printf("  %s pass: %s: %s\n", ops->name, pty_strerror(rc), pty_error_message());
    return rc == PTY_OK;
}

static int get_state(const pty_backend_ops *ops, void *impl, const problem *pb, pty_cf *obj, pty_cf *probe)
{
    return ops->get_object(impl, 0, 0, pb->obj_h, pb->obj_w, obj) == PTY_OK &&
           ops->get_probe(impl, probe) == PTY_OK;
}

/* A rectangle of the object in and out (a sync share's strips): read, it
 * is that part of the whole object; written, that part alone changes. */
static void check_object_rect(const harness *h, void *dev, const problem *pb)
{
    const int r0 = 3, c0 = 5, rh = pb->obj_h / 2, rw = pb->obj_w / 3;
    pty_cf *whole = xmalloc(pb->nobj * sizeof *whole), *after = xmalloc(pb->nobj * sizeof *after);
    pty_cf *rect = xmalloc((size_t)rh * rw * sizeof *rect);
    int ok = h->dev->get_object(dev, 0, 0, pb->obj_h, pb->obj_w, whole) == PTY_OK &&
             h->dev->get_object(dev, r0, c0, rh, rw, rect) == PTY_OK;
    for (int r = 0; ok && r < rh; r++) ok = memcmp(rect + (size_t)r * rw, whole + (size_t)(r0 + r) * pb->obj_w + c0,
                                                   (size_t)rw * sizeof *rect) == 0;
    PTY_TEST("get_object of a rectangle: that part of the whole object", ok);
    for (size_t i = 0; i < (size_t)rh * rw; i++) rect[i] = pty_cf_make((float)i, -1.0f);
    ok = h->dev->set_object(dev, r0, c0, rh, rw, rect) == PTY_OK &&
         h->dev->get_object(dev, 0, 0, pb->obj_h, pb->obj_w, after) == PTY_OK;
    for (int r = 0; ok && r < pb->obj_h; r++)
        for (int c = 0; ok && c < pb->obj_w; c++) {
            const size_t p = (size_t)r * pb->obj_w + c;
            const int in = r >= r0 && r < r0 + rh && c >= c0 && c < c0 + rw;
            const pty_cf want = in ? rect[(size_t)(r - r0) * rw + (c - c0)] : whole[p];
            ok = memcmp(&after[p], &want, sizeof want) == 0;
        }
    PTY_TEST("set_object of a rectangle: that part changes, the rest does not", ok);
    ok = h->dev->set_object(dev, 0, 0, pb->obj_h, pb->obj_w, whole) == PTY_OK;
    PTY_TEST("set_object of the whole object restores it", ok);
    free(whole);
    free(after);
    free(rect);
}

/* The backends of one case and their state after a pass. */
typedef struct run {
    const harness *h;
    const problem *pb;
    void *ref, *dev, *twin;    /* twin: the device again, frames streamed (NULL: none) */
    pty_cf *obj_r, *obj_d, *obj_t, *pr_r, *pr_d, *pr_t, *pr_before;
    float *steps_r, *steps_d, *steps_t; /* position steps (sub-pixel cases; NULL otherwise) */
} run;

static void alloc_state(run *r)
{
    r->obj_r = xmalloc(r->pb->nobj * sizeof(pty_cf));
    r->obj_d = xmalloc(r->pb->nobj * sizeof(pty_cf));
    r->obj_t = xmalloc(r->pb->nobj * sizeof(pty_cf));
    r->pr_r = xmalloc(r->pb->nprobe * sizeof(pty_cf));
    r->pr_d = xmalloc(r->pb->nprobe * sizeof(pty_cf));
    r->pr_t = xmalloc(r->pb->nprobe * sizeof(pty_cf));
    r->pr_before = xmalloc(r->pb->nprobe * sizeof(pty_cf));
    if (r->pb->shift) {
        r->steps_r = xmalloc((size_t)2 * r->pb->nf * sizeof(float));
        r->steps_d = xmalloc((size_t)2 * r->pb->nf * sizeof(float));
        r->steps_t = xmalloc((size_t)2 * r->pb->nf * sizeof(float));
    }
}

static void free_state(run *r)
{
    free(r->obj_r);
    free(r->obj_d);
    free(r->obj_t);
    free(r->pr_r);
    free(r->pr_d);
    free(r->pr_t);
    free(r->pr_before);
    free(r->steps_r);
    free(r->steps_d);
    free(r->steps_t);
}

/* One pass through every backend of the run, then error, object and probe
 * of the device against the reference, and the twin against the device
 * bit for bit: streaming changes where the frames come from, not the math,
 * and the only atomics that feed back are order-independent maxima. */
static void compare_pass(run *r, const char *label, int p, const schedule *sc, const pty_pass_params *pp)
{
    const harness *h = r->h;
    const problem *pb = r->pb;
    char what[240];
    double e_r, e_d, e_t;
    printf("%s pass %d: alpha %.1f beta %.1f rpie %.1f obj_norm %s, %d sets\n", label, p + 1, pp->alpha, pp->beta,
           pp->rpie, pp->obj_norm == PTY_OBJNORM_GLOBAL ? "global" : "patch", sc->n_sets ? sc->n_sets : sc->n);
    memcpy(r->pr_before, r->pr_r, pb->nprobe * sizeof(pty_cf));
    snprintf(what, sizeof what, "%s pass %d runs (reference, device%s)", label, p + 1, r->twin ? ", twin" : "");
    int ok = run_pass(&pty_backend_cpu, r->ref, sc, pp, &e_r, r->steps_r) &&
             run_pass(h->dev, r->dev, sc, pp, &e_d, r->steps_d);
    if (r->twin) ok = ok && run_pass(h->dev, r->twin, sc, pp, &e_t, r->steps_t);
    PTY_TEST(what, ok);
    if (!ok) return;
    if (r->steps_r) {
        /* a ratio of sums over the window, of an object that differs from the reference's by
           rounding (other FFTs, other orders): two CPU backends on different thread counts differ
           by up to 0.2 % of a step (steps of up to 10 px on these unconverged problems) */
        double worst = 0.0, largest = 0.0;
        for (int i = 0; i < 2 * pb->nf; i++) {
            const double ref = r->steps_r[i];
            worst = fmax(worst, fabs(r->steps_d[i] - ref) / (1e-3 + 1e-2 * fabs(ref)));
            largest = fmax(largest, fabs(ref));
        }
        printf("  position steps: largest %.3g px; device off by %.2g of (1e-3 px + 1 %%) at most\n", largest, worst);
        snprintf(what, sizeof what, "%s pass %d: position steps match the reference within 1e-3 px + 1 %%", label,
                 p + 1);
        PTY_TEST(what, largest > 0.0 && worst <= 1.0);
    }

    double rel = fabs(e_d - e_r) / fmax(e_r, 1e-30);
    printf("  err_num: ref %.9g  dev %.9g  rel diff %.3g\n", e_r, e_d, rel);
    snprintf(what, sizeof what, "%s pass %d: err_num matches within %.0e relative", label, p + 1, err_rtol);
    PTY_TEST(what, isfinite(e_d) && e_r > 0.0 && rel <= err_rtol);
    snprintf(what, sizeof what, "%s pass %d: get object and probe", label, p + 1);
    PTY_TEST(what, get_state(&pty_backend_cpu, r->ref, r->pb, r->obj_r, r->pr_r) &&
                       get_state(h->dev, r->dev, r->pb, r->obj_d, r->pr_d));
    snprintf(what, sizeof what, "%s pass %d: object matches the reference", label, p + 1);
    PTY_TEST(what, compare("object", r->obj_r, r->obj_d, pb->nobj));
    snprintf(what, sizeof what, "%s pass %d: probe matches the reference", label, p + 1);
    PTY_TEST(what, compare("probe", r->pr_r, r->pr_d, pb->nprobe));
    if (!(pp->beta > 0.0f)) {
        snprintf(what, sizeof what, "%s pass %d: beta 0 leaves the probe exactly as it was", label, p + 1);
        PTY_TEST(what, memcmp(r->pr_r, r->pr_before, pb->nprobe * sizeof(pty_cf)) == 0 &&
                           memcmp(r->pr_d, r->pr_before, pb->nprobe * sizeof(pty_cf)) == 0);
    }
    if (!r->twin) return;
    /* in --self-check the twin is a second CPU backend: the same result, from
       a deterministic backend, not from streamed frames */
    const char *twin = h->on_gpu ? "streamed frames give the resident" : "a second instance gives the same";
    PTY_TEST("twin: get object and probe", get_state(h->dev, r->twin, r->pb, r->obj_t, r->pr_t));
    snprintf(what, sizeof what, "%s pass %d: %s object exactly", label, p + 1, twin);
    PTY_TEST(what, memcmp(r->obj_t, r->obj_d, pb->nobj * sizeof(pty_cf)) == 0);
    snprintf(what, sizeof what, "%s pass %d: %s probe exactly", label, p + 1, twin);
    PTY_TEST(what, memcmp(r->pr_t, r->pr_d, pb->nprobe * sizeof(pty_cf)) == 0);
    /* the error is summed by atomicAdd in double, in no fixed order: close, not equal */
    snprintf(what, sizeof what, "%s pass %d: twin err_num matches within %.0e relative", label, p + 1, err_rtol);
    PTY_TEST(what, fabs(e_t - e_d) <= err_rtol * fmax(e_d, 1e-30));
}

/* The device right after create() holds exactly what it was given, and (on
 * a GPU) the batch and frame placement the schedule predicts. */
static void check_created(run *r, const char *label, const pty_gpu_layout *lay, const pty_gpu_layout *lay_st)
{
    const harness *h = r->h;
    const problem *pb = r->pb;
    char what[240];
    void *devs[2] = {r->dev, r->twin};
    for (int i = 0; i < 2 && devs[i]; i++) {
        snprintf(what, sizeof what, "%s: %s get_object/get_probe after create return the initial ones", label,
                 i ? "twin" : "device");
        PTY_TEST(what, get_state(h->dev, devs[i], pb, r->obj_d, r->pr_d) &&
                           memcmp(r->obj_d, pb->obj0, pb->nobj * sizeof(pty_cf)) == 0 &&
                           memcmp(r->pr_d, pb->probe0, pb->nprobe * sizeof(pty_cf)) == 0);
    }
    if (!h->on_gpu) {
        skip("batch and frame placement reported by stats()");
        return;
    }
    pty_backend_stats st;
    h->dev->stats(r->dev, &st);
    printf("  device: batch %d, frames %s\n", st.batch, st.frames_streamed ? "streamed" : "resident");
    snprintf(what, sizeof what, "%s: batch %d, frames resident", label, lay->batch);
    PTY_TEST(what, st.batch == lay->batch && !st.frames_streamed);
    if (!r->twin) return;
    h->dev->stats(r->twin, &st);
    snprintf(what, sizeof what, "%s: twin batch %d, frames streamed", label, lay_st->batch);
    PTY_TEST(what, st.batch == lay_st->batch && st.frames_streamed);
}

/* Position correction's set_positions: every window a row down where all
 * still fit the object (the sets stay apart), new offsets everywhere, given
 * to every backend of the run. */
static void move_positions(run *r, problem *pb, pty_rng *rng, const char *label)
{
    const harness *h = r->h;
    int fits = 1;
    for (int j = 0; j < pb->nf; j++) fits &= pb->window[2 * j] + 1 + pb->m <= pb->obj_h;
    for (int j = 0; j < pb->nf && fits; j++) pb->window[2 * j]++;
    for (int i = 0; i < 2 * pb->nf; i++) pb->shift[i] = (float)(pty_rng_uniform(rng) - 0.5);
    char what[240];
    snprintf(what, sizeof what, "%s: set_positions (windows %s, new offsets) on every backend", label,
             fits ? "a row down" : "kept");
    int ok = pty_backend_cpu.set_positions(r->ref, pb->window, pb->shift) == PTY_OK &&
             h->dev->set_positions(r->dev, pb->window, pb->shift) == PTY_OK;
    if (r->twin) ok = ok && h->dev->set_positions(r->twin, pb->window, pb->shift) == PTY_OK;
    PTY_TEST(what, ok);
}

/* One case: its problem and schedules, which paths they reach, and every
 * pass compared.  Returns the COV_* paths reached. */
static unsigned run_case(const harness *h, const test_case *tc, int index)
{
    char label[120], what[240];
    pty_rng rng;
    pty_rng_seed(&rng, 20240917u + 7919u * (unsigned)index);
    problem pb;
    snprintf(label, sizeof label, "[%d %s]", index + 1, tc->name);
    const int inside = make_problem(&pb, tc, &rng);
    snprintf(what, sizeof what, "%s: every window lies inside the %dx%d object", label, pb.obj_h, pb.obj_w);
    PTY_TEST(what, inside);
    if (!inside) {
        free_problem(&pb);
        return 0;
    }
    schedule create, passes[N_PASSES];
    make_schedule(&pb, tc->create_sets, 0, &rng, &create);
    for (int p = 0; p < N_PASSES; p++) make_schedule(&pb, tc->pass_sets, p, &rng, &passes[p]);
    printf("\n==== case %d: %s: m %d, K %d, %dx%d grid at step %d on %dx%d, %d frames ====\n", index + 1, tc->name,
           pb.m, pb.K, tc->grid, tc->grid, tc->step, pb.obj_h, pb.obj_w, pb.nf);

    int ok = schedule_ok(&pb, &create);
    for (int p = 0; p < N_PASSES; p++) ok = ok && schedule_ok(&pb, &passes[p]);
    snprintf(what, sizeof what, "%s: orders are permutations, sets cover them, no two windows of a set overlap",
             label);
    PTY_TEST(what, ok);
    const pty_gpu_layout lay = expected_layout(&pb, &create, PTY_FRAMES_RESIDENT);
    const pty_gpu_layout lay_st = expected_layout(&pb, &create, PTY_FRAMES_STREAMED);
    const unsigned got = coverage_of(tc, &pb, &create, passes, &lay);
    printf("  CUDA schedule: batch %d, %d accumulator groups", lay.batch, lay.groups);
    print_coverage("; reaches", got);
    snprintf(what, sizeof what, "%s: reaches the paths it is here for", label);
    PTY_TEST(what, lay.batch > 0 && (got & tc->expect) == tc->expect);

    run r = {.h = h, .pb = &pb};
    alloc_state(&r);
    memcpy(r.pr_r, pb.probe0, pb.nprobe * sizeof(pty_cf)); /* the probe before pass 1 */
    pty_backend_setup s = setup_of(&pb, &create, REF_THREADS, PTY_FRAMES_RESIDENT);
    r.ref = create_backend(&pty_backend_cpu, &s, label);
    s.n_threads = h->dev_threads;
    r.dev = create_backend(h->dev, &s, label);
    s.gpu_frames = PTY_FRAMES_STREAMED;
    if (tc->streamed) r.twin = create_backend(h->dev, &s, label);
    if (r.ref && r.dev && (r.twin || !tc->streamed)) {
        check_created(&r, label, &lay, &lay_st);
        for (int p = 0; p < N_PASSES; p++) {
            if (p == N_PASSES - 1 && pb.shift) move_positions(&r, &pb, &rng, label);
            compare_pass(&r, label, p, &passes[p], &tc->passes[p]);
        }
        snprintf(what, sizeof what, "%s: the passes changed the object", label);
        PTY_TEST(what, memcmp(r.obj_r, pb.obj0, pb.nobj * sizeof(pty_cf)) != 0);
        snprintf(what, sizeof what, "%s: the passes with beta > 0 changed the probe", label);
        PTY_TEST(what, memcmp(r.pr_r, pb.probe0, pb.nprobe * sizeof(pty_cf)) != 0);
    }
    pty_backend_cpu.destroy(r.ref);
    h->dev->destroy(r.dev);
    h->dev->destroy(r.twin);
    free_state(&r);
    free_schedule(&create);
    for (int p = 0; p < N_PASSES; p++) free_schedule(&passes[p]);
    free_problem(&pb);
    return got;
}

/* ---- the rest of the interface -------------------------------------------- */

/* A refusal with PTY_ERR_ARG whose message names the backend. */
static int refused(int rc, const char *who)
{
    if (rc != PTY_ERR_ARG) return 0;
    printf("  refused: %s\n", pty_error_message());
    return strstr(pty_error_message(), who) != NULL;
}

/* Bad passes are refused before any work is queued. */
static void check_pass_refusals(const harness *h, void *dev, const problem *pb, const schedule *sc, const char *who)
{
    int bad_sets[2] = {pb->nf / 2, pb->nf / 2};
    pty_pass_params pbad = standard_passes[0];
    pbad.set_end = bad_sets;
    pbad.n_sets = 2;
    double e = 0.0;
    PTY_TEST("pass refuses an empty set", refused(h->dev->pass(dev, sc->order, pb->nf, &pbad, &e), who));
    if (!h->on_gpu) {
        skip("pass refuses a frame index out of range"); /* the CPU trusts its caller */
        return;
    }
    int bad_order[1] = {pb->nf};
    PTY_TEST("pass refuses a frame index out of range",
             refused(h->dev->pass(dev, bad_order, 1, &standard_passes[0], &e), who));
}

/* Bad setups are refused before anything is allocated on the device. */
static void check_create_refusals(const harness *h, const pty_backend_setup *s, const problem *pb)
{
    if (!h->on_gpu) { /* the CPU trusts its caller */
        skip("create refuses a window outside the object");
        skip("create refuses a frame order that is not a permutation");
        return;
    }
    int *bad_window = xmalloc((size_t)2 * pb->nf * sizeof *bad_window);
    memcpy(bad_window, pb->window, (size_t)2 * pb->nf * sizeof *bad_window);
    bad_window[2 * (pb->nf - 1) + 1] = pb->obj_w - pb->m + 1;
    pty_backend_setup s_bad = *s;
    s_bad.window = bad_window;
    void *bad = NULL;
    PTY_TEST("create refuses a window outside the object",
             refused(h->dev->create(&s_bad, &bad), "CUDA backend") && !bad);
    int *dup = xmalloc((size_t)pb->nf * sizeof *dup);
    memcpy(dup, s->frame_order, (size_t)pb->nf * sizeof *dup);
    dup[1] = dup[0];
    s_bad = *s;
    s_bad.frame_order = dup;
    PTY_TEST("create refuses a frame order that is not a permutation",
             refused(h->dev->create(&s_bad, &bad), "CUDA backend") && !bad);
    free(bad_window);
    free(dup);
}

/* set_probe round trip and bad input refused with PTY_ERR_ARG (not a device
 * fault), on a backend created for the sets of case `tc`. */
static void interface_checks(const harness *h, const test_case *tc)
{
    printf("\n==== interface: %s backend ====\n", h->dev->name);
    pty_rng rng;
    pty_rng_seed(&rng, 20240917u);
    problem pb;
    if (!make_problem(&pb, tc, &rng)) {
        PTY_TEST("interface: the problem's windows lie inside the object", 0);
        free_problem(&pb);
        return;
    }
    schedule sc;
    make_schedule(&pb, WHOLE, 0, &rng, &sc);
    pty_backend_setup s = setup_of(&pb, &sc, h->dev_threads, PTY_FRAMES_RESIDENT);
    const char *who = h->on_gpu ? "CUDA backend" : "CPU backend";
    PTY_TEST("the device backend has the expected name", strcmp(h->dev->name, h->on_gpu ? "cuda" : "cpu") == 0);
    void *dev = create_backend(h->dev, &s, "interface");
    if (dev) {
        pty_cf *pr = xmalloc(pb.nprobe * sizeof *pr), *obj = xmalloc(pb.nobj * sizeof *obj);
        PTY_TEST("set_probe", h->dev->set_probe(dev, pb.probe_true) == PTY_OK);
        PTY_TEST("get_probe returns what set_probe stored",
                 h->dev->get_probe(dev, pr) == PTY_OK && memcmp(pr, pb.probe_true, pb.nprobe * sizeof *pr) == 0);
        check_pass_refusals(h, dev, &pb, &sc, who);
        check_create_refusals(h, &s, &pb);
        PTY_TEST("the backend still works after refused input",
                 h->dev->get_object(dev, 0, 0, pb.obj_h, pb.obj_w, obj) == PTY_OK);
        check_object_rect(h, dev, &pb);
        free(pr);
        free(obj);
    }
    h->dev->destroy(dev);
    h->dev->destroy(NULL);
    free_schedule(&sc);
    free_problem(&pb);
}

static int cuda_devices(void)
{
#ifdef PTY_HAVE_CUDA
    return pty_cuda_device_count();
#else
    return 0;
#endif
}

int main(int argc, char **argv)
{
    const int self_check = argc == 2 && strcmp(argv[1], "--self-check") == 0;
    if (argc > 1 && !self_check) {
        fprintf(stderr, "usage: %s [--self-check]\n", argv[0]);
        return 2;
    }
    /* --self-check: a one-worker CPU backend stands in for the device */
    harness h = {&pty_backend_cpu, 1, 0};
    if (!self_check) {
        if (cuda_devices() == 0) {
            /* scripts/gpu_check.sh sets PTY_EXPECT_GPU: there, no device is a failure, not a skip */
            const char *expect = getenv("PTY_EXPECT_GPU");
#ifdef PTY_HAVE_CUDA
            const char *why = "no usable CUDA device";
#else
            const char *why = "built without CUDA";
#endif
            printf("%s: %s\n", expect && *expect ? "FAILED" : "SKIP", why);
            return expect && *expect ? 1 : PTY_TEST_SKIP;
        }
#ifdef PTY_HAVE_CUDA
        h.dev = &pty_backend_cuda;
        h.on_gpu = 1;
#endif
    }
    printf("device: %s backend%s; reference: cpu backend, %d workers\n", h.dev->name,
           h.on_gpu ? "" : " on 1 worker (--self-check)", REF_THREADS);

    check_compare();
    unsigned covered = 0;
    for (int i = 0; i < N_CASES; i++) covered |= run_case(&h, &cases[i], i);
    print_coverage("\npaths reached by the cases:", covered);
    PTY_TEST("every listed CUDA path is reached by some case", covered == COV_ALL);
    interface_checks(&h, &cases[1]);
    return pty_test_report();
}
