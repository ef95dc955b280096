/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf_log's lines: "prog: message", and with stderr the journal's stream
 * ($JOURNAL_STREAM names its device and inode) each starts with its syslog
 * priority for journald: <6> info, <4> warnings, <7> debug, <3> fatal. The
 * same variable naming another stream (a child's redirected stderr) gives
 * plain lines. Each case runs in a child: the check is made once, at the
 * first log_init.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "nerrf_log.h"

enum how { NO_VAR, OUR_STREAM, OTHER_STREAM };

/* What the child logged to stderr, a pipe, with JOURNAL_STREAM set as how says. */
static void run(enum how how, char *out, size_t len)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct stat st;
		char js[64];
		dup2(p[1], 2);
		close(p[0]);
		fstat(2, &st);
		snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino + (how == OTHER_STREAM));
		if (how == NO_VAR)
			unsetenv("JOURNAL_STREAM");
		else
			setenv("JOURNAL_STREAM", js, 1);
		log_init("t", true);
		log_info("started");
		log_warnx("went %s", "wrong");
		errno = ENOENT;
		log_warn("opening x");
		log_debug("detail");
		fatalx(3, "giving up");
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(p[0], out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %d", status);
}

int main(void)
{
	char out[1024];
	const char *plain = "t: started\nt: went wrong\nt: opening x: No such file or directory\n"
			    "t: detail\nt: giving up\n";

	run(NO_VAR, out, sizeof(out));
	CHECK_STR(out, plain);
	run(OTHER_STREAM, out, sizeof(out));
	CHECK_STR(out, plain);
	run(OUR_STREAM, out, sizeof(out));
	CHECK_STR(out, "<6>t: started\n<4>t: went wrong\n<4>t: opening x: No such file or directory\n"
		       "<7>t: detail\n<3>t: giving up\n");
	return 0;
}
