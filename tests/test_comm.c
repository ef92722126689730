/* test_comm.c - the MPI wrapper's checks that run before any MPI call, so
 * they can be tested in one process without mpirun: an exchange larger
 * than one message is refused by name, and (under AddressSanitizer's leak
 * check) the refusal frees what it allocated. */
#include <string.h>

#include "comm.h"
#include "pty_error.h"
#include "pty_test.h"

int main(void)
{
    PTY_TEST("one process without mpirun is rank 0 of 1", pty_comm_rank() == 0 && pty_comm_size() == 1);
#ifdef PTY_HAVE_MPI
    char a[4], b[4];
    void *send[2] = {a, a}, *recv[2] = {b, b};
    const int peer[2] = {1, 2};
    const size_t send_bytes[2] = {4, (size_t)1 << 31}, recv_bytes[2] = {4, 4};
    int rc = pty_comm_exchange(2, peer, send, send_bytes, recv, recv_bytes, 7);
    PTY_TEST("an exchange over one message's limit is refused", rc == PTY_ERR_ARG);
    PTY_TEST("the refusal names the peer and the sizes",
             strstr(pty_error_message(), "exchange with rank 2: 2147483648 bytes to send and 4 to receive") != NULL);
    pty_error_clear();
#endif
    return pty_test_report();
}
