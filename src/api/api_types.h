/* api_types.h - what the public handles of ptycho.h hold (private to
 * src/api). */
#ifndef PTY_API_TYPES_H
#define PTY_API_TYPES_H

#include "cxi_read.h"
#include "engine.h"
#include "probe_guess.h"
#include "ptycho.h"

/* The settings as the command line would give them: name/value pairs,
 * parsed by recon's own option blocks when used, so a setting means and
 * checks exactly what its flag does. */
struct ptycho_settings {
    char **names, **values;
    int n, cap;
};

/* Everything `ptycho recon` decides from its reader, ePIE and first-probe
 * flags. */
typedef struct pty_api_config {
    pty_read_options read;
    pty_recon_params epie;
    pty_probe_guess_options guess;
} pty_api_config;

/* Parse `s` (NULL: defaults) into *c.  Strings in *c point into `s`, so it
 * must outlive their use. */
int pty_api_config_from(const ptycho_settings *s, pty_api_config *c);

struct ptycho_scan {
    pty_dataset *data;
    char *source; /* the file read, or "arrays" */
};

#endif /* PTY_API_TYPES_H */
