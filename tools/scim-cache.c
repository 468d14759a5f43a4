/* SPDX-License-Identifier: MIT */
/*
 * scim-cache: fill the nss-scim snapshot from a 1Password SCIM bridge.
 *
 *   scim-cache [--config FILE] [--syslog] refresh [--dry-run] [--force]
 *              [--quiet] [--splay SECONDS]
 *   scim-cache [--config FILE] status [--json]
 *   scim-cache [--config FILE] check
 *   scim-cache [--config FILE] lock USER | unlock USER
 *
 * Exit codes (also in --help):
 *    0  success, including a refresh that found nothing changed
 *    1  failure; the old snapshot is kept byte for byte
 *    2  refused by a safety guard (mass removal, empty directory); the old
 *       snapshot is kept; --force overrides
 *   64  usage error (EX_USAGE)
 *   75  another refresh holds the lock (EX_TEMPFAIL); try again later
 *   78  configuration error (EX_CONFIG)
 *
 * Logging: messages go to stderr, which the journal captures for the
 * systemd unit and cron mails; with --syslog they go to syslog (facility
 * daemon) instead, and to stderr as well when it is a terminal.  Progress
 * is shown only when stderr is a terminal.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "client.h"
#include "conf.h"
#include "fleet.h"
#include "http.h"
#include "idmap.h"
#include "local.h"
#include "map.h"
#include "metrics.h"
#include "model.h"
#include "state.h"
#include "testpoint.h"
#include "util.h"
#include "verify.h"

#define EXIT_OK      0
#define EXIT_FAIL    1
#define EXIT_REFUSED 2
#define EXIT_USAGE   64
#define EXIT_BUSY    75
#define EXIT_CONFIG  78

#define SPLAY_MAX 86400
/* An unchanged directory is still republished (and a source host still
 * re-signs its bundle) once the snapshot or bundle is this old, so that
 * their creation time says when the directory was last confirmed: what
 * pam_scim's max_age and the staleness alerts read. */
#define RECONFIRM_AGE         3600
#define SKIP_SHOW             5 /* skipped entries named one by one */
#define ERR_MAX               1024
#define STATUS_SCHEMA_VERSION 1 /* status --json; see status_json() */

/* ---- logging ---------------------------------------------------------- */

static struct {
	bool syslog, quiet, tty, journal;
} logs;

/* Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to
 * its device:inode): then each line starts with its sd-daemon priority,
 * "<3>" and so on, which journald strips and files the line under. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char *end;
	struct stat st;

	if (js == NULL || !isdigit((unsigned char)*js))
		return false;
	dev = strtoull(js, &end, 10);
	if (*end != ':' || !isdigit((unsigned char)end[1]))
		return false;
	ino = strtoull(end + 1, &end, 10);
	return *end == '\0' && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void logmsg(int prio, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (logs.quiet && prio > LOG_ERR)
		return;
	if (logs.syslog) {
		va_start(ap, fmt);
		vsyslog(prio, fmt, ap);
		va_end(ap);
	}
	if (!logs.syslog || logs.tty) {
		va_start(ap, fmt);
		if (logs.journal)
			fprintf(stderr, "<%d>", prio);
		fputs("scim-cache: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static void progress(enum scim_kind kind, unsigned pages, size_t got,
                     long long total, void *ud)
{
	fprintf(stderr, "\rscim-cache: %s: page %u, %zu of %lld   ",
	        kind == SCIM_USERS ? "people" : "groups", pages, got, total);
	fflush(stderr);
}

static void progress_end(bool shown)
{
	if (shown)
		fprintf(stderr, "\r%60s\r", "");
}

/* ---- command line ----------------------------------------------------- */

struct opts {
	const char *config;
	const char *cmd;
	const char *user;
	const char *keys[2]; /* keygen: private, public */
	bool dry_run, force, json;
	uint32_t splay;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: scim-cache [--config FILE] [--syslog] COMMAND\n"
	        "\n"
	        "commands:\n"
	        "  refresh [--dry-run] [--force] [--quiet] [--splay SECONDS]\n"
	        "          read the directory from the SCIM bridge and publish "
	        "the snapshot\n"
	        "  status [--json]   show the snapshot and the last refreshes\n"
	        "  check             check that the bridge answers and takes "
	        "the token\n"
	        "  verify [--json]   check that this host is wired up "
	        "(nsswitch, PAM, timer)\n"
	        "  lock USER         mark USER inactive now, until unlocked\n"
	        "  unlock USER       undo lock\n"
	        "  keygen PRIVATE PUBLIC\n"
	        "                    make the Ed25519 key pair that signs "
	        "fleet bundles\n"
	        "\n"
	        "options:\n"
	        "  --config FILE     default %s\n"
	        "  --dry-run         print what would change; publish nothing\n"
	        "  --force           publish despite the mass-removal and "
	        "empty-directory guards\n"
	        "  --quiet           print errors only\n"
	        "  --splay SECONDS   first sleep a random 0..SECONDS (for "
	        "cron)\n"
	        "  --syslog          log to syslog (and stderr if a terminal)\n"
	        "  -h, --help, -V, --version\n"
	        "\n"
	        "exit codes: 0 success (also: nothing changed), 1 failure with "
	        "the old snapshot\nkept, 2 refused by a safety guard, 64 usage "
	        "error, 75 another refresh is\nrunning, 78 configuration "
	        "error.  status exits 1 when no usable snapshot\nis "
	        "published; check exits 1 when the bridge or the token "
	        "fails.\n"
	        "\n"
	        "logging: to stderr (the journal keeps it for the systemd "
	        "unit, cron mails it);\nwith --syslog to syslog, facility "
	        "daemon, and to stderr too if it is a terminal.\nProgress "
	        "is shown when stderr is a terminal.\n"
	        "\n"
	        "configuration keys (key = value; default):\n",
	        SCIM_CONFIG_DEFAULT);
	config_describe(f);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"force", no_argument, NULL, 'f'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"json", no_argument, NULL, 'j'},
	        {"splay", required_argument, NULL, 's'},
	        {"syslog", no_argument, NULL, 'l'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.config = SCIM_CONFIG_DEFAULT};
	/* getopt names argv[0] in its messages; ours all say scim-cache. */
	argv[0] = (char *)"scim-cache";
	while ((c = getopt_long(argc, argv, "c:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'q':
			logs.quiet = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			logs.syslog = true;
			break;
		case 's':
			if (parse_u32(optarg, 0, SPLAY_MAX, &o->splay) < 0) {
				fprintf(stderr,
				        "scim-cache: --splay takes 0 to "
				        "%d seconds\n",
				        SPLAY_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("scim-cache %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "scim-cache: no command (try --help)\n");
		return EXIT_USAGE;
	}
	o->cmd = argv[optind++];
	if ((strcmp(o->cmd, "lock") == 0 || strcmp(o->cmd, "unlock") == 0) &&
	    optind < argc)
		o->user = argv[optind++];
	if (strcmp(o->cmd, "keygen") == 0)
		for (int i = 0; i < 2 && optind < argc; i++)
			o->keys[i] = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "scim-cache: unexpected argument\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Refuses options that the command does not take. */
static int check_opts(const struct opts *o)
{
	bool refresh = strcmp(o->cmd, "refresh") == 0;
	bool lk = strcmp(o->cmd, "lock") == 0 || strcmp(o->cmd, "unlock") == 0;

	if (strcmp(o->cmd, "keygen") == 0) {
		if (o->keys[1] == NULL) {
			fprintf(stderr, "scim-cache: keygen needs two file "
			                "names: PRIVATE PUBLIC\n");
			return EXIT_USAGE;
		}
		if (o->dry_run || o->force || o->splay || o->json) {
			fprintf(stderr, "scim-cache: keygen takes no "
			                "options\n");
			return EXIT_USAGE;
		}
		return -1;
	}
	if (!refresh && strcmp(o->cmd, "status") != 0 && !lk &&
	    strcmp(o->cmd, "check") != 0 && strcmp(o->cmd, "verify") != 0) {
		fprintf(stderr, "scim-cache: unknown command (try --help)\n");
		return EXIT_USAGE;
	}
	if (!refresh && (o->dry_run || o->force || o->splay)) {
		fprintf(stderr, "scim-cache: --dry-run, --force and --splay "
		                "go with refresh\n");
		return EXIT_USAGE;
	}
	if (o->json && strcmp(o->cmd, "status") != 0 &&
	    strcmp(o->cmd, "verify") != 0) {
		fprintf(stderr, "scim-cache: --json goes with status and "
		                "verify\n");
		return EXIT_USAGE;
	}
	if (lk &&
	    (o->user == NULL || !snap_name_valid(o->user, strlen(o->user)))) {
		fprintf(stderr, "scim-cache: %s needs a valid user name\n",
		        o->cmd);
		return EXIT_USAGE;
	}
	return -1;
}

/* ---- shared pieces ---------------------------------------------------- */

/* Everything one run holds; freed by run_free(). */
struct run {
	struct scim_config cfg;
	json_object *st;
	struct idmap ids;
	struct locks locks;
	struct localdb local;
	struct directory dir;
	struct model live, next;
	struct model bundle;      /* a source host's directory for its bundle */
	struct fleet_download dl; /* a fleet host's download */
	struct snap_meta live_meta;
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

static void run_free(struct run *r)
{
	http_close(r->http);
	directory_free(&r->dir);
	model_free(&r->live);
	model_sum_free(&r->live_sum);
	model_free(&r->next);
	model_free(&r->bundle);
	fleet_download_free(&r->dl);
	skiplist_free(&r->skipped);
	localdb_free(&r->local);
	locks_free(&r->locks);
	idmap_free(&r->ids);
	json_object_put(r->st);
	if (r->lockfd >= 0)
		close(r->lockfd);
	config_free(&r->cfg);
}

static int load_config(struct run *r, const char *path)
{
	char err[ERR_MAX];

	if (config_load(&r->cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "scim-cache: %s\n", err);
		return EXIT_CONFIG;
	}
	return -1;
}

/* Creates the missing ancestors of PATH, mode 0755 (the snapshot's must be
 * readable by everyone; install usually made them already). */
static int parent_dirs(const char *path, char *err, size_t errlen)
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
static int open_state(struct run *r)
{
	char path[PATH_MAX], err[ERR_MAX];
	bool damaged;
	int rc;

	if (parent_dirs(r->cfg.state_dir, err, sizeof(err)) < 0 ||
	    state_prepare(r->cfg.state_dir, err, sizeof(err)) < 0) {
		logmsg(LOG_ERR, "%s", err);
		return EXIT_FAIL;
	}
	r->lockfd = state_lock(r->cfg.state_dir, r->cfg.lock_wait);
	if (r->lockfd == -EWOULDBLOCK) {
		logmsg(LOG_ERR,
		       "another refresh is running (lock %s/%s held "
		       "for %us); giving up",
		       r->cfg.state_dir, STATE_LOCK, r->cfg.lock_wait);
		return EXIT_BUSY;
	}
	if (r->lockfd < 0) {
		logmsg(LOG_ERR, "cannot lock %s/%s: %s", r->cfg.state_dir,
		       STATE_LOCK, strerror(-r->lockfd));
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
		       r->cfg.state_dir, STATE_LOCKS);
		return EXIT_FAIL;
	}
	return -1;
}

/* The live snapshot's model, for lock, unlock and a printed diff. */
static void load_live_model(struct run *r)
{
	r->live_err = model_load_snapshot(r->cfg.cache_path, geteuid(),
	                                  &r->live, &r->live_meta);
	r->have_live = r->live_full = r->live_err == 0;
}

/* True when the id map lacks a number the live snapshot uses: only then
 * can the mapping adopt one from it (a lost or reset id map). */
static bool ids_lack_live(const struct run *r)
{
	const struct model_sum *s = &r->live_sum;

	for (size_t i = 0; i < s->nusers; i++)
		if (!numset_has(&r->ids.used, s->users[i].id))
			return true;
	for (size_t i = 0; i < s->ngroups; i++)
		if (!numset_has(&r->ids.used, s->groups[i].id))
			return true;
	return false;
}

/* What a refresh reads of the live snapshot: a summary, enough for the
 * counts, the guards and telling whether anything changed, at a tenth of
 * the model's memory.  The model itself is read when the diff is printed
 * line by line or when the mapping may adopt numbers from it. */
static void load_live(struct run *r)
{
	if (r->want_full) {
		load_live_model(r);
		return;
	}
	r->live_err = model_sum_snapshot(r->cfg.cache_path, geteuid(),
	                                 &r->live_sum, &r->live_meta);
	r->have_live = r->live_err == 0;
	if (r->have_live && !r->cfg.source && ids_lack_live(r))
		load_live_model(r);
}

/* The people of the live snapshot (0 when there is none). */
static size_t live_people(const struct run *r)
{
	if (!r->have_live)
		return 0;
	return r->live_full ? r->live.nusers : r->live_sum.nusers;
}

static int write_ids(int fd, void *ud)
{
	TESTPOINT("ids-temp-created");
	return idmap_write(ud, fd);
}

/* Written as it is formatted: 100,000 people make a 6 MB id map, which
 * need not be held whole at the run's peak. */
static int save_ids(struct run *r, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	rc = state_path(r->cfg.state_dir, STATE_IDS, path);
	if (rc == 0)
		rc = write_file_atomic_with(path, 0600, write_ids, &r->ids);
	if (rc < 0)
		snprintf(err, errlen, "saving the id map %.300s: %s", path,
		         strerror(-rc));
	return rc;
}

static const char *fmt_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&s, &tm) == NULL)
		return "never";
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* "kept snapshot generation N (PATH)" for failure lines. */
static void kept(const struct run *r, char *out, size_t len)
{
	struct snap_meta m;

	if (model_read_meta(r->cfg.cache_path, geteuid(), &m) == 0)
		snprintf(out, len, "kept snapshot generation %" PRIu64 " (%s)",
		         m.generation, r->cfg.cache_path);
	else
		snprintf(out, len, "no usable snapshot at %s is published",
		         r->cfg.cache_path);
}

static void write_metrics(struct run *r)
{
	struct snap_meta m;
	bool have;
	int rc;

	if (r->cfg.metrics_file == NULL)
		return;
	have = model_read_meta(r->cfg.cache_path, geteuid(), &m) == 0;
	rc = metrics_write(r->cfg.metrics_file, have ? &m : NULL, r->st,
	                   now_wall());
	if (rc < 0)
		logmsg(LOG_WARNING, "cannot write metrics_file %s: %s",
		       r->cfg.metrics_file, strerror(-rc));
}

/* Records the outcome in the status file and the metrics. */
static void record(struct run *r, const char *result, const char *error)
{
	double dur = now_mono() - r->t0;

	status_set_num(r->st, "last_attempt", r->wall0);
	status_set_str(r->st, "last_result", result);
	status_set_num(r->st, "last_duration_seconds", dur);
	if (error)
		status_set_str(r->st, "last_error", error);
	else
		status_set_str(r->st, "last_error", NULL);
	if (strcmp(result, "success") == 0 || strcmp(result, "unchanged") == 0)
		status_set_num(r->st, "last_success", now_wall());
	status_count(r->st, "refreshes_total", result, 1);
	if (r->http) {
		const struct http_stats *s = http_stats(r->http);

		for (size_t i = 0; i < s->n; i++) {
			const char *k = s->c[i].key;

			status_count(r->st, "http_requests_total", k,
			             (int64_t)s->c[i].n);
			/* Not 2xx or 304 (a fleet host's unchanged bundle),
			 * or no answer. */
			if (k[0] != '2' && strcmp(k, "304") != 0)
				status_count(r->st, "http_errors_total", k,
				             (int64_t)s->c[i].n);
		}
	}
	TESTPOINT("status-save");
	if (status_save(r->cfg.state_dir, r->st) < 0)
		logmsg(LOG_WARNING, "cannot save %s/%s", r->cfg.state_dir,
		       STATE_STATUS);
	TESTPOINT("metrics-write");
	write_metrics(r);
}

static int failed(struct run *r, int code)
{
	char k[PATH_MAX + 64];

	progress_end(r->progress_shown);
	r->progress_shown = false;
	kept(r, k, sizeof(k));
	if (code == EXIT_REFUSED) {
		logmsg(LOG_ERR,
		       "refresh refused: %s; %s; --force publishes "
		       "anyway",
		       r->err, k);
		record(r, "refused", r->err);
	} else {
		logmsg(LOG_ERR, "refresh failed: %s; %s", r->err, k);
		record(r, "failure", r->err);
	}
	return code;
}

/* ---- refresh ---------------------------------------------------------- */

static int fetch(struct run *r)
{
	bool show = logs.tty && !logs.quiet;
	int rc;

	rc = http_open(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0) {
		rc = client_read_directory(r->http, &r->cfg,
		                           show ? progress : NULL, NULL,
		                           &r->dir, r->err, sizeof(r->err));
		r->progress_shown = show;
	}
	progress_end(r->progress_shown);
	r->progress_shown = false;
	return rc;
}

/* map_build's release_users: the directory's people, once mapped. */
static void release_people(void *ud)
{
	struct directory *d = ud;

	people_free(&d->people);
	malloc_trim(0);
}

/* map_build's release_groups. */
static void release_groups(void *ud)
{
	directory_free_groups(ud);
	malloc_trim(0);
}

/* The directory, mapped into r->next.  A source host (bundle_file) maps it
 * for every host, without its own local files and locks, into r->bundle,
 * and then applies its own as a fleet host would. */
static int build(struct run *r)
{
	bool source = r->cfg.bundle_file != NULL;
	struct localdb none = {0};
	struct strmap locked = {0};
	struct fleet_rules rules = {.local = &r->local,
	                            .locks = &r->locks,
	                            .id_min = r->cfg.uid_min,
	                            .id_max = r->cfg.uid_max,
	                            .reserved = r->cfg.reserved_names,
	                            .nreserved = r->cfg.nreserved_names};
	size_t adopted = 0;
	struct map_notes notes = {0};
	struct map_input in = {
	        .cfg = &r->cfg,
	        .people = &r->dir.people,
	        .groups = r->dir.groups,
	        .ngroups = r->dir.ngroups,
	        .local = source ? &none : &r->local,
	        .locked = &locked,
	        .seed = r->live_full ? &r->live : NULL,
	        .adopted = &adopted,
	        .notes = &notes,
	        .release_users = release_people,
	        .release_groups = release_groups,
	        .release_ud = &r->dir,
	};
	int rc = localdb_load(&r->local, r->cfg.local_passwd,
	                      r->cfg.local_group, r->err, sizeof(r->err));

	for (size_t i = 0; rc == 0 && !source && i < r->locks.n; i++)
		rc = strmap_put(&locked, r->locks.ids[i], 0);
	if (rc == 0)
		rc = map_build(&in, &r->ids, source ? &r->bundle : &r->next,
		               &r->skipped, r->err, sizeof(r->err));
	/* The model holds all that is needed from here on.  glibc keeps
	 * freed heap unless asked: give it back before the writer runs. */
	directory_free(&r->dir);
	strmap_free(&locked);
	malloc_trim(0);
	if (rc == 0 && source &&
	    fleet_apply_local(&r->bundle, &rules, false, &r->next,
	                      &r->skipped) < 0)
		rc = set_error(r->err, sizeof(r->err), -ENOMEM,
		               "out of memory");
	if (rc == 0 && notes.unclear_active > 0)
		logmsg(LOG_WARNING,
		       "%zu people published suspended: their \"active\" is "
		       "not true or false, or missing while others have it "
		       "(the first: SCIM id %s)",
		       notes.unclear_active, notes.unclear_id);
	if (rc == 0 && adopted > 0)
		logmsg(LOG_WARNING,
		       "the id map lacked %zu numbers; adopted them from the "
		       "live snapshot (generation %" PRIu64 ") so that nobody "
		       "is renumbered",
		       adopted, r->live_meta.generation);
	return rc;
}

static void report_skipped(struct run *r)
{
	const struct skiplist *l = &r->skipped;
	struct buf b = {0};
	json_object *arr = json_object_new_array();
	json_object *by = json_object_new_object();
	size_t users = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct skip *s = &l->s[i];
		json_object *o = json_object_new_object();

		users += s->kind == 'u';
		if (i < SKIP_SHOW)
			logmsg(LOG_WARNING, "skipped %s %s: %s (%s)",
			       s->kind == 'u' ? "person" : "group", s->scim_id,
			       s->detail, skip_reason_name(s->reason));
		json_object_object_add(
		        o, "kind",
		        json_object_new_string(s->kind == 'u' ? "person"
		                                              : "group"));
		json_object_object_add(
		        o, "reason",
		        json_object_new_string(skip_reason_name(s->reason)));
		json_object_object_add(o, "scim_id",
		                       json_object_new_string(s->scim_id));
		json_object_object_add(o, "detail",
		                       json_object_new_string(s->detail));
		json_object_array_add(arr, o);
	}
	for (int i = 0; i < SKIP_NREASONS; i++) {
		json_object_object_add(
		        by, skip_reason_name(i),
		        json_object_new_int64((int64_t)l->count[i]));
		if (l->count[i])
			buf_printf(&b, "%s%s %zu", b.len ? ", " : "",
			           skip_reason_name(i), l->count[i]);
	}
	if (l->n > SKIP_SHOW)
		logmsg(LOG_WARNING,
		       "... and %zu more skipped; see scim-cache "
		       "status",
		       l->n - SKIP_SHOW);
	if (l->n)
		logmsg(LOG_WARNING, "skipped %zu people and %zu groups (%s)",
		       users, l->n - users, b.data ? b.data : "");
	json_object_object_add(r->st, "skipped", arr);
	json_object_object_add(r->st, "skipped_by_reason", by);
	buf_free(&b, false);
}

/* The mass-removal and empty-directory guards. */
static int guards(struct run *r, bool force)
{
	size_t before = live_people(r);
	size_t gone = r->diff.removed_uids;
	uint32_t pct = r->cfg.max_removed_percent;

	if (force)
		return 0;
	if (r->next.nusers == 0) {
		snprintf(r->err, sizeof(r->err),
		         "the %s lists no usable person%s",
		         r->cfg.source ? "bundle" : "bridge",
		         before ? ", which would remove everyone" : "");
		return -1;
	}
	if (before > 0 && gone * 100 > (size_t)pct * before) {
		snprintf(r->err, sizeof(r->err),
		         "it would remove %zu of %zu people (%zu%%), more than "
		         "max_removed_percent %u%%",
		         gone, before, gone * 100 / before, pct);
		return -1;
	}
	return 0;
}

/* What the snapshot says it came from: the bridge, or a fleet host's
 * bundle URL. */
static const char *run_source(const struct run *r)
{
	return r->cfg.source ? r->cfg.source : r->cfg.url;
}

/* Whether the live snapshot needs republishing although nothing in it
 * changed: its creation time must say when the directory was last
 * confirmed (RECONFIRM_AGE). */
static bool live_unconfirmed(const struct run *r)
{
	if (r->cfg.source)
		return r->dl.info.created > r->live_meta.created;
	return now_wall() - (double)r->live_meta.created >= RECONFIRM_AGE;
}

static bool unchanged(const struct run *r)
{
	return r->have_live && model_diff_empty(&r->diff) &&
	       r->live_meta.id_min == r->cfg.uid_min &&
	       r->live_meta.id_max == r->cfg.uid_max &&
	       strcmp(r->live_meta.source, run_source(r)) == 0 &&
	       !live_unconfirmed(r);
}

static uint64_t next_generation(const struct run *r)
{
	uint64_t g = (uint64_t)status_get_int(r->st, "last_generation");

	if (r->have_live && r->live_meta.generation > g)
		g = r->live_meta.generation;
	return g + 1;
}

static void nscd_invalidate(void)
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

static void summary(struct run *r, const char *what, uint64_t gen)
{
	const struct model_diff *d = &r->diff;
	size_t active = 0;

	for (size_t i = 0; i < r->next.nusers; i++)
		active += r->next.users[i].active;
	logmsg(LOG_INFO,
	       "refresh %s: generation %" PRIu64 " in %.1fs: %zu people (%zu "
	       "active, %zu suspended), %zu groups; people +%zu -%zu ~%zu, "
	       "groups +%zu -%zu ~%zu; %zu skipped",
	       what, gen, now_mono() - r->t0, r->next.nusers, active,
	       r->next.nusers - active, r->next.ngroups, d->users_added,
	       d->users_removed, d->users_changed, d->groups_added,
	       d->groups_removed, d->groups_changed, r->skipped.n);
}

static int dry_run(struct run *r)
{
	printf("dry run: %zu people, %zu groups would be published\n",
	       r->next.nusers, r->next.ngroups);
	model_diff(&r->live, &r->next, &r->diff, stdout);
	printf("people: +%zu -%zu ~%zu (renamed %zu, uid changes %zu); "
	       "groups: +%zu -%zu ~%zu\n",
	       r->diff.users_added, r->diff.users_removed,
	       r->diff.users_changed, r->diff.renames, r->diff.uid_changes,
	       r->diff.groups_added, r->diff.groups_removed,
	       r->diff.groups_changed);
	if (guards(r, false) < 0)
		printf("a real refresh would be refused: %s\n", r->err);
	return EXIT_OK;
}

/* A string of the status file, "" when it has none. */
static const char *status_str(const struct run *r, const char *key)
{
	const char *v = status_get_str(r->st, key);

	return v ? v : "";
}

static const char *digest_hex(uint64_t d, char out[17])
{
	snprintf(out, 17, "%016" PRIx64, d);
	return out;
}

/* A fleet host: what the next run compares against, once the bundle is
 * accepted. */
static void remember_bundle(struct run *r)
{
	const struct bundle_info *b = &r->dl.info;
	char hex[17];

	status_set_int(r->st, "bundle_generation", (int64_t)b->generation);
	status_set_num(r->st, "bundle_created", (double)b->created);
	status_set_num(r->st, "bundle_valid_until", (double)b->valid_until);
	status_set_str(r->st, "bundle_digest", digest_hex(b->digest, hex));
	status_set_str(r->st, "bundle_origin", b->origin);
	status_set_str(r->st, "bundle_bridge", b->source);
	status_set_str(r->st, "bundle_key", b->keyid);
	status_set_int(r->st, "bundle_bytes", (int64_t)r->dl.bytes);
	status_set_str(r->st, "bundle_etag", r->dl.got.etag);
	status_set_str(r->st, "bundle_last_modified", r->dl.got.last_modified);
	status_set_str(r->st, "local_digest", digest_hex(r->local.digest, hex));
	fleet_remember(r->st, r->cfg.state_dir, &r->dl);
}

/* Once the id map is saved, the writer needs only r->next: what else the
 * run holds would only add to its peak memory. */
static void drop_all_but_next(struct run *r)
{
	idmap_free(&r->ids);
	model_free(&r->live);
	model_sum_free(&r->live_sum);
	model_free(&r->bundle);
	model_free(&r->dl.model);
	malloc_trim(0);
}

static int publish(struct run *r)
{
	struct snap_meta m = {.generation = next_generation(r),
	                      .created = (int64_t)now_wall()};
	int rc;

	/* A fleet host's snapshot is the bundle's: same generation, and
	 * created when the source last listed the bridge. */
	if (r->cfg.source) {
		/* Only a local lock can have put the live one ahead. */
		if (r->dl.info.generation >= r->live_meta.generation ||
		    !r->have_live)
			m.generation = r->dl.info.generation;
		m.created = r->dl.info.created;
	}
	snprintf(m.source, sizeof(m.source), "%s", run_source(r));
	rc = save_ids(r, r->err, sizeof(r->err));
	if (rc == 0) {
		drop_all_but_next(r);
		rc = parent_dirs(r->cfg.cache_path, r->err, sizeof(r->err));
	}
	if (rc == 0)
		rc = model_publish(&r->next, r->cfg.uid_min, r->cfg.uid_max,
		                   r->cfg.cache_path, &m, r->err,
		                   sizeof(r->err));
	if (rc < 0)
		return rc;
	if (r->cfg.source)
		remember_bundle(r);
	status_set_int(r->st, "last_generation", (int64_t)m.generation);
	nscd_invalidate();
	summary(r, "published", m.generation);
	record(r, "success", NULL);
	return 0;
}

/* ---- fleet mode ------------------------------------------------------- */

/* A source host: signs r->bundle and replaces bundle_file, unless the
 * directory is the one already there and that bundle is recent. */
static int write_bundle(struct run *r)
{
	struct bundle_info info = {.id_min = r->cfg.uid_min,
	                           .id_max = r->cfg.uid_max};
	uint64_t prev = (uint64_t)status_get_int(r->st, "bundle_generation");
	double now = now_wall();
	enum fleet_published what = FLEET_KEPT;
	size_t ndeltas = 0;
	char hex[17], host[BUNDLE_TEXT_MAX] = "";
	int rc;

	info.generation = (uint64_t)now > prev ? (uint64_t)now : prev + 1;
	info.created = (int64_t)now;
	info.valid_until = info.created + (int64_t)r->cfg.bundle_valid;
	snprintf(info.source, sizeof(info.source), "%s", r->cfg.url);
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	for (char *p = host; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(info.origin, sizeof(info.origin), "%s", host);
	rc = parent_dirs(r->cfg.bundle_file, r->err, sizeof(r->err));
	if (rc == 0)
		rc = fleet_publish(&r->bundle, &r->cfg, &info,
		                   status_str(r, "bundle_digest"),
		                   RECONFIRM_AGE, &what, &ndeltas, r->err,
		                   sizeof(r->err));
	if (rc < 0 || what == FLEET_KEPT)
		return rc;
	status_set_int(r->st, "bundle_generation", (int64_t)info.generation);
	status_set_num(r->st, "bundle_created", (double)info.created);
	status_set_num(r->st, "bundle_valid_until", (double)info.valid_until);
	status_set_str(r->st, "bundle_digest", digest_hex(info.digest, hex));
	status_set_str(r->st, "bundle_origin", info.origin);
	status_set_str(r->st, "bundle_key", info.keyid);
	logmsg(LOG_INFO,
	       "%s: generation %" PRIu64 ", %zu people, %zu "
	       "groups, %zu deltas, valid for %us, to %s",
	       what == FLEET_WRITTEN ? "bundle written" : "manifest re-signed",
	       info.generation, info.npeople, info.ngroups, ndeltas,
	       r->cfg.bundle_valid, r->cfg.bundle_file);
	return 0;
}

/* The newest bundle generation this host has applied (0: none). */
static uint64_t held_generation(const struct run *r)
{
	int64_t g = status_get_int(r->st, "bundle_generation");

	if (g <= 0 && r->have_live &&
	    strcmp(r->live_meta.source, r->cfg.source) == 0)
		return r->live_meta.generation;
	return g > 0 ? (uint64_t)g : 0;
}

/* A fleet host: downloads and checks the bundle.  Returns 0 to go on with
 * r->dl, 1 when the bundle did not change (304; recorded), or -1 with the
 * reason in r->err. */
static int fleet_fetch(struct run *r, bool dry_run)
{
	struct http_validators cond = {0};
	struct fleet_held mine;
	uint64_t held;
	char hex[17];

	/* The meta record is enough to ask; the whole live snapshot is read
	 * only for a new bundle, so that a 304 costs next to nothing. */
	r->live_err =
	        model_read_meta(r->cfg.cache_path, geteuid(), &r->live_meta);
	r->have_live = r->live_err == 0;
	held = held_generation(r);
	mine = (struct fleet_held){
	        .generation = held,
	        .valid_until = status_get_num(r->st, "bundle_valid_until"),
	        .digest = status_str(r, "bundle_digest"),
	        .sha256 = status_str(r, FLEET_ST_SHA256)};
	if (localdb_load(&r->local, r->cfg.local_passwd, r->cfg.local_group,
	                 r->err, sizeof(r->err)) < 0)
		return -1;
	/* Asked conditionally only while the local files and the range are
	 * the ones the snapshot was built with: a new local user must win
	 * now, not when the bundle next changes. */
	if (held > 0 && r->have_live &&
	    strcmp(r->live_meta.source, r->cfg.source) == 0 &&
	    r->live_meta.id_min == r->cfg.uid_min &&
	    r->live_meta.id_max == r->cfg.uid_max &&
	    strcmp(digest_hex(r->local.digest, hex),
	           status_str(r, "local_digest")) == 0) {
		snprintf(cond.etag, sizeof(cond.etag), "%s",
		         status_str(r, "bundle_etag"));
		snprintf(cond.last_modified, sizeof(cond.last_modified), "%s",
		         status_str(r, "bundle_last_modified"));
	}
	if (http_open_public(&r->cfg, &r->http, r->err, sizeof(r->err)) < 0 ||
	    fleet_download(r->http, &r->cfg, &cond, &mine, &r->dl, r->err,
	                   sizeof(r->err)) < 0)
		return -1;
	if (r->dl.status == 304) {
		if (dry_run) {
			printf("dry run: bundle generation %" PRIu64 " is not "
			       "modified at the source; nothing would "
			       "change\n",
			       held);
			return 1;
		}
		logmsg(LOG_INFO,
		       "refresh unchanged: bundle generation %" PRIu64
		       " not modified at the source",
		       held);
		record(r, "unchanged", NULL);
		return 1;
	}
	load_live(r);
	return 0;
}

/* A fleet host: this host's rules over the bundle's directory. */
static int fleet_build(struct run *r)
{
	struct fleet_rules rules = {.local = &r->local,
	                            .locks = &r->locks,
	                            .id_min = r->cfg.uid_min,
	                            .id_max = r->cfg.uid_max,
	                            .reserved = r->cfg.reserved_names,
	                            .nreserved = r->cfg.nreserved_names};
	/* The local files were read by fleet_fetch(). */
	if (fleet_apply_local(&r->dl.model, &rules, true, &r->next,
	                      &r->skipped) < 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int refresh(struct run *r, const struct opts *o)
{
	int rc;

	TESTPOINT("refresh-start");
	r->want_full = o->dry_run || (logs.tty && !logs.quiet);
	if (r->cfg.source) {
		rc = fleet_fetch(r, o->dry_run);
		if (rc != 0)
			return rc < 0 ? failed(r, EXIT_FAIL) : EXIT_OK;
	} else {
		if (fetch(r) < 0)
			return failed(r, EXIT_FAIL);
		load_live(r);
	}
	if (!r->have_live && r->live_err != -ENOENT)
		logmsg(LOG_WARNING,
		       "the live snapshot %s is unusable (%s); "
		       "a new one replaces it",
		       r->cfg.cache_path, snap_strerror(r->live_err));
	rc = r->cfg.source ? fleet_build(r) : build(r);
	if (rc < 0)
		return failed(r, EXIT_FAIL);
	report_skipped(r);
	if (o->dry_run)
		return dry_run(r);
	if (r->live_full)
		model_diff(&r->live, &r->next, &r->diff,
		           r->want_full ? stderr : NULL);
	else if (model_sum_diff(&r->live_sum, &r->next, &r->diff) < 0) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return failed(r, EXIT_FAIL);
	}
	if (guards(r, o->force) < 0)
		return failed(r, EXIT_REFUSED);
	if (r->cfg.bundle_file && write_bundle(r) < 0)
		return failed(r, EXIT_FAIL);
	if (unchanged(r)) {
		/* Accepted, so the next run compares against it. */
		if (r->cfg.source)
			remember_bundle(r);
		if (save_ids(r, r->err, sizeof(r->err)) < 0)
			return failed(r, EXIT_FAIL);
		summary(r, "unchanged", r->live_meta.generation);
		record(r, "unchanged", NULL);
		return EXIT_OK;
	}
	rc = publish(r);
	return rc < 0 ? failed(r, EXIT_FAIL) : EXIT_OK;
}

/* ---- lock / unlock ---------------------------------------------------- */

/* Republishes the live snapshot with NAME's active flag set to ACTIVE. */
static int republish(struct run *r, const char *name, bool active)
{
	struct model_user *u;
	struct snap_meta m;
	int rc;

	load_live_model(r);
	if (!r->have_live) {
		snprintf(r->err, sizeof(r->err), "no snapshot to update: %s",
		         snap_strerror(r->live_err));
		return -1;
	}
	u = model_find_user(&r->live, name);
	if (u == NULL || u->active == active)
		return 0;
	u->active = active;
	/* The creation time stays: nothing was confirmed with the bridge, so
	 * the snapshot's age (pam_scim's max_age) must not restart. */
	m = r->live_meta;
	m.generation = next_generation(r);
	rc = model_publish(&r->live, r->live_meta.id_min, r->live_meta.id_max,
	                   r->cfg.cache_path, &m, r->err, sizeof(r->err));
	if (rc < 0)
		return -1;
	status_set_int(r->st, "last_generation", (int64_t)m.generation);
	status_save(r->cfg.state_dir, r->st);
	nscd_invalidate();
	logmsg(LOG_NOTICE, "published generation %" PRIu64 " with %s %s",
	       m.generation, name, active ? "active again" : "inactive");
	return 0;
}

/* Saves the locks file unless RC, the change to it, failed; says why not. */
static int save_locks(struct run *r, int rc, bool lock)
{
	if (rc == 0)
		rc = locks_save(r->cfg.state_dir, &r->locks);
	if (rc < 0)
		logmsg(LOG_ERR, "%s: cannot save %s/%s: %s",
		       lock ? "lock" : "unlock", r->cfg.state_dir, STATE_LOCKS,
		       strerror(-rc));
	return rc;
}

/* A fleet host's lock and unlock.  Locking republishes at once; unlocking
 * waits for the next refresh, which alone knows whether the bundle has the
 * person active (it may be suspended there too). */
static int fleet_lock(struct run *r, const char *name, bool lock)
{
	const struct model_user *u;
	char key[sizeof(LOCK_UID_PREFIX) + 10];
	int rc;

	load_live_model(r);
	u = r->have_live ? model_find_user(&r->live, name) : NULL;
	if (lock && u == NULL) {
		logmsg(LOG_ERR, "lock: no person named %s in the snapshot",
		       name);
		return EXIT_FAIL;
	}
	/* Keyed by uid, which the bundle keeps across a rename; unlock also
	 * takes the name the lock was taken under. */
	if (u != NULL)
		snprintf(key, sizeof(key), LOCK_UID_PREFIX "%u", u->uid);
	if (!lock && locks_remove(&r->locks, u ? key : NULL, name) == 0) {
		logmsg(LOG_ERR, "unlock: %s is not locked", name);
		return EXIT_FAIL;
	}
	rc = lock ? locks_add(&r->locks, key, name) : 0;
	if (save_locks(r, rc, lock) < 0)
		return EXIT_FAIL;
	if (!lock) {
		/* The next refresh must rebuild even if the bundle is not
		 * modified. */
		status_set_str(r->st, "bundle_etag", NULL);
		status_set_str(r->st, "bundle_last_modified", NULL);
		status_save(r->cfg.state_dir, r->st);
		logmsg(LOG_NOTICE, "unlocked %s; the next refresh applies it",
		       name);
		return EXIT_OK;
	}
	logmsg(LOG_NOTICE, "locked %s", name);
	if (republish(r, name, false) < 0) {
		logmsg(LOG_ERR,
		       "lock recorded, but republishing failed: %s; the next "
		       "refresh applies it",
		       r->err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int do_lock(struct run *r, const char *name, bool lock)
{
	struct idmap_entry *e =
	        r->cfg.source ? NULL : idmap_find_name(&r->ids, 'u', name);
	int rc;

	/* A fleet host has no SCIM ids: it locks by uid. */
	if (r->cfg.source)
		return fleet_lock(r, name, lock);
	if (lock && e == NULL) {
		logmsg(LOG_ERR,
		       "lock: no person named %s in the directory "
		       "(as of the last refresh)",
		       name);
		return EXIT_FAIL;
	}
	if (lock)
		rc = locks_add(&r->locks, e->scim_id, name);
	else if (locks_remove(&r->locks, e ? e->scim_id : NULL, name) == 0) {
		logmsg(LOG_ERR, "unlock: %s is not locked", name);
		return EXIT_FAIL;
	} else
		rc = 0;
	if (save_locks(r, rc, lock) < 0)
		return EXIT_FAIL;
	logmsg(LOG_NOTICE, "%s %s", lock ? "locked" : "unlocked", name);
	if (republish(r, name, lock ? false : (e ? e->active : true)) < 0) {
		char k[PATH_MAX + 64];

		kept(r, k, sizeof(k));
		logmsg(LOG_ERR,
		       "%s recorded, but republishing failed: %s; %s; "
		       "the next refresh applies it",
		       lock ? "lock" : "unlock", r->err, k);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- status ----------------------------------------------------------- */

static json_object *snapshot_json(const struct run *r)
{
	json_object *o = json_object_new_object();
	struct snap_meta m;
	struct model tmp = {0};
	int rc = model_load_snapshot(r->cfg.cache_path, geteuid(), &tmp, &m);

	model_free(&tmp);
	json_object_object_add(o, "path",
	                       json_object_new_string(r->cfg.cache_path));
	json_object_object_add(o, "available",
	                       json_object_new_boolean(rc == 0));
	json_object_object_add(
	        o, "error",
	        rc != 0 ? json_object_new_string(snap_strerror(rc)) : NULL);
	if (rc != 0) {
		/* The schema holds every key; unknown ones are null. */
		static const char *const unknown[] = {
		        "generation", "created",   "age_seconds", "people",
		        "active",     "suspended", "groups",      "id_min",
		        "id_max",     "source"};

		for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
			json_object_object_add(o, unknown[i], NULL);
		return o;
	}
	json_object_object_add(o, "generation",
	                       json_object_new_int64((int64_t)m.generation));
	json_object_object_add(o, "created", json_object_new_int64(m.created));
	json_object_object_add(
	        o, "age_seconds",
	        json_object_new_int64((int64_t)now_wall() - m.created));
	json_object_object_add(o, "people", json_object_new_int64(m.nusers));
	json_object_object_add(o, "active", json_object_new_int64(m.nactive));
	json_object_object_add(o, "suspended",
	                       json_object_new_int64(m.nusers - m.nactive));
	json_object_object_add(o, "groups", json_object_new_int64(m.ngroups));
	json_object_object_add(o, "id_min", json_object_new_int64(m.id_min));
	json_object_object_add(o, "id_max", json_object_new_int64(m.id_max));
	json_object_object_add(o, "source", json_object_new_string(m.source));
	return o;
}

/* Who lock I holds now (they may have been renamed since), from the id
 * map or the live snapshot that do_status() loaded; NULL for nobody. */
static const char *lock_holder(const struct run *r, size_t i)
{
	const char *key = r->locks.ids[i];
	const struct idmap_entry *e;
	uint32_t uid;

	if (strncmp(key, LOCK_UID_PREFIX, strlen(LOCK_UID_PREFIX)) == 0 &&
	    parse_u32(key + strlen(LOCK_UID_PREFIX), 1, UINT32_MAX, &uid) ==
	            0) {
		for (size_t k = 0; r->have_live && k < r->live.nusers; k++)
			if (r->live.users[k].uid == uid)
				return r->live.users[k].name;
		return NULL;
	}
	e = idmap_find(&r->ids, 'u', key);
	if (e != NULL && e->live && e->name != NULL)
		return e->name;
	if (strcmp(key, r->locks.names[i]) == 0 && r->have_live &&
	    model_find_user(&r->live, key) != NULL)
		return key;
	return NULL;
}

static json_object *locks_json(const struct run *r)
{
	const struct locks *l = &r->locks;
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();
		const char *holds = lock_holder(r, i);

		json_object_object_add(o, "name",
		                       json_object_new_string(l->names[i]));
		json_object_object_add(o, "scim_id",
		                       json_object_new_string(l->ids[i]));
		json_object_object_add(o, "holds",
		                       holds ? json_object_new_string(holds)
		                             : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

/* The mode, and for fleet mode the bundle last written or applied. */
static json_object *fleet_json(const struct run *r)
{
	static const char *const keep[] = {"bundle_generation", "bundle_digest",
	                                   "bundle_origin",     "bundle_bridge",
	                                   "bundle_key",        "bundle_bytes"};
	json_object *o = json_object_new_object(), *v;
	double created = status_get_num(r->st, "bundle_created");
	double until = status_get_num(r->st, "bundle_valid_until");

	json_object_object_add(o, "mode",
	                       json_object_new_string(r->cfg.source ? "fleet"
	                                              : r->cfg.bundle_file
	                                                      ? "source"
	                                                      : "bridge"));
	json_object_object_add(o, "source",
	                       json_object_new_string(r->cfg.source
	                                                      ? r->cfg.source
	                                                      : r->cfg.url));
	json_object_object_add(
	        o, "bundle_file",
	        r->cfg.bundle_file ? json_object_new_string(r->cfg.bundle_file)
	                           : NULL);
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		json_object_object_add(
		        o, keep[i] + 7,
		        json_object_object_get_ex(r->st, keep[i], &v)
		                ? json_object_get(v)
		                : NULL);
	json_object_object_add(
	        o, "created",
	        created > 0 ? json_object_new_int64((int64_t)created) : NULL);
	json_object_object_add(
	        o, "age_seconds",
	        created > 0
	                ? json_object_new_int64((int64_t)(now_wall() - created))
	                : NULL);
	json_object_object_add(
	        o, "valid_until",
	        created > 0 ? json_object_new_int64((int64_t)until) : NULL);
	return o;
}

/* What status --json shows for a key the state does not hold yet: null
 * for a value not known, an empty list or map for counts of nothing. */
static json_object *status_missing(const char *key)
{
	size_t n = strlen(key);

	if (strcmp(key, "skipped") == 0)
		return json_object_new_array();
	if (strcmp(key, "skipped_by_reason") == 0 ||
	    (n > 6 && strcmp(key + n - 6, "_total") == 0))
		return json_object_new_object();
	return NULL;
}

static json_object *status_json(struct run *r)
{
	static const char *const keep[] = {
	        "last_attempt",          "last_success",
	        "last_result",           "last_error",
	        "last_duration_seconds", "skipped",
	        "skipped_by_reason",     "refreshes_total",
	        "http_requests_total",   "http_errors_total"};
	json_object *o = json_object_new_object(), *v;

	/* Version 1: the keys documented in scim-cache(8), status, each
	 * always present.  A new key keeps the version; a removed or
	 * retyped one bumps it. */
	json_object_object_add(o, "schema_version",
	                       json_object_new_int(STATUS_SCHEMA_VERSION));
	json_object_object_add(o, "snapshot", snapshot_json(r));
	json_object_object_add(o, "fleet", fleet_json(r));
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		json_object_object_add(
		        o, keep[i],
		        json_object_object_get_ex(r->st, keep[i], &v)
		                ? json_object_get(v)
		                : status_missing(keep[i]));
	json_object_object_add(o, "locks", locks_json(r));
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && v != NULL)
		return json_object_get_string(v);
	return "-";
}

static void print_skipped(json_object *st)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(st, "skipped", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	printf("skipped:       %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		printf("  %s %s: %s (%s)\n", jstr(s, "kind"),
		       jstr(s, "scim_id"), jstr(s, "detail"),
		       jstr(s, "reason"));
	}
}

static void print_fleet(json_object *o)
{
	json_object *f = json_object_object_get(o, "fleet");
	const char *mode = jstr(f, "mode");
	char t1[64], t2[64];

	if (strcmp(mode, "fleet") == 0)
		printf("mode:          fleet host, bundle %s\n",
		       jstr(f, "source"));
	else if (strcmp(mode, "source") == 0)
		printf("mode:          source host, bridge %s, bundle %s\n",
		       jstr(f, "source"), jstr(f, "bundle_file"));
	else
		printf("mode:          bridge %s\n", jstr(f, "source"));
	if (strcmp(mode, "bridge") == 0 ||
	    json_object_object_get(f, "created") == NULL)
		return;
	printf("bundle:        generation %s, signed %s (%ss ago) by %s, "
	       "valid until %s\n",
	       jstr(f, "generation"),
	       fmt_time(json_object_get_double(
	                        json_object_object_get(f, "created")),
	                t1, sizeof(t1)),
	       jstr(f, "age_seconds"), jstr(f, "origin"),
	       fmt_time(json_object_get_double(
	                        json_object_object_get(f, "valid_until")),
	                t2, sizeof(t2)));
}

static void print_status(struct run *r, json_object *o)
{
	json_object *s;
	char t1[64], t2[64];

	json_object_object_get_ex(o, "snapshot", &s);
	printf("snapshot:      %s\n", jstr(s, "path"));
	if (!json_object_get_boolean(json_object_object_get(s, "available")))
		printf("               unavailable: %s\n", jstr(s, "error"));
	else {
		printf("generation:    %s (built %s, %ss ago)\n",
		       jstr(s, "generation"),
		       fmt_time(json_object_get_double(
		                        json_object_object_get(s, "created")),
		                t1, sizeof(t1)),
		       jstr(s, "age_seconds"));
		printf("people:        %s (%s active, %s suspended or "
		       "locked)\n",
		       jstr(s, "people"), jstr(s, "active"),
		       jstr(s, "suspended"));
		printf("groups:        %s\n", jstr(s, "groups"));
		printf("source:        %s\n", jstr(s, "source"));
	}
	print_fleet(o);
	printf("last attempt:  %s (%s)\n",
	       fmt_time(status_get_num(r->st, "last_attempt"), t1, sizeof(t1)),
	       jstr(r->st, "last_result"));
	printf("last success:  %s\n",
	       fmt_time(status_get_num(r->st, "last_success"), t2, sizeof(t2)));
	printf("last error:    %s\n", jstr(r->st, "last_error"));
	print_skipped(r->st);
	printf("locks:         %zu\n", r->locks.n);
	for (size_t i = 0; i < r->locks.n; i++) {
		const char *holds = lock_holder(r, i);

		printf("  %s (%s)", r->locks.names[i], r->locks.ids[i]);
		if (holds == NULL)
			printf(", holds nobody now\n");
		else if (strcmp(holds, r->locks.names[i]) != 0)
			printf(", now %s\n", holds);
		else
			printf("\n");
	}
}

/* What lock_holder() reads: the id map and the live snapshot, each only
 * if it can be read (status reports, it does not judge them). */
static void status_lock_holders(struct run *r)
{
	char path[PATH_MAX], err[ERR_MAX];

	idmap_init(&r->ids, r->cfg.uid_min, r->cfg.uid_max);
	if (state_path(r->cfg.state_dir, STATE_IDS, path) == 0 &&
	    idmap_load(&r->ids, path, err, sizeof(err)) < 0) {
		idmap_free(&r->ids);
		idmap_init(&r->ids, r->cfg.uid_min, r->cfg.uid_max);
	}
	load_live_model(r);
}

static int do_status(struct run *r, bool json)
{
	char err[ERR_MAX];
	bool damaged, ok;
	json_object *o;

	/* Read-only: no lock, no directory creation. */
	r->st = status_load(r->cfg.state_dir, &damaged);
	if (locks_load(r->cfg.state_dir, &r->locks) < 0)
		logmsg(LOG_WARNING, "%s/%s is damaged", r->cfg.state_dir,
		       STATE_LOCKS);
	if (r->locks.n > 0)
		status_lock_holders(r);
	o = r->st ? status_json(r) : NULL;
	if (o == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		logmsg(LOG_ERR, "%s", err);
		return EXIT_FAIL;
	}
	ok = json_object_get_boolean(json_object_object_get(
	        json_object_object_get(o, "snapshot"), "available"));
	if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(
		               o, JSON_C_TO_STRING_PRETTY |
		                          JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_status(r, o);
	json_object_put(o);
	return ok ? EXIT_OK : EXIT_FAIL;
}

/* ---- check ------------------------------------------------------------ */

/* GET the bridge's /health beside the configured base (http.h says
 * where exactly): prints its version. */
static int check_health(struct run *r, struct buf *body)
{
	char url[2100], version[128], build[128];
	long status;
	int rc;

	rc = http_health_url(r->cfg.url, url, sizeof(url));
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "url too long");
		return rc;
	}
	rc = http_get(r->http, url, body, &status, r->err, sizeof(r->err));
	if (rc < 0)
		return rc;
	scim_parse_health(body->data ? body->data : "", body->len, version,
	                  sizeof(version), build, sizeof(build));
	printf("bridge health: ok, version %s (build %s)\n",
	       version[0] ? version : "unknown", build[0] ? build : "unknown");
	return 0;
}

/* A cheap authenticated listing: one person. */
static int check_token(struct run *r, struct buf *body)
{
	struct scim_page page = {0};
	char url[4096];
	long status;
	int rc;

	snprintf(url, sizeof(url), "%s/Users?startIndex=1&count=1", r->cfg.url);
	rc = http_get(r->http, url, body, &status, r->err, sizeof(r->err));
	if (rc == 0)
		rc = scim_parse_list(body->data ? body->data : "", body->len,
		                     SCIM_USERS, &page, r->err, sizeof(r->err));
	if (rc == 0)
		printf("token accepted: %" PRId64 " people listed at %s\n",
		       page.total, r->cfg.url);
	scim_page_clear(&page);
	return rc;
}

/* A fleet host: the bundle downloads, verifies, parses and is valid. */
static int check_bundle(struct run *r)
{
	const struct bundle_info *b = &r->dl.info;
	char t[64];
	int rc;

	rc = http_open_public(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0)
		rc = fleet_download(r->http, &r->cfg, NULL, NULL, &r->dl,
		                    r->err, sizeof(r->err));
	if (rc == 0 && (double)b->valid_until <= now_wall()) {
		snprintf(r->err, sizeof(r->err),
		         "bundle generation %" PRIu64 " expired at %s",
		         b->generation,
		         fmt_time((double)b->valid_until, t, sizeof(t)));
		rc = -1;
	}
	if (rc < 0) {
		logmsg(LOG_ERR, "check failed: %s", r->err);
		return EXIT_FAIL;
	}
	printf("bundle ok: generation %" PRIu64 ", %zu people, %zu groups, "
	       "%zu bytes, signed by key %s on %s (bridge %s), valid until "
	       "%s\n",
	       b->generation, b->npeople, b->ngroups, r->dl.bytes, b->keyid,
	       b->origin, b->source,
	       fmt_time((double)b->valid_until, t, sizeof(t)));
	return EXIT_OK;
}

static int do_check(struct run *r)
{
	struct buf body = {0};
	int rc;

	if (r->cfg.source)
		return check_bundle(r);
	rc = http_open(&r->cfg, &r->http, r->err, sizeof(r->err));
	if (rc == 0)
		rc = check_health(r, &body);
	if (rc == 0)
		rc = check_token(r, &body);
	if (rc < 0)
		logmsg(LOG_ERR, "check failed: %s", r->err);
	buf_free(&body, false);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- keygen ----------------------------------------------------------- */

static int do_keygen(const char *priv, const char *pub)
{
	char err[ERR_MAX];
	EVP_PKEY *k = NULL;
	char id[BUNDLE_KEYID] = "";

	if (bundle_keygen(priv, pub, err, sizeof(err)) < 0) {
		logmsg(LOG_ERR, "keygen: %s", err);
		return EXIT_FAIL;
	}
	if (bundle_load_public(pub, &k, err, sizeof(err)) == 0)
		bundle_keyid(k, id);
	EVP_PKEY_free(k);
	printf("private key %s (keep it on the source host only; "
	       "bundle_key)\npublic key  %s (copy it to every fleet host; "
	       "verify_key)\nkey id      %s\n",
	       priv, pub, id);
	return EXIT_OK;
}

/* ---- verify ----------------------------------------------------------- */

/* The checks and their report live in verify.c. */
static int do_verify(const struct scim_config *c, bool json)
{
	struct verify_paths p;

	verify_paths_default(&p, c);
	return verify_run(&p, json, stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- main ------------------------------------------------------------- */

static int dispatch(struct run *r, const struct opts *o)
{
	int rc;

	if (strcmp(o->cmd, "status") == 0)
		return do_status(r, o->json);
	if (strcmp(o->cmd, "check") == 0)
		return do_check(r);
	if (strcmp(o->cmd, "verify") == 0)
		return do_verify(&r->cfg, o->json);
	if (o->splay)
		sleep(random_upto(o->splay));
	rc = open_state(r);
	if (rc >= 0)
		return rc;
	r->t0 = now_mono();
	r->wall0 = now_wall();
	if (strcmp(o->cmd, "refresh") == 0)
		return refresh(r, o);
	return do_lock(r, o->user, strcmp(o->cmd, "lock") == 0);
}

/* The token is in memory for the whole run: no core dump may carry it.
 * Not dumpable also keeps other processes of root's uid without
 * CAP_SYS_PTRACE from reading our memory. */
static void no_core_dumps(void)
{
	struct rlimit none = {0, 0}, now;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The unit sets LimitCORE=0 and forbids setrlimit (@resources): ask
	 * only when there is something to lower. */
	if (getrlimit(RLIMIT_CORE, &now) == 0 &&
	    (now.rlim_cur != 0 || now.rlim_max != 0))
		setrlimit(RLIMIT_CORE, &none);
}

int main(int argc, char **argv)
{
	struct run r = {.lockfd = -1};
	struct opts o;
	int rc;

	umask(077);
	no_core_dumps();
	/* glibc raises its mmap threshold each time a large block is freed,
	 * after which the model's arrays and chunks come from the heap and
	 * leave holes it keeps.  A fixed threshold has every block of 256 kB
	 * or more mapped on its own and given back when freed: 8 MB less at
	 * the peak of a 100,000-person refresh. */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	/* libcurl leaves SIGPIPE alone under CURLOPT_NOSIGNAL; a peer that
	 * closes a TLS connection must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	logs.tty = isatty(STDERR_FILENO) == 1;
	logs.journal = stderr_is_journal();
	rc = parse_opts(argc, argv, &o);
	if (rc < 0)
		rc = check_opts(&o);
	if (rc >= 0)
		return rc;
	if (logs.syslog)
		openlog("scim-cache", LOG_PID, LOG_DAEMON);
	if (strcmp(o.cmd, "keygen") == 0)
		return do_keygen(o.keys[0], o.keys[1]);
	rc = load_config(&r, o.config);
	if (rc >= 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		logmsg(LOG_ERR, "cannot initialise libcurl");
		config_free(&r.cfg);
		return EXIT_FAIL;
	}
	rc = dispatch(&r, &o);
	run_free(&r);
	curl_global_cleanup();
	return rc;
}
