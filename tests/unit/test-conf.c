/* SPDX-License-Identifier: MIT */
/*
 * test-conf.c: scim-cache's config parser.  Every error names the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "test.h"

static int parse(struct scim_config *c, const char *text, char *err,
                 size_t errlen)
{
	config_free(c);
	REQUIRE(config_defaults(c) == 0);
	return config_parse(c, "t.conf", text, strlen(text), err, errlen);
}

/* TEXT must fail with an error that contains WANT. */
static void bad(const char *text, const char *want)
{
	struct scim_config c = {0};
	char err[512] = "";

	CHECK_INT(parse(&c, text, err, sizeof(err)), -EINVAL);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "error '%s' lacks '%s' (config: %s)\n", err,
		        want, text);
		test_failures++;
	}
	config_free(&c);
}

static void test_defaults(void)
{
	struct scim_config c = {0};
	char err[512];

	CHECK_INT(parse(&c, "url = https://scim.example.com/scim/\n", err,
	                sizeof(err)),
	          0);
	CHECK_STR(c.url, "https://scim.example.com/scim");
	CHECK_INT(c.uid_min, 1879048192);
	CHECK_INT(c.uid_max, 2147352575);
	CHECK_INT(c.page_size, 100);
	CHECK_INT(c.max_removed_percent, 20);
	CHECK_STR(c.home, "/home/%u");
	CHECK_STR(c.shell, "/bin/bash");
	CHECK_STR(c.gecos, "%f");
	CHECK_STR(c.local_passwd, "/etc/passwd");
	CHECK(c.ca_file == NULL);
	CHECK(c.metrics_file == NULL);
	CHECK(c.primary_group == NULL);
	CHECK_INT(c.username, USERNAME_EMAIL_LOCALPART);
	config_free(&c);
}

static void test_full(void)
{
	struct scim_config c = {0};
	char err[512] = "";
	const char *text =
	        "# a comment\n"
	        "\n"
	        "url = http://127.0.0.1:3002/scim\n"
	        "  token_file=/etc/t  \n"
	        "ca_file = /etc/ca.pem\n"
	        "cache_path = /var/x/cache.mdb\n"
	        "state_dir = /var/x/state\n"
	        "timeout = 5\nconnect_timeout = 2\nretries = 0\n"
	        "page_size = 10\nmax_pages = 7\n"
	        "uid_min = 300000\nuid_max = 400000\n"
	        "home = /srv/home/%u-%i\nshell = /bin/sh\n"
	        "gecos = %g %s <%e>\n"
	        "username = userName\n"
	        "domains = Example.COM, corp.example.com\n"
	        "groups = Site Reliability, DevOps\n"
	        "primary_group = employees\n"
	        "max_removed_percent = 50\n"
	        "metrics_file = /var/lib/prom/scim.prom\n"
	        "local_passwd = /tmp/passwd\nlocal_group = /tmp/group\r\n";

	CHECK_INT(parse(&c, text, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.url, "http://127.0.0.1:3002/scim");
	CHECK_STR(c.token_file, "/etc/t");
	CHECK_INT(c.timeout, 5);
	CHECK_INT(c.retries, 0);
	CHECK_INT(c.page_size, 10);
	CHECK_INT(c.max_pages, 7);
	CHECK_INT(c.uid_min, 300000);
	CHECK_STR(c.home, "/srv/home/%u-%i");
	CHECK_STR(c.gecos, "%g %s <%e>");
	CHECK_INT(c.username, USERNAME_USERNAME);
	REQUIRE(c.ndomains == 2);
	CHECK_STR(c.domains[0], "example.com");
	CHECK_STR(c.domains[1], "corp.example.com");
	REQUIRE(c.ngroups == 2);
	CHECK_STR(c.groups[0], "Site Reliability");
	CHECK_STR(c.groups[1], "DevOps");
	CHECK_STR(c.primary_group, "employees");
	CHECK_STR(c.local_group, "/tmp/group");
	config_free(&c);

	/* Empty values switch optional things off; "private" is the
	 * default primary group. */
	CHECK_INT(parse(&c,
	                "url = https://h\nca_file =\nmetrics_file=\n"
	                "primary_group = private\n",
	                err, sizeof(err)),
	          0);
	CHECK(c.ca_file == NULL && c.metrics_file == NULL &&
	      c.primary_group == NULL);
	config_free(&c);
}

/* reserved_names, group_names and proxy: what they take and refuse. */
static void test_names_and_proxy(void)
{
	struct scim_config c = {0};
	char err[512] = "";

	CHECK_INT(parse(&c,
	                "url = https://h\n"
	                "reserved_names = ops, build-*\n"
	                "group_names = \xc3\x89quipe Paris = paris, "
	                "sitza7mfvjmrgdr6krnetp7g2q=eng, a=b = c\n"
	                "proxy = http://proxy.example.com:3128\n",
	                err, sizeof(err)),
	          0);
	CHECK_STR(err, "");
	REQUIRE(c.nreserved_names == 2);
	CHECK_STR(c.reserved_names[1], "build-*");
	REQUIRE(c.ngroup_names == 3);
	CHECK_STR(c.group_names[0].match, "\xc3\x89quipe Paris");
	CHECK_STR(c.group_names[0].name, "paris");
	CHECK_STR(c.group_names[1].match, "sitza7mfvjmrgdr6krnetp7g2q");
	CHECK_STR(c.group_names[1].name, "eng");
	CHECK_STR(c.group_names[2].match, "a=b"); /* the last '=' splits */
	CHECK_STR(c.proxy, "http://proxy.example.com:3128");
	config_free(&c);

	bad("url = https://h\nreserved_names = Ops\n", "lower-case");
	bad("url = https://h\nreserved_names = a b\n", "lower-case");
	bad("url = https://h\ngroup_names = Eng\n", "DISPLAYNAME-OR-ID");
	bad("url = https://h\ngroup_names = Eng = a:b\n",
	    "not a valid group name");
	bad("url = https://h\ngroup_names = Eng = wheel\n",
	    "wheel is reserved");
	bad("url = https://h\ngroup_names = = eng\n", "not a valid group name");
	bad("url = https://h\nprimary_group = sudo\n",
	    "primary_group sudo is a reserved name");
	bad("url = https://h\nreserved_names = ops\nprimary_group = ops\n",
	    "primary_group ops is a reserved name");
	bad("url = http://127.0.0.1/scim\nproxy = http://p:1\n",
	    "proxy needs an https:// url");
	bad("url = https://h\nproxy = socks5://p:1\n", "proxy must be");
	bad("url = https://h\nproxy = http://u:p@p:1\n", "proxy must be");
	bad("url = https://h\nproxy = http://p:1/path\n", "proxy must be");
}

static void test_errors(void)
{
	bad("url = https://h\n\nfoo = 1\n", "t.conf:3: unknown key 'foo'");
	bad("url = https://h\ntimeout = abc\n", "t.conf:2: timeout must be");
	bad("url = https://h\ntimeout = 0\n", "t.conf:2:");
	bad("url = https://h\ntimeout = -1\n", "t.conf:2:");
	bad("url = https://h\npage_size = 10001\n", "t.conf:2:");
	bad("url = https://h\npage_size = 1e3\n", "t.conf:2:");
	bad("url = https://h\npage_size = 99999999999999999999999\n",
	    "t.conf:2:");
	bad("url = https://h\nurl = https://g\n", "t.conf:2: url given twice");
	bad("url = ftp://h\n", "t.conf:1: url must start with https://");
	bad("url = http://scim.example.com/scim\n",
	    "t.conf:1: plain http:// is only allowed");
	bad("url = http://127.0.0.1.evil.com/\n", "t.conf:1: plain http");
	bad("url = https://user:pw@h/scim\n", "t.conf:1:");
	bad("url = https://h/scim?x=1\n", "t.conf:1:");
	bad("url = https://\n", "t.conf:1:");
	bad("# only a comment\n", "t.conf: url is not set");
	bad("url = https://h\njust words\n",
	    "t.conf:2: expected 'key = value'");
	bad("url = https://h\ntoken_file = relative/path\n",
	    "t.conf:2: token_file must be an absolute path");
	bad("url = https://h\nhome = /home/%x\n", "t.conf:2: home: unknown "
	                                          "escape %x");
	bad("url = https://h\nhome = home/%u\n", "t.conf:2: home must start");
	bad("url = https://h\ngecos = %f:%g\n", "t.conf:2: gecos must not");
	bad("url = https://h\nshell = bash\n", "t.conf:2: shell");
	bad("url = https://h\nusername = email\n", "t.conf:2: username");
	bad("url = https://h\ndomains = a@b.com\n", "t.conf:2: domains");
	bad("url = https://h\nprimary_group = -x\n", "t.conf:2: primary_group");
	bad("url = https://h\nmax_removed_percent = 101\n", "t.conf:2:");
	bad("url = https://h\nuid_min = 5000\nuid_max = 4000\n",
	    "t.conf:3: uid_max 4000 is below uid_min 5000");
	bad("url = https://h\nuid_min = 5000\nuid_max = 5500\n",
	    "t.conf:3: uid_min-uid_max must span");
	bad("url = https://h\nuid_max = 4294967295\n", "t.conf:2:");
	bad("url = https://h\nuid_min = 0\n", "t.conf:2:");
	/* A hostile key is shown printable. */
	bad("url = https://h\nk\x1b[2J = 1\n", "unknown key 'k\\x1b[2J'");
}

static void test_load(void)
{
	char path[] = "/tmp/tools-config.XXXXXX", err[512] = "";
	const char *text = "url = https://h/scim\n";
	struct scim_config c = {0};
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CHECK_INT(chmod(path, 0644), 0);
	CHECK_INT(config_load(&c, path, err, sizeof(err)), 0);
	CHECK_STR(c.url, "https://h/scim");
	config_free(&c);
	CHECK_INT(chmod(path, 0666), 0);
	CHECK_INT(config_load(&c, path, err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "writable by group or others") != NULL);
	unlink(path);
	CHECK_INT(config_load(&c, path, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, path) != NULL);
}

int main(void)
{
	test_defaults();
	test_full();
	test_names_and_proxy();
	test_errors();
	test_load();
	return test_result();
}
