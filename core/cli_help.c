/* core/cli_help.c: `contour help [COMMAND...]` and `contour COMMAND --help`.
 *
 * The core's commands print their table entry (core/cli.c); serve and
 * check-config add the serve flags of the modules the config would load,
 * each with the default and help of the schema key it sets, so the list
 * never drifts from what the loader accepts. A module's command is run with
 * `--help` appended: the module prints its own usage (to stdout, status 0).
 * contrib/man/gen-man.sh builds contour.1 from this same output.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/core.h"

/* Upstream serve flags that set global settings (cli.c's global_flags),
 * described here for help. */
static const struct {
	const char *flag, *help;
} global_flag_help[] = {
    {"--root-namespaces", "namespaces allowed to hold root HTTPProxies (comma-separated)"},
    {"--ingress-class-name", "ingress classes to serve (comma-separated)"},
    {"--watch-namespaces", "namespaces to watch (comma-separated; default all)"},
    {"--ingress-status-address", "address written to the status of Ingresses"},
    {"--envoy-service-name", "Envoy's Service, whose address goes to Ingress status"},
    {"--envoy-service-namespace", "namespace of Envoy's Service"},
    {"--accesslog-format", "Envoy access log format: envoy or json"},
};

void core_cli_help_global_flags(FILE *f)
{
	fprintf(f, "\nFlags of every command:\n"
	           "  -c, --config-path FILE  config file (alias --config); without it, or\n"
	           "                          with a file naming no modules, serve runs the\n"
	           "                          split control plane given --incluster or\n"
	           "                          --kubeconfig, else the local role on the bundled\n"
	           "                          examples (xDS :8001, metrics :8000)\n"
	           "      --log-format FORMAT text (default) or json\n"
	           "  -d, --debug             log at debug level\n"
	           "  -h, --help              show the help of the command\n");
}

static const contour_conf_item_t *schema_find(const contour_conf_item_t *t, const char *key)
{
	for (; t && t->key; t++) {
		size_t n = strlen(t->key);
		if (!strcmp(t->key, key))
			return t;
		if (t->children && !strncmp(t->key, key, n) && key[n] == '.')
			return schema_find(t->children, key + n + 1);
	}
	return NULL;
}

static void print_flag(FILE *f, const char *flag, int is_bool, const char *help, const char *def,
                       const char *env)
{
	char left[80];
	snprintf(left, sizeof(left), "%s%s", flag, is_bool ? "" : " VALUE");
	fprintf(f, "  %-38s %s", left, help ? help : "");
	if (def)
		fprintf(f, "%s(default %s)", help ? " " : "", def);
	if (env)
		fprintf(f, "%s(env %s)", help || def ? " " : "", env);
	fputc('\n', f);
}

/* The serve flags of the modules o->config (or the default config) loads,
 * grouped by module. Returns 0, or 1 when the config cannot be read. */
int core_cli_help_serve_flags(cli_opts_t *o, FILE *f)
{
	json_t *errors = json_array();
	core_conf_t *conf = NULL;
	int rc;
	if (o->config) {
		rc = core_conf_load_file(o->config, &conf, errors);
	} else {
		const char *def = core_conf_default_text();
		rc = core_conf_load_buf(def, strlen(def), NULL, &conf, errors);
	}
	core_t *core = rc == CONTOUR_EOK ? core_new(NULL) : NULL;
	if (!core) {
		core_conf_free(conf);
		core_cli_print_errors(errors);
		json_decref(errors);
		return 1;
	}
	core->conf = conf;
	/* A module that cannot be loaded is named, the others still listed. */
	if (core_loader_load_all(core, errors) != CONTOUR_EOK)
		core_cli_print_errors(errors);
	fprintf(f, "\nServe flags of the modules %s loads (a flag overrides the config):\n",
	        o->config ? o->config : "the built-in default");
	for (size_t i = 0; i < core->nmods; i++) {
		const contour_module_desc_t *d = core->mods[i]->desc;
		if (!d->cli_flags || !d->cli_flags[0].flag)
			continue;
		fprintf(f, "\n %s:\n", core->mods[i]->name);
		for (const contour_cli_flag_t *fl = d->cli_flags; fl->flag; fl++) {
			const contour_conf_item_t *it = schema_find(d->schema, fl->key);
			print_flag(f, fl->flag, it && it->type == CONTOUR_CONF_BOOL,
			           it ? it->help : NULL, it ? it->def : NULL, fl->env);
		}
	}
	fprintf(f, "\n global settings:\n");
	for (size_t i = 0; i < sizeof(global_flag_help) / sizeof(global_flag_help[0]); i++)
		print_flag(f, global_flag_help[i].flag, 0, global_flag_help[i].help, NULL, NULL);
	core_free(core);
	json_decref(errors);
	return 0;
}

/* `contour NAME [SUB...] --help` for a module command: the module prints
 * its usage. Returns its status, or -1 when no module provides NAME. */
static int module_help(cli_opts_t *o, int argc, const char *const *argv)
{
	char *av[10];
	int n = 0;
	for (; n < argc && n < 8; n++)
		av[n] = (char *)argv[n];
	av[n++] = "--help";
	av[n] = NULL;
	return core_cli_run_module_command(o, n, av);
}

int core_cli_help_command(cli_opts_t *o, int argc, const char *const *argv)
{
	const char *args, *summary;
	if (core_cli_builtin_info(argv[0], &args, &summary)) {
		printf("usage: contour %s %s\n\n%s\n", argv[0], args, summary);
		int status = 0;
		if (!strcmp(argv[0], "serve") || !strcmp(argv[0], "check-config"))
			status = core_cli_help_serve_flags(o, stdout);
		core_cli_help_global_flags(stdout);
		return status;
	}
	int rc = module_help(o, argc, argv);
	if (rc >= 0)
		return rc;
	fprintf(stderr, "contour: unknown command '%s'\n\n", argv[0]);
	core_cli_usage(stderr);
	return 2;
}
