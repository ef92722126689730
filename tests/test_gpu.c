/* test_gpu.c - the CUDA backend against the CPU reference backend.
 *
 * Builds one small fixed-seed problem (32x32 frames, 2 probe modes, a 4x4 grid
 * of overlapping windows on an 80x80 object, synthetic amplitudes from a
 * perturbed object with FFTW, a few masked pixels), runs the same passes
 * through pty_backend_cpu and pty_backend_cuda and compares object, probe and
 * error element-wise (llm.c validate_result style): in sequential order, in
 * batched order (sets of non-overlapping windows), and batched with the
 * frames streamed from host memory, which must match the resident frames
 * exactly.  Exits 77 (skip) when built without CUDA or when no device is
 * present. */
#include <stdio.h>

#include "backend.h"
#include "pty_test.h"

#ifndef PTY_HAVE_CUDA

int main(void)
{
    printf("SKIP: built without CUDA\n");
    return PTY_TEST_SKIP;
}

#else

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"
#include "rng.h"

#define M 32
#define K 2
#define GRID 4
#define STEP 16
#define OBJ (STEP * (GRID - 1) + M) /* 80 */
#define NF (GRID * GRID)
#define NPIX (M * M)

static const double two_pi = 6.283185307179586;

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

static pty_cf polar(double amp, double phase) { return pty_cf_make((float)(amp * cos(phase)), (float)(amp * sin(phase))); }

/* Two probe modes: a Gaussian with a quadratic phase and a weaker first
 * Hermite-Gauss mode along x (width sigma, strength s1). */
static void make_probe(pty_cf *p, double sigma, double s1, double curvature)
{
    for (int y = 0; y < M; y++)
        for (int x = 0; x < M; x++) {
            double dx = x - M / 2 + 0.5, dy = y - M / 2 + 0.5, r2 = dx * dx + dy * dy;
            double g = exp(-r2 / (2.0 * sigma * sigma));
            p[y * M + x] = polar(g, curvature * r2);
            p[NPIX + y * M + x] = polar(s1 * g * dx / sigma, 0.5 + curvature * r2);
        }
}

/* Forward model amp = sqrt(sum_k |F[P_k O_patch]|^2), forward FFT unscaled, FFT order. */
static void make_amplitudes(float *amp, const pty_cf *obj, const pty_cf *probe, const int *window)
{
    fftwf_complex *in = fftwf_alloc_complex(NPIX), *out = fftwf_alloc_complex(NPIX);
    fftwf_plan plan = fftwf_plan_dft_2d(M, M, in, out, FFTW_FORWARD, FFTW_ESTIMATE);
    for (int j = 0; j < NF; j++) {
        float *a = amp + (size_t)j * NPIX;
        memset(a, 0, NPIX * sizeof *a);
        for (int k = 0; k < K; k++) {
            for (int r = 0; r < M; r++)
                for (int c = 0; c < M; c++) {
                    pty_cf z = pty_cmul(probe[k * NPIX + r * M + c], obj[(window[2 * j] + r) * OBJ + window[2 * j + 1] + c]);
                    in[r * M + c][0] = z.re;
                    in[r * M + c][1] = z.im;
                }
            fftwf_execute(plan);
            for (int i = 0; i < NPIX; i++) a[i] += out[i][0] * out[i][0] + out[i][1] * out[i][1];
        }
        for (int i = 0; i < NPIX; i++) a[i] = sqrtf(a[i]);
    }
    fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
}

/* Element-wise |gpu - cpu| <= atol + rtol |cpu| with atol = atol_frac * max|cpu|.
 * Prints the first 10 mismatches and the max abs / rel error; a non-finite GPU
 * value is a mismatch.  Returns 1 when everything matches. */
static int compare(const char *what, const pty_cf *cpu, const pty_cf *gpu, size_t n, double rtol, double atol_frac)
{
    double cmax = 0.0;
    for (size_t i = 0; i < n; i++) cmax = fmax(cmax, hypot(cpu[i].re, cpu[i].im));
    const double atol = atol_frac * cmax;
    double max_abs = 0.0, max_rel = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double ref = hypot(cpu[i].re, cpu[i].im);
        double d = hypot((double)gpu[i].re - cpu[i].re, (double)gpu[i].im - cpu[i].im);
        int finite = isfinite(gpu[i].re) && isfinite(gpu[i].im);
        if (finite) {
            max_abs = fmax(max_abs, d);
            if (ref > atol) max_rel = fmax(max_rel, d / ref);
        }
        if (!finite || !(d <= atol + rtol * ref)) {
            if (bad < 10)
                printf("  %s[%zu]: cpu (%.7g, %.7g)  gpu (%.7g, %.7g)\n", what, i, cpu[i].re, cpu[i].im, gpu[i].re,
                       gpu[i].im);
            bad++;
        }
    }
    printf("  %s: %zu/%zu mismatches, max abs err %.3g (atol %.3g), max rel err %.3g (rtol %.3g)\n", what, bad, n,
           max_abs, atol, max_rel, rtol);
    return bad == 0;
}

/* Run the same passes through the CPU and CUDA backends and compare error,
 * object and probe after each. */
static void compare_passes(const char *label, void *cpu, void *gpu, const int *order, const int *set_end, int n_sets,
                           const pty_pass_params *passes, pty_cf *obj_c, pty_cf *obj_g, pty_cf *pr_c, pty_cf *pr_g,
                           double rtol, double atol_frac, double err_rtol)
{
    for (int it = 0; it < 3; it++) {
        double e_c = -1.0, e_g = -1.0;
        char what[160];
        pty_pass_params pp = passes[it];
        pp.set_end = set_end;
        pp.n_sets = n_sets;
        printf("%s pass %d: alpha %.1f beta %.1f rpie %.1f obj_norm %s\n", label, it + 1, pp.alpha, pp.beta, pp.rpie,
               pp.obj_norm == PTY_OBJNORM_GLOBAL ? "global" : "patch");
        int rc = pty_backend_cpu.pass(cpu, order, NF, &pp, &e_c);
        PTY_TEST("cpu pass runs", rc == PTY_OK);
        rc = pty_backend_cuda.pass(gpu, order, NF, &pp, &e_g);
        if (rc != PTY_OK) printf("  cuda pass: %s: %s\n", pty_strerror(rc), pty_error_message());
        PTY_TEST("cuda pass runs", rc == PTY_OK);
        double rel = fabs(e_g - e_c) / fmax(e_c, 1e-30);
        printf("  err_num: cpu %.9g  gpu %.9g  rel diff %.3g\n", e_c, e_g, rel);
        snprintf(what, sizeof what, "%s pass %d: err_num matches within %.0e relative", label, it + 1, err_rtol);
        PTY_TEST(what, isfinite(e_g) && e_c > 0.0 && rel <= err_rtol);
        PTY_TEST("get_object (cpu, cuda)",
                 pty_backend_cpu.get_object(cpu, obj_c) == PTY_OK && pty_backend_cuda.get_object(gpu, obj_g) == PTY_OK);
        PTY_TEST("get_probe (cpu, cuda)",
                 pty_backend_cpu.get_probe(cpu, pr_c) == PTY_OK && pty_backend_cuda.get_probe(gpu, pr_g) == PTY_OK);
        snprintf(what, sizeof what, "%s pass %d: object matches the CPU", label, it + 1);
        PTY_TEST(what, compare("object", obj_c, obj_g, OBJ * OBJ, rtol, atol_frac));
        snprintf(what, sizeof what, "%s pass %d: probe matches the CPU", label, it + 1);
        PTY_TEST(what, compare("probe", pr_c, pr_g, K * NPIX, rtol, atol_frac));
    }
}

int main(void)
{
    if (pty_cuda_device_count() == 0) {
        /* scripts/gpu_check.sh sets PTY_EXPECT_GPU: there, no device is a failure, not a skip */
        const char *expect = getenv("PTY_EXPECT_GPU");
        printf("%s: no usable CUDA device\n", expect && *expect ? "FAILED" : "SKIP");
        return expect && *expect ? 1 : PTY_TEST_SKIP;
    }

    /* ---- problem -------------------------------------------------------- */
    pty_rng rng;
    pty_rng_seed(&rng, 20240917);
    double *f1 = malloc(OBJ * OBJ * sizeof *f1), *f2 = malloc(OBJ * OBJ * sizeof *f2);
    double *f3 = malloc(OBJ * OBJ * sizeof *f3), *f4 = malloc(OBJ * OBJ * sizeof *f4);
    pty_cf *obj0 = malloc(OBJ * OBJ * sizeof *obj0), *truth = malloc(OBJ * OBJ * sizeof *truth);
    pty_cf *probe0 = malloc(K * NPIX * sizeof *probe0), *probe_true = malloc(K * NPIX * sizeof *probe_true);
    float *amp = malloc((size_t)NF * NPIX * sizeof *amp);
    int window[2 * NF], order[NF];
    smooth_field(&rng, f1, OBJ, OBJ);
    smooth_field(&rng, f2, OBJ, OBJ);
    smooth_field(&rng, f3, OBJ, OBJ);
    smooth_field(&rng, f4, OBJ, OBJ);
    for (int i = 0; i < OBJ * OBJ; i++) {
        obj0[i] = polar(0.9 + 0.1 * f1[i], 0.3 * f2[i]);
        truth[i] = polar((0.9 + 0.1 * f1[i]) * (1.0 + 0.08 * f3[i]), 0.3 * f2[i] + 0.25 * f4[i]);
    }
    make_probe(probe_true, 6.0, 0.4, 0.004);
    make_probe(probe0, 7.0, 0.2, 0.0);
    for (int gy = 0; gy < GRID; gy++)
        for (int gx = 0; gx < GRID; gx++) {
            window[2 * (gy * GRID + gx)] = gy * STEP;
            window[2 * (gy * GRID + gx) + 1] = gx * STEP;
        }
    make_amplitudes(amp, truth, probe_true, window);
    amp[0] = PTY_MASKED; /* the zero-frequency pixel of frame 0, plus 3 random pixels per frame */
    for (int j = 0; j < NF; j++)
        for (int q = 0; q < 3; q++) amp[(size_t)j * NPIX + (size_t)(pty_rng_uniform(&rng) * NPIX)] = PTY_MASKED;
    pty_rng_permutation(&rng, order, NF);

    pty_backend_setup s;
    memset(&s, 0, sizeof s);
    s.m = M;
    s.n_frames = NF;
    s.n_modes = K;
    s.obj_h = OBJ;
    s.obj_w = OBJ;
    s.amplitudes = amp;
    s.window = window;
    s.object = obj0;
    s.probe = probe0;
    s.n_threads = 1;
    s.fft_flags = PTY_FFT_ESTIMATE;

    /* ---- backends ------------------------------------------------------- */
    void *cpu = NULL, *gpu = NULL;
    int rc = pty_backend_cpu.create(&s, &cpu);
    PTY_TEST("cpu backend created", rc == PTY_OK);
    rc = pty_backend_cuda.create(&s, &gpu);
    if (rc != PTY_OK) printf("  cuda create: %s: %s\n", pty_strerror(rc), pty_error_message());
    PTY_TEST("cuda backend created", rc == PTY_OK);
    if (!cpu || !gpu) {
        pty_backend_cpu.destroy(cpu);
        pty_backend_cuda.destroy(gpu);
        return pty_test_report();
    }
    PTY_TEST("cuda backend is named cuda", strcmp(pty_backend_cuda.name, "cuda") == 0);

    pty_cf *obj_c = malloc(OBJ * OBJ * sizeof *obj_c), *obj_g = malloc(OBJ * OBJ * sizeof *obj_g);
    pty_cf *pr_c = malloc(K * NPIX * sizeof *pr_c), *pr_g = malloc(K * NPIX * sizeof *pr_g);
    PTY_TEST("cuda get_object after create returns the initial object",
             pty_backend_cuda.get_object(gpu, obj_g) == PTY_OK && memcmp(obj_g, obj0, OBJ * OBJ * sizeof *obj0) == 0);
    PTY_TEST("cuda get_probe after create returns the initial probe",
             pty_backend_cuda.get_probe(gpu, pr_g) == PTY_OK && memcmp(pr_g, probe0, K * NPIX * sizeof *pr_g) == 0);

    /* Tolerances.  Both backends run the same float32 per-pixel code, but cuFFT
     * and FFTW sum in different orders (error ~1e-7 * log2 N relative to the
     * frame's norm), nvcc contracts a*b+c into FMAs where gcc does not, and the
     * error sum is reduced in a different order (in double).  These differences
     * feed back through 48 sequential updates, so the element-wise agreement is
     * ~1e-5 relative, not bitwise: rtol 1e-3 leaves a wide margin while still
     * catching any real bug (a wrong mode, sign, mask, normalisation or max
     * gives O(1e-2..1) errors).  atol = 1e-4 * max|cpu| covers elements near
     * zero (probe tails, where relative error is meaningless). */
    const double rtol = 1e-3, atol_frac = 1e-4, err_rtol = 1e-3;
    const pty_pass_params passes[3] = {
        {.alpha = 1.0f, .beta = 0.5f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
        {.alpha = 1.0f, .beta = 0.5f, .rpie = -1.0f, .obj_norm = PTY_OBJNORM_PATCH},
        {.alpha = 1.0f, .beta = 0.5f, .rpie = 0.5f, .obj_norm = PTY_OBJNORM_GLOBAL},
    };
    compare_passes("sequential", cpu, gpu, order, NULL, 0, passes, obj_c, obj_g, pr_c, pr_g, rtol, atol_frac,
                   err_rtol);
    PTY_TEST("the passes changed the object", memcmp(obj_c, obj0, OBJ * OBJ * sizeof *obj0) != 0);

    /* Batched order: four sets of four windows that do not overlap (every
     * other window along each axis), run at once on the GPU and over two CPU
     * workers, both summing a set's probe steps.  Then the same passes with
     * the frames streamed from host memory must give exactly the resident
     * result: the copies change where the frames come from, not the math. */
    int set_order[NF], set_end[4], n_in = 0;
    for (int q = 0; q < 4; q++) {
        for (int gy = q / 2; gy < GRID; gy += 2)
            for (int gx = q % 2; gx < GRID; gx += 2) set_order[n_in++] = gy * GRID + gx;
        set_end[q] = n_in;
    }
    pty_backend_setup sb = s;
    sb.n_threads = 2;
    sb.frame_order = set_order;
    sb.set_end = set_end;
    sb.n_sets = 4;
    sb.gpu_frames = PTY_FRAMES_RESIDENT;
    void *cpu_b = NULL, *gpu_b = NULL, *gpu_st = NULL;
    PTY_TEST("batched: cpu backend (2 workers) created", pty_backend_cpu.create(&sb, &cpu_b) == PTY_OK);
    rc = pty_backend_cuda.create(&sb, &gpu_b);
    if (rc != PTY_OK) printf("  cuda create: %s: %s\n", pty_strerror(rc), pty_error_message());
    PTY_TEST("batched: cuda backend created", rc == PTY_OK);
    sb.gpu_frames = PTY_FRAMES_STREAMED;
    rc = pty_backend_cuda.create(&sb, &gpu_st);
    if (rc != PTY_OK) printf("  cuda create (streamed): %s: %s\n", pty_strerror(rc), pty_error_message());
    PTY_TEST("streamed: cuda backend created", rc == PTY_OK);
    if (cpu_b && gpu_b && gpu_st) {
        pty_backend_stats st;
        pty_backend_cuda.stats(gpu_b, &st);
        PTY_TEST("batched: batch 4, frames resident", st.batch == 4 && !st.frames_streamed);
        pty_backend_cuda.stats(gpu_st, &st);
        PTY_TEST("streamed: batch 4, frames streamed", st.batch == 4 && st.frames_streamed);
        compare_passes("batched", cpu_b, gpu_b, set_order, set_end, 4, passes, obj_c, obj_g, pr_c, pr_g, rtol,
                       atol_frac, err_rtol);
        pty_cf *obj_s = malloc(OBJ * OBJ * sizeof *obj_s), *pr_s = malloc(K * NPIX * sizeof *pr_s);
        for (int it = 0; it < 3; it++) {
            pty_pass_params pp = passes[it];
            pp.set_end = set_end;
            pp.n_sets = 4;
            double e_s = 0.0;
            PTY_TEST("streamed pass runs", pty_backend_cuda.pass(gpu_st, set_order, NF, &pp, &e_s) == PTY_OK);
        }
        PTY_TEST("streamed: get object and probe", pty_backend_cuda.get_object(gpu_st, obj_s) == PTY_OK &&
                                                         pty_backend_cuda.get_probe(gpu_st, pr_s) == PTY_OK);
        PTY_TEST("streamed frames give the resident object exactly", memcmp(obj_s, obj_g, OBJ * OBJ * sizeof *obj_s) == 0);
        PTY_TEST("streamed frames give the resident probe exactly", memcmp(pr_s, pr_g, K * NPIX * sizeof *pr_s) == 0);
        free(obj_s);
        free(pr_s);
    }
    int bad_sets[2] = {8, 8};
    pty_pass_params pbad = passes[0];
    pbad.set_end = bad_sets;
    pbad.n_sets = 2;
    double e_bad_sets = 0.0;
    PTY_TEST("cuda pass refuses an empty set",
             gpu_b && pty_backend_cuda.pass(gpu_b, set_order, NF, &pbad, &e_bad_sets) == PTY_ERR_ARG);
    pty_backend_cpu.destroy(cpu_b);
    pty_backend_cuda.destroy(gpu_b);
    pty_backend_cuda.destroy(gpu_st);

    /* set_probe replaces the probe exactly */
    PTY_TEST("cuda set_probe", pty_backend_cuda.set_probe(gpu, probe_true) == PTY_OK);
    PTY_TEST("cuda get_probe returns what set_probe stored",
             pty_backend_cuda.get_probe(gpu, pr_g) == PTY_OK &&
                 memcmp(pr_g, probe_true, K * NPIX * sizeof *pr_g) == 0);

    /* bad input is refused with PTY_ERR_ARG, not a device fault */
    int bad_order[1] = {NF};
    double e_bad = 0.0;
    PTY_TEST("cuda pass refuses a frame index out of range",
             pty_backend_cuda.pass(gpu, bad_order, 1, &passes[0], &e_bad) == PTY_ERR_ARG);
    int bad_window[2 * NF];
    memcpy(bad_window, window, sizeof bad_window);
    bad_window[2 * (NF - 1) + 1] = OBJ - M + 1;
    pty_backend_setup s_bad = s;
    s_bad.window = bad_window;
    void *gpu_bad = NULL;
    PTY_TEST("cuda create refuses a window outside the object",
             pty_backend_cuda.create(&s_bad, &gpu_bad) == PTY_ERR_ARG && gpu_bad == NULL);
    PTY_TEST("the backend still works after refused input",
             pty_backend_cuda.get_object(gpu, obj_g) == PTY_OK);

    pty_backend_cpu.destroy(cpu);
    pty_backend_cuda.destroy(gpu);
    pty_backend_cuda.destroy(NULL);
    free(f1);
    free(f2);
    free(f3);
    free(f4);
    free(obj0);
    free(truth);
    free(probe0);
    free(probe_true);
    free(amp);
    free(obj_c);
    free(obj_g);
    free(pr_c);
    free(pr_g);
    return pty_test_report();
}

#endif /* PTY_HAVE_CUDA */
