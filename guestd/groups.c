/* guestd optional groups: which optional features this appliance really
 * has, tested at run time from what it contains (a program on PATH, a
 * library that loads, a kernel interface), never from how guestd was
 * built.  `available' answers from here, and every call of an optional
 * group starts with gd_check_group so that a missing feature gives one
 * clear error instead of a confusing failure deeper down.
 *
 * The answers cannot change while the appliance runs, so each group is
 * tested once and remembered.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guestd.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
gd_program_exists (const char *name)
{
  const char *path = getenv ("PATH");
  char *copy, *save = NULL, buf[4096];
  int found = 0;

  if (path == NULL || *path == '\0')
    path = DEFAULT_PATH;
  if ((copy = strdup (path)) == NULL)
    return 0;
  for (char *dir = strtok_r (copy, ":", &save); dir && !found;
       dir = strtok_r (NULL, ":", &save)) {
    snprintf (buf, sizeof buf, "%s/%s", dir, name);
    found = access (buf, X_OK) == 0;
  }
  free (copy);
  return found;
}

static int
have_augeas (void)
{
  /* guestd links libaugeas; the lenses are a separate package. */
  return access ("/usr/share/augeas/lenses/dist/hosts.aug", R_OK) == 0;
}

static int
have_inotify (void)
{
  return access ("/proc/sys/fs/inotify/max_queued_events", R_OK) == 0;
}

static int
have_linuxfsuuid (void)
{
  return gd_program_exists ("mkswap") && gd_program_exists ("tune2fs") &&
         gd_program_exists ("blkid");
}

static int
have_linuxmodules (void)
{
  return gd_program_exists ("modprobe") && access ("/proc/modules", R_OK) == 0;
}

static int
have_linuxxattrs (void)
{
  return llistxattr ("/", NULL, 0) >= 0 || errno != ENOTSUP;
}

static int
have_lvm2 (void)
{
  return gd_program_exists ("lvm");
}

static int
always (void)
{
  return 1;
}

static int
have_ntfs3g (void)
{
  return gd_program_exists ("ntfs-3g") && gd_program_exists ("ntfs-3g.probe");
}

static int
have_scrub (void)
{
  return gd_program_exists ("scrub");
}

static int
have_zerofree (void)
{
  return gd_program_exists ("zerofree");
}

/* The kernel running SELinux (it then has /sys/fs/selinux; guestkit
 * boots with lsm=capability unless told otherwise) and libselinux there
 * to load.  selinuxfs is mounted on the way: libselinux wants it. */
static int
have_selinux (void)
{
  void *h;

  if (access ("/sys/fs/selinux", F_OK) == -1)
    return 0;
  if (gd_is_mount_root ("/sys/fs/selinux") != 1 &&
      mount ("selinuxfs", "/sys/fs/selinux", "selinuxfs", MS_NOSUID | MS_NOEXEC,
             NULL) == -1)
    gd_log ("mount selinuxfs: %m");
  if ((h = dlopen ("libselinux.so.1", RTLD_NOW | RTLD_LOCAL)) == NULL)
    return 0;
  dlclose (h);
  return 1;
}

struct group {
  const char *name;             /* as in the action table's Optional flag */
  int (*test) (void);           /* 1 when this appliance has it */
  int known;                    /* 1 if `have' was computed */
  int have;
};

static struct group groups[] = {
  { "augeas", have_augeas, 0, 0 },
  { "inotify", have_inotify, 0, 0 },
  { "linuxfsuuid", have_linuxfsuuid, 0, 0 },
  { "linuxmodules", have_linuxmodules, 0, 0 },
  { "linuxxattrs", have_linuxxattrs, 0, 0 },
  { "lvm2", have_lvm2, 0, 0 },
  { "mknod", always, 0, 0 },
  { "ntfs3g", have_ntfs3g, 0, 0 },
  { "realpath", always, 0, 0 },
  { "scrub", have_scrub, 0, 0 },
  { "selinux", have_selinux, 0, 0 },
  { "zerofree", have_zerofree, 0, 0 },
};

int
gd_group_available (const char *name)
{
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
    if (strcmp (groups[i].name, name) == 0) {
      if (!groups[i].known) {
        groups[i].have = groups[i].test ();
        groups[i].known = 1;
        gd_log ("group %s: %s", name, groups[i].have ? "available" : "absent");
      }
      return groups[i].have;
    }
  return -1;
}

int
gd_check_group (void)
{
  const struct gk_action *a = gk_action_by_name (gd_call_name ());

  if (a == NULL || a->group == NULL || gd_group_available (a->group) == 1)
    return 0;
  reply_with_error ("the %s feature is not available in this appliance",
                    a->group);
  return -1;
}

int
do_available (char *const *names)
{
  for (size_t i = 0; names && names[i]; i++)
    switch (gd_group_available (names[i])) {
    case -1:
      reply_with_error ("groups: %s: unknown feature group", names[i]);
      return -1;
    case 0:
      reply_with_error ("the %s feature is not available in this appliance",
                        names[i]);
      return -1;
    }
  return 0;
}
