/* SPDX-License-Identifier: MIT */
/* lockout.c: scim-cache lock and unlock (lockout.h). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lockout.h"
#include "log.h"

/* Republishes the live snapshot with NAME's active flag set to ACTIVE. */
static int republish(struct run *r, const char *name, bool active)
{
	struct model_user *u;
	struct snap_meta m;
	int rc;

	run_load_live_model(r);
	if (!r->have_live) {
		snprintf(r->err, sizeof(r->err), "no snapshot to update: %s",
		         snap_strerror(r->live_err));
		return -1;
	}
	u = model_find_user(&r->live, name);
	if (u == NULL || u->active == active)
		return 0;
	u->active = active;
	/* The creation time stays: nothing was confirmed with the bridge, so
	 * the snapshot's age (pam_scim's max_age) must not restart. */
	m = r->live_meta;
	m.generation = run_next_generation(r);
	rc = model_publish(&r->live, r->live_meta.id_min, r->live_meta.id_max,
	                   r->cfg.cache_path, &m, r->err, sizeof(r->err));
	if (rc < 0)
		return -1;
	status_set_int(r->st, ST_LAST_GENERATION, (int64_t)m.generation);
	status_save(r->cfg.state_dir, r->st);
	run_nscd_invalidate();
	logmsg(LOG_NOTICE, "published generation %" PRIu64 " with %s %s",
	       m.generation, name, active ? "active again" : "inactive");
	return 0;
}

/* Saves the locks file unless RC, the change to it, failed; says why not. */
static int save_locks(struct run *r, int rc, bool lock)
{
	if (rc == 0)
		rc = locks_save(r->cfg.state_dir, &r->locks);
	if (rc < 0)
		logmsg(LOG_ERR, "%s: cannot save %s/%s: %s",
		       lock ? "lock" : "unlock", r->cfg.state_dir,
		       STATE_LOCKOUTS, strerror(-rc));
	return rc;
}

/* A fleet host's lock and unlock.  Locking republishes at once; unlocking
 * waits for the next refresh, which alone knows whether the bundle has the
 * person active (it may be suspended there too). */
static int fleet_lock(struct run *r, const char *name, bool lock)
{
	const struct model_user *u;
	char key[sizeof(LOCK_UID_PREFIX) + 10];
	int rc;

	run_load_live_model(r);
	u = r->have_live ? model_find_user(&r->live, name) : NULL;
	if (lock && u == NULL) {
		logmsg(LOG_ERR, "lock: no person named %s in the snapshot",
		       name);
		return EXIT_FAIL;
	}
	/* Keyed by uid, which the bundle keeps across a rename; unlock also
	 * takes the name the lock was taken under. */
	if (u != NULL)
		snprintf(key, sizeof(key), LOCK_UID_PREFIX "%u", u->uid);
	if (!lock && locks_remove(&r->locks, u ? key : NULL, name) == 0) {
		logmsg(LOG_ERR, "unlock: %s is not locked", name);
		return EXIT_FAIL;
	}
	rc = lock ? locks_add(&r->locks, key, name) : 0;
	if (save_locks(r, rc, lock) < 0)
		return EXIT_FAIL;
	if (!lock) {
		/* The next refresh must rebuild even if the bundle is not
		 * modified. */
		status_set_str(r->st, ST_BUNDLE_ETAG, NULL);
		status_set_str(r->st, ST_BUNDLE_LAST_MODIFIED, NULL);
		status_save(r->cfg.state_dir, r->st);
		logmsg(LOG_NOTICE, "unlocked %s; the next refresh applies it",
		       name);
		return EXIT_OK;
	}
	logmsg(LOG_NOTICE, "locked %s", name);
	if (republish(r, name, false) < 0) {
		logmsg(LOG_ERR,
		       "lock recorded, but republishing failed: %s; the next "
		       "refresh applies it",
		       r->err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int lockout_set(struct run *r, const char *name, bool lock)
{
	struct idmap_entry *e =
	        r->cfg.mode == MODE_FLEET
	                ? NULL
	                : idmap_find_name(&r->ids, SCIM_USERS, name);
	int rc;

	/* A fleet host has no SCIM ids: it locks by uid. */
	if (r->cfg.mode == MODE_FLEET)
		return fleet_lock(r, name, lock);
	if (lock && e == NULL) {
		logmsg(LOG_ERR,
		       "lock: no person named %s in the directory "
		       "(as of the last refresh)",
		       name);
		return EXIT_FAIL;
	}
	if (lock)
		rc = locks_add(&r->locks, e->scim_id, name);
	else if (locks_remove(&r->locks, e ? e->scim_id : NULL, name) == 0) {
		logmsg(LOG_ERR, "unlock: %s is not locked", name);
		return EXIT_FAIL;
	} else
		rc = 0;
	if (save_locks(r, rc, lock) < 0)
		return EXIT_FAIL;
	logmsg(LOG_NOTICE, "%s %s", lock ? "locked" : "unlocked", name);
	if (republish(r, name, lock ? false : (e ? e->active : true)) < 0) {
		char k[PATH_MAX + 64];

		run_kept(r, k, sizeof(k));
		logmsg(LOG_ERR,
		       "%s recorded, but republishing failed: %s; %s; "
		       "the next refresh applies it",
		       lock ? "lock" : "unlock", r->err, k);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
