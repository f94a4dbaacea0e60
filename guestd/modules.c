/* guestd kernel modules and boot loaders: modprobe (the linuxmodules
 * group) and grub_install.
 *
 * The appliance carries the host kernel's modules, so modprobe(8) from
 * kmod loads them with their dependencies.  GRUB is not part of the
 * appliance: grub_install runs the guest's own grub-install, chrooted
 * into the guest (so every path it follows resolves in the guest tree).
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

/* grub-install --root-directory=ROOT DEVICE as a guest program, through
 * command.c's GD_ROOT_GUEST (a private mount namespace with the
 * appliance's /dev, /proc and /sys, then a chroot into the sysroot): the
 * guest's GRUB installs the guest's boot files, and ROOT and every
 * symlink below it resolve inside the guest, as the appliance never
 * sees them.  ROOT must exist in the guest. */
int
do_grub_install (const char *root, const char *device)
{
  const char *argv[] = { "grub-install", NULL, device, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  char *real, *opt = NULL, *out = NULL;
  int r;

  if (!gd_sysroot_mounted ()) {
    reply_with_error ("no guest filesystem is mounted on /");
    return -1;
  }
  if ((real = gd_real_path (root, "root")) == NULL)
    return -1;
  free (real);
  if (gd_mkstr (&opt, "--root-directory=%s", root) == -1) {
    reply_with_perror ("grub_install");
    return -1;
  }
  argv[1] = opt;
  c.root = GD_ROOT_GUEST;
  r = gd_cmd_run_or_reply (&c, &out, NULL);
  free (out);
  free (opt);
  return r;
}
