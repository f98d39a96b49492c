/* modules/file-watch/file-watch.c: the file-watch module's entry point.
 *
 * A source that reads Kubernetes manifests from files and folders and
 * follows their changes with inotify, so everything runs with no cluster. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/file-watch/fw.h"

static const contour_conf_item_t fw_schema[] = {
    CONTOUR_CONF_NEED("paths", STR_LIST,
                      "manifest files or folders (read recursively); relative paths are relative "
                      "to the config file's folder"),
    CONTOUR_CONF_RANGE(
        "rescan-delay", DURATION, "50ms", 0, 60000,
        "how long to wait after a change before rescanning, so multi-step writes settle"),
    {.key = NULL},
};

static int fw_check(const json_t *config, char *err, size_t errlen)
{
	const json_t *paths = json_object_get(config, "paths");
	size_t i;
	json_t *p;
	if (json_array_size(paths) == 0) {
		snprintf(err, errlen, "paths: must name at least one file or folder");
		return CONTOUR_ECONFIG;
	}
	json_array_foreach(paths, i, p)
	{
		if (!json_string_length(p)) {
			snprintf(err, errlen, "paths[%zu]: empty path", i);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

/* The folder relative paths are resolved against: the config file's, made
 * absolute so nothing depends on the cwd later. A new string. */
static char *fw_base_dir(contour_module_t *mod)
{
	char cwd[4096], buf[8192];
	const char *cfg = contour_module_config_path(mod);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (!cfg)
		return strdup(cwd);
	const char *slash = strrchr(cfg, '/');
	int dlen = slash ? (int)(slash - cfg) : 0;
	if (slash && dlen == 0)
		return strdup("/");
	if (cfg[0] == '/')
		snprintf(buf, sizeof(buf), "%.*s", dlen, cfg);
	else if (slash)
		snprintf(buf, sizeof(buf), "%s/%.*s", cwd, dlen, cfg);
	else
		snprintf(buf, sizeof(buf), "%s", cwd);
	return strdup(buf);
}

static char *fw_resolve(const char *base, const char *p)
{
	size_t blen = strlen(base), plen = strlen(p);
	char *out = malloc(blen + plen + 2);
	if (!out)
		return NULL;
	if (p[0] == '/')
		memcpy(out, p, plen + 1);
	else
		sprintf(out, "%s%s%s", base, blen && base[blen - 1] == '/' ? "" : "/", p);
	/* "dir/" and "dir" are the same path; the basename matters later. */
	for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
		out[n - 1] = '\0';
	return out;
}

static void fw_ctx_free(fw_ctx_t *ctx)
{
	if (!ctx)
		return;
	fw_scan_stop(ctx);
	fw_scan_state_free(ctx);
	for (size_t i = 0; i < ctx->npaths; i++)
		free(ctx->paths[i]);
	CONTOUR_FREE_ALL(ctx->paths, ctx->present, ctx);
}

static int fw_init(contour_module_t *mod, const json_t *config)
{
	int rc = CONTOUR_ENOMEM;
	char *base = NULL;
	fw_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CONTOUR_ENOMEM;
	ctx->mod = mod;
	ctx->ifd = -1;
	ctx->rescan_delay_ms = contour_conf_get_duration_ms(mod, "rescan-delay", 50);
	ctx->files = json_object();
	ctx->owners = json_object();
	if (!ctx->files || !ctx->owners)
		goto fail;

	const json_t *paths = contour_conf_get(mod, "paths");
	size_t n = json_array_size(paths);
	base = fw_base_dir(mod);
	ctx->paths = calloc(n ? n : 1, sizeof(*ctx->paths));
	ctx->present = calloc(n ? n : 1, sizeof(*ctx->present));
	if (!base || !ctx->paths || !ctx->present)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *p = json_string_value(json_array_get(paths, i));
		if (!p || !*p) {
			contour_log(mod, CONTOUR_LOG_ERR, "paths[%zu]: not a path", i);
			rc = CONTOUR_ECONFIG;
			goto fail;
		}
		ctx->paths[i] = fw_resolve(base, p);
		if (!ctx->paths[i])
			goto fail;
		ctx->npaths++;
	}
	if (ctx->npaths == 0) {
		contour_log(mod, CONTOUR_LOG_ERR, "paths: must name at least one file or folder");
		rc = CONTOUR_ECONFIG;
		goto fail;
	}
	rc = contour_register_source(mod, "file-watch", &ctx->src);
	if (rc != CONTOUR_EOK)
		goto fail;
	free(base);
	contour_module_ctx_set(mod, ctx);
	return CONTOUR_EOK;
fail:
	free(base);
	fw_ctx_free(ctx);
	return rc;
}

static int fw_start(contour_module_t *mod)
{
	return fw_scan_start(contour_module_ctx_get(mod));
}

static void fw_stop(contour_module_t *mod)
{
	fw_scan_stop(contour_module_ctx_get(mod));
}

static void fw_free(contour_module_t *mod)
{
	fw_ctx_free(contour_module_ctx_get(mod));
	contour_module_ctx_set(mod, NULL);
}

CONTOUR_MODULE(.name = "file-watch", .version = PACKAGE_VERSION,
               .description = "Kubernetes manifests from files and folders, followed with inotify",
               .flags = CONTOUR_MODULE_F_SOURCE, .schema = fw_schema, .check = fw_check,
               .init = fw_init, .start = fw_start, .stop = fw_stop, .free = fw_free);
