/* SPDX-License-Identifier: MIT */
/* refresh.c: one refresh (refresh.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "log.h"
#include "metrics.h"
#include "refresh.h"
#include "testpoint.h"
#include "util.h"

/* An unchanged directory is still republished (and a source host still
 * re-signs its bundle) once the snapshot or bundle is this old, so that
 * their creation time says when the directory was last confirmed: what
 * pam_scim's max_age and the staleness alerts read. */
#define RECONFIRM_AGE 3600
#define SKIP_SHOW     5              /* skipped entries named one by one */
#define SNAP_READ_MAX (SIZE_MAX / 2) /* a live snapshot read whole */

/* True when the id map lacks a number the live snapshot uses: only then
 * can the mapping adopt one from it (a lost or reset id map). */
static bool ids_lack_live(const struct run *r)
{
	const struct model_sum *s = &r->live_sum;

	for (size_t i = 0; i < s->nusers; i++)
		if (!numset_has(&r->ids.used, s->users[i].id))
			return true;
	for (size_t i = 0; i < s->ngroups; i++)
		if (!numset_has(&r->ids.used, s->groups[i].id))
			return true;
	return false;
}

/* A fleet host's summary of the snapshot it published, when the live
 * snapshot is still, byte for byte, that file: read instead of the
 * snapshot, which would be decoded whole for it. */
static bool load_kept_sum(struct run *r)
{
	const char *want = status_get_str(r->st, ST_SNAPSHOT_SHA256);
	char path[PATH_MAX], got[SHA256_HEX];

	if (r->cfg.mode != MODE_FLEET || !r->have_live || want == NULL ||
	    state_path(r->cfg.state_dir, STATE_SNAP_SUM, path) < 0)
		return false;
	/* live_reusable() kept the snapshot's bytes only if they hash so. */
	if (r->live_bytes == NULL &&
	    (delta_sha256_file(r->cfg.cache_path, got) < 0 ||
	     strcmp(got, want) != 0))
		return false;
	return model_sum_load(path, want, &r->live_sum) == 0;
}

/* What a refresh reads of the live snapshot: a summary, enough for the
 * counts, the guards and telling whether anything changed, at a tenth of
 * the model's memory.  The model itself is read when the diff is printed
 * line by line or when the mapping may adopt numbers from it. */
static void load_live(struct run *r)
{
	if (r->want_full) {
		run_load_live_model(r);
		return;
	}
	if (load_kept_sum(r))
		return;
	r->live_err = model_sum_snapshot(r->cfg.cache_path, geteuid(),
	                                 &r->live_sum, &r->live_meta);
	r->have_live = r->live_err == 0;
	if (r->have_live && r->cfg.mode != MODE_FLEET && ids_lack_live(r))
		run_load_live_model(r);
}

/* The people of the live snapshot (0 when there is none). */
static size_t live_people(const struct run *r)
{
	if (!r->have_live)
		return 0;
	return r->live_full ? r->live.nusers : r->live_sum.nusers;
}

static int write_ids(int fd, void *ud)
{
	TESTPOINT("ids-temp-created");
	return idmap_write(ud, fd);
}

/* Written as it is formatted: 100,000 people make a 6 MB id map, which
 * need not be held whole at the run's peak. */
static int save_ids(struct run *r, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	rc = state_path(r->cfg.state_dir, STATE_IDS, path);
	if (rc == 0)
		rc = write_file_atomic_with(path, 0600, write_ids, &r->ids);
	if (rc < 0)
		snprintf(err, errlen, "saving the id map %.300s: %s", path,
		         strerror(-rc));
	return rc;
}

static void write_metrics(struct run *r)
{
	struct snap_meta m;
	bool have;
	int rc;

	if (r->cfg.metrics_file == NULL)
		return;
	have = model_read_meta(r->cfg.cache_path, geteuid(), &m) == 0;
	rc = metrics_write(r->cfg.metrics_file, have ? &m : NULL, r->st,
	                   now_wall());
	if (rc < 0)
		logmsg(LOG_WARNING, "cannot write metrics_file %s: %s",
		       r->cfg.metrics_file, strerror(-rc));
}

/* Records the outcome in the status file and the metrics. */
static void record(struct run *r, const char *result, const char *error)
{
	double dur = now_mono() - r->t0;

	status_set_num(r->st, ST_LAST_ATTEMPT, r->wall0);
	status_set_str(r->st, ST_LAST_RESULT, result);
	status_set_num(r->st, ST_LAST_DURATION, dur);
	if (error)
		status_set_str(r->st, ST_LAST_ERROR, error);
	else
		status_set_str(r->st, ST_LAST_ERROR, NULL);
	if (strcmp(result, "success") == 0 || strcmp(result, "unchanged") == 0)
		status_set_num(r->st, ST_LAST_SUCCESS, now_wall());
	status_count(r->st, ST_REFRESHES_TOTAL, result, 1);
	if (r->http) {
		const struct http_stats *s = http_stats(r->http);

		for (size_t i = 0; i < s->n; i++) {
			const char *k = s->c[i].key;

			status_count(r->st, ST_HTTP_REQUESTS_TOTAL, k,
			             (int64_t)s->c[i].n);
			/* Not 2xx or 304 (a fleet host's unchanged bundle),
			 * or no answer. */
			if (k[0] != '2' && strcmp(k, "304") != 0)
				status_count(r->st, ST_HTTP_ERRORS_TOTAL, k,
				             (int64_t)s->c[i].n);
		}
	}
	TESTPOINT("status-save");
	if (status_save(r->cfg.state_dir, r->st) < 0)
		logmsg(LOG_WARNING, "cannot save %s/%s", r->cfg.state_dir,
		       STATE_STATUS);
	TESTPOINT("metrics-write");
	write_metrics(r);
}

static int failed(struct run *r, int code)
{
	char k[PATH_MAX + 64];

	log_progress_end(r->progress_shown);
	r->progress_shown = false;
	run_kept(r, k, sizeof(k));
	if (code == EXIT_REFUSED) {
		logmsg(LOG_ERR,
		       "refresh refused: %s; %s; --force publishes "
		       "anyway",
		       r->err, k);
		record(r, "refused", r->err);
	} else {
		logmsg(LOG_ERR, "refresh failed: %s; %s", r->err, k);
		record(r, "failure", r->err);
	}
	return code;
}

/* ---- refresh ---------------------------------------------------------- */

static int fetch(struct run *r)
{
	bool show = logs.tty && !logs.quiet;
	int rc;

	rc = http_open(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0) {
		rc = client_read_directory(r->http, &r->cfg,
		                           show ? log_progress : NULL, NULL,
		                           &r->dir, r->err, sizeof(r->err));
		r->progress_shown = show;
	}
	log_progress_end(r->progress_shown);
	r->progress_shown = false;
	return rc;
}

/* map_build's release_users: the directory's people, once mapped. */
static void release_people(void *ud)
{
	struct directory *d = ud;

	people_free(&d->people);
	malloc_trim(0);
}

/* map_build's release_groups. */
static void release_groups(void *ud)
{
	client_directory_free_groups(ud);
	malloc_trim(0);
}

/* The directory, mapped into r->next.  A source host (bundle_file) maps it
 * for every host, without its own local files and locks, into r->bundle,
 * and then applies its own as a fleet host would. */
/* This host's own rules over a directory: its local names and numbers,
 * its locks, its range and its reserved names (a source host's bundle
 * carries them to fleet hosts, which apply their own). */
static struct fleet_rules host_rules(struct run *r)
{
	return (struct fleet_rules){.local = &r->local,
	                            .locks = &r->locks,
	                            .id_min = r->cfg.uid_min,
	                            .id_max = r->cfg.uid_max,
	                            .reserved = r->cfg.reserved_names,
	                            .nreserved = r->cfg.nreserved_names};
}

static int build(struct run *r)
{
	bool source_host = r->cfg.mode == MODE_SOURCE;
	struct localdb none = {0};
	struct strmap locked = {0};
	struct fleet_rules rules = host_rules(r);
	size_t adopted = 0;
	struct map_notes notes = {0};
	struct map_input in = {
	        .cfg = &r->cfg,
	        .people = &r->dir.people,
	        .groups = r->dir.groups,
	        .ngroups = r->dir.ngroups,
	        .local = source_host ? &none : &r->local,
	        .locked = &locked,
	        .seed = r->live_full ? &r->live : NULL,
	        .adopted = &adopted,
	        .notes = &notes,
	        .release_users = release_people,
	        .release_groups = release_groups,
	        .release_ud = &r->dir,
	};
	int rc = localdb_load(&r->local, r->cfg.local_passwd,
	                      r->cfg.local_group, r->err, sizeof(r->err));

	for (size_t i = 0; rc == 0 && !source_host && i < r->locks.n; i++)
		rc = strmap_put(&locked, r->locks.ids[i], 0);
	if (rc == 0)
		rc = map_build(&in, &r->ids,
		               source_host ? &r->bundle : &r->next, &r->skipped,
		               r->err, sizeof(r->err));
	/* The model holds all that is needed from here on.  glibc keeps
	 * freed heap unless asked: give it back before the writer runs. */
	client_directory_free(&r->dir);
	strmap_free(&locked);
	malloc_trim(0);
	if (rc == 0 && source_host &&
	    fleet_apply_local(&r->bundle, &rules, false, &r->next,
	                      &r->skipped) < 0)
		rc = set_error(r->err, sizeof(r->err), -ENOMEM,
		               "out of memory");
	if (rc == 0 && notes.unclear_active > 0)
		logmsg(LOG_WARNING,
		       "%zu people published suspended: their \"active\" is "
		       "not true or false, or missing while others have it "
		       "(the first: SCIM id %s)",
		       notes.unclear_active, notes.unclear_id);
	if (rc == 0 && adopted > 0)
		logmsg(LOG_WARNING,
		       "the id map lacked %zu numbers; adopted them from the "
		       "live snapshot (generation %" PRIu64 ") so that nobody "
		       "is renumbered",
		       adopted, r->live_meta.generation);
	return rc;
}

static void report_skipped(struct run *r)
{
	const struct skiplist *l = &r->skipped;
	struct buf b = {0};
	json_object *arr = json_object_new_array();
	json_object *by = json_object_new_object();
	size_t users = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct skip *s = &l->s[i];
		json_object *o = json_object_new_object();

		users += s->kind == SCIM_USERS;
		if (i < SKIP_SHOW)
			logmsg(LOG_WARNING, "skipped %s %s: %s (%s)",
			       s->kind == SCIM_USERS ? "person" : "group",
			       s->scim_id, s->detail,
			       skiplist_reason_name(s->reason));
		json_object_object_add(
		        o, "kind",
		        json_object_new_string(
		                s->kind == SCIM_USERS ? "person" : "group"));
		json_object_object_add(
		        o, "reason",
		        json_object_new_string(
		                skiplist_reason_name(s->reason)));
		json_object_object_add(o, "scim_id",
		                       json_object_new_string(s->scim_id));
		json_object_object_add(o, "detail",
		                       json_object_new_string(s->detail));
		json_object_array_add(arr, o);
	}
	for (int i = 0; i < SKIP_NREASONS; i++) {
		json_object_object_add(
		        by, skiplist_reason_name(i),
		        json_object_new_int64((int64_t)l->count[i]));
		if (l->count[i])
			buf_printf(&b, "%s%s %zu", b.len ? ", " : "",
			           skiplist_reason_name(i), l->count[i]);
	}
	if (l->n > SKIP_SHOW)
		logmsg(LOG_WARNING,
		       "... and %zu more skipped; see scim-cache "
		       "status",
		       l->n - SKIP_SHOW);
	if (l->n)
		logmsg(LOG_WARNING, "skipped %zu people and %zu groups (%s)",
		       users, l->n - users, b.data ? b.data : "");
	status_set_json(r->st, ST_SKIPPED, arr);
	status_set_json(r->st, ST_SKIPPED_BY_REASON, by);
	buf_free(&b, false);
}

/* The skipped entries of the status file, said again as report_skipped()
 * said them when they were found: the same bundle under the same rules
 * skips the same.  Returns how many there are. */
static size_t relog_skipped(struct run *r)
{
	json_object *arr = NULL, *by = NULL;
	struct buf b = {0};
	size_t n, users = 0;

	if (!status_get_json(r->st, ST_SKIPPED, &arr) || arr == NULL ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		const char *f[4] = {"", "", "", ""};
		static const char *const keys[4] = {"kind", "scim_id", "detail",
		                                    "reason"};

		for (size_t k = 0; k < 4; k++)
			if (json_object_object_get_ex(o, keys[k], &v))
				f[k] = json_object_get_string(v);
		users += strcmp(f[0], "person") == 0;
		if (i < SKIP_SHOW)
			logmsg(LOG_WARNING, "skipped %s %s: %s (%s)", f[0],
			       f[1], f[2], f[3]);
	}
	if (status_get_json(r->st, ST_SKIPPED_BY_REASON, &by) && by != NULL &&
	    json_object_is_type(by, json_type_object)) {
		json_object_object_foreach(by, key, val)
		{
			int64_t c = json_object_get_int64(val);

			if (c > 0)
				buf_printf(&b, "%s%s %" PRId64,
				           b.len ? ", " : "", key, c);
		}
	}
	if (n > SKIP_SHOW)
		logmsg(LOG_WARNING,
		       "... and %zu more skipped; see scim-cache "
		       "status",
		       n - SKIP_SHOW);
	if (n)
		logmsg(LOG_WARNING, "skipped %zu people and %zu groups (%s)",
		       users, n - users, b.data ? b.data : "");
	buf_free(&b, false);
	return n;
}

/* The mass-removal and empty-directory guards, for a result of PEOPLE. */
static int guards_of(struct run *r, size_t people, bool force)
{
	size_t before = live_people(r);
	size_t gone = r->diff.removed_uids;
	uint32_t pct = r->cfg.max_removed_percent;

	if (force)
		return 0;
	if (people == 0) {
		snprintf(r->err, sizeof(r->err),
		         "the %s lists no usable person%s",
		         r->cfg.mode == MODE_FLEET ? "bundle" : "bridge",
		         before ? ", which would remove everyone" : "");
		return -1;
	}
	if (before > 0 && gone * 100 > (size_t)pct * before) {
		snprintf(r->err, sizeof(r->err),
		         "it would remove %zu of %zu people (%zu%%), more than "
		         "max_removed_percent %u%%",
		         gone, before, gone * 100 / before, pct);
		return -1;
	}
	return 0;
}

static int guards(struct run *r, bool force)
{
	return guards_of(r, r->next.nusers, force);
}

/* What the snapshot says it came from: the bridge, or a fleet host's
 * bundle URL. */
static const char *run_source(const struct run *r)
{
	return r->cfg.mode == MODE_FLEET ? r->cfg.source : r->cfg.url;
}

/* Whether the live snapshot needs republishing although nothing in it
 * changed: its creation time must say when the directory was last
 * confirmed (RECONFIRM_AGE). */
static bool live_unconfirmed(const struct run *r)
{
	if (r->cfg.mode == MODE_FLEET)
		return r->dl.info.created > r->live_meta.created;
	return now_wall() - (double)r->live_meta.created >= RECONFIRM_AGE;
}

static bool unchanged(const struct run *r)
{
	return r->have_live && model_diff_empty(&r->diff) &&
	       r->live_meta.id_min == r->cfg.uid_min &&
	       r->live_meta.id_max == r->cfg.uid_max &&
	       strcmp(r->live_meta.source, run_source(r)) == 0 &&
	       !live_unconfirmed(r);
}

static void summary_of(struct run *r, const char *what, uint64_t gen,
                       size_t people, size_t active, size_t groups,
                       size_t skipped)
{
	const struct model_diff *d = &r->diff;

	logmsg(LOG_INFO,
	       "refresh %s: generation %" PRIu64 " in %.1fs: %zu people (%zu "
	       "active, %zu suspended), %zu groups; people +%zu -%zu ~%zu, "
	       "groups +%zu -%zu ~%zu; %zu skipped",
	       what, gen, now_mono() - r->t0, people, active, people - active,
	       groups, d->users_added, d->users_removed, d->users_changed,
	       d->groups_added, d->groups_removed, d->groups_changed, skipped);
}

static void summary(struct run *r, const char *what, uint64_t gen)
{
	size_t active = 0;

	for (size_t i = 0; i < r->next.nusers; i++)
		active += r->next.users[i].active;
	summary_of(r, what, gen, r->next.nusers, active, r->next.ngroups,
	           r->skipped.n);
}

static int print_dry_run(struct run *r)
{
	printf("dry run: %zu people, %zu groups would be published\n",
	       r->next.nusers, r->next.ngroups);
	model_diff(&r->live, &r->next, &r->diff, stdout);
	printf("people: +%zu -%zu ~%zu (renamed %zu, uid changes %zu); "
	       "groups: +%zu -%zu ~%zu\n",
	       r->diff.users_added, r->diff.users_removed,
	       r->diff.users_changed, r->diff.renames, r->diff.uid_changes,
	       r->diff.groups_added, r->diff.groups_removed,
	       r->diff.groups_changed);
	if (guards(r, false) < 0)
		printf("a real refresh would be refused: %s\n", r->err);
	return EXIT_OK;
}

/* A string of the status file, "" when it has none. */
static const char *status_str(const struct run *r, enum status_key key)
{
	const char *v = status_get_str(r->st, key);

	return v ? v : "";
}

static const char *digest_hex(uint64_t d, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, d);
	return out;
}

/* A fleet host whose manifest names the bundle it applied, and whose
 * snapshot stands (live_reusable): nothing of the bundle was read. */
static bool dl_same(const struct run *r)
{
	return r->dl.how != NULL && strcmp(r->dl.how, "same") == 0;
}

/* A fleet host: what the next run compares against, once the bundle is
 * accepted. */
static void remember_bundle(struct run *r)
{
	const struct bundle_info *b = &r->dl.info;
	char hex[17];

	status_set_int(r->st, ST_BUNDLE_GENERATION, (int64_t)b->generation);
	status_set_num(r->st, ST_BUNDLE_CREATED, (double)b->created);
	status_set_num(r->st, ST_BUNDLE_VALID_UNTIL, (double)b->valid_until);
	/* The same bundle: its digest, origin and bridge are the ones
	 * recorded when it was applied. */
	if (!dl_same(r)) {
		status_set_str(r->st, ST_BUNDLE_DIGEST,
		               digest_hex(b->digest, hex));
		status_set_str(r->st, ST_BUNDLE_ORIGIN, b->origin);
		status_set_str(r->st, ST_BUNDLE_BRIDGE, b->source);
	}
	status_set_str(r->st, ST_BUNDLE_KEY, b->keyid);
	status_set_int(r->st, ST_BUNDLE_BYTES, (int64_t)r->dl.bytes);
	status_set_str(r->st, ST_BUNDLE_ETAG, r->dl.got.etag);
	status_set_str(r->st, ST_BUNDLE_LAST_MODIFIED, r->dl.got.last_modified);
	status_set_str(r->st, ST_LOCAL_DIGEST,
	               digest_hex(r->local.digest, hex));
	fleet_remember(r->st, r->cfg.state_dir, &r->dl);
}

/* Once the id map is saved, the writer needs only r->next: what else the
 * run holds would only add to its peak memory. */
static void drop_all_but_next(struct run *r)
{
	idmap_free(&r->ids);
	model_free(&r->live);
	model_sum_free(&r->live_sum);
	model_free(&r->bundle);
	model_free(&r->dl.model);
	malloc_trim(0);
}

/* ---- fleet mode ------------------------------------------------------- */

/* A source host: signs r->bundle and replaces bundle_file, unless the
 * directory is the one already there and that bundle is recent. */
static int write_bundle(struct run *r)
{
	struct bundle_info info = {.id_min = r->cfg.uid_min,
	                           .id_max = r->cfg.uid_max};
	uint64_t prev = (uint64_t)status_get_int(r->st, ST_BUNDLE_GENERATION);
	double now = now_wall();
	enum fleet_published what = FLEET_KEPT;
	size_t ndeltas = 0;
	char hex[17], host[BUNDLE_TEXT_MAX] = "";
	int rc;

	info.generation = (uint64_t)now > prev ? (uint64_t)now : prev + 1;
	info.created = (int64_t)now;
	info.valid_until = info.created + (int64_t)r->cfg.bundle_valid;
	snprintf(info.source, sizeof(info.source), "%s", r->cfg.url);
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	for (char *p = host; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(info.origin, sizeof(info.origin), "%s", host);
	rc = run_parent_dirs(r->cfg.bundle_file, r->err, sizeof(r->err));
	if (rc == 0)
		rc = fleet_publish(&r->bundle, &r->cfg, &info,
		                   status_str(r, ST_BUNDLE_DIGEST),
		                   RECONFIRM_AGE, &what, &ndeltas, r->err,
		                   sizeof(r->err));
	if (rc < 0 || what == FLEET_KEPT)
		return rc;
	status_set_int(r->st, ST_BUNDLE_GENERATION, (int64_t)info.generation);
	status_set_num(r->st, ST_BUNDLE_CREATED, (double)info.created);
	status_set_num(r->st, ST_BUNDLE_VALID_UNTIL, (double)info.valid_until);
	status_set_str(r->st, ST_BUNDLE_DIGEST, digest_hex(info.digest, hex));
	status_set_str(r->st, ST_BUNDLE_ORIGIN, info.origin);
	status_set_str(r->st, ST_BUNDLE_KEY, info.keyid);
	logmsg(LOG_INFO,
	       "%s: generation %" PRIu64 ", %zu people, %zu "
	       "groups, %zu deltas, valid for %us, to %s",
	       what == FLEET_WRITTEN ? "bundle written" : "manifest re-signed",
	       info.generation, info.npeople, info.ngroups, ndeltas,
	       r->cfg.bundle_valid, r->cfg.bundle_file);
	return 0;
}

/* What a fleet host's snapshot is made from besides the bundle BUNDLE_SHA
 * (the SHA-256 the manifest names): the host's rules (its local files,
 * locks, range and reserved names), its source and the writer's version.
 * Their hash, recorded when a snapshot is published, tells a later run
 * whether the same bundle would make the same snapshot.  "" when out of
 * memory: it then matches nothing. */
static void fleet_basis(const struct run *r, const char *bundle_sha,
                        char out[SHA256_HEX])
{
	struct buf b = {0};

	buf_printf(&b,
	           "nss-scim %s\nbundle %s\nsource %s\nrange %" PRIu32
	           " %" PRIu32 "\nlocal %016" PRIx64 "\n",
	           PACKAGE_VERSION, bundle_sha, r->cfg.source, r->cfg.uid_min,
	           r->cfg.uid_max, r->local.digest);
	for (size_t i = 0; i < r->locks.n; i++)
		buf_printf(&b, "lock %s %s\n", r->locks.ids[i],
		           r->locks.names[i]);
	for (size_t i = 0; i < r->cfg.nreserved_names; i++)
		buf_printf(&b, "reserved %s\n", r->cfg.reserved_names[i]);
	if (b.err)
		out[0] = '\0';
	else
		delta_sha256_hex(b.data, b.len, out);
	buf_free(&b, false);
}

/* fleet_download's question when the manifest names the bundle this host
 * applied: can the live snapshot stand as it is?  Yes when it was made
 * from that bundle under the rules of now (the recorded basis) and is
 * still, byte for byte, the file then published (its recorded SHA-256).
 * It is then kept in r->live_bytes for fleet_republish(). */
static bool live_reusable(void *ud)
{
	struct run *r = ud;
	const char *want = status_str(r, ST_SNAPSHOT_SHA256);
	char basis[SHA256_HEX], got[SHA256_HEX];

	if (!r->have_live || r->live_meta.nusers == 0 || want[0] == '\0' ||
	    strcmp(r->live_meta.source, r->cfg.source) != 0 ||
	    r->live_meta.id_min != r->cfg.uid_min ||
	    r->live_meta.id_max != r->cfg.uid_max)
		return false;
	fleet_basis(r, status_str(r, ST_BUNDLE_SHA256), basis);
	if (basis[0] == '\0' ||
	    strcmp(basis, status_str(r, ST_SNAPSHOT_BASIS)) != 0)
		return false;
	unmap_file(r->live_bytes, r->live_len);
	r->live_bytes = NULL;
	/* Mapped, not read: the file is replaced only by rename, under the
	 * lock this run holds. */
	if (map_file(r->cfg.cache_path, SNAP_READ_MAX, &r->live_bytes,
	             &r->live_len) < 0)
		return false;
	delta_sha256_hex(r->live_bytes, r->live_len, got);
	if (strcmp(got, want) != 0) {
		unmap_file(r->live_bytes, r->live_len);
		r->live_bytes = NULL;
		return false;
	}
	return true;
}

/* fleet_download's question when a delta from the bundle this host
 * applied makes the manifest's: can the live snapshot be patched with the
 * records the delta changed?  Yes when it can stand for that bundle
 * (live_reusable()) and the host's rules left every entry of it as it
 * was: no lock and nothing skipped.  A run that prints the diff line by
 * line reads everything anyway. */
static bool live_patchable(void *ud)
{
	struct run *r = ud;
	json_object *skipped = NULL;

	if (r->want_full || r->locks.n > 0 ||
	    !status_get_json(r->st, ST_SKIPPED, &skipped) || skipped == NULL ||
	    !json_object_is_type(skipped, json_type_array) ||
	    json_object_array_length(skipped) != 0)
		return false;
	return live_reusable(ud);
}

/* A fleet host, once its snapshot is published from the bundle
 * r->dl.sha256: what live_reusable() and load_kept_sum() check next time,
 * and the snapshot's summary: SUM when not NULL, else from M (its model),
 * else the summary kept of the snapshot it republished.  DATA, when not
 * NULL, holds the LEN bytes published; else the file is read. */
static void remember_snapshot(struct run *r, const struct model *m,
                              const struct model_sum *sum, const char *data,
                              size_t len)
{
	char basis[SHA256_HEX] = "", sha[SHA256_HEX] = "", was[SHA256_HEX],
	     path[PATH_MAX];
	struct model_sum own = {0};
	bool ok = r->dl.manifest;

	snprintf(was, sizeof(was), "%s", status_str(r, ST_SNAPSHOT_SHA256));
	status_set_str(r->st, ST_SNAPSHOT_BASIS, NULL);
	status_set_str(r->st, ST_SNAPSHOT_SHA256, NULL);
	if (ok && data != NULL)
		delta_sha256_hex(data, len, sha);
	else if (ok)
		ok = delta_sha256_file(r->cfg.cache_path, sha) == 0;
	if (ok)
		fleet_basis(r, r->dl.sha256, basis);
	ok = ok && basis[0] &&
	     state_path(r->cfg.state_dir, STATE_SNAP_SUM, path) == 0;
	if (ok && sum == NULL) {
		ok = (m ? model_sum_of(m, &own)
		        : model_sum_load(path, was, &own)) == 0;
		sum = &own;
	}
	ok = ok && model_sum_save(path, sha, sum) == 0;
	model_sum_free(&own);
	/* Without its summary the snapshot is read whole next time, and
	 * rebuilt rather than republished: slower, never wrong. */
	if (ok) {
		status_set_str(r->st, ST_SNAPSHOT_BASIS, basis);
		status_set_str(r->st, ST_SNAPSHOT_SHA256, sha);
	}
}

/* The newest bundle generation this host has applied (0: none). */
static uint64_t held_generation(const struct run *r)
{
	int64_t g = status_get_int(r->st, ST_BUNDLE_GENERATION);

	if (g <= 0 && r->have_live &&
	    strcmp(r->live_meta.source, r->cfg.source) == 0)
		return r->live_meta.generation;
	return g > 0 ? (uint64_t)g : 0;
}

/* A fleet host: downloads and checks the bundle.  Returns 0 to go on with
 * r->dl, 1 when the bundle did not change (304; recorded), or -1 with the
 * reason in r->err. */
static int fleet_fetch(struct run *r, bool dry_run)
{
	struct http_validators cond = {0};
	struct fleet_held mine;
	uint64_t held;
	char hex[17];

	/* The meta record is enough to ask; the whole live snapshot is read
	 * only for a new bundle, so that a 304 costs next to nothing. */
	r->live_err =
	        model_read_meta(r->cfg.cache_path, geteuid(), &r->live_meta);
	r->have_live = r->live_err == 0;
	held = held_generation(r);
	mine = (struct fleet_held){
	        .generation = held,
	        .valid_until = status_get_num(r->st, ST_BUNDLE_VALID_UNTIL),
	        .digest = status_str(r, ST_BUNDLE_DIGEST),
	        .sha256 = status_str(r, ST_BUNDLE_SHA256),
	        /* A dry run prints what the bundle's directory makes. */
	        .reusable = dry_run ? NULL : live_reusable,
	        .patchable = dry_run ? NULL : live_patchable,
	        .ud = r};
	if (localdb_load(&r->local, r->cfg.local_passwd, r->cfg.local_group,
	                 r->err, sizeof(r->err)) < 0)
		return -1;
	/* Asked conditionally only while the local files and the range are
	 * the ones the snapshot was built with: a new local user must win
	 * now, not when the bundle next changes. */
	if (held > 0 && r->have_live &&
	    strcmp(r->live_meta.source, r->cfg.source) == 0 &&
	    r->live_meta.id_min == r->cfg.uid_min &&
	    r->live_meta.id_max == r->cfg.uid_max &&
	    strcmp(digest_hex(r->local.digest, hex),
	           status_str(r, ST_LOCAL_DIGEST)) == 0) {
		snprintf(cond.etag, sizeof(cond.etag), "%s",
		         status_str(r, ST_BUNDLE_ETAG));
		snprintf(cond.last_modified, sizeof(cond.last_modified), "%s",
		         status_str(r, ST_BUNDLE_LAST_MODIFIED));
	}
	if (http_open_public(&r->cfg, &r->http, r->err, sizeof(r->err)) < 0 ||
	    fleet_download(r->http, &r->cfg, &cond, &mine, &r->dl, r->err,
	                   sizeof(r->err)) < 0)
		return -1;
	if (r->dl.status == 304) {
		if (dry_run) {
			printf("dry run: bundle generation %" PRIu64 " is not "
			       "modified at the source; nothing would "
			       "change\n",
			       held);
			return 1;
		}
		logmsg(LOG_INFO,
		       "refresh unchanged: bundle generation %" PRIu64
		       " not modified at the source",
		       held);
		record(r, "unchanged", NULL);
		return 1;
	}
	if (!dl_same(r))
		load_live(r);
	return 0;
}

/* A fleet host whose manifest names the bundle its snapshot was made from,
 * under the same rules (dl_same): what a rebuild would publish is that
 * snapshot with the manifest's generation and time in its meta record,
 * so that is what is published, from the snapshot's own bytes; or nothing,
 * as a rebuild would find, when the manifest is not newer.  Messages and
 * status are a rebuild's.  Returns 0, or -1 with the reason in r->err. */
static int fleet_republish(struct run *r)
{
	const struct snap_meta *live = &r->live_meta;
	struct snap_meta m = *live;
	size_t skipped = relog_skipped(r);
	int rc;

	r->diff = (struct model_diff){0};
	if (r->dl.info.created <= live->created) {
		remember_bundle(r);
		if (save_ids(r, r->err, sizeof(r->err)) < 0)
			return -1;
		summary_of(r, "unchanged", live->generation, live->nusers,
		           live->nactive, live->ngroups, skipped);
		record(r, "unchanged", NULL);
		return 0;
	}
	/* As publish() numbers it. */
	m.generation = r->dl.info.generation >= live->generation
	                       ? r->dl.info.generation
	                       : run_next_generation(r);
	m.created = r->dl.info.created;
	snprintf(m.source, sizeof(m.source), "%s", run_source(r));
	rc = save_ids(r, r->err, sizeof(r->err));
	if (rc == 0)
		rc = snap_writer_republish(r->live_bytes, r->live_len, live, &m,
		                           r->cfg.cache_path, r->err,
		                           sizeof(r->err));
	/* Whatever stood in the way, the next run rebuilds. */
	if (rc < 0) {
		status_set_str(r->st, ST_SNAPSHOT_SHA256, NULL);
		return -1;
	}
	remember_bundle(r);
	remember_snapshot(r, NULL, NULL, r->live_bytes, r->live_len);
	status_set_str(r->st, ST_SNAPSHOT_MADE, "republished");
	status_set_int(r->st, ST_LAST_GENERATION, (int64_t)m.generation);
	run_nscd_invalidate();
	summary_of(r, "published", m.generation, live->nusers, live->nactive,
	           live->ngroups, skipped);
	record(r, "success", NULL);
	return 0;
}

/* The patch of r->dl, an EDITED download, for the writer: its strings
 * are the model's and the download's, and live as long as they do. */
static int patch_of(const struct run *r, struct snap_patch *p,
                    struct snap_user **users, struct snap_group **groups)
{
	const struct model *m = &r->dl.model;

	*users = calloc(m->nusers + 1, sizeof(**users));
	*groups = calloc(m->ngroups + 1, sizeof(**groups));
	if (*users == NULL || *groups == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->nusers; i++) {
		const struct model_user *u = &m->users[i];

		(*users)[i] = (struct snap_user){u->name,  u->uid,  u->gid,
		                                 u->gecos, u->home, u->shell,
		                                 u->active};
	}
	for (size_t i = 0; i < m->ngroups; i++) {
		const struct model_group *g = &m->groups[i];

		(*groups)[i] =
		        (struct snap_group){g->name, g->gid, g->nmembers,
		                            (const char *const *)g->members};
	}
	*p = (struct snap_patch){
	        .users_removed = (const char *const *)r->dl.gone_users,
	        .nusers_removed = r->dl.ngone_users,
	        .users_added = *users,
	        .nusers_added = m->nusers,
	        .groups_removed = (const char *const *)r->dl.gone_groups,
	        .ngroups_removed = r->dl.ngone_groups,
	        .groups_added = *groups,
	        .ngroups_added = m->ngroups};
	return 0;
}

/* A fleet host whose live snapshot was made from the delta's base, under
 * rules that left it whole (live_patchable): the new snapshot is that one
 * with the records the delta changed, written by the writer's patch,
 * which copies every other record as it is.  What it publishes, says and
 * records is what a rebuild from the whole bundle would.  Returns 0 when
 * published, 1 when this cannot tell (the caller then rebuilds from the
 * whole bundle, which says what is wrong, if anything), or minus the exit
 * code with the reason in r->err (refused by a guard, or the id map not
 * saved). */
static int fleet_patch(struct run *r, bool force)
{
	const struct bundle_info *b = &r->dl.info;
	struct fleet_rules rules = host_rules(r);
	struct snap_meta m = {.generation = b->generation,
	                      .created = b->created},
	                 now;
	struct snap_user *users = NULL;
	struct snap_group *groups = NULL;
	struct model_sum sum = {0};
	struct snap_patch p;
	char why[512];
	bool published = false;
	int rc = 1;

	if (!r->have_live || !fleet_rules_keep(&r->dl.model, &rules) ||
	    model_sum_patch(
	            &r->live_sum, (const char *const *)r->dl.gone_users,
	            r->dl.ngone_users, (const char *const *)r->dl.gone_groups,
	            r->dl.ngone_groups, &r->dl.model, &sum, &r->diff) < 0 ||
	    sum.nusers != b->npeople || sum.ngroups != b->ngroups ||
	    model_diff_empty(&r->diff))
		goto out;
	if (guards_of(r, sum.nusers, force) < 0) {
		rc = -EXIT_REFUSED;
		goto out;
	}
	/* As publish() numbers it: only a local lock can have put the live
	 * one ahead. */
	if (b->generation < r->live_meta.generation)
		m.generation = run_next_generation(r);
	snprintf(m.source, sizeof(m.source), "%s", run_source(r));
	if (save_ids(r, r->err, sizeof(r->err)) < 0) {
		rc = -EXIT_FAIL;
		goto out;
	}
	if (patch_of(r, &p, &users, &groups) < 0)
		snprintf(why, sizeof(why), "out of memory");
	else if (snap_writer_patch(r->live_bytes, r->live_len, &p, &m,
	                           r->cfg.cache_path, why, sizeof(why)) == 0)
		published = true;
	/* Published, the meta record says what the writer counted. */
	if (published &&
	    model_read_meta(r->cfg.cache_path, geteuid(), &now) < 0)
		snprintf(why, sizeof(why), "its meta record is unreadable");
	else if (published)
		rc = 0;
	if (rc != 0) {
		logmsg(LOG_INFO,
		       "patching the snapshot with the delta's changes failed "
		       "(%s); rebuilding it from the whole bundle",
		       why);
		goto out;
	}
	report_skipped(r);
	remember_bundle(r);
	remember_snapshot(r, NULL, &sum, NULL, 0);
	status_set_str(r->st, ST_SNAPSHOT_MADE, "patched");
	status_set_int(r->st, ST_LAST_GENERATION, (int64_t)now.generation);
	run_nscd_invalidate();
	summary_of(r, "published", now.generation, now.nusers, now.nactive,
	           now.ngroups, 0);
	record(r, "success", NULL);
out:
	free(users);
	free(groups);
	model_sum_free(&sum);
	return rc;
}

/* A fleet host: this host's rules over the bundle's directory. */
static int fleet_build(struct run *r)
{
	struct fleet_rules rules = host_rules(r);
	/* The local files were read by fleet_fetch(). */
	if (fleet_apply_local(&r->dl.model, &rules, true, &r->next,
	                      &r->skipped) < 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int publish(struct run *r)
{
	struct snap_meta m = {.generation = run_next_generation(r),
	                      .created = (int64_t)now_wall()};
	int rc;

	/* A fleet host's snapshot is the bundle's: same generation, and
	 * created when the source last listed the bridge. */
	if (r->cfg.mode == MODE_FLEET) {
		/* Only a local lock can have put the live one ahead. */
		if (r->dl.info.generation >= r->live_meta.generation ||
		    !r->have_live)
			m.generation = r->dl.info.generation;
		m.created = r->dl.info.created;
	}
	snprintf(m.source, sizeof(m.source), "%s", run_source(r));
	rc = save_ids(r, r->err, sizeof(r->err));
	if (rc == 0) {
		drop_all_but_next(r);
		rc = run_parent_dirs(r->cfg.cache_path, r->err, sizeof(r->err));
	}
	if (rc == 0)
		rc = model_publish(&r->next, r->cfg.uid_min, r->cfg.uid_max,
		                   r->cfg.cache_path, &m, r->err,
		                   sizeof(r->err));
	if (rc < 0)
		return rc;
	if (r->cfg.mode == MODE_FLEET) {
		remember_bundle(r);
		remember_snapshot(r, &r->next, NULL, NULL, 0);
		status_set_str(r->st, ST_SNAPSHOT_MADE, "rebuilt");
	}
	status_set_int(r->st, ST_LAST_GENERATION, (int64_t)m.generation);
	run_nscd_invalidate();
	summary(r, "published", m.generation);
	record(r, "success", NULL);
	return 0;
}

int refresh_run(struct run *r, bool dry_run, bool force)
{
	int rc;

	TESTPOINT("refresh-start");
	r->want_full = dry_run || (logs.tty && !logs.quiet);
	if (r->cfg.mode == MODE_FLEET) {
		rc = fleet_fetch(r, dry_run);
		if (rc != 0)
			return rc < 0 ? failed(r, EXIT_FAIL) : EXIT_OK;
		if (dl_same(r))
			return fleet_republish(r) < 0 ? failed(r, EXIT_FAIL)
			                              : EXIT_OK;
		rc = r->dl.edited ? fleet_patch(r, force) : 1;
		if (rc <= 0)
			return rc == 0 ? EXIT_OK : failed(r, -rc);
		r->diff = (struct model_diff){0};
		if (r->dl.edited &&
		    fleet_download_parse(&r->dl, r->err, sizeof(r->err)) < 0)
			return failed(r, EXIT_FAIL);
	} else {
		if (fetch(r) < 0)
			return failed(r, EXIT_FAIL);
		load_live(r);
	}
	if (!r->have_live && r->live_err != -ENOENT)
		logmsg(LOG_WARNING,
		       "the live snapshot %s is unusable (%s); "
		       "a new one replaces it",
		       r->cfg.cache_path, snap_strerror(r->live_err));
	rc = r->cfg.mode == MODE_FLEET ? fleet_build(r) : build(r);
	if (rc < 0)
		return failed(r, EXIT_FAIL);
	report_skipped(r);
	if (dry_run)
		return print_dry_run(r);
	if (r->live_full)
		model_diff(&r->live, &r->next, &r->diff,
		           r->want_full ? stderr : NULL);
	else if (model_sum_diff(&r->live_sum, &r->next, &r->diff) < 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return failed(r, EXIT_FAIL);
	}
	if (guards(r, force) < 0)
		return failed(r, EXIT_REFUSED);
	if (r->cfg.mode == MODE_SOURCE && write_bundle(r) < 0)
		return failed(r, EXIT_FAIL);
	if (unchanged(r)) {
		/* Accepted, so the next run compares against it. */
		if (r->cfg.mode == MODE_FLEET)
			remember_bundle(r);
		if (save_ids(r, r->err, sizeof(r->err)) < 0)
			return failed(r, EXIT_FAIL);
		summary(r, "unchanged", r->live_meta.generation);
		record(r, "unchanged", NULL);
		return EXIT_OK;
	}
	rc = publish(r);
	return rc < 0 ? failed(r, EXIT_FAIL) : EXIT_OK;
}
