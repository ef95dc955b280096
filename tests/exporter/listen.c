/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --listen: loopback unless --insecure-listen, numeric ADDR:PORT only, a
 * port in use named as such; each refusal says what to do. --version
 * prints the project's version.
 */
#include "exptest.h"

/* Runs nerrf-exporter with args; its exit status, its stderr in *err. */
static int run(const char *dir, const char **err, ...)
{
	char *argv[16], path[600];
	int argc = 0;
	va_list ap;
	argv[argc++] = (char *)pt_bin("NERRF_EXPORTER");
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s/run.err", dir);
	pid_t pid = pt_spawn_io(argv, path, path);
	int rc = pt_wait_exit(pid, 5000);
	CHECK(rc >= 0, "nerrf-exporter %s did not exit", argv[1]);
	*err = pt_slurp(path);
	return rc;
}

int main(void)
{
	struct exp_env t;
	const char *err;
	char addr[64], url[600];
	static const char *const bad[] = {"9465", "localhost:9465", "127.0.0.1:0",
					  "127.0.0.1:65536", "127.0.0.1:", "[::1:9465", "1.2.3:80"};

	exp_env_init(&t, "exporter_listen");
	snprintf(url, sizeof(url), "--url=%s", t.url);

	CHECK(run(t.dir, &err, "--version", NULL) == 0);
	snprintf(addr, sizeof(addr), "nerrf-exporter %s\n", getenv("NERRF_VERSION"));
	CHECK_STR(err, addr);

	CHECK(run(t.dir, &err, url, "--listen", "0.0.0.0:9465", NULL) == 2);
	CHECK(strstr(err, "not a loopback address") && strstr(err, "--insecure-listen"), "%s", err);
	CHECK(run(t.dir, &err, url, "--listen", "[::]:9465", NULL) == 2);
	CHECK(strstr(err, "--insecure-listen"), "%s", err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(run(t.dir, &err, url, "--listen", bad[i], NULL) == 2, "--listen %s: %s", bad[i],
		      err);
		CHECK(strstr(err, bad[i]) && (strstr(err, "e.g. 127.0.0.1:9465") || strstr(err, "port")),
		      "--listen %s: %s", bad[i], err);
	}

	/* Served anyway when asked, and reached on loopback too. */
	snprintf(addr, sizeof(addr), "0.0.0.0:%d", t.port);
	exp_start(&t, "--listen", addr, "--insecure-listen", NULL);
	CHECK(strstr(exp_scrape(t.port), "nerrf_build_info{version="));

	/* The port is taken now. */
	CHECK(run(t.dir, &err, url, "--listen", addr, "--insecure-listen", NULL) == 1);
	CHECK(strstr(err, "cannot listen on") && strstr(err, "in use") && strstr(err, "--listen"),
	      "%s", err);
	exp_env_free(&t);
	return 0;
}
