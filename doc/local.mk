# Man pages, written in troff and rendered by man(1) at read time.
# pam_scim.8 is installed by pam/local.mk.
man_MANS += doc/libnss_scim.8 doc/scim-cache.8 doc/nss-scim.conf.5 \
	doc/scim-bundle.5
EXTRA_DIST += doc/libnss_scim.8 doc/scim-cache.8 doc/nss-scim.conf.5 \
	doc/scim-bundle.5
