# Tests of pam_scim.so: unit tests of its logic (pam/libpamscim.la), the
# real libpam through pam_start_confdir(), pamtester, su and sshd.
check_PROGRAMS += tests/pam-options tests/pam-decide
tests_pam_options_SOURCES = tests/pam-options.c
tests_pam_options_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam -I$(top_srcdir)/tests
tests_pam_options_LDADD = pam/libpamscim.la
tests_pam_decide_SOURCES = tests/pam-decide.c
tests_pam_decide_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam -I$(top_srcdir)/tests
tests_pam_decide_LDADD = pam/libpamscim.la cache/libsnap.la

TESTS += tests/pam-options tests/pam-decide tests/pam-exports.sh
EXTRA_DIST += tests/pam-exports.sh

# Through the real libpam (pam_start_confdir); root only.
check_PROGRAMS += tests/pam-libpam
tests_pam_libpam_SOURCES = tests/pam-libpam.c
tests_pam_libpam_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_pam_libpam_LDADD = cache/libsnap.la $(PAM_LIBS)
TESTS += tests/pam-libpam

# Shell tests: pamtester, su and sshd in private mount namespaces; root only.
check_PROGRAMS += tests/pam-default-path
tests_pam_default_path_SOURCES = tests/pam-default-path.c
TESTS += tests/pam-pamtester.sh tests/pam-su.sh tests/pam-sshd.sh tests/pam-lock.sh \
	tests/pam-sshd-refresh.sh
EXTRA_DIST += tests/pam-lib.sh tests/pam-pamtester.sh tests/pam-su.sh tests/pam-sshd.sh \
	tests/pam-lock.sh tests/pam-sshd-refresh.sh \
	tests/fixtures/pam
