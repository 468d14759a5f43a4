/* SPDX-License-Identifier: MIT */
/*
 * map.c: see map.h.
 *
 * People first: name each one, settle name ties, drop what the local files
 * own, number the rest.  Then groups, whose names must not clash with the
 * people's private groups.  Nothing is emitted that the snapshot writer
 * would refuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "map.h"
#include "names.h"
#include "util.h"

#define NAME_BUF   256
#define DETAIL_MAX SKIPLIST_DETAIL_MAX

/* A printable copy of untrusted S for a message. */
static const char *show(char *buf, size_t len, const char *s)
{
	return s ? printable(buf, len, s, strlen(s)) : "(none)";
}

/* ---- rules ------------------------------------------------------------ */

static int copy_lower(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		return -ENAMETOOLONG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	ascii_lower(dst);
	return 0;
}

int map_login_name(enum username_rule rule, const char *username, char *name,
                   size_t namelen, char *domain, size_t domainlen)
{
	const char *at = strrchr(username, '@');
	size_t local = at ? (size_t)(at - username) : strlen(username);
	int r;

	domain[0] = '\0';
	if (at && copy_lower(domain, domainlen, at + 1, strlen(at + 1)) < 0)
		domain[0] = '\0';
	if (rule == USERNAME_USERNAME)
		local = strlen(username);
	if (local == 0)
		return -EINVAL;
	r = copy_lower(name, namelen, username, local);
	return r;
}

int map_group_name(const char *display, char *name, size_t namelen,
                   uint32_t *bad)
{
	char trimmed[NAME_BUF], folded[NAME_BUF];
	const char *s = display, *e = display + strlen(display);
	size_t o = 0;
	int rc;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - s) >= sizeof(trimmed))
		return -ENAMETOOLONG;
	memcpy(trimmed, s, (size_t)(e - s));
	trimmed[e - s] = '\0';
	rc = names_fold(trimmed, folded, sizeof(folded), bad);
	if (rc < 0)
		return rc;
	for (s = folded; *s && o + 1 < namelen; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == ' ')
			c = '-';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			name[o++] = c;
	}
	name[o] = '\0';
	return 0;
}

/* Why a name could not be made of FROM (a userName or displayName), for a
 * skip: the character that has no place in a name, or bad UTF-8. */
static int unusable_chars(struct skiplist *sk, enum scim_kind kind,
                          const char *id, const char *attr, const char *from,
                          int rc, uint32_t bad)
{
	char pb[DETAIL_MAX];

	if (rc == -EDOM)
		return skiplist_add(sk, kind, SKIP_INVALID_NAME, id,
		                    "%s '%s' holds U+%04X, %s", attr,
		                    show(pb, sizeof(pb), from), (unsigned)bad,
		                    names_char_kind(bad));
	return skiplist_add(sk, kind, SKIP_INVALID_NAME, id, "%s '%s' %s", attr,
	                    show(pb, sizeof(pb), from),
	                    rc == -EILSEQ ? "is not UTF-8" : "is too long");
}

/* %f: the formatted name, else displayName, else "given family". */
static void full_name(const struct scim_res *u, struct buf *b)
{
	if (u->formatted && *u->formatted)
		buf_puts(b, u->formatted);
	else if (u->display && *u->display)
		buf_puts(b, u->display);
	else
		buf_printf(b, "%s%s%s", u->given ? u->given : "",
		           u->given && u->family ? " " : "",
		           u->family ? u->family : "");
}

static void expand_one(char c, const struct scim_res *u, const char *name,
                       uint32_t uid, struct buf *b)
{
	const char *v = NULL;

	switch (c) {
	case SCIM_USERS:
		v = name;
		break;
	case 'i':
		buf_printf(b, "%u", uid);
		return;
	case 'f':
		full_name(u, b);
		return;
	case SCIM_GROUPS:
		v = u->given;
		break;
	case 's':
		v = u->family;
		break;
	case 'd':
		v = u->display;
		break;
	case 'e':
		v = u->email ? u->email : u->name;
		break;
	case '%':
		v = "%";
		break;
	default:
		break;
	}
	if (v)
		buf_puts(b, v);
}

/* Cuts S to at most MAX bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

bool map_expand(const char *tmpl, const struct scim_res *u, const char *name,
                uint32_t uid, bool gecos, char *out, size_t outlen)
{
	struct buf b = {0};
	size_t len;
	bool ok;

	buf_add(&b, "", 0);
	for (const char *p = tmpl; *p; p++) {
		if (*p == '%' && p[1] != '\0')
			expand_one(*++p, u, name, uid, &b);
		else
			buf_add(&b, p, 1);
	}
	if (b.err) {
		buf_free(&b, false);
		return false;
	}
	if (gecos) {
		names_clean_text(b.data);
		cut_utf8(b.data, outlen - 1 < SNAP_FIELD_MAX ? outlen - 1
		                                             : SNAP_FIELD_MAX);
	}
	len = strlen(b.data);
	ok = len < outlen && snap_field_valid(b.data, len);
	if (ok)
		memcpy(out, b.data, len + 1);
	buf_free(&b, false);
	return ok;
}

/* ---- people ----------------------------------------------------------- */

struct person {
	const char *id; /* the SCIM id, in the directory */
	char name[SNAP_NAME_MAX + 1];
	size_t rank; /* position of the domain in `domains` */
	uint32_t uid;
	bool keep;
	bool active;  /* SCIM's "active" */
	bool enabled; /* active and not locked */
	/* home, gecos and SCIM id, NUL-separated in the model's memory: the
	 * directory's people are gone by the time the person is emitted */
	char *kept;
	uint32_t pos; /* in the directory's users */
};

struct mapper {
	const struct map_input *in;
	struct idmap *ids;
	struct skiplist *skipped;
	size_t nusers; /* in the directory */
	struct person *people;
	size_t npeople;
	/* Kept person's SCIM id -> index; keys borrowed from the input.
	 * Built only for groups whose members are ids (not resolved). */
	struct strmap by_scim_id;
	/* Position in the directory -> 1 + index of the person in the model's
	 * users, or 0.  The people themselves are freed once emitted. */
	uint32_t *user_of;
	bool active_seen; /* some person carries "active" */
	struct map_notes notes;
};

static size_t domain_rank(const struct scim_config *c, const char *domain)
{
	for (size_t i = 0; i < c->ndomains; i++)
		if (strcmp(c->domains[i], domain) == 0)
			return i;
	return SIZE_MAX;
}

/* Names one person; 1 when a candidate, 0 when skipped. */
static int name_person(struct mapper *mp, const struct scim_res *r,
                       struct person *p)
{
	const struct scim_config *c = mp->in->cfg;
	char name[NAME_BUF], domain[NAME_BUF], folded[NAME_BUF], pb[DETAIL_MAX];
	uint32_t bad = 0;
	int rc;

	*p = (struct person){.id = r->id};
	if (!scim_id_valid(r->id, strlen(r->id)))
		return skiplist_add(mp->skipped, SCIM_USERS, SKIP_INVALID_ID,
		                    r->id, "unusable SCIM id");
	if (r->name == NULL ||
	    map_login_name(c->username, r->name, name, sizeof(name), domain,
	                   sizeof(domain)) == -EINVAL)
		return skiplist_add(mp->skipped, SCIM_USERS, SKIP_NO_NAME,
		                    r->id, "no usable userName '%s'",
		                    show(pb, sizeof(pb), r->name));
	p->rank = domain_rank(c, domain);
	if (c->ndomains > 0 && p->rank == SIZE_MAX)
		return skiplist_add(
		        mp->skipped, SCIM_USERS, SKIP_DOMAIN, r->id,
		        "userName '%s' is outside the allowed domains",
		        show(pb, sizeof(pb), r->name));
	rc = map_login_name(c->username, r->name, name, sizeof(name), domain,
	                    sizeof(domain));
	if (rc == 0)
		rc = names_fold(name, folded, sizeof(folded), &bad);
	if (rc == -EDOM || rc == -EILSEQ)
		return unusable_chars(mp->skipped, SCIM_USERS, r->id,
		                      "userName", r->name, rc, bad);
	if (rc == 0)
		ascii_lower(folded);
	if (rc < 0 || !snap_name_valid(folded, strlen(folded)))
		return skiplist_add(mp->skipped, SCIM_USERS, SKIP_INVALID_NAME,
		                    r->id,
		                    "userName '%s' gives no valid login name",
		                    show(pb, sizeof(pb), r->name));
	memcpy(p->name, folded, strlen(folded) + 1);
	p->keep = true;
	return 1;
}

static int cmp_person(const void *a, const void *b)
{
	const struct person *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Person I of the directory as a resource, in TMP when it is packed. */
static const struct scim_res *user_at(const struct map_input *in, size_t i,
                                      struct scim_res *tmp)
{
	if (in->people == NULL)
		return &in->users[i];
	people_get(in->people, i, tmp);
	return tmp;
}

/* People P[0..N) share one name (sorted by rank): keep the one whose
 * domain comes first, if it is alone there; else keep none. */
static int settle_tie(struct mapper *mp, struct person *p, size_t n)
{
	bool winner = mp->in->cfg->ndomains > 0 && p[0].rank < p[1].rank;
	char pb[DETAIL_MAX];
	int rc = 0;

	for (size_t i = winner ? 1 : 0; rc == 0 && i < n; i++) {
		struct scim_res tmp;
		const struct scim_res *r = user_at(mp->in, p[i].pos, &tmp);

		p[i].keep = false;
		rc = skiplist_add(mp->skipped, SCIM_USERS, SKIP_NAME_COLLISION,
		                  p[i].id, "login name %s %s (userName '%s')",
		                  p[i].name,
		                  winner ? "goes to an earlier domain"
		                         : "is wanted by several people",
		                  show(pb, sizeof(pb), r->name));
	}
	return rc;
}

static int settle_ties(struct mapper *mp)
{
	struct person *p = mp->people;
	size_t n = mp->npeople;
	int rc = 0;

	qsort(p, n, sizeof(*p), cmp_person);
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(p[j].name, p[i].name) == 0)
			j++;
		if (j - i > 1)
			rc = settle_tie(mp, p + i, j - i);
		i = j;
	}
	return rc;
}

static bool private_groups(const struct scim_config *c)
{
	return c->primary_group == NULL;
}

static int check_local_name(struct mapper *mp, struct person *p)
{
	const struct scim_config *c = mp->in->cfg;
	const struct localdb *l = mp->in->local;
	const char *why;

	if (strmap_get(&l->users, p->name, NULL)) {
		p->keep = false;
		return skiplist_add(
		        mp->skipped, SCIM_USERS, SKIP_LOCAL_NAME, p->id,
		        "login name %s belongs to a local user", p->name);
	}
	if (private_groups(mp->in->cfg) &&
	    strmap_get(&l->groups, p->name, NULL)) {
		p->keep = false;
		return skiplist_add(
		        mp->skipped, SCIM_USERS, SKIP_LOCAL_NAME, p->id,
		        "private group %s would shadow a local group", p->name);
	}
	why = names_reserved(p->name, c->reserved_names, c->nreserved_names);
	if (why != NULL) {
		p->keep = false;
		return skiplist_add(mp->skipped, SCIM_USERS, SKIP_RESERVED_NAME,
		                    p->id, "login name %s is reserved: %s",
		                    p->name, why);
	}
	return 0;
}

/* A sticky number that is now local or outside the range. */
static int check_number(struct mapper *mp, enum scim_kind kind, const char *id,
                        uint32_t v, bool *keep)
{
	const struct scim_config *c = mp->in->cfg;

	if (numset_has(&mp->in->local->ids, v)) {
		*keep = false;
		return skiplist_add(mp->skipped, kind, SKIP_LOCAL_ID, id,
		                    "its number %u is used in the local files",
		                    v);
	}
	if (v < c->uid_min || v > c->uid_max) {
		*keep = false;
		return skiplist_add(mp->skipped, kind, SKIP_ID_RANGE, id,
		                    "its number %u is outside %u-%u", v,
		                    c->uid_min, c->uid_max);
	}
	return 0;
}

/* Adopts NUMBER for the KIND entry ID from the live snapshot, when the id
 * map has none for it and the number is usable. */
static int adopt(struct mapper *mp, enum scim_kind kind, const char *id,
                 uint32_t number)
{
	const struct scim_config *c = mp->in->cfg;
	int rc;

	if (idmap_find(mp->ids, kind, id) != NULL || number < c->uid_min ||
	    number > c->uid_max || numset_has(&mp->in->local->ids, number))
		return 0;
	rc = idmap_adopt(mp->ids, kind, id, number);
	if (rc == 0 && mp->in->adopted)
		(*mp->in->adopted)++;
	return rc == -ENOMEM ? rc : 0;
}

static int adopt_people(struct mapper *mp)
{
	const struct model *seed = mp->in->seed;
	int rc = 0;

	for (size_t i = 0; seed && rc == 0 && i < mp->npeople; i++) {
		const struct person *p = &mp->people[i];
		const struct model_user *u;

		if (p->keep && (u = model_find_user(seed, p->name)) != NULL)
			rc = adopt(mp, SCIM_USERS, p->id, u->uid);
	}
	return rc;
}

static int number_people(struct mapper *mp)
{
	const char **ids;
	size_t k = 0;
	int rc;

	rc = adopt_people(mp);
	if (rc < 0)
		return rc;
	ids = calloc(mp->npeople ? mp->npeople : 1, sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < mp->npeople; i++)
		if (mp->people[i].keep)
			ids[k++] = mp->people[i].id;
	rc = idmap_assign(mp->ids, SCIM_USERS, ids, k, &mp->in->local->ids);
	free(ids);
	for (size_t i = 0; rc == 0 && i < mp->npeople; i++) {
		struct person *p = &mp->people[i];

		if (!p->keep)
			continue;
		p->uid = idmap_find(mp->ids, SCIM_USERS, p->id)->number;
		rc = check_number(mp, SCIM_USERS, p->id, p->uid, &p->keep);
	}
	return rc;
}

/* Whether R is active: see struct map_notes for what is not. */
static bool person_active(struct mapper *mp, const struct scim_res *r)
{
	bool unclear =
	        r->active_attr == SCIM_ACTIVE_OTHER ||
	        (r->active_attr == SCIM_ACTIVE_ABSENT && mp->active_seen);

	if (!unclear)
		return r->active;
	if (mp->notes.unclear_active++ == 0)
		printable(mp->notes.unclear_id, sizeof(mp->notes.unclear_id),
		          r->id, strlen(r->id));
	return false;
}

static bool is_locked(const struct mapper *mp, const char *id)
{
	return mp->in->locked && strmap_get(mp->in->locked, id, NULL);
}

/* Expands home and gecos into OUT's memory, with all else P needs from
 * the directory; a person whose values are unusable is skipped. */
static int prepare_person(struct mapper *mp, struct person *p,
                          struct model *out)
{
	const struct scim_config *c = mp->in->cfg;
	char buf[2 * (SNAP_FIELD_MAX + 1) + SCIM_ID_MAX + 1];
	char *home = buf, *gecos = buf + SNAP_FIELD_MAX + 1;
	size_t hl, gl, il = strlen(p->id);
	struct scim_res tmp;
	const struct scim_res *r = user_at(mp->in, p->pos, &tmp);

	if (!map_expand(c->home, r, p->name, p->uid, false, home,
	                SNAP_FIELD_MAX + 1) ||
	    !map_expand(c->gecos, r, p->name, p->uid, true, gecos,
	                SNAP_FIELD_MAX + 1)) {
		p->keep = false;
		return skiplist_add(mp->skipped, SCIM_USERS, SKIP_INVALID_FIELD,
		                    p->id, "home or gecos of %s is unusable",
		                    p->name);
	}
	hl = strlen(home) + 1;
	gl = strlen(gecos) + 1;
	memmove(buf + hl, gecos, gl);
	memcpy(buf + hl + gl, p->id, il + 1); /* valid: at most SCIM_ID_MAX */
	p->kept = model_keep(out, buf, hl + gl + il + 1);
	if (p->kept == NULL)
		return -ENOMEM;
	p->active = person_active(mp, r);
	p->enabled = p->active && !is_locked(mp, p->id);
	return 0;
}

static const char *kept_gecos(const struct person *p)
{
	return p->kept + strlen(p->kept) + 1;
}

static const char *kept_id(const struct person *p)
{
	const char *g = kept_gecos(p);

	return g + strlen(g) + 1;
}

/* Adds P to OUT (their private group, if any, comes with the groups).  The
 * gid of a shared primary group is set once the groups are mapped. */
static int emit_person(struct mapper *mp, struct person *p, struct model *out)
{
	const struct scim_config *c = mp->in->cfg;
	struct model_user u = {
	        .name = p->name,
	        .uid = p->uid,
	        .gid = p->uid,
	        .home = p->kept,
	        .gecos = (char *)kept_gecos(p),
	        .shell = c->shell,
	        .active = p->enabled,
	        .scim_id = (char *)kept_id(p),
	};
	struct idmap_entry *e;

	if (model_add_user_kept(out, &u) < 0)
		return -ENOMEM;
	mp->user_of[p->pos] = (uint32_t)out->nusers;
	e = idmap_find(mp->ids, SCIM_USERS, u.scim_id);
	e->active = p->active;
	e->live = true;
	return idmap_set_name(mp->ids, e, p->name);
}

/* The model's users by SCIM id, for groups whose members are ids. */
static int index_people(struct mapper *mp, const struct model *out)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < out->nusers; i++)
		rc = strmap_put(&mp->by_scim_id, out->users[i].scim_id, i);
	return rc;
}

/* The model's final size is known once the people are numbered. */
static int reserve(struct mapper *mp, struct model *out)
{
	size_t kept = 0;

	for (size_t i = 0; i < mp->npeople; i++)
		kept += mp->people[i].keep;
	return model_reserve(out, kept,
	                     mp->in->ngroups +
	                             (private_groups(mp->in->cfg) ? kept : 0));
}

static int map_people(struct mapper *mp, struct model *out)
{
	const struct map_input *in = mp->in;
	int rc = 0;

	mp->nusers = in->people ? in->people->n : in->nusers;
	mp->people = calloc(mp->nusers ? mp->nusers : 1, sizeof(*mp->people));
	mp->user_of = calloc(mp->nusers ? mp->nusers : 1, sizeof(*mp->user_of));
	if (mp->people == NULL || mp->user_of == NULL)
		return -ENOMEM;
	for (size_t i = 0; rc >= 0 && i < mp->nusers; i++) {
		struct scim_res tmp;
		const struct scim_res *r = user_at(in, i, &tmp);

		mp->active_seen |= r->active_attr != SCIM_ACTIVE_ABSENT;
		rc = name_person(mp, r, &mp->people[mp->npeople]);
		mp->people[mp->npeople].pos = (uint32_t)i;
		if (rc > 0)
			mp->npeople++;
	}
	if (rc >= 0)
		rc = settle_ties(mp);
	for (size_t i = 0; rc == 0 && i < mp->npeople; i++)
		if (mp->people[i].keep)
			rc = check_local_name(mp, &mp->people[i]);
	if (rc == 0)
		rc = number_people(mp);
	for (size_t i = 0; rc == 0 && i < mp->npeople; i++)
		if (mp->people[i].keep)
			rc = prepare_person(mp, &mp->people[i], out);
	/* Nothing reads the directory's people from here on (p->id is
	 * stale); letting them go before the model grows keeps the peak
	 * down. */
	if (rc == 0 && in->release_users)
		in->release_users(in->release_ud);
	if (rc == 0)
		rc = reserve(mp, out);
	for (size_t i = 0; rc == 0 && i < mp->npeople; i++)
		if (mp->people[i].keep)
			rc = emit_person(mp, &mp->people[i], out);
	/* The model's users, in the people's (name) order, hold all that the
	 * groups need of them. */
	free(mp->people);
	mp->people = NULL;
	mp->npeople = 0;
	return rc;
}

/* ---- groups ----------------------------------------------------------- */

struct sgroup {
	const struct scim_res *r;
	char name[SNAP_NAME_MAX + 1];
	uint32_t gid;
	bool keep;
};

/* WANT equals DISPLAY, ignoring case and DISPLAY's surrounding blanks. */
static bool same_display(const char *want, const char *display)
{
	const char *e;

	while (*display == ' ' || *display == '\t')
		display++;
	e = display + strlen(display);
	while (e > display && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return strlen(want) == (size_t)(e - display) &&
	       strncasecmp(want, display, (size_t)(e - display)) == 0;
}

static bool selected(const struct scim_config *c, const struct scim_res *g)
{
	if (c->ngroups == 0)
		return true;
	for (size_t i = 0; g->name && i < c->ngroups; i++)
		if (same_display(c->groups[i], g->name))
			return true;
	return false;
}

/* The POSIX name that group_names gives R, or NULL. */
static const char *given_name(const struct scim_config *c,
                              const struct scim_res *r)
{
	for (size_t i = 0; i < c->ngroup_names; i++) {
		const char *m = c->group_names[i].match;

		if (strcmp(m, r->id) == 0 ||
		    (r->name != NULL && same_display(m, r->name)))
			return c->group_names[i].name;
	}
	return NULL;
}

/* Names one group; 1 when a candidate, 0 when skipped or not selected. */
static int name_group(struct mapper *mp, const struct scim_res *r,
                      struct sgroup *g)
{
	char name[NAME_BUF], pb[DETAIL_MAX];
	const char *given;
	uint32_t bad = 0;
	int rc;

	*g = (struct sgroup){.r = r};
	if (!selected(mp->in->cfg, r))
		return 0;
	if (!scim_id_valid(r->id, strlen(r->id)))
		return skiplist_add(mp->skipped, SCIM_GROUPS, SKIP_INVALID_ID,
		                    r->id, "unusable SCIM id");
	given = given_name(mp->in->cfg, r);
	if (given != NULL) {
		memcpy(g->name, given, strlen(given) + 1);
		g->keep = true;
		return 1;
	}
	if (r->name == NULL)
		return skiplist_add(mp->skipped, SCIM_GROUPS, SKIP_NO_NAME,
		                    r->id, "no displayName");
	rc = map_group_name(r->name, name, sizeof(name), &bad);
	if (rc == -EDOM || rc == -EILSEQ)
		return unusable_chars(mp->skipped, SCIM_GROUPS, r->id,
		                      "displayName", r->name, rc, bad);
	if (rc < 0 || !snap_name_valid(name, strlen(name)))
		return skiplist_add(
		        mp->skipped, SCIM_GROUPS, SKIP_INVALID_NAME, r->id,
		        "displayName '%s' gives no valid group name",
		        show(pb, sizeof(pb), r->name));
	memcpy(g->name, name, strlen(name) + 1);
	g->keep = true;
	return 1;
}

static int cmp_sgroup(const void *a, const void *b)
{
	const struct sgroup *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->r->id, y->r->id);
}

static int group_ties(struct mapper *mp, struct sgroup *g, size_t n)
{
	char pb[DETAIL_MAX];
	int rc = 0;

	qsort(g, n, sizeof(*g), cmp_sgroup);
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(g[j].name, g[i].name) == 0)
			j++;
		for (size_t k = i; rc == 0 && j - i > 1 && k < j; k++) {
			g[k].keep = false;
			rc = skiplist_add(
			        mp->skipped, SCIM_GROUPS, SKIP_NAME_COLLISION,
			        g[k].r->id,
			        "group name %s is wanted by %zu groups "
			        "(displayName '%s')",
			        g[k].name, j - i,
			        show(pb, sizeof(pb), g[k].r->name));
		}
		i = j;
	}
	return rc;
}

/* True when a person in OUT is called NAME (and so is their private
 * group).  OUT's users are in name order until model_sort. */
static bool person_named(const struct model *out, const char *name)
{
	size_t lo = 0, hi = out->nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(out->users[mid].name, name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int group_clashes(struct mapper *mp, struct sgroup *g,
                         const struct model *out)
{
	const struct scim_config *c = mp->in->cfg;
	const char *why;

	if (strmap_get(&mp->in->local->groups, g->name, NULL)) {
		g->keep = false;
		return skiplist_add(
		        mp->skipped, SCIM_GROUPS, SKIP_LOCAL_NAME, g->r->id,
		        "group name %s belongs to a local group", g->name);
	}
	why = names_reserved(g->name, c->reserved_names, c->nreserved_names);
	if (why != NULL) {
		g->keep = false;
		return skiplist_add(
		        mp->skipped, SCIM_GROUPS, SKIP_RESERVED_NAME, g->r->id,
		        "group name %s is reserved: %s", g->name, why);
	}
	if (private_groups(mp->in->cfg) && person_named(out, g->name)) {
		g->keep = false;
		return skiplist_add(
		        mp->skipped, SCIM_GROUPS, SKIP_NAME_TAKEN, g->r->id,
		        "group name %s is a person's private group", g->name);
	}
	return 0;
}

/* A seed group named like a seed person is (was) a private group: its gid
 * is a person's number, never to be given to a group. */
static int adopt_groups(struct mapper *mp, const struct sgroup *g, size_t n)
{
	const struct model *seed = mp->in->seed;
	int rc = 0;

	for (size_t i = 0; seed && rc == 0 && i < n; i++) {
		const struct model_group *sg;

		if (!g[i].keep || model_find_user(seed, g[i].name) != NULL)
			continue;
		sg = model_find_group(seed, g[i].name);
		if (sg != NULL)
			rc = adopt(mp, SCIM_GROUPS, g[i].r->id, sg->gid);
	}
	return rc;
}

static int number_groups(struct mapper *mp, struct sgroup *g, size_t n)
{
	const char **ids;
	size_t k = 0;
	int rc;

	rc = adopt_groups(mp, g, n);
	if (rc < 0)
		return rc;
	ids = calloc(n ? n : 1, sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (g[i].keep)
			ids[k++] = g[i].r->id;
	rc = idmap_assign(mp->ids, SCIM_GROUPS, ids, k, &mp->in->local->ids);
	free(ids);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!g[i].keep)
			continue;
		g[i].gid = idmap_find(mp->ids, SCIM_GROUPS, g[i].r->id)->number;
		rc = check_number(mp, SCIM_GROUPS, g[i].r->id, g[i].gid,
		                  &g[i].keep);
	}
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* G's members that are people in the model, as indices into its users,
 * into IDX (room for every member); returns how many. */
static size_t member_users(const struct mapper *mp, const struct scim_res *g,
                           uint32_t *idx)
{
	size_t k = 0, i;

	for (size_t j = 0; g->members && j < g->nmembers; j++)
		if (strmap_get(&mp->by_scim_id, g->members[j], &i))
			idx[k++] = (uint32_t)i;
	for (size_t j = 0; j < g->nmember_users; j++) {
		uint32_t u = g->member_users[j];

		i = u < mp->nusers ? mp->user_of[u] : 0;
		if (i > 0)
			idx[k++] = (uint32_t)i - 1;
	}
	return k;
}

/* The model's users are in name order until model_sort (the people were
 * emitted so), so their indices sorted give the member names sorted, as
 * the model keeps them, without a string comparison; repeats go. */
static int emit_group(struct mapper *mp, struct sgroup *g, struct model *out)
{
	size_t k, u = 0, n = g->r->nmembers + g->r->nmember_users;
	struct idmap_entry *e;
	const char **names;
	uint32_t *idx;
	char *name;
	int rc = -ENOMEM;

	if (g->r->members && mp->by_scim_id.n == 0 && index_people(mp, out) < 0)
		return -ENOMEM;
	idx = malloc((n ? n : 1) * sizeof(*idx));
	names = malloc((n ? n : 1) * sizeof(*names));
	if (idx == NULL || names == NULL)
		goto out;
	k = member_users(mp, g->r, idx);
	qsort(idx, k, sizeof(*idx), cmp_u32);
	for (size_t i = 0; i < k; i++)
		if (i == 0 || idx[i] != idx[i - 1])
			names[u++] = out->users[idx[i]].name;
	name = model_keep(out, g->name, strlen(g->name) + 1);
	if (name != NULL)
		rc = model_add_group_of_users(out, name, g->gid, names, u,
		                              g->r->id);
out:
	free(idx);
	free(names);
	if (rc < 0)
		return rc;
	e = idmap_find(mp->ids, SCIM_GROUPS, g->r->id);
	e->live = true;
	return idmap_set_name(mp->ids, e, g->name);
}

/* The groups go into OUT in name order, the people's private groups among
 * them (the people are in name order too), so that the model needs no
 * sort, nor a sort's memory. */
static int emit_groups(struct mapper *mp, struct sgroup *g, size_t n,
                       struct model *out)
{
	size_t u = 0, nu = private_groups(mp->in->cfg) ? out->nusers : 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && (i < n || u < nu);) {
		if (i < n && !g[i].keep) {
			i++;
		} else if (u < nu && (i == n || strcmp(out->users[u].name,
		                                       g[i].name) < 0)) {
			rc = model_add_group_of_users(out, out->users[u].name,
			                              out->users[u].uid, NULL,
			                              0, NULL);
			u++;
		} else {
			rc = emit_group(mp, &g[i++], out);
		}
	}
	return rc;
}

static int map_groups(struct mapper *mp, struct model *out)
{
	const struct map_input *in = mp->in;
	struct sgroup *g;
	size_t n = 0;
	int rc = 0;

	g = calloc(in->ngroups ? in->ngroups : 1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	for (size_t i = 0; rc >= 0 && i < in->ngroups; i++) {
		rc = name_group(mp, &in->groups[i], &g[n]);
		if (rc > 0)
			n++;
	}
	if (rc >= 0)
		rc = group_ties(mp, g, n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (g[i].keep)
			rc = group_clashes(mp, &g[i], out);
	if (rc == 0)
		rc = number_groups(mp, g, n);
	rc = rc == 0 ? emit_groups(mp, g, n, out) : rc;
	free(g);
	return rc;
}

/* ---- putting it together ---------------------------------------------- */

/* The people were added with their private groups' gid: a shared primary
 * group's is known only now. */
static int set_primary_group(struct mapper *mp, struct model *out, char *err,
                             size_t errlen)
{
	const char *pg = mp->in->cfg->primary_group;
	struct model_group *g = NULL;

	if (pg == NULL)
		return 0;
	for (size_t i = 0; i < out->ngroups && g == NULL; i++)
		if (strcmp(out->groups[i].name, pg) == 0)
			g = &out->groups[i];
	if (g == NULL)
		return set_error(err, errlen, -ENOENT,
		                 "primary_group %s is not among the groups "
		                 "read from the bridge",
		                 pg);
	for (size_t i = 0; i < out->nusers; i++)
		out->users[i].gid = g->gid;
	return 0;
}

static int run(struct mapper *mp, struct model *out, char *err, size_t errlen)
{
	int rc;

	for (size_t i = 0; i < mp->ids->n; i++)
		mp->ids->e[i].live = false;
	rc = map_people(mp, out);
	if (rc == 0)
		rc = map_groups(mp, out);
	if (rc == 0 && mp->in->release_groups)
		mp->in->release_groups(mp->in->release_ud);
	if (rc == 0)
		rc = set_primary_group(mp, out, err, errlen);
	if (rc == -ENOSPC)
		set_error(err, errlen, rc, "the id range %u-%u is full",
		          mp->in->cfg->uid_min, mp->in->cfg->uid_max);
	else if (rc == -ENOMEM)
		set_error(err, errlen, rc, "out of memory");
	return rc;
}

int map_build(const struct map_input *in, struct idmap *ids, struct model *out,
              struct skiplist *skipped, char *err, size_t errlen)
{
	struct mapper mp = {.in = in,
	                    .ids = ids,
	                    .skipped = skipped,
	                    .by_scim_id = {.borrow = true}};
	struct model m = {0};
	int rc;

	*skipped = (struct skiplist){0};
	rc = run(&mp, &m, err, errlen);
	free(mp.people);
	free(mp.user_of);
	strmap_free(&mp.by_scim_id);
	if (rc < 0) {
		model_free(&m);
		skiplist_free(skipped);
		return rc;
	}
	model_sort(&m);
	*out = m;
	if (in->notes)
		*in->notes = mp.notes;
	return 0;
}
