/* modules/httpproxy/hp_index.c: which roots claim which fqdn, kept up to date
 * from the store's changes, so the validator finds a collision without a
 * build. A root claims its fqdn lower-cased, as the build groups them
 * (hp_proxy.c), and only a proxy of this controller's ingress class claims:
 * the build drops the others before it looks for duplicates. A root outside
 * the root namespaces still claims, as it does in the build.
 *
 * The index is made on the first question (one walk of the store) and
 * follows the store from then on; a role that never validates pays only
 * the subscription. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "modules/httpproxy/hp_proc.h"

struct hp_index {
	contour_module_t *mod;
	json_t *claims; /* lower-case fqdn -> array of "ns/name", in (ns, name) order */
	int built;
};

hp_index_t *hp_index_new(contour_module_t *mod)
{
	hp_index_t *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return NULL;
	ix->mod = mod;
	return ix;
}

void hp_index_free(hp_index_t *ix)
{
	if (!ix)
		return;
	json_decref(ix->claims);
	free(ix);
}

int hp_index_key_cmp(const char *a, const char *b)
{
	const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
	size_t na = sa ? (size_t)(sa - a) : strlen(a), nb = sb ? (size_t)(sb - b) : strlen(b);
	int c = memcmp(a, b, na < nb ? na : nb);
	if (c || na != nb)
		return c ? c : (na < nb ? -1 : 1);
	return strcmp(sa ? sa + 1 : "", sb ? sb + 1 : "");
}

int hp_index_claim(contour_module_t *mod, const json_t *obj, char *fqdn, size_t len)
{
	if (!obj || !contour_ingress_class_matches(mod, obj))
		return 0;
	const json_t *vh = contour_json_get_obj(contour_json_get_obj(obj, "spec"), "virtualhost");
	const char *host = contour_json_get_str(vh, "fqdn");
	/* A blank fqdn is FQDNNotSpecified, never a claim. */
	if (!vh || hp_blank(host) || strlen(host) >= len)
		return 0;
	size_t i = 0;
	for (; host[i]; i++)
		fqdn[i] = (char)tolower((unsigned char)host[i]);
	fqdn[i] = '\0';
	return 1;
}

static int hp_index_key_of(const json_t *obj, char *key, size_t len)
{
	const json_t *meta = contour_json_get_obj(obj, "metadata");
	int n = snprintf(key, len, "%s/%s", contour_json_get_str(meta, "namespace"),
	                 contour_json_get_str(meta, "name"));
	return n > 0 && (size_t)n < len;
}

/* The position of key in list, or where it would go (*found 0). */
static size_t hp_index_find(const json_t *list, const char *key, int *found)
{
	size_t lo = 0, hi = json_array_size(list);
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = hp_index_key_cmp(key, json_string_value(json_array_get(list, mid)));
		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* obj's claim: its fqdn and "ns/name" key; 0 when it claims nothing. */
static int hp_index_entry(hp_index_t *ix, const json_t *obj, char *fqdn, char *key)
{
	return hp_index_claim(ix->mod, obj, fqdn, HP_FQDN_MAX) &&
	       hp_index_key_of(obj, key, 2 * HP_KEY_MAX);
}

static void hp_index_add(hp_index_t *ix, const json_t *obj)
{
	char fqdn[HP_FQDN_MAX], key[2 * HP_KEY_MAX];
	if (!hp_index_entry(ix, obj, fqdn, key))
		return;
	json_t *list = json_object_get(ix->claims, fqdn);
	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(ix->claims, fqdn, list))
			return;
	}
	int found;
	size_t at = hp_index_find(list, key, &found);
	if (!found)
		json_array_insert_new(list, at, json_string(key));
}

static void hp_index_remove(hp_index_t *ix, const json_t *obj)
{
	char fqdn[HP_FQDN_MAX], key[2 * HP_KEY_MAX];
	int found;
	if (!hp_index_entry(ix, obj, fqdn, key))
		return;
	json_t *list = json_object_get(ix->claims, fqdn);
	size_t at = hp_index_find(list, key, &found);
	if (!found)
		return;
	json_array_remove(list, at);
	if (json_array_size(list) == 0)
		json_object_del(ix->claims, fqdn);
}

void hp_index_event(contour_store_event_t ev, const json_t *old_obj, const json_t *new_obj,
                    void *ud)
{
	(void)ev;
	hp_index_t *ix = ud;
	if (!ix->built)
		return;
	hp_index_remove(ix, old_obj);
	hp_index_add(ix, new_obj);
}

static int hp_index_visit(const json_t *obj, void *ud)
{
	hp_index_add(ud, obj);
	return 0;
}

const json_t *hp_index_claimants(hp_index_t *ix, const char *fqdn)
{
	if (!ix->built) {
		json_decref(ix->claims);
		if (!(ix->claims = json_object()))
			return NULL;
		contour_store_foreach(ix->mod, HP_API_VERSION, HP_KIND, hp_index_visit, ix);
		ix->built = 1;
	}
	return json_object_get(ix->claims, fqdn);
}

size_t hp_index_size(const hp_index_t *ix)
{
	return ix->built ? json_object_size(ix->claims) : 0;
}
