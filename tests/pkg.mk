# Tests of the packaging work: the Debian packages installed, used,
# upgraded and purged in fresh Debian 12 and 13 chroots (first, since it
# takes longest), the version kept in one place, verify's parsers, the
# journal priorities, status --json's schema and the command line's
# hints.
PKG_TESTS = tests/pkg-debian.sh tests/pkg-version.sh tests/tools-journal.sh \
	tests/tools-hints.sh tests/tools-status-schema.sh
TESTS += $(PKG_TESTS)
EXTRA_DIST += $(PKG_TESTS)

TESTS += tests/tools-verify
check_PROGRAMS += tests/tools-verify
tests_tools_verify_SOURCES = tests/tools-verify.c tests/test.h
tests_tools_verify_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_verify_LDADD = $(TOOLS_TEST_LIBS)

# The example alerting rules, proved with promtool test rules.
TESTS += tests/ops-alerts.sh
EXTRA_DIST += tests/ops-alerts.sh tests/ops-alerts.yml dist/nss-scim.rules.yml

# The metrics added for operations: build info and a bundle's expiry.
TESTS += tests/tools-metrics
check_PROGRAMS += tests/tools-metrics
tests_tools_metrics_SOURCES = tests/tools-metrics.c tests/test.h
tests_tools_metrics_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_metrics_LDADD = $(TOOLS_TEST_LIBS)
