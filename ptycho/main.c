/* main.c - the ptycho program: dispatch to a subcommand, turn its status
 * into one error line and an exit code.  The only place that exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "comm.h"
#include "h5util.h"
#include "pty_error.h"
#include "pty_log.h"
#include "ptychopy_flags.h"
#include "staging.h"

/* Every existing file the command line names is an input of the run: no
 * output may take its place (staging.h compares identities, so no spelling
 * of the path gets round it).  All but what --output names: that is where
 * the run writes, and a file there from an earlier run (simulate's or
 * replay's --output is the file itself) is replaced, not read. */
static void protect_inputs(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (strcmp(a, "--output") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--output=", 9) == 0) continue;
        pty_stage_protect(a[0] == '-' && eq ? eq + 1 : a);
    }
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"simulate", pty_cmd_simulate, "write a simulated scan (CXI) with its ground truth"},
    {"recon", pty_cmd_recon, "reconstruct object and probe modes with ePIE"},
    {"stitch", pty_cmd_stitch, "register, phase-normalise and blend partial results of separate runs"},
    {"bench", pty_cmd_bench, "time reconstruction iterations on a simulated scan held in memory"},
    {"compare", pty_cmd_compare, "NRMSE of a reconstruction against a ground truth"},
    {"frc", pty_cmd_frc, "Fourier ring correlation of two reconstructions: resolution at the half-bit and 1/7 thresholds"},
    {"replay", pty_cmd_replay, "write a finished scan again, frame by frame at a given rate, into a growing (SWMR) file"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ptycho <command> [options]   (ptycho <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nptycho %s\n", PTY_VERSION);
}

/* Threads that finish a set first wait for the others; GOMP spins 300000 rounds before it sleeps.
 * When another process wants a core, a spinning thread takes the time its partner needs, and every
 * set pays for it: scripts/contention_bench.sh (Siemens star, 2 threads, a busy loop on one of two
 * cores) 320 ms per iteration against 165 on one thread; with 3000 rounds 189, the idle runs
 * unchanged (98 ms; ptycho bench 128^2: 34 ms either way), and fully passive waits halve the idle
 * speed at 128^2.  libgomp reads the setting when it is loaded, so the program sets it and starts
 * itself again, once; a setting the user made is kept. */
static void short_spin(char **argv)
{
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return;
    setenv("GOMP_SPINCOUNT", "3000", 1);
    execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}

int main(int argc, char **argv)
{
    short_spin(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ptycho %s\n", PTY_VERSION);
        return 0;
    }
    pty_h5_init();
    /* PTYCHO_DEBUG=1: the engine's debug lines (e.g. every probe-search candidate) */
    const char *debug = getenv("PTYCHO_DEBUG");
    if (debug && *debug && strcmp(debug, "0") != 0) pty_log_set_level(PTY_LOG_DEBUG);
    /* ptychopy's program is also called ptycho: "ptycho -jobID=... -fp=..." is a recon */
    static char **pp_argv; /* reachable until exit */
    if (pty_ptychopy_detect(2, argv, 1)) {
        pp_argv = malloc(((size_t)argc + 2) * sizeof *pp_argv);
        if (!pp_argv) return 2;
        pp_argv[0] = argv[0];
        pp_argv[1] = "recon";
        memcpy(pp_argv + 2, argv + 1, (size_t)argc * sizeof *argv); /* with argv's closing NULL */
        argv = pp_argv;
        argc++;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        pty_stage_signals();
        protect_inputs(argc, argv);
        pty_stage_begin();
        int rc = pty_comm_init(&argc, &argv);
        if (rc == PTY_OK) rc = commands[i].run(argc, argv);
        /* a command's files take their places together when it succeeds (or, following a scan that
           stopped, holds the result of what came); a failed one leaves none */
        if (rc == PTY_OK || rc == PTY_ERR_INCOMPLETE) {
            const int committed = pty_stage_commit();
            if (committed != PTY_OK) rc = committed;
        }
        pty_stage_end();
        int code = rc == PTY_ARGS_HELP ? 0 : pty_comm_fail(rc);
        /* SIGPIPE is ignored (staging.h), so a reader that left early (| head) costs the run nothing */
        if ((fflush(stdout) != 0 || ferror(stdout)) && errno == EPIPE)
            fprintf(stderr, "ptycho: warning: standard output was closed before the end (a pipe whose reader "
                            "left); the run went on%s\n", code == 0 ? " and its files are written" : "");
        pty_comm_finalize();
        return code;
    }
    fprintf(stderr, "ptycho: error: unknown command '%s' (see 'ptycho --help')\n", argv[1]);
    return 2;
}
