/* SPDX-License-Identifier: MIT */
/*
 * pam-default-path: prints the snapshot path compiled into the modules, for
 * the tests that run setuid programs and daemons, which ignore
 * NSS_SCIM_CACHE.
 */
#include <stdio.h>

#include "snap.h"

int main(void)
{
	return puts(SNAP_DEFAULT_PATH) < 0;
}
