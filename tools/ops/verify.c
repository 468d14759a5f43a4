/* SPDX-License-Identifier: MIT */
/*
 * verify.c: "scim-cache verify", one line per check of how this host is
 * wired up, each failure with the command or edit that fixes it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "model.h"
#include "snap.h"
#include "util.h"
#include "verify.h"

#define TEXT_MAX      (1u << 20) /* bytes of a config file we read */
#define PAM_DEPTH_MAX 8          /* nested includes, as libpam allows */
#define SSSD_MAX      16         /* sssd domains compared */
#define FRESH_DEFAULT ((int64_t)2 * 3600) /* republished hourly */
#define LINE_MAX_LEN  1024

/* ---- small text helpers ----------------------------------------------- */

/* Reads PATH (following symlinks: /etc files may be links) into *OUT. */
static int read_text(const char *path, char **out)
{
	size_t len;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	rc = read_fd(fd, TEXT_MAX, out, &len);
	close(fd);
	return rc;
}

/* Copies the next line of *P (without its newline, comments cut at '#'
 * when HASH) into LINE and advances *P.  Returns false at the end. */
static bool next_line(const char **p, char *line, size_t size, bool hash)
{
	const char *s = *p, *e;
	size_t n;

	if (s == NULL || *s == '\0')
		return false;
	e = strchr(s, '\n');
	n = e ? (size_t)(e - s) : strlen(s);
	*p = e ? e + 1 : s + n;
	if (n >= size)
		n = size - 1;
	memcpy(line, s, n);
	line[n] = '\0';
	if (hash) {
		char *c = strchr(line, '#');

		if (c)
			*c = '\0';
	}
	return true;
}

/* The next white-space separated word of *P into W; a "[...]" group is one
 * word even with spaces inside.  Returns false when none is left. */
static bool next_word(const char **p, char *w, size_t size)
{
	const char *s = *p, *e;
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return false;
	if (*s == '[') {
		e = strchr(s, ']');
		e = e ? e + 1 : s + strlen(s);
	} else {
		e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
	}
	n = (size_t)(e - s);
	if (n >= size)
		n = size - 1;
	memcpy(w, s, n);
	w[n] = '\0';
	*p = e;
	return true;
}

/* ---- nsswitch.conf ---------------------------------------------------- */

/* Checks one "db: sources" line's sources. */
static int nss_sources(const char *p)
{
	char w[256];
	bool files = false;

	while (next_word(&p, w, sizeof(w))) {
		if (w[0] == '[')
			continue;
		if (strcmp(w, "files") == 0 || strcmp(w, "compat") == 0)
			files = true;
		else if (strcmp(w, "scim") == 0)
			return files ? 0 : -EBADMSG;
	}
	return -ESRCH;
}

int verify_nsswitch_text(const char *text, const char *db)
{
	char line[LINE_MAX_LEN];
	size_t dblen = strlen(db);
	int rc = -ENOENT;

	while (next_line(&text, line, sizeof(line), true)) {
		const char *s = line;

		while (isspace((unsigned char)*s))
			s++;
		if (strncmp(s, db, dblen) != 0)
			continue;
		s += dblen;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != ':')
			continue;
		rc = nss_sources(s + 1);
	}
	return rc;
}

/* ---- PAM -------------------------------------------------------------- */

bool verify_pam_control_blocks(const char *control)
{
	char w[64], perm[16] = "", def[16] = "";
	const char *p, *act;

	if (control[0] != '[')
		return strcmp(control, "required") == 0 ||
		       strcmp(control, "requisite") == 0;
	p = control + 1;
	while (next_word(&p, w, sizeof(w))) {
		char *eq = strchr(w, '='), *end = strchr(w, ']');

		if (end)
			*end = '\0';
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(w, "perm_denied") == 0)
			snprintf(perm, sizeof(perm), "%s", eq + 1);
		else if (strcmp(w, "default") == 0)
			snprintf(def, sizeof(def), "%s", eq + 1);
	}
	/* libpam applies default= to every return value not named. */
	act = perm[0] ? perm : def;
	return strcmp(act, "bad") == 0 || strcmp(act, "die") == 0;
}

/* A walk through one service's stack, in libpam's order. */
struct pam_walk {
	const char *dir;
	int depth;
	bool bypass; /* an earlier account module can end the stack early */
};

static int pam_file(struct pam_walk *w, const char *name);

/* Whether CONTROL ends the stack with success when its module succeeds:
 * then the modules after it are not run for those users. */
static bool pam_control_ends(const char *control)
{
	return strcmp(control, "sufficient") == 0 ||
	       (control[0] == '[' && strstr(control, "success=done") != NULL);
}

/* An included file: not found or without pam_scim.so goes on. */
static int pam_include(struct pam_walk *w, const char *name)
{
	int rc;

	w->depth++;
	rc = pam_file(w, name);
	w->depth--;
	return rc == -ENOENT || rc == -ESRCH ? 1 : rc;
}

/* One line of a PAM file: 0 when it reaches a blocking pam_scim.so, 1 when
 * it does not, -EPERM for pam_scim.so with a control that cannot refuse,
 * -EXDEV for one that a sufficient module before it can skip, -ELOOP for
 * includes too deep. */
static int pam_line(struct pam_walk *w, const char *line)
{
	char type[32], control[256], module[PATH_MAX];
	const char *p = line, *base;

	if (!next_word(&p, type, sizeof(type)))
		return 1;
	if (strcmp(type, "@include") == 0)
		return next_word(&p, module, sizeof(module))
		               ? pam_include(w, module)
		               : 1;
	if (type[0] == '-')
		memmove(type, type + 1, strlen(type));
	if (strcasecmp(type, "account") != 0)
		return 1;
	if (!next_word(&p, control, sizeof(control)) ||
	    !next_word(&p, module, sizeof(module)))
		return 1;
	if (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0)
		return pam_include(w, module);
	base = strrchr(module, '/');
	base = base ? base + 1 : module;
	if (strcmp(base, "pam_scim.so") != 0) {
		w->bypass = w->bypass || pam_control_ends(control);
		return 1;
	}
	if (!verify_pam_control_blocks(control))
		return -EPERM;
	return w->bypass ? -EXDEV : 0;
}

/* NAME's file under the walk's directory (or NAME itself when absolute). */
static int pam_file(struct pam_walk *w, const char *name)
{
	char path[PATH_MAX], line[LINE_MAX_LEN];
	const char *p;
	char *text = NULL;
	int rc, weak = 0;

	if (w->depth > PAM_DEPTH_MAX)
		return -ELOOP;
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	rc = read_text(path, &text);
	if (rc < 0)
		return rc;
	p = text;
	rc = -ESRCH;
	while (next_line(&p, line, sizeof(line), true)) {
		int r = pam_line(w, line);

		if (r == 0 || r == -ELOOP) {
			rc = r;
			break;
		}
		if (r == -EPERM || r == -EXDEV)
			weak = r;
	}
	free(text);
	if (rc == -ESRCH && weak)
		rc = weak;
	return rc;
}

int verify_pam_stack(const char *pam_dir, const char *service)
{
	struct pam_walk w = {.dir = pam_dir};

	return pam_file(&w, service);
}

/* ---- login.defs and sssd.conf ---------------------------------------- */

int verify_login_defs_get(const char *text, const char *key, uint32_t *out)
{
	char line[LINE_MAX_LEN], w[64], v[64];
	int rc = -ENOENT;

	while (next_line(&text, line, sizeof(line), true)) {
		const char *p = line;

		if (!next_word(&p, w, sizeof(w)) || strcmp(w, key) != 0 ||
		    !next_word(&p, v, sizeof(v)))
			continue;
		rc = parse_u32(v, 0, UINT32_MAX, out) == 0 ? 0 : -ENOENT;
	}
	return rc;
}

/* "key = value" of an ini line into K and V; false when it is not one. */
static bool ini_pair(const char *line, char *k, size_t ks, char *v, size_t vs)
{
	const char *eq = strchr(line, '=');
	const char *s = line, *e;
	size_t n;

	if (eq == NULL)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	e = eq;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s) < ks ? (size_t)(e - s) : ks - 1;
	memcpy(k, s, n);
	k[n] = '\0';
	s = eq + 1;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	n = n < vs ? n : vs - 1;
	memcpy(v, s, n);
	v[n] = '\0';
	return true;
}

size_t verify_sssd_ranges(const char *text, uint32_t *lo, uint32_t *hi,
                          size_t max)
{
	char line[LINE_MAX_LEN], k[64], v[64];
	size_t n = 0;
	bool domain = false, set = false;

	while (next_line(&text, line, sizeof(line), true)) {
		const char *s = line;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '[') {
			if (domain && set)
				n++;
			domain = strncmp(s, "[domain/", 8) == 0 && n < max;
			set = false;
			if (domain) {
				lo[n] = 1;
				hi[n] = UINT32_MAX;
			}
			continue;
		}
		if (!domain || !ini_pair(s, k, sizeof(k), v, sizeof(v)))
			continue;
		if (strcmp(k, "min_id") == 0 &&
		    parse_u32(v, 0, UINT32_MAX, &lo[n]) == 0)
			set = true;
		else if (strcmp(k, "max_id") == 0 &&
		         parse_u32(v, 0, UINT32_MAX, &hi[n]) == 0) {
			if (hi[n] == 0)
				hi[n] = UINT32_MAX; /* 0: no limit */
			set = true;
		}
	}
	if (domain && set)
		n++;
	return n;
}

/* ---- the checks -------------------------------------------------------- */

enum verdict { V_OK, V_FAIL, V_SKIP };

struct result {
	const char *name;
	enum verdict v;
	char detail[512];
	char fix[512];
};

static void check_nsswitch(const struct verify_paths *p, struct result *r)
{
	static const char *const dbs[] = {"passwd", "group"};
	char *text = NULL;
	int rc;

	r->name = "nsswitch";
	rc = read_text(p->nsswitch, &text);
	if (rc < 0) {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail), "cannot read %s: %s",
		         p->nsswitch, strerror(-rc));
		snprintf(r->fix, sizeof(r->fix),
		         "create %s with \"passwd: files scim\" and \"group: "
		         "files scim\"",
		         p->nsswitch);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dbs); i++) {
		rc = verify_nsswitch_text(text, dbs[i]);
		if (rc == 0)
			continue;
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail), "the %s line of %s %s",
		         dbs[i], p->nsswitch,
		         rc == -ENOENT  ? "is missing"
		         : rc == -ESRCH ? "does not name scim"
		                        : "names scim before files");
		snprintf(r->fix, sizeof(r->fix),
		         "put scim right after files on the %s line of %s "
		         "(e.g. \"%s: files scim systemd\"), or install "
		         "libnss-scim",
		         dbs[i], p->nsswitch, dbs[i]);
		free(text);
		return;
	}
	free(text);
	r->v = V_OK;
	snprintf(r->detail, sizeof(r->detail),
	         "passwd and group name scim after files in %s", p->nsswitch);
}

static void check_pam(const struct verify_paths *p, const char *svc,
                      struct result *r)
{
	int rc = verify_pam_stack(p->pam_dir, svc);

	r->v = rc == 0 ? V_OK : rc == -ENOENT ? V_SKIP : V_FAIL;
	if (rc == 0)
		snprintf(r->detail, sizeof(r->detail),
		         "the account stack of %s/%s refuses people pam_scim "
		         "refuses",
		         p->pam_dir, svc);
	else if (rc == -ENOENT)
		snprintf(r->detail, sizeof(r->detail),
		         "%s/%s does not exist (%s is not installed)",
		         p->pam_dir, svc, svc);
	else
		snprintf(r->detail, sizeof(r->detail), "%s/%s: %s", p->pam_dir,
		         svc,
		         rc == -ESRCH
		                 ? "pam_scim.so is not in its account stack"
		         : rc == -EPERM
		                 ? "pam_scim.so is there, but with a control "
		                   "that cannot refuse anyone"
		         : rc == -EXDEV
		                 ? "pam_scim.so is there, but a sufficient "
		                   "module before it can end the stack first"
		         : rc == -ELOOP ? "includes nest too deep"
		                        : strerror(-rc));
	if (r->v == V_FAIL)
		snprintf(r->fix, sizeof(r->fix),
		         "run pam-auth-update --enable scim (package "
		         "libpam-scim), or add \"account [success=ok "
		         "new_authtok_reqd=ok user_unknown=ignore default=bad] "
		         "pam_scim.so\" to the account stack (pam_scim(8))");
}

static void check_snapshot(const struct verify_paths *p, struct result *r)
{
	struct snap_meta m;
	int64_t age;
	int rc = model_read_meta(p->cache_path, 0, &m);

	r->name = "snapshot";
	if (rc < 0) {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail), "%s: %s", p->cache_path,
		         snap_strerror(rc));
		snprintf(r->fix, sizeof(r->fix),
		         rc == -ENOENT
		                 ? "configure url and the token, then run "
		                   "scim-cache refresh"
		                 : "run scim-cache refresh; scim-cache status "
		                   "shows the last error");
		return;
	}
	age = (int64_t)now_wall() - m.created;
	if (age > p->max_age) {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail),
		         "%s: generation %llu is %lld s old (more than %lld)",
		         p->cache_path, (unsigned long long)m.generation,
		         (long long)age, (long long)p->max_age);
		snprintf(r->fix, sizeof(r->fix),
		         "refreshes are not succeeding: see scim-cache status "
		         "and journalctl -u nss-scim-refresh");
		return;
	}
	r->v = V_OK;
	snprintf(r->detail, sizeof(r->detail),
	         "%s: generation %llu, %lld s old, %u people, %u groups",
	         p->cache_path, (unsigned long long)m.generation,
	         (long long)(age < 0 ? 0 : age), m.nusers, m.ngroups);
}

static void check_schedule(const struct verify_paths *p, struct result *r)
{
	struct stat st;
	bool timer = lstat(p->timer_link, &st) == 0;
	bool cron = stat(p->cron_file, &st) == 0;

	r->name = "schedule";
	if (timer && cron) {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail),
		         "both the timer (%s) and cron (%s) are enabled",
		         p->timer_link, p->cron_file);
		snprintf(r->fix, sizeof(r->fix),
		         "keep one: rm %s, or systemctl disable "
		         "nss-scim-refresh.timer",
		         p->cron_file);
	} else if (timer || cron) {
		r->v = V_OK;
		snprintf(r->detail, sizeof(r->detail), "refreshes run from %s",
		         timer ? p->timer_link : p->cron_file);
	} else {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail),
		         "neither nss-scim-refresh.timer nor %s is enabled",
		         p->cron_file);
		snprintf(r->fix, sizeof(r->fix),
		         "systemctl enable --now nss-scim-refresh.timer (or, "
		         "without systemd, install the cron example as %s)",
		         p->cron_file);
	}
}

static bool overlaps(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

/* The local range: from SYS_UID_MIN (or UID_MIN) to UID_MAX, with shadow's
 * defaults for what login.defs does not set. */
static void local_range(const char *text, uint32_t *lo, uint32_t *hi)
{
	uint32_t v, sys;

	*lo = 100;
	*hi = 60000;
	if (text == NULL)
		return;
	if (verify_login_defs_get(text, "SYS_UID_MIN", &sys) == 0)
		*lo = sys;
	else if (verify_login_defs_get(text, "UID_MIN", &v) == 0 && v < *lo)
		*lo = v;
	if (verify_login_defs_get(text, "UID_MAX", &v) == 0)
		*hi = v;
	if (verify_login_defs_get(text, "SYS_UID_MAX", &v) == 0 && v > *hi)
		*hi = v;
}

static void check_ids(const struct verify_paths *p, struct result *r)
{
	uint32_t lo, hi, slo[SSSD_MAX], shi[SSSD_MAX];
	char *defs = NULL, *sssd = NULL;
	size_t n = 0;

	r->name = "uid-range";
	(void)read_text(p->login_defs, &defs);
	local_range(defs, &lo, &hi);
	free(defs);
	if (read_text(p->sssd_conf, &sssd) == 0)
		n = verify_sssd_ranges(sssd, slo, shi, SSSD_MAX);
	free(sssd);
	r->v = V_OK;
	if (overlaps(p->uid_min, p->uid_max, lo, hi)) {
		r->v = V_FAIL;
		snprintf(r->detail, sizeof(r->detail),
		         "uid_min..uid_max %u..%u overlaps the local range "
		         "%u..%u of %s",
		         p->uid_min, p->uid_max, lo, hi, p->login_defs);
	}
	for (size_t i = 0; i < n && r->v == V_OK; i++)
		if (overlaps(p->uid_min, p->uid_max, slo[i], shi[i])) {
			r->v = V_FAIL;
			snprintf(r->detail, sizeof(r->detail),
			         "uid_min..uid_max %u..%u overlaps the SSSD "
			         "range %u..%u of %s",
			         p->uid_min, p->uid_max, slo[i], shi[i],
			         p->sssd_conf);
		}
	if (r->v == V_FAIL) {
		snprintf(r->fix, sizeof(r->fix),
		         "set uid_min and uid_max in nss-scim.conf to a range "
		         "no other id source uses (the default is %u..%u)",
		         SCIM_ID_MIN_DEFAULT, SCIM_ID_MAX_DEFAULT);
		return;
	}
	snprintf(r->detail, sizeof(r->detail),
	         "uid_min..uid_max %u..%u clears the local %u..%u and %zu "
	         "SSSD range(s)",
	         p->uid_min, p->uid_max, lo, hi, n);
}

/* ---- the report -------------------------------------------------------- */

static const char *const verdict_names[] = {"ok", "fail", "skip"};

static void print_text(FILE *out, const struct result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%-4s %-10s %s\n",
		        r[i].v == V_OK     ? "ok"
		        : r[i].v == V_FAIL ? "FAIL"
		                           : "skip",
		        r[i].name, r[i].detail);
		if (r[i].v == V_FAIL && r[i].fix[0])
			fprintf(out, "     %-10s fix: %s\n", "", r[i].fix);
	}
}

static int print_json(FILE *out, const struct result *r, size_t n, bool ok)
{
	json_object *o = json_object_new_object();
	json_object *a = json_object_new_array();

	if (o == NULL || a == NULL) {
		json_object_put(o);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(o, "schema_version", json_object_new_int(1));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "name",
		                       json_object_new_string(r[i].name));
		json_object_object_add(
		        c, "status",
		        json_object_new_string(verdict_names[r[i].v]));
		json_object_object_add(c, "detail",
		                       json_object_new_string(r[i].detail));
		json_object_object_add(
		        c, "fix",
		        r[i].v == V_FAIL ? json_object_new_string(r[i].fix)
		                         : NULL);
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "checks", a);
	fprintf(out, "%s\n",
	        json_object_to_json_string_ext(
	                o, JSON_C_TO_STRING_PRETTY |
	                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static const char *const default_services[] = {"sshd", "login", NULL};

void verify_paths_default(struct verify_paths *p, const struct scim_config *c)
{
	*p = (struct verify_paths){
	        .nsswitch = "/etc/nsswitch.conf",
	        .pam_dir = "/etc/pam.d",
	        .login_defs = "/etc/login.defs",
	        .sssd_conf = "/etc/sssd/sssd.conf",
	        .timer_link = "/etc/systemd/system/timers.target.wants/"
	                      "nss-scim-refresh.timer",
	        .cron_file = "/etc/cron.d/nss-scim",
	        .cache_path = c->cache_path,
	        .uid_min = c->uid_min,
	        .uid_max = c->uid_max,
	        .max_age = FRESH_DEFAULT,
	        .pam_services = default_services,
	};
}

#define CHECKS_MAX 8

int verify_run(const struct verify_paths *p, bool json, FILE *out)
{
	struct result r[CHECKS_MAX];
	size_t n = 0;
	bool ok = true;
	int rc = 0;

	memset(r, 0, sizeof(r));
	check_nsswitch(p, &r[n++]);
	for (size_t i = 0; p->pam_services[i] && n < CHECKS_MAX - 3; i++) {
		r[n].name = p->pam_services[i];
		check_pam(p, p->pam_services[i], &r[n++]);
	}
	check_snapshot(p, &r[n++]);
	check_schedule(p, &r[n++]);
	check_ids(p, &r[n++]);
	for (size_t i = 0; i < n; i++)
		ok = ok && r[i].v != V_FAIL;
	if (json)
		rc = print_json(out, r, n, ok);
	else
		print_text(out, r, n);
	if (rc < 0)
		return rc;
	return ok ? 0 : 1;
}
