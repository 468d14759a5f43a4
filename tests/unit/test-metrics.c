/* SPDX-License-Identifier: MIT */
/*
 * tools-metrics: what metrics_format adds for operations: the build's
 * version always, and a bundle's expiry only on a host that has one; the
 * age metric's help says not to alert on it.
 */
#include <string.h>

#include "metrics.h"
#include "state.h"
#include "test.h"

static char *format(const struct snap_meta *m, const struct status *st)
{
	struct buf b = {0};
	char *s;

	REQUIRE(metrics_format(&b, m, st, 1800000000.0) == 0);
	s = strndup(b.data, b.len);
	buf_free(&b, false);
	REQUIRE(s != NULL);
	return s;
}

int main(void)
{
	struct snap_meta m = {.generation = 3, .created = 1799999000};
	struct status *st = status_new();
	char *text;

	REQUIRE(st != NULL);
	text = format(&m, st);
	CHECK(strstr(text, "# TYPE scim_cache_build_info gauge\n") != NULL);
	CHECK(strstr(text, "\nscim_cache_build_info{version=\"" PACKAGE_VERSION
	                   "\"} 1\n") != NULL);
	CHECK(strstr(text, "bundle_valid_until") == NULL);
	CHECK(strstr(text, "\nscim_cache_snapshot_timestamp_seconds "
	                   "1799999000\n") != NULL);
	CHECK(strstr(text, "frozen in between, so alert on time() - "
	                   "scim_cache_snapshot_timestamp_seconds") != NULL);
	free(text);

	/* A fleet host that applied a bundle valid until a given time. */
	status_set_num(st, ST_BUNDLE_VALID_UNTIL, 1800600000.0);
	text = format(NULL, st);
	CHECK(strstr(text, "\nscim_cache_bundle_valid_until_seconds "
	                   "1800600000\n") != NULL);
	CHECK(strstr(text, "scim_cache_build_info{") != NULL);
	free(text);
	status_free(st);
	return test_result();
}
