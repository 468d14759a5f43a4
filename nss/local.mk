# libnss_scim.so.2: glibc loads it by that exact name, so the usual libtool
# versioning is replaced by a fixed suffix.  Only _nss_scim_* is exported.
nsslib_LTLIBRARIES += nss/libnss_scim.la
nss_libnss_scim_la_SOURCES = nss/nss_scim.c nss/nss_scim.h
nss_libnss_scim_la_CFLAGS = $(AM_CFLAGS)
nss_libnss_scim_la_LIBADD = cache/libsnapread.la
nss_libnss_scim_la_LDFLAGS = -module -avoid-version -shrext .so.2 \
	-export-symbols-regex '^_nss_scim_' -Wl,-z,now -Wl,-z,relro -Wl,-z,defs
