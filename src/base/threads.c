/* threads.c - start n - 1 threads that wait together, then let them go. */
#include "threads.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pty_error.h"

static int checked = 1; /* the largest count known to start */

/* Each waits until the write end of the pipe closes. */
static void *wait_on(void *arg)
{
    char c;
    while (read(*(const int *)arg, &c, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

int pty_threads_check(int n)
{
    if (n <= checked) return PTY_OK;
    int fds[2];
    PTY_CHECK(pipe(fds) == 0, PTY_ERR_ARG, "--threads %d: cannot test whether the threads can start (%s)", n,
              strerror(errno));
    pthread_t *t = malloc((size_t)n * sizeof *t);
    int started = 0, err = 0;
    if (!t) err = ENOMEM;
    for (; t && started < n - 1; started++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024); /* they only wait */
        err = pthread_create(&t[started], &attr, wait_on, &fds[0]);
        pthread_attr_destroy(&attr);
        if (err) break;
    }
    close(fds[1]);
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    close(fds[0]);
    free(t);
    if (started < n - 1)
        return pty_error_set(PTY_ERR_ARG,
                             "--threads %d: this system lets ptycho start only %d threads (%s: a process or container "
                             "limit); give --threads %d or fewer",
                             n, started + 1, strerror(err), started + 1);
    checked = n;
    return PTY_OK;
}
