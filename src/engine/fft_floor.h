/* fft_floor.h - the time no CPU ePIE can beat: its Fourier transforms alone.
 *
 * Every frame of every iteration needs one forward and one inverse FFT per
 * probe mode; the rest is element-wise work that can ride along while the
 * frame is in cache.  FFTW's own time for those transforms, batched over the
 * modes, in place, single precision, planned as the workers' plans are
 * (pty_fft_planner), every thread transforming its own frames at once (as
 * the CPU backend's workers do), is the floor `ptycho bench` compares an
 * iteration with (issue 17). */
#ifndef PTY_FFT_FLOOR_H
#define PTY_FFT_FLOOR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds per frame for one forward and one inverse transform of n_modes
 * m x m frames, with n_threads threads (0: all) working at once, timed for
 * at least min_seconds.  PTY_ERR_NOMEM or PTY_ERR_FFT on failure. */
int pty_cpu_fft_floor(int m, int n_modes, int n_threads, double min_seconds, double *s_per_frame);

#ifdef __cplusplus
}
#endif
#endif /* PTY_FFT_FLOOR_H */
