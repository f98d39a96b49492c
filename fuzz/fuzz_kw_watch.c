/* fuzz/fuzz_kw_watch.c: libFuzzer target for k8s-watch's input parsers:
 * the watch stream splitter and events, and the kubeconfig reader.
 *
 * The first byte picks the piece size the stream is fed in, so chunking is
 * fuzzed too. The stream is fed twice, once whole and once in pieces: the
 * values found must be the same (chunk boundaries mean nothing). Each
 * value goes through kw_event_parse and kw_object_prepare. The same bytes
 * are also read as a kubeconfig file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
/* Compiled in rather than linked: `make fuzz` builds each target from its
 * one file plus the core sources. */
#include "modules/k8s-watch/kw_watchparse.c"
#include "modules/k8s-watch/kw_conn.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
	uint64_t hash;
	size_t count;
} fz_t;

static int fz_value(const char *p, size_t n, void *ud)
{
	fz_t *f = ud;
	kw_event_t ev;
	char err[256];
	static const kw_kind_t secret = {"v1", "Secret", "secrets", NULL};
	if (n == 0 || p[0] != '{' || p[n - 1] != '}')
		abort();
	for (size_t i = 0; i < n; i++)
		f->hash = (f->hash ^ (unsigned char)p[i]) * 1099511628211ull;
	f->count++;
	if (kw_event_parse(p, n, &ev, err, sizeof(err)) == CONTOUR_EOK) {
		if (!ev.object || ev.type == KW_EV_NONE)
			abort();
		json_t *copy = json_deep_copy(ev.object);
		kw_object_prepare(&secret, copy);
		if (json_object_get(copy, "stringData"))
			abort();
		json_decref(copy);
		kw_event_fini(&ev);
	}
	return 0;
}

static void fz_kubeconfig(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_kw_kubeconfig_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	kw_conn_t c;
	char err[1024];
	if (kw_conn_from_kubeconfig(&c, path, err, sizeof(err)) == CONTOUR_EOK) {
		if (!c.server)
			abort();
		kw_conn_fini(&c);
	} else if (!err[0]) {
		abort();
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	core_log_configure(CORE_LOG_TEXT, (contour_log_level_t)0);
	if (size == 0)
		return 0;
	size_t piece = (size_t)data[0] % 17 + 1;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	fz_t whole = {14695981039346656037ull, 0}, cut = {14695981039346656037ull, 0};
	kw_split_t *a = kw_split_new(1u << 20, fz_value, &whole);
	kw_split_t *b = kw_split_new(1u << 20, fz_value, &cut);
	int ra = kw_split_feed(a, p, n);
	int rb = 0;
	for (size_t off = 0; off < n && rb == 0; off += piece)
		rb = kw_split_feed(b, p + off, n - off < piece ? n - off : piece);
	if (ra != rb || whole.count != cut.count || whole.hash != cut.hash)
		abort();
	if (ra == 0 && kw_split_pending(a) != kw_split_pending(b))
		abort();
	kw_split_free(a);
	kw_split_free(b);
	fz_kubeconfig(data, size);
	return 0;
}
