/*
 * floor: the least a Lambda custom runtime can do. It fetches an event from
 * the Runtime API and posts back a fixed response, forever, with raw
 * sockets and no allocation. The cold-start benchmark uses it as the floor:
 * no real function can start faster than this on the same machine.
 *
 * Build: musl-gcc -static -O2 -s -o bootstrap floor.c   (or gcc -static)
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

/* dial connects to host:port from AWS_LAMBDA_RUNTIME_API. */
static int dial(const char *api) {
	char host[256];
	const char *colon = strrchr(api, ':');
	if (!colon || (size_t)(colon - api) >= sizeof host) return -1;
	memcpy(host, api, colon - api);
	host[colon - api] = 0;
	struct addrinfo hints = {0}, *res;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0) return -1;
	int fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int writeall(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* readresp reads one HTTP response (headers plus Content-Length body). */
static ssize_t readresp(int fd) {
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r <= 0) return -1;
		got += (size_t)r;
		buf[got] = 0;
		char *end = strstr(buf, "\r\n\r\n");
		if (!end) continue;
		size_t hdr = (size_t)(end - buf) + 4, clen = 0;
		char *l = strcasestr(buf, "\r\ncontent-length:");
		if (l && l < end) clen = strtoul(l + 17, NULL, 10);
		if (got >= hdr + clen || got == sizeof buf - 1) return (ssize_t)got;
	}
}

int main(void) {
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (!api) {
		fputs("floor: AWS_LAMBDA_RUNTIME_API is not set\n", stderr);
		return 1;
	}
	static const char body[] = "{\"ok\":true}";
	char req[512], id[128];
	for (;;) {
		int fd = dial(api);
		if (fd < 0) return 1;
		int n = snprintf(req, sizeof req,
		                 "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
		if (writeall(fd, req, (size_t)n) || readresp(fd) < 0) return 1;
		char *h = strcasestr(buf, "\r\nlambda-runtime-aws-request-id:");
		if (!h) return 1;
		h += 32;
		while (*h == ' ') h++;
		size_t k = strcspn(h, "\r\n");
		if (k >= sizeof id) return 1;
		memcpy(id, h, k);
		id[k] = 0;
		n = snprintf(req, sizeof req,
		             "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
		             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		             id, api, sizeof body - 1, body);
		if (writeall(fd, req, (size_t)n) || readresp(fd) < 0) return 1;
		close(fd);
	}
}
