/* tests/modules/tm_source.c: a file source other than file-watch, for
 * `contour render --source`. Each line "NAMESPACE NAME FQDN" of each file
 * in `paths` becomes a Service NAME (port 80) and an HTTPProxy NAME for
 * FQDN routing / to it; file-watch cannot read such a file. */
#include <stdio.h>
#include <string.h>
#include <contour/module.h>

static const contour_conf_item_t tm_source_schema[] = {
    {.key = "paths", .type = CONTOUR_CONF_STR_LIST, .flags = CONTOUR_CONF_REQUIRED},
    {0},
};

static contour_source_t *tm_source_src;
static const json_t *tm_source_paths;

static int tm_source_init(contour_module_t *mod, const json_t *config)
{
	tm_source_paths = json_object_get(config, "paths");
	return contour_register_source(mod, "tm_source", &tm_source_src);
}

static void tm_source_line(const char *ns, const char *name, const char *fqdn)
{
	contour_store_put_new(
	    tm_source_src, json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:i, s:s}]}}", "apiVersion",
	                             "v1", "kind", "Service", "metadata", "namespace", ns, "name",
	                             name, "spec", "ports", "port", 80, "protocol", "TCP"));
	contour_store_put_new(
	    tm_source_src,
	    json_pack("{s:s, s:s, s:{s:s, s:s, s:i}, s:{s:{s:s}, s:[{s:[{s:s, s:i}]}]}}",
	              "apiVersion", "projectcontour.io/v1", "kind", "HTTPProxy", "metadata",
	              "namespace", ns, "name", name, "generation", 1, "spec", "virtualhost", "fqdn",
	              fqdn, "routes", "services", "name", name, "port", 80));
}

static int tm_source_start(contour_module_t *mod)
{
	size_t i;
	const json_t *p;
	json_array_foreach(tm_source_paths, i, p)
	{
		FILE *f = fopen(json_string_value(p), "r");
		if (!f)
			return CONTOUR_ENOENT;
		char ns[64], name[64], fqdn[256];
		while (fscanf(f, "%63s %63s %255s", ns, name, fqdn) == 3)
			tm_source_line(ns, name, fqdn);
		fclose(f);
	}
	contour_source_set_synced(tm_source_src);
	return CONTOUR_EOK;
}

CONTOUR_MODULE(.name = "tm_source", .version = "0", .flags = CONTOUR_MODULE_F_SOURCE,
               .schema = tm_source_schema, .init = tm_source_init, .start = tm_source_start);
