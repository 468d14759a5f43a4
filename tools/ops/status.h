/* SPDX-License-Identifier: MIT */
/*
 * status.h: scim-cache status: the snapshot, the mode and bundle, the
 * last refreshes and the lockouts, as text or as JSON (schema in
 * scim-cache(8)).  Read-only: it takes no lock and creates nothing.
 */
#ifndef SCIM_STATUS_H
#define SCIM_STATUS_H

#include <stdbool.h>

#include "run.h"

/* Prints the status to stdout, as JSON when JSON.  Returns EXIT_OK, or
 * EXIT_FAIL when no usable snapshot is published (or out of memory). */
int status_show(struct run *r, bool json);

#endif
