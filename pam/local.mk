# pam_scim.so: the PAM account module.  Its logic (option parsing and the
# decision) is the convenience library pam/libpamscim.la, which the unit
# tests and fuzzers link directly; the module itself is only the thin
# pam_sm_acct_mgmt() and exports nothing else.
noinst_LTLIBRARIES += pam/libpamscim.la
pam_libpamscim_la_SOURCES = pam/pamscim.h pam/options.c pam/decide.c
pam_libpamscim_la_CFLAGS = $(AM_CFLAGS) -fPIC
pam_libpamscim_la_LIBADD = cache/libsnapread.la

pam_LTLIBRARIES += pam/pam_scim.la
pam_pam_scim_la_SOURCES = pam/pam_scim.c
pam_pam_scim_la_LIBADD = pam/libpamscim.la $(PAM_LIBS)
pam_pam_scim_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^pam_sm_' -Wl,-z,now -Wl,-z,relro -Wl,-z,defs

man_MANS += doc/pam_scim.8
EXTRA_DIST += doc/pam_scim.8
