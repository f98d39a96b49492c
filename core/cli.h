#ifndef CORE_CLI_H
#define CORE_CLI_H
int core_cli_main(int argc, char **argv);
#endif
