/* ptychopy_flags.h - ptychopy's command line read as ptycho recon's
 * (ptychopy_flags.c states the mapping). */
#ifndef PTY_PTYCHOPY_FLAGS_H
#define PTY_PTYCHOPY_FLAGS_H

/* 1 when an argument from argv[first] on is one of ptychopy's flags
 * (-name=value, one dash or none, any case) that ptycho does not also
 * have (-threads, -overlap are either's). */
int pty_ptychopy_detect(int argc, char **argv, int first);

/* The same command with ptychopy's flags replaced by recon's (argv[0 ..
 * first) and ptycho's own --flags kept): a new argv to free with
 * pty_ptychopy_free.  PTY_ERR_ARG naming the one flag ptycho does not
 * support, or that is not ptychopy's. */
int pty_ptychopy_translate(int argc, char **argv, int first, int *out_argc, char ***out_argv);
void pty_ptychopy_free(int argc, char **argv);

#endif /* PTY_PTYCHOPY_FLAGS_H */
