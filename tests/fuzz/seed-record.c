/* SPDX-License-Identifier: MIT */
/*
 * seed-record: writes fuzz-record's seed corpus into DIR, encoding the
 * test fixtures' people and groups with the real encoders.
 */
#include <stdio.h>
#include <string.h>

#include "record.h"

static int n;

static void emit(const char *dir, uint8_t kind, const struct rec_buf *b)
{
	char path[512];
	uint8_t head[2] = {kind, 64};
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%d", dir, n++);
	f = fopen(path, "we");
	if (f == NULL)
		return;
	fwrite(head, 1, 2, f);
	fwrite(b->data, 1, b->len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	static const char *const eng[] = {"alice", "bob", "dave.smith"};
	struct snap_user users[] = {
	        {"alice", 200001, 200001, "Alice Example", "/home/alice",
	         "/bin/bash", true},
	        {"dave.smith", 200004, 200004, "Dave Smith,Room 4,,",
	         "/home/dave.smith", "/bin/sh", false},
	};
	struct snap_group groups[] = {
	        {"engineering", 210001, 3, eng},
	        {"empty", 210003, 0, NULL},
	};
	struct snap_meta meta = {SNAP_FORMAT_VERSION,
	                         3,
	                         1700000000,
	                         200000,
	                         299999,
	                         2,
	                         1,
	                         2,
	                         "https://scim.example.com/scim"};
	struct rec_buf b = {0};

	if (argc != 2) {
		fprintf(stderr, "usage: seed-record DIR\n");
		return 2;
	}
	static const uint32_t gids[] = {210001, 210002};

	for (size_t i = 0; i < sizeof(users) / sizeof(*users); i++) {
		rec_buf_reset(&b);
		rec_encode_user(&b, &users[i], gids, i);
		emit(argv[1], 0, &b);
	}
	for (size_t i = 0; i < sizeof(groups) / sizeof(*groups); i++) {
		rec_buf_reset(&b);
		rec_encode_group(&b, &groups[i]);
		emit(argv[1], 1, &b);
	}
	rec_buf_reset(&b);
	rec_encode_meta(&b, &meta);
	emit(argv[1], 2, &b);
	rec_buf_free(&b);
	return 0;
}
