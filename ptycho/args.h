/* args.h - command-line options from a table, for every subcommand.
 *
 * Accepts "--name value", "--name=value" and ptychopy's "-name=value"
 * (names case-insensitive), so existing beamline scripts keep working.
 * Numeric values are range-checked and the message names the flag. */
#ifndef PTY_ARGS_H
#define PTY_ARGS_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    PTY_OPT_FLAG,    /* bool (int), no value */
    PTY_OPT_INT,     /* int */
    PTY_OPT_U64,     /* uint64_t */
    PTY_OPT_DOUBLE,  /* double */
    PTY_OPT_FLOAT,   /* float */
    PTY_OPT_STRING   /* const char *, points into argv */
} pty_opt_kind;

typedef struct pty_option {
    const char *name;  /* without dashes, e.g. "iterations" */
    pty_opt_kind kind;
    void *target;
    double min, max;   /* accepted range for numbers; min > max = any */
    const char *help;  /* one line; state the default and unit */
} pty_option;

/* Returned when --help was given (usage already printed to stdout). */
#define PTY_ARGS_HELP 1000

/* Parse argv[first..argc).  Non-option words go to positional[] (at most
 * max_positional; more is an error).  Unknown flags, missing or malformed
 * values and out-of-range numbers fail with PTY_ERR_ARG and a message such
 * as "unknown flag '--foo' for 'ptycho recon' (see 'ptycho recon --help')". */
int pty_args_parse(const char *command, const char *synopsis, int argc, char **argv, int first,
                   const pty_option *opts, int n_opts, const char **positional, int max_positional,
                   int *n_positional);

/* *out = the index of value among names[0..n) (case-insensitive), else
 * PTY_ERR_ARG: "ptycho <command>: --<flag> must be one of a|b|c, got 'x'". */
int pty_args_choice(const char *command, const char *flag, const char *value, const char *const *names, int n,
                    int *out);

/* The output prefix of --output `value` into buf: a trailing ".h5" is
 * dropped, so "--output run7.h5" writes run7.h5 (not run7.h5.h5) and
 * run7_*.tif.  PTY_ERR_ARG when it does not fit or is empty. */
int pty_args_output_prefix(const char *command, const char *value, char *buf, size_t size);

/* Names of the PTY_FRAMES_* placements, for --gpu-frames. */
extern const char *const pty_gpu_frames_names[3];

/* "off", "on" (index = the switch's value), for on|off flags. */
extern const char *const pty_on_off_names[2];

/* Print "usage: ptycho <command> <synopsis>" and one line per option. */
void pty_args_usage(FILE *out, const char *command, const char *synopsis, const pty_option *opts, int n_opts);

#endif /* PTY_ARGS_H */
