/* SPDX-License-Identifier: MIT */
/*
 * pam-fixture.h: the directory the PAM tests decide over, published by the
 * project's own writer.  alice, bob, carol and daemon (a name the host's
 * passwd file also holds, for the shadowing rows), each with a private
 * group; engineering {alice, bob} and ops {bob, carol}; generation 7.
 * INACTIVE names the one person who is suspended, or is NULL.
 */
#ifndef NSS_SCIM_PAM_FIXTURE_H
#define NSS_SCIM_PAM_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "snap.h"
#include "test.h"

#define PAM_FIXTURE_GENERATION 7

static void pam_fixture_publish(const char *path, int64_t created,
                                const char *inactive)
{
	static const char *const eng[] = {"alice", "bob"};
	static const char *const ops[] = {"bob", "carol"};
	static const char *const names[] = {"alice", "bob", "carol", "daemon"};
	struct snap_meta meta = {.generation = PAM_FIXTURE_GENERATION,
	                         .created = created};
	struct snap_writer *w = NULL;
	char err[256];

	REQUIRE(snap_writer_new(200000, 299999, &w) == 0);
	for (uint32_t i = 0; i < 4; i++) {
		struct snap_user u = {names[i],  200001 + i, 200001 + i, "",
		                      "/home/x", "/bin/sh",  true};
		struct snap_group g = {names[i], 200001 + i, 0, NULL};

		u.active = inactive == NULL || strcmp(inactive, names[i]) != 0;
		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	struct snap_group g1 = {"engineering", 210001, 2, eng};
	struct snap_group g2 = {"ops", 210002, 2, ops};
	REQUIRE(snap_writer_add_group(w, &g1, err, sizeof(err)) == 0);
	REQUIRE(snap_writer_add_group(w, &g2, err, sizeof(err)) == 0);
	if (snap_writer_publish(w, path, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "publish: %s\n", err);
		exit(1);
	}
	snap_writer_free(w);
}

#endif
