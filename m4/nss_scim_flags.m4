# NSS_SCIM_PROBE_CFLAG(FLAG, VAR): append FLAG to VAR when the C compiler
# accepts it without a warning.
AC_DEFUN([NSS_SCIM_PROBE_CFLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  nss_scim_save_cflags=$CFLAGS
  CFLAGS="$CFLAGS -Werror $1"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                    [AC_MSG_RESULT([yes]); $2="$$2 $1"],
                    [AC_MSG_RESULT([no])])
  CFLAGS=$nss_scim_save_cflags
])
