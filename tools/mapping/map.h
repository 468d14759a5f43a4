/* SPDX-License-Identifier: MIT */
/*
 * map.h: SCIM Users and Groups to POSIX users and groups, under the
 * config's rules, the local files and the sticky id map.  Everything that
 * is left out and why goes into a skip list (skiplist.h).
 */
#ifndef SCIM_MAP_H
#define SCIM_MAP_H

#include <stddef.h>

#include "conf.h"
#include "idmap.h"
#include "local.h"
#include "model.h"
#include "people.h"
#include "scim.h"
#include "skiplist.h"
#include "table.h"
#include "util.h"

/* What a mapping tells besides what it skipped: the people published
 * suspended because their "active" was neither true nor false, or was
 * missing while the bridge sent it for others (a suspension flag that
 * cannot be read is not read as "yes"). */
struct map_notes {
	size_t unclear_active;
	char unclear_id[SCIM_ID_MAX + 1]; /* the first of them, printable */
};

/* The inputs of one mapping. */
struct map_input {
	const struct scim_config *cfg;
	const struct scim_res *users;
	size_t nusers;
	const struct people *people; /* if not NULL, the users instead */
	const struct scim_res *groups;
	size_t ngroups;
	const struct localdb *local;
	const struct strmap *locked; /* SCIM ids of locked people */
	/* The live snapshot, or NULL.  A person or group that has no number
	 * in IDS but whose name the snapshot holds, with a number in range
	 * that IDS does not know, keeps that number: so a lost or reset id
	 * map is rebuilt without renumbering anyone. */
	const struct model *seed;
	size_t *adopted; /* if not NULL: how many numbers were adopted */
	struct map_notes *notes; /* if not NULL: filled */
	/* If not NULL, called once nothing more is read of USERS (their
	 * count aside), so that the caller can free them: the directory's
	 * people are the largest thing held while the model is built. */
	void (*release_users)(void *ud);
	/* The same for GROUPS, once the groups are mapped. */
	void (*release_groups)(void *ud);
	void *release_ud;
};

/* Builds OUT (sorted) from IN, giving numbers through IDS (updated: new
 * entries, names, live/gone).  Returns 0, or a negative errno with a
 * one-line reason in ERR (-ENOSPC: id range full; -ENOENT: primary_group
 * not found; -ENOMEM).  On failure OUT and SKIPPED hold nothing to free,
 * but IDS may have gained entries: discard it. */
int map_build(const struct map_input *in, struct idmap *ids, struct model *out,
              struct skiplist *skipped, char *err, size_t errlen);

/* The login name rule alone: writes the lowercased name (not yet
 * validated, nor folded: see map_login_fold) to NAME and the lowercased
 * domain (or "") to DOMAIN.  Returns 0, or -EINVAL when USERNAME gives
 * nothing (empty, or no local part). */
int map_login_name(enum username_rule rule, const char *username, char *name,
                   size_t namelen, char *domain, size_t domainlen);

/* The group name rule alone: DISPLAY without surrounding blanks, folded
 * to ASCII (names.h), lowercased, spaces to '-', ASCII punctuation other
 * than [._-] dropped.  Returns 0, or names_fold()'s error (-EDOM with the
 * offending character in *BAD, -EILSEQ, -ENAMETOOLONG).  The result is not
 * validated. */
int map_group_name(const char *display, char *name, size_t namelen,
                   uint32_t *bad);

/* Expands a home or gecos template for one person (see conf.h) into OUT;
 * returns false when the result is too long.  Gecos values are cleaned
 * by names_clean_text(). */
bool map_expand(const char *tmpl, const struct scim_res *u, const char *name,
                uint32_t uid, bool gecos, char *out, size_t outlen);

#endif
