/* SPDX-License-Identifier: MIT */
/*
 * testpoint.c: the test build's stops (see testpoint.h).  Compiled to
 * nothing unless the build was configured with --enable-testpoints.
 */
#include "testpoint.h"

#ifdef SCIM_TESTPOINTS
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void testpoint(const char *name)
{
	const char *log = secure_getenv("SCIM_TESTPOINT_LOG");
	const char *stop = secure_getenv("SCIM_TESTPOINT");
	int saved = errno; /* a point must not change what the code sees */

	if (log != NULL && log[0] != '\0') {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		              0600);

		if (fd >= 0) {
			/* One write per line, so lines never interleave. */
			char line[128];
			size_t n = strlen(name);

			if (n > sizeof(line) - 2)
				n = sizeof(line) - 2;
			memcpy(line, name, n);
			line[n] = '\n';
			if (write(fd, line, n + 1) < 0) {
				/* The test finds the line missing. */
			}
			close(fd);
		}
	}
	if (stop != NULL && strcmp(stop, name) == 0)
		raise(SIGSTOP);
	errno = saved;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int testpoint_unused;
#endif
