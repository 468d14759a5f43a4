/* SPDX-License-Identifier: MIT */
/*
 * test-patch: snap_writer_patch() writes, byte for byte, the file a full
 * publish of the changed directory writes, and refuses what a publish
 * would refuse (and a change that does not fit the live snapshot),
 * leaving the live file as it was.
 *
 * Random directories are published, changed at random (users and groups
 * added, removed, replaced, renamed, their members changed, sizes crossing
 * a hash table's power of two), and the change set between the two
 * directories is patched onto the live file; a full publish of the new
 * directory in another directory must give the same bytes.  A fixed seed
 * makes every run the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap.h"
#include "test.h"

#define ID_MIN 5000
#define ID_MAX 9999
#define MAXU   600
#define MAXG   48
#define MAXM   800
#define CASES  300

struct tuser {
	char name[33];
	uint32_t uid, gid;
	char gecos[301], home[80], shell[32];
	bool active;
};

struct tgroup {
	char name[33];
	uint32_t gid;
	size_t n;
	char mem[MAXM][33];
};

struct dir {
	size_t nu, ng;
	struct tuser u[MAXU];
	struct tgroup g[MAXG];
};

static struct dir d0, d1;
static char tmp[64], live_path[128], full_path[128];
static uint64_t seed = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return n ? (uint32_t)(seed % n) : 0;
}

static const char *const shells[] = {"/bin/bash", "/bin/sh", "/usr/bin/zsh",
                                     "/bin/false"};

static struct tuser *user_named(struct dir *d, const char *name)
{
	for (size_t i = 0; i < d->nu; i++)
		if (strcmp(d->u[i].name, name) == 0)
			return &d->u[i];
	return NULL;
}

static struct tgroup *group_named(struct dir *d, const char *name)
{
	for (size_t i = 0; i < d->ng; i++)
		if (strcmp(d->g[i].name, name) == 0)
			return &d->g[i];
	return NULL;
}

static bool id_used(const struct dir *d, uint32_t id, bool group)
{
	for (size_t i = 0; i < (group ? d->ng : d->nu); i++)
		if ((group ? d->g[i].gid : d->u[i].uid) == id)
			return true;
	return false;
}

static uint32_t fresh_id(const struct dir *d, bool group)
{
	uint32_t id;

	do
		id = ID_MIN + rnd(ID_MAX - ID_MIN + 1);
	while (id_used(d, id, group));
	return id;
}

/* A name no user (or group) of D has, into OUT (33 bytes), which may be
 * the name being replaced. */
static void fresh_name(struct dir *d, char *out, bool group)
{
	char name[33];

	do
		snprintf(name, sizeof(name), "%s%u%s", group ? "g" : "u",
		         rnd(100000), rnd(4) ? "" : ".x-y_z");
	while (group ? group_named(d, name) != NULL
	             : user_named(d, name) != NULL);
	memcpy(out, name, sizeof(name));
}

static void random_fields(struct tuser *u)
{
	size_t len = rnd(8) ? rnd(40) : rnd(300);

	for (size_t i = 0; i < len; i++)
		u->gecos[i] = (char)(rnd(6) ? 'a' + rnd(26) : ' ');
	u->gecos[len] = '\0';
	snprintf(u->home, sizeof(u->home), "/home/%s%s", u->name,
	         rnd(5) ? "" : "/deeper/still");
	snprintf(u->shell, sizeof(u->shell), "%s", shells[rnd(4)]);
	u->active = rnd(5) != 0;
	u->gid = ID_MIN + rnd(ID_MAX - ID_MIN + 1);
}

static void add_user(struct dir *d)
{
	struct tuser *u = &d->u[d->nu];

	if (d->nu >= MAXU)
		return;
	fresh_name(d, u->name, false);
	u->uid = fresh_id(d, false);
	random_fields(u);
	d->nu++;
}

static void add_member(struct tgroup *g, const char *name)
{
	char copy[33];

	/* NAME may be in the same directory as G. */
	snprintf(copy, sizeof(copy), "%s", name);
	if (g->n < MAXM)
		memcpy(g->mem[g->n++], copy, sizeof(copy));
}

/* Removes every membership of NAME. */
static void drop_member(struct dir *d, const char *name)
{
	for (size_t i = 0; i < d->ng; i++) {
		struct tgroup *g = &d->g[i];
		size_t k = 0;

		for (size_t j = 0; j < g->n; j++)
			if (strcmp(g->mem[j], name) != 0)
				memcpy(g->mem[k++], g->mem[j], 33);
		g->n = k;
	}
}

static void rename_member(struct dir *d, const char *from, const char *to)
{
	for (size_t i = 0; i < d->ng; i++)
		for (size_t j = 0; j < d->g[i].n; j++)
			if (strcmp(d->g[i].mem[j], from) == 0)
				snprintf(d->g[i].mem[j], 33, "%s", to);
}

static void remove_user(struct dir *d, size_t i)
{
	drop_member(d, d->u[i].name);
	d->u[i] = d->u[--d->nu];
}

static void random_members(struct dir *d, struct tgroup *g)
{
	size_t want = rnd(4) == 0 ? 0 : rnd(3) ? rnd(d->nu / 3 + 1) : d->nu;

	g->n = 0;
	for (size_t k = 0; k < want && d->nu > 0; k++)
		add_member(g, d->u[rnd((uint32_t)d->nu)].name);
	/* Mostly unique, as scim-cache gives them; a repeat now and then. */
	for (size_t j = 1; j < g->n; j++)
		for (size_t k = 0; k < j && rnd(8); k++)
			if (strcmp(g->mem[j], g->mem[k]) == 0) {
				memcpy(g->mem[j], g->mem[--g->n], 33);
				j--;
				break;
			}
}

static void add_group(struct dir *d)
{
	struct tgroup *g = &d->g[d->ng];

	if (d->ng >= MAXG)
		return;
	fresh_name(d, g->name, true);
	g->gid = fresh_id(d, true);
	random_members(d, g);
	d->ng++;
}

static void random_dir(struct dir *d, size_t nu, size_t ng)
{
	d->nu = d->ng = 0;
	for (size_t i = 0; i < nu; i++)
		add_user(d);
	for (size_t i = 0; i < ng; i++)
		add_group(d);
}

/* D changed at random; TARGET pulls the number of users towards it, so
 * that the sizes go back and forth across a power of two. */
static void mutate(struct dir *d, size_t target, size_t gtarget)
{
	size_t nadd = rnd(12), nrm = rnd(12);

	if (d->nu < target)
		nadd += rnd(8);
	else
		nrm += rnd(8);
	for (size_t k = 0; k < nrm && d->nu > 0; k++)
		remove_user(d, rnd((uint32_t)d->nu));
	for (size_t i = 0; i < d->nu; i++) {
		struct tuser *u = &d->u[i];

		switch (rnd(60)) {
		case 0:
			u->uid = fresh_id(d, false);
			break;
		case 1:
			random_fields(u);
			break;
		case 2:
			u->active = !u->active;
			break;
		case 3: {
			char old[33];

			memcpy(old, u->name, 33);
			fresh_name(d, u->name, false);
			rename_member(d, old, u->name);
			break;
		}
		default:
			break;
		}
	}
	if (rnd(10) == 0 && d->ng > 0) {
		/* Every member of one group goes. */
		struct tgroup g = d->g[rnd((uint32_t)d->ng)];

		for (size_t j = 0; j < g.n; j++) {
			struct tuser *u = user_named(d, g.mem[j]);

			if (u != NULL)
				remove_user(d, (size_t)(u - d->u));
		}
	}
	for (size_t k = 0; k < nadd; k++) {
		add_user(d);
		for (size_t i = 0; i < d->ng; i++)
			if (rnd(4) == 0)
				add_member(&d->g[i], d->u[d->nu - 1].name);
	}
	for (size_t i = 0; i < d->ng; i++) {
		struct tgroup *g = &d->g[i];

		switch (rnd(20)) {
		case 0:
			random_members(d, g);
			break;
		case 1:
		case 2:
			if (g->n > 0) {
				size_t j = rnd((uint32_t)g->n);

				memcpy(g->mem[j], g->mem[--g->n], 33);
			}
			if (d->nu > 0)
				add_member(g, d->u[rnd((uint32_t)d->nu)].name);
			break;
		case 3:
			g->gid = fresh_id(d, true);
			break;
		case 4:
			fresh_name(d, g->name, true);
			break;
		case 5:
			*g = d->g[--d->ng];
			i--;
			break;
		default:
			break;
		}
	}
	for (size_t k = rnd(d->ng < gtarget ? 5 : 2); k > 0; k--)
		add_group(d);
}

static bool user_eq(const struct tuser *a, const struct tuser *b)
{
	return strcmp(a->name, b->name) == 0 && a->uid == b->uid &&
	       a->gid == b->gid && strcmp(a->gecos, b->gecos) == 0 &&
	       strcmp(a->home, b->home) == 0 &&
	       strcmp(a->shell, b->shell) == 0 && a->active == b->active;
}

static bool group_eq(const struct tgroup *a, const struct tgroup *b)
{
	if (strcmp(a->name, b->name) != 0 || a->gid != b->gid || a->n != b->n)
		return false;
	for (size_t j = 0; j < a->n; j++)
		if (strcmp(a->mem[j], b->mem[j]) != 0)
			return false;
	return true;
}

static struct snap_user as_user(const struct tuser *u)
{
	return (struct snap_user){u->name, u->uid,   u->gid,   u->gecos,
	                          u->home, u->shell, u->active};
}

/* G as the writer takes it; the member array is MEM's. */
static struct snap_group as_group(const struct tgroup *g, const char **mem)
{
	for (size_t j = 0; j < g->n; j++)
		mem[j] = g->mem[j];
	return (struct snap_group){g->name, g->gid, g->n, mem};
}

static struct snap_meta meta_of(uint64_t gen)
{
	struct snap_meta m = {.generation = gen, .created = 1700000000 + gen};

	strcpy(m.source, "https://bridge.test/scim");
	return m;
}

static int publish(const struct dir *d, const char *where, uint64_t gen)
{
	static const char *mem[MAXG][MAXM];
	struct snap_meta m = meta_of(gen);
	struct snap_writer *w;
	char err[256];
	int rc;

	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	for (size_t i = 0; i < d->nu; i++) {
		struct snap_user u = as_user(&d->u[i]);

		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
	}
	for (size_t i = 0; i < d->ng; i++) {
		struct snap_group g = as_group(&d->g[i], mem[i]);

		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	rc = snap_writer_publish(w, where, &m, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "publish: %s\n", err);
	snap_writer_free(w);
	return rc;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;

	REQUIRE(fd >= 0 && fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size + 1);
	REQUIRE(buf != NULL);
	REQUIRE(read(fd, buf, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* The change set from A to B, as a fleet host would compute it: every
 * entry that went or changed is removed, every entry that came or changed
 * is added; NOISE also replaces a few unchanged ones by themselves. */
struct change {
	const char *ur[MAXU], *gr[MAXG];
	struct snap_user ua[MAXU];
	struct snap_group ga[MAXG];
	const char *mem[MAXG][MAXM];
	struct snap_patch p;
};

static void shuffle(void *base, size_t n, size_t size)
{
	char t[sizeof(struct snap_user)];

	for (size_t i = n; i > 1; i--) {
		size_t j = rnd((uint32_t)i);

		memcpy(t, (char *)base + (i - 1) * size, size);
		memcpy((char *)base + (i - 1) * size, (char *)base + j * size,
		       size);
		memcpy((char *)base + j * size, t, size);
	}
}

static void diff(const struct dir *a, struct dir *b, struct change *c,
                 bool noise)
{
	struct snap_patch *p = &c->p;

	*p = (struct snap_patch){c->ur, 0, c->ua, 0, c->gr, 0, c->ga, 0};
	for (size_t i = 0; i < a->nu; i++) {
		const struct tuser *o = user_named(b, a->u[i].name);

		if (o == NULL || !user_eq(o, &a->u[i]) || (noise && !rnd(50)))
			c->ur[p->nusers_removed++] = a->u[i].name;
	}
	for (size_t i = 0; i < b->nu; i++) {
		const struct tuser *o =
		        user_named((struct dir *)a, b->u[i].name);
		bool readd = false;

		for (size_t k = 0; o != NULL && k < p->nusers_removed; k++)
			readd |= strcmp(c->ur[k], b->u[i].name) == 0;
		if (o == NULL || readd)
			c->ua[p->nusers_added++] = as_user(&b->u[i]);
	}
	for (size_t i = 0; i < a->ng; i++) {
		const struct tgroup *o = group_named(b, a->g[i].name);

		if (o == NULL || !group_eq(o, &a->g[i]) || (noise && !rnd(20)))
			c->gr[p->ngroups_removed++] = a->g[i].name;
	}
	for (size_t i = 0; i < b->ng; i++) {
		const struct tgroup *o =
		        group_named((struct dir *)a, b->g[i].name);
		bool readd = false;

		for (size_t k = 0; o != NULL && k < p->ngroups_removed; k++)
			readd |= strcmp(c->gr[k], b->g[i].name) == 0;
		if (o == NULL || readd) {
			c->ga[p->ngroups_added] =
			        as_group(&b->g[i], c->mem[p->ngroups_added]);
			p->ngroups_added++;
		}
	}
	shuffle(c->ua, p->nusers_added, sizeof(c->ua[0]));
	shuffle(c->ur, p->nusers_removed, sizeof(c->ur[0]));
}

static bool no_temp_left(void)
{
	char d[128];
	DIR *dd;
	struct dirent *e;
	bool ok = true;

	snprintf(d, sizeof(d), "%s/a", tmp);
	dd = opendir(d);
	REQUIRE(dd != NULL);
	while ((e = readdir(dd)) != NULL)
		if (strstr(e->d_name, ".new.") != NULL)
			ok = false;
	closedir(dd);
	return ok;
}

static int patch(const struct change *c, uint64_t gen, char *err, size_t errlen)
{
	struct snap_meta m = meta_of(gen);
	size_t len;
	uint8_t *live = slurp(live_path, &len);
	int rc =
	        snap_writer_patch(live, len, &c->p, &m, live_path, err, errlen);

	free(live);
	return rc;
}

static void test_random(void)
{
	static struct change c;
	uint64_t gen = 1;
	size_t same = 0, crossed = 0, prev = 0, gcrossed = 0, gprev = 0;
	char err[256];

	for (int n = 0; n < CASES; n++) {
		size_t target = n % 100 < 50 ? 250 : 262;

		if (n % 50 == 0) {
			random_dir(&d0, 240 + rnd(40), 12 + rnd(10));
			REQUIRE(publish(&d0, live_path, gen++) == 0);
		}
		d1 = d0;
		mutate(&d1, target, 17);
		diff(&d0, &d1, &c, n % 3 == 0);
		gen++;
		err[0] = '\0';
		CHECK_INT(patch(&c, gen, err, sizeof(err)), 0);
		if (err[0])
			fprintf(stderr, "case %d: %s\n", n, err);
		REQUIRE(publish(&d1, full_path, gen) == 0);

		size_t la, lb;
		uint8_t *a = slurp(live_path, &la), *b = slurp(full_path, &lb);
		bool eq = la == lb && memcmp(a, b, la) == 0;

		if (!eq)
			fprintf(stderr,
			        "case %d: patched file differs from a publish "
			        "(%zu and %zu bytes)\n",
			        n, la, lb);
		CHECK(eq);
		same += eq;
		crossed += (prev <= 256) != (d1.nu <= 256);
		prev = d1.nu;
		gcrossed += (gprev <= 16) != (d1.ng <= 16);
		gprev = d1.ng;
		free(a);
		free(b);
		if (!eq) {
			/* Start over from the published file. */
			REQUIRE(publish(&d1, live_path, gen) == 0);
		}
		d0 = d1;
	}
	CHECK(no_temp_left());
	CHECK(crossed >= 10);
	CHECK(gcrossed >= 4);
	printf("random: %zu/%d identical, %zu crossings of 256 users, %zu of "
	       "16 groups\n",
	       same, CASES, crossed, gcrossed);
}

/* A refused patch: -EINVAL (or CODE), PATH as it was, nothing left. */
static void expect_refused(const struct snap_patch *p, int code,
                           const char *what)
{
	struct snap_meta m = meta_of(999);
	size_t len, after;
	uint8_t *live = slurp(live_path, &len), *now;
	char err[256] = "";
	int rc = snap_writer_patch(live, len, p, &m, live_path, err,
	                           sizeof(err));

	if (rc != code)
		fprintf(stderr, "%s: got %d (%s)\n", what, rc, err);
	CHECK_INT(rc, code);
	CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	now = slurp(live_path, &after);
	CHECK(after == len && memcmp(now, live, len) == 0);
	CHECK(no_temp_left());
	free(live);
	free(now);
}

static void test_refusals(void)
{
	static const char *mem[MAXG][MAXM];
	struct tuser nu;
	struct snap_user u;
	struct snap_group g;
	const char *names[2];
	const char *ghost[] = {"nosuch"};

	random_dir(&d0, 30, 4);
	/* A group of its own for the first user, who is in no other. */
	drop_member(&d0, d0.u[0].name);
	d0.g[0].n = 0;
	add_member(&d0.g[0], d0.u[0].name);
	add_member(&d0.g[0], d0.u[1].name);
	REQUIRE(publish(&d0, live_path, 1) == 0);

	/* The name to remove is not there. */
	names[0] = "nobody.here";
	expect_refused(&(struct snap_patch){.users_removed = names,
	                                    .nusers_removed = 1},
	               -EINVAL, "removed name absent");
	expect_refused(&(struct snap_patch){.groups_removed = names,
	                                    .ngroups_removed = 1},
	               -EINVAL, "removed group absent");

	/* An added user whose name is in the snapshot and stays. */
	nu = d0.u[3];
	nu.uid = fresh_id(&d0, false);
	u = as_user(&nu);
	expect_refused(
	        &(struct snap_patch){.users_added = &u, .nusers_added = 1},
	        -EINVAL, "added name duplicate");

	/* An added user with the uid of one who stays; twice among the
	 * added. */
	fresh_name(&d0, nu.name, false);
	nu.uid = d0.u[4].uid;
	u = as_user(&nu);
	expect_refused(
	        &(struct snap_patch){.users_added = &u, .nusers_added = 1},
	        -EINVAL, "duplicate uid");
	{
		struct snap_user two[2];

		nu.uid = fresh_id(&d0, false);
		two[0] = as_user(&nu);
		two[1] = two[0];
		expect_refused(&(struct snap_patch){.users_added = two,
		                                    .nusers_added = 2},
		               -EINVAL, "added name twice");
	}

	/* An added group with the gid of one that stays. */
	g = (struct snap_group){"newgroup", d0.g[1].gid, 0, NULL};
	expect_refused(
	        &(struct snap_patch){.groups_added = &g, .ngroups_added = 1},
	        -EINVAL, "duplicate gid");

	/* A member that is no user. */
	g = (struct snap_group){"newgroup", fresh_id(&d0, true), 1, ghost};
	expect_refused(
	        &(struct snap_patch){.groups_added = &g, .ngroups_added = 1},
	        -EINVAL, "member not a user");

	/* A removed user still in a group that stays. */
	names[0] = d0.u[0].name;
	expect_refused(&(struct snap_patch){.users_removed = names,
	                                    .nusers_removed = 1},
	               -EINVAL, "removed user in an unchanged group");
	/* ... or in the group that replaces its group. */
	{
		struct tgroup keep = d0.g[0];

		names[1] = d0.g[0].name;
		g = as_group(&keep, mem[0]);
		expect_refused(&(struct snap_patch){.users_removed = names,
		                                    .nusers_removed = 1,
		                                    .groups_removed = names + 1,
		                                    .ngroups_removed = 1,
		                                    .groups_added = &g,
		                                    .ngroups_added = 1},
		               -EINVAL, "removed user in a replaced group");
	}

	/* Fields and ids a publish refuses. */
	nu = d0.u[5];
	fresh_name(&d0, nu.name, false);
	nu.uid = fresh_id(&d0, false);
	strcpy(nu.gecos, "a:b");
	u = as_user(&nu);
	expect_refused(
	        &(struct snap_patch){.users_added = &u, .nusers_added = 1},
	        -EINVAL, "':' in gecos");
	strcpy(nu.gecos, "fine");
	nu.uid = 0;
	u = as_user(&nu);
	expect_refused(
	        &(struct snap_patch){.users_added = &u, .nusers_added = 1},
	        -EINVAL, "uid 0");
	nu.uid = ID_MAX + 1;
	u = as_user(&nu);
	expect_refused(
	        &(struct snap_patch){.users_added = &u, .nusers_added = 1},
	        -EINVAL, "uid out of range");

	/* LIVE is not the file at PATH. */
	{
		struct snap_meta m = meta_of(2);
		size_t len, after;
		uint8_t *live = slurp(live_path, &len), *now;
		char err[256] = "";

		live[len / 2] ^= 1;
		CHECK_INT(snap_writer_patch(live, len, &(struct snap_patch){0},
		                            &m, live_path, err, sizeof(err)),
		          -ESTALE);
		CHECK_INT(snap_writer_patch(live, len - 1,
		                            &(struct snap_patch){0}, &m,
		                            live_path, err, sizeof(err)),
		          -ESTALE);
		live[len / 2] ^= 1;
		now = slurp(live_path, &after);
		CHECK(after == len && memcmp(now, live, len) == 0);
		CHECK(no_temp_left());
		free(live);
		free(now);
	}

	/* The empty patch is a publish of the same directory. */
	{
		static struct change c;
		size_t la, lb;
		uint8_t *a, *b;
		char err[256] = "";

		diff(&d0, &d0, &c, false);
		CHECK_INT(patch(&c, 7, err, sizeof(err)), 0);
		REQUIRE(publish(&d0, full_path, 7) == 0);
		a = slurp(live_path, &la);
		b = slurp(full_path, &lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		free(a);
		free(b);

		/* Everyone goes, then everyone comes back. */
		d1 = d0;
		d1.nu = d1.ng = 0;
		diff(&d0, &d1, &c, false);
		CHECK_INT(patch(&c, 8, err, sizeof(err)), 0);
		REQUIRE(publish(&d1, full_path, 8) == 0);
		a = slurp(live_path, &la);
		b = slurp(full_path, &lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		free(a);
		free(b);
		diff(&d1, &d0, &c, false);
		CHECK_INT(patch(&c, 9, err, sizeof(err)), 0);
		REQUIRE(publish(&d0, full_path, 9) == 0);
		a = slurp(live_path, &la);
		b = slurp(full_path, &lb);
		CHECK(la == lb && memcmp(a, b, la) == 0);
		free(a);
		free(b);
	}
}

int main(void)
{
	char sub[96];

	strcpy(tmp, "/tmp/test-patch.XXXXXX");
	REQUIRE(mkdtemp(tmp) != NULL);
	snprintf(sub, sizeof(sub), "%s/a", tmp);
	REQUIRE(mkdir(sub, 0755) == 0);
	snprintf(live_path, sizeof(live_path), "%s/snap.mdb", sub);
	snprintf(sub, sizeof(sub), "%s/b", tmp);
	REQUIRE(mkdir(sub, 0755) == 0);
	snprintf(full_path, sizeof(full_path), "%s/snap.mdb", sub);

	test_refusals();
	test_random();

	unlink(live_path);
	unlink(full_path);
	snprintf(sub, sizeof(sub), "%s/a", tmp);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/b", tmp);
	rmdir(sub);
	rmdir(tmp);
	return test_result();
}
