/* SPDX-License-Identifier: MIT */
/*
 * tools-verify: the parsers behind "scim-cache verify" (nsswitch.conf, PAM
 * stacks with their includes, login.defs, sssd.conf) and the report over a
 * host laid out in a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "test.h"
#include "verify.h"

static char dir[] = "/tmp/tools-verify.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	REQUIRE(f != NULL);
	fputs(text, f);
	REQUIRE(fclose(f) == 0);
}

static void test_nsswitch(void)
{
	const char *deb = "passwd:         files scim systemd\n"
	                  "group:          files scim systemd\n"
	                  "shadow:         files\n";

	CHECK_INT(verify_nsswitch_text(deb, "passwd"), 0);
	CHECK_INT(verify_nsswitch_text(deb, "group"), 0);
	CHECK_INT(verify_nsswitch_text(deb, "shadow"), -ESRCH);
	CHECK_INT(verify_nsswitch_text(deb, "hosts"), -ENOENT);
	/* Debian 12's default, before the package. */
	CHECK_INT(verify_nsswitch_text("passwd: files systemd\n", "passwd"),
	          -ESRCH);
	CHECK_INT(verify_nsswitch_text("passwd: scim files\n", "passwd"),
	          -EBADMSG);
	CHECK_INT(verify_nsswitch_text("passwd: compat [NOTFOUND=return] "
	                               "scim\n",
	                               "passwd"),
	          0);
	/* Comments and look-alike names do not count; the last line does. */
	CHECK_INT(verify_nsswitch_text("#passwd: files scim\n", "passwd"),
	          -ENOENT);
	CHECK_INT(verify_nsswitch_text("passwd: files # scim\n", "passwd"),
	          -ESRCH);
	CHECK_INT(verify_nsswitch_text("passwdx: files scim\n", "passwd"),
	          -ENOENT);
	CHECK_INT(verify_nsswitch_text("passwd: files scim\npasswd: files\n",
	                               "passwd"),
	          -ESRCH);
	CHECK_INT(verify_nsswitch_text("  passwd :\tfiles\tscim", "passwd"), 0);
	CHECK_INT(verify_nsswitch_text("passwd: files scimx\n", "passwd"),
	          -ESRCH);
}

static void test_controls(void)
{
	CHECK(verify_pam_control_blocks("required"));
	CHECK(verify_pam_control_blocks("requisite"));
	CHECK(!verify_pam_control_blocks("optional"));
	CHECK(!verify_pam_control_blocks("sufficient"));
	CHECK(verify_pam_control_blocks(
	        "[success=ok new_authtok_reqd=ok user_unknown=ignore "
	        "default=bad]"));
	CHECK(verify_pam_control_blocks("[default=die]"));
	CHECK(!verify_pam_control_blocks("[default=ignore]"));
	CHECK(!verify_pam_control_blocks("[perm_denied=ignore default=bad]"));
	CHECK(verify_pam_control_blocks("[perm_denied=bad default=ignore]"));
	CHECK(!verify_pam_control_blocks("[success=ok]"));
}

static void test_pam(void)
{
	/* Debian's layout: sshd and login include common-account, which
	 * pam-auth-update wrote with the profile's line. */
	put("common-account",
	    "# here are the per-package modules (the \"Primary\" block)\n"
	    "account\t[success=1 new_authtok_reqd=done default=ignore]\t"
	    "pam_unix.so\n"
	    "account\trequisite\t\t\tpam_deny.so\n"
	    "account\trequired\t\t\tpam_permit.so\n"
	    "account\t[success=ok new_authtok_reqd=ok user_unknown=ignore "
	    "default=bad]\tpam_scim.so\n");
	put("sshd", "@include common-auth\n@include common-account\n");
	put("login", "auth optional pam_faildelay.so\n"
	             "@include common-account\n");
	put("common-auth", "auth required pam_unix.so\n");
	CHECK_INT(verify_pam_stack(dir, "sshd"), 0);
	CHECK_INT(verify_pam_stack(dir, "login"), 0);
	CHECK_INT(verify_pam_stack(dir, "ftp"), -ENOENT);

	/* RHEL's include and substack, and a full module path. */
	put("system-auth", "account required /usr/lib64/security/"
	                   "pam_scim.so\n");
	put("rhel-sshd", "account include system-auth\n");
	put("rhel-login", "account substack system-auth\n");
	CHECK_INT(verify_pam_stack(dir, "rhel-sshd"), 0);
	CHECK_INT(verify_pam_stack(dir, "rhel-login"), 0);

	/* Present but toothless, commented out, or of another type. */
	put("weak", "account optional pam_scim.so\n");
	CHECK_INT(verify_pam_stack(dir, "weak"), -EPERM);
	put("weak-inc", "@include weak\n");
	CHECK_INT(verify_pam_stack(dir, "weak-inc"), -EPERM);
	put("commented", "#account required pam_scim.so\n");
	CHECK_INT(verify_pam_stack(dir, "commented"), -ESRCH);
	put("authonly", "auth required pam_scim.so\n");
	CHECK_INT(verify_pam_stack(dir, "authonly"), -ESRCH);
	put("dashed", "-account required pam_scim.so\n");
	CHECK_INT(verify_pam_stack(dir, "dashed"), 0);
	put("missing-inc", "@include nowhere\n");
	CHECK_INT(verify_pam_stack(dir, "missing-inc"), -ESRCH);

	/* Behind a module that can end the stack with success. */
	put("bypassed", "account sufficient pam_localuser.so\n"
	                "@include common-account\n");
	CHECK_INT(verify_pam_stack(dir, "bypassed"), -EXDEV);
	put("bypassed2", "account [success=done default=ignore] pam_x.so\n"
	                 "account required pam_scim.so\n");
	CHECK_INT(verify_pam_stack(dir, "bypassed2"), -EXDEV);
	put("after", "account required pam_scim.so\n"
	             "account sufficient pam_localuser.so\n");
	CHECK_INT(verify_pam_stack(dir, "after"), 0);

	/* A loop ends instead of recursing forever. */
	put("loop", "@include loop\n");
	CHECK_INT(verify_pam_stack(dir, "loop"), -ELOOP);
}

static void test_login_defs(void)
{
	const char *defs = "# UID_MIN 5\n"
	                   "UID_MIN\t\t\t 1000\n"
	                   "UID_MAX\t\t\t60000\n"
	                   "#SYS_UID_MIN\t\t  101\n"
	                   "SYS_UID_MAX  999 # trailing comment\n"
	                   "UID_MINX 7\n"
	                   "GID_MAX bogus\n";
	uint32_t v = 0;

	CHECK_INT(verify_login_defs_get(defs, "UID_MIN", &v), 0);
	CHECK_INT(v, 1000);
	CHECK_INT(verify_login_defs_get(defs, "UID_MAX", &v), 0);
	CHECK_INT(v, 60000);
	CHECK_INT(verify_login_defs_get(defs, "SYS_UID_MAX", &v), 0);
	CHECK_INT(v, 999);
	CHECK_INT(verify_login_defs_get(defs, "SYS_UID_MIN", &v), -ENOENT);
	CHECK_INT(verify_login_defs_get(defs, "GID_MAX", &v), -ENOENT);
}

static void test_sssd(void)
{
	const char *conf = "[sssd]\ndomains = corp, lab\nmin_id = 5\n"
	                   "[domain/corp]\nid_provider = ldap\n"
	                   "min_id = 10000\nmax_id = 20000\n"
	                   "[domain/lab]\nid_provider = ldap\n"
	                   "[domain/wide]\n  min_id=2000000000\n";
	uint32_t lo[4], hi[4];

	CHECK_INT(verify_sssd_ranges(conf, lo, hi, 4), 2);
	CHECK_INT(lo[0], 10000);
	CHECK_INT(hi[0], 20000);
	CHECK_INT(lo[1], 2000000000);
	CHECK_INT(hi[1], UINT32_MAX);
	CHECK_INT(verify_sssd_ranges(conf, lo, hi, 1), 1);
}

/* The whole report over files of this directory: every check but the
 * snapshot holds, so it exits 1, and names the snapshot. */
static void test_report(void)
{
	static const char *const svcs[] = {"sshd", "login", NULL};
	char ns[PATH_MAX], timer[PATH_MAX], cron[PATH_MAX], snap[PATH_MAX],
	        defs[PATH_MAX], sssd[PATH_MAX], out[PATH_MAX], *text = NULL;
	struct verify_paths p;
	FILE *f;
	size_t len = 0;

	put("nsswitch.conf", "passwd: files scim systemd\n"
	                     "group: files scim systemd\n");
	put("login.defs", "UID_MIN 1000\nUID_MAX 60000\n");
	put("sssd.conf", "[domain/corp]\nmin_id = 1879048192\n");
	put("timer", "");
	snprintf(ns, sizeof(ns), "%s/nsswitch.conf", dir);
	snprintf(timer, sizeof(timer), "%s/timer", dir);
	snprintf(cron, sizeof(cron), "%s/no-cron", dir);
	snprintf(snap, sizeof(snap), "%s/no-snapshot.mdb", dir);
	snprintf(defs, sizeof(defs), "%s/login.defs", dir);
	snprintf(sssd, sizeof(sssd), "%s/no-sssd.conf", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	p = (struct verify_paths){
	        .nsswitch = ns,
	        .pam_dir = dir,
	        .login_defs = defs,
	        .sssd_conf = sssd,
	        .timer_link = timer,
	        .cron_file = cron,
	        .cache_path = snap,
	        .uid_min = 1879048192u,
	        .uid_max = 2147352575u,
	        .max_age = 7200,
	        .pam_services = svcs,
	};
	f = fopen(out, "w+e");
	REQUIRE(f != NULL);
	CHECK_INT(verify_run(&p, false, f), 1);
	fflush(f);
	rewind(f);
	text = calloc(1, 8192);
	REQUIRE(text != NULL);
	len = fread(text, 1, 8191, f);
	fclose(f);
	CHECK(len > 0);
	CHECK(strstr(text, "ok   nsswitch") != NULL);
	CHECK(strstr(text, "ok   sshd") != NULL);
	CHECK(strstr(text, "ok   login") != NULL);
	CHECK(strstr(text, "FAIL snapshot") != NULL);
	CHECK(strstr(text, "fix: configure url") != NULL);
	CHECK(strstr(text, "ok   schedule") != NULL);
	CHECK(strstr(text, "ok   uid-range") != NULL);
	free(text);

	/* An SSSD domain on the same range fails the id check. */
	snprintf(sssd, sizeof(sssd), "%s/sssd.conf", dir);
	f = fopen(out, "w+e");
	REQUIRE(f != NULL);
	CHECK_INT(verify_run(&p, true, f), 1);
	fflush(f);
	rewind(f);
	text = calloc(1, 8192);
	REQUIRE(text != NULL);
	len = fread(text, 1, 8191, f);
	fclose(f);
	CHECK(strstr(text, "\"schema_version\":1") != NULL ||
	      strstr(text, "\"schema_version\": 1") != NULL);
	CHECK(strstr(text, "overlaps the SSSD range") != NULL);
	CHECK(strstr(text, "\"fix\":null") != NULL ||
	      strstr(text, "\"fix\": null") != NULL);
	free(text);
}

int main(void)
{
	char cmd[PATH_MAX + 16];

	REQUIRE(mkdtemp(dir) != NULL);
	test_nsswitch();
	test_controls();
	test_pam();
	test_login_defs();
	test_sssd();
	test_report();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return test_result();
}
