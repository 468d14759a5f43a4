/* SPDX-License-Identifier: MIT */
/*
 * skiplist.c: see skiplist.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiplist.h"
#include "util.h"

static const char *const reason_names[SKIP_NREASONS] = {
        [SKIP_INVALID_ID] = "invalid_id",
        [SKIP_NO_NAME] = "no_name",
        [SKIP_DOMAIN] = "domain_not_allowed",
        [SKIP_INVALID_NAME] = "invalid_name",
        [SKIP_NAME_COLLISION] = "name_collision",
        [SKIP_LOCAL_NAME] = "local_name",
        [SKIP_LOCAL_ID] = "local_id",
        [SKIP_ID_RANGE] = "id_out_of_range",
        [SKIP_INVALID_FIELD] = "invalid_field",
        [SKIP_NAME_TAKEN] = "name_taken_by_person",
        [SKIP_RESERVED_NAME] = "reserved_name",
};

const char *skiplist_reason_name(enum skip_reason r)
{
	return r < SKIP_NREASONS ? reason_names[r] : "unknown";
}

void skiplist_free(struct skiplist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->s[i].scim_id);
		free(l->s[i].detail);
	}
	free(l->s);
	*l = (struct skiplist){0};
}

int skiplist_add(struct skiplist *l, enum scim_kind kind, enum skip_reason why,
                 const char *scim_id, const char *fmt, ...)
{
	char idp[PRINTABLE_MAX * 4 + 8], detail[SKIPLIST_DETAIL_MAX];
	struct skip s = {.kind = kind, .reason = why};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (array_grow((void **)&l->s, &l->cap, l->n, sizeof(*l->s), 32) < 0)
		return -ENOMEM;
	s.scim_id = strdup(
	        scim_id ? printable(idp, sizeof(idp), scim_id, strlen(scim_id))
	                : "(none)");
	s.detail = strdup(detail);
	if (s.scim_id == NULL || s.detail == NULL) {
		free(s.scim_id);
		free(s.detail);
		return -ENOMEM;
	}
	l->s[l->n++] = s;
	l->count[why]++;
	return 0;
}
