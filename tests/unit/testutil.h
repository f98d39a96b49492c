/* tests/unit/testutil.h: helpers shared by the Check suites. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdint.h>
#include <check.h>
#include <jansson.h>
#include "core/core.h"

/* A new empty directory under $TMPDIR; free() the path, tu_rmrf() the tree. */
char *tu_tmpdir(void);
void tu_rmrf(const char *path);
/* Write (replace) dir/name with content; creates parent folders. Returns the
 * full path (free it). */
char *tu_write_file(const char *dir, const char *name, const char *content);
/* Path of a file under tests/fixtures (static buffer, valid until next call). */
const char *tu_fixture(const char *name);
/* The upstream reference folder, or NULL (with a message) when it is missing. */
const char *tu_reference_dir(void);
/* Path of a test module .so under tests/modules/.libs (static buffer). */
const char *tu_test_module(const char *name);

/* Run the core's loop for ms milliseconds. */
void tu_run_loop_ms(core_t *core, int64_t ms);
/* Run the loop until pred(ud) is true or timeout_ms passes; returns pred. */
int tu_run_until(core_t *core, int (*pred)(void *ud), void *ud, int64_t timeout_ms);

/* Capture log lines: start sends them to a buffer; tu_log_text() returns all
 * captured so far (static, valid until the next call); stop restores stderr. */
void tu_log_capture_start(void);
const char *tu_log_text(void);
void tu_log_capture_stop(void);

/* Load YAML text as a core_conf_t (the whole config file); ck_assert on
 * parse failure unless errors is non-NULL. */
core_conf_t *tu_conf(const char *yaml, json_t *errors);
/* Check conf's global keys as the loader does once modules are loaded,
 * against the domain layer's table and those of the modules whose sources
 * the suite compiles in. */
int tu_check_globals(core_conf_t *conf, json_t *errors);

/* Parse YAML text or a file into an array of documents (caller decrefs);
 * ck_assert on a parse error. */
json_t *tu_yaml(const char *yaml);
json_t *tu_yaml_file(const char *path);
/* Put every document into the store through src, and release docs. With
 * default_ns, objects of namespaced kinds without a namespace go into
 * "default", as kubectl applies them. */
void tu_put_docs(contour_source_t *src, json_t *docs, int default_ns);
/* Stands in for the tls-delegation module in suites that link another
 * module's descriptor (two `contour_module` symbols cannot be linked
 * together): registers through fake, which must be in init state, a
 * processor at CONTOUR_ORDER_EARLY that turns TLSCertificateDelegation
 * objects into DAG delegations. */
int tu_register_delegations(contour_module_t *fake);
/* tu_core_with_module: a core with the built-in module desc started under
 * the global settings (YAML, or NULL), a fake module *fake registering the
 * source *src and tu_register_delegations, the objects of yaml in the store,
 * synced and built once. Log capture is on; free with core_free and
 * tu_log_capture_stop. */
core_t *tu_core_with_module(const contour_module_desc_t *desc, const char *global,
                            const char *yaml, contour_module_t *fake, contour_source_t **src);
/* The published (sealed) vhost / secure vhost of fqdn, compared exactly,
 * or NULL: what the snapshot serves, not what processors created. */
const contour_dag_vhost_t *tu_dag_vhost(const contour_dag_t *dag, const char *fqdn);
const contour_dag_svhost_t *tu_dag_svhost(const contour_dag_t *dag, const char *fqdn);

/* Run a suite with CK_ENV-default settings; returns the exit status for main. */
int tu_run_suite(Suite *s);

/* HTTPProxy statuses as the test processor records them, at a generation
 * and lastTransitionTime. */
#define VALID_COND(gen, ltt)                                                                       \
	"{\"type\":\"Valid\",\"status\":\"True\",\"observedGeneration\":" #gen                     \
	",\"lastTransitionTime\":\"" ltt                                                           \
	"\",\"reason\":\"Valid\",\"message\":\"Valid HTTPProxy\"}"
#define VALID_STATUS(gen, ltt)                                                                     \
	"{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\",\"loadBalancer\":{},"    \
	"\"conditions\":[" VALID_COND(gen, ltt) "]}"
#define INVALID_STATUS(gen, ltt)                                                                   \
	"{\"currentStatus\":\"invalid\",\"description\":\"At least one error present, see Errors " \
	"for details\",\"loadBalancer\":{},\"conditions\":[{\"type\":\"Valid\",\"status\":"        \
	"\"False\",\"observedGeneration\":" #gen ",\"lastTransitionTime\":\"" ltt "\",\"reason\":" \
	"\"ErrorPresent\",\"message\":\"At least one error present, see Errors for details\","     \
	"\"errors\":[{\"type\":\"VirtualHostError\",\"status\":\"True\",\"reason\":\"x\","         \
	"\"message\":\"bad\"}]}]}"

#endif
