/* SPDX-License-Identifier: MIT */
/*
 * test.h: the assertions of the C unit tests.  A failed check prints the
 * file, line, expression, and expected and actual values, and fails the
 * test at the end (checks go on so that one run shows every failure).
 * Exit 77 tells automake the test was skipped.
 */
#ifndef NSS_SCIM_TEST_H
#define NSS_SCIM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define TEST_SKIP 77

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
			        __LINE__, #expr);                              \
			test_failures++;                                       \
		}                                                              \
	} while (0)

#define CHECK_INT(actual, expected)                                            \
	do {                                                                   \
		intmax_t a_ = (intmax_t)(actual), e_ = (intmax_t)(expected);   \
		if (a_ != e_) {                                                \
			fprintf(stderr, "%s:%d: %s: expected %jd, got %jd\n",  \
			        __FILE__, __LINE__, #actual, e_, a_);          \
			test_failures++;                                       \
		}                                                              \
	} while (0)

#define CHECK_STR(actual, expected)                                            \
	do {                                                                   \
		const char *a_ = (actual), *e_ = (expected);                   \
		if (a_ == NULL || e_ == NULL || strcmp(a_, e_) != 0) {         \
			fprintf(stderr,                                        \
			        "%s:%d: %s: expected \"%s\", got \"%s\"\n",    \
			        __FILE__, __LINE__, #actual,                   \
			        e_ ? e_ : "(null)", a_ ? a_ : "(null)");       \
			test_failures++;                                       \
		}                                                              \
	} while (0)

/* Stops the test at once: for a check that later ones depend on. */
#define REQUIRE(expr)                                                          \
	do {                                                                   \
		if (!(expr)) {                                                 \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n",         \
			        __FILE__, __LINE__, #expr);                    \
			exit(1);                                               \
		}                                                              \
	} while (0)

static inline int test_result(void)
{
	if (test_failures)
		fprintf(stderr, "%d check(s) failed\n", test_failures);
	return test_failures ? 1 : 0;
}

#endif
