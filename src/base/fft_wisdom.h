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

#include <stddef.h>

/* Add the wisdom in `path` to FFTW's.  A missing file is not an error (the
 * first run makes it); a file FFTW cannot read fails with a message naming
 * it. */
int pty_fft_wisdom_load(const char *path);

/* Write FFTW's wisdom to `path` (a temporary name, then renamed, so a
 * reader never sees half a file). */
int pty_fft_wisdom_save(const char *path);

/* The FFTW planner flag for ePIE's m x m transforms where plans are timed
 * (FFTW_MEASURE, or FFTW_PATIENT from PTY_FFT_PATIENT_FROM pixels up, where
 * the longer search finds faster plans: one thread, in place, fwd + inv,
 * best of 5 (/tmp/fp.c, this 2-core VM): 64^2 8.9 us both; 128^2 55.1 vs
 * 54.7 us; 256^2 274-277 vs 223-252 us for 3.1 s of planning; 512^2 1891
 * vs 1325 us for 6.4 s).  The CPU backend and the bench's FFT floor plan
 * alike, so the floor is FFTW's time for the plans the backend runs. */
#define PTY_FFT_PATIENT_FROM 256
unsigned pty_fft_planner(int m);

/* How far apart (complex numbers) threads' buffers of n complex numbers
 * start, where each thread transforms its own: n rounded up to 64 bytes,
 * so that all share the alignment FFTW planned for, and a gap.  Right next
 * to each other, the second thread's transforms ran slow: 64^2 in place,
 * two threads of one process, 11.4 us a frame against 9.0 for the first
 * (two processes: 9.0 each), and 9.0 for both with 8 to 32 KiB between the
 * buffers; the cores' prefetchers reaching into the neighbour's lines are
 * the likely cause.  The CPU backend's workers and the bench's FFT floor
 * both lay their buffers out so. */
#define PTY_THREAD_GAP 4096
static inline size_t pty_thread_stride(size_t n) { return (n + 7) / 8 * 8 + PTY_THREAD_GAP; }

/* How far apart (complex numbers) the modes of a probe-sized array of
 * npix pixels a mode start: npix rounded up to 64 bytes, and two cache
 * lines more where that is a multiple of 4 KiB.  A frame of 64^2 (32 KiB)
 * or 256^2 is one, so each mode's pixel i, which the update reads together
 * with the other modes', would fall in the same L1 set for every mode and
 * array: with 5 modes the update wants 16 lines of one set at once (the L1
 * holds 12).  tests/bench_rows with the modes' distance made a parameter
 * (one window in cache, ns a pixel and mode, 5 modes, npix apart -> 16 or
 * 72 complex more): update into a lane's sum 64^2 0.78-0.83 -> 0.65-0.69,
 * 256^2 1.15-1.17 -> 1.00-1.06; projection 0.33 -> 0.29-0.31.  `ptycho
 * bench --frame 64 --modes 5 --threads 1`: 33.0 -> 32.0 ms an iteration
 * (at 256^2, which streams from beyond the L2, no change).  The CPU
 * backend's probe-sized arrays and its FFT plans, and the bench's FFT
 * floor, lay their modes out so. */
static inline size_t pty_mode_stride(size_t npix)
{
    const size_t n = (npix + 7) / 8 * 8;
    return n * 8 % 4096 == 0 ? n + 16 : n;
}

#endif /* PTY_FFT_WISDOM_H */
