/* SPDX-License-Identifier: MIT */
/*
 * scim.h: SCIM 2.0 response bodies to C structs, with json-c.  No I/O: each
 * parser takes the bytes of one body, so that it can be unit-tested and
 * fuzzed without HTTP.
 *
 * Attribute names match case-insensitively (RFC 7643 section 2.1); unknown
 * attributes and extension schemas are ignored.  A string attribute with
 * the wrong type, or holding a NUL byte, counts as absent.
 */
#ifndef SCIM_SCIM_H
#define SCIM_SCIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes in one response: a page of 100 groups of 5,000 members is about
 * 35 MB, so the cap leaves room for large directories while still bounding
 * what a broken server can make us hold. */
#define SCIM_BODY_MAX (256u << 20)
#define SCIM_PAGE_MAX 100000 /* resources in one page */
/* What json-c may spend on one parse, as jsonc_cost() reckons it.  json-c
 * spends about 780 bytes on an empty object, 150 on an empty array and 75
 * on a number, so 3 MB of "{}," would cost 780 MB: the response cap alone
 * does not bound it.  A plain JSON page never gets here whole (it is read
 * element by element); this bounds what any body or element can make
 * json-c hold. */
#define SCIM_JSONC_MAX         (256u << 20)
#define SCIM_GROUP_MEMBERS_MAX 1000000

/* People or groups, everywhere in the tool.  The values are the letters
 * that the id map writes, and hashes into a number's first slot (idmap.h). */
enum scim_kind { SCIM_USERS = 'u', SCIM_GROUPS = 'g' };

/* What a User's "active" attribute held. */
enum scim_active_attr {
	SCIM_ACTIVE_ABSENT, /* no such attribute */
	SCIM_ACTIVE_BOOL,   /* true or false */
	SCIM_ACTIVE_OTHER,  /* null, a number, a string, an object... */
};

/* One User or Group.  Every string is NUL-terminated; NULL when absent.
 * id is never NULL in a parsed resource, and all the strings (id, name,
 * formatted, given, family, display, email) share one allocation that
 * starts at id: free(id) frees them all (scim_res_clear does).  A resource
 * made by hand for scim_res_clear may own id and no other string. */
struct scim_res {
	char *id;
	char *name; /* userName (Users) or displayName (Groups) */
	/* Users */
	char *formatted, *given, *family, *display, *email;
	/* Users: active only when "active" is JSON true, or absent (RFC
	 * 7643's default; the mapping then checks that the bridge sends it
	 * for nobody).  null, numbers, strings and anything else are not a
	 * suspension flag's "yes": they count as inactive, and active_attr
	 * says so, for a warning. */
	bool active;
	uint8_t active_attr; /* enum scim_active_attr */
	/* Groups: member ids (members whose type is "Group" are left out),
	 * the array and its strings in one allocation: free(members) frees
	 * all of them. */
	char **members;
	size_t nmembers;
	bool has_members; /* the attribute was present (even if empty) */
	/* Groups read by client_read_directory: the members as positions in
	 * the directory's users (ids that no user has left out), in one
	 * allocation.  members is then NULL and nmembers still counts the ids
	 * the bridge listed. */
	uint32_t *member_users;
	size_t nmember_users;
};

/* One ListResponse page. */
struct scim_page {
	int64_t total;       /* totalResults */
	int64_t start_index; /* as the server echoed it; -1 if absent */
	struct scim_res *res;
	size_t nres;
};

/* Parses a ListResponse of Users or Groups.  Returns 0, or -EBADMSG with a
 * one-line reason in ERR (not JSON, not an object, no totalResults, a
 * resource that is not an object or has no string id, too many
 * resources), or -ENOMEM.  On failure OUT holds nothing to free. */
int scim_parse_list(const char *bytes, size_t len, enum scim_kind kind,
                    struct scim_page *out, char *err, size_t errlen);

/* Parses one resource (GET /Users/{id}, /Groups/{id}).  Same returns. */
int scim_parse_resource(const char *bytes, size_t len, enum scim_kind kind,
                        struct scim_res *out, char *err, size_t errlen);

/* The "detail" of a SCIM Error body (or of any JSON object carrying one),
 * made printable, into DETAIL; empty when there is none. */
void scim_parse_error_detail(const char *bytes, size_t len, char *detail,
                             size_t detaillen);

/* The "version" and "build" of a /health body, printable; empty when
 * absent.  Returns 0, or -EBADMSG when the body is not a JSON object. */
int scim_parse_health(const char *bytes, size_t len, char *version,
                      size_t versionlen, char *build, size_t buildlen);

/* Switches for the differential tests only (tests/fuzz/fuzz-scim.c,
 * tests/unit/test-scim.c); nothing in the tool, its configuration or its
 * command line sets them.  Without SCIM_PARSE_NO_FALLBACK, every
 * combination gives the same results and errors by design. */
enum {
	SCIM_PARSE_NO_FAST = 1,  /* json-c reads every element */
	SCIM_PARSE_NO_SPLIT = 2, /* json-c reads the whole body at once */
	/* -EAGAIN when the body cannot be read element by element, instead
	 * of json-c on the whole body, which would hide what the elements'
	 * own reading did. */
	SCIM_PARSE_NO_FALLBACK = 4,
};
extern unsigned scim_parse_test_flags;

void scim_res_clear(struct scim_res *r);
void scim_page_clear(struct scim_page *p);

#endif
