/* SPDX-License-Identifier: MIT */
/*
 * util.c: see util.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safedir.h"
#include "util.h"

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = parse_u64(s, min, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

char *printable(char *dst, size_t dstlen, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, n = len > PRINTABLE_MAX ? PRINTABLE_MAX : len;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[5];
		size_t k = 0;

		if (c == '\\') {
			tmp[k++] = '\\';
			tmp[k++] = '\\';
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[k++] = (char)c;
		} else {
			tmp[k++] = '\\';
			tmp[k++] = 'x';
			tmp[k++] = hex[c >> 4];
			tmp[k++] = hex[c & 15];
		}
		if (o + k + 4 > dstlen)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
	}
	if (len > n && o + 4 <= dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o < dstlen ? o : dstlen - 1] = '\0';
	return dst;
}

void buf_reserve(struct buf *b, size_t more)
{
	size_t want;
	char *p;

	if (b->err)
		return;
	if (more > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return;
	}
	if (b->len + more + 1 <= b->cap)
		return;
	want = b->cap ? b->cap : 256;
	while (want < b->len + more + 1)
		want *= 2;
	p = realloc(b->data, want);
	if (p == NULL) {
		b->err = -ENOMEM;
		return;
	}
	b->data = p;
	b->cap = want;
}

void buf_add(struct buf *b, const void *p, size_t len)
{
	buf_reserve(b, len);
	if (b->err)
		return;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	buf_reserve(b, (size_t)n);
	if (b->err)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b, bool secret)
{
	if (secret && b->data)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	*b = (struct buf){0};
}

uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, r = 0;

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	memcpy(copy, path, strlen(path) + 1);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int write_file_atomic_with(const char *path, mode_t mode,
                           int (*fill)(int fd, void *ud), void *ud)
{
	char tmp[PATH_MAX];
	int fd = -1, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fill(fd, ud);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r != 0) {
		unlink(tmp);
		return r;
	}
	fsync_dir_of(path); /* durability only; the content is in place */
	return 0;
}

struct bytes {
	const void *data;
	size_t len;
};

static int fill_bytes(int fd, void *ud)
{
	const struct bytes *b = ud;

	return write_all(fd, b->data, b->len);
}

int write_file_atomic(const char *path, const void *data, size_t len,
                      mode_t mode)
{
	struct bytes b = {data, len};

	return write_file_atomic_with(path, mode, fill_bytes, &b);
}

int read_fd(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*len = got;
	data = NULL; /* transferred */
out:
	free(data);
	return r;
}

int map_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	if (r < 0 || st.st_size == 0) {
		close(fd);
		*out = NULL;
		*len = 0;
		return r;
	}
	/* Populated at once, one call instead of a fault a page, and read
	 * only while it is: populating a writable private map would copy
	 * every page.  Then writable, privately: a page the caller changes
	 * is copied then, and the change stays in this process. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ,
	         MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		r = -errno;
	else if (mprotect(p, (size_t)st.st_size, PROT_READ | PROT_WRITE) < 0) {
		r = -errno;
		munmap(p, (size_t)st.st_size);
	}
	close(fd);
	if (r < 0)
		return r;
	*out = p;
	*len = (size_t)st.st_size;
	return 0;
}

void unmap_file(char *data, size_t len)
{
	if (data != NULL)
		munmap(data, len);
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, max, out, len);
	close(fd);
	return r;
}

int make_dirs(const char *dir, mode_t mode, char *err, size_t errlen)
{
	int fd = safedir_open(dir, true, mode, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

bool scim_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > SCIM_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isascii(c) ||
		    !(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

double now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint32_t random_upto(uint32_t n)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)now_mono() * 2654435761u ^ (uint64_t)getpid();
	return (uint32_t)(v % ((uint64_t)n + 1));
}

const char *fmt_utc(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&s, &tm) == NULL)
		return "never";
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}
