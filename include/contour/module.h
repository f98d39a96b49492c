/* contour/module.h: the module ABI, and the entry point to the public API.
 *
 * A module is a shared object that exports exactly one symbol, the const
 * descriptor `contour_module`, defined with CONTOUR_MODULE(). The core loads
 * modules named in the config file, checks the descriptor, validates each
 * module's `config:` against the descriptor's schema, then drives the
 * lifecycle:
 *
 *   init(mod, config)  read config, allocate state, register capabilities
 *                      (sources, processors, observers, subscriptions,
 *                      metrics). No sockets, threads or armed timers yet.
 *   start(mod)         open listeners, add events to the loop.
 *   stop(mod)          stop accepting, drain, remove events. May be called
 *                      twice, and is called for a module whose start failed.
 *   free(mod)          release everything. Runs after every successful init,
 *                      whether or not start ran.
 *
 * Modules are initialised and started in config order and stopped and freed
 * in reverse. If any init or start fails, the core stops what it started,
 * frees what it initialised, undoes that module's registrations and exits
 * non-zero with the module's error. SIGTERM and SIGINT stop and free every
 * module in reverse order and exit 0.
 *
 * Compatibility: the core accepts a module whose ABI major equals the core's
 * and whose minor is not greater than the core's. Minor bumps only add
 * (functions, trailing descriptor fields, trailing fields of the DAG structs
 * the core allocates, below); anything else bumps the major.
 *
 * DAG structs (dag.h), as Varnish's vrt.h states for its structs:
 *   - The core allocates every public DAG struct: contour_dag_<thing>_new()
 *     for one object, contour_dag_<thing>_push() for an element of a list,
 *     contour_dag_route_copy() for a copy, contour_dag_buf_new() for plain
 *     bytes. Modules never take the sizeof of a DAG struct, never allocate
 *     one themselves (contour_dag_new(dag, sizeof ...), malloc, the stack)
 *     and never embed one by value in their own structs, except the frozen
 *     ones below.
 *   - A struct reached through a single pointer may gain fields at its end
 *     in a minor version: contour_dag, route, cluster, svhost, secret,
 *     direct_response, redirect, header_policy, retry_policy, health_check,
 *     cors, ip_filter, slow_start, tcpproxy, client_validation. Zeroed new
 *     fields mean "as before".
 *   - Frozen for the whole major version (observers index arrays at their
 *     own compiled stride, and a struct embedded by value fixes the offsets
 *     after it): the element types of lists (header_match, query_match,
 *     header_value, backend, mirror, prefix_rewrite, hash_policy, ip_rule,
 *     status_range) and the types embedded by value (path_match,
 *     timeout_policy, service, circuit_breakers, origin, listener, vhost).
 *     Modules may hold these on the stack; lists of them still come from
 *     the core's appenders.
 *
 * ABI change log
 *   1.0 (2026-11-27)  first version: descriptor, config schema, log, loop,
 *                     timers, store, sources, build pipeline, snapshots,
 *                     metrics, YAML.
 *   1.1 (2026-11-27)  dag.h: the routing graph in every snapshot, shared
 *                     Service/Secret lookups and delegations;
 *                     CONTOUR_MODULE_F_PROCESSOR, CONTOUR_MODULE_F_RENDER,
 *                     contour_register_render_format,
 *                     contour_module_render_only; CONTOUR_MODULE_F_COMMAND,
 *                     contour_register_command; descriptor field cli_flags
 *                     (from the first reserved slot).
 *   1.2 (2026-11-27)  dag.h: contour_ingress_class_matches, the class
 *                     filter shared by the ingress and httpproxy modules.
 *   1.3 (2026-11-27)  dag.h: contour_dag.client_secret (appended), the
 *                     validated tls.envoy-client-certificate.
 *   1.4 (2026-12-07)  the domain layer's shared helpers, each in its own
 *                     header included here: json_get.h (contour_json_get_*,
 *                     contour_json_has, contour_json_as_*), duration.h
 *                     (contour_duration_parse moved there from conf.h, one
 *                     Go parser; contour_duration_parse_ns,
 *                     contour_duration_ns_to_ms, contour_timeout_parse,
 *                     contour_timeout_setting), quote.h (contour_quote),
 *                     regex.h (contour_regex_check), header_policy.h
 *                     (contour_header_policy_build, _check,
 *                     contour_header_name_canonical, _valid), conditions.h
 *                     (contour_conditions_check_paths, _include_paths,
 *                     _headers, _queries, contour_conditions_merge,
 *                     contour_conditions_seen_*), status.h (the
 *                     status upstream writes: contour_status_equal,
 *                     _compose_proxy, _proxy_changes, _compose_ingress,
 *                     _lb_to_networking, _lb_has_address).
 *                     dag.h: constructors that know the core's struct
 *                     sizes (contour_dag_route_new, _route_copy,
 *                     _backend_new, _direct_response_new,
 *                     _prefix_rewrite_new, _header_policy_new,
 *                     _retry_policy_new, _health_check_new, _redirect_new,
 *                     _cors_new, _ip_filter_new, _slow_start_new,
 *                     _tcpproxy_new, _client_validation_new, _cluster_new,
 *                     _buf_new), typed list appenders
 *                     (contour_dag_<element>_push, _str_push, _ptr_push,
 *                     _u32_push), contour_dag_wildcard_authority, the name
 *                     contour_dag_status_range_t for the health check's
 *                     expected-status ranges (same layout), and the rule
 *                     above on which DAG structs may grow.
 *                     contour_dag_health_check_t now holds the policy as
 *                     written (0 = unset; the xDS translator applies
 *                     Envoy's defaults).
 *   1.5 (2026-12-07)  descriptor field global_schema (from the second
 *                     reserved slot): the global keys a module reads,
 *                     merged with the domain layer's and checked once the
 *                     modules are loaded; the core types only its own.
 *                     conf.h: the table-row macros CONTOUR_CONF_KEY and
 *                     CONTOUR_CONF_SUB.
 *                     Descriptor flag CONTOUR_MODULE_F_SOURCE: a source
 *                     module `contour render --source NAME` can read files
 *                     with.
 *   1.6 (2026-12-07)  admission.h: validators (contour_register_validator)
 *                     and the verdict they write (contour_verdict_*), run
 *                     by a webhook with contour_review_run;
 *                     contour_review_is_ours.
 *                     dag.h: contour_dag_review_new/_free, the DAG a
 *                     validator runs its processor's code in.
 *                     status.h: contour_status_lb_new (parseStatusFlag).
 *                     duration.h: contour_duration_format.
 *                     loop.h: contour_listen_tcp,
 *                     contour_conf_check_address.
 *                     mem.h: CONTOUR_FREE_ALL, CONTOUR_JSON_DECREF_ALL
 *                     (header-only macros).
 *   1.7 (2026-12-07)  health.h: named health checks
 *                     (contour_register_health_check, contour_health_pass,
 *                     _fail, _check_ok) and the overall state
 *                     (contour_health_state), for /healthz.
 *                     dag.h: contour_dag_to_dot(NULL) is the empty graph
 *                     (no snapshot built yet).
 *   1.8 (2026-12-07)  store.h: contour_source_set_errors (inputs a source
 *                     could not read; render and review exit 1) and
 *                     contour_source_once (an offline one-shot read).
 *   1.9 (2026-12-07)  conf.h: CONTOUR_CONF_NUMBER (a number, integer or
 *                     not) and contour_conf_get_number.
 */
#ifndef CONTOUR_MODULE_H
#define CONTOUR_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include <contour/error.h>
#include <contour/log.h>
#include <contour/conf.h>
#include <contour/loop.h>
#include <contour/store.h>
#include <contour/snapshot.h>
#include <contour/metrics.h>
#include <contour/yaml.h>
#include <contour/dag.h>
#include <contour/json_get.h>
#include <contour/duration.h>
#include <contour/quote.h>
#include <contour/regex.h>
#include <contour/header_policy.h>
#include <contour/conditions.h>
#include <contour/status.h>
#include <contour/admission.h>
#include <contour/mem.h>
#include <contour/health.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONTOUR_ABI_MAJOR 1
#define CONTOUR_ABI_MINOR 9

/* Descriptor flags. */
/* The module only registers processors over the store (no sockets, no
 * sources): `contour render` loads every installed module with this flag. */
#define CONTOUR_MODULE_F_PROCESSOR 0x1u
/* The module provides `contour render` output formats
 * (contour_register_render_format): render loads and inits it, never starts
 * it, so its init must not open sockets (as the lifecycle already says). */
#define CONTOUR_MODULE_F_RENDER 0x2u
/* The module provides sub-commands (contour_register_command): for a
 * command the core does not know, `contour` loads and inits the installed
 * modules with this flag, never starts them, and runs the one registered. */
#define CONTOUR_MODULE_F_COMMAND 0x4u
/* The module is a source that reads Kubernetes objects from files: its
 * config takes `paths` (a list of files and folders) and nothing it requires
 * besides. `contour render --source NAME PATH...` loads it with
 * {paths: [PATH...]}, inits and starts it, and builds once (file-watch is the
 * default). Its start must have put every object in the store before it
 * returns, since render builds right after. */
#define CONTOUR_MODULE_F_SOURCE 0x8u

/* A sub-command: argv[0] is its name, the rest its own arguments (global
 * flags such as --log-format are taken out first). Returns the process exit
 * status. It may run its own event loop on contour_event_base(mod). */
typedef int (*contour_command_fn)(contour_module_t *mod, int argc, char **argv);

/* contour_register_command: add `contour NAME`. Only in init; the names of
 * the core's own commands and of other modules' commands are refused
 * (CONTOUR_EEXIST). usage is one line for `contour help`. */
int contour_register_command(contour_module_t *mod, const char *name, const char *usage,
                             contour_command_fn fn);

/* The one symbol a module exports. */
#define CONTOUR_MODULE_SYMBOL "contour_module"

/* The handle of a loaded module. Opaque; modules receive it in every hook. */
typedef struct contour_module contour_module_t;

/* contour_module_desc_t: what a module declares about itself.
 *
 * Fill it with CONTOUR_MODULE(), which sets the ABI fields and `size`; name
 * only the hooks you need (NULL hooks are skipped). */
typedef struct contour_module_desc {
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t size; /* sizeof(contour_module_desc_t) as the module saw it */
	uint32_t flags; /* CONTOUR_MODULE_F_* */

	const char *name;    /* must equal the config entry's `name` */
	const char *version; /* the module's own version string */
	const char *description;

	/* Keys allowed in the module's `config:` mapping. NULL: none allowed. */
	const contour_conf_item_t *schema;

	/* check: rules that span several keys, run by `check-config` and before
	 * init. `config` is the validated mapping with defaults filled in.
	 * Return CONTOUR_EOK, or CONTOUR_ECONFIG with a message in err. */
	int (*check)(const json_t *config, char *err, size_t errlen);

	/* init: `config` as for check, borrowed until free returns. */
	int (*init)(contour_module_t *mod, const json_t *config);
	int (*start)(contour_module_t *mod);
	void (*stop)(contour_module_t *mod);
	void (*free)(contour_module_t *mod);

	/* Upstream's command-line flags of `contour serve` that set keys of
	 * this module's config ({"--xds-port", "port", NULL}), ending with a
	 * zeroed entry; NULL for none. A flag overrides the config file, as
	 * upstream's flags do. (ABI 1.1; took the first reserved slot.) */
	const struct contour_cli_flag *cli_flags;

	/* The global keys (top-level keys of the config file, read with
	 * contour_conf_global) this module reads, as a schema table like
	 * `schema`; NULL for none. Only upstream's contour.yaml keys may be
	 * typed (a module's own settings belong in its config: mapping), never
	 * the runtime's (module-path, build-holdoff, build-holdoff-max, debug).
	 * The loader merges the tables of the loaded modules with the domain
	 * layer's: two tables may type the same key only if they agree (type,
	 * flags, default and range); two mappings with `children` merge key by
	 * key under the same rule; a disagreement refuses the config, naming
	 * both owners. The file is checked against the result before any init.
	 * (ABI 1.5; took the second reserved slot.) */
	const contour_conf_item_t *global_schema;

	/* Room to grow without breaking modules built against 1.0. */
	void *reserved[6];
} contour_module_desc_t;

/* One serve flag: `--flag VALUE`, `--flag=VALUE`, or a bare `--flag` for a
 * boolean key (true). VALUE is read as a YAML scalar, so "8001" is an
 * integer and "false" a boolean; the key's schema then checks it. env, when
 * set, names an environment variable that sets the key when the flag is
 * absent (upstream's CONTOUR_CAFILE and the like). */
typedef struct contour_cli_flag {
	const char *flag;
	const char *key;
	const char *env;
} contour_cli_flag_t;

#if defined(__GNUC__)
#define CONTOUR_EXPORT __attribute__((visibility("default")))
#else
#define CONTOUR_EXPORT
#endif

/* CONTOUR_MODULE(.name = "x", .init = x_init, ...): define the descriptor. */
#define CONTOUR_MODULE(...)                                                    \
	CONTOUR_EXPORT extern const contour_module_desc_t contour_module;          \
	const contour_module_desc_t contour_module = {                             \
	    .abi_major = CONTOUR_ABI_MAJOR,                                        \
	    .abi_minor = CONTOUR_ABI_MINOR,                                        \
	    .size = sizeof(contour_module_desc_t),                                 \
	    __VA_ARGS__}

/* contour_module_name: the module's name, as in the config. */
const char *contour_module_name(const contour_module_t *mod);

/* contour_module_ctx_set / _get: the module's private state. The core never
 * looks at it; the module frees it in its free hook. */
void contour_module_ctx_set(contour_module_t *mod, void *ctx);
void *contour_module_ctx_get(const contour_module_t *mod);

/* contour_module_render_only: non-zero when the module is loaded only for
 * what it provides to `contour render` (formats) or to a module
 * sub-command: it is initialised but will never be started, and its `check`
 * hook was skipped (rules about serving, such as TLS files, do not apply).
 * Init should then set up nothing that only serving needs. */
int contour_module_render_only(const contour_module_t *mod);

/* contour_module_config_path: the config file the module was configured
 * from (for resolving relative paths), or NULL for the embedded default. */
const char *contour_module_config_path(const contour_module_t *mod);

/* contour_module_config_line: the line of `key` in the module's own config
 * mapping in that file, or 0; for messages that point the operator at it. */
int contour_module_config_line(const contour_module_t *mod, const char *key);

#ifdef __cplusplus
}
#endif
#endif
