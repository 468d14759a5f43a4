/* SPDX-License-Identifier: MIT */
/*
 * refresh.h: one refresh, from reading the directory to the published
 * snapshot.
 *
 * A host that lists the bridge fetches the directory (client.h), maps it
 * (map.h) and, as a source host, also signs it into the fleet's bundle; a
 * fleet host downloads and checks the bundle instead (fleet.h) and applies
 * its own local files and lockouts over it.  Either way the result goes
 * through the same guards (mass removal, empty directory), is compared
 * with the live snapshot ("unchanged" unless it is due for
 * re-confirmation), and is published atomically under the next generation;
 * nscd is then told, and the outcome is recorded in the status file and
 * the metrics.
 */
#ifndef SCIM_REFRESH_H
#define SCIM_REFRESH_H

#include <stdbool.h>

#include "run.h"

/* R has its config and state (run_open_state).  DRY_RUN prints what would
 * change and publishes nothing; FORCE overrides the guards.  Returns
 * EXIT_OK (also when nothing changed), EXIT_FAIL or EXIT_REFUSED; the
 * old snapshot is kept byte for byte unless EXIT_OK. */
int refresh_run(struct run *r, bool dry_run, bool force);

#endif
