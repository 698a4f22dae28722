/* A dynamically linked program for the sandbox tests: prints the
   CLOCK_MONOTONIC time at which main ran (to measure how close
   Process.Started is to the real start), looks for a file the image does
   not have (for the trace), and exits with the status in argv[1]. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("mono %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	FILE *f = fopen("/etc/fnopt-missing.conf", "r");
	if (f) fclose(f);
	fflush(stdout);
	return argc > 1 ? atoi(argv[1]) : 0;
}
