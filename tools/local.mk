# scim-cache: the refresh tool.  Its logic lives in a convenience library
# that the unit tests and fuzz targets link directly.
noinst_LTLIBRARIES += tools/libscim.la
# Its C files, which the fuzz targets (tests/fuzz/fuzz.mk) compile too.
TOOLS_LIB_C = \
	tools/util.c tools/table.c tools/run.c tools/refresh.c \
	tools/transport/http.c tools/transport/client.c \
	tools/transport/pager.c \
	tools/scim/scim.c tools/scim/people.c \
	tools/mapping/local.c tools/mapping/names.c tools/mapping/idmap.c \
	tools/mapping/model.c tools/mapping/skiplist.c tools/mapping/map.c \
	tools/fleet/bundle.c tools/fleet/delta.c tools/fleet/manifest.c \
	tools/fleet/fleet.c \
	tools/ops/conf.c tools/ops/state.c tools/ops/metrics.c \
	tools/ops/verify.c tools/ops/log.c tools/ops/status.c \
	tools/ops/lockout.c tools/ops/check.c
TOOLS_LIB_H = \
	tools/util.h tools/table.h tools/run.h tools/refresh.h \
	tools/transport/http.h tools/transport/client.h \
	tools/transport/pager.h \
	tools/scim/scim.h tools/scim/people.h \
	tools/mapping/local.h tools/mapping/names.h \
	tools/mapping/latin-fold.h tools/mapping/idmap.h \
	tools/mapping/model.h tools/mapping/skiplist.h tools/mapping/map.h \
	tools/fleet/bundle.h tools/fleet/delta.h tools/fleet/manifest.h \
	tools/fleet/fleet.h \
	tools/ops/conf.h tools/ops/state.h tools/ops/metrics.h \
	tools/ops/verify.h tools/ops/log.h tools/ops/status.h \
	tools/ops/lockout.h tools/ops/check.h
# Headers are included by bare name ("conf.h"), so the library, the tool,
# the tests and the fuzz targets all search every folder.
TOOLS_INCLUDES = -I$(top_srcdir)/tools -I$(top_srcdir)/tools/transport \
	-I$(top_srcdir)/tools/scim -I$(top_srcdir)/tools/mapping \
	-I$(top_srcdir)/tools/fleet -I$(top_srcdir)/tools/ops
tools_libscim_la_SOURCES = $(TOOLS_LIB_C) $(TOOLS_LIB_H)
tools_libscim_la_CFLAGS = $(AM_CFLAGS) $(TOOLS_INCLUDES) $(JSONC_CFLAGS) \
	$(CURL_CFLAGS) $(CRYPTO_CFLAGS)
tools_libscim_la_LIBADD = cache/libsnap.la $(JSONC_LIBS) $(CURL_LIBS) \
	$(CRYPTO_LIBS)

sbin_PROGRAMS += tools/scim-cache
tools_scim_cache_SOURCES = tools/scim-cache.c
tools_scim_cache_CFLAGS = $(AM_CFLAGS) $(TOOLS_INCLUDES) $(JSONC_CFLAGS) \
	$(CURL_CFLAGS) $(CRYPTO_CFLAGS)
tools_scim_cache_LDADD = tools/libscim.la cache/libsnap.la $(JSONC_LIBS) \
	$(CURL_LIBS) $(CRYPTO_LIBS) $(LMDB_LIBS)

# An annotated example; dist/local.mk installs it (and the Debian package
# ships it as the conffile).
EXTRA_DIST += tools/nss-scim.conf.example \
	tools/mapping/gen-latin-fold.py
