# The snapshot library.  The modules that run inside other processes (NSS,
# PAM) link only the reader, libsnapread, which reads LMDB's file format
# itself and needs no library but libc; scim-cache and the tests link
# libsnap, which adds the writer and with it liblmdb.
noinst_LTLIBRARIES += cache/libsnapread.la cache/libsnap.la
cache_libsnapread_la_SOURCES = \
	cache/snap.h \
	cache/record.h cache/record.c \
	cache/validate.c \
	cache/pack.h cache/pack.c \
	cache/reader.c
cache_libsnapread_la_CFLAGS = $(AM_CFLAGS) -fPIC

cache_libsnap_la_SOURCES = cache/writer.c cache/writer-int.h cache/patch.c \
	cache/arena.h cache/arena.c \
	cache/helpers.h cache/helpers.c \
	cache/safedir.h cache/safedir.c \
	cache/testpoint.h cache/testpoint.c
cache_libsnap_la_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) -fPIC
cache_libsnap_la_LIBADD = cache/libsnapread.la $(LMDB_LIBS)
