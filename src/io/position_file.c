/* position_file.c - a table of positions (CSV or whitespace), matched to frames by trigger. */
#define _GNU_SOURCE /* strcasecmp, getline */
#include "position_file.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pty_error.h"
#include "pty_log.h"

#define MAX_COLUMNS 64
#define LISTED 8 /* frames or rows named in a warning */

typedef struct table {
    const char *file;
    char names[MAX_COLUMNS][64]; /* the header's, or "" */
    int n_names;
    double *rows; /* n_rows x 3: x, y, trigger */
    int *line;    /* each row's line in the file */
    int n_rows, cap;
} table;

/* Split a line at commas, semicolons and blanks; returns the field count. */
static int split(char *line, char *field[MAX_COLUMNS])
{
    int n = 0;
    for (char *p = line; *p;) {
        while (*p && strchr(",; \t\r\n", *p)) p++;
        if (!*p) break;
        if (n == MAX_COLUMNS) return MAX_COLUMNS + 1;
        field[n++] = p;
        while (*p && !strchr(",; \t\r\n", *p)) p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

static int is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

/* A column by header name (case-insensitive) or 1-based number; -1 if none. */
static int find_column(const table *t, const char *spec)
{
    for (int i = 0; i < t->n_names; i++)
        if (strcasecmp(t->names[i], spec) == 0) return i;
    char *end;
    const long k = strtol(spec, &end, 10);
    return *end == '\0' && end != spec && k >= 1 && k <= MAX_COLUMNS ? (int)k - 1 : -1;
}

/* The header's column for an axis: "x", or "x" followed by '_', '(', '[' or a blank. */
static int axis_column(const table *t, char axis)
{
    for (int i = 0; i < t->n_names; i++) {
        const char *s = t->names[i];
        if (tolower((unsigned char)s[0]) == axis && (s[1] == '\0' || strchr("_([ ", s[1]))) return i;
    }
    return -1;
}

/* SI factor of a unit name; 0 when unknown, -1 for object pixels. */
static double unit_of(const char *u)
{
    static const struct { const char *name; double f; } units[] = {
        {"nm", 1e-9}, {"um", 1e-6}, {"µm", 1e-6}, {"micron", 1e-6}, {"microns", 1e-6}, {"mm", 1e-3}, {"m", 1.0},
        {"px", -1.0}, {"pixel", -1.0}, {"pixels", -1.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcasecmp(units[i].name, u) == 0) return units[i].f;
    return 0.0;
}

/* The unit a header name states: x_um, y(nm), x [mm]. */
static double unit_in_name(const char *name)
{
    const char *p = name + 1;
    while (*p && strchr("_([ ", *p)) p++;
    char u[16];
    size_t n = 0;
    while (p[n] && !strchr(")] ", p[n]) && n + 1 < sizeof u) {
        u[n] = p[n];
        n++;
    }
    u[n] = '\0';
    return n ? unit_of(u) : 0.0;
}

static void table_free(table *t)
{
    free(t->rows);
    free(t->line);
}

/* Read the whole table: the header (if the first line holds a non-number)
 * and the three chosen columns of every row. */
static int read_table(const pty_read_options *o, table *t, int *cx, int *cy, int *ct)
{
    const char *f = o->positions_file;
    FILE *in = fopen(f, "r");
    if (!in) return pty_error_set(PTY_ERR_IO, "cannot open position file '%s' (%s)", f, strerror(errno));
    char *line = NULL;
    size_t size = 0;
    int lineno = 0, rc = PTY_OK, started = 0;
    *cx = *cy = *ct = -1;
    while (rc == PTY_OK && getline(&line, &size, in) >= 0) {
        lineno++;
        char *field[MAX_COLUMNS + 1];
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == '\0') continue;
        const int nf = split(p, field);
        if (nf > MAX_COLUMNS) {
            rc = pty_error_set(PTY_ERR_DATA, "'%s' line %d has more than %d columns", f, lineno, MAX_COLUMNS);
            break;
        }
        if (!started) {
            started = 1;
            double v;
            int header = 0;
            for (int i = 0; i < nf; i++) header |= !is_number(field[i], &v);
            if (header) {
                for (int i = 0; i < nf; i++) snprintf(t->names[i], sizeof t->names[i], "%s", field[i]);
                t->n_names = nf;
            }
            /* the columns, now that the names are known */
            if (o->position_columns) {
                char spec[256], *comma;
                snprintf(spec, sizeof spec, "%s", o->position_columns);
                comma = strchr(spec, ',');
                if (!comma) {
                    rc = pty_error_set(PTY_ERR_ARG, "--position-columns: give two columns, X,Y (got '%s')", spec);
                    break;
                }
                *comma = '\0';
                *cx = find_column(t, spec);
                *cy = find_column(t, comma + 1);
                if (*cx < 0 || *cy < 0) {
                    rc = pty_error_set(PTY_ERR_ARG, "--position-columns %s: '%s' has no column '%s'%s%s", o->position_columns, f,
                                       *cx < 0 ? spec : comma + 1, t->n_names ? " (its header names: " : "",
                                       t->n_names ? "see the first line)" : " (no header line: give column numbers from 1)");
                    break;
                }
            } else if (t->n_names) {
                *cx = axis_column(t, 'x');
                *cy = axis_column(t, 'y');
                if (*cx < 0 || *cy < 0) {
                    rc = pty_error_set(PTY_ERR_DATA,
                                       "'%s': the header line names no x and y columns; choose them with --position-columns X,Y",
                                       f);
                    break;
                }
            } else {
                *cx = 0;
                *cy = 1;
            }
            if (o->trigger_column) {
                *ct = find_column(t, o->trigger_column);
                if (*ct < 0) {
                    rc = pty_error_set(PTY_ERR_ARG, "--trigger-column %s: '%s' has no such column%s", o->trigger_column, f,
                                       t->n_names ? "" : " (no header line: give its number from 1)");
                    break;
                }
            }
            if (header) continue;
        }
        const int need = 1 + (*cx > *cy ? *cx : *cy) > 1 + *ct ? 1 + (*cx > *cy ? *cx : *cy) : 1 + *ct;
        if (nf < need) {
            rc = pty_error_set(PTY_ERR_DATA, "'%s' line %d has %d column%s, fewer than the %d the positions need", f,
                               lineno, nf, nf == 1 ? "" : "s", need);
            break;
        }
        double v[3] = {0, 0, -1};
        const int col[3] = {*cx, *cy, *ct};
        for (int i = 0; i < 3 && rc == PTY_OK; i++)
            if (col[i] >= 0 && !is_number(field[col[i]], &v[i]))
                rc = pty_error_set(PTY_ERR_DATA, "'%s' line %d, column %d: '%s' is not a number", f, lineno,
                                   col[i] + 1, field[col[i]]);
        if (rc != PTY_OK) break;
        if (t->n_rows == t->cap) {
            const int cap = t->cap ? 2 * t->cap : 1024;
            double *r = realloc(t->rows, (size_t)cap * 3 * sizeof *r);
            int *l = r ? realloc(t->line, (size_t)cap * sizeof *l) : NULL;
            if (r) t->rows = r;
            if (l) t->line = l;
            if (!r || !l) {
                rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions", cap);
                break;
            }
            t->cap = cap;
        }
        memcpy(t->rows + 3 * (size_t)t->n_rows, v, sizeof v);
        t->line[t->n_rows++] = lineno;
    }
    if (rc == PTY_OK && ferror(in)) rc = pty_error_set(PTY_ERR_IO, "cannot read position file '%s'", f);
    if (rc == PTY_OK && t->n_rows == 0) rc = pty_error_set(PTY_ERR_DATA, "position file '%s' holds no positions", f);
    free(line);
    fclose(in);
    return rc;
}

/* "3, 17, 40" of up to LISTED values, ", ..." after. */
static void list_ints(const int *v, int n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && i < LISTED && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? ", " : "", v[i]);
    if (n > LISTED && len < size) snprintf(buf + len, size - len, ", ...");
}

/* Rows to frames: by trigger, else in order.  row_of[j] = the row of frame
 * j or -1; rows naming no frame are reported. */
static int match(const pty_read_options *o, const table *t, int n_frames, int ct, int *row_of)
{
    const char *f = o->positions_file;
    for (int j = 0; j < n_frames; j++) row_of[j] = -1;
    if (ct < 0) {
        PTY_CHECK(t->n_rows == n_frames, PTY_ERR_DATA,
                  "'%s' holds %d positions but there are %d frames; without a trigger column (--trigger-column) "
                  "rows cannot be matched to frames",
                  f, t->n_rows, n_frames);
        for (int j = 0; j < n_frames; j++) row_of[j] = j;
        return PTY_OK;
    }
    int stray[LISTED], n_stray = 0;
    for (int i = 0; i < t->n_rows; i++) {
        const double trig = t->rows[3 * (size_t)i + 2];
        PTY_CHECK(trig == floor(trig) && fabs(trig) < 1e15, PTY_ERR_DATA,
                  "'%s' line %d: trigger %.10g (column %s) is not a whole number", f, t->line[i], trig,
                  o->trigger_column);
        const double j = trig - o->first_trigger;
        if (j < 0 || j >= n_frames) {
            if (n_stray < LISTED) stray[n_stray] = (int)trig;
            n_stray++;
            continue;
        }
        PTY_CHECK(row_of[(int)j] < 0, PTY_ERR_DATA, "'%s' line %d repeats trigger %.0f of line %d", f, t->line[i], trig,
                  t->line[row_of[(int)j]]);
        row_of[(int)j] = i;
    }
    if (n_stray > 0) {
        char list[160];
        list_ints(stray, n_stray, list, sizeof list);
        pty_warn("'%s': %d row%s name%s no frame (trigger%s %s; frames are triggers %d to %d, --first-trigger %d); "
                 "they are ignored",
                 f, n_stray, n_stray > 1 ? "s" : "", n_stray > 1 ? "" : "s", n_stray > 1 ? "s" : "", list,
                 o->first_trigger, o->first_trigger + n_frames - 1, o->first_trigger);
    }
    return PTY_OK;
}

int pty_position_file_read(const pty_read_options *o, int n_frames, double dx, double **positions, int **index, int *n)
{
    const char *f = o->positions_file;
    *positions = NULL;
    *index = NULL;
    *n = 0;
    table t = {.file = f};
    int cx = -1, cy = -1, ct = -1;
    int rc = read_table(o, &t, &cx, &cy, &ct);
    /* units: the flag, else the x column's name */
    double unit = 0.0;
    if (rc == PTY_OK) {
        if (o->position_units) {
            unit = unit_of(o->position_units);
            if (unit == 0.0)
                rc = pty_error_set(PTY_ERR_ARG, "--position-units: unknown unit '%s' (nm, um, mm, m or px)", o->position_units);
        } else {
            unit = t.n_names ? unit_in_name(t.names[cx]) : 0.0;
            if (unit == 0.0)
                rc = pty_error_set(PTY_ERR_ARG,
                                   "'%s': the positions' unit is not stated%s%s%s; give it with --position-units (nm, um, mm, m or px)",
                                   f, t.n_names ? " (column '" : "", t.n_names ? t.names[cx] : "", t.n_names ? "')" : "");
        }
    }
    if (rc == PTY_OK && unit > 0.0 && !(dx > 0.0))
        rc = pty_error_set(PTY_ERR_DATA,
                           "'%s': positions in metres need the object pixel size: the energy, distance and detector "
                           "pixel size (--energy, --distance, --pixel-size)",
                           f);
    int *row_of = rc == PTY_OK ? malloc((size_t)n_frames * sizeof *row_of) : NULL;
    if (rc == PTY_OK && !row_of) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d frame indices", n_frames);
    if (rc == PTY_OK) rc = match(o, &t, n_frames, ct, row_of);
    int used = 0, missing[LISTED], n_missing = 0;
    for (int j = 0; rc == PTY_OK && j < n_frames; j++) {
        if (row_of[j] >= 0) used++;
        else if (n_missing++ < LISTED) missing[n_missing - 1] = j;
    }
    if (rc == PTY_OK && used == 0)
        rc = pty_error_set(PTY_ERR_DATA, "'%s': no row matches a frame (frames are triggers %d to %d; --first-trigger)", f,
                           o->first_trigger, o->first_trigger + n_frames - 1);
    double *pos = rc == PTY_OK ? malloc((size_t)used * 2 * sizeof *pos) : NULL;
    int *idx = rc == PTY_OK ? malloc((size_t)used * sizeof *idx) : NULL;
    if (rc == PTY_OK && (!pos || !idx)) rc = pty_error_set(PTY_ERR_NOMEM, "cannot allocate %d positions", used);
    const double sx = o->position_scale[0] != 0.0 ? o->position_scale[0] : 1.0;
    const double sy = o->position_scale[1] != 0.0 ? o->position_scale[1] : 1.0;
    pty_read_options conv = *o;
    conv.positions_px = unit < 0.0;
    for (int j = 0, k = 0; rc == PTY_OK && j < n_frames; j++) {
        if (row_of[j] < 0) continue;
        const double *r = t.rows + 3 * (size_t)row_of[j];
        const double x = r[0] * sx * (unit > 0 ? unit : 1.0), y = r[1] * sy * (unit > 0 ? unit : 1.0);
        /* pty_position_to_pixels takes (row, col) pixels or (x, y) metres */
        const int ok = unit < 0.0 ? pty_position_to_pixels(&conv, y, x, dx, pos + 2 * (size_t)k)
                                  : pty_position_to_pixels(&conv, x, y, dx, pos + 2 * (size_t)k);
        if (!ok)
            rc = pty_error_set(PTY_ERR_DATA, "'%s' line %d: the position (%g, %g) is not finite", f, t.line[row_of[j]], r[0],
                               r[1]);
        idx[k++] = j;
    }
    if (rc == PTY_OK && n_missing > 0) {
        char list[160];
        list_ints(missing, n_missing, list, sizeof list);
        pty_warn("'%s': %d of %d frames have no position (frame%s %s: triggers the position recorder missed); they are "
                 "left out",
                 f, n_missing, n_frames, n_missing > 1 ? "s" : "", list);
    }
    free(row_of);
    table_free(&t);
    if (rc != PTY_OK) {
        free(pos);
        free(idx);
        return rc;
    }
    *positions = pos;
    *index = idx;
    *n = used;
    return PTY_OK;
}
