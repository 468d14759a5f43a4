# Man pages written in troff; rendered by man(1) at read time.
man_MANS += doc/libnss_scim.8
EXTRA_DIST += doc/libnss_scim.8
