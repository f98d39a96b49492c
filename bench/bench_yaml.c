/* bench/bench_yaml.c: throughput of the YAML reader.
 *
 * usage: bench_yaml [FILE]   (default: the reference 01-crds.yaml, else a
 * generated manifest stream). Prints MB/s for libyaml's event parser alone
 * (the floor the reader cannot beat), the reader without a position map, and
 * with one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "core/core.h"

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_events(const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = -1;
			break;
		}
		int done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (done)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

static int bench_reader(const char *buf, size_t len, int with_pos)
{
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t err;
	int rc = contour_yaml_parse(buf, len, &docs, with_pos ? &pos : NULL, &err);
	if (rc)
		fprintf(stderr, "bench_yaml: %d:%d: %s\n", err.line, err.column, err.message);
	json_decref(docs);
	contour_yaml_pos_free(pos);
	return rc;
}

/* Run one mode for about a second; returns MB/s or a negative on error. */
static double bench_run(const char *buf, size_t len, int mode)
{
	double t0 = bench_now(), t;
	size_t iters = 0;
	do {
		int rc = mode == 0 ? bench_events(buf, len) : bench_reader(buf, len, mode == 2);
		if (rc)
			return -1;
		iters++;
		t = bench_now() - t0;
	} while (t < 1.0);
	return (double)len * (double)iters / t / 1e6;
}

static char *bench_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	long n;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* A stream of small Service manifests, about 1 MB. */
static char *bench_generate(size_t *len)
{
	size_t cap = 1200000, off = 0;
	char *buf = malloc(cap);
	for (int i = 0; buf && off + 400 < cap; i++)
		off +=
		    (size_t)snprintf(buf + off, cap - off,
		                     "---\napiVersion: v1\nkind: Service\nmetadata:\n"
		                     "  name: svc-%d\n  namespace: default\n  labels: {app: a%d}\n"
		                     "spec:\n  ports:\n  - name: http\n    port: 80\n"
		                     "    targetPort: 8080\n  selector:\n    app: a%d\n",
		                     i, i, i);
	*len = off;
	return buf;
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *name;
	size_t len = 0;
	char *buf;

	if (argc > 1) {
		snprintf(path, sizeof(path), "%s", argv[1]);
	} else {
		const char *ref = getenv("CONTOUR_REFERENCE_DIR");
		snprintf(path, sizeof(path), "%s/contour-examples/contour/01-crds.yaml",
		         ref && *ref ? ref : "../shared/reference");
	}
	if ((buf = bench_read(path, &len)) != NULL) {
		name = path;
	} else {
		if (argc > 1) {
			fprintf(stderr, "bench_yaml: cannot read %s\n", path);
			return 1;
		}
		name = "(generated Service stream)";
		buf = bench_generate(&len);
		if (!buf)
			return 1;
	}
	printf("bench_yaml: %s, %zu bytes\n", name, len);
	static const char *modes[] = {"libyaml events only", "contour_yaml_parse",
	                              "contour_yaml_parse + pos"};
	int rc = 0;
	for (int m = 0; m < 3; m++) {
		double mbs = bench_run(buf, len, m);
		if (mbs < 0) {
			rc = 1;
			break;
		}
		printf("  %-26s %8.1f MB/s  %8.2f ms/parse\n", modes[m], mbs,
		       (double)len / mbs / 1e3);
	}
	free(buf);
	return rc;
}
