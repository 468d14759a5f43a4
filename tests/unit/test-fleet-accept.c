/* SPDX-License-Identifier: MIT */
/*
 * test-fleet-accept.c: fleet mode's acceptance rules (fleet_accept()),
 * called directly for each edge, and the pieces a manifest binds: deltas
 * (made, applied, and refused when damaged or for another base) and the
 * manifest's own format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delta.h"
#include "fleet.h"
#include "manifest.h"
#include "test.h"

#define NOW 1000000.0

static int accept_one(const struct fleet_held *h, const struct fleet_offer *o,
                      char *err)
{
	err[0] = '\0';
	return fleet_accept(h, o, NOW, err, 512);
}

static void test_accept(void)
{
	struct fleet_held h = {.generation = 10,
	                       .valid_until = NOW + 100,
	                       .keyid = "0123456789abcdef"};
	struct fleet_offer o = {.generation = 11,
	                        .valid_until = (int64_t)NOW + 100,
	                        .keyid = "0123456789abcdef",
	                        .content = "b",
	                        .held_content = "a"};
	char err[512];

	CHECK_INT(accept_one(&h, &o, err), 0);
	/* Expiry: refused from valid-until on, to the second. */
	o.valid_until = (int64_t)NOW;
	CHECK_INT(accept_one(&h, &o, err), -ETIME);
	CHECK(strstr(err, "bundle generation 11 expired at ") != NULL);
	o.valid_until = (int64_t)NOW + 1;
	CHECK_INT(accept_one(&h, &o, err), 0);
	/* Rollback and replay: older than held. */
	o.generation = 9;
	CHECK_INT(accept_one(&h, &o, err), -ESTALE);
	CHECK(strstr(err, "is older than generation 10, already applied") !=
	      NULL);
	/* The same generation: with the same content, again; with other
	 * content, refused; with nothing held to compare, taken. */
	o.generation = 10;
	CHECK_INT(accept_one(&h, &o, err), -EEXIST);
	CHECK(strstr(err, "bundle generation 10 repeats with other content") !=
	      NULL);
	o.content = "a";
	CHECK_INT(accept_one(&h, &o, err), 0);
	o.held_content = "";
	o.content = "z";
	CHECK_INT(accept_one(&h, &o, err), 0);
	/* Another key. */
	o.generation = 12;
	o.keyid = "fedcba9876543210";
	CHECK_INT(accept_one(&h, &o, err), -EKEYREJECTED);
	CHECK(strstr(err,
	             "signed by key fedcba9876543210, not by verify_key") !=
	      NULL);
	/* A 304: what is held, refused from its own valid-until on. */
	o = (struct fleet_offer){.not_modified = true};
	CHECK_INT(accept_one(&h, &o, err), 0);
	h.valid_until = NOW;
	CHECK_INT(accept_one(&h, &o, err), -ETIME);
	CHECK(strstr(err, "the source's bundle (generation 10) expired at ") !=
	      NULL);
	h.valid_until = NOW + 1;
	CHECK_INT(accept_one(&h, &o, err), 0);
	h.valid_until = 0; /* unknown: nothing to refuse */
	CHECK_INT(accept_one(&h, &o, err), 0);
	/* Nothing held: anything valid goes. */
	h = (struct fleet_held){0};
	o = (struct fleet_offer){.generation = 1,
	                         .valid_until = (int64_t)NOW + 5,
	                         .content = "x",
	                         .held_content = ""};
	CHECK_INT(accept_one(&h, &o, err), 0);
}

/* A bundle-like text: a header, people, groups with MEMBERS. */
static void bundle_text(struct buf *b, int gen, int npeople, int skip,
                        const char *gecos)
{
	buf_reset(b);
	buf_printf(b, "nss-scim-bundle 1\ngeneration %d\npeople %d\n", gen,
	           npeople);
	for (int i = 0; i < npeople; i++)
		if (i != skip)
			buf_printf(b, "P\tp%04d\t%d\t%d\t1\t%s\t/h\t/bin/sh\n",
			           i, 2000 + i, 2000 + i, i == 7 ? gecos : "x");
	for (int g = 0; g < 3; g++) {
		int first = 1;

		buf_printf(b, "G\tg%d\t%d\t", g, 100 + g);
		for (int i = 0; i < npeople; i++)
			if (i != skip && i % 3 != g) {
				buf_printf(b, "%sp%04d", first ? "" : ",", i);
				first = 0;
			}
		buf_puts(b, "\n");
	}
	buf_puts(b, "end\nsignature ed25519 0123 AAAA\n");
}

static void test_delta(void)
{
	struct buf a = {0}, b = {0}, d = {0}, out = {0}, bad = {0};
	char err[512], target[SHA256_HEX], want[SHA256_HEX];

	bundle_text(&a, 1, 200, -1, "x");
	bundle_text(&b, 2, 201, 50, "Changed");
	REQUIRE(delta_make(a.data, a.len, b.data, b.len, &d) == 0);
	CHECK(d.len < b.len / 4);
	/* Group membership edits name the members, not the whole line. */
	CHECK(strstr(d.data, "\n~ +p0200 -p0050\n") != NULL);
	CHECK_INT(delta_apply(a.data, a.len, d.data, d.len, &out, target, err,
	                      sizeof(err)),
	          0);
	delta_sha256_hex(b.data, b.len, want);
	CHECK_STR(target, want);
	CHECK(out.len == b.len && memcmp(out.data, b.data, b.len) == 0);

	/* Another base: refused by its hash before anything is applied. */
	CHECK_INT(delta_apply(b.data, b.len, d.data, d.len, &out, target, err,
	                      sizeof(err)),
	          -EBADE);
	CHECK(strstr(err, "the delta's base is ") != NULL);
	/* Truncated: at every length, never a result. */
	for (size_t n = 0; n < d.len; n++)
		CHECK(delta_apply(a.data, a.len, d.data, n, &out, target, err,
		                  sizeof(err)) < 0);
	/* One byte changed anywhere: refused, or the same target. */
	buf_add(&bad, d.data, d.len);
	for (size_t i = 0; i < bad.len; i++) {
		char c = bad.data[i];
		int rc;

		bad.data[i] = c == '1' ? '2' : '1';
		rc = delta_apply(a.data, a.len, bad.data, bad.len, &out, target,
		                 err, sizeof(err));
		CHECK(rc < 0 || (out.len == b.len &&
		                 memcmp(out.data, b.data, b.len) == 0));
		bad.data[i] = c;
	}
	/* Nothing changed: copies only. */
	REQUIRE(delta_make(a.data, a.len, a.data, a.len, &d) == 0);
	CHECK(strstr(d.data, "\n+ ") == NULL);
	CHECK_INT(delta_apply(a.data, a.len, d.data, d.len, &out, target, err,
	                      sizeof(err)),
	          0);
	buf_free(&a, false);
	buf_free(&b, false);
	buf_free(&d, false);
	buf_free(&out, false);
	buf_free(&bad, false);
}

static void test_manifest(void)
{
	static char dir[] = "/tmp/test-fleet-accept.XXXXXX";
	char priv[256], pub[256], err[512], url[256];
	EVP_PKEY *key = NULL, *pk = NULL;
	struct manifest m = {.generation = 5,
	                     .created = 100,
	                     .valid_until = 200,
	                     .size = 42,
	                     .ndeltas = 1},
	                got;
	struct buf out = {0};

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(priv, sizeof(priv), "%s/k", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	REQUIRE(bundle_keygen(priv, pub, err, sizeof(err)) == 0);
	REQUIRE(bundle_load_private(priv, &key, err, sizeof(err)) == 0);
	REQUIRE(bundle_load_public(pub, &pk, err, sizeof(err)) == 0);
	memset(m.hash, 'a', 64);
	memset(m.deltas[0].base, 'b', 64);
	memset(m.deltas[0].hash, 'c', 64);
	m.deltas[0].size = 7;
	REQUIRE(manifest_write(&m, key, &out, err, sizeof(err)) == 0);
	CHECK_INT(manifest_read(out.data, out.len, pk, &got, err, sizeof(err)),
	          0);
	CHECK_INT(got.generation, 5);
	CHECK_INT(got.ndeltas, 1);
	CHECK_STR(got.hash, m.hash);
	CHECK_STR(got.deltas[0].base, m.deltas[0].base);
	/* Truncated at any length: refused. */
	for (size_t n = 0; n < out.len; n++)
		CHECK(manifest_read(out.data, n, pk, &got, err, sizeof(err)) <
		      0);
	/* Altered: the signature refuses it. */
	out.data[strlen("nss-scim-manifest 1\ngeneration ")] = '6';
	CHECK_INT(manifest_read(out.data, out.len, pk, &got, err, sizeof(err)),
	          -EBADE);
	/* The files beside a bundle, a query string kept last. */
	manifest_sibling("https://s/x/b.bundle?sig=1", NULL, NULL, url,
	                 sizeof(url));
	CHECK_STR(url, "https://s/x/b.bundle.manifest?sig=1");
	manifest_sibling("/w/b.bundle", m.deltas[0].base, m.hash, url,
	                 sizeof(url));
	CHECK_STR(url, "/w/b.bundle.bbbbbbbbbbbbbbbb.aaaaaaaaaaaaaaaa.delta");
	EVP_PKEY_free(key);
	EVP_PKEY_free(pk);
	buf_free(&out, false);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
}

int main(void)
{
	test_accept();
	test_delta();
	test_manifest();
	return test_result();
}
