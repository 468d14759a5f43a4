/* SPDX-License-Identifier: MIT */
/*
 * bundle.h: fleet mode's signed snapshot bundles (scim-bundle(5)).
 *
 * One host lists the bridge and writes the mapped directory as a bundle;
 * every other host downloads it from storage the company already runs and
 * checks it before anything else: the Ed25519 signature over every byte
 * but the last line, then a strict, line-by-line parse that validates
 * each name, number and field as the snapshot writer would.
 *
 * The format, version 1 (text, one record per line, fields separated by a
 * TAB; no field can hold a TAB or a newline since the validators refuse
 * control characters):
 *
 *   nss-scim-bundle 1
 *   generation G          only grows from one bundle to the next
 *   created T             seconds since the epoch
 *   valid-until T         a host refuses the bundle after this
 *   source TEXT           the bridge the source host listed
 *   origin TEXT           the source host's name
 *   id-range MIN MAX      every number lies within
 *   people N
 *   groups N
 *   P<TAB>name<TAB>uid<TAB>gid<TAB>active<TAB>gecos<TAB>home<TAB>shell
 *   G<TAB>name<TAB>gid<TAB>member,member,...
 *   end
 *   signature ed25519 KEYID BASE64
 *
 * People come sorted by name, then groups sorted by name, members sorted.
 * KEYID is the first 16 hex digits of the SHA-256 of the raw public key;
 * the signature covers every byte before the signature line.
 */
#ifndef SCIM_BUNDLE_H
#define SCIM_BUNDLE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delta.h"
#include "model.h"
#include "util.h"

#define BUNDLE_VERSION  1
#define BUNDLE_MAX      (256u << 20) /* bytes in a bundle */
#define BUNDLE_TEXT_MAX 256          /* bytes in source and origin */
#define BUNDLE_KEYID    17           /* 16 hex digits and a NUL */

struct bundle_info {
	uint64_t generation;
	int64_t created, valid_until;
	char source[BUNDLE_TEXT_MAX];
	char origin[BUNDLE_TEXT_MAX];
	uint32_t id_min, id_max;
	size_t npeople, ngroups;
	char keyid[BUNDLE_KEYID]; /* of the key that signed it */
	/* FNV-1a-64 of the id-range and the records: equal digests mean the
	 * same directory, whatever the generation and times. */
	uint64_t digest;
};

/* Writes M (sorted) as a signed bundle into OUT.  INFO's counts and keyid
 * are filled in.  Returns 0 or a negative errno with the reason in ERR. */
int bundle_write(const struct model *m, struct bundle_info *info, EVP_PKEY *key,
                 struct buf *out, char *err, size_t errlen);

/* Appends to OUT the signature line over all of OUT's bytes, as a bundle's
 * (the manifest of manifest.h is signed so).  Returns 0 or a negative
 * errno with the reason in ERR. */
int bundle_sign_text(EVP_PKEY *key, struct buf *out, char *err, size_t errlen);

/* Checks the signature of the LEN bytes at DATA with PUB.  Returns 0 and
 * *SIGNED_LEN, the length of the signed part, or -EBADMSG (no well-formed
 * signature line: truncated or not a bundle), -EKEYREJECTED (signed by
 * another key) or -EBADE (the signature does not match: altered), with
 * the reason in ERR. */
int bundle_verify(const char *data, size_t len, EVP_PKEY *pub,
                  size_t *signed_len, char *err, size_t errlen);

/* Parses the signed part (LEN bytes) into INFO and a sorted model M.
 * Returns 0, or -EBADMSG with "line N: reason" in ERR (M then holds
 * nothing to free), or -ENOMEM. */
int bundle_parse(const char *data, size_t len, struct bundle_info *info,
                 struct model *m, char *err, size_t errlen);

/* The bundle whose signed part is the LEN bytes at DATA, made by a delta
 * (delta.h) from a base that this host parsed whole before, CAME being
 * the lines the delta wrote (delta_edits): the header is parsed whole into
 * INFO, with the digest of all the records, and of the records only the
 * lines CAME names are parsed, into M (sorted), with every check
 * bundle_parse() makes of a line alone.  Every other record line is
 * counted, must be of its kind (the people, then the groups, as many as
 * the header says) and in name order, without repeats.  Whether a uid,
 * gid or member is unique or known across the whole bundle is not
 * checked: the caller's snapshot writer checks that of its result.
 * Returns as bundle_parse(). */
int bundle_parse_edited(const char *data, size_t len,
                        const struct delta_span *came, size_t ncame,
                        struct bundle_info *info, struct model *m, char *err,
                        size_t errlen);

/* The kind ('P' or 'G') and name (NAME has room for SNAP_NAME_MAX + 1
 * bytes) of the record line at P, LEN bytes without its newline; false
 * when it is not a record line of a bundle. */
bool bundle_line_name(const char *p, size_t len, char *kind, char *name);

/* Makes an Ed25519 key pair: PRIV (PKCS#8 PEM, mode 0600, created
 * exclusively: an existing file is never replaced) and PUB
 * (SubjectPublicKeyInfo PEM, mode 0644).  Returns 0 or a negative errno
 * with the reason in ERR. */
int bundle_keygen(const char *priv, const char *pub, char *err, size_t errlen);

/* Loads the private key at PATH, which must be a regular file owned by the
 * caller with no group or other permission bits, or the public key at
 * PATH.  Each must be an Ed25519 key.  Returns 0 or a negative errno with
 * the reason in ERR. */
int bundle_load_private(const char *path, EVP_PKEY **out, char *err,
                        size_t errlen);
int bundle_load_public(const char *path, EVP_PKEY **out, char *err,
                       size_t errlen);

/* KEY's id (see above) into ID.  Returns 0 or -EINVAL. */
int bundle_keyid(EVP_PKEY *key, char id[BUNDLE_KEYID]);

#endif
