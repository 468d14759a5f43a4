/* SPDX-License-Identifier: MIT */
/*
 * nss_scim.h: the entry points glibc finds by name in libnss_scim.so.2
 * ("scim" in nsswitch.conf).  They are the module's only exports.
 */
#ifndef NSS_SCIM_NSS_H
#define NSS_SCIM_NSS_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>

enum nss_status _nss_scim_getpwnam_r(const char *name, struct passwd *pw,
                                     char *buf, size_t buflen, int *errnop);
enum nss_status _nss_scim_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                     size_t buflen, int *errnop);
enum nss_status _nss_scim_setpwent(int stayopen);
enum nss_status _nss_scim_getpwent_r(struct passwd *pw, char *buf,
                                     size_t buflen, int *errnop);
enum nss_status _nss_scim_endpwent(void);
enum nss_status _nss_scim_getgrnam_r(const char *name, struct group *gr,
                                     char *buf, size_t buflen, int *errnop);
enum nss_status _nss_scim_getgrgid_r(gid_t gid, struct group *gr, char *buf,
                                     size_t buflen, int *errnop);
enum nss_status _nss_scim_setgrent(int stayopen);
enum nss_status _nss_scim_getgrent_r(struct group *gr, char *buf, size_t buflen,
                                     int *errnop);
enum nss_status _nss_scim_endgrent(void);
enum nss_status _nss_scim_initgroups_dyn(const char *user, gid_t group,
                                         long int *start, long int *size,
                                         gid_t **groupsp, long int limit,
                                         int *errnop);

#endif
