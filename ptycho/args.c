/* args.c - table-driven option parsing with range checks. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pty_error.h"

static const pty_option *find_option(const pty_option *opts, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncasecmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
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
    case PTY_OPT_FLAG:
        break;
    }
bad:
    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s expects %s, got '%s'", command, o->name,
                         o->kind == PTY_OPT_INT || o->kind == PTY_OPT_U64 ? "an integer" : "a number", value);
}

int pty_args_parse(const char *command, const char *synopsis, int argc, char **argv, int first,
                   const pty_option *opts, int n_opts, const char **positional, int max_positional,
                   int *n_positional)
{
    *n_positional = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.') {
            if (*n_positional >= max_positional)
                return pty_error_set(PTY_ERR_ARG, "ptycho %s: unexpected argument '%s' (see 'ptycho %s --help')",
                                     command, a, command);
            positional[(*n_positional)++] = a;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        if (strcasecmp(name, "help") == 0 || strcmp(a, "-h") == 0) {
            pty_args_usage(stdout, command, synopsis, opts, n_opts);
            return PTY_ARGS_HELP;
        }
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const pty_option *o = find_option(opts, n_opts, name, len);
        if (!o)
            return pty_error_set(PTY_ERR_ARG, "ptycho %s: unknown flag '%.*s' (see 'ptycho %s --help')", command,
                                 (int)(len + (size_t)(name - a)), a, command);
        if (o->kind == PTY_OPT_FLAG) {
            if (eq) {
                /* ptychopy style -flag=0/1 */
                if (strcmp(eq + 1, "0") != 0 && strcmp(eq + 1, "1") != 0)
                    return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s takes no value or 0/1, got '%s'", command,
                                         o->name, eq + 1);
                *(int *)o->target = eq[1] == '1';
            } else {
                *(int *)o->target = 1;
            }
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return pty_error_set(PTY_ERR_ARG, "ptycho %s: --%s needs a value", command, o->name);
            value = argv[++i];
        }
        PTY_TRY(set_value(command, o, value));
    }
    return PTY_OK;
}

void pty_args_usage(FILE *out, const char *command, const char *synopsis, const pty_option *opts, int n_opts)
{
    fprintf(out, "usage: ptycho %s %s\n\noptions:\n", command, synopsis);
    for (int i = 0; i < n_opts; i++) {
        const char *arg = "";
        switch (opts[i].kind) {
        case PTY_OPT_INT:
        case PTY_OPT_U64: arg = " N"; break;
        case PTY_OPT_DOUBLE:
        case PTY_OPT_FLOAT: arg = " X"; break;
        case PTY_OPT_STRING: arg = " S"; break;
        case PTY_OPT_FLAG: arg = ""; break;
        }
        char left[64];
        snprintf(left, sizeof left, "--%s%s", opts[i].name, arg);
        fprintf(out, "  %-26s %s\n", left, opts[i].help);
    }
    fprintf(out, "  %-26s %s\n", "--help", "show this help and exit");
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

int pty_args_output_prefix(const char *command, const char *value, char *buf, size_t size)
{
    size_t len = strlen(value);
    if (len >= 3 && strcasecmp(value + len - 3, ".h5") == 0) len -= 3;
    /* room for the longest name written from it, PREFIX_object_magnitude.tif.tmp */
    if (len == 0 || len + 40 >= size)
        return pty_error_set(PTY_ERR_ARG, "ptycho %s: --output '%s' is %s", command, value,
                             len == 0 ? "not a file prefix" : "too long");
    memcpy(buf, value, len);
    buf[len] = '\0';
    return PTY_OK;
}

const char *const pty_gpu_frames_names[3] = {"auto", "resident", "streamed"};
const char *const pty_on_off_names[2] = {"off", "on"};
