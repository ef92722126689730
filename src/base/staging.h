/* staging.h - the files a run writes appear complete and together, or not
 * at all, and never over one of its inputs.
 *
 * A writer asks pty_stage() for a temporary name beside the file it will
 * write: unique to this process and created exclusively, so two runs never
 * share one.  It writes there and hands the name back with
 * pty_stage_close().  Outside a session the file then takes its place at
 * once (one file, atomic by itself).  Inside a session (pty_stage_begin,
 * as ptycho/main.c opens one around every command) it waits for
 * pty_stage_commit(), which puts every waiting file in place, or
 * pty_stage_abort(), which removes them: a command that fails leaves
 * nothing behind, one that succeeds leaves all its files.  SIGINT, SIGTERM
 * and SIGHUP remove the temporaries before the process dies of the signal
 * (pty_stage_signals).
 *
 * Inputs: pty_stage_protect() records a file's identity (device and inode);
 * staging a file that is one of them, however its path is spelled, is
 * refused.  pty_stage_lock() claims an output prefix for this process, so
 * a second run with the same --output on this machine is told which
 * process holds it; the claim ends with the process, however it ends. */
#ifndef PTY_STAGING_H
#define PTY_STAGING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Remember `path` as an input (nothing happens when it does not exist). */
int pty_stage_protect(const char *path);

/* An input read whole into memory may be replaced: a checkpoint a run
 * resumes from and then writes anew. */
void pty_stage_release(const char *path);

/* 1 when path exists and is a protected input. */
int pty_stage_is_input(const char *path);

/* 1 when both paths exist and are the same file. */
int pty_same_file(const char *a, const char *b);

/* A temporary name for `path` in tmp (size bytes): "<path>.tmp-<pid>-<n>",
 * created empty.  PTY_ERR_ARG when path is a protected input, PTY_ERR_IO
 * when it cannot be created (message names the directory and the reason). */
int pty_stage(const char *path, char *tmp, size_t size);

/* The writer is done with tmp: rc == PTY_OK keeps it (in place at once
 * outside a session, at the commit inside one); otherwise it is removed.
 * Returns rc, or PTY_ERR_IO when the file cannot be put in place. */
int pty_stage_close(const char *tmp, int rc);

/* Open a session; commit or abort every file staged so far; close it
 * (releasing the claim, if any). */
void pty_stage_begin(void);
int pty_stage_commit(void);
void pty_stage_abort(void);
void pty_stage_end(void);

/* Claim the output prefix for this process (and prove its directory takes
 * files).  PTY_ERR_IO naming the other process when one holds it. */
int pty_stage_lock(const char *prefix);

/* Remove the temporaries and the lock on SIGINT, SIGTERM and SIGHUP, then
 * die of the signal; ignore SIGXFSZ and SIGPIPE so that a file-size limit
 * or a closed pipe fails a write with a message instead of killing. */
void pty_stage_signals(void);

#ifdef __cplusplus
}
#endif
#endif /* PTY_STAGING_H */
