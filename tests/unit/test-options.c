/* SPDX-License-Identifier: MIT */
/*
 * pam-options: the arguments of pam_scim.so, through pamscim_parse_args().
 */
#include <errno.h>
#include <string.h>

#include "pamscim.h"
#include "test.h"

struct warnings {
	int n;
	char last_arg[128];
	char last_why[128];
};

static void record(void *ctx, const char *arg, const char *why)
{
	struct warnings *w = ctx;

	w->n++;
	snprintf(w->last_arg, sizeof(w->last_arg), "%s", arg);
	snprintf(w->last_why, sizeof(w->last_why), "%s", why);
}

#define PARSE(o, w, ...)                                                       \
	pamscim_parse_args((o),                                                \
	                   (int)(sizeof((const char *[]){__VA_ARGS__}) /       \
	                         sizeof(const char *)),                        \
	                   (const char *[]){__VA_ARGS__}, record, (w))

static void test_defaults(void)
{
	struct pamscim_opts o;
	struct warnings w = {0};

	memset(&o, 0xff, sizeof(o));
	CHECK_INT(pamscim_parse_args(&o, 0, NULL, record, &w), 0);
	CHECK_INT(o.ngroups, 0);
	CHECK_INT(o.max_age, 0);
	CHECK(!o.ignore_unknown_user);
	CHECK(!o.ignore_authinfo_unavail);
	CHECK(!o.ignore_unusable_snapshot);
	CHECK(!o.debug);
	CHECK(!o.quiet);
	CHECK_INT(w.n, 0);
}

static void test_flags(void)
{
	struct pamscim_opts o;
	struct warnings w = {0};

	CHECK_INT(PARSE(&o, &w, "debug", "quiet", "ignore_unknown_user",
	                "ignore_authinfo_unavail", "ignore_unusable_snapshot"),
	          0);
	CHECK(o.debug);
	CHECK(o.quiet);
	CHECK(o.ignore_unknown_user);
	CHECK(o.ignore_authinfo_unavail);
	CHECK(o.ignore_unusable_snapshot);
	CHECK_INT(w.n, 0);
}

static void test_unknown_ignored(void)
{
	struct pamscim_opts o;
	struct warnings w = {0};

	CHECK_INT(PARSE(&o, &w, "frobnicate", "debug", "debug=1", "Debug",
	                "max_age", "allow_groups"),
	          0);
	CHECK(o.debug);
	CHECK_INT(w.n, 5);
	CHECK_STR(w.last_arg, "allow_groups");
	CHECK_STR(w.last_why, "unknown option, ignored");
}

static void test_allow_groups(void)
{
	struct pamscim_opts o;
	struct warnings w = {0};

	CHECK_INT(PARSE(&o, &w, "allow_groups=engineering,ops,a.b-c_d"), 0);
	CHECK_INT(o.ngroups, 3);
	CHECK_STR(o.groups[0], "engineering");
	CHECK_STR(o.groups[1], "ops");
	CHECK_STR(o.groups[2], "a.b-c_d");

	/* A later one replaces an earlier one. */
	CHECK_INT(PARSE(&o, &w, "allow_groups=a,b", "allow_groups=c"), 0);
	CHECK_INT(o.ngroups, 1);
	CHECK_STR(o.groups[0], "c");
	CHECK_INT(w.n, 0);

	/* 32 names of 32 bytes fit. */
	char list[PAMSCIM_GROUPS_MAX * (SNAP_NAME_MAX + 1) + 32];
	size_t len = (size_t)snprintf(list, sizeof(list), "allow_groups=");
	for (int i = 0; i < PAMSCIM_GROUPS_MAX; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		                        "%sg%030d", i ? "," : "", i);
	CHECK_INT(PARSE(&o, &w, list), 0);
	CHECK_INT(o.ngroups, PAMSCIM_GROUPS_MAX);
	CHECK_STR(o.groups[31], "g000000000000000000000000000031");
	strcat(list, ",one-too-many");
	CHECK_INT(PARSE(&o, &w, list), -EINVAL);
}

static void test_allow_groups_refused(void)
{
	static const char *const bad[] = {
	        "allow_groups=",
	        "allow_groups=,",
	        "allow_groups=a,,b",
	        "allow_groups=a,",
	        "allow_groups=,a",
	        "allow_groups=a b",
	        "allow_groups=-a",
	        "allow_groups=123",
	        "allow_groups=a:b",
	        "allow_groups=a/b",
	        "allow_groups=a\nb",
	        "allow_groups=..",
	        "allow_groups=abcdefghijklmnopqrstuvwxyz0123456",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pamscim_opts o;
		struct warnings w = {0};

		CHECK_INT(PARSE(&o, &w, "debug", bad[i], "quiet"), -EINVAL);
		CHECK_INT(w.n, 1);
		CHECK_STR(w.last_arg, bad[i]);
		CHECK(strstr(w.last_why, "allow_groups") != NULL);
	}
}

static void test_max_age(void)
{
	static const char *const bad[] = {
	        "max_age=",     "max_age=-1",
	        "max_age=+5",   "max_age= 5",
	        "max_age=5 ",   "max_age=1h",
	        "max_age=0x10", "max_age=2147483648",
	        "max_age=1e3",  "max_age=99999999999999999999999",
	};
	struct pamscim_opts o;
	struct warnings w = {0};

	CHECK_INT(PARSE(&o, &w, "max_age=604800"), 0);
	CHECK_INT(o.max_age, 604800);
	CHECK_INT(PARSE(&o, &w, "max_age=0"), 0);
	CHECK_INT(o.max_age, 0);
	CHECK_INT(PARSE(&o, &w, "max_age=2147483647"), 0);
	CHECK_INT(o.max_age, 2147483647);
	CHECK_INT(PARSE(&o, &w, "max_age=007"), 0);
	CHECK_INT(o.max_age, 7);
	CHECK_INT(PARSE(&o, &w, "max_age=10", "max_age=20"), 0);
	CHECK_INT(o.max_age, 20);
	CHECK_INT(w.n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w.n = 0;
		CHECK_INT(PARSE(&o, &w, bad[i]), -EINVAL);
		CHECK_INT(w.n, 1);
		CHECK(strstr(w.last_why, "max_age") != NULL);
	}
}

static void test_null_and_no_callback(void)
{
	struct pamscim_opts o;
	const char *argv[] = {NULL, "debug", "bogus", "max_age=x"};

	CHECK_INT(pamscim_parse_args(&o, 2, argv, NULL, NULL), 0);
	CHECK(o.debug);
	CHECK_INT(pamscim_parse_args(&o, 4, argv, NULL, NULL), -EINVAL);
}

static void test_printable(void)
{
	char buf[8];

	CHECK_STR(pamscim_printable(buf, sizeof(buf), "alice"), "alice");
	CHECK_STR(pamscim_printable(buf, sizeof(buf), "a\nb\x1b\xff"), "a?b??");
	CHECK_STR(pamscim_printable(buf, sizeof(buf), "1234567"), "1234567");
	CHECK_STR(pamscim_printable(buf, sizeof(buf), "12345678"), "1234...");
	CHECK_STR(pamscim_printable(buf, sizeof(buf), NULL), "(null)");
}

int main(void)
{
	test_defaults();
	test_flags();
	test_unknown_ignored();
	test_allow_groups();
	test_allow_groups_refused();
	test_max_age();
	test_null_and_no_callback();
	test_printable();
	return test_result();
}
