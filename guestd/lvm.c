/* guestd LVM: the pvs / vgs / lvs listings and volume group activation,
 * through the lvm(8) binary.
 *
 * The appliance has no udev: the appliance's lvm.conf (appliance/) and the
 * --config below tell LVM to make its own /dev/mapper nodes and /dev/VG/LV
 * links and never to wait for udev.  Nothing activates volume groups on
 * its own either, so lvs (and a Device check of a missing /dev/VG/LV)
 * first runs vgchange -ay, until the caller takes activation into its
 * own hands with vg_activate / vg_activate_all (lvm-create.c).  The
 * calls that create and remove are in lvm-create.c, the _full listings
 * in lvm-full.c; both run lvm through gd_lvm here.
 */
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

#define LVM_CONFIG "devices{obtain_device_list_from_udev=0} " \
  "activation{udev_sync=0 udev_rules=0}"

/* Set once the caller (de)activated volume groups itself: from then on
 * lvs no longer activates everything behind its back. */
static int user_activation;

void
gd_lvm_user_activation (void)
{
  user_activation = 1;
}

void
gd_lvm_activate (void)
{
  char *err = NULL;
  int r;

  if (user_activation)
    return;
  gd_load_module ("dm_mod");
  r = gd_command (NULL, &err, "lvm", "vgchange", "--config", LVM_CONFIG,
                      "-ay", NULL);

  if (r != 0)
    gd_log ("vgchange -ay: %s", err ? gd_trim (err) : "failed");
  free (err);
}

/* Run an lvm report (no headings, one field per line) and collect the
 * trimmed non-empty lines, each prefixed by `prefix'. */
static char **
lvm_report (const char *cmd, const char *fields, const char *prefix)
{
  const char *argv[] = { "lvm", cmd, "--config", LVM_CONFIG, "--noheadings",
                         "--separator", "/", "-o", fields, NULL };
  struct gd_strlist l = { 0 };
  char *out, *save = NULL, *s;

  gd_load_module ("dm_mod");
  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  for (char *line = strtok_r (out, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    if (*gd_trim (line) == '\0')
      continue;
    if (gd_mkstr (&s, "%s%s", prefix, line) == -1 ||
        gd_strlist_take (&l, s) == -1) {
      reply_with_perror ("%s", cmd);
      gd_strlist_free (&l);
      free (out);
      return NULL;
    }
  }
  free (out);
  return gd_strlist_end (&l);
}

char **
do_pvs (void)
{
  if (gd_check_group () == -1)
    return NULL;
  return lvm_report ("pvs", "pv_name", "");
}

char **
do_vgs (void)
{
  if (gd_check_group () == -1)
    return NULL;
  return lvm_report ("vgs", "vg_name", "");
}

char **
do_lvs (void)
{
  if (gd_check_group () == -1)
    return NULL;
  gd_lvm_activate ();
  return lvm_report ("lvs", "vg_name,lv_name", "/dev/");
}

/* Run `lvm CMD --config ... ARGS...' (args[0] is CMD); reply on failure.
 * dm_mod is loaded first: every command may need /dev/mapper/control. */
int
gd_lvm (char **out, const char *const *args)
{
  const char *argv[64];
  size_t n = 0;

  gd_load_module ("dm_mod");
  argv[n++] = "lvm";
  argv[n++] = args[0];
  argv[n++] = "--config";
  argv[n++] = LVM_CONFIG;
  for (size_t i = 1; args[i] && n < 63; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return gd_run_or_reply (out, -1, argv);
}
