/* commands.h - the subcommands of the ptycho program.
 *
 * Each takes the full argv (argv[1] is the subcommand name, options start at
 * argv[2]) and returns PTY_OK, PTY_ARGS_HELP, or a PTY_ERR_* status with the
 * message recorded by pty_error_set; main() prints it and sets the exit code. */
#ifndef PTY_COMMANDS_H
#define PTY_COMMANDS_H

int pty_cmd_simulate(int argc, char **argv);
int pty_cmd_recon(int argc, char **argv);
int pty_cmd_compare(int argc, char **argv);
int pty_cmd_stitch(int argc, char **argv);
int pty_cmd_bench(int argc, char **argv);
int pty_cmd_frc(int argc, char **argv);
int pty_cmd_replay(int argc, char **argv);

#endif /* PTY_COMMANDS_H */
