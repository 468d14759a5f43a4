/* SPDX-License-Identifier: MIT */
/*
 * pack.h: copy a decoded record into the caller's struct and buffer, the way
 * glibc's reentrant lookups expect.
 *
 * A packer first adds up what it needs and returns -ERANGE, touching
 * nothing, when BUFLEN is short; otherwise it fills the struct so that every
 * pointer in it points into BUF, and returns 0.  -EBADMSG means the group's
 * encoded members are damaged.
 */
#ifndef NSS_SCIM_PACK_H
#define NSS_SCIM_PACK_H

#include <grp.h>
#include <pwd.h>

#include "record.h"

int pack_passwd(const struct rec_user *u, struct passwd *pw, char *buf,
                size_t buflen);
int pack_group(const struct rec_group *g, struct group *gr, char *buf,
               size_t buflen);

#endif
