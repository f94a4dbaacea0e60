/* guestd scrub: overwrite a device, a guest file or a filesystem's free
 * space with scrub(1)'s patterns (the scrub group).
 *
 * Guest paths never reach scrub as names it could resolve itself: a file
 * is opened inside the sysroot without following a final symlink and
 * scrubbed as /proc/self/fd/N, then unlinked through its parent; the
 * free-space directory is made by scrub relative to its parent, which
 * scrub runs in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

int
do_scrub_device (const char *device)
{
  const char *argv[] = { "scrub", device, NULL };

  if (gd_check_group () == -1)
    return -1;
  return gd_run_or_reply (NULL, -1, argv);
}

int
do_scrub_file (const char *file)
{
  const char *argv[] = { "scrub", NULL, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  int dirfd, fd = -1, keep[2] = { -1, -1 }, r = -1;
  char proc[64], *base;
  struct stat st;

  if (gd_check_group () == -1)
    return -1;
  if ((dirfd = gd_open_parent (file, &base)) == -1) {
    reply_with_perror ("%s", file);
    return -1;
  }
  fd = openat (dirfd, base, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1)
    reply_with_perror ("%s", file);
  else if (!S_ISREG (st.st_mode))
    reply_with_error ("%s: not a regular file", file);
  else {
    gd_fd_path (proc, sizeof proc, fd);
    argv[1] = proc;
    keep[0] = fd;
    c.keep_fds = keep;
    if ((r = gd_cmd_run_or_reply (&c, NULL, NULL)) == 0 &&
        (r = unlinkat (dirfd, base, 0)) == -1)
      reply_with_perror ("%s: remove after scrubbing", file);
  }
  if (fd >= 0)
    close (fd);
  close (dirfd);
  free (base);
  return r;
}

/* scrub -X DIR makes DIR (which must not exist), fills it with files until
 * the filesystem is full, scrubs them and removes them and DIR. */
int
do_scrub_freespace (const char *dir)
{
  const char *argv[] = { "scrub", "-X", NULL, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  char *base;
  int dirfd, r;

  if (gd_check_group () == -1)
    return -1;
  if ((dirfd = gd_open_parent (dir, &base)) == -1) {
    reply_with_perror ("%s", dir);
    return -1;
  }
  if (strcmp (base, ".") == 0) {
    reply_with_error ("dir %s: must name a new directory", dir);
    r = -1;
  } else {
    argv[2] = base;
    c.cwd_fd = dirfd;
    r = gd_cmd_run_or_reply (&c, NULL, NULL);
  }
  close (dirfd);
  free (base);
  return r;
}
