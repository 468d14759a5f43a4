/* SPDX-License-Identifier: MIT */
/*
 * state.c: see state.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snap.h"
#include "state.h"
#include "util.h"

#define LOCK_POLL_NS 100000000L

int state_path(const char *dir, const char *name, char *out)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int state_prepare(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create state directory %s: %s",
		         dir, strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "state directory %s: %s", dir,
		         strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		snprintf(err, errlen,
		         "state directory %s must be a directory owned by uid "
		         "%u with mode 0700",
		         dir, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

int state_lock(const char *dir, unsigned wait)
{
	struct timespec poll = {0, LOCK_POLL_NS};
	char path[PATH_MAX];
	double until = now_mono() + wait;
	int fd, r;

	r = state_path(dir, STATE_FLOCK, path);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || now_mono() >= until) {
			r = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
			close(fd);
			return r;
		}
		nanosleep(&poll, NULL);
	}
	return fd;
}

static bool leftover(const char *name)
{
	static const char *const files[] = {STATE_IDS,        STATE_STATUS,
	                                    STATE_LOCKOUTS,   STATE_FLEET_BASE,
	                                    STATE_FLEET_NEXT, STATE_SNAP_SUM};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		size_t n = strlen(files[i]);

		if (strncmp(name, files[i], n) == 0 &&
		    strncmp(name + n, ".tmp.", 5) == 0 &&
		    strlen(name + n + 5) == 6)
			return true;
	}
	return false;
}

void state_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (leftover(e->d_name))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* ---- status ----------------------------------------------------------- */

static const char *const status_names[ST_NKEYS] = {
#define STATUS_KEY_NAME(id, name) [ST_##id] = (name),
        STATUS_KEYS(STATUS_KEY_NAME)
#undef STATUS_KEY_NAME
};

const char *status_key_name(enum status_key k)
{
	return status_names[k];
}

static struct status *status_wrap(json_object *o)
{
	struct status *st = o ? malloc(sizeof(*st)) : NULL;

	if (st == NULL) {
		json_object_put(o);
		return NULL;
	}
	st->o = o;
	return st;
}

struct status *status_new(void)
{
	return status_wrap(json_object_new_object());
}

struct status *status_load(const char *dir, bool *damaged)
{
	char path[PATH_MAX], *text = NULL;
	json_object *o = NULL;
	size_t len;

	*damaged = false;
	if (state_path(dir, STATE_STATUS, path) == 0 &&
	    read_file(path, STATE_STATUS_MAX, &text, &len) == 0) {
		o = json_tokener_parse(text);
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
			*damaged = true;
		}
	}
	free(text);
	return status_wrap(o ? o : json_object_new_object());
}

int status_save(const char *dir, const struct status *st)
{
	char path[PATH_MAX];
	const char *text;
	int r;

	r = state_path(dir, STATE_STATUS, path);
	if (r < 0)
		return r;
	text = json_object_to_json_string_ext(
	        st->o,
	        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL)
		return -ENOMEM;
	r = write_file_atomic(path, text, strlen(text), 0600);
	return r;
}

void status_free(struct status *st)
{
	if (st != NULL)
		json_object_put(st->o);
	free(st);
}

void status_set_json(struct status *st, enum status_key k, json_object *v)
{
	json_object_object_add(st->o, status_names[k], v);
}

void status_set_str(struct status *st, enum status_key k, const char *v)
{
	status_set_json(st, k, v ? json_object_new_string(v) : NULL);
}

void status_set_num(struct status *st, enum status_key k, double v)
{
	status_set_json(st, k, json_object_new_double(v));
}

void status_set_int(struct status *st, enum status_key k, int64_t v)
{
	status_set_json(st, k, json_object_new_int64(v));
}

void status_count(struct status *st, enum status_key group, const char *key,
                  int64_t n)
{
	json_object *g = NULL, *v = NULL;

	if (!json_object_object_get_ex(st->o, status_names[group], &g) ||
	    !json_object_is_type(g, json_type_object)) {
		g = json_object_new_object();
		if (g == NULL)
			return;
		json_object_object_add(st->o, status_names[group], g);
	}
	if (json_object_object_get_ex(g, key, &v) &&
	    json_object_is_type(v, json_type_int))
		n += json_object_get_int64(v);
	json_object_object_add(g, key, json_object_new_int64(n));
}

bool status_get_json(const struct status *st, enum status_key k,
                     json_object **v)
{
	return json_object_object_get_ex(st->o, status_names[k], v);
}

int64_t status_get_int(const struct status *st, enum status_key k)
{
	json_object *v;

	if (status_get_json(st, k, &v) &&
	    (json_object_is_type(v, json_type_int) ||
	     json_object_is_type(v, json_type_double)))
		return json_object_get_int64(v);
	return 0;
}

double status_get_num(const struct status *st, enum status_key k)
{
	json_object *v;

	if (status_get_json(st, k, &v) &&
	    (json_object_is_type(v, json_type_int) ||
	     json_object_is_type(v, json_type_double)))
		return json_object_get_double(v);
	return 0;
}

const char *status_get_str(const struct status *st, enum status_key k)
{
	json_object *v;

	if (status_get_json(st, k, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* ---- locks ------------------------------------------------------------ */

void locks_free(struct locks *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ids[i]);
		free(l->names[i]);
	}
	free(l->ids);
	free(l->names);
	*l = (struct locks){0};
}

int locks_add(struct locks *l, const char *id, const char *name)
{
	char **ids, **names;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], id) == 0)
			return 0;
	ids = realloc(l->ids, (l->n + 1) * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	l->ids = ids;
	names = realloc(l->names, (l->n + 1) * sizeof(*names));
	if (names == NULL)
		return -ENOMEM;
	l->names = names;
	l->ids[l->n] = strdup(id);
	l->names[l->n] = strdup(name);
	if (l->ids[l->n] == NULL || l->names[l->n] == NULL) {
		free(l->ids[l->n]);
		free(l->names[l->n]);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

size_t locks_remove(struct locks *l, const char *id, const char *name)
{
	size_t k = 0, gone = 0;

	for (size_t i = 0; i < l->n; i++) {
		if ((id && strcmp(l->ids[i], id) == 0) ||
		    (name && strcmp(l->names[i], name) == 0)) {
			free(l->ids[i]);
			free(l->names[i]);
			gone++;
			continue;
		}
		l->ids[k] = l->ids[i];
		l->names[k++] = l->names[i];
	}
	l->n = k;
	return gone;
}

/* A SCIM id, or uid:NUMBER. */
static bool lock_key_valid(const char *key)
{
	size_t n = strlen(LOCK_UID_PREFIX);
	uint32_t uid;

	if (strncmp(key, LOCK_UID_PREFIX, n) == 0)
		return parse_u32(key + n, 1, UINT32_MAX, &uid) == 0;
	return scim_id_valid(key, strlen(key));
}

static int parse_lock_line(struct locks *l, char *line)
{
	char *sp = strchr(line, ' ');

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (sp == NULL)
		return -EBADMSG;
	*sp = '\0';
	if (!lock_key_valid(line) || !snap_name_valid(sp + 1, strlen(sp + 1)))
		return -EBADMSG;
	return locks_add(l, line, sp + 1);
}

int locks_load(const char *dir, struct locks *l)
{
	char path[PATH_MAX], *text = NULL, *save = NULL;
	size_t len;
	int r;

	*l = (struct locks){0};
	r = state_path(dir, STATE_LOCKOUTS, path);
	if (r == 0)
		r = read_file(path, STATE_STATUS_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	for (char *line = r == 0 ? strtok_r(text, "\n", &save) : NULL;
	     r == 0 && line; line = strtok_r(NULL, "\n", &save))
		r = parse_lock_line(l, line);
	free(text);
	if (r < 0)
		locks_free(l);
	return r;
}

int locks_save(const char *dir, const struct locks *l)
{
	char path[PATH_MAX];
	struct buf b = {0};
	int r;

	r = state_path(dir, STATE_LOCKOUTS, path);
	if (r < 0)
		return r;
	buf_puts(&b, "# nss-scim local locks: SCIM-ID NAME "
	             "(scim-cache lock/unlock)\n");
	for (size_t i = 0; i < l->n; i++)
		buf_printf(&b, "%s %s\n", l->ids[i], l->names[i]);
	r = b.err ? b.err : write_file_atomic(path, b.data, b.len, 0600);
	buf_free(&b, false);
	return r;
}
