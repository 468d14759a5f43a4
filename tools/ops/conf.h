/* SPDX-License-Identifier: MIT */
/*
 * conf.h: scim-cache's configuration file.
 *
 * The file holds "key = value" lines; '#' starts a comment line, blank lines
 * are ignored, and white space around keys and values is dropped.  Values
 * are taken literally (no quoting).  An unknown key, a repeated key or a bad
 * value is an error naming FILE:LINE.  Every key and its default is listed
 * in conf.c and in scim-cache --help-config.
 */
#ifndef SCIM_CONF_H
#define SCIM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SCIM_SYSCONFDIR
#define SCIM_SYSCONFDIR "/etc"
#endif
#ifndef SCIM_LOCALSTATEDIR
#define SCIM_LOCALSTATEDIR "/var"
#endif

#define SCIM_CONFIG_DEFAULT SCIM_SYSCONFDIR "/nss-scim/nss-scim.conf"
#define SCIM_CONFIG_MAX     (1u << 20) /* bytes in a config file */

/* The default id range: 1879048192-2147352575 (0x70000000-0x7FFDFFFF), the
 * block that systemd documents as unused between the container ranges
 * (524288-1879048191) and the foreign range (0x7FFE0000-0x7FFEFFFF).  It
 * also clears shadow's default subordinate id range (100000-600100000), so
 * files written from rootless containers never look like a SCIM person's,
 * and it stays below 2^31. */
#define SCIM_ID_MIN_DEFAULT 1879048192u
#define SCIM_ID_MAX_DEFAULT 2147352575u

enum username_rule {
	USERNAME_EMAIL_LOCALPART, /* lowercased part of userName before '@' */
	USERNAME_USERNAME,        /* the whole userName, lowercased */
};

/* What the host does, from which keys are set. */
enum host_mode {
	MODE_BRIDGE, /* lists the bridge (url) */
	MODE_SOURCE, /* lists the bridge and writes the fleet's bundle */
	MODE_FLEET,  /* downloads the bundle (source) */
};

struct scim_config {
	enum host_mode mode; /* set by config_parse() */
	char *url; /* SCIM base, no trailing '/'; NULL on a fleet host */
	char *token_file;
	/* Fleet mode (bundle.h).  A fleet host sets source and verify_key
	 * instead of url; a source host may set bundle_file and bundle_key. */
	char *source;     /* the bundle's URL */
	char *verify_key; /* Ed25519 public key, PEM */
	char *bundle_file;
	char *bundle_key;      /* Ed25519 private key, PEM, root-only */
	uint32_t bundle_valid; /* seconds a bundle stays valid */
	char *ca_file;         /* NULL: system CAs only */
	char *proxy;           /* NULL: no proxy, whatever the environment */
	char *cache_path;
	char *state_dir;
	char *home; /* template: %u name, %i uid, %% */
	char *shell;
	char *gecos;        /* template: %f %g %s %d %e %u %% */
	char *metrics_file; /* NULL: no metrics */
	char *local_passwd;
	char *local_group;
	char *primary_group; /* NULL: a private group per person */
	uint32_t timeout, connect_timeout, retries;
	uint32_t page_size, max_pages;
	uint32_t uid_min, uid_max;
	uint32_t max_removed_percent;
	uint32_t lock_wait;
	enum username_rule username;
	char **domains; /* lowercased, in tie-break order */
	size_t ndomains;
	char **groups; /* displayNames to include; none: all */
	size_t ngroups;
	/* Names never published, besides the built-in ones (names.h); an
	 * entry ending in '*' is a prefix. */
	char **reserved_names;
	size_t nreserved_names;
	/* group_names: the POSIX name of a SCIM group, chosen by the admin.
	 * MATCH is the group's SCIM id, or its displayName (compared as
	 * `groups` compares). */
	struct group_name {
		char *match, *name;
	} * group_names;
	size_t ngroup_names;
};

/* Fills C with the defaults.  Returns 0 or -ENOMEM. */
int config_defaults(struct scim_config *c);

/* Parses LEN bytes of config text named NAME (for messages) over the values
 * already in C.  Returns 0, or -EINVAL with "NAME:LINE: reason" (or
 * "NAME: reason" for a missing key) in ERR, or -ENOMEM. */
int config_parse(struct scim_config *c, const char *name, const char *text,
                 size_t len, char *err, size_t errlen);

/* Loads PATH: defaults, then the file, which must be a regular file owned by
 * root (or the caller) and not writable by group or others.  Returns 0 or a
 * negative errno with a one-line reason in ERR.  On failure C holds nothing
 * to free. */
int config_load(struct scim_config *c, const char *path, char *err,
                size_t errlen);

/* Frees what C owns and zeroes it; safe on a zeroed or failed config. */
void config_free(struct scim_config *c);

/* Writes a description of every key with its default to F (for --help). */
#include <stdio.h>
void config_describe(FILE *f);

#endif
