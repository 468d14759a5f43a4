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
#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "bundle.h"
#include "check.h"
#include "lockout.h"
#include "log.h"
#include "refresh.h"
#include "run.h"
#include "status.h"
#include "util.h"
#include "verify.h"

#define SPLAY_MAX 86400

/* ---- command line ----------------------------------------------------- */

/* The options that only some commands take. */
enum {
	OPT_DRY_RUN = 1 << 0,
	OPT_FORCE = 1 << 1,
	OPT_SPLAY = 1 << 2,
	OPT_JSON = 1 << 3,
};

struct opts {
	const char *config;
	const struct command *cmd;
	const char *args[2]; /* the command's operands */
	bool dry_run, force, json;
	uint32_t splay;
};

/* What a command needs before it runs. */
enum needs {
	NEEDS_NOTHING, /* not even the config */
	NEEDS_CONFIG,  /* the config and libcurl: read-only commands */
	NEEDS_STATE,   /* and the state directory under its lock */
};

struct command {
	const char *name;
	unsigned nargs;   /* operands, all required */
	bool user_arg;    /* the operand is a user name */
	unsigned options; /* OPT_* it takes */
	enum needs needs;
	int (*run)(struct run *r, const struct opts *o);
};

static int cmd_refresh(struct run *r, const struct opts *o)
{
	return refresh_run(r, o->dry_run, o->force);
}

static int cmd_status(struct run *r, const struct opts *o)
{
	return status_show(r, o->json);
}

static int cmd_check(struct run *r, const struct opts *o)
{
	(void)o;
	return check_run(r);
}

/* The checks and their report live in verify.c. */
static int cmd_verify(struct run *r, const struct opts *o)
{
	struct verify_paths p;

	verify_paths_default(&p, &r->cfg);
	return verify_run(&p, o->json, stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_lock(struct run *r, const struct opts *o)
{
	return lockout_set(r, o->args[0], true);
}

static int cmd_unlock(struct run *r, const struct opts *o)
{
	return lockout_set(r, o->args[0], false);
}

/* Needs no config: R is unused. */
static int cmd_keygen(struct run *r, const struct opts *o)
{
	const char *priv = o->args[0], *pub = o->args[1];
	char err[ERR_MAX];
	EVP_PKEY *k = NULL;
	char id[BUNDLE_KEYID] = "";

	(void)r;
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

static const struct command commands[] = {
        {"refresh", 0, false, OPT_DRY_RUN | OPT_FORCE | OPT_SPLAY, NEEDS_STATE,
         cmd_refresh},
        {"status", 0, false, OPT_JSON, NEEDS_CONFIG, cmd_status},
        {"check", 0, false, 0, NEEDS_CONFIG, cmd_check},
        {"verify", 0, false, OPT_JSON, NEEDS_CONFIG, cmd_verify},
        {"lock", 1, true, 0, NEEDS_STATE, cmd_lock},
        {"unlock", 1, true, 0, NEEDS_STATE, cmd_unlock},
        {"keygen", 2, false, 0, NEEDS_NOTHING, cmd_keygen},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

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

/* Returns EXIT_OK with O filled, or the exit code to leave with. */
static int parse_opts(int argc, char **argv, struct opts *o, bool *done)
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
	const char *name;
	int c;

	*o = (struct opts){.config = SCIM_CONFIG_DEFAULT};
	*done = false;
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
			usage(stdout);
			*done = true;
			return EXIT_OK;
		case 'V':
			printf("scim-cache %s\n", PACKAGE_VERSION);
			*done = true;
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "scim-cache: no command (try --help)\n");
		return EXIT_USAGE;
	}
	name = argv[optind++];
	o->cmd = find_command(name);
	for (unsigned i = 0; o->cmd && i < o->cmd->nargs && optind < argc; i++)
		o->args[i] = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "scim-cache: unexpected argument\n");
		return EXIT_USAGE;
	}
	if (o->cmd == NULL) {
		fprintf(stderr, "scim-cache: unknown command (try --help)\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Whether the command has all its operands, and a valid user name where
 * it takes one. */
static bool args_ok(const struct opts *o)
{
	const char *last = o->cmd->nargs ? o->args[o->cmd->nargs - 1] : "";

	if (last == NULL)
		return false;
	return !o->cmd->user_arg || snap_name_valid(last, strlen(last));
}

static int bad_args(const struct opts *o)
{
	if (o->cmd->user_arg)
		fprintf(stderr, "scim-cache: %s needs a valid user name\n",
		        o->cmd->name);
	else
		fprintf(stderr, "scim-cache: keygen needs two file "
		                "names: PRIVATE PUBLIC\n");
	return EXIT_USAGE;
}

/* Refuses options that the command does not take.  keygen judges its
 * operands first, lock and unlock their options first: which of two
 * mistakes is named stays as it always was. */
static int check_opts(const struct opts *o)
{
	unsigned given = (o->dry_run ? OPT_DRY_RUN : 0) |
	                 (o->force ? OPT_FORCE : 0) |
	                 (o->splay ? OPT_SPLAY : 0) | (o->json ? OPT_JSON : 0);
	unsigned extra = given & ~o->cmd->options;

	if (o->cmd->needs == NEEDS_NOTHING) {
		if (!args_ok(o))
			return bad_args(o);
		if (extra) {
			fprintf(stderr, "scim-cache: keygen takes no "
			                "options\n");
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (extra & (OPT_DRY_RUN | OPT_FORCE | OPT_SPLAY)) {
		fprintf(stderr, "scim-cache: --dry-run, --force and --splay "
		                "go with refresh\n");
		return EXIT_USAGE;
	}
	if (extra & OPT_JSON) {
		fprintf(stderr, "scim-cache: --json goes with status and "
		                "verify\n");
		return EXIT_USAGE;
	}
	if (!args_ok(o))
		return bad_args(o);
	return EXIT_OK;
}

/* ---- main ------------------------------------------------------------- */

static int load_config(struct run *r, const char *path)
{
	char err[ERR_MAX];

	if (config_load(&r->cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "scim-cache: %s\n", err);
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

static int dispatch(struct run *r, const struct opts *o)
{
	int rc;

	if (o->cmd->needs == NEEDS_STATE) {
		if (o->splay)
			sleep(random_upto(o->splay));
		rc = run_open_state(r);
		if (rc != EXIT_OK)
			return rc;
		r->t0 = now_mono();
		r->wall0 = now_wall();
	}
	return o->cmd->run(r, o);
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
	bool done;
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
	logs.journal = log_stderr_is_journal();
	rc = parse_opts(argc, argv, &o, &done);
	if (rc == EXIT_OK && !done)
		rc = check_opts(&o);
	if (rc != EXIT_OK || done)
		return rc;
	if (logs.syslog)
		openlog("scim-cache", LOG_PID, LOG_DAEMON);
	if (o.cmd->needs == NEEDS_NOTHING)
		return o.cmd->run(&r, &o);
	rc = load_config(&r, o.config);
	if (rc != EXIT_OK)
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
