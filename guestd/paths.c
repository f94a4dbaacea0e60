/* guestd guest paths: every Pathname is resolved inside the sysroot and
 * can never leave it, whatever symlinks or ".." the guest filesystem holds.
 *
 * All resolution goes through openat2(2) with RESOLVE_IN_ROOT on an O_PATH
 * fd of the sysroot: the kernel then treats the sysroot as "/" for the
 * whole walk, absolute symlinks included, and refuses magic links.  A
 * handler either opens the path itself (gd_open_in_root / gd_open_regular,
 * following a final symlink) or opens its parent directory and works on
 * the last component with an *at() call (gd_open_parent, not following).
 * Functions here return -1 with errno set; handlers report with
 * reply_with_perror.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guestd.h"

const char *gd_sysroot = "/sysroot";
int gd_sysroot_assume_mounted;

/* 1 if path is the root of a mount, 0 if not, -1 on error. */
int
gd_is_mount_root (const char *path)
{
  struct statx sx;

  if (statx (AT_FDCWD, path, 0, 0, &sx) == -1)
    return -1;
  if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
    return -1;
  return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

int
gd_sysroot_mounted (void)
{
  return gd_sysroot_assume_mounted || gd_is_mount_root (gd_sysroot) == 1;
}

void
gd_fd_path (char *buf, size_t size, int fd)
{
  snprintf (buf, size, "/proc/self/fd/%d", fd);
}

static int
openat2_in (int dirfd, const char *rel, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (uint64_t) flags | O_CLOEXEC,
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  long r;

  do
    r = syscall (SYS_openat2, dirfd, rel, &how, sizeof how);
  while (r == -1 && errno == EAGAIN);
  return (int) r;
}

/* Open an absolute guest path (final symlink followed unless O_NOFOLLOW).
 * Returns an fd (close-on-exec) or -1 with errno. */
int
gd_open_in_root (const char *path, int flags, mode_t mode)
{
  int root, fd, saved;

  root = open (gd_sysroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root == -1)
    return -1;
  while (*path == '/')
    path++;
  fd = openat2_in (root, *path ? path : ".", flags, mode);
  saved = errno;
  close (root);
  errno = saved;
  return fd;
}

/* Split path into parent and last component; open the parent (O_PATH).
 * *base_r is the last component, malloc'd ("." when the path names a
 * directory through "/", "." or ".."), caller frees. */
int
gd_open_parent (const char *path, char **base_r)
{
  char *copy = strdup (path), *slash, *base;
  size_t n;
  int fd;

  *base_r = NULL;
  if (copy == NULL)
    return -1;
  n = strlen (copy);
  while (n > 1 && copy[n-1] == '/')
    copy[--n] = '\0';
  slash = strrchr (copy, '/');
  base = slash ? slash + 1 : copy;
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0) {
    fd = gd_open_in_root (copy, O_PATH | O_DIRECTORY, 0);
    base = ".";
  } else {
    if (slash)
      *slash = '\0';
    fd = gd_open_in_root (slash ? copy : "/", O_PATH | O_DIRECTORY, 0);
  }
  if (fd >= 0 && (*base_r = strdup (base)) == NULL) {
    close (fd);
    fd = -1;
  }
  free (copy);
  return fd;
}

int
gd_parent_or_reply (const char *path, char **base_r)
{
  int fd = gd_open_parent (path, base_r);

  if (fd == -1)
    reply_with_perror ("%s", path);
  return fd;
}

/* Open a regular file for reading or writing (following symlinks), without
 * ever opening a FIFO or a device node. */
int
gd_open_regular (const char *path, int flags)
{
  char proc[64];
  struct stat st;
  int pfd, fd;

  pfd = gd_open_in_root (path, O_PATH, 0);
  if (pfd == -1)
    return -1;
  if (fstat (pfd, &st) == -1) {
    close (pfd);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    close (pfd);
    errno = S_ISDIR (st.st_mode) ? EISDIR : EINVAL;
    return -1;
  }
  gd_fd_path (proc, sizeof proc, pfd);
  fd = open (proc, flags | O_CLOEXEC | O_NOCTTY);
  close (pfd);
  return fd;
}

/* A regular file opened for reading, of at most max bytes (its size in
 * *size_r); replies and returns -1 on failure. */
int
gd_open_regular_max (const char *path, int64_t max, size_t *size_r)
{
  struct stat st;
  int fd = gd_open_regular (path, O_RDONLY);

  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  if (fstat (fd, &st) == -1 || st.st_size > max) {
    reply_with_error ("%s: larger than %lld bytes", path, (long long) max);
    close (fd);
    return -1;
  }
  *size_r = (size_t) st.st_size;
  return fd;
}

/* Open a regular file for writing, creating it (mode 0644) if missing.
 * A dangling symlink is not followed to create its target (EEXIST). */
int
gd_open_for_write (const char *path, int trunc)
{
  char *base;
  int dirfd, fd, saved;

  fd = gd_open_regular (path, O_WRONLY | (trunc ? O_TRUNC : 0));
  if (fd >= 0 || errno != ENOENT)
    return fd;
  dirfd = gd_open_parent (path, &base);
  if (dirfd == -1)
    return -1;
  fd = openat (dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
               O_CLOEXEC | O_NOCTTY, 0644);
  saved = errno;
  close (dirfd);
  free (base);
  errno = saved;
  return fd;
}

int
gd_check_path (char **path, const char *argname)
{
  const char *p = *path;

  if (p == NULL || *p == '\0') {
    reply_with_error ("%s: path must not be empty", argname);
    return -1;
  }
  if (*p != '/') {
    reply_with_error ("%s %s: path must be absolute", argname, p);
    return -1;
  }
  if (strlen (p) >= PATH_MAX) {
    reply_with_error ("%s: path is longer than %d bytes", argname, PATH_MAX);
    return -1;
  }
  if (!gd_sysroot_mounted ()) {
    reply_with_error ("%s %s: no guest filesystem is mounted on /",
                      argname, p);
    return -1;
  }
  return 0;
}

int
gd_check_dev_or_path (char **p, const char *argname)
{
  if (*p && strncmp (*p, "/dev/", 5) == 0)
    return gd_check_device (p, argname);
  return gd_check_path (p, argname);
}
