/* SPDX-License-Identifier: MIT */
/*
 * replay-main.c: a plain driver for the libFuzzer targets, so that
 * make check replays their seeds without clang.
 *
 *   replay-X [-m MUTATIONS] FILE...
 *
 * Runs each FILE through LLVMFuzzerTestOneInput, then MUTATIONS
 * deterministic mutants of it (byte flips, truncations, duplicated
 * spans; a fixed seed, so a failure reproduces).  A crash or a sanitizer
 * report fails the test; the targets themselves assert nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One mutant of IN (LEN bytes) into OUT (room for 2 * LEN + 16). */
static size_t mutate(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = len, a, b;

	memcpy(out, in, len);
	for (int k = (int)(next() % 4) + 1; k > 0 && n > 0; k--) {
		switch (next() % 4) {
		case 0: /* flip a byte */
			out[next() % n] = (uint8_t)next();
			break;
		case 1: /* truncate */
			n = next() % n;
			break;
		case 2: /* duplicate a span, if it fits */
			a = next() % n;
			b = next() % (n - a) % 64;
			if (n + b <= 2 * len + 16) {
				memmove(out + a + b, out + a, n - a);
				n += b;
			}
			break;
		default: /* an interesting byte */
			out[next() % n] =
			        (uint8_t) "\"{}[],:\\\0\n-0"[next() % 13];
			break;
		}
	}
	return n;
}

static int run_file(const char *path, unsigned mutations)
{
	char *data = NULL;
	uint8_t *buf;
	size_t len = 0;
	int r = read_file(path, 64u << 20, &data, &len);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	buf = malloc(2 * len + 16);
	if (buf == NULL)
		return 1;
	for (unsigned i = 0; i < mutations; i++)
		LLVMFuzzerTestOneInput(buf, mutate((uint8_t *)data, len, buf));
	free(buf);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned mutations = 0;
	int c, bad = 0;

	while ((c = getopt(argc, argv, "m:")) != -1) {
		if (c != 'm' ||
		    parse_u32(optarg, 0, 10000000, &mutations) < 0) {
			fprintf(stderr, "usage: %s [-m N] FILE...\n", argv[0]);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++)
		bad |= run_file(argv[i], mutations);
	printf("%d inputs, %u mutations each\n", argc - optind, mutations);
	return bad;
}
