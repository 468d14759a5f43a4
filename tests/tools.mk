# Tests of scim-cache: unit tests on the convenience library, and
# integration tests through the bridge emulator, the real tool and glibc.
TOOLS_TEST_CFLAGS = $(AM_CFLAGS) $(TOOLS_INCLUDES) $(JSONC_CFLAGS)
TOOLS_TEST_LIBS = tools/libscim.la cache/libsnap.la $(JSONC_LIBS) \
	$(CURL_LIBS) $(LMDB_LIBS)

TESTS += tests/unit/test-conf
check_PROGRAMS += tests/unit/test-conf
tests_unit_test_conf_SOURCES = tests/unit/test-conf.c tests/unit/test.h
tests_unit_test_conf_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_conf_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/unit/test-scim
check_PROGRAMS += tests/unit/test-scim
tests_unit_test_scim_SOURCES = tests/unit/test-scim.c tests/unit/test.h
tests_unit_test_scim_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_scim_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/unit/test-map
check_PROGRAMS += tests/unit/test-map
tests_unit_test_map_SOURCES = tests/unit/test-map.c tests/unit/test.h
tests_unit_test_map_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_map_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/unit/test-model
check_PROGRAMS += tests/unit/test-model
tests_unit_test_model_SOURCES = tests/unit/test-model.c tests/unit/test.h
tests_unit_test_model_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_unit_test_model_LDADD = $(TOOLS_TEST_LIBS)

# Integration tests (root: private mount namespace, root-owned token).
TOOLS_SH_TESTS = tests/integration/tools-refresh.sh tests/integration/tools-faults.sh \
	tests/integration/tools-tls.sh tests/integration/tools-guards.sh tests/integration/tools-hostile.sh \
	tests/integration/tools-example.sh tests/integration/tools-proxy.sh \
	tests/integration/tools-names.sh tests/integration/tools-secrets.sh tests/integration/tools-boundaries.sh \
	tests/integration/tools-bodycap.sh
TESTS += $(TOOLS_SH_TESTS)
# tests/fixtures/tools/ ships with tests/fixtures (tests/local.mk).
EXTRA_DIST += $(TOOLS_SH_TESTS) tests/helpers/tools-lib.sh

# The refresh tool's output compared byte for byte with a reference build
# of a pinned commit (kept in refactor-ref/; skipped outside a checkout).
TESTS += tests/integration/refactor-identical.sh
EXTRA_DIST += tests/integration/refactor-identical.sh
clean-local: clean-refactor-ref
clean-refactor-ref:
	rm -rf refactor-ref
.PHONY: clean-refactor-ref

# libFuzzer targets (tests/fuzz/fuzz-{scim,config}.c define LLVMFuzzerTestOneInput;
# link them with -fsanitize=fuzzer to fuzz).  In make check a plain driver
# replays seeds and deterministic mutations of them.
check_PROGRAMS += tests/fuzz/replay-scim tests/fuzz/replay-config
tests_fuzz_replay_scim_SOURCES = tests/fuzz/fuzz-scim.c tests/fuzz/replay-main.c
tests_fuzz_replay_scim_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_fuzz_replay_scim_LDADD = $(TOOLS_TEST_LIBS)
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz-config.c \
	tests/fuzz/replay-main.c
tests_fuzz_replay_config_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_fuzz_replay_config_LDADD = $(TOOLS_TEST_LIBS)
TESTS += tests/fuzz/replay.sh tests/fuzz/replay-scim-seeds.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/replay-scim-seeds.sh
