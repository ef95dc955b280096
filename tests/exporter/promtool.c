/* SPDX-License-Identifier: Apache-2.0 */
/* promtool check metrics finds nothing wrong with a scrape of a full Stats, nor of none. */
#include "exptest.h"
#include "full_stats.h"

int main(void)
{
	struct exp_env t;
	struct full_stats fs;

	exp_env_init(&t, "exporter_promtool");
	full_stats(&fs);
	exp_start(&t, NULL);
	exp_promtool(t.dir, exp_scrape(t.port));
	exp_promtool(t.dir, exp_wait_line(&t, &fs.st, "nerrf_encoder_events_total 1008"));
	exp_env_free(&t);
	return 0;
}
