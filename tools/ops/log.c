/* SPDX-License-Identifier: MIT */
/* log.c: scim-cache's messages (log.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct log_settings logs;

/* Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to
 * its device:inode): then each line starts with its sd-daemon priority,
 * "<3>" and so on, which journald strips and files the line under. */
bool log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	if (js == NULL || !isdigit((unsigned char)*js))
		return false;
	dev = strtoull(js, &end, 10);
	if (*end != ':' || !isdigit((unsigned char)end[1]))
		return false;
	ino = strtoull(end + 1, &end, 10);
	return *end == '\0' && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (logs.quiet && prio > LOG_ERR)
		return;
	if (logs.syslog) {
		va_start(ap, fmt);
		vsyslog(prio, fmt, ap);
		va_end(ap);
	}
	if (!logs.syslog || logs.tty) {
		va_start(ap, fmt);
		if (logs.journal)
			fprintf(stderr, "<%d>", prio);
		fputs("scim-cache: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

void log_progress(enum scim_kind kind, unsigned pages, size_t got,
                  long long total, void *ud)
{
	fprintf(stderr, "\rscim-cache: %s: page %u, %zu of %lld   ",
	        kind == SCIM_USERS ? "people" : "groups", pages, got, total);
	fflush(stderr);
}

void log_progress_end(bool shown)
{
	if (shown)
		fprintf(stderr, "\r%60s\r", "");
}
