/* guestd/resume.c: the first call to an appliance restored from a
 * snapshot (GK_PROC_RESUME, outside the action table).
 *
 * The snapshot was taken of an idle template, so everything that must
 * differ between appliances is set here: the clock, the random pool
 * (mixed with the host's seed and reseeded at once, so no two restored
 * appliances share RNG output), the verbose flag, and the disks the
 * library hot-added while the VM was paused, which are scanned in order
 * (scan.c) before the reply.
 */
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
 out:
  free (r.seed);
  gd_call_end ();
}
