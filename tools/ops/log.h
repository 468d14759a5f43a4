/* SPDX-License-Identifier: MIT */
/*
 * log.h: scim-cache's messages.
 *
 * Messages go to stderr, which the journal captures for the systemd unit
 * and cron mails; with --syslog they go to syslog (facility daemon)
 * instead, and to stderr as well when it is a terminal.  Progress is shown
 * only when stderr is a terminal.  Every line starts "scim-cache: ".
 */
#ifndef SCIM_LOG_H
#define SCIM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "scim.h"

/* Set once by the front end, before the first message. */
struct log_settings {
	bool syslog, quiet, tty, journal;
};
extern struct log_settings logs;

/* Whether stderr is the journal's stream: then each line starts with its
 * sd-daemon priority. */
bool log_stderr_is_journal(void);

/* One line at priority PRIO (LOG_ERR and so on); --quiet keeps only
 * LOG_ERR and worse. */
void logmsg(int prio, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* client_read_directory's progress callback, and the line that clears it
 * when SHOWN. */
void log_progress(enum scim_kind kind, unsigned pages, size_t got,
                  long long total, void *ud);
void log_progress_end(bool shown);

#endif
