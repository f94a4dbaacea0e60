/* guestd kernel modules and boot loaders: modprobe (the linuxmodules
 * group) and grub_install.
 *
 * The appliance carries the host kernel's modules, so modprobe(8) from
 * kmod loads them with their dependencies.  GRUB is not part of the
 * appliance; grub_install says so unless a grub-install is found.
 */
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

int
do_modprobe (const char *modulename)
{
  const char *argv[] = { "modprobe", "--", modulename, NULL };
  size_t n = strlen (modulename);

  if (gd_check_group () == -1)
    return -1;
  if (n == 0 || n > 255 || strspn (modulename, "abcdefghijklmnopqrstuvwxyz"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
    reply_with_error ("modulename '%s': not a module name (letters, digits, "
                      "_ and -)", modulename);
    return -1;
  }
  return gd_run_or_reply (NULL, -1, argv);
}

/* grub-install --root-directory=ROOT DEVICE, ROOT resolved inside the
 * guest first (grub-install would follow guest symlinks itself). */
int
do_grub_install (const char *root, const char *device)
{
  const char *argv[] = { "grub-install", NULL, device, NULL };
  char *real, *opt;
  int r;

  if (!gd_program_exists ("grub-install")) {
    reply_with_error ("grub is not available in this appliance "
                      "(no grub-install)");
    return -1;
  }
  if ((real = gd_real_path (root, "root")) == NULL)
    return -1;
  r = gd_mkstr (&opt, "--root-directory=%s", real);
  free (real);
  if (r == -1) {
    reply_with_perror ("grub_install");
    return -1;
  }
  argv[1] = opt;
  r = gd_run_or_reply (NULL, -1, argv);
  free (opt);
  return r;
}
