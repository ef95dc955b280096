/* SPDX-License-Identifier: Apache-2.0 */
#include "nerrf_signal.h"

volatile sig_atomic_t nerrf_stop, nerrf_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		nerrf_reload = 1;
	else
		nerrf_stop = 1;
}

void nerrf_catch_reload(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

void nerrf_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
