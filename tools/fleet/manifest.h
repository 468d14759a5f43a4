/* SPDX-License-Identifier: MIT */
/*
 * manifest.h: the small signed file beside a bundle that says how fresh
 * the directory is and which bytes hold it (scim-bundle(5)).
 *
 * A fleet host reads it every interval; the bundle (megabytes) only when
 * the manifest names content the host does not hold, and then through a
 * delta (delta.h) when it holds one of the delta's bases.  The source
 * re-signs only the manifest to re-confirm an unchanged directory, so the
 * bundle's bytes, and its ETag, change only with the directory.
 *
 * The format, version 1, signed as a bundle is (bundle.h):
 *
 *   nss-scim-manifest 1
 *   generation G            grows with every manifest, re-confirmations too
 *   created T               when the source last listed the bridge
 *   valid-until T           a host refuses the manifest after this
 *   key KEYID               of the key that signs it
 *   bundle SHA256 SIZE      the full bundle, beside the manifest
 *   delta BASE SHA256 SIZE  a delta from the bundle whose hash is BASE to
 *                           this one (0 to MANIFEST_DELTAS lines)
 *   end
 *   signature ed25519 KEYID BASE64
 *
 * Every file is found from the bundle's name: BUNDLE.manifest, and
 * BUNDLE.B.T.delta with B and T the first 16 hex digits of the base's and
 * the target's hash, so that a new delta never replaces one an older
 * manifest names.
 */
#ifndef SCIM_MANIFEST_H
#define SCIM_MANIFEST_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "delta.h"
#include "util.h"

#define MANIFEST_VERSION 1
#define MANIFEST_MAX     (64u << 10)
/* Deltas the source writes for each change: from each of this many
 * earlier bundles.  A host further behind downloads the full bundle. */
#define MANIFEST_DELTAS 8
#define MANIFEST_SUFFIX ".manifest"
#define DELTA_SUFFIX    ".delta"

struct manifest_delta {
	char base[SHA256_HEX], hash[SHA256_HEX];
	size_t size;
};

struct manifest {
	uint64_t generation;
	int64_t created, valid_until;
	char keyid[BUNDLE_KEYID];
	char hash[SHA256_HEX]; /* of the full bundle */
	size_t size;
	struct manifest_delta deltas[MANIFEST_DELTAS];
	size_t ndeltas;
};

/* Writes M, signed with KEY, into OUT (emptied first); M's keyid is set
 * from KEY.  Returns 0 or a negative errno with the reason in ERR. */
int manifest_write(struct manifest *m, EVP_PKEY *key, struct buf *out,
                   char *err, size_t errlen);

/* Checks the signature of the LEN bytes at DATA with PUB, then parses
 * them into M.  Returns 0, or a negative errno as bundle_verify() does,
 * or -EBADMSG with "line N: reason", with the reason in ERR. */
int manifest_read(const char *data, size_t len, EVP_PKEY *pub,
                  struct manifest *m, char *err, size_t errlen);

/* The name of a file beside the bundle at BUNDLE (a path or a URL, whose
 * query string, if any, is kept at the end): BUNDLE.manifest, or, with
 * BASE and TARGET hashes, BUNDLE.B.T.delta.  Returns 0 or -ENAMETOOLONG. */
int manifest_sibling(const char *bundle, const char *base, const char *target,
                     char *out, size_t outlen);

#endif
