/* SPDX-License-Identifier: MIT */
/*
 * fuzz-bundle.c: libFuzzer target for what a fleet host does with a
 * downloaded bundle: the signature check over any bytes (which must refuse
 * them, never crash), and the strict parser (which reads only signed
 * bundles in real use, but must hold on any input all the same).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct bundle_info info;
	struct model m;
	size_t signed_len;
	char err[512];

	if (key == NULL)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL)
		abort();
	/* Nothing random can carry a valid signature of a key made here. */
	if (bundle_verify((const char *)data, size, key, &signed_len, err,
	                  sizeof(err)) == 0)
		abort();
	if (bundle_parse((const char *)data, size, &info, &m, err,
	                 sizeof(err)) == 0) {
		if (m.nusers != info.npeople || m.ngroups != info.ngroups)
			abort();
		model_free(&m);
	}
	return 0;
}
