/* SPDX-License-Identifier: MIT */
/* helpers.c: see helpers.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

int set_error(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int array_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want;
	void *p;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	if (want < *cap || want > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, want * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = want;
	return 0;
}
