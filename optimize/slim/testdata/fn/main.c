/* fn: a dynamically linked Lambda custom runtime for the minimisation
 * tests. At start it reads a data file and dlopens a plugin (found only
 * by tracing it), and it links libz, libm and a private library libgreet
 * (found through ld.so.conf). Each invocation answers a JSON document made
 * from all of them, so a missing piece changes or breaks the answer. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

const char *greet(void); /* libgreet.so */

static char buf[1 << 16];

static long readresponse(int fd, char *id, size_t idlen) {
	size_t n = 0;
	char *end = NULL;
	while (!end) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return -1;
		n += r;
		buf[n] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	long body = 0;
	for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			body = atol(line + 15);
		if (id && strncasecmp(line, "Lambda-Runtime-Aws-Request-Id:", 30) == 0) {
			char *v = line + 30;
			while (*v == ' ')
				v++;
			size_t l = strcspn(v, "\r");
			if (l >= idlen)
				return -1;
			memcpy(id, v, l);
			id[l] = 0;
		}
	}
	long have = (long)(n - (size_t)(end + 4 - buf));
	while (have < body) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			return -1;
		have += r;
	}
	return body;
}

static int sendall(int fd, const char *s, size_t len) {
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w <= 0)
			return -1;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

int main(void) {
	char greeting[256] = "";
	FILE *f = fopen("/var/task/data/greeting.txt", "r");
	if (!f) {
		perror("greeting.txt");
		return 3;
	}
	if (!fgets(greeting, sizeof greeting, f))
		return 3;
	fclose(f);
	greeting[strcspn(greeting, "\n")] = 0;
	void *plugin = dlopen("/opt/plugins/libplugin.so", RTLD_NOW);
	if (!plugin) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 4;
	}
	int (*answer)(void) = (int (*)(void))dlsym(plugin, "answer");
	if (!answer)
		return 4;

	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (!api)
		return 2;
	char host[64];
	const char *colon = strrchr(api, ':');
	if (!colon || (size_t)(colon - api) >= sizeof host)
		return 2;
	memcpy(host, api, (size_t)(colon - api));
	host[colon - api] = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return 2;
	char id[128], req[1024], body[512];
	for (;;) {
		int l = snprintf(req, sizeof req, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
		long n;
		if (sendall(fd, req, (size_t)l) || (n = readresponse(fd, id, sizeof id)) < 0)
			return 1;
		int bl = snprintf(body, sizeof body, "{\"greeting\":\"%s %s\",\"crc\":%lu,\"root\":%.3f,\"answer\":%d}",
			greet(), greeting, crc32(0, (const Bytef *)greeting, (uInt)strlen(greeting)), sqrt((double)n), answer());
		l = snprintf(req, sizeof req,
			"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", id, api, bl, body);
		if (sendall(fd, req, (size_t)l) || readresponse(fd, NULL, 0) < 0)
			return 1;
	}
}
