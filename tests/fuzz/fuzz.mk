# libFuzzer targets (clang, with ASan and UBSan), built with
# ./configure --enable-fuzzing (FUZZ_CC, default clang, must link
# -fsanitize=fuzzer).  `make fuzz` builds them and runs each for
# FUZZ_SECONDS on a corpus seeded from the fixtures; the executions and
# findings are printed per target.
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -include $(top_builddir)/config.h \
	-I$(top_srcdir)/cache -D_GNU_SOURCE
FUZZ_SNAP_FILES = $(top_srcdir)/cache/record.c $(top_srcdir)/cache/validate.c \
	$(top_srcdir)/cache/pack.c
FUZZ_TARGETS = tests/fuzz/fuzz-record tests/fuzz/fuzz-pam-args \
	tests/fuzz/fuzz-scim tests/fuzz/fuzz-config tests/fuzz/fuzz-bundle \
	tests/fuzz/fuzz-reader
FUZZ_SEEDERS = tests/fuzz/seed-record
EXTRA_DIST += tests/fuzz/fuzz-record.c tests/fuzz/seed-record.c \
	tests/fuzz/run-fuzz.sh tests/fuzz/fuzz-pam-args.c tests/fuzz/seeds \
	tests/fuzz/seed-scim.sh tests/fuzz/seed-config.sh \
	tests/fuzz/fuzz-bundle.c tests/fuzz/seed-bundle.sh \
	tests/fuzz/fuzz-reader.c tests/fuzz/seed-reader.sh

noinst_PROGRAMS += $(FUZZ_SEEDERS)
tests_fuzz_seed_record_SOURCES = tests/fuzz/seed-record.c
tests_fuzz_seed_record_LDADD = cache/libsnap.la

tests/fuzz/fuzz-record: $(top_srcdir)/tests/fuzz/fuzz-record.c $(FUZZ_SNAP_FILES)
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^

FUZZ_READER_FILES = $(FUZZ_SNAP_FILES) $(top_srcdir)/cache/reader.c
tests/fuzz/fuzz-pam-args: $(top_srcdir)/tests/fuzz/fuzz-pam-args.c \
		$(top_srcdir)/pam/options.c $(top_srcdir)/pam/decide.c $(FUZZ_READER_FILES)
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_CC) $(FUZZ_CFLAGS) \
		-I$(top_srcdir)/pam -o $@ $^ $(LMDB_LIBS)

# The reader on arbitrary bytes as a snapshot file; its seeds are real
# snapshots made by tests/helpers/mksnap (seed-reader.sh).
tests/fuzz/fuzz-reader: $(top_srcdir)/tests/fuzz/fuzz-reader.c $(FUZZ_READER_FILES)
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^

# The refresh tool's targets (tests/fuzz/fuzz-{scim,config}.c, also replayed by make
# check): its library's sources (TOOLS_LIB_C, tools/local.mk), rebuilt
# whenever the library is.
FUZZ_TOOL_FILES = `for f in $(TOOLS_LIB_C); do echo $(top_srcdir)/$$f; done`
FUZZ_TOOL_BUILD = $(FUZZ_CC) $(FUZZ_CFLAGS) $(TOOLS_INCLUDES) \
	$(JSONC_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
FUZZ_TOOL_LIBS = $(JSONC_LIBS) $(CURL_LIBS) $(CRYPTO_LIBS) $(LMDB_LIBS)
FUZZ_WRITER_FILES = $(top_srcdir)/cache/writer.c $(top_srcdir)/cache/patch.c \
	$(top_srcdir)/cache/arena.c \
	$(top_srcdir)/cache/testpoint.c $(top_srcdir)/cache/safedir.c \
	$(top_srcdir)/cache/helpers.c
tests/fuzz/fuzz-scim: $(top_srcdir)/tests/fuzz/fuzz-scim.c tools/libscim.la
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_TOOL_BUILD) -o $@ \
		$(top_srcdir)/tests/fuzz/fuzz-scim.c $(FUZZ_TOOL_FILES) \
		$(FUZZ_READER_FILES) $(FUZZ_WRITER_FILES) $(FUZZ_TOOL_LIBS)
tests/fuzz/fuzz-config: $(top_srcdir)/tests/fuzz/fuzz-config.c tools/libscim.la
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_TOOL_BUILD) -o $@ \
		$(top_srcdir)/tests/fuzz/fuzz-config.c $(FUZZ_TOOL_FILES) \
		$(FUZZ_READER_FILES) $(FUZZ_WRITER_FILES) $(FUZZ_TOOL_LIBS)

tests/fuzz/fuzz-bundle: $(top_srcdir)/tests/fuzz/fuzz-bundle.c tools/libscim.la
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && $(FUZZ_TOOL_BUILD) -o $@ \
		$(top_srcdir)/tests/fuzz/fuzz-bundle.c $(FUZZ_TOOL_FILES) \
		$(FUZZ_READER_FILES) $(FUZZ_WRITER_FILES) $(FUZZ_TOOL_LIBS)

CLEANFILES += $(FUZZ_TARGETS)
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/corpus tests/fuzz/*.log

if FUZZING
all-local: $(FUZZ_TARGETS)
fuzz: $(FUZZ_TARGETS) $(FUZZ_SEEDERS) tests/helpers/mksnap
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEEDS=$(top_srcdir)/tests/fuzz/seeds \
		$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz.sh $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing first" >&2; exit 1
endif

.PHONY: fuzz clean-fuzz

# make check replays fuzz-reader's seeds and deterministic mutants of them
# through the plain driver (no clang needed), sanitized in the sanitized
# build.
check_PROGRAMS += tests/fuzz/reader-replay
tests_fuzz_reader_replay_SOURCES = tests/fuzz/fuzz-reader.c \
	tests/fuzz/replay-main.c
tests_fuzz_reader_replay_CFLAGS = $(TOOLS_TEST_CFLAGS) -I$(top_srcdir)/cache
tests_fuzz_reader_replay_LDADD = $(TOOLS_TEST_LIBS)
TESTS += tests/fuzz/reader-replay.sh
EXTRA_DIST += tests/fuzz/reader-replay.sh
