# Operations tests: the install layout, the man pages, the
# systemd units, the metrics file and the quick-start demo.
OPS_TESTS = tests/integration/ops-install.sh tests/integration/ops-man.sh tests/integration/ops-units.sh \
	tests/integration/ops-metrics.sh tests/integration/ops-demo.sh
TESTS += $(OPS_TESTS)
EXTRA_DIST += $(OPS_TESTS) tests/helpers/ops-lib.sh
