/* SPDX-License-Identifier: MIT */
/*
 * nss-truncate-loop: one process looking users up through glibc's own
 * getpwnam_r() in a loop, for tests/integration/nss-truncate.sh.
 *
 *   nss-truncate-loop PREFIX COUNT STOPFILE
 *       looks up PREFIX00000 .. PREFIX<COUNT-1> in turn until STOPFILE
 *       exists; prints "started" once every name was found once, then at
 *       the end "found N failed M last found|failed".
 *
 * Exit status 0, or 1 when an answer is for another name than the one
 * asked for.  A SIGBUS ends it by the signal, which the test reports.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int lookup(const char *name, int *wrong)
{
	char buf[1024];
	struct passwd pw, *res = NULL;
	int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

	if (rc != 0 || res == NULL)
		return 0;
	if (strcmp(res->pw_name, name) != 0)
		*wrong = 1;
	return 1;
}

int main(int argc, char **argv)
{
	long count, found = 0, failed = 0, round = 0;
	int wrong = 0, last = 0;
	char name[64];

	if (argc != 4 || (count = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: nss-truncate-loop PREFIX COUNT STOP\n");
		return 2;
	}
	for (;; round++) {
		long ok = 0;

		for (long i = 0; i < count; i++) {
			snprintf(name, sizeof(name), "%s%05ld", argv[1], i);
			last = lookup(name, &wrong);
			ok += last;
		}
		found += ok;
		failed += count - ok;
		if (round == 0 && ok == count) {
			printf("started\n");
			fflush(stdout);
		}
		if (access(argv[3], F_OK) == 0)
			break;
	}
	printf("found %ld failed %ld last %s\n", found, failed,
	       last ? "found" : "failed");
	return wrong;
}
