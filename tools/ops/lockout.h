/* SPDX-License-Identifier: MIT */
/*
 * lockout.h: scim-cache lock and unlock: a person locked out on this host
 * alone, kept in the state directory's lockouts file across refreshes.
 */
#ifndef SCIM_LOCKOUT_H
#define SCIM_LOCKOUT_H

#include <stdbool.h>

#include "run.h"

/* Locks NAME out (LOCK) or lifts the lockout, and republishes the live
 * snapshot with the person inactive or active again; a fleet host lifts
 * it at the next refresh instead.  R has its state (run_open_state).
 * Returns EXIT_OK or EXIT_FAIL, having said why. */
int lockout_set(struct run *r, const char *name, bool lock);

#endif
