/* cmd_bench.c - `ptycho bench`: how fast does one reconstruction run here?
 *
 * Simulates a scan in memory (default the seed case: 175 x 120 positions
 * of 256 x 256 frames), runs a few iterations on the chosen backend and
 * prints one table: median seconds per iteration, frame-updates per second
 * (positions x iterations / s), simulation, setup and transfer time apart
 * from the iterations, peak host memory and, on a GPU, the iteration's
 * modelled memory traffic against the device's measured copy bandwidth
 * (DESIGN.md §4): device memory, plus the frames' trip over PCIe when they
 * stream from host memory.  --json prints the same as one JSON object. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "cpu_rows.h"
#include "engine.h"
#include "fft_floor.h"
#include "opts.h"
#include "pty_error.h"
#include "pty_log.h"
#include "sim_dataset.h"
#include "simulate.h"

typedef struct bench_times {
    double *s;
    int n;
} bench_times;

static int record(void *user, int iter, int n_iter, double error, double seconds)
{
    bench_times *t = user;
    (void)iter;
    (void)n_iter;
    (void)error;
    t->s[t->n++] = seconds;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes one ePIE iteration must move through device memory, per position:
 * read the amplitudes (4 B/px), read and write the object patch (16), and
 * for each mode write the exit wave, pass it through a forward and an
 * inverse FFT (read + write each) and read it back for the update (48).
 * The floor: any implementation with separate FFTs moves at least this. */
static double floor_bytes_per_iteration(int n, int m, int modes)
{
    return (double)n * m * m * (4.0 + 16.0 + 48.0 * modes);
}

/* What the kernels as written move (kernels/epie_kernels.cu), counting each
 * FFT as one read and one write and the probe and its step sums as held in
 * cache: exit waves read O (8) and write psi (8K); the forward FFT 16K; the
 * modulus reads the amplitude (4) and reads and writes the far field (16K);
 * the inverse FFT 16K; the update reads the far field and psi, writes Delta
 * back (24K) and reads and writes O (16).  Divided by the measured time it
 * is the bandwidth the iteration reached. */
static double kernel_bytes_per_iteration(int n, int m, int modes)
{
    return (double)n * m * m * (28.0 + 80.0 * modes);
}

static double peak_host_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

int pty_cmd_bench(int argc, char **argv)
{
    static const char *synopsis = "[--rows N --cols N --frame M --modes K --iterations N --backend B] [--json]";
    pty_sim_params sp;
    pty_sim_defaults(&sp);
    sp.rows = 175;
    sp.cols = 120;
    sp.m = 256;
    sp.step = 0.0;
    pty_recon_params p;
    pty_recon_params_default(&p);
    /* time whole iterations: recon's default waits 10 iterations before it
       moves the probe, and a bench of fewer would never time the probe step */
    p.probe_start = 0;
    int iterations = 5, json = 0;
    const pty_option output[] = {
        PTY_OPT("json", PTY_OPT_FLAG, &json, 1, 0, "print one JSON object instead of the table"),
    };
    pty_opt_block blocks[3];
    pty_opts_scan(&blocks[0], &sp);
    pty_opts_epie(&blocks[1], &p, &iterations);
    PTY_OPT_BLOCK(&blocks[2], "report", output, NULL, NULL);
    const char *extra[1];
    int n_extra = 0;
    PTY_TRY(pty_args_parse("bench", synopsis, argc, argv, 2, blocks, 3, extra, 0, &n_extra));
    sp.modes = p.n_modes; /* the seed case: the scan has the probe modes the reconstruction asks for */
    PTY_TRY(pty_sim_validate(&sp));

    /* the frames live once (simulated, they become the dataset's, which the
       CPU reads in place), twice where the GPU streams them from pinned
       memory: refuse what cannot fit even once */
    const int n = sp.rows * sp.cols;
    const double frame_bytes = (double)n * sp.m * sp.m * sizeof(float);
    const double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    PTY_CHECK(ram <= 0 || 1.2 * frame_bytes < ram, PTY_ERR_NOMEM,
              "ptycho bench: %d frames of %dx%d need about %.1f GiB of host memory, this machine has %.1f GiB; "
              "use smaller --rows/--cols/--frame",
              n, sp.m, sp.m, 1.2 * frame_bytes / (1 << 30), ram / (1 << 30));

    double t0 = pty_now_s();
    pty_simulation sim;
    memset(&sim, 0, sizeof sim);
    pty_dataset *d = NULL;
    pty_plan *plan = NULL;
    bench_times t = {malloc((size_t)iterations * sizeof(double)), 0};
    int rc = t.s ? pty_sim_run(&sp, &sim) : pty_error_set(PTY_ERR_NOMEM, "cannot allocate timings");
    if (rc == PTY_OK) rc = pty_dataset_from_simulation(&sim, &d);
    pty_sim_free(&sim);
    double sim_s = pty_now_s() - t0;
    if (rc == PTY_OK) rc = pty_plan_create(d, &p, NULL, &plan);
    if (rc != PTY_OK) goto done;
    /* the floor: FFTW's time for the iteration's transforms on the same threads (CPU only),
       timed before the iterations and after them, and the two averaged: the speed of the VM this
       was written on drifts by 10 % within minutes, and one floor timed after the run moved the
       ratio by as much (256^2, 5 modes: 0.250 and 0.272 s, the run 0.456 and 0.462) */
    double fft_frame_s = 0.0, floor_before = 0.0, floor_after = 0.0;
    const int on_cpu = strcmp(pty_plan_backend_name(plan), "cpu") == 0;
    if (on_cpu && (rc = pty_cpu_fft_floor(sp.m, p.n_modes, p.n_threads, 0.2, &floor_before)) != PTY_OK) goto done;
    if ((rc = pty_plan_execute(plan, iterations, record, &t)) != PTY_OK) goto done;
    if (on_cpu && (rc = pty_cpu_fft_floor(sp.m, p.n_modes, p.n_threads, 0.2, &floor_after)) != PTY_OK) goto done;
    fft_frame_s = 0.5 * (floor_before + floor_after);

    double setup_s, iterate_s;
    pty_plan_timings(plan, &setup_s, &iterate_s);
    pty_backend_stats st;
    pty_plan_backend_stats(plan, &st);
    qsort(t.s, (size_t)t.n, sizeof *t.s, cmp_double);
    const double median = t.n % 2 ? t.s[t.n / 2] : 0.5 * (t.s[t.n / 2 - 1] + t.s[t.n / 2]);
    const double fups = n / median, bytes = floor_bytes_per_iteration(n, sp.m, p.n_modes);
    const double kernel_bytes = kernel_bytes_per_iteration(n, sp.m, p.n_modes);
    const double pcie_bytes = st.frames_streamed ? (double)n * sp.m * sp.m * sizeof(float) : 0.0;
    const char *used = pty_plan_backend_name(plan);
    const int on_gpu = strcmp(used, "cuda") == 0;
    const int threads = p.n_threads > 0 ? p.n_threads : omp_get_max_threads();
    const char *run_order = pty_order_names[pty_plan_order(plan)];
    int n_sets, largest_set;
    pty_plan_sets(plan, &n_sets, &largest_set);
    /* the plan's memory is returned before the bandwidth test allocates its own */
    pty_plan_destroy(plan);
    plan = NULL;
    double bandwidth = 0.0, h2d = 0.0, device_total = 0.0;
#ifdef PTY_HAVE_CUDA
    if (on_gpu) rc = pty_cuda_bandwidth(p.device, &bandwidth, &h2d, &device_total);
    if (rc != PTY_OK) goto done;
    if (on_gpu) rc = pty_cuda_fft_floor(p.device, sp.m, p.n_modes, st.batch > 0 ? st.batch : 1, &fft_frame_s);
    if (rc != PTY_OK) goto done;
#endif
    const double fft_floor_s = fft_frame_s * n;
    /* streamed frames cross PCIe while the device works: the slower of the two bounds */
    const double device_floor = bandwidth > 0 ? bytes / bandwidth : 0.0;
    const double pcie_floor = h2d > 0 ? pcie_bytes / h2d : 0.0;
    const double floor_s = device_floor > pcie_floor ? device_floor : pcie_floor;
    if (json) {
        printf("{\"positions\": %d, \"rows\": %d, \"cols\": %d, \"frame\": %d, \"modes\": %d, \"backend\": \"%s\", "
               "\"order\": \"%s\", \"sets\": %d, \"largest_set\": %d, \"batch\": %d, \"frames_streamed\": %s, "
               "\"iterations\": %d, \"median_s_per_iteration\": %.6g, \"min_s\": %.6g, \"max_s\": %.6g, "
               "\"frame_updates_per_s\": %.6g, \"simulate_s\": %.4g, \"setup_s\": %.4g, \"transfer_s\": %.4g, "
               "\"peak_host_bytes\": %.6g, \"device_bytes_used\": %.6g, \"bytes_per_iteration\": %.6g, "
               "\"pcie_bytes_per_iteration\": %.6g, \"device_copy_bandwidth\": %.6g, \"h2d_bandwidth\": %.6g, "
               "\"device_bytes\": %.6g, \"bandwidth_floor_s\": %.6g, \"percent_of_floor\": %.4g, "
               "\"kernel_bytes_per_iteration\": %.6g, \"kernel_bandwidth\": %.6g, \"threads\": %d, "
               "\"fft_floor_s_per_iteration\": %.6g, \"fft_floor_before_s\": %.6g, \"fft_floor_after_s\": %.6g, "
               "\"ratio_to_fft_floor\": %.4g, \"frame_bytes\": %.0f, "
               "\"peak_host_to_frames\": %.4g, \"vector_bits\": %d}\n",
               n, sp.rows, sp.cols, sp.m, p.n_modes, used, run_order, n_sets, largest_set, st.batch,
               st.frames_streamed ? "true" : "false", t.n, median, t.s[0], t.s[t.n - 1], fups, sim_s,
               setup_s - st.upload_s, st.upload_s, peak_host_bytes(), st.device_bytes, bytes, pcie_bytes, bandwidth, h2d, device_total, floor_s,
               floor_s > 0 ? 100.0 * floor_s / median : 0.0, kernel_bytes, kernel_bytes / median, threads,
               fft_floor_s, floor_before * n, floor_after * n, fft_floor_s > 0 ? median / fft_floor_s : 0.0, frame_bytes, peak_host_bytes() / frame_bytes,
               on_cpu ? pty_rows_vector_bits() : 0);
    } else {
        printf("ptycho bench: %d x %d positions, %dx%d frames, step %.0f px, %d mode%s, backend %s, %s order\n",
               sp.rows, sp.cols, sp.m, sp.m, pty_sim_step(&sp), p.n_modes, p.n_modes > 1 ? "s" : "", used, run_order);
        printf("  %-34s %10.4f s   (min %.4f, max %.4f, %d iterations)\n", "time per iteration, median", median,
               t.s[0], t.s[t.n - 1], t.n);
        printf("  %-34s %10.0f\n", "frame-updates per second", fups);
        if (fft_floor_s > 0 && on_gpu)
            printf("  %-34s %10.4f s   (cuFFT fwd + inv, %d mode%s, batches of %d: %.2f us a frame) -> %.2fx the floor\n",
                   "FFT floor per iteration", fft_floor_s, p.n_modes, p.n_modes > 1 ? "s" : "", st.batch,
                   1e6 * fft_frame_s, median / fft_floor_s);
        else if (fft_floor_s > 0)
            printf("  %-34s %10.4f s   (FFTW fwd + inv, %d mode%s, %d thread%s: %.2f us a frame a thread, the mean "
                   "of %.2f before the iterations and %.2f after) -> %.2fx the floor\n",
                   "FFT floor per iteration", fft_floor_s, p.n_modes, p.n_modes > 1 ? "s" : "", threads,
                   threads > 1 ? "s" : "", 1e6 * fft_frame_s * threads, 1e6 * floor_before * threads,
                   1e6 * floor_after * threads, median / fft_floor_s);
        if (on_cpu)
            printf("  %-34s %10d     (PTY_VECTOR_BITS=256 keeps an AVX-512 CPU on the AVX2 copy)\n",
                   "pixel loops: vector bits", pty_rows_vector_bits());
        if (n_sets > 0)
            printf("  %-34s %10d     (largest %d positions)\n", "sets of non-overlapping windows", n_sets, largest_set);
        printf("  %-34s %10.2f s   (not part of a reconstruction)\n", "simulation in memory", sim_s);
        printf("  %-34s %10.2f s   (plan, FFT plans, probe, sets)\n", "setup", setup_s - st.upload_s);
        printf("  %-34s %10.2f s   (frames, object and probe into the backend)\n", "transfer", st.upload_s);
        printf("  %-34s %10.2f GiB  (%.2fx the %.2f GiB of frames)\n", "peak host memory", peak_host_bytes() / (1 << 30),
               peak_host_bytes() / frame_bytes, frame_bytes / (1 << 30));
        if (on_gpu)
            printf("  %-34s %10.2f GiB  (batch %d positions, frames %s)\n", "GPU memory used",
                   st.device_bytes / (1 << 30), st.batch, st.frames_streamed ? "streamed from host" : "resident");
        printf("  %-34s %10.2f GB    (floor: (20 + 48 K) bytes a pixel a position)\n",
               "memory traffic per iteration", bytes / 1e9);
        if (on_gpu)
            printf("  %-34s %10.2f GB    (the kernels: (28 + 80 K), %.0f GB/s reached)\n", "", kernel_bytes / 1e9,
                   kernel_bytes / median / 1e9);
        if (bandwidth > 0) {
            printf("  %-34s %10.1f GB/s  -> floor %.4f s\n", "device copy bandwidth (measured)", bandwidth / 1e9,
                   device_floor);
            if (pcie_bytes > 0)
                printf("  %-34s %10.1f GB/s  -> %.2f GB of frames: floor %.4f s\n", "host-to-device (pinned, measured)",
                       h2d / 1e9, pcie_bytes / 1e9, pcie_floor);
            printf("  %-34s %10.0f%%   of the measured time\n", "bandwidth floor", 100.0 * floor_s / median);
        } else {
            printf("  %-34s %10s\n", "bandwidth floor", "GPU only");
        }
    }
done:
    free(t.s);
    pty_plan_destroy(plan);
    pty_dataset_destroy(d);
    return rc;
}
