/* guestd/scan.c: naming the guest's disks in the order the API promises.
 *
 * Left alone, the kernel names disks in the order it finds them, and it
 * finds them in the order qemu's REPORT LUNS lists them (not lun order),
 * with sd probing asynchronously besides.  So guestd asks for lun 0, 1,
 * 2, ... one at a time through the host's sysfs scan file, and waits for
 * each to have its block device before asking for the next: the drive
 * added first is always /dev/sda.  A restored appliance gets no hotplug
 * events and is scanned this way from the start; after a cold boot the
 * disks the kernel found by itself are dropped and scanned again in order
 * if their names came out of order.  Each partition table is read before
 * anyone looks for /dev/sda1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guestd.h"

/* The virtio-scsi host number, or -1. */
static int
scsi_host (void)
{
  DIR *d = opendir ("/sys/class/scsi_host");
  struct dirent *e;
  int host = -1;

  while (d && host == -1 && (e = readdir (d)) != NULL) {
    char path[300], *name;
    if (strncmp (e->d_name, "host", 4) != 0)
      continue;
    snprintf (path, sizeof path, "/sys/class/scsi_host/%s/proc_name", e->d_name);
    name = gd_read_small_file (path);
    if (name && strcmp (gd_trim (name), "virtio_scsi") == 0)
      host = atoi (e->d_name + 4);
    free (name);
  }
  if (d)
    closedir (d);
  return host;
}

/* The kernel name of the block device at lun, waiting for sd/sr to
 * probe it; NULL (after ~10 s) if it never comes. */
static char *
block_name (int host, int lun)
{
  struct timespec ts = { 0, 500 * 1000 };
  char path[128];

  snprintf (path, sizeof path, "/sys/bus/scsi/devices/%d:0:0:%d/block", host, lun);
  for (int tries = 0; tries < 20000; tries++) {
    DIR *d = opendir (path);
    struct dirent *e;
    char *name = NULL;
    while (d && name == NULL && (e = readdir (d)) != NULL)
      if (e->d_name[0] != '.')
        name = strdup (e->d_name);
    if (d)
      closedir (d);
    if (name)
      return name;
    nanosleep (&ts, NULL);
  }
  return NULL;
}

static void
read_partitions (const char *name)
{
  struct timespec ts = { 0, 1000 * 1000 };
  char dev[64];
  int fd;

  if (strncmp (name, "sd", 2) != 0)
    return;
  snprintf (dev, sizeof dev, "/dev/%s", name);
  /* The sysfs entry comes before the disk can be opened (ENXIO). */
  for (int tries = 0; tries < 5000; tries++) {
    fd = open (dev, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || (errno != ENXIO && errno != ENOENT))
      break;
    nanosleep (&ts, NULL);
  }
  if (fd == -1 || ioctl (fd, BLKRRPART) == -1)
    gd_log ("re-reading the partitions of %s: %m", dev);
  if (fd >= 0)
    close (fd);
}

/* Ask for one lun.  1 found (its block device is there), 0 absent, -1
 * failure. */
static int
scan_lun (int host, int lun)
{
  char path[128], req[32];
  int fd, r;
  char *name;

  snprintf (path, sizeof path, "/sys/class/scsi_host/host%d/scan", host);
  snprintf (req, sizeof req, "0 0 %d", lun);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  r = fd >= 0 && write (fd, req, strlen (req)) >= 0;
  if (fd >= 0)
    close (fd);
  if (!r)
    return -1;
  snprintf (path, sizeof path, "/sys/bus/scsi/devices/%d:0:0:%d", host, lun);
  if (access (path, F_OK) == -1)
    return 0;
  if ((name = block_name (host, lun)) == NULL)
    return -1;
  gd_log ("lun %d is %s", lun, name);
  read_partitions (name);
  free (name);
  return 1;
}

int
gd_scan_disks (int n)
{
  int host = scsi_host (), found = 0;

  if (host == -1)
    return n > 0 ? -1 : 0;
  for (int lun = 0; n < 0 || lun < n; lun++) {
    int r = scan_lun (host, lun);
    if (r == -1)
      return -1;
    if (r == 0)
      break;
    found++;
  }
  return found;
}

/* Order of kernel disk names: sdb < sdz < sdaa. */
static int
name_before (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  return la != lb ? la < lb : strcmp (a, b) < 0;
}

/* After a cold boot: the luns the kernel found, with names in lun order?
 * If not, delete them all and scan them again one by one. */
/* Wait (up to ~30 s) until the kernel's own scan has found luns
 * 0..n-1 of the host. */
static void
wait_luns (int host, int n)
{
  struct timespec ts = { 0, 1000 * 1000 };
  char path[128];

  for (int lun = 0; lun < n; lun++) {
    snprintf (path, sizeof path, "/sys/bus/scsi/devices/%d:0:0:%d", host, lun);
    for (int tries = 0; tries < 30000 && access (path, F_OK) == -1; tries++)
      nanosleep (&ts, NULL);
  }
}

void
gd_order_disks (int expected)
{
  char path[128], *names[64] = { NULL }, *prev = NULL;
  int host = scsi_host (), ordered = 1, n = 0, luns[64];
  struct dirent *e;
  DIR *d;

  if (host == -1)
    return;
  wait_luns (host, expected);
  if ((d = opendir ("/sys/bus/scsi/devices")) == NULL)
    return;
  while ((e = readdir (d)) != NULL && n < 64) {
    int h, c, t, l;
    if (sscanf (e->d_name, "%d:%d:%d:%d", &h, &c, &t, &l) == 4 && h == host)
      luns[n++] = l;
  }
  closedir (d);
  for (int i = 1; i < n; i++)           /* sort the luns */
    for (int j = i; j > 0 && luns[j - 1] > luns[j]; j--) {
      int t = luns[j]; luns[j] = luns[j - 1]; luns[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    names[i] = block_name (host, luns[i]);
    if (names[i] == NULL || (prev && !name_before (prev, names[i])))
      ordered = 0;
    prev = names[i];
  }
  for (int i = 0; i < n; i++) {
    if (ordered)
      read_partitions (names[i]);
    free (names[i]);
  }
  if (ordered)
    return;
  gd_log ("disks were named out of lun order: scanning them again");
  for (int i = 0; i < n; i++) {
    int fd;
    snprintf (path, sizeof path, "/sys/bus/scsi/devices/%d:0:0:%d/delete", host, luns[i]);
    fd = open (path, O_WRONLY | O_CLOEXEC);
    if (fd == -1 || write (fd, "1", 1) != 1)
      gd_warn ("%s: %m", path);
    if (fd >= 0)
      close (fd);
  }
  for (int i = 0; i < n; i++)
    if (scan_lun (host, luns[i]) != 1)
      gd_warn ("lun %d did not come back after a rescan", luns[i]);
}
