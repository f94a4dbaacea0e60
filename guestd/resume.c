/* guestd/resume.c: the first call to an appliance restored from a
 * snapshot (GK_PROC_RESUME, outside the action table).
 *
 * The snapshot was taken of an idle template, so everything that must
 * differ between appliances is set here: the clock, the random pool
 * (mixed with the host's seed and reseeded at once, so no two restored
 * appliances share RNG output), the verbose flag, and the disks the
 * library hot-added while the VM was paused, which are scanned in order
 * (scan.c) before the reply.
 *
 * After the reply, free page reporting starts: launch.c adds a
 * virtio-balloon device with free-page-reporting=on, and once its driver
 * is bound the guest reports its free 2 MiB blocks, which qemu discards;
 * it does so again, two seconds later, whenever blocks are freed.  A
 * template must not bind it: the blocks it reported would come back
 * resident in every restored copy (qemu's load touches every page of
 * guest RAM) and, marked as reported, never be reported again.  So a
 * template loads the driver without binding it (init.c), and a restored
 * appliance binds it here, where the driver's first pass reports all
 * that the template left free.  A cold boot binds it at start.
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

/* Bind the loaded virtio_balloon driver to the balloon device (virtio
 * device id 5). */
static void
bind_balloon (void)
{
  const char *bind = "/sys/bus/virtio/drivers/virtio_balloon/bind";
  DIR *d = opendir ("/sys/bus/virtio/devices");
  struct dirent *e;
  int done = 0;

  while (d && !done && (e = readdir (d)) != NULL) {
    char path[300], *id;
    int fd;
    snprintf (path, sizeof path, "/sys/bus/virtio/devices/%.200s/device", e->d_name);
    if (e->d_name[0] == '.' || (id = gd_read_small_file (path)) == NULL)
      continue;
    if (strcmp (gd_trim (id), "0x0005") == 0) {
      done = (fd = open (bind, O_WRONLY | O_CLOEXEC)) >= 0 &&
             write (fd, e->d_name, strlen (e->d_name)) >= 0;
      if (fd >= 0)
        close (fd);
      if (!done)
        gd_warn ("%s: %m: no free page reporting", bind);
      done = 1;
    }
    free (id);
  }
  if (d)
    closedir (d);
  gd_log ("balloon bound: free page reporting %s", done ? "on" : "off (no device)");
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
  d = gd_scan_disks (r.ndisks);
  if (d != r.ndisks) {
    reply_with_error ("only %d of the %d hot-added disks appeared", d, r.ndisks);
    goto out;
  }
  gd_log ("resumed: %d disks", r.ndisks);
  gd_reply_ok (&resume_action, NULL);
  bind_balloon ();               /* after the reply: see above */
 out:
  free (r.seed);
  gd_call_end ();
}
