/* pty_error.h - status codes and the one error message the library keeps.
 *
 * Every library function returns PTY_OK or a PTY_ERR_* code and never exits;
 * the function that fails records a human-readable message naming the file,
 * dataset or flag at fault.  Only ptycho/main.c turns a status into an exit. */
#ifndef PTY_ERROR_H
#define PTY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PTY_OK = 0,
    PTY_ERR_ARG,      /* bad argument or flag value given by the user */
    PTY_ERR_IO,       /* file cannot be opened, read, written or renamed */
    PTY_ERR_HDF5,     /* HDF5 file is not HDF5, lacks a dataset, or has the wrong shape/type */
    PTY_ERR_DATA,     /* data are inconsistent (counts, NaN, geometry) */
    PTY_ERR_FFT,      /* FFT planning failed (FFTW or cuFFT) */
    PTY_ERR_GPU,      /* CUDA runtime error or no usable device */
    PTY_ERR_MPI,      /* MPI call failed */
    PTY_ERR_NOMEM,    /* an allocation failed (host or device) */
    PTY_ERR_DIVERGED, /* the reconstruction diverged (non-finite or exploding) */
    PTY_ERR_INCOMPLETE /* a followed scan stopped before it was complete: the result holds what came */
};

/* Name of a status code, e.g. "bad argument".  Never NULL. */
const char *pty_strerror(int code);

/* Record a printf-style message for `code` (replacing any earlier one) and
 * return `code`, so callers can write `return pty_error_set(...)`. */
int pty_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefix the recorded message with context: "<context>: <message>". */
void pty_error_context(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The recorded message ("" when none).  Valid until the next set/clear. */
const char *pty_error_message(void);
void pty_error_clear(void);

/* Validate a user input; always compiled in.  Returns from the caller. */
#define PTY_CHECK(cond, code, ...)                                        \
    do {                                                                  \
        if (!(cond)) return pty_error_set((code), __VA_ARGS__);           \
    } while (0)

/* Propagate a failure status from a callee. */
#define PTY_TRY(expr)                                                     \
    do {                                                                  \
        int pty_try_rc_ = (expr);                                         \
        if (pty_try_rc_ != PTY_OK) return pty_try_rc_;                    \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif /* PTY_ERROR_H */
