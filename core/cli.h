/* core/cli.h: the contour command line. */
#ifndef CORE_CLI_H
#define CORE_CLI_H

/* core_cli_main: parse argv, run the sub-command, return the exit status:
 * 0 success, 1 failure (bad flag, bad config, startup error), 2 unknown
 * sub-command. */
int core_cli_main(int argc, char **argv);

#include <jansson.h>
#include <stdio.h>

typedef struct core core_t;

/* The parsed command line, for the commands in other files. */
typedef struct cli_opts {
	json_t *serve_flags; /* {"--flag": "value"} */
	const char *config;
	const char *log_format;
	const char *format;    /* render */
	const char *source;    /* render, review: the file source module */
	const char *object;    /* review: the file of objects under review */
	const char *operation; /* review: CREATE, UPDATE or DELETE */
	int debug;
	int help; /* --help or -h after the command */
	const char *positional[8];
	int npositional;
} cli_opts_t;

/* core_cli_offline_new: a core that read the manifest paths o->positional
 * with the source module, loaded the processors serve would and built
 * once, opening no socket; `what` names the command in messages. NULL
 * with errors filled (printed by the caller). Free with core_free. */
core_t *core_cli_offline_new(cli_opts_t *o, const char *what, json_t *errors);
/* Errors as the command line prints them. */
void core_cli_print_errors(const json_t *errors);

/* cli.c, for cli_help.c: the top-level usage; the args and summary of the
 * core's command `name` (0 when it is not one); a module command's status,
 * or -1 when no installed module provides argv[0]. */
void core_cli_usage(FILE *f);
int core_cli_builtin_info(const char *name, const char **args, const char **summary);
int core_cli_run_module_command(cli_opts_t *o, int argc, char **argv);

/* cli_help.c: the help of the command argv[0] (argv[1...] a module
 * command's sub-command) on stdout, status 0; an unknown command: usage on
 * stderr, status 2. The serve flags of the modules the config loads, and
 * the flags every command takes. */
int core_cli_help_command(cli_opts_t *o, int argc, const char *const *argv);
int core_cli_help_serve_flags(cli_opts_t *o, FILE *f);
void core_cli_help_global_flags(FILE *f);

/* cli_review.c */
int core_cli_review(cli_opts_t *o);

#endif
