/* pty_log.c - leveled messages to stdout/stderr. */
#include "pty_log.h"

#include <errno.h>

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int log_level = PTY_LOG_INFO;
static pty_log_sink log_sink;
static void *log_sink_user;

void pty_log_set_sink(pty_log_sink sink, void *user)
{
    log_sink = sink;
    log_sink_user = user;
}

void pty_log_set_level(int level) { log_level = level; }
int pty_log_get_level(void) { return log_level; }

void pty_log(int level, const char *fmt, ...)
{
    if (level > log_level) return;
    if (log_sink) {
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_sink(log_sink_user, level, msg);
        return;
    }
    FILE *out = level <= PTY_LOG_WARN ? stderr : stdout;
    /* one write per line, so lines of several MPI ranks do not interleave */
    char line[2048];
    int len = snprintf(line, sizeof line, "%s",
                       level == PTY_LOG_ERROR ? "ptycho: error: " : level == PTY_LOG_WARN ? "ptycho: warning: " : "");
    va_list ap;
    va_start(ap, fmt);
    int more = vsnprintf(line + len, sizeof line - (size_t)len - 1, fmt, ap);
    va_end(ap);
    len = more < 0 ? len : len + more < (int)sizeof line - 2 ? len + more : (int)sizeof line - 2;
    line[len++] = '\n';
    line[len] = '\0';
    fputs(line, out);
    fflush(out);
}

double pty_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

double pty_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

void pty_sleep_s(double s)
{
    if (!(s > 0.0)) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
