/* guestd block devices: which disks the guest has, the /dev/sd* naming
 * rule for Device arguments, and the calls that list or size devices.
 *
 * The appliance's own root disk (the virtio-blk disk mounted on /) is
 * hidden from everything: it is found at start from the st_dev of "/",
 * never assumed to be /dev/vda, and no Device argument may name it or
 * one of its partitions.  Names come from /sys/block; nodes in /dev are
 * made by devtmpfs (there is no udev).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "guestd.h"

static char root_disk[NAME_MAX + 1];   /* "vda", or "" if / is no disk */

/* The whole-disk name ("sda") for a block device number; -1 if unknown. */
static int
disk_of_rdev (dev_t rdev, char *name, size_t size)
{
  char link[PATH_MAX], target[PATH_MAX], part[PATH_MAX + 16];
  char *last, *slash;
  ssize_t n;

  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", major (rdev),
            minor (rdev));
  n = readlink (link, target, sizeof target - 1);
  if (n <= 0)
    return -1;
  target[n] = '\0';
  snprintf (part, sizeof part, "%s/partition", link);
  slash = strrchr (target, '/');
  last = slash ? slash + 1 : target;
  if (access (part, F_OK) == 0 && slash) {   /* a partition: its parent */
    *slash = '\0';
    slash = strrchr (target, '/');
    last = slash ? slash + 1 : target;
  }
  if (strlen (last) >= size)
    return -1;
  memcpy (name, last, strlen (last) + 1);
  return 0;
}

void
gd_devices_init (void)
{
  struct stat st;

  root_disk[0] = '\0';
  if (stat ("/", &st) == -1 || major (st.st_dev) == 0)
    return;
  if (disk_of_rdev (st.st_dev, root_disk, sizeof root_disk) == -1)
    root_disk[0] = '\0';
  gd_log ("appliance root disk: %s", *root_disk ? root_disk : "(none)");
}

int
gd_is_appliance_disk (dev_t rdev)
{
  char name[NAME_MAX + 1];

  if (root_disk[0] == '\0' || disk_of_rdev (rdev, name, sizeof name) == -1)
    return 0;
  return strcmp (name, root_disk) == 0;
}

/* Order drives as the kernel names them: sdb < sdz < sdaa. */
static int
compare_drives (const void *pa, const void *pb)
{
  const char *a = *(char *const *) pa, *b = *(char *const *) pb;
  size_t la = strlen (a), lb = strlen (b);
  int c = strncmp (a, b, 7);    /* "/dev/sd" vs "/dev/vd" */

  if (c)
    return c;
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp (a, b);
}

static int
is_disk_name (const char *n)
{
  return (strncmp (n, "sd", 2) == 0 || strncmp (n, "hd", 2) == 0 ||
          strncmp (n, "vd", 2) == 0) && n[2] >= 'a' && n[2] <= 'z';
}

char **
gd_list_disks (void)
{
  struct gd_strlist l = { 0 };
  DIR *d = opendir ("/sys/block");
  struct dirent *e;

  if (d == NULL)
    return NULL;
  while ((e = readdir (d)) != NULL) {
    if (!is_disk_name (e->d_name) || strcmp (e->d_name, root_disk) == 0)
      continue;
    char *s;
    if (gd_mkstr (&s, "/dev/%s", e->d_name) == -1 ||
        gd_strlist_take (&l, s) == -1) {
      closedir (d);
      gd_strlist_free (&l);
      return NULL;
    }
  }
  closedir (d);
  if (l.n > 1)
    qsort (l.v, l.n, sizeof *l.v, compare_drives);
  return gd_strlist_end (&l);
}

char **
do_list_devices (void)
{
  char **r = gd_list_disks ();

  if (r == NULL)
    reply_with_perror ("/sys/block");
  return r;
}

/* Add the partitions of one disk ("/dev/sda") to l. */
static int
add_partitions (struct gd_strlist *l, const char *disk)
{
  const char *name = disk + 5;
  size_t first = l->n, nlen = strlen (name);
  char path[PATH_MAX];
  struct dirent *e;
  DIR *d;

  snprintf (path, sizeof path, "/sys/block/%s", name);
  if ((d = opendir (path)) == NULL)
    return -1;
  while ((e = readdir (d)) != NULL) {
    char *s;
    if (strncmp (e->d_name, name, nlen) != 0)
      continue;
    snprintf (path, sizeof path, "/sys/block/%s/%s/partition", name, e->d_name);
    if (access (path, F_OK) == -1)
      continue;
    if (gd_mkstr (&s, "/dev/%s", e->d_name) == -1 || gd_strlist_take (l, s) == -1) {
      closedir (d);
      return -1;
    }
  }
  closedir (d);
  if (l->n - first > 1)
    qsort (l->v + first, l->n - first, sizeof *l->v, compare_drives);
  return 0;
}

char **
do_list_partitions (void)
{
  struct gd_strlist l = { 0 };
  char **disks = gd_list_disks ();

  if (disks == NULL) {
    reply_with_perror ("/sys/block");
    return NULL;
  }
  for (size_t i = 0; disks[i]; i++)
    if (add_partitions (&l, disks[i]) == -1) {
      reply_with_perror ("%s", disks[i]);
      gk_free_strings (disks);
      gd_strlist_free (&l);
      return NULL;
    }
  gk_free_strings (disks);
  return gd_strlist_end (&l);
}

int64_t
do_blockdev_getsize64 (const char *device)
{
  uint64_t size;
  int fd = open (device, O_RDONLY | O_CLOEXEC);

  if (fd == -1) {
    reply_with_perror ("%s", device);
    return -1;
  }
  if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
    reply_with_perror ("%s: BLKGETSIZE64", device);
    close (fd);
    return -1;
  }
  close (fd);
  return (int64_t) size;
}

/* Try /dev/sdXN, then /dev/hdXN, then /dev/vdXN.  On success *dev may
 * have been replaced and st describes it. */
static int
stat_translated (char **dev, struct stat *st)
{
  static const char *const alt[] = { "/dev/hd", "/dev/vd" };

  if (stat (*dev, st) == 0)
    return 0;
  if (strncmp (*dev, "/dev/sd", 7) != 0)
    return -1;
  for (size_t i = 0; i < 2; i++) {
    char *s;
    if (gd_mkstr (&s, "%s%s", alt[i], *dev + 7) == -1)
      return -1;
    if (stat (s, st) == 0) {
      free (*dev);
      *dev = s;
      return 0;
    }
    free (s);
  }
  return -1;
}

/* /dev/VG/LV or /dev/mapper/NAME: names that LVM activation makes. */
static int
looks_like_lvm (const char *dev)
{
  return strchr (dev + 5, '/') != NULL;
}

/* A missing device that a module or LVM activation may bring: /dev/sr*
 * (sr_mod), /dev/VG/LV or /dev/mapper/NAME (dm_mod + vgchange -ay).
 * Returns 0 if it exists afterwards (st filled). */
static int
load_on_demand (const char *dev, struct stat *st)
{
  if (strncmp (dev, "/dev/sr", 7) == 0)
    gd_load_module ("sr_mod");
  else if (looks_like_lvm (dev))
    gd_lvm_activate ();
  else
    return -1;
  return stat (dev, st);
}

int
gd_check_device (char **dev, const char *argname)
{
  struct stat st;

  if (*dev == NULL || strncmp (*dev, "/dev/", 5) != 0) {
    reply_with_error ("%s %s: not a device name (must begin with /dev/)",
                      argname, *dev ? *dev : "(null)");
    return -1;
  }
  if (strlen (*dev) >= PATH_MAX) {
    reply_with_error ("%s: device name too long", argname);
    return -1;
  }
  if (stat_translated (dev, &st) == -1 && load_on_demand (*dev, &st) == -1) {
    reply_with_error ("%s %s: no such device", argname, *dev);
    return -1;
  }
  if (!S_ISBLK (st.st_mode)) {
    reply_with_error ("%s %s: not a block device", argname, *dev);
    return -1;
  }
  if (gd_is_appliance_disk (st.st_rdev)) {
    reply_with_error ("%s %s: no such device (the appliance's own disk)",
                      argname, *dev);
    return -1;
  }
  return 0;
}

int
gd_check_devices (char ***devs, const char *argname)
{
  for (size_t i = 0; *devs && (*devs)[i]; i++)
    if (gd_check_device (&(*devs)[i], argname) == -1)
      return -1;
  return 0;
}

/* Is "sda12" a partition name of disk "sda"? */
static int
is_partition_of (const char *name, const char *disk, size_t n)
{
  if (strncmp (name, disk, n) != 0 || name[n] == '\0')
    return 0;
  for (name += n; *name; name++)
    if (*name < '0' || *name > '9')
      return 0;
  return 1;
}

/* Does every partition of disk listed in dir exist in /dev (to_dev) or in
 * /sys/block/DISK (!to_dev)? */
static int
all_exist (const char *dir, const char *disk, int to_dev)
{
  char path[PATH_MAX];
  size_t n = strlen (disk);
  struct dirent *e;
  DIR *d = opendir (dir);
  int ok = 1;

  if (d == NULL)
    return 1;
  while (ok && (e = readdir (d)) != NULL)
    if (is_partition_of (e->d_name, disk, n)) {
      if (to_dev)
        snprintf (path, sizeof path, "/dev/%s", e->d_name);
      else
        snprintf (path, sizeof path, "/sys/block/%s/%s", disk, e->d_name);
      ok = access (path, F_OK) == 0;
    }
  closedir (d);
  return ok;
}

/* After a partition table change: ask the kernel to re-read the table
 * (parted already told it, but a re-read is harmless when nothing is in
 * use), then wait up to 5 s for devtmpfs to make the new nodes and drop
 * the old ones. */
int
gd_wait_partitions (const char *device)
{
  struct timespec ts = { 0, 10 * 1000 * 1000 };
  char real[PATH_MAX], sys[PATH_MAX + 16];
  const char *disk;
  int fd;

  if (realpath (device, real) == NULL)
    return -1;
  disk = strrchr (real, '/') + 1;
  fd = open (real, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (ioctl (fd, BLKRRPART, NULL) == -1)
      gd_log ("%s: BLKRRPART: %m", real);
    close (fd);
  }
  snprintf (sys, sizeof sys, "/sys/block/%s", disk);
  for (int i = 0; i < 500; i++) {
    if (all_exist (sys, disk, 1) && all_exist ("/dev", disk, 0))
      return 0;
    nanosleep (&ts, NULL);
  }
  gd_warn ("%s: partition nodes in /dev did not settle", real);
  return 0;
}
