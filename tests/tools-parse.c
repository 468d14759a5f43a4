/*
 * tools-parse.c: SCIM response parsing and the paging rules, on bytes and
 * synthetic pages (no HTTP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pager.h"
#include "scim.h"
#include "test.h"
#include "util.h"

static int list(const char *json, enum scim_kind kind, struct scim_page *p,
                char *err)
{
	*p = (struct scim_page){0};
	return scim_parse_list(json, strlen(json), kind, p, err, 256);
}

static void test_user_page(void)
{
	const char *json =
	        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
	        "ListResponse\"],\"totalResults\":2,\"itemsPerPage\":2,"
	        "\"startIndex\":1,\"Resources\":["
	        "{\"id\":\"AAAA\",\"userName\":\"jane.doe@example.com\","
	        "\"name\":{\"formatted\":\"Jane Doe\",\"givenName\":\"Jane\","
	        "\"familyName\":\"Doe\"},\"displayName\":\"Jane D\","
	        "\"active\":true,\"emails\":[{\"value\":\"j@x.com\"},"
	        "{\"value\":\"jane@x.com\",\"primary\":true}]},"
	        "{\"id\":\"BBBB\",\"userName\":\"bob@example.com\","
	        "\"active\":false}]}";
	struct scim_page p;
	char err[256];

	CHECK_INT(list(json, SCIM_USERS, &p, err), 0);
	CHECK_INT(p.total, 2);
	CHECK_INT(p.start_index, 1);
	REQUIRE(p.nres == 2);
	CHECK_STR(p.res[0].id, "AAAA");
	CHECK_STR(p.res[0].name, "jane.doe@example.com");
	CHECK_STR(p.res[0].formatted, "Jane Doe");
	CHECK_STR(p.res[0].given, "Jane");
	CHECK_STR(p.res[0].family, "Doe");
	CHECK_STR(p.res[0].display, "Jane D");
	CHECK_STR(p.res[0].email, "jane@x.com");
	CHECK(p.res[0].active);
	CHECK(!p.res[1].active);
	CHECK(p.res[1].formatted == NULL);
	scim_page_clear(&p);
}

/* Attribute names in any case; unknown attributes and extensions
 * ignored; numbers as strings; "active" as a string. */
static void test_case_and_noise(void)
{
	const char *json =
	        "{\"TOTALRESULTS\":\"1\",\"STARTindex\":0,\"resources\":["
	        "{\"ID\":\"CCCC\",\"USERNAME\":\"Carl@Example.com\","
	        "\"NAME\":{\"FORMATTED\":\"Carl\"},\"Active\":\"false\","
	        "\"urn:example:ext\":{\"userName\":\"evil\"},"
	        "\"x-unknown\":[1,2,{\"a\":null}],\"meta\":{}}],"
	        "\"extra\":{\"deep\":[[[[]]]]}}";
	struct scim_page p;
	char err[256];

	CHECK_INT(list(json, SCIM_USERS, &p, err), 0);
	CHECK_INT(p.total, 1);
	CHECK_INT(p.start_index, 0);
	REQUIRE(p.nres == 1);
	CHECK_STR(p.res[0].id, "CCCC");
	CHECK_STR(p.res[0].name, "Carl@Example.com");
	CHECK_STR(p.res[0].formatted, "Carl");
	CHECK(!p.res[0].active);
	scim_page_clear(&p);
}

static void test_groups(void)
{
	const char *json =
	        "{\"totalResults\":3,\"Resources\":["
	        "{\"id\":\"g1\",\"displayName\":\"Engineering\",\"members\":["
	        "{\"value\":\"AAAA\",\"display\":\"Jane\"},"
	        "{\"value\":\"g2\",\"type\":\"Group\"},"
	        "{\"Value\":\"BBBB\"},{\"display\":\"no value\"},7]},"
	        "{\"id\":\"g2\",\"displayName\":\"Empty\",\"members\":[]},"
	        "{\"id\":\"g3\",\"displayName\":\"Unlisted\"}]}";
	struct scim_page p;
	char err[256];

	CHECK_INT(list(json, SCIM_GROUPS, &p, err), 0);
	REQUIRE(p.nres == 3);
	CHECK_STR(p.res[0].name, "Engineering");
	REQUIRE(p.res[0].nmembers == 2);
	CHECK_STR(p.res[0].members[0], "AAAA");
	CHECK_STR(p.res[0].members[1], "BBBB");
	CHECK(p.res[0].has_members);
	CHECK(p.res[1].has_members && p.res[1].nmembers == 0);
	CHECK(!p.res[2].has_members);
	scim_page_clear(&p);
}

/* Hostile strings come through unchanged (mapping judges them), except
 * that a NUL byte makes the attribute absent. */
static void test_hostile_values(void)
{
	const char *json =
	        "{\"totalResults\":3,\"Resources\":["
	        "{\"id\":\"A\",\"userName\":\"ctl\\u0007\\u001b[2J@x\"},"
	        "{\"id\":\"B\",\"userName\":\"nul\\u0000byte@x\"},"
	        "{\"id\":\"C\",\"userName\":42,\"active\":\"maybe\"}]}";
	struct scim_page p;
	char err[256], pb[300];

	CHECK_INT(list(json, SCIM_USERS, &p, err), 0);
	REQUIRE(p.nres == 3);
	CHECK_STR(p.res[0].name, "ctl\a\x1b[2J@x");
	CHECK_STR(
	        printable(pb, sizeof(pb), p.res[0].name, strlen(p.res[0].name)),
	        "ctl\\x07\\x1b[2J@x");
	CHECK(p.res[1].name == NULL);
	CHECK(p.res[2].name == NULL);
	CHECK(p.res[2].active); /* unparseable: the RFC default */
	scim_page_clear(&p);
}

static void bad_list(const char *json, const char *want)
{
	struct scim_page p;
	char err[256] = "";

	CHECK_INT(list(json, SCIM_USERS, &p, err), -EBADMSG);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
		test_failures++;
	}
}

static void test_bad_lists(void)
{
	bad_list("", "invalid JSON");
	bad_list("{\"totalResults\":1,\"Resources\":[{\"id\":\"A\"",
	         "truncated");
	bad_list("{\"totalResults\":0} trailing", "data after the value");
	bad_list("<html>oops</html>", "invalid JSON");
	bad_list("[1,2]", "not a JSON object");
	bad_list("{\"Resources\":[]}", "totalResults");
	bad_list("{\"totalResults\":-1}", "totalResults");
	bad_list("{\"totalResults\":\"x\"}", "totalResults");
	bad_list("{\"totalResults\":1,\"Resources\":{}}", "not an array");
	bad_list("{\"totalResults\":1,\"Resources\":[5]}", "not an object");
	bad_list("{\"totalResults\":1,\"Resources\":[{\"userName\":\"a\"}]}",
	         "no string \"id\"");
	bad_list("{\"totalResults\":1,\"Resources\":[{\"id\":7}]}",
	         "no string \"id\"");
}

static void test_error_and_health(void)
{
	const char *e = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:"
	                "2.0:Error\"],\"status\":\"401\",\"detail\":"
	                "\"bad\\ntoken\"}";
	const char *h = "{\"build\":\"209163\",\"version\":\"2.9.16\"}";
	char d[300], v[64], b[64];

	scim_parse_error_detail(e, strlen(e), d, sizeof(d));
	CHECK_STR(d, "bad\\x0atoken");
	scim_parse_error_detail("nope", 4, d, sizeof(d));
	CHECK_STR(d, "");
	CHECK_INT(scim_parse_health(h, strlen(h), v, sizeof(v), b, sizeof(b)),
	          0);
	CHECK_STR(v, "2.9.16");
	CHECK_STR(b, "209163");
}

/* ---- pager ------------------------------------------------------------ */

/* A synthetic page: TOTAL, and resources with the ids in IDS (comma
 * separated, may be empty). */
static struct scim_page page(int64_t total, const char *ids)
{
	struct scim_page p = {.total = total, .start_index = -1};
	char *copy = strdup(ids), *save = NULL;
	size_t n = 0;

	p.res = calloc(64, sizeof(*p.res));
	REQUIRE(copy && p.res);
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		REQUIRE(n < 64);
		p.res[n].id = strdup(t);
		p.res[n++].active = true;
	}
	p.nres = n;
	free(copy);
	return p;
}

static int feed(struct pager *pg, int64_t total, const char *ids, char *err)
{
	struct scim_page p = page(total, ids);

	return pager_feed(pg, &p, err, 256);
}

static void test_pager_normal(void)
{
	struct pager pg;
	struct scim_res *items;
	size_t n;
	char err[256];

	pager_init(&pg, 100);
	CHECK_INT(pager_start(&pg), 1);
	CHECK_INT(feed(&pg, 5, "a,b", err), PAGER_MORE);
	CHECK_INT(pager_start(&pg), 3);
	/* A page may repeat some resources (the directory moved): dropped,
	 * and startIndex still advances by what was received. */
	CHECK_INT(feed(&pg, 5, "b,c", err), PAGER_MORE);
	CHECK_INT(pager_start(&pg), 5);
	CHECK_INT(feed(&pg, 5, "d,e", err), PAGER_MORE);
	/* unique == total: one more request must bring nothing new. */
	CHECK_INT(pager_start(&pg), 7);
	CHECK_INT(feed(&pg, 5, "", err), PAGER_DONE);
	pager_take(&pg, &items, &n);
	CHECK_INT(n, 5);
	CHECK_STR(items[0].id, "a");
	CHECK_STR(items[4].id, "e");
	for (size_t i = 0; i < n; i++)
		scim_res_clear(&items[i]);
	free(items);
	pager_free(&pg);

	/* A server that serves page one for a startIndex past the end. */
	pager_init(&pg, 100);
	CHECK_INT(feed(&pg, 2, "a,b", err), PAGER_MORE);
	CHECK_INT(feed(&pg, 2, "a,b", err), PAGER_DONE);
	pager_free(&pg);

	/* An empty directory. */
	pager_init(&pg, 100);
	CHECK_INT(feed(&pg, 0, "", err), PAGER_DONE);
	pager_free(&pg);
}

static void pager_fails(const char *const *pages, int64_t total,
                        uint32_t max_pages, const char *want)
{
	struct pager pg;
	char err[256] = "";
	int r = PAGER_MORE;

	pager_init(&pg, max_pages);
	for (size_t i = 0; pages[i] && r == PAGER_MORE; i++)
		r = feed(&pg, total, pages[i], err);
	CHECK_INT(r, -EPROTO);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "pager error '%s' lacks '%s'\n", err, want);
		test_failures++;
	}
	pager_free(&pg);
}

static void test_pager_failures(void)
{
	/* The server ignores startIndex: page two is page one. */
	pager_fails((const char *[]){"a,b", "a,b", NULL}, 4, 100,
	            "repeated resources");
	/* totalResults too large: the listing ends short. */
	pager_fails((const char *[]){"a,b", "c", "", NULL}, 5, 100,
	            "ended after 3 of 5");
	/* totalResults too small, caught on the confirming request. */
	pager_fails((const char *[]){"a,b", "c,d", NULL}, 2, 100,
	            "listed 4 distinct resources but totalResults is 2");
	pager_fails((const char *[]){"a,b,c", NULL}, 2, 100,
	            "listed 3 distinct");
	/* Too many pages. */
	pager_fails((const char *[]){"a", "b", "c", "d", NULL}, 10, 3,
	            "more than 3 pages");
	/* Empty first page with resources announced. */
	pager_fails((const char *[]){"", NULL}, 3, 100, "ended after 0 of 3");
	{
		struct pager pg;
		char err[256] = "";

		pager_init(&pg, 100);
		CHECK_INT(feed(&pg, 4, "a,b", err), PAGER_MORE);
		CHECK_INT(feed(&pg, 5, "c,d", err), -EPROTO);
		CHECK(strstr(err, "changed from 4 to 5") != NULL);
		pager_free(&pg);
	}
}

int main(void)
{
	test_user_page();
	test_case_and_noise();
	test_groups();
	test_hostile_values();
	test_bad_lists();
	test_error_and_health();
	test_pager_normal();
	test_pager_failures();
	return test_result();
}
