/* SPDX-License-Identifier: MIT */
/*
 * fleet.h: what a host does with a bundle's directory (bundle.h) before
 * publishing it: its own local rules, the same ones a bridge refresh
 * applies.  The numbers come from the bundle, so every host that uses one
 * bundle has the same ones; only what its own files hold differs.
 */
#ifndef SCIM_FLEET_H
#define SCIM_FLEET_H

#include <limits.h>
#include <stdint.h>

#include "bundle.h"
#include "conf.h"
#include "delta.h"
#include "http.h"
#include "local.h"
#include "manifest.h"
#include "model.h"
#include "skiplist.h"
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

/* What a fleet host holds, for fleet_accept(). */
struct fleet_held {
	uint64_t generation; /* of the manifest or bundle applied; 0: none */
	double valid_until;  /* of what it applied; 0: unknown */
	const char *keyid;   /* verify_key's id */
	const char *digest;  /* hex of bundle_info.digest applied, or "" */
	const char *sha256;  /* of the bundle applied from a manifest, or "" */
	/* When a manifest names the very bundle SHA256 again: whether the
	 * host can do without its content (its snapshot stands as it is).
	 * True ends the download with HOW "same" and no model; NULL or
	 * false reads the content as for any manifest. */
	bool (*reusable)(void *ud);
	/* When a delta from the bundle SHA256 makes the manifest's: whether
	 * the host's snapshot of that bundle can be patched with the records
	 * the delta changed.  True ends the download with EDITED: the model
	 * holds only those records (fleet_download). */
	bool (*patchable)(void *ud);
	void *ud;
};

/* What storage offers: a new manifest or bundle, or, with NOT_MODIFIED,
 * what the host holds (a 304). */
struct fleet_offer {
	bool not_modified;
	uint64_t generation;
	int64_t valid_until;
	const char *keyid;
	/* What identifies the content, and what the host holds of the same
	 * kind ("" when nothing). */
	const char *content, *held_content;
};

/* The acceptance rules of fleet mode, the same for a manifest and for a
 * bundle found without one: refused are an offer past its valid-until
 * (and a 304 once what is held is past its own), one older than what the
 * host holds (a replay or a rollback), one repeating the held generation
 * with other content, and one naming another key than verify_key.
 * Returns 0 or a negative errno with one line in ERR. */
int fleet_accept(const struct fleet_held *held, const struct fleet_offer *o,
                 double now, char *err, size_t errlen);

/* Fleet mode's files in the state directory (state.h), and the status
 * key it adds. */
#define FLEET_BASE      STATE_FLEET_BASE
#define FLEET_BASE_NEXT STATE_FLEET_NEXT
#define FLEET_HISTORY   STATE_FLEET_HIST

/* What a fleet host downloaded. */
struct fleet_download {
	long status;                /* 200, or 304: nothing below is set */
	struct http_validators got; /* for the next conditional GET */
	struct bundle_info info;    /* times and generation: the manifest's */
	struct model model;         /* sorted */
	size_t bytes;               /* on the wire, all files */
	bool manifest;              /* found through a manifest */
	const char *how;         /* "same" (no content read), "held", "delta" or
	                          * "full"; NULL without a manifest */
	char sha256[SHA256_HEX]; /* of the bundle, with a manifest */
	/* EDITED (HOW "delta", HELD->patchable() true): MODEL holds only the
	 * people and groups the delta wrote, GONE_* name those it removed or
	 * replaced, INFO is the whole bundle's, and the bundle is kept for
	 * fleet_download_parse(): in the file BODY_PATH (FLEET_BASE_NEXT),
	 * or when it could not be written there, in BODY. */
	bool edited;
	char **gone_users, **gone_groups;
	size_t ngone_users, ngone_groups;
	char body_path[PATH_MAX];
	struct buf body;
};

/* GETs the manifest beside cfg->source (conditional on COND, which may be
 * NULL) and checks its signature with cfg->verify_key, then its
 * acceptance against HELD (none when NULL).  The bundle's content then
 * comes from the host's own copy when the manifest names it, else
 * through a delta from it, else from the full bundle; each is checked
 * against the manifest's hash before it is parsed, and kept in the state
 * directory as FLEET_BASE_NEXT until fleet_remember(); but when the
 * manifest names the bundle HELD applied and HELD->reusable() says so,
 * nothing of it is read (HOW "same": only D's status, validators, bytes,
 * manifest, sha256 and the manifest's generation, times and key are
 * set).  Storage without a
 * manifest (a source of an older version) is read as before: the bundle,
 * its signature, then its acceptance.  Returns 0, or a negative errno
 * with one line in ERR; on failure D holds nothing to free. */
int fleet_download(struct http *h, const struct scim_config *cfg,
                   const struct http_validators *cond,
                   const struct fleet_held *held, struct fleet_download *d,
                   char *err, size_t errlen);
void fleet_download_free(struct fleet_download *d);

/* An EDITED download made whole: D's model becomes the whole bundle's, as
 * fleet_download() would have read it.  Returns 0, or a negative errno
 * with one line in ERR. */
int fleet_download_parse(struct fleet_download *d, char *err, size_t errlen);

/* True when RULES leave every person and group of M as they are, with no
 * lock and no person named like a local group (what a host's rules over
 * a part of a bundle can tell without the rest). */
bool fleet_rules_keep(const struct model *m, const struct fleet_rules *rules);

/* Once D is applied: records what the next run compares against and
 * keeps its bundle as the base for deltas. */
void fleet_remember(struct status *st, const char *state_dir,
                    const struct fleet_download *d);

/* A source host: signs M as a bundle into OUT with cfg->bundle_key, INFO's
 * generation, times, source, origin and range set by the caller. */
int fleet_sign(const struct model *m, const struct scim_config *cfg,
               struct bundle_info *info, struct buf *out, char *err,
               size_t errlen);

enum fleet_published {
	FLEET_KEPT,     /* nothing written: the same directory, recent */
	FLEET_RESIGNED, /* only the manifest: the same directory, re-confirmed
	                 */
	FLEET_WRITTEN,  /* a new bundle, its deltas and manifest */
};

/* A source host publishes M: when its records differ from HELD_DIGEST
 * (hex, of the last bundle written) or the files are not there, a new
 * bundle, deltas from the MANIFEST_DELTAS bundles before it (kept in the
 * state directory's FLEET_HISTORY), then the manifest, each replaced
 * atomically, and deltas no longer named are removed; when they do not
 * but the manifest is RECONFIRM seconds old, only a re-signed manifest;
 * else nothing.  INFO as for fleet_sign(); its times and generation are
 * the manifest's.  Returns 0 and *WHAT, or a negative errno with one line
 * in ERR. */
int fleet_publish(const struct model *m, const struct scim_config *cfg,
                  struct bundle_info *info, const char *held_digest,
                  double reconfirm, enum fleet_published *what, size_t *ndeltas,
                  char *err, size_t errlen);

#endif
