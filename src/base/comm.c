/* comm.c - MPI wrappers with a single-rank fallback, failure agreement,
 * and the communication counters.  All MPI calls come from the main thread
 * (MPI_THREAD_FUNNELED): OpenMP workers never communicate. */
#include "comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pty_error.h"
#include "pty_log.h"

#ifdef PTY_HAVE_MPI
#include <mpi.h>
#endif

#define MSG_LEN 1024
/* MPI counts are int: move big buffers in pieces of at most this many bytes. */
#define PIECE_BYTES ((size_t)1 << 30)

static struct {
    int active; /* MPI initialised by us */
    int rank, size, local_rank, local_size;
    int shared_error;
    double seconds, bytes_sent;
} comm = {0, 0, 1, 0, 1, 0, 0.0, 0.0};

#ifdef PTY_HAVE_MPI
/* Started by an MPI launcher?  Open MPI, MPICH/Hydra, Slurm and PMIx all
 * export one of these; a plain `ptycho recon` then never initialises MPI
 * (singleton start-up costs time and prints noise on some systems). */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS",
                                       "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}
#endif

int pty_comm_init(int *argc, char ***argv)
{
#ifdef PTY_HAVE_MPI
    if (!launched_by_mpi()) return PTY_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return pty_error_set(PTY_ERR_MPI, "MPI_Init_thread failed");
    comm.active = 1;
    /* Errors come back as codes, so one message can name the call. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &comm.size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, comm.rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &comm.local_rank);
        MPI_Comm_size(node, &comm.local_size);
        MPI_Comm_free(&node);
    }
    /* Only rank 0 talks, unless something goes wrong on another rank. */
    if (comm.rank != 0) pty_log_set_level(PTY_LOG_WARN);
#else
    (void)argc;
    (void)argv;
#endif
    return PTY_OK;
}

void pty_comm_finalize(void)
{
#ifdef PTY_HAVE_MPI
    if (comm.active) MPI_Finalize();
    comm.active = 0;
#endif
}

int pty_comm_rank(void) { return comm.rank; }
int pty_comm_size(void) { return comm.size; }
int pty_comm_local_rank(void) { return comm.local_rank; }
int pty_comm_local_size(void) { return comm.local_size; }
double pty_comm_seconds(void) { return comm.seconds; }
double pty_comm_bytes_sent(void) { return comm.bytes_sent; }

#ifdef PTY_HAVE_MPI
static int mpi_failed(const char *what, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", code);
    return pty_error_set(PTY_ERR_MPI, "rank %d: %s failed: %s", comm.rank, what, text);
}
#define MPI_TRY(what, call)                                                                        \
    do {                                                                                           \
        double t0_ = pty_now_s();                                                                  \
        int code_ = (call);                                                                        \
        comm.seconds += pty_now_s() - t0_;                                                         \
        if (code_ != MPI_SUCCESS) return mpi_failed(what, code_);                                  \
    } while (0)
#endif

int pty_comm_agree(int rc)
{
    comm.shared_error = 0;
#ifdef PTY_HAVE_MPI
    if (comm.active && comm.size > 1) {
        int mine[2] = {rc != PTY_OK ? comm.rank : comm.size, rc != PTY_OK}, first;
        MPI_TRY("agreeing on errors (MPI_Allreduce)", MPI_Allreduce(mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
        int n_failed = 0;
        MPI_TRY("agreeing on errors (MPI_Allreduce)",
                MPI_Allreduce(&mine[1], &n_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
        if (first == comm.size) return PTY_OK;
        char msg[MSG_LEN];
        int code = rc;
        if (comm.rank == first) snprintf(msg, sizeof msg, "%s", pty_error_message());
        MPI_TRY("sharing an error (MPI_Bcast)", MPI_Bcast(msg, MSG_LEN, MPI_CHAR, first, MPI_COMM_WORLD));
        MPI_TRY("sharing an error (MPI_Bcast)", MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD));
        msg[MSG_LEN - 1] = '\0';
        if (n_failed == comm.size)
            pty_error_set(code, "%s", msg);
        else
            pty_error_set(code, "rank %d: %s", first, msg);
        comm.shared_error = 1;
        return code;
    }
#endif
    if (rc != PTY_OK) comm.shared_error = 1;
    return rc;
}

int pty_comm_fail(int rc)
{
    if (rc == PTY_OK) return 0;
    if (comm.size == 1) {
        fprintf(stderr, "ptycho: error: %s\n", pty_error_message());
        return rc == PTY_ERR_INCOMPLETE ? 3 : 1; /* 3: a result of what came was written */
    }
    if (comm.shared_error) {
        if (comm.rank == 0) fprintf(stderr, "ptycho: error: %s\n", pty_error_message());
        return rc == PTY_ERR_INCOMPLETE ? 3 : 1;
    }
    const char *msg = pty_error_message();
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rank %d: ", comm.rank);
    int has_prefix = strncmp(msg, prefix, strlen(prefix)) == 0;
    fprintf(stderr, "ptycho: error: %s%s (ending all %d ranks)\n", has_prefix ? "" : prefix, msg, comm.size);
    fflush(stderr);
#ifdef PTY_HAVE_MPI
    if (comm.active) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    return 1;
}

#ifdef PTY_HAVE_MPI
/* In-place sum over all ranks of n elements of `size` bytes, in pieces MPI's int counts hold. */
static int sum_in_place(void *buf, size_t n, size_t size, MPI_Datatype type)
{
    const size_t piece = PIECE_BYTES / size;
    for (size_t i = 0; i < n; i += piece) {
        int c = (int)(n - i < piece ? n - i : piece);
        MPI_TRY("MPI_Allreduce", MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * size, c, type, MPI_SUM, MPI_COMM_WORLD));
        comm.bytes_sent += (double)c * size;
    }
    return PTY_OK;
}
#endif

int pty_comm_sum_doubles(double *buf, size_t n)
{
#ifdef PTY_HAVE_MPI
    if (comm.active && comm.size > 1) return sum_in_place(buf, n, sizeof *buf, MPI_DOUBLE);
#else
    (void)buf;
    (void)n;
#endif
    return PTY_OK;
}

int pty_comm_sum_floats(float *buf, size_t n)
{
#ifdef PTY_HAVE_MPI
    if (comm.active && comm.size > 1) return sum_in_place(buf, n, sizeof *buf, MPI_FLOAT);
#else
    (void)buf;
    (void)n;
#endif
    return PTY_OK;
}

int pty_comm_bcast(void *buf, size_t bytes, int root)
{
#ifdef PTY_HAVE_MPI
    if (comm.active && comm.size > 1)
        for (size_t i = 0; i < bytes; i += PIECE_BYTES) {
            int c = (int)(bytes - i < PIECE_BYTES ? bytes - i : PIECE_BYTES);
            MPI_TRY("MPI_Bcast", MPI_Bcast((char *)buf + i, c, MPI_BYTE, root, MPI_COMM_WORLD));
            if (comm.rank == root) comm.bytes_sent += c;
        }
#else
    (void)buf;
    (void)bytes;
    (void)root;
#endif
    return PTY_OK;
}

int pty_comm_gather(const void *mine, size_t bytes, void *all, int root)
{
    if (comm.size == 1 || !comm.active) {
        memcpy(all, mine, bytes);
        return PTY_OK;
    }
#ifdef PTY_HAVE_MPI
    PTY_CHECK(bytes <= PIECE_BYTES, PTY_ERR_ARG, "gather of %zu bytes per rank is too large", bytes);
    MPI_TRY("MPI_Gather", MPI_Gather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD));
    if (comm.rank != root) comm.bytes_sent += (double)bytes;
#else
    (void)root;
#endif
    return PTY_OK;
}

int pty_comm_send(const void *buf, size_t bytes, int to, int tag)
{
#ifdef PTY_HAVE_MPI
    for (size_t i = 0; i == 0 || i < bytes; i += PIECE_BYTES) {
        int c = (int)(bytes - i < PIECE_BYTES ? bytes - i : PIECE_BYTES);
        MPI_TRY("MPI_Send", MPI_Send((const char *)buf + i, c, MPI_BYTE, to, tag, MPI_COMM_WORLD));
        comm.bytes_sent += c;
    }
    return PTY_OK;
#else
    (void)buf;
    (void)bytes;
    (void)tag;
    return pty_error_set(PTY_ERR_MPI, "send to rank %d: built without MPI", to);
#endif
}

int pty_comm_recv(void *buf, size_t bytes, int from, int tag)
{
#ifdef PTY_HAVE_MPI
    for (size_t i = 0; i == 0 || i < bytes; i += PIECE_BYTES) {
        int c = (int)(bytes - i < PIECE_BYTES ? bytes - i : PIECE_BYTES);
        MPI_TRY("MPI_Recv", MPI_Recv((char *)buf + i, c, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    return PTY_OK;
#else
    (void)buf;
    (void)bytes;
    (void)tag;
    return pty_error_set(PTY_ERR_MPI, "receive from rank %d: built without MPI", from);
#endif
}

int pty_comm_exchange(int n_peers, const int *peer, void *const *send, const size_t *send_bytes, void *const *recv,
                      const size_t *recv_bytes, int tag)
{
    if (n_peers == 0) return PTY_OK;
    PTY_CHECK(n_peers > 0, PTY_ERR_ARG, "exchange with %d peers", n_peers);
#ifdef PTY_HAVE_MPI
    for (int i = 0; i < n_peers; i++)
        PTY_CHECK(send_bytes[i] <= PIECE_BYTES && recv_bytes[i] <= PIECE_BYTES, PTY_ERR_ARG,
                  "exchange with rank %d: %zu bytes to send and %zu to receive, more than one message holds (%zu)",
                  peer[i], send_bytes[i], recv_bytes[i], PIECE_BYTES);
    MPI_Request *req = malloc((size_t)2 * n_peers * sizeof *req);
    PTY_CHECK(req, PTY_ERR_NOMEM, "cannot allocate %d MPI requests", 2 * n_peers);
    for (int i = 0; i < n_peers; i++) req[i] = req[n_peers + i] = MPI_REQUEST_NULL;
    int rc = PTY_OK;
    double t0 = pty_now_s();
    for (int i = 0; i < n_peers && rc == PTY_OK; i++) {
        int code = MPI_Irecv(recv[i], (int)recv_bytes[i], MPI_BYTE, peer[i], tag, MPI_COMM_WORLD, &req[i]);
        if (code != MPI_SUCCESS) rc = mpi_failed("MPI_Irecv", code);
    }
    for (int i = 0; i < n_peers && rc == PTY_OK; i++) {
        int code = MPI_Isend(send[i], (int)send_bytes[i], MPI_BYTE, peer[i], tag, MPI_COMM_WORLD, &req[n_peers + i]);
        if (code != MPI_SUCCESS) rc = mpi_failed("MPI_Isend", code);
        comm.bytes_sent += (double)send_bytes[i];
    }
    if (rc == PTY_OK) {
        int code = MPI_Waitall(2 * n_peers, req, MPI_STATUSES_IGNORE);
        if (code != MPI_SUCCESS) rc = mpi_failed("MPI_Waitall", code);
    }
    comm.seconds += pty_now_s() - t0;
    free(req);
    return rc;
#else
    (void)send;
    (void)send_bytes;
    (void)recv;
    (void)recv_bytes;
    (void)tag;
    return pty_error_set(PTY_ERR_MPI, "exchange with rank %d: built without MPI", peer[0]);
#endif
}
