/* SPDX-License-Identifier: MIT */
/*
 * state.h: scim-cache's state directory (root-only: 0700, files 0600).
 *
 *   ids          the sticky id map (idmap.h)
 *   status.json  the last attempt, success, error, skipped entries and
 *                cumulative counters (for status and metrics)
 *   locks        people locked out locally: "KEY NAME" lines, where KEY
 *                survives a rename: the person's SCIM id on a host that
 *                lists the bridge, "uid:NUMBER" on a fleet host (a bundle
 *                carries no SCIM ids, and its numbers never change);
 *                NAME is the name when the lock was taken
 *   lock         flock(2)ed by the one refresh (or lock/unlock) running
 *   fleet-base   a fleet host: the bundle it applied last, the base for
 *                the next delta (fleet.h); fleet-base.next the one being
 *                applied, renamed over it once published
 *   fleet-history/  a source host: its recent bundles, to make deltas from
 *   snapshot-sum a fleet host: the summary of the snapshot it published
 *                (model_sum_save), what the next refresh compares with
 *                instead of reading the snapshot whole; status.json's
 *                snapshot_sha256 names that snapshot, and
 *                snapshot_basis what it was made from (refresh.c)
 *
 * Every file is replaced atomically (write_file_atomic).
 */
#ifndef SCIM_STATE_H
#define SCIM_STATE_H

#include <json-c/json.h>
#include <stddef.h>

#define STATE_IDS        "ids"
#define STATE_STATUS     "status.json"
#define STATE_LOCKOUTS   "locks" /* people locked out (lock, unlock) */
#define STATE_FLOCK      "lock"  /* flock(2)ed: one run at a time */
#define STATE_FLEET_BASE "fleet-base"
#define STATE_FLEET_NEXT "fleet-base.next"
#define STATE_FLEET_HIST "fleet-history"
#define STATE_SNAP_SUM   "snapshot-sum"
#define STATE_STATUS_MAX (64u << 20)

/* Joins DIR and NAME into OUT (PATH_MAX bytes). */
int state_path(const char *dir, const char *name, char *out);

/* Creates DIR (mode 0700) when missing; then checks that it is a directory
 * owned by the caller with no group or other permission bits.  Returns 0 or
 * a negative errno with the reason in ERR. */
int state_prepare(const char *dir, char *err, size_t errlen);

/* Takes the refresh lock, waiting up to WAIT seconds.  Returns the locked
 * fd (close it to release), -EWOULDBLOCK when another run holds it, or
 * another negative errno. */
int state_lock(const char *dir, unsigned wait);

/* Removes temporary files that a killed run left in DIR (NAME.tmp.XXXXXX
 * of the files above).  Call with the lock held. */
void state_sweep(const char *dir);

/* The keys of status.json: X(ID, "name") gives the constant ST_ID for the
 * key "name".  Code names a key by its constant only, so that a mistyped
 * key does not compile.  The order here is of no consequence: the file
 * keeps its keys in the order they were first set, and keys it holds that
 * are not listed here are kept as they are. */
#define STATUS_KEYS(X)                                                         \
	X(LAST_ATTEMPT, "last_attempt")                                        \
	X(LAST_RESULT, "last_result")                                          \
	X(LAST_DURATION, "last_duration_seconds")                              \
	X(LAST_ERROR, "last_error")                                            \
	X(LAST_SUCCESS, "last_success")                                        \
	X(LAST_GENERATION, "last_generation")                                  \
	X(REFRESHES_TOTAL, "refreshes_total")                                  \
	X(HTTP_REQUESTS_TOTAL, "http_requests_total")                          \
	X(HTTP_ERRORS_TOTAL, "http_errors_total")                              \
	X(SKIPPED, "skipped")                                                  \
	X(SKIPPED_BY_REASON, "skipped_by_reason")                              \
	X(BUNDLE_GENERATION, "bundle_generation")                              \
	X(BUNDLE_CREATED, "bundle_created")                                    \
	X(BUNDLE_VALID_UNTIL, "bundle_valid_until")                            \
	X(BUNDLE_DIGEST, "bundle_digest")                                      \
	X(BUNDLE_ORIGIN, "bundle_origin")                                      \
	X(BUNDLE_BRIDGE, "bundle_bridge")                                      \
	X(BUNDLE_KEY, "bundle_key")                                            \
	X(BUNDLE_BYTES, "bundle_bytes")                                        \
	X(BUNDLE_ETAG, "bundle_etag")                                          \
	X(BUNDLE_LAST_MODIFIED, "bundle_last_modified")                        \
	X(BUNDLE_SHA256, "bundle_sha256")                                      \
	X(LOCAL_DIGEST, "local_digest")                                        \
	X(SNAPSHOT_BASIS, "snapshot_basis")                                    \
	X(SNAPSHOT_SHA256, "snapshot_sha256")                                  \
	X(SNAPSHOT_MADE, "snapshot_made")

enum status_key {
#define STATUS_KEY_ENUM(id, name) ST_##id,
	STATUS_KEYS(STATUS_KEY_ENUM)
#undef STATUS_KEY_ENUM
	        ST_NKEYS
};

/* The status file's contents: the last attempt, success, error, skipped
 * entries, cumulative counters and the fleet's last bundle.  Held as the
 * JSON it is saved as, so that a save rewrites what it loaded byte for
 * byte apart from the values set. */
struct status {
	json_object *o;
};

/* The key's name in the file and in status --json. */
const char *status_key_name(enum status_key k);

/* A new, empty status; NULL when out of memory. */
struct status *status_new(void);

/* The status of DIR (new and empty when the file is missing or damaged;
 * *DAMAGED then tells which).  NULL only when out of memory. */
struct status *status_load(const char *dir, bool *damaged);
int status_save(const char *dir, const struct status *st);
void status_free(struct status *st);

/* Setters; each ignores allocation failures (the status is informative
 * only).  A NULL string is saved as null. */
void status_set_str(struct status *st, enum status_key k, const char *v);
void status_set_num(struct status *st, enum status_key k, double v);
void status_set_int(struct status *st, enum status_key k, int64_t v);
/* Sets K to V, which it takes over (the skipped lists). */
void status_set_json(struct status *st, enum status_key k, json_object *v);
/* Adds N to the counter ST[GROUP][KEY]. */
void status_count(struct status *st, enum status_key group, const char *key,
                  int64_t n);

/* Getters: 0 or NULL when the key is missing or of another type. */
int64_t status_get_int(const struct status *st, enum status_key k);
double status_get_num(const struct status *st, enum status_key k);
const char *status_get_str(const struct status *st, enum status_key k);
/* True with *V (borrowed; may be NULL for null) when the file has K. */
bool status_get_json(const struct status *st, enum status_key k,
                     json_object **v);

/* The KEY of a fleet host's lock: this, then the uid in decimal. */
#define LOCK_UID_PREFIX "uid:"

struct locks {
	char **ids, **names;
	size_t n;
};

/* A missing file gives no locks.  Returns 0 or a negative errno. */
int locks_load(const char *dir, struct locks *l);
int locks_save(const char *dir, const struct locks *l);
/* Adds (ID, NAME) unless ID is there; returns 0 or -ENOMEM. */
int locks_add(struct locks *l, const char *id, const char *name);
/* Removes every lock on ID or named NAME; returns how many went. */
size_t locks_remove(struct locks *l, const char *id, const char *name);
void locks_free(struct locks *l);

#endif
