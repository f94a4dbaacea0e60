/* guestd SELinux: setcon / getcon, the daemon's own security context.
 *
 * libselinux is loaded at run time (dlopen), so guestd neither needs it
 * to build nor to start; the selinux group (groups.c) is available only
 * when the library loads and the appliance kernel runs SELinux, which it
 * does only when booted with set_selinux and an lsm= list naming selinux
 * (guestkit boots with lsm=capability by default).  Without a policy
 * loaded, every process is in the "kernel" context.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

static void *lib;               /* libselinux.so.1, loaded once */

static void *
sym (const char *name)
{
  if (lib == NULL)
    lib = dlopen ("libselinux.so.1", RTLD_NOW | RTLD_LOCAL);
  return lib ? dlsym (lib, name) : NULL;
}

int
do_setcon (const char *context)
{
  int (*setcon_fn) (const char *);

  if (gd_check_group () == -1)
    return -1;
  *(void **) &setcon_fn = sym ("setcon");
  if (setcon_fn == NULL) {
    reply_with_error ("libselinux has no setcon");
    return -1;
  }
  if (setcon_fn (context) == -1) {
    reply_with_perror ("context %s", context);
    return -1;
  }
  return 0;
}

char *
do_getcon (void)
{
  int (*getcon_fn) (char **);
  void (*freecon_fn) (char *);
  char *con = NULL, *r;

  if (gd_check_group () == -1)
    return NULL;
  *(void **) &getcon_fn = sym ("getcon");
  *(void **) &freecon_fn = sym ("freecon");
  if (getcon_fn == NULL || freecon_fn == NULL) {
    reply_with_error ("libselinux has no getcon");
    return NULL;
  }
  if (getcon_fn (&con) == -1) {
    reply_with_perror ("getcon");
    return NULL;
  }
  r = strdup (con);
  freecon_fn (con);
  if (r == NULL)
    reply_with_perror ("getcon");
  return r;
}
