# Operations tests: the install layout, the man pages, the
# systemd units, the metrics file and the quick-start demo.
OPS_TESTS = tests/ops-install.sh tests/ops-man.sh tests/ops-units.sh \
	tests/ops-metrics.sh tests/ops-demo.sh
TESTS += $(OPS_TESTS)
EXTRA_DIST += $(OPS_TESTS) tests/ops-lib.sh
