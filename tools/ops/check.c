/* SPDX-License-Identifier: MIT */
/* check.c: scim-cache check (check.h). */
#include <inttypes.h>
#include <stdio.h>

#include "check.h"
#include "log.h"
#include "util.h"

/* GET the bridge's /health beside the configured base (http.h says
 * where exactly): prints its version. */
static int check_health(struct run *r, struct buf *body)
{
	char url[2100], version[128], build[128];
	long status;
	int rc;

	rc = http_health_url(r->cfg.url, url, sizeof(url));
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "url too long");
		return rc;
	}
	rc = http_get(r->http, url, body, &status, r->err, sizeof(r->err));
	if (rc < 0)
		return rc;
	scim_parse_health(body->data ? body->data : "", body->len, version,
	                  sizeof(version), build, sizeof(build));
	printf("bridge health: ok, version %s (build %s)\n",
	       version[0] ? version : "unknown", build[0] ? build : "unknown");
	return 0;
}

/* A cheap authenticated listing: one person. */
static int check_token(struct run *r, struct buf *body)
{
	struct scim_page page = {0};
	char url[4096];
	long status;
	int rc;

	snprintf(url, sizeof(url), "%s/Users?startIndex=1&count=1", r->cfg.url);
	rc = http_get(r->http, url, body, &status, r->err, sizeof(r->err));
	if (rc == 0)
		rc = scim_parse_list(body->data ? body->data : "", body->len,
		                     SCIM_USERS, &page, r->err, sizeof(r->err));
	if (rc == 0)
		printf("token accepted: %" PRId64 " people listed at %s\n",
		       page.total, r->cfg.url);
	scim_page_clear(&page);
	return rc;
}

/* A fleet host: the bundle downloads, verifies, parses and is valid. */
static int check_bundle(struct run *r)
{
	const struct bundle_info *b = &r->dl.info;
	char t[64];
	int rc;

	rc = http_open_public(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0)
		rc = fleet_download(r->http, &r->cfg, NULL, NULL, &r->dl,
		                    r->err, sizeof(r->err));
	if (rc == 0 && (double)b->valid_until <= now_wall()) {
		snprintf(r->err, sizeof(r->err),
		         "bundle generation %" PRIu64 " expired at %s",
		         b->generation,
		         fmt_utc((double)b->valid_until, t, sizeof(t)));
		rc = -1;
	}
	if (rc < 0) {
		logmsg(LOG_ERR, "check failed: %s", r->err);
		return EXIT_FAIL;
	}
	printf("bundle ok: generation %" PRIu64 ", %zu people, %zu groups, "
	       "%zu bytes, signed by key %s on %s (bridge %s), valid until "
	       "%s\n",
	       b->generation, b->npeople, b->ngroups, r->dl.bytes, b->keyid,
	       b->origin, b->source,
	       fmt_utc((double)b->valid_until, t, sizeof(t)));
	return EXIT_OK;
}

int check_run(struct run *r)
{
	struct buf body = {0};
	int rc;

	if (r->cfg.mode == MODE_FLEET)
		return check_bundle(r);
	rc = http_open(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0)
		rc = check_health(r, &body);
	if (rc == 0)
		rc = check_token(r, &body);
	if (rc < 0)
		logmsg(LOG_ERR, "check failed: %s", r->err);
	buf_free(&body, false);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
