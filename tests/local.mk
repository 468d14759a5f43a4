# Tests of the snapshot library and the NSS module.
EXTRA_DIST += tests/helpers/lib.sh tests/unit/test.h tests/fixtures

check_PROGRAMS += tests/helpers/mksnap
tests_helpers_mksnap_SOURCES = tests/helpers/mksnap.c
tests_helpers_mksnap_LDADD = cache/libsnap.la

# Unit tests: they link the snapshot library directly.
TESTS += tests/unit/test-record tests/unit/test-pack
check_PROGRAMS += tests/unit/test-record tests/unit/test-pack
tests_unit_test_record_SOURCES = tests/unit/test-record.c tests/unit/test.h
tests_unit_test_record_LDADD = cache/libsnap.la
tests_unit_test_pack_SOURCES = tests/unit/test-pack.c tests/unit/test.h
tests_unit_test_pack_LDADD = cache/libsnap.la

TESTS += tests/unit/test-safedir
check_PROGRAMS += tests/unit/test-safedir
tests_unit_test_safedir_SOURCES = tests/unit/test-safedir.c tests/unit/test.h
tests_unit_test_safedir_LDADD = cache/libsnap.la

TESTS += tests/unit/test-patch
check_PROGRAMS += tests/unit/test-patch
tests_unit_test_patch_SOURCES = tests/unit/test-patch.c tests/unit/test.h
tests_unit_test_patch_LDADD = cache/libsnap.la

TESTS += tests/unit/test-reader
check_PROGRAMS += tests/unit/test-reader
tests_unit_test_reader_SOURCES = tests/unit/test-reader.c tests/unit/test.h
tests_unit_test_reader_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) -pthread
tests_unit_test_reader_LDADD = cache/libsnap.la $(LMDB_LIBS) -lpthread

# Integration through glibc's own getpwnam, getent and id (root only: they
# run in a private mount namespace with a test nsswitch.conf).
check_PROGRAMS += tests/helpers/nss-client
tests_helpers_nss_client_SOURCES = tests/helpers/nss-client.c
tests_helpers_nss_client_CFLAGS = $(AM_CFLAGS) -pthread
tests_helpers_nss_client_LDADD = cache/libsnap.la -lpthread
TESTS += tests/integration/nss-symbols.sh tests/integration/nss-getent.sh tests/integration/nss-damaged.sh \
	tests/integration/nss-process.sh
EXTRA_DIST += tests/integration/nss-symbols.sh tests/integration/nss-getent.sh tests/integration/nss-damaged.sh \
	tests/integration/nss-process.sh
# A snapshot truncated in place under a process looking people up.
check_PROGRAMS += tests/helpers/nss-truncate-loop
tests_helpers_nss_truncate_loop_SOURCES = tests/helpers/nss-truncate-loop.c
TESTS += tests/integration/nss-truncate.sh
EXTRA_DIST += tests/integration/nss-truncate.sh
TESTS += tests/lint/format.sh
EXTRA_DIST += tests/lint/format.sh .clang-format quickstart
TESTS += tests/integration/fault-concurrency.sh tests/integration/fault-enospc.sh
EXTRA_DIST += tests/integration/fault-concurrency.sh tests/integration/fault-enospc.sh
TESTS += tests/integration/valgrind-nss.sh
EXTRA_DIST += tests/integration/valgrind-nss.sh

# The SCIM bridge emulator's own test (HTTP, TLS, paging, every fault).
TESTS += tests/emulator/selftest.sh
EXTRA_DIST += tests/emulator/scim-bridge-emulator.py \
	tests/emulator/gen-directory.py tests/emulator/sample-directory.json \
	tests/emulator/hostile-directory.json tests/emulator/README.md \
	tests/emulator/selftest.sh
TESTS += tests/integration/fault-kill.sh
EXTRA_DIST += tests/integration/fault-kill.sh

# pam_scim.so under valgrind through the real libpam.
check_PROGRAMS += tests/helpers/pam-loop
tests_helpers_pam_loop_SOURCES = tests/helpers/pam-loop.c
tests_helpers_pam_loop_LDADD = $(PAM_LIBS)
TESTS += tests/integration/valgrind-pam.sh
EXTRA_DIST += tests/integration/valgrind-pam.sh
TESTS += tests/lint/static-analysis.sh
EXTRA_DIST += tests/lint/static-analysis.sh .clang-tidy
