/* SPDX-License-Identifier: MIT */
/*
 * options.c: the arguments of pam_scim.so, parsed into plain data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pamscim.h"

/* ARG is "KEY=value": returns the value, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(arg, key, len) != 0 || arg[len] != '=')
		return NULL;
	return arg + len + 1;
}

/* A checked parser in the spirit of strtonum(): decimal digits only, no
 * sign, no space, within [0, max]. */
static int parse_seconds(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Splits a comma-separated list of group names into O->groups. */
static int parse_groups(struct pamscim_opts *o, const char *list)
{
	size_t n = 0;
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (n == PAMSCIM_GROUPS_MAX || !snap_name_valid(p, len))
			return -EINVAL;
		memcpy(o->groups[n], p, len);
		o->groups[n][len] = '\0';
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	o->ngroups = n;
	return 0;
}

/* Flags without a value. */
static bool parse_flag(struct pamscim_opts *o, const char *arg)
{
	const struct {
		const char *name;
		bool *flag;
	} flags[] = {
	        {"ignore_unknown_user", &o->ignore_unknown_user},
	        {"ignore_authinfo_unavail", &o->ignore_authinfo_unavail},
	        {"ignore_unusable_snapshot", &o->ignore_unusable_snapshot},
	        {"debug", &o->debug},
	        {"quiet", &o->quiet},
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(arg, flags[i].name) == 0) {
			*flags[i].flag = true;
			return true;
		}
	}
	return false;
}

/* One argument: 0 when taken, 1 when unknown and ignored, -EINVAL when a
 * known option has a bad value. */
static int parse_one(struct pamscim_opts *o, const char *arg, const char **why)
{
	const char *v;

	if (parse_flag(o, arg))
		return 0;
	if ((v = value_of(arg, "allow_groups")) != NULL) {
		*why = "bad allow_groups: want 1 to 32 group names, "
		       "comma-separated";
		return parse_groups(o, v);
	}
	if ((v = value_of(arg, "max_age")) != NULL) {
		*why = "bad max_age: want a number of seconds, 0 for no limit";
		return parse_seconds(v, PAMSCIM_MAX_AGE_LIMIT, &o->max_age) < 0
		               ? -EINVAL
		               : 0;
	}
	*why = "unknown option, ignored";
	return 1;
}

int pamscim_parse_args(struct pamscim_opts *o, int argc, const char **argv,
                       pamscim_warn_fn warn, void *ctx)
{
	int rc = 0;

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *why = NULL;
		int r;

		if (argv[i] == NULL)
			continue;
		r = parse_one(o, argv[i], &why);
		if (r != 0 && warn != NULL)
			warn(ctx, argv[i], why);
		if (r < 0)
			rc = r;
	}
	return rc;
}
