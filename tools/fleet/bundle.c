/* SPDX-License-Identifier: MIT */
/*
 * bundle.c: write, verify and parse signed bundles; see bundle.h.
 *
 * The crypto is OpenSSL 3's: EVP with Ed25519 (a pure signature over the
 * whole message, no digest chosen by us), PEM keys.  Nothing here
 * implements a primitive.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "snap.h"
#include "table.h"

#define MAGIC        "nss-scim-bundle"
#define SIG_PREFIX   "signature ed25519 "
#define SIG_LEN      64
#define SIG_B64_LEN  88 /* base64 of 64 bytes, padded */
#define COUNT_MAX    10000000
#define KEY_FILE_MAX (64u << 10)

/* ---- keys ------------------------------------------------------------- */

int bundle_keyid(EVP_PKEY *key, char id[BUNDLE_KEYID])
{
	unsigned char raw[64], md[EVP_MAX_MD_SIZE];
	size_t len = sizeof(raw);
	unsigned mdlen = 0;

	if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 ||
	    EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 8)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Opens PATH for reading a key and checks who may have written it: owned
 * by root or the caller, not a symbolic link, and not writable by group or
 * others (a key anyone else can replace would let them sign or verify in
 * our name); a private key must not be readable by them either. */
static int open_key(const char *path, bool private, FILE **out, char *err,
                    size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0)
		return set_error(err, errlen, -errno, "key file %s: %s", path,
		                 errno == ELOOP ? "is a symbolic link"
		                                : strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)KEY_FILE_MAX)
		r = set_error(err, errlen, -EINVAL,
		              "key file %s is not a regular file", path);
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		r = set_error(err, errlen, -EPERM,
		              "key file %s must be owned by root", path);
	else if ((st.st_mode & (private ? 077 : 022)) != 0)
		r = set_error(
		        err, errlen, -EPERM,
		        private ? "private key %s must not be accessible by "
		                  "group or others (mode %04o; use chmod 600)"
		                : "public key %s must not be writable by group "
		                  "or others (mode %04o; use chmod 644)",
		        path, (unsigned)(st.st_mode & 07777));
	else if ((*out = fdopen(fd, "r")) == NULL)
		r = set_error(err, errlen, -errno, "key file %s: %s", path,
		              strerror(errno));
	else
		return 0;
	close(fd);
	return r;
}

static int check_ed25519(EVP_PKEY *k, const char *path, char *err,
                         size_t errlen)
{
	if (k == NULL)
		return set_error(err, errlen, -EINVAL,
		                 "key file %s holds no PEM key of that kind",
		                 path);
	if (!EVP_PKEY_is_a(k, "ED25519"))
		return set_error(err, errlen, -EINVAL,
		                 "key file %s is not an Ed25519 key", path);
	return 0;
}

static int load_key(const char *path, bool private, EVP_PKEY **out, char *err,
                    size_t errlen)
{
	FILE *f = NULL;
	EVP_PKEY *k;
	int r;

	*out = NULL;
	r = open_key(path, private, &f, err, errlen);
	if (r < 0)
		return r;
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
	            : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	r = check_ed25519(k, path, err, errlen);
	if (r < 0) {
		EVP_PKEY_free(k);
		return r;
	}
	*out = k;
	return 0;
}

int bundle_load_private(const char *path, EVP_PKEY **out, char *err,
                        size_t errlen)
{
	return load_key(path, true, out, err, errlen);
}

int bundle_load_public(const char *path, EVP_PKEY **out, char *err,
                       size_t errlen)
{
	return load_key(path, false, out, err, errlen);
}

/* Creates PATH exclusively with MODE and writes KEY to it as PEM. */
static int write_key(const char *path, EVP_PKEY *key, bool private, mode_t mode,
                     char *err, size_t errlen)
{
	int fd =
	        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	             mode);
	FILE *f;
	int ok;

	if (fd < 0)
		return set_error(err, errlen, -errno, "%s: %s", path,
		                 errno == EEXIST
		                         ? "exists; a key is never replaced"
		                         : strerror(errno));
	if (fchmod(fd, mode) < 0 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		close(fd);
		unlink(path);
		return set_error(err, errlen, -e, "%s: %s", path, strerror(e));
	}
	ok = private ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	             : PEM_write_PUBKEY(f, key);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	ERR_clear_error();
	if (!ok) {
		unlink(path);
		return set_error(err, errlen, -EIO, "%s: cannot write the key",
		                 path);
	}
	return 0;
}

int bundle_keygen(const char *priv, const char *pub, char *err, size_t errlen)
{
	struct stat st;
	EVP_PKEY *key;
	int r;

	/* Both names are checked first, so that a refusal leaves nothing. */
	if (lstat(priv, &st) == 0 || lstat(pub, &st) == 0)
		return set_error(err, errlen, -EEXIST,
		                 "%s exists; a key is never replaced",
		                 lstat(priv, &st) == 0 ? priv : pub);
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL) {
		ERR_clear_error();
		return set_error(err, errlen, -ENOTSUP,
		                 "this OpenSSL cannot make an Ed25519 key");
	}
	r = write_key(priv, key, true, 0600, err, errlen);
	if (r == 0) {
		r = write_key(pub, key, false, 0644, err, errlen);
		if (r < 0)
			unlink(priv);
	}
	EVP_PKEY_free(key);
	return r;
}

/* ---- writing ---------------------------------------------------------- */

static uint64_t digest(const struct bundle_info *info, const char *records,
                       size_t len)
{
	uint64_t h = fnv1a(FNV1A_INIT, &info->id_min, sizeof(info->id_min));

	h = fnv1a(h, &info->id_max, sizeof(info->id_max));
	return fnv1a(h, records, len);
}

static int write_records(const struct model *m, const struct bundle_info *in,
                         struct buf *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->nusers; i++) {
		const struct model_user *u = &m->users[i];

		if (!snap_name_valid(u->name, strlen(u->name)) ||
		    !snap_field_valid(u->gecos, strlen(u->gecos)) ||
		    !snap_field_valid(u->home, strlen(u->home)) ||
		    !snap_field_valid(u->shell, strlen(u->shell)) ||
		    !snap_id_valid(u->uid, in->id_min, in->id_max) ||
		    !snap_id_valid(u->gid, in->id_min, in->id_max))
			return set_error(err, errlen, -EINVAL,
			                 "person %s cannot go into a bundle",
			                 u->name);
		buf_printf(out,
		           "P\t%s\t%" PRIu32 "\t%" PRIu32 "\t%d\t%s\t%s\t%s\n",
		           u->name, u->uid, u->gid, u->active ? 1 : 0, u->gecos,
		           u->home, u->shell);
	}
	for (size_t i = 0; i < m->ngroups; i++) {
		const struct model_group *g = &m->groups[i];

		if (!snap_name_valid(g->name, strlen(g->name)) ||
		    !snap_id_valid(g->gid, in->id_min, in->id_max))
			return set_error(err, errlen, -EINVAL,
			                 "group %s cannot go into a bundle",
			                 g->name);
		buf_printf(out, "G\t%s\t%" PRIu32 "\t", g->name, g->gid);
		for (size_t j = 0; j < g->nmembers; j++) {
			if (j > 0)
				buf_puts(out, ",");
			buf_puts(out, g->members[j]);
		}
		buf_puts(out, "\n");
	}
	return 0;
}

static int sign(EVP_PKEY *key, const char *data, size_t len,
                unsigned char sig[SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = SIG_LEN;
	int ok;

	ok = ctx != NULL &&
	     EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data,
	                    len) == 1 &&
	     siglen == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -EINVAL;
}

int bundle_write(const struct model *m, struct bundle_info *info, EVP_PKEY *key,
                 struct buf *out, char *err, size_t errlen)
{
	unsigned char sig[SIG_LEN], b64[SIG_B64_LEN + 1];
	size_t body;
	int r;

	if (!snap_text_valid(info->source, strlen(info->source)) ||
	    !snap_text_valid(info->origin, strlen(info->origin)))
		return set_error(err, errlen, -EINVAL,
		                 "the bundle's source or origin holds control "
		                 "characters");
	if (bundle_keyid(key, info->keyid) < 0)
		return set_error(err, errlen, -EINVAL,
		                 "the signing key is unusable");
	info->npeople = m->nusers;
	info->ngroups = m->ngroups;
	buf_reset(out);
	buf_printf(out,
	           MAGIC " %d\ngeneration %" PRIu64 "\ncreated %" PRId64
	                 "\nvalid-until %" PRId64 "\nsource %s\norigin %s\n"
	                 "id-range %" PRIu32 " %" PRIu32
	                 "\npeople %zu\ngroups %zu\n",
	           BUNDLE_VERSION, info->generation, info->created,
	           info->valid_until, info->source, info->origin, info->id_min,
	           info->id_max, info->npeople, info->ngroups);
	body = out->len;
	r = write_records(m, info, out, err, errlen);
	if (r < 0)
		return r;
	if (out->err == 0)
		info->digest = digest(info, out->data + body, out->len - body);
	buf_puts(out, "end\n");
	if (out->err)
		return set_error(err, errlen, out->err, "out of memory");
	if (out->len > BUNDLE_MAX)
		return set_error(err, errlen, -EFBIG,
		                 "the bundle would be larger than %u bytes",
		                 BUNDLE_MAX);
	if (sign(key, out->data, out->len, sig) < 0)
		return set_error(err, errlen, -EINVAL,
		                 "signing the bundle failed");
	EVP_EncodeBlock(b64, sig, SIG_LEN);
	buf_printf(out, SIG_PREFIX "%s %s\n", info->keyid, (const char *)b64);
	return out->err ? set_error(err, errlen, out->err, "out of memory") : 0;
}

int bundle_sign_text(EVP_PKEY *key, struct buf *out, char *err, size_t errlen)
{
	unsigned char sig[SIG_LEN], b64[SIG_B64_LEN + 1];
	char id[BUNDLE_KEYID];

	if (out->err)
		return set_error(err, errlen, out->err, "out of memory");
	if (bundle_keyid(key, id) < 0 ||
	    sign(key, out->data, out->len, sig) < 0)
		return set_error(err, errlen, -EINVAL, "signing failed");
	EVP_EncodeBlock(b64, sig, SIG_LEN);
	buf_printf(out, SIG_PREFIX "%s %s\n", id, (const char *)b64);
	return out->err ? set_error(err, errlen, out->err, "out of memory") : 0;
}

/* ---- verifying -------------------------------------------------------- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return false;
	return true;
}

int bundle_verify(const char *data, size_t len, EVP_PKEY *pub,
                  size_t *signed_len, char *err, size_t errlen)
{
	const size_t line_len = sizeof(SIG_PREFIX) - 1 + 16 + 1 + SIG_B64_LEN;
	unsigned char b64[SIG_B64_LEN + 1], sig[SIG_B64_LEN];
	char want[BUNDLE_KEYID], got[BUNDLE_KEYID];
	const char *line;
	EVP_MD_CTX *ctx;
	int ok;

	if (len < line_len + 1 || data[len - 1] != '\n')
		return set_error(err, errlen, -EBADMSG,
		                 "no signature at the end (truncated, or not a "
		                 "bundle)");
	line = data + len - 1 - line_len;
	if ((line > data && line[-1] != '\n') ||
	    memcmp(line, SIG_PREFIX, sizeof(SIG_PREFIX) - 1) != 0 ||
	    !is_hex(line + sizeof(SIG_PREFIX) - 1, 16) ||
	    line[sizeof(SIG_PREFIX) - 1 + 16] != ' ')
		return set_error(err, errlen, -EBADMSG,
		                 "no signature at the end (truncated, or not a "
		                 "bundle)");
	memcpy(got, line + sizeof(SIG_PREFIX) - 1, 16);
	got[16] = '\0';
	memcpy(b64, line + sizeof(SIG_PREFIX) - 1 + 17, SIG_B64_LEN);
	b64[SIG_B64_LEN] = '\0';
	/* 88 characters ending in "==" decode to 64 bytes and two zeros. */
	if (b64[SIG_B64_LEN - 1] != '=' || b64[SIG_B64_LEN - 2] != '=' ||
	    EVP_DecodeBlock(sig, b64, SIG_B64_LEN) != 66) {
		ERR_clear_error();
		return set_error(err, errlen, -EBADMSG,
		                 "the signature line is damaged");
	}
	if (bundle_keyid(pub, want) < 0)
		return set_error(err, errlen, -EINVAL,
		                 "verify_key is unusable");
	if (strcmp(want, got) != 0)
		return set_error(err, errlen, -EKEYREJECTED,
		                 "signed by key %s, not by verify_key (%s)",
		                 got, want);
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
	     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, sig, SIG_LEN, (const unsigned char *)data,
	                      (size_t)(line - data)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return set_error(err, errlen, -EBADE,
		                 "the signature does not match: the bundle was "
		                 "altered after signing");
	*signed_len = (size_t)(line - data);
	return 0;
}

/* ---- parsing ---------------------------------------------------------- */

struct parser {
	const char *p, *end;
	unsigned line;
	char *err;
	size_t errlen;
	char *scratch; /* the current line, NUL-terminated, split in place */
	size_t cap;
	int rc; /* why next_line() gave NULL */
};

static int bad(struct parser *ps, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int bad(struct parser *ps, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	set_error(ps->err, ps->errlen, -EBADMSG, "line %u: %s", ps->line, why);
	return -EBADMSG;
}

/* The next line, in ps->scratch without its newline; NULL with the reason
 * in ps->rc and ps->err. */
static char *next_line(struct parser *ps)
{
	const char *nl;
	size_t n;

	ps->line++;
	if (ps->p >= ps->end) {
		ps->rc = bad(ps, "the bundle ends early");
		return NULL;
	}
	nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	n = nl ? (size_t)(nl - ps->p) : 0;
	if (nl == NULL || memchr(ps->p, '\0', n) != NULL) {
		ps->rc = bad(ps, nl ? "NUL byte" : "the last line has no end");
		return NULL;
	}
	if (ps->scratch == NULL || n + 1 > ps->cap) {
		char *s = realloc(ps->scratch, n + 1);

		if (s == NULL) {
			set_error(ps->err, ps->errlen, -ENOMEM,
			          "out of memory");
			ps->rc = -ENOMEM;
			return NULL;
		}
		ps->scratch = s;
		ps->cap = n + 1;
	}
	memcpy(ps->scratch, ps->p, n);
	ps->scratch[n] = '\0';
	ps->p = nl + 1;
	return ps->scratch;
}

/* "KEY VALUE": the value, or NULL. */
static const char *keyed(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) == 0 && line[n] == ' ' ? line + n + 1
	                                                    : NULL;
}

/* The next line's value for KEY ("KEY VALUE"); NULL with ps->rc set. */
static const char *header(struct parser *ps, const char *key, const char *what)
{
	const char *line = next_line(ps), *v;

	if (line == NULL)
		return NULL;
	v = keyed(line, key);
	if (v == NULL)
		ps->rc = bad(ps, "expected \"%s %s\"", key, what);
	return v;
}

static int header_num(struct parser *ps, const char *key, uint64_t max,
                      uint64_t *out)
{
	const char *v = header(ps, key, "N");

	if (v == NULL)
		return ps->rc;
	if (parse_u64(v, 0, max, out) < 0)
		return bad(ps, "%s must be a number up to %" PRIu64, key, max);
	return 0;
}

static int header_text(struct parser *ps, const char *key, char *out)
{
	const char *v = header(ps, key, "TEXT");

	if (v == NULL)
		return ps->rc;
	if (strlen(v) >= BUNDLE_TEXT_MAX || !snap_text_valid(v, strlen(v)))
		return bad(ps, "%s is too long or holds control characters",
		           key);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int parse_header(struct parser *ps, struct bundle_info *info)
{
	uint64_t v = 0, lo = 0, hi = 0, np = 0, ng = 0, created = 0, until = 0;
	char *line = next_line(ps), *sp;
	int r;

	if (line == NULL)
		return ps->rc;
	if (keyed(line, MAGIC) == NULL)
		return bad(ps, "not an nss-scim bundle");
	if (parse_u64(keyed(line, MAGIC), 1, UINT32_MAX, &v) < 0 ||
	    v != BUNDLE_VERSION)
		return bad(ps, "bundle format %s; this scim-cache reads %d",
		           keyed(line, MAGIC), BUNDLE_VERSION);
	if ((r = header_num(ps, "generation", UINT64_MAX, &info->generation)) ||
	    (r = header_num(ps, "created", INT64_MAX, &created)) ||
	    (r = header_num(ps, "valid-until", INT64_MAX, &until)) ||
	    (r = header_text(ps, "source", info->source)) ||
	    (r = header_text(ps, "origin", info->origin)))
		return r;
	info->created = (int64_t)created;
	info->valid_until = (int64_t)until;
	if ((line = next_line(ps)) == NULL)
		return ps->rc;
	sp = keyed(line, "id-range") ? strchr(line + 9, ' ') : NULL;
	if (sp == NULL)
		return bad(ps, "expected \"id-range MIN MAX\"");
	*sp = '\0';
	if (parse_u64(line + 9, 1, SNAP_ID_LIMIT, &lo) < 0 ||
	    parse_u64(sp + 1, 1, SNAP_ID_LIMIT, &hi) < 0 || lo > hi)
		return bad(ps, "id-range must be two numbers, 1 <= MIN <= "
		               "MAX < 2^31");
	info->id_min = (uint32_t)lo;
	info->id_max = (uint32_t)hi;
	if ((r = header_num(ps, "people", COUNT_MAX, &np)) ||
	    (r = header_num(ps, "groups", COUNT_MAX, &ng)))
		return r;
	info->npeople = (size_t)np;
	info->ngroups = (size_t)ng;
	return 0;
}

/* Splits LINE at TABs into exactly N fields. */
static bool split(char *line, char **f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if ((line == NULL) != (i == n - 1))
			return false;
		if (line != NULL)
			*line++ = '\0';
	}
	return true;
}

static int id_field(struct parser *ps, const struct bundle_info *info,
                    const char *what, const char *v, uint32_t *out)
{
	if (parse_u32(v, 1, SNAP_ID_LIMIT, out) < 0 ||
	    !snap_id_valid(*out, info->id_min, info->id_max))
		return bad(ps, "%s %s is not a number within the id-range",
		           what, v);
	return 0;
}

/* The fields of a person's LINE (split in place) into U, each checked as
 * the writer would; PREV, the name of the person before, when known. */
static int person_fields(struct parser *ps, const struct bundle_info *info,
                         char *line, const char *prev, struct model_user *u)
{
	char *f[8];
	int r;

	*u = (struct model_user){0};
	if (!split(line, f, 8) || strcmp(f[0], "P") != 0)
		return bad(ps, "expected a person: P and 7 TAB-separated "
		               "fields");
	u->name = f[1];
	if (!snap_name_valid(u->name, strlen(u->name)))
		return bad(ps, "invalid name");
	if (prev != NULL && strcmp(prev, u->name) >= 0)
		return bad(ps, "people are not sorted by name, or repeat one");
	if ((r = id_field(ps, info, "uid", f[2], &u->uid)) ||
	    (r = id_field(ps, info, "gid", f[3], &u->gid)))
		return r;
	if (strcmp(f[4], "0") != 0 && strcmp(f[4], "1") != 0)
		return bad(ps, "the active flag must be 0 or 1");
	u->active = f[4][0] == '1';
	u->gecos = f[5];
	u->home = f[6];
	u->shell = f[7];
	if (!snap_field_valid(u->gecos, strlen(u->gecos)) ||
	    u->home[0] != '/' || !snap_field_valid(u->home, strlen(u->home)) ||
	    u->shell[0] != '/' || !snap_field_valid(u->shell, strlen(u->shell)))
		return bad(ps, "gecos, home or shell unusable");
	return 0;
}

static int parse_person(struct parser *ps, const struct bundle_info *info,
                        char *line, const char *prev, struct numset *uids,
                        struct strmap *names, struct model *m)
{
	struct model_user u;
	int r = person_fields(ps, info, line, prev, &u);

	if (r < 0)
		return r;
	if (numset_has(uids, u.uid))
		return bad(ps, "uid %" PRIu32 " repeats", u.uid);
	/* NAMES gives each person's position in M, whose copy of the name
	 * the groups then take as their members' (parse_members). */
	if (numset_add(uids, u.uid) < 0 ||
	    strmap_put(names, u.name, m->nusers) < 0 ||
	    model_add_user(m, &u) < 0)
		return set_error(ps->err, ps->errlen, -ENOMEM, "out of memory");
	return 0;
}

/* Splits the comma-separated MEMBERS into *V (grown as needed), each a
 * valid name, in strictly increasing order. */
static int split_members(struct parser *ps, char *members, char ***v,
                         size_t *cap, size_t *n)
{
	*n = 0;
	if (*members == '\0')
		return 0;
	for (char *s = members; s != NULL;) {
		char *c = strchr(s, ',');

		if (c != NULL)
			*c++ = '\0';
		if (!snap_name_valid(s, strlen(s)))
			return bad(ps, "invalid member name");
		if (*n > 0 && strcmp((*v)[*n - 1], s) >= 0)
			return bad(ps, "members are not sorted or repeat");
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			char **a = realloc(*v, nc * sizeof(*a));

			if (a == NULL)
				return set_error(ps->err, ps->errlen, -ENOMEM,
				                 "out of memory");
			*v = a;
			*cap = nc;
		}
		(*v)[(*n)++] = s;
		s = c;
	}
	return 0;
}

/* split_members(), then each member must be one of the people's NAMES
 * and goes into *V as M holds that person's name, so that M's groups
 * take their members without looking each one up again. */
static int parse_members(struct parser *ps, char *members,
                         const struct strmap *names, const struct model *m,
                         char ***v, size_t *cap, size_t *n)
{
	uint32_t *at;
	int r = split_members(ps, members, v, cap, n);

	if (r < 0 || *n == 0)
		return r;
	/* Looked up together: a group's thousands of members cost the
	 * table's cache misses side by side, not one after another. */
	at = malloc(*n * sizeof(*at));
	if (at == NULL)
		return set_error(ps->err, ps->errlen, -ENOMEM, "out of memory");
	strmap_get_many(names, (const char *const *)*v, *n, at);
	for (size_t i = 0; r == 0 && i < *n; i++)
		if (at[i] == UINT32_MAX)
			r = bad(ps, "member %s is not a person of the bundle",
			        (*v)[i]);
		else
			(*v)[i] = m->users[at[i]].name;
	free(at);
	return r;
}

/* The fields of a group's LINE (split in place): its name, gid and the
 * text of its members; PREV, the name of the group before, when known. */
static int group_fields(struct parser *ps, const struct bundle_info *info,
                        char *line, const char *prev, char **name,
                        uint32_t *gid, char **members)
{
	char *f[4];

	/* Each refusal returns its code itself, not bad()'s: a static
	 * analyzer does not follow the variadic bad() and would take a
	 * refused line for one with fields. */
	if (!split(line, f, 4) || strcmp(f[0], "G") != 0) {
		bad(ps, "expected a group: G and 3 TAB-separated fields");
		return -EBADMSG;
	}
	if (!snap_name_valid(f[1], strlen(f[1]))) {
		bad(ps, "invalid group name");
		return -EBADMSG;
	}
	if (prev != NULL && strcmp(prev, f[1]) >= 0) {
		bad(ps, "groups are not sorted by name, or repeat one");
		return -EBADMSG;
	}
	*name = f[1];
	*members = f[3];
	return id_field(ps, info, "gid", f[2], gid);
}

static int parse_group(struct parser *ps, const struct bundle_info *info,
                       char *line, const char **prev, struct numset *gids,
                       const struct strmap *names, struct model *m, char ***v,
                       size_t *cap)
{
	const char *name;
	char *gname = NULL, *members = NULL;
	uint32_t gid = 0;
	size_t n = 0, at = 0;
	int r;

	if ((r = group_fields(ps, info, line, *prev, &gname, &gid, &members)))
		return r;
	if (numset_has(gids, gid))
		return bad(ps, "gid %" PRIu32 " repeats", gid);
	if ((r = parse_members(ps, members, names, m, v, cap, &n)) < 0)
		return r;
	/* A private group's name is its person's, which M holds already. */
	name = strmap_get(names, gname, &at)
	               ? m->users[at].name
	               : model_keep(m, gname, strlen(gname) + 1);
	*prev = name;
	if (name == NULL || numset_add(gids, gid) < 0 ||
	    model_add_group_of_users(m, name, gid, (const char *const *)*v, n,
	                             NULL) < 0)
		return set_error(ps->err, ps->errlen, -ENOMEM, "out of memory");
	return 0;
}

static int parse_body(struct parser *ps, struct bundle_info *info,
                      struct model *m)
{
	struct numset uids = {0}, gids = {0};
	struct strmap names = {0};
	char **v = NULL, *line = NULL;
	const char *prev = NULL;
	const char *records = ps->p;
	size_t cap = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < info->npeople; i++) {
		line = next_line(ps);
		r = line == NULL ? ps->rc : 0;
		if (r == 0)
			r = parse_person(ps, info, line,
			                 i ? m->users[i - 1].name : NULL, &uids,
			                 &names, m);
	}
	for (size_t i = 0; r == 0 && i < info->ngroups; i++) {
		line = next_line(ps);
		r = line == NULL ? ps->rc : 0;
		if (r == 0)
			r = parse_group(ps, info, line, &prev, &gids, &names, m,
			                &v, &cap);
	}
	if (r == 0)
		info->digest = digest(info, records, (size_t)(ps->p - records));
	if (r == 0 && (line = next_line(ps)) == NULL)
		r = ps->rc;
	else if (r == 0 && strcmp(line, "end") != 0)
		r = bad(ps, "expected \"end\" after %zu people and %zu groups",
		        info->npeople, info->ngroups);
	if (r == 0 && ps->p != ps->end)
		r = bad(ps, "text after \"end\"");
	free(v);
	numset_free(&uids);
	numset_free(&gids);
	strmap_free(&names);
	return r;
}

/* A parse's end: M sorted when R is 0, else emptied; returns R. */
static int parsed(struct model *m, int r)
{
	if (r < 0)
		model_free(m);
	else
		model_sort(m);
	return r;
}

int bundle_parse(const char *data, size_t len, struct bundle_info *info,
                 struct model *m, char *err, size_t errlen)
{
	struct parser ps = {
	        .p = data, .end = data + len, .err = err, .errlen = errlen};
	int r;

	*info = (struct bundle_info){0};
	*m = (struct model){0};
	r = parse_header(&ps, info);
	if (r == 0)
		r = parse_body(&ps, info, m);
	free(ps.scratch);
	return parsed(m, r);
}

/* The name of the record line at P (LEN bytes, "P\tNAME\t..." or
 * "G\tNAME\t..."), into *NAME and *N; false when it has no such field. */
static bool record_name(const char *p, size_t len, const char **name, size_t *n)
{
	const char *tab;

	if (len < 3 || p[1] != '\t')
		return false;
	tab = memchr(p + 2, '\t', len - 2);
	if (tab == NULL)
		return false;
	*name = p + 2;
	*n = (size_t)(tab - *name);
	return true;
}

bool bundle_line_name(const char *p, size_t len, char *kind, char *name)
{
	const char *s;
	size_t n;

	if (!record_name(p, len, &s, &n) || n == 0 || n > SNAP_NAME_MAX ||
	    (p[0] != 'P' && p[0] != 'G'))
		return false;
	*kind = p[0];
	memcpy(name, s, n);
	name[n] = '\0';
	return true;
}

/* One line of the records that CAME names: parsed whole into M. */
static int parse_came(struct parser *ps, const struct bundle_info *info,
                      bool person, struct model *m, char ***v, size_t *cap)
{
	char *line = next_line(ps), *name = NULL, *members = NULL;
	struct model_user u;
	uint32_t gid = 0;
	size_t n = 0;
	int r;

	if (line == NULL)
		return ps->rc;
	if (person) {
		r = person_fields(ps, info, line, NULL, &u);
		if (r == 0 && model_add_user(m, &u) < 0)
			r = -ENOMEM;
	} else {
		r = group_fields(ps, info, line, NULL, &name, &gid, &members);
		if (r == 0)
			r = split_members(ps, members, v, cap, &n);
		if (r == 0 &&
		    model_add_group(m, name, gid, (const char *const *)*v, n,
		                    NULL) < 0)
			r = -ENOMEM;
	}
	if (r == -ENOMEM)
		set_error(ps->err, ps->errlen, -ENOMEM, "out of memory");
	return r;
}

/* Any other line of the records: it must be one of its kind; the base it
 * came from was parsed whole, so it is not read further. */
static int pass_line(struct parser *ps, bool person)
{
	const char *nl;

	ps->line++;
	nl = ps->p < ps->end ? memchr(ps->p, '\n', (size_t)(ps->end - ps->p))
	                     : NULL;
	if (nl == NULL)
		return bad(ps, "the bundle ends early");
	if ((size_t)(nl - ps->p) < 2 || ps->p[0] != (person ? 'P' : 'G') ||
	    ps->p[1] != '\t')
		return bad(ps, "expected a %s", person ? "person" : "group");
	ps->p = nl + 1;
	return 0;
}

int bundle_parse_edited(const char *data, size_t len,
                        const struct delta_span *came, size_t ncame,
                        struct bundle_info *info, struct model *m, char *err,
                        size_t errlen)
{
	struct parser ps = {
	        .p = data, .end = data + len, .err = err, .errlen = errlen};
	const char *records, *prev = NULL, *name = NULL;
	size_t k = 0, cap = 0, prevn = 0, n = 0, total;
	char **v = NULL, *line;
	int r;

	*info = (struct bundle_info){0};
	*m = (struct model){0};
	r = parse_header(&ps, info);
	records = ps.p;
	total = info->npeople + info->ngroups;
	while (k < ncame && data + came[k].off < records)
		k++; /* the header's, parsed whole above */
	for (size_t i = 0; r == 0 && i < total; i++) {
		const char *at = ps.p;
		bool person = i < info->npeople;

		if (i == info->npeople)
			prev = NULL; /* the groups' names start again */
		if (k < ncame && data + came[k].off == at) {
			r = parse_came(&ps, info, person, m, &v, &cap);
			k++;
		} else {
			r = pass_line(&ps, person);
		}
		/* Every name in order, the ones not parsed included: the
		 * lines a delta kept are next to lines it wrote. */
		if (r == 0 &&
		    !record_name(at, (size_t)(ps.p - at - 1), &name, &n))
			r = bad(&ps, "a record without a name");
		if (r == 0 && prev != NULL) {
			int c = memcmp(prev, name, prevn < n ? prevn : n);

			if (c > 0 || (c == 0 && prevn >= n))
				r = bad(&ps,
				        "%s are not sorted by name, or "
				        "repeat one",
				        person ? "people" : "groups");
		}
		prev = name;
		prevn = n;
	}
	if (r == 0)
		info->digest = digest(info, records, (size_t)(ps.p - records));
	if (r == 0 && k < ncame && data + came[k].off < ps.p)
		r = bad(&ps, "an edited line is not a record");
	if (r == 0 && (line = next_line(&ps)) == NULL)
		r = ps.rc;
	else if (r == 0 && strcmp(line, "end") != 0)
		r = bad(&ps, "expected \"end\" after %zu people and %zu groups",
		        info->npeople, info->ngroups);
	if (r == 0 && ps.p != ps.end)
		r = bad(&ps, "text after \"end\"");
	free(v);
	free(ps.scratch);
	return parsed(m, r);
}
