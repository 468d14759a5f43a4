/* SPDX-License-Identifier: MIT */
/*
 * test-reader-span: the span tables (record.h), which take a point lookup
 * from its hash slot straight to the record.  A snapshot without them is
 * served through the older tables; a damaged or hostile span slot gives
 * "unavailable" or "not found", never a record read outside the records
 * table nor another entry's record.
 *
 * Slots are changed in the file itself: liblmdb says where each table
 * lies, and the bytes are rewritten in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "snap.h"
#include "test.h"

#define ID_MIN 200000
#define ID_MAX 299999
#define NEXTRA 200 /* more users, so that probe runs pass other slots */

static char dir[64], good[128], path[128];

static void publish(const char *where)
{
	static const char *const eng[] = {"alice", "bob"};
	static const char *const names[] = {"alice", "bob", "carol"};
	struct snap_meta meta = {.generation = 1, .created = 1700000000};
	struct snap_writer *w;
	char err[256], name[32];

	strcpy(meta.source, "https://bridge.test/scim");
	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct snap_user u = {names[i], 200001 + i, 200001 + i,
		                      "inside", "/home/x",  "/bin/sh",
		                      true};
		struct snap_group g = {names[i], 200001 + i, 0, NULL};

		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	for (uint32_t i = 0; i < NEXTRA; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		struct snap_user u = {name,     201000 + i, 201000 + i,
		                      "inside", "/home/y",  "/bin/sh",
		                      true};
		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
	}
	struct snap_group g = {"engineering", 210001, 2, eng};
	REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	REQUIRE(snap_writer_publish(w, where, &meta, err, sizeof(err)) == 0);
	snap_writer_free(w);
}

static void copy_good(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 644 '%s'", good, path,
	         path);
	REQUIRE(system(cmd) == 0);
}

static MDB_env *env_open(unsigned flags)
{
	struct stat st;
	MDB_env *env;

	REQUIRE(stat(path, &st) == 0);
	REQUIRE(mdb_env_create(&env) == 0);
	REQUIRE(mdb_env_set_mapsize(env, (size_t)st.st_size + (4u << 20)) == 0);
	REQUIRE(mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOLOCK | flags,
	                     0644) == 0);
	return env;
}

/* Where the mapping of the snapshot that holds P starts (liblmdb says
 * where a value is in its map, not in the file). */
static uintptr_t map_start(const void *p)
{
	FILE *fp = fopen("/proc/self/maps", "re");
	unsigned long lo, hi, off;
	char line[512];
	uintptr_t start = 0;

	REQUIRE(fp != NULL);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi &&
		    strstr(line, path) != NULL)
			start = lo - off;
	}
	fclose(fp);
	REQUIRE(start != 0);
	return start;
}

/* Where KEY's value lies in the file: its offset, and its length in *LEN;
 * 0 when there is no such key. */
static size_t table_at(const char *key, size_t *len)
{
	MDB_env *env = env_open(MDB_RDONLY);
	MDB_val k = {strlen(key), (void *)key}, v;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t off = 0;

	REQUIRE(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	REQUIRE(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
	if (mdb_get(txn, dbi, &k, &v) == 0) {
		off = (uintptr_t)v.mv_data - map_start(v.mv_data);
		*len = v.mv_size;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return off;
}

/* Puts (or with VAL NULL, deletes) KEY through liblmdb. */
static void table_put(const char *key, const void *val, size_t len)
{
	MDB_env *env = env_open(0);
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
	MDB_txn *txn;
	MDB_dbi dbi;

	REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	REQUIRE(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
	if (val == NULL)
		REQUIRE(mdb_del(txn, dbi, &k, NULL) == 0);
	else
		REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
	REQUIRE(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	REQUIRE(chmod(path, 0644) == 0);
}

static void file_read(size_t off, void *p, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	REQUIRE(fd >= 0 && pread(fd, p, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static void file_write(size_t off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	REQUIRE(fd >= 0 && pwrite(fd, p, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* A slot of a span table: where it lies in the file and what it holds. */
struct slot {
	size_t at;
	uint32_t off, len, key;
};

/* The slot of users' (or groups') span table BYID or by name whose record
 * is NAME's. */
static struct slot find_slot(bool group, bool byid, const char *name)
{
	const char *records = group ? TABLE_GROUP_RECORDS : TABLE_USER_RECORDS;
	const char *span =
	        group ? (byid ? TABLE_GROUP_BYID_SPAN : TABLE_GROUP_BYNAME_SPAN)
	              : (byid ? TABLE_USER_BYID_SPAN : TABLE_USER_BYNAME_SPAN);
	size_t rlen, slen, roff = table_at(records, &rlen);
	size_t soff = table_at(span, &slen);
	static uint8_t recs[1 << 20], slots[1 << 20];
	struct slot s = {0};

	REQUIRE(roff != 0 && soff != 0 && rlen <= sizeof(recs) &&
	        slen <= sizeof(slots));
	file_read(roff, recs, rlen);
	file_read(soff, slots, slen);
	for (size_t i = 0; i + REC_SPAN_SLOT <= slen; i += REC_SPAN_SLOT) {
		uint32_t off = rec_get_le32(slots + i),
		         len = rec_get_le32(slots + i + 4);
		struct rec_user u;
		struct rec_group g;
		struct rec_str *n = group ? &g.name : &u.name;

		if (len == 0 || off > rlen || len > rlen - off)
			continue;
		if (group ? rec_decode_group(recs + off, len, ID_MIN, ID_MAX,
		                             &g)
		          : rec_decode_user(recs + off, len, ID_MIN, ID_MAX,
		                            &u))
			continue;
		if (n->len == strlen(name) && memcmp(n->p, name, n->len) == 0) {
			s = (struct slot){soff + i, off, len,
			                  rec_get_le32(slots + i + 8)};
			return s;
		}
	}
	REQUIRE(!"no slot");
	return s;
}

static void slot_write(const struct slot *s)
{
	uint8_t b[REC_SPAN_SLOT];

	put32(b, s->off);
	put32(b + 4, s->len);
	put32(b + 8, s->key);
	file_write(s->at, b, sizeof(b));
}

static struct snap_reader *reader(void)
{
	struct snap_reader *r;

	REQUIRE(snap_reader_new_copying(path, geteuid(), &r) == 0);
	return r;
}

static int pwnam(const char *name, struct passwd *pw)
{
	static char buf[1024];
	struct snap_reader *r = reader();
	int rc = snap_getpwnam(r, name, pw, buf, sizeof(buf));

	snap_reader_free(r);
	return rc;
}

static int pwuid(uint32_t uid, struct passwd *pw)
{
	static char buf[1024];
	struct snap_reader *r = reader();
	int rc = snap_getpwuid(r, uid, pw, buf, sizeof(buf));

	snap_reader_free(r);
	return rc;
}

/* Every point lookup, against what publish() wrote. */
static void check_served(void)
{
	struct snap_reader *r = reader();
	struct passwd pw;
	struct group gr;
	char buf[1024];

	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	CHECK_INT(pw.pw_uid, 200001);
	CHECK_INT(snap_getpwnam(r, "user77", &pw, buf, sizeof(buf)), 0);
	CHECK_INT(pw.pw_uid, 201077);
	CHECK_INT(snap_getpwnam(r, "nobody", &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getpwuid(r, 200002, &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_name, "bob");
	CHECK_INT(snap_getpwuid(r, 201199, &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_name, "user199");
	CHECK_INT(snap_getpwuid(r, 201200, &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getgrnam(r, "engineering", &gr, buf, sizeof(buf)), 0);
	CHECK_INT(gr.gr_gid, 210001);
	CHECK_STR(gr.gr_mem[1], "bob");
	CHECK_INT(snap_getgrnam(r, "nogroup", &gr, buf, sizeof(buf)),
	          SNAP_NONE);
	CHECK_INT(snap_getgrgid(r, 200003, &gr, buf, sizeof(buf)), 0);
	CHECK_STR(gr.gr_name, "carol");
	CHECK_INT(snap_getgrgid(r, 210002, &gr, buf, sizeof(buf)), SNAP_NONE);
	snap_reader_free(r);
}

/* With the older hash tables emptied, lookups still succeed: they go
 * through the span tables. */
static void test_spans_used(void)
{
	static const char *const old[] = {TABLE_USER_BYNAME, TABLE_USER_BYID,
	                                  TABLE_GROUP_BYNAME, TABLE_GROUP_BYID};
	static uint8_t zero[1 << 16];

	copy_good();
	for (size_t i = 0; i < 4; i++) {
		size_t len, off = table_at(old[i], &len);

		REQUIRE(off != 0 && len <= sizeof(zero));
		file_write(off, zero, len);
	}
	check_served();
}

/* A snapshot from an older writer, without the span tables, is served
 * through the older ones. */
static void test_without_spans(void)
{
	static const char *const span[] = {
	        TABLE_USER_BYNAME_SPAN, TABLE_USER_BYID_SPAN,
	        TABLE_GROUP_BYNAME_SPAN, TABLE_GROUP_BYID_SPAN};
	size_t len;

	copy_good();
	for (size_t i = 0; i < 4; i++)
		table_put(span[i], NULL, 0);
	for (size_t i = 0; i < 4; i++)
		CHECK_INT(table_at(span[i], &len), 0);
	check_served();
	/* Only one of them gone: the others are still used. */
	copy_good();
	table_put(TABLE_USER_BYID_SPAN, NULL, 0);
	check_served();
}

/* A span table of the wrong size is a damaged snapshot. */
static void test_span_size(void)
{
	static uint8_t v[REC_SPAN_SLOT * 8];
	struct snap_reader *r;
	struct passwd pw;
	char buf[256];

	copy_good();
	table_put(TABLE_GROUP_BYID_SPAN, v, sizeof(v) - 4);
	REQUIRE(snap_reader_new_copying(path, geteuid(), &r) == 0);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), -EBADMSG);
	snap_reader_free(r);
}

/* Slots that point past the records table's end, or wrap, are refused. */
static void test_slot_outside(void)
{
	size_t rlen;
	struct passwd pw;

	copy_good();
	REQUIRE(table_at(TABLE_USER_RECORDS, &rlen) != 0);
	for (int byid = 0; byid < 2; byid++) {
		const struct slot s0 = find_slot(false, byid, "alice");
		const struct slot bad[] = {
		        {s0.at, (uint32_t)rlen - 3, s0.len, s0.key},
		        {s0.at, (uint32_t)rlen, s0.len, s0.key},
		        {s0.at, s0.off, (uint32_t)rlen - s0.off + 1, s0.key},
		        {s0.at, 0xfffffff0u, s0.len, s0.key},
		        {s0.at, s0.off, 0xffffffffu, s0.key},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			slot_write(&bad[i]);
			CHECK_INT(byid ? pwuid(200001, &pw)
			               : pwnam("alice", &pw),
			          -EBADMSG);
		}
		slot_write(&s0);
		CHECK_INT(byid ? pwuid(200001, &pw) : pwnam("alice", &pw), 0);
	}
}

/* A valid record outside the records table (in another value of the
 * file) is never read through a span slot. */
static void test_record_beyond_table(void)
{
	struct snap_user u = {"alice",   200001,    200001, "outside",
	                      "/home/x", "/bin/sh", true};
	struct rec_buf b = {0};
	size_t rlen, roff, xlen, xoff;
	struct passwd pw;

	copy_good();
	REQUIRE(rec_encode_user(&b, &u, NULL, 0) == 0);
	table_put("zz.extra", b.data, b.len);
	roff = table_at(TABLE_USER_RECORDS, &rlen);
	xoff = table_at("zz.extra", &xlen);
	REQUIRE(roff != 0 && xoff > roff + rlen && xlen == b.len);
	for (int byid = 0; byid < 2; byid++) {
		struct slot s = find_slot(false, byid, "alice");

		s.off = (uint32_t)(xoff - roff);
		s.len = (uint32_t)b.len;
		slot_write(&s);
		CHECK_INT(byid ? pwuid(200001, &pw) : pwnam("alice", &pw),
		          -EBADMSG);
	}
	rec_buf_free(&b);
}

/* A slot pointing into the middle of a record gives "unavailable" or "not
 * found", whatever the offset and length. */
static void test_slot_mid_record(void)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];

	copy_good();
	for (int byid = 0; byid < 2; byid++) {
		const struct slot s0 = find_slot(false, byid, "alice");

		for (uint32_t d = 1; d < s0.len; d++) {
			struct slot s = {s0.at, s0.off + d, s0.len, s0.key};
			int rc;

			slot_write(&s);
			rc = byid ? pwuid(200001, &pw) : pwnam("alice", &pw);
			CHECK(rc == -EBADMSG || rc == SNAP_NONE);
			s = (struct slot){s0.at, s0.off, s0.len - d, s0.key};
			slot_write(&s);
			rc = byid ? pwuid(200001, &pw) : pwnam("alice", &pw);
			CHECK(rc == -EBADMSG || rc == SNAP_NONE);
		}
		slot_write(&s0);
	}
	/* A group record's members run to its end: a shorter span drops
	 * members or cuts a name, a longer one takes in the next record's
	 * bytes; neither is served as a shorter or longer member list. */
	for (int last = 0; last < 2; last++) {
		const struct slot g0 =
		        find_slot(true, false, last ? "engineering" : "alice");

		for (uint32_t d = 1; d < 12; d++) {
			struct slot s = {g0.at, g0.off, g0.len - d, g0.key};
			struct snap_reader *r;

			if (d < g0.len) {
				slot_write(&s);
				r = reader();
				CHECK_INT(snap_getgrnam(r,
				                        last ? "engineering"
				                             : "alice",
				                        &gr, buf, sizeof(buf)),
				          -EBADMSG);
				snap_reader_free(r);
			}
			s.len = g0.len + d;
			slot_write(&s);
			r = reader();
			CHECK_INT(snap_getgrnam(r,
			                        last ? "engineering" : "alice",
			                        &gr, buf, sizeof(buf)),
			          -EBADMSG);
			snap_reader_free(r);
		}
		slot_write(&g0);
	}
}

/* A slot whose key is right but whose span is another entry's record does
 * not answer for that entry. */
static void test_slot_other_record(void)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	struct snap_reader *r;

	copy_good();
	for (int byid = 0; byid < 2; byid++) {
		struct slot s = find_slot(false, byid, "alice");
		const struct slot b = find_slot(false, byid, "bob");

		s.off = b.off;
		s.len = b.len;
		slot_write(&s);
		CHECK_INT(byid ? pwuid(200001, &pw) : pwnam("alice", &pw),
		          SNAP_NONE);
		CHECK_INT(byid ? pwuid(200002, &pw) : pwnam("bob", &pw), 0);
		CHECK_STR(pw.pw_name, "bob");
	}
	for (int byid = 0; byid < 2; byid++) {
		struct slot s = find_slot(true, byid, "alice");
		const struct slot b = find_slot(true, byid, "bob");

		s.off = b.off;
		s.len = b.len;
		slot_write(&s);
		r = reader();
		CHECK_INT(
		        byid ? snap_getgrgid(r, 200001, &gr, buf, sizeof(buf))
		             : snap_getgrnam(r, "alice", &gr, buf, sizeof(buf)),
		        SNAP_NONE);
		snap_reader_free(r);
	}
}

int main(void)
{
	strcpy(dir, "/tmp/nss-scim-span.XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL);
	REQUIRE(chmod(dir, 0755) == 0);
	snprintf(good, sizeof(good), "%s/good.mdb", dir);
	snprintf(path, sizeof(path), "%s/cache.mdb", dir);
	publish(good);

	copy_good();
	check_served();
	test_spans_used();
	test_without_spans();
	test_span_size();
	test_slot_outside();
	test_record_beyond_table();
	test_slot_mid_record();
	test_slot_other_record();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_result();
}
