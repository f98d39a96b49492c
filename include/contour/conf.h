/* contour/conf.h: configuration schemas and typed accessors.
 *
 * A module describes its `config:` mapping with a table of contour_conf_item_t
 * ending in CONTOUR_CONF_END. Before any module's init runs, the core checks
 * every entry against its table: unknown keys, wrong types, values out of
 * range and missing required keys are reported as `FILE:LINE: key: problem`
 * and startup stops. Defaults are filled in, so after validation every key of
 * the table with a default is present and modules can read it without a
 * fallback. Top-level keys of the config file other than `modules` are global
 * settings: each must be one of upstream's contour.yaml keys or the core's,
 * and the modules that read them type them (the descriptor's global_schema,
 * see contour/module.h); they are checked the same way once every module is
 * loaded, before any init.
 */
#ifndef CONTOUR_CONF_H
#define CONTOUR_CONF_H

#include <stdint.h>
#include <stddef.h>
#include <jansson.h>

#include <contour/duration.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;

typedef enum {
	CONTOUR_CONF_END = 0, /* terminates a table */
	CONTOUR_CONF_STR,     /* string */
	CONTOUR_CONF_INT,     /* integer; min/max checked when min < max */
	CONTOUR_CONF_BOOL,    /* boolean */
	CONTOUR_CONF_DURATION, /* Go duration string ("100ms", "1m30s") or integer
	                          seconds; stored as integer milliseconds */
	CONTOUR_CONF_STR_LIST, /* list of strings; a single string is accepted and
	                          stored as a list of one, and "a,b" is not split */
	CONTOUR_CONF_MAP,      /* mapping; checked against `children` if given */
	CONTOUR_CONF_LIST,     /* list of anything */
	CONTOUR_CONF_ANY,      /* any value, unchecked */
	CONTOUR_CONF_NUMBER,   /* a number, integer or not (upstream's float32
	                          keys); min/max checked when min < max */
} contour_conf_type_t;

#define CONTOUR_CONF_REQUIRED 0x1u /* the key must be present */

typedef struct contour_conf_item {
	const char *key;
	contour_conf_type_t type;
	unsigned flags;
	/* Default as YAML text ("8001", "true", "100ms", "[a, b]"), or NULL. */
	const char *def;
	int64_t min, max; /* inclusive range for INT and DURATION (ms) if min < max */
	const struct contour_conf_item *children; /* for MAP: keys allowed inside */
	const char *help;
} contour_conf_item_t;

/* Table rows without the initialiser noise, one macro a key:
 *   CONTOUR_CONF_KEY("port", INT)           a key of one type
 *   CONTOUR_CONF_SUB("tls", tls_keys)       a mapping checked against its table
 *   CONTOUR_CONF_OPT("address", STR, "0.0.0.0", "where to listen")
 *                                           a key with a default (or NULL) and
 *                                           help (or NULL)
 *   CONTOUR_CONF_RANGE("port", INT, "8000", 0, 65535, "TCP port")
 *                                           the same, with an inclusive range
 *                                           (min, max) for INT or DURATION (ms)
 *   CONTOUR_CONF_NEED("paths", STR_LIST, "files to read")
 *                                           a required key (no default), help
 * The type is the contour_conf_type_t name without CONTOUR_CONF_. */
#define CONTOUR_CONF_KEY(k, t)                                                                     \
	{                                                                                          \
		.key = (k), .type = CONTOUR_CONF_##t                                               \
	}
#define CONTOUR_CONF_SUB(k, c)                                                                     \
	{                                                                                          \
		.key = (k), .type = CONTOUR_CONF_MAP, .children = (c)                              \
	}
#define CONTOUR_CONF_OPT(k, t, d, h)                                                               \
	{                                                                                          \
		.key = (k), .type = CONTOUR_CONF_##t, .def = (d), .help = (h)                      \
	}
#define CONTOUR_CONF_RANGE(k, t, d, lo, hi, h)                                                     \
	{                                                                                          \
		.key = (k), .type = CONTOUR_CONF_##t, .def = (d), .min = (lo), .max = (hi),        \
		.help = (h)                                                                        \
	}
#define CONTOUR_CONF_NEED(k, t, h)                                                                 \
	{                                                                                          \
		.key = (k), .type = CONTOUR_CONF_##t, .flags = CONTOUR_CONF_REQUIRED, .help = (h)  \
	}

/* Typed accessors for the calling module's own, validated `config:` mapping.
 * `key` may be a dotted path into nested maps ("tls.cert-file"). The values
 * are borrowed from the core and valid until the module's free hook returns;
 * copy what must live longer. A missing key yields the fallback `def`. */
const char *contour_conf_get_str(contour_module_t *mod, const char *key, const char *def);
int64_t contour_conf_get_int(contour_module_t *mod, const char *key, int64_t def);
int contour_conf_get_bool(contour_module_t *mod, const char *key, int def);
int64_t contour_conf_get_duration_ms(contour_module_t *mod, const char *key, int64_t def);
/* A NUMBER key (an integer reads as its value). */
double contour_conf_get_number(contour_module_t *mod, const char *key, double def);
/* The raw value (any type) or NULL; borrowed. */
const json_t *contour_conf_get(contour_module_t *mod, const char *key);

/* contour_conf_global: a global setting (a top-level key other than
 * `modules`), by dotted path ("tls.fallback-certificate.name",
 * "root-namespaces"), or NULL when unset. Borrowed, valid for the process. */
const json_t *contour_conf_global(contour_module_t *mod, const char *path);

/* contour_conf_global_str_list: a global setting that upstream accepts either
 * as a YAML list or as a comma-separated string (root-namespaces,
 * ingress-class-name, watch-namespaces), as a new JSON array of strings with
 * empty items dropped; an unset key gives an empty array. The caller owns the
 * result (json_decref). */
json_t *contour_conf_global_str_list(contour_module_t *mod, const char *path);

/* contour_duration_parse: see contour/duration.h (included above). */

#ifdef __cplusplus
}
#endif
#endif
