/* ptychopy_flags.c - ptychopy's command line (APS), read as ptycho recon's.
 *
 * ptychopy's program is also called ptycho and takes -name=value flags
 * (leading dashes optional, names in any case).  Each is mapped here to the
 * recon flags of the same meaning and unit (ptychopy src/Parameters.cpp):
 * metres for -lambda, -z, -dx_d, -step (row, column), -lf positions (row,
 * column per line); pixels for -qxy (row, column) and -size.  Its data are
 * numbered files (-fp with one '#' for the printf '%', -fs the first number,
 * -dpf frames a file, -hdf5path the dataset), positions a raster of
 * -scanDims rows x columns (row by row, the column fast, centred on zero)
 * or the -lf list.  A flag whose meaning ptycho does not have is refused,
 * naming it; display and I/O knobs that change no result are accepted and
 * said to be ignored.  ptychopy takes any number of dashes; here one or none
 * (as all its examples write them), since two mark ptycho's own flags, which
 * may be mixed in (--threads 1 beside -threads=4).  The translation is printed, so a user sees the
 * native command that does the same. */
#include "ptychopy_flags.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "pty_error.h"
#include "pty_log.h"

#define MAX_OUT 96

enum kind { VALUE, PRESENCE, IGNORED, REFUSED_IF_SET };

/* ptychopy's flags (src/Parameters.cpp), with what ptycho does with each. */
static const struct { const char *name; enum kind kind; const char *why; } flags[] = {
    {"jobID", VALUE, NULL}, {"algorithm", VALUE, NULL}, {"fp", VALUE, NULL}, {"fs", VALUE, NULL},
    {"dpf", VALUE, NULL}, {"hdf5path", VALUE, NULL}, {"beamSize", VALUE, NULL}, {"qxy", VALUE, NULL},
    {"size", VALUE, NULL}, {"scanDims", VALUE, NULL}, {"step", VALUE, NULL}, {"lf", VALUE, NULL},
    {"probeModes", VALUE, NULL}, {"lambda", VALUE, NULL}, {"dx_d", VALUE, NULL}, {"z", VALUE, NULL},
    {"i", VALUE, NULL}, {"threshold", VALUE, NULL}, {"bitDepth", VALUE, NULL}, {"updateProbe", VALUE, NULL},
    {"save", VALUE, NULL}, {"overlap", VALUE, NULL}, {"shareFrequency", VALUE, NULL}, {"rotate90", VALUE, NULL},
    {"flipScanAxis", VALUE, NULL}, {"mirror1stScanAxis", VALUE, NULL}, {"mirror2ndScanAxis", VALUE, NULL},
    {"probeGuess", VALUE, NULL}, {"objectGuess", VALUE, NULL},
    {"sqrtData", PRESENCE, "ptycho reads counts (intensities) and takes their square root itself"},
    {"fftShiftData", PRESENCE, "ptycho reads frames with the zero frequency at the centre, as detectors write them"},
    {"updateModes", IGNORED, "every probe mode starts updating at -updateProbe"},
    {"blind", IGNORED, "no display"}, {"updateVis", IGNORED, "no display"}, {"RMS", IGNORED, "the error is always computed"},
    {"threads", IGNORED, "I/O threads"}, {"nxy", IGNORED, "HDF5 files state their frame size"},
    {"binaryOutput", IGNORED, "the result is HDF5 and TIFF"}, {"delta_p", IGNORED, "ptychopy's command line ignores it too"},
    {"PPS", IGNORED, "MLs only, as in ptychopy"}, {"angles", IGNORED, "unused by ptychopy"},
    {"wsServerUrl", IGNORED, "no render server"},
    {"simulate", REFUSED_IF_SET, "use 'ptycho simulate' to make a scan"},
    {"T", REFUSED_IF_SET, "a time limit is not supported; give -i"},
    {"beamstopMask", REFUSED_IF_SET, "give the mask as a TIFF with --mask-file (non-zero = bad)"},
    {"jitterRadius", REFUSED_IF_SET, "it jitters simulated scans"},
    {"drift", REFUSED_IF_SET, "a drift of the raster is not supported"},
    {"spiralScan", REFUSED_IF_SET, "give spiral positions in a file with -lf"},
    {"phaseConstraint", REFUSED_IF_SET, "ptycho applies no phase constraint"},
};
#define N_FLAGS (sizeof flags / sizeof *flags)

/* The flag an argument names (dashes stripped, name up to '='), or -1. */
static int flag_of(const char *arg, const char **value)
{
    const char *p = arg;
    while (*p == '-') p++;
    const char *eq = strchr(p, '=');
    const size_t len = eq ? (size_t)(eq - p) : strlen(p);
    *value = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < N_FLAGS; i++)
        if (strlen(flags[i].name) == len && strncasecmp(flags[i].name, p, len) == 0) return (int)i;
    return -1;
}

int pty_ptychopy_detect(int argc, char **argv, int first)
{
    /* ptycho's own flags also take -name=value: names both have say nothing */
    static const char *const shared[] = {"threads", "overlap"};
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *value;
        if (strncmp(a, "--", 2) == 0) continue; /* ptycho's own */
        if (!((a[0] == '-' && isalpha((unsigned char)a[1])) || (isalpha((unsigned char)a[0]) && strchr(a, '='))))
            continue;
        const int f = flag_of(a, &value);
        int mine = f >= 0;
        for (size_t k = 0; mine && k < sizeof shared / sizeof *shared; k++) mine = strcmp(flags[f].name, shared[k]) != 0;
        if (mine) return 1;
    }
    return 0;
}

typedef struct out {
    char *argv[MAX_OUT];
    int argc;
} out;

static int emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int emit(out *o, const char *fmt, ...)
{
    PTY_CHECK(o->argc < MAX_OUT - 1, PTY_ERR_ARG, "ptychopy command line too long");
    char buf[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->argv[o->argc] = strdup(buf);
    PTY_CHECK(o->argv[o->argc], PTY_ERR_NOMEM, "cannot copy an argument");
    o->argc++;
    return PTY_OK;
}

/* Two numbers "a,b" (ptychopy's pairs); ints truncated as its atoi does. */
static int pair(const char *name, const char *v, double out2[2])
{
    char extra;
    PTY_CHECK(v && sscanf(v, "%lf,%lf%c", &out2[0], &out2[1], &extra) == 2, PTY_ERR_ARG,
              "ptychopy flag -%s: give two values, -%s=A,B (got '%s')", name, name, v ? v : "");
    return PTY_OK;
}

static int number(const char *name, const char *v, double *x)
{
    char *end;
    *x = v ? strtod(v, &end) : 0.0;
    PTY_CHECK(v && end != v && *end == '\0', PTY_ERR_ARG, "ptychopy flag -%s: '%s' is not a number", name, v ? v : "");
    return PTY_OK;
}

typedef struct given {
    const char *value[N_FLAGS];
    int set[N_FLAGS];
} given;

static const char *val(const given *g, const char *name)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (strcmp(flags[i].name, name) == 0) return g->set[i] ? g->value[i] : NULL;
    return NULL;
}

/* The recon flags of the given ptychopy flags, after argv[0..first). */
static int translate(const given *g, out *o)
{
    double x;
    const char *v;
    if ((v = val(g, "algorithm")) && strcmp(v, "ePIE") != 0)
        return pty_error_set(PTY_ERR_ARG, "ptychopy flag -algorithm=%s: ptycho reconstructs with ePIE only", v);
    PTY_TRY(emit(o, "--output"));
    PTY_TRY(emit(o, "%s", (v = val(g, "jobID")) && v[0] ? v : "ptychopy"));
    /* the data: numbered files, each frames at -hdf5path */
    const char *fp = val(g, "fp");
    PTY_CHECK(fp && strchr(fp, '#'), PTY_ERR_ARG,
              "ptychopy flag -fp: give the data files' pattern with one '#' for the number, e.g. -fp=scan_#06d.h5%s",
              fp ? "" : " (-simulate is not supported: use 'ptycho simulate')");
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s", fp);
    *strchr(pattern, '#') = '%';
    PTY_TRY(emit(o, "--frames-pattern"));
    PTY_TRY(emit(o, "%s", pattern));
    PTY_TRY(number("fs", (v = val(g, "fs")) ? v : "0", &x));
    PTY_TRY(emit(o, "--first-file"));
    PTY_TRY(emit(o, "%d", (int)x));
    PTY_TRY(number("dpf", (v = val(g, "dpf")) ? v : "1", &x));
    PTY_TRY(emit(o, "--frames-per-file"));
    PTY_TRY(emit(o, "%d", (int)x));
    PTY_TRY(emit(o, "--frames"));
    PTY_TRY(emit(o, "%s", (v = val(g, "hdf5path")) && v[0] ? v : "/entry/data/data"));
    /* the positions: the -lf list or the raster; -scanDims counts them either way */
    double dims[2] = {12, 12}, step[2] = {40e-9, 40e-9};
    if ((v = val(g, "scanDims"))) {
        if (!strchr(v, ',')) {
            PTY_TRY(number("scanDims", v, &dims[0]));
            dims[1] = 1;
        } else {
            PTY_TRY(pair("scanDims", v, dims));
        }
    }
    PTY_CHECK((int)dims[0] >= 1 && (int)dims[1] >= 1, PTY_ERR_ARG, "ptychopy flag -scanDims: rows and columns must be positive");
    if ((v = val(g, "step"))) PTY_TRY(pair("step", v, step));
    if ((v = val(g, "lf")) && v[0]) {
        PTY_TRY(emit(o, "--positions-file"));
        PTY_TRY(emit(o, "%s", v));
        PTY_TRY(emit(o, "--position-columns"));
        PTY_TRY(emit(o, "2,1")); /* ptychopy's lines are (row, column): y, x */
        PTY_TRY(emit(o, "--position-units"));
        PTY_TRY(emit(o, "m"));
        PTY_TRY(emit(o, "--frame-count"));
        PTY_TRY(emit(o, "%d", (int)dims[0] * (int)dims[1]));
    } else {
        PTY_TRY(emit(o, "--raster"));
        PTY_TRY(emit(o, "%dx%d", (int)dims[0], (int)dims[1]));
        PTY_TRY(emit(o, "--raster-step"));
        PTY_TRY(emit(o, "%.17g,%.17g", step[0], step[1]));
    }
    /* the detector window: -size pixels around -qxy (row, column) */
    double qxy[2] = {128, 128};
    if ((v = val(g, "qxy"))) PTY_TRY(pair("qxy", v, qxy));
    PTY_TRY(number("size", (v = val(g, "size")) ? v : "256", &x));
    PTY_TRY(emit(o, "--crop"));
    PTY_TRY(emit(o, "%d", (int)x));
    PTY_TRY(emit(o, "--center"));
    PTY_TRY(emit(o, "%d,%d", (int)qxy[0], (int)qxy[1]));
    /* the geometry, with ptychopy's defaults where not given */
    PTY_TRY(number("lambda", (v = val(g, "lambda")) ? v : "2.48e-10", &x));
    PTY_CHECK(x > 0, PTY_ERR_ARG, "ptychopy flag -lambda must be positive (m)");
    PTY_TRY(emit(o, "--energy"));
    PTY_TRY(emit(o, "%.17g", PTY_HC_J_M / PTY_EV_J / x));
    PTY_TRY(number("z", (v = val(g, "z")) ? v : "1.0", &x));
    PTY_TRY(emit(o, "--distance"));
    PTY_TRY(emit(o, "%.17g", x));
    PTY_TRY(number("dx_d", (v = val(g, "dx_d")) ? v : "172e-6", &x));
    PTY_TRY(emit(o, "--pixel-size"));
    PTY_TRY(emit(o, "%.17g", x));
    PTY_TRY(number("i", (v = val(g, "i")) ? v : "100", &x));
    PTY_TRY(emit(o, "--iterations"));
    PTY_TRY(emit(o, "%d", (int)x));
    if ((v = val(g, "probeModes"))) {
        PTY_TRY(number("probeModes", v, &x));
        PTY_TRY(emit(o, "--modes"));
        PTY_TRY(emit(o, "%d", (int)x));
    }
    if ((v = val(g, "updateProbe"))) {
        PTY_TRY(number("updateProbe", v, &x));
        PTY_TRY(emit(o, "--probe-start"));
        PTY_TRY(emit(o, "%d", (int)x));
    }
    if (val(g, "threshold") || val(g, "bitDepth")) {
        /* ptychopy leaves pixels at or above 2^bitDepth - 1 - threshold unconstrained */
        double t = 0, bits = 32;
        if ((v = val(g, "threshold"))) PTY_TRY(number("threshold", v, &t));
        if ((v = val(g, "bitDepth"))) PTY_TRY(number("bitDepth", v, &bits));
        PTY_TRY(emit(o, "--saturation"));
        PTY_TRY(emit(o, "%.17g", ldexp(1.0, (int)bits) - 1.0 - (int)t));
    }
    if ((v = val(g, "save"))) {
        PTY_TRY(number("save", v, &x));
        if ((int)x > 0 && (int)x < 999999) {
            PTY_TRY(emit(o, "--checkpoint-every"));
            PTY_TRY(emit(o, "%d", (int)x));
        }
    }
    if ((v = val(g, "overlap"))) {
        PTY_TRY(emit(o, "--overlap"));
        PTY_TRY(emit(o, "%s", v));
    }
    if ((v = val(g, "shareFrequency"))) {
        PTY_TRY(emit(o, "--share-every"));
        PTY_TRY(emit(o, "%s", v));
    }
    static const struct { const char *flag, *native; } switches[] = {
        {"flipScanAxis", "--transpose"}, {"mirror1stScanAxis", "--flip-y"}, {"mirror2ndScanAxis", "--flip-x"},
    };
    for (size_t i = 0; i < sizeof switches / sizeof *switches; i++)
        if ((v = val(g, switches[i].flag))) {
            PTY_TRY(number(switches[i].flag, v, &x));
            if ((int)x > 0) PTY_TRY(emit(o, "%s", switches[i].native));
        }
    if ((v = val(g, "rotate90"))) {
        PTY_TRY(number("rotate90", v, &x));
        PTY_CHECK((int)x % 4 == 0, PTY_ERR_ARG, "ptychopy flag -rotate90=%s: rotating the frames is not supported", v);
    }
    static const char *const guesses[] = {"probeGuess", "objectGuess"};
    for (int i = 0; i < 2; i++)
        PTY_CHECK(!(v = val(g, guesses[i])) || !v[0], PTY_ERR_ARG,
                  "ptychopy flag -%s=%s: a CSV start is not supported; give a result or ptychodus product with --init-from",
                  guesses[i], v);
    if ((v = val(g, "beamSize")))
        pty_info("ptychopy flag -beamSize=%s: ptycho chooses the first probe from the data (README \"First probe\")", v);
    return PTY_OK;
}

int pty_ptychopy_translate(int argc, char **argv, int first, int *out_argc, char ***out_argv)
{
    given g;
    memset(&g, 0, sizeof g);
    out o = {.argc = 0};
    int rc = PTY_OK;
    for (int i = 0; i < first && rc == PTY_OK; i++) rc = emit(&o, "%s", argv[i]);
    for (int i = first; i < argc && rc == PTY_OK; i++) {
        const char *value;
        const int f = flag_of(argv[i], &value);
        if (strncmp(argv[i], "--", 2) == 0) {
            /* ptycho's own flags pass through, with their value: a next word that is no flag */
            rc = emit(&o, "%s", argv[i]);
            const char *next = i + 1 < argc ? argv[i + 1] : NULL, *unused;
            if (rc == PTY_OK && next && !strchr(argv[i], '=') && next[0] != '-' && flag_of(next, &unused) < 0)
                rc = emit(&o, "%s", argv[++i]);
            continue;
        }
        if (f < 0) {
            rc = pty_error_set(PTY_ERR_ARG, "'%s' is not a ptychopy flag (ptycho reads ptychopy's command line: see README "
                               "\"Reading beamline data\")", argv[i]);
            break;
        }
        if (flags[f].kind == PRESENCE) {
            pty_info("ptychopy flag -%s: %s", flags[f].name, flags[f].why);
            continue;
        }
        if (!value) {
            rc = pty_error_set(PTY_ERR_ARG, "ptychopy flag -%s needs a value: -%s=VALUE", flags[f].name, flags[f].name);
            break;
        }
        if (flags[f].kind == IGNORED) {
            pty_info("ptychopy flag -%s ignored: %s", flags[f].name, flags[f].why);
            continue;
        }
        if (flags[f].kind == REFUSED_IF_SET) {
            /* ptychopy turns these on with a value > 0 (-T=-1 is its "no limit"); -drift with any step */
            double x;
            const int drift = strcmp(flags[f].name, "drift") == 0;
            const int on = drift ? strspn(value, "0.,") != strlen(value)
                                 : number(flags[f].name, value, &x) == PTY_OK && x > 0.0;
            pty_error_clear();
            if (on) {
                rc = pty_error_set(PTY_ERR_ARG, "ptychopy flag -%s=%s is not supported: %s", flags[f].name, value,
                                   flags[f].why);
                break;
            }
            continue;
        }
        g.value[f] = value;
        g.set[f] = 1;
    }
    if (rc == PTY_OK) rc = translate(&g, &o);
    if (rc != PTY_OK) {
        for (int i = 0; i < o.argc; i++) free(o.argv[i]);
        return rc;
    }
    char **copy = malloc(((size_t)o.argc + 1) * sizeof *copy);
    if (!copy) {
        for (int i = 0; i < o.argc; i++) free(o.argv[i]);
        return pty_error_set(PTY_ERR_NOMEM, "cannot allocate the arguments");
    }
    memcpy(copy, o.argv, (size_t)o.argc * sizeof *copy);
    copy[o.argc] = NULL;
    *out_argc = o.argc;
    *out_argv = copy;
    return PTY_OK;
}

void pty_ptychopy_free(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
}
