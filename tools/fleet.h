/* SPDX-License-Identifier: MIT */
/*
 * fleet.h: what a host does with a bundle's directory (bundle.h) before
 * publishing it: its own local rules, the same ones a bridge refresh
 * applies.  The numbers come from the bundle, so every host that uses one
 * bundle has the same ones; only what its own files hold differs.
 */
#ifndef SCIM_FLEET_H
#define SCIM_FLEET_H

#include <stdint.h>

#include "bundle.h"
#include "conf.h"
#include "http.h"
#include "local.h"
#include "map.h"
#include "model.h"
#include "state.h"

struct fleet_rules {
	const struct localdb *local; /* names and numbers that win */
	const struct locks *locks;   /* people locked out on this host */
	uint32_t id_min, id_max;     /* this host's range */
	/* This host's reserved_names, on top of the built-in ones: a bundle
	 * is judged by the host that applies it, as its local files are. */
	char *const *reserved;
	size_t nreserved;
};

/* Builds OUT (sorted) from IN (sorted) under RULES:
 *   - a person whose name is a local user or a reserved name (names.h),
 *     whose uid or gid is a local number, or whose numbers lie outside
 *     the range is left out, and so is one whose private group's name is
 *     a local group;
 *   - a group whose name is a local group or a reserved name, or whose
 *     gid is a local number or out of range, is left out;
 *   - members left out are dropped from every group;
 *   - a locked person is kept, inactive: the lock's key (state.h) is
 *     their uid, their SCIM id, or for a lock an older fleet host took by
 *     name, their name.
 * Each left-out entry is added to SKIPPED.  With TAKE, when the rules
 * change nothing, OUT takes IN's contents and IN is left empty.  Returns 0
 * or -ENOMEM (OUT then holds nothing to free). */
int fleet_apply_local(struct model *in, const struct fleet_rules *rules,
                      bool take, struct model *out, struct skiplist *skipped);

/* What a fleet host downloaded. */
struct fleet_download {
	long status;                /* 200, or 304: nothing below is set */
	struct http_validators got; /* for the next conditional GET */
	struct bundle_info info;
	struct model model; /* sorted */
	size_t bytes;
};

/* GETs cfg->source (conditional on COND, which may be NULL), checks the
 * signature with cfg->verify_key before reading anything else, then parses
 * the bundle.  Returns 0, or a negative errno with one line in ERR; on
 * failure D holds nothing to free. */
int fleet_download(struct http *h, const struct scim_config *cfg,
                   const struct http_validators *cond, struct fleet_download *d,
                   char *err, size_t errlen);
void fleet_download_free(struct fleet_download *d);

/* A source host: signs M as a bundle into OUT with cfg->bundle_key, INFO's
 * generation, times, source, origin and range set by the caller. */
int fleet_sign(const struct model *m, const struct scim_config *cfg,
               struct bundle_info *info, struct buf *out, char *err,
               size_t errlen);

#endif
