/* core/yaml.c: YAML to jansson (stub until implemented). */
#include "config.h"
#include <string.h>
#include "core/core.h"

int contour_yaml_parse(const char *buf, size_t len, json_t **docs, contour_yaml_pos_t **pos,
                       contour_yaml_error_t *err)
{
	*docs = NULL;
	if (pos)
		*pos = NULL;
	return CONTOUR_EPARSE;
}
int contour_yaml_parse_file(const char *path, json_t **docs, contour_yaml_pos_t **pos,
                            contour_yaml_error_t *err)
{
	return contour_yaml_parse(NULL, 0, docs, pos, err);
}
int contour_yaml_pos_key_line(const contour_yaml_pos_t *pos, const json_t *object, const char *key) { return 0; }
int contour_yaml_pos_index_line(const contour_yaml_pos_t *pos, const json_t *array, size_t index) { return 0; }
int contour_yaml_pos_node_line(const contour_yaml_pos_t *pos, const json_t *node) { return 0; }
void contour_yaml_pos_free(contour_yaml_pos_t *pos) {}
