/* modules/file-watch/fw_scan.c: walking the paths, inotify, change detection.
 *
 * inotify only tells us that something changed somewhere; what changed is
 * decided by a full rescan that compares each file's (device, inode, size,
 * mtime) with the previous scan. That one code path handles every kind of
 * change (editors' rename dances, ConfigMap symlink swaps, queue overflows),
 * and a scan of a few hundred files costs a few hundred stat() calls. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/file-watch/fw.h"

/* Deeper trees are not manifests; the limit also bounds the recursion. */
#define FW_MAX_DEPTH 64

#define FW_DIR_MASK                                                                                \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |        \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define FW_FILE_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* ---- the store, through each key's owners ---- */

static void fw_store_put(fw_ctx_t *ctx, json_t *obj)
{
	char what[1024];
	int rc = contour_store_put_new(ctx->src, json_incref(obj));
	if (rc != CONTOUR_EOK)
		contour_log(ctx->mod, CONTOUR_LOG_WARN, "cannot store %s: %s",
		            fw_object_describe(obj, what, sizeof(what)), contour_strerror(rc));
}

static void fw_store_delete(fw_ctx_t *ctx, const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	contour_object_key_t key = {
	    .api_version = json_string_value(json_object_get(obj, "apiVersion")),
	    .kind = json_string_value(json_object_get(obj, "kind")),
	    .namespace_ = ns ? ns : "",
	    .name = json_string_value(json_object_get(md, "name")),
	};
	contour_store_delete(ctx->src, &key);
}

static json_t *fw_file_objs(fw_ctx_t *ctx, const char *path)
{
	return json_object_get(json_object_get(ctx->files, path), "objs");
}

static ssize_t fw_array_find(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!strcmp(json_string_value(v), s))
			return (ssize_t)i;
	}
	return -1;
}

/* `path` (re)defines `key`: it becomes the last one read, so it wins. */
static void fw_owner_take(fw_ctx_t *ctx, const char *key, const char *path, json_t *obj)
{
	json_t *owners = json_object_get(ctx->owners, key);
	if (!owners) {
		owners = json_array();
		if (!owners || json_object_set_new(ctx->owners, key, owners) != 0)
			return;
	}
	ssize_t at = fw_array_find(owners, path);
	if (at >= 0)
		json_array_remove(owners, (size_t)at);
	size_t n = json_array_size(owners);
	if (n > 0) {
		char what[1024];
		contour_log(ctx->mod, CONTOUR_LOG_WARN,
		            "%s is defined in both %s and %s; using the one in %s (read last)",
		            fw_object_describe(obj, what, sizeof(what)),
		            json_string_value(json_array_get(owners, n - 1)), path, path);
	}
	json_array_append_new(owners, json_string(path));
	fw_store_put(ctx, obj);
}

/* `path` no longer defines `key` (obj is its old definition). Another file
 * that still defines it keeps it alive. */
static void fw_owner_drop(fw_ctx_t *ctx, const char *key, const char *path, const json_t *obj)
{
	json_t *owners = json_object_get(ctx->owners, key);
	ssize_t at = owners ? fw_array_find(owners, path) : -1;
	if (at < 0)
		return;
	int was_winner = (size_t)at + 1 == json_array_size(owners);
	json_array_remove(owners, (size_t)at);
	size_t n = json_array_size(owners);
	if (n == 0) {
		fw_store_delete(ctx, obj);
		json_object_del(ctx->owners, key);
		return;
	}
	if (!was_winner)
		return;
	const char *next = json_string_value(json_array_get(owners, n - 1));
	json_t *other = json_object_get(fw_file_objs(ctx, next), key);
	if (other) {
		char what[1024];
		contour_log(ctx->mod, CONTOUR_LOG_INFO, "%s now comes from %s",
		            fw_object_describe(other, what, sizeof(what)), next);
		fw_store_put(ctx, other);
	}
}

/* Replace the objects of `rec` (the record of `path`) by objs (stolen). */
static void fw_file_apply(fw_ctx_t *ctx, const char *path, json_t *rec, json_t *objs)
{
	json_t *old = json_object_get(rec, "objs");
	const char *key;
	json_t *obj;
	json_object_foreach(old, key, obj)
	{
		if (!json_object_get(objs, key))
			fw_owner_drop(ctx, key, path, obj);
	}
	json_object_foreach(objs, key, obj)
	{
		fw_owner_take(ctx, key, path, obj);
	}
	json_object_set_new(rec, "objs", objs);
}

static void fw_file_forget(fw_ctx_t *ctx, const char *path)
{
	json_t *objs = fw_file_objs(ctx, path);
	const char *key;
	json_t *obj;
	json_object_foreach(objs, key, obj)
	{
		fw_owner_drop(ctx, key, path, obj);
	}
	json_object_del(ctx->files, path);
}

/* ---- inotify watches ---- */

static fw_watch_t *fw_watch_find(fw_ctx_t *ctx, int wd)
{
	for (size_t i = 0; i < ctx->nwatches; i++)
		if (ctx->watches[i].wd == wd)
			return &ctx->watches[i];
	return NULL;
}

static void fw_watch_add(fw_ctx_t *ctx, const char *path, unsigned flag)
{
	if (ctx->ifd < 0)
		return;
	int wd =
	    inotify_add_watch(ctx->ifd, path, flag == FW_WATCH_FILE ? FW_FILE_MASK : FW_DIR_MASK);
	if (wd < 0) {
		/* Said loudly once; every rescan would repeat it. */
		if (flag != FW_WATCH_PARENT || errno != ENOENT)
			contour_log(ctx->mod,
			            ctx->scanning_initial ? CONTOUR_LOG_WARN : CONTOUR_LOG_DEBUG,
			            "cannot watch %s: %s; changes there will be missed", path,
			            strerror(errno));
		return;
	}
	fw_watch_t *w = fw_watch_find(ctx, wd);
	if (!w) {
		if (ctx->nwatches == ctx->watches_cap) {
			size_t cap = ctx->watches_cap ? ctx->watches_cap * 2 : 16;
			fw_watch_t *nw = realloc(ctx->watches, cap * sizeof(*nw));
			if (!nw)
				return;
			ctx->watches = nw;
			ctx->watches_cap = cap;
		}
		char *copy = strdup(path);
		if (!copy)
			return;
		w = &ctx->watches[ctx->nwatches++];
		*w = (fw_watch_t){.wd = wd, .flags = flag, .gen = ctx->gen, .path = copy};
		return;
	}
	if (w->gen != ctx->gen) {
		w->gen = ctx->gen;
		w->flags = 0;
	}
	w->flags |= flag;
	if (flag != FW_WATCH_PARENT && strcmp(w->path, path) != 0) {
		char *copy = strdup(path);
		if (copy) {
			free(w->path);
			w->path = copy;
		}
	}
}

/* Watch the folder holding a configured path, to see it come and go. */
static void fw_watch_parent(fw_ctx_t *ctx, const char *path)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	fw_watch_add(ctx, parent, FW_WATCH_PARENT);
}

/* Drop the watches the last scan did not use. */
static void fw_watch_sweep(fw_ctx_t *ctx)
{
	for (size_t i = 0; i < ctx->nwatches;) {
		fw_watch_t *w = &ctx->watches[i];
		if (w->gen == ctx->gen) {
			i++;
			continue;
		}
		if (w->flags & FW_WATCH_DIR)
			contour_log(ctx->mod, CONTOUR_LOG_WARN,
			            "directory %s is gone; its objects are removed", w->path);
		/* The kernel already dropped the watch of a deleted folder. */
		inotify_rm_watch(ctx->ifd, w->wd);
		free(w->path);
		*w = ctx->watches[--ctx->nwatches];
	}
}

static void fw_watch_free_all(fw_ctx_t *ctx)
{
	for (size_t i = 0; i < ctx->nwatches; i++)
		free(ctx->watches[i].path);
	free(ctx->watches);
	ctx->watches = NULL;
	ctx->nwatches = ctx->watches_cap = 0;
}

static const char *fw_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int fw_event_relevant(fw_ctx_t *ctx, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return 1;
	fw_watch_t *w = fw_watch_find(ctx, ev->wd);
	if (!w)
		return 0; /* a watch we removed */
	if (w->flags & (FW_WATCH_DIR | FW_WATCH_FILE))
		return 1;
	if (!ev->len)
		return (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
	for (size_t i = 0; i < ctx->npaths; i++)
		if (!strcmp(ev->name, fw_basename(ctx->paths[i])))
			return 1;
	return 0;
}

static void fw_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	fw_ctx_t *ctx = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				contour_log(ctx->mod, CONTOUR_LOG_ERR, "reading inotify: %s",
				            strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			relevant |= fw_event_relevant(ctx, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	/* Arm once, never push back: a file rewritten nonstop is still
	 * picked up every rescan-delay. */
	if (relevant && !contour_timer_armed(ctx->timer))
		contour_timer_arm(ctx->timer, ctx->rescan_delay_ms);
}

static void fw_timer_cb(contour_timer_t *t, void *ud)
{
	fw_scan_run(ud, 0);
}

/* ---- walking ---- */

static int fw_manifest_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot &&
	       (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml") || !strcasecmp(dot, ".json"));
}

/* Hidden entries are skipped: editors' temporary files, and the `..data`
 * and `..2024_...` internals of a mounted ConfigMap (its visible names are
 * symlinks through them). */
static int fw_not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static json_t *fw_sig(const struct stat *st)
{
	return json_pack("[IIIII]", (json_int_t)st->st_dev, (json_int_t)st->st_ino,
	                 (json_int_t)st->st_size, (json_int_t)st->st_mtim.tv_sec,
	                 (json_int_t)st->st_mtim.tv_nsec);
}

static void fw_visit_file(fw_ctx_t *ctx, const char *path, const struct stat *st)
{
	json_t *rec = json_object_get(ctx->files, path);
	if (rec && json_integer_value(json_object_get(rec, "gen")) == (json_int_t)ctx->gen)
		return; /* reached twice in one scan (a file also named in `paths`) */
	ctx->n_seen++;
	json_t *sig = fw_sig(st);
	if (!sig)
		return;
	if (rec && json_equal(json_object_get(rec, "sig"), sig)) {
		json_object_set_new(rec, "gen", json_integer(ctx->gen));
		json_decref(sig);
		return;
	}
	if (!rec) {
		rec = json_pack("{s:{}}", "objs");
		if (!rec || json_object_set_new(ctx->files, path, rec) != 0) {
			json_decref(sig);
			return;
		}
	}
	/* Remember the new signature even if the read fails: the file is
	 * re-read when it changes again, not at every rescan. */
	json_object_set_new(rec, "sig", sig);
	json_object_set_new(rec, "gen", json_integer(ctx->gen));
	json_t *objs = NULL;
	if (fw_manifest_load(ctx->mod, path, &objs) != CONTOUR_EOK) {
		size_t kept = json_object_size(json_object_get(rec, "objs"));
		ctx->n_failed++;
		/* Counted by every scan until a read succeeds, not only this one. */
		json_object_set_new(rec, "failed", json_true());
		if (kept)
			contour_log(ctx->mod, CONTOUR_LOG_WARN,
			            "%s: keeping the %zu objects it had before", path, kept);
		return;
	}
	ctx->n_read++;
	json_object_del(rec, "failed");
	fw_file_apply(ctx, path, rec, objs);
}

static void fw_walk_dir(fw_ctx_t *ctx, const char *dir, const struct stat *st, json_t *visited,
                        int depth)
{
	char id[64];
	snprintf(id, sizeof(id), "%ju:%ju", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
	if (json_object_get(visited, id)) {
		contour_log(ctx->mod, CONTOUR_LOG_DEBUG,
		            "%s: folder already read through another path (symlink loop?)", dir);
		return;
	}
	if (depth > FW_MAX_DEPTH) {
		contour_log(ctx->mod, CONTOUR_LOG_WARN, "%s: more than %d folders deep, skipped",
		            dir, FW_MAX_DEPTH);
		return;
	}
	json_object_set_new(visited, id, json_true());
	/* Watch before listing, so a file created meanwhile is not missed. */
	fw_watch_add(ctx, dir, FW_WATCH_DIR);

	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, fw_not_hidden, alphasort);
	if (n < 0) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "%s: %s", dir, strerror(errno));
		ctx->n_path_errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		char child[PATH_MAX];
		struct stat cst, lst;
		int len = snprintf(child, sizeof(child), "%s/%s", dir, ents[i]->d_name);
		if (len < 0 || (size_t)len >= sizeof(child)) {
			contour_log(ctx->mod, CONTOUR_LOG_WARN, "%s/%s: path too long, skipped",
			            dir, ents[i]->d_name);
		} else if (stat(child, &cst) != 0) {
			contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "%s: %s, skipped", child,
			            strerror(errno));
		} else if (S_ISDIR(cst.st_mode)) {
			fw_walk_dir(ctx, child, &cst, visited, depth + 1);
		} else if (S_ISREG(cst.st_mode) && fw_manifest_name(ents[i]->d_name)) {
			/* A symlink's target may live outside every watched
			 * folder: watch the target itself. */
			if (lstat(child, &lst) == 0 && S_ISLNK(lst.st_mode))
				fw_watch_add(ctx, child, FW_WATCH_FILE);
			fw_visit_file(ctx, child, &cst);
		}
		free(ents[i]);
	}
	free(ents);
}

int fw_scan_run(fw_ctx_t *ctx, int initial)
{
	json_t *visited = json_object();
	if (!visited)
		return CONTOUR_ENOMEM;
	ctx->gen++;
	ctx->scanning_initial = initial;
	ctx->n_read = ctx->n_failed = ctx->n_removed = ctx->n_seen = ctx->n_path_errors = 0;

	for (size_t i = 0; i < ctx->npaths; i++) {
		const char *p = ctx->paths[i];
		struct stat st;
		fw_watch_parent(ctx, p);
		if (stat(p, &st) != 0) {
			/* Only a one-shot read gets here at the initial scan:
			 * serve's start refuses a missing path first. */
			if (initial)
				contour_log(ctx->mod, CONTOUR_LOG_ERR, "paths: %s: %s", p,
				            strerror(errno));
			else if (ctx->present[i])
				contour_log(ctx->mod, CONTOUR_LOG_WARN,
				            "%s: %s; its objects are removed", p, strerror(errno));
			ctx->present[i] = 0;
			ctx->n_path_errors++;
			continue;
		}
		if (!ctx->present[i] && !initial)
			contour_log(ctx->mod, CONTOUR_LOG_INFO, "%s is back", p);
		ctx->present[i] = 1;
		if (S_ISDIR(st.st_mode)) {
			fw_walk_dir(ctx, p, &st, visited, 0);
		} else if (S_ISREG(st.st_mode)) {
			fw_watch_add(ctx, p, FW_WATCH_FILE);
			fw_visit_file(ctx, p, &st);
		} else {
			contour_log(ctx->mod, CONTOUR_LOG_WARN,
			            "%s: not a file or a folder, skipped", p);
		}
	}
	json_decref(visited);

	const char *path;
	json_t *rec, *tmp;
	json_object_foreach_safe(ctx->files, tmp, path, rec)
	{
		if (json_integer_value(json_object_get(rec, "gen")) != (json_int_t)ctx->gen) {
			contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "%s is gone", path);
			fw_file_forget(ctx, path);
			ctx->n_removed++;
		}
	}
	fw_watch_sweep(ctx);
	ctx->scanning_initial = 0;
	size_t failed = ctx->n_path_errors;
	json_object_foreach(ctx->files, path, rec)
		failed += json_is_true(json_object_get(rec, "failed"));
	contour_source_set_errors(ctx->src, failed);
	if (!initial)
		contour_log(ctx->mod, CONTOUR_LOG_DEBUG,
		            "rescan: %zu files, %zu read, %zu failed, %zu gone; %zu objects",
		            ctx->n_seen, ctx->n_read, ctx->n_failed, ctx->n_removed,
		            json_object_size(ctx->owners));
	return CONTOUR_EOK;
}

int fw_scan_start(fw_ctx_t *ctx)
{
	int rc = CONTOUR_EOK;
	/* Check every path first, so a typo fails start before anything is
	 * put in the store. A one-shot read (render) reads the others and
	 * reports the missing ones instead. */
	for (size_t i = 0; i < ctx->npaths && !contour_source_once(ctx->src); i++) {
		struct stat st;
		if (stat(ctx->paths[i], &st) != 0) {
			int e = errno;
			contour_log(ctx->mod, CONTOUR_LOG_ERR, "paths: %s: %s", ctx->paths[i],
			            strerror(e));
			if (rc == CONTOUR_EOK)
				rc = -e;
		}
	}
	if (rc != CONTOUR_EOK)
		return rc;

	/* inotify comes first: a change made while the first scan runs is
	 * queued and triggers a rescan, not lost. */
	ctx->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ctx->ifd < 0) {
		rc = -errno;
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "inotify_init1: %s", strerror(errno));
		goto fail;
	}
	ctx->timer = contour_timer_new(ctx->mod, fw_timer_cb, ctx);
	ctx->ev = event_new(contour_event_base(ctx->mod), ctx->ifd, EV_READ | EV_PERSIST,
	                    fw_inotify_cb, ctx);
	if (!ctx->timer || !ctx->ev || event_add(ctx->ev, NULL) != 0) {
		rc = CONTOUR_ENOMEM;
		goto fail;
	}
	rc = fw_scan_run(ctx, 1);
	if (rc != CONTOUR_EOK)
		goto fail;
	contour_source_set_synced(ctx->src);
	contour_log(ctx->mod, CONTOUR_LOG_INFO,
	            "initial scan: %zu files read, %zu with errors, %zu objects loaded",
	            ctx->n_read, ctx->n_failed, json_object_size(ctx->owners));
	return CONTOUR_EOK;
fail:
	fw_scan_stop(ctx);
	return rc;
}

void fw_scan_stop(fw_ctx_t *ctx)
{
	if (!ctx)
		return;
	if (ctx->ev) {
		event_del(ctx->ev);
		event_free(ctx->ev);
		ctx->ev = NULL;
	}
	contour_timer_free(ctx->timer);
	ctx->timer = NULL;
	if (ctx->ifd >= 0)
		close(ctx->ifd);
	ctx->ifd = -1;
	fw_watch_free_all(ctx);
}

void fw_scan_state_free(fw_ctx_t *ctx)
{
	json_decref(ctx->files);
	json_decref(ctx->owners);
	ctx->files = ctx->owners = NULL;
}
