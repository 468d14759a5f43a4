/* SPDX-License-Identifier: MIT */
/*
 * test-scim.c: SCIM response parsing and the paging rules, on bytes and
 * synthetic pages (no HTTP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
 * ignored; numbers as strings; "active" as a string is not a boolean. */
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
	CHECK_INT(p.res[0].active_attr, SCIM_ACTIVE_OTHER);
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
	/* Not a boolean: not a "yes" of a suspension flag. */
	CHECK(!p.res[2].active);
	CHECK_INT(p.res[2].active_attr, SCIM_ACTIVE_OTHER);
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

/* A body that json-c would blow up (3 bytes of "{}," cost it 780) is
 * refused before json-c sees it, whole or element by element, and the
 * refusal itself costs next to nothing: the process stays far below what
 * json-c would have taken. */
static void test_jsonc_bound(void)
{
	const char *head = "{\"totalResults\":1,\"Resources\":[{\"id\":\"A\","
	                   "\"ID\":\"B\",\"x\":[";
	size_t n = 400000, hl = strlen(head), o = hl;
	char *body = malloc(hl + 3 * n + 8), err[256] = "";
	struct scim_page p;
	struct rusage ru;

	REQUIRE(body != NULL);
	memcpy(body, head, hl);
	for (size_t i = 0; i < n; i++) {
		memcpy(body + o, "{},", 3);
		o += 3;
	}
	memcpy(body + o - 1, "]}]}", 5);
	CHECK_INT(scim_parse_list(body, strlen(body), SCIM_USERS, &p, err,
	                          sizeof(err)),
	          -EBADMSG);
	CHECK(strstr(err, "response too complex") != NULL);
	free(body);
	REQUIRE(getrusage(RUSAGE_SELF, &ru) == 0);
	/* json-c would have held over 300 MB. */
	CHECK(ru.ru_maxrss < 150 * 1024);
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

/* ---- the fast reader and json-c ---------------------------------------- */

/* Each case below must read the same along every path of scim_parse_list:
 * the fast reader (or json-c where it declines), json-c element by
 * element, and json-c on the whole body. */
static const unsigned paths[] = {0, SCIM_PARSE_NO_FAST, SCIM_PARSE_NO_SPLIT};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static int list_along(unsigned path, const char *json, size_t len,
                      enum scim_kind kind, struct scim_page *p, char *err)
{
	int rc;

	*p = (struct scim_page){0};
	scim_parse_test_flags = path;
	rc = scim_parse_list(json, len, kind, p, err, 256);
	scim_parse_test_flags = 0;
	return rc;
}

/* The resource RES alone in a page, read along PATH (into P). */
static const struct scim_res *one(unsigned path, const char *res,
                                  enum scim_kind kind, struct scim_page *p)
{
	char json[8192], err[256] = "";
	int n = snprintf(json, sizeof(json),
	                 "{\"totalResults\":1,\"Resources\":[%s]}", res);

	REQUIRE(n > 0 && (size_t)n < sizeof(json));
	if (list_along(path, json, (size_t)n, kind, p, err) != 0)
		fprintf(stderr, "path %d: %s: %s\n", (int)path, res, err);
	REQUIRE(p->nres == 1);
	return &p->res[0];
}

static void check_opt_str(const char *what, const char *got, const char *want)
{
	if (want == NULL ? got == NULL : got != NULL && !strcmp(got, want))
		return;
	fprintf(stderr, "%s: expected %s, got %s\n", what,
	        want ? want : "(null)", got ? got : "(null)");
	test_failures++;
}

struct user_case {
	const char *json;
	const char *id, *name, *formatted, *email;
	bool active;
};

static void check_users(const struct user_case *c, size_t n)
{
	for (size_t k = 0; k < NPATHS; k++)
		for (size_t i = 0; i < n; i++) {
			struct scim_page p;
			const struct scim_res *r =
			        one(paths[k], c[i].json, SCIM_USERS, &p);

			check_opt_str(c[i].json, r->id, c[i].id);
			check_opt_str(c[i].json, r->name, c[i].name);
			check_opt_str(c[i].json, r->formatted, c[i].formatted);
			check_opt_str(c[i].json, r->email, c[i].email);
			if (r->active != c[i].active) {
				fprintf(stderr, "%s: active\n", c[i].json);
				test_failures++;
			}
			scim_page_clear(&p);
		}
}

/* Only JSON true is active; an absent "active" is the RFC's default and
 * the mapping judges it; anything else is inactive, and says so. */
static void test_active(void)
{
	static const struct {
		const char *v; /* NULL: no "active" at all */
		bool active;
		int attr;
	} c[] = {
	        {"true", true, SCIM_ACTIVE_BOOL},
	        {"false", false, SCIM_ACTIVE_BOOL},
	        {NULL, true, SCIM_ACTIVE_ABSENT},
	        {"null", false, SCIM_ACTIVE_OTHER},
	        {"0", false, SCIM_ACTIVE_OTHER},
	        {"1", false, SCIM_ACTIVE_OTHER},
	        {"\"no\"", false, SCIM_ACTIVE_OTHER},
	        {"\"false\"", false, SCIM_ACTIVE_OTHER},
	        {"\"true\"", false, SCIM_ACTIVE_OTHER},
	        {"{}", false, SCIM_ACTIVE_OTHER},
	        {"[true]", false, SCIM_ACTIVE_OTHER},
	};
	char json[256];

	for (size_t k = 0; k < NPATHS; k++)
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			struct scim_page p;
			const struct scim_res *r;

			if (c[i].v)
				snprintf(json, sizeof(json),
				         "{\"id\":\"A\",\"active\":%s}",
				         c[i].v);
			else
				snprintf(json, sizeof(json), "{\"id\":\"A\"}");
			r = one(paths[k], json, SCIM_USERS, &p);
			if (r->active != c[i].active ||
			    r->active_attr != c[i].attr) {
				fprintf(stderr,
				        "%s: active %d/%d, want %d/%d\n", json,
				        r->active, r->active_attr, c[i].active,
				        c[i].attr);
				test_failures++;
			}
			scim_page_clear(&p);
		}
}

/* attr() takes the first key that matches in any case, and json-c keeps a
 * repeated key where it first was but with its last value: the fast
 * reader leaves both to json-c. */
static void test_same_keys(void)
{
	static const struct user_case c[] = {
	        {"{\"id\":\"A\",\"userName\":\"a\",\"USERNAME\":\"b\"}", "A",
	         "a", NULL, NULL, true},
	        {"{\"id\":\"A\",\"userName\":\"a\",\"userName\":\"b\"}", "A",
	         "b", NULL, NULL, true},
	        {"{\"id\":\"A\",\"UserName\":\"x\",\"userName\":\"a\","
	         "\"userName\":\"b\"}",
	         "A", "x", NULL, NULL, true},
	        {"{\"ID\":\"A\",\"id\":\"B\",\"active\":false,"
	         "\"ACTIVE\":true}",
	         "A", NULL, NULL, NULL, false},
	        {"{\"id\":\"A\",\"name\":{\"formatted\":\"a\","
	         "\"FORMATTED\":\"b\"},\"Name\":{\"formatted\":\"c\"}}",
	         "A", NULL, "a", NULL, true},
	        {"{\"id\":\"A\",\"emails\":[{\"value\":\"a\",\"primary\":"
	         "false,\"Primary\":true},{\"value\":\"b\",\"VALUE\":\"c\"}]}",
	         "A", NULL, NULL, "a", true},
	        /* Repeats of what is not read do not matter. */
	        {"{\"id\":\"A\",\"x\":1,\"X\":2,\"meta\":{\"a\":1,\"a\":2}}",
	         "A", NULL, NULL, NULL, true},
	};

	check_users(c, sizeof(c) / sizeof(c[0]));
}

/* json-c decodes escapes; the fast reader only steps over them in what it
 * does not read.  A NUL makes a string absent, but "true"/"false" are
 * compared as C strings, up to the NUL. */
static void test_escapes(void)
{
	static const struct user_case c[] = {
	        {"{\"\\u0069d\":\"A\",\"userName\":\"ann\\u0040x\","
	         "\"name\":{\"formatted\":\"\\u00e9\\t\"}}",
	         "A", "ann@x", "\xc3\xa9\t", NULL, true},
	        {"{\"id\":\"B\",\"userName\":\"a\\u0000b\","
	         "\"active\":\"false\\u0000x\"}",
	         "B", NULL, NULL, NULL, false},
	        {"{\"id\":\"C\",\"x\":\"\\ud83d\\ude00\\n\\\"\\\\\\/\","
	         "\"meta\":{\"k\\\"\":\"\\uABCD\",\"\\u0000\":1}}",
	         "C", NULL, NULL, NULL, true},
	        {"{\"id\":\"D\",\"x\":\"\\ud800\",\"userName\":\"d\"}", "D",
	         "d", NULL, NULL, true},
	        /* Raw bytes of any value, but no control byte. */
	        {"{\"id\":\"E\xff\",\"userName\":\"Ma\xc5\x82gorzata\x7f\"}",
	         "E\xff", "Ma\xc5\x82gorzata\x7f", NULL, NULL, true},
	        {"{\"id\":\"F\",\"userName\":\"a\tb\"}", "F", "a\tb", NULL,
	         NULL, true},
	};

	check_users(c, sizeof(c) / sizeof(c[0]));
}

/* Numbers and literals beyond plain JSON go to json-c, which takes them. */
static void test_numbers_and_literals(void)
{
	static const struct user_case c[] = {
	        {"{\"id\":\"A\",\"x\":[0,-0,123456789012345,-1]}", "A", NULL,
	         NULL, NULL, true},
	        {"{\"id\":\"B\",\"x\":[1234567890123456,1.5,1e5,01,-01]}", "B",
	         NULL, NULL, NULL, true},
	        {"{\"id\":\"C\",\"active\":False}", "C", NULL, NULL, NULL,
	         false},
	        {"{\"id\":\"D\",\"active\":TRUE,\"x\":NULL}", "D", NULL, NULL,
	         NULL, true},
	        {"{\"id\":\"E\",\"active\":\"FALSE\",\"x\":[null,true]}", "E",
	         NULL, NULL, NULL, false},
	        {"{\"id\":\"F\",\"active\":\"no\"}", "F", NULL, NULL, NULL,
	         false},
	        {"{\"id\":\"G\",\"active\":0}", "G", NULL, NULL, NULL, false},
	};

	check_users(c, sizeof(c) / sizeof(c[0]));
}

/* The primary email, else the first one's, even when that has none. */
static void test_emails(void)
{
	static const struct user_case c[] = {
	        {"{\"id\":\"A\",\"emails\":[{\"value\":\"a\"},{\"value\":"
	         "\"b\",\"primary\":\"TRUE\"},{\"value\":\"c\",\"primary\":"
	         "true}]}",
	         "A", NULL, NULL, "b", true},
	        {"{\"id\":\"B\",\"emails\":[7,{\"value\":\"b\"}]}", "B", NULL,
	         NULL, NULL, true},
	        {"{\"id\":\"C\",\"emails\":[{\"primary\":true},{\"value\":"
	         "\"b\",\"primary\":true}]}",
	         "C", NULL, NULL, NULL, true},
	        {"{\"id\":\"D\",\"emails\":[{\"value\":\"a\",\"primary\":1},"
	         "{\"value\":\"b\",\"primary\":\"false\"}]}",
	         "D", NULL, NULL, "a", true},
	        {"{\"id\":\"E\",\"emails\":{\"value\":\"a\"}}", "E", NULL, NULL,
	         NULL, true},
	};

	check_users(c, sizeof(c) / sizeof(c[0]));
}

static void test_group_members(void)
{
	const char *g =
	        "{\"id\":\"g\",\"displayName\":\"G\",\"members\":["
	        "{\"value\":\"A\",\"VALUE\":\"x\"},7,null,[],"
	        "{\"value\":\"g2\",\"type\":\"group\"},"
	        "{\"type\":\"User\",\"Type\":\"Group\",\"value\":\"B\"},"
	        "{\"value\":\"C\",\"type\":\"Groups\"},"
	        "{\"value\":\"D\\u0000\"},{\"value\":\"\\u0045\"},"
	        "{\"value\":\"F\",\"type\":5}]}";

	for (size_t k = 0; k < NPATHS; k++) {
		struct scim_page p;
		const struct scim_res *r = one(paths[k], g, SCIM_GROUPS, &p);

		CHECK_STR(r->name, "G");
		CHECK(r->has_members && !r->active);
		REQUIRE(r->nmembers == 5);
		CHECK_STR(r->members[0], "A");
		CHECK_STR(r->members[1], "B");
		CHECK_STR(r->members[2], "C");
		CHECK_STR(r->members[3], "E");
		CHECK_STR(r->members[4], "F");
		scim_page_clear(&p);
	}
}

/* A page of one user whose "x" nests arrays and objects in turn, so that
 * the user nests DEPTH containers. */
static int nested_page(char *json, size_t size, int depth)
{
	size_t n = (size_t)snprintf(json, size,
	                            "{\"totalResults\":1,"
	                            "\"Resources\":[{\"id\":\"A\","
	                            "\"x\":");

	for (int i = 1; i < depth; i++)
		n += (size_t)snprintf(json + n, size - n,
		                      i % 2 ? "[" : "{\"a\":");
	n += (size_t)snprintf(json + n, size - n, "1");
	for (int i = depth - 1; i >= 1; i--)
		n += (size_t)snprintf(json + n, size - n, i % 2 ? "]" : "}");
	n += (size_t)snprintf(json + n, size - n, "}]}");
	REQUIRE(n < size);
	return (int)n;
}

/* An element may nest as deep as json-c allows for it alone (a value in
 * at most 60 containers, the element's own among them); one level deeper,
 * the whole body decides. */
static void test_depth(void)
{
	static const unsigned alone[] = {SCIM_PARSE_NO_FALLBACK,
	                                 SCIM_PARSE_NO_FALLBACK |
	                                         SCIM_PARSE_NO_FAST};

	for (int depth = 60; depth <= 62; depth++) {
		char json[1024], err[256] = "";
		int len = nested_page(json, sizeof(json), depth);
		struct scim_page p;

		for (size_t k = 0; k < NPATHS; k++) {
			int rc = list_along(paths[k], json, (size_t)len,
			                    SCIM_USERS, &p, err);

			if (depth <= 61) {
				CHECK_INT(rc, 0);
				CHECK(p.nres == 1);
			} else {
				CHECK_INT(rc, -EBADMSG);
				CHECK(strstr(err, "nesting") != NULL);
			}
			scim_page_clear(&p);
		}
		for (size_t k = 0; k < 2; k++) {
			int rc = list_along(alone[k], json, (size_t)len,
			                    SCIM_USERS, &p, err);

			CHECK_INT(rc, depth <= 60 ? 0 : -EAGAIN);
			scim_page_clear(&p);
		}
	}
}

/* The cap on members holds whichever path reads the group. */
static void test_members_max(void)
{
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t n = SCIM_GROUP_MEMBERS_MAX + extra, len = 0;
		char *json = malloc(2 * n + 64), err[256] = "";

		REQUIRE(json != NULL);
		len = (size_t)sprintf(json, "{\"totalResults\":1,\"Resources\":"
		                            "[{\"id\":\"g\",\"members\":[");
		for (size_t i = 0; i < n; i++) {
			json[len++] = '0';
			json[len++] = ',';
		}
		len--;
		len += (size_t)sprintf(json + len, "]}]}");
		for (size_t k = 0; k < NPATHS; k++) {
			struct scim_page p;
			int rc = list_along(paths[k], json, len, SCIM_GROUPS,
			                    &p, err);

			if (extra == 0) {
				CHECK_INT(rc, 0);
				REQUIRE(p.nres == 1);
				CHECK(p.res[0].has_members);
				CHECK_INT(p.res[0].nmembers, 0);
			} else {
				CHECK_INT(rc, -EBADMSG);
				CHECK(strstr(err,
				             "group with 1000001 members") !=
				      NULL);
			}
			scim_page_clear(&p);
		}
		free(json);
	}
}

/* An element the fast reader declines is read by json-c in its place. */
static void test_mixed_page(void)
{
	const char *json = "{\"totalResults\":3,\"Resources\":["
	                   "{\"id\":\"A\",\"userName\":\"a\"},"
	                   "{\"id\":\"B\",\"userName\":\"\\u0062\"},"
	                   "{\"id\":\"C\",\"userName\":\"c\"}],"
	                   "\"startIndex\":7}";
	struct scim_page p;
	char err[256];

	CHECK_INT(list(json, SCIM_USERS, &p, err), 0);
	CHECK_INT(p.total, 3);
	CHECK_INT(p.start_index, 7);
	REQUIRE(p.nres == 3);
	CHECK_STR(p.res[0].name, "a");
	CHECK_STR(p.res[1].name, "b");
	CHECK_STR(p.res[2].name, "c");
	scim_page_clear(&p);
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
	test_active();
	test_jsonc_bound();
	test_hostile_values();
	test_bad_lists();
	test_error_and_health();
	test_same_keys();
	test_escapes();
	test_numbers_and_literals();
	test_emails();
	test_group_members();
	test_depth();
	test_members_max();
	test_mixed_page();
	test_pager_normal();
	test_pager_failures();
	return test_result();
}
