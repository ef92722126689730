/* pty_error.c - status code names and the recorded error message.
 *
 * One message buffer per thread: the planner and readers run on one thread,
 * but OpenMP workers may fail too and must not tear the caller's message. */
#include "pty_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PTY_ERROR_LEN 1024

static _Thread_local char error_message[PTY_ERROR_LEN];

const char *pty_strerror(int code)
{
    switch (code) {
    case PTY_OK: return "success";
    case PTY_ERR_ARG: return "bad argument";
    case PTY_ERR_IO: return "I/O error";
    case PTY_ERR_HDF5: return "HDF5 error";
    case PTY_ERR_DATA: return "bad data";
    case PTY_ERR_FFT: return "FFT planning failed";
    case PTY_ERR_GPU: return "GPU error";
    case PTY_ERR_MPI: return "MPI error";
    case PTY_ERR_NOMEM: return "out of memory";
    case PTY_ERR_DIVERGED: return "reconstruction diverged";
    case PTY_ERR_INCOMPLETE: return "scan incomplete";
    default: return "unknown error";
    }
}

int pty_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return code;
}

void pty_error_context(const char *fmt, ...)
{
    char context[PTY_ERROR_LEN];
    char joined[2 * PTY_ERROR_LEN + 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof joined, "%s: %s", context, error_message);
    memcpy(error_message, joined, sizeof error_message - 1);
    error_message[sizeof error_message - 1] = '\0';
}

const char *pty_error_message(void) { return error_message; }

void pty_error_clear(void) { error_message[0] = '\0'; }
