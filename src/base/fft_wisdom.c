/* fft_wisdom.c - FFTW wisdom read from and written to a file. */
#include "fft_wisdom.h"

#include <errno.h>
#include <fftw3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pty_error.h"
#include "staging.h"

unsigned pty_fft_planner(int m)
{
    return m >= PTY_FFT_PATIENT_FROM ? FFTW_PATIENT : FFTW_MEASURE;
}

int pty_fft_wisdom_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return PTY_OK;
        return pty_error_set(PTY_ERR_IO, "cannot open FFT wisdom file '%s' (%s)", path, strerror(errno));
    }
    const int ok = fftwf_import_wisdom_from_file(f);
    fclose(f);
    PTY_CHECK(ok, PTY_ERR_IO,
              "FFT wisdom file '%s' is not FFTW single-precision wisdom of this FFTW build: remove it and the next "
              "run measures anew",
              path);
    return PTY_OK;
}

int pty_fft_wisdom_save(const char *path)
{
    char tmp[4200];
    PTY_CHECK(strlen(path) < 4096, PTY_ERR_ARG, "FFT wisdom file name is too long");
    /* every MPI rank may save: each to its own temporary, the last rename wins */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return pty_error_set(PTY_ERR_IO, "cannot write FFT wisdom file '%s' (%s)", path, strerror(errno));
    fftwf_export_wisdom_to_file(f);
    const int failed = ferror(f) | (fclose(f) != 0);
    /* the wisdom file is this run's input and output: once replaced, its old identity (an inode
       number the next new file may get) is no input to protect */
    if (!failed) pty_stage_release(path);
    if (failed || rename(tmp, path) != 0) {
        const int err = errno;
        remove(tmp);
        return pty_error_set(PTY_ERR_IO, "cannot write FFT wisdom file '%s' (%s)", path, strerror(err));
    }
    return PTY_OK;
}
