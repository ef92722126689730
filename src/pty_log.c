/* pty_log.c - leveled messages to stdout/stderr. */
#include "pty_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int log_level = PTY_LOG_INFO;

void pty_log_set_level(int level) { log_level = level; }
int pty_log_get_level(void) { return log_level; }

void pty_log(int level, const char *fmt, ...)
{
    if (level > log_level) return;
    FILE *out = level <= PTY_LOG_WARN ? stderr : stdout;
    if (level == PTY_LOG_ERROR) fputs("ptycho: error: ", out);
    else if (level == PTY_LOG_WARN) fputs("ptycho: warning: ", out);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

double pty_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
