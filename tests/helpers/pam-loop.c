/* SPDX-License-Identifier: MIT */
/*
 * pam-loop: ROUNDS login-like sessions through the real libpam, each one
 * pam_start_confdir(), CHECKS account checks, pam_end() (which unloads
 * pam_scim.so), the way a long-lived sshd makes them.  Run under valgrind
 * to show that the module neither leaks nor errs across loads.
 *
 *   pam-loop CONFDIR SERVICE USER ROUNDS CHECKS EXPECTED-RESULT
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>

static int quiet_conv(int n, const struct pam_message **msg,
                      struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_conv conv = {quiet_conv, NULL};
	int rounds, checks, want;

	if (argc != 7) {
		fprintf(stderr, "usage: pam-loop CONFDIR SERVICE USER ROUNDS "
		                "CHECKS EXPECTED\n");
		return 2;
	}
	rounds = atoi(argv[4]);
	checks = atoi(argv[5]);
	want = atoi(argv[6]);
	for (int i = 0; i < rounds; i++) {
		pam_handle_t *pamh = NULL;
		int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1],
		                           &pamh);

		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "pam_start_confdir: %d\n", rc);
			return 1;
		}
		for (int j = 0; j < checks; j++) {
			rc = pam_acct_mgmt(pamh, PAM_SILENT);
			if (rc != want) {
				fprintf(stderr,
				        "round %d: pam_acct_mgmt gave %d "
				        "(%s), want %d\n",
				        i, rc, pam_strerror(pamh, rc), want);
				pam_end(pamh, rc);
				return 1;
			}
		}
		pam_end(pamh, PAM_SUCCESS);
	}
	printf("%d sessions, %d account checks\n", rounds, rounds * checks);
	return 0;
}
