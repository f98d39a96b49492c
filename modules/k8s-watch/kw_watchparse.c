/* modules/k8s-watch/kw_watchparse.c: the watch stream's event splitter, the
 * events themselves, and what is done to every object before the store
 * sees it.
 *
 * The API server writes one JSON object per event, flushed whenever its
 * queue is empty: a network piece may hold half an event or several. The
 * splitter follows JSON's own nesting (strings and escapes included) to find
 * where each top-level value ends, the way client-go's framed JSON reader
 * does, so the newline after each event is welcome but not needed. Only an
 * event that spans pieces is copied; the others are parsed in place.
 *
 * Pure functions, no store and no logging, so the fuzz target can drive
 * them directly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"

struct kw_split {
	size_t max;     /* largest value accepted */
	kw_value_fn fn; /* called with each complete value */
	void *ud;
	char *buf; /* the start of a value that spans pieces */
	size_t len, cap;
	int depth;  /* 0: between values */
	int in_str; /* inside a string */
	int esc;    /* after a backslash inside a string */
	int failed;
};

kw_split_t *kw_split_new(size_t max_value, kw_value_fn fn, void *ud)
{
	kw_split_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->max = max_value;
	s->fn = fn;
	s->ud = ud;
	return s;
}

void kw_split_free(kw_split_t *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

void kw_split_reset(kw_split_t *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
	s->depth = s->in_str = s->esc = s->failed = 0;
}

size_t kw_split_pending(const kw_split_t *s)
{
	return s->depth ? s->len : 0;
}

static int kw_split_keep(kw_split_t *s, const char *p, size_t n)
{
	if (n > s->max - s->len)
		return KW_SPLIT_ETOOBIG;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n)
			cap *= 2;
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return CONTOUR_ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return CONTOUR_EOK;
}

int kw_split_feed(kw_split_t *s, const char *p, size_t n)
{
	if (s->failed)
		return s->failed;
	size_t start = 0; /* where the current value starts in p */
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (s->depth == 0) {
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				continue;
			if (c != '{') {
				/* Events are objects; anything else is a broken stream. */
				s->failed = KW_SPLIT_ESYNTAX;
				return s->failed;
			}
			s->depth = 1;
			start = i;
			continue;
		}
		if (s->in_str) {
			if (s->esc)
				s->esc = 0;
			else if (c == '\\')
				s->esc = 1;
			else if (c == '"')
				s->in_str = 0;
			continue;
		}
		if (c == '"') {
			s->in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++s->depth > 10000) {
				s->failed = KW_SPLIT_ESYNTAX;
				return s->failed;
			}
		} else if (c == '}' || c == ']') {
			if (--s->depth > 0)
				continue;
			int rc;
			if (s->len) {
				rc = kw_split_keep(s, p, i + 1);
				if (rc == CONTOUR_EOK)
					rc = s->fn(s->buf, s->len, s->ud);
				s->len = 0;
			} else {
				if (i + 1 - start > s->max)
					rc = KW_SPLIT_ETOOBIG;
				else
					rc = s->fn(p + start, i + 1 - start, s->ud);
			}
			if (rc != 0) {
				s->failed = rc;
				return rc;
			}
		}
	}
	if (s->depth) {
		/* Keep the unfinished value for the next piece. */
		size_t from = s->len ? 0 : start;
		int rc = kw_split_keep(s, p + from, n - from);
		if (rc != CONTOUR_EOK) {
			s->failed = rc;
			return rc;
		}
	}
	return CONTOUR_EOK;
}

/* ---- events ---- */

int kw_event_parse(const char *p, size_t n, kw_event_t *ev, char *err, size_t errlen)
{
	json_error_t je;
	memset(ev, 0, sizeof(*ev));
	json_t *root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "bad event: %s", je.text);
		return CONTOUR_EPARSE;
	}
	const char *type = json_string_value(json_object_get(root, "type"));
	json_t *obj = json_object_get(root, "object");
	static const struct {
		const char *name;
		kw_event_type_t type;
	} types[] = {
	    {"ADDED", KW_EV_ADDED},       {"MODIFIED", KW_EV_MODIFIED}, {"DELETED", KW_EV_DELETED},
	    {"BOOKMARK", KW_EV_BOOKMARK}, {"ERROR", KW_EV_ERROR},
	};
	ev->type = KW_EV_NONE;
	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i].name))
			ev->type = types[i].type;
	if (ev->type == KW_EV_NONE) {
		/* client-go's decoder fails the stream on an unknown type too. */
		snprintf(err, errlen, "bad event: unknown type %.64s", type ? type : "(none)");
		json_decref(root);
		return CONTOUR_EPARSE;
	}
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "bad event: %s without an object", type);
		json_decref(root);
		return CONTOUR_EPARSE;
	}
	ev->object = json_incref(obj);
	json_decref(root);
	const json_t *meta = json_object_get(ev->object, "metadata");
	ev->resource_version = json_string_value(json_object_get(meta, "resourceVersion"));
	if (ev->type == KW_EV_ERROR) {
		ev->code = (int)json_integer_value(json_object_get(ev->object, "code"));
		const char *msg = json_string_value(json_object_get(ev->object, "message"));
		snprintf(ev->message, sizeof(ev->message), "%s", msg ? msg : "watch error");
	}
	return CONTOUR_EOK;
}

void kw_event_fini(kw_event_t *ev)
{
	json_decref(ev->object);
	ev->object = NULL;
}

/* ---- objects ---- */

int kw_object_prepare(const kw_kind_t *kind, json_t *obj)
{
	/* List items of built-in types come without kind and apiVersion. */
	if (!json_string_value(json_object_get(obj, "apiVersion")))
		json_object_set_new(obj, "apiVersion", json_string(kind->api_version));
	if (!json_string_value(json_object_get(obj, "kind")))
		json_object_set_new(obj, "kind", json_string(kind->kind));
	if (!strcmp(kind->kind, "Secret") && !strcmp(kind->api_version, "v1"))
		return kw_secret_filter(obj);
	return 0;
}

int kw_secret_filter(json_t *secret)
{
	/* stringData is write-only: never served, never needed. */
	json_object_del(secret, "stringData");
	json_t *data = json_object_get(secret, "data");
	if (!data)
		return 0;
	const char *type = json_string_value(json_object_get(secret, "type"));
	if (type && !strcmp(type, "kubernetes.io/tls"))
		return 0;
	if (json_object_get(data, "ca.crt") || json_object_get(data, "crl.pem"))
		return 0;
	/* Helm releases, service-account tokens, app config: the DAG never
	 * reads them, and thousands of them cost real memory. */
	json_object_del(secret, "data");
	return 1;
}
