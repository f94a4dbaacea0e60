/* guestd file calls: create, remove, read, list and inspect files in the
 * guest filesystem mounted on the sysroot.
 *
 * Every path goes through paths.c, so no guest symlink or ".." can lead
 * outside the guest.  Calls that follow a final symlink open the path
 * (gd_open_in_root); calls that act on the last component itself (rm,
 * mkdir, ln_s, lstat, readlink) open its parent and use an *at() call.
 * Whole-file reads are capped by the protocol's message size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

/* Room for a reply header and the length word around a whole file. */
#define FILE_READ_MAX (GK_MESSAGE_MAX - 64)

/* Read a whole regular file, at most FILE_READ_MAX bytes; NULL after
 * replying.  The buffer is NUL-terminated (the NUL is not in *len_r). */
static char *
read_whole (const char *path, size_t *len_r)
{
  size_t len = 0, cap = 65536;
  char *buf = NULL, *nb;
  int fd = gd_open_regular (path, O_RDONLY);
  ssize_t r;

  if (fd == -1)
    goto perror;
  for (;;) {
    if (len + 1 >= cap || buf == NULL) {
      cap = buf ? cap * 2 : cap;
      if ((nb = realloc (buf, cap)) == NULL)
        goto perror;
      buf = nb;
    }
    do
      r = read (fd, buf + len, cap - len - 1);
    while (r == -1 && errno == EINTR);
    if (r == -1)
      goto perror;
    if (r == 0)
      break;
    len += (size_t) r;
    if (len > FILE_READ_MAX) {
      reply_with_error ("%s: file is larger than the protocol allows (%d "
                        "bytes); use download", path, FILE_READ_MAX);
      goto fail;
    }
  }
  close (fd);
  buf[len] = '\0';
  *len_r = len;
  return buf;

 perror:
  reply_with_perror ("%s", path);
 fail:
  if (fd >= 0)
    close (fd);
  free (buf);
  return NULL;
}

int
do_touch (const char *path)
{
  int fd = gd_open_for_write (path, 0);

  if (fd == -1 || futimens (fd, NULL) == -1) {
    reply_with_perror ("%s", path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

/* mkdirat / unlinkat on the last component.  op: 'm' mkdir, 'f' unlink a
 * file, 'd' remove a directory. */
static int
at_op (const char *path, char op)
{
  char *base;
  int dirfd = gd_parent_or_reply (path, &base), r;

  if (dirfd == -1)
    return -1;
  if (op == 'm')
    r = mkdirat (dirfd, base, 0777);
  else
    r = unlinkat (dirfd, base, op == 'd' ? AT_REMOVEDIR : 0);
  if (r == -1)
    reply_with_perror ("%s", path);
  close (dirfd);
  free (base);
  return r;
}

int do_mkdir (const char *path) { return at_op (path, 'm'); }
int do_rm (const char *path) { return at_op (path, 'f'); }
int do_rmdir (const char *path) { return at_op (path, 'd'); }

int
do_mkdir_p (const char *path)
{
  char *copy = strdup (path), *base;
  int fd;

  if (copy == NULL) {
    reply_with_perror ("%s", path);
    return -1;
  }
  for (char *p = copy + 1; ; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    fd = gd_open_parent (copy, &base);
    if (fd >= 0 && mkdirat (fd, base, 0777) == -1 && errno != EEXIST) {
      reply_with_perror ("%s", copy);
      close (fd);
      free (base);
      free (copy);
      return -1;
    }
    if (fd >= 0)
      close (fd);
    free (base);
    *p = saved;
    if (saved == '\0')
      break;
  }
  free (copy);
  fd = gd_open_in_root (path, O_PATH | O_DIRECTORY, 0);
  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  close (fd);
  return 0;
}

int
do_rm_rf (const char *path)
{
  char *base;
  int dirfd = gd_parent_or_reply (path, &base), r;

  if (dirfd == -1)
    return -1;
  {
    const char *argv[] = { "rm", "-rf", "--", base, NULL };
    r = gd_run_or_reply (NULL, dirfd, argv);
  }
  close (dirfd);
  free (base);
  return r;
}

int
do_write_file (const char *path, const char *content, int size)
{
  size_t len = strlen (content), done = 0;
  int fd;

  if (size < 0 || (size_t) size > len) {
    reply_with_error ("size %d: must be 0 (whole string) or at most the "
                      "content's length %zu", size, len);
    return -1;
  }
  if (size > 0)
    len = (size_t) size;
  if ((fd = gd_open_for_write (path, 1)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  while (done < len) {
    ssize_t r = write (fd, content + done, len - done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      reply_with_perror ("%s", path);
      close (fd);
      return -1;
    }
    done += (size_t) r;
  }
  if (close (fd) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  return 0;
}

char *
do_cat (const char *path)
{
  size_t len;
  char *buf = read_whole (path, &len);

  if (buf && memchr (buf, '\0', len)) {
    reply_with_error ("%s: file contains NUL bytes; use read_file", path);
    free (buf);
    return NULL;
  }
  return buf;
}

char *
do_read_file (const char *path, size_t *size_r)
{
  return read_whole (path, size_r);
}

char **
do_read_lines (const char *path)
{
  size_t len;
  char *buf = read_whole (path, &len), **r;

  if (buf == NULL)
    return NULL;
  if ((r = gd_split_lines (buf, len)) == NULL)
    reply_with_perror ("%s", path);
  free (buf);
  return r;
}

char **
do_ls (const char *directory)
{
  struct gd_strlist l = { 0 };
  int fd = gd_open_in_root (directory, O_RDONLY | O_DIRECTORY, 0);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  size_t total = 0;

  if (d == NULL) {
    reply_with_perror ("%s", directory);
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  while ((e = readdir (d)) != NULL) {
    if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
      continue;
    total += strlen (e->d_name) + 8;          /* its XDR encoding, at most */
    if (total > GK_MESSAGE_MAX) {
      reply_with_error ("%s: too many entries to list within the protocol's "
                        "message size", directory);
      closedir (d);
      gd_strlist_free (&l);
      return NULL;
    }
    if (gd_strlist_add (&l, e->d_name) == -1) {
      reply_with_perror ("%s", directory);
      closedir (d);
      gd_strlist_free (&l);
      return NULL;
    }
  }
  closedir (d);
  gd_sort_strings (l.v, l.n);
  return gd_strlist_end (&l);
}

char *
do_ll (const char *directory)
{
  const char *argv[] = { "ls", "-la", "--", ".", NULL };
  int fd = gd_open_in_root (directory, O_PATH | O_DIRECTORY, 0);
  char *out = NULL;

  if (fd == -1) {
    reply_with_perror ("%s", directory);
    return NULL;
  }
  gd_run_or_reply (&out, fd, argv);
  close (fd);
  return out;
}

/* Shared by exists / is_file / is_dir: 1, 0 (missing), or -1 (replied). */
static int
stat_follow (const char *path, struct stat *st)
{
  int fd = gd_open_in_root (path, O_PATH, 0), r;

  if (fd == -1) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return 0;
    reply_with_perror ("%s", path);
    return -1;
  }
  r = fstat (fd, st);
  close (fd);
  if (r == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  return 1;
}

int
do_exists (const char *path)
{
  struct stat st;

  return stat_follow (path, &st);
}

int
do_is_file (const char *path)
{
  struct stat st;
  int r = stat_follow (path, &st);

  return r == 1 ? S_ISREG (st.st_mode) : r;
}

int
do_is_dir (const char *path)
{
  struct stat st;
  int r = stat_follow (path, &st);

  return r == 1 ? S_ISDIR (st.st_mode) : r;
}

int
do_ln_s (const char *target, const char *linkname)
{
  char *base;
  int dirfd = gd_parent_or_reply (linkname, &base), r;

  if (dirfd == -1)
    return -1;
  r = symlinkat (target, dirfd, base);
  if (r == -1)
    reply_with_perror ("%s", linkname);
  close (dirfd);
  free (base);
  return r;
}

char *
do_readlink (const char *path)
{
  char *base, buf[PATH_MAX + 1];
  int dirfd = gd_parent_or_reply (path, &base);
  ssize_t n;

  if (dirfd == -1)
    return NULL;
  n = readlinkat (dirfd, base, buf, sizeof buf - 1);
  if (n == -1)
    reply_with_perror ("%s", path);
  close (dirfd);
  free (base);
  if (n == -1)
    return NULL;
  buf[n] = '\0';
  return strdup (buf);
}

void
gd_fill_stat (struct guestfs_stat *r, const struct stat *st)
{
  GD_FILL_STAT (r, st);
}

static struct guestfs_stat *
stat_struct (const struct stat *st)
{
  struct guestfs_stat *r = calloc (1, sizeof *r);

  if (r != NULL)
    gd_fill_stat (r, st);
  return r;
}

struct guestfs_stat *
do_stat (const char *path)
{
  struct stat st;
  struct guestfs_stat *r;
  int fd = gd_open_in_root (path, O_PATH, 0);

  if (fd == -1 || fstat (fd, &st) == -1) {
    reply_with_perror ("%s", path);
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  close (fd);
  if ((r = stat_struct (&st)) == NULL)
    reply_with_perror ("%s", path);
  return r;
}

struct guestfs_stat *
do_lstat (const char *path)
{
  struct stat st;
  struct guestfs_stat *r = NULL;
  char *base;
  int dirfd = gd_parent_or_reply (path, &base);

  if (dirfd == -1)
    return NULL;
  if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
      (r = stat_struct (&st)) == NULL)
    reply_with_perror ("%s", path);
  close (dirfd);
  free (base);
  return r;
}

int
do_chmod (int mode, const char *path)
{
  char proc[64];
  int fd, r;

  if (mode < 0 || mode > 07777) {
    reply_with_error ("mode %d: not a permission mode (0 to 07777)", mode);
    return -1;
  }
  if ((fd = gd_open_in_root (path, O_PATH, 0)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  gd_fd_path (proc, sizeof proc, fd);
  r = chmod (proc, (mode_t) mode);
  if (r == -1)
    reply_with_perror ("%s", path);
  close (fd);
  return r;
}

int
do_chown (int owner, int group, const char *path)
{
  int fd = gd_open_in_root (path, O_PATH, 0), r;

  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  r = fchownat (fd, "", (uid_t) owner, (gid_t) group, AT_EMPTY_PATH);
  if (r == -1)
    reply_with_perror ("%s", path);
  close (fd);
  return r;
}

/* ---- lstat_sha256_list: the changes record's file states ----
 *
 * For each path: its lstat and, for a regular file, the SHA-256 of its
 * content, computed here (sha256.c: no sha256sum to start per file).  One line a
 * path, "MODE UID GID SIZE SUM" (decimal; SUM 64 hex digits, or "-"
 * for anything but a regular file, or one that cannot be read), or ""
 * when the path does not exist (or its parent cannot be reached). */

#define STATES_MAX 4096         /* paths per call */

/* The SHA-256 of the regular file base in dirfd, the one lstat saw (st);
 * 0, or -1 if it cannot be read. */
static int
hash_file (int dirfd, const char *base, const struct stat *st, char *hex)
{
  struct stat now;
  int r, fd = openat (dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

  if (fd == -1)
    return -1;
  if (fstat (fd, &now) == -1 || !S_ISREG (now.st_mode) || now.st_ino != st->st_ino ||
      now.st_dev != st->st_dev) {
    close (fd);
    return -1;
  }
  r = gd_sha256_fd (fd, hex);
  close (fd);
  return r;
}

/* One path's line, caller frees; NULL when out of memory. */
static char *
file_state (const char *path)
{
  char hex[65] = "-", *base = NULL, *line = NULL;
  struct stat st;
  int dirfd = path[0] == '/' ? gd_open_parent (path, &base) : -1;

  if (dirfd == -1 || fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
    line = strdup ("");
  else {
    if (S_ISREG (st.st_mode) && hash_file (dirfd, base, &st, hex) == -1)
      strcpy (hex, "-");
    if (gd_mkstr (&line, "%u %u %u %lld %s", (unsigned) st.st_mode, (unsigned) st.st_uid,
                  (unsigned) st.st_gid, (long long) st.st_size, hex) == -1)
      line = NULL;
  }
  if (dirfd >= 0)
    close (dirfd);
  free (base);
  return line;
}

char **
do_lstat_sha256_list (char *const *paths)
{
  struct gd_strlist l = { 0 };
  size_t n = 0;

  while (paths[n])
    n++;
  if (n > STATES_MAX) {
    reply_with_error ("paths: %zu paths, at most %d in one call", n, STATES_MAX);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (paths[i][0] != '/') {
      reply_with_error ("paths: %s: must be an absolute path", paths[i]);
      return NULL;
    }
  if (!gd_sysroot_mounted ()) {
    reply_with_error ("paths: no filesystem is mounted on /");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    char *line = file_state (paths[i]);
    if (line == NULL || gd_strlist_take (&l, line) == -1) {
      free (line);
      gd_strlist_free (&l);
      reply_with_perror ("lstat_sha256_list");
      return NULL;
    }
  }
  return gd_strlist_end (&l);
}
