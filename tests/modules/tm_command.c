/* tests/modules/tm_command.c: provides the sub-command `contour tm-hello`,
 * which prints its arguments and whether the module was started. */
#include <stdio.h>
#include <contour/module.h>

static int tm_command_started;

static int tm_command_hello(contour_module_t *mod, int argc, char **argv)
{
	printf("tm-hello argc=%d", argc);
	for (int i = 0; i < argc; i++)
		printf(" [%s]", argv[i]);
	printf(" render_only=%d started=%d\n", contour_module_render_only(mod), tm_command_started);
	return 7;
}

static int tm_command_init(contour_module_t *mod, const json_t *config)
{
	return contour_register_command(mod, "tm-hello", "print the arguments", tm_command_hello);
}

static int tm_command_start(contour_module_t *mod)
{
	tm_command_started = 1;
	return CONTOUR_EOK;
}

/* A check that always fails: a command run must skip it. */
static int tm_command_check(const json_t *config, char *err, size_t errlen)
{
	snprintf(err, errlen, "tm_command's check must not run for a command");
	return CONTOUR_ECONFIG;
}

CONTOUR_MODULE(.name = "tm_command", .version = "0", .flags = CONTOUR_MODULE_F_COMMAND,
               .check = tm_command_check, .init = tm_command_init, .start = tm_command_start);
