/* core/listen.c: the listening sockets modules serve on (contour/loop.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include <unistd.h>

#include "core/core.h"

int contour_listen_tcp(const char *address, int port, int backlog, int *bound)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (!address || port < 0 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else {
		return -EINVAL;
	}
	int one = 1, err;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEADDR: a restart must not wait out TIME_WAIT. It does not let
	 * two listeners share the port: a second one still gets EADDRINUSE. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, backlog) != 0)
		goto fail;
	sslen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		goto fail;
	if (bound)
		*bound = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

int contour_conf_check_address(const json_t *config, const char *key, char *err, size_t errlen)
{
	const char *address = json_string_value(json_object_get(config, key));
	struct in6_addr a6;
	if (address &&
	    (inet_pton(AF_INET, address, &a6) == 1 || inet_pton(AF_INET6, address, &a6) == 1))
		return CONTOUR_EOK;
	snprintf(err, errlen, "%s: '%s' is not a numeric IPv4 or IPv6 address", key,
	         address ? address : "");
	return CONTOUR_ECONFIG;
}
