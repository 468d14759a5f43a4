/* SPDX-License-Identifier: MIT */
/*
 * skiplist.h: what a mapping left out and why.  map_build() and the fleet
 * host's local rules (fleet.h) add to one; the refresh reports it in its
 * messages, status and metrics.
 */
#ifndef SCIM_SKIPLIST_H
#define SCIM_SKIPLIST_H

#include <stddef.h>

#include "scim.h"
#include "util.h"

/* Why an entry was left out.  The names are used in messages, status and
 * metrics labels. */
enum skip_reason {
	SKIP_INVALID_ID,     /* SCIM id unusable */
	SKIP_NO_NAME,        /* no userName / displayName */
	SKIP_DOMAIN,         /* email domain not in `domains` */
	SKIP_INVALID_NAME,   /* name fails the validator */
	SKIP_NAME_COLLISION, /* two entries map to one name */
	SKIP_LOCAL_NAME,     /* name in the local passwd or group file */
	SKIP_LOCAL_ID,       /* sticky number now in the local files */
	SKIP_ID_RANGE,       /* sticky number outside uid_min-uid_max */
	SKIP_INVALID_FIELD,  /* gecos, home or shell unusable */
	SKIP_NAME_TAKEN,     /* group name is a person's private group */
	SKIP_RESERVED_NAME,  /* a privileged or system name (names.h) */
	SKIP_NREASONS
};

const char *skiplist_reason_name(enum skip_reason r);

struct skip {
	enum scim_kind kind;
	enum skip_reason reason;
	char *scim_id; /* printable */
	char *detail;  /* printable: the offending value */
};

struct skiplist {
	struct skip *s;
	size_t n, cap;
	size_t count[SKIP_NREASONS];
};

void skiplist_free(struct skiplist *l);

/* The longest detail an entry keeps; longer ones are cut. */
#define SKIPLIST_DETAIL_MAX (PRINTABLE_MAX * 4 + 80)

/* Adds an entry (SCIM_ID shown printable, NULL for none;
 * the detail from FMT).  Returns 0 or -ENOMEM. */
int skiplist_add(struct skiplist *l, enum scim_kind kind, enum skip_reason why,
                 const char *scim_id, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

#endif
