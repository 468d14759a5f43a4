# Tests of the snapshot library and the NSS module.
EXTRA_DIST += tests/lib.sh tests/test.h tests/fixtures

check_PROGRAMS += tests/mksnap
tests_mksnap_SOURCES = tests/mksnap.c
tests_mksnap_LDADD = cache/libsnap.la

# Unit tests: they link the snapshot library directly.
TESTS += tests/test-record tests/test-pack
check_PROGRAMS += tests/test-record tests/test-pack
tests_test_record_SOURCES = tests/test-record.c tests/test.h
tests_test_record_LDADD = cache/libsnap.la
tests_test_pack_SOURCES = tests/test-pack.c tests/test.h
tests_test_pack_LDADD = cache/libsnap.la

TESTS += tests/test-safedir
check_PROGRAMS += tests/test-safedir
tests_test_safedir_SOURCES = tests/test-safedir.c tests/test.h
tests_test_safedir_LDADD = cache/libsnap.la

TESTS += tests/test-reader
check_PROGRAMS += tests/test-reader
tests_test_reader_SOURCES = tests/test-reader.c tests/test.h
tests_test_reader_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) -pthread
tests_test_reader_LDADD = cache/libsnap.la $(LMDB_LIBS) -lpthread

# Integration through glibc's own getpwnam, getent and id (root only: they
# run in a private mount namespace with a test nsswitch.conf).
check_PROGRAMS += tests/nss-client
tests_nss_client_SOURCES = tests/nss-client.c
tests_nss_client_CFLAGS = $(AM_CFLAGS) -pthread
tests_nss_client_LDADD = cache/libsnap.la -lpthread
TESTS += tests/nss-symbols.sh tests/nss-getent.sh tests/nss-damaged.sh \
	tests/nss-process.sh
EXTRA_DIST += tests/nss-symbols.sh tests/nss-getent.sh tests/nss-damaged.sh \
	tests/nss-process.sh
# A snapshot truncated in place under a process looking people up.
check_PROGRAMS += tests/nss-truncate-loop
tests_nss_truncate_loop_SOURCES = tests/nss-truncate-loop.c
TESTS += tests/nss-truncate.sh
EXTRA_DIST += tests/nss-truncate.sh
TESTS += tests/format.sh
EXTRA_DIST += tests/format.sh .clang-format quickstart
TESTS += tests/fault-concurrency.sh tests/fault-enospc.sh
EXTRA_DIST += tests/fault-concurrency.sh tests/fault-enospc.sh
TESTS += tests/valgrind-nss.sh
EXTRA_DIST += tests/valgrind-nss.sh

# The SCIM bridge emulator's own test (HTTP, TLS, paging, every fault).
TESTS += tests/emulator/selftest.sh
EXTRA_DIST += tests/emulator/scim-bridge-emulator.py \
	tests/emulator/gen-directory.py tests/emulator/sample-directory.json \
	tests/emulator/hostile-directory.json tests/emulator/README.md \
	tests/emulator/selftest.sh
TESTS += tests/fault-kill.sh
EXTRA_DIST += tests/fault-kill.sh

# pam_scim.so under valgrind through the real libpam.
check_PROGRAMS += tests/pam-loop
tests_pam_loop_SOURCES = tests/pam-loop.c
tests_pam_loop_LDADD = $(PAM_LIBS)
TESTS += tests/valgrind-pam.sh
EXTRA_DIST += tests/valgrind-pam.sh
TESTS += tests/static-analysis.sh
EXTRA_DIST += tests/static-analysis.sh .clang-tidy
