# Benchmarks (BENCHMARKS.md): glibc's own lookups through scim, files, libnss-cache
# and a no-op "floor" module on generated data sets.  `make bench` (root)
# runs the full set and rewrites BENCHMARKS.md; `make check` runs a smoke
# run at 1,000 people that checks the harness works and never fails on
# timing.

# The floor: an NSS module that answers without doing any work.  Never
# installed; loaded through LD_LIBRARY_PATH in the benchmark's namespace.
check_LTLIBRARIES += tests/bench/libnss_floor.la
tests_bench_libnss_floor_la_SOURCES = tests/bench/floor.c
tests_bench_libnss_floor_la_LDFLAGS = -module -avoid-version -shrext .so.2 \
	-rpath /nowhere -export-symbols-regex '^_nss_floor_'

check_PROGRAMS += tests/bench/bench-nss
tests_bench_bench_nss_SOURCES = tests/bench/bench-nss.c
tests_bench_bench_nss_CFLAGS = $(AM_CFLAGS) -pthread
tests_bench_bench_nss_LDADD = -lpthread -lm

BENCH_DEPS = all tests/bench/libnss_floor.la tests/bench/bench-nss tests/helpers/mksnap

TESTS += tests/bench/smoke.sh
EXTRA_DIST += tests/bench/run-bench.sh tests/bench/smoke.sh \
	tests/bench/gen-data.py tests/bench/export.py tests/bench/report.py \
	tests/bench/findings.md \
	tests/bench/README.md

# BENCH_ARGS: e.g. BENCH_ARGS='--sets 1k,10k' for a shorter run.
bench: $(BENCH_DEPS)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	PYTHON3='$(PYTHON3)' \
	$(SHELL) $(abs_top_srcdir)/tests/bench/run-bench.sh \
		--out $(abs_top_srcdir)/BENCHMARKS.md $(BENCH_ARGS)

.PHONY: bench
