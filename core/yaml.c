/* core/yaml.c: the one YAML reader, libyaml events to jansson values.
 *
 * The tree is built from libyaml's event stream with an explicit stack of open
 * collections, so the depth of the input costs a bounded array, never C stack.
 * A collection is attached to its parent when it closes; until then the stack
 * frame owns it, which keeps error clean-up to one walk over the stack.
 *
 * Scalars follow the YAML 1.2 core schema (see yaml_resolve_plain()).
 * Anchors live for one document. Aliases are deep copies, counted against a
 * budget so a "billion laughs" document fails early instead of eating memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/core.h"
#include "core/util.h"

#define YAML_MAX_DEPTH        256
#define YAML_MAX_INPUT        ((size_t)64 << 20)
#define YAML_MIN_EXPANSION    100000
#define YAML_EXPANSION_FACTOR 10
#define YAML_TAG_PREFIX       "tag:yaml.org,2002:"

/* ---------------------------------------------------------------------------
 * Position map: open addressing, linear probing, keyed by node pointer plus a
 * key string or an index. Key strings are copied into an arena so the map
 * does not depend on jansson's internal key storage.
 */

enum { YAML_POS_NODE = 1, YAML_POS_KEY, YAML_POS_INDEX };

typedef struct yaml_pos_ent {
	const json_t *node; /* NULL: empty slot */
	const char *key;    /* YAML_POS_KEY: arena copy */
	size_t n;           /* key length, or index */
	uint32_t hash;
	uint8_t kind;
	int line;
} yaml_pos_ent_t;

typedef struct yaml_arena_chunk {
	struct yaml_arena_chunk *next;
	size_t used, cap;
	char data[];
} yaml_arena_chunk_t;

struct contour_yaml_pos {
	yaml_pos_ent_t *ents;
	size_t cap; /* power of two, or 0 */
	size_t count;
	yaml_arena_chunk_t *arena;
	/* Containers merged away by `<<`. They stay alive as long as the map,
	 * so no later allocation can reuse their address and inherit their
	 * lines. */
	json_t *keep;
};

static uint32_t yaml_pos_hash(const json_t *node, int kind, const char *key, size_t n)
{
	uint64_t h = (uint64_t)(uintptr_t)node ^ ((uint64_t)kind << 56);
	if (kind == YAML_POS_KEY) {
		uint64_t k = 0xcbf29ce484222325ULL; /* FNV-1a */
		for (size_t i = 0; i < n; i++)
			k = (k ^ (unsigned char)key[i]) * 0x100000001b3ULL;
		h ^= k;
	} else {
		h ^= (uint64_t)n * 0x9e3779b97f4a7c15ULL;
	}
	return (uint32_t)core_hash_mix64(h);
}

static const char *yaml_arena_copy(contour_yaml_pos_t *pos, const char *s, size_t n)
{
	yaml_arena_chunk_t *c = pos->arena;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = pos->arena;
		c->used = 0;
		c->cap = cap;
		pos->arena = c;
	}
	char *p = c->data + c->used;
	if (n)
		memcpy(p, s, n);
	c->used += n;
	return p;
}

static int yaml_pos_grow(contour_yaml_pos_t *pos)
{
	size_t cap = pos->cap ? pos->cap * 2 : 1024;
	yaml_pos_ent_t *ents = calloc(cap, sizeof(*ents));
	if (!ents)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < pos->cap; i++) {
		yaml_pos_ent_t *e = &pos->ents[i];
		if (!e->node)
			continue;
		size_t j = e->hash & (cap - 1);
		while (ents[j].node)
			j = (j + 1) & (cap - 1);
		ents[j] = *e;
	}
	free(pos->ents);
	pos->ents = ents;
	pos->cap = cap;
	return CONTOUR_EOK;
}

/* Insert without checking for an existing entry: the parser never records the
 * same (node, key) or (node, index) twice. */
static int yaml_pos_add(contour_yaml_pos_t *pos, const json_t *node, int kind, const char *key,
                        size_t n, int line)
{
	if ((pos->count + 1) * 2 > pos->cap && yaml_pos_grow(pos))
		return CONTOUR_ENOMEM;
	yaml_pos_ent_t e = {.node = node, .n = n, .kind = (uint8_t)kind, .line = line};
	e.hash = yaml_pos_hash(node, kind, key, n);
	if (kind == YAML_POS_KEY && !(e.key = yaml_arena_copy(pos, key, n)))
		return CONTOUR_ENOMEM;
	size_t j = e.hash & (pos->cap - 1);
	while (pos->ents[j].node)
		j = (j + 1) & (pos->cap - 1);
	pos->ents[j] = e;
	pos->count++;
	return CONTOUR_EOK;
}

static int yaml_pos_find(const contour_yaml_pos_t *pos, const json_t *node, int kind,
                         const char *key, size_t n)
{
	if (!pos || !node || !pos->cap)
		return 0;
	uint32_t h = yaml_pos_hash(node, kind, key, n);
	for (size_t j = h & (pos->cap - 1);; j = (j + 1) & (pos->cap - 1)) {
		const yaml_pos_ent_t *e = &pos->ents[j];
		if (!e->node)
			return 0;
		if (e->hash == h && e->node == node && e->kind == kind && e->n == n &&
		    (kind != YAML_POS_KEY || !memcmp(e->key, key, n)))
			return e->line;
	}
}

static contour_yaml_pos_t *yaml_pos_new(void)
{
	contour_yaml_pos_t *pos = calloc(1, sizeof(*pos));
	if (!pos)
		return NULL;
	if (!(pos->keep = json_array()) || yaml_pos_grow(pos)) {
		contour_yaml_pos_free(pos);
		return NULL;
	}
	return pos;
}

void contour_yaml_pos_free(contour_yaml_pos_t *pos)
{
	if (!pos)
		return;
	while (pos->arena) {
		yaml_arena_chunk_t *next = pos->arena->next;
		free(pos->arena);
		pos->arena = next;
	}
	free(pos->ents);
	json_decref(pos->keep);
	free(pos);
}

int contour_yaml_pos_key_line(const contour_yaml_pos_t *pos, const json_t *object, const char *key)
{
	if (!key)
		return 0;
	return yaml_pos_find(pos, object, YAML_POS_KEY, key, strlen(key));
}

int contour_yaml_pos_index_line(const contour_yaml_pos_t *pos, const json_t *array, size_t index)
{
	return yaml_pos_find(pos, array, YAML_POS_INDEX, NULL, index);
}

int contour_yaml_pos_node_line(const contour_yaml_pos_t *pos, const json_t *node)
{
	return yaml_pos_find(pos, node, YAML_POS_NODE, NULL, 0);
}

/* ---------------------------------------------------------------------------
 * Parser state.
 */

typedef struct yaml_frame {
	json_t *node; /* owned until the collection closes */
	int is_map;
	yaml_mark_t mark; /* start of the collection */
	size_t produced0; /* ctx->produced when opened: its size on close */
	int height;       /* tallest child so far (scalars are 0) */
	char *anchor;     /* owned, NULL if none */
	size_t anchor_seq;
	/* Mappings: the key waiting for its value. The buffer is reused by
	 * whatever frame occupies this stack slot next. */
	int have_key;
	int key_is_merge;
	int merge_seen;
	char *key;
	size_t keylen, keycap;
	int key_line;
	json_t *merges; /* values of `<<`, in order; NULL if none */
} yaml_frame_t;

typedef struct yaml_anchor {
	json_t *value; /* a reference */
	size_t count;  /* values inside, for the expansion budget */
	int height;
	size_t seq; /* event number of the definition */
	char *text; /* scalars: their text, for an alias used as a key */
	size_t textlen;
} yaml_anchor_t;

typedef struct yaml_ctx {
	yaml_parser_t parser;
	const char *buf;
	size_t len;
	json_t *docs;
	json_t *root; /* the current document's root once it is complete */
	contour_yaml_pos_t *pos;
	contour_yaml_error_t *err;
	yaml_frame_t stack[YAML_MAX_DEPTH];
	size_t depth;
	yaml_anchor_t *anchors;
	size_t nanchors, anchors_cap;
	json_t *anchor_index; /* name -> index into anchors, last definition wins */
	size_t open_anchors;  /* frames with an anchor */
	size_t produced;      /* values created, alias copies included */
	size_t events;
} yaml_ctx_t;

static int yaml_fail(yaml_ctx_t *ctx, int rc, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int yaml_fail(yaml_ctx_t *ctx, int rc, const yaml_mark_t *mark, const char *fmt, ...)
{
	contour_yaml_error_t *err = ctx->err;
	if (!err)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->line = mark ? (int)mark->line + 1 : 0;
	err->column = mark ? (int)mark->column + 1 : 0;
	return rc;
}

static int yaml_nomem(yaml_ctx_t *ctx)
{
	return yaml_fail(ctx, CONTOUR_ENOMEM, NULL, "out of memory");
}

/* A libyaml failure: problem_mark locates scanner and parser errors; reader
 * errors (bad encoding) only carry a byte offset, so count lines ourselves. */
static int yaml_parser_fail(yaml_ctx_t *ctx)
{
	yaml_parser_t *p = &ctx->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR)
		return yaml_nomem(ctx);
	if (p->error == YAML_READER_ERROR) {
		yaml_mark_t m = {0};
		size_t end = p->problem_offset < ctx->len ? p->problem_offset : ctx->len;
		for (size_t i = 0; i < end; i++) {
			if (ctx->buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		if (p->problem_value != -1)
			return yaml_fail(ctx, CONTOUR_EPARSE, &m, "%s (#%X at byte %zu)", problem,
			                 (unsigned)p->problem_value, p->problem_offset);
		return yaml_fail(ctx, CONTOUR_EPARSE, &m, "%s (at byte %zu)", problem,
		                 p->problem_offset);
	}
	if (p->context)
		return yaml_fail(ctx, CONTOUR_EPARSE, &p->problem_mark, "%s (%s)", problem,
		                 p->context);
	return yaml_fail(ctx, CONTOUR_EPARSE, &p->problem_mark, "%s", problem);
}

/* ---------------------------------------------------------------------------
 * Scalars: the YAML 1.2 core schema.
 */

static int yaml_is_null(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 &&
	        (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* 1 true, 0 false, -1 not a boolean. `yes`, `on` and friends are YAML 1.1
 * and stay strings. */
static int yaml_bool(const char *s, size_t n)
{
	if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4)))
		return 1;
	if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5)))
		return 0;
	return -1;
}

static int yaml_digit(int c, int base)
{
	int d;
	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d < base ? d : -1;
}

/* Integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. Returns 1 and sets *out
 * (NULL on allocation failure) if s[0..n) is one, else 0. Beyond int64 the
 * value becomes a real rather than an error, as Kubernetes' reader does. */
static int yaml_match_int(const char *s, size_t n, int want_real, json_t **out)
{
	size_t i = 0;
	int base = 10, neg = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		base = s[1] == 'o' ? 8 : 16;
		i = 2;
	} else if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return 0;
	uint64_t u = 0;
	double d = 0;
	int overflow = 0;
	for (; i < n; i++) {
		int v = yaml_digit((unsigned char)s[i], base);
		if (v < 0)
			return 0;
		if (u > (UINT64_MAX - (uint64_t)v) / (uint64_t)base)
			overflow = 1;
		u = u * (uint64_t)base + (uint64_t)v;
		d = d * base + v;
	}
	if (!overflow && u > (uint64_t)INT64_MAX + (uint64_t)neg)
		overflow = 1;
	if (overflow || want_real) {
		if (base == 10 && !overflow) {
			d = (double)u;
		} else if (base == 10 && n < 512) {
			/* Long decimal text goes through strtod for correct
			 * rounding; the accumulated d is only a fallback. */
			char tmp[512];
			memcpy(tmp, s, n);
			tmp[n] = '\0';
			d = fabs(strtod(tmp, NULL));
		}
		if (neg)
			d = -d;
		if (!isfinite(d))
			return 0;
		*out = json_real(d);
		return 1;
	}
	if (neg)
		*out = json_integer(u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)u);
	else
		*out = json_integer((json_int_t)u);
	return 1;
}

/* Floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?. `.inf`,
 * `-.inf` and `.nan` are floats in YAML but cannot be JSON numbers (jansson
 * refuses them and no JSON reader would take them back), so they are not
 * matched here and stay strings; so does a literal too large for a double. */
static int yaml_match_float(const char *s, size_t n, json_t **out)
{
	size_t i = 0, digits = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < n && s[i] == '.') {
		i++;
		size_t frac = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, frac++;
		/* `.5` and `5.` are floats; a lone `.` is not. */
		if (!digits && !frac)
			return 0;
	} else if (!digits) {
		return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		size_t exp = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, exp++;
		if (!exp)
			return 0;
	}
	if (i != n)
		return 0;
	/* libyaml's scalar text is NUL-terminated and, having matched, holds
	 * no NUL before n. */
	double d = strtod(s, NULL);
	if (!isfinite(d))
		return 0;
	*out = json_real(d);
	return 1;
}

static json_t *yaml_resolve_plain(const char *s, size_t n)
{
	json_t *v;
	if (n == 0)
		return json_null();
	/* Cheap dispatch on the first byte: most scalars are words. */
	switch (s[0]) {
	case '~':
	case 'n':
	case 'N':
		if (yaml_is_null(s, n))
			return json_null();
		break;
	case 't':
	case 'T':
	case 'f':
	case 'F': {
		int b = yaml_bool(s, n);
		if (b >= 0)
			return json_boolean(b);
		break;
	}
	case '-':
	case '+':
	case '.':
	case '0' ... '9':
		if (yaml_match_int(s, n, 0, &v) || yaml_match_float(s, n, &v))
			return v; /* NULL only when out of memory */
		break;
	default:
		break;
	}
	return json_stringn_nocheck(s, n);
}

/* The value of a scalar event, honouring core-schema tags. libyaml only
 * produces valid UTF-8 (its reader checks the input and its escapes refuse
 * surrogates), so strings skip jansson's second check. */
static int yaml_scalar_value(yaml_ctx_t *ctx, const yaml_event_t *ev, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const yaml_mark_t *m = &ev->start_mark;
	json_t *v = NULL;
	int b;

	if (tag && !strncmp(tag, YAML_TAG_PREFIX, sizeof(YAML_TAG_PREFIX) - 1)) {
		const char *t = tag + sizeof(YAML_TAG_PREFIX) - 1;
		if (!strcmp(t, "str")) {
			v = json_stringn_nocheck(s, n);
		} else if (!strcmp(t, "int")) {
			if (!yaml_match_int(s, n, 0, &v))
				return yaml_fail(ctx, CONTOUR_EPARSE, m,
				                 "\"%.64s\" is not a valid !!int", s);
		} else if (!strcmp(t, "float")) {
			if (!yaml_match_int(s, n, 1, &v) && !yaml_match_float(s, n, &v))
				return yaml_fail(
				    ctx, CONTOUR_EPARSE, m,
				    "\"%.64s\" is not a valid !!float (or has no JSON value)", s);
		} else if (!strcmp(t, "bool")) {
			if ((b = yaml_bool(s, n)) < 0)
				return yaml_fail(ctx, CONTOUR_EPARSE, m,
				                 "\"%.64s\" is not a valid !!bool", s);
			v = json_boolean(b);
		} else if (!strcmp(t, "null")) {
			if (!yaml_is_null(s, n))
				return yaml_fail(ctx, CONTOUR_EPARSE, m,
				                 "\"%.64s\" is not a valid !!null", s);
			v = json_null();
		}
		/* Other yaml.org tags (!!binary, !!timestamp ...) are ignored. */
	} else if (tag && !strcmp(tag, "!")) {
		/* The non-specific tag `!` makes a plain scalar a string. */
		v = json_stringn_nocheck(s, n);
	}
	if (!v) {
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			v = yaml_resolve_plain(s, n);
		else
			v = json_stringn_nocheck(s, n);
	}
	if (!v)
		return yaml_nomem(ctx);
	*out = v;
	return CONTOUR_EOK;
}

/* ---------------------------------------------------------------------------
 * Anchors.
 */

static void yaml_anchors_clear(yaml_ctx_t *ctx)
{
	for (size_t i = 0; i < ctx->nanchors; i++) {
		json_decref(ctx->anchors[i].value);
		free(ctx->anchors[i].text);
	}
	ctx->nanchors = 0;
	json_object_clear(ctx->anchor_index);
}

static int yaml_anchor_add(yaml_ctx_t *ctx, const char *name, size_t seq, json_t *value,
                           size_t count, int height, const char *text, size_t textlen)
{
	if (ctx->nanchors == ctx->anchors_cap) {
		size_t cap = ctx->anchors_cap ? ctx->anchors_cap * 2 : 16;
		yaml_anchor_t *a = realloc(ctx->anchors, cap * sizeof(*a));
		if (!a)
			return yaml_nomem(ctx);
		ctx->anchors = a;
		ctx->anchors_cap = cap;
	}
	yaml_anchor_t *a = &ctx->anchors[ctx->nanchors];
	*a = (yaml_anchor_t){.count = count, .height = height, .seq = seq, .textlen = textlen};
	if (text) {
		if (!(a->text = malloc(textlen + 1)))
			return yaml_nomem(ctx);
		memcpy(a->text, text, textlen);
		a->text[textlen] = '\0';
	}
	if (json_object_set_new(ctx->anchor_index, name, json_integer((json_int_t)ctx->nanchors))) {
		free(a->text);
		return yaml_nomem(ctx);
	}
	a->value = json_incref(value);
	ctx->nanchors++;
	return CONTOUR_EOK;
}

/* The anchor an alias names: the most recent definition. If that is a
 * collection still open, the alias would contain itself. */
static int yaml_anchor_find(yaml_ctx_t *ctx, const yaml_event_t *ev, yaml_anchor_t **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *idx = json_object_get(ctx->anchor_index, name);
	yaml_anchor_t *a = idx ? &ctx->anchors[json_integer_value(idx)] : NULL;
	for (size_t i = 0; ctx->open_anchors && i < ctx->depth; i++) {
		const yaml_frame_t *f = &ctx->stack[i];
		if (f->anchor && !strcmp(f->anchor, name) && (!a || f->anchor_seq > a->seq))
			return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark,
			                 "alias *%.64s refers to a collection that contains it",
			                 name);
	}
	if (!a)
		return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark, "unknown anchor *%.64s",
		                 name);
	*out = a;
	return CONTOUR_EOK;
}

/* ---------------------------------------------------------------------------
 * Building the tree.
 */

static yaml_frame_t *yaml_top(yaml_ctx_t *ctx)
{
	return ctx->depth ? &ctx->stack[ctx->depth - 1] : NULL;
}

static int yaml_wants_key(const yaml_frame_t *f)
{
	return f && f->is_map && !f->have_key;
}

static int yaml_set_key(yaml_ctx_t *ctx, yaml_frame_t *f, const char *s, size_t n, int is_merge,
                        const yaml_mark_t *m)
{
	if (is_merge) {
		if (f->merge_seen)
			return yaml_fail(ctx, CONTOUR_EPARSE, m, "duplicate key \"<<\" at line %d",
			                 (int)m->line + 1);
		f->merge_seen = 1;
		f->key_is_merge = 1;
		f->key_line = (int)m->line + 1;
		f->have_key = 1;
		return CONTOUR_EOK;
	}
	if (json_object_getn(f->node, s, n))
		return yaml_fail(ctx, CONTOUR_EPARSE, m, "duplicate key \"%.*s\" at line %d",
		                 n > 64 ? 64 : (int)n, s, (int)m->line + 1);
	if (n + 1 > f->keycap) {
		size_t cap = n + 1 > 64 ? n + 1 : 64;
		char *k = realloc(f->key, cap);
		if (!k)
			return yaml_nomem(ctx);
		f->key = k;
		f->keycap = cap;
	}
	memcpy(f->key, s, n);
	f->key[n] = '\0';
	f->keylen = n;
	f->key_is_merge = 0;
	f->key_line = (int)m->line + 1;
	f->have_key = 1;
	return CONTOUR_EOK;
}

static int yaml_is_merge_source(const json_t *v)
{
	if (json_is_object(v))
		return 1;
	if (!json_is_array(v))
		return 0;
	for (size_t i = 0; i < json_array_size(v); i++)
		if (!json_is_object(json_array_get(v, i)))
			return 0;
	return 1;
}

/* Attach a finished value to the open collection (or make it the document
 * root). Steals v, whatever happens. */
static int yaml_add(yaml_ctx_t *ctx, json_t *v, int height, const yaml_mark_t *m)
{
	yaml_frame_t *f = yaml_top(ctx);
	int line = (int)m->line + 1;
	if (!f) {
		ctx->root = v;
		return CONTOUR_EOK;
	}
	if (height > f->height)
		f->height = height;
	if (!f->is_map) {
		size_t idx = json_array_size(f->node);
		if (json_array_append_new(f->node, v))
			return yaml_nomem(ctx);
		if (ctx->pos && yaml_pos_add(ctx->pos, f->node, YAML_POS_INDEX, NULL, idx, line))
			return yaml_nomem(ctx);
		return CONTOUR_EOK;
	}
	f->have_key = 0;
	if (f->key_is_merge) {
		if (!yaml_is_merge_source(v)) {
			json_decref(v);
			return yaml_fail(
			    ctx, CONTOUR_EPARSE, m,
			    "merge key \"<<\" needs a mapping or a sequence of mappings");
		}
		if (!f->merges && !(f->merges = json_array())) {
			json_decref(v);
			return yaml_nomem(ctx);
		}
		if (json_array_append_new(f->merges, v))
			return yaml_nomem(ctx);
		return CONTOUR_EOK;
	}
	/* Keys come from libyaml: valid UTF-8, no check needed. */
	if (json_object_setn_new_nocheck(f->node, f->key, f->keylen, v))
		return yaml_nomem(ctx);
	if (ctx->pos &&
	    yaml_pos_add(ctx->pos, f->node, YAML_POS_KEY, f->key, f->keylen, f->key_line))
		return yaml_nomem(ctx);
	return CONTOUR_EOK;
}

static int yaml_merge_one(yaml_ctx_t *ctx, yaml_frame_t *f, json_t *src)
{
	const char *key;
	size_t keylen;
	json_t *v;
	json_object_keylen_foreach(src, key, keylen, v)
	{
		if (json_object_getn(f->node, key, keylen))
			continue;
		if (json_object_setn_nocheck(f->node, key, keylen, v))
			return yaml_nomem(ctx);
		/* A merged key has no line of its own: point at the `<<`. */
		if (ctx->pos &&
		    yaml_pos_add(ctx->pos, f->node, YAML_POS_KEY, key, keylen, f->key_line))
			return yaml_nomem(ctx);
	}
	return CONTOUR_EOK;
}

/* Explicit keys are all set by the time the mapping closes, so merging only
 * into missing keys makes them win wherever they stand relative to `<<`;
 * earlier sources in `<<: [*a, *b]` win over later ones. */
static int yaml_apply_merges(yaml_ctx_t *ctx, yaml_frame_t *f)
{
	size_t i, j;
	json_t *src, *elem;
	int rc;
	json_array_foreach(f->merges, i, src)
	{
		if (json_is_object(src)) {
			if ((rc = yaml_merge_one(ctx, f, src)))
				return rc;
			continue;
		}
		json_array_foreach(src, j, elem)
		{
			if ((rc = yaml_merge_one(ctx, f, elem)))
				return rc;
		}
	}
	/* The merged values are now shared with the sources; dropping the
	 * sources leaves each container in the tree once. */
	if (ctx->pos && json_array_extend(ctx->pos->keep, f->merges))
		return yaml_nomem(ctx);
	json_decref(f->merges);
	f->merges = NULL;
	return CONTOUR_EOK;
}

static int yaml_on_scalar(yaml_ctx_t *ctx, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	yaml_frame_t *f = yaml_top(ctx);
	json_t *v = NULL;
	int rc;

	ctx->produced++;
	if (yaml_wants_key(f)) {
		/* Keys are kept as their text; a value is only built to check a
		 * tag or to remember an anchor. */
		if (anchor || ev->data.scalar.tag) {
			if ((rc = yaml_scalar_value(ctx, ev, &v)))
				return rc;
			rc = anchor ? yaml_anchor_add(ctx, anchor, ctx->events, v, 1, 0, s, n) : 0;
			json_decref(v);
			if (rc)
				return rc;
		}
		int merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n == 2 &&
		            s[0] == '<' && s[1] == '<' && !ev->data.scalar.tag;
		return yaml_set_key(ctx, f, s, n, merge, &ev->start_mark);
	}
	if ((rc = yaml_scalar_value(ctx, ev, &v)))
		return rc;
	if (anchor && (rc = yaml_anchor_add(ctx, anchor, ctx->events, v, 1, 0, s, n))) {
		json_decref(v);
		return rc;
	}
	return yaml_add(ctx, v, 0, &ev->start_mark);
}

static int yaml_on_alias(yaml_ctx_t *ctx, const yaml_event_t *ev)
{
	yaml_frame_t *f = yaml_top(ctx);
	yaml_anchor_t *a = NULL;
	int rc;

	if ((rc = yaml_anchor_find(ctx, ev, &a)))
		return rc;
	if (yaml_wants_key(f)) {
		if (!a->text)
			return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark,
			                 "mapping keys must be scalars");
		ctx->produced++;
		return yaml_set_key(ctx, f, a->text, a->textlen, 0, &ev->start_mark);
	}
	size_t limit = YAML_EXPANSION_FACTOR * ctx->events;
	if (limit < YAML_MIN_EXPANSION)
		limit = YAML_MIN_EXPANSION;
	if (ctx->produced > limit || a->count > limit - ctx->produced)
		return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark,
		                 "too many alias expansions (over %zu values)", limit);
	if (ctx->depth + (size_t)a->height > YAML_MAX_DEPTH)
		return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark,
		                 "nesting deeper than %d (through alias *%.64s)", YAML_MAX_DEPTH,
		                 (const char *)ev->data.alias.anchor);
	json_t *copy = json_deep_copy(a->value);
	if (!copy)
		return yaml_nomem(ctx);
	ctx->produced += a->count;
	if (ctx->pos && (json_is_object(copy) || json_is_array(copy)) &&
	    yaml_pos_add(ctx->pos, copy, YAML_POS_NODE, NULL, 0, (int)ev->start_mark.line + 1)) {
		json_decref(copy);
		return yaml_nomem(ctx);
	}
	return yaml_add(ctx, copy, a->height, &ev->start_mark);
}

static int yaml_open(yaml_ctx_t *ctx, const yaml_event_t *ev, int is_map)
{
	yaml_frame_t *f = yaml_top(ctx);
	const char *anchor = is_map ? (const char *)ev->data.mapping_start.anchor
	                            : (const char *)ev->data.sequence_start.anchor;
	if (yaml_wants_key(f))
		return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark,
		                 "mapping keys must be scalars");
	if (ctx->depth >= YAML_MAX_DEPTH)
		return yaml_fail(ctx, CONTOUR_EPARSE, &ev->start_mark, "nesting deeper than %d",
		                 YAML_MAX_DEPTH);
	json_t *node = is_map ? json_object() : json_array();
	if (!node)
		return yaml_nomem(ctx);
	char *a = NULL;
	if (anchor && !(a = strdup(anchor))) {
		json_decref(node);
		return yaml_nomem(ctx);
	}
	f = &ctx->stack[ctx->depth++];
	f->node = node;
	f->is_map = is_map;
	f->mark = ev->start_mark;
	f->produced0 = ctx->produced++;
	f->height = 0;
	f->anchor = a;
	f->anchor_seq = ctx->events;
	f->have_key = f->key_is_merge = f->merge_seen = 0;
	f->merges = NULL;
	if (a)
		ctx->open_anchors++;
	if (ctx->pos &&
	    yaml_pos_add(ctx->pos, node, YAML_POS_NODE, NULL, 0, (int)ev->start_mark.line + 1))
		return yaml_nomem(ctx);
	return CONTOUR_EOK;
}

static int yaml_close(yaml_ctx_t *ctx)
{
	yaml_frame_t *f = &ctx->stack[ctx->depth - 1];
	int rc;
	if (f->merges && (rc = yaml_apply_merges(ctx, f)))
		return rc;
	/* Pop only now: until here an error leaves the frame to the clean-up. */
	json_t *node = f->node;
	char *anchor = f->anchor;
	f->node = NULL;
	f->anchor = NULL;
	ctx->depth--;
	int height = f->height + 1;
	if (anchor) {
		ctx->open_anchors--;
		rc = yaml_anchor_add(ctx, anchor, f->anchor_seq, node, ctx->produced - f->produced0,
		                     height, NULL, 0);
		free(anchor);
		if (rc) {
			json_decref(node);
			return rc;
		}
	}
	return yaml_add(ctx, node, height, &f->mark);
}

static int yaml_on_event(yaml_ctx_t *ctx, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		yaml_anchors_clear(ctx);
		break;
	case YAML_DOCUMENT_END_EVENT: {
		json_t *root = ctx->root;
		ctx->root = NULL;
		yaml_anchors_clear(ctx);
		/* A document that is only null (empty, `---`, `~`) is left out. */
		if (root && !json_is_null(root))
			return json_array_append_new(ctx->docs, root) ? yaml_nomem(ctx) : 0;
		json_decref(root);
		break;
	}
	case YAML_SCALAR_EVENT:
		return yaml_on_scalar(ctx, ev);
	case YAML_ALIAS_EVENT:
		return yaml_on_alias(ctx, ev);
	case YAML_SEQUENCE_START_EVENT:
		return yaml_open(ctx, ev, 0);
	case YAML_MAPPING_START_EVENT:
		return yaml_open(ctx, ev, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return yaml_close(ctx);
	default:
		break;
	}
	return CONTOUR_EOK;
}

static void yaml_ctx_fini(yaml_ctx_t *ctx)
{
	for (size_t i = 0; i < YAML_MAX_DEPTH; i++) {
		yaml_frame_t *f = &ctx->stack[i];
		json_decref(f->node);
		json_decref(f->merges);
		free(f->anchor);
		free(f->key);
	}
	yaml_anchors_clear(ctx);
	free(ctx->anchors);
	json_decref(ctx->anchor_index);
	json_decref(ctx->root);
	yaml_parser_delete(&ctx->parser);
}

int contour_yaml_parse(const char *buf, size_t len, json_t **docs, contour_yaml_pos_t **pos,
                       contour_yaml_error_t *err)
{
	yaml_ctx_t *ctx = NULL;
	int rc = CONTOUR_EOK;

	if (err)
		memset(err, 0, sizeof(*err));
	if (pos)
		*pos = NULL;
	if (!docs || (!buf && len))
		return CONTOUR_EINVAL;
	*docs = NULL;
	if (len > YAML_MAX_INPUT) {
		if (err)
			snprintf(err->message, sizeof(err->message), "input is larger than %zu MiB",
			         YAML_MAX_INPUT >> 20);
		return CONTOUR_EPARSE;
	}
	/* The stack frames make ctx a few tens of KiB: heap, zeroed. */
	rc = CONTOUR_ENOMEM;
	if (!(ctx = calloc(1, sizeof(*ctx))))
		goto fail;
	if (!yaml_parser_initialize(&ctx->parser)) {
		free(ctx);
		ctx = NULL;
		goto fail;
	}
	ctx->buf = buf ? buf : "";
	ctx->len = len;
	ctx->err = err;
	yaml_parser_set_input_string(&ctx->parser, (const unsigned char *)ctx->buf, len);
	if (!(ctx->docs = json_array()) || !(ctx->anchor_index = json_object()))
		goto fail;
	if (pos && !(ctx->pos = yaml_pos_new()))
		goto fail;

	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&ctx->parser, &ev)) {
			rc = yaml_parser_fail(ctx);
			goto fail;
		}
		ctx->events++;
		rc = yaml_on_event(ctx, &ev);
		int done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc)
			goto fail;
		if (done)
			break;
	}
	*docs = ctx->docs;
	ctx->docs = NULL;
	if (pos)
		*pos = ctx->pos;
	ctx->pos = NULL;
	yaml_ctx_fini(ctx);
	free(ctx);
	return CONTOUR_EOK;

fail:
	if (rc == CONTOUR_ENOMEM && err && !err->message[0])
		snprintf(err->message, sizeof(err->message), "out of memory");
	if (ctx) {
		json_decref(ctx->docs);
		contour_yaml_pos_free(ctx->pos);
		yaml_ctx_fini(ctx);
		free(ctx);
	}
	return rc;
}

/* Read a whole file, refusing more than YAML_MAX_INPUT. Returns 0, -errno,
 * CONTOUR_ENOMEM or CONTOUR_EPARSE (too large), with err->message set. */
static int yaml_read_file(const char *path, char **out, size_t *outlen, contour_yaml_error_t *err)
{
	char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	int rc = CONTOUR_EPARSE; /* too large, unless set otherwise */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > YAML_MAX_INPUT)
		goto fail;
	/* The size is a hint (pipes have none, files grow): read to EOF. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	for (;;) {
		if (!buf || len == cap) {
			if (buf && cap > YAML_MAX_INPUT)
				goto fail;
			size_t ncap = buf ? cap * 2 : cap;
			char *p = realloc(buf, ncap);
			if (!p) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			buf = p;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > YAML_MAX_INPUT)
		goto fail;
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;

fail:
	if (err && rc == CONTOUR_EPARSE)
		snprintf(err->message, sizeof(err->message), "%s: larger than %zu MiB", path,
		         YAML_MAX_INPUT >> 20);
	else if (err)
		snprintf(err->message, sizeof(err->message), "%s: %s", path,
		         rc == CONTOUR_ENOMEM ? "out of memory" : strerror(-rc));
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int contour_yaml_parse_file(const char *path, json_t **docs, contour_yaml_pos_t **pos,
                            contour_yaml_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (pos)
		*pos = NULL;
	if (docs)
		*docs = NULL;
	if (!path || !docs)
		return CONTOUR_EINVAL;
	if ((rc = yaml_read_file(path, &buf, &len, err)))
		return rc;
	rc = contour_yaml_parse(buf, len, docs, pos, err);
	free(buf);
	return rc;
}
