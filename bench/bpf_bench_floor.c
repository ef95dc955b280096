/* SPDX-License-Identifier: Apache-2.0 */
/* Attaches an empty program to sys_enter_pwrite64, makes N pwrite64 calls,
 * and prints the program's average run time as bpf_stats measure it: the
 * floor to subtract from bpf_bench.sh's per-program numbers.
 *   usage: bpf_bench_floor OBJ N      (root, kernel.bpf_stats_enabled=1) */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	char buf[64] = { 0 };
	long n;
	int fd;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: bpf_bench_floor OBJ N\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj) < 0) {
		fprintf(stderr, "bpf_bench_floor: loading %s failed; run as root\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "floor_prog");
	link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		fprintf(stderr, "bpf_bench_floor: attaching failed; is tracefs mounted?\n");
		return 1;
	}
	fd = open("/dev/null", O_WRONLY);
	for (long i = 0; i < n; i++)
		if (pwrite(fd, buf, sizeof(buf), 0) < 0)
			return 1;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) < 0 || !info.run_cnt) {
		fprintf(stderr, "bpf_bench_floor: no run statistics; set kernel.bpf_stats_enabled=1\n");
		return 1;
	}
	printf("%.0f\n", (double)info.run_time_ns / info.run_cnt);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
