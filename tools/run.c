/* SPDX-License-Identifier: MIT */
/* run.c: the pieces scim-cache's commands share (run.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "util.h"

void run_free(struct run *r)
{
	http_close(r->http);
	client_directory_free(&r->dir);
	model_free(&r->live);
	model_sum_free(&r->live_sum);
	unmap_file(r->live_bytes, r->live_len);
	model_free(&r->next);
	model_free(&r->bundle);
	fleet_download_free(&r->dl);
	skiplist_free(&r->skipped);
	localdb_free(&r->local);
	locks_free(&r->locks);
	idmap_free(&r->ids);
	status_free(r->st);
	if (r->lockfd >= 0)
		close(r->lockfd);
	config_free(&r->cfg);
}

/* The snapshot's ancestors must be readable by everyone; install usually
 * made them already. */
int run_parent_dirs(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	return make_dirs(dir, 0755, err, errlen);
}

/* State directory, lock, status, ids and locks. */
int run_open_state(struct run *r)
{
	char path[PATH_MAX], err[ERR_MAX];
	bool damaged;
	int rc;

	if (run_parent_dirs(r->cfg.state_dir, err, sizeof(err)) < 0 ||
	    state_prepare(r->cfg.state_dir, err, sizeof(err)) < 0) {
		logmsg(LOG_ERR, "%s", err);
		return EXIT_FAIL;
	}
	r->lockfd = state_lock(r->cfg.state_dir, r->cfg.lock_wait);
	if (r->lockfd == -EWOULDBLOCK) {
		logmsg(LOG_ERR,
		       "another refresh is running (lock %s/%s held "
		       "for %us); giving up",
		       r->cfg.state_dir, STATE_FLOCK, r->cfg.lock_wait);
		return EXIT_BUSY;
	}
	if (r->lockfd < 0) {
		logmsg(LOG_ERR, "cannot lock %s/%s: %s", r->cfg.state_dir,
		       STATE_FLOCK, strerror(-r->lockfd));
		return EXIT_FAIL;
	}
	state_sweep(r->cfg.state_dir);
	r->st = status_load(r->cfg.state_dir, &damaged);
	if (r->st == NULL) {
		logmsg(LOG_ERR, "out of memory");
		return EXIT_FAIL;
	}
	if (damaged)
		logmsg(LOG_WARNING, "%s/%s was damaged; starting it afresh",
		       r->cfg.state_dir, STATE_STATUS);
	idmap_init(&r->ids, r->cfg.uid_min, r->cfg.uid_max);
	rc = state_path(r->cfg.state_dir, STATE_IDS, path);
	if (rc == 0)
		rc = idmap_load(&r->ids, path, err, sizeof(err));
	if (rc < 0) {
		logmsg(LOG_ERR,
		       "the id map is damaged, refusing to run so "
		       "that nobody's number changes: %s",
		       err);
		return EXIT_FAIL;
	}
	if (locks_load(r->cfg.state_dir, &r->locks) < 0) {
		logmsg(LOG_ERR, "%s/%s is damaged; fix or remove it",
		       r->cfg.state_dir, STATE_LOCKOUTS);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* For lock, unlock, status and a printed diff. */
void run_load_live_model(struct run *r)
{
	r->live_err = model_load_snapshot(r->cfg.cache_path, geteuid(),
	                                  &r->live, &r->live_meta);
	r->have_live = r->live_full = r->live_err == 0;
}

void run_kept(const struct run *r, char *out, size_t len)
{
	struct snap_meta m;

	if (model_read_meta(r->cfg.cache_path, geteuid(), &m) == 0)
		snprintf(out, len, "kept snapshot generation %" PRIu64 " (%s)",
		         m.generation, r->cfg.cache_path);
	else
		snprintf(out, len, "no usable snapshot at %s is published",
		         r->cfg.cache_path);
}

uint64_t run_next_generation(const struct run *r)
{
	uint64_t g = (uint64_t)status_get_int(r->st, ST_LAST_GENERATION);

	if (r->have_live && r->live_meta.generation > g)
		g = r->live_meta.generation;
	return g + 1;
}

void run_nscd_invalidate(void)
{
	static const char *const socks[] = {"/run/nscd/socket",
	                                    "/var/run/nscd/socket"};
	static const char *const bins[] = {"/usr/sbin/nscd", "/sbin/nscd"};
	static const char *const dbs[] = {"passwd", "group"};
	const char *bin = NULL;
	struct stat st;
	bool running = false;

	for (size_t i = 0; i < ARRAY_SIZE(socks); i++)
		running |= stat(socks[i], &st) == 0 && S_ISSOCK(st.st_mode);
	for (size_t i = 0; running && !bin && i < ARRAY_SIZE(bins); i++)
		if (access(bins[i], X_OK) == 0)
			bin = bins[i];
	for (size_t i = 0; bin && i < ARRAY_SIZE(dbs); i++) {
		posix_spawn_file_actions_t fa;
		char *argv[] = {(char *)"nscd", (char *)"-i", (char *)dbs[i],
		                NULL};
		char *envp[] = {NULL};
		pid_t pid;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
		                                 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
		                                 0);
		if (posix_spawn(&pid, bin, &fa, NULL, argv, envp) == 0)
			waitpid(pid, NULL, 0);
		posix_spawn_file_actions_destroy(&fa);
	}
}
