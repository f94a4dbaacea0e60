/* hello-init: a throwaway /init for timing and checking the appliance.
 *
 * Runs as PID 1 after supermin's mini initrd has chrooted into the root
 * disk, doing the few things guestd must do first: mount /proc, /sys and
 * a devtmpfs on /dev, find the virtio-serial port named
 * org.guestkit.channel.0, send the 4-byte launch word 0xf5f55ff5 (big
 * endian), then report to the port, as text, every /dev/sd* and /dev/vd*
 * with its size, the uptime, and the modules loaded.  Then it waits
 * forever (PID 1 must not exit).
 *
 * Build:  gcc -O2 -Wall -Wextra -o hello-init hello-init.c
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define CHANNEL_NAME "org.guestkit.channel.0"
#define LAUNCH_FLAG  0xf5f55ff5u

static void
mount_fs (const char *src, const char *dir, const char *type)
{
  mkdir (dir, 0755);
  if (mount (src, dir, type, 0, NULL) == -1 && errno != EBUSY)
    fprintf (stderr, "hello-init: mount %s on %s: %m\n", type, dir);
}

/* Read the first line of FILE into BUF, newline stripped; -1 on error. */
static int
read_line (const char *file, char *buf, size_t len)
{
  FILE *fp = fopen (file, "r");
  if (!fp)
    return -1;
  if (!fgets (buf, len, fp)) {
    fclose (fp);
    return -1;
  }
  fclose (fp);
  buf[strcspn (buf, "\n")] = '\0';
  return 0;
}

/* Find /sys/class/virtio-ports/vportNpM whose name is CHANNEL_NAME and
 * open /dev/vportNpM.  Polls briefly in case the port is still coming up.
 */
static int
open_channel (void)
{
  for (int tries = 0; tries < 500; tries++) {
    DIR *dir = opendir ("/sys/class/virtio-ports");
    struct dirent *d;
    while (dir && (d = readdir (dir)) != NULL) {
      char path[512], name[256];
      if (d->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/class/virtio-ports/%s/name",
                d->d_name);
      if (read_line (path, name, sizeof name) == 0 &&
          strcmp (name, CHANNEL_NAME) == 0) {
        snprintf (path, sizeof path, "/dev/%s", d->d_name);
        closedir (dir);
        int fd = open (path, O_RDWR | O_CLOEXEC);
        if (fd == -1)
          fprintf (stderr, "hello-init: open %s: %m\n", path);
        return fd;
      }
    }
    if (dir)
      closedir (dir);
    usleep (10000);
  }
  fprintf (stderr, "hello-init: no virtio port named %s\n", CHANNEL_NAME);
  return -1;
}

static void
list_disks (FILE *out)
{
  DIR *dir = opendir ("/dev");
  struct dirent *d;
  while (dir && (d = readdir (dir)) != NULL) {
    if (strncmp (d->d_name, "sd", 2) != 0 && strncmp (d->d_name, "vd", 2) != 0)
      continue;
    char path[300];
    uint64_t size = 0;
    snprintf (path, sizeof path, "/dev/%s", d->d_name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || ioctl (fd, BLKGETSIZE64, &size) == -1)
      fprintf (out, "%s: error: %m\n", path);
    else
      fprintf (out, "%s %llu\n", path, (unsigned long long) size);
    if (fd >= 0)
      close (fd);
  }
  if (dir)
    closedir (dir);
}

static void
copy_file (FILE *out, const char *label, const char *file)
{
  char buf[4096];
  size_t n;
  FILE *fp = fopen (file, "r");
  fprintf (out, "--- %s\n", label);
  if (!fp)
    return;
  while ((n = fread (buf, 1, sizeof buf, fp)) > 0)
    fwrite (buf, 1, n, out);
  fclose (fp);
}

int
main (void)
{
  mount_fs ("proc", "/proc", "proc");
  mount_fs ("sysfs", "/sys", "sysfs");
  mount_fs ("devtmpfs", "/dev", "devtmpfs");

  int fd = open_channel ();
  if (fd == -1)
    goto wait;

  unsigned char flag[4] = {
    (LAUNCH_FLAG >> 24) & 0xff, (LAUNCH_FLAG >> 16) & 0xff,
    (LAUNCH_FLAG >> 8) & 0xff, LAUNCH_FLAG & 0xff
  };
  if (write (fd, flag, 4) != 4)
    fprintf (stderr, "hello-init: write launch flag: %m\n");

  FILE *out = fdopen (fd, "w");
  if (out) {
    fprintf (out, "\n--- disks\n");
    list_disks (out);
    copy_file (out, "uptime", "/proc/uptime");
    copy_file (out, "modules", "/proc/modules");
    copy_file (out, "cmdline", "/proc/cmdline");
    fprintf (out, "--- end\n");
    fflush (out);
  }

 wait:
  for (;;)
    pause ();
}
