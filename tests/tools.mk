# Tests of scim-cache: unit tests on the convenience library, and
# integration tests through the bridge emulator, the real tool and glibc.
TOOLS_TEST_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tools $(JSONC_CFLAGS)
TOOLS_TEST_LIBS = tools/libscim.la cache/libsnap.la $(JSONC_LIBS) \
	$(CURL_LIBS) $(LMDB_LIBS)

TESTS += tests/tools-config
check_PROGRAMS += tests/tools-config
tests_tools_config_SOURCES = tests/tools-config.c tests/test.h
tests_tools_config_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_config_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/tools-parse
check_PROGRAMS += tests/tools-parse
tests_tools_parse_SOURCES = tests/tools-parse.c tests/test.h
tests_tools_parse_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_parse_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/tools-map
check_PROGRAMS += tests/tools-map
tests_tools_map_SOURCES = tests/tools-map.c tests/test.h
tests_tools_map_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_map_LDADD = $(TOOLS_TEST_LIBS)

TESTS += tests/tools-sum
check_PROGRAMS += tests/tools-sum
tests_tools_sum_SOURCES = tests/tools-sum.c tests/test.h
tests_tools_sum_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_sum_LDADD = $(TOOLS_TEST_LIBS)

# Integration tests (root: private mount namespace, root-owned token).
TOOLS_SH_TESTS = tests/tools-refresh.sh tests/tools-faults.sh \
	tests/tools-tls.sh tests/tools-guards.sh tests/tools-hostile.sh \
	tests/tools-example.sh tests/tools-proxy.sh \
	tests/tools-names.sh tests/tools-secrets.sh tests/tools-boundaries.sh \
	tests/tools-bodycap.sh
TESTS += $(TOOLS_SH_TESTS)
# tests/fixtures/tools/ ships with tests/fixtures (tests/local.mk).
EXTRA_DIST += $(TOOLS_SH_TESTS) tests/tools-lib.sh

# The refresh tool's output compared byte for byte with a reference build
# of a pinned commit (kept in refactor-ref/; skipped outside a checkout).
TESTS += tests/refactor-identical.sh
EXTRA_DIST += tests/refactor-identical.sh
clean-local: clean-refactor-ref
clean-refactor-ref:
	rm -rf refactor-ref
.PHONY: clean-refactor-ref

# libFuzzer targets (tests/tools-fuzz-*.c define LLVMFuzzerTestOneInput;
# link them with -fsanitize=fuzzer to fuzz).  In make check a plain driver
# replays seeds and deterministic mutations of them.
check_PROGRAMS += tests/tools-fuzz-scim tests/tools-fuzz-config
tests_tools_fuzz_scim_SOURCES = tests/tools-fuzz-scim.c tests/tools-fuzz-main.c
tests_tools_fuzz_scim_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_fuzz_scim_LDADD = $(TOOLS_TEST_LIBS)
tests_tools_fuzz_config_SOURCES = tests/tools-fuzz-config.c \
	tests/tools-fuzz-main.c
tests_tools_fuzz_config_CFLAGS = $(TOOLS_TEST_CFLAGS)
tests_tools_fuzz_config_LDADD = $(TOOLS_TEST_LIBS)
TESTS += tests/tools-fuzz.sh tests/tools-fuzz-scim-seeds.sh
EXTRA_DIST += tests/tools-fuzz.sh tests/tools-fuzz-scim-seeds.sh
