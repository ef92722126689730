/* args_usage.c - `ptycho <command> --help`: each parameter block's flags
 * under its heading, with the defaults read from the targets, so a command
 * that starts a setting elsewhere (bench's --probe-start 0) shows its own. */
#include <inttypes.h>
#include <string.h>

#include "args.h"

static const char *placeholder(pty_opt_kind kind)
{
    switch (kind) {
    case PTY_OPT_INT:
    case PTY_OPT_U64: return " N";
    case PTY_OPT_DOUBLE:
    case PTY_OPT_FLOAT: return " X";
    case PTY_OPT_STRING:
    case PTY_OPT_CHOICE: return " S";
    default: return "";
    }
}

/* " (default V)" from the target, or "" where the help states it in words or there is none. */
static void default_of(const pty_option *o, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!o->target || strstr(o->help, "default")) return;
    switch (o->kind) {
    case PTY_OPT_INT: snprintf(buf, size, " (default %d)", *(const int *)o->target); break;
    case PTY_OPT_U64: snprintf(buf, size, " (default %" PRIu64 ")", *(const uint64_t *)o->target); break;
    case PTY_OPT_DOUBLE: snprintf(buf, size, " (default %g)", *(const double *)o->target); break;
    case PTY_OPT_FLOAT: snprintf(buf, size, " (default %g)", *(const float *)o->target); break;
    case PTY_OPT_STRING: {
        const char *s = *(const char *const *)o->target;
        if (s) snprintf(buf, size, " (default %s)", s);
        break;
    }
    case PTY_OPT_CHOICE: {
        const int v = *(const int *)o->target;
        if (v >= 0 && v < o->n_choices) snprintf(buf, size, " (default %s)", o->choices[v]);
        break;
    }
    default: break;
    }
}

static void print_option(FILE *out, const pty_opt_block *b, const pty_option *o)
{
    char left[64], tail[96], help[160];
    const pty_option *now = o;
    if (o->kind == PTY_OPT_ALIAS)
        for (int i = 0; i < b->n; i++)
            if (strcmp(b->opts[i].name, o->alias_of) == 0) now = &b->opts[i];
    snprintf(left, sizeof left, "--%s%s", o->name, o->kind == PTY_OPT_ALIAS && o->alias_value ? "" : placeholder(now->kind));
    if (o->kind == PTY_OPT_ALIAS) {
        snprintf(help, sizeof help, "old spelling of --%s%s%s, still accepted with a warning", o->alias_of,
                 o->alias_value ? " " : "", o->alias_value ? o->alias_value : "");
        fprintf(out, "  %-26s %s\n", left, help);
        return;
    }
    default_of(o, tail, sizeof tail);
    fprintf(out, "  %-26s %s%s\n", left, o->help, tail);
}

void pty_args_usage(FILE *out, const char *command, const char *synopsis, const pty_opt_block *blocks, int n_blocks)
{
    fprintf(out, "usage: ptycho %s %s\n", command, synopsis);
    for (int b = 0; b < n_blocks; b++) {
        fprintf(out, "\n%s:\n", blocks[b].title ? blocks[b].title : "options");
        for (int i = 0; i < blocks[b].n; i++) print_option(out, &blocks[b], &blocks[b].opts[i]);
    }
    fprintf(out, "\n  %-26s %s\n", "--help", "show this help and exit");
}
