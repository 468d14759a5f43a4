/* SPDX-License-Identifier: MIT */
/*
 * nss-client: drives glibc's own lookups for the integration tests, in a
 * private mount namespace whose nsswitch.conf names "scim".
 *
 *   nss-client fork USER UID     look up, fork, look up again in the child
 *   nss-client exec USER         look up, then exec a shell that lists its
 *                                open files (the snapshot must not be one)
 *   nss-client stress PATH N     8 threads call getpwnam_r/getpwuid_r while
 *                                this process publishes PATH N times
 *   nss-client publish PATH FROM TO
 *                                publish generations FROM..TO of the stress
 *                                directory at PATH
 *   nss-client watch THREADS STOPFILE
 *                                THREADS threads look up the stress
 *                                directory until STOPFILE exists
 *   nss-client loop N            N rounds of every kind of lookup on the
 *                                fixture directory, as a long-lived daemon
 *                                would make them (run under valgrind)
 *   nss-client cancel ROUNDS     cancel looking-up threads at random
 *                                moments, ROUNDS times; lookups must go on
 *                                working (no lock or reference left behind)
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snap.h"

#define NUSERS   200
#define UID_BASE 230000

static int do_fork(const char *user, const char *uid)
{
	struct passwd *pw = getpwnam(user);
	int status;
	pid_t pid;

	if (pw == NULL || pw->pw_uid != (uid_t)strtoul(uid, NULL, 10)) {
		fprintf(stderr, "parent: %s not resolved\n", user);
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		pw = getpwnam(user);
		_exit(pw != NULL && pw->pw_uid == strtoul(uid, NULL, 10) ? 0
		                                                         : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "child: %s not resolved after fork\n", user);
		return 1;
	}
	return 0;
}

static int do_exec(const char *user)
{
	if (getpwnam(user) == NULL) {
		fprintf(stderr, "%s not resolved\n", user);
		return 1;
	}
	/* readlink, not ls -l: listing owners would look up users again. */
	execl("/bin/sh", "sh", "-c",
	      "for f in /proc/$$/fd/*; do readlink \"$f\"; done; exit 0",
	      (char *)NULL);
	perror("exec");
	return 1;
}

/* ---- stress ----------------------------------------------------------- */

static atomic_int stop, failures, lookups;
static const char *stop_file;

static int publish(const char *path, uint64_t gen)
{
	struct snap_meta meta = {.generation = gen, .created = time(NULL)};
	struct snap_writer *w;
	char err[256], name[32], gecos[32], home[64];
	int rc = snap_writer_new(UID_BASE, UID_BASE + NUSERS, &w);

	strcpy(meta.source, "nss-client stress");
	for (unsigned i = 0; rc == 0 && i < NUSERS; i++) {
		struct snap_user u = {name, UID_BASE + i, UID_BASE + i, gecos,
		                      home, "/bin/sh",    true};

		snprintf(name, sizeof(name), "stress%u", i);
		snprintf(gecos, sizeof(gecos), "gen %llu",
		         (unsigned long long)gen);
		snprintf(home, sizeof(home), "/home/g%llu/%s",
		         (unsigned long long)gen, name);
		rc = snap_writer_add_user(w, &u, err, sizeof(err));
	}
	if (rc == 0)
		rc = snap_writer_publish(w, path, &meta, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "publish: %s\n", err);
	snap_writer_free(w);
	return rc;
}

/* Right for its name, and all from one generation. */
static int consistent(const struct passwd *pw, unsigned i)
{
	unsigned long long g1, g2;
	char name[64], want[32];

	snprintf(want, sizeof(want), "stress%u", i);
	return pw->pw_uid == UID_BASE + i && strcmp(pw->pw_name, want) == 0 &&
	       sscanf(pw->pw_gecos, "gen %llu", &g1) == 1 &&
	       sscanf(pw->pw_dir, "/home/g%llu/%63s", &g2, name) == 2 &&
	       g1 == g2 && strcmp(name, want) == 0;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char buf[1024], name[32];
	struct passwd pw, *res;

	while (!atomic_load(&stop)) {
		unsigned i = rand_r(&seed) % NUSERS;

		if (stop_file != NULL && (i & 63) == 0 &&
		    access(stop_file, F_OK) == 0)
			break;
		int rc;

		snprintf(name, sizeof(name), "stress%u", i);
		if (i % 2)
			rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		else
			rc = getpwuid_r(UID_BASE + i, &pw, buf, sizeof(buf),
			                &res);
		if (rc != 0 || res == NULL || !consistent(res, i))
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

static int do_stress(const char *path, int n)
{
	pthread_t t[8];

	if (publish(path, 1) != 0)
		return 1;
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	for (int g = 2; g <= n + 1; g++)
		if (publish(path, (uint64_t)g) != 0)
			atomic_fetch_add(&failures, 1000000);
	atomic_store(&stop, 1);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("%d lookups by 8 threads over %d publishes: %d failed\n",
	       atomic_load(&lookups), n, atomic_load(&failures));
	return atomic_load(&failures) == 0 && atomic_load(&lookups) > 0 ? 0 : 1;
}

static int do_publish(const char *path, int from, int to)
{
	for (int g = from; g <= to; g++)
		if (publish(path, (uint64_t)g) != 0)
			return 1;
	return 0;
}

static int do_watch(int nthreads, const char *stopfile)
{
	pthread_t t[64];

	if (nthreads < 1 || nthreads > 64)
		return 2;
	stop_file = stopfile;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker,
		               (void *)(uintptr_t)(getpid() * 64 + i));
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("%d %d\n", atomic_load(&lookups), atomic_load(&failures));
	return atomic_load(&failures) == 0 ? 0 : 1;
}

/* A thread that looks up with cancellation enabled and deferred, the
 * default: glibc's own cancellation points inside getpwnam_r may fire. */
static void *cancellable(void *arg)
{
	char buf[1024];
	struct passwd pw, *res;

	for (;;) {
		getpwnam_r("stress7", &pw, buf, sizeof(buf), &res);
		pthread_testcancel();
	}
	return arg;
}

static int do_cancel(int rounds)
{
	unsigned seed = 42;
	struct passwd *pw;

	for (int i = 0; i < rounds; i++) {
		pthread_t t[4];
		struct timespec ts = {0, (long)(rand_r(&seed) % 2000) * 1000};

		for (int j = 0; j < 4; j++)
			pthread_create(&t[j], NULL, cancellable, NULL);
		nanosleep(&ts, NULL);
		for (int j = 0; j < 4; j++) {
			pthread_cancel(t[j]);
			pthread_join(t[j], NULL);
		}
		pw = getpwnam("stress7");
		if (pw == NULL || pw->pw_uid != UID_BASE + 7) {
			fprintf(stderr, "lookup failed after %d rounds\n", i);
			return 1;
		}
	}
	printf("%d rounds of 4 cancelled threads: lookups still work\n",
	       rounds);
	return 0;
}

/* One round of every lookup the module serves; false on a wrong answer. */
static bool one_round(void)
{
	struct passwd *pw;
	struct group *gr;
	gid_t groups[16];
	int n = 16, users = 0;

	pw = getpwnam("alice");
	if (pw == NULL || pw->pw_uid != 200001)
		return false;
	pw = getpwuid(200002);
	if (pw == NULL || strcmp(pw->pw_name, "bob") != 0)
		return false;
	if (getpwnam("nosuchuser") != NULL)
		return false;
	gr = getgrnam("engineering");
	if (gr == NULL || gr->gr_gid != 210001)
		return false;
	gr = getgrgid(210002);
	if (gr == NULL || strcmp(gr->gr_name, "ops") != 0)
		return false;
	if (getgrouplist("bob", 200002, groups, &n) < 0 || n != 3)
		return false;
	setpwent();
	while (getpwent() != NULL)
		users++;
	endpwent();
	setgrent();
	while (getgrent() != NULL)
		;
	endgrent();
	return users == 5;
}

static int do_loop(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		if (!one_round()) {
			fprintf(stderr, "wrong answer in round %d\n", i);
			return 1;
		}
	}
	printf("%d rounds, %d lookups\n", rounds, rounds * 10);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "fork") == 0)
		return do_fork(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return do_exec(argv[2]);
	if (argc == 4 && strcmp(argv[1], "stress") == 0)
		return do_stress(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "publish") == 0)
		return do_publish(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "watch") == 0)
		return do_watch(atoi(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return do_loop(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "cancel") == 0)
		return do_cancel(atoi(argv[2]));
	fprintf(stderr, "usage: nss-client fork USER UID | exec USER | "
	                "stress PATH N | publish PATH FROM TO | "
	                "watch THREADS STOPFILE | cancel ROUNDS\n");
	return 2;
}
