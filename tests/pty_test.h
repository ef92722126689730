/* pty_test.h - a tiny redis-style test counter for the C unit tests.
 *
 * PTY_TEST("what is checked", cond) prints PASSED/FAILED per check;
 * pty_test_report() returns the exit code (0 all passed, 1 otherwise).
 * Tests needing a GPU return PTY_TEST_SKIP (77) when none is present. */
#ifndef PTY_TEST_H
#define PTY_TEST_H

#include <stdio.h>

#define PTY_TEST_SKIP 77

static int pty_test_failed = 0, pty_test_passed = 0;

#define PTY_TEST(descr, cond)                                                         \
    do {                                                                              \
        if (cond) {                                                                   \
            pty_test_passed++;                                                        \
            printf("PASSED  %s\n", descr);                                            \
        } else {                                                                      \
            pty_test_failed++;                                                        \
            printf("FAILED  %s  (%s:%d: %s)\n", descr, __FILE__, __LINE__, #cond);    \
        }                                                                             \
    } while (0)

static inline int pty_test_report(void)
{
    printf("%d passed, %d failed\n", pty_test_passed, pty_test_failed);
    return pty_test_failed ? 1 : 0;
}

#endif /* PTY_TEST_H */
