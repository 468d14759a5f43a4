/* SPDX-License-Identifier: MIT */
/*
 * delta.c: make and apply bundle deltas; see delta.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delta.h"

#define MAGIC "nss-scim-delta"

void delta_sha256_hex(const void *data, size_t len, char out[SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		/* Never a valid hash: nothing can match it. */
		snprintf(out, SHA256_HEX, "%s", "unavailable");
		return;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * (size_t)i, 3, "%02x", md[i]);
}

int delta_sha256_file(const char *path, char out[SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE], *piece = malloc(1u << 20);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	int rc = fd < 0 ? -errno : 0;
	ssize_t got;

	if (rc == 0 && (piece == NULL || ctx == NULL ||
	                EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1))
		rc = -ENOMEM;
	while (rc == 0 && (got = read(fd, piece, 1u << 20)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			rc = -errno;
		else if (EVP_DigestUpdate(ctx, piece, (size_t)got) != 1)
			rc = -EIO;
	}
	if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32))
		rc = -EIO;
	for (unsigned i = 0; rc == 0 && i < n; i++)
		snprintf(out + 2 * (size_t)i, 3, "%02x", md[i]);
	if (rc < 0)
		snprintf(out, SHA256_HEX, "%s", "unavailable");
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	free(piece);
	return rc;
}

/* ---- lines ------------------------------------------------------------ */

struct line {
	const char *p;
	size_t n; /* without the newline */
};

struct lines {
	struct line *v;
	size_t n;
};

/* Splits TEXT into lines; a text that does not end with a newline is not
 * whole lines (-EINVAL). */
static int split_lines(const char *text, size_t len, struct lines *out)
{
	size_t cap = 0;

	*out = (struct lines){0};
	if (len > 0 && text[len - 1] != '\n')
		return -EINVAL;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct line *v = realloc(out->v, nc * sizeof(*v));

			if (v == NULL) {
				free(out->v);
				return -ENOMEM;
			}
			out->v = v;
			cap = nc;
		}
		out->v[out->n++] = (struct line){p, (size_t)(nl - p)};
		p = nl + 1;
	}
	return 0;
}

/* Where a line sorts in a bundle: the header (by position), people and
 * groups (by name), then what follows the records (by position). */
struct key {
	int cls;
	const char *k;
	size_t kn, idx;
};

static bool is_record(const struct line *l)
{
	return l->n >= 2 && (l->p[0] == 'P' || l->p[0] == 'G') &&
	       l->p[1] == '\t';
}

static void keys_of(const struct lines *ls, struct key *k)
{
	size_t after = 0;
	bool seen = false;

	for (size_t i = 0; i < ls->n; i++) {
		const struct line *l = &ls->v[i];

		if (is_record(l)) {
			const char *tab = memchr(l->p + 2, '\t', l->n - 2);

			seen = true;
			k[i] = (struct key){.cls = l->p[0] == 'P' ? 1 : 2,
			                    .k = l->p + 2,
			                    .kn = tab ? (size_t)(tab - l->p - 2)
			                              : l->n - 2};
		} else
			k[i] = (struct key){.cls = seen ? 3 : 0,
			                    .idx = seen ? after++ : i};
	}
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

static int key_cmp(const struct key *a, const struct key *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->cls == 1 || a->cls == 2)
		return bytes_cmp(a->k, a->kn, b->k, b->kn);
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* ---- group members ---------------------------------------------------- */

/* The offset of a group line's members: after "G<TAB>name<TAB>gid<TAB>". */
static bool members_at(const struct line *l, size_t *off)
{
	size_t tabs = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->p[i] == '\t' && ++tabs == 3) {
			*off = i + 1;
			return true;
		}
	return false;
}

/* The next comma-separated name at *P (before END), advancing *P. */
static bool next_name(const char **p, const char *end, const char **s,
                      size_t *n)
{
	const char *c;

	if (*p >= end)
		return false;
	c = memchr(*p, ',', (size_t)(end - *p));
	*s = *p;
	*n = c ? (size_t)(c - *p) : (size_t)(end - *p);
	*p = c ? c + 1 : end;
	return true;
}

static void add_name(struct buf *b, const char *s, size_t n)
{
	if (b->len > 0 && b->data[b->len - 1] != '+' &&
	    b->data[b->len - 1] != '-')
		buf_add(b, ",", 1);
	buf_add(b, s, n);
}

/* The "~" operation turning group line A into B, when both have the same
 * name and gid and sorted members; false when it does not apply. */
static bool member_edit(const struct line *a, const struct line *b,
                        struct buf *plus, struct buf *minus)
{
	size_t ao, bo, an = 0, bn = 0;
	const char *ap, *bp, *ae, *be, *as = NULL, *bs = NULL, *pa = NULL,
	                               *pb = NULL;
	size_t pan = 0, pbn = 0;
	bool ha, hb;

	if (a->p[0] != 'G' || !members_at(a, &ao) || !members_at(b, &bo) ||
	    ao != bo || memcmp(a->p, b->p, ao) != 0)
		return false;
	ap = a->p + ao, ae = a->p + a->n;
	bp = b->p + bo, be = b->p + b->n;
	buf_reset(plus);
	buf_reset(minus);
	buf_puts(plus, "+");
	buf_puts(minus, "-");
	ha = next_name(&ap, ae, &as, &an);
	hb = next_name(&bp, be, &bs, &bn);
	while (ha || hb) {
		int c = !ha ? 1 : !hb ? -1 : bytes_cmp(as, an, bs, bn);

		if (an == 0 && ha)
			return false;
		if ((ha && pa && bytes_cmp(pa, pan, as, an) >= 0) ||
		    (hb && pb && bytes_cmp(pb, pbn, bs, bn) >= 0))
			return false; /* not sorted: a plain line instead */
		if (c <= 0) {
			pa = as, pan = an;
			if (c < 0)
				add_name(minus, as, an);
			ha = next_name(&ap, ae, &as, &an);
		}
		if (c >= 0) {
			pb = bs, pbn = bn;
			if (c > 0)
				add_name(plus, bs, bn);
			hb = next_name(&bp, be, &bs, &bn);
		}
	}
	return plus->err == 0 && minus->err == 0 &&
	       plus->len + minus->len + 3 < b->n;
}

/* ---- making ----------------------------------------------------------- */

struct emit {
	struct buf *out;
	char op; /* '=' or '-' pending, or 0 */
	size_t count;
};

static void flush(struct emit *e)
{
	if (e->op)
		buf_printf(e->out, "%c %zu\n", e->op, e->count);
	e->op = 0;
	e->count = 0;
}

static void run(struct emit *e, char op)
{
	if (e->op != op)
		flush(e);
	e->op = op;
	e->count++;
}

int delta_make(const char *base, size_t blen, const char *target, size_t tlen,
               struct buf *out)
{
	struct lines a, b;
	struct key *ka = NULL, *kb = NULL;
	struct buf plus = {0}, minus = {0};
	struct emit e = {.out = out};
	char ha[SHA256_HEX], hb[SHA256_HEX];
	size_t i = 0, j = 0;
	int rc = split_lines(base, blen, &a);

	if (rc < 0)
		return rc;
	rc = split_lines(target, tlen, &b);
	if (rc < 0) {
		free(a.v);
		return rc;
	}
	ka = malloc((a.n + 1) * sizeof(*ka));
	kb = malloc((b.n + 1) * sizeof(*kb));
	if (ka == NULL || kb == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	keys_of(&a, ka);
	keys_of(&b, kb);
	delta_sha256_hex(base, blen, ha);
	delta_sha256_hex(target, tlen, hb);
	buf_reset(out);
	buf_printf(out, MAGIC " %d\nbase %s %zu\ntarget %s %zu\n",
	           DELTA_VERSION, ha, blen, hb, tlen);
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 : j == b.n ? -1 : key_cmp(&ka[i], &kb[j]);

		if (c < 0) {
			run(&e, '-');
			i++;
		} else if (c > 0) {
			flush(&e);
			buf_puts(out, "+ ");
			buf_add(out, b.v[j].p, b.v[j].n);
			buf_puts(out, "\n");
			j++;
		} else if (a.v[i].n == b.v[j].n &&
		           memcmp(a.v[i].p, b.v[j].p, a.v[i].n) == 0) {
			run(&e, '=');
			i++, j++;
		} else if (member_edit(&a.v[i], &b.v[j], &plus, &minus)) {
			flush(&e);
			buf_printf(out, "~ %s %s\n", plus.data, minus.data);
			i++, j++;
		} else {
			run(&e, '-');
			flush(&e);
			buf_puts(out, "+ ");
			buf_add(out, b.v[j].p, b.v[j].n);
			buf_puts(out, "\n");
			i++, j++;
		}
	}
	flush(&e);
	buf_puts(out, "end\n");
	rc = out->err || plus.err || minus.err ? -ENOMEM : 0;
out:
	buf_free(&plus, false);
	buf_free(&minus, false);
	free(ka);
	free(kb);
	free(a.v);
	free(b.v);
	return rc;
}

/* ---- applying --------------------------------------------------------- */

static int damaged(char *err, size_t errlen, size_t line, const char *why)
{
	return set_error(err, errlen, -EBADMSG, "delta line %zu: %s", line,
	                 why);
}

/* "KEY HEX SIZE" into HEX and *SIZE. */
static bool hash_line(const struct line *l, const char *key,
                      char hex[SHA256_HEX], size_t *size)
{
	size_t k = strlen(key);
	char num[24];
	uint64_t v;

	if (l->n < k + 1 + 64 + 2 || l->n - (k + 66) >= sizeof(num) ||
	    memcmp(l->p, key, k) != 0 || l->p[k] != ' ' || l->p[k + 65] != ' ')
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", l->p[k + 1 + i]) ||
		    l->p[k + 1 + i] == '\0')
			return false;
	memcpy(hex, l->p + k + 1, 64);
	hex[64] = '\0';
	memcpy(num, l->p + k + 66, l->n - (k + 66));
	num[l->n - (k + 66)] = '\0';
	if (parse_u64(num, 0, SIZE_MAX, &v) < 0)
		return false;
	*size = (size_t)v;
	return true;
}

/* "OP N" with N >= 1. */
static bool count_of(const struct line *l, size_t *n)
{
	char num[24];
	uint64_t v;

	if (l->n < 3 || l->n - 2 >= sizeof(num) || l->p[1] != ' ')
		return false;
	memcpy(num, l->p + 2, l->n - 2);
	num[l->n - 2] = '\0';
	if (parse_u64(num, 1, SIZE_MAX, &v) < 0)
		return false;
	*n = (size_t)v;
	return true;
}

/* Applies "~ +ADDED -REMOVED" (OP) to group line L, into OUT: a merge of
 * the sorted members with the sorted ADDED, skipping the sorted REMOVED,
 * each of which must be a member. */
static bool apply_members(const struct line *op, const struct line *l,
                          struct buf *out)
{
	const char *sp, *add, *adde, *rem, *reme, *bp, *be,
	        *as = NULL, *bs = NULL, *rs = NULL;
	size_t off, an = 0, bn = 0, rn = 0;
	bool ha, hb, hr, first = true;

	if (op->n < 5 || op->p[1] != ' ' || op->p[2] != '+' || l->n < 2 ||
	    l->p[0] != 'G' || !members_at(l, &off))
		return false;
	sp = memchr(op->p + 3, ' ', op->n - 3);
	if (sp == NULL || sp + 1 >= op->p + op->n || sp[1] != '-')
		return false;
	add = op->p + 3, adde = sp;
	rem = sp + 2, reme = op->p + op->n;
	buf_add(out, l->p, off);
	bp = l->p + off, be = l->p + l->n;
	ha = next_name(&add, adde, &as, &an);
	hb = next_name(&bp, be, &bs, &bn);
	hr = next_name(&rem, reme, &rs, &rn);
	while (ha || hb) {
		int c = !ha ? 1 : !hb ? -1 : bytes_cmp(as, an, bs, bn);

		if (c == 0 || (ha && an == 0))
			return false; /* adds a member it has */
		if (c > 0 && hr && bytes_cmp(rs, rn, bs, bn) < 0)
			return false; /* removes one it lacks */
		if (c > 0 && hr && bytes_cmp(rs, rn, bs, bn) == 0) {
			hr = next_name(&rem, reme, &rs, &rn);
		} else {
			if (!first)
				buf_add(out, ",", 1);
			buf_add(out, c < 0 ? as : bs, c < 0 ? an : bn);
			first = false;
		}
		if (c < 0)
			ha = next_name(&add, adde, &as, &an);
		else
			hb = next_name(&bp, be, &bs, &bn);
	}
	buf_add(out, "\n", 1);
	return !hr;
}

/* Appends a span to *V (N of them, room for 16 or the power of two N
 * reached); false when out of memory. */
static bool span_push(struct delta_span **v, size_t *n, size_t off, size_t len)
{
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		size_t nc = *n ? 2 * *n : 16;
		struct delta_span *a = realloc(*v, nc * sizeof(*a));

		if (a == NULL)
			return false;
		*v = a;
	}
	(*v)[(*n)++] = (struct delta_span){off, len};
	return true;
}

/* Records in ED (when not NULL) the base lines B->v[I..I+N) as gone. */
static bool gone_lines(struct delta_edits *ed, const struct lines *b,
                       const char *base, size_t i, size_t n)
{
	for (size_t j = i; ed != NULL && j < i + n; j++)
		if (!span_push(&ed->gone, &ed->ngone,
		               (size_t)(b->v[j].p - base), b->v[j].n))
			return false;
	return true;
}

/* Records in ED the target's line that starts at FROM and ends OUT. */
static bool came_line(struct delta_edits *ed, const struct buf *out,
                      size_t from)
{
	return ed == NULL || out->err ||
	       span_push(&ed->came, &ed->ncame, from, out->len - from - 1);
}

static int apply_ops(const struct lines *d, const struct lines *b,
                     const char *base, struct buf *out, struct delta_edits *ed,
                     char *err, size_t errlen)
{
	size_t i = 0, k;
	bool kept = true;

	for (k = 3; k < d->n; k++) {
		const struct line *l = &d->v[k];
		size_t n = 0;

		if (l->n == 3 && memcmp(l->p, "end", 3) == 0)
			break;
		size_t from = out->len;

		if (l->n >= 2 && l->p[0] == '+' && l->p[1] == ' ') {
			buf_add(out, l->p + 2, l->n - 2);
			buf_add(out, "\n", 1);
			kept = kept && came_line(ed, out, from);
		} else if (l->n >= 1 && l->p[0] == '~') {
			if (i >= b->n || !apply_members(l, &b->v[i], out))
				return damaged(err, errlen, k + 1,
				               "a member edit that does not "
				               "fit its group");
			kept = kept && gone_lines(ed, b, base, i, 1) &&
			       came_line(ed, out, from);
			i++;
		} else if (l->n >= 1 && (l->p[0] == '=' || l->p[0] == '-')) {
			if (!count_of(l, &n) || n > b->n - i)
				return damaged(err, errlen, k + 1,
				               "a count past the base's end");
			if (l->p[0] == '=')
				buf_add(out, b->v[i].p,
				        (size_t)(b->v[i + n - 1].p +
				                 b->v[i + n - 1].n + 1 -
				                 b->v[i].p));
			else
				kept = kept && gone_lines(ed, b, base, i, n);
			i += n;
		} else
			return damaged(err, errlen, k + 1, "not an operation");
	}
	if (k + 1 != d->n)
		return damaged(err, errlen, k + 1,
		               k == d->n ? "no \"end\" (truncated)"
		                         : "text after \"end\"");
	if (i != b->n)
		return damaged(err, errlen, k + 1,
		               "leaves part of the base unused");
	return out->err || !kept
	               ? set_error(err, errlen, -ENOMEM, "out of memory")
	               : 0;
}

void delta_edits_free(struct delta_edits *ed)
{
	free(ed->gone);
	free(ed->came);
	*ed = (struct delta_edits){0};
}

int delta_apply(const char *base, size_t blen, const char *delta, size_t dlen,
                struct buf *out, char target_hex[SHA256_HEX], char *err,
                size_t errlen)
{
	return delta_apply_edits(base, blen, delta, dlen, out, target_hex, NULL,
	                         err, errlen);
}

int delta_apply_edits(const char *base, size_t blen, const char *delta,
                      size_t dlen, struct buf *out, char target_hex[SHA256_HEX],
                      struct delta_edits *ed, char *err, size_t errlen)
{
	struct lines d = {0}, b = {0};
	char want_base[SHA256_HEX], got[SHA256_HEX], magic[32];
	size_t bsize = 0, tsize = 0;
	int rc;

	buf_reset(out);
	if (ed != NULL)
		delta_edits_free(ed);
	snprintf(magic, sizeof(magic), MAGIC " %d", DELTA_VERSION);
	rc = split_lines(delta, dlen, &d);
	if (rc == -EINVAL)
		return damaged(err, errlen, 0, "the last line has no end");
	if (rc < 0)
		return set_error(err, errlen, rc, "out of memory");
	if (d.n < 4 || d.v[0].n != strlen(magic) ||
	    memcmp(d.v[0].p, magic, d.v[0].n) != 0 ||
	    !hash_line(&d.v[1], "base", want_base, &bsize) ||
	    !hash_line(&d.v[2], "target", target_hex, &tsize)) {
		free(d.v);
		return damaged(err, errlen, 1, "not an nss-scim delta");
	}
	delta_sha256_hex(base, blen, got);
	if (bsize != blen || strcmp(got, want_base) != 0) {
		free(d.v);
		return set_error(err, errlen, -EBADE,
		                 "the delta's base is %.16s, not the held "
		                 "bundle %.16s",
		                 want_base, got);
	}
	/* The result, set aside at once: at most the base and the delta's
	 * own text, whatever the delta claims. */
	buf_reserve(out, tsize < blen + dlen ? tsize : blen + dlen);
	rc = split_lines(base, blen, &b);
	if (rc < 0) {
		free(d.v);
		return set_error(err, errlen, rc == -ENOMEM ? rc : -EBADE,
		                 "the held bundle is not whole lines");
	}
	rc = apply_ops(&d, &b, base, out, ed, err, errlen);
	free(d.v);
	free(b.v);
	if (rc < 0)
		return rc;
	delta_sha256_hex(out->data ? out->data : "", out->len, got);
	if (out->len != tsize || strcmp(got, target_hex) != 0)
		return set_error(err, errlen, -EBADE,
		                 "the delta's result is %.16s, not its target "
		                 "%.16s",
		                 got, target_hex);
	return 0;
}
