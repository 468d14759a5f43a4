/* SPDX-License-Identifier: MIT */
/*
 * model.h: the POSIX view of a directory (what a snapshot holds), in
 * memory: built by mapping (map.h) or read back from a live snapshot, then
 * compared, printed as a diff, and published through the snapshot writer.
 */
#ifndef SCIM_MODEL_H
#define SCIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "snap.h"

struct model_user {
	char *name;
	uint32_t uid, gid;
	char *gecos, *home, *shell;
	bool active;
	char *scim_id; /* NULL when read from a snapshot */
};

struct model_group {
	char *name;
	uint32_t gid;
	char **members; /* sorted, unique */
	size_t nmembers;
	char *scim_id; /* NULL for private groups and snapshots */
};

/* Users and groups, each sorted by name once model_sort() ran.  Their
 * strings and member arrays live in the model's own chunks: they stay put
 * until model_free() and must not be freed or replaced one by one. */
struct model {
	struct model_user *users;
	size_t nusers, users_cap;
	struct model_group *groups;
	size_t ngroups, groups_cap;
	struct arena chunks; /* private */
	char **names;        /* private: names interned, by hash */
	size_t names_cap, names_n;
};

/* Append copies; return 0 or -ENOMEM. */
int model_add_user(struct model *m, const struct model_user *u);
int model_add_group(struct model *m, const char *name, uint32_t gid,
                    const char *const *members, size_t nmembers,
                    const char *scim_id);

/* A copy of the LEN bytes at S that lives as long as M; NULL when out of
 * memory.  For model_add_user_kept. */
char *model_keep(struct model *m, const char *s, size_t len);
/* model_add_user, with gecos, home and scim_id already M's own (from
 * model_keep): they are taken as they are, not copied; the name is copied
 * but not interned. */
int model_add_user_kept(struct model *m, const struct model_user *u);
/* model_add_group, with NAME and MEMBERS M's own strings (a user's name as
 * M holds it, or from model_keep): they are taken as they are, without a
 * lookup. */
int model_add_group_of_users(struct model *m, const char *name, uint32_t gid,
                             const char *const *members, size_t nmembers,
                             const char *scim_id);
/* Room for USERS users and GROUPS groups in all, so that a model whose
 * size is known does not grow by doubling.  Returns 0 or -ENOMEM. */
int model_reserve(struct model *m, size_t users, size_t groups);
/* Sorts users and groups by name, and each group's members. */
void model_sort(struct model *m);

/* Looks NAME up (after model_sort); NULL when absent. */
struct model_user *model_find_user(const struct model *m, const char *name);
struct model_group *model_find_group(const struct model *m, const char *name);

/* Reads the snapshot at PATH, which must belong to OWNER, into a sorted
 * model and its meta.  Returns 0, -ENOENT when there is no snapshot, or
 * another negative errno (see snap_strerror). */
int model_load_snapshot(const char *path, uid_t owner, struct model *m,
                        struct snap_meta *meta);

/* Only the meta record of the snapshot at PATH (owned by OWNER).  Returns
 * 0, -ENOENT or another negative errno (see snap_strerror). */
int model_read_meta(const char *path, uid_t owner, struct snap_meta *meta);

/* Publishes M at PATH with META's generation, created and source, over
 * [ID_MIN, ID_MAX].  Returns 0 or a negative errno with the reason in ERR;
 * on failure PATH is untouched. */
int model_publish(const struct model *m, uint32_t id_min, uint32_t id_max,
                  const char *path, const struct snap_meta *meta, char *err,
                  size_t errlen);

/* What changed from OLD to NEW. */
struct model_diff {
	size_t users_added, users_removed, users_changed;
	size_t groups_added, groups_removed, groups_changed;
	size_t uid_changes;  /* same name, other uid: should never happen */
	size_t renames;      /* same uid, other name */
	size_t removed_uids; /* OLD uids absent from NEW */
};

/* Compares; when OUT is not NULL, writes one line per change to it. */
void model_diff(const struct model *old, const struct model *new,
                struct model_diff *d, FILE *out);

/* What a refresh keeps of the live snapshot to compare with: for each
 * user and group a 64-bit hash of its name and of the rest of its entry
 * (members included), and its number; sorted by name hash.  A few MB where
 * the snapshot's model is tens. */
struct model_sum {
	struct model_sum_entry {
		uint64_t name, entry;
		uint32_t id;
	} * users, *groups;
	size_t nusers, ngroups;
};

/* The summary of the snapshot at PATH (owned by OWNER) and its meta.
 * Returns 0, -ENOENT or another negative errno (see snap_strerror). */
int model_sum_snapshot(const char *path, uid_t owner, struct model_sum *s,
                       struct snap_meta *meta);

/* model_diff's counts from a summary, without the lines.  Returns 0 or
 * -ENOMEM. */
int model_sum_diff(const struct model_sum *old, const struct model *new,
                   struct model_diff *d);

void model_sum_free(struct model_sum *s);

/* The summary of the snapshot OLD summarises once the users and groups
 * named GONE_* are removed and ADD's are added (an entry that changes is
 * in both), into OUT; and into D the counts model_sum_diff() gives for
 * the model of that snapshot.  Returns 0, -ENOENT when a gone name is not
 * in OLD, -EEXIST when an added one stays there, or -ENOMEM. */
int model_sum_patch(const struct model_sum *old, const char *const *gone_users,
                    size_t ngone_users, const char *const *gone_groups,
                    size_t ngone_groups, const struct model *add,
                    struct model_sum *out, struct model_diff *d);

/* The summary of M itself: what model_sum_snapshot() gives for the
 * snapshot model_publish() makes of M.  Returns 0 or -ENOMEM. */
int model_sum_of(const struct model *m, struct model_sum *s);

/* S saved at PATH (atomically, mode 0600) under TAG, a line of text that
 * names what it summarises (a fleet host: the snapshot file's SHA-256);
 * model_sum_load() gives it back only under the same TAG, so that a
 * summary is never taken for another snapshot's.  Return 0 or a negative
 * errno; a load that finds another TAG, or a damaged file, gives
 * -ESTALE or -EBADMSG. */
int model_sum_save(const char *path, const char *tag,
                   const struct model_sum *s);
int model_sum_load(const char *path, const char *tag, struct model_sum *s);

/* Whether A and B are the same entry but for their names: every field of
 * a user, or a group's gid and members (both sorted). */
bool model_user_same(const struct model_user *a, const struct model_user *b);
bool model_group_same(const struct model_group *a, const struct model_group *b);

/* True when the diff shows no change at all. */
bool model_diff_empty(const struct model_diff *d);

void model_free(struct model *m);

#endif
