/* SPDX-License-Identifier: MIT */
/*
 * test-map.c: SCIM resources to POSIX entries, and the sticky id map.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "idmap.h"
#include "local.h"
#include "map.h"
#include "names.h"
#include "scim.h"
#include "test.h"
#include "util.h"

static const char local_passwd[] =
        "root:x:0:0:root:/root:/bin/bash\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "alice:x:1000:1000::/home/alice:/bin/sh\n"
        "# comment\n+nis\n\nmalformed\n";
static const char local_group[] =
        "root:x:0:\nusers:x:100:\nstaff:x:50:\nwheel:x:10:alice\n"
        "carol:x:2001:\n";

struct fixture {
	struct scim_config cfg;
	struct localdb local;
	struct scim_page users, groups;
	struct idmap ids;
	struct model m;
	struct skiplist sk;
	struct map_notes notes;
};

static void setup(struct fixture *f, const char *conf)
{
	char err[256];

	*f = (struct fixture){0};
	REQUIRE(config_defaults(&f->cfg) == 0);
	REQUIRE(config_parse(&f->cfg, "t", conf, strlen(conf), err,
	                     sizeof(err)) == 0);
	REQUIRE(localdb_parse(&f->local, local_passwd, strlen(local_passwd),
	                      false) == 0);
	REQUIRE(localdb_parse(&f->local, local_group, strlen(local_group),
	                      true) == 0);
	idmap_init(&f->ids, f->cfg.uid_min, f->cfg.uid_max);
}

static void load(struct fixture *f, const char *users, const char *groups)
{
	char err[256];

	scim_page_clear(&f->users);
	scim_page_clear(&f->groups);
	REQUIRE(scim_parse_list(users, strlen(users), SCIM_USERS, &f->users,
	                        err, sizeof(err)) == 0);
	REQUIRE(scim_parse_list(groups, strlen(groups), SCIM_GROUPS, &f->groups,
	                        err, sizeof(err)) == 0);
}

static int build(struct fixture *f, const struct strmap *locked)
{
	struct map_input in = {
	        .cfg = &f->cfg,
	        .users = f->users.res,
	        .nusers = f->users.nres,
	        .groups = f->groups.res,
	        .ngroups = f->groups.nres,
	        .local = &f->local,
	        .locked = locked,
	        .notes = &f->notes,
	};
	char err[256];

	model_free(&f->m);
	skiplist_free(&f->sk);
	return map_build(&in, &f->ids, &f->m, &f->sk, err, sizeof(err));
}

static void teardown(struct fixture *f)
{
	config_free(&f->cfg);
	localdb_free(&f->local);
	scim_page_clear(&f->users);
	scim_page_clear(&f->groups);
	idmap_free(&f->ids);
	model_free(&f->m);
	skiplist_free(&f->sk);
}

static bool skipped(const struct fixture *f, const char *id,
                    enum skip_reason why)
{
	for (size_t i = 0; i < f->sk.n; i++)
		if (strcmp(f->sk.s[i].scim_id, id) == 0 &&
		    f->sk.s[i].reason == why)
			return true;
	return false;
}

/* The JSON below reads best one resource a line. */
/* clang-format off */
#define USER(id, un, active)                                                 \
	"{\"id\":\"" id "\",\"userName\":\"" un "\",\"name\":{\"formatted\":"  \
	"\"F " id "\",\"givenName\":\"G\",\"familyName\":\"S\"},"            \
	"\"active\":" active "}"

static const char *users_json =
        "{\"totalResults\":6,\"Resources\":["
        USER("AAAA", "Jane.Doe@example.com", "true") ","
        USER("BBBB", "bob@example.com", "false") ","
        USER("CCCC", "root@example.com", "true") ","
        USER("DDDD", "x:y@example.com", "true") ","
        USER("EEEE", "carol@example.com", "true") ","
        USER("FFFF", "alice@example.com", "true") "]}";

static const char *groups_json =
        "{\"totalResults\":6,\"Resources\":["
        "{\"id\":\"g1\",\"displayName\":\" Site Reliability \",\"members\":"
        "[{\"value\":\"AAAA\"},{\"value\":\"BBBB\"},{\"value\":\"CCCC\"},"
        "{\"value\":\"ZZZZ\"}]},"
        "{\"id\":\"g2\",\"displayName\":\"Staff\",\"members\":[]},"
        "{\"id\":\"g3\",\"displayName\":\"QA & Release!\",\"members\":"
        "[{\"value\":\"BBBB\"}]},"
        "{\"id\":\"g4\",\"displayName\":\"jane.doe\"},"
        "{\"id\":\"g5\",\"displayName\":\"Dup\"},"
        "{\"id\":\"g6\",\"displayName\":\"DUP\"}]}";
/* clang-format on */

static void test_basic(void)
{
	struct fixture f;
	struct model_user *u;
	struct model_group *g;

	setup(&f, "url = https://h\n");
	load(&f, users_json, groups_json);
	CHECK_INT(build(&f, NULL), 0);
	/* jane.doe, bob; root/carol/alice are local; x:y is invalid. */
	CHECK_INT(f.m.nusers, 2);
	u = model_find_user(&f.m, "jane.doe");
	REQUIRE(u != NULL);
	CHECK(u->uid >= f.cfg.uid_min && u->uid <= f.cfg.uid_max);
	CHECK_INT(u->gid, u->uid);
	CHECK_STR(u->home, "/home/jane.doe");
	CHECK_STR(u->gecos, "F AAAA");
	CHECK_STR(u->shell, "/bin/bash");
	CHECK(u->active);
	u = model_find_user(&f.m, "bob");
	REQUIRE(u != NULL);
	CHECK(!u->active); /* suspended people stay, inactive */
	CHECK(skipped(&f, "CCCC", SKIP_LOCAL_NAME));
	CHECK(skipped(&f, "DDDD", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "EEEE", SKIP_LOCAL_NAME)); /* local group carol */
	CHECK(skipped(&f, "FFFF", SKIP_LOCAL_NAME));
	/* Private groups: one per person, gid = uid. */
	g = model_find_group(&f.m, "jane.doe");
	REQUIRE(g != NULL);
	CHECK_INT(g->gid, model_find_user(&f.m, "jane.doe")->uid);
	CHECK_INT(g->nmembers, 0);
	/* Group names; members mapped to names, unknown ones dropped. */
	g = model_find_group(&f.m, "site-reliability");
	REQUIRE(g != NULL);
	REQUIRE(g->nmembers == 2);
	CHECK_STR(g->members[0], "bob");
	CHECK_STR(g->members[1], "jane.doe");
	g = model_find_group(&f.m, "qa--release");
	REQUIRE(g != NULL);
	CHECK_INT(g->nmembers, 1);
	CHECK(model_find_group(&f.m, "staff") == NULL);
	CHECK(skipped(&f, "g2", SKIP_LOCAL_NAME));
	CHECK(skipped(&f, "g4", SKIP_NAME_TAKEN));
	CHECK(skipped(&f, "g5", SKIP_NAME_COLLISION));
	CHECK(skipped(&f, "g6", SKIP_NAME_COLLISION));
	CHECK_INT(f.m.ngroups, 4); /* 2 private + 2 SCIM */
	/* No number from the local files, none twice. */
	for (size_t i = 0; i < f.m.ngroups; i++)
		for (size_t j = i + 1; j < f.m.ngroups; j++)
			CHECK(f.m.groups[i].gid != f.m.groups[j].gid);
	teardown(&f);
}

static void test_collisions(void)
{
	/* clang-format off */
	const char *users =
	        "{\"totalResults\":5,\"Resources\":["
	        USER("AAAA", "sam@corp.example.com", "true") ","
	        USER("BBBB", "sam@example.com", "true") ","
	        USER("CCCC", "kim@example.com", "true") ","
	        USER("DDDD", "KIM@example.com", "true") ","
	        USER("EEEE", "lee@other.org", "true") "]}";
	/* clang-format on */
	struct fixture f;

	/* No domains: a tie gives the name to nobody. */
	setup(&f, "url = https://h\n");
	load(&f, users, "{\"totalResults\":0}");
	CHECK_INT(build(&f, NULL), 0);
	CHECK(model_find_user(&f.m, "sam") == NULL);
	CHECK(model_find_user(&f.m, "kim") == NULL);
	CHECK(skipped(&f, "AAAA", SKIP_NAME_COLLISION));
	CHECK(skipped(&f, "BBBB", SKIP_NAME_COLLISION));
	CHECK(skipped(&f, "CCCC", SKIP_NAME_COLLISION));
	CHECK(skipped(&f, "DDDD", SKIP_NAME_COLLISION));
	CHECK(model_find_user(&f.m, "lee") != NULL);
	teardown(&f);

	/* domains order decides; same domain still ties; other domains are
	 * not allowed. */
	setup(&f, "url = https://h\ndomains = example.com, corp.example.com\n");
	load(&f, users, "{\"totalResults\":0}");
	CHECK_INT(build(&f, NULL), 0);
	REQUIRE(model_find_user(&f.m, "sam") != NULL);
	CHECK_STR(model_find_user(&f.m, "sam")->scim_id, "BBBB");
	CHECK(skipped(&f, "AAAA", SKIP_NAME_COLLISION));
	CHECK(model_find_user(&f.m, "kim") == NULL);
	CHECK(skipped(&f, "EEEE", SKIP_DOMAIN));
	teardown(&f);
}

static void test_hostile(void)
{
	/* clang-format off */
	const char *users =
	        "{\"totalResults\":8,\"Resources\":["
	        USER("A1", "new\\nline@x.com", "true") ","
	        USER("A2", "ctl\\u0007\\u001b[2J@x.com", "true") ","
	        USER("A3", "-oProxyCommand@x.com", "true") ","
	        USER("A4", "12345@x.com", "true") ","
	        USER("A5", "abcdefghijklmnopqrstuvwxyz0123456@x.com", "true") ","
	        USER("A6", "@x.com", "true") ","
	        USER("a/b", "ok@x.com", "true") ","
	        "{\"id\":\"A8\",\"userName\":\"fine@x.com\",\"name\":{"
	        "\"formatted\":\"Evil:Name\\nX\\u0001\\u0085\\u202e"
	        "\\u2066\\u200b\\u00e9\"}}]}";
	const char *groups =
	        "{\"totalResults\":3,\"Resources\":["
	        "{\"id\":\"g1\",\"displayName\":\"1234\"},"
	        "{\"id\":\"g2\",\"displayName\":\"\\u0001\\u0002\"},"
	        "{\"id\":\"g3\",\"displayName\":\"-lead\"}]}";
	/* clang-format on */
	struct fixture f;
	struct model_user *u;

	setup(&f, "url = https://h\n");
	load(&f, users, groups);
	CHECK_INT(build(&f, NULL), 0);
	CHECK_INT(f.m.nusers, 1);
	u = model_find_user(&f.m, "fine");
	REQUIRE(u != NULL);
	/* C1 controls and bidi or invisible characters go too; accents
	 * stay. */
	CHECK_STR(u->gecos, "EvilNameX\xc3\xa9");
	CHECK(skipped(&f, "A1", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "A2", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "A3", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "A4", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "A5", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "A6", SKIP_NO_NAME));
	CHECK(skipped(&f, "a/b", SKIP_INVALID_ID));
	CHECK(skipped(&f, "g1", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "g2", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "g3", SKIP_INVALID_NAME));
	/* Messages never carry raw control characters. */
	for (size_t i = 0; i < f.sk.n; i++)
		for (const char *p = f.sk.s[i].detail; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	teardown(&f);
}

static void test_rules(void)
{
	uint32_t bad;
	char name[64], domain[64];
	struct scim_res r = {.name = (char *)"Jane@X.com",
	                     .given = (char *)"Jane",
	                     .family = (char *)"Doe"};

	CHECK_INT(map_login_name(USERNAME_EMAIL_LOCALPART, "Jane.Doe@Ex.COM",
	                         name, sizeof(name), domain, sizeof(domain)),
	          0);
	CHECK_STR(name, "jane.doe");
	CHECK_STR(domain, "ex.com");
	CHECK_INT(map_login_name(USERNAME_USERNAME, "Build-Bot", name,
	                         sizeof(name), domain, sizeof(domain)),
	          0);
	CHECK_STR(name, "build-bot");
	CHECK_INT(map_login_name(USERNAME_EMAIL_LOCALPART, "@x", name,
	                         sizeof(name), domain, sizeof(domain)),
	          -EINVAL);
	CHECK_INT(map_group_name("Site Reliability", name, sizeof(name), &bad),
	          0);
	CHECK_STR(name, "site-reliability");
	CHECK_INT(map_group_name("  iOS Team ", name, sizeof(name), &bad), 0);
	CHECK_STR(name, "ios-team");
	CHECK_INT(map_group_name("R&D (EMEA)", name, sizeof(name), &bad), 0);
	CHECK_STR(name, "rd-emea");
	/* Latin letters fold to their base; nothing is dropped silently. */
	CHECK_INT(map_group_name("\xc3\x9cn\xc3\xaf"
	                         "code",
	                         name, sizeof(name), &bad),
	          0);
	CHECK_STR(name, "unicode");
	CHECK(map_expand("%f|%g|%s|%e|%u|%%", &r, "jdoe", 7, true, name,
	                 sizeof(name)));
	CHECK_STR(name, "Jane Doe|Jane|Doe|Jane@X.com|jdoe|%");
	CHECK(map_expand("/home/%u/%i", &r, "jdoe", 7, false, name,
	                 sizeof(name)));
	CHECK_STR(name, "/home/jdoe/7");
}

/* Only JSON true is active.  A person without "active" is active only
 * while the bridge sends it for nobody: once others carry it, its absence
 * is as unclear as a null. */
static void test_active_values(void)
{
	struct fixture f;
	/* clang-format off */
	const char *users =
	        "{\"totalResults\":5,\"Resources\":["
	        USER("AAAA", "a1@example.com", "true") ","
	        USER("BBBB", "b1@example.com", "null") ","
	        USER("CCCC", "c1@example.com", "\"true\"") ","
	        USER("DDDD", "d1@example.com", "0") ","
	        "{\"id\":\"EEEE\",\"userName\":\"e1@example.com\"}]}";
	const char *none =
	        "{\"totalResults\":2,\"Resources\":["
	        "{\"id\":\"AAAA\",\"userName\":\"a1@example.com\"},"
	        "{\"id\":\"EEEE\",\"userName\":\"e1@example.com\"}]}";
	/* clang-format on */
	const char *groups = "{\"totalResults\":0,\"Resources\":[]}";

	setup(&f, "url = https://h\n");
	load(&f, users, groups);
	CHECK_INT(build(&f, NULL), 0);
	CHECK_INT(f.m.nusers, 5);
	CHECK(model_find_user(&f.m, "a1")->active);
	CHECK(!model_find_user(&f.m, "b1")->active);
	CHECK(!model_find_user(&f.m, "c1")->active);
	CHECK(!model_find_user(&f.m, "d1")->active);
	CHECK(!model_find_user(&f.m, "e1")->active);
	CHECK_INT(f.notes.unclear_active, 4);
	CHECK_STR(f.notes.unclear_id, "BBBB");
	/* A bridge that never sends "active": everyone is active. */
	load(&f, none, groups);
	CHECK_INT(build(&f, NULL), 0);
	CHECK(model_find_user(&f.m, "a1")->active);
	CHECK(model_find_user(&f.m, "e1")->active);
	CHECK_INT(f.notes.unclear_active, 0);
	teardown(&f);
}

/* Reserved names are never published, even where the local files lack
 * them; a name is never made by deleting characters that do not fit:
 * Latin letters fold to their base, anything else skips the entry with a
 * reason; group_names names any group, under the same rules. */
static void test_names(void)
{
	struct fixture f;
	/* clang-format off */
	const char *users =
	        "{\"totalResults\":6,\"Resources\":["
	        USER("AAAA", "docker@example.com", "true") ","
	        USER("BBBB", "Jos\xc3\xa9.Nu\xc3\xb1" "ez@example.com", "true") ","
	        USER("CCCC", "\xd0\xb0" "dmin2@example.com", "true") ","
	        USER("DDDD", "ops-robot@example.com", "true") ","
	        USER("EEEE", "systemd-x@example.com", "true") ","
	        USER("FFFF", "e\xcc\x81mile@example.com", "true") "]}";
	const char *groups =
	        "{\"totalResults\":10,\"Resources\":["
	        "{\"id\":\"g1\",\"displayName\":\"Admin\"},"
	        "{\"id\":\"g2\",\"displayName\":\"Lx\xe2\x80\x8b" "D\"},"
	        "{\"id\":\"g3\",\"displayName\":\"\xc3\x89quipe Paris\"},"
	        "{\"id\":\"g4\",\"displayName\":\"\xc3\x81rea de TI\"},"
	        "{\"id\":\"g5\",\"displayName\":\"\xd0\xb0" "dmins\"},"
	        "{\"id\":\"g6\",\"displayName\":\"Stra\xc3\x9f" "e\"},"
	        "{\"id\":\"g7\",\"displayName\":\"R\xe2\x80\xae" "ed\"},"
	        "{\"id\":\"g8\",\"displayName\":\"Caf\xc3\xa9 \xe2\x98\x95\"},"
	        "{\"id\":\"g9\",\"displayName\":\"Wheel\"},"
	        "{\"id\":\"ga\",\"displayName\":\"Docker Users\"}]}";
	/* clang-format on */

	setup(&f, "url = https://h\n"
	          "reserved_names = ops-*\n"
	          "group_names = Caf\xc3\xa9 \xe2\x98\x95 = cafe, g9 = wheel2, "
	          "docker users = docker-users\n");
	load(&f, users, groups);
	CHECK_INT(build(&f, NULL), 0);
	/* People: docker is reserved; Jos\u00e9 folds; a Cyrillic a is not
	 * turned into a Latin one; ops-* by the config; systemd-* built in;
	 * a combining acute after e is dropped with the e kept. */
	CHECK(model_find_user(&f.m, "docker") == NULL);
	CHECK(skipped(&f, "AAAA", SKIP_RESERVED_NAME));
	CHECK(model_find_user(&f.m, "jose.nunez") != NULL);
	CHECK(skipped(&f, "CCCC", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "DDDD", SKIP_RESERVED_NAME));
	CHECK(skipped(&f, "EEEE", SKIP_RESERVED_NAME));
	CHECK(model_find_user(&f.m, "emile") != NULL);
	/* Groups. */
	CHECK(model_find_group(&f.m, "admin") == NULL);
	CHECK(skipped(&f, "g1", SKIP_RESERVED_NAME));
	CHECK(model_find_group(&f.m, "lxd") == NULL);
	CHECK(skipped(&f, "g2", SKIP_INVALID_NAME));
	CHECK(model_find_group(&f.m, "equipe-paris") != NULL);
	CHECK(model_find_group(&f.m, "area-de-ti") != NULL);
	CHECK(skipped(&f, "g5", SKIP_INVALID_NAME));
	CHECK(skipped(&f, "g6", SKIP_INVALID_NAME)); /* no decomposition */
	CHECK(skipped(&f, "g7", SKIP_INVALID_NAME)); /* a bidi override */
	CHECK(model_find_group(&f.m, "cafe") != NULL);
	CHECK(model_find_group(&f.m, "wheel2") != NULL);
	CHECK(model_find_group(&f.m, "docker-users") != NULL);
	for (size_t i = 0; i < f.sk.n; i++) {
		if (strcmp(f.sk.s[i].scim_id, "g2") == 0)
			CHECK(strstr(f.sk.s[i].detail,
			             "holds U+200B, an invisible") != NULL);
		if (strcmp(f.sk.s[i].scim_id, "g1") == 0)
			CHECK(strstr(f.sk.s[i].detail,
			             "group name admin is reserved: an "
			             "administrators' group") != NULL);
		if (strcmp(f.sk.s[i].scim_id, "g5") == 0)
			CHECK(strstr(f.sk.s[i].detail,
			             "U+0430, not a Latin letter") != NULL);
	}
	teardown(&f);
}

/* The built-in list is sorted (it is searched), and every name in it is
 * one the snapshot could hold. */
static void test_reserved_list(void)
{
	static const char *const some[] = {"root",
	                                   "admin",
	                                   "wheel",
	                                   "sudo",
	                                   "sudoers",
	                                   "adm",
	                                   "staff",
	                                   "docker",
	                                   "lxd",
	                                   "libvirt",
	                                   "kvm",
	                                   "disk",
	                                   "shadow",
	                                   "systemd-journal",
	                                   "systemd-network",
	                                   "_apt"};
	uint32_t bad = 0;
	char out[64];

	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
		if (names_reserved(some[i], NULL, 0) == NULL) {
			fprintf(stderr, "%s is not reserved\n", some[i]);
			test_failures++;
		}
	CHECK(names_reserved("jane.doe", NULL, 0) == NULL);
	CHECK(names_reserved("admins", NULL, 0) == NULL);
	CHECK(names_reserved("sudo-team", NULL, 0) == NULL);
	/* The fold: ASCII and Latin letters only, nothing dropped. */
	CHECK_INT(names_fold("\xc3\x85se \xc3\xb6", out, sizeof(out), &bad), 0);
	CHECK_STR(out, "Ase o");
	CHECK_INT(names_fold("a\xe2\x80\x8b"
	                     "b",
	                     out, sizeof(out), &bad),
	          -EDOM);
	CHECK_INT(bad, 0x200b);
	CHECK_INT(names_fold("a\xc2\x85", out, sizeof(out), &bad), -EDOM);
	CHECK_STR(names_char_kind(bad), "a control character");
	CHECK_INT(names_fold("a\tb", out, sizeof(out), &bad), -EDOM);
	CHECK_INT(names_fold("\xcc\x81"
	                     "a",
	                     out, sizeof(out), &bad),
	          -EDOM);
	CHECK_INT(names_fold("\xc3\x28", out, sizeof(out), &bad), -EILSEQ);
	CHECK_INT(names_fold("\xc0\xaf", out, sizeof(out), &bad), -EILSEQ);
	CHECK_INT(names_fold("\xc2\xa0", out, sizeof(out), &bad), -EDOM);
	CHECK_STR(names_char_kind(bad), "a space other than the ASCII one");
}

static void test_locked_and_primary(void)
{
	struct fixture f;
	struct strmap locked = {0};

	setup(&f, "url = https://h\nprimary_group = site-reliability\n");
	load(&f, users_json, groups_json);
	REQUIRE(strmap_put(&locked, "AAAA", 0) == 0);
	CHECK_INT(build(&f, &locked), 0);
	REQUIRE(model_find_user(&f.m, "jane.doe") != NULL);
	CHECK(!model_find_user(&f.m, "jane.doe")->active);
	/* A shared primary group: no private groups, the group's gid. */
	CHECK(model_find_group(&f.m, "bob") == NULL);
	REQUIRE(model_find_group(&f.m, "site-reliability") != NULL);
	CHECK_INT(model_find_user(&f.m, "bob")->gid,
	          model_find_group(&f.m, "site-reliability")->gid);
	/* Without private groups, a group may be named like a person. */
	CHECK(model_find_group(&f.m, "jane.doe") != NULL);
	teardown(&f);
	strmap_free(&locked);

	setup(&f, "url = https://h\nprimary_group = nosuch\n");
	load(&f, users_json, groups_json);
	CHECK_INT(build(&f, NULL), -ENOENT);
	teardown(&f);
}

static void test_group_selection(void)
{
	struct fixture f;

	/* By displayName, case-insensitively; the rest is left out silently
	 * (not "skipped": it was not asked for). */
	setup(&f,
	      "url = https://h\ngroups = site reliability, QA & Release!\n");
	load(&f, users_json, groups_json);
	CHECK_INT(build(&f, NULL), 0);
	CHECK(model_find_group(&f.m, "site-reliability") != NULL);
	CHECK(model_find_group(&f.m, "qa--release") != NULL);
	CHECK(model_find_group(&f.m, "dup") == NULL);
	CHECK(!skipped(&f, "g5", SKIP_NAME_COLLISION));
	CHECK_INT(f.m.ngroups, 4); /* 2 private + 2 selected */
	teardown(&f);
}

/* ---- id map ----------------------------------------------------------- */

static uint32_t uid_of(const struct fixture *f, const char *name)
{
	struct model_user *u = model_find_user(&f->m, name);

	return u ? u->uid : 0;
}

static void test_ids_deterministic(void)
{
	struct fixture a, b;

	setup(&a, "url = https://h\n");
	setup(&b, "url = https://h\n");
	load(&a, users_json, groups_json);
	load(&b, users_json, groups_json);
	CHECK_INT(build(&a, NULL), 0);
	CHECK_INT(build(&b, NULL), 0);
	REQUIRE(a.m.nusers == b.m.nusers && a.m.ngroups == b.m.ngroups);
	for (size_t i = 0; i < a.m.nusers; i++)
		CHECK_INT(a.m.users[i].uid, b.m.users[i].uid);
	for (size_t i = 0; i < a.m.ngroups; i++)
		CHECK_INT(a.m.groups[i].gid, b.m.groups[i].gid);
	/* The documented rule. */
	CHECK_INT(uid_of(&a, "jane.doe"),
	          idmap_slot(&a.ids, SCIM_USERS, "AAAA"));
	teardown(&a);
	teardown(&b);
}

static void test_ids_probe(void)
{
	const char *ids[] = {"x1", "x2", "x3", "x4", "x5"};
	struct numset reserved = {0};
	struct idmap m, m2;
	uint32_t got[5];

	/* Four numbers for five ids, one of them reserved locally. */
	idmap_init(&m, 10, 14);
	REQUIRE(numset_add(&reserved, 12) == 0);
	CHECK_INT(idmap_assign(&m, SCIM_USERS, ids, 4, &reserved), 0);
	for (int i = 0; i < 4; i++) {
		REQUIRE(idmap_find(&m, SCIM_USERS, ids[i]) != NULL);
		got[i] = idmap_find(&m, SCIM_USERS, ids[i])->number;
		CHECK(got[i] >= 10 && got[i] <= 14 && got[i] != 12);
		for (int j = 0; j < i; j++)
			CHECK(got[i] != got[j]);
	}
	/* The same ids in another order give the same numbers. */
	idmap_init(&m2, 10, 14);
	CHECK_INT(idmap_assign(&m2, SCIM_USERS,
	                       (const char *[]){"x4", "x2", "x3", "x1"}, 4,
	                       &reserved),
	          0);
	for (int i = 0; i < 4; i++)
		CHECK_INT(idmap_find(&m2, SCIM_USERS, ids[i])->number, got[i]);
	/* Full: a fifth id gets nothing, never a reused number. */
	CHECK_INT(idmap_assign(&m, SCIM_USERS, ids + 4, 1, &reserved), -ENOSPC);
	idmap_free(&m);
	idmap_free(&m2);
	numset_free(&reserved);
}

static void test_ids_sticky(void)
{
	/* clang-format off */
	const char *renamed =
	        "{\"totalResults\":2,\"Resources\":["
	        USER("AAAA", "jane.smith@example.com", "true") ","
	        USER("BBBB", "bob@example.com", "false") "]}";
	const char *deleted =
	        "{\"totalResults\":1,\"Resources\":["
	        USER("BBBB", "bob@example.com", "false") "]}";
	/* clang-format on */
	struct fixture f;
	struct idmap_entry *e;
	uint32_t jane;
	char *text, err[128];
	size_t len;
	struct idmap back;
	FILE *tmp;

	setup(&f, "url = https://h\n");
	load(&f, users_json, groups_json);
	CHECK_INT(build(&f, NULL), 0);
	jane = uid_of(&f, "jane.doe");
	/* A rename keeps the uid. */
	load(&f, renamed, "{\"totalResults\":0}");
	CHECK_INT(build(&f, NULL), 0);
	CHECK_INT(uid_of(&f, "jane.smith"), jane);
	CHECK(model_find_user(&f.m, "jane.doe") == NULL);
	/* A deletion leaves a tombstone; the number stays taken. */
	load(&f, deleted, "{\"totalResults\":0}");
	CHECK_INT(build(&f, NULL), 0);
	e = idmap_find(&f.ids, SCIM_USERS, "AAAA");
	REQUIRE(e != NULL);
	CHECK(!e->live);
	CHECK_INT(e->number, jane);
	CHECK(numset_has(&f.ids.used, jane));
	/* Round trip through the file format, as the state file is written. */
	tmp = tmpfile();
	REQUIRE(tmp != NULL);
	REQUIRE(idmap_write(&f.ids, fileno(tmp)) == 0);
	REQUIRE(lseek(fileno(tmp), 0, SEEK_SET) == 0);
	REQUIRE(read_fd(fileno(tmp), IDMAP_FILE_MAX, &text, &len) == 0);
	fclose(tmp);
	idmap_init(&back, f.cfg.uid_min, f.cfg.uid_max);
	CHECK_INT(idmap_parse(&back, text, len, err, sizeof(err)), 0);
	CHECK_INT(back.n, f.ids.n);
	REQUIRE(idmap_find(&back, SCIM_USERS, "AAAA") != NULL);
	CHECK_INT(idmap_find(&back, SCIM_USERS, "AAAA")->number, jane);
	CHECK(!idmap_find(&back, SCIM_USERS, "AAAA")->live);
	CHECK_STR(idmap_find(&back, SCIM_USERS, "AAAA")->name, "jane.smith");
	idmap_free(&back);
	free(text);
	/* The person comes back: the same number. */
	load(&f, users_json, groups_json);
	CHECK_INT(build(&f, NULL), 0);
	CHECK_INT(uid_of(&f, "jane.doe"), jane);
	teardown(&f);
}

/* A lost id map is rebuilt from the live snapshot: names it holds keep
 * their numbers, unless the number is taken in the map. */
static void test_ids_adopted(void)
{
	struct fixture f;
	struct model seed = {0};
	struct model_user u = {.gecos = (char *)"",
	                       .home = (char *)"/h",
	                       .shell = (char *)"/bin/sh",
	                       .active = true};
	size_t adopted = 0;
	struct map_input in;
	char err[256];
	uint32_t base;

	setup(&f, "url = https://h\n");
	base = f.cfg.uid_min;
	u.name = (char *)"jane.doe";
	u.uid = u.gid = base + 5;
	REQUIRE(model_add_user(&seed, &u) == 0);
	u.name = (char *)"bob";
	u.uid = u.gid = base + 6;
	REQUIRE(model_add_user(&seed, &u) == 0);
	u.name = (char *)"outside";
	REQUIRE(model_add_group(&seed, "site-reliability", base + 7, NULL, 0,
	                        NULL) == 0);
	/* A private group of a former person: never adopted by a group. */
	REQUIRE(model_add_group(&seed, "qa--release", base + 6, NULL, 0,
	                        NULL) == 0);
	u.name = (char *)"qa--release";
	u.uid = u.gid = base + 8;
	REQUIRE(model_add_user(&seed, &u) == 0);
	model_sort(&seed);
	load(&f, users_json, groups_json);
	/* bob's number is already someone else's in the map. */
	REQUIRE(idmap_adopt(&f.ids, SCIM_USERS, "OTHER", base + 6) == 0);
	in = (struct map_input){
	        .cfg = &f.cfg,
	        .users = f.users.res,
	        .nusers = f.users.nres,
	        .groups = f.groups.res,
	        .ngroups = f.groups.nres,
	        .local = &f.local,
	        .seed = &seed,
	        .adopted = &adopted,
	};
	CHECK_INT(map_build(&in, &f.ids, &f.m, &f.sk, err, sizeof(err)), 0);
	CHECK_INT(uid_of(&f, "jane.doe"), base + 5);
	CHECK(uid_of(&f, "bob") != base + 6);
	REQUIRE(model_find_group(&f.m, "site-reliability") != NULL);
	CHECK_INT(model_find_group(&f.m, "site-reliability")->gid, base + 7);
	REQUIRE(model_find_group(&f.m, "qa--release") != NULL);
	CHECK(model_find_group(&f.m, "qa--release")->gid != base + 6);
	CHECK_INT(adopted, 2);
	model_free(&seed);
	teardown(&f);
}

static void test_ids_damaged(void)
{
	static const char *const bad[] = {
	        "u 100 AAAA jane 1 live\nu 100 BBBB bob 1 live\n",
	        "u 100 AAAA jane 1 live\nu 101 AAAA bob 1 live\n",
	        "x 100 AAAA jane 1 live\n",
	        "u abc AAAA jane 1 live\n",
	        "u 0 AAAA jane 1 live\n",
	        "u 100 AA/A jane 1 live\n",
	        "u 100 AAAA ja:ne 1 live\n",
	        "u 100 AAAA jane 1 maybe\n",
	        "u 100 AAAA jane 1\n",
	};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct idmap m;

		idmap_init(&m, 1, 1000);
		CHECK_INT(idmap_parse(&m, bad[i], strlen(bad[i]), err,
		                      sizeof(err)),
		          -EBADMSG);
		CHECK(strncmp(err, "line ", 5) == 0);
		idmap_free(&m);
	}
}

int main(void)
{
	test_basic();
	test_collisions();
	test_hostile();
	test_rules();
	test_locked_and_primary();
	test_active_values();
	test_names();
	test_reserved_list();
	test_group_selection();
	test_ids_deterministic();
	test_ids_probe();
	test_ids_sticky();
	test_ids_adopted();
	test_ids_damaged();
	return test_result();
}
