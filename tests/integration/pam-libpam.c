/* SPDX-License-Identifier: MIT */
/*
 * pam-libpam: pam_scim.so through the real libpam.  Each case writes a
 * service file into a private directory and runs pam_acct_mgmt() through
 * pam_start_confdir(), with the freshly built module named by absolute path
 * and NSS_SCIM_CACHE pointing at a snapshot made by the project's writer.
 *
 * The module reads through the default reader, which trusts only snapshots
 * owned by root: the test skips unless run as root.
 *
 * To see PAM_IGNORE (which libpam never returns by itself), the test stack
 * is
 *     account [ignore=ignore default=done] /path/pam_scim.so ARGS
 *     account [default=done] pam_debug.so acct=no_module_data
 * so that the module's own code comes back, and PAM_NO_MODULE_DATA stands
 * for "pam_scim ignored".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "pam-fixture.h"
#include "snap.h"
#include "test.h"

#define SERVICE "nss-scim-test"

static char dir[64], confdir[128], snap_path[128];
static char module[PATH_MAX];
static char messages[4096]; /* what the module said to the user */

static int conv(int n, const struct pam_message **msg,
                struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		size_t used = strlen(messages);

		snprintf(messages + used, sizeof(messages) - used, "%d:%s\n",
		         msg[i]->msg_style, msg[i]->msg);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Writes TEXT to PATH, with each "{M}" replaced by the module's path. */
static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "we");
	const char *p;

	REQUIRE(fp != NULL);
	while ((p = strstr(text, "{M}")) != NULL) {
		fwrite(text, 1, (size_t)(p - text), fp);
		fputs(module, fp);
		text = p + 3;
	}
	fputs(text, fp);
	REQUIRE(fclose(fp) == 0);
}

static void fresh(void)
{
	pam_fixture_publish(snap_path, time(NULL), "carol");
}

/* Runs the account stack STACK ("{M}" stands for the module's path)
 * for USER; returns what pam_acct_mgmt() returned. */
static int run_stack(const char *stack, const char *user, int flags)
{
	char path[192];
	pam_handle_t *pamh = NULL;
	struct pam_conv c = {conv, NULL};
	int rc;

	snprintf(path, sizeof(path), "%s/" SERVICE, confdir);
	write_file(path, stack);
	messages[0] = '\0';
	rc = pam_start_confdir(SERVICE, user, &c, confdir, &pamh);
	REQUIRE(rc == PAM_SUCCESS);
	rc = pam_acct_mgmt(pamh, flags);
	pam_end(pamh, rc);
	return rc;
}

/* The module's own code for USER with ARGS, PAM_IGNORE included. */
static int account_flags(const char *args, const char *user, int flags)
{
	char stack[512];
	int rc;

	snprintf(stack, sizeof(stack),
	         "account [ignore=ignore default=done] {M} %s\n"
	         "account [default=done] pam_debug.so acct=no_module_data\n",
	         args);
	rc = run_stack(stack, user, flags | PAM_SILENT);
	if (flags & PAM_SILENT)
		return rc == PAM_NO_MODULE_DATA ? PAM_IGNORE : rc;
	/* Again without PAM_SILENT, for the module's messages: pam_debug
	 * talks too unless silenced, so it is left out here. */
	snprintf(stack, sizeof(stack),
	         "account [ignore=ignore default=done] {M} %s\n"
	         "account [default=done] pam_deny.so\n",
	         args);
	(void)run_stack(stack, user, flags);
	return rc == PAM_NO_MODULE_DATA ? PAM_IGNORE : rc;
}

static int account(const char *args, const char *user)
{
	return account_flags(args, user, 0);
}

#define RECOMMENDED                                                            \
	"account [success=ok new_authtok_reqd=ok user_unknown=ignore "         \
	"default=bad] {M}\n"                                                   \
	"account required pam_permit.so\n"

static void test_rows(void)
{
	fresh();
	CHECK_INT(account("", "alice"), PAM_SUCCESS);
	CHECK_STR(messages, "");
	CHECK_INT(account("", "carol"), PAM_PERM_DENIED);
	CHECK_STR(messages, "3:Your account is suspended.\n");
	CHECK_INT(account_flags("", "carol", PAM_SILENT), PAM_PERM_DENIED);
	CHECK_STR(messages, "");
	CHECK_INT(account("quiet", "carol"), PAM_PERM_DENIED);
	CHECK_STR(messages, "");
	CHECK_INT(account("", "nosuch"), PAM_USER_UNKNOWN);
	CHECK_INT(account("", "root"), PAM_USER_UNKNOWN);
	CHECK_INT(account("", "-alice"), PAM_USER_UNKNOWN);
	CHECK_INT(account("", "alice:x"), PAM_USER_UNKNOWN);
	CHECK_INT(account("ignore_unknown_user", "nosuch"), PAM_IGNORE);
	CHECK_INT(account("ignore_unknown_user", "root"), PAM_IGNORE);
	CHECK_INT(account("ignore_unknown_user", "alice"), PAM_SUCCESS);
	CHECK_INT(account("ignore_unknown_user", "carol"), PAM_PERM_DENIED);
	CHECK_INT(account("ignore_authinfo_unavail", "nosuch"),
	          PAM_USER_UNKNOWN);
	/* An unknown option is ignored, a bad value fails closed. */
	CHECK_INT(account("frobnicate debug", "alice"), PAM_SUCCESS);
	CHECK_INT(account("max_age=soon", "alice"), PAM_SERVICE_ERR);
	CHECK_INT(account("allow_groups=a,,b", "alice"), PAM_SERVICE_ERR);
}

static void test_unavailable(void)
{
	char sub[128];

	fresh();
	/* Writable by group: not trusted. */
	REQUIRE(chmod(snap_path, 0664) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(account("", "carol"), PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(account("ignore_authinfo_unavail", "alice"), PAM_IGNORE);
	CHECK_INT(account("ignore_unknown_user", "alice"),
	          PAM_AUTHINFO_UNAVAIL);
	/* Local users do not depend on the snapshot. */
	CHECK_INT(account("", "root"), PAM_USER_UNKNOWN);
	/* Owned by someone else than root (the default reader's rule). */
	REQUIRE(chmod(snap_path, 0644) == 0);
	CHECK_INT(account("", "alice"), PAM_SUCCESS);
	REQUIRE(chown(snap_path, 65534, 65534) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	/* Missing. */
	REQUIRE(unlink(snap_path) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(account("", "nosuch"), PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(account("ignore_authinfo_unavail", "alice"), PAM_IGNORE);
	/* Damaged. */
	write_file(snap_path, "this is not an LMDB file\n");
	REQUIRE(chmod(snap_path, 0644) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	/* Its directory writable by group. */
	fresh();
	CHECK_INT(account("", "alice"), PAM_SUCCESS);
	REQUIRE(chmod(dir, 0770) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	REQUIRE(chmod(dir, 0700) == 0);
	/* A symbolic link to a good snapshot is refused too. */
	snprintf(sub, sizeof(sub), "%s/real.mdb", dir);
	REQUIRE(rename(snap_path, sub) == 0);
	REQUIRE(symlink(sub, snap_path) == 0);
	CHECK_INT(account("", "alice"), PAM_AUTHINFO_UNAVAIL);
	REQUIRE(unlink(snap_path) == 0);
	REQUIRE(unlink(sub) == 0);
}

static void test_max_age(void)
{
	pam_fixture_publish(snap_path, time(NULL) - 1000, "carol");
	CHECK_INT(account("", "alice"), PAM_SUCCESS);
	CHECK_INT(account("max_age=0", "alice"), PAM_SUCCESS);
	CHECK_INT(account("max_age=600", "alice"), PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(account("max_age=600 ignore_authinfo_unavail", "alice"),
	          PAM_IGNORE);
	CHECK_INT(account("max_age=600", "carol"), PAM_PERM_DENIED);
	CHECK_INT(account("max_age=600", "root"), PAM_USER_UNKNOWN);
	CHECK_INT(account("max_age=3600", "alice"), PAM_SUCCESS);
}

static void test_allow_groups(void)
{
	fresh();
	CHECK_INT(account("allow_groups=ops", "alice"), PAM_PERM_DENIED);
	CHECK_STR(messages, "3:You are not allowed to log in here.\n");
	CHECK_INT(account("allow_groups=ops", "bob"), PAM_SUCCESS);
	CHECK_INT(account("allow_groups=ops", "carol"), PAM_PERM_DENIED);
	CHECK_STR(messages, "3:Your account is suspended.\n");
	CHECK_INT(account("allow_groups=ops,engineering", "alice"),
	          PAM_SUCCESS);
	CHECK_INT(account("allow_groups=alice", "alice"), PAM_SUCCESS);
	CHECK_INT(account("allow_groups=nosuchgroup", "alice"),
	          PAM_PERM_DENIED);
	CHECK_INT(account("allow_groups=ops", "nosuch"), PAM_USER_UNKNOWN);
	CHECK_INT(account("allow_groups=ops ignore_unknown_user", "root"),
	          PAM_IGNORE);
}

/* The stack line the man page recommends, with pam_permit standing in
 * for pam_unix; and the pitfall it warns about. */
static void test_recommended_stack(void)
{
	fresh();
	CHECK_INT(run_stack(RECOMMENDED, "alice", PAM_SILENT), PAM_SUCCESS);
	CHECK_INT(run_stack(RECOMMENDED, "carol", PAM_SILENT), PAM_PERM_DENIED);
	CHECK_INT(run_stack(RECOMMENDED, "root", PAM_SILENT), PAM_SUCCESS);
	CHECK_INT(run_stack(RECOMMENDED, "nosuch", PAM_SILENT), PAM_SUCCESS);
	REQUIRE(unlink(snap_path) == 0);
	CHECK_INT(run_stack(RECOMMENDED, "alice", PAM_SILENT),
	          PAM_AUTHINFO_UNAVAIL);
	CHECK_INT(run_stack(RECOMMENDED, "root", PAM_SILENT), PAM_SUCCESS);
	fresh();
	/* The pitfall: failures ignored, so the next module admits carol. */
	CHECK_INT(run_stack("account optional {M}\n"
	                    "account required pam_permit.so\n",
	                    "carol", PAM_SILENT),
	          PAM_SUCCESS);
}

/* Bits per fd number below FD_SCAN_MAX: open, and open without
 * FD_CLOEXEC. */
#define FD_SCAN_MAX 1024
static void scan_fds(bool open_fds[FD_SCAN_MAX], bool inherit[FD_SCAN_MAX])
{
	for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
		int fl = fcntl(fd, F_GETFD);

		open_fds[fd] = fl >= 0;
		inherit[fd] = fl >= 0 && !(fl & FD_CLOEXEC);
	}
}

/* While the module holds the snapshot open, none of its fds survives an
 * exec; once libpam unloads it, none is left open. */
static void test_fds(void)
{
	static bool open0[FD_SCAN_MAX], inh0[FD_SCAN_MAX];
	static bool open1[FD_SCAN_MAX], inh1[FD_SCAN_MAX];
	char path[192];
	struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	int opened = 0;

	fresh();
	snprintf(path, sizeof(path), "%s/" SERVICE, confdir);
	write_file(path, "account required {M}\n");
	scan_fds(open0, inh0);
	REQUIRE(pam_start_confdir(SERVICE, "alice", &c, confdir, &pamh) ==
	        PAM_SUCCESS);
	CHECK_INT(pam_acct_mgmt(pamh, PAM_SILENT), PAM_SUCCESS);
	scan_fds(open1, inh1);
	for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
		if (open1[fd] && !open0[fd])
			opened++;
		if (inh1[fd] && !inh0[fd]) {
			fprintf(stderr, "fd %d is inherited across exec\n", fd);
			CHECK(!inh1[fd]);
		}
	}
	CHECK(opened >= 1); /* the snapshot is held open */
	pam_end(pamh, PAM_SUCCESS);
	scan_fds(open1, inh1);
	for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
		if (open1[fd] && !open0[fd]) {
			fprintf(stderr, "fd %d left open after pam_end\n", fd);
			CHECK(!open1[fd]);
		}
	}
}

/* Only the account hook exists: an "auth" line naming the module fails. */
static void test_auth_fails_closed(void)
{
	char path[192];
	struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	fresh();
	snprintf(path, sizeof(path), "%s/" SERVICE, confdir);
	write_file(path, "auth required {M}\n");
	REQUIRE(pam_start_confdir(SERVICE, "alice", &c, confdir, &pamh) ==
	        PAM_SUCCESS);
	rc = pam_authenticate(pamh, PAM_SILENT);
	CHECK(rc != PAM_SUCCESS);
	pam_end(pamh, rc);
}

int main(void)
{
	const char *top = getenv("top_builddir");
	struct stat st;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: the default reader trusts only root\n");
		return TEST_SKIP;
	}
	REQUIRE(top != NULL);
	snprintf(module, sizeof(module), "%s/pam/.libs/pam_scim.so", top);
	REQUIRE(stat(module, &st) == 0);
	snprintf(dir, sizeof(dir), "/tmp/pam-libpam.XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	REQUIRE(mkdir(confdir, 0755) == 0);
	snprintf(snap_path, sizeof(snap_path), "%s/cache.mdb", dir);
	/* Read once per process by the module's reader. */
	REQUIRE(setenv("NSS_SCIM_CACHE", snap_path, 1) == 0);

	test_rows();
	test_unavailable();
	test_max_age();
	test_allow_groups();
	test_recommended_stack();
	test_auth_fails_closed();
	test_fds();

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return test_result();
}
