# contour-module.m4: the build switch of one in-tree module.
#
# CONTOUR_MODULE(NAME, [ACTION-IF-ENABLED])
#
# Adds --disable-module-NAME to configure (every module is built by
# default), an AM_CONDITIONAL MODULE_<NAME> (upper case, `-' as `_') for the
# module's Makefile.am fragment and the tests that need the module, and runs
# ACTION-IF-ENABLED (the module's own dependency checks) only when the module
# is built, so a disabled module's libraries need not be installed. The
# names of the modules built and left out collect in CONTOUR_MODULES_ENABLED
# and CONTOUR_MODULES_DISABLED for the configure summary. Modelled on Knot's
# m4/knot-module.m4 (which also offers a "shared" state: every contour
# module is shared, so here the switch is yes/no).
AC_DEFUN([CONTOUR_MODULE], [
  m4_pushdef([_contour_var], [enable_module_]m4_translit([$1], [-], [_]))
  m4_pushdef([_contour_cond], [MODULE_]m4_toupper(m4_translit([$1], [-], [_])))
  AC_ARG_ENABLE([module-$1],
    [AS_HELP_STRING([--disable-module-$1], [do not build the $1 module])],
    [AS_CASE([$enableval], [yes|no], [],
      [AC_MSG_ERROR([bad value '$enableval' for --enable-module-$1: yes or no])])],
    [_contour_var=yes])
  AS_IF([test "x$_contour_var" != xno], [
    CONTOUR_MODULES_ENABLED="${CONTOUR_MODULES_ENABLED:+$CONTOUR_MODULES_ENABLED }$1"
    $2
  ], [
    CONTOUR_MODULES_DISABLED="${CONTOUR_MODULES_DISABLED:+$CONTOUR_MODULES_DISABLED }$1"
  ])
  AM_CONDITIONAL(_contour_cond, [test "x$_contour_var" != xno])
  m4_popdef([_contour_cond])
  m4_popdef([_contour_var])
])
