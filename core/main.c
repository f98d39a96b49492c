/* core/main.c: the contour binary; all the work is in cli.c so tests can
 * drive it too. */
#include "config.h"

#include "core/cli.h"

int main(int argc, char **argv)
{
	return core_cli_main(argc, argv);
}
