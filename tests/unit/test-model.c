/* SPDX-License-Identifier: MIT */
/*
 * test-model.c: a refresh compares the new model with a summary of the live
 * snapshot (model_sum_snapshot, model_sum_diff) instead of its model; the
 * counts must be model_diff's exactly.  Also the windowed read of a large
 * snapshot (model_load_snapshot) and the packed people (people_take).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "people.h"
#include "scim.h"
#include "snap.h"
#include "table.h"
#include "test.h"

#define ID_MIN 100000
#define ID_MAX 1999999

/* A directory described in plain arrays, so that a test can copy and edit
 * it freely and then build a model from it. */
#define NAME_LEN    (SNAP_NAME_MAX + 1)
#define FIELD_LEN   48
#define MAX_MEMBERS 24
#define MAX_USERS   1000
#define MAX_GROUPS  600

struct tuser {
	char name[NAME_LEN];
	uint32_t uid, gid;
	char gecos[FIELD_LEN], home[FIELD_LEN], shell[FIELD_LEN];
	bool active;
};

struct tgroup {
	char name[NAME_LEN];
	uint32_t gid;
	size_t n;
	char members[MAX_MEMBERS][NAME_LEN];
};

struct dir {
	struct tuser u[MAX_USERS];
	size_t nu;
	struct tgroup g[MAX_GROUPS];
	size_t ng;
};

static char tmpdir[64], snap_path[128];

static void copy_str(char *dst, size_t size, const char *src)
{
	REQUIRE(strlen(src) < size);
	memcpy(dst, src, strlen(src) + 1);
}

static struct tuser *dir_add_user(struct dir *d, const char *name, uint32_t uid,
                                  const char *gecos, const char *home,
                                  bool active)
{
	struct tuser *u;

	REQUIRE(d->nu < MAX_USERS);
	u = &d->u[d->nu++];
	*u = (struct tuser){.uid = uid, .gid = uid, .active = active};
	copy_str(u->name, sizeof(u->name), name);
	copy_str(u->gecos, sizeof(u->gecos), gecos);
	copy_str(u->home, sizeof(u->home), home);
	copy_str(u->shell, sizeof(u->shell), "/bin/bash");
	return u;
}

/* MEMBERS: a NULL-terminated list. */
static struct tgroup *dir_add_group(struct dir *d, const char *name,
                                    uint32_t gid, const char *const *members)
{
	struct tgroup *g;

	REQUIRE(d->ng < MAX_GROUPS);
	g = &d->g[d->ng++];
	*g = (struct tgroup){.gid = gid};
	copy_str(g->name, sizeof(g->name), name);
	for (; members != NULL && *members != NULL; members++) {
		REQUIRE(g->n < MAX_MEMBERS);
		copy_str(g->members[g->n++], NAME_LEN, *members);
	}
	return g;
}

static struct tuser *dir_user(struct dir *d, const char *name)
{
	for (size_t i = 0; i < d->nu; i++)
		if (strcmp(d->u[i].name, name) == 0)
			return &d->u[i];
	REQUIRE(!"no such user in the test directory");
	return NULL;
}

static struct tgroup *dir_group(struct dir *d, const char *name)
{
	for (size_t i = 0; i < d->ng; i++)
		if (strcmp(d->g[i].name, name) == 0)
			return &d->g[i];
	REQUIRE(!"no such group in the test directory");
	return NULL;
}

static void group_add_member(struct tgroup *g, const char *name)
{
	REQUIRE(g->n < MAX_MEMBERS);
	copy_str(g->members[g->n++], NAME_LEN, name);
}

/* Drops member I of G, keeping the others in order. */
static void group_drop_at(struct tgroup *g, size_t i)
{
	memmove(g->members[i], g->members[i + 1],
	        (g->n - i - 1) * sizeof(g->members[0]));
	g->n--;
}

static bool group_drop_member(struct tgroup *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->members[i], name) == 0) {
			group_drop_at(g, i);
			return true;
		}
	return false;
}

/* Removes user I and their memberships, as the mapping would. */
static void dir_del_user_at(struct dir *d, size_t i)
{
	for (size_t k = 0; k < d->ng; k++)
		while (group_drop_member(&d->g[k], d->u[i].name))
			;
	d->u[i] = d->u[--d->nu];
}

static void dir_del_user(struct dir *d, const char *name)
{
	dir_del_user_at(d, (size_t)(dir_user(d, name) - d->u));
}

static void dir_del_group(struct dir *d, const char *name)
{
	struct tgroup *g = dir_group(d, name);

	*g = d->g[--d->ng];
}

/* Renames user U (uid kept) and their memberships. */
static void dir_rename_user(struct dir *d, struct tuser *u, const char *to)
{
	for (size_t k = 0; k < d->ng; k++)
		for (size_t i = 0; i < d->g[k].n; i++)
			if (strcmp(d->g[k].members[i], u->name) == 0)
				copy_str(d->g[k].members[i], NAME_LEN, to);
	copy_str(u->name, sizeof(u->name), to);
}

static void build(const struct dir *d, struct model *m)
{
	*m = (struct model){0};
	for (size_t i = 0; i < d->nu; i++) {
		const struct tuser *t = &d->u[i];
		struct model_user u = {
		        .name = (char *)t->name,
		        .uid = t->uid,
		        .gid = t->gid,
		        .gecos = (char *)t->gecos,
		        .home = (char *)t->home,
		        .shell = (char *)t->shell,
		        .active = t->active,
		};

		REQUIRE(model_add_user(m, &u) == 0);
	}
	for (size_t i = 0; i < d->ng; i++) {
		const struct tgroup *g = &d->g[i];
		const char *members[MAX_MEMBERS];

		for (size_t k = 0; k < g->n; k++)
			members[k] = g->members[k];
		REQUIRE(model_add_group(m, g->name, g->gid, members, g->n,
		                        NULL) == 0);
	}
	model_sort(m);
}

static void publish(const struct model *m)
{
	struct snap_meta meta = {.generation = 1, .created = 1700000000};
	char err[256] = "";
	int rc;

	snprintf(meta.source, sizeof(meta.source), "tools-sum");
	rc = model_publish(m, ID_MIN, ID_MAX, snap_path, &meta, err,
	                   sizeof(err));
	if (rc != 0)
		fprintf(stderr, "model_publish: %s\n", err);
	REQUIRE(rc == 0);
}

/* Every count of A against B's, named after WHAT. */
static void same_diff(const char *what, const char *an,
                      const struct model_diff *a, const char *bn,
                      const struct model_diff *b)
{
#define FIELD(f)                                                               \
	do {                                                                   \
		if (a->f != b->f) {                                            \
			fprintf(stderr, "%s: " #f ": %s %zu, %s %zu\n", what,  \
			        an, a->f, bn, b->f);                           \
			test_failures++;                                       \
		}                                                              \
	} while (0)
	FIELD(users_added);
	FIELD(users_removed);
	FIELD(users_changed);
	FIELD(groups_added);
	FIELD(groups_removed);
	FIELD(groups_changed);
	FIELD(uid_changes);
	FIELD(renames);
	FIELD(removed_uids);
#undef FIELD
}

static bool same_entries(const struct model_sum_entry *a,
                         const struct model_sum_entry *b, size_t na, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].name != b[i].name || a[i].entry != b[i].entry ||
		    a[i].id != b[i].id)
			return false;
	return true;
}

/* What a delta from OLD to NEW would tell a fleet host, through
 * model_sum_patch() over OLD's summary SUM: the same counts as
 * model_sum_diff() (WANT), and the summary of NEW itself. */
static void patch_sum(const char *what, const struct model *old,
                      const struct model *new, const struct model_sum *sum,
                      const struct model_diff *want)
{
	const char **gu = calloc(old->nusers + 1, sizeof(*gu));
	const char **gg = calloc(old->ngroups + 1, sizeof(*gg));
	struct model add = {0};
	struct model_sum got = {0}, whole = {0};
	struct model_diff d;
	size_t ngu = 0, ngg = 0;

	REQUIRE(gu != NULL && gg != NULL);
	for (size_t i = 0; i < old->nusers; i++) {
		const struct model_user *n =
		        model_find_user(new, old->users[i].name);

		if (n == NULL || !model_user_same(n, &old->users[i]))
			gu[ngu++] = old->users[i].name;
	}
	for (size_t i = 0; i < new->nusers; i++) {
		const struct model_user *o =
		        model_find_user(old, new->users[i].name);

		if (o == NULL || !model_user_same(o, &new->users[i]))
			REQUIRE(model_add_user(&add, &new->users[i]) == 0);
	}
	for (size_t i = 0; i < old->ngroups; i++) {
		const struct model_group *n =
		        model_find_group(new, old->groups[i].name);

		if (n == NULL || !model_group_same(n, &old->groups[i]))
			gg[ngg++] = old->groups[i].name;
	}
	for (size_t i = 0; i < new->ngroups; i++) {
		const struct model_group *g = &new->groups[i];
		const struct model_group *o = model_find_group(old, g->name);

		if (o == NULL || !model_group_same(o, g))
			REQUIRE(model_add_group(&add, g->name, g->gid,
			                        (const char *const *)g->members,
			                        g->nmembers, NULL) == 0);
	}
	model_sort(&add);
	REQUIRE(model_sum_patch(sum, gu, ngu, gg, ngg, &add, &got, &d) == 0);
	same_diff(what, "model_sum_patch", &d, "model_sum_diff", want);
	REQUIRE(model_sum_of(new, &whole) == 0);
	CHECK_INT(got.nusers, whole.nusers);
	CHECK_INT(got.ngroups, whole.ngroups);
	CHECK(same_entries(got.users, whole.users, got.nusers, whole.nusers));
	CHECK(same_entries(got.groups, whole.groups, got.ngroups,
	                   whole.ngroups));
	model_sum_free(&got);
	/* A name that is not there to go, and one added that stays. */
	if (old->nusers > 0) {
		const char *nobody = "nobody-of-ours";

		CHECK_INT(model_sum_patch(sum, &nobody, 1, NULL, 0, &add, &got,
		                          &d),
		          -ENOENT);
		if (add.nusers > 0 &&
		    model_find_user(old, add.users[0].name) != NULL)
			CHECK_INT(model_sum_patch(sum, NULL, 0, NULL, 0, &add,
			                          &got, &d),
			          -EEXIST);
	}
	model_sum_free(&whole);
	model_free(&add);
	free(gu);
	free(gg);
}

/* Publishes OLD, then compares NEW with the snapshot both ways: through
 * the snapshot's model (model_diff) and through its summary
 * (model_sum_diff).  WANT, when not NULL, is what model_diff must say.
 * Returns model_diff's counts. */
static struct model_diff compare(const char *what, const struct dir *old,
                                 const struct dir *new,
                                 const struct model_diff *want)
{
	struct model built = {0}, loaded = {0}, now = {0};
	struct model_sum sum = {0};
	struct model_diff d_built, d_loaded, d_sum;
	struct snap_meta meta;

	build(old, &built);
	publish(&built);
	REQUIRE(model_load_snapshot(snap_path, geteuid(), &loaded, &meta) == 0);
	REQUIRE(model_sum_snapshot(snap_path, geteuid(), &sum, &meta) == 0);
	CHECK_INT(sum.nusers, built.nusers);
	CHECK_INT(sum.ngroups, built.ngroups);
	build(new, &now);

	model_diff(&built, &now, &d_built, NULL);
	model_diff(&loaded, &now, &d_loaded, NULL);
	REQUIRE(model_sum_diff(&sum, &now, &d_sum) == 0);
	same_diff(what, "model_diff(snapshot)", &d_loaded, "model_diff(built)",
	          &d_built);
	same_diff(what, "model_sum_diff", &d_sum, "model_diff", &d_loaded);
	CHECK(model_diff_empty(&d_sum) == model_diff_empty(&d_loaded));
	patch_sum(what, &built, &now, &sum, &d_sum);
	if (want != NULL)
		same_diff(what, "model_diff", &d_loaded, "expected", want);

	model_sum_free(&sum);
	model_free(&built);
	model_free(&loaded);
	model_free(&now);
	return d_loaded;
}

/* ---- hand-made changes ------------------------------------------------- */

static void base_dir(struct dir *d)
{
	static const char *const staff[] = {"alice", "bob", NULL};
	static const char *const ops[] = {"carol", "alice", "dave", NULL};

	d->nu = d->ng = 0;
	dir_add_user(d, "alice", 100001, "Alice A", "/home/alice", true);
	dir_add_user(d, "bob", 100002, "Bob B", "/home/bob", true);
	dir_add_user(d, "carol", 100003, "Carol C", "/home/carol", true);
	dir_add_user(d, "dave", 100004, "", "/home/dave", false);
	dir_add_user(d, "erin", 100005, "Erin E", "/home/erin", true);
	dir_add_group(d, "staff", 200001, staff);
	dir_add_group(d, "ops", 200002, ops);
	dir_add_group(d, "empty", 200003, NULL);
	dir_add_group(d, "alice", 100001, NULL);
}

/* One hand-made case: EDIT turns the base directory into the new one. */
struct hand_case {
	const char *what;
	void (*edit)(struct dir *d);
	struct model_diff want;
};

static void edit_none(struct dir *d)
{
}

static void edit_user_added(struct dir *d)
{
	dir_add_user(d, "frank", 100006, "Frank F", "/home/frank", true);
}

static void edit_user_removed(struct dir *d)
{
	dir_del_user(d, "erin");
}

static void edit_member_removed_with_user(struct dir *d)
{
	dir_del_user(d, "bob");
}

static void edit_renamed(struct dir *d)
{
	dir_rename_user(d, dir_user(d, "erin"), "erin.e");
}

static void edit_renamed_member(struct dir *d)
{
	dir_rename_user(d, dir_user(d, "bob"), "robert");
}

static void edit_uid(struct dir *d)
{
	dir_user(d, "carol")->uid = 100099;
}

static void edit_uids_swapped(struct dir *d)
{
	dir_user(d, "alice")->uid = 100002;
	dir_user(d, "bob")->uid = 100001;
}

/* bob leaves and erin takes his uid: a rename of bob (by uid) and a uid
 * change of erin (by name). */
static void edit_name_reused(struct dir *d)
{
	dir_del_user(d, "erin");
	dir_rename_user(d, dir_user(d, "bob"), "erin");
}

static void edit_gecos(struct dir *d)
{
	copy_str(dir_user(d, "alice")->gecos, FIELD_LEN, "Alice Changed");
}

static void edit_gecos_from_empty(struct dir *d)
{
	copy_str(dir_user(d, "dave")->gecos, FIELD_LEN, "Dave");
}

static void edit_gecos_to_empty(struct dir *d)
{
	copy_str(dir_user(d, "alice")->gecos, FIELD_LEN, "");
}

/* The same bytes, split between gecos and home otherwise. */
static void edit_field_boundary(struct dir *d)
{
	struct tuser *u = dir_user(d, "carol");

	copy_str(u->gecos, FIELD_LEN, "Carol C/home");
	copy_str(u->home, FIELD_LEN, "/carol");
}

static void edit_home(struct dir *d)
{
	copy_str(dir_user(d, "bob")->home, FIELD_LEN, "/srv/bob");
}

static void edit_shell(struct dir *d)
{
	copy_str(dir_user(d, "bob")->shell, FIELD_LEN, "/bin/sh");
}

static void edit_active(struct dir *d)
{
	dir_user(d, "alice")->active = false;
	dir_user(d, "dave")->active = true;
}

static void edit_gid(struct dir *d)
{
	dir_user(d, "erin")->gid = 200001;
}

static void edit_group_added(struct dir *d)
{
	static const char *const devs[] = {"erin", "dave", NULL};

	dir_add_group(d, "devs", 200004, devs);
}

static void edit_empty_group_added(struct dir *d)
{
	dir_add_group(d, "nobody-yet", 200005, NULL);
}

static void edit_group_removed(struct dir *d)
{
	dir_del_group(d, "staff");
}

static void edit_empty_group_removed(struct dir *d)
{
	dir_del_group(d, "empty");
}

static void edit_group_gid(struct dir *d)
{
	dir_group(d, "ops")->gid = 200099;
}

static void edit_member_added(struct dir *d)
{
	group_add_member(dir_group(d, "staff"), "erin");
}

static void edit_member_removed(struct dir *d)
{
	group_drop_member(dir_group(d, "ops"), "alice");
}

static void edit_member_replaced(struct dir *d)
{
	struct tgroup *g = dir_group(d, "staff");

	group_drop_member(g, "bob");
	group_add_member(g, "carol");
}

static void edit_members_reordered(struct dir *d)
{
	struct tgroup *g = dir_group(d, "ops");

	g->n = 0;
	group_add_member(g, "dave");
	group_add_member(g, "carol");
	group_add_member(g, "alice");
	g = dir_group(d, "staff");
	g->n = 0;
	group_add_member(g, "bob");
	group_add_member(g, "alice");
}

static void edit_member_repeated(struct dir *d)
{
	group_add_member(dir_group(d, "staff"), "alice");
}

static void edit_empty_group_filled(struct dir *d)
{
	group_add_member(dir_group(d, "empty"), "dave");
}

static void edit_group_emptied(struct dir *d)
{
	dir_group(d, "staff")->n = 0;
}

/* Same members, gids swapped between two groups. */
static void edit_group_gids_swapped(struct dir *d)
{
	dir_group(d, "staff")->gid = 200002;
	dir_group(d, "ops")->gid = 200001;
}

static void edit_several(struct dir *d)
{
	static const char *const devs[] = {"erin.e", "frank", NULL};

	edit_user_added(d);      /* users_added: frank */
	dir_del_user(d, "dave"); /* users_removed, removed_uids; ops */
	edit_renamed(d);         /* users_removed+added, renames */
	edit_uid(d);             /* users_changed, uid_changes */
	edit_gecos(d);           /* users_changed */
	dir_add_group(d, "devs", 200004, devs);           /* groups_added */
	edit_empty_group_removed(d);                      /* groups_removed */
	group_add_member(dir_group(d, "staff"), "frank"); /* staff changed */
}

static void edit_everything_gone(struct dir *d)
{
	d->nu = d->ng = 0;
}

static const struct hand_case hand_cases[] = {
        {"no change", edit_none, {0}},
        {"user added", edit_user_added, {.users_added = 1}},
        {"user removed",
         edit_user_removed,
         {.users_removed = 1, .removed_uids = 1}},
        {"user removed with their memberships",
         edit_member_removed_with_user,
         {.users_removed = 1, .removed_uids = 1, .groups_changed = 1}},
        {"user renamed",
         edit_renamed,
         {.users_removed = 1, .users_added = 1, .renames = 1}},
        {"member renamed",
         edit_renamed_member,
         {.users_removed = 1,
          .users_added = 1,
          .renames = 1,
          .groups_changed = 1}},
        {"uid changed", edit_uid, {.users_changed = 1, .uid_changes = 1}},
        {"uids swapped",
         edit_uids_swapped,
         {.users_changed = 2, .uid_changes = 2}},
        {"name reused",
         edit_name_reused,
         {.users_removed = 1,
          .renames = 1,
          .users_changed = 1,
          .uid_changes = 1,
          .groups_changed = 1}},
        {"gecos changed", edit_gecos, {.users_changed = 1}},
        {"gecos from empty", edit_gecos_from_empty, {.users_changed = 1}},
        {"gecos to empty", edit_gecos_to_empty, {.users_changed = 1}},
        {"gecos/home boundary", edit_field_boundary, {.users_changed = 1}},
        {"home changed", edit_home, {.users_changed = 1}},
        {"shell changed", edit_shell, {.users_changed = 1}},
        {"active changed", edit_active, {.users_changed = 2}},
        {"gid changed", edit_gid, {.users_changed = 1}},
        {"group added", edit_group_added, {.groups_added = 1}},
        {"empty group added", edit_empty_group_added, {.groups_added = 1}},
        {"group removed", edit_group_removed, {.groups_removed = 1}},
        {"empty group removed",
         edit_empty_group_removed,
         {.groups_removed = 1}},
        {"group gid changed", edit_group_gid, {.groups_changed = 1}},
        {"group gids swapped", edit_group_gids_swapped, {.groups_changed = 2}},
        {"member added", edit_member_added, {.groups_changed = 1}},
        {"member removed", edit_member_removed, {.groups_changed = 1}},
        {"member replaced", edit_member_replaced, {.groups_changed = 1}},
        {"members in another order", edit_members_reordered, {0}},
        {"member given twice", edit_member_repeated, {0}},
        {"empty group filled", edit_empty_group_filled, {.groups_changed = 1}},
        {"group emptied", edit_group_emptied, {.groups_changed = 1}},
        {"several at once",
         edit_several,
         {.users_added = 2,
          .users_removed = 2,
          .users_changed = 2,
          .uid_changes = 1,
          .renames = 1,
          .removed_uids = 1,
          .groups_added = 1,
          .groups_removed = 1,
          .groups_changed = 2}},
        {"everything removed",
         edit_everything_gone,
         {.users_removed = 5, .removed_uids = 5, .groups_removed = 4}},
};

static void test_hand_cases(struct dir *old, struct dir *new)
{
	for (size_t i = 0; i < sizeof(hand_cases) / sizeof(hand_cases[0]);
	     i++) {
		const struct hand_case *c = &hand_cases[i];

		base_dir(old);
		*new = *old;
		c->edit(new);
		compare(c->what, old, new, &c->want);
	}
}

static void test_empty_snapshot(struct dir *old, struct dir *new)
{
	const struct model_diff all = {.users_added = 5, .groups_added = 4};

	old->nu = old->ng = 0;
	*new = *old;
	compare("empty to empty", old, new, &(struct model_diff){0});
	base_dir(new);
	compare("empty to some", old, new, &all);
}

/* A snapshot written by another writer may list a group's members in any
 * order; the summary must not count that as a change.  The base directory
 * is written with each group's members reversed (not sorted), and they
 * read back in that order. */
static void test_snapshot_order(struct dir *d)
{
	struct snap_meta meta = {.generation = 1, .created = 1700000000};
	struct snap_writer *w;
	struct snap_reader *r;
	struct model now, loaded;
	struct model_sum sum;
	struct model_diff d_model, d_sum;
	struct group gr;
	char err[256], buf[1024];

	base_dir(d);
	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	for (size_t i = 0; i < d->nu; i++) {
		const struct tuser *t = &d->u[i];
		struct snap_user u = {t->name, t->uid,   t->gid,   t->gecos,
		                      t->home, t->shell, t->active};

		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
	}
	for (size_t i = 0; i < d->ng; i++) {
		const struct tgroup *t = &d->g[i];
		const char *members[MAX_MEMBERS];
		struct snap_group g = {t->name, t->gid, t->n, members};

		for (size_t k = 0; k < t->n; k++)
			members[k] = t->members[t->n - 1 - k];
		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	snprintf(meta.source, sizeof(meta.source), "tools-sum");
	REQUIRE(snap_writer_publish(w, snap_path, &meta, err, sizeof(err)) ==
	        0);
	snap_writer_free(w);

	/* As written: "ops" (carol, alice, dave) reversed. */
	REQUIRE(snap_reader_new(snap_path, geteuid(), &r) == 0);
	REQUIRE(snap_getgrnam(r, "ops", &gr, buf, sizeof(buf)) == 0);
	CHECK_STR(gr.gr_mem[0], "dave");
	snap_reader_free(r);

	build(d, &now);
	REQUIRE(model_load_snapshot(snap_path, geteuid(), &loaded, &meta) == 0);
	REQUIRE(model_sum_snapshot(snap_path, geteuid(), &sum, &meta) == 0);
	model_diff(&loaded, &now, &d_model, NULL);
	REQUIRE(model_sum_diff(&sum, &now, &d_sum) == 0);
	same_diff("snapshot order", "model_diff", &d_model, "expected",
	          &(struct model_diff){0});
	same_diff("snapshot order", "model_sum_diff", &d_sum, "expected",
	          &(struct model_diff){0});
	model_sum_free(&sum);
	model_free(&loaded);
	model_free(&now);
}

/* ---- random changes ---------------------------------------------------- */

static uint64_t rng_state = UINT64_C(0x2545f4914f6cdd1d);

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static uint32_t next_uid = 300001, next_gid = 700001, next_name = 1;

/* A fresh name of 2 to 30 bytes, so that the hashes see every tail. */
static void fresh_name(char *out, char prefix)
{
	snprintf(out, NAME_LEN, "%c%u%.*s", prefix, next_name++, (int)rnd(24),
	         "abcdefghijklmnopqrstuvwxyz");
}

static void random_text(char *out, size_t size, const char *prefix)
{
	snprintf(out, size, "%s%.*s", prefix, (int)rnd(30),
	         "The quick brown fox jumps over the lazy dog");
}

static void random_user(struct dir *d)
{
	char name[NAME_LEN], home[FIELD_LEN];
	struct tuser *u;

	if (d->nu == MAX_USERS)
		return;
	fresh_name(name, 'u');
	snprintf(home, sizeof(home), "/home/%s", name);
	u = dir_add_user(d, name, next_uid++, "", home, rnd(4) != 0);
	random_text(u->gecos, sizeof(u->gecos), "");
}

static bool is_member(const struct tgroup *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->members[i], name) == 0)
			return true;
	return false;
}

static void random_group(struct dir *d)
{
	char name[NAME_LEN];
	struct tgroup *g;
	size_t want = rnd(MAX_MEMBERS + 1);

	if (d->ng == MAX_GROUPS)
		return;
	fresh_name(name, 'g');
	g = dir_add_group(d, name, next_gid++, NULL);
	for (size_t i = 0; i < want && d->nu > 0; i++) {
		const char *m = d->u[rnd((uint32_t)d->nu)].name;

		if (!is_member(g, m))
			group_add_member(g, m);
	}
}

static void shuffle_members(struct tgroup *g)
{
	char tmp[NAME_LEN];

	for (size_t i = g->n; i > 1; i--) {
		size_t j = rnd((uint32_t)i);

		memcpy(tmp, g->members[i - 1], NAME_LEN);
		memcpy(g->members[i - 1], g->members[j], NAME_LEN);
		memcpy(g->members[j], tmp, NAME_LEN);
	}
}

static const char *const shells[] = {"/bin/bash", "/bin/sh", "/usr/bin/zsh",
                                     "/usr/sbin/nologin"};

static void edit_user(struct dir *d, struct tuser *u, unsigned what)
{
	char name[NAME_LEN];
	struct tuser *o = &d->u[rnd((uint32_t)d->nu)];
	uint32_t uid;

	switch (what) {
	case 0:
		dir_del_user_at(d, (size_t)(u - d->u));
		break;
	case 1:
		fresh_name(name, 'r');
		dir_rename_user(d, u, name);
		break;
	case 2:
		u->uid = next_uid++;
		break;
	case 3:
		random_text(u->gecos, sizeof(u->gecos), rnd(2) ? "" : "X ");
		break;
	case 4:
		random_text(u->home, sizeof(u->home), "/srv/");
		break;
	case 5:
		copy_str(u->shell, sizeof(u->shell),
		         shells[rnd(sizeof(shells) / sizeof(shells[0]))]);
		break;
	case 6:
		u->active = !u->active;
		break;
	case 7:
		u->gid = ID_MIN + 1 + rnd(5000);
		break;
	case 8:
		uid = u->uid;
		u->uid = o->uid;
		o->uid = uid;
		break;
	default:
		/* O leaves and U takes O's name. */
		if (o == u)
			break;
		copy_str(name, sizeof(name), o->name);
		if (u == &d->u[d->nu - 1]) {
			dir_del_user_at(d, (size_t)(o - d->u));
			u = o; /* moved into O's slot */
		} else
			dir_del_user_at(d, (size_t)(o - d->u));
		dir_rename_user(d, u, name);
		break;
	}
}

static void edit_group(struct dir *d, struct tgroup *g, unsigned what)
{
	char name[NAME_LEN];

	switch (what) {
	case 0:
		*g = d->g[--d->ng];
		break;
	case 1:
		g->gid = next_gid++;
		break;
	case 2:
		if (d->nu > 0 && g->n < MAX_MEMBERS) {
			const char *m = d->u[rnd((uint32_t)d->nu)].name;

			if (!is_member(g, m))
				group_add_member(g, m);
		}
		break;
	case 3:
		if (g->n > 0)
			group_drop_at(g, rnd((uint32_t)g->n));
		break;
	case 4:
		shuffle_members(g);
		break;
	default:
		fresh_name(name, 'h');
		copy_str(g->name, sizeof(g->name), name);
		break;
	}
}

static void random_edit(struct dir *d)
{
	unsigned what = rnd(20);

	if (what == 0 || d->nu == 0)
		random_user(d);
	else if (what == 1 || d->ng == 0)
		random_group(d);
	else if (what < 12)
		edit_user(d, &d->u[rnd((uint32_t)d->nu)], what - 2);
	else
		edit_group(d, &d->g[rnd((uint32_t)d->ng)], what - 12);
}

static void add_diff(struct model_diff *t, const struct model_diff *d)
{
	t->users_added += d->users_added;
	t->users_removed += d->users_removed;
	t->users_changed += d->users_changed;
	t->groups_added += d->groups_added;
	t->groups_removed += d->groups_removed;
	t->groups_changed += d->groups_changed;
	t->uid_changes += d->uid_changes;
	t->renames += d->renames;
	t->removed_uids += d->removed_uids;
}

static void test_random(struct dir *old, struct dir *new)
{
	struct model_diff total = {0}, d;
	size_t unchanged = 0;
	char what[64];

	old->nu = old->ng = 0;
	for (int i = 0; i < 300; i++)
		random_user(old);
	for (int i = 0; i < 200; i++)
		random_group(old);
	for (int round = 0; round < 150; round++) {
		unsigned edits = rnd(7);

		*new = *old;
		for (unsigned k = 0; k < edits; k++)
			random_edit(new);
		snprintf(what, sizeof(what), "random round %d", round);
		d = compare(what, old, new, NULL);
		add_diff(&total, &d);
		unchanged += model_diff_empty(&d);
		*old = *new;
	}
	/* The rounds saw every kind of change, and rounds without any. */
	CHECK(total.users_added > 0 && total.users_removed > 0);
	CHECK(total.users_changed > 0 && total.uid_changes > 0);
	CHECK(total.renames > 0 && total.removed_uids > 0);
	CHECK(total.groups_added > 0 && total.groups_removed > 0);
	CHECK(total.groups_changed > 0);
	CHECK(unchanged > 0);
	printf("random: %zu rounds unchanged; users +%zu -%zu ~%zu, groups "
	       "+%zu -%zu ~%zu, %zu uid changes, %zu renames, %zu uids gone\n",
	       unchanged, total.users_added, total.users_removed,
	       total.users_changed, total.groups_added, total.groups_removed,
	       total.groups_changed, total.uid_changes, total.renames,
	       total.removed_uids);
}

/* ---- a snapshot of many windows ---------------------------------------- */

#define BIG_USERS  5000
#define BIG_GROUPS 3000

static void big_model(struct model *m)
{
	const char *members[40];
	const char **all;
	char name[NAME_LEN], gecos[FIELD_LEN], home[FIELD_LEN];

	*m = (struct model){0};
	for (unsigned i = 0; i < BIG_USERS; i++) {
		struct model_user u = {
		        .name = name,
		        .uid = ID_MIN + 1 + i * 3,
		        .gid = i % 4 ? ID_MIN + 1 + i % 50 : ID_MIN + 1 + i * 3,
		        .gecos = gecos,
		        .home = home,
		        .shell = (char *)shells[i % 4 == 1],
		        .active = i % 3 != 0,
		};

		snprintf(name, sizeof(name), "user%05u%.*s", i, (int)(i % 20),
		         "abcdefghijklmnopqrstuvwxyz");
		if (i % 7 == 0)
			gecos[0] = '\0';
		else
			snprintf(gecos, sizeof(gecos), "Person %u, Dept %u", i,
			         i % 13);
		snprintf(home, sizeof(home), "/home/%s", name);
		REQUIRE(model_add_user(m, &u) == 0);
	}
	model_sort(m);

	all = calloc(BIG_USERS, sizeof(*all));
	REQUIRE(all != NULL);
	/* Every user, last first: a group larger than the read buffer. */
	for (unsigned i = 0; i < BIG_USERS; i++)
		all[i] = m->users[BIG_USERS - 1 - i].name;
	REQUIRE(model_add_group(m, "everyone", 900000, all, BIG_USERS, NULL) ==
	        0);
	free(all);
	for (unsigned i = 1; i < BIG_GROUPS; i++) {
		size_t n = i % 10 == 1 ? 0 : i % 37;

		for (size_t k = 0; k < n; k++)
			members[k] =
			        m->users[(i * 13 + k * 101) % BIG_USERS].name;
		snprintf(name, sizeof(name), "group%04u%.*s", i, (int)(i % 11),
		         "abcdefghijk");
		REQUIRE(model_add_group(m, name, 900000 + i * 7, members, n,
		                        NULL) == 0);
	}
	model_sort(m);
}

static void same_user(const struct model_user *a, const struct model_user *b)
{
	CHECK_STR(a->name, b->name);
	CHECK_INT(a->uid, b->uid);
	CHECK_INT(a->gid, b->gid);
	CHECK_STR(a->gecos, b->gecos);
	CHECK_STR(a->home, b->home);
	CHECK_STR(a->shell, b->shell);
	CHECK_INT(a->active, b->active);
}

static void same_group(const struct model_group *a, const struct model_group *b)
{
	CHECK_STR(a->name, b->name);
	CHECK_INT(a->gid, b->gid);
	CHECK_INT(a->nmembers, b->nmembers);
	for (size_t k = 0; k < a->nmembers && k < b->nmembers; k++)
		CHECK_STR(a->members[k], b->members[k]);
}

static void test_windows(void)
{
	struct model m, loaded = {0};
	struct model_user *u;
	struct model_group *g;
	struct model_sum sum = {0};
	struct model_diff d_model, d_sum;
	struct snap_meta meta;

	big_model(&m);
	REQUIRE(m.nusers == BIG_USERS && m.ngroups == BIG_GROUPS);
	publish(&m);

	REQUIRE(model_load_snapshot(snap_path, geteuid(), &loaded, &meta) == 0);
	CHECK_INT(meta.generation, 1);
	CHECK_INT(meta.nusers, BIG_USERS);
	CHECK_INT(meta.ngroups, BIG_GROUPS);
	CHECK_STR(meta.source, "tools-sum");
	CHECK_INT(loaded.nusers, BIG_USERS);
	CHECK_INT(loaded.ngroups, BIG_GROUPS);
	for (size_t i = 0; i < m.nusers && i < loaded.nusers; i++)
		same_user(&loaded.users[i], &m.users[i]);
	for (size_t i = 0; i < m.ngroups && i < loaded.ngroups; i++)
		same_group(&loaded.groups[i], &m.groups[i]);
	CHECK_INT(model_find_group(&loaded, "everyone")->nmembers, BIG_USERS);

	REQUIRE(model_sum_snapshot(snap_path, geteuid(), &sum, &meta) == 0);
	CHECK_INT(sum.nusers, BIG_USERS);
	CHECK_INT(sum.ngroups, BIG_GROUPS);
	CHECK_INT(meta.nusers, BIG_USERS);
	model_diff(&loaded, &m, &d_model, NULL);
	REQUIRE(model_sum_diff(&sum, &m, &d_sum) == 0);
	same_diff("windows", "model_sum_diff", &d_sum, "model_diff", &d_model);
	same_diff("windows", "model_diff", &d_model, "expected",
	          &(struct model_diff){0});

	/* One change in the last window of each kind. */
	u = model_find_user(&m, "user04999abcdefghijklmnopqrs");
	g = model_find_group(&m, "group2999abcdefg");
	REQUIRE(u != NULL && g != NULL);
	u->active = !u->active;
	g->gid = 999999;
	model_diff(&loaded, &m, &d_model, NULL);
	REQUIRE(model_sum_diff(&sum, &m, &d_sum) == 0);
	same_diff("windows, edited", "model_sum_diff", &d_sum, "model_diff",
	          &d_model);
	same_diff(
	        "windows, edited", "model_diff", &d_model, "expected",
	        &(struct model_diff){.users_changed = 1, .groups_changed = 1});

	model_sum_free(&sum);
	model_free(&loaded);
	model_free(&m);
}

static void test_no_snapshot(void)
{
	char missing[160];
	struct model m = {0};
	struct model_sum sum = {.nusers = 1};
	struct snap_meta meta;

	snprintf(missing, sizeof(missing), "%s/missing.mdb", tmpdir);
	CHECK_INT(model_load_snapshot(missing, geteuid(), &m, &meta), -ENOENT);
	CHECK_INT(model_sum_snapshot(missing, geteuid(), &sum, &meta), -ENOENT);
	CHECK(sum.users == NULL && sum.groups == NULL);
	CHECK_INT(sum.nusers + sum.ngroups, 0);
	model_sum_free(&sum);
	model_free(&m);
}

/* ---- packed people ----------------------------------------------------- */

#define NFIELDS 6

static char **field(struct scim_res *r, int k)
{
	char **f[NFIELDS] = {&r->name,   &r->formatted, &r->given,
	                     &r->family, &r->display,   &r->email};

	return f[k];
}

/* The text of field K of person I (VARIANT 1: every present field empty;
 * 2: bytes beyond ASCII). */
static void field_text(char *out, size_t size, size_t i, int k, int variant)
{
	static const char *const names[NFIELDS] = {"userName",    "formatted",
	                                           "givenName",   "familyName",
	                                           "displayName", "email"};

	if (variant == 1)
		out[0] = '\0';
	else
		snprintf(out, size, "%s-%zu%s", names[k], i,
		         variant == 2 ? " J\xc3\xb6rg \xe2\x82\xac" : "");
}

/* Resource I: field K present when bit K of MASK is set, all its strings
 * in one allocation starting at id, as the parser makes them. */
static void make_res(struct scim_res *r, size_t i, unsigned mask, int variant,
                     bool active)
{
	char id[32], text[NFIELDS][96], *at;
	size_t len;

	*r = (struct scim_res){.active = active};
	snprintf(id, sizeof(id), "id-%zu", i);
	len = strlen(id) + 1;
	for (int k = 0; k < NFIELDS; k++)
		if (mask & (1u << k)) {
			field_text(text[k], sizeof(text[k]), i, k, variant);
			len += strlen(text[k]) + 1;
		}
	r->id = malloc(len);
	REQUIRE(r->id != NULL);
	at = stpcpy(r->id, id) + 1;
	for (int k = 0; k < NFIELDS; k++)
		if (mask & (1u << k)) {
			*field(r, k) = at;
			at = stpcpy(at, text[k]) + 1;
		}
}

static void check_person(const struct people *p, size_t i, unsigned mask,
                         int variant, bool active)
{
	struct scim_res r;
	char id[32], text[96];

	people_get(p, i, &r);
	snprintf(id, sizeof(id), "id-%zu", i);
	CHECK_STR(r.id, id);
	CHECK_INT(r.active, active);
	for (int k = 0; k < NFIELDS; k++) {
		const char *got = *field(&r, k);

		if (!(mask & (1u << k))) {
			if (got != NULL) {
				fprintf(stderr,
				        "person %zu field %d: want NULL, got "
				        "\"%s\"\n",
				        i, k, got);
				test_failures++;
			}
			continue;
		}
		field_text(text, sizeof(text), i, k, variant);
		CHECK_STR(got, text);
	}
	CHECK(r.members == NULL && r.nmembers == 0 && !r.has_members);
	CHECK(r.member_users == NULL && r.nmember_users == 0);
}

/* Every combination of the optional fields, each empty, plain and not
 * ASCII, active and not. */
static void test_people_combinations(void)
{
	const size_t n = 64 * 3 * 2;
	struct scim_res *items = malloc(n * sizeof(*items));
	struct people p;

	REQUIRE(items != NULL);
	for (size_t i = 0; i < n; i++)
		make_res(&items[i], i, i % 64, (int)(i / 64 % 3), i / 192 == 0);
	REQUIRE(people_take(&p, items, n) == 0);
	CHECK_INT(p.n, n);
	for (size_t i = 0; i < n && i < p.n; i++)
		check_person(&p, i, i % 64, (int)(i / 64 % 3), i / 192 == 0);
	people_free(&p);
	people_free(&p);
}

/* More people than people_take packs between trims. */
static void test_people_many(void)
{
	const size_t n = 40000;
	struct scim_res *items = malloc(n * sizeof(*items));
	struct people p;

	REQUIRE(items != NULL);
	for (size_t i = 0; i < n; i++)
		make_res(&items[i], i, (unsigned)(i * 7 % 64), 0, i % 5 != 0);
	REQUIRE(people_take(&p, items, n) == 0);
	CHECK_INT(p.n, n);
	for (size_t i = 0; i < n && i < p.n; i++)
		check_person(&p, i, (unsigned)(i * 7 % 64), 0, i % 5 != 0);
	people_free(&p);
}

static void test_people_none(void)
{
	struct people p;

	CHECK_INT(people_take(&p, malloc(sizeof(struct scim_res)), 0), 0);
	CHECK_INT(p.n, 0);
	people_free(&p);
	CHECK_INT(people_take(&p, NULL, 0), 0);
	CHECK_INT(p.n, 0);
	people_free(&p);
}

/* strmap_get_many against strmap_get: keys present, absent, empty, and
 * more than a batch, in maps small (many probes) and large. */
static void test_get_many(void)
{
	enum { N = 3000 };
	static char keys[2 * N][24];
	const char *ask[2 * N + 1];
	uint32_t got[2 * N + 1];
	struct strmap m = {0}, empty = {0};

	for (int i = 0; i < 2 * N; i++)
		snprintf(keys[i], sizeof(keys[i]), "K%dX%d", i * 7919 % 10007,
		         i);
	for (int i = 0; i < N; i++)
		REQUIRE(strmap_put(&m, keys[2 * i], (size_t)i) == 0);
	CHECK(strmap_put(&m, "max", UINT32_MAX) == -EOVERFLOW);
	for (int i = 0; i < 2 * N; i++)
		ask[i] = keys[(i * 31) % (2 * N)];
	ask[2 * N] = "";
	for (size_t n = 0; n <= 2 * N + 1; n += n < 40 ? 1 : 997) {
		strmap_get_many(&m, ask, n, got);
		for (size_t i = 0; i < n; i++) {
			size_t v;
			bool have = strmap_get(&m, ask[i], &v);

			CHECK(have ? got[i] == v : got[i] == UINT32_MAX);
		}
	}
	strmap_get_many(&empty, ask, 5, got);
	for (int i = 0; i < 5; i++)
		CHECK(got[i] == UINT32_MAX);
	strmap_free(&m);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct dir *old = calloc(1, sizeof(*old));
	struct dir *new = calloc(1, sizeof(*new));
	char cmd[128];

	REQUIRE(old != NULL && new != NULL);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tools-sum.XXXXXX",
	         tmp != NULL && tmp[0] == '/' && strlen(tmp) < 32 ? tmp
	                                                          : "/tmp");
	REQUIRE(mkdtemp(tmpdir) != NULL);
	REQUIRE(chmod(tmpdir, 0755) == 0);
	snprintf(snap_path, sizeof(snap_path), "%s/cache.mdb", tmpdir);

	test_no_snapshot();
	test_hand_cases(old, new);
	test_empty_snapshot(old, new);
	test_snapshot_order(old);
	test_random(old, new);
	test_windows();
	test_people_combinations();
	test_people_many();
	test_people_none();
	test_get_many();

	free(old);
	free(new);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return test_result();
}
