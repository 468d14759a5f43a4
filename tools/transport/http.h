/* SPDX-License-Identifier: MIT */
/*
 * http.h: the HTTPS transport of scim-cache, over libcurl.
 *
 * TLS verification is always on; ca_file adds a CA to the system's.  The
 * bearer token is read from token_file (regular file, owned by root, no
 * group or other permission bits, opened with O_NOFOLLOW) and only ever
 * lives in a header list that is wiped when the transport is closed.
 * Redirects are not followed.  Responses are capped at SCIM_BODY_MAX bytes.
 * No proxy from the environment is ever used: only the config's proxy,
 * as a CONNECT tunnel.
 * Connection errors, timeouts, 429 and 5xx are retried up to `retries`
 * times with exponential back-off and jitter, honouring Retry-After up to
 * HTTP_RETRY_AFTER_MAX seconds.
 */
#ifndef SCIM_HTTP_H
#define SCIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "util.h"

#define HTTP_TOKEN_MAX       16384
#define HTTP_BACKOFF_MAX     30  /* seconds between two attempts */
#define HTTP_RETRY_AFTER_MAX 120 /* seconds of Retry-After honoured */
#define HTTP_STATS_MAX       32

/* Requests made, by HTTP status ("200", "429", ...) or, for requests that
 * got no answer, by failure kind ("connect", "timeout", "tls", "dns",
 * "size", "other"). */
struct http_stats {
	struct http_count {
		char key[16];
		unsigned long n;
	} c[HTTP_STATS_MAX];
	size_t n;
};

struct http;

/* Reads the token and prepares a transport.  Returns 0, or a negative
 * errno with a one-line reason in ERR (never containing the token). */
int http_open(const struct scim_config *cfg, struct http **out, char *err,
              size_t errlen);

/* GETs URL into BODY (emptied first).  Returns 0 on a 2xx answer; otherwise
 * a negative errno with a one-line reason in ERR naming the request (the
 * path only) and what went wrong.  *STATUS gets the last HTTP status, or 0
 * when no answer came. */
int http_get(struct http *h, const char *url, struct buf *body, long *status,
             char *err, size_t errlen);

/* Opens a transport that sends no token: a fleet host downloading a
 * signed bundle (bundle.h) from the company's own storage.  It also
 * accepts a gzip- or deflate-encoded answer; the size cap applies to the
 * decoded body. */
int http_open_public(const struct scim_config *cfg, struct http **out,
                     char *err, size_t errlen);

/* What identifies one version of a resource, for a conditional GET:
 * visible ASCII only (anything else from a server is dropped). */
#define HTTP_VALIDATOR_MAX 256
struct http_validators {
	char etag[HTTP_VALIDATOR_MAX];
	char last_modified[HTTP_VALIDATOR_MAX];
};

/* http_get, sending If-None-Match and If-Modified-Since from COND (NULL,
 * or empty strings, for none).  A 304 answer also returns 0, with *STATUS
 * 304 and BODY empty.  GOT, when not NULL, receives the answer's ETag and
 * Last-Modified (empty when absent). */
int http_get_cond(struct http *h, const char *url,
                  const struct http_validators *cond, struct buf *body,
                  long *status, struct http_validators *got, char *err,
                  size_t errlen);

/* The counts of all requests made through H so far. */
const struct http_stats *http_stats(const struct http *h);

/* Closes H, wiping the token; NULL is fine. */
void http_close(struct http *h);

/* Reads and checks a token file into TOK (secret: free it with
 * buf_free(tok, true)).  Returns 0 or a negative errno with the reason. */
int http_read_token(const char *path, struct buf *tok, char *err,
                    size_t errlen);

/* The part of URL after the host, for messages: never holds a secret. */
const char *http_req_path(const char *url);

/* The bridge's /health beside the SCIM base URL (no trailing '/'): the
 * base without a final /scim or /scim/v2, then /health.  So the token
 * goes nowhere but under the path the administrator configured, less
 * that suffix: https://h/scim gives https://h/health, and
 * https://gw/acme/scim gives https://gw/acme/health. */
int http_health_url(const char *url, char *out, size_t outlen);

#endif
