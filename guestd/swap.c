/* guestd swap: formatting devices and guest files as swap (mkswap), and
 * turning swap on and off by device, guest file, label or UUID.
 *
 * swapon/swapoff are the system calls, not the programs: a guest file is
 * opened inside the sysroot (paths.c) and handed to the kernel as
 * /proc/self/fd/N, so a guest symlink can never point the kernel at an
 * appliance file.  A label or UUID is looked up with blkid and must name
 * a guest device, never the appliance's own disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "guestd.h"

#define SWAP_LABEL_MAX 16

/* mkswap -f [flag value] TARGET. */
static int
mkswap (const char *flag, const char *value, const char *target,
        const int *keep_fds)
{
  const char *argv[] = { "mkswap", "-f", flag, value, target, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);

  if (flag == NULL) {
    argv[2] = target;
    argv[3] = NULL;
  }
  c.keep_fds = keep_fds;
  return gd_cmd_run_or_reply (&c, NULL, NULL);
}

int
do_mkswap (const char *device)
{
  return mkswap (NULL, NULL, device, NULL);
}

int
do_mkswap_L (const char *label, const char *device)
{
  if (gd_check_label (label, SWAP_LABEL_MAX, "label") == -1)
    return -1;
  return mkswap ("-L", label, device, NULL);
}

int
do_mkswap_U (const char *uuid, const char *device)
{
  if (gd_check_group () == -1 || gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return mkswap ("-U", uuid, device, NULL);
}

int
do_mkswap_file (const char *path)
{
  int fd = gd_open_regular (path, O_RDWR), keep[2] = { fd, -1 }, r;
  char proc[64];

  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  gd_fd_path (proc, sizeof proc, fd);
  r = mkswap (NULL, NULL, proc, keep);
  close (fd);
  return r;
}

/* swapon (on) or swapoff (!on) of an appliance path; what names the
 * target in messages. */
static int
swap_onoff (int on, const char *path, const char *what)
{
  if ((on ? swapon (path, 0) : swapoff (path)) == 0)
    return 0;
  if (on && errno == EINVAL)
    reply_with_error ("%s: not a swap area (mkswap first?)", what);
  else if (on && errno == EBUSY)
    reply_with_error ("%s: already in use (as swap or mounted)", what);
  else if (!on && errno == EINVAL)
    reply_with_error ("%s: swap is not on there", what);
  else
    reply_with_perror ("%s", what);
  return -1;
}

int
do_swapon_device (const char *device)
{
  return swap_onoff (1, device, device);
}

int
do_swapoff_device (const char *device)
{
  return swap_onoff (0, device, device);
}

static int
swap_file (int on, const char *file)
{
  int fd = gd_open_in_root (file, O_PATH, 0), r;
  char proc[64];

  if (fd == -1) {
    reply_with_perror ("%s", file);
    return -1;
  }
  gd_fd_path (proc, sizeof proc, fd);
  r = swap_onoff (on, proc, file);
  close (fd);
  return r;
}

int
do_swapon_file (const char *file)
{
  return swap_file (1, file);
}

int
do_swapoff_file (const char *file)
{
  return swap_file (0, file);
}

/* The guest device whose TAG (LABEL or UUID) is value; NULL after
 * replying.  Caller frees. */
static char *
find_tagged (const char *tag, const char *value, const char *argname)
{
  char *spec, *out = NULL;
  int r;

  if (gd_mkstr (&spec, "%s=%s", tag, value) == -1) {
    reply_with_perror ("blkid");
    return NULL;
  }
  r = gd_command (&out, NULL, "blkid", "-c", "/dev/null", "-l", "-o",
                  "device", "-t", spec, NULL);
  free (spec);
  if (r != 0 || out == NULL || *gd_trim (out) == '\0') {
    reply_with_error ("%s %s: no device has this %s", argname, value, argname);
    free (out);
    return NULL;
  }
  if (gd_check_device (&out, argname) == -1) {
    free (out);
    return NULL;
  }
  return out;
}

static int
swap_tagged (int on, const char *tag, const char *value, const char *argname)
{
  char *dev = find_tagged (tag, value, argname);
  int r;

  if (dev == NULL)
    return -1;
  r = swap_onoff (on, dev, dev);
  free (dev);
  return r;
}

int
do_swapon_label (const char *label)
{
  if (gd_check_label (label, SWAP_LABEL_MAX, "label") == -1)
    return -1;
  return swap_tagged (1, "LABEL", label, "label");
}

int
do_swapoff_label (const char *label)
{
  if (gd_check_label (label, SWAP_LABEL_MAX, "label") == -1)
    return -1;
  return swap_tagged (0, "LABEL", label, "label");
}

int
do_swapon_uuid (const char *uuid)
{
  if (gd_check_group () == -1 || gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return swap_tagged (1, "UUID", uuid, "uuid");
}

int
do_swapoff_uuid (const char *uuid)
{
  if (gd_check_group () == -1 || gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return swap_tagged (0, "UUID", uuid, "uuid");
}
