/* comm.h - the few MPI operations ptycho needs, and one way to fail.
 *
 * Without MPI (or when the program was not started by mpirun) everything
 * here is a single-rank no-op, so the library and the tests build and run
 * the same way on a laptop.  Two kinds of failure (DESIGN.md, Standards):
 *   - errors every rank reaches together (arguments, input validation,
 *     setup) go through pty_comm_agree: all ranks learn the lowest failing
 *     rank's message and return it, and only rank 0 prints it;
 *   - an error on one rank while the others compute or wait (a corrupt
 *     block of frames, out of memory, divergence) goes through
 *     pty_comm_fail: that rank prints "rank R: cause" and aborts the job,
 *     so no rank is left waiting for it.
 * Communication time and bytes sent are counted here for the result file. */
#ifndef PTY_COMM_H
#define PTY_COMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start MPI when the process was launched by an MPI starter (mpirun, srun);
 * otherwise stay single-rank without touching MPI.  Call once, first. */
int pty_comm_init(int *argc, char ***argv);
void pty_comm_finalize(void);

int pty_comm_rank(void);
int pty_comm_size(void);
/* Rank among the ranks on this node: picks the GPU (local_rank % devices). */
int pty_comm_local_rank(void);
/* Ranks on this node (1 without MPI). */
int pty_comm_local_size(void);

/* Collective: every rank passes its status; returns PTY_OK when all are OK,
 * else the status of the lowest failing rank, whose message (prefixed
 * "rank R: " when P > 1 and not every rank failed) becomes every rank's
 * message, which pty_comm_fail then prints once (rank 0). */
int pty_comm_agree(int rc);

/* Report the recorded error and end the program: rank 0 alone prints a
 * shared error; a local error is printed by its rank, which then aborts all
 * ranks (P > 1).  Returns the exit code for single-rank runs. */
int pty_comm_fail(int rc);

/* Collectives (in place, all ranks, same n). */
int pty_comm_sum_doubles(double *buf, size_t n);
int pty_comm_sum_floats(float *buf, size_t n);
int pty_comm_bcast(void *buf, size_t bytes, int root);
/* Gather `bytes` from every rank into `all` (size() * bytes, rank order) on root. */
int pty_comm_gather(const void *mine, size_t bytes, void *all, int root);

/* Blocking point-to-point of any size (split into pieces MPI's int counts can hold). */
int pty_comm_send(const void *buf, size_t bytes, int to, int tag);
int pty_comm_recv(void *buf, size_t bytes, int from, int tag);

/* Exchange with several peers at once: all receives and sends are posted,
 * then waited for together.  send[i] goes to peer[i], recv[i] comes from it. */
int pty_comm_exchange(int n_peers, const int *peer, void *const *send, const size_t *send_bytes, void *const *recv,
                      const size_t *recv_bytes, int tag);

/* Seconds spent in communication calls and bytes sent by this rank so far. */
double pty_comm_seconds(void);
double pty_comm_bytes_sent(void);

#ifdef __cplusplus
}
#endif
#endif /* PTY_COMM_H */
