/* SPDX-License-Identifier: MIT */
/*
 * fuzz-record: the snapshot record decoders and the glibc packers on
 * arbitrary bytes.  The first byte picks the record kind (user, group,
 * meta), the second the buffer size handed to the packer; the rest is the
 * value as LMDB would return it.  The one-pass user packer must agree
 * with decoding then packing on every input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_passwd(const struct passwd *a, const struct passwd *b)
{
	return a->pw_uid == b->pw_uid && a->pw_gid == b->pw_gid &&
	       strcmp(a->pw_name, b->pw_name) == 0 &&
	       strcmp(a->pw_passwd, b->pw_passwd) == 0 &&
	       strcmp(a->pw_gecos, b->pw_gecos) == 0 &&
	       strcmp(a->pw_dir, b->pw_dir) == 0 &&
	       strcmp(a->pw_shell, b->pw_shell) == 0;
}

/* pack_passwd_record() on the record P of N bytes, with SLACK bytes of
 * something else after it: it must answer as decoding then packing did
 * (WANT, and PW when 0). */
static void user_one_pass(const uint8_t *p, size_t n, size_t slack,
                          size_t buflen, int want, const struct passwd *pw)
{
	uint8_t *rec = malloc(n + slack ? n + slack : 1);
	char *buf = malloc(buflen ? buflen : 1);
	struct passwd got;
	int rc;

	if (rec == NULL || buf == NULL)
		abort();
	if (n > 0)
		memcpy(rec, p, n);
	memset(rec + n, 0xa5, slack);
	rc = pack_passwd_record(rec, n, slack, 1, SNAP_ID_LIMIT, &got, buf,
	                        buflen);
	if (rc != want || (rc == 0 && !same_passwd(&got, pw)))
		abort();
	free(buf);
	free(rec);
}

static void user(const uint8_t *p, size_t n, size_t buflen)
{
	struct rec_user u;
	struct passwd pw;
	char *buf = malloc(buflen ? buflen : 1);
	int rc;

	if (buf == NULL)
		abort();
	rc = rec_decode_user(p, n, 1, SNAP_ID_LIMIT, &u);
	if (rc == 0)
		rc = pack_passwd(&u, &pw, buf, buflen);
	if (rc == 0 && (pw.pw_uid == 0 || pw.pw_name[0] == '\0'))
		abort(); /* the decoder must never let these through */
	user_one_pass(p, n, 0, buflen, rc, &pw);
	user_one_pass(p, n, 16, buflen, rc, &pw);
	user_one_pass(p, n, 64, buflen, rc, &pw);
	free(buf);
}

static void group(const uint8_t *p, size_t n, size_t buflen)
{
	struct rec_group g;
	struct group gr;
	char *buf;

	if (rec_decode_group(p, n, 1, SNAP_ID_LIMIT, &g) != 0)
		return;
	buf = malloc(buflen ? buflen : 1);
	if (buf && pack_group(&g, &gr, buf, buflen) == 0) {
		for (char **m = gr.gr_mem; *m; m++)
			if (**m == '\0')
				abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_meta m;
	size_t buflen;

	if (size < 2)
		return 0;
	buflen = (size_t)data[1] * 16;
	switch (data[0] % 3) {
	case 0:
		user(data + 2, size - 2, buflen);
		break;
	case 1:
		group(data + 2, size - 2, buflen);
		break;
	default:
		rec_decode_meta(data + 2, size - 2, &m);
		break;
	}
	return 0;
}
