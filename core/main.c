/* core/main.c: the contour binary; all the work is in cli.c so tests can
 * drive it too. */
#include "config.h"

#include <malloc.h>

#include "core/cli.h"

int main(int argc, char **argv)
{
#ifdef M_MMAP_THRESHOLD
	/* Large buffers (list pages of tens of MiB from the API server, whole
	 * xDS snapshots) come from mmap and go back to the system when freed.
	 * glibc's default threshold grows to the largest block ever freed, and
	 * from then on such buffers stay resident after use. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
	return core_cli_main(argc, argv);
}
