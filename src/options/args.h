/* args.h - command-line options from tables, for every subcommand.
 *
 * A command's flags come in blocks: one table per parameter block (the
 * ePIE parameters, the stitch options, the output ...), written once in
 * src/options/opts_*.c and handed to every command that takes the block (and
 * to the public ptycho_settings), so a
 * setting has one name, one range and one help line everywhere.
 *
 * Accepts "--name value", "--name=value" and ptychopy's "-name=value"
 * (names case-insensitive), so existing beamline scripts keep working.
 * Numeric values are range-checked and the message names the flag; ranges
 * a library checks (pty_recon_params_check ...) are left to the block's
 * check, which runs once all flags are parsed. */
#ifndef PTY_ARGS_H
#define PTY_ARGS_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    PTY_OPT_FLAG,    /* bool (int) set to 1, no value */
    PTY_OPT_UNSET,   /* bool (int) set to 0, no value: --no-<something> for a default that is on */
    PTY_OPT_INT,     /* int */
    PTY_OPT_U64,     /* uint64_t */
    PTY_OPT_DOUBLE,  /* double */
    PTY_OPT_FLOAT,   /* float */
    PTY_OPT_STRING,  /* const char *, points into argv */
    PTY_OPT_CHOICE,  /* int: the index of the value among choices[0..n_choices) */
    PTY_OPT_ALIAS    /* an old spelling of option alias_of (with alias_value, if set, as its value) */
} pty_opt_kind;

typedef struct pty_option {
    const char *name;  /* without dashes, e.g. "iterations" */
    pty_opt_kind kind;
    void *target;
    double min, max;   /* accepted range for numbers; min > max = any (or checked by the block) */
    const char *help;  /* one line.  Without the word "default" the usage appends the target's value
                          as "(default V)", so a command that sets another default shows its own;
                          a default that is not a value ("from the file") is stated in the text */
    const char *const *choices; /* PTY_OPT_CHOICE */
    int n_choices;
    const char *alias_of;    /* PTY_OPT_ALIAS: the option's name now */
    const char *alias_value; /* PTY_OPT_ALIAS: the value the old spelling stands for (it takes none), or NULL */
} pty_option;

/* Table entries (designated, so the fields a kind does not use need not be written). */
#define PTY_OPT(name_, kind_, target_, min_, max_, help_) \
    {.name = (name_), .kind = (kind_), .target = (target_), .min = (min_), .max = (max_), .help = (help_)}
#define PTY_CHOICE(name_, target_, names_, n_, help_)                                                         \
    {.name = (name_), .kind = PTY_OPT_CHOICE, .target = (target_), .min = 1, .max = 0, .help = (help_),   \
     .choices = (names_), .n_choices = (n_)}
/* An old spelling: one entry, in the block of the option it names; the parser warns (rank 0
   only) each time it is used.  `why` (may be NULL) is said in the warning; value: see alias_value. */
#define PTY_ALIAS(old_, now_, value_, why_) \
    {.name = (old_), .kind = PTY_OPT_ALIAS, .min = 1, .max = 0, .help = (why_), .alias_of = (now_), .alias_value = (value_)}

/* Largest block. */
#define PTY_BLOCK_MAX 32

/* One parameter block's flags.  check (may be NULL) runs once all of a
 * command's flags are parsed, with the block's ctx: it checks ranges that
 * span flags or live in a library and derives what the flags imply.  Its
 * message names the flag; the parser puts "ptycho <command>: " in front. */
typedef struct pty_opt_block {
    const char *title; /* heading in --help, e.g. "ePIE" */
    pty_option opts[PTY_BLOCK_MAX];
    int n;
    int (*check)(void *ctx);
    void *ctx;
} pty_opt_block;

/* Copy table[0..n) into b (n at most PTY_BLOCK_MAX) with its heading and check. */
void pty_opt_block_set(pty_opt_block *b, const char *title, const pty_option *table, int n, int (*check)(void *),
                       void *ctx);
/* The same for a table array, refused at compile time when it outgrows a block. */
#define PTY_OPT_BLOCK(b, title, table, check, ctx)                                                          \
    do {                                                                                                     \
        _Static_assert(sizeof(table) / sizeof((table)[0]) <= PTY_BLOCK_MAX, "flag table larger than a block"); \
        pty_opt_block_set((b), (title), (table), (int)(sizeof(table) / sizeof((table)[0])), (check), (ctx));    \
    } while (0)

/* Returned when --help was given (usage already printed to stdout). */
#define PTY_ARGS_HELP 1000

/* Parse argv[first..argc) against blocks[0..n_blocks), then run the
 * blocks' checks in order.  Non-option words go to positional[] (at most
 * max_positional; more is an error).  Unknown flags, missing or malformed
 * values and out-of-range numbers fail with PTY_ERR_ARG and a message such
 * as "unknown flag '--foo' for 'ptycho recon' (see 'ptycho recon --help')";
 * so does an old spelling given with another value than its new one.
 * --help anywhere prints the usage with the defaults (flags before it are
 * not applied) and returns PTY_ARGS_HELP. */
int pty_args_parse(const char *command, const char *synopsis, int argc, char **argv, int first,
                   const pty_opt_block *blocks, int n_blocks, const char **positional, int max_positional,
                   int *n_positional);

/* The option called `name` (no dashes, any case) in blocks, or NULL; and
 * whether it is a switch (takes no value, or 0/1), for callers that hold
 * settings as name/value pairs (the public ptycho_settings). */
const pty_option *pty_args_find(const pty_opt_block *blocks, int n_blocks, const char *name);
int pty_args_is_switch(const pty_option *o);

/* *out = the index of value among names[0..n) (case-insensitive), else
 * PTY_ERR_ARG: "ptycho <command>: --<flag> must be one of a|b|c, got 'x'". */
int pty_args_choice(const char *command, const char *flag, const char *value, const char *const *names, int n,
                    int *out);

/* Names of the PTY_FRAMES_* placements, for --gpu-frames. */
extern const char *const pty_gpu_frames_names[3];

/* "off", "on" (index = the switch's value), for on|off flags. */
extern const char *const pty_on_off_names[2];

/* Print "usage: ptycho <command> <synopsis>" and each block's options under its heading. */
void pty_args_usage(FILE *out, const char *command, const char *synopsis, const pty_opt_block *blocks, int n_blocks);

#endif /* PTY_ARGS_H */
