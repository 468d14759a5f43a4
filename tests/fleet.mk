# Fleet mode: signed bundles, nginx-served, many fleet hosts.

# Unit test: bundle writing, verification and parsing, byte by byte.
check_PROGRAMS += tests/fleet-bundle
tests_fleet_bundle_SOURCES = tests/fleet-bundle.c tests/test.h
tests_fleet_bundle_CFLAGS = $(TOOLS_TEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_fleet_bundle_LDADD = $(TOOLS_TEST_LIBS) $(CRYPTO_LIBS)
TESTS += tests/fleet-bundle

# Unit test: the acceptance rules, deltas and the manifest's format.
check_PROGRAMS += tests/test-fleet-accept
tests_test_fleet_accept_SOURCES = tests/test-fleet-accept.c tests/test.h
tests_test_fleet_accept_CFLAGS = $(TOOLS_TEST_CFLAGS) $(CRYPTO_CFLAGS)
tests_test_fleet_accept_LDADD = $(TOOLS_TEST_LIBS) $(CRYPTO_LIBS)
TESTS += tests/test-fleet-accept

# Integration tests (root: private mount namespace, nginx on 127.0.0.1).
FLEET_SH_TESTS = tests/fleet-refresh.sh tests/fleet-faults.sh \
	tests/fleet-lock.sh tests/fleet-boundaries.sh tests/fleet-expiry.sh \
	tests/fleet-delta.sh tests/fleet-manifest.sh
TESTS += $(FLEET_SH_TESTS)
EXTRA_DIST += $(FLEET_SH_TESTS) tests/fleet-lib.sh

# The fleet benchmark (root; about 10 minutes at 100,000 people and 10
# hosts, 20 at 20 hosts: FLEET_BENCH_ARGS="--hosts 20"): writes
# BENCHMARKS-fleet.md.  FLEET_BENCH_ARGS='--people 10000' for less.
EXTRA_DIST += tests/fleet-bench.sh BENCHMARKS-fleet.md
# Absolute: the configs it writes name the fixtures, and scim-cache takes
# absolute paths only.
bench-fleet: all
	top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		$(SHELL) $(top_srcdir)/tests/fleet-bench.sh $(FLEET_BENCH_ARGS)
.PHONY: bench-fleet
