/* SPDX-License-Identifier: MIT */
/*
 * bench-nss: times glibc's own lookups (getpwnam_r & co.) through whatever
 * nsswitch.conf is in force, for tests/bench/run-bench.sh.
 *
 *   bench-nss run SAMPLE [BUDGET_MS]
 *       every in-process operation on the names and ids in SAMPLE; prints
 *       one "RESULT op value unit count" line per operation, value being the
 *       median over batches (µs per call; ms per enumeration), or for the
 *       thread runs the best lookups per second of five short trials. BUDGET_MS
 * (default 1000) bounds the time spent on one operation once its first call is
 * done; OPS, a comma-separated list of operation names, limits the run to them.
 *       BENCH_NOCHECK=1 in the environment accepts any id in an answer
 *       (for the floor module).  BENCH_ALL=FILE ("NAME UID" a line, every
 *       person of the data set) adds getpwnam_random and getpwuid_random:
 *       a person picked uniformly at random among all of them each call,
 *       so that most lookups find their data out of the CPU's caches;
 *       getpwnam_random_warm and getpwuid_random_warm do the same after
 *       one untimed pass over everyone, so that they time the lookup and
 *       not the backend bringing its data in.
 *   bench-nss first NAME
 *       the first getpwnam_r() of a fresh process, in µs (nsswitch.conf is
 *       read, the module loaded and its data opened on this call)
 *   bench-nss times N BUDGET_MS TIMEOUT_S CMD [ARG...]
 *       the same runs, but prints each one's wall time in µs, one a line
 *       (or "TIMEOUT µs" for a run that was killed, and stops there)
 *   bench-nss spawn N BUDGET_MS TIMEOUT_S CMD [ARG...]
 *       runs CMD up to N times (fewer once BUDGET_MS is spent, at least
 *       once) with output to /dev/null; prints "MEDIAN FASTEST RUNS", wall
 *       times in µs, or "TIMEOUT µs" when a run took over TIMEOUT_S seconds
 *       and was killed
 *   bench-nss rusage CMD [ARG...]
 *       runs CMD once; prints "wall_s", "user_s", "sys_s" and "rss_kb"
 *       (peak resident set) lines
 *
 * SAMPLE has one entry a line: "user NAME UID GID", "group NAME GID",
 * "biggroup NAME GID" (the largest group).  Exit status 0, or 1 when a
 * lookup that must succeed fails (the data set is not what the backend
 * serves), 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_MAX    1000
#define NAME_LEN      64
#define BATCH_NS      20000000.0 /* aim for 20 ms a batch */
#define MIN_BATCHES   5
#define MAX_BATCHES   31
#define THREAD_TRIALS 5

struct entry {
	char name[NAME_LEN];
	unsigned id, gid;
};

struct sample {
	struct entry users[SAMPLE_MAX], groups[SAMPLE_MAX], big;
	size_t nusers, ngroups;
	int have_big;
};

/* A caller's buffer, grown on ERANGE and kept, as a long-lived program
 * would. */
struct lookbuf {
	char *p;
	size_t len;
};

struct ctx {
	const struct sample *s;
	struct lookbuf buf;
	struct passwd pw; /* per context: the thread runs share nothing */
	struct group gr;
	gid_t *groups;
	int ngroups_cap;
	size_t i;      /* next sample entry */
	long failures; /* answers other than the expected one */
};

typedef void (*op_fn)(struct ctx *c);

/* Every person of the data set, for the uniformly random lookups. */
static struct entry *all;
static size_t nall;

/* Off for the floor module, whose answers carry made-up ids. */
static int check_ids = 1;

static int id_wrong(unsigned got, unsigned want)
{
	return check_ids && got != want;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void buf_grow(struct lookbuf *b)
{
	size_t want = b->len ? b->len * 2 : 1024;
	char *p = realloc(b->p, want);

	if (p == NULL)
		die("realloc");
	b->p = p;
	b->len = want;
}

/* ---- the sample ---------------------------------------------------------- */

static void add_entry(struct entry *e, const char *name, unsigned id,
                      unsigned gid)
{
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->id = id;
	e->gid = gid;
}

static void load_sample(const char *path, struct sample *s)
{
	char kind[16], name[NAME_LEN], line[256];
	unsigned id, gid;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		die(path);
	while (fgets(line, sizeof(line), fp)) {
		int n = sscanf(line, "%15s %63s %u %u", kind, name, &id, &gid);

		if (n >= 4 && strcmp(kind, "user") == 0 &&
		    s->nusers < SAMPLE_MAX)
			add_entry(&s->users[s->nusers++], name, id, gid);
		else if (n >= 3 && strcmp(kind, "group") == 0 &&
		         s->ngroups < SAMPLE_MAX)
			add_entry(&s->groups[s->ngroups++], name, id, id);
		else if (n >= 3 && strcmp(kind, "biggroup") == 0) {
			add_entry(&s->big, name, id, id);
			s->have_big = 1;
		}
	}
	fclose(fp);
	if (s->nusers == 0 || s->ngroups == 0 || !s->have_big) {
		fprintf(stderr, "bench-nss: %s: no users, groups or biggroup\n",
		        path);
		exit(2);
	}
}

/* Reads BENCH_ALL's "NAME UID" lines into ALL. */
static void load_all(const char *path)
{
	char name[NAME_LEN], line[256];
	unsigned id;
	size_t cap = 0;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		die(path);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%63s %u", name, &id) != 2)
			continue;
		if (nall == cap) {
			cap = cap ? cap * 2 : 4096;
			all = realloc(all, cap * sizeof(*all));
			if (all == NULL)
				die("realloc");
		}
		add_entry(&all[nall++], name, id, id);
	}
	fclose(fp);
}

/* ---- operations ---------------------------------------------------------- */

static const struct entry *next_user(struct ctx *c)
{
	return &c->s->users[c->i++ % c->s->nusers];
}

static const struct entry *next_group(struct ctx *c)
{
	return &c->s->groups[c->i++ % c->s->ngroups];
}

static int pwnam(struct ctx *c, const char *name, struct passwd **res)
{
	int rc;

	while ((rc = getpwnam_r(name, &c->pw, c->buf.p, c->buf.len, res)) ==
	       ERANGE)
		buf_grow(&c->buf);
	return rc;
}

static void op_pwnam_hit(struct ctx *c)
{
	const struct entry *e = next_user(c);
	struct passwd *res;

	if (pwnam(c, e->name, &res) != 0 || res == NULL ||
	    id_wrong(res->pw_uid, e->id))
		c->failures++;
}

/* xorshift64: cheap next to a lookup, and the same sequence every run. */
static const struct entry *random_person(struct ctx *c)
{
	uint64_t x = c->i ? c->i : 0x9e3779b97f4a7c15u;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->i = x;
	return &all[x % nall];
}

static void op_pwnam_random(struct ctx *c)
{
	const struct entry *e = random_person(c);
	struct passwd *res;

	if (pwnam(c, e->name, &res) != 0 || res == NULL ||
	    id_wrong(res->pw_uid, e->id))
		c->failures++;
}

static void op_pwuid_random(struct ctx *c)
{
	const struct entry *e = random_person(c);
	struct passwd *res;
	int rc;

	while ((rc = getpwuid_r(e->id, &c->pw, c->buf.p, c->buf.len, &res)) ==
	       ERANGE)
		buf_grow(&c->buf);
	if (rc != 0 || res == NULL || id_wrong(res->pw_uid, e->id))
		c->failures++;
}

static void op_pwnam_miss(struct ctx *c)
{
	char name[NAME_LEN + 8];
	struct passwd *res;

	snprintf(name, sizeof(name), "nosuch.%s", next_user(c)->name);
	if (pwnam(c, name, &res) != 0 || res != NULL)
		c->failures++;
}

static void op_pwuid(struct ctx *c)
{
	const struct entry *e = next_user(c);
	struct passwd *res;
	int rc;

	while ((rc = getpwuid_r(e->id, &c->pw, c->buf.p, c->buf.len, &res)) ==
	       ERANGE)
		buf_grow(&c->buf);
	if (rc != 0 || res == NULL || id_wrong(res->pw_uid, e->id))
		c->failures++;
}

static void grnam(struct ctx *c, const struct entry *e)
{
	struct group *res;
	int rc;

	while ((rc = getgrnam_r(e->name, &c->gr, c->buf.p, c->buf.len, &res)) ==
	       ERANGE)
		buf_grow(&c->buf);
	if (rc != 0 || res == NULL || id_wrong(res->gr_gid, e->id))
		c->failures++;
}

static void grgid(struct ctx *c, const struct entry *e)
{
	struct group *res;
	int rc;

	while ((rc = getgrgid_r(e->id, &c->gr, c->buf.p, c->buf.len, &res)) ==
	       ERANGE)
		buf_grow(&c->buf);
	if (rc != 0 || res == NULL || id_wrong(res->gr_gid, e->id))
		c->failures++;
}

static void op_grnam_small(struct ctx *c)
{
	grnam(c, next_group(c));
}

static void op_grgid_small(struct ctx *c)
{
	grgid(c, next_group(c));
}

static void op_grnam_big(struct ctx *c)
{
	grnam(c, &c->s->big);
}

static void op_grgid_big(struct ctx *c)
{
	grgid(c, &c->s->big);
}

static void op_grouplist(struct ctx *c)
{
	const struct entry *e = next_user(c);
	int n = c->ngroups_cap;

	while (getgrouplist(e->name, e->gid, c->groups, &n) < 0) {
		gid_t *p = realloc(c->groups, (size_t)n * sizeof(gid_t));

		if (p == NULL)
			die("realloc");
		c->groups = p;
		c->ngroups_cap = n;
	}
	/* Besides the primary group, everyone is in some groups. */
	if (n < 2)
		c->failures++;
}

static void op_enum_passwd(struct ctx *c)
{
	struct passwd *res;
	long n = 0;
	int rc;

	setpwent();
	for (;;) {
		rc = getpwent_r(&c->pw, c->buf.p, c->buf.len, &res);
		if (rc == ERANGE) {
			buf_grow(&c->buf);
			continue;
		}
		if (rc != 0)
			break;
		n++;
	}
	endpwent();
	if (n < (long)c->s->nusers)
		c->failures++;
}

static void op_enum_group(struct ctx *c)
{
	struct group *res;
	long n = 0;
	int rc;

	setgrent();
	for (;;) {
		rc = getgrent_r(&c->gr, c->buf.p, c->buf.len, &res);
		if (rc == ERANGE) {
			buf_grow(&c->buf);
			continue;
		}
		if (rc != 0)
			break;
		n++;
	}
	endgrent();
	if (n < (long)c->s->ngroups)
		c->failures++;
}

/* ---- timing -------------------------------------------------------------- */

static void ctx_init(struct ctx *c, const struct sample *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	buf_grow(&c->buf);
	c->ngroups_cap = 64;
	c->groups = malloc(sizeof(gid_t) * (size_t)c->ngroups_cap);
	if (c->groups == NULL)
		die("malloc");
}

static void ctx_free(struct ctx *c)
{
	free(c->buf.p);
	free(c->groups);
}

/* Median over batches of the cost of one call, in µs.  The first calls warm
 * caches and give an estimate that sizes the batches. */
static double measure(struct ctx *c, op_fn fn, double budget_ns, long *calls,
                      long *failures)
{
	double v[MAX_BATCHES] = {0}, t0, est, start;
	long batch, nb = 0, warm = 0;

	t0 = now_ns();
	do {
		fn(c);
		warm++;
	} while (warm < 20 && now_ns() - t0 < budget_ns / 10);
	est = (now_ns() - t0) / (double)warm;
	batch = est > 0 ? (long)(BATCH_NS / est) : 1000;
	if (batch < 1)
		batch = 1;
	if (batch > 200000)
		batch = 200000;
	*calls = warm;
	start = now_ns();
	while (nb < MAX_BATCHES &&
	       (nb < MIN_BATCHES || now_ns() - start < budget_ns)) {
		double b0 = now_ns();

		for (long k = 0; k < batch; k++)
			fn(c);
		v[nb++] = (now_ns() - b0) / (double)batch / 1000.0;
		*calls += batch;
		/* Calls so slow that five batches would blow the budget. */
		if (nb >= 1 && now_ns() - start > 3 * budget_ns)
			break;
	}
	*failures = c->failures;
	return median(v, (size_t)nb);
}

static int report(const char *op, double value, const char *unit, long calls,
                  long failures)
{
	if (failures > 0) {
		printf("RESULT %s ERR %s %ld\n", op, unit, calls);
		fprintf(stderr, "bench-nss: %s: %ld wrong answers\n", op,
		        failures);
		return 1;
	}
	printf("RESULT %s %.3f %s %ld\n", op, value, unit, calls);
	fflush(stdout);
	return 0;
}

/* ---- threads ------------------------------------------------------------- */

struct thread_arg {
	const struct sample *s;
	size_t offset;
	double until_ns;
	long calls, failures;
	pthread_barrier_t *barrier;
	int cpu_only; /* arithmetic instead of lookups: what the cores give */
};

/* A few µs of arithmetic that touches no memory. */
static unsigned long spin(unsigned long x)
{
	for (int k = 0; k < 2000; k++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct ctx c;

	ctx_init(&c, a->s);
	c.i = a->offset;
	pthread_barrier_wait(a->barrier);
	while (now_ns() < a->until_ns) {
		for (int k = 0; k < 16; k++) {
			if (a->cpu_only)
				c.i = spin(c.i);
			else
				op_pwnam_hit(&c);
		}
		a->calls += 16;
	}
	a->failures = c.failures;
	ctx_free(&c);
	return NULL;
}

/* Lookups per second with N threads looking up at once. */
static double throughput(const struct sample *s, int n, int cpu_only,
                         double dur_ns, long *failures)
{
	pthread_t tid[8];
	struct thread_arg arg[8];
	pthread_barrier_t barrier;
	double t0, until;
	long total = 0;

	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	until = now_ns() + dur_ns + 1e7; /* start-up slack, taken out below */
	for (int i = 0; i < n; i++) {
		arg[i] = (struct thread_arg){s, (size_t)i * 97, until,   0,
		                             0, &barrier,       cpu_only};
		if (pthread_create(&tid[i], NULL, thread_main, &arg[i]) != 0)
			die("pthread_create");
	}
	pthread_barrier_wait(&barrier);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		total += arg[i].calls;
		*failures += arg[i].failures;
	}
	pthread_barrier_destroy(&barrier);
	return (double)total / ((until - t0) / 1e9);
}

/* Looks everyone up once, by name and by id, untimed (stopping once
 * BUDGET_NS is spent, for a backend that reads its whole file each time):
 * what follows then measures lookups whose data the backend has already
 * brought into the process, but not into the CPU's caches. */
static void pass_over_everyone(struct ctx *c, double budget_ns)
{
	double t0 = now_ns();
	struct passwd *res;

	for (size_t i = 0; i < nall && now_ns() - t0 < budget_ns; i++) {
		if (pwnam(c, all[i].name, &res) != 0 || res == NULL)
			c->failures++;
		while (getpwuid_r(all[i].id, &c->pw, c->buf.p, c->buf.len,
		                  &res) == ERANGE)
			buf_grow(&c->buf);
	}
}

/* ---- modes --------------------------------------------------------------- */

static const struct {
	const char *name;
	op_fn fn;
	const char *unit;
} ops[] = {
        {"getpwnam_hit", op_pwnam_hit, "us"},
        {"getpwnam_random", op_pwnam_random, "us"},
        {"getpwuid_random", op_pwuid_random, "us"},
        {"getpwnam_random_warm", op_pwnam_random, "us"},
        {"getpwuid_random_warm", op_pwuid_random, "us"},
        {"getpwnam_miss", op_pwnam_miss, "us"},
        {"getpwuid", op_pwuid, "us"},
        {"getgrnam_small", op_grnam_small, "us"},
        {"getgrgid_small", op_grgid_small, "us"},
        {"getgrnam_largest", op_grnam_big, "us"},
        {"getgrgid_largest", op_grgid_big, "us"},
        {"getgrouplist", op_grouplist, "us"},
        {"enum_passwd", op_enum_passwd, "us"},
        {"enum_group", op_enum_group, "us"},
};

static int mode_run(const char *path, double budget_ms, const char *only)
{
	static struct sample s;
	double tp1, tp2, cpu1, cpu2;
	long calls, failures = 0;
	int bad = 0;

	load_sample(path, &s);
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		struct ctx c;
		double v;

		if (only != NULL && strstr(only, ops[k].name) == NULL)
			continue;
		if (nall == 0 && (ops[k].fn == op_pwnam_random ||
		                  ops[k].fn == op_pwuid_random))
			continue;
		ctx_init(&c, &s);
		if (strstr(ops[k].name, "_warm") != NULL)
			pass_over_everyone(&c, budget_ms * 1e6);
		v = measure(&c, ops[k].fn, budget_ms * 1e6, &calls, &failures);
		bad |= report(ops[k].name, v, ops[k].unit, calls, failures);
		ctx_free(&c);
	}
	if (only != NULL && strstr(only, "threads") == NULL)
		return bad;
	/* Short alternating trials, keeping the best of each: on a shared
	 * machine another process takes a core now and then, and the best
	 * trial is the one it left alone.  Arithmetic alone says how far two
	 * threads can scale at all here. */
	failures = 0;
	tp1 = tp2 = cpu1 = cpu2 = 0;
	for (int t = 0; t < THREAD_TRIALS; t++) {
		double dur = budget_ms * 1e6 / 4;

		tp1 = fmax(tp1, throughput(&s, 1, 0, dur, &failures));
		tp2 = fmax(tp2, throughput(&s, 2, 0, dur, &failures));
		cpu1 = fmax(cpu1, throughput(&s, 1, 1, dur, &failures));
		cpu2 = fmax(cpu2, throughput(&s, 2, 1, dur, &failures));
	}
	bad |= report("threads1", tp1, "per_s", 0, failures);
	bad |= report("threads2", tp2, "per_s", 0, failures);
	bad |= report("threads_scaling", tp2 / tp1, "x", 0, failures);
	bad |= report("cpu_scaling", cpu2 / cpu1, "x", 0, 0);
	return bad;
}

static int mode_first(const char *name)
{
	struct passwd pw, *res;
	char buf[4096];
	double t0 = now_ns();
	int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	double t1 = now_ns();

	if (rc != 0 || res == NULL) {
		fprintf(stderr, "bench-nss: %s not found\n", name);
		return 1;
	}
	printf("%.3f\n", (t1 - t0) / 1000.0);
	return 0;
}

/* Wall time of one run of ARGV in µs; -1 when it failed, -2 when it ran
 * past TIMEOUT_S seconds and was killed. */
static double run_once(char **argv, double timeout_s)
{
	struct timespec ts = {(time_t)timeout_s, 0};
	sigset_t chld;
	double t0;
	int status = 0;
	pid_t pid;

	/* SIGCHLD stays blocked: sigtimedwait() then wakes as the child ends,
	 * with no polling delay in the measurement. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		if (fd >= 0)
			dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -2;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (now_ns() - t0) / 1000.0;
}

/* Up to N runs, fewer once BUDGET_MS is spent (at least one); each run's
 * wall time on its own line. */
static int mode_times(long n, double budget_ms, double timeout_s, char **argv)
{
	double start = now_ns();

	for (long k = 0;
	     k < n && (k == 0 || now_ns() - start < budget_ms * 1e6); k++) {
		double v = run_once(argv, timeout_s);

		if (v == -2) {
			printf("TIMEOUT %.0f\n", timeout_s * 1e6);
			return 0;
		}
		if (v < 0) {
			fprintf(stderr, "bench-nss: %s failed\n", argv[0]);
			return 1;
		}
		printf("%.3f\n", v);
	}
	return 0;
}

/* Up to N runs, fewer once BUDGET_MS is spent (at least one). */
static int mode_spawn(long n, double budget_ms, double timeout_s, char **argv)
{
	double *v = calloc((size_t)(n > 0 ? n : 1), sizeof(double)), best;
	double start = now_ns();
	long k = 0;

	if (v == NULL || n < 1)
		die("spawn");
	while (k < n && (k == 0 || now_ns() - start < budget_ms * 1e6)) {
		v[k] = run_once(argv, timeout_s);
		if (v[k] == -2) {
			printf("TIMEOUT %.0f\n", timeout_s * 1e6);
			return 0;
		}
		if (v[k] < 0) {
			fprintf(stderr, "bench-nss: %s failed\n", argv[0]);
			return 1;
		}
		k++;
	}
	best = v[0];
	for (long i = 1; i < k; i++)
		best = v[i] < best ? v[i] : best;
	printf("%.3f %.3f %ld\n", median(v, (size_t)k), best, k);
	free(v);
	return 0;
}

/* Runs ARGV once; prints its wall time, CPU time and peak RSS. */
static int mode_rusage(char **argv)
{
	struct rusage ru;
	double t0 = now_ns(), wall;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4");
	wall = (now_ns() - t0) / 1e9;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-nss: %s failed\n", argv[0]);
		return 1;
	}
	printf("wall_s %.3f\nuser_s %.3f\nsys_s %.3f\nrss_kb %ld\n", wall,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	       ru.ru_maxrss);
	return 0;
}

int main(int argc, char **argv)
{
	const char *nocheck = getenv("BENCH_NOCHECK");
	const char *everyone = getenv("BENCH_ALL");

	check_ids = nocheck == NULL || strcmp(nocheck, "1") != 0;
	if (everyone != NULL && everyone[0] != '\0' && argc >= 2 &&
	    strcmp(argv[1], "run") == 0)
		load_all(everyone);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return mode_run(argv[2], argc > 3 ? atof(argv[3]) : 1000.0,
		                argc > 4 ? argv[4] : NULL);
	if (argc == 3 && strcmp(argv[1], "first") == 0)
		return mode_first(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "rusage") == 0)
		return mode_rusage(argv + 2);
	if (argc >= 6 && strcmp(argv[1], "times") == 0)
		return mode_times(atol(argv[2]), atof(argv[3]), atof(argv[4]),
		                  argv + 5);
	if (argc >= 6 && strcmp(argv[1], "spawn") == 0)
		return mode_spawn(atol(argv[2]), atof(argv[3]), atof(argv[4]),
		                  argv + 5);
	fprintf(stderr,
	        "usage: bench-nss run SAMPLE [BUDGET_MS [OPS]] | "
	        "first NAME | spawn|times N BUDGET_MS TIMEOUT_S CMD [ARG...] | "
	        "rusage CMD [ARG...]\n");
	return 2;
}
