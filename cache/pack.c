/* SPDX-License-Identifier: MIT */
/*
 * pack.c: records into glibc's struct passwd and struct group.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "pack.h"

/* No password is ever usable through this module: authentication belongs to
 * keys or another PAM module, never to a hash from the directory. */
#define NO_PASSWORD "*"

/* Copies S as a C string at *POS and returns where it starts. */
static char *put_str(char **pos, const struct rec_str *s)
{
	char *start = *pos;

	memcpy(start, s->p, s->len);
	start[s->len] = '\0';
	*pos = start + s->len + 1;
	return start;
}

/* Copies a literal the same way. */
static char *put_lit(char **pos, const char *lit)
{
	struct rec_str s = {lit, strlen(lit)};

	return put_str(pos, &s);
}

int pack_passwd(const struct rec_user *u, struct passwd *pw, char *buf,
                size_t buflen)
{
	/* Each field is at most 64 KiB, so this sum cannot overflow. */
	size_t need = u->name.len + 1 + sizeof(NO_PASSWORD) + u->gecos.len + 1 +
	              u->home.len + 1 + u->shell.len + 1;
	char *pos = buf;

	if (buf == NULL || buflen < need)
		return -ERANGE;
	pw->pw_name = put_str(&pos, &u->name);
	pw->pw_passwd = put_lit(&pos, NO_PASSWORD);
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	pw->pw_gecos = put_str(&pos, &u->gecos);
	pw->pw_dir = put_str(&pos, &u->home);
	pw->pw_shell = put_str(&pos, &u->shell);
	return 0;
}

/* Points MEM[0..n) at the n names of the member block copied to BLOCK
 * (LEN bytes), checking each as it goes: -EBADMSG unless the block holds
 * exactly N valid names. */
static int point_members(char *block, size_t len, uint32_t n, char **mem)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < n && pos < len; i++) {
		size_t l = strnlen(block + pos, len - pos);

		if (l == len - pos || !snap_name_valid(block + pos, l))
			return -EBADMSG;
		mem[i] = block + pos;
		pos += l + 1;
	}
	if (i != n || pos != len)
		return -EBADMSG;
	mem[n] = NULL;
	return 0;
}

int pack_group(const struct rec_group *g, struct group *gr, char *buf,
               size_t buflen)
{
	/* The member pointer array goes first, aligned; strings follow. */
	size_t pad =
	        buf ? (alignof(char *) - (uintptr_t)buf % alignof(char *)) %
	                        alignof(char *)
	            : 0;
	size_t ptrs = ((size_t)g->nmembers + 1) * sizeof(char *);
	/* nmembers <= SNAP_MEMBERS_MAX and the block is inside one record:
	 * the sum cannot overflow. */
	size_t need = pad + ptrs + g->members_len + g->name.len + 1 +
	              sizeof(NO_PASSWORD);
	char **mem;
	char *out;
	int r;

	if (buf == NULL || buflen < need)
		return -ERANGE;
	mem = (char **)(void *)(buf + pad);
	out = buf + pad + ptrs;
	if (g->members_len > 0)
		memcpy(out, g->members, g->members_len);
	r = point_members(out, g->members_len, g->nmembers, mem);
	if (r < 0)
		return r;
	out += g->members_len;
	gr->gr_mem = mem;
	gr->gr_name = put_str(&out, &g->name);
	gr->gr_passwd = put_lit(&out, NO_PASSWORD);
	gr->gr_gid = g->gid;
	return 0;
}
