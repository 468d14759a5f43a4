/* SPDX-License-Identifier: MIT */
/*
 * decide.c: may this user log in now?  The whole policy of pam_scim.so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <security/_pam_types.h>

#include "pamscim.h"

int pamscim_local_user(const char *path, const char *user)
{
	char line[1024];
	size_t ulen = strlen(user);
	bool at_start = true;
	int found = 0;
	FILE *fp;

	if (ulen == 0 || ulen >= sizeof(line))
		return 0;
	fp = fopen(path, "re");
	if (fp == NULL)
		return -errno;
	/* Only the start of a line matters; a line longer than the buffer
	 * comes in pieces, and only its first piece is compared. */
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		if (at_start && strncmp(line, user, ulen) == 0 &&
		    line[ulen] == ':')
			found = 1;
		at_start = strchr(line, '\n') != NULL;
	}
	if (!found && ferror(fp))
		found = -EIO;
	fclose(fp);
	return found;
}

/* ACTIVE when the user is in one of the allowed groups (or none are
 * configured), NOT_ALLOWED when in none, UNAVAIL when the snapshot fails. */
static void check_groups(const struct pamscim_env *env,
                         const struct pamscim_opts *o, const char *user,
                         struct pamscim_verdict *v)
{
	v->result = o->ngroups == 0 ? PAMSCIM_ACTIVE : PAMSCIM_NOT_ALLOWED;
	for (size_t i = 0; i < o->ngroups; i++) {
		int rc = snap_user_in_group(env->reader, user, o->groups[i]);

		if (rc == 0) {
			v->result = PAMSCIM_ACTIVE;
			return;
		}
		if (rc < 0) {
			v->result = PAMSCIM_UNAVAIL;
			v->err = rc;
			return;
		}
	}
}

void pamscim_decide(const struct pamscim_env *env, const struct pamscim_opts *o,
                    const char *user, struct pamscim_verdict *v)
{
	size_t len = user != NULL ? strnlen(user, SNAP_NAME_MAX + 1) : 0;
	int rc;

	memset(v, 0, sizeof(*v));
	v->age = -1;
	if (user == NULL || !snap_name_valid(user, len)) {
		v->result = PAMSCIM_BAD_NAME;
		return;
	}
	/* An unreadable passwd file is not an answer: the snapshot decides,
	 * and it never holds a local name. */
	if (pamscim_local_user(env->passwd_path, user) == 1) {
		v->result = PAMSCIM_LOCAL;
		return;
	}
	rc = snap_get_account(env->reader, user, &v->account);
	if (rc == SNAP_NONE) {
		v->result = PAMSCIM_UNKNOWN;
		return;
	}
	if (rc != 0) {
		v->result = PAMSCIM_UNAVAIL;
		v->err = rc < 0 ? rc : -EIO;
		return;
	}
	/* A snapshot from the future (a clock set back) counts as new. */
	v->age = env->now > v->account.snapshot_created
	                 ? (int64_t)env->now - v->account.snapshot_created
	                 : 0;
	if (!v->account.active)
		v->result = PAMSCIM_SUSPENDED;
	else if (o->max_age > 0 && v->age > o->max_age)
		v->result = PAMSCIM_STALE;
	else
		check_groups(env, o, user, v);
}

int pamscim_pam_code(enum pamscim_result r, const struct pamscim_opts *o)
{
	switch (r) {
	case PAMSCIM_ACTIVE:
		return PAM_SUCCESS;
	case PAMSCIM_SUSPENDED:
	case PAMSCIM_NOT_ALLOWED:
		return PAM_PERM_DENIED;
	case PAMSCIM_UNKNOWN:
	case PAMSCIM_LOCAL:
	case PAMSCIM_BAD_NAME:
		return o->ignore_unknown_user ? PAM_IGNORE : PAM_USER_UNKNOWN;
	case PAMSCIM_UNAVAIL:
		return o->ignore_authinfo_unavail || o->ignore_unusable_snapshot
		               ? PAM_IGNORE
		               : PAM_AUTHINFO_UNAVAIL;
	case PAMSCIM_STALE:
		return o->ignore_authinfo_unavail ? PAM_IGNORE
		                                  : PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SERVICE_ERR;
}

const char *pamscim_result_str(enum pamscim_result r)
{
	switch (r) {
	case PAMSCIM_ACTIVE:
		return "active";
	case PAMSCIM_SUSPENDED:
		return "account suspended";
	case PAMSCIM_NOT_ALLOWED:
		return "not a member of any allowed group";
	case PAMSCIM_UNKNOWN:
		return "not in the snapshot";
	case PAMSCIM_LOCAL:
		return "local user, not managed by nss-scim";
	case PAMSCIM_BAD_NAME:
		return "not a valid user name";
	case PAMSCIM_UNAVAIL:
		return "snapshot unavailable";
	case PAMSCIM_STALE:
		return "snapshot older than max_age";
	}
	return "unknown result";
}

char *pamscim_printable(char *out, size_t outlen, const char *s)
{
	size_t n = 0;

	if (outlen == 0)
		return out;
	if (s == NULL)
		s = "(null)";
	for (; n < outlen - 1 && s[n] != '\0'; n++)
		out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
	out[n] = '\0';
	if (s[n] != '\0' && outlen >= 4)
		memcpy(out + outlen - 4, "...", 4);
	return out;
}
