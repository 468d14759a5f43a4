# systemd units and the cron example.  Paths are filled in at build time so
# that they follow configure's --prefix, --sbindir and --localstatedir.
systemdsystemunitdir = @systemdsystemunitdir@
systemdsystemunit_DATA = dist/nss-scim-refresh.service dist/nss-scim-refresh.timer
crondir = $(sysconfdir)/cron.d
cron_DATA = dist/nss-scim
EXTRA_DIST += dist/nss-scim-refresh.service.in dist/nss-scim-refresh.timer \
	dist/nss-scim.cron.in
CLEANFILES += dist/nss-scim-refresh.service dist/nss-scim

dist_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'

dist/nss-scim-refresh.service: dist/nss-scim-refresh.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && $(dist_edit) $(srcdir)/dist/nss-scim-refresh.service.in >$@
dist/nss-scim: dist/nss-scim.cron.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && $(dist_edit) $(srcdir)/dist/nss-scim.cron.in >$@
