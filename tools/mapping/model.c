/* SPDX-License-Identifier: MIT */
/*
 * model.c: see model.h.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "table.h"
#include "util.h"

#define ENUM_BUF_START 16384
#define ENUM_BUF_MAX   (64u << 20)

/* Bytes in one chunk of the model's strings and member arrays. */
#define CHUNK_BYTES (256u << 10)

/* LEN bytes that live as long as M; NULL when out of memory. */
static void *chunk_alloc(struct model *m, size_t len)
{
	m->chunks.chunk = CHUNK_BYTES;
	return arena_alloc(&m->chunks, len);
}

void model_free(struct model *m)
{
	arena_free(&m->chunks);
	free(m->users);
	free(m->groups);
	free(m->names);
	*m = (struct model){0};
}

/* A copy of S in M's chunks (NULL stays NULL); SAME, when it holds the same
 * text, is shared instead. */
static char *dup_or_null(struct model *m, const char *s, const char *same,
                         bool *oom)
{
	size_t len;
	char *c;

	if (s == NULL)
		return NULL;
	if (same != NULL && strcmp(s, same) == 0)
		return (char *)same;
	len = strlen(s) + 1;
	c = chunk_alloc(m, len);
	if (c == NULL)
		*oom = true;
	else
		memcpy(c, s, len);
	return c;
}

static size_t name_slot(const struct model *m, const char *name)
{
	size_t i = (size_t)str_hash(name) & (m->names_cap - 1);

	while (m->names[i] != NULL && strcmp(m->names[i], name) != 0)
		i = (i + 1) & (m->names_cap - 1);
	return i;
}

static int names_grow(struct model *m)
{
	struct model old = *m;
	size_t cap = m->names_cap ? m->names_cap * 2 : 1024;

	m->names = calloc(cap, sizeof(*m->names));
	if (m->names == NULL) {
		m->names = old.names;
		return -ENOMEM;
	}
	m->names_cap = cap;
	for (size_t i = 0; i < old.names_cap; i++)
		if (old.names[i] != NULL)
			m->names[name_slot(m, old.names[i])] = old.names[i];
	free(old.names);
	return 0;
}

/* NAME kept once in M however often it is added: a person's name is also
 * their private group's and appears in each of their groups' members. */
static char *intern(struct model *m, const char *name, bool *oom)
{
	size_t i;

	if (name == NULL)
		return NULL;
	if ((m->names_n + 1) * 2 > m->names_cap && names_grow(m) < 0) {
		*oom = true;
		return NULL;
	}
	i = name_slot(m, name);
	if (m->names[i] == NULL) {
		m->names[i] = dup_or_null(m, name, NULL, oom);
		if (m->names[i] == NULL)
			return NULL;
		m->names_n++;
	}
	return m->names[i];
}

/* KEPT: gecos, home and scim_id are M's own, and the name is copied
 * without being interned (model_add_user_kept). */
static int add_user(struct model *m, const struct model_user *u, bool kept)
{
	/* Everyone usually has the same shell: keep it once. */
	const char *shell = m->nusers ? m->users[m->nusers - 1].shell : NULL;
	struct model_user c = *u;
	bool oom = false;

	if (array_grow((void **)&m->users, &m->users_cap, m->nusers,
	               sizeof(*m->users), 64) < 0)
		return -ENOMEM;
	c.name = kept ? dup_or_null(m, u->name, NULL, &oom)
	              : intern(m, u->name, &oom);
	c.shell = dup_or_null(m, u->shell, shell, &oom);
	if (!kept) {
		c.gecos = dup_or_null(m, u->gecos, NULL, &oom);
		c.home = dup_or_null(m, u->home, NULL, &oom);
		c.scim_id = dup_or_null(m, u->scim_id, NULL, &oom);
	}
	if (oom)
		return -ENOMEM;
	m->users[m->nusers++] = c;
	return 0;
}

int model_add_user(struct model *m, const struct model_user *u)
{
	return add_user(m, u, false);
}

char *model_keep(struct model *m, const char *s, size_t len)
{
	char *c = chunk_alloc(m, len);

	if (c != NULL)
		memcpy(c, s, len);
	return c;
}

int model_add_user_kept(struct model *m, const struct model_user *u)
{
	return add_user(m, u, true);
}

/* The members of every empty group: no allocation for the private groups
 * of 100,000 people. */
static char *no_members[1];

/* OWN: the name and members are M's own (model_add_group_of_users). */
static int add_group(struct model *m, const char *name, uint32_t gid,
                     const char *const *members, size_t nmembers,
                     const char *scim_id, bool own)
{
	struct model_group c = {.gid = gid};
	bool oom = false;

	if (array_grow((void **)&m->groups, &m->groups_cap, m->ngroups,
	               sizeof(*m->groups), 64) < 0)
		return -ENOMEM;
	if (nmembers > SIZE_MAX / sizeof(*c.members) - 1)
		return -ENOMEM;
	c.name = own ? (char *)name : intern(m, name, &oom);
	c.scim_id = dup_or_null(m, scim_id, NULL, &oom);
	c.members = nmembers ? chunk_alloc(m, nmembers * sizeof(*c.members))
	                     : no_members;
	if (c.members == NULL)
		oom = true;
	for (size_t i = 0; !oom && i < nmembers; i++)
		c.members[i] =
		        own ? (char *)members[i] : intern(m, members[i], &oom);
	if (oom)
		return -ENOMEM;
	c.nmembers = nmembers;
	m->groups[m->ngroups++] = c;
	return 0;
}

int model_add_group(struct model *m, const char *name, uint32_t gid,
                    const char *const *members, size_t nmembers,
                    const char *scim_id)
{
	return add_group(m, name, gid, members, nmembers, scim_id, false);
}

int model_add_group_of_users(struct model *m, const char *name, uint32_t gid,
                             const char *const *members, size_t nmembers,
                             const char *scim_id)
{
	return add_group(m, name, gid, members, nmembers, scim_id, true);
}

/* Room for WANT items of SIZE bytes in *ARR (capacity *CAP). */
static int reserve(void **arr, size_t *cap, size_t want, size_t size)
{
	void *p;

	if (want <= *cap)
		return 0;
	p = reallocarray(*arr, want, size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = want;
	return 0;
}

int model_reserve(struct model *m, size_t users, size_t groups)
{
	if (reserve((void **)&m->users, &m->users_cap, users,
	            sizeof(*m->users)) < 0 ||
	    reserve((void **)&m->groups, &m->groups_cap, groups,
	            sizeof(*m->groups)) < 0)
		return -ENOMEM;
	return 0;
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct model_user *)a)->name,
	              ((const struct model_user *)b)->name);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct model_group *)a)->name,
	              ((const struct model_group *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when the N items at A, SIZE bytes each, are in CMP's order: the
 * mapping emits most things sorted, and checking is cheaper than sorting. */
static bool in_order(const void *a, size_t n, size_t size,
                     int (*cmp)(const void *, const void *))
{
	const char *p = a;

	for (size_t i = 1; i < n; i++)
		if (cmp(p + (i - 1) * size, p + i * size) > 0)
			return false;
	return true;
}

static void sort(void *a, size_t n, size_t size,
                 int (*cmp)(const void *, const void *))
{
	/* qsort() must not see NULL, even for zero items. */
	if (n > 1 && !in_order(a, n, size, cmp))
		qsort(a, n, size, cmp);
}

/* Sorts G's members and drops repeats. */
static void sort_members(struct model_group *g)
{
	size_t k = 0;

	sort(g->members, g->nmembers, sizeof(*g->members), cmp_str);
	for (size_t i = 0; i < g->nmembers; i++) {
		if (k == 0 || strcmp(g->members[k - 1], g->members[i]) != 0)
			g->members[k++] = g->members[i];
	}
	g->nmembers = k;
}

void model_sort(struct model *m)
{
	sort(m->users, m->nusers, sizeof(*m->users), cmp_user);
	sort(m->groups, m->ngroups, sizeof(*m->groups), cmp_group);
	for (size_t i = 0; i < m->ngroups; i++)
		sort_members(&m->groups[i]);
}

struct model_user *model_find_user(const struct model *m, const char *name)
{
	struct model_user key = {.name = (char *)name};

	if (m->nusers == 0)
		return NULL;
	return bsearch(&key, m->users, m->nusers, sizeof(*m->users), cmp_user);
}

struct model_group *model_find_group(const struct model *m, const char *name)
{
	struct model_group key = {.name = (char *)name};

	if (m->ngroups == 0)
		return NULL;
	return bsearch(&key, m->groups, m->ngroups, sizeof(*m->groups),
	               cmp_group);
}

/* ---- reading a snapshot back ------------------------------------------ */

struct ebuf {
	char *p;
	size_t len;
};

static int ebuf_grow(struct ebuf *b)
{
	size_t want = b->len ? b->len * 2 : ENUM_BUF_START;
	char *p;

	if (want > ENUM_BUF_MAX)
		return -ENOMEM;
	p = realloc(b->p, want);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->len = want;
	return 0;
}

/* A snapshot read whole, in windows: the reader is reopened every
 * WINDOW entries, so that the file pages it touched leave the resident
 * set (a large snapshot is 30+ MB of them otherwise).  The state lock
 * keeps other writers out; a file replaced between windows (another inode,
 * or another meta record) is still caught. */
#define WINDOW 1024

struct wreader {
	const char *path;
	uid_t owner;
	struct snap_reader *r;
	struct snap_meta meta; /* of the first window */
	dev_t dev;
	ino_t ino;
	unsigned since;
};

/* 0 when PATH is still the file of the first window (which FIRST
 * records), -ESTALE when it was replaced, or -errno. */
static int same_file(struct wreader *w, bool first)
{
	struct stat st;

	if (stat(w->path, &st) < 0)
		return first ? -errno : -ESTALE;
	if (first) {
		w->dev = st.st_dev;
		w->ino = st.st_ino;
	}
	return st.st_dev == w->dev && st.st_ino == w->ino ? 0 : -ESTALE;
}

static int wreader_next(struct wreader *w)
{
	struct snap_meta m;
	bool first = w->r == NULL && w->ino == 0;
	int rc;

	if (w->r != NULL && w->since < WINDOW) {
		w->since++;
		return 0;
	}
	snap_reader_free(w->r);
	w->r = NULL;
	w->since = 1;
	rc = same_file(w, first);
	if (rc == 0)
		rc = snap_reader_new(w->path, w->owner, &w->r);
	if (rc == 0)
		rc = snap_get_meta(w->r, first ? &w->meta : &m);
	if (rc == 0 && !first &&
	    (m.generation != w->meta.generation ||
	     m.created != w->meta.created || m.nusers != w->meta.nusers ||
	     m.ngroups != w->meta.ngroups || same_file(w, false) < 0))
		rc = -ESTALE;
	return rc > 0 ? -EBADMSG : rc;
}

/* What read_snapshot() hands each entry to; the strings are valid for the
 * call only. */
struct visitor {
	int (*user)(void *ud, const struct model_user *u);
	int (*group)(void *ud, const char *name, uint32_t gid,
	             const char *const *members, size_t n);
	void *ud;
};

static int visit_users(struct wreader *w, struct ebuf *b,
                       const struct visitor *v)
{
	struct snap_cursor cur = {0};
	struct snap_account acct;
	struct passwd pw;
	int rc;

	while ((rc = wreader_next(w)) == 0) {
		rc = snap_getpwent(w->r, &cur, &pw, b->p, b->len);
		if (rc == -ERANGE) {
			rc = ebuf_grow(b);
		} else if (rc == 0) {
			struct model_user u = {
			        .name = pw.pw_name,
			        .uid = pw.pw_uid,
			        .gid = pw.pw_gid,
			        .gecos = pw.pw_gecos,
			        .home = pw.pw_dir,
			        .shell = pw.pw_shell,
			};

			rc = snap_get_account(w->r, pw.pw_name, &acct);
			if (rc > 0)
				rc = -EBADMSG;
			u.active = acct.active;
			if (rc == 0)
				rc = v->user(v->ud, &u);
		} else
			break;
		if (rc < 0)
			return rc;
	}
	return rc == SNAP_NONE ? 0 : rc;
}

static int visit_groups(struct wreader *w, struct ebuf *b,
                        const struct visitor *v)
{
	struct snap_cursor cur = {0};
	struct group gr;
	int rc;

	while ((rc = wreader_next(w)) == 0) {
		rc = snap_getgrent(w->r, &cur, &gr, b->p, b->len);
		if (rc == -ERANGE) {
			rc = ebuf_grow(b);
		} else if (rc == 0) {
			size_t n = 0;

			while (gr.gr_mem[n] != NULL)
				n++;
			rc = v->group(v->ud, gr.gr_name, gr.gr_gid,
			              (const char *const *)gr.gr_mem, n);
		} else
			break;
		if (rc < 0)
			return rc;
	}
	return rc == SNAP_NONE ? 0 : rc;
}

/* Every user, then every group, of the snapshot at PATH to V. */
static int read_snapshot(const char *path, uid_t owner, struct snap_meta *meta,
                         const struct visitor *v)
{
	struct wreader w = {.path = path, .owner = owner};
	struct ebuf b = {0};
	int rc = ebuf_grow(&b);

	if (rc == 0)
		rc = visit_users(&w, &b, v);
	if (rc == 0) {
		/* A fresh window: the groups' cursor starts over. */
		w.since = WINDOW;
		rc = visit_groups(&w, &b, v);
	}
	if (rc == 0)
		*meta = w.meta;
	snap_reader_free(w.r);
	free(b.p);
	return rc;
}

static int add_user_cb(void *ud, const struct model_user *u)
{
	return model_add_user(ud, u);
}

static int add_group_cb(void *ud, const char *name, uint32_t gid,
                        const char *const *members, size_t n)
{
	return model_add_group(ud, name, gid, members, n, NULL);
}

int model_load_snapshot(const char *path, uid_t owner, struct model *m,
                        struct snap_meta *meta)
{
	struct model tmp = {0};
	struct visitor v = {add_user_cb, add_group_cb, &tmp};
	int rc = read_snapshot(path, owner, meta, &v);

	if (rc != 0) {
		model_free(&tmp);
		return rc < 0 ? rc : -EBADMSG;
	}
	model_sort(&tmp);
	*m = tmp;
	return 0;
}

/* ---- a summary of a snapshot ------------------------------------------ */

/* 64-bit hashes of names and entries: a refresh compares the new model
 * with the live snapshot through these instead of holding both. */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * UINT64_C(0xff51afd7ed558ccd);
	return h ^ (h >> 32);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	size_t len = strlen(s);
	uint64_t w;

	h = mix(h, len);
	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = mix(h, w);
	}
	w = 0;
	memcpy(&w, s, len);
	h = mix(h, w);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 33);
}

#define SEED UINT64_C(0x9e3779b97f4a7c15)

static void sum_user(const struct model_user *u, struct model_sum_entry *e)
{
	uint64_t h = mix(mix(SEED, u->uid), u->gid);

	h = mix(h, u->active);
	h = hash_str(h, u->gecos);
	h = hash_str(h, u->home);
	e->name = hash_str(SEED, u->name);
	e->entry = hash_str(h, u->shell);
	e->id = u->uid;
}

/* The members' hashes are added up, so that their order does not count
 * (they are unique). */
static void sum_group(const char *name, uint32_t gid,
                      const char *const *members, size_t n,
                      struct model_sum_entry *e)
{
	uint64_t h = mix(mix(SEED, gid), n), set = 0;

	for (size_t i = 0; i < n; i++)
		set += hash_str(SEED, members[i]);
	e->name = hash_str(SEED, name);
	e->entry = mix(h, set);
	e->id = gid;
}

static int sum_push(struct model_sum_entry **v, size_t *n, size_t *cap,
                    const struct model_sum_entry *e)
{
	if (array_grow((void **)v, cap, *n, sizeof(**v), 64) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = *e;
	return 0;
}

struct sum_build {
	struct model_sum *s;
	size_t ucap, gcap;
};

static int sum_user_cb(void *ud, const struct model_user *u)
{
	struct sum_build *b = ud;
	struct model_sum_entry e;

	sum_user(u, &e);
	return sum_push(&b->s->users, &b->s->nusers, &b->ucap, &e);
}

static int sum_group_cb(void *ud, const char *name, uint32_t gid,
                        const char *const *members, size_t n)
{
	struct sum_build *b = ud;
	struct model_sum_entry e;

	sum_group(name, gid, members, n, &e);
	return sum_push(&b->s->groups, &b->s->ngroups, &b->gcap, &e);
}

static int cmp_sum(const void *a, const void *b)
{
	uint64_t x = ((const struct model_sum_entry *)a)->name;
	uint64_t y = ((const struct model_sum_entry *)b)->name;

	return x < y ? -1 : x > y;
}

int model_sum_snapshot(const char *path, uid_t owner, struct model_sum *s,
                       struct snap_meta *meta)
{
	struct sum_build b = {.s = s};
	struct visitor v = {sum_user_cb, sum_group_cb, &b};
	int rc;

	*s = (struct model_sum){0};
	rc = read_snapshot(path, owner, meta, &v);
	if (rc != 0) {
		model_sum_free(s);
		return rc < 0 ? rc : -EBADMSG;
	}
	sort(s->users, s->nusers, sizeof(*s->users), cmp_sum);
	sort(s->groups, s->ngroups, sizeof(*s->groups), cmp_sum);
	return 0;
}

int model_sum_of(const struct model *m, struct model_sum *s)
{
	*s = (struct model_sum){0};
	s->users = calloc(m->nusers ? m->nusers : 1, sizeof(*s->users));
	s->groups = calloc(m->ngroups ? m->ngroups : 1, sizeof(*s->groups));
	if (s->users == NULL || s->groups == NULL) {
		model_sum_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->nusers; i++)
		sum_user(&m->users[i], &s->users[i]);
	for (size_t i = 0; i < m->ngroups; i++) {
		const struct model_group *g = &m->groups[i];

		sum_group(g->name, g->gid, (const char *const *)g->members,
		          g->nmembers, &s->groups[i]);
	}
	s->nusers = m->nusers;
	s->ngroups = m->ngroups;
	sort(s->users, s->nusers, sizeof(*s->users), cmp_sum);
	sort(s->groups, s->ngroups, sizeof(*s->groups), cmp_sum);
	return 0;
}

/* The file: "nss-scim-sum 1 TAG\n", then le64 nusers and ngroups, then
 * the entries (name, entry: le64; id: le32), users first.  Local state of
 * one host, but written portably all the same. */
#define SUM_MAGIC      "nss-scim-sum 1 "
#define SUM_ENTRY_SIZE 20

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int model_sum_save(const char *path, const char *tag, const struct model_sum *s)
{
	size_t head = strlen(SUM_MAGIC) + strlen(tag) + 1 + 16;
	size_t n = s->nusers + s->ngroups, len = head + n * SUM_ENTRY_SIZE;
	uint8_t *b = malloc(len), *p;
	int rc;

	if (b == NULL)
		return -ENOMEM;
	p = b + sprintf((char *)b, SUM_MAGIC "%s\n", tag);
	put64(p, s->nusers);
	put64(p + 8, s->ngroups);
	p += 16;
	for (size_t i = 0; i < n; i++, p += SUM_ENTRY_SIZE) {
		const struct model_sum_entry *e =
		        i < s->nusers ? &s->users[i]
		                      : &s->groups[i - s->nusers];

		put64(p, e->name);
		put64(p + 8, e->entry);
		p[16] = (uint8_t)e->id;
		p[17] = (uint8_t)(e->id >> 8);
		p[18] = (uint8_t)(e->id >> 16);
		p[19] = (uint8_t)(e->id >> 24);
	}
	rc = write_file_atomic(path, b, len, 0600);
	free(b);
	return rc;
}

int model_sum_load(const char *path, const char *tag, struct model_sum *s)
{
	size_t head = strlen(SUM_MAGIC) + strlen(tag) + 1, len = 0, nu, ng;
	char *text = NULL;
	const uint8_t *p;
	int rc = read_file(path, SIZE_MAX / 2, &text, &len);

	*s = (struct model_sum){0};
	if (rc < 0)
		return rc;
	p = (const uint8_t *)text + head;
	if (len < head || memcmp(text, SUM_MAGIC, strlen(SUM_MAGIC)) != 0 ||
	    memcmp(text + strlen(SUM_MAGIC), tag, strlen(tag)) != 0 ||
	    text[head - 1] != '\n') {
		free(text);
		return -ESTALE;
	}
	if (len < head + 16) {
		free(text);
		return -EBADMSG;
	}
	nu = (size_t)get64(p);
	ng = (size_t)get64(p + 8);
	p += 16;
	if (nu > (len - head - 16) / SUM_ENTRY_SIZE ||
	    ng != (len - head - 16) / SUM_ENTRY_SIZE - nu ||
	    (len - head - 16) % SUM_ENTRY_SIZE != 0) {
		free(text);
		return -EBADMSG;
	}
	s->users = calloc(nu ? nu : 1, sizeof(*s->users));
	s->groups = calloc(ng ? ng : 1, sizeof(*s->groups));
	if (s->users == NULL || s->groups == NULL) {
		free(text);
		model_sum_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nu + ng; i++, p += SUM_ENTRY_SIZE) {
		struct model_sum_entry *e =
		        i < nu ? &s->users[i] : &s->groups[i - nu];

		e->name = get64(p);
		e->entry = get64(p + 8);
		e->id = (uint32_t)p[16] | (uint32_t)p[17] << 8 |
		        (uint32_t)p[18] << 16 | (uint32_t)p[19] << 24;
	}
	s->nusers = nu;
	s->ngroups = ng;
	free(text);
	/* Sorted as saved; a file that is not was not ours. */
	if (!in_order(s->users, nu, sizeof(*s->users), cmp_sum) ||
	    !in_order(s->groups, ng, sizeof(*s->groups), cmp_sum)) {
		model_sum_free(s);
		return -EBADMSG;
	}
	return 0;
}

void model_sum_free(struct model_sum *s)
{
	free(s->users);
	free(s->groups);
	*s = (struct model_sum){0};
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* OLD's entry whose name hashes to NAME, or NULL (OLD is sorted). */
static const struct model_sum_entry *sum_find(const struct model_sum_entry *old,
                                              size_t n, uint64_t name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (old[mid].name == name)
			return &old[mid];
		if (old[mid].name < name)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Each NEW entry is looked up in OLD by name and its OLD match marked in
 * SEEN; what is left unmarked was removed.  Nothing the size of NEW is
 * built. */
static void sum_match(const struct model_sum_entry *old, size_t nold,
                      uint8_t *seen, const struct model_sum_entry *e,
                      size_t *added, size_t *changed, size_t *uid_changes)
{
	const struct model_sum_entry *o = sum_find(old, nold, e->name);

	if (o == NULL) {
		(*added)++;
		return;
	}
	seen[(o - old) / 8] |= (uint8_t)(1u << ((o - old) % 8));
	if (o->entry != e->entry) {
		(*changed)++;
		if (uid_changes)
			*uid_changes += o->id != e->id;
	}
}

static bool sum_seen(const uint8_t *seen, size_t i)
{
	return seen[i / 8] & (1u << (i % 8));
}

int model_sum_diff(const struct model_sum *old, const struct model *new,
                   struct model_diff *d)
{
	size_t nseen =
	        (old->nusers > old->ngroups ? old->nusers : old->ngroups) / 8 +
	        1;
	uint8_t *seen = calloc(nseen, 1);
	uint32_t *uids = calloc(new->nusers ? new->nusers : 1, sizeof(*uids));
	struct model_sum_entry e;

	*d = (struct model_diff){0};
	if (seen == NULL || uids == NULL) {
		free(seen);
		free(uids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < new->nusers; i++) {
		sum_user(&new->users[i], &e);
		sum_match(old->users, old->nusers, seen, &e, &d->users_added,
		          &d->users_changed, &d->uid_changes);
		uids[i] = new->users[i].uid;
	}
	sort(uids, new->nusers, sizeof(*uids), cmp_u32);
	for (size_t i = 0; i < old->nusers; i++) {
		if (sum_seen(seen, i))
			continue;
		d->users_removed++;
		/* Gone by name but its uid still there: a rename. */
		if (new->nusers > 0 &&
		    bsearch(&old->users[i].id, uids, new->nusers, sizeof(*uids),
		            cmp_u32) != NULL)
			d->renames++;
		else
			d->removed_uids++;
	}
	memset(seen, 0, nseen);
	for (size_t i = 0; i < new->ngroups; i++) {
		const struct model_group *g = &new->groups[i];

		sum_group(g->name, g->gid, (const char *const *)g->members,
		          g->nmembers, &e);
		sum_match(old->groups, old->ngroups, seen, &e, &d->groups_added,
		          &d->groups_changed, NULL);
	}
	for (size_t i = 0; i < old->ngroups; i++)
		d->groups_removed += !sum_seen(seen, i);
	free(seen);
	free(uids);
	return 0;
}

/* One kind of entry of model_sum_patch(): OLD (sorted) without the names
 * GONE, with ADD (sorted) instead, into *OUT and *NOUT; the counts into
 * ADDED, REMOVED and CHANGED.  -EEXIST when an added name stays in OLD,
 * -ENOENT when a gone one is not there. */
static int sum_merge(const struct model_sum_entry *old, size_t nold,
                     const char *const *gone, size_t ngone,
                     const struct model_sum_entry *add, size_t nadd,
                     struct model_sum_entry **out, size_t *nout, size_t *added,
                     size_t *removed, size_t *changed, uint64_t **gone_ids)
{
	uint8_t *drop = calloc(nold / 8 + 1, 1);
	struct model_sum_entry *v = calloc(nold + nadd + 1, sizeof(*v));
	uint64_t *ids = calloc(ngone + 1, sizeof(*ids));
	size_t n = 0, a = 0;
	int rc = drop && v && ids ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < ngone; i++) {
		const struct model_sum_entry *o =
		        sum_find(old, nold, hash_str(SEED, gone[i]));

		if (o == NULL || sum_seen(drop, (size_t)(o - old)))
			rc = -ENOENT;
		else
			drop[(o - old) / 8] |= (uint8_t)(1u << ((o - old) % 8));
		/* The name, then the id of what went: renames are told
		 * from removals by the ids that stay. */
		if (rc == 0)
			ids[i] = (uint64_t)o->id;
	}
	for (size_t i = 0; rc == 0 && i < nadd; i++) {
		const struct model_sum_entry *o =
		        sum_find(old, nold, add[i].name);

		if (o == NULL)
			(*added)++;
		else if (!sum_seen(drop, (size_t)(o - old)))
			rc = -EEXIST;
		else
			*changed += o->entry != add[i].entry;
	}
	*removed = ngone - (nadd - *added);
	for (size_t i = 0; rc == 0 && i <= nold; i++) {
		/* Both lists are sorted by name hash: a merge. */
		while (a < nadd && (i == nold || add[a].name < old[i].name))
			v[n++] = add[a++];
		if (i < nold && !sum_seen(drop, i))
			v[n++] = old[i];
	}
	free(drop);
	if (rc < 0) {
		free(v);
		free(ids);
		return rc;
	}
	*out = v;
	*nout = n;
	*gone_ids = ids;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int model_sum_patch(const struct model_sum *old, const char *const *gone_users,
                    size_t ngone_users, const char *const *gone_groups,
                    size_t ngone_groups, const struct model *add,
                    struct model_sum *out, struct model_diff *d)
{
	struct model_sum a = {0};
	uint64_t *uids = NULL, *gids = NULL, *added_uids = NULL;
	int rc;

	*out = (struct model_sum){0};
	*d = (struct model_diff){0};
	rc = model_sum_of(add, &a);
	if (rc == 0)
		rc = sum_merge(old->users, old->nusers, gone_users, ngone_users,
		               a.users, a.nusers, &out->users, &out->nusers,
		               &d->users_added, &d->users_removed,
		               &d->users_changed, &uids);
	if (rc == 0)
		rc = sum_merge(old->groups, old->ngroups, gone_groups,
		               ngone_groups, a.groups, a.ngroups, &out->groups,
		               &out->ngroups, &d->groups_added,
		               &d->groups_removed, &d->groups_changed, &gids);
	added_uids =
	        rc == 0 ? calloc(add->nusers + 1, sizeof(*added_uids)) : NULL;
	if (rc == 0 && added_uids == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		/* A person gone by name whose uid an added person holds was
		 * renamed (model_sum_diff); no other uid of the result can
		 * be theirs, the old ones being unique. */
		for (size_t i = 0; i < add->nusers; i++)
			added_uids[i] = add->users[i].uid;
		sort(added_uids, add->nusers, sizeof(*added_uids), cmp_u64);
		for (size_t i = 0; i < ngone_users; i++) {
			if (sum_find(a.users, a.nusers,
			             hash_str(SEED, gone_users[i])) != NULL)
				continue; /* changed, not gone */
			if (add->nusers > 0 &&
			    bsearch(&uids[i], added_uids, add->nusers,
			            sizeof(*added_uids), cmp_u64) != NULL)
				d->renames++;
			else
				d->removed_uids++;
		}
		for (size_t i = 0; i < add->nusers; i++) {
			const struct model_sum_entry *o = sum_find(
			        old->users, old->nusers, a.users[i].name);

			if (o != NULL && o->entry != a.users[i].entry)
				d->uid_changes += o->id != a.users[i].id;
		}
	}
	free(uids);
	free(gids);
	free(added_uids);
	model_sum_free(&a);
	if (rc < 0)
		model_sum_free(out);
	return rc;
}

int model_read_meta(const char *path, uid_t owner, struct snap_meta *meta)
{
	struct snap_reader *r = NULL;
	int rc;

	rc = snap_reader_new(path, owner, &r);
	if (rc == 0)
		rc = snap_get_meta(r, meta);
	snap_reader_free(r);
	return rc > 0 ? -EBADMSG : rc;
}

/* ---- publishing ------------------------------------------------------- */

static int add_all(struct snap_writer *w, const struct model *m, char *err,
                   size_t errlen)
{
	int rc = snap_writer_reserve(w, m->nusers, m->ngroups);

	if (rc < 0)
		return set_error(err, errlen, rc, "out of memory");
	for (size_t i = 0; rc == 0 && i < m->nusers; i++) {
		const struct model_user *u = &m->users[i];
		struct snap_user su = {u->name, u->uid,   u->gid,   u->gecos,
		                       u->home, u->shell, u->active};

		rc = snap_writer_add_user(w, &su, err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < m->ngroups; i++) {
		const struct model_group *g = &m->groups[i];
		struct snap_group sg = {g->name, g->gid, g->nmembers,
		                        (const char *const *)g->members};

		rc = snap_writer_add_group(w, &sg, err, errlen);
	}
	return rc;
}

int model_publish(const struct model *m, uint32_t id_min, uint32_t id_max,
                  const char *path, const struct snap_meta *meta, char *err,
                  size_t errlen)
{
	struct snap_writer *w = NULL;
	int rc;

	rc = snap_writer_new_borrowing(id_min, id_max, &w);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start a snapshot: %s",
		         strerror(-rc));
		return rc;
	}
	rc = add_all(w, m, err, errlen);
	if (rc == 0)
		rc = snap_writer_publish(w, path, meta, err, errlen);
	snap_writer_free(w);
	return rc;
}

/* ---- diff ------------------------------------------------------------- */

bool model_user_same(const struct model_user *a, const struct model_user *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->active == b->active &&
	       strcmp(a->gecos, b->gecos) == 0 &&
	       strcmp(a->home, b->home) == 0 && strcmp(a->shell, b->shell) == 0;
}

bool model_group_same(const struct model_group *a, const struct model_group *b)
{
	if (a->gid != b->gid || a->nmembers != b->nmembers)
		return false;
	for (size_t i = 0; i < a->nmembers; i++)
		if (strcmp(a->members[i], b->members[i]) != 0)
			return false;
	return true;
}

/* M's users by uid, for the diff's renames and removals: built on first
 * use, so that a diff with none costs nothing.  A NULL index (out of
 * memory) falls back to a scan. */
struct by_uid {
	const struct model *m;
	const struct model_user **v;
	bool built;
};

static int cmp_uid_ptr(const void *a, const void *b)
{
	uint32_t x = (*(const struct model_user *const *)a)->uid;
	uint32_t y = (*(const struct model_user *const *)b)->uid;

	return x < y ? -1 : x > y;
}

static const struct model_user *user_by_uid(struct by_uid *ix, uint32_t uid)
{
	const struct model *m = ix->m;
	size_t lo = 0, hi = m->nusers;

	if (!ix->built) {
		ix->built = true;
		ix->v = m->nusers ? calloc(m->nusers, sizeof(*ix->v)) : NULL;
		for (size_t i = 0; ix->v && i < m->nusers; i++)
			ix->v[i] = &m->users[i];
		if (ix->v)
			qsort(ix->v, m->nusers, sizeof(*ix->v), cmp_uid_ptr);
	}
	if (ix->v == NULL) {
		for (size_t i = 0; i < m->nusers; i++)
			if (m->users[i].uid == uid)
				return &m->users[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->v[mid]->uid == uid)
			return ix->v[mid];
		if (ix->v[mid]->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void describe_user_change(const struct model_user *a,
                                 const struct model_user *b, FILE *out)
{
	fprintf(out, "~ user %s:", a->name);
	if (a->uid != b->uid)
		fprintf(out, " UID CHANGE %u -> %u", a->uid, b->uid);
	if (a->gid != b->gid)
		fprintf(out, " gid %u -> %u", a->gid, b->gid);
	if (a->active != b->active)
		fprintf(out, " %s", b->active ? "reactivated" : "suspended");
	if (strcmp(a->gecos, b->gecos) != 0)
		fprintf(out, " gecos '%s' -> '%s'", a->gecos, b->gecos);
	if (strcmp(a->home, b->home) != 0)
		fprintf(out, " home %s -> %s", a->home, b->home);
	if (strcmp(a->shell, b->shell) != 0)
		fprintf(out, " shell %s -> %s", a->shell, b->shell);
	fputc('\n', out);
}

static void diff_users(const struct model *old, const struct model *new,
                       struct model_diff *d, FILE *out)
{
	struct by_uid old_uids = {.m = old}, new_uids = {.m = new};

	for (size_t i = 0; i < old->nusers; i++) {
		const struct model_user *a = &old->users[i];
		const struct model_user *b = model_find_user(new, a->name);

		if (b == NULL) {
			const struct model_user *r =
			        user_by_uid(&new_uids, a->uid);

			d->users_removed++;
			if (r != NULL)
				d->renames++;
			else
				d->removed_uids++;
			if (out && r)
				fprintf(out,
				        "~ user %s renamed to %s (uid %u)\n",
				        a->name, r->name, a->uid);
			else if (out)
				fprintf(out, "- user %s (uid %u)\n", a->name,
				        a->uid);
			continue;
		}
		if (model_user_same(a, b))
			continue;
		d->users_changed++;
		d->uid_changes += a->uid != b->uid;
		if (out)
			describe_user_change(a, b, out);
	}
	for (size_t i = 0; i < new->nusers; i++) {
		const struct model_user *b = &new->users[i];

		if (model_find_user(old, b->name) != NULL)
			continue;
		d->users_added++;
		if (out && user_by_uid(&old_uids, b->uid) == NULL)
			fprintf(out, "+ user %s (uid %u%s)\n", b->name, b->uid,
			        b->active ? "" : ", suspended");
	}
	free(old_uids.v);
	free(new_uids.v);
}

static void diff_groups(const struct model *old, const struct model *new,
                        struct model_diff *d, FILE *out)
{
	for (size_t i = 0; i < old->ngroups; i++) {
		const struct model_group *a = &old->groups[i];
		const struct model_group *b = model_find_group(new, a->name);

		if (b == NULL) {
			d->groups_removed++;
			if (out)
				fprintf(out, "- group %s (gid %u)\n", a->name,
				        a->gid);
		} else if (!model_group_same(a, b)) {
			d->groups_changed++;
			if (out)
				fprintf(out,
				        "~ group %s: gid %u -> %u, %zu -> %zu "
				        "members\n",
				        a->name, a->gid, b->gid, a->nmembers,
				        b->nmembers);
		}
	}
	for (size_t i = 0; i < new->ngroups; i++) {
		const struct model_group *b = &new->groups[i];

		if (model_find_group(old, b->name) != NULL)
			continue;
		d->groups_added++;
		if (out)
			fprintf(out, "+ group %s (gid %u, %zu members)\n",
			        b->name, b->gid, b->nmembers);
	}
}

void model_diff(const struct model *old, const struct model *new,
                struct model_diff *d, FILE *out)
{
	*d = (struct model_diff){0};
	diff_users(old, new, d, out);
	diff_groups(old, new, d, out);
}

bool model_diff_empty(const struct model_diff *d)
{
	return d->users_added + d->users_removed + d->users_changed +
	               d->groups_added + d->groups_removed +
	               d->groups_changed ==
	       0;
}
