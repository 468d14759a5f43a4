/* SPDX-License-Identifier: MIT */
/*
 * testpoint.h: named points where a test can stop the refresh and kill it.
 *
 * TESTPOINT("name") marks a moment that a crash must survive (a temporary
 * file just created, half a snapshot written, a rename done but not yet
 * made durable).  Only a build configured with --enable-testpoints
 * (SCIM_TESTPOINTS) has them; there the process stops itself with SIGSTOP
 * at the point named by SCIM_TESTPOINT, so that tests/integration/fault-kill.sh
 * can kill -9 it exactly there, and appends every point it passes to the file
 * named by SCIM_TESTPOINT_LOG, so that the test knows each was reached.
 * In any other build the macro is empty: no environment variable can
 * stop a production refresh.
 */
#ifndef NSS_SCIM_TESTPOINT_H
#define NSS_SCIM_TESTPOINT_H

#ifdef SCIM_TESTPOINTS
void testpoint(const char *name);
#define TESTPOINT(name) testpoint(name)
#else
#define TESTPOINT(name) ((void)0)
#endif

#endif
