/* SPDX-License-Identifier: MIT */
/*
 * test-bundle.c: signed bundles (tools/fleet/bundle.c) and a host's local rules
 * over them (tools/fleet/fleet.c).  Every byte of a signed bundle is flipped
 * and every truncation tried: each must be refused before parsing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "delta.h"
#include "fleet.h"
#include "local.h"
#include "test.h"

#define LO 1879048192u
#define HI 2147352575u

static char dir[] = "/tmp/fleet-bundle.XXXXXX";

static void add_user(struct model *m, const char *name, uint32_t uid,
                     bool active)
{
	struct model_user u = {.name = (char *)name,
	                       .uid = uid,
	                       .gid = uid,
	                       .gecos = (char *)"A Person",
	                       .home = (char *)"/home/x",
	                       .shell = (char *)"/bin/bash",
	                       .active = active};

	REQUIRE(model_add_user(m, &u) == 0);
	REQUIRE(model_add_group(m, name, uid, NULL, 0, NULL) == 0);
}

static void sample(struct model *m)
{
	static const char *const eng[] = {"ana", "bo"};
	static const char *const ops[] = {"bo", "cy"};

	*m = (struct model){0};
	add_user(m, "ana", LO + 10, true);
	add_user(m, "bo", LO + 11, true);
	add_user(m, "cy", LO + 12, false);
	REQUIRE(model_add_group(m, "eng", LO + 100, eng, 2, NULL) == 0);
	REQUIRE(model_add_group(m, "ops", LO + 101, ops, 2, NULL) == 0);
	model_sort(m);
}

static void path(char *out, const char *name)
{
	snprintf(out, 256, "%s/%s", dir, name);
}

static void test_keys(EVP_PKEY **priv, EVP_PKEY **pub, EVP_PKEY **other)
{
	char a[256], b[256], c[256], d[256], err[256];
	EVP_PKEY *k = NULL;

	path(a, "k.key");
	path(b, "k.pub");
	REQUIRE(bundle_keygen(a, b, err, sizeof(err)) == 0);
	CHECK(bundle_keygen(a, b, err, sizeof(err)) == -EEXIST);
	REQUIRE(bundle_load_private(a, priv, err, sizeof(err)) == 0);
	REQUIRE(bundle_load_public(b, pub, err, sizeof(err)) == 0);
	/* A private key others can read, a public key others can write. */
	chmod(a, 0640);
	CHECK(bundle_load_private(a, &k, err, sizeof(err)) == -EPERM);
	CHECK(strstr(err, "chmod 600") != NULL);
	chmod(b, 0666);
	CHECK(bundle_load_public(b, &k, err, sizeof(err)) == -EPERM);
	/* The public key is not a private key, nor the other way round. */
	chmod(b, 0644);
	CHECK(bundle_load_private(b, &k, err, sizeof(err)) < 0);
	path(c, "o.key");
	path(d, "o.pub");
	REQUIRE(bundle_keygen(c, d, err, sizeof(err)) == 0);
	REQUIRE(bundle_load_public(d, other, err, sizeof(err)) == 0);
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(d);
}

static struct bundle_info sample_info(void)
{
	struct bundle_info i = {.generation = 1790000000,
	                        .created = 1790000000,
	                        .valid_until = 1790604800,
	                        .id_min = LO,
	                        .id_max = HI};

	snprintf(i.source, sizeof(i.source), "https://scim.example.com/scim");
	snprintf(i.origin, sizeof(i.origin), "source-1");
	return i;
}

static void test_roundtrip(EVP_PKEY *priv, EVP_PKEY *pub, EVP_PKEY *other,
                           struct buf *b)
{
	struct bundle_info in = sample_info(), out;
	struct model m, back;
	size_t signed_len = 0;
	char err[256];

	sample(&m);
	REQUIRE(bundle_write(&m, &in, priv, b, err, sizeof(err)) == 0);
	CHECK_INT(in.npeople, 3);
	CHECK_INT(in.ngroups, 5);
	REQUIRE(bundle_verify(b->data, b->len, pub, &signed_len, err,
	                      sizeof(err)) == 0);
	REQUIRE(bundle_parse(b->data, signed_len, &out, &back, err,
	                     sizeof(err)) == 0);
	CHECK_INT(out.generation, in.generation);
	CHECK_INT(out.valid_until, in.valid_until);
	CHECK_STR(out.source, in.source);
	CHECK_STR(out.origin, in.origin);
	CHECK_INT(out.digest, in.digest);
	CHECK_INT(back.nusers, 3);
	CHECK_INT(back.ngroups, 5);
	CHECK_STR(back.users[2].name, "cy");
	CHECK(!back.users[2].active);
	CHECK_INT(back.users[0].uid, LO + 10);
	CHECK_STR(model_find_group(&back, "ops")->members[1], "cy");
	CHECK_STR(back.users[1].gecos, "A Person");
	model_free(&back);

	/* The same directory at another generation: the same digest. */
	in.generation++;
	in.created += 60;
	{
		struct buf b2 = {0};
		struct bundle_info i2 = in;

		REQUIRE(bundle_write(&m, &i2, priv, &b2, err, sizeof(err)) ==
		        0);
		CHECK_INT(i2.digest, out.digest);
		buf_free(&b2, false);
	}
	CHECK(bundle_verify(b->data, b->len, other, &signed_len, err,
	                    sizeof(err)) == -EKEYREJECTED);
	model_free(&m);
}

/* Every flipped byte and every truncation is refused by the signature
 * check, before the parser sees anything. */
static void test_tamper(EVP_PKEY *pub, const struct buf *b)
{
	char *copy = malloc(b->len);
	size_t signed_len, accepted = 0;
	char err[256];

	REQUIRE(copy != NULL);
	for (size_t i = 0; i < b->len; i++) {
		memcpy(copy, b->data, b->len);
		copy[i] ^= 0x20;
		if (bundle_verify(copy, b->len, pub, &signed_len, err,
		                  sizeof(err)) == 0)
			accepted++;
	}
	CHECK_INT(accepted, 0);
	for (size_t n = 0; n < b->len; n++)
		if (bundle_verify(b->data, n, pub, &signed_len, err,
		                  sizeof(err)) == 0)
			accepted++;
	CHECK_INT(accepted, 0);
	memcpy(copy, b->data, b->len);
	copy[10] ^= 1;
	CHECK(bundle_verify(copy, b->len, pub, &signed_len, err, sizeof(err)) ==
	      -EBADE);
	CHECK(strstr(err, "altered") != NULL);
	CHECK(bundle_verify(b->data, b->len - 5, pub, &signed_len, err,
	                    sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "truncated") != NULL);
	free(copy);
}

#define HEAD                                                                   \
	"nss-scim-bundle 1\ngeneration 5\ncreated 10\nvalid-until 20\n"        \
	"source s\norigin o\nid-range 1000 5000\n"

static void parse_fails(const char *text, const char *why)
{
	struct bundle_info i;
	struct model m;
	char err[256] = "";

	CHECK(bundle_parse(text, strlen(text), &i, &m, err, sizeof(err)) ==
	      -EBADMSG);
	if (strstr(err, why) == NULL) {
		fprintf(stderr, "want \"%s\" in \"%s\"\n", why, err);
		test_failures++;
	}
}

static void test_parse(void)
{
	struct bundle_info i;
	struct model m;
	char err[256];
	const char *good =
	        HEAD "people 1\ngroups 1\n"
	             "P\tann\t1001\t1001\t1\tAnn\t/home/ann\t/bin/sh\n"
	             "G\tann\t1001\tann\n"
	             "end\n";

	CHECK(bundle_parse(good, strlen(good), &i, &m, err, sizeof(err)) == 0);
	model_free(&m);
	parse_fails("nss-scim-bundle 2\n", "bundle format 2");
	parse_fails("hello\n", "not an nss-scim bundle");
	parse_fails(HEAD "people 1\ngroups 0\n", "ends early");
	parse_fails(HEAD "people 1\ngroups 0\nP\tann\t1001\t1001\t1\tA\t/h\n"
	                 "end\n",
	            "expected a person");
	parse_fails(HEAD "people 1\ngroups 0\nP\tann\t1\t1001\t1\tA\t/h\t/s\n"
	                 "end\n",
	            "not a number within the id-range");
	parse_fails(HEAD "people 1\ngroups 0\nP\tann\t0\t1001\t1\tA\t/h\t/s\n"
	                 "end\n",
	            "not a number within the id-range");
	parse_fails(HEAD
	            "people 1\ngroups 0\nP\tr:t\t1001\t1001\t1\tA\t/h\t/s\n"
	            "end\n",
	            "invalid name");
	parse_fails(HEAD "people 2\ngroups 0\n"
	                 "P\tbo\t1001\t1001\t1\tA\t/h\t/s\n"
	                 "P\tann\t1002\t1002\t1\tA\t/h\t/s\nend\n",
	            "not sorted");
	parse_fails(HEAD "people 2\ngroups 0\n"
	                 "P\tann\t1001\t1001\t1\tA\t/h\t/s\n"
	                 "P\tbo\t1001\t1002\t1\tA\t/h\t/s\nend\n",
	            "uid 1001 repeats");
	parse_fails(HEAD
	            "people 1\ngroups 0\nP\tann\t1001\t1001\t2\tA\t/h\t/s\n"
	            "end\n",
	            "active flag");
	parse_fails(HEAD
	            "people 1\ngroups 0\nP\tann\t1001\t1001\t1\tA:B\t/h\t/s"
	            "\nend\n",
	            "gecos, home or shell");
	parse_fails(HEAD "people 1\ngroups 0\nP\tann\t1001\t1001\t1\tA\th\t/s\n"
	                 "end\n",
	            "gecos, home or shell");
	parse_fails(HEAD
	            "people 1\ngroups 1\nP\tann\t1001\t1001\t1\tA\t/h\t/s\n"
	            "G\tg\t1002\tann,zed\nend\n",
	            "member zed is not a person");
	parse_fails(HEAD
	            "people 1\ngroups 1\nP\tann\t1001\t1001\t1\tA\t/h\t/s\n"
	            "G\tg\t1002\tann,ann\nend\n",
	            "members are not sorted or repeat");
	parse_fails(HEAD "people 0\ngroups 2\nG\ta\t1002\t\nG\tb\t1002\t\n"
	                 "end\n",
	            "gid 1002 repeats");
	parse_fails(HEAD "people 0\ngroups 0\nend\nmore\n", "text after");
	parse_fails(HEAD "people 0\ngroups 0\nend", "has no end");
	parse_fails(HEAD "people 0\ngroups 0\nfin\n", "expected \"end\"");
	parse_fails("nss-scim-bundle 1\ngeneration x\n", "generation must be");
	parse_fails("nss-scim-bundle 1\ngeneration 1\ncreated 1\n"
	            "valid-until 1\nsource s\norigin o\nid-range 9 3\n",
	            "id-range must be");
}

/* What a fleet host keeps of a snapshot it published: the summary made
 * from the model is the one read from the snapshot, and comes back only
 * under its tag; a file hashed a piece at a time hashes as it does whole;
 * and a snapshot republished with a new generation and time is, byte for
 * byte, the one a publish of the same model with them writes. */
static void test_kept(void)
{
	struct model m, back;
	struct model_sum a, b, c;
	struct snap_meta meta = {.generation = 5, .created = 10}, got;
	char snap[256], other[256], sum[256], err[256], h1[SHA256_HEX],
	        h2[SHA256_HEX], *bytes = NULL, *ref = NULL;
	size_t len = 0, rlen = 0;

	sample(&m);
	snprintf(meta.source, sizeof(meta.source), "https://storage/b");
	path(snap, "cache.mdb");
	path(other, "other.mdb");
	path(sum, "snapshot-sum");
	REQUIRE(chmod(dir, 0755) == 0);
	REQUIRE(model_publish(&m, LO, HI, snap, &meta, err, sizeof(err)) == 0);
	REQUIRE(model_sum_snapshot(snap, geteuid(), &a, &got) == 0);
	REQUIRE(model_sum_of(&m, &b) == 0);
	CHECK(a.nusers == b.nusers && a.ngroups == b.ngroups);
	for (size_t i = 0; i < a.nusers && i < b.nusers; i++)
		CHECK(a.users[i].name == b.users[i].name &&
		      a.users[i].entry == b.users[i].entry &&
		      a.users[i].id == b.users[i].id);
	for (size_t i = 0; i < a.ngroups && i < b.ngroups; i++)
		CHECK(a.groups[i].name == b.groups[i].name &&
		      a.groups[i].entry == b.groups[i].entry &&
		      a.groups[i].id == b.groups[i].id);
	CHECK(model_sum_save(sum, "tag-1", &b) == 0);
	CHECK(model_sum_load(sum, "tag-2", &c) == -ESTALE);
	REQUIRE(model_sum_load(sum, "tag-1", &c) == 0);
	CHECK(c.nusers == b.nusers && c.ngroups == b.ngroups &&
	      c.users[0].entry == b.users[0].entry &&
	      c.groups[c.ngroups - 1].name == b.groups[b.ngroups - 1].name);
	model_sum_free(&c);
	CHECK(truncate(sum, 27) == 0);
	CHECK(model_sum_load(sum, "tag-1", &c) == -EBADMSG);

	REQUIRE(read_file(snap, 1u << 30, &bytes, &len) == 0);
	CHECK(delta_sha256_file(snap, h1) == 0);
	delta_sha256_hex(bytes, len, h2);
	CHECK(strcmp(h1, h2) == 0);
	CHECK(delta_sha256_file(sum + 1, h1) < 0);

	/* Republished as generation 6 of time 99 ... */
	meta.generation = 6;
	meta.created = 99;
	CHECK(snap_writer_republish(bytes, len, &got, &meta, snap, err,
	                            sizeof(err)) == 0);
	/* ... and published so from the model. */
	REQUIRE(model_publish(&m, LO, HI, other, &meta, err, sizeof(err)) == 0);
	REQUIRE(read_file(other, 1u << 30, &ref, &rlen) == 0);
	free(bytes);
	REQUIRE(read_file(snap, 1u << 30, &bytes, &len) == 0);
	CHECK(len == rlen && memcmp(bytes, ref, len) == 0);
	REQUIRE(model_load_snapshot(snap, geteuid(), &back, &got) == 0);
	CHECK(got.generation == 6 && got.created == 99 && back.nusers == 3);
	model_free(&back);
	/* A meta record that is not the one said: refused, file kept. */
	got.generation = 7;
	meta.generation = 8;
	CHECK(snap_writer_republish(bytes, len, &got, &meta, snap, err,
	                            sizeof(err)) == -ESTALE);
	free(ref);
	REQUIRE(read_file(snap, 1u << 30, &ref, &rlen) == 0);
	CHECK(rlen == len && memcmp(bytes, ref, len) == 0);

	free(bytes);
	free(ref);
	model_sum_free(&a);
	model_sum_free(&b);
	model_free(&m);
	unlink(snap);
	unlink(other);
	unlink(sum);
}

static void test_local_rules(void)
{
	static const char passwd[] = "root:x:0:0::/root:/bin/sh\n"
	                             "bo:x:1000:1000::/home/bo:/bin/sh\n";
	static char group[64];
	struct localdb db = {0};
	struct locks locks = {0};
	struct skiplist sk = {0};
	struct model in, out;
	struct fleet_rules r = {
	        .local = &db, .locks = &locks, .id_min = LO, .id_max = HI};

	/* cy's uid is a local group's gid here. */
	snprintf(group, sizeof(group), "root:x:0:\ndev:x:%u:\n", LO + 12);
	sample(&in);
	REQUIRE(localdb_parse(&db, passwd, strlen(passwd), false) == 0);
	REQUIRE(localdb_parse(&db, group, strlen(group), true) == 0);
	REQUIRE(locks_add(&locks, "ana", "ana") == 0);
	REQUIRE(fleet_apply_local(&in, &r, true, &out, &sk) == 0);
	/* bo: a local name; cy: a local number; ana: kept, locked. */
	CHECK_INT(out.nusers, 1);
	CHECK_STR(out.users[0].name, "ana");
	CHECK(!out.users[0].active);
	CHECK(model_find_group(&out, "bo") == NULL);
	CHECK(model_find_group(&out, "cy") == NULL);
	CHECK_INT(model_find_group(&out, "eng")->nmembers, 1);
	CHECK_INT(model_find_group(&out, "ops")->nmembers, 0);
	CHECK_INT(sk.n, 2);
	CHECK_INT(sk.count[SKIP_LOCAL_NAME], 1);
	CHECK_INT(sk.count[SKIP_LOCAL_ID], 1);
	model_free(&out);
	skiplist_free(&sk);

	/* A narrower range on this host leaves the rest out. */
	r.locks = NULL;
	r.id_min = LO + 11;
	REQUIRE(fleet_apply_local(&in, &r, false, &out, &sk) == 0);
	CHECK_INT(out.nusers, 0);
	CHECK_INT(sk.count[SKIP_ID_RANGE], 1); /* ana; eng and ops stay */
	CHECK(model_find_group(&out, "eng") != NULL);
	model_free(&out);
	skiplist_free(&sk);

	/* Nothing to change here: OUT takes IN over instead of a copy. */
	localdb_free(&db);
	db = (struct localdb){0};
	r.id_min = LO;
	REQUIRE(fleet_apply_local(&in, &r, true, &out, &sk) == 0);
	CHECK_INT(out.nusers, 3);
	CHECK_INT(out.ngroups, 5);
	CHECK_INT(in.nusers, 0);
	CHECK_INT(sk.n, 0);
	CHECK_STR(model_find_group(&out, "ops")->members[0], "bo");
	model_free(&out);
	model_free(&in);
	localdb_free(&db);
	locks_free(&locks);
}

/* A fleet host holds a bundle to its own reserved names, built-in and
 * configured, whatever the source host published. */
static void test_reserved_rules(void)
{
	static const char *const adm[] = {"ana"};
	static char ops[] = "ops-*";
	static char *extra[] = {ops};
	struct localdb db = {0};
	struct skiplist sk = {0};
	struct model in, out;
	struct fleet_rules r = {.local = &db,
	                        .id_min = LO,
	                        .id_max = HI,
	                        .reserved = extra,
	                        .nreserved = 1};

	sample(&in);
	add_user(&in, "docker", LO + 13, true);
	add_user(&in, "ops-bot", LO + 14, true);
	REQUIRE(model_add_group(&in, "admin", LO + 102, adm, 1, NULL) == 0);
	model_sort(&in);
	REQUIRE(fleet_apply_local(&in, &r, false, &out, &sk) == 0);
	CHECK(model_find_user(&out, "docker") == NULL);
	CHECK(model_find_group(&out, "docker") == NULL);
	CHECK(model_find_user(&out, "ops-bot") == NULL);
	CHECK(model_find_group(&out, "admin") == NULL);
	CHECK(model_find_user(&out, "ana") != NULL);
	CHECK_INT(sk.count[SKIP_RESERVED_NAME], 3);
	model_free(&out);
	model_free(&in);
	skiplist_free(&sk);
}

/* The signed part of the bundle B. */
static size_t signed_len_of(const struct buf *b)
{
	size_t end = b->len - 1;

	while (end > 0 && b->data[end - 1] != '\n')
		end--;
	return end;
}

/* A directory of N people p000..: each in its private group, in "all",
 * and every third in "odd". */
static void numbered(struct model *m, int n, int skip, const char *gecos)
{
	const char **all = calloc((size_t)n, sizeof(*all));
	const char **odd = calloc((size_t)n, sizeof(*odd));
	char(*names)[8] = calloc((size_t)n, sizeof(*names));
	size_t na = 0, no = 0;

	REQUIRE(all != NULL && odd != NULL && names != NULL);
	*m = (struct model){0};
	for (int i = 0; i < n; i++) {
		if (i == skip)
			continue;
		snprintf(names[i], sizeof(names[i]), "p%03d", i);
		add_user(m, names[i], LO + 1000 + (uint32_t)i, true);
		all[na++] = names[i];
		if (i % 3 == 0)
			odd[no++] = names[i];
	}
	m->users[0].gecos = model_keep(m, gecos, strlen(gecos) + 1);
	REQUIRE(model_add_group(m, "all", LO + 100, all, na, NULL) == 0);
	REQUIRE(model_add_group(m, "odd", LO + 101, odd, no, NULL) == 0);
	model_sort(m);
	free(all);
	free(odd);
	free(names);
}

/* A delta's result read from only the lines it wrote: the header and
 * digest of the whole, those records exactly as a whole parse gives them,
 * the names of what went; and the checks of the lines not read. */
static void test_edited(EVP_PKEY *priv)
{
	struct bundle_info in = sample_info(), whole, part;
	struct model a, b, full, got;
	struct buf ta = {0}, tb = {0}, d = {0}, out = {0}, bad = {0};
	struct delta_edits ed = {0};
	char err[256], target[SHA256_HEX], kind, name[SNAP_NAME_MAX + 1];
	size_t la, lb, users = 0, groups = 0;

	numbered(&a, 60, -1, "A Person");
	numbered(&b, 61, 20, "Changed");
	REQUIRE(bundle_write(&a, &in, priv, &ta, err, sizeof(err)) == 0);
	in.generation++;
	REQUIRE(bundle_write(&b, &in, priv, &tb, err, sizeof(err)) == 0);
	REQUIRE(delta_make(ta.data, ta.len, tb.data, tb.len, &d) == 0);
	REQUIRE(delta_apply_edits(ta.data, ta.len, d.data, d.len, &out, target,
	                          &ed, err, sizeof(err)) == 0);
	REQUIRE(out.len == tb.len && memcmp(out.data, tb.data, tb.len) == 0);
	/* Gone: p000 (changed), p020 (removed) and its private group, all
	 * and odd (members); the header's generation line is no record. */
	for (size_t i = 0; i < ed.ngone; i++) {
		if (!bundle_line_name(ta.data + ed.gone[i].off, ed.gone[i].len,
		                      &kind, name))
			continue;
		users += kind == 'P';
		groups += kind == 'G';
		CHECK(strcmp(name, "p000") == 0 || strcmp(name, "p020") == 0 ||
		      strcmp(name, "all") == 0 || strcmp(name, "odd") == 0);
	}
	CHECK_INT(users, 2);
	CHECK_INT(groups, 3); /* all, odd, p020: p060's group is new */
	la = signed_len_of(&tb);
	REQUIRE(bundle_parse(tb.data, la, &whole, &full, err, sizeof(err)) ==
	        0);
	REQUIRE(bundle_parse_edited(tb.data, la, ed.came, ed.ncame, &part, &got,
	                            err, sizeof(err)) == 0);
	CHECK_INT(part.digest, whole.digest);
	CHECK_INT(part.generation, whole.generation);
	CHECK_INT(part.npeople, 60);
	CHECK_INT(part.ngroups, 62);
	/* p000 changed and p060 came; their groups, all and odd. */
	CHECK_INT(got.nusers, 2);
	CHECK_STR(got.users[0].name, "p000");
	CHECK_STR(got.users[0].gecos, "Changed");
	CHECK_STR(got.users[1].name, "p060");
	CHECK_INT(got.ngroups, 3);
	CHECK_STR(got.groups[0].name, "all");
	CHECK_INT(got.groups[0].nmembers, 60);
	CHECK_INT(got.groups[1].nmembers,
	          model_find_group(&full, "odd")->nmembers);
	CHECK_STR(got.groups[2].name, "p060");
	model_free(&got);

	/* A line not read out of order, or of the wrong kind, is refused;
	 * so is a line read that is not valid, and a count that is off. */
	lb = signed_len_of(&tb);
	buf_add(&bad, tb.data, lb);
	{
		char *p = strstr(bad.data, "\nP\tp005\t");

		REQUIRE(p != NULL);
		p[4] = '9'; /* p905 before p006 */
		CHECK(bundle_parse_edited(bad.data, lb, ed.came, ed.ncame,
		                          &part, &got, err,
		                          sizeof(err)) == -EBADMSG);
		CHECK(strstr(err, "people are not sorted by name") != NULL);
		p[4] = '0';
		p[1] = 'G';
		CHECK(bundle_parse_edited(bad.data, lb, ed.came, ed.ncame,
		                          &part, &got, err,
		                          sizeof(err)) == -EBADMSG);
		CHECK(strstr(err, "expected a person") != NULL);
		p[1] = 'P';
	}
	{
		char *p = strstr(bad.data, "\nP\tp060\t");

		REQUIRE(p != NULL);
		p[11] = 'x'; /* its uid */
		CHECK(bundle_parse_edited(bad.data, lb, ed.came, ed.ncame,
		                          &part, &got, err,
		                          sizeof(err)) == -EBADMSG);
		CHECK(strstr(err, "uid") != NULL);
	}
	{
		char *p = strstr(tb.data, "\npeople 60\n");

		REQUIRE(p != NULL);
		p[9] = '1';
		CHECK(bundle_parse_edited(tb.data, lb, ed.came, ed.ncame, &part,
		                          &got, err, sizeof(err)) < 0);
		p[9] = '0';
	}
	model_free(&a);
	model_free(&b);
	model_free(&full);
	delta_edits_free(&ed);
	buf_free(&ta, false);
	buf_free(&tb, false);
	buf_free(&d, false);
	buf_free(&out, false);
	buf_free(&bad, false);
}

int main(void)
{
	EVP_PKEY *priv = NULL, *pub = NULL, *other = NULL;
	struct buf b = {0};

	REQUIRE(mkdtemp(dir) != NULL);
	test_keys(&priv, &pub, &other);
	test_roundtrip(priv, pub, other, &b);
	test_tamper(pub, &b);
	test_parse();
	test_local_rules();
	test_reserved_rules();
	test_kept();
	test_edited(priv);
	buf_free(&b, false);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
	rmdir(dir);
	return test_result();
}
