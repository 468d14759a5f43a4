/* SPDX-License-Identifier: MIT */
/*
 * run.h: what one scim-cache command holds, and the pieces that more than
 * one command shares: the state directory under its lock, the live
 * snapshot, the next generation, and telling nscd.
 */
#ifndef SCIM_RUN_H
#define SCIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "conf.h"
#include "fleet.h"
#include "http.h"
#include "idmap.h"
#include "local.h"
#include "map.h"
#include "model.h"
#include "state.h"

/* The exit codes; scim-cache --help and scim-cache(8) list them. */
#define EXIT_OK      0
#define EXIT_FAIL    1
#define EXIT_REFUSED 2
#define EXIT_USAGE   64
#define EXIT_BUSY    75
#define EXIT_CONFIG  78

#define ERR_MAX 1024

/* Everything one run holds; freed by run_free(). */
struct run {
	struct scim_config cfg;
	struct status *st;
	struct idmap ids;
	struct locks locks;
	struct localdb local;
	struct directory dir;
	struct model live, next;
	struct model bundle;      /* a source host's directory for its bundle */
	struct fleet_download dl; /* a fleet host's download */
	struct snap_meta live_meta;
	/* A fleet host's live snapshot, read whole when it can be
	 * republished as it is (refresh.c: live_reusable). */
	char *live_bytes;
	size_t live_len;
	bool have_live; /* the live snapshot was read: live_sum, or live */
	bool live_full; /* live holds its model (see load_live) */
	bool want_full; /* the diff is printed line by line */
	struct model_sum live_sum;
	int live_err;
	struct skiplist skipped;
	struct http *http;
	struct model_diff diff;
	double t0, wall0;
	int lockfd;
	bool progress_shown;
	char err[ERR_MAX];
};

/* Frees what R holds and closes its lock; R may be partly filled. */
void run_free(struct run *r);

/* Creates the missing ancestors of PATH, mode 0755.  Returns 0 or a
 * negative errno with the reason in ERR. */
int run_parent_dirs(const char *path, char *err, size_t errlen);

/* Prepares the state directory, takes its lock and loads the status, the
 * id map and the lockouts.  Returns EXIT_OK, or the exit code after saying
 * why. */
int run_open_state(struct run *r);

/* Reads the live snapshot's whole model into r->live (r->live_err says
 * why not). */
void run_load_live_model(struct run *r);

/* "kept snapshot generation N (PATH)" for failure lines. */
void run_kept(const struct run *r, char *out, size_t len);

/* The generation the next publish gets: past both the live snapshot's and
 * the last one this host published. */
uint64_t run_next_generation(const struct run *r);

/* Asks a running nscd to drop its passwd and group caches; silent. */
void run_nscd_invalidate(void);

#endif
