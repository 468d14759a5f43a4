/* SPDX-License-Identifier: MIT */
/*
 * validate.c: what may be emitted as a name, a field or an id.
 *
 * The rules are a whitelist on purpose: a name ends up in /etc/passwd-shaped
 * text that other programs split on ':' and ',', in paths, and on command
 * lines, so anything unusual is refused rather than escaped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Classes of name bytes: NAME_OK for [A-Za-z0-9._-], NAME_DIGIT for
 * [0-9].  A table keeps the check a few instructions a byte: it runs on
 * every name of every answer, 500 members of a group included. */
#define NAME_OK    1u
#define NAME_DIGIT 2u
static const unsigned char name_class[256] = {
        ['.'] = NAME_OK,         ['_'] = NAME_OK,
        ['-'] = NAME_OK,         ['0' ... '9'] = NAME_OK | NAME_DIGIT,
        ['a' ... 'z'] = NAME_OK, ['A' ... 'Z'] = NAME_OK,
};

bool snap_name_valid(const char *name, size_t len)
{
	unsigned char all = NAME_OK | NAME_DIGIT;

	if (name == NULL || len == 0 || len > SNAP_NAME_MAX || name[0] == '-')
		return false;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return false;
	for (size_t i = 0; i < len; i++)
		all &= name_class[(unsigned char)name[i]];
	/* Every byte allowed, and not every byte a digit. */
	return (all & NAME_OK) && !(all & NAME_DIGIT);
}

/* Bytes a field may not hold: control characters and ':'.  A table keeps
 * this check cheap on the lookup path, where every answer is checked. */
static const unsigned char field_bad[256] = {
        [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
        [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
        [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
        [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
        [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
        [0x1e] = 1, [0x1f] = 1, [':'] = 1,  [0x7f] = 1,
};

bool snap_field_valid(const char *s, size_t len)
{
	unsigned char bad = 0;

	if (s == NULL || len > SNAP_FIELD_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		bad |= field_bad[(unsigned char)s[i]];
	return bad == 0;
}

bool snap_text_valid(const char *s, size_t len)
{
	if (s == NULL || len >= SNAP_SOURCE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

bool snap_id_valid(uint32_t id, uint32_t id_min, uint32_t id_max)
{
	return id != 0 && id >= id_min && id <= id_max && id <= SNAP_ID_LIMIT;
}
