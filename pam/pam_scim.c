/* SPDX-License-Identifier: MIT */
/*
 * pam_scim.c: the PAM account module of nss-scim.
 *
 * Only pam_sm_acct_mgmt() is provided.  A stray "auth" or "session" line
 * naming pam_scim.so makes libpam fail that line (the symbol is missing)
 * instead of silently passing, which is the safe way to be misconfigured.
 *
 * The decision is pamscim_decide()'s (decide.c); this file turns it into a
 * log line, a message for the user and a PAM code.  It never touches the
 * network, never exits and installs no signal handler.
 */
#include <inttypes.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pamscim.h"

#define PAM_EXPORT __attribute__((visibility("default")))

#define LOG_NAME_MAX 64 /* bytes of an untrusted name in a log line */

static void warn_arg(void *ctx, const char *arg, const char *why)
{
	char buf[LOG_NAME_MAX];

	pam_syslog(ctx, LOG_ERR, "%s: \"%s\"", why,
	           pamscim_printable(buf, sizeof(buf), arg));
}

/* What the log says.  Denials at LOG_NOTICE; an unusable snapshot at
 * LOG_ERR, since an administrator must repair it; everything else, local
 * and unknown users included, only with "debug". */
static void log_verdict(pam_handle_t *pamh, const struct pamscim_opts *o,
                        const char *user, const struct pamscim_verdict *v,
                        int code)
{
	const char *why = pamscim_result_str(v->result);
	const char *tail = code == PAM_IGNORE ? " (ignored)" : "";
	char name[LOG_NAME_MAX];

	pamscim_printable(name, sizeof(name), user);
	switch (v->result) {
	case PAMSCIM_SUSPENDED:
	case PAMSCIM_NOT_ALLOWED:
		pam_syslog(pamh, LOG_NOTICE, "access denied for user %s: %s",
		           name, why);
		break;
	case PAMSCIM_UNAVAIL:
		pam_syslog(pamh, LOG_ERR, "cannot check user %s: %s: %s%s",
		           name, why, snap_strerror(v->err), tail);
		break;
	case PAMSCIM_STALE:
		pam_syslog(pamh, LOG_ERR,
		           "cannot check user %s: snapshot is %" PRId64
		           " seconds old, over max_age=%" PRId64 "%s",
		           name, v->age, o->max_age, tail);
		break;
	case PAMSCIM_ACTIVE:
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG,
			           "user %s admitted: uid %" PRIu32
			           ", snapshot generation %" PRIu64 ", %" PRId64
			           " seconds old",
			           name, v->account.uid,
			           v->account.snapshot_generation, v->age);
		break;
	case PAMSCIM_UNKNOWN:
	case PAMSCIM_LOCAL:
	case PAMSCIM_BAD_NAME:
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "user %s: %s%s", name, why,
			           tail);
		break;
	}
}

static void tell_user(pam_handle_t *pamh, int flags,
                      const struct pamscim_opts *o, enum pamscim_result result)
{
	if ((flags & PAM_SILENT) || o->quiet)
		return;
	if (result == PAMSCIM_SUSPENDED)
		pam_error(pamh, "Your account is suspended.");
	else if (result == PAMSCIM_NOT_ALLOWED)
		pam_error(pamh, "You are not allowed to log in here.");
}

PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                const char **argv)
{
	struct pamscim_env env = {snap_reader_default(), PAMSCIM_LOCAL_PASSWD,
	                          time(NULL)};
	struct pamscim_opts o;
	struct pamscim_verdict v;
	const char *user = NULL;
	int rc;

	if (pamscim_parse_args(&o, argc, argv, warn_arg, pamh) < 0)
		return PAM_SERVICE_ERR;
	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s",
		           pam_strerror(pamh, rc));
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
	}
	pamscim_decide(&env, &o, user, &v);
	rc = pamscim_pam_code(v.result, &o);
	log_verdict(pamh, &o, user, &v, rc);
	tell_user(pamh, flags, &o, v.result);
	return rc;
}
