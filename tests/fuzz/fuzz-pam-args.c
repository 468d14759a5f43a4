/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pam-args: a libFuzzer target for pam_scim's argument parser and log
 * sanitiser.  The input is split at NUL bytes into an argv, as libpam would
 * hand over the words of a stack line.  Until tests/fuzz/fuzz.mk builds it:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -include config.h -Icache -Ipam tests/fuzz-pam-args.c \
 *     pam/options.c pam/decide.c cache/validate.c cache/reader.c \
 *     cache/record.c cache/pack.c -llmdb -o fuzz-pam-args
 *
 * Invariants: parsing never reads past the input, every accepted group name
 * is valid, max_age stays in range, and a refused option leaves the call
 * failing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pamscim.h"

#define ARGS_MAX 64

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void warn_count(void *ctx, const char *arg, const char *why)
{
	check(arg != NULL && why != NULL);
	(*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *argv[ARGS_MAX];
	struct pamscim_opts o;
	char *copy = malloc(size + 1);
	char log[64];
	int argc = 0, warnings = 0, rc;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && argc < ARGS_MAX;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	rc = pamscim_parse_args(&o, argc, argv, warn_count, &warnings);
	check(rc == 0 || rc == -EINVAL);
	check(rc == 0 || warnings > 0);
	if (rc == 0) {
		check(o.ngroups <= PAMSCIM_GROUPS_MAX);
		for (size_t g = 0; g < o.ngroups; g++)
			check(snap_name_valid(o.groups[g],
			                      strlen(o.groups[g])));
		check(o.max_age >= 0 && o.max_age <= PAMSCIM_MAX_AGE_LIMIT);
	}
	for (int a = 0; a < argc; a++) {
		pamscim_printable(log, sizeof(log), argv[a]);
		check(strlen(log) < sizeof(log));
		for (const char *p = log; *p; p++)
			check(*p >= 0x20 && *p < 0x7f);
	}
	free(copy);
	return 0;
}
