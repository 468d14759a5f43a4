/* SPDX-License-Identifier: MIT */
/*
 * snap.h: the nss-scim snapshot, one read-only LMDB file.
 *
 * A snapshot is written once by scim-cache (the writer) and never modified
 * afterwards; a newer one is renamed over it.  The NSS and PAM modules read it
 * through a reader, which keeps it open, copies the parts it reads into
 * private memory (never a mapping of the file, so that a file truncated in
 * place gives errors, not SIGBUS) and notices replacement, changes in place
 * and fork.
 *
 * Nothing in cache/ logs, exits, installs signal handlers or touches the
 * network: the reader runs inside every process on the host.
 *
 * Threads and fork:
 *  - A reader may be used by any number of threads at once.  Each thread
 *    keeps its own reference to the snapshot it last read, so a lookup
 *    takes no lock and writes no shared memory; the reader's own lock is
 *    taken only to open a replaced snapshot.  A thread's reference is let
 *    go when the thread exits, and a cancelled lookup leaves no lock held.
 *  - fork() may come at any time, from any thread: every reader's lock is
 *    held across it (pthread_atfork), and in the child the handles
 *    inherited from the parent are dropped unused and the snapshot is
 *    opened afresh on the next lookup.
 *  - snap_reader_free() and unloading the module (libpam dlcloses it)
 *    need no lookup on that reader running.
 *  - A writer belongs to one thread.  Publishes of one path must not run
 *    at once: scim-cache holds its state directory's lock around them.
 *
 * Return convention for every lookup function below:
 *    0          found; outputs written
 *    SNAP_NONE  (positive) no such entry, or the end of an enumeration;
 *               outputs untouched
 *   -ERANGE     the caller's buffer is too small; outputs untouched and any
 *               cursor not advanced
 *   other < 0   the snapshot is unavailable (missing, untrusted, damaged,
 *               unknown version); the value is a negative errno
 */
#ifndef NSS_SCIM_SNAP_H
#define NSS_SCIM_SNAP_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SNAP_NONE 1

#define SNAP_FORMAT_VERSION 1
#define SNAP_NAME_MAX       32   /* bytes in a user or group name */
#define SNAP_FIELD_MAX      1024 /* bytes in gecos, home or shell */
#define SNAP_SOURCE_MAX     256  /* bytes in the meta record's source */
#define SNAP_MEMBERS_MAX    1000000
#define SNAP_ID_LIMIT       0x7fffffffu /* ids stay below 2^31 */

/* How often, at most, a thread checks that its snapshot is still the live
 * one.  The writer waits longer than this after publishing, so that a lookup
 * started after snap_writer_publish() returned sees the new snapshot. */
#define SNAP_RECHECK_MS 1

/* Where NSS and PAM look unless NSS_SCIM_CACHE overrides it (only honoured
 * when the process is not setuid or setgid; see secure_getenv(3)). */
#ifndef SNAP_DEFAULT_PATH
#define SNAP_DEFAULT_PATH "/var/lib/nss-scim/cache.mdb"
#endif
#define SNAP_PATH_ENV "NSS_SCIM_CACHE"

/* What a snapshot says about itself. */
struct snap_meta {
	uint32_t version;    /* SNAP_FORMAT_VERSION */
	uint64_t generation; /* grows by one with every publish */
	int64_t created;     /* seconds since the epoch */
	uint32_t id_min;     /* every uid and gid lies in [id_min, id_max] */
	uint32_t id_max;
	uint32_t nusers;
	uint32_t nactive;
	uint32_t ngroups;
	char source[SNAP_SOURCE_MAX]; /* NUL-terminated, e.g. the bridge URL */
};

/* A person as the writer takes it.  Strings are NUL-terminated and are
 * copied by snap_writer_add_user(). */
struct snap_user {
	const char *name;
	uint32_t uid;
	uint32_t gid;
	const char *gecos;
	const char *home;
	const char *shell;
	bool active;
};

/* A group as the writer takes it; members are user names that must also be
 * added as users.  Copied by snap_writer_add_group(). */
struct snap_group {
	const char *name;
	uint32_t gid;
	size_t nmembers;
	const char *const *members;
};

/* What PAM needs to know about one person. */
struct snap_account {
	uint32_t uid;
	uint32_t gid;
	bool active;
	int64_t snapshot_created;
	uint64_t snapshot_generation;
};

/* ---- validation (validate.c) ------------------------------------------ */

/* True when NAME (LEN bytes, need not be NUL-terminated) may be emitted as a
 * user or group name: 1..SNAP_NAME_MAX bytes of [A-Za-z0-9._-], not starting
 * with '-', not all digits, not "." or "..". */
bool snap_name_valid(const char *name, size_t len);

/* True when a gecos, home or shell value of LEN bytes may be emitted: at most
 * SNAP_FIELD_MAX bytes, no ':', no control character (newline included). */
bool snap_field_valid(const char *s, size_t len);

/* True for free text such as the meta record's source: at most
 * SNAP_SOURCE_MAX - 1 bytes, no control character. */
bool snap_text_valid(const char *s, size_t len);

/* True for an id that may be emitted within [id_min, id_max]: never 0. */
bool snap_id_valid(uint32_t id, uint32_t id_min, uint32_t id_max);

/* ---- writer (writer.c) ------------------------------------------------ */

struct snap_writer;

/* Starts an empty snapshot whose ids must lie in [id_min, id_max].
 * Returns 0, -EINVAL for a bad range, or -ENOMEM. */
int snap_writer_new(uint32_t id_min, uint32_t id_max, struct snap_writer **out);

/* The same, but snap_writer_add_user() and snap_writer_add_group() keep the
 * caller's strings and member arrays instead of copying them: they must
 * stay valid and unchanged until snap_writer_free().  For a caller that
 * holds the whole directory already (scim-cache's model). */
int snap_writer_new_borrowing(uint32_t id_min, uint32_t id_max,
                              struct snap_writer **out);

/* Room for USERS users and GROUPS groups in all, when the caller knows
 * them: the arrays are then sized once instead of grown by doubling.
 * Returns 0 or -ENOMEM. */
int snap_writer_reserve(struct snap_writer *w, size_t users, size_t groups);

/* Adds U, or G (a copy unless the writer borrows).  Returns 0, or -EINVAL with
 * a one-line reason in ERR (invalid name, field or id, or a duplicate name or
 * id), or -ENOMEM. A refused record leaves the writer as it was. */
int snap_writer_add_user(struct snap_writer *w, const struct snap_user *u,
                         char *err, size_t errlen);
int snap_writer_add_group(struct snap_writer *w, const struct snap_group *g,
                          char *err, size_t errlen);

/* Writes everything added into a new file beside PATH, verifies it by reading
 * it back, makes it mode 0644, fsyncs it, renames it over PATH and fsyncs the
 * directory.  META supplies generation, created and source; the counts and
 * id range are the writer's.  Publishes of one PATH must not run at once
 * (scim-cache holds a lock); files a killed publish left beside PATH are
 * removed.  On any failure PATH is untouched, the new file
 * is removed, ERR says why and a negative errno is returned. */
int snap_writer_publish(struct snap_writer *w, const char *path,
                        const struct snap_meta *meta, char *err, size_t errlen);

/* Frees W; NULL is fine. */
void snap_writer_free(struct snap_writer *w);

/* ---- reader (reader.c) ------------------------------------------------ */

struct snap_reader;

/* The process-wide reader used by the NSS and PAM modules: the path is
 * NSS_SCIM_CACHE (via secure_getenv, read when the library is loaded) or
 * SNAP_DEFAULT_PATH, and the snapshot and its directories must belong to
 * root.  It copies what it reads (see snap_reader_new_copying()).  Never
 * NULL. */
struct snap_reader *snap_reader_default(void);

/* A private reader of PATH whose snapshot must belong to OWNER (root in
 * production; tests and the writer's verification use their own uid).
 * Opens nothing yet.  Returns 0 or -ENOMEM.  It maps the snapshot: meant
 * for scim-cache, whose reads of many windows share the page cache; a file
 * truncated under it raises SIGBUS in that tool. */
int snap_reader_new(const char *path, uid_t owner, struct snap_reader **out);

/* The same, but the reader never maps the file: it copies the parts it
 * reads with pread(), as the default reader does, so that a file truncated
 * in place gives errors, never SIGBUS.  For readers inside processes that
 * are not nss-scim's own. */
int snap_reader_new_copying(const char *path, uid_t owner,
                            struct snap_reader **out);

/* Frees R and unmaps its snapshot; NULL is fine.  No lookup on R may be
 * running. */
void snap_reader_free(struct snap_reader *r);

/* Lookups.  Strings go into BUF; on success *PW or *GR points into BUF only
 * (never into the map). */
int snap_getpwnam(struct snap_reader *r, const char *name, struct passwd *pw,
                  char *buf, size_t buflen);
int snap_getpwuid(struct snap_reader *r, uid_t uid, struct passwd *pw,
                  char *buf, size_t buflen);
int snap_getgrnam(struct snap_reader *r, const char *name, struct group *gr,
                  char *buf, size_t buflen);
int snap_getgrgid(struct snap_reader *r, gid_t gid, struct group *gr, char *buf,
                  size_t buflen);

/* Enumeration in id order.  A cursor is plain data: zero it to start over.
 * It is advanced only when an entry is returned, so a short buffer (-ERANGE)
 * returns the same entry again on the next call. */
struct snap_cursor {
	uint64_t next;  /* next id to look at; > UINT32_MAX at the end */
	uint32_t index; /* where that id was last found: a hint only */
};
int snap_getpwent(struct snap_reader *r, struct snap_cursor *c,
                  struct passwd *pw, char *buf, size_t buflen);
int snap_getgrent(struct snap_reader *r, struct snap_cursor *c,
                  struct group *gr, char *buf, size_t buflen);

/* glibc's initgroups_dyn contract: appends to (*groupsp)[*start...] the gids
 * of USER's groups other than SKIP and those already listed, growing the
 * array with realloc up to LIMIT entries (LIMIT <= 0: no limit).  Returns 0,
 * SNAP_NONE when USER has no groups here, -ENOMEM, or unavailable. */
int snap_initgroups(struct snap_reader *r, const char *user, gid_t skip,
                    long int *start, long int *size, gid_t **groupsp,
                    long int limit);

/* The account state of USER, for PAM. */
int snap_get_account(struct snap_reader *r, const char *user,
                     struct snap_account *out);

/* 0 when USER belongs to the group named GROUP (as a member, or through its
 * primary gid), SNAP_NONE when not or when either is unknown. */
int snap_user_in_group(struct snap_reader *r, const char *user,
                       const char *group);

/* The snapshot's meta record. */
int snap_get_meta(struct snap_reader *r, struct snap_meta *out);

/* A short English text for a negative errno returned above, worded for the
 * snapshot ("snapshot is not owned by root", ...).  Never NULL. */
const char *snap_strerror(int err);

/* ---- republishing (writer.c) ------------------------------------------ */

/* Publishes at PATH the snapshot whose LEN bytes are at LIVE, a file the
 * writer made whose meta record is WAS, with only that record's generation
 * and created taken from META (whose source must be WAS's): the very bytes
 * a publish of the same entries with those would write, for a fraction of
 * its work.  The caller vouches for LIVE's entries (it checked that they
 * are the ones it published); the meta record found must be WAS, byte for
 * byte, and is read back.  Publishing is atomic as in
 * snap_writer_publish(): on any failure PATH is untouched, ERR says why and
 * a negative errno is returned.  On success LIVE holds the bytes
 * published; on failure, what it holds is of no use. */
int snap_writer_republish(void *live, size_t len, const struct snap_meta *was,
                          const struct snap_meta *meta, const char *path,
                          char *err, size_t errlen);

/* ---- patching (patch.c) ----------------------------------------------- */

/* The change from a published snapshot to the next: entries that go (by
 * name) and entries that come (whole).  An entry whose content changes
 * is both removed and added.  Each user's list of groups is not given: it
 * follows from the groups of the result, as in a publish. */
struct snap_patch {
	const char *const *users_removed;
	size_t nusers_removed;
	const struct snap_user *users_added;
	size_t nusers_added;
	const char *const *groups_removed;
	size_t ngroups_removed;
	const struct snap_group *groups_added;
	size_t ngroups_added;
};

/* Publishes at PATH the snapshot a full publish of the changed directory
 * would write, byte for byte, for a fraction of its work: the users of
 * LIVE less those removed plus those added, its groups likewise, every
 * user's list of groups taken from the groups that result, LIVE's id
 * range, and META's generation, created and source (the counts are
 * computed).  LIVE is the LEN bytes of the snapshot now at PATH, a file
 * this writer made, whose entries the caller vouches for (it checked them
 * against what it published), as for snap_writer_republish(); PATH is
 * opened read-only to find the tables, and when it does not hold LIVE's
 * bytes the patch fails with -ESTALE.
 *
 * The result must pass every check a publish makes (valid names, fields
 * and ids in range, unique names and ids, every member a user); besides,
 * a removed name must be in LIVE, and an added one must not unless it is
 * also removed.  A refused patch returns -EINVAL with the reason in ERR.
 * The records that change, the meta record and the tables are read back;
 * the records copied from LIVE are not.  Publishing is atomic as in
 * snap_writer_publish(): on any failure PATH is untouched, no temporary
 * file is left, ERR says why and a negative errno is returned; a caller
 * can then always fall back to a full publish. */
int snap_writer_patch(const void *live, size_t len, const struct snap_patch *p,
                      const struct snap_meta *meta, const char *path, char *err,
                      size_t errlen);

#endif
