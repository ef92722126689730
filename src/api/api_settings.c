/* api_settings.c - named settings for the public interface, kept as the
 * command line would give them and parsed by the same option blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_types.h"
#include "opts.h"
#include "pty_error.h"

int ptycho_settings_create(ptycho_settings **out)
{
    PTY_CHECK(out, PTY_ERR_ARG, "ptycho_settings_create: out is NULL");
    *out = calloc(1, sizeof **out);
    PTY_CHECK(*out, PTY_ERR_NOMEM, "cannot allocate settings");
    return PTY_OK;
}

int ptycho_settings_set(ptycho_settings *s, const char *name, const char *value)
{
    PTY_CHECK(s && name && value, PTY_ERR_ARG, "ptycho_settings_set: settings, name and value are required");
    PTY_CHECK(name[0] && name[0] != '-', PTY_ERR_ARG,
              "ptycho_settings_set: '%s': give the flag's name without dashes, e.g. \"modes\"", name);
    char *v = strdup(value);
    PTY_CHECK(v, PTY_ERR_NOMEM, "cannot allocate a setting");
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) {
            free(s->values[i]);
            s->values[i] = v;
            return PTY_OK;
        }
    if (s->n == s->cap) {
        const int cap = s->cap ? 2 * s->cap : 16;
        char **names = realloc(s->names, (size_t)cap * sizeof *names);
        if (names) s->names = names;
        char **values = names ? realloc(s->values, (size_t)cap * sizeof *values) : NULL;
        if (values) s->values = values;
        if (!names || !values) {
            free(v);
            return pty_error_set(PTY_ERR_NOMEM, "cannot allocate a setting");
        }
        s->cap = cap;
    }
    char *n = strdup(name);
    if (!n) {
        free(v);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate a setting");
    }
    s->names[s->n] = n;
    s->values[s->n++] = v;
    return PTY_OK;
}

void ptycho_settings_destroy(ptycho_settings *s)
{
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->values[i]);
    }
    free(s->names);
    free(s->values);
    free(s);
}

/* A switch's value as the parser takes it: on = "1". */
static int switch_value(const char *name, const char *v, const char **out)
{
    static const char *const on[] = {"on", "1", "true", "yes"}, *const off[] = {"off", "0", "false", "no"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, on[i]) == 0) return *out = "1", PTY_OK;
        if (strcasecmp(v, off[i]) == 0) return *out = "0", PTY_OK;
    }
    return pty_error_set(PTY_ERR_ARG, "setting '%s' is a switch: give on or off, got '%s'", name, v);
}

int pty_api_config_from(const ptycho_settings *s, pty_api_config *c)
{
    memset(c, 0, sizeof *c);
    pty_read_options_default(&c->read);
    pty_recon_params_default(&c->epie);
    pty_probe_guess_options_default(&c->guess);
    int iterations = 0;
    pty_input_flags input = {.read = &c->read};
    pty_opt_block blocks[5];
    pty_opts_input(&blocks[0], &input);
    pty_opts_detector(&blocks[1], &input);
    pty_opts_position_file(&blocks[2], &input);
    pty_opts_epie(&blocks[3], &c->epie, &iterations);
    pty_opts_probe(&blocks[4], &c->guess);
    const int n = s ? s->n : 0;
    /* "ptycho recon --name=value ...": the words the command line would parse */
    char **argv = calloc(2 * (size_t)n + 2, sizeof *argv);
    unsigned char *owned = calloc(2 * (size_t)n + 2, 1);
    if (!argv || !owned) {
        free(argv);
        free(owned);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the settings");
    }
    argv[0] = "ptycho";
    argv[1] = "recon";
    int argc = 2, rc = PTY_OK;
    for (int i = 0; i < n && rc == PTY_OK; i++) {
        const char *name = s->names[i], *value = s->values[i];
        const pty_option *o = pty_args_find(blocks, 5, name);
        if (!o)
            rc = pty_error_set(PTY_ERR_ARG,
                               "unknown setting '%s' (the settings are the reader, ePIE and first-probe flags of "
                               "'ptycho recon --help', without the dashes)", name);
        else if (strcasecmp(name, "iterations") == 0)
            rc = pty_error_set(PTY_ERR_ARG, "setting '%s': give the iterations to ptycho_recon_iterate, not as a setting",
                               name);
        else if (strcasecmp(name, "input") == 0)
            rc = pty_error_set(PTY_ERR_ARG, "setting '%s': give the file to ptycho_scan_read, not as a setting", name);
        else if (pty_args_is_switch(o))
            rc = switch_value(name, value, &value);
        if (rc != PTY_OK) break;
        /* "--name" "value": the value word is the settings' own, so a string option's
           target points into the settings (not into argv, freed below) */
        const size_t len = strlen(name) + 5; /* "--" name "=0" */
        if (!(argv[argc] = malloc(len))) {
            rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate the settings");
            break;
        }
        snprintf(argv[argc], len, "--%s", name);
        owned[argc++] = 1;
        if (pty_args_is_switch(o)) strcat(argv[argc - 1], value[0] == '1' ? "" : "=0");
        else argv[argc++] = s->values[i];
    }
    if (rc == PTY_OK) {
        const char *pos[1];
        int n_pos;
        rc = pty_args_parse("recon", "", argc, argv, 2, blocks, 5, pos, 0, &n_pos);
    }
    for (int i = 2; i < argc; i++)
        if (owned[i]) free(argv[i]);
    free(argv);
    free(owned);
    c->epie.probe_diameter = c->guess.diameter_px; /* as ptycho recon: the engine's data start and the guess alike */
    return rc;
}
