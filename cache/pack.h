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

/* rec_decode_user() and pack_passwd() in one pass over the user record P
 * of LEN bytes: the same answer, the same checks (every name, field and id
 * is validated as it is copied) and the same errors, -EBADMSG before
 * -ERANGE.  SLACK says how many bytes past P + LEN may be read (their
 * values do not matter): with 16 or more, and room in BUF for 16 bytes
 * past the answer, the bytes are checked and copied sixteen at a time. */
int pack_passwd_record(const uint8_t *p, size_t len, size_t slack,
                       uint32_t id_min, uint32_t id_max, struct passwd *pw,
                       char *buf, size_t buflen);

#endif
