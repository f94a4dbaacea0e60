/* guestd blockdev_*: the kernel's block-device settings, by ioctl(2) on
 * the device node (what blockdev(8) does, without running it).
 *
 * A note on blockdev_setbsz: the kernel keeps a device's soft block size
 * only while something holds the device open; when the last opener
 * closes, the next open starts from the default again.  The call sets it
 * (and so checks the value) but, as with blockdev --setbsz, a later
 * blockdev_getbsz usually shows the default.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guestd.h"

/* ioctl (device, req, arg), opened with flags; -1 after replying. */
static int
blk_ioctl (const char *device, int flags, unsigned long req, void *arg,
           const char *reqname)
{
  int fd = open (device, flags | O_CLOEXEC), r;

  if (fd == -1) {
    reply_with_perror ("%s", device);
    return -1;
  }
  r = ioctl (fd, req, arg);
  if (r == -1)
    reply_with_perror ("%s: %s", device, reqname);
  close (fd);
  return r == -1 ? -1 : 0;
}

static int
set_ro (const char *device, int ro)
{
  return blk_ioctl (device, O_RDONLY, BLKROSET, &ro, "BLKROSET");
}

int
do_blockdev_setro (const char *device)
{
  return set_ro (device, 1);
}

int
do_blockdev_setrw (const char *device)
{
  return set_ro (device, 0);
}

int
do_blockdev_getro (const char *device)
{
  int ro = 0;

  if (blk_ioctl (device, O_RDONLY, BLKROGET, &ro, "BLKROGET") == -1)
    return -1;
  return ro != 0;
}

int
do_blockdev_getss (const char *device)
{
  int ss = 0;

  if (blk_ioctl (device, O_RDONLY, BLKSSZGET, &ss, "BLKSSZGET") == -1)
    return -1;
  return ss;
}

int
do_blockdev_getbsz (const char *device)
{
  int bsz = 0;

  if (blk_ioctl (device, O_RDONLY, BLKBSZGET, &bsz, "BLKBSZGET") == -1)
    return -1;
  return bsz;
}

int
do_blockdev_setbsz (const char *device, int blocksize)
{
  if (blocksize < 512 || blocksize > 65536 ||
      (blocksize & (blocksize - 1)) != 0) {
    reply_with_error ("blocksize %d: must be a power of two from 512 to "
                      "the page size", blocksize);
    return -1;
  }
  return blk_ioctl (device, O_RDONLY, BLKBSZSET, &blocksize, "BLKBSZSET");
}

int64_t
do_blockdev_getsz (const char *device)
{
  uint64_t size;

  if (blk_ioctl (device, O_RDONLY, BLKGETSIZE64, &size, "BLKGETSIZE64") == -1)
    return -1;
  return (int64_t) (size / 512);
}

int
do_blockdev_flushbufs (const char *device)
{
  return blk_ioctl (device, O_RDONLY, BLKFLSBUF, NULL, "BLKFLSBUF");
}

/* Then wait for devtmpfs to catch up, as after parted. */
int
do_blockdev_rereadpt (const char *device)
{
  if (blk_ioctl (device, O_RDONLY, BLKRRPART, NULL, "BLKRRPART") == -1)
    return -1;
  gd_wait_partitions (device);
  return 0;
}
