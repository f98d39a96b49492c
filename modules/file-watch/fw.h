/* modules/file-watch/fw.h: the file-watch module's private declarations. */
#ifndef FW_FW_H
#define FW_FW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <contour/module.h>

struct event;

/* One inotify watch. The same directory reached through two paths shares a
 * watch descriptor, so the role is a set of flags, recomputed each scan. */
enum {
	FW_WATCH_DIR = 0x1,    /* a directory we walk: every event matters */
	FW_WATCH_FILE = 0x2,   /* a named or symlinked file itself */
	FW_WATCH_PARENT = 0x4, /* the parent of a configured path: only events
	                          naming that path's basename matter */
};

typedef struct fw_watch {
	int wd;
	unsigned flags;
	unsigned gen; /* scan that last used it */
	char *path;
} fw_watch_t;

typedef struct fw_ctx {
	contour_module_t *mod;
	contour_source_t *src;

	/* Config: absolute paths, in config order. */
	char **paths;
	size_t npaths;
	int64_t rescan_delay_ms;
	int *present; /* per path: found by the last scan */

	/* Runtime, from start to stop. */
	int ifd;
	struct event *ev;
	contour_timer_t *timer;
	fw_watch_t *watches;
	size_t nwatches, watches_cap;

	/* State, from init to free. `files`: path -> {"sig": [dev, ino, size,
	 * sec, nsec], "gen": n, "objs": {key: object}}. `owners`: key -> array
	 * of the paths defining it, in read order; the last one is in the
	 * store. */
	json_t *files;
	json_t *owners;
	unsigned gen;
	int scanning_initial;

	/* Counters of the scan in progress, for the log. */
	size_t n_read, n_failed, n_removed, n_seen;
	size_t n_path_errors; /* configured paths missing, folders unreadable */
} fw_ctx_t;

/* fw_manifest.c */

/* fw_object_key_str: the map key for an object whose apiVersion, kind and
 * metadata.name have been checked ("apiVersion\x1fkind\x1fns\x1fname"), in
 * buf; returns buf, or NULL when it does not fit. */
#define FW_KEY_MAX 2048
char *fw_object_key_str(const json_t *obj, char *buf, size_t len);
/* fw_object_describe: "Kind namespace/name" for messages, in buf. */
const char *fw_object_describe(const json_t *obj, char *buf, size_t len);

/* fw_manifest_collect: the Kubernetes objects in the parsed documents of
 * `file`: List kinds are expanded, invalid objects are logged and skipped,
 * namespaces are defaulted and Secret stringData is folded into data. The
 * objects (edited in place, so docs must be the caller's own) are added to
 * `out`, a JSON object key -> object. Returns the number added. */
size_t fw_manifest_collect(contour_module_t *mod, const char *file, json_t *docs,
                           const contour_yaml_pos_t *pos, json_t *out);

/* fw_manifest_load: read and parse one file. On success *out is a new JSON
 * object key -> object (caller owns it). A YAML error is logged as
 * FILE:LINE:COLUMN: message and returned (CONTOUR_EPARSE), as is a read
 * error (-errno); *out is then NULL. */
int fw_manifest_load(contour_module_t *mod, const char *path, json_t **out);

/* fw_manifest_parse_buf: as fw_manifest_load, for bytes already in memory
 * (`name` is used in messages). For tests and the fuzzer. */
int fw_manifest_parse_buf(contour_module_t *mod, const char *name, const char *buf, size_t len,
                          json_t **out);

/* fw_scan.c */

/* fw_scan_start: create the inotify descriptor, the timer and the event,
 * then scan everything once. Fails (with a message naming it) when a
 * configured path does not exist. */
int fw_scan_start(fw_ctx_t *ctx);
/* fw_scan_run: one full scan; changed files are re-read and the store is
 * updated. Returns CONTOUR_EOK, or on the initial scan the error for a
 * missing path. */
int fw_scan_run(fw_ctx_t *ctx, int initial);
/* fw_scan_stop: remove the event and timer, close the descriptor. Safe to
 * call twice. */
void fw_scan_stop(fw_ctx_t *ctx);
/* fw_scan_forget_all: drop every file's objects from the state (not the
 * store). */
void fw_scan_state_free(fw_ctx_t *ctx);

#endif
