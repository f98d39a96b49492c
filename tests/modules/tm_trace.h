/* tests/modules/tm_trace.h: test modules append "module:event" lines to the
 * file named by $CONTOUR_TM_TRACE, so a test can check the order in which
 * the core drove the hooks across several shared objects. */
#ifndef TM_TRACE_H
#define TM_TRACE_H

#include <stdio.h>
#include <stdlib.h>

static void tm_trace(const char *mod, const char *event)
{
	const char *path = getenv("CONTOUR_TM_TRACE");
	FILE *f = path ? fopen(path, "a") : NULL;
	if (!f)
		return;
	fprintf(f, "%s:%s\n", mod, event);
	fclose(f);
}

#endif
