/* SPDX-License-Identifier: MIT */
/*
 * http.c: see http.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "scim.h"

#define CA_BUNDLE_MAX (16u << 20)
#define REQ_SHOW      200 /* bytes of the request path shown in messages */

struct http {
	CURL *curl;
	struct curl_slist *headers; /* holds the token: wiped on close */
	struct buf ca;              /* system CAs + ca_file, PEM */
	const struct scim_config *cfg;
	struct http_stats stats;
	struct buf *sink; /* the current response body */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- token ------------------------------------------------------------ */

static int check_token_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return set_error(err, errlen, -errno, "token file %s: %s", path,
		                 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_error(err, errlen, -EPERM,
		                 "token file %s is not a regular file", path);
	if (st.st_uid != 0)
		return set_error(err, errlen, -EPERM,
		                 "token file %s must be owned by root", path);
	if (st.st_mode & 077)
		return set_error(
		        err, errlen, -EPERM,
		        "token file %s must not be accessible by group or "
		        "others (mode %04o; use chmod 600)",
		        path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Strips surrounding white space; the rest must be visible ASCII, so that
 * it cannot break out of the header line. */
static int clean_token(struct buf *tok)
{
	size_t s = 0, e = tok->len;

	while (s < e && strchr(" \t\r\n", tok->data[s]))
		s++;
	while (e > s && strchr(" \t\r\n", tok->data[e - 1]))
		e--;
	if (s == e)
		return -ENODATA;
	for (size_t i = s; i < e; i++)
		if ((unsigned char)tok->data[i] < 0x21 ||
		    (unsigned char)tok->data[i] > 0x7e)
			return -EINVAL;
	memmove(tok->data, tok->data + s, e - s);
	explicit_bzero(tok->data + (e - s), tok->len - (e - s));
	tok->len = e - s;
	return 0;
}

static int read_token_fd(int fd, struct buf *tok)
{
	char chunk[512];
	ssize_t n;
	int r = 0;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (tok->len + (size_t)n > HTTP_TOKEN_MAX) {
			r = -EFBIG;
			break;
		}
		buf_add(tok, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return r ? r : tok->err;
}

int http_read_token(const char *path, struct buf *tok, char *err, size_t errlen)
{
	int fd, r;

	*tok = (struct buf){0};
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return set_error(err, errlen, -errno, "token file %s: %s", path,
		                 errno == ELOOP ? "is a symbolic link"
		                                : strerror(errno));
	r = check_token_file(fd, path, err, errlen);
	if (r == 0) {
		r = read_token_fd(fd, tok);
		if (r < 0)
			set_error(err, errlen, r, "token file %s: %s", path,
			          r == -EFBIG ? "too large" : strerror(-r));
	}
	if (r == 0) {
		r = clean_token(tok);
		if (r < 0)
			set_error(err, errlen, r, "token file %s: %s", path,
			          r == -ENODATA
			                  ? "empty"
			                  : "holds characters a token cannot");
	}
	close(fd);
	if (r < 0)
		buf_free(tok, true);
	return r;
}

/* ---- CAs -------------------------------------------------------------- */

static int add_pem(struct buf *ca, const char *path, bool must)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return must ? -errno : 0;
	r = read_fd(fd, CA_BUNDLE_MAX, &text, &len);
	close(fd);
	if (r < 0)
		return must ? r : 0;
	if (must && strstr(text, "-----BEGIN CERTIFICATE-----") == NULL)
		r = -EBADMSG;
	else {
		buf_add(ca, text, len);
		buf_puts(ca, "\n");
		r = ca->err;
	}
	free(text);
	return r;
}

/* CURLOPT_CAINFO would replace the system bundle; ca_file must add to it,
 * so both go into one in-memory bundle.  libcurl's default CA path (a
 * hashed directory, when it was built with one) stays in force too. */
static int setup_ca(struct http *h, char *err, size_t errlen)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	int r;

	if (h->cfg->ca_file == NULL)
		return 0;
	if (v->cainfo != NULL)
		add_pem(&h->ca, v->cainfo, false);
	r = add_pem(&h->ca, h->cfg->ca_file, true);
	if (r < 0)
		return set_error(err, errlen, r, "ca_file %s: %s",
		                 h->cfg->ca_file,
		                 r == -EBADMSG ? "no PEM certificate in it"
		                               : strerror(-r));
	{
		struct curl_blob blob = {h->ca.data, h->ca.len,
		                         CURL_BLOB_NOCOPY};

		if (curl_easy_setopt(h->curl, CURLOPT_CAINFO_BLOB, &blob) !=
		    CURLE_OK)
			return set_error(err, errlen, -ENOTSUP,
			                 "this libcurl cannot take ca_file");
	}
	return 0;
}

/* ---- setup ------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct http *h = ud;
	size_t len = size * n;

	if (h->sink->len + len > SCIM_BODY_MAX) {
		h->too_big = true;
		return 0;
	}
	buf_add(h->sink, p, len);
	return h->sink->err ? 0 : len;
}

static int set_headers(struct http *h, const struct buf *tok)
{
	struct buf auth = {0};
	struct curl_slist *l;
	int r = 0;

	buf_puts(&auth, "Authorization: Bearer ");
	buf_add(&auth, tok->data, tok->len);
	l = auth.err ? NULL : curl_slist_append(NULL, auth.data);
	buf_free(&auth, true);
	if (l == NULL)
		return -ENOMEM;
	h->headers = l;
	if (curl_slist_append(l, "Accept: application/scim+json, "
	                         "application/json") == NULL)
		r = -ENOMEM;
	return r;
}

static int set_protocols(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	return curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http") !=
	       CURLE_OK;
#else
	return curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	                        (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP)) !=
	       CURLE_OK;
#endif
}

/* libcurl takes http_proxy, https_proxy and all_proxy from the
 * environment, even for 127.0.0.1, where the request (and the token in it)
 * would then cross to the proxy in clear.  Only the config's proxy is
 * used, and always as a tunnel, so that TLS runs end to end through it. */
static int setup_proxy(struct http *h)
{
	CURL *c = h->curl;
	int bad = 0;

	bad |= curl_easy_setopt(c, CURLOPT_PROXY,
	                        h->cfg->proxy ? h->cfg->proxy : "") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOPROXY, "") != CURLE_OK;
	if (h->cfg->proxy != NULL)
		bad |= curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L) !=
		       CURLE_OK;
	return bad;
}

static int setup_curl(struct http *h)
{
	CURL *c = h->curl;
	int bad = 0;

	bad |= set_protocols(c);
	bad |= setup_proxy(h);
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	                        (long)h->cfg->connect_timeout) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)h->cfg->timeout) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	                        (curl_off_t)SCIM_BODY_MAX) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION,
	                        (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, h) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT,
	                        PACKAGE_NAME "/" PACKAGE_VERSION) != CURLE_OK;
	return bad ? -ENOTSUP : 0;
}

/* A transport with the bearer token from cfg->token_file, or with none
 * (PUBLIC: a fleet host fetching a bundle). */
static int open_transport(const struct scim_config *cfg, bool public,
                          struct http **out, char *err, size_t errlen)
{
	struct buf tok = {0};
	struct http *h;
	int r = 0;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	h->cfg = cfg;
	if (!public)
		r = http_read_token(cfg->token_file, &tok, err, errlen);
	if (r < 0)
		goto out;
	h->curl = curl_easy_init();
	if (h->curl == NULL)
		r = -ENOMEM;
	else if (!public)
		r = set_headers(h, &tok);
	else if (curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "") !=
	         CURLE_OK)
		r = -ENOTSUP;
	buf_free(&tok, true);
	if (r == 0)
		r = setup_curl(h);
	if (r < 0) {
		set_error(err, errlen, r, "cannot set up libcurl: %s",
		          strerror(-r));
		goto out;
	}
	r = setup_ca(h, err, errlen);
out:
	if (r < 0) {
		http_close(h);
		return r;
	}
	*out = h;
	return 0;
}

int http_open(const struct scim_config *cfg, struct http **out, char *err,
              size_t errlen)
{
	return open_transport(cfg, false, out, err, errlen);
}

int http_open_public(const struct scim_config *cfg, struct http **out,
                     char *err, size_t errlen)
{
	return open_transport(cfg, true, out, err, errlen);
}

void http_close(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	for (struct curl_slist *l = h->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h->headers);
	buf_free(&h->ca, false);
	free(h);
}

const struct http_stats *http_stats(const struct http *h)
{
	return &h->stats;
}

static void count(struct http *h, const char *key)
{
	struct http_stats *s = &h->stats;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->c[i].key, key) == 0) {
			s->c[i].n++;
			return;
		}
	if (s->n < HTTP_STATS_MAX) {
		snprintf(s->c[s->n].key, sizeof(s->c[s->n].key), "%s", key);
		s->c[s->n++].n = 1;
	}
}

/* ---- requests --------------------------------------------------------- */

const char *http_req_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : "/";
}

static const char *failure_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "dns";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return "tls";
	case CURLE_FILESIZE_EXCEEDED:
		return "size";
	default:
		return "other";
	}
}

static bool retryable_transport(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static bool retryable_status(long st)
{
	return st == 429 || (st >= 500 && st <= 599);
}

static void describe_transport(struct http *h, CURLcode rc, const char *url,
                               char *err, size_t errlen)
{
	char detail[PRINTABLE_MAX * 4 + 8];
	const char *what = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
	const char *kind = failure_kind(rc);

	printable(detail, sizeof(detail), what, strlen(what));
	if (h->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		set_error(err, errlen, 0,
		          "GET %.*s: response larger than %u bytes", REQ_SHOW,
		          http_req_path(url), SCIM_BODY_MAX);
	else if (strcmp(kind, "tls") == 0)
		set_error(err, errlen, 0, "GET %.*s: TLS failure: %s", REQ_SHOW,
		          http_req_path(url), detail);
	else if (strcmp(kind, "dns") == 0)
		set_error(err, errlen, 0, "GET %.*s: DNS failure: %s", REQ_SHOW,
		          http_req_path(url), detail);
	else if (strcmp(kind, "connect") == 0)
		set_error(err, errlen, 0, "GET %.*s: cannot connect: %s",
		          REQ_SHOW, http_req_path(url), detail);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		set_error(err, errlen, 0, "GET %.*s: timed out: %s", REQ_SHOW,
		          http_req_path(url), detail);
	else
		set_error(err, errlen, 0, "GET %.*s: %s", REQ_SHOW,
		          http_req_path(url), detail);
}

static void describe_status(long st, const struct buf *body, const char *url,
                            char *err, size_t errlen)
{
	char detail[PRINTABLE_MAX * 4 + 8] = "";

	if (body->data)
		scim_parse_error_detail(body->data, body->len, detail,
		                        sizeof(detail));
	set_error(err, errlen, 0, "GET %.*s: HTTP %ld%s%s%s", REQ_SHOW,
	          http_req_path(url), st,
	          st == 401               ? " (the bridge rejected the token)"
	          : st == 403             ? " (the token may not read this)"
	          : st >= 300 && st < 400 ? " (redirects are not followed)"
	                                  : "",
	          detail[0] ? ": " : "", detail);
}

static void sleep_for(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Seconds to wait before attempt number ATTEMPT + 1. */
static double backoff(struct http *h, unsigned attempt, long status)
{
	curl_off_t ra = 0;
	double base = (double)(1u << (attempt < 5 ? attempt : 5));

	if ((status == 429 || status == 503) &&
	    curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		return (double)(ra < HTTP_RETRY_AFTER_MAX
		                        ? ra
		                        : HTTP_RETRY_AFTER_MAX);
	if (base > HTTP_BACKOFF_MAX)
		base = HTTP_BACKOFF_MAX;
	return base + (double)random_upto(1000) / 1000.0;
}

/* One attempt: 0 with *STATUS set when an answer came, else the curl
 * code. */
static CURLcode attempt(struct http *h, const char *url, struct buf *body,
                        long *status)
{
	CURLcode rc;

	buf_reset(body);
	body->err = 0;
	h->sink = body;
	h->too_big = false;
	h->errbuf[0] = '\0';
	*status = 0;
	rc = curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static int get_retrying(struct http *h, const char *url, bool conditional,
                        struct buf *body, long *status, char *err,
                        size_t errlen);

/* The answer's header NAME into OUT (HTTP_VALIDATOR_MAX bytes), or "" when
 * absent, too long or holding anything but visible ASCII and spaces: it
 * goes back to the server in a header line of ours. */
static void response_header(struct http *h, const char *name, char *out)
{
	struct curl_header *hd = NULL;
	size_t n;

	out[0] = '\0';
	if (curl_easy_header(h->curl, name, 0, CURLH_HEADER, -1, &hd) !=
	            CURLHE_OK ||
	    hd == NULL || hd->value == NULL)
		return;
	n = strlen(hd->value);
	if (n == 0 || n >= HTTP_VALIDATOR_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)hd->value[i] < 0x20 ||
		    (unsigned char)hd->value[i] > 0x7e)
			return;
	memcpy(out, hd->value, n + 1);
}

/* The request headers for one conditional GET, or NULL for none. */
static struct curl_slist *cond_headers(const struct http_validators *c)
{
	struct curl_slist *l = NULL, *t;
	char line[HTTP_VALIDATOR_MAX + 32];

	if (c == NULL)
		return NULL;
	if (c->etag[0]) {
		snprintf(line, sizeof(line), "If-None-Match: %s", c->etag);
		if ((t = curl_slist_append(l, line)) == NULL)
			goto nomem;
		l = t;
	}
	if (c->last_modified[0]) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s",
		         c->last_modified);
		if ((t = curl_slist_append(l, line)) == NULL)
			goto nomem;
		l = t;
	}
	return l;
nomem:
	curl_slist_free_all(l);
	return NULL;
}

int http_get(struct http *h, const char *url, struct buf *body, long *status,
             char *err, size_t errlen)
{
	return http_get_cond(h, url, NULL, body, status, NULL, err, errlen);
}

int http_get_cond(struct http *h, const char *url,
                  const struct http_validators *cond, struct buf *body,
                  long *status, struct http_validators *got, char *err,
                  size_t errlen)
{
	struct curl_slist *extra = cond_headers(cond);
	int r;

	if (extra != NULL &&
	    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, extra) != CURLE_OK) {
		curl_slist_free_all(extra);
		return set_error(err, errlen, -ENOTSUP,
		                 "cannot set up a conditional request");
	}
	r = get_retrying(h, url, extra != NULL, body, status, err, errlen);
	if (extra != NULL) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
		curl_slist_free_all(extra);
	}
	if (r == 0 && got != NULL) {
		response_header(h, "ETag", got->etag);
		response_header(h, "Last-Modified", got->last_modified);
	}
	return r;
}

/* GETs URL, retrying what may pass; 2xx (and 304 when CONDITIONAL)
 * return 0. */
static int get_retrying(struct http *h, const char *url, bool conditional,
                        struct buf *body, long *status, char *err,
                        size_t errlen)
{
	for (unsigned i = 0;; i++) {
		CURLcode rc = attempt(h, url, body, status);
		char key[16];
		bool again;

		if (rc == CURLE_OK) {
			snprintf(key, sizeof(key), "%ld", *status);
			count(h, key);
			if ((*status >= 200 && *status < 300) ||
			    (*status == 304 && conditional))
				return 0;
			describe_status(*status, body, url, err, errlen);
			again = retryable_status(*status);
		} else {
			count(h, failure_kind(rc));
			describe_transport(h, rc, url, err, errlen);
			again = retryable_transport(rc) && !h->too_big;
		}
		if (!again || i >= h->cfg->retries)
			return rc == CURLE_OK ? -EPROTO : -EIO;
		sleep_for(backoff(h, i, *status));
	}
}

int http_health_url(const char *url, char *out, size_t outlen)
{
	static const char *const suffixes[] = {"/scim/v2", "/scim"};
	size_t n = strlen(url);

	if (strstr(url, "://") == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t k = strlen(suffixes[i]);

		if (n > k && strcasecmp(url + n - k, suffixes[i]) == 0) {
			n -= k;
			break;
		}
	}
	if ((size_t)snprintf(out, outlen, "%.*s/health", (int)n, url) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}
