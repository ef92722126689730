/* pty_log.h - leveled messages: INFO to stdout, WARN and ERROR to stderr.
 *
 * The level is checked before formatting, so debug lines in hot paths cost
 * one comparison when they are off. */
#ifndef PTY_LOG_H
#define PTY_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum { PTY_LOG_ERROR = 0, PTY_LOG_WARN = 1, PTY_LOG_INFO = 2, PTY_LOG_DEBUG = 3 };

void pty_log_set_level(int level);
int pty_log_get_level(void);

/* Where lines go: a program embedding the library (the Python binding, a
 * beamline GUI) takes them instead of stdout/stderr.  The sink gets the
 * level and the line without its prefix or newline; NULL restores the
 * streams.  Set it before any thread logs: it is read, not locked. */
typedef void (*pty_log_sink)(void *user, int level, const char *line);
void pty_log_set_sink(pty_log_sink sink, void *user);

/* WARN is printed as "ptycho: warning: <msg>", ERROR as "ptycho: error: <msg>". */
void pty_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Monotonic wall clock in seconds, for progress lines and timings. */
double pty_now_s(void);

/* CPU seconds this process has used so far, all its threads together. */
double pty_cpu_s(void);

/* Sleep s seconds (s <= 0: not at all), resumed after signals. */
void pty_sleep_s(double s);

#define pty_info(...) pty_log(PTY_LOG_INFO, __VA_ARGS__)
#define pty_warn(...) pty_log(PTY_LOG_WARN, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* PTY_LOG_H */
