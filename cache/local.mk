# The snapshot library, shared by the NSS module, the PAM module, scim-cache
# and the unit tests.  It needs lmdb only.
noinst_LTLIBRARIES += cache/libsnap.la
cache_libsnap_la_SOURCES = \
	cache/snap.h \
	cache/record.h cache/record.c \
	cache/validate.c \
	cache/pack.h cache/pack.c \
	cache/reader.c \
	cache/writer.c
cache_libsnap_la_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) -fPIC
cache_libsnap_la_LIBADD = $(LMDB_LIBS)
