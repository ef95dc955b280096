/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Only GET and HEAD of /metrics are served, with the exposition format's
 * content type; other paths are 404, other methods 405 with Allow.
 */
#include "exptest.h"

int main(void)
{
	struct exp_env t;
	static const char *const elsewhere[] = {"/", "/metricsx", "/metrics/", "/index.html",
						"/metrics?x=1/../.."};
	int status;
	const char *r;

	exp_env_init(&t, "exporter_http");
	exp_start(&t, NULL);
	r = exp_http(t.port, "GET", "/metrics", &status);
	CHECK(status == 200, "GET /metrics: %d", status);
	CHECK(strcasestr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
	      "wrong or no content type:\n%s", r);
	CHECK(strstr(r, "\n# TYPE nerrf_up gauge\n"), "no metrics in:\n%s", r);
	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++) {
		r = exp_http(t.port, "GET", elsewhere[i], &status);
		/* The query string is not part of the path: /metrics?x is /metrics. */
		int want = strncmp(elsewhere[i], "/metrics?", 9) == 0 ? 200 : 404;
		CHECK(status == want, "GET %s: %d, want %d", elsewhere[i], status, want);
		if (want == 404)
			CHECK(strstr(r, "nerrf_up") == NULL, "GET %s served the metrics", elsewhere[i]);
	}
	r = exp_http(t.port, "POST", "/metrics", &status);
	CHECK(status == 405, "POST /metrics: %d", status);
	CHECK(strcasestr(r, "\r\nAllow: GET, HEAD\r\n"), "no Allow header:\n%s", r);
	r = exp_http(t.port, "HEAD", "/metrics", &status);
	CHECK(status == 200, "HEAD /metrics: %d", status);
	CHECK(strstr(r, "nerrf_up") == NULL, "HEAD sent a body:\n%s", r);
	exp_env_free(&t);
	return 0;
}
