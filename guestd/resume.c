/* guestd/resume.c: the first call to an appliance restored from a
 * snapshot (GK_PROC_RESUME, outside the action table).
 *
 * The snapshot was taken of an idle template, so everything that must
 * differ between appliances is set here: the clock, the random pool
 * (mixed with the host's seed and reseeded at once, so no two restored
 * appliances share RNG output), the verbose flag, and the disks the
 * library hot-added while the VM was paused, which must be visible, in
 * order (lun N is /dev/sd<a+N>), before the reply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "guestd.h"

static const struct gk_action resume_action = {
  .name = "resume", .proc = (int) GK_PROC_RESUME, .ret = GK_RET_ERR,
};

static int
reseed (const char *seed, u_int len)
{
  struct {
    struct rand_pool_info info;
    char buf[GK_SEED_LEN];
  } r;
  int fd = open ("/dev/urandom", O_WRONLY | O_CLOEXEC), ok;

  if (fd == -1)
    return -1;
  r.info.entropy_count = (int) len * 8;
  r.info.buf_size = (int) len;
  memcpy (r.buf, seed, len);
  ok = ioctl (fd, RNDADDENTROPY, &r.info) == 0 &&
       ioctl (fd, RNDRESEEDCRNG) == 0;
  close (fd);
  return ok ? 0 : -1;
}

/* lun of /sys/block/NAME: the last field of its SCSI address H:C:T:L. */
static int
disk_lun (const char *name)
{
  char path[300], target[300];
  ssize_t n;
  const char *colon;

  snprintf (path, sizeof path, "/sys/block/%s/device", name);
  n = readlink (path, target, sizeof target - 1);
  if (n <= 0)
    return -1;
  target[n] = '\0';
  colon = strrchr (target, ':');
  return colon ? atoi (colon + 1) : -1;
}

/* The virtio-scsi host's scan file, or NULL. */
static char *
scan_file (void)
{
  DIR *d = opendir ("/sys/class/scsi_host");
  struct dirent *e;
  char *found = NULL;

  while (d && found == NULL && (e = readdir (d)) != NULL) {
    char path[300], *name;
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "/sys/class/scsi_host/%s/proc_name", e->d_name);
    name = gd_read_small_file (path);
    if (name && strcmp (gd_trim (name), "virtio_scsi") == 0 &&
        asprintf (&found, "/sys/class/scsi_host/%s/scan", e->d_name) == -1)
      found = NULL;
    free (name);
  }
  if (d)
    closedir (d);
  return found;
}

/* The library added the disks at luns 0..n-1 with the controller's
 * hotplug events off; scan them one at a time, each only after the one
 * before has its name, so lun i is always /dev/sd<a+i>. */
static int
scan_disks (int n)
{
  struct timespec ts = { 0, 1000 * 1000 };
  char *scan = n ? scan_file () : NULL;

  if (n && scan == NULL)
    return -1;
  for (int i = 0; i < n; i++) {
    char name[8], req[32];
    int fd = open (scan, O_WRONLY | O_CLOEXEC), tries, lun = -1;
    snprintf (req, sizeof req, "0 0 %d", i);
    if (fd == -1 || write (fd, req, strlen (req)) == -1) {
      if (fd >= 0) close (fd);
      free (scan);
      return -1;
    }
    close (fd);
    snprintf (name, sizeof name, "sd%c", 'a' + i);
    for (tries = 0; tries < 10000 && (lun = disk_lun (name)) == -1; tries++)
      nanosleep (&ts, NULL);
    if (lun != i) {
      free (scan);
      return lun == -1 ? 0 : -1;
    }
  }
  free (scan);
  return 1;
}

/* sd probes disks asynchronously: the disk can be visible before its
 * partitions are.  Re-reading each table makes them (and their /dev
 * nodes) exist before we answer. */
static void
rescan_partitions (int n)
{
  for (int i = 0; i < n; i++) {
    char dev[16];
    int fd;
    snprintf (dev, sizeof dev, "/dev/sd%c", 'a' + i);
    fd = open (dev, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || ioctl (fd, BLKRRPART) == -1)
      gd_log ("resume: re-reading %s: %m", dev);
    if (fd >= 0)
      close (fd);
  }
}

void
gd_resume (XDR *x, uint32_t len, uint32_t serial)
{
  struct gk_resume r = { 0 };
  struct timespec ts;
  int d;

  gd_call_begin (&resume_action, GK_PROC_RESUME, serial);
  if (!gk_xdr_resume (x, &r) || xdr_getpos (x) != len ||
      r.seed_len != GK_SEED_LEN || r.ndisks < 0 || r.ndisks > 26) {
    reply_with_error ("malformed resume request");
    goto out;
  }
  gd_verbose = r.verbose != 0;
  ts.tv_sec = (time_t) r.time_sec;
  ts.tv_nsec = r.time_nsec >= 0 && r.time_nsec < 1000000000 ? r.time_nsec : 0;
  if (clock_settime (CLOCK_REALTIME, &ts) == -1)
    gd_warn ("resume: setting the clock: %m");
  if (reseed (r.seed, r.seed_len) == -1) {
    reply_with_perror ("reseeding the random pool");
    goto out;
  }
  d = scan_disks (r.ndisks);
  if (d != 1) {
    reply_with_error (d == 0 ? "the %d hot-added disks did not appear"
                             : "the %d hot-added disks appeared out of order",
                      r.ndisks);
    goto out;
  }
  rescan_partitions (r.ndisks);
  gd_log ("resumed: %d disks", r.ndisks);
  gd_reply_ok (&resume_action, NULL);
 out:
  free (r.seed);
  gd_call_end ();
}
