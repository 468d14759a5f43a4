/* SPDX-License-Identifier: MIT */
/*
 * conf.c: parse scim-cache's configuration; see conf.h.
 *
 * Each key is a row in a table: its name, its parser, where it goes and its
 * default as shown by --help.  Parsers take the trimmed value and return 0
 * or -EINVAL with the reason in a short buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "names.h"
#include "snap.h"
#include "util.h"

#define REASON_MAX   160
#define LIST_MAX     256 /* entries in domains or groups */
#define KEY_NAME_MAX 32  /* longer names are never near a known key */

struct key;
typedef int (*parse_fn)(struct scim_config *c, const struct key *k,
                        const char *v, char *why);

struct key {
	const char *name;
	parse_fn parse;
	size_t off;        /* of the field in struct scim_config */
	uint32_t min, max; /* numbers */
	const char *help;  /* default and meaning */
};

#define FIELD(c, k, type) ((type *)((char *)(c) + (k)->off))

static int set_str(struct scim_config *c, const struct key *k, const char *v)
{
	char **f = FIELD(c, k, char *), *copy = NULL;

	if (*v != '\0') {
		copy = strdup(v);
		if (copy == NULL)
			return -ENOMEM;
	}
	free(*f);
	*f = copy;
	return 0;
}

static bool has_ctl(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

static int p_path(struct scim_config *c, const struct key *k, const char *v,
                  char *why)
{
	if (v[0] != '/' || has_ctl(v) || strlen(v) >= 4096) {
		snprintf(why, REASON_MAX, "%s must be an absolute path",
		         k->name);
		return -EINVAL;
	}
	return set_str(c, k, v);
}

/* An absolute path, or empty for "none". */
static int p_optpath(struct scim_config *c, const struct key *k, const char *v,
                     char *why)
{
	return *v == '\0' ? set_str(c, k, v) : p_path(c, k, v, why);
}

static int p_num(struct scim_config *c, const struct key *k, const char *v,
                 char *why)
{
	int r = parse_u32(v, k->min, k->max, FIELD(c, k, uint32_t));

	if (r < 0) {
		snprintf(why, REASON_MAX, "%s must be a number from %u to %u",
		         k->name, k->min, k->max);
		return -EINVAL;
	}
	return 0;
}

static bool loopback_host(const char *h, size_t n)
{
	return (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
	       (n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
	       (n == 5 && strncmp(h, "[::1]", 5) == 0);
}

/* Length of the host in the authority at A: up to ':', '/' or the end, or
 * a bracketed IPv6 literal.  0 when there is none. */
static size_t host_len(const char *a)
{
	if (a[0] == '[') {
		const char *e = strchr(a, ']');

		return e ? (size_t)(e - a) + 1 : 0;
	}
	return strcspn(a, ":/");
}

/* https://host[:port][/path], or http:// to a loopback host only: plain HTTP
 * is for a TLS terminator (or the bridge itself) on this machine; the bearer
 * token must never cross a network in clear. */
static int p_url(struct scim_config *c, const struct key *k, const char *v,
                 char *why)
{
	const char *a;
	size_t hl, len = strlen(v);
	bool tls = strncasecmp(v, "https://", 8) == 0;
	int r;

	if (!tls && strncasecmp(v, "http://", 7) != 0) {
		snprintf(why, REASON_MAX, "%s must start with https://",
		         k->name);
		return -EINVAL;
	}
	a = v + (tls ? 8 : 7);
	hl = host_len(a);
	if (hl == 0 || has_ctl(v) || strpbrk(v, " @?#\\\"") != NULL ||
	    len > 2048) {
		snprintf(why, REASON_MAX,
		         "%s must be https://HOST[:PORT][/PATH] without user, "
		         "query or spaces",
		         k->name);
		return -EINVAL;
	}
	if (!tls && !loopback_host(a, hl)) {
		snprintf(why, REASON_MAX,
		         "plain http:// is only allowed to 127.0.0.1, [::1] or "
		         "localhost (a TLS terminator on this host)");
		return -EINVAL;
	}
	r = set_str(c, k, v);
	if (r == 0) {
		char *u = *FIELD(c, k, char *);
		size_t n = strlen(u);

		while (n > 0 && u[n - 1] == '/')
			u[--n] = '\0';
	}
	return r;
}

/* http[s]://host[:port][/]: the one proxy requests may go through.  No
 * credentials: the config file is readable by everyone. */
static int p_proxy(struct scim_config *c, const struct key *k, const char *v,
                   char *why)
{
	bool tls = strncasecmp(v, "https://", 8) == 0;
	const char *a = v + (tls ? 8 : 7), *rest;

	if (*v == '\0')
		return set_str(c, k, v);
	if (!tls && strncasecmp(v, "http://", 7) != 0)
		goto bad;
	rest = a + host_len(a);
	if (*rest == ':')
		rest += 1 + strspn(rest + 1, "0123456789");
	if (host_len(a) == 0 || has_ctl(v) || strpbrk(v, " @?#\\\"") ||
	    strlen(v) > 2048 || (*rest != '\0' && strcmp(rest, "/") != 0))
		goto bad;
	return set_str(c, k, v);
bad:
	snprintf(why, REASON_MAX,
	         "proxy must be http://HOST:PORT or https://HOST:PORT, without "
	         "user, password or path");
	return -EINVAL;
}

/* Checks that TEMPLATE uses only the escapes in ALLOWED. */
static int template_ok(const char *t, const char *allowed, const char *name,
                       char *why)
{
	for (const char *p = t; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%' || (*p != '\0' && strchr(allowed, *p) != NULL))
			continue;
		snprintf(why, REASON_MAX, "%s: unknown escape %%%c (known: %s)",
		         name, *p ? *p : ' ', allowed);
		return -EINVAL;
	}
	if (has_ctl(t) || strchr(t, ':') != NULL) {
		snprintf(why, REASON_MAX,
		         "%s must not contain ':' or control characters", name);
		return -EINVAL;
	}
	return 0;
}

static int p_home(struct scim_config *c, const struct key *k, const char *v,
                  char *why)
{
	if (v[0] != '/') {
		snprintf(why, REASON_MAX, "home must start with '/'");
		return -EINVAL;
	}
	if (template_ok(v, "ui", k->name, why) < 0)
		return -EINVAL;
	return set_str(c, k, v);
}

static int p_gecos(struct scim_config *c, const struct key *k, const char *v,
                   char *why)
{
	if (template_ok(v, "fgsdeu", k->name, why) < 0)
		return -EINVAL;
	return set_str(c, k, v);
}

static int p_shell(struct scim_config *c, const struct key *k, const char *v,
                   char *why)
{
	if (v[0] != '/' || has_ctl(v) || strchr(v, ':') != NULL ||
	    strlen(v) >= SNAP_FIELD_MAX) {
		snprintf(why, REASON_MAX, "shell must be an absolute path");
		return -EINVAL;
	}
	return set_str(c, k, v);
}

static int p_username(struct scim_config *c, const struct key *k, const char *v,
                      char *why)
{
	if (strcasecmp(v, "email-localpart") == 0)
		c->username = USERNAME_EMAIL_LOCALPART;
	else if (strcasecmp(v, "userName") == 0)
		c->username = USERNAME_USERNAME;
	else {
		snprintf(why, REASON_MAX,
		         "username must be email-localpart or userName");
		return -EINVAL;
	}
	return 0;
}

static int p_primary(struct scim_config *c, const struct key *k, const char *v,
                     char *why)
{
	if (strcmp(v, "private") == 0)
		v = "";
	else if (!snap_name_valid(v, strlen(v))) {
		snprintf(why, REASON_MAX,
		         "primary_group must be 'private' or a group name");
		return -EINVAL;
	}
	return set_str(c, k, v);
}

static void list_free(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* Splits V at commas into trimmed, non-empty entries. */
static int split_list(const char *v, bool lower, char ***out, size_t *nout,
                      char *why)
{
	char **l = calloc(LIST_MAX, sizeof(*l));
	size_t n = 0;
	int r = 0;

	if (l == NULL)
		return -ENOMEM;
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;

		p = *e ? e + 1 : e;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e)
			continue;
		if (n == LIST_MAX) {
			snprintf(why, REASON_MAX, "more than %d entries",
			         LIST_MAX);
			r = -EINVAL;
			break;
		}
		l[n] = strndup(s, (size_t)(e - s));
		if (l[n] == NULL) {
			r = -ENOMEM;
			break;
		}
		if (lower)
			ascii_lower(l[n]);
		n++;
	}
	if (r < 0) {
		list_free(l, n);
		return r;
	}
	*out = l;
	*nout = n;
	return 0;
}

static int p_domains(struct scim_config *c, const struct key *k, const char *v,
                     char *why)
{
	char **l;
	size_t n;
	int r;

	if (has_ctl(v) || strpbrk(v, "@/:") != NULL)
		goto bad;
	r = split_list(v, true, &l, &n, why);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strpbrk(l[i], " \t") != NULL) {
			list_free(l, n);
			goto bad;
		}
	list_free(c->domains, c->ndomains);
	c->domains = l;
	c->ndomains = n;
	return 0;
bad:
	snprintf(why, REASON_MAX,
	         "domains must be a comma-separated list of domains");
	return -EINVAL;
}

static int p_groups(struct scim_config *c, const struct key *k, const char *v,
                    char *why)
{
	char **l;
	size_t n;
	int r;

	if (has_ctl(v)) {
		snprintf(why, REASON_MAX,
		         "groups must not hold control "
		         "characters");
		return -EINVAL;
	}
	r = split_list(v, false, &l, &n, why);
	if (r < 0)
		return r;
	list_free(c->groups, c->ngroups);
	c->groups = l;
	c->ngroups = n;
	return 0;
}

static int p_reserved(struct scim_config *c, const struct key *k, const char *v,
                      char *why)
{
	const char *bad = NULL;
	char **l;
	size_t n;
	int r;

	r = split_list(v, false, &l, &n, why);
	if (r < 0)
		return r;
	for (size_t i = 0; bad == NULL && i < n; i++)
		bad = names_reserved_entry_invalid(l[i]);
	if (bad != NULL) {
		snprintf(why, REASON_MAX, "reserved_names: %s", bad);
		list_free(l, n);
		return -EINVAL;
	}
	list_free(c->reserved_names, c->nreserved_names);
	c->reserved_names = l;
	c->nreserved_names = n;
	return 0;
}

static void group_names_free(struct group_name *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].match);
		free(g[i].name);
	}
	free(g);
}

/* One "MATCH = NAME" entry of group_names into G (the list's strings are
 * taken over); the name is checked as any name is. */
static int group_name_entry(char *entry, struct group_name *g, char *why)
{
	char *eq = strrchr(entry, '=');
	char *m = entry, *n, *e;
	const char *reserved;

	if (eq == NULL) {
		snprintf(why, REASON_MAX,
		         "group_names entries are DISPLAYNAME-OR-ID = NAME");
		return -EINVAL;
	}
	*eq = '\0';
	for (e = eq; e > m && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	n = eq + 1 + strspn(eq + 1, " \t");
	if (*m == '\0' || !snap_name_valid(n, strlen(n))) {
		snprintf(why, REASON_MAX,
		         "group_names: '%.40s' is not a valid group name", n);
		return -EINVAL;
	}
	reserved = names_reserved(n, NULL, 0);
	if (reserved != NULL) {
		snprintf(why, REASON_MAX, "group_names: %.40s is reserved: %s",
		         n, reserved);
		return -EINVAL;
	}
	g->match = strdup(m);
	g->name = strdup(n);
	return g->match && g->name ? 0 : -ENOMEM;
}

static int p_group_names(struct scim_config *c, const struct key *k,
                         const char *v, char *why)
{
	struct group_name *g;
	char **l;
	size_t n;
	int r;

	if (has_ctl(v)) {
		snprintf(why, REASON_MAX,
		         "group_names must not hold control characters");
		return -EINVAL;
	}
	r = split_list(v, false, &l, &n, why);
	if (r < 0)
		return r;
	g = calloc(n ? n : 1, sizeof(*g));
	if (g == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = group_name_entry(l[i], &g[i], why);
	list_free(l, n);
	if (r < 0) {
		group_names_free(g, n);
		return r;
	}
	group_names_free(c->group_names, c->ngroup_names);
	c->group_names = g;
	c->ngroup_names = n;
	return 0;
}

#define OFF(f) offsetof(struct scim_config, f)

static const struct key keys[] = {
        {"url", p_url, OFF(url), 0, 0,
         "(required) the bridge's SCIM base, e.g. "
         "https://scim.example.com/scim;"
         " http:// only to 127.0.0.1, [::1] or localhost"},
        {"token_file", p_path, OFF(token_file), 0, 0,
         SCIM_SYSCONFDIR "/nss-scim/token; root-owned, mode 0600 or 0400"},
        {"source", p_url, OFF(source), 0, 0,
         "(none) fleet host: the URL of a signed bundle to download "
         "instead of listing the bridge; needs verify_key, excludes url"},
        {"verify_key", p_path, OFF(verify_key), 0, 0,
         "(none) fleet host: the source's Ed25519 public key (PEM), "
         "not writable by group or others"},
        {"bundle_file", p_optpath, OFF(bundle_file), 0, 0,
         "(none) source host: also write each refresh as a signed "
         "bundle here, for fleet hosts; needs bundle_key"},
        {"bundle_key", p_optpath, OFF(bundle_key), 0, 0,
         "(none) source host: the Ed25519 private key (PEM) from "
         "scim-cache keygen; root-owned, mode 0600"},
        {"bundle_valid", p_num, OFF(bundle_valid), 300, 31536000,
         "604800; seconds a bundle stays valid; fleet hosts refuse it "
         "afterwards"},
        {"ca_file", p_optpath, OFF(ca_file), 0, 0,
         "(none) a PEM CA added to the system CAs"},
        {"proxy", p_proxy, OFF(proxy), 0, 0,
         "(none) an HTTP or HTTPS proxy for every request, as "
         "http://HOST:PORT; only with an https:// url or source, whose TLS "
         "it tunnels; proxy variables in the environment are never used"},
        {"cache_path", p_path, OFF(cache_path), 0, 0, SNAP_DEFAULT_PATH},
        {"state_dir", p_path, OFF(state_dir), 0, 0,
         SCIM_LOCALSTATEDIR "/lib/nss-scim/state; created 0700"},
        {"timeout", p_num, OFF(timeout), 1, 3600,
         "60; seconds for one HTTP request"},
        {"connect_timeout", p_num, OFF(connect_timeout), 1, 600,
         "10; seconds to connect"},
        {"retries", p_num, OFF(retries), 0, 10,
         "3; retries of a request after a connection error, 429 or 5xx"},
        {"page_size", p_num, OFF(page_size), 1, 10000,
         "100; resources asked for per page"},
        {"max_pages", p_num, OFF(max_pages), 1, 1000000,
         "1000; pages per listing before giving up"},
        {"uid_min", p_num, OFF(uid_min), 1, SNAP_ID_LIMIT, "1879048192"},
        {"uid_max", p_num, OFF(uid_max), 1, SNAP_ID_LIMIT,
         "2147352575; uids and gids are both taken from uid_min-uid_max"},
        {"home", p_home, OFF(home), 0, 0,
         "/home/%u; %u login name, %i uid, %% a '%'"},
        {"shell", p_shell, OFF(shell), 0, 0, "/bin/bash"},
        {"gecos", p_gecos, OFF(gecos), 0, 0,
         "%f; %f formatted name, %g given, %s family, %d displayName, "
         "%e email, %u login name"},
        {"username", p_username, 0, 0, 0,
         "email-localpart; or userName (the whole userName, lowercased)"},
        {"domains", p_domains, 0, 0, 0,
         "(any) allowed email domains, comma-separated; earlier wins a name "
         "tie"},
        {"groups", p_groups, 0, 0, 0,
         "(all) SCIM group displayNames to include, comma-separated"},
        {"reserved_names", p_reserved, 0, 0, 0,
         "(none) names never published, besides the built-in list of "
         "privileged and system names; comma-separated, an entry ending in "
         "'*' is a prefix"},
        {"group_names", p_group_names, 0, 0, 0,
         "(none) POSIX names for SCIM groups: comma-separated "
         "DISPLAYNAME-OR-ID = NAME entries"},
        {"primary_group", p_primary, OFF(primary_group), 0, 0,
         "private; or the POSIX name of a SCIM group everyone gets as primary"},
        {"max_removed_percent", p_num, OFF(max_removed_percent), 0, 100,
         "20; refuse a refresh removing more of the people than this"},
        {"lock_wait", p_num, OFF(lock_wait), 0, 3600,
         "30; seconds a refresh waits for another one to finish"},
        {"metrics_file", p_optpath, OFF(metrics_file), 0, 0,
         "(none) Prometheus textfile written after each refresh"},
        {"local_passwd", p_path, OFF(local_passwd), 0, 0,
         "/etc/passwd; names and ids here are never emitted"},
        {"local_group", p_path, OFF(local_group), 0, 0,
         "/etc/group; names and ids here are never emitted"},
};

#define DESCRIBE_INDENT 23
#define DESCRIBE_WIDTH  79

/* Prints TEXT word-wrapped from column DESCRIBE_INDENT. */
static void wrap(FILE *f, const char *text)
{
	size_t col = DESCRIBE_INDENT;

	for (const char *p = text; *p;) {
		size_t w = strcspn(p, " ");

		if (col > DESCRIBE_INDENT && col + 1 + w > DESCRIBE_WIDTH) {
			fprintf(f, "\n%*s", DESCRIBE_INDENT, "");
			col = DESCRIBE_INDENT;
		} else if (col > DESCRIBE_INDENT) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

void config_describe(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		fprintf(f, "  %-*s", DESCRIBE_INDENT - 2, keys[i].name);
		wrap(f, keys[i].help);
	}
}

static int dup_default(char **f, const char *v)
{
	*f = v ? strdup(v) : NULL;
	return (v && *f == NULL) ? -ENOMEM : 0;
}

int config_defaults(struct scim_config *c)
{
	int r = 0;

	*c = (struct scim_config){
	        .timeout = 60,
	        .connect_timeout = 10,
	        .retries = 3,
	        .page_size = 100,
	        .max_pages = 1000,
	        .uid_min = SCIM_ID_MIN_DEFAULT,
	        .uid_max = SCIM_ID_MAX_DEFAULT,
	        .max_removed_percent = 20,
	        .lock_wait = 30,
	        .bundle_valid = 604800,
	        .username = USERNAME_EMAIL_LOCALPART,
	};
	r |= dup_default(&c->token_file, SCIM_SYSCONFDIR "/nss-scim/token");
	r |= dup_default(&c->cache_path, SNAP_DEFAULT_PATH);
	r |= dup_default(&c->state_dir,
	                 SCIM_LOCALSTATEDIR "/lib/nss-scim/state");
	r |= dup_default(&c->home, "/home/%u");
	r |= dup_default(&c->shell, "/bin/bash");
	r |= dup_default(&c->gecos, "%f");
	r |= dup_default(&c->local_passwd, "/etc/passwd");
	r |= dup_default(&c->local_group, "/etc/group");
	if (r != 0) {
		config_free(c);
		return -ENOMEM;
	}
	return 0;
}

void config_free(struct scim_config *c)
{
	free(c->url);
	free(c->token_file);
	free(c->source);
	free(c->verify_key);
	free(c->bundle_file);
	free(c->bundle_key);
	free(c->ca_file);
	free(c->proxy);
	free(c->cache_path);
	free(c->state_dir);
	free(c->home);
	free(c->shell);
	free(c->gecos);
	free(c->metrics_file);
	free(c->local_passwd);
	free(c->local_group);
	free(c->primary_group);
	list_free(c->domains, c->ndomains);
	list_free(c->groups, c->ngroups);
	list_free(c->reserved_names, c->nreserved_names);
	group_names_free(c->group_names, c->ngroup_names);
	*c = (struct scim_config){0};
}

static const struct key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i].name) == len &&
		    strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

/* Edit distance of A and B (insertions, deletions, substitutions and
 * swaps of neighbours), given up above 3: only near misses matter. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[3][KEY_NAME_MAX + 1];

	if (la > KEY_NAME_MAX || lb > KEY_NAME_MAX)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *cur = d[i % 3], *prev = d[(i - 1) % 3];
		unsigned *prev2 = d[(i + 1) % 3];

		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned v = prev[j] + 1 < cur[j - 1] + 1
			                     ? prev[j] + 1
			                     : cur[j - 1] + 1;

			v = sub < v ? sub : v;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* The known key nearest to NAME, or NULL when none is near enough to be
 * what was meant (at most 2 edits, and fewer than a third of NAME). */
static const char *nearest_key(const char *name)
{
	const char *best = NULL;
	unsigned bestd = 3;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		unsigned dist = edit_distance(name, keys[i].name);

		if (dist < bestd && (size_t)dist * 3 <= strlen(name)) {
			best = keys[i].name;
			bestd = dist;
		}
	}
	return best;
}

/* A value in matching quotes: values are literal, so the quotes would
 * become part of it (a url of "https://..." with its quotes). */
static bool quoted(const char *v)
{
	size_t n = strlen(v);

	return n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0];
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parses one line (NUL-terminated, without its newline). */
static int parse_line(struct scim_config *c, char *line, bool *seen,
                      unsigned *lines, unsigned lineno, char *why)
{
	char pb[PRINTABLE_MAX * 4 + 8];
	char *s = trim(line), *eq, *key, *val;
	const struct key *k;
	int r;

	if (*s == '\0' || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (eq == NULL) {
		snprintf(why, REASON_MAX, "expected 'key = value', got '%s'",
		         printable(pb, sizeof(pb), s, strlen(s)));
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	k = find_key(key, strlen(key));
	if (k == NULL) {
		const char *near = nearest_key(key);

		snprintf(why, REASON_MAX, "unknown key '%s'%s%s%s",
		         printable(pb, sizeof(pb), key, strlen(key)),
		         near ? " (did you mean " : "", near ? near : "",
		         near ? "?)" : "");
		return -EINVAL;
	}
	if (quoted(val)) {
		snprintf(why, REASON_MAX,
		         "%s: values are taken literally; remove the quotes "
		         "around %s",
		         k->name, printable(pb, sizeof(pb), val, strlen(val)));
		return -EINVAL;
	}
	if (seen[k - keys]) {
		snprintf(why, REASON_MAX, "%s given twice (first on line %u)",
		         k->name, lines[k - keys]);
		return -EINVAL;
	}
	r = k->parse(c, k, val, why);
	if (r == -ENOMEM)
		snprintf(why, REASON_MAX, "out of memory");
	seen[k - keys] = true;
	lines[k - keys] = lineno;
	return r;
}

/* Checks between keys, once the whole file is read. */
static int check_whole(const struct scim_config *c, const char *name,
                       const unsigned *lines, char *err, size_t errlen)
{
	const struct key *kmax = find_key("uid_max", 7);
	const char *target = c->url ? c->url : c->source;

	if (c->url == NULL && c->source == NULL)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s: url is not set (or, on a fleet host, source)",
		        name);
	if (c->url != NULL && c->source != NULL)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s:%u: source and url exclude each other: a host "
		        "either lists the bridge or downloads a bundle",
		        name, lines[find_key("source", 6) - keys]);
	if (c->source != NULL && c->verify_key == NULL)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s: source needs verify_key, the source's public "
		        "key",
		        name);
	if (c->source == NULL && c->verify_key != NULL)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s:%u: verify_key is only for a fleet host (with "
		        "source)",
		        name, lines[find_key("verify_key", 10) - keys]);
	if (c->source != NULL && c->bundle_file != NULL)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s:%u: a fleet host (source) does not write "
		        "bundles; bundle_file is for the host that lists "
		        "the bridge",
		        name, lines[find_key("bundle_file", 11) - keys]);
	if ((c->bundle_file == NULL) != (c->bundle_key == NULL))
		return set_error(err, errlen, -EINVAL,
		                 "%s: bundle_file and bundle_key go together",
		                 name);
	if (c->primary_group != NULL &&
	    names_reserved(c->primary_group, c->reserved_names,
	                   c->nreserved_names) != NULL)
		return set_error(err, errlen, -EINVAL,
		                 "%s:%u: primary_group %s is a reserved name, "
		                 "never published",
		                 name,
		                 lines[find_key("primary_group", 13) - keys],
		                 c->primary_group);
	if (c->proxy != NULL && target != NULL &&
	    strncasecmp(target, "https://", 8) != 0)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s:%u: proxy needs an https:// %s: through a proxy, "
		        "requests must stay encrypted end to end",
		        name, lines[find_key("proxy", 5) - keys],
		        c->url ? "url" : "source");
	if (c->uid_min > c->uid_max)
		return set_error(err, errlen, -EINVAL,
		                 "%s:%u: uid_max %u is below uid_min %u", name,
		                 lines[kmax - keys], c->uid_max, c->uid_min);
	if (c->uid_max - c->uid_min < 1000)
		return set_error(
		        err, errlen, -EINVAL,
		        "%s:%u: uid_min-uid_max must span at least 1000 ids",
		        name, lines[kmax - keys]);
	return 0;
}

int config_parse(struct scim_config *c, const char *name, const char *text,
                 size_t len, char *err, size_t errlen)
{
	bool seen[ARRAY_SIZE(keys)] = {0};
	unsigned lines[ARRAY_SIZE(keys)] = {0};
	char why[REASON_MAX] = "";
	unsigned lineno = 0;
	const char *p = text, *end = text + len;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line;

		lineno++;
		if (memchr(p, '\0', n) != NULL)
			return set_error(err, errlen, -EINVAL,
			                 "%s:%u: NUL byte in line", name,
			                 lineno);
		line = strndup(p, n);
		if (line == NULL)
			return set_error(err, errlen, -ENOMEM, "out of memory");
		r = parse_line(c, line, seen, lines, lineno, why);
		free(line);
		p += n + 1;
	}
	if (r < 0)
		return set_error(err, errlen, r, "%s:%u: %s", name, lineno,
		                 why);
	r = check_whole(c, name, lines, err, errlen);
	c->mode = c->source        ? MODE_FLEET
	          : c->bundle_file ? MODE_SOURCE
	                           : MODE_BRIDGE;
	return r;
}

static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return set_error(err, errlen, -errno, "%s: %s", path,
		                 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_error(err, errlen, -EINVAL, "%s: not a regular file",
		                 path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return set_error(err, errlen, -EPERM, "%s: not owned by root",
		                 path);
	if (st.st_mode & 022)
		return set_error(err, errlen, -EPERM,
		                 "%s: writable by group or others", path);
	return 0;
}

int config_load(struct scim_config *c, const char *path, char *err,
                size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	r = config_defaults(c);
	if (r < 0)
		return set_error(err, errlen, r, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		r = set_error(err, errlen, -errno, "%s: %s", path,
		              strerror(errno));
		goto out;
	}
	r = check_file(fd, path, err, errlen);
	if (r == 0) {
		r = read_fd(fd, SCIM_CONFIG_MAX, &text, &len);
		if (r < 0)
			set_error(err, errlen, r, "%s: %s", path,
			          r == -EFBIG ? "file too large"
			                      : strerror(-r));
	}
	if (r == 0)
		r = config_parse(c, path, text, len, err, errlen);
	close(fd);
out:
	free(text);
	if (r < 0)
		config_free(c);
	return r;
}
