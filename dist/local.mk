# systemd units, the cron example, the example configuration and the
# directories scim-cache writes to.  Paths are filled in at build time so
# that they follow configure's --prefix, --sbindir, --sysconfdir and
# --localstatedir.
systemdsystemunitdir = @systemdsystemunitdir@
systemdsystemunit_DATA = dist/nss-scim-refresh.service dist/nss-scim-refresh.timer

# The cron job is an example, not an active job: a host with systemd uses
# the timer, and a job dropped into /etc/cron.d by `make install` would run
# beside it.  Hosts without systemd copy it into /etc/cron.d (README).
opscrondir = $(docdir)/examples/cron.d
opscron_DATA = dist/nss-scim
# The annotated example as shipped, to compare an edited config with.
opsexamplesdir = $(docdir)/examples
opsexamples_DATA = tools/nss-scim.conf.example
EXTRA_DIST += dist/nss-scim-refresh.service.in dist/nss-scim-refresh.timer \
	dist/nss-scim.cron.in dist/demo.sh \
	dist/private-syslog.sh dist/bash-completion/scim-cache
CLEANFILES += dist/nss-scim-refresh.service dist/nss-scim

dist_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'

dist/nss-scim-refresh.service: dist/nss-scim-refresh.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && $(dist_edit) $(srcdir)/dist/nss-scim-refresh.service.in >$@
dist/nss-scim: dist/nss-scim.cron.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && $(dist_edit) $(srcdir)/dist/nss-scim.cron.in >$@

# The configuration goes in only where there is none: an installed host's
# own file is never overwritten, and it is removed by uninstall only while
# it is still the untouched example.  The snapshot directory is readable by
# everyone (the modules run in every process); scim-cache's state (sticky
# ids, status, locks) is root's alone.  Neither directory is removed while
# it holds anything: the id map must outlive a reinstall.  Uninstall also
# removes the project's own documentation directories once they are
# empty; shared directories (man, units, the PAM module directory) are
# left alone.
ops_confdir = $(sysconfdir)/nss-scim
ops_conf = $(ops_confdir)/nss-scim.conf
ops_example = $(srcdir)/tools/nss-scim.conf.example
ops_snapdir = $(localstatedir)/lib/nss-scim
ops_statedir = $(ops_snapdir)/state

install_data_hooks += install-ops-data
uninstall_hooks += uninstall-ops-data

install-ops-data:
	$(MKDIR_P) '$(DESTDIR)$(ops_confdir)'
	if test -e '$(DESTDIR)$(ops_conf)' || test -h '$(DESTDIR)$(ops_conf)'; then \
	  echo "keeping the existing $(DESTDIR)$(ops_conf)"; \
	else \
	  $(INSTALL_DATA) -m 0644 '$(ops_example)' '$(DESTDIR)$(ops_conf)'; \
	fi
	$(MKDIR_P) '$(DESTDIR)$(ops_snapdir)'
	chmod 0755 '$(DESTDIR)$(ops_snapdir)'
	$(MKDIR_P) '$(DESTDIR)$(ops_statedir)'
	chmod 0700 '$(DESTDIR)$(ops_statedir)'

uninstall-ops-data:
	if test -f '$(DESTDIR)$(ops_conf)' && \
	   cmp -s '$(ops_example)' '$(DESTDIR)$(ops_conf)'; then \
	  rm -f '$(DESTDIR)$(ops_conf)'; \
	fi
	rmdir '$(DESTDIR)$(ops_confdir)' 2>/dev/null || :
	rmdir '$(DESTDIR)$(ops_statedir)' 2>/dev/null || :
	rmdir '$(DESTDIR)$(ops_snapdir)' 2>/dev/null || :
	rmdir '$(DESTDIR)$(opscrondir)' 2>/dev/null || :
	rmdir '$(DESTDIR)$(opsexamplesdir)' 2>/dev/null || :
	rmdir '$(DESTDIR)$(docdir)' 2>/dev/null || :

.PHONY: install-ops-data uninstall-ops-data
