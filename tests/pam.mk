# Tests of pam_scim.so: unit tests of its logic (pam/libpamscim.la), the
# real libpam through pam_start_confdir(), pamtester, su and sshd.
check_PROGRAMS += tests/unit/test-options tests/unit/test-decide
tests_unit_test_options_SOURCES = tests/unit/test-options.c
tests_unit_test_options_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam -I$(top_srcdir)/tests/unit
tests_unit_test_options_LDADD = pam/libpamscim.la
tests_unit_test_decide_SOURCES = tests/unit/test-decide.c tests/unit/pam-fixture.h
tests_unit_test_decide_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam -I$(top_srcdir)/tests/unit
tests_unit_test_decide_LDADD = pam/libpamscim.la cache/libsnap.la

TESTS += tests/unit/test-options tests/unit/test-decide tests/integration/pam-exports.sh
EXTRA_DIST += tests/integration/pam-exports.sh

# Through the real libpam (pam_start_confdir); root only.
check_PROGRAMS += tests/integration/pam-libpam
tests_integration_pam_libpam_SOURCES = tests/integration/pam-libpam.c tests/unit/pam-fixture.h
tests_integration_pam_libpam_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_pam_libpam_LDADD = cache/libsnap.la $(PAM_LIBS)
TESTS += tests/integration/pam-libpam

# Shell tests: pamtester, su and sshd in private mount namespaces; root only.
check_PROGRAMS += tests/helpers/pam-default-path
tests_helpers_pam_default_path_SOURCES = tests/helpers/pam-default-path.c
TESTS += tests/integration/pam-pamtester.sh tests/integration/pam-su.sh tests/integration/pam-sshd.sh tests/integration/pam-lock.sh \
	tests/integration/pam-sshd-refresh.sh
EXTRA_DIST += tests/helpers/pam-lib.sh tests/integration/pam-pamtester.sh tests/integration/pam-su.sh tests/integration/pam-sshd.sh \
	tests/integration/pam-lock.sh tests/integration/pam-sshd-refresh.sh \
	tests/fixtures/pam
