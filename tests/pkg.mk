# Tests of the packaging work: the Debian packages installed, used,
# upgraded and purged in fresh Debian 12 and 13 chroots (first, since it
# takes longest), the version kept in one place, verify's parsers, the
# journal priorities, status --json's schema and the command line's
# hints.
PKG_TESTS = tests/integration/pkg-debian.sh tests/integration/pkg-version.sh tests/integration/tools-journal.sh \
	tests/integration/tools-hints.sh tests/integration/tools-status-schema.sh
TESTS += $(PKG_TESTS)
EXTRA_DIST += $(PKG_TESTS)

TESTS += tests/unit/test-verify
check_PROGRAMS += tests/unit/test-verify
tests_unit_test_verify_SOURCES = tests/unit/test-verify.c tests/unit/test.h
tests_unit_test_verify_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_verify_LDADD = $(TOOLS_TEST_LIBS)

# The example alerting rules, proved with promtool test rules.
TESTS += tests/integration/ops-alerts.sh
EXTRA_DIST += tests/integration/ops-alerts.sh tests/fixtures/ops-alerts.yml dist/nss-scim.rules.yml

# The metrics added for operations: build info and a bundle's expiry.
TESTS += tests/unit/test-metrics
check_PROGRAMS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c tests/unit/test.h
tests_unit_test_metrics_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(TOOLS_TEST_LIBS)
