/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every field of an encoder's Stats comes out of GET /metrics under its
 * Prometheus name, with its value and labels; a map key sent twice comes
 * out once, with the last value.
 */
#include "exptest.h"
#include "full_stats.h"

int main(void)
{
	struct exp_env t;
	struct full_stats fs;
	static const char *const lines[] = {
		"nerrf_up{stage=\"publisher\"} 1",
		"nerrf_up{stage=\"encoder\"} 1",
		"nerrf_up{stage=\"collector\"} 1",
		"nerrf_kernel_emitted_total 1001",
		"nerrf_kernel_lost_total 43",
		"nerrf_kernel_filtered_total 1003",
		"nerrf_ring1_dropped_total 1004",
		"nerrf_malformed_total 1005",
		"nerrf_ring1_corrupt_resets_total 1006",
		"nerrf_ring1_corrupt_bytes_total 1007",
		"nerrf_encoder_events_total 1008",
		"nerrf_seq_gaps_total 1009",
		"nerrf_ring2_dropped_total 1010",
		"nerrf_publish_errors_total 1011",
		"nerrf_publisher_batches_total 1012",
		"nerrf_kernel_lost_by_cpu_total{cpu=\"0\"} 10",
		"nerrf_kernel_lost_by_cpu_total{cpu=\"3\"} 33",
		"nerrf_kernel_lost_by_syscall_total{syscall=\"openat\"} 12",
		"nerrf_kernel_lost_by_syscall_total{syscall=\"renameat2\"} 13",
		"nerrf_kernel_lost_by_syscall_total{syscall=\"write\"} 11",
		"nerrf_capture_gaps_total 2",
		"nerrf_capture_gap_seconds_total 1.500000007",
		"nerrf_events_per_second 1234.5",
		"nerrf_batches_per_second 12.25",
		"nerrf_ring_used_bytes{ring=\"1\"} 4096",
		"nerrf_ring_used_bytes{ring=\"2\"} 512",
		"nerrf_ring_capacity_bytes{ring=\"1\"} 16777216",
		"nerrf_ring_capacity_bytes{ring=\"2\"} 8388608",
		"nerrf_subscribers 3",
		"nerrf_published_batches_total 777",
		"nerrf_ring2_malformed_total 2001",
		"nerrf_ring2_corrupt_resets_total 2002",
		"nerrf_ring2_corrupt_bytes_total 2003",
		"nerrf_last_stats_timestamp_seconds 1700000000.250000000",
		"nerrf_host_info{hostname=\"node-1\",boot_id=\"b00t\"} 1",
		"# TYPE nerrf_kernel_lost_by_cpu_total counter",
		"# TYPE nerrf_ring_used_bytes gauge",
	};

	exp_env_init(&t, "exporter_values");
	full_stats(&fs);
	exp_start(&t, NULL);
	const char *m = exp_wait_line(&t, &fs.st, "nerrf_encoder_events_total 1008");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		exp_has(m, lines[i]);
	CHECK(strstr(m, "cpu=\"3\"} 30\n") == NULL, "the first of two equal keys came out too:\n%s", m);
	/* Every family is described, once. */
	for (const char *p = m; (p = strstr(p, "\n# TYPE ")); p++) {
		char name[128], help[160];
		CHECK(sscanf(p, "\n# TYPE %127s", name) == 1);
		snprintf(help, sizeof(help), "# HELP %s ", name);
		CHECK(strstr(m, help) != NULL, "no HELP for %s", name);
		snprintf(help, sizeof(help), "\n# TYPE %s ", name);
		CHECK(strstr(strstr(m, help) + 1, help) == NULL, "%s is described twice", name);
	}
	exp_env_free(&t);
	return 0;
}
