/* SPDX-License-Identifier: MIT */
/*
 * verify.h: "scim-cache verify", whether this host is wired up.
 *
 * Each check reads files only (nsswitch.conf, the PAM stacks, the snapshot,
 * the timer's wants symlink or the cron file, login.defs and sssd.conf); it
 * starts no program and changes nothing, so it is safe on any host and in
 * a chroot.  Every path is in struct verify_paths so that tests can point
 * the checks at their own files.
 */
#ifndef SCIM_VERIFY_H
#define SCIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

struct verify_paths {
	const char *nsswitch;   /* /etc/nsswitch.conf */
	const char *pam_dir;    /* /etc/pam.d */
	const char *login_defs; /* /etc/login.defs */
	const char *sssd_conf;  /* /etc/sssd/sssd.conf */
	const char *timer_link; /* the timer's symlink in timers.target.wants */
	const char *cron_file;  /* /etc/cron.d/nss-scim */
	const char *cache_path; /* the snapshot */
	uint32_t uid_min, uid_max;
	int64_t max_age; /* seconds a snapshot counts as fresh */
	const char *const *pam_services; /* NULL-terminated */
};

/* Fills P with the installed paths and C's snapshot path and id range. */
void verify_paths_default(struct verify_paths *p, const struct scim_config *c);

/* Runs every check and prints one line each to OUT (or one JSON document
 * with JSON).  Returns 0 when every check holds, 1 when one fails, or a
 * negative errno when the report could not be made. */
int verify_run(const struct verify_paths *p, bool json, FILE *out);

/* ---- parsers, exported for the unit tests ---------------------------- */

/* Whether the DB line ("passwd", "group") of nsswitch.conf TEXT names scim
 * after files (or compat).  Returns 0, -ENOENT when there is no such line,
 * -ESRCH when it lacks scim, -EBADMSG when scim comes before any files.
 * The last line for DB counts, as in glibc. */
int verify_nsswitch_text(const char *text, const char *db);

/* Whether the account stack of SERVICE under PAM_DIR reaches pam_scim.so
 * with a control that refuses when the module refuses (required,
 * requisite, or brackets whose perm_denied or default is bad or die),
 * following @include, include and substack.  Returns 0, -ENOENT when the
 * service has no file, -ESRCH when pam_scim.so is not in its account stack,
 * -EPERM when it is, but only with a control that cannot refuse, -EXDEV
 * when a "sufficient" (or success=done) account module before it can end
 * the stack without it, -ELOOP when includes nest too deep. */
int verify_pam_stack(const char *pam_dir, const char *service);

/* Whether CONTROL (a PAM control field: a keyword or "[value=action ...]")
 * makes a PAM_PERM_DENIED from the module fail the stack. */
bool verify_pam_control_blocks(const char *control);

/* Reads KEY's number from login.defs TEXT into *OUT.  Returns 0 or -ENOENT
 * when the key is absent or not a number. */
int verify_login_defs_get(const char *text, const char *key, uint32_t *out);

/* Fills LO and HI with the id range of every domain of sssd.conf TEXT that
 * sets min_id or max_id (min_id 1, max_id unlimited by default), up to MAX
 * ranges.  Returns how many. */
size_t verify_sssd_ranges(const char *text, uint32_t *lo, uint32_t *hi,
                          size_t max);

#endif
