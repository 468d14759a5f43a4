/* SPDX-License-Identifier: MIT */
/*
 * pamscim.h: the logic of pam_scim.so, apart from libpam so that unit tests
 * and fuzzers can drive it directly.
 *
 * pam_scim.c is a thin pam_sm_acct_mgmt(): it parses its arguments with
 * pamscim_parse_args(), asks pamscim_decide() about the user, logs, tells
 * the user, and returns pamscim_pam_code().  Nothing here logs, exits or
 * touches the network; warnings go through a callback.
 */
#ifndef NSS_SCIM_PAMSCIM_H
#define NSS_SCIM_PAMSCIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snap.h"

#define PAMSCIM_GROUPS_MAX    32         /* names in allow_groups= */
#define PAMSCIM_MAX_AGE_LIMIT 0x7fffffff /* seconds; about 68 years */
#define PAMSCIM_LOCAL_PASSWD  "/etc/passwd"

/* The module's options; plain data, owns no memory. */
struct pamscim_opts {
	char groups[PAMSCIM_GROUPS_MAX][SNAP_NAME_MAX + 1]; /* allow_groups= */
	size_t ngroups;  /* 0: no group restriction */
	int64_t max_age; /* seconds; 0: no limit (the default) */
	bool ignore_unknown_user;
	bool ignore_authinfo_unavail;
	/* PAM_IGNORE for UNAVAIL only: a user not in the local passwd file
	 * while there is no usable snapshot (people of SSSD or LDAP on a new
	 * or damaged host).  A stale snapshot still fails. */
	bool ignore_unusable_snapshot;
	bool debug;
	bool quiet;
};

/* Called once for each argument that is ignored or refused; ARG is the
 * argument as given (not sanitised), WHY a short static text. */
typedef void (*pamscim_warn_fn)(void *ctx, const char *arg, const char *why);

/* Fills O from ARGV.  An unknown option is reported through WARN and
 * ignored.  A known option with a bad value (allow_groups= with an invalid
 * or too many names, max_age= that is not a number of seconds in
 * [0, PAMSCIM_MAX_AGE_LIMIT]) is reported and makes the call fail: dropping
 * it would admit more people than the administrator meant.  A later
 * allow_groups= or max_age= replaces an earlier one.
 * Returns 0, or -EINVAL after a bad value (O is then unusable). */
int pamscim_parse_args(struct pamscim_opts *o, int argc, const char **argv,
                       pamscim_warn_fn warn, void *ctx);

/* What the module found out about one user. */
enum pamscim_result {
	PAMSCIM_ACTIVE,      /* in the snapshot, active, allowed: admit */
	PAMSCIM_SUSPENDED,   /* in the snapshot with active=false */
	PAMSCIM_NOT_ALLOWED, /* in none of the allow_groups */
	PAMSCIM_UNKNOWN,     /* not in the snapshot */
	PAMSCIM_LOCAL,       /* a local user (in /etc/passwd): not ours */
	PAMSCIM_BAD_NAME,    /* not a name the snapshot could hold */
	PAMSCIM_UNAVAIL,     /* snapshot missing, untrusted or unreadable */
	PAMSCIM_STALE,       /* snapshot older than max_age */
};

struct pamscim_verdict {
	enum pamscim_result result;
	int err;     /* PAMSCIM_UNAVAIL: the reader's negative errno */
	int64_t age; /* seconds since the snapshot was built, or -1 */
	struct snap_account
	        account; /* valid unless UNKNOWN/LOCAL/BAD_NAME/UNAVAIL */
};

/* Where pamscim_decide() looks: the reader (snap_reader_default() in the
 * module), the local passwd file and the time now. */
struct pamscim_env {
	struct snap_reader *reader;
	const char *passwd_path;
	time_t now;
};

/* Decides about USER (may be NULL).  In order: a name the snapshot cannot
 * hold is BAD_NAME; a user listed in the local passwd file is LOCAL (local
 * names are never in a snapshot, so a broken snapshot never locks root out);
 * then the snapshot's answer: UNAVAIL, UNKNOWN, SUSPENDED (even when stale:
 * a known suspension always holds), STALE, NOT_ALLOWED, ACTIVE.  Always
 * fills V. */
void pamscim_decide(const struct pamscim_env *env, const struct pamscim_opts *o,
                    const char *user, struct pamscim_verdict *v);

/* The PAM return code for R under O: PAM_SUCCESS, PAM_PERM_DENIED,
 * PAM_USER_UNKNOWN, PAM_AUTHINFO_UNAVAIL, or PAM_IGNORE where an ignore_*
 * option says so (ignore_unusable_snapshot for UNAVAIL alone). */
int pamscim_pam_code(enum pamscim_result r, const struct pamscim_opts *o);

/* A short English text for R ("account suspended", ...).  Never NULL. */
const char *pamscim_result_str(enum pamscim_result r);

/* True when S (NUL-terminated) is listed in /etc/passwd format file PATH.
 * Returns 1 when listed, 0 when not, negative errno when PATH cannot be
 * read. */
int pamscim_local_user(const char *path, const char *user);

/* Copies at most OUTLEN-1 bytes of untrusted S into OUT for a log line,
 * replacing anything but printable ASCII with '?' and marking a cut with
 * "...".  OUTLEN must be at least 4.  Returns OUT. */
char *pamscim_printable(char *out, size_t outlen, const char *s);

#endif
