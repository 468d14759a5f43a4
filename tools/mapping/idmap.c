/* SPDX-License-Identifier: MIT */
/*
 * idmap.c: see idmap.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "snap.h"
#include "util.h"

/* The index of KIND (SCIM_USERS or SCIM_GROUPS), or NULL. */
static struct idmap_index *index_of(const struct idmap *m, enum scim_kind kind)
{
	if (kind != SCIM_USERS && kind != SCIM_GROUPS)
		return NULL;
	return (struct idmap_index *)&m->index[kind == SCIM_USERS ? 0 : 1];
}

/* The slot of SCIM_ID in X: its own, or the empty one it would take. */
static size_t index_slot(const struct idmap *m, const struct idmap_index *x,
                         const char *scim_id, uint32_t hash)
{
	size_t i = hash & (x->cap - 1);

	while (x->slots[i].pos != 0 &&
	       (x->slots[i].hash != hash ||
	        strcmp(m->e[x->slots[i].pos - 1].scim_id, scim_id) != 0))
		i = (i + 1) & (x->cap - 1);
	return i;
}

static int index_grow(struct idmap_index *x)
{
	struct idmap_index old = *x;
	size_t cap = x->cap ? x->cap * 2 : 256;

	x->slots = calloc(cap, sizeof(*x->slots));
	if (x->slots == NULL) {
		*x = old;
		return -ENOMEM;
	}
	x->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		const struct idmap_slot *s = &old.slots[i];

		/* Keys are unique: the first empty slot is the one. */
		if (s->pos != 0) {
			size_t j = s->hash & (cap - 1);

			while (x->slots[j].pos != 0)
				j = (j + 1) & (cap - 1);
			x->slots[j] = *s;
		}
	}
	free(old.slots);
	return 0;
}

/* Adds entry POS (its scim_id not yet indexed) to X. */
static int index_add(const struct idmap *m, struct idmap_index *x, size_t pos)
{
	const char *id = m->e[pos].scim_id;
	uint32_t hash = str_hash(id);

	if ((x->n + 1) * 2 > x->cap && index_grow(x) < 0)
		return -ENOMEM;
	x->slots[index_slot(m, x, id, hash)] =
	        (struct idmap_slot){hash, (uint32_t)pos + 1};
	x->n++;
	return 0;
}

void idmap_init(struct idmap *m, uint32_t min, uint32_t max)
{
	*m = (struct idmap){.min = min, .max = max};
}

void idmap_free(struct idmap *m)
{
	arena_free(&m->strs);
	free(m->e);
	for (int i = 0; i < 2; i++) {
		free(m->index[i].slots);
		m->index[i] = (struct idmap_index){0};
	}
	numset_free(&m->used);
	m->e = NULL;
	m->n = m->cap = 0;
}

/* Appends a copy of E (scim_id and name copied). */
static int add(struct idmap *m, const struct idmap_entry *e)
{
	struct idmap_entry c = *e;
	struct idmap_index *index = index_of(m, e->kind);

	if (array_grow((void **)&m->e, &m->cap, m->n, sizeof(*m->e), 256) < 0)
		return -ENOMEM;
	if (index == NULL)
		return -EINVAL;
	/* A failure leaves at most some bytes in the arena. */
	c.scim_id = arena_strndup(&m->strs, e->scim_id, strlen(e->scim_id));
	c.name = e->name ? arena_strndup(&m->strs, e->name, strlen(e->name))
	                 : NULL;
	if (c.scim_id == NULL || (e->name && c.name == NULL))
		return -ENOMEM;
	/* The index reads the entry's scim_id: it goes in first. */
	m->e[m->n] = c;
	if (index_add(m, index, m->n) < 0 || numset_add(&m->used, c.number) < 0)
		return -ENOMEM;
	m->n++;
	return 0;
}

int idmap_set_name(struct idmap *m, struct idmap_entry *e, const char *name)
{
	/* Most runs give everyone the name they had: keep that copy. */
	if (e->name != NULL && strcmp(e->name, name) == 0)
		return 0;
	e->name = arena_strndup(&m->strs, name, strlen(name));
	return e->name ? 0 : -ENOMEM;
}

struct idmap_entry *idmap_find(const struct idmap *m, enum scim_kind kind,
                               const char *scim_id)
{
	const struct idmap_index *x = index_of(m, kind);
	size_t i;

	if (x == NULL || x->cap == 0 || strlen(scim_id) > SCIM_ID_MAX)
		return NULL;
	i = index_slot(m, x, scim_id, str_hash(scim_id));
	return x->slots[i].pos ? &m->e[x->slots[i].pos - 1] : NULL;
}

struct idmap_entry *idmap_find_name(const struct idmap *m, enum scim_kind kind,
                                    const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].kind == kind && m->e[i].live && m->e[i].name &&
		    strcmp(m->e[i].name, name) == 0)
			return &m->e[i];
	return NULL;
}

/* Splits LINE at spaces into exactly N fields. */
static bool split(char *line, char **f, size_t n)
{
	size_t k = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		if (k == n)
			return false;
		f[k++] = t;
	}
	return k == n;
}

static int parse_entry(struct idmap *m, char *line, const char **why)
{
	struct idmap_entry e = {0};
	char *f[6];

	if (!split(line, f, 6) || strlen(f[0]) != 1 ||
	    (f[0][0] != SCIM_USERS && f[0][0] != SCIM_GROUPS)) {
		*why = "malformed line";
		return -EBADMSG;
	}
	e.kind = f[0][0] == SCIM_USERS ? SCIM_USERS : SCIM_GROUPS;
	if (parse_u32(f[1], 1, SNAP_ID_LIMIT, &e.number) < 0) {
		*why = "bad number";
		return -EBADMSG;
	}
	if (!scim_id_valid(f[2], strlen(f[2])) ||
	    (strcmp(f[3], "-") != 0 && !snap_name_valid(f[3], strlen(f[3])))) {
		*why = "bad id or name";
		return -EBADMSG;
	}
	e.scim_id = f[2];
	e.name = strcmp(f[3], "-") ? f[3] : NULL;
	e.active = strcmp(f[4], "0") != 0;
	if (strcmp(f[5], "live") != 0 && strcmp(f[5], "gone") != 0) {
		*why = "bad state";
		return -EBADMSG;
	}
	e.live = strcmp(f[5], "live") == 0;
	if (idmap_find(m, e.kind, e.scim_id) ||
	    numset_has(&m->used, e.number)) {
		*why = "id or number listed twice";
		return -EBADMSG;
	}
	return add(m, &e);
}

int idmap_parse(struct idmap *m, const char *text, size_t len, char *err,
                size_t errlen)
{
	const char *p = text, *end = text + len, *why = "out of memory";
	unsigned lineno = 0;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, n);

		lineno++;
		if (line == NULL)
			return -ENOMEM;
		if (line[0] != '#' && line[0] != '\0')
			r = parse_entry(m, line, &why);
		free(line);
		p += n + 1;
	}
	if (r < 0)
		snprintf(err, errlen, "line %u: %s", lineno, why);
	return r;
}

int idmap_load(struct idmap *m, const char *path, char *err, size_t errlen)
{
	char *text = NULL, why[128];
	size_t len;
	int r;

	r = read_file(path, IDMAP_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = idmap_parse(m, text, len, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return r;
}

static void format_header(struct buf *b)
{
	buf_puts(b, "# nss-scim id map: KIND NUMBER SCIM-ID NAME ACTIVE "
	            "STATE\n# Numbers are never reused; do not edit.\n");
}

static void format_entry(struct buf *b, const struct idmap_entry *e)
{
	buf_printf(b, "%c %u %s %s %s %s\n", e->kind, e->number, e->scim_id,
	           e->name ? e->name : "-",
	           e->kind == SCIM_GROUPS ? "-"
	           : e->active            ? "1"
	                                  : "0",
	           e->live ? "live" : "gone");
}

/* Bytes formatted before each write by idmap_write. */
#define WRITE_CHUNK (64u << 10)

int idmap_write(const struct idmap *m, int fd)
{
	struct buf b = {0};
	int r = 0;

	format_header(&b);
	for (size_t i = 0; r == 0 && i <= m->n; i++) {
		if (i < m->n)
			format_entry(&b, &m->e[i]);
		if (b.err)
			r = -ENOMEM;
		else if (b.len >= WRITE_CHUNK || i == m->n) {
			r = write_all(fd, b.data, b.len);
			buf_reset(&b);
		}
	}
	buf_free(&b, false);
	return r;
}

uint32_t idmap_slot(const struct idmap *m, enum scim_kind kind,
                    const char *scim_id)
{
	char pre[2] = {kind, ':'};
	uint64_t h = fnv1a(FNV1A_INIT, pre, 2);
	uint64_t size = (uint64_t)m->max - m->min + 1;

	h = fnv1a(h, scim_id, strlen(scim_id));
	return m->min + (uint32_t)(h % size);
}

static bool taken(const struct idmap *m, const struct numset *reserved,
                  uint32_t v)
{
	return numset_has(&m->used, v) ||
	       (reserved != NULL && numset_has(reserved, v));
}

static int assign_one(struct idmap *m, enum scim_kind kind, const char *id,
                      const struct numset *reserved)
{
	struct idmap_entry e = {.kind = kind,
	                        .scim_id = (char *)id,
	                        .active = true,
	                        .live = true};
	uint32_t v = idmap_slot(m, kind, id);
	uint64_t tries = 0, size = (uint64_t)m->max - m->min + 1;

	while (taken(m, reserved, v)) {
		if (++tries >= size)
			return -ENOSPC;
		v = v == m->max ? m->min : v + 1;
	}
	e.number = v;
	return add(m, &e);
}

int idmap_adopt(struct idmap *m, enum scim_kind kind, const char *scim_id,
                uint32_t number)
{
	struct idmap_entry e = {.kind = kind,
	                        .scim_id = (char *)scim_id,
	                        .number = number,
	                        .active = true,
	                        .live = true};

	if (number == 0 || idmap_find(m, kind, scim_id) ||
	    numset_has(&m->used, number))
		return -EEXIST;
	return add(m, &e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int idmap_assign(struct idmap *m, enum scim_kind kind, const char *const *ids,
                 size_t n, const struct numset *reserved)
{
	const char **todo;
	size_t k = 0;
	int r = 0;

	todo = calloc(n ? n : 1, sizeof(*todo));
	if (todo == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (idmap_find(m, kind, ids[i]) == NULL)
			todo[k++] = ids[i];
	qsort(todo, k, sizeof(*todo), cmp_str);
	if (m->n + k > m->cap) {
		struct idmap_entry *a =
		        reallocarray(m->e, m->n + k, sizeof(*a));

		if (a == NULL)
			r = -ENOMEM;
		else {
			m->e = a;
			m->cap = m->n + k;
		}
	}
	for (size_t i = 0; r == 0 && i < k; i++)
		if (i == 0 || strcmp(todo[i], todo[i - 1]) != 0)
			r = assign_one(m, kind, todo[i], reserved);
	free(todo);
	return r;
}
