/* modules/httpproxy/hp_status.c: the status of one HTTPProxy for one build,
 * shaped as upstream's ProxyUpdate writes it: a single `Valid`
 * DetailedCondition with errors[] and warnings[], and the legacy
 * currentStatus/description derived from it. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/httpproxy/hp.h"

/* Upstream's LongMessageLength (CRD validation limit). */
#define HP_STATUS_MAX_MESSAGE 32760

struct hp_status {
	json_int_t generation;
	json_t *errors; /* array of sub-conditions; NULL until the first */
	json_t *warnings;
	/* refs[i]: errors[i] was caused by another object (hp_status_error_ref);
	 * NULL until the first such error. */
	unsigned char *refs;
	size_t nrefs;
	int orphaned;
	char *vhost;
};

hp_status_t *hp_status_new(const json_t *proxy)
{
	hp_status_t *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->generation =
	    json_integer_value(json_object_get(json_object_get(proxy, "metadata"), "generation"));
	return st;
}

void hp_status_free(hp_status_t *st)
{
	if (!st)
		return;
	json_decref(st->errors);
	json_decref(st->warnings);
	CONTOUR_FREE_ALL(st->refs, st->vhost, st);
}

static void hp_status_add(json_t **listp, const char *type, const char *reason, const char *fmt,
                          va_list ap)
{
	/* Most statuses never get an entry: the list is made on the first. */
	if (!*listp && !(*listp = json_array()))
		return;
	json_t *list = *listp;
	char small[1024];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	char *msg = small;
	if ((size_t)n >= sizeof(small)) {
		msg = malloc((size_t)n + 1);
		if (!msg)
			return;
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	size_t len = (size_t)n > HP_STATUS_MAX_MESSAGE ? HP_STATUS_MAX_MESSAGE : (size_t)n;
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s%}", "type", type, "status",
	                                      "True", "reason", reason, "message", msg, len));
	if (msg != small)
		free(msg);
}

void hp_status_error(hp_status_t *st, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hp_status_add(&st->errors, type, reason, fmt, ap);
	va_end(ap);
	if (!strcmp(type, "Orphaned"))
		st->orphaned = 1;
}

void hp_status_error_ref(hp_status_t *st, const char *type, const char *reason, const char *fmt,
                         ...)
{
	va_list ap;
	va_start(ap, fmt);
	hp_status_add(&st->errors, type, reason, fmt, ap);
	va_end(ap);
	size_t n = json_array_size(st->errors);
	if (!n || n <= st->nrefs)
		return;
	unsigned char *grown = realloc(st->refs, n);
	if (!grown)
		return;
	memset(grown + st->nrefs, 0, n - st->nrefs);
	grown[n - 1] = 1;
	st->refs = grown;
	st->nrefs = n;
}

int hp_status_error_is_ref(const hp_status_t *st, size_t i)
{
	return i < st->nrefs && st->refs[i];
}

const json_t *hp_status_errors(const hp_status_t *st)
{
	return st->errors;
}

const json_t *hp_status_warnings(const hp_status_t *st)
{
	return st->warnings;
}

void hp_status_warning(hp_status_t *st, const char *type, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hp_status_add(&st->warnings, type, reason, fmt, ap);
	va_end(ap);
}

int hp_status_nerrors(const hp_status_t *st)
{
	return (int)json_array_size(st->errors);
}

void hp_status_set_vhost(hp_status_t *st, const char *fqdn)
{
	free(st->vhost);
	st->vhost = fqdn ? strdup(fqdn) : NULL;
}

const char *hp_status_vhost(const hp_status_t *st)
{
	return st->vhost;
}

/* The message of the first Orphaned error: upstream's description for an
 * orphaned proxy. */
static const char *hp_status_orphan_message(const hp_status_t *st)
{
	size_t i;
	json_t *e;
	json_array_foreach(st->errors, i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "type")), "Orphaned"))
			return json_string_value(json_object_get(e, "message"));
	}
	return NULL;
}

static json_t *hp_status_build(const hp_status_t *st, const char *transition_time)
{
	int valid = json_array_size(st->errors) == 0;
	const char *message =
	    valid ? "Valid HTTPProxy" : "At least one error present, see Errors for details";
	json_t *cond = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", "Valid", "status",
	                         valid ? "True" : "False", "observedGeneration", st->generation,
	                         "lastTransitionTime", transition_time, "reason",
	                         valid ? "Valid" : "ErrorPresent", "message", message);
	if (!cond)
		return NULL;
	if (json_array_size(st->errors))
		json_object_set(cond, "errors", st->errors);
	if (json_array_size(st->warnings))
		json_object_set(cond, "warnings", st->warnings);

	const char *current = valid ? "valid" : "invalid";
	const char *description = message;
	const char *orphan = valid ? NULL : hp_status_orphan_message(st);
	if (orphan) {
		current = "orphaned";
		description = orphan;
	}
	return json_pack("{s:s, s:s, s:{}, s:[o]}", "currentStatus", current, "description",
	                 description, "loadBalancer", "conditions", cond);
}

/* A valid status without warnings depends on nothing but the generation and
 * the transition time, and most proxies have one: those are built once and
 * shared (statuses are immutable once recorded), which saves building and
 * later freeing some twenty JSON values per proxy per build. The memo is
 * small and direct-mapped by generation; a new transition time (a later
 * second) empties it. Module state, as the processor's API passes no
 * per-build context here; it is released when the module is unloaded. */
#define HP_STATUS_MEMO 16

static struct {
	json_int_t generation;
	json_t *status;
} hp_status_memo[HP_STATUS_MEMO];
static char hp_status_memo_time[40];

static void hp_status_memo_clear(void)
{
	for (size_t i = 0; i < HP_STATUS_MEMO; i++) {
		json_decref(hp_status_memo[i].status);
		hp_status_memo[i].status = NULL;
	}
}

__attribute__((destructor)) static void hp_status_memo_fini(void)
{
	hp_status_memo_clear();
}

/* The memo slot for (generation, time), emptied if it held another
 * generation; NULL when the time does not fit the memo. */
static json_t **hp_status_memo_slot(json_int_t generation, const char *transition_time)
{
	size_t n = strlen(transition_time);
	if (n >= sizeof(hp_status_memo_time))
		return NULL;
	if (strcmp(hp_status_memo_time, transition_time)) {
		hp_status_memo_clear();
		memcpy(hp_status_memo_time, transition_time, n + 1);
	}
	size_t i = (size_t)((uint64_t)generation % HP_STATUS_MEMO);
	if (hp_status_memo[i].status && hp_status_memo[i].generation != generation) {
		json_decref(hp_status_memo[i].status);
		hp_status_memo[i].status = NULL;
	}
	hp_status_memo[i].generation = generation;
	return &hp_status_memo[i].status;
}

json_t *hp_status_to_json(const hp_status_t *st, const char *transition_time)
{
	if (json_array_size(st->errors) || json_array_size(st->warnings))
		return hp_status_build(st, transition_time);
	json_t **slot = hp_status_memo_slot(st->generation, transition_time);
	if (slot && *slot)
		return json_incref(*slot);
	json_t *status = hp_status_build(st, transition_time);
	if (slot && status)
		*slot = json_incref(status);
	return status;
}
