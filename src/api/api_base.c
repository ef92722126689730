/* api_base.c - version, statuses, error messages and the log sink of the
 * public interface: each a thin name over the library's own. */
#include "ptycho.h"

#include "pty_error.h"
#include "pty_log.h"

/* The public codes are the library's, so a status passes through unchanged. */
_Static_assert((int)PTYCHO_ERR_ARG == (int)PTY_ERR_ARG && (int)PTYCHO_ERR_DIVERGED == (int)PTY_ERR_DIVERGED,
               "ptycho.h statuses must equal pty_error.h's");
_Static_assert((int)PTYCHO_LOG_WARN == (int)PTY_LOG_WARN && (int)PTYCHO_LOG_DEBUG == (int)PTY_LOG_DEBUG,
               "ptycho.h log levels must equal pty_log.h's");

const char *ptycho_version(void) { return PTY_VERSION; }
const char *ptycho_error_message(void) { return pty_error_message(); }
const char *ptycho_status_name(int status) { return pty_strerror(status); }
void ptycho_set_log(ptycho_log_fn sink, void *user) { pty_log_set_sink(sink, user); }
void ptycho_set_log_level(int level) { pty_log_set_level(level); }
