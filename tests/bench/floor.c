/* SPDX-License-Identifier: MIT */
/*
 * floor.c: libnss_floor.so.2, an NSS module built only for the benchmarks.
 *
 * It answers without doing any work, so that a lookup through it costs what
 * glibc's own dispatch costs (nsswitch.conf walk, argument marshalling, the
 * ERANGE retry loop's first pass).  Every name resolves except those that
 * start with "nosuch", every uid and gid resolves, and every user is in the
 * same ten groups ($NSS_FLOOR_NGROUPS, when set), so that each operation
 * returns an answer of the same shape as the real backends'.  Enumeration
 * returns the same entry $NSS_FLOOR_PW_ENT (or $NSS_FLOOR_GR_ENT) times,
 * read at setpwent() (setgrent()), by default none.
 *
 * Never installed: tests/bench/bench.mk builds it with -rpath /nowhere and
 * the harness loads it through LD_LIBRARY_PATH in a private namespace.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#define NSS_EXPORT  __attribute__((visibility("default")))
#define FLOOR_ID    4000000u
#define FLOOR_NGRPS 10 /* unless $NSS_FLOOR_NGROUPS says otherwise */

/* glibc finds these by name; declared here for -Wmissing-prototypes. */
enum nss_status _nss_floor_getpwnam_r(const char *, struct passwd *, char *,
                                      size_t, int *);
enum nss_status _nss_floor_getpwuid_r(uid_t, struct passwd *, char *, size_t,
                                      int *);
enum nss_status _nss_floor_getgrnam_r(const char *, struct group *, char *,
                                      size_t, int *);
enum nss_status _nss_floor_getgrgid_r(gid_t, struct group *, char *, size_t,
                                      int *);
enum nss_status _nss_floor_initgroups_dyn(const char *, gid_t, long int *,
                                          long int *, gid_t **, long int,
                                          int *);
enum nss_status _nss_floor_setpwent(int);
enum nss_status _nss_floor_endpwent(void);
enum nss_status _nss_floor_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_floor_setgrent(int);
enum nss_status _nss_floor_endgrent(void);
enum nss_status _nss_floor_getgrent_r(struct group *, char *, size_t, int *);

static char empty[] = "";
static char star[] = "*";
static char fname[] = "floor";
static char home[] = "/home/floor";
static char shell[] = "/bin/sh";
static char *no_members[] = {NULL};

/* Entries left in the enumerations (they are not thread-safe; glibc holds
 * its own lock around them). */
static long pw_left, gr_left;

static long ent_count(const char *var)
{
	const char *v = getenv(var);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

static long ngroups(void)
{
	static long n = -1;

	if (n < 0) {
		long v = ent_count("NSS_FLOOR_NGROUPS");

		n = v > 0 && v < 100000 ? v : FLOOR_NGRPS;
	}
	return n;
}

static int is_miss(const char *name)
{
	return strncmp(name, "nosuch", 6) == 0;
}

static void fill_pw(struct passwd *pw, uid_t uid)
{
	pw->pw_name = fname;
	pw->pw_passwd = star;
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	pw->pw_gecos = empty;
	pw->pw_dir = home;
	pw->pw_shell = shell;
}

static void fill_gr(struct group *gr, gid_t gid)
{
	gr->gr_name = fname;
	gr->gr_passwd = star;
	gr->gr_gid = gid;
	gr->gr_mem = no_members;
}

NSS_EXPORT enum nss_status _nss_floor_getpwnam_r(const char *name,
                                                 struct passwd *pw, char *buf,
                                                 size_t buflen, int *errnop)
{
	if (is_miss(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	fill_pw(pw, FLOOR_ID);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_getpwuid_r(uid_t uid, struct passwd *pw,
                                                 char *buf, size_t buflen,
                                                 int *errnop)
{
	fill_pw(pw, uid);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_getgrnam_r(const char *name,
                                                 struct group *gr, char *buf,
                                                 size_t buflen, int *errnop)
{
	if (is_miss(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	fill_gr(gr, FLOOR_ID);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_getgrgid_r(gid_t gid, struct group *gr,
                                                 char *buf, size_t buflen,
                                                 int *errnop)
{
	fill_gr(gr, gid);
	return NSS_STATUS_SUCCESS;
}

static int grow(long int *size, gid_t **groupsp)
{
	long int want = *size > 0 ? *size * 2 : 16;
	gid_t *p = realloc(*groupsp, (size_t)want * sizeof(gid_t));

	if (p == NULL)
		return -1;
	*groupsp = p;
	*size = want;
	return 0;
}

/* Appends ngroups() fixed gids, growing the array as glibc expects. */
NSS_EXPORT enum nss_status _nss_floor_initgroups_dyn(
        const char *user, gid_t group, long int *start, long int *size,
        gid_t **groupsp, long int limit, int *errnop)
{
	if (is_miss(user))
		return NSS_STATUS_NOTFOUND;
	for (gid_t i = 0; i < (gid_t)ngroups(); i++) {
		if (limit > 0 && *start >= limit)
			break;
		if (*start == *size && grow(size, groupsp) < 0) {
			*errnop = ENOMEM;
			return NSS_STATUS_TRYAGAIN;
		}
		(*groupsp)[(*start)++] = FLOOR_ID + 1 + i;
	}
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_setpwent(int stayopen)
{
	pw_left = ent_count("NSS_FLOOR_PW_ENT");
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_endpwent(void)
{
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_getpwent_r(struct passwd *pw, char *buf,
                                                 size_t buflen, int *errnop)
{
	if (pw_left <= 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	fill_pw(pw, FLOOR_ID + (uid_t)pw_left--);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_setgrent(int stayopen)
{
	gr_left = ent_count("NSS_FLOOR_GR_ENT");
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_endgrent(void)
{
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_floor_getgrent_r(struct group *gr, char *buf,
                                                 size_t buflen, int *errnop)
{
	if (gr_left <= 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	fill_gr(gr, FLOOR_ID + (gid_t)gr_left--);
	return NSS_STATUS_SUCCESS;
}
