/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup path -> container id for each runtime's naming, and the id -> path
 * map built by walking a real directory tree with stat().
 */
#include <sys/stat.h>

#include "encoder.h"
#include "harness.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const struct {
	const char *path, *want;
} table[] = {
	/* docker, systemd driver and cgroupfs driver */
	{"/system.slice/docker-" ID64 ".scope", ID64},
	{"/docker/" ID64, ID64},
	/* containerd under kubernetes (systemd driver) */
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/"
	 "cri-containerd-" ID64 ".scope", ID64},
	/* kubernetes, cgroupfs driver */
	{"/kubepods/besteffort/pod12345678-aaaa-bbbb-cccc-1234567890ab/" ID64, ID64},
	/* cri-o, and its conmon helper which is not the container */
	{"/kubepods.slice/crio-" ID64 ".scope", ID64},
	{"/kubepods.slice/crio-conmon-" ID64 ".scope", ""},
	/* podman, systemd and cgroupfs, and its conmon */
	{"/machine.slice/libpod-" ID64 ".scope", ID64},
	{"/libpod_parent/libpod-" ID64, ID64},
	{"/machine.slice/libpod-conmon-" ID64 ".scope", ""},
	/* a container's own sub-cgroups still belong to it */
	{"/system.slice/docker-" ID64 ".scope/init.scope", ID64},
	/* nested: the innermost container wins */
	{"/docker/" ID64 "/docker/" ID64B, ID64B},
	/* the host */
	{"/", ""},
	{"", ""},
	{"/user.slice/user-1000.slice/session-2.scope", ""},
	{"/system.slice/docker.service", ""},
	{"/system.slice/containerd.service", ""},
	/* not ids: upper case, too short, wrong suffix, 65 hex */
	{"/docker-0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF.scope", ""},
	{"/docker-abc.scope", ""},
	{"/docker-" ID64 ".slice", ""},
	{"/" ID64 "0", ""},
};

static unsigned long long ino_of(const char *path)
{
	struct stat st;

	CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

static void walk_test(void)
{
	char *dir = test_tmpdir("cgroup");
	char host[300], ctr[400], sub[420], late[400];
	struct enc_cgroups *cg;

	snprintf(host, sizeof(host), "%s/system.slice", dir);
	snprintf(ctr, sizeof(ctr), "%s/docker-%s.scope", host, ID64);
	snprintf(sub, sizeof(sub), "%s/inner", ctr);
	CHECK(mkdir(host, 0755) == 0 && mkdir(ctr, 0755) == 0 && mkdir(sub, 0755) == 0);

	cg = enc_cgroups_new(dir);
	CHECK(cg != NULL);
	uint64_t t = 5000000000ull;
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(ctr), t), ID64);
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(sub), t), ID64);
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(host), t), "");
	CHECK_STR(enc_cgroups_lookup(cg, 0, t), "");

	/* A container started later: found by the rescan a miss triggers, a second on. */
	snprintf(late, sizeof(late), "%s/crio-%s.scope", host, ID64B);
	CHECK(mkdir(late, 0755) == 0);
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(late), t + 1000), "");
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(late), t + 1000000000ull), ID64B);
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(ctr), t + 1000000000ull), ID64);

	/*
	 * An id no walk finds (a cgroup already gone) is retried after 1 s,
	 * then 2 s, 4 s ...: not a walk per second for as long as its events come.
	 */
	uint64_t gone = 0xdeadbeef, s = 1000000000ull, t0 = t + 5 * s, scans;
	CHECK_STR(enc_cgroups_lookup(cg, gone, t0), "");
	scans = enc_cgroups_scans(cg);
	for (uint64_t dt = 0; dt < s; dt += s / 10)
		enc_cgroups_lookup(cg, gone, t0 + dt);
	CHECK_EQ_U64(enc_cgroups_scans(cg), scans);
	enc_cgroups_lookup(cg, gone, t0 + s);         /* 1 s: look again */
	CHECK_EQ_U64(enc_cgroups_scans(cg), scans + 1);
	enc_cgroups_lookup(cg, gone, t0 + 2 * s);     /* backoff now 2 s */
	CHECK_EQ_U64(enc_cgroups_scans(cg), scans + 1);
	enc_cgroups_lookup(cg, gone, t0 + 3 * s);
	CHECK_EQ_U64(enc_cgroups_scans(cg), scans + 2);
	enc_cgroups_lookup(cg, gone, t0 + 6 * s);     /* backoff now 4 s */
	CHECK_EQ_U64(enc_cgroups_scans(cg), scans + 2);
	/* ...while a new container is still found within a second or so */
	snprintf(late, sizeof(late), "%s/libpod-%s.scope", host, ID64);
	CHECK(mkdir(late, 0755) == 0);
	CHECK_STR(enc_cgroups_lookup(cg, ino_of(late), t0 + 6 * s + 1), ID64);
	CHECK(rmdir(late) == 0);
	snprintf(late, sizeof(late), "%s/crio-%s.scope", host, ID64B);
	enc_cgroups_free(cg);

	CHECK(rmdir(late) == 0 && rmdir(sub) == 0 && rmdir(ctr) == 0 && rmdir(host) == 0 &&
	      rmdir(dir) == 0);
}

int main(void)
{
	char out[ENC_CONTAINER_ID_MAX + 1];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		bool found = enc_container_id(table[i].path, out);
		if (strcmp(out, table[i].want) != 0 || found != (table[i].want[0] != '\0'))
			FAIL("%s: got \"%s\" (%d), want \"%s\"", table[i].path, out, found,
			     table[i].want);
	}
	walk_test();
	return 0;
}
