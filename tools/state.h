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
 *
 * Every file is replaced atomically (write_file_atomic).
 */
#ifndef SCIM_STATE_H
#define SCIM_STATE_H

#include <json-c/json.h>
#include <stddef.h>

#define STATE_IDS        "ids"
#define STATE_STATUS     "status.json"
#define STATE_LOCKS      "locks"
#define STATE_LOCK       "lock"
#define STATE_FLEET_BASE "fleet-base"
#define STATE_FLEET_NEXT "fleet-base.next"
#define STATE_FLEET_HIST "fleet-history"
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

/* The status object (new and empty when the file is missing or damaged;
 * *DAMAGED then tells which).  NULL only when out of memory. */
json_object *status_load(const char *dir, bool *damaged);
int status_save(const char *dir, json_object *st);

/* Status helpers; each ignores allocation failures (the status is
 * informative only). */
void status_set_str(json_object *st, const char *key, const char *v);
void status_set_num(json_object *st, const char *key, double v);
void status_set_int(json_object *st, const char *key, int64_t v);
/* Adds N to the counter ST[GROUP][KEY]. */
void status_count(json_object *st, const char *group, const char *key,
                  int64_t n);
int64_t status_get_int(json_object *st, const char *key);
double status_get_num(json_object *st, const char *key);
const char *status_get_str(json_object *st, const char *key);

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
