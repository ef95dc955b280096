/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names from the stream become label values: a quote, backslash or newline
 * in a host name, syscall or stage name is escaped, a byte that is not UTF-8
 * becomes U+FFFD, and a stage named twice comes out once; promtool accepts
 * the result (one bad line would make Prometheus drop the whole scrape).
 */
#include "exptest.h"
#include "full_stats.h"

int main(void)
{
	struct exp_env t;
	struct full_stats fs;

	exp_env_init(&t, "exporter_escape");
	full_stats(&fs);
	fs.st.hostname = (char *)"ho\"st\\\nx\xff";
	fs.st.boot_id = (char *)"\xc3\xa9t\xc3"; /* é, then a sequence cut short */
	fs.sys[0].key = (char *)"open\"} 1\n";
	fs.st.stage_state = (char *)"collector=up ev\"il=dead collector=dead =up junk";
	exp_start(&t, NULL);
	const char *m = exp_wait_line(&t, &fs.st, "nerrf_encoder_events_total 1008");
	exp_has(m, "nerrf_host_info{hostname=\"ho\\\"st\\\\\\nx\xef\xbf\xbd\","
		   "boot_id=\"\xc3\xa9t\xef\xbf\xbd\"} 1");
	exp_has(m, "nerrf_kernel_lost_by_syscall_total{syscall=\"open\\\"} 1\\n\"} 11");
	exp_has(m, "nerrf_up{stage=\"collector\"} 1");
	exp_has(m, "nerrf_up{stage=\"ev\\\"il\"} 0");
	CHECK(strstr(m, "nerrf_up{stage=\"collector\"} 0") == NULL, "a stage came out twice:\n%s", m);
	CHECK(strstr(m, "nerrf_up{stage=\"\"}") == NULL, "an empty stage name came out:\n%s", m);
	CHECK(strstr(m, "junk") == NULL, "a word without '=' came out as a stage:\n%s", m);
	exp_promtool(t.dir, m);
	exp_env_free(&t);
	return 0;
}
