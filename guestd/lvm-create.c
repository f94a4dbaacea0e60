/* guestd LVM changes: create, remove, resize and (de)activate physical
 * volumes, volume groups and logical volumes, through lvm(8) as lvm.c
 * runs it (no udev: LVM makes and removes its /dev nodes itself).
 *
 * lvm never prompts here: its stdin is /dev/null, so every command that
 * could ask is given --yes or --force, the way the 2009 calls behaved
 * (they predate LVM's questions).  Names are checked before lvm sees
 * them so that a bad one gets an error naming the argument.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "guestd.h"

/* A VG or LV name as LVM accepts it: 1-127 of [A-Za-z0-9+_.-], not
 * starting with '-', not "." or "..".  Replies and returns -1 if not. */
static int
check_name (const char *name, const char *argname)
{
  static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+_.-";
  size_t n = strlen (name);

  if (n == 0 || n > 127 || name[0] == '-' || strspn (name, ok) != n ||
      strcmp (name, ".") == 0 || strcmp (name, "..") == 0) {
    reply_with_error ("%s '%s': not a valid LVM name (1-127 letters, digits "
                      "and + _ . -, not starting with -)", argname, name);
    return -1;
  }
  return 0;
}

int
do_pvcreate (const char *device)
{
  if (gd_check_group () == -1)
    return -1;
  return gd_lvm (NULL, (const char *const[]) {
      "pvcreate", "--force", "--yes", device, NULL });
}

int
do_vgcreate (const char *volgroup, char *const *physvols)
{
  const char *args[64];
  size_t n = 0;

  if (gd_check_group () == -1 || check_name (volgroup, "volgroup") == -1)
    return -1;
  if (physvols == NULL || physvols[0] == NULL) {
    reply_with_error ("physvols: the list of physical volumes is empty");
    return -1;
  }
  args[n++] = "vgcreate";
  args[n++] = volgroup;
  for (size_t i = 0; physvols[i]; i++) {
    if (n >= 63) {
      reply_with_error ("physvols: more than 60 physical volumes");
      return -1;
    }
    args[n++] = physvols[i];
  }
  args[n] = NULL;
  return gd_lvm (NULL, args);
}

int
do_lvcreate (const char *logvol, const char *volgroup, int mbytes)
{
  char size[32];

  if (gd_check_group () == -1 || check_name (logvol, "logvol") == -1 ||
      check_name (volgroup, "volgroup") == -1)
    return -1;
  if (mbytes <= 0) {
    reply_with_error ("mbytes %d: the size must be at least 1 MiB", mbytes);
    return -1;
  }
  snprintf (size, sizeof size, "%dm", mbytes);
  return gd_lvm (NULL, (const char *const[]) {
      "lvcreate", "--yes", "-L", size, "-n", logvol, volgroup, NULL });
}

/* lvremove, vgremove and pvremove: `lvm PROG FLAG WHAT'. */
static int
lvm_remove (const char *prog, const char *flag, const char *what)
{
  return gd_lvm (NULL, (const char *const[]) { prog, flag, what, NULL });
}

/* The VG named by /dev/VG (a directory of its LV links), or NULL. */
static const char *
vg_of_dir (const char *device)
{
  const char *name = device + 5;
  struct stat st;

  if (strncmp (device, "/dev/", 5) != 0 || *name == '\0' || strchr (name, '/') ||
      stat (device, &st) == -1 || !S_ISDIR (st.st_mode))
    return NULL;
  return name;
}

/* The table skips the Device check for this call (NoArgCheck): /dev/VG
 * removes every LV of the volume group, as the 2009 call did; anything
 * else must be a device. */
int
do_lvremove (const char *device)
{
  const char *vg = vg_of_dir (device);
  char *dev;
  int r;

  if (gd_check_group () == -1)
    return -1;
  if (vg)
    return check_name (vg, "device") == -1 ? -1 : lvm_remove ("lvremove", "--force", vg);
  if ((dev = strdup (device)) == NULL) {
    reply_with_perror ("lvremove");
    return -1;
  }
  r = gd_check_device (&dev, "device") == -1 ? -1 : lvm_remove ("lvremove", "--force", dev);
  free (dev);
  return r;
}

int
do_vgremove (const char *vgname)
{
  if (gd_check_group () == -1 || check_name (vgname, "vgname") == -1)
    return -1;
  return lvm_remove ("vgremove", "--force", vgname);
}

/* No --force: lvm then refuses a PV that a VG still uses, and a device
 * that holds no PV label, as the call always did. */
int
do_pvremove (const char *device)
{
  if (gd_check_group () == -1)
    return -1;
  return lvm_remove ("pvremove", "--yes", device);
}

int
do_pvresize (const char *device)
{
  if (gd_check_group () == -1)
    return -1;
  return gd_lvm (NULL, (const char *const[]) { "pvresize", device, NULL });
}

int
do_lvresize (const char *device, int mbytes)
{
  char size[32];

  if (gd_check_group () == -1)
    return -1;
  if (mbytes <= 0) {
    reply_with_error ("mbytes %d: the size must be at least 1 MiB", mbytes);
    return -1;
  }
  snprintf (size, sizeof size, "%dm", mbytes);
  return gd_lvm (NULL, (const char *const[]) {
      "lvresize", "--force", "-L", size, device, NULL });
}

/* Every VG (with its LVs), then every PV label. */
int
do_lvm_remove_all (void)
{
  char **vgs, **pvs;
  int r = 0;

  if (gd_check_group () == -1 || (vgs = do_vgs ()) == NULL)
    return -1;
  for (size_t i = 0; r == 0 && vgs[i]; i++)
    r = gd_lvm (NULL, (const char *const[]) {
        "vgremove", "--force", vgs[i], NULL });
  gk_free_strings (vgs);
  if (r == -1 || (pvs = do_pvs ()) == NULL)
    return -1;
  for (size_t i = 0; r == 0 && pvs[i]; i++)
    r = gd_lvm (NULL, (const char *const[]) {
        "pvremove", "--yes", pvs[i], NULL });
  gk_free_strings (pvs);
  return r;
}

int
do_vg_activate_all (int activate)
{
  if (gd_check_group () == -1)
    return -1;
  gd_lvm_user_activation ();
  return gd_lvm (NULL, (const char *const[]) {
      "vgchange", "-a", activate ? "y" : "n", NULL });
}

/* An empty list means every volume group. */
int
do_vg_activate (int activate, char *const *volgroups)
{
  const char *args[64];
  size_t n = 0;

  if (gd_check_group () == -1)
    return -1;
  args[n++] = "vgchange";
  args[n++] = "-a";
  args[n++] = activate ? "y" : "n";
  for (size_t i = 0; volgroups && volgroups[i]; i++) {
    if (check_name (volgroups[i], "volgroups") == -1)
      return -1;
    if (n >= 63) {
      reply_with_error ("volgroups: more than 60 volume groups");
      return -1;
    }
    args[n++] = volgroups[i];
  }
  args[n] = NULL;
  gd_lvm_user_activation ();
  return gd_lvm (NULL, args);
}
