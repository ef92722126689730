/* fft_floor.c - FFTW's time for ePIE's transforms, measured the way the CPU backend runs them. */
#include "fft_floor.h"

#include <fftw3.h>
#include <omp.h>
#include <string.h>

#include "fft_wisdom.h"
#include "pty_error.h"
#include "pty_log.h"

int pty_cpu_fft_floor(int m, int n_modes, int n_threads, double min_seconds, double *s_per_frame)
{
    *s_per_frame = 0.0;
    const int t = n_threads > 0 ? n_threads : omp_get_max_threads();
    /* as the workers' buffers lie: modes pty_mode_stride apart, workers pty_thread_stride */
    const size_t ms = pty_mode_stride((size_t)m * m), per = (size_t)n_modes * ms, stride = pty_thread_stride(per);
    const int dist = (int)ms;
    fftwf_complex *buf = fftwf_alloc_complex(stride * (size_t)t);
    PTY_CHECK(buf, PTY_ERR_NOMEM, "cannot allocate %d FFT buffers of %dx%dx%d", t, n_modes, m, m);
    int n[2] = {m, m};
    fftwf_plan_with_nthreads(1);
    const unsigned flags = pty_fft_planner(m); /* as the backend's workers plan */
    fftwf_plan fwd = fftwf_plan_many_dft(2, n, n_modes, buf, NULL, 1, dist, buf, NULL, 1, dist, FFTW_FORWARD, flags);
    fftwf_plan inv = fftwf_plan_many_dft(2, n, n_modes, buf, NULL, 1, dist, buf, NULL, 1, dist, FFTW_BACKWARD, flags);
    if (!fwd || !inv) {
        if (fwd) fftwf_destroy_plan(fwd);
        if (inv) fftwf_destroy_plan(inv);
        fftwf_free(buf);
        return pty_error_set(PTY_ERR_FFT, "FFTW could not plan %d transforms of %dx%d", n_modes, m, m);
    }
    /* zeros: transforms take the same time on any finite data, and zeros stay finite through
       repeated unscaled pairs (anything else grows by m^2 a pair until it overflows) */
    memset(buf, 0, stride * (size_t)t * sizeof *buf);
    double elapsed = 0.0;
    long reps = 4;
    for (int round = 0; round < 30; round++) {
        const double t0 = pty_now_s();
#pragma omp parallel num_threads(t)
        {
            fftwf_complex *mine = buf + stride * (size_t)omp_get_thread_num();
            for (long r = 0; r < reps; r++) {
                fftwf_execute_dft(fwd, mine, mine);
                fftwf_execute_dft(inv, mine, mine);
            }
        }
        elapsed = pty_now_s() - t0;
        if (round > 0 && elapsed >= min_seconds) break; /* the first round warms caches and threads */
        reps *= 2;
    }
    *s_per_frame = elapsed / ((double)reps * t);
    fftwf_destroy_plan(fwd);
    fftwf_destroy_plan(inv);
    fftwf_free(buf);
    return PTY_OK;
}
