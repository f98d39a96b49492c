/* contour/mem.h: releasing several owned pointers at once, for destructors.
 *
 *   CONTOUR_FREE_ALL(r->path, r->body, r)        free() each, NULL allowed
 *   CONTOUR_JSON_DECREF_ALL(s->keys, s->seen)    json_decref() each
 *
 * A destructor's list of fields reads as one statement, in the order the
 * arguments are given. Header-only macros: no symbol, nothing in the ABI.
 */
#ifndef CONTOUR_MEM_H
#define CONTOUR_MEM_H

#include <stddef.h>
#include <stdlib.h>
#include <jansson.h>

#define CONTOUR_FREE_ALL(...)                                                                      \
	do {                                                                                       \
		void *contour_fa_[] = {__VA_ARGS__};                                               \
		for (size_t contour_fi_ = 0;                                                       \
		     contour_fi_ < sizeof(contour_fa_) / sizeof(contour_fa_[0]); contour_fi_++)     \
			free(contour_fa_[contour_fi_]);                                            \
	} while (0)

#define CONTOUR_JSON_DECREF_ALL(...)                                                               \
	do {                                                                                       \
		json_t *contour_ja_[] = {__VA_ARGS__};                                             \
		for (size_t contour_ji_ = 0;                                                       \
		     contour_ji_ < sizeof(contour_ja_) / sizeof(contour_ja_[0]); contour_ji_++)     \
			json_decref(contour_ja_[contour_ji_]);                                     \
	} while (0)

#endif
