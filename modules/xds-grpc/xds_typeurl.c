/* modules/xds-grpc/xds_typeurl.c: the type URL of each xDS resource type,
 * and back. */
#include "config.h"

#include <string.h>

#include "modules/xds-grpc/xds_translate.h"

static const char *const xds_type_urls[XDS_NTYPES] = {
    XDS_TYPE_LISTENER, XDS_TYPE_ROUTE,  XDS_TYPE_CLUSTER,
    XDS_TYPE_ENDPOINT, XDS_TYPE_SECRET, XDS_TYPE_RUNTIME,
};

const char *xds_type_url(xds_type_t t)
{
	return (unsigned)t < XDS_NTYPES ? xds_type_urls[t] : NULL;
}

int xds_type_of_url(const char *url)
{
	for (int t = 0; url && t < XDS_NTYPES; t++)
		if (!strcmp(url, xds_type_urls[t]))
			return t;
	return -1;
}
