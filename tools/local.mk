# scim-cache: the refresh tool.  Its logic lives in a convenience library
# that the unit tests and fuzz targets link directly.
noinst_LTLIBRARIES += tools/libscim.la
# Its C files, which the fuzz targets (tests/fuzz/fuzz.mk) compile too.
TOOLS_LIB_C = \
	tools/util.c tools/table.c tools/conf.c tools/scim.c tools/pager.c \
	tools/people.c tools/local.c tools/names.c tools/idmap.c tools/model.c \
	tools/map.c tools/http.c tools/client.c tools/state.c tools/metrics.c \
	tools/bundle.c tools/delta.c tools/manifest.c tools/fleet.c \
	tools/verify.c tools/log.c tools/run.c tools/refresh.c tools/status.c \
	tools/lockout.c tools/check.c
TOOLS_LIB_H = \
	tools/util.h tools/table.h tools/conf.h tools/scim.h tools/pager.h \
	tools/people.h tools/local.h tools/names.h tools/latin-fold.h \
	tools/idmap.h tools/model.h tools/map.h tools/http.h tools/client.h \
	tools/state.h tools/metrics.h tools/bundle.h tools/delta.h \
	tools/manifest.h tools/fleet.h \
	tools/verify.h tools/log.h tools/run.h tools/refresh.h tools/status.h \
	tools/lockout.h tools/check.h
tools_libscim_la_SOURCES = $(TOOLS_LIB_C) $(TOOLS_LIB_H)
tools_libscim_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) \
	$(CRYPTO_CFLAGS)
tools_libscim_la_LIBADD = cache/libsnap.la $(JSONC_LIBS) $(CURL_LIBS) \
	$(CRYPTO_LIBS)

sbin_PROGRAMS += tools/scim-cache
tools_scim_cache_SOURCES = tools/scim-cache.c
tools_scim_cache_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS) \
	$(CRYPTO_CFLAGS)
tools_scim_cache_LDADD = tools/libscim.la cache/libsnap.la $(JSONC_LIBS) \
	$(CURL_LIBS) $(CRYPTO_LIBS) $(LMDB_LIBS)

# An annotated example; dist/local.mk installs it (and the Debian package
# ships it as the conffile).
EXTRA_DIST += tools/nss-scim.conf.example tools/gen-latin-fold.py
