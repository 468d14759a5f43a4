/* SPDX-License-Identifier: MIT */
/* status.c: scim-cache status (status.h). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "util.h"

#define STATUS_SCHEMA_VERSION 1 /* status --json; see status_json() */

static json_object *snapshot_json(const struct run *r)
{
	json_object *o = json_object_new_object();
	struct snap_meta m;
	struct model tmp = {0};
	int rc = model_load_snapshot(r->cfg.cache_path, geteuid(), &tmp, &m);

	model_free(&tmp);
	json_object_object_add(o, "path",
	                       json_object_new_string(r->cfg.cache_path));
	json_object_object_add(o, "available",
	                       json_object_new_boolean(rc == 0));
	json_object_object_add(
	        o, "error",
	        rc != 0 ? json_object_new_string(snap_strerror(rc)) : NULL);
	if (rc != 0) {
		/* The schema holds every key; unknown ones are null. */
		static const char *const unknown[] = {
		        "generation", "created",   "age_seconds", "people",
		        "active",     "suspended", "groups",      "id_min",
		        "id_max",     "source"};

		for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
			json_object_object_add(o, unknown[i], NULL);
		return o;
	}
	json_object_object_add(o, "generation",
	                       json_object_new_int64((int64_t)m.generation));
	json_object_object_add(o, "created", json_object_new_int64(m.created));
	json_object_object_add(
	        o, "age_seconds",
	        json_object_new_int64((int64_t)now_wall() - m.created));
	json_object_object_add(o, "people", json_object_new_int64(m.nusers));
	json_object_object_add(o, "active", json_object_new_int64(m.nactive));
	json_object_object_add(o, "suspended",
	                       json_object_new_int64(m.nusers - m.nactive));
	json_object_object_add(o, "groups", json_object_new_int64(m.ngroups));
	json_object_object_add(o, "id_min", json_object_new_int64(m.id_min));
	json_object_object_add(o, "id_max", json_object_new_int64(m.id_max));
	json_object_object_add(o, "source", json_object_new_string(m.source));
	return o;
}

/* Who lock I holds now (they may have been renamed since), from the id
 * map or the live snapshot that status_show() loaded; NULL for nobody. */
static const char *lock_holder(const struct run *r, size_t i)
{
	const char *key = r->locks.ids[i];
	const struct idmap_entry *e;
	uint32_t uid;

	if (strncmp(key, LOCK_UID_PREFIX, strlen(LOCK_UID_PREFIX)) == 0 &&
	    parse_u32(key + strlen(LOCK_UID_PREFIX), 1, UINT32_MAX, &uid) ==
	            0) {
		for (size_t k = 0; r->have_live && k < r->live.nusers; k++)
			if (r->live.users[k].uid == uid)
				return r->live.users[k].name;
		return NULL;
	}
	e = idmap_find(&r->ids, SCIM_USERS, key);
	if (e != NULL && e->live && e->name != NULL)
		return e->name;
	if (strcmp(key, r->locks.names[i]) == 0 && r->have_live &&
	    model_find_user(&r->live, key) != NULL)
		return key;
	return NULL;
}

static json_object *locks_json(const struct run *r)
{
	const struct locks *l = &r->locks;
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();
		const char *holds = lock_holder(r, i);

		json_object_object_add(o, "name",
		                       json_object_new_string(l->names[i]));
		json_object_object_add(o, "scim_id",
		                       json_object_new_string(l->ids[i]));
		json_object_object_add(o, "holds",
		                       holds ? json_object_new_string(holds)
		                             : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

/* status --json's names of the modes. */
static const char *const mode_names[] = {
        [MODE_BRIDGE] = "bridge",
        [MODE_SOURCE] = "source",
        [MODE_FLEET] = "fleet",
};

/* The mode, and for fleet mode the bundle last written or applied. */
static json_object *fleet_json(const struct run *r)
{
	static const enum status_key keep[] = {
	        ST_BUNDLE_GENERATION, ST_BUNDLE_DIGEST, ST_BUNDLE_ORIGIN,
	        ST_BUNDLE_BRIDGE,     ST_BUNDLE_KEY,    ST_BUNDLE_BYTES};
	json_object *o = json_object_new_object(), *v;
	double created = status_get_num(r->st, ST_BUNDLE_CREATED);
	double until = status_get_num(r->st, ST_BUNDLE_VALID_UNTIL);

	json_object_object_add(o, "mode",
	                       json_object_new_string(mode_names[r->cfg.mode]));
	json_object_object_add(o, "source",
	                       json_object_new_string(r->cfg.mode == MODE_FLEET
	                                                      ? r->cfg.source
	                                                      : r->cfg.url));
	json_object_object_add(
	        o, "bundle_file",
	        r->cfg.bundle_file ? json_object_new_string(r->cfg.bundle_file)
	                           : NULL);
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		json_object_object_add(
		        o, status_key_name(keep[i]) + strlen("bundle_"),
		        status_get_json(r->st, keep[i], &v) ? json_object_get(v)
		                                            : NULL);
	json_object_object_add(o, "snapshot_made",
	                       status_get_json(r->st, ST_SNAPSHOT_MADE, &v)
	                               ? json_object_get(v)
	                               : NULL);
	json_object_object_add(
	        o, "created",
	        created > 0 ? json_object_new_int64((int64_t)created) : NULL);
	json_object_object_add(
	        o, "age_seconds",
	        created > 0
	                ? json_object_new_int64((int64_t)(now_wall() - created))
	                : NULL);
	json_object_object_add(
	        o, "valid_until",
	        created > 0 ? json_object_new_int64((int64_t)until) : NULL);
	return o;
}

/* What status --json shows for a key the state does not hold yet: null
 * for a value not known, an empty list or map for counts of nothing. */
static json_object *status_missing(const char *key)
{
	size_t n = strlen(key);

	if (strcmp(key, "skipped") == 0)
		return json_object_new_array();
	if (strcmp(key, "skipped_by_reason") == 0 ||
	    (n > 6 && strcmp(key + n - 6, "_total") == 0))
		return json_object_new_object();
	return NULL;
}

static json_object *status_json(struct run *r)
{
	static const enum status_key keep[] = {
	        ST_LAST_ATTEMPT,        ST_LAST_SUCCESS,
	        ST_LAST_RESULT,         ST_LAST_ERROR,
	        ST_LAST_DURATION,       ST_SKIPPED,
	        ST_SKIPPED_BY_REASON,   ST_REFRESHES_TOTAL,
	        ST_HTTP_REQUESTS_TOTAL, ST_HTTP_ERRORS_TOTAL};
	json_object *o = json_object_new_object(), *v;

	/* Version 1: the keys documented in scim-cache(8), status, each
	 * always present.  A new key keeps the version; a removed or
	 * retyped one bumps it. */
	json_object_object_add(o, "schema_version",
	                       json_object_new_int(STATUS_SCHEMA_VERSION));
	json_object_object_add(o, "snapshot", snapshot_json(r));
	json_object_object_add(o, "fleet", fleet_json(r));
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		json_object_object_add(
		        o, status_key_name(keep[i]),
		        status_get_json(r->st, keep[i], &v)
		                ? json_object_get(v)
		                : status_missing(status_key_name(keep[i])));
	json_object_object_add(o, "locks", locks_json(r));
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && v != NULL)
		return json_object_get_string(v);
	return "-";
}

/* jstr() of the status file's K. */
static const char *st_text(const struct status *st, enum status_key k)
{
	json_object *v;

	if (status_get_json(st, k, &v) && v != NULL)
		return json_object_get_string(v);
	return "-";
}

static void print_skipped(const struct status *st)
{
	json_object *arr;
	size_t n;

	if (!status_get_json(st, ST_SKIPPED, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	printf("skipped:       %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		printf("  %s %s: %s (%s)\n", jstr(s, "kind"),
		       jstr(s, "scim_id"), jstr(s, "detail"),
		       jstr(s, "reason"));
	}
}

static void print_fleet(json_object *o)
{
	json_object *f = json_object_object_get(o, "fleet");
	const char *mode = jstr(f, "mode");
	char t1[64], t2[64];

	if (strcmp(mode, "fleet") == 0)
		printf("mode:          fleet host, bundle %s\n",
		       jstr(f, "source"));
	else if (strcmp(mode, "source") == 0)
		printf("mode:          source host, bridge %s, bundle %s\n",
		       jstr(f, "source"), jstr(f, "bundle_file"));
	else
		printf("mode:          bridge %s\n", jstr(f, "source"));
	if (strcmp(mode, "bridge") == 0 ||
	    json_object_object_get(f, "created") == NULL)
		return;
	printf("bundle:        generation %s, signed %s (%ss ago) by %s, "
	       "valid until %s\n",
	       jstr(f, "generation"),
	       fmt_utc(json_object_get_double(
	                       json_object_object_get(f, "created")),
	               t1, sizeof(t1)),
	       jstr(f, "age_seconds"), jstr(f, "origin"),
	       fmt_utc(json_object_get_double(
	                       json_object_object_get(f, "valid_until")),
	               t2, sizeof(t2)));
}

static void print_status(struct run *r, json_object *o)
{
	json_object *s;
	char t1[64], t2[64];

	json_object_object_get_ex(o, "snapshot", &s);
	printf("snapshot:      %s\n", jstr(s, "path"));
	if (!json_object_get_boolean(json_object_object_get(s, "available")))
		printf("               unavailable: %s\n", jstr(s, "error"));
	else {
		printf("generation:    %s (built %s, %ss ago)\n",
		       jstr(s, "generation"),
		       fmt_utc(json_object_get_double(
		                       json_object_object_get(s, "created")),
		               t1, sizeof(t1)),
		       jstr(s, "age_seconds"));
		printf("people:        %s (%s active, %s suspended or "
		       "locked)\n",
		       jstr(s, "people"), jstr(s, "active"),
		       jstr(s, "suspended"));
		printf("groups:        %s\n", jstr(s, "groups"));
		printf("source:        %s\n", jstr(s, "source"));
	}
	print_fleet(o);
	printf("last attempt:  %s (%s)\n",
	       fmt_utc(status_get_num(r->st, ST_LAST_ATTEMPT), t1, sizeof(t1)),
	       st_text(r->st, ST_LAST_RESULT));
	printf("last success:  %s\n",
	       fmt_utc(status_get_num(r->st, ST_LAST_SUCCESS), t2, sizeof(t2)));
	printf("last error:    %s\n", st_text(r->st, ST_LAST_ERROR));
	print_skipped(r->st);
	printf("locks:         %zu\n", r->locks.n);
	for (size_t i = 0; i < r->locks.n; i++) {
		const char *holds = lock_holder(r, i);

		printf("  %s (%s)", r->locks.names[i], r->locks.ids[i]);
		if (holds == NULL)
			printf(", holds nobody now\n");
		else if (strcmp(holds, r->locks.names[i]) != 0)
			printf(", now %s\n", holds);
		else
			printf("\n");
	}
}

/* What lock_holder() reads: the id map and the live snapshot, each only
 * if it can be read (status reports, it does not judge them). */
static void status_lock_holders(struct run *r)
{
	char path[PATH_MAX], err[ERR_MAX];

	idmap_init(&r->ids, r->cfg.uid_min, r->cfg.uid_max);
	if (state_path(r->cfg.state_dir, STATE_IDS, path) == 0 &&
	    idmap_load(&r->ids, path, err, sizeof(err)) < 0) {
		idmap_free(&r->ids);
		idmap_init(&r->ids, r->cfg.uid_min, r->cfg.uid_max);
	}
	run_load_live_model(r);
}

int status_show(struct run *r, bool json)
{
	char err[ERR_MAX];
	bool damaged, ok;
	json_object *o;

	/* Read-only: no lock, no directory creation. */
	r->st = status_load(r->cfg.state_dir, &damaged);
	if (locks_load(r->cfg.state_dir, &r->locks) < 0)
		logmsg(LOG_WARNING, "%s/%s is damaged", r->cfg.state_dir,
		       STATE_LOCKOUTS);
	if (r->locks.n > 0)
		status_lock_holders(r);
	o = r->st ? status_json(r) : NULL;
	if (o == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		logmsg(LOG_ERR, "%s", err);
		return EXIT_FAIL;
	}
	ok = json_object_get_boolean(json_object_object_get(
	        json_object_object_get(o, "snapshot"), "available"));
	if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(
		               o, JSON_C_TO_STRING_PRETTY |
		                          JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_status(r, o);
	json_object_put(o);
	return ok ? EXIT_OK : EXIT_FAIL;
}
