/* SPDX-License-Identifier: MIT */
/*
 * nss_scim.c: the glibc NSS entry points of libnss_scim.so.2.
 *
 * Each function only translates between glibc's calling convention and the
 * snapshot reader (cache/snap.h): errno is saved and restored on success,
 * a short buffer gives NSS_STATUS_TRYAGAIN with ERANGE, a missing entry
 * NSS_STATUS_NOTFOUND, and an unusable snapshot NSS_STATUS_UNAVAIL with the
 * reason in *errnop.  Nothing here logs, exits or handles signals.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>

#include "nss_scim.h"
#include "snap.h"

#define NSS_EXPORT __attribute__((visibility("default")))

/* Enumeration cursors, apart from point lookups so that a getpwnam() inside
 * a getpwent() loop does not restart the loop. */
static pthread_mutex_t ent_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap_cursor pw_cursor, gr_cursor;

static enum nss_status status_of(int rc, int saved_errno, int *errnop)
{
	if (rc == 0) {
		errno = saved_errno;
		return NSS_STATUS_SUCCESS;
	}
	if (rc == SNAP_NONE) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	*errnop = -rc;
	if (rc == -ERANGE || rc == -ENOMEM)
		return NSS_STATUS_TRYAGAIN;
	return NSS_STATUS_UNAVAIL;
}

NSS_EXPORT enum nss_status _nss_scim_getpwnam_r(const char *name,
                                                struct passwd *pw, char *buf,
                                                size_t buflen, int *errnop)
{
	int e = errno;

	return status_of(
	        snap_getpwnam(snap_reader_default(), name, pw, buf, buflen), e,
	        errnop);
}

NSS_EXPORT enum nss_status _nss_scim_getpwuid_r(uid_t uid, struct passwd *pw,
                                                char *buf, size_t buflen,
                                                int *errnop)
{
	int e = errno;

	return status_of(
	        snap_getpwuid(snap_reader_default(), uid, pw, buf, buflen), e,
	        errnop);
}

NSS_EXPORT enum nss_status _nss_scim_getgrnam_r(const char *name,
                                                struct group *gr, char *buf,
                                                size_t buflen, int *errnop)
{
	int e = errno;

	return status_of(
	        snap_getgrnam(snap_reader_default(), name, gr, buf, buflen), e,
	        errnop);
}

NSS_EXPORT enum nss_status _nss_scim_getgrgid_r(gid_t gid, struct group *gr,
                                                char *buf, size_t buflen,
                                                int *errnop)
{
	int e = errno;

	return status_of(
	        snap_getgrgid(snap_reader_default(), gid, gr, buf, buflen), e,
	        errnop);
}

static enum nss_status rewind_cursor(struct snap_cursor *c)
{
	pthread_mutex_lock(&ent_lock);
	c->next = 0;
	pthread_mutex_unlock(&ent_lock);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_scim_setpwent(int stayopen)
{
	return rewind_cursor(&pw_cursor);
}

NSS_EXPORT enum nss_status _nss_scim_endpwent(void)
{
	return rewind_cursor(&pw_cursor);
}

NSS_EXPORT enum nss_status _nss_scim_setgrent(int stayopen)
{
	return rewind_cursor(&gr_cursor);
}

NSS_EXPORT enum nss_status _nss_scim_endgrent(void)
{
	return rewind_cursor(&gr_cursor);
}

NSS_EXPORT enum nss_status _nss_scim_getpwent_r(struct passwd *pw, char *buf,
                                                size_t buflen, int *errnop)
{
	int e = errno, rc;

	pthread_mutex_lock(&ent_lock);
	rc = snap_getpwent(snap_reader_default(), &pw_cursor, pw, buf, buflen);
	pthread_mutex_unlock(&ent_lock);
	return status_of(rc, e, errnop);
}

NSS_EXPORT enum nss_status _nss_scim_getgrent_r(struct group *gr, char *buf,
                                                size_t buflen, int *errnop)
{
	int e = errno, rc;

	pthread_mutex_lock(&ent_lock);
	rc = snap_getgrent(snap_reader_default(), &gr_cursor, gr, buf, buflen);
	pthread_mutex_unlock(&ent_lock);
	return status_of(rc, e, errnop);
}

NSS_EXPORT enum nss_status _nss_scim_initgroups_dyn(
        const char *user, gid_t group, long int *start, long int *size,
        gid_t **groupsp, long int limit, int *errnop)
{
	int e = errno;

	return status_of(snap_initgroups(snap_reader_default(), user, group,
	                                 start, size, groupsp, limit),
	                 e, errnop);
}
