# scim-cache: the refresh tool.  Its logic lives in a convenience library
# that the unit tests and fuzz targets link directly.
noinst_LTLIBRARIES += tools/libscim.la
tools_libscim_la_SOURCES = \
	tools/util.h tools/util.c \
	tools/table.h tools/table.c \
	tools/conf.h tools/conf.c \
	tools/scim.h tools/scim.c \
	tools/pager.h tools/pager.c \
	tools/people.h tools/people.c \
	tools/local.h tools/local.c \
	tools/names.h tools/names.c tools/latin-fold.h \
	tools/idmap.h tools/idmap.c \
	tools/model.h tools/model.c \
	tools/map.h tools/map.c \
	tools/http.h tools/http.c \
	tools/client.h tools/client.c \
	tools/state.h tools/state.c \
	tools/metrics.h tools/metrics.c \
	tools/bundle.h tools/bundle.c \
	tools/delta.h tools/delta.c \
	tools/manifest.h tools/manifest.c \
	tools/fleet.h tools/fleet.c \
	tools/verify.h tools/verify.c
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
