/* core/cli.h: the contour command line. */
#ifndef CORE_CLI_H
#define CORE_CLI_H

/* core_cli_main: parse argv, run the sub-command, return the exit status:
 * 0 success, 1 failure (bad flag, bad config, startup error), 2 unknown
 * sub-command. */
int core_cli_main(int argc, char **argv);

#endif
