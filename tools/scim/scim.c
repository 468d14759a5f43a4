/* SPDX-License-Identifier: MIT */
/*
 * scim.c: see scim.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim.h"
#include "util.h"

#define JSON_DEPTH 64

/* An upper bound of what json-c allocates to parse BYTES: the text it
 * keeps (everything but white space between tokens), 1 kB an object, 256
 * bytes an array, 128 a value (see SCIM_JSONC_MAX). */
static size_t jsonc_cost(const char *bytes, size_t len)
{
	size_t objects = 0, arrays = 0, values = 1, text = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = bytes[i];

		if (in_string) {
			text++;
			if (c == '\\' && i + 1 < len) {
				i++;
				text++;
			} else if (c == '"') {
				in_string = false;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		text++;
		in_string = c == '"';
		objects += c == '{';
		arrays += c == '[';
		values += c == ',';
	}
	return text + 1024 * objects + 256 * arrays + 128 * values;
}

/* Parses the whole of BYTES as one JSON value with TOK, fresh or reset;
 * NULL when it is not, or when json-c would need more than
 * SCIM_JSONC_MAX for it. */
static json_object *parse_with(json_tokener *tok, const char *bytes, size_t len,
                               char *err, size_t errlen)
{
	size_t cost = jsonc_cost(bytes, len);
	json_object *o;

	if (cost > SCIM_JSONC_MAX) {
		set_error(err, errlen, 0,
		          "response too complex: parsing it would take about "
		          "%zu MB (at most %u MB)",
		          cost >> 20, SCIM_JSONC_MAX >> 20);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, bytes, (int)len);

	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		set_error(err, errlen, 0, "invalid JSON: %s",
		          e == json_tokener_continue
		                  ? "truncated body"
		                  : json_tokener_error_desc(e));
		json_object_put(o);
		return NULL;
	}
	/* Trailing white space is fine; anything else is not. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", bytes[i])) {
			set_error(err, errlen, 0,
			          "invalid JSON: data after the value");
			json_object_put(o);
			return NULL;
		}
	return o;
}

/* Parses the whole of BYTES as one JSON value; NULL when it is not. */
static json_object *parse_json_depth(const char *bytes, size_t len, int depth,
                                     char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o;

	if (len > INT_MAX) {
		set_error(err, errlen, 0, "response too large");
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (tok == NULL) {
		set_error(err, errlen, 0, "out of memory");
		return NULL;
	}
	o = parse_with(tok, bytes, len, err, errlen);
	json_tokener_free(tok);
	return o;
}

static json_object *parse_json(const char *bytes, size_t len, char *err,
                               size_t errlen)
{
	return parse_json_depth(bytes, len, JSON_DEPTH, err, errlen);
}

/* The value of attribute NAME in object O, case-insensitively; NULL when O
 * is not an object or has no such attribute. */
static json_object *attr(json_object *o, const char *name)
{
	if (!json_object_is_type(o, json_type_object))
		return NULL;
	json_object_object_foreach(o, key, val)
	{
		if (strcasecmp(key, name) == 0)
			return val;
	}
	return NULL;
}

/* A copy of the string attribute NAME; NULL when absent, not a string or
 * holding a NUL.  *OOM is set when the copy failed. */
static char *attr_str(json_object *o, const char *name, bool *oom)
{
	json_object *v = attr(o, name);
	const char *s;
	size_t len;
	char *c;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len) != NULL)
		return NULL;
	c = strndup(s, len);
	if (c == NULL)
		*oom = true;
	return c;
}

static bool attr_bool(json_object *o, const char *name, bool dflt)
{
	json_object *v = attr(o, name);

	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	/* Some servers send "true"/"false" as strings. */
	if (json_object_is_type(v, json_type_string)) {
		if (strcasecmp(json_object_get_string(v), "false") == 0)
			return false;
		if (strcasecmp(json_object_get_string(v), "true") == 0)
			return true;
	}
	return dflt;
}

/* "active": only JSON true is active; see struct scim_res. */
static void parse_active(json_object *u, struct scim_res *r)
{
	json_object *v = NULL;
	bool present = false;

	/* attr() cannot tell a null value from no attribute. */
	if (json_object_is_type(u, json_type_object)) {
		json_object_object_foreach(u, key, val)
		{
			if (strcasecmp(key, "active") == 0) {
				v = val;
				present = true;
				break;
			}
		}
	}
	if (!present) {
		r->active = true;
		r->active_attr = SCIM_ACTIVE_ABSENT;
	} else if (json_object_is_type(v, json_type_boolean)) {
		r->active = json_object_get_boolean(v);
		r->active_attr = SCIM_ACTIVE_BOOL;
	} else {
		r->active = false;
		r->active_attr = SCIM_ACTIVE_OTHER;
	}
}

/* The primary email's value, else the first one's. */
static char *primary_email(json_object *u, bool *oom)
{
	json_object *emails = attr(u, "emails");
	size_t n;

	if (!json_object_is_type(emails, json_type_array))
		return NULL;
	n = json_object_array_length(emails);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(emails, i);

		if (attr_bool(e, "primary", false))
			return attr_str(e, "value", oom);
	}
	return n ? attr_str(json_object_array_get_idx(emails, 0), "value", oom)
	         : NULL;
}

static void parse_user(json_object *u, struct scim_res *r, bool *oom)
{
	json_object *name = attr(u, "name");

	r->name = attr_str(u, "userName", oom);
	r->formatted = attr_str(name, "formatted", oom);
	r->given = attr_str(name, "givenName", oom);
	r->family = attr_str(name, "familyName", oom);
	r->display = attr_str(u, "displayName", oom);
	r->email = primary_email(u, oom);
	parse_active(u, r);
}

static bool member_is_group(json_object *m)
{
	json_object *t = attr(m, "type");

	return json_object_is_type(t, json_type_string) &&
	       strcasecmp(json_object_get_string(t), "Group") == 0;
}

/* The member id of element M, or NULL (a group, no string "value", or one
 * holding a NUL); *LEN gets its length. */
static const char *member_id(json_object *m, size_t *len)
{
	json_object *v;
	const char *s;

	if (member_is_group(m))
		return NULL;
	v = attr(m, "value");
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return memchr(s, '\0', *len) == NULL ? s : NULL;
}

/* The members go into one allocation, the pointer array followed by the
 * strings: a group of 5,000 costs one malloc, not 5,001. */
static int parse_members(json_object *ms, struct scim_res *r, bool *oom,
                         char *err, size_t errlen)
{
	size_t n = json_object_array_length(ms), bytes = 0, len;
	char *at;

	if (n > SCIM_GROUP_MEMBERS_MAX)
		return set_error(err, errlen, -EBADMSG,
		                 "group with %zu members", n);
	for (size_t i = 0; i < n; i++)
		if (member_id(json_object_array_get_idx(ms, i), &len) != NULL)
			bytes += len + 1;
	r->members = malloc((n ? n : 1) * sizeof(*r->members) + bytes);
	if (r->members == NULL) {
		*oom = true;
		return -ENOMEM;
	}
	at = (char *)(r->members + (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		const char *v =
		        member_id(json_object_array_get_idx(ms, i), &len);

		if (v == NULL)
			continue;
		memcpy(at, v, len);
		at[len] = '\0';
		r->members[r->nmembers++] = at;
		at += len + 1;
	}
	return 0;
}

static int parse_group(json_object *g, struct scim_res *r, bool *oom, char *err,
                       size_t errlen)
{
	json_object *ms = attr(g, "members");

	r->name = attr_str(g, "displayName", oom);
	if (json_object_is_type(ms, json_type_array)) {
		r->has_members = true;
		return parse_members(ms, r, oom, err, errlen);
	}
	return 0;
}

#define RES_NSTRINGS 7

static void res_strings(struct scim_res *r, char **f[RES_NSTRINGS])
{
	f[0] = &r->id; /* first: the block starts with it */
	f[1] = &r->name;
	f[2] = &r->formatted;
	f[3] = &r->given;
	f[4] = &r->family;
	f[5] = &r->display;
	f[6] = &r->email;
}

/* Moves R's strings, each a malloc of its own, into one allocation that
 * starts with id (see scim.h): one malloc a person instead of seven.
 * Returns 0 or -ENOMEM (R unchanged). */
static int pack_strings(struct scim_res *r)
{
	char **f[RES_NSTRINGS], *block;
	size_t total = 0, off = 0;

	res_strings(r, f);
	for (size_t i = 0; i < RES_NSTRINGS; i++)
		if (*f[i] != NULL)
			total += strlen(*f[i]) + 1;
	block = malloc(total ? total : 1);
	if (block == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < RES_NSTRINGS; i++) {
		size_t len;

		if (*f[i] == NULL)
			continue;
		len = strlen(*f[i]) + 1;
		memcpy(block + off, *f[i], len);
		free(*f[i]);
		*f[i] = block + off;
		off += len;
	}
	return 0;
}

/* Frees a resource whose strings are not packed yet. */
static void res_clear_unpacked(struct scim_res *r)
{
	char **f[RES_NSTRINGS];

	res_strings(r, f);
	for (size_t i = 0; i < RES_NSTRINGS; i++)
		free(*f[i]);
	free(r->members);
	*r = (struct scim_res){0};
}

static int parse_res(json_object *o, enum scim_kind kind, struct scim_res *r,
                     char *err, size_t errlen)
{
	bool oom = false;
	int rc = 0;

	*r = (struct scim_res){0};
	if (!json_object_is_type(o, json_type_object))
		return set_error(err, errlen, -EBADMSG,
		                 "a resource is not an object");
	r->id = attr_str(o, "id", &oom);
	if (r->id == NULL && !oom)
		return set_error(err, errlen, -EBADMSG,
		                 "a resource has no string \"id\"");
	if (kind == SCIM_USERS)
		parse_user(o, r, &oom);
	else
		rc = parse_group(o, r, &oom, err, errlen);
	if (!oom && rc == 0 && pack_strings(r) < 0)
		oom = true;
	if (oom)
		rc = set_error(err, errlen, -ENOMEM, "out of memory");
	if (rc < 0)
		res_clear_unpacked(r);
	return rc;
}

/* A number attribute that may arrive as a JSON number or a numeric
 * string. */
static bool attr_int(json_object *o, const char *name, int64_t *out)
{
	json_object *v = attr(o, name);
	uint64_t u;

	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string) &&
	    parse_u64(json_object_get_string(v), 0, INT64_MAX, &u) == 0) {
		*out = (int64_t)u;
		return true;
	}
	return false;
}

static int parse_resources(json_object *arr, enum scim_kind kind,
                           struct scim_page *p, char *err, size_t errlen)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	int rc = 0;

	if (n > SCIM_PAGE_MAX)
		return set_error(err, errlen, -EBADMSG,
		                 "%zu resources in one page", n);
	p->res = calloc(n ? n : 1, sizeof(*p->res));
	if (p->res == NULL)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = parse_res(json_object_array_get_idx(arr, i), kind,
		               &p->res[i], err, errlen);
		if (rc == 0)
			p->nres++;
	}
	return rc;
}

static int parse_list_obj(json_object *o, enum scim_kind kind,
                          struct scim_page *p, char *err, size_t errlen)
{
	json_object *arr;

	if (!json_object_is_type(o, json_type_object))
		return set_error(err, errlen, -EBADMSG,
		                 "the response is not a JSON object");
	if (!attr_int(o, "totalResults", &p->total) || p->total < 0)
		return set_error(err, errlen, -EBADMSG,
		                 "the response has no valid \"totalResults\"");
	if (!attr_int(o, "startIndex", &p->start_index))
		p->start_index = -1;
	arr = attr(o, "Resources");
	if (arr == NULL || json_object_is_type(arr, json_type_null))
		return parse_resources(NULL, kind, p, err, errlen);
	if (!json_object_is_type(arr, json_type_array))
		return set_error(err, errlen, -EBADMSG,
		                 "\"Resources\" is not an array");
	return parse_resources(arr, kind, p, err, errlen);
}

/* ---- one resource at a time ------------------------------------------- */

/* json-c spends about 1 kB on every object it builds, so a page of 1,000
 * groups of 100 members (7 MB of JSON) became 100 MB of objects.  For a
 * plain JSON body the "Resources" array is therefore cut into its elements
 * by a structural scan and each element is read on its own; the rest of
 * the body, with the array emptied, goes through json-c as before.  The
 * scan accepts only what it is sure to cut as json-c would (double-quoted
 * strings, brackets, no comments or single quotes, one "Resources" key);
 * anything else, and any failure at all, falls back to parsing the whole
 * body at once, which stays the single authority on errors. */

struct span {
	size_t at, len;
};

static size_t skip_ws(const char *b, size_t len, size_t i)
{
	while (i < len && strchr(" \t\r\n", b[i]) != NULL && b[i] != '\0')
		i++;
	return i;
}

/* The end of the string starting at B[I] (a '"'), or 0. */
static size_t skip_string(const char *b, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (b[i] == '\\')
			i++;
		else if (b[i] == '"')
			return i + 1;
	}
	return 0;
}

/* The end of the value starting at B[I], or 0 when it is not plain JSON
 * structure. */
static size_t skip_value(const char *b, size_t len, size_t i)
{
	size_t depth = 0;

	while (i < len) {
		char c = b[i];

		if (c == '"') {
			i = skip_string(b, len, i);
			if (i == 0)
				return 0;
		} else if (c == '{' || c == '[') {
			if (++depth > JSON_DEPTH)
				return 0;
			i++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			i++;
			if (--depth == 0)
				return i;
		} else if (c == '\'' || c == '/' || c == '\0') {
			return 0;
		} else if (depth == 0 && (c == ',' || strchr(" \t\r\n", c))) {
			return i;
		} else {
			i++;
		}
	}
	return depth == 0 ? i : 0;
}

/* ---- the fast reader ---------------------------------------------------- */

/* Building and freeing json-c objects for every element was half the CPU
 * of a refresh, so the fast reader reads an element straight into a
 * struct scim_res, but only while it keeps to a subset of JSON whose
 * meaning is beyond doubt: objects, arrays, strings without control
 * bytes, integers of at most 15 digits without a leading zero, and
 * lower-case true, false and null.  A string it hands over must hold no
 * escape (json-c decodes them, the reader does not), and an object it
 * reads attributes from must not name the same one twice in any case
 * (attr() takes the first such key, json-c the last value of a repeated
 * one).  On anything else it declines and the element goes through
 * json-c exactly as before: the reader never decides what json-c would
 * have refused or read otherwise. */

/* A json-c tokener of depth D refuses a value inside D - 1 containers or
 * more.  An element is parsed on its own with this depth, which leaves
 * room for the page's two levels around it. */
#define ELEM_DEPTH (JSON_DEPTH - 3)

unsigned scim_parse_test_flags;

struct str {
	const char *p; /* NULL when absent */
	size_t len;
};

struct reader {
	const char *b;
	size_t len, i; /* the body's length, and the cursor */
	unsigned depth;
	json_tokener *tok; /* for the elements the reader declines */
	/* Member ids of the group being read, reused for the next one. */
	struct str *m;
	size_t nm, mcap;
};

/* What the reader took from one element; the strings point into the
 * body. */
struct fast_res {
	struct str s[RES_NSTRINGS]; /* in res_strings() order */
	bool active;
	uint8_t active_attr;
	bool has_members;
	size_t nelems; /* elements of "members", whether ids or not */
};

enum { S_ID, S_NAME, S_FORMATTED, S_GIVEN, S_FAMILY, S_DISPLAY, S_EMAIL };

/* The bytes that end the plain run of a string: its quote, an escape, and
 * the control bytes (NUL among them) that make the reader decline. */
static const unsigned char str_stop[256] = {
        [0x00 ... 0x1f] = 1,
        ['"'] = 1,
        ['\\'] = 1,
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next byte after white space, without taking it; NUL at the end,
 * which no caller accepts, as the reader declines a NUL anywhere. */
static char rd_peek(struct reader *r)
{
	while (r->i < r->len && is_ws(r->b[r->i]))
		r->i++;
	return r->i < r->len ? r->b[r->i] : '\0';
}

/* A scalar must be followed by white space or what closes it. */
static bool rd_ends_scalar(const struct reader *r)
{
	return r->i < r->len && (is_ws(r->b[r->i]) || r->b[r->i] == ',' ||
	                         r->b[r->i] == '}' || r->b[r->i] == ']');
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Steps over the escape at B[*I] when it is one json-c surely decodes to
 * something: the two-byte escapes and \uXXXX outside the surrogates. */
static bool skip_escape(const unsigned char *b, size_t len, size_t *i)
{
	size_t at = *i + 1;
	unsigned cp = 0;

	if (at >= len)
		return false;
	if (b[at] != '\0' && strchr("\"\\/bfnrt", b[at]) != NULL) {
		*i = at + 1;
		return true;
	}
	if (b[at] != 'u' || len - at < 5)
		return false;
	for (size_t k = 1; k <= 4; k++) {
		int v = hex_value(b[at + k]);

		if (v < 0)
			return false;
		cp = cp << 4 | (unsigned)v;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return false;
	*i = at + 5;
	return true;
}

/* Reads the string at the cursor (a '"').  With OUT the string may hold
 * no escape, and *OUT gets its bytes. */
static bool rd_string(struct reader *r, struct str *out)
{
	const unsigned char *b = (const unsigned char *)r->b;
	size_t i = r->i + 1, start = i;

	for (;;) {
		while (i < r->len && !str_stop[b[i]])
			i++;
		if (i >= r->len || b[i] < 0x20)
			return false;
		if (b[i] == '"')
			break;
		if (out != NULL || !skip_escape(b, r->len, &i))
			return false;
	}
	if (out != NULL)
		*out = (struct str){r->b + start, i - start};
	r->i = i + 1;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool rd_number(struct reader *r)
{
	size_t digits = 0;

	if (r->i < r->len && r->b[r->i] == '-')
		r->i++;
	if (r->i < r->len && r->b[r->i] == '0') {
		r->i++;
		return rd_ends_scalar(r);
	}
	while (r->i < r->len && is_digit(r->b[r->i]) && digits < 15) {
		r->i++;
		digits++;
	}
	return digits > 0 && rd_ends_scalar(r);
}

static bool rd_literal(struct reader *r, const char *word, size_t n)
{
	if (r->len - r->i < n || memcmp(r->b + r->i, word, n) != 0)
		return false;
	r->i += n;
	return rd_ends_scalar(r);
}

/* Enters the object or array (OPEN) at the cursor. */
static bool rd_enter(struct reader *r, char open)
{
	if (rd_peek(r) != open)
		return false;
	r->depth++;
	r->i++;
	return true;
}

struct name {
	const char *s;
	size_t len;
};

/* clang-format off */
#define NAME(s) {s, sizeof(s) - 1}
/* clang-format on */

/* Attribute names an object is read for, and those met so far. */
struct obj {
	const struct name *names;
	size_t nnames;
	unsigned seen;
	bool started;
};

/* Whether S is WORD in any case, as strcasecmp() would say of a string
 * without NUL. */
static bool str_is(struct str s, const char *word, size_t n)
{
	return s.len == n && strncasecmp(s.p, word, n) == 0;
}

/* Which of O's names KEY is: its index, or -1 for none; -2 when it was
 * met before. */
static int match_key(struct obj *o, struct str key)
{
	for (size_t k = 0; k < o->nnames; k++) {
		if (!str_is(key, o->names[k].s, o->names[k].len))
			continue;
		if (o->seen & 1u << k)
			return -2;
		o->seen |= 1u << k;
		return (int)k;
	}
	return -1;
}

/* Moves to the next member of the object entered: 1 with the cursor at
 * its value and *K the index of its name in O (-1 for none), 0 past the
 * closing brace, -1 to decline (also when the value would be nested too
 * deep for json-c). */
static int rd_next_key(struct reader *r, struct obj *o, int *k)
{
	struct str key;
	char c = rd_peek(r);

	if (c == '}') {
		r->i++;
		r->depth--;
		return 0;
	}
	if (o->started) {
		if (c != ',')
			return -1;
		r->i++;
		c = rd_peek(r);
	}
	o->started = true;
	if (c != '"' || !rd_string(r, o->names != NULL ? &key : NULL) ||
	    rd_peek(r) != ':')
		return -1;
	r->i++;
	*k = o->names != NULL ? match_key(o, key) : -1;
	return *k == -2 || r->depth >= ELEM_DEPTH ? -1 : 1;
}

/* Moves to the next element of the array entered: 1 with the cursor at
 * it, 0 past the closing bracket, -1 to decline (as for rd_next_key). */
static int rd_next_elem(struct reader *r, bool *started)
{
	char c = rd_peek(r);

	if (c == ']') {
		r->i++;
		r->depth--;
		return 0;
	}
	if (*started) {
		if (c != ',')
			return -1;
		r->i++;
	}
	*started = true;
	return r->depth >= ELEM_DEPTH ? -1 : 1;
}

static bool rd_skip(struct reader *r);

static bool rd_skip_object(struct reader *r)
{
	struct obj o = {0};
	int rc, k;

	if (!rd_enter(r, '{'))
		return false;
	while ((rc = rd_next_key(r, &o, &k)) > 0)
		if (!rd_skip(r))
			return false;
	return rc == 0;
}

static bool rd_skip_array(struct reader *r)
{
	bool started = false;
	int rc;

	if (!rd_enter(r, '['))
		return false;
	while ((rc = rd_next_elem(r, &started)) > 0)
		if (!rd_skip(r))
			return false;
	return rc == 0;
}

/* Steps over the value at the cursor. */
static bool rd_skip(struct reader *r)
{
	switch (rd_peek(r)) {
	case '"':
		return rd_string(r, NULL);
	case '{':
		return rd_skip_object(r);
	case '[':
		return rd_skip_array(r);
	case 't':
		return rd_literal(r, "true", 4);
	case 'f':
		return rd_literal(r, "false", 5);
	case 'n':
		return rd_literal(r, "null", 4);
	default:
		return rd_number(r);
	}
}

/* A string attribute, as attr_str() reads it: *OUT is left absent unless
 * the value is a string. */
static bool rd_attr_str(struct reader *r, struct str *out)
{
	if (rd_peek(r) != '"')
		return rd_skip(r);
	return rd_string(r, out);
}

/* A boolean attribute, as attr_bool() reads it: *VAL is left as it is
 * unless the value is a boolean or says one. */
static bool rd_attr_bool(struct reader *r, bool *val)
{
	struct str s;

	switch (rd_peek(r)) {
	case 't':
		*val = true;
		return rd_literal(r, "true", 4);
	case 'f':
		*val = false;
		return rd_literal(r, "false", 5);
	case '"':
		if (!rd_string(r, &s))
			return false;
		if (str_is(s, "false", 5))
			*val = false;
		else if (str_is(s, "true", 4))
			*val = true;
		return true;
	default:
		return rd_skip(r);
	}
}

/* A user's "active", as parse_active() reads it. */
static bool rd_active(struct reader *r, struct fast_res *f)
{
	f->active = false;
	f->active_attr = SCIM_ACTIVE_BOOL;
	switch (rd_peek(r)) {
	case 't':
		f->active = true;
		return rd_literal(r, "true", 4);
	case 'f':
		return rd_literal(r, "false", 5);
	default:
		f->active_attr = SCIM_ACTIVE_OTHER;
		return rd_skip(r);
	}
}

static const struct name name_attrs[] = {NAME("formatted"), NAME("givenName"),
                                         NAME("familyName")};

/* The "name" of a user. */
static bool rd_name(struct reader *r, struct fast_res *f)
{
	static const int dst[] = {S_FORMATTED, S_GIVEN, S_FAMILY};
	struct obj o = {name_attrs, 3, 0, false};
	int rc, k;

	if (rd_peek(r) != '{')
		return rd_skip(r);
	if (!rd_enter(r, '{'))
		return false;
	while ((rc = rd_next_key(r, &o, &k)) > 0)
		if (!(k >= 0 ? rd_attr_str(r, &f->s[dst[k]]) : rd_skip(r)))
			return false;
	return rc == 0;
}

static const struct name email_attrs[] = {NAME("value"), NAME("primary")};

/* One element of "emails": its value and whether it is primary. */
static bool rd_email(struct reader *r, struct str *value, bool *primary)
{
	struct obj o = {email_attrs, 2, 0, false};
	int rc, k;

	if (rd_peek(r) != '{')
		return rd_skip(r);
	if (!rd_enter(r, '{'))
		return false;
	while ((rc = rd_next_key(r, &o, &k)) > 0) {
		bool ok = k == 0   ? rd_attr_str(r, value)
		          : k == 1 ? rd_attr_bool(r, primary)
		                   : rd_skip(r);

		if (!ok)
			return false;
	}
	return rc == 0;
}

/* The email primary_email() picks. */
static bool rd_emails(struct reader *r, struct str *email)
{
	struct str first = {0}, pick = {0};
	bool started = false, picked = false;
	size_t n = 0;
	int rc;

	if (rd_peek(r) != '[')
		return rd_skip(r);
	if (!rd_enter(r, '['))
		return false;
	while ((rc = rd_next_elem(r, &started)) > 0) {
		struct str v = {0};
		bool primary = false;

		if (!rd_email(r, &v, &primary))
			return false;
		if (n++ == 0)
			first = v;
		if (!picked && primary) {
			pick = v;
			picked = true;
		}
	}
	*email = picked ? pick : first;
	return rc == 0;
}

static const struct name member_attrs[] = {NAME("value"), NAME("type")};

/* One element of "members": *ID is left absent for a group, a non-object
 * or a value that is not a string. */
static bool rd_member(struct reader *r, struct str *id)
{
	struct obj o = {member_attrs, 2, 0, false};
	struct str type = {0}, v = {0};
	int rc, k;

	if (rd_peek(r) != '{')
		return rd_skip(r);
	if (!rd_enter(r, '{'))
		return false;
	while ((rc = rd_next_key(r, &o, &k)) > 0)
		if (!(k >= 0 ? rd_attr_str(r, k == 0 ? &v : &type)
		             : rd_skip(r)))
			return false;
	if (rc != 0)
		return false;
	if (type.p == NULL || !str_is(type, "Group", 5))
		*id = v;
	return true;
}

static bool push_member(struct reader *r, struct str id)
{
	if (r->nm == r->mcap) {
		size_t cap = r->mcap ? r->mcap * 2 : 256;
		struct str *m = realloc(r->m, cap * sizeof(*m));

		if (m == NULL)
			return false;
		r->m = m;
		r->mcap = cap;
	}
	r->m[r->nm++] = id;
	return true;
}

/* The "members" of a group; a list too long for parse_members() is left
 * to it, to report. */
static bool rd_members(struct reader *r, struct fast_res *f)
{
	bool started = false;
	int rc;

	if (rd_peek(r) != '[')
		return rd_skip(r);
	if (!rd_enter(r, '['))
		return false;
	f->has_members = true;
	while ((rc = rd_next_elem(r, &started)) > 0) {
		struct str id = {0};

		if (f->nelems == SCIM_GROUP_MEMBERS_MAX || !rd_member(r, &id))
			return false;
		f->nelems++;
		if (id.p != NULL && !push_member(r, id))
			return false;
	}
	return rc == 0;
}

static const struct name user_attrs[] = {NAME("id"),     NAME("userName"),
                                         NAME("name"),   NAME("displayName"),
                                         NAME("emails"), NAME("active")};
static const struct name group_attrs[] = {NAME("id"), NAME("displayName"),
                                          NAME("members")};

static bool rd_user_attr(struct reader *r, int k, struct fast_res *f)
{
	switch (k) {
	case 0:
		return rd_attr_str(r, &f->s[S_ID]);
	case 1:
		return rd_attr_str(r, &f->s[S_NAME]);
	case 2:
		return rd_name(r, f);
	case 3:
		return rd_attr_str(r, &f->s[S_DISPLAY]);
	case 4:
		return rd_emails(r, &f->s[S_EMAIL]);
	case 5:
		return rd_active(r, f);
	default:
		return rd_skip(r);
	}
}

static bool rd_group_attr(struct reader *r, int k, struct fast_res *f)
{
	switch (k) {
	case 0:
		return rd_attr_str(r, &f->s[S_ID]);
	case 1:
		return rd_attr_str(r, &f->s[S_NAME]);
	case 2:
		return rd_members(r, f);
	default:
		return rd_skip(r);
	}
}

/* Reads the element at the cursor into *F; false to decline, also when it
 * would be an error (json-c then reports it). */
static bool rd_res(struct reader *r, enum scim_kind kind, struct fast_res *f)
{
	struct obj o = {kind == SCIM_USERS ? user_attrs : group_attrs,
	                kind == SCIM_USERS ? 6 : 3, 0, false};
	int rc, k;

	*f = (struct fast_res){.active = true,
	                       .active_attr = SCIM_ACTIVE_ABSENT};
	r->depth = 0;
	r->nm = 0;
	if (!rd_enter(r, '{'))
		return false;
	while ((rc = rd_next_key(r, &o, &k)) > 0) {
		bool ok = kind == SCIM_USERS ? rd_user_attr(r, k, f)
		                             : rd_group_attr(r, k, f);

		if (!ok)
			return false;
	}
	return rc == 0 && f->s[S_ID].p != NULL;
}

/* The members of F into R as parse_members() lays them out. */
static int fill_members(const struct reader *r, const struct fast_res *f,
                        struct scim_res *res)
{
	size_t n = f->nelems, bytes = 0;
	char *at;

	for (size_t i = 0; i < r->nm; i++)
		bytes += r->m[i].len + 1;
	res->members = malloc((n ? n : 1) * sizeof(*res->members) + bytes);
	if (res->members == NULL)
		return -ENOMEM;
	at = (char *)(res->members + (n ? n : 1));
	for (size_t i = 0; i < r->nm; i++) {
		memcpy(at, r->m[i].p, r->m[i].len);
		at[r->m[i].len] = '\0';
		res->members[res->nmembers++] = at;
		at += r->m[i].len + 1;
	}
	res->has_members = true;
	return 0;
}

/* F into *OUT as parse_res() would have made it: 0 or -ENOMEM. */
static int fill_res(const struct reader *r, const struct fast_res *f,
                    enum scim_kind kind, struct scim_res *out)
{
	struct scim_res res = {0};
	char **dst[RES_NSTRINGS], *block;
	size_t total = 0, off = 0;

	for (size_t i = 0; i < RES_NSTRINGS; i++)
		if (f->s[i].p != NULL)
			total += f->s[i].len + 1;
	block = malloc(total);
	if (block == NULL)
		return -ENOMEM;
	res_strings(&res, dst);
	for (size_t i = 0; i < RES_NSTRINGS; i++) {
		if (f->s[i].p == NULL)
			continue;
		memcpy(block + off, f->s[i].p, f->s[i].len);
		block[off + f->s[i].len] = '\0';
		*dst[i] = block + off;
		off += f->s[i].len + 1;
	}
	if (kind == SCIM_USERS) {
		res.active = f->active;
		res.active_attr = f->active_attr;
	} else if (f->has_members && fill_members(r, f, &res) < 0) {
		free(block);
		return -ENOMEM;
	}
	*out = res;
	return 0;
}

/* Reads the element at the cursor into *OUT, with the fast reader or else
 * json-c, and moves past it; false to fall back. */
static bool read_element(struct reader *r, enum scim_kind kind,
                         struct scim_res *out)
{
	size_t at = r->i, end;
	struct fast_res f;
	json_object *o;
	int rc;

	if (!(scim_parse_test_flags & SCIM_PARSE_NO_FAST) &&
	    rd_res(r, kind, &f) && fill_res(r, &f, kind, out) == 0)
		return true;
	end = skip_value(r->b, r->len, at);
	if (end == 0 || end == at)
		return false;
	json_tokener_reset(r->tok);
	o = parse_with(r->tok, r->b + at, end - at, NULL, 0);
	rc = o ? parse_res(o, kind, out, NULL, 0) : -1;
	json_object_put(o);
	r->i = end;
	return rc == 0;
}

/* Reads the elements of the array at the cursor into P and moves past
 * it; false to fall back. */
static bool read_elements(struct reader *r, enum scim_kind kind,
                          struct scim_page *p)
{
	size_t cap = 0;

	r->i++;
	if (rd_peek(r) == ']') {
		r->i++;
		return true;
	}
	for (;;) {
		char c;

		if (p->nres == SCIM_PAGE_MAX)
			return false;
		if (p->nres == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct scim_res *t =
			        realloc(p->res, ncap * sizeof(*p->res));

			if (t == NULL)
				return false;
			p->res = t;
			cap = ncap;
		}
		rd_peek(r);
		if (!read_element(r, kind, &p->res[p->nres]))
			return false;
		p->nres++;
		c = rd_peek(r);
		r->i++;
		if (c == ']')
			return true;
		/* A comma, then another element: no trailing comma. */
		if (c != ',' || rd_peek(r) == ']')
			return false;
	}
}

/* Reads the elements of the only key that matches "Resources" in the
 * object at the start of the body into P, and where that array lies into
 * *A.  False when there is no such key, several, or the body is not plain
 * structure, or an element cannot be read. */
static bool read_resources(struct reader *r, enum scim_kind kind,
                           struct scim_page *p, struct span *a)
{
	const char *b = r->b;
	size_t len = r->len, i = skip_ws(b, len, 0), found = 0;

	if (i >= len || b[i] != '{')
		return false;
	for (i = skip_ws(b, len, i + 1); i < len && b[i] != '}';) {
		size_t k = i, v;
		bool match;

		if (b[i] != '"' || (i = skip_string(b, len, i)) == 0)
			return false;
		/* An escape in a key might spell "Resources". */
		if (memchr(b + k, '\\', i - k) != NULL)
			return false;
		match = i - k == 11 &&
		        strncasecmp(b + k + 1, "Resources", 9) == 0;
		i = skip_ws(b, len, i);
		if (i >= len || b[i] != ':')
			return false;
		v = skip_ws(b, len, i + 1);
		if (match) {
			if (found++ || v >= len || b[v] != '[')
				return false;
			r->i = v;
			if (!read_elements(r, kind, p))
				return false;
			i = r->i;
			*a = (struct span){v, i - v};
		} else {
			i = skip_value(b, len, v);
			if (i == 0 || i == v)
				return false;
		}
		i = skip_ws(b, len, i);
		if (i < len && b[i] == ',')
			i = skip_ws(b, len, i + 1);
	}
	return found == 1;
}

/* The body with the array at A replaced by "[]"; NULL when out of memory. */
static char *without_array(const char *b, size_t len, struct span a,
                           size_t *outlen)
{
	char *c = malloc(len - a.len + 3);

	if (c == NULL)
		return NULL;
	memcpy(c, b, a.at);
	memcpy(c + a.at, "[]", 2);
	memcpy(c + a.at + 2, b + a.at + a.len, len - a.at - a.len);
	*outlen = len - a.len + 2;
	c[*outlen] = '\0';
	return c;
}

/* Takes totalResults and startIndex into P from the body with its
 * "Resources" emptied; -1 unless json-c reads it as a page. */
static int parse_envelope(const char *bytes, size_t len, struct span a,
                          enum scim_kind kind, struct scim_page *p)
{
	struct scim_page env = {0};
	json_object *o = NULL;
	size_t clen;
	char *copy = without_array(bytes, len, a, &clen);
	int rc = -1;

	if (copy != NULL)
		o = parse_json(copy, clen, NULL, 0);
	if (o != NULL && parse_list_obj(o, kind, &env, NULL, 0) == 0 &&
	    env.nres == 0) {
		p->total = env.total;
		p->start_index = env.start_index;
		rc = 0;
	}
	scim_page_clear(&env);
	json_object_put(o);
	free(copy);
	return rc;
}

/* The fast path of scim_parse_list(): 0 with *OUT filled, or -1 when the
 * whole body must be parsed at once instead. */
static int parse_list_split(const char *bytes, size_t len, enum scim_kind kind,
                            struct scim_page *out)
{
	struct reader r = {.b = bytes, .len = len};
	struct scim_page p = {0};
	struct span a;
	int rc = -1;

	if (len > INT_MAX)
		return -1;
	r.tok = json_tokener_new_ex(ELEM_DEPTH);
	if (r.tok != NULL && read_resources(&r, kind, &p, &a) &&
	    parse_envelope(bytes, len, a, kind, &p) == 0)
		rc = 0;
	if (rc == 0 && p.res == NULL &&
	    (p.res = calloc(1, sizeof(*p.res))) == NULL)
		rc = -1;
	if (r.tok != NULL)
		json_tokener_free(r.tok);
	free(r.m);
	if (rc < 0) {
		scim_page_clear(&p);
		return -1;
	}
	*out = p;
	return 0;
}

int scim_parse_list(const char *bytes, size_t len, enum scim_kind kind,
                    struct scim_page *out, char *err, size_t errlen)
{
	struct scim_page p = {0};
	json_object *o;
	int rc;

	if (!(scim_parse_test_flags & SCIM_PARSE_NO_SPLIT) &&
	    parse_list_split(bytes, len, kind, out) == 0)
		return 0;
	if (scim_parse_test_flags & SCIM_PARSE_NO_FALLBACK)
		return set_error(err, errlen, -EAGAIN,
		                 "not read element by element");
	o = parse_json(bytes, len, err, errlen);
	if (o == NULL)
		return -EBADMSG;
	rc = parse_list_obj(o, kind, &p, err, errlen);
	json_object_put(o);
	if (rc < 0) {
		scim_page_clear(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int scim_parse_resource(const char *bytes, size_t len, enum scim_kind kind,
                        struct scim_res *out, char *err, size_t errlen)
{
	json_object *o;
	int rc;

	o = parse_json(bytes, len, err, errlen);
	if (o == NULL)
		return -EBADMSG;
	rc = parse_res(o, kind, out, err, errlen);
	json_object_put(o);
	return rc;
}

static void copy_printable(json_object *o, const char *name, char *dst,
                           size_t dstlen)
{
	json_object *v = attr(o, name);

	dst[0] = '\0';
	if (json_object_is_type(v, json_type_string))
		printable(dst, dstlen, json_object_get_string(v),
		          (size_t)json_object_get_string_len(v));
}

void scim_parse_error_detail(const char *bytes, size_t len, char *detail,
                             size_t detaillen)
{
	json_object *o = parse_json(bytes, len, NULL, 0);

	detail[0] = '\0';
	if (o != NULL)
		copy_printable(o, "detail", detail, detaillen);
	json_object_put(o);
}

int scim_parse_health(const char *bytes, size_t len, char *version,
                      size_t versionlen, char *build, size_t buildlen)
{
	json_object *o = parse_json(bytes, len, NULL, 0);
	int rc = 0;

	version[0] = build[0] = '\0';
	if (!json_object_is_type(o, json_type_object))
		rc = -EBADMSG;
	else {
		copy_printable(o, "version", version, versionlen);
		copy_printable(o, "build", build, buildlen);
	}
	json_object_put(o);
	return rc;
}

void scim_res_clear(struct scim_res *r)
{
	free(r->id); /* and every other string: see scim.h */
	free(r->members);
	free(r->member_users);
	*r = (struct scim_res){0};
}

void scim_page_clear(struct scim_page *p)
{
	for (size_t i = 0; i < p->nres; i++)
		scim_res_clear(&p->res[i]);
	free(p->res);
	*p = (struct scim_page){0};
}
