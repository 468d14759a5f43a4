/* SPDX-License-Identifier: MIT */
/*
 * manifest.c: write and read signed manifests; see manifest.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

#define MAGIC "nss-scim-manifest"

int manifest_write(struct manifest *m, EVP_PKEY *key, struct buf *out,
                   char *err, size_t errlen)
{
	if (bundle_keyid(key, m->keyid) < 0)
		return set_error(err, errlen, -EINVAL,
		                 "the signing key is unusable");
	buf_reset(out);
	buf_printf(out,
	           MAGIC " %d\ngeneration %" PRIu64 "\ncreated %" PRId64
	                 "\nvalid-until %" PRId64 "\nkey %s\nbundle %s %zu\n",
	           MANIFEST_VERSION, m->generation, m->created, m->valid_until,
	           m->keyid, m->hash, m->size);
	for (size_t i = 0; i < m->ndeltas; i++)
		buf_printf(out, "delta %s %s %zu\n", m->deltas[i].base,
		           m->deltas[i].hash, m->deltas[i].size);
	buf_puts(out, "end\n");
	return bundle_sign_text(key, out, err, errlen);
}

static bool hex64(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && s[64] == '\0';
}

/* The next line of [*P, END), NUL-terminated into LINE; false at the end
 * or for a line too long, unterminated, or holding a NUL. */
static bool next_line(const char **p, const char *end, char *line, size_t cap)
{
	const char *nl;
	size_t n;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = nl ? (size_t)(nl - *p) : 0;
	if (nl == NULL || n >= cap || memchr(*p, '\0', n) != NULL)
		return false;
	memcpy(line, *p, n);
	line[n] = '\0';
	*p = nl + 1;
	return true;
}

static int bad(char *err, size_t errlen, unsigned line, const char *why)
{
	return set_error(err, errlen, -EBADMSG, "line %u: %s", line, why);
}

static int parse(const char *data, size_t len, struct manifest *m, char *err,
                 size_t errlen)
{
	const char *p = data, *end = data + len;
	char line[512], a[80], b[80], c[32], d[32];
	uint64_t v, created, until, size;
	unsigned n = 0;
	int k;

	*m = (struct manifest){0};
#define NEXT()                                                                 \
	do {                                                                   \
		n++;                                                           \
		if (!next_line(&p, end, line, sizeof(line)))                   \
			return bad(err, errlen, n,                             \
			           "a line is missing, too long or damaged");  \
	} while (0)
	NEXT();
	if (sscanf(line, MAGIC " %20s%n", c, &k) != 1 || line[k] != '\0' ||
	    strncmp(line, MAGIC " ", sizeof(MAGIC)) != 0)
		return bad(err, errlen, n, "not an nss-scim manifest");
	if (parse_u64(c, 1, UINT32_MAX, &v) < 0 || v != MANIFEST_VERSION)
		return bad(err, errlen, n,
		           "a manifest format this host does "
		           "not read");
	NEXT();
	if (strncmp(line, "generation ", 11) != 0 ||
	    parse_u64(line + 11, 1, UINT64_MAX, &m->generation) < 0)
		return bad(err, errlen, n, "expected \"generation N\"");
	NEXT();
	if (strncmp(line, "created ", 8) != 0 ||
	    parse_u64(line + 8, 0, INT64_MAX, &created) < 0)
		return bad(err, errlen, n, "expected \"created T\"");
	NEXT();
	if (strncmp(line, "valid-until ", 12) != 0 ||
	    parse_u64(line + 12, 0, INT64_MAX, &until) < 0)
		return bad(err, errlen, n, "expected \"valid-until T\"");
	m->created = (int64_t)created;
	m->valid_until = (int64_t)until;
	NEXT();
	if (strncmp(line, "key ", 4) != 0 || strlen(line + 4) != 16 ||
	    strspn(line + 4, "0123456789abcdef") != 16)
		return bad(err, errlen, n, "expected \"key KEYID\"");
	memcpy(m->keyid, line + 4, BUNDLE_KEYID);
	NEXT();
	if (sscanf(line, "bundle %79s %20s%n", a, c, &k) != 2 ||
	    line[k] != '\0' || !hex64(a) ||
	    parse_u64(c, 1, BUNDLE_MAX, &size) < 0)
		return bad(err, errlen, n, "expected \"bundle SHA256 SIZE\"");
	memcpy(m->hash, a, SHA256_HEX);
	m->size = (size_t)size;
	for (;;) {
		struct manifest_delta *md = &m->deltas[m->ndeltas];

		NEXT();
		if (strcmp(line, "end") == 0)
			break;
		if (m->ndeltas == MANIFEST_DELTAS)
			return bad(err, errlen, n, "too many deltas");
		if (sscanf(line, "delta %79s %79s %20s%n", a, b, d, &k) != 3 ||
		    line[k] != '\0' || !hex64(a) || !hex64(b) ||
		    parse_u64(d, 1, BUNDLE_MAX, &size) < 0)
			return bad(err, errlen, n,
			           "expected \"delta BASE SHA256 SIZE\"");
		memcpy(md->base, a, SHA256_HEX);
		memcpy(md->hash, b, SHA256_HEX);
		md->size = (size_t)size;
		m->ndeltas++;
	}
#undef NEXT
	if (p != end)
		return bad(err, errlen, n + 1, "text after \"end\"");
	return 0;
}

int manifest_read(const char *data, size_t len, EVP_PKEY *pub,
                  struct manifest *m, char *err, size_t errlen)
{
	size_t signed_len = 0;
	char id[BUNDLE_KEYID];
	int rc = bundle_verify(data, len, pub, &signed_len, err, errlen);

	if (rc == 0)
		rc = parse(data, signed_len, m, err, errlen);
	/* The key line says which key signed it; only verify_key can have. */
	if (rc == 0 && (bundle_keyid(pub, id) < 0 || strcmp(id, m->keyid) != 0))
		rc = set_error(err, errlen, -EKEYREJECTED,
		               "names key %s, not verify_key", m->keyid);
	return rc;
}

int manifest_sibling(const char *bundle, const char *base, const char *target,
                     char *out, size_t outlen)
{
	const char *q = strchr(bundle, '?');
	size_t n = q ? (size_t)(q - bundle) : strlen(bundle);
	int w;

	if (base != NULL)
		w = snprintf(out, outlen, "%.*s.%.16s.%.16s" DELTA_SUFFIX "%s",
		             (int)n, bundle, base, target, q ? q : "");
	else
		w = snprintf(out, outlen, "%.*s" MANIFEST_SUFFIX "%s", (int)n,
		             bundle, q ? q : "");
	return w < 0 || (size_t)w >= outlen ? -ENAMETOOLONG : 0;
}
