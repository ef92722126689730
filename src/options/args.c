/* args.c - table-driven option parsing with range checks, over a command's
 * parameter blocks (args.h); old spellings resolved here, once for all. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "comm.h"
#include "pty_error.h"
#include "pty_log.h"

void pty_opt_block_set(pty_opt_block *b, const char *title, const pty_option *table, int n, int (*check)(void *),
                       void *ctx)
{
    if (n > PTY_BLOCK_MAX) n = PTY_BLOCK_MAX; /* PTY_OPT_BLOCK refuses that at compile time */
    memset(b, 0, sizeof *b);
    b->title = title;
    memcpy(b->opts, table, (size_t)n * sizeof *table);
    b->n = n;
    b->check = check;
    b->ctx = ctx;
}

static const pty_option *find_option(const pty_opt_block *blocks, int n_blocks, const char *name, size_t len)
{
    for (int b = 0; b < n_blocks; b++)
        for (int i = 0; i < blocks[b].n; i++) {
            const pty_option *o = &blocks[b].opts[i];
            if (strlen(o->name) == len && strncasecmp(o->name, name, len) == 0) return o;
        }
    return NULL;
}

/* Every name once, every old spelling naming an option of these blocks: the
 * tables are written in separate files, so the parser checks their union. */
static int check_tables(const char *command, const pty_opt_block *blocks, int n_blocks)
{
    for (int b = 0; b < n_blocks; b++)
        for (int i = 0; i < blocks[b].n; i++) {
            const pty_option *o = &blocks[b].opts[i];
            if (find_option(blocks, n_blocks, o->name, strlen(o->name)) != o)
                return pty_error_set(PTY_ERR_ARG, "ptycho %s: flag --%s is defined twice (a bug)", command, o->name);
            if (o->kind == PTY_OPT_ALIAS && !find_option(blocks, n_blocks, o->alias_of, strlen(o->alias_of)))
                return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s is the old name of --%s, which is not a flag (a bug)",
                                     command, o->name, o->alias_of);
        }
    return PTY_OK;
}

static int in_range(const pty_option *o, double v)
{
    return o->min > o->max || (v >= o->min && v <= o->max);
}

static int range_error(const char *command, const pty_option *o, const char *value)
{
    if (o->min > o->max)
        return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s %s is too large for an integer", command, o->name, value);
    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s %s is out of range [%g, %g]", command, o->name, value, o->min,
                         o->max);
}

static int set_value(const char *command, const pty_option *o, const char *value)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case PTY_OPT_INT: {
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end) goto bad;
        if (!in_range(o, (double)v) || v < -2147483647LL || v > 2147483647LL) return range_error(command, o, value);
        *(int *)o->target = (int)v;
        return PTY_OK;
    }
    case PTY_OPT_U64: {
        /* strtoull would wrap "-1" to 2^64 - 1: a sign is never a valid count or seed */
        if (value[0] == '-' || value[0] == '+') goto bad;
        unsigned long long v = strtoull(value, &end, 10);
        if (end == value || *end) goto bad;
        if (errno == ERANGE) return range_error(command, o, value);
        if (!in_range(o, (double)v)) return range_error(command, o, value);
        *(uint64_t *)o->target = (uint64_t)v;
        return PTY_OK;
    }
    case PTY_OPT_DOUBLE:
    case PTY_OPT_FLOAT: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v)) goto bad;
        if (!in_range(o, v)) return range_error(command, o, value);
        if (o->kind == PTY_OPT_DOUBLE) *(double *)o->target = v;
        else *(float *)o->target = (float)v;
        return PTY_OK;
    }
    case PTY_OPT_STRING:
        *(const char **)o->target = value;
        return PTY_OK;
    case PTY_OPT_CHOICE:
        return pty_args_choice(command, o->name, value, o->choices, o->n_choices, (int *)o->target);
    case PTY_OPT_FLAG:
    case PTY_OPT_UNSET: /* "1" (given) or "0" (ptychopy's -flag=0) */
        *(int *)o->target = (value[0] == '1') == (o->kind == PTY_OPT_FLAG);
        return PTY_OK;
    case PTY_OPT_ALIAS:
        break;
    }
bad:
    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s expects %s, got '%s'", command, o->name,
                         o->kind == PTY_OPT_INT || o->kind == PTY_OPT_U64 ? "an integer" : "a number", value);
}

static int takes_value(const pty_option *o)
{
    return o->kind != PTY_OPT_FLAG && o->kind != PTY_OPT_UNSET;
}

const pty_option *pty_args_find(const pty_opt_block *blocks, int n_blocks, const char *name)
{
    return find_option(blocks, n_blocks, name, strlen(name));
}

int pty_args_is_switch(const pty_option *o) { return !takes_value(o) || (o->kind == PTY_OPT_ALIAS && o->alias_value); }

/* A target's value, to tell whether an old and a new spelling agree. */
typedef union target_value {
    int i;
    uint64_t u;
    double d;
    float f;
    const char *s;
} target_value;

static target_value read_target(const pty_option *o)
{
    target_value v;
    memset(&v, 0, sizeof v);
    switch (o->kind) {
    case PTY_OPT_U64: v.u = *(const uint64_t *)o->target; break;
    case PTY_OPT_DOUBLE: v.d = *(const double *)o->target; break;
    case PTY_OPT_FLOAT: v.f = *(const float *)o->target; break;
    case PTY_OPT_STRING: v.s = *(const char *const *)o->target; break;
    default: v.i = *(const int *)o->target; break;
    }
    return v;
}

static int same_value(const pty_option *o, target_value a, target_value b)
{
    switch (o->kind) {
    case PTY_OPT_U64: return a.u == b.u;
    case PTY_OPT_DOUBLE: return a.d == b.d;
    case PTY_OPT_FLOAT: return a.f == b.f;
    case PTY_OPT_STRING: return a.s == b.s || (a.s && b.s && strcmp(a.s, b.s) == 0);
    default: return a.i == b.i;
    }
}

/* Who last set an option, and with what words. */
typedef struct given {
    const pty_option *option; /* the option now (an old spelling resolved) */
    const pty_option *via;    /* the spelling used: option itself or an old one */
    const char *value;        /* the value as written ("" for a flag) */
} given;

static int disagree(const char *command, const given *old_g, const given *new_g)
{
    const given *alias = old_g->via->kind == PTY_OPT_ALIAS ? old_g : new_g;
    const given *now = alias == old_g ? new_g : old_g;
    const char *gap = *now->value ? " " : "";
    if (alias->via->alias_value)
        return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s and --%s%s%s contradict each other", command,
                             alias->via->name, now->via->name, gap, now->value);
    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s %s and --%s%s%s disagree (--%s is the old name of --%s)",
                         command, alias->via->name, alias->value, now->via->name, gap, now->value, alias->via->name,
                         now->via->name);
}

static void warn_old_spelling(const pty_option *alias, const char *value)
{
    if (pty_comm_rank() != 0) return; /* every rank parses the same words: one line, not one per rank */
    if (alias->alias_value) {
        pty_warn("--%s is the old spelling of --%s %s: use that", alias->name, alias->alias_of, alias->alias_value);
        return;
    }
    pty_warn("--%s is the old name of --%s%s%s%s: use --%s%s%s", alias->name, alias->alias_of, alias->help ? " (" : "",
             alias->help ? alias->help : "", alias->help ? ")" : "", alias->alias_of, *value ? " " : "", value);
}

/* Set option o, named by the spelling via, to value ("0"/"1" for a switch), and
 * refuse an old spelling and a new one that set it differently. */
static int apply(const char *command, const pty_option *o, const pty_option *via, const char *value, given *log,
                 int *n_log)
{
    given g = {o, via, takes_value(o) ? value : ""}, *prev = NULL;
    for (int k = 0; k < *n_log && !prev; k++)
        if (log[k].option == o) prev = &log[k];
    const target_value before = read_target(o);
    PTY_TRY(set_value(command, o, value));
    if (via->kind == PTY_OPT_ALIAS) warn_old_spelling(via, g.value);
    if (prev && prev->via != via && (prev->via->kind == PTY_OPT_ALIAS || via->kind == PTY_OPT_ALIAS) &&
        !same_value(o, before, read_target(o)))
        return disagree(command, prev, &g);
    if (prev) *prev = g;
    else log[(*n_log)++] = g;
    return PTY_OK;
}

static int is_help(const char *a)
{
    if (strcmp(a, "-h") == 0) return 1;
    return a[0] == '-' && strcasecmp(a + (a[1] == '-' ? 2 : 1), "help") == 0;
}

static int is_flag_word(const char *a)
{
    return a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.';
}

int pty_args_parse(const char *command, const char *synopsis, int argc, char **argv, int first,
                   const pty_opt_block *blocks, int n_blocks, const char **positional, int max_positional,
                   int *n_positional)
{
    *n_positional = 0;
    PTY_TRY(check_tables(command, blocks, n_blocks));
    for (int i = first; i < argc; i++)
        if (is_help(argv[i])) {
            pty_args_usage(stdout, command, synopsis, blocks, n_blocks);
            return PTY_ARGS_HELP;
        }
    int n_options = 0, n_log = 0;
    for (int b = 0; b < n_blocks; b++) n_options += blocks[b].n;
    given *log = malloc((size_t)(n_options > 0 ? n_options : 1) * sizeof *log);
    PTY_CHECK(log, PTY_ERR_NOMEM, "ptycho %s: cannot allocate the flags", command);
    int rc = PTY_OK;
    for (int i = first; i < argc && rc == PTY_OK; i++) {
        const char *a = argv[i];
        if (!is_flag_word(a)) {
            if (*n_positional >= max_positional)
                rc = pty_error_set(PTY_ERR_ARG, "ptycho %s: unexpected argument '%s' (see 'ptycho %s --help')",
                                   command, a, command);
            else positional[(*n_positional)++] = a;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const pty_option *via = find_option(blocks, n_blocks, name, len), *o = via;
        if (!via) {
            rc = pty_error_set(PTY_ERR_ARG, "ptycho %s: unknown flag '%.*s' (see 'ptycho %s --help')", command,
                               (int)(len + (size_t)(name - a)), a, command);
            break;
        }
        if (via->kind == PTY_OPT_ALIAS) o = find_option(blocks, n_blocks, via->alias_of, strlen(via->alias_of));
        const char *value = eq ? eq + 1 : NULL;
        if (!takes_value(o) || (via->kind == PTY_OPT_ALIAS && via->alias_value)) {
            /* a switch: no value, or ptychopy's -flag=0/1 */
            if (value && strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
                rc = pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s takes no value or 0/1, got '%s'", command, via->name,
                                   value);
                break;
            }
            const int on = !value || value[0] == '1';
            const char *fixed = via->kind == PTY_OPT_ALIAS ? via->alias_value : NULL;
            if (fixed && !on) continue; /* an old switch for a value, given as off: it asks for nothing */
            rc = apply(command, o, via, fixed ? fixed : on ? "1" : "0", log, &n_log);
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                rc = pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s needs a value", command, via->name);
                break;
            }
            value = argv[++i];
        }
        rc = apply(command, o, via, value, log, &n_log);
    }
    free(log);
    for (int b = 0; b < n_blocks && rc == PTY_OK; b++)
        if (blocks[b].check && (rc = blocks[b].check(blocks[b].ctx)) != PTY_OK) pty_error_context("ptycho %s", command);
    return rc;
}

int pty_args_choice(const char *command, const char *flag, const char *value, const char *const *names, int n,
                    int *out)
{
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        if (strcasecmp(value, names[i]) == 0) {
            *out = i;
            return PTY_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "|" : "", names[i]);
    }
    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s must be one of %s, got '%s'", command, flag, list, value);
}

const char *const pty_gpu_frames_names[3] = {"auto", "resident", "streamed"};
const char *const pty_on_off_names[2] = {"off", "on"};
