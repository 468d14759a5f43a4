# Fleet mode: signed bundles, nginx-served, many fleet hosts.

# Unit test: bundle writing, verification and parsing, byte by byte.
check_PROGRAMS += tests/unit/test-bundle
tests_unit_test_bundle_SOURCES = tests/unit/test-bundle.c tests/unit/test.h
tests_unit_test_bundle_CFLAGS = $(TOOLS_TEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_bundle_LDADD = $(TOOLS_TEST_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test-bundle

# Unit test: the acceptance rules, deltas and the manifest's format.
check_PROGRAMS += tests/unit/test-fleet-accept
tests_unit_test_fleet_accept_SOURCES = tests/unit/test-fleet-accept.c tests/unit/test.h
tests_unit_test_fleet_accept_CFLAGS = $(TOOLS_TEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_fleet_accept_LDADD = $(TOOLS_TEST_LIBS) $(CRYPTO_LIBS)
TESTS += tests/unit/test-fleet-accept

# Integration tests (root: private mount namespace, nginx on 127.0.0.1).
FLEET_SH_TESTS = tests/integration/fleet-refresh.sh tests/integration/fleet-faults.sh \
	tests/integration/fleet-lock.sh tests/integration/fleet-boundaries.sh tests/integration/fleet-expiry.sh \
	tests/integration/fleet-delta.sh tests/integration/fleet-manifest.sh \
	tests/integration/fleet-reconfirm.sh
TESTS += $(FLEET_SH_TESTS)
EXTRA_DIST += $(FLEET_SH_TESTS) tests/helpers/fleet-lib.sh

# The fleet benchmark (root; about 10 minutes at 100,000 people and 10
# hosts, 20 at 20 hosts: FLEET_BENCH_ARGS="--hosts 20"): writes
# BENCHMARKS-fleet.md.  FLEET_BENCH_ARGS='--people 10000' for less.
EXTRA_DIST += tests/bench/fleet-bench.sh BENCHMARKS-fleet.md
# Absolute: the configs it writes name the fixtures, and scim-cache takes
# absolute paths only.
bench-fleet: all
	top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		$(SHELL) $(top_srcdir)/tests/bench/fleet-bench.sh $(FLEET_BENCH_ARGS)
.PHONY: bench-fleet
