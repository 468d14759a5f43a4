# Tests of the snapshot library and the NSS module.
EXTRA_DIST += tests/lib.sh tests/test.h tests/fixtures

check_PROGRAMS += tests/mksnap
tests_mksnap_SOURCES = tests/mksnap.c
tests_mksnap_LDADD = cache/libsnap.la
