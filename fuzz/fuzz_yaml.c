/* fuzz/fuzz_yaml.c: libFuzzer target for the YAML reader.
 *
 * Parses each input twice, without and with a position map, and checks what
 * a caller relies on: the same outcome both ways, a terminated error message
 * with a sane position, output jansson can serialise (valid UTF-8, finite
 * numbers), and position lookups that stay inside the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_yaml_check_err(const contour_yaml_error_t *err, size_t size)
{
	if (memchr(err->message, '\0', sizeof(err->message)) == NULL || !err->message[0])
		abort();
	if (err->line < 0 || err->column < 0 || (size_t)err->line > size + 2)
		abort();
}

/* Every container of the tree: lines are 0 (unknown) or inside the input.
 * Depth is bounded by the parser (256), so recursion is fine here. */
static void fuzz_yaml_walk(const contour_yaml_pos_t *pos, const json_t *node, size_t size)
{
	int line = contour_yaml_pos_node_line(pos, node);
	if (line < 0 || (size_t)line > size + 2)
		abort();
	if (json_is_object(node)) {
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)node, key, v)
		{
			line = contour_yaml_pos_key_line(pos, node, key);
			if (line < 0 || (size_t)line > size + 2)
				abort();
			fuzz_yaml_walk(pos, v, size);
		}
		(void)contour_yaml_pos_key_line(pos, node, "no such key in this mapping");
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
		{
			line = contour_yaml_pos_index_line(pos, node, i);
			if (line < 0 || (size_t)line > size + 2)
				abort();
			fuzz_yaml_walk(pos, v, size);
		}
		if (contour_yaml_pos_index_line(pos, node, json_array_size(node)) != 0)
			abort();
	} else if (json_is_real(node)) {
		(void)json_real_value(node);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *docs = NULL, *docs2 = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t err, err2;

	int rc = contour_yaml_parse((const char *)data, size, &docs, NULL, &err);
	if (rc == CONTOUR_EOK) {
		if (!json_is_array(docs))
			abort();
		/* Fails on invalid UTF-8 or a NaN that slipped through. */
		char *s = json_dumps(docs, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s)
			abort();
		free(s);
	} else {
		if (docs)
			abort();
		fuzz_yaml_check_err(&err, size);
	}

	int rc2 = contour_yaml_parse((const char *)data, size, &docs2, &pos, &err2);
	if (rc2 != rc)
		abort();
	if (rc2 == CONTOUR_EOK) {
		if (!pos || !json_equal(docs, docs2))
			abort();
		size_t i;
		json_t *doc;
		json_array_foreach(docs2, i, doc)
		{
			fuzz_yaml_walk(pos, doc, size);
		}
	} else if (pos || docs2 || err.line != err2.line || err.column != err2.column ||
	           strcmp(err.message, err2.message)) {
		abort();
	}
	json_decref(docs);
	json_decref(docs2);
	contour_yaml_pos_free(pos);
	return 0;
}
