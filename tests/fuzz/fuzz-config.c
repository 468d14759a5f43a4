/*
 * fuzz-config: arbitrary bytes as nss-scim.conf.  Parsing must either
 * succeed with values inside their documented ranges or fail with a
 * one-line reason naming the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scim_config c;
	char err[512] = "";
	int rc;

	memset(&c, 0, sizeof(c));
	if (config_defaults(&c) != 0)
		return 0;
	rc = config_parse(&c, "fuzz.conf", (const char *)data, size, err,
	                  sizeof(err));
	if (rc == 0) {
		if (c.uid_min == 0 || c.uid_min > c.uid_max)
			abort();
	} else if (strncmp(err, "fuzz.conf", 9) != 0 ||
	           strchr(err, '\n') != NULL) {
		abort(); /* errors name the file and fit on one line */
	}
	config_free(&c);
	return 0;
}
