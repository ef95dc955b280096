/* SPDX-License-Identifier: Apache-2.0 */
/* The known workload bpf_bench.sh measures: N openat+close, or N 4 KiB
 * writes to a regular file, in a process named bpf_bench_load. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[4096];
	long n;
	int fd;

	if (argc != 4 || (strcmp(argv[1], "open") && strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: bpf_bench_load open|write N FILE\n");
		return 2;
	}
	n = atol(argv[2]);
	fd = open(argv[3], O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0) {
		perror(argv[3]);
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	for (long i = 0; i < n; i++) {
		if (argv[1][0] == 'o') {
			int f = openat(AT_FDCWD, argv[3], O_RDONLY);
			if (f < 0)
				return 1;
			close(f);
		} else if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf)) {
			return 1;
		}
	}
	return 0;
}
