/* SPDX-License-Identifier: MIT */
/*
 * fuzz-record: the snapshot record decoders and the glibc packers on
 * arbitrary bytes.  The first byte picks the record kind (user, group,
 * meta), the second the buffer size handed to the packer; the rest is the
 * value as LMDB would return it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pack.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void user(const uint8_t *p, size_t n, size_t buflen)
{
	struct rec_user u;
	struct passwd pw;
	char *buf;

	if (rec_decode_user(p, n, 1, SNAP_ID_LIMIT, &u) != 0)
		return;
	buf = malloc(buflen ? buflen : 1);
	if (buf && pack_passwd(&u, &pw, buf, buflen) == 0 &&
	    (pw.pw_uid == 0 || pw.pw_name[0] == '\0'))
		abort(); /* the decoder must never let these through */
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
