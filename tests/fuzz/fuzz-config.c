/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c: a libFuzzer target over scim-cache's config parser
 * (and, through the id map parser, its state file format: the first byte
 * picks which).  See fuzz-scim.c for how it is built and run.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "idmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scim_config c;
	struct idmap m;
	char err[512];

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		idmap_init(&m, 1000, 2000000);
		idmap_parse(&m, (const char *)data + 1, size - 1, err,
		            sizeof(err));
		idmap_free(&m);
		return 0;
	}
	if (config_defaults(&c) < 0)
		return 0;
	config_parse(&c, "fuzz", (const char *)data + 1, size - 1, err,
	             sizeof(err));
	config_free(&c);
	return 0;
}
