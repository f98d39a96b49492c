/* modules/shutdown-manager/sm_admin.c: requests to Envoy's admin interface
 * over its unix socket, with libcurl's multi interface on the core's loop.
 *
 * Why libcurl and not an evhttp client: libevent 2.1's evhttp client
 * always (re)connects by host name (evhttp_connection_connect_ calls
 * bufferevent_socket_connect_hostname and resets the fd), so a bufferevent
 * connected to a sockaddr_un is dropped; unix sockets arrived in 2.2. The
 * k8s-watch module has its own libcurl glue, which a module may not share,
 * so this is the small one this module needs: one request at a time. */
#include "config.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/shutdown-manager/sm.h"

typedef struct sm_admin_sock {
	struct event *ev;
} sm_admin_sock_t;

struct sm_admin {
	contour_module_t *mod;
	char *socket_path;
	CURLM *multi;
	CURL *easy; /* the request in flight, or NULL */
	struct event *timer;
	struct event *done_ev; /* runs the callback outside libcurl's stack */
	sm_admin_cb cb;
	void *ud;
	char *body;
	size_t len, cap;
	int too_big;
	/* The finished request, until done_ev hands it over. */
	int rc, unreachable;
	long status;
	char errbuf[CURL_ERROR_SIZE];
	char errmsg[CURL_ERROR_SIZE + 64];
};

static void sm_admin_check(sm_admin_t *a);

static size_t sm_admin_write(char *data, size_t size, size_t n, void *ud)
{
	sm_admin_t *a = ud;
	size_t len = size * n;
	if (a->len + len > SM_ADMIN_MAX_BODY) {
		a->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (a->len + len + 1 > a->cap) {
		size_t ncap = a->cap ? a->cap : 4096;
		while (ncap < a->len + len + 1)
			ncap *= 2;
		char *nb = realloc(a->body, ncap);
		if (!nb)
			return 0;
		a->body = nb;
		a->cap = ncap;
	}
	memcpy(a->body + a->len, data, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

static void sm_admin_event_cb(evutil_socket_t fd, short what, void *arg)
{
	sm_admin_t *a = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(a->multi, fd, flags, &running);
	sm_admin_check(a);
}

static void sm_admin_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	sm_admin_t *a = arg;
	int running;
	curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	sm_admin_check(a);
}

static int sm_admin_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	sm_admin_t *a = userp;
	sm_admin_sock_t *sk = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			free(sk);
			curl_multi_assign(a->multi, s, NULL);
		}
		return 0;
	}
	if (!sk) {
		sk = calloc(1, sizeof(*sk));
		if (!sk)
			return -1;
		curl_multi_assign(a->multi, s, sk);
	} else {
		event_free(sk->ev);
	}
	short ev = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	           (what & CURL_POLL_OUT ? EV_WRITE : 0);
	sk->ev = event_new(contour_event_base(a->mod), s, ev, sm_admin_event_cb, a);
	if (!sk->ev || event_add(sk->ev, NULL) != 0)
		return -1;
	return 0;
}

static int sm_admin_timerfn(CURLM *m, long timeout_ms, void *userp)
{
	sm_admin_t *a = userp;
	if (timeout_ms < 0) {
		evtimer_del(a->timer);
		return 0;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	return evtimer_add(a->timer, &tv);
}

static void sm_admin_done_cb(evutil_socket_t fd, short what, void *arg)
{
	sm_admin_t *a = arg;
	sm_admin_cb cb = a->cb;
	a->cb = NULL;
	if (cb)
		cb(a->ud, a->rc, a->status, a->body ? a->body : "", a->len,
		   a->rc ? a->errmsg : NULL, a->unreachable);
}

/* A finished transfer: note its result and free the handle, then run the
 * callback from a fresh event so it may start the next request. */
static void sm_admin_check(sm_admin_t *a)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(a->multi, &left))) {
		if (msg->msg != CURLMSG_DONE || msg->easy_handle != a->easy)
			continue;
		CURLcode res = msg->data.result;
		a->rc = 0;
		a->unreachable = 0;
		a->status = 0;
		if (res == CURLE_OK) {
			curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &a->status);
		} else {
			a->rc = -1;
			/* Nothing listening: the socket file is missing (Envoy not
			 * started, or gone) or refuses. Both are COULDNT_CONNECT. */
			a->unreachable = res == CURLE_COULDNT_CONNECT;
			if (a->too_big)
				snprintf(a->errmsg, sizeof(a->errmsg), "answer larger than %u bytes",
				         SM_ADMIN_MAX_BODY);
			else
				snprintf(a->errmsg, sizeof(a->errmsg), "%s",
				         a->errbuf[0] ? a->errbuf : curl_easy_strerror(res));
		}
		curl_multi_remove_handle(a->multi, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
		event_active(a->done_ev, 0, 0);
	}
}

sm_admin_t *sm_admin_new(contour_module_t *mod, const char *socket_path)
{
	sm_admin_t *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->mod = mod;
	struct event_base *base = contour_event_base(mod);
	if (!(a->socket_path = strdup(socket_path)) || !(a->multi = curl_multi_init()) ||
	    !(a->timer = evtimer_new(base, sm_admin_timer_cb, a)) ||
	    !(a->done_ev = event_new(base, -1, 0, sm_admin_done_cb, a))) {
		sm_admin_free(a);
		return NULL;
	}
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, sm_admin_socket_cb);
	curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, sm_admin_timerfn);
	curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
	return a;
}

void sm_admin_cancel(sm_admin_t *a)
{
	if (!a)
		return;
	if (a->easy) {
		/* Removing the handle closes its socket through CURL_POLL_REMOVE. */
		curl_multi_remove_handle(a->multi, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
	}
	event_del(a->done_ev);
	a->cb = NULL;
}

void sm_admin_free(sm_admin_t *a)
{
	if (!a)
		return;
	sm_admin_cancel(a);
	if (a->multi)
		curl_multi_cleanup(a->multi);
	if (a->timer)
		event_free(a->timer);
	if (a->done_ev)
		event_free(a->done_ev);
	CONTOUR_FREE_ALL(a->socket_path, a->body, a);
}

int sm_admin_request(sm_admin_t *a, const char *method, const char *path, sm_admin_cb cb,
                     void *ud)
{
	if (a->easy || a->cb)
		return CONTOUR_ESTATE;
	char url[2048];
	/* The host is ignored over a unix socket; upstream says "unix". */
	if (snprintf(url, sizeof(url), "http://unix%s", path) >= (int)sizeof(url))
		return CONTOUR_EINVAL;
	CURL *e = curl_easy_init();
	if (!e)
		return CONTOUR_ENOMEM;
	a->len = 0;
	a->too_big = 0;
	a->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, a->socket_path);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sm_admin_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SM_ADMIN_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	curl_easy_setopt(e, CURLOPT_USERAGENT, "contour-shutdown-manager/" PACKAGE_VERSION);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (curl_multi_add_handle(a->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return CONTOUR_ENOMEM;
	}
	a->easy = e;
	a->cb = cb;
	a->ud = ud;
	return CONTOUR_EOK;
}
