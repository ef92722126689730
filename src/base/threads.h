/* threads.h - can this process start the threads it is asked for?
 *
 * OpenMP (libgomp) ends the process with its own one-line message when the
 * system refuses a thread (a process limit, a container's pid limit), so
 * the engine asks first and fails with a message naming --threads. */
#ifndef PTY_THREADS_H
#define PTY_THREADS_H

#ifdef __cplusplus
extern "C" {
#endif

/* PTY_OK when n threads (this one included) can run at once; else
 * PTY_ERR_ARG naming --threads, how many could start and why.  Checked once
 * for the largest n asked (the threads end before it returns). */
int pty_threads_check(int n);

#ifdef __cplusplus
}
#endif
#endif /* PTY_THREADS_H */
