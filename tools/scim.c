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

/* Parses the whole of BYTES as one JSON value; NULL when it is not. */
static json_object *parse_json_depth(const char *bytes, size_t len, int depth,
                                     char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o = NULL;

	if (len > INT_MAX) {
		set_error(err, errlen, 0, "response too large");
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (tok == NULL) {
		set_error(err, errlen, 0, "out of memory");
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
		o = NULL;
	} else if (json_tokener_get_parse_end(tok) < len) {
		/* Trailing white space is fine; anything else is not. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", bytes[i])) {
				set_error(err, errlen, 0,
				          "invalid JSON: data after the value");
				json_object_put(o);
				o = NULL;
				break;
			}
	}
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
	r->active = attr_bool(u, "active", true);
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
 * by a structural scan and each element is parsed on its own; the rest of
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

/* Finds the value of the only key that matches "Resources" in the object
 * at the start of B.  Returns false when there is none, several, or the
 * body is not plain structure. */
static bool find_resources(const char *b, size_t len, struct span *out)
{
	size_t i = skip_ws(b, len, 0), found = 0;

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
		i = skip_value(b, len, v);
		if (i == 0 || i == v)
			return false;
		if (match) {
			*out = (struct span){v, i - v};
			found++;
		}
		i = skip_ws(b, len, i);
		if (i < len && b[i] == ',')
			i = skip_ws(b, len, i + 1);
	}
	return found == 1 && b[out->at] == '[';
}

/* The elements of the array at B[A.at]: their spans into *OUT (caller
 * frees) and count into *N.  False when they cannot be cut cleanly. */
static bool split_array(const char *b, struct span a, struct span **out,
                        size_t *n)
{
	size_t end = a.at + a.len - 1, i = skip_ws(b, end, a.at + 1), cap = 0;
	struct span *s = NULL;
	bool ok = true;

	*n = 0;
	while (ok && i < end) {
		size_t e = skip_value(b, end, i);

		ok = e != 0 && e != i && *n < SCIM_PAGE_MAX;
		if (ok && *n == cap) {
			struct span *t = realloc(
			        s, (cap = cap ? cap * 2 : 128) * sizeof(*s));
			ok = t != NULL;
			s = ok ? t : s;
		}
		if (!ok)
			break;
		s[(*n)++] = (struct span){i, e - i};
		i = skip_ws(b, end, e);
		if (i < end) {
			/* A comma, then another element: no trailing comma. */
			ok = b[i] == ',';
			i = skip_ws(b, end, i + 1);
			ok = ok && i < end;
		}
	}
	if (!ok) {
		free(s);
		return false;
	}
	*out = s;
	return true;
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

/* Parses the elements one by one into P; 0, or -1 to fall back. */
static int parse_split(const char *b, const struct span *s, size_t n,
                       enum scim_kind kind, struct scim_page *p)
{
	p->res = calloc(n ? n : 1, sizeof(*p->res));
	if (p->res == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *o = parse_json_depth(b + s[i].at, s[i].len,
		                                  JSON_DEPTH - 3, NULL, 0);
		int rc = o ? parse_res(o, kind, &p->res[i], NULL, 0) : -1;

		json_object_put(o);
		if (rc < 0)
			return -1;
		p->nres++;
	}
	return 0;
}

/* The fast path of scim_parse_list(): 0 with *OUT filled, or -1 when the
 * whole body must be parsed at once instead. */
static int parse_list_split(const char *bytes, size_t len, enum scim_kind kind,
                            struct scim_page *out)
{
	struct scim_page p = {0};
	struct span a, *s = NULL;
	json_object *o = NULL;
	size_t n = 0, clen;
	char *copy = NULL;
	int rc = -1;

	if (len > INT_MAX || !find_resources(bytes, len, &a) ||
	    !split_array(bytes, a, &s, &n))
		return -1;
	copy = without_array(bytes, len, a, &clen);
	if (copy != NULL)
		o = parse_json(copy, clen, NULL, 0);
	if (o != NULL && parse_list_obj(o, kind, &p, NULL, 0) == 0 &&
	    p.nres == 0) {
		free(p.res);
		p.res = NULL;
		rc = parse_split(bytes, s, n, kind, &p);
	}
	json_object_put(o);
	free(copy);
	free(s);
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

	if (parse_list_split(bytes, len, kind, out) == 0)
		return 0;
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
