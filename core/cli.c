#include "config.h"
#include "core/cli.h"
int core_cli_main(int argc, char **argv) { return 0; }
