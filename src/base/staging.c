/* staging.c - temporary names, the commit, the lock and the signal cleanup. */
#define _GNU_SOURCE /* struct ucred */
#include "staging.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pty_error.h"
#include "pty_log.h"

#define MAX_STAGED 64     /* files one command writes at most (recon: 5; a preview: 9) */
#define MAX_INPUTS 64
#define NAME_MAX_LEN 4200

/* Both tables are read by the signal handler, so entries are filled before
 * they are counted and never freed while counted. */
static char staged_tmp[MAX_STAGED][NAME_MAX_LEN], staged_final[MAX_STAGED][NAME_MAX_LEN];
static unsigned char staged_done[MAX_STAGED]; /* the writer closed it successfully */
static volatile sig_atomic_t n_staged = 0;
static int lock_fd = -1; /* the claim on an output prefix (pty_stage_lock) */
static int in_session = 0, counter = 0;
static dev_t input_dev[MAX_INPUTS];
static ino_t input_ino[MAX_INPUTS];
static int n_inputs = 0;

int pty_stage_protect(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0) return PTY_OK;
    for (int i = 0; i < n_inputs; i++)
        if (input_dev[i] == st.st_dev && input_ino[i] == st.st_ino) return PTY_OK;
    PTY_CHECK(n_inputs < MAX_INPUTS, PTY_ERR_ARG, "more than %d input files", MAX_INPUTS);
    input_dev[n_inputs] = st.st_dev;
    input_ino[n_inputs++] = st.st_ino;
    return PTY_OK;
}

void pty_stage_release(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0) return;
    for (int i = 0; i < n_inputs; i++)
        if (input_dev[i] == st.st_dev && input_ino[i] == st.st_ino) {
            input_dev[i] = input_dev[n_inputs - 1];
            input_ino[i] = input_ino[--n_inputs];
            return;
        }
}

int pty_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int pty_stage_is_input(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    for (int i = 0; i < n_inputs; i++)
        if (input_dev[i] == st.st_dev && input_ino[i] == st.st_ino) return 1;
    return 0;
}

/* Remove entry i (its file already gone or in place). */
static void forget(int i)
{
    const int last = n_staged - 1;
    if (i != last) {
        memcpy(staged_tmp[i], staged_tmp[last], NAME_MAX_LEN);
        memcpy(staged_final[i], staged_final[last], NAME_MAX_LEN);
        staged_done[i] = staged_done[last];
    }
    n_staged = last;
}

static void directory_of(const char *path, char *dir, size_t size)
{
    char buf[NAME_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    snprintf(dir, size, "%s", dirname(buf));
}

int pty_stage(const char *path, char *tmp, size_t size)
{
    PTY_CHECK(path && *path, PTY_ERR_ARG, "an output needs a file name");
    PTY_CHECK(!pty_stage_is_input(path), PTY_ERR_ARG, "'%s' is an input of this run: writing the result there would destroy it; "
                                            "choose another --output", path);
    PTY_CHECK(strlen(path) + 40 < NAME_MAX_LEN && strlen(path) + 40 < size, PTY_ERR_ARG, "output path too long: '%s'",
              path);
    PTY_CHECK(n_staged < MAX_STAGED, PTY_ERR_ARG, "more than %d files staged at once", MAX_STAGED);
    for (int attempt = 0;; attempt++) {
        snprintf(tmp, size, "%s.tmp-%ld-%d", path, (long)getpid(), counter++);
        const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) {
            close(fd);
            break;
        }
        if (errno != EEXIST || attempt > 100) {
            char dir[NAME_MAX_LEN];
            const int err = errno;
            directory_of(path, dir, sizeof dir);
            return pty_error_set(PTY_ERR_IO, "cannot write '%s': cannot create a file in '%s' (%s)", path, dir,
                                 strerror(err));
        }
    }
    const int i = n_staged;
    snprintf(staged_tmp[i], NAME_MAX_LEN, "%s", tmp);
    snprintf(staged_final[i], NAME_MAX_LEN, "%s", path);
    staged_done[i] = 0;
    n_staged = i + 1;
    return PTY_OK;
}

static int find(const char *tmp)
{
    for (int i = 0; i < n_staged; i++)
        if (strcmp(staged_tmp[i], tmp) == 0) return i;
    return -1;
}

/* Entry i into place. */
static int put_in_place(int i)
{
    int rc = PTY_OK;
    if (pty_stage_is_input(staged_final[i]))
        rc = pty_error_set(PTY_ERR_ARG, "'%s' is an input of this run: writing the result there would destroy it; "
                                        "choose another --output", staged_final[i]);
    else if (rename(staged_tmp[i], staged_final[i]) != 0)
        rc = pty_error_set(PTY_ERR_IO, "cannot rename '%s' to '%s' (%s)", staged_tmp[i], staged_final[i],
                           strerror(errno));
    if (rc != PTY_OK) unlink(staged_tmp[i]);
    forget(i);
    return rc;
}

int pty_stage_close(const char *tmp, int rc)
{
    const int i = find(tmp);
    if (i < 0) return rc != PTY_OK ? rc : pty_error_set(PTY_ERR_ARG, "'%s' was never staged", tmp);
    if (rc != PTY_OK) {
        unlink(staged_tmp[i]);
        forget(i);
        return rc;
    }
    if (!in_session) return put_in_place(i);
    staged_done[i] = 1;
    /* PTYCHO_STAGE_DELAY=S: wait S seconds after each staged file is written, so that a test can
       send a signal, deterministically, while a result is being written */
    const char *delay = getenv("PTYCHO_STAGE_DELAY");
    if (delay) pty_sleep_s(atof(delay));
    return PTY_OK;
}

void pty_stage_begin(void) { in_session = 1; }

int pty_stage_commit(void)
{
    int rc = PTY_OK;
    /* every file must be complete before any takes its place */
    for (int i = 0; i < n_staged; i++)
        if (!staged_done[i])
            rc = pty_error_set(PTY_ERR_IO, "'%s' was not finished; none of this run's files were written",
                               staged_final[i]);
    if (rc != PTY_OK) {
        pty_stage_abort();
        return rc;
    }
    while (n_staged > 0) {
        const int r = put_in_place(n_staged - 1);
        if (rc == PTY_OK) rc = r;
    }
    return rc;
}

void pty_stage_abort(void)
{
    while (n_staged > 0) {
        unlink(staged_tmp[n_staged - 1]);
        n_staged = n_staged - 1;
    }
}

void pty_stage_end(void)
{
    pty_stage_abort(); /* whatever was neither committed nor aborted */
    if (lock_fd >= 0) {
        close(lock_fd);
        lock_fd = -1;
    }
    in_session = 0;
}

/* FNV-1a, 64 bits: a short, fixed-length name for a long path. */
static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int pty_stage_lock(const char *prefix)
{
    char dir[NAME_MAX_LEN], real[PATH_MAX + 1], base[NAME_MAX_LEN], probe[NAME_MAX_LEN + 64];
    PTY_CHECK(strlen(prefix) + 64 < NAME_MAX_LEN, PTY_ERR_ARG, "--output path too long");
    directory_of(prefix, dir, sizeof dir);
    /* the directory must take files: try one (access() says yes to root on a read-only mount) */
    snprintf(probe, sizeof probe, "%s.write-test-%ld", prefix, (long)getpid());
    const int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) return pty_error_set(PTY_ERR_IO, "cannot write to output directory '%s' (%s)", dir, strerror(errno));
    close(fd);
    unlink(probe);
    PTY_CHECK(realpath(dir, real), PTY_ERR_IO, "cannot resolve output directory '%s' (%s)", dir, strerror(errno));
    snprintf(base, sizeof base, "%s", prefix);
    char full[PATH_MAX + NAME_MAX_LEN + 2];
    snprintf(full, sizeof full, "%s/%s", real, basename(base));
    /* The lock is an abstract socket named after the prefix: the kernel frees it when the process
       ends, however it ends (a lock file would outlive a SIGKILL, as MPI_Abort sends), and its
       holder's process id comes with a connection (SO_PEERCRED). */
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    const int len = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "ptycho-output-%016llx", fnv1a(full));
    const socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
    const int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    PTY_CHECK(sock >= 0, PTY_ERR_IO, "cannot claim --output %s (socket: %s)", prefix, strerror(errno));
    if (bind(sock, (struct sockaddr *)&addr, size) == 0 && listen(sock, 16) == 0) {
        lock_fd = sock;
        return PTY_OK;
    }
    const int err = errno;
    close(sock);
    PTY_CHECK(err == EADDRINUSE, PTY_ERR_IO, "cannot claim --output %s (%s)", prefix, strerror(err));
    long holder = 0;
    const int peer = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (peer >= 0 && connect(peer, (struct sockaddr *)&addr, size) == 0) {
        struct ucred cred;
        socklen_t cl = sizeof cred;
        if (getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) holder = (long)cred.pid;
    }
    if (peer >= 0) close(peer);
    if (holder > 0)
        return pty_error_set(PTY_ERR_IO,
                             "--output %s is being written by another ptycho run (process %ld); wait for it to finish "
                             "or choose another --output",
                             prefix, holder);
    return pty_error_set(PTY_ERR_IO,
                         "--output %s is being written by another ptycho run on this machine; wait for it to finish "
                         "or choose another --output",
                         prefix);
}

static void on_signal(int sig)
{
    for (int i = 0; i < n_staged; i++) unlink(staged_tmp[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void pty_stage_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction old;
        /* a hang-up ignored on purpose (nohup) stays ignored */
        if (sigs[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}
