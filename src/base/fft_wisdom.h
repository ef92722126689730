/* fft_wisdom.h - FFTW plans kept in a file, so that runs repeat exactly.
 *
 * FFTW_MEASURE picks each transform's algorithm by timing it, and two runs
 * may pick differently; the last-bit differences that follow grow through
 * the iterations (64x64, 20 iterations: NRMSE 0.01 between two runs of one
 * command).  Plans planned once and read back from wisdom are the same
 * plans, so every run that shares the file gives the same bits, and skips
 * the planning time.  FFTW_ESTIMATE would be reproducible too but runs
 * 256x256 transforms about 5x slower (README "Reproducible runs"). */
#ifndef PTY_FFT_WISDOM_H
#define PTY_FFT_WISDOM_H

/* Add the wisdom in `path` to FFTW's.  A missing file is not an error (the
 * first run makes it); a file FFTW cannot read fails with a message naming
 * it. */
int pty_fft_wisdom_load(const char *path);

/* Write FFTW's wisdom to `path` (a temporary name, then renamed, so a
 * reader never sees half a file). */
int pty_fft_wisdom_save(const char *path);

#endif /* PTY_FFT_WISDOM_H */
