/* SPDX-License-Identifier: MIT */
/*
 * check.h: scim-cache check: that the bridge answers and takes the token,
 * or, on a fleet host, that the bundle downloads, verifies and is valid.
 * Changes nothing.
 */
#ifndef SCIM_CHECK_H
#define SCIM_CHECK_H

#include "run.h"

/* Prints what it found to stdout.  Returns EXIT_OK or EXIT_FAIL, having
 * said why. */
int check_run(struct run *r);

#endif
