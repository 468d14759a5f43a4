/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: see metrics.h.  Names follow Prometheus conventions:
 * scim_cache_ prefix, _seconds and _total suffixes.
 */
#include <errno.h>
#include <string.h>

#include "metrics.h"
#include "state.h"

static void head(struct buf *b, const char *name, const char *type,
                 const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	buf_printf(b, "%s %.17g\n", name, v);
}

/* Only label values we produced ourselves reach here, but make sure. */
static bool label_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return false;
	return true;
}

/* One sample per key of the object ST[GROUP]. */
static void labelled(struct buf *b, const char *name, const char *type,
                     const char *help, const struct status *st,
                     enum status_key group, const char *label)
{
	json_object *g;

	head(b, name, type, help);
	if (!status_get_json(st, group, &g) ||
	    !json_object_is_type(g, json_type_object))
		return;
	json_object_object_foreach(g, key, val)
	{
		if (label_ok(key))
			buf_printf(b, "%s{%s=\"%s\"} %lld\n", name, label, key,
			           (long long)json_object_get_int64(val));
	}
}

static void snapshot(struct buf *b, const struct snap_meta *m, double now)
{
	gauge(b, "scim_cache_snapshot_present",
	      "1 when a readable snapshot is published.", m != NULL);
	if (m == NULL)
		return;
	gauge(b, "scim_cache_snapshot_generation",
	      "Generation of the live snapshot.", (double)m->generation);
	gauge(b, "scim_cache_snapshot_timestamp_seconds",
	      "When the live snapshot was built.", (double)m->created);
	/* Written by a refresh only: it stops growing when refreshes stop,
	 * so alerts use time() - the timestamps above instead. */
	gauge(b, "scim_cache_snapshot_age_seconds",
	      "Age of the live snapshot when the last refresh wrote the "
	      "metrics; frozen in between, so alert on time() - "
	      "scim_cache_snapshot_timestamp_seconds.",
	      now - (double)m->created);
	gauge(b, "scim_cache_people", "People in the snapshot.", m->nusers);
	gauge(b, "scim_cache_people_active", "Active people in the snapshot.",
	      m->nactive);
	gauge(b, "scim_cache_people_suspended",
	      "Suspended or locked people in the snapshot.",
	      m->nusers - m->nactive);
	gauge(b, "scim_cache_groups",
	      "Groups in the snapshot, private groups included.", m->ngroups);
}

/* Which build wrote the file: a fleet's versions, in one query. */
static void build_info(struct buf *b)
{
	head(b, "scim_cache_build_info", "gauge",
	     "Always 1; the version of scim-cache that wrote the metrics.");
	buf_printf(b, "scim_cache_build_info{version=\"%s\"} 1\n",
	           PACKAGE_VERSION);
}

/* A fleet host (or a source host) refuses a bundle past this time: the
 * alert on it gives the time to fix the source before that happens. */
static void bundle(struct buf *b, const struct status *st)
{
	double until = status_get_num(st, ST_BUNDLE_VALID_UNTIL);

	if (until > 0)
		gauge(b, "scim_cache_bundle_valid_until_seconds",
		      "When the last bundle applied or written stops being "
		      "valid.",
		      until);
}

int metrics_format(struct buf *b, const struct snap_meta *meta,
                   const struct status *st, double now)
{
	const char *res = status_get_str(st, ST_LAST_RESULT);
	json_object *rt = NULL, *refused = NULL;

	build_info(b);
	snapshot(b, meta, now);
	bundle(b, st);
	gauge(b, "scim_cache_last_attempt_timestamp_seconds",
	      "When the last refresh started.",
	      status_get_num(st, ST_LAST_ATTEMPT));
	gauge(b, "scim_cache_last_success_timestamp_seconds",
	      "When the last refresh succeeded.",
	      status_get_num(st, ST_LAST_SUCCESS));
	gauge(b, "scim_cache_last_duration_seconds",
	      "How long the last refresh took.",
	      status_get_num(st, ST_LAST_DURATION));
	gauge(b, "scim_cache_last_refresh_success",
	      "1 when the last refresh succeeded.",
	      res && (strcmp(res, "success") == 0 ||
	              strcmp(res, "unchanged") == 0));
	labelled(b, "scim_cache_http_requests_total", "counter",
	         "HTTP requests by status code, or failure kind when no "
	         "answer came.",
	         st, ST_HTTP_REQUESTS_TOTAL, "code");
	labelled(b, "scim_cache_http_errors_total", "counter",
	         "Failed HTTP requests by status code or failure kind.", st,
	         ST_HTTP_ERRORS_TOTAL, "code");
	labelled(b, "scim_cache_skipped_entries", "gauge",
	         "Entries left out by the last refresh, by reason.", st,
	         ST_SKIPPED_BY_REASON, "reason");
	labelled(b, "scim_cache_refreshes_total", "counter",
	         "Refreshes by result.", st, ST_REFRESHES_TOTAL, "result");
	if (status_get_json(st, ST_REFRESHES_TOTAL, &rt) && rt != NULL)
		json_object_object_get_ex(rt, "refused", &refused);
	head(b, "scim_cache_refused_refreshes_total", "counter",
	     "Refreshes refused by a safety guard.");
	buf_printf(b, "scim_cache_refused_refreshes_total %lld\n",
	           refused ? (long long)json_object_get_int64(refused) : 0LL);
	return b->err;
}

int metrics_write(const char *path, const struct snap_meta *meta,
                  const struct status *st, double now)
{
	struct buf b = {0};
	int r;

	r = metrics_format(&b, meta, st, now);
	if (r == 0)
		r = write_file_atomic(path, b.data, b.len, 0644);
	buf_free(&b, false);
	return r;
}
