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

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Parses the whole of BYTES as one JSON value; NULL when it is not. */
static json_object *parse_json(const char *bytes, size_t len, char *err,
                               size_t errlen)
{
	json_tokener *tok;
	json_object *o = NULL;

	if (len > INT_MAX) {
		fail(err, errlen, 0, "response too large");
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL) {
		fail(err, errlen, 0, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, bytes, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		fail(err, errlen, 0, "invalid JSON: %s",
		     e == json_tokener_continue ? "truncated body"
		                                : json_tokener_error_desc(e));
		json_object_put(o);
		o = NULL;
	} else if (json_tokener_get_parse_end(tok) < len) {
		/* Trailing white space is fine; anything else is not. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", bytes[i])) {
				fail(err, errlen, 0,
				     "invalid JSON: data after the value");
				json_object_put(o);
				o = NULL;
				break;
			}
	}
	json_tokener_free(tok);
	return o;
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

static int parse_members(json_object *ms, struct scim_res *r, bool *oom,
                         char *err, size_t errlen)
{
	size_t n = json_object_array_length(ms);

	if (n > SCIM_GROUP_MEMBERS_MAX)
		return fail(err, errlen, -EBADMSG, "group with %zu members", n);
	r->members = calloc(n ? n : 1, sizeof(*r->members));
	if (r->members == NULL) {
		*oom = true;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		char *v;

		if (member_is_group(m))
			continue;
		v = attr_str(m, "value", oom);
		if (v != NULL)
			r->members[r->nmembers++] = v;
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

static int parse_res(json_object *o, enum scim_kind kind, struct scim_res *r,
                     char *err, size_t errlen)
{
	bool oom = false;
	int rc = 0;

	*r = (struct scim_res){0};
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen, -EBADMSG,
		            "a resource is not an object");
	r->id = attr_str(o, "id", &oom);
	if (r->id == NULL && !oom)
		return fail(err, errlen, -EBADMSG,
		            "a resource has no string \"id\"");
	if (kind == SCIM_USERS)
		parse_user(o, r, &oom);
	else
		rc = parse_group(o, r, &oom, err, errlen);
	if (oom)
		rc = fail(err, errlen, -ENOMEM, "out of memory");
	if (rc < 0)
		scim_res_clear(r);
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
		return fail(err, errlen, -EBADMSG, "%zu resources in one page",
		            n);
	p->res = calloc(n ? n : 1, sizeof(*p->res));
	if (p->res == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
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
		return fail(err, errlen, -EBADMSG,
		            "the response is not a JSON object");
	if (!attr_int(o, "totalResults", &p->total) || p->total < 0)
		return fail(err, errlen, -EBADMSG,
		            "the response has no valid \"totalResults\"");
	if (!attr_int(o, "startIndex", &p->start_index))
		p->start_index = -1;
	arr = attr(o, "Resources");
	if (arr == NULL || json_object_is_type(arr, json_type_null))
		return parse_resources(NULL, kind, p, err, errlen);
	if (!json_object_is_type(arr, json_type_array))
		return fail(err, errlen, -EBADMSG,
		            "\"Resources\" is not an array");
	return parse_resources(arr, kind, p, err, errlen);
}

int scim_parse_list(const char *bytes, size_t len, enum scim_kind kind,
                    struct scim_page *out, char *err, size_t errlen)
{
	struct scim_page p = {0};
	json_object *o;
	int rc;

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
	free(r->id);
	free(r->name);
	free(r->formatted);
	free(r->given);
	free(r->family);
	free(r->display);
	free(r->email);
	for (size_t i = 0; i < r->nmembers; i++)
		free(r->members[i]);
	free(r->members);
	*r = (struct scim_res){0};
}

void scim_page_clear(struct scim_page *p)
{
	for (size_t i = 0; i < p->nres; i++)
		scim_res_clear(&p->res[i]);
	free(p->res);
	*p = (struct scim_page){0};
}
