/* SPDX-License-Identifier: MIT */
/*
 * client.h: reading the whole directory from the bridge: the paged
 * listings of Users and Groups (through the pager), and a GET of each group
 * whose listing carried no members.
 */
#ifndef SCIM_CLIENT_H
#define SCIM_CLIENT_H

#include <stddef.h>

#include "conf.h"
#include "http.h"
#include "people.h"
#include "scim.h"

/* Told after each page: which listing, pages so far, distinct resources so
 * far, totalResults. */
typedef void (*client_progress_fn)(enum scim_kind kind, unsigned pages,
                                   size_t got, long long total, void *ud);

struct directory {
	struct people people;
	struct scim_res *groups;
	size_t ngroups;
	unsigned requests;
};

/* Reads everything.  Each group's members come resolved to positions in
 * DIR's users (see struct scim_res).  Returns 0, or a negative errno with a
 * one-line reason in ERR; on failure DIR holds nothing to free. */
int client_read_directory(struct http *h, const struct scim_config *cfg,
                          client_progress_fn progress, void *ud,
                          struct directory *dir, char *err, size_t errlen);

/* The groups alone, once the mapping has read them. */
void client_directory_free_groups(struct directory *dir);
void client_directory_free(struct directory *dir);

#endif
