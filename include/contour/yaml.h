/* contour/yaml.h: the one YAML reader, shared by the config loader and by
 * every module that reads manifests (file-watch, `contour render`).
 *
 * YAML is read with libyaml into jansson values, one JSON value per YAML
 * document. Scalars follow the YAML 1.2 core schema, as Kubernetes reads
 * manifests: plain `true`/`false`, `null`/`~`/empty, integers (decimal, 0x,
 * 0o) and floats (.inf, .nan) get their JSON types; quoted scalars and
 * everything else are strings; `!!str`, `!!int`, `!!float`, `!!bool` and
 * `!!null` tags are honoured. Anchors, aliases and `<<` merge keys work; alias
 * expansion is bounded so hostile input cannot explode memory. Mapping keys
 * must be scalars and are kept as strings; a duplicate key is an error.
 */
#ifndef CONTOUR_YAML_H
#define CONTOUR_YAML_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a parse failed. Lines and columns count from 1. */
typedef struct contour_yaml_error {
	int line;
	int column;
	char message[256];
} contour_yaml_error_t;

/* Positions of the values of one parse, for error messages that name a line.
 * Opaque; free with contour_yaml_pos_free(). */
typedef struct contour_yaml_pos contour_yaml_pos_t;

/* contour_yaml_parse: parse a whole YAML stream held in buf[0..len).
 *
 * On success returns CONTOUR_EOK and stores in *docs a new JSON array with one
 * element per document (the caller owns it: json_decref). Empty documents
 * (a bare `---`) are left out. If pos is non-NULL, *pos receives a position
 * map for the values in *docs, valid while *docs is alive; free it with
 * contour_yaml_pos_free().
 * On failure returns CONTOUR_EPARSE (syntax error, duplicate key, non-scalar
 * key, alias bomb) or CONTOUR_ENOMEM, fills *err when err is non-NULL, and
 * leaves *docs and *pos NULL. */
int contour_yaml_parse(const char *buf, size_t len, json_t **docs, contour_yaml_pos_t **pos,
                       contour_yaml_error_t *err);

/* contour_yaml_parse_file: as contour_yaml_parse(), reading the file at path.
 * A file that cannot be read returns -errno with err->message set. */
int contour_yaml_parse_file(const char *path, json_t **docs, contour_yaml_pos_t **pos,
                            contour_yaml_error_t *err);

/* contour_yaml_pos_key_line: the line of `key` in mapping `object`, or 0 if
 * unknown. */
int contour_yaml_pos_key_line(const contour_yaml_pos_t *pos, const json_t *object, const char *key);

/* contour_yaml_pos_index_line: the line of element `index` of sequence
 * `array`, or 0 if unknown. */
int contour_yaml_pos_index_line(const contour_yaml_pos_t *pos, const json_t *array, size_t index);

/* contour_yaml_pos_node_line: the line where a mapping or sequence starts
 * (for a document, the line of its first content), or 0 if unknown. Scalars
 * have no identity in jansson; use the _key_ or _index_ form for them. */
int contour_yaml_pos_node_line(const contour_yaml_pos_t *pos, const json_t *node);

/* contour_yaml_pos_free: NULL is accepted. */
void contour_yaml_pos_free(contour_yaml_pos_t *pos);

#ifdef __cplusplus
}
#endif
#endif
