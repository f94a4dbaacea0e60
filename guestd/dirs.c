/* guestd file and directory calls beyond the basics of files.c: copy,
 * move, links, special files, times, sizes, temporary directories,
 * directory listings with types, the batched FUSE helpers (lstatlist,
 * readlinklist), globbing, realpath, case_sensitive_path, statvfs, dd.
 *
 * As in files.c, every path is resolved inside the sysroot by paths.c:
 * calls on a last component open its parent and use an *at() call; names
 * given relative to a directory (the *list calls) must be single
 * components.  cp -a and mv, which need coreutils for trees and cross-
 * filesystem moves, are handed /proc/self/fd paths of directories opened
 * here and run in command.c's sandbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guestd.h"

static char iobuf[1024 * 1024];

/* A name relative to a directory: one component, not "..". */
static int
check_name (const char *name, const char *argname)
{
  if (*name == '\0' || strchr (name, '/') || strcmp (name, "..") == 0) {
    reply_with_error ("%s '%s': must be a single file name", argname, name);
    return -1;
  }
  return 0;
}

static int
check_mode (int mode, int typebits)
{
  int allowed = 07777 | (typebits ? S_IFMT : 0);

  if (mode < 0 || (mode & ~allowed)) {
    reply_with_error ("mode %s%#o: not %s", mode < 0 ? "-" : "",
                      mode < 0 ? 0u - (unsigned) mode : (unsigned) mode, typebits ?
                      "a file type and permission mode" :
                      "a permission mode (0 to 07777)");
    return -1;
  }
  return 0;
}

/* Run fn (dirfd, base, arg) on path's last component; reply on error. */
static int
on_last (const char *path, int (*fn) (int, const char *, void *), void *arg)
{
  char *base;
  int dirfd = gd_parent_or_reply (path, &base), r;

  if (dirfd == -1)
    return -1;
  r = fn (dirfd, base, arg);
  if (r == -1)
    reply_with_perror ("%s", path);
  close (dirfd);
  free (base);
  return r;
}

/* ---- copying data ---- */

static int
copy_fd (int in, int out)
{
  for (;;) {
    ssize_t n = read (in, iobuf, sizeof iobuf), w;
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      return (int) n;
    for (char *p = iobuf; n > 0; p += w, n -= w)
      if ((w = write (out, p, (size_t) n)) == -1) {
        if (errno != EINTR)
          return -1;
        w = 0;
      }
  }
}

/* cp SRC DEST for one file: DEST may be an existing directory, to copy
 * into under SRC's name. */
int
do_cp (const char *src, const char *dest)
{
  int in = gd_open_regular (src, O_RDONLY), out, dirfd, r = -1;
  char *into = NULL;

  if (in == -1) {
    reply_with_perror ("%s", src);
    return -1;
  }
  dirfd = gd_open_in_root (dest, O_PATH | O_DIRECTORY, 0);
  if (dirfd >= 0) {
    close (dirfd);
    if (gd_mkstr (&into, "%s/%s", dest, strrchr (src, '/') + 1) == -1) {
      reply_with_perror ("malloc");
      close (in);
      return -1;
    }
    dest = into;
  }
  if ((out = gd_open_for_write (dest, 1)) == -1)
    reply_with_perror ("%s", dest);
  else if (copy_fd (in, out) == -1) {
    reply_with_perror ("%s to %s", src, dest);
    close (out);
  } else if (close (out) == -1)
    reply_with_perror ("%s", dest);
  else
    r = 0;
  close (in);
  free (into);
  return r;
}

/* cp -a and mv: the tool gets /proc/self/fd paths, so it resolves
 * nothing of the guest itself.  SRC is its parent + last component (not
 * followed); DEST is itself when it is a directory (copy / move into),
 * else its parent + last component. */
static int
tree_op (const char *prog, const char *opt, const char *src, const char *dest)
{
  char *sbase = NULL, *dbase = NULL, spath[PATH_MAX], dpath[PATH_MAX];
  const char *argv[] = { prog, opt, "--", spath, dpath, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  struct stat st;
  int keep[3] = { -1, -1, -1 }, r = -1;

  if ((keep[0] = gd_parent_or_reply (src, &sbase)) == -1)
    return -1;
  if (fstatat (keep[0], sbase, &st, AT_SYMLINK_NOFOLLOW) == -1) {
    reply_with_perror ("%s", src);
    goto out;
  }
  keep[1] = gd_open_in_root (dest, O_PATH | O_DIRECTORY, 0);
  if (keep[1] == -1 && (keep[1] = gd_parent_or_reply (dest, &dbase)) == -1)
    goto out;
  snprintf (spath, sizeof spath, "/proc/self/fd/%d/%s", keep[0], sbase);
  snprintf (dpath, sizeof dpath, "/proc/self/fd/%d%s%s", keep[1],
            dbase ? "/" : "", dbase ? dbase : "");
  c.root = GD_ROOT_SANDBOX;
  c.keep_fds = keep;
  r = gd_cmd_run_or_reply (&c, NULL, NULL);
 out:
  for (int i = 0; i < 2; i++)
    if (keep[i] >= 0)
      close (keep[i]);
  free (sbase);
  free (dbase);
  return r;
}

int do_cp_a (const char *src, const char *dest) { return tree_op ("cp", "-a", src, dest); }
int do_mv (const char *src, const char *dest) { return tree_op ("mv", "-f", src, dest); }

/* dd: a device or file copied to a device or file. */
static int
open_dev_or_path (const char *p, int out)
{
  if (strncmp (p, "/dev/", 5) == 0)
    return open (p, (out ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
  return out ? gd_open_for_write (p, 1) : gd_open_regular (p, O_RDONLY);
}

int
do_dd (const char *src, const char *dest)
{
  int in = open_dev_or_path (src, 0), out, r;

  if (in == -1) {
    reply_with_perror ("%s", src);
    return -1;
  }
  if ((out = open_dev_or_path (dest, 1)) == -1) {
    reply_with_perror ("%s", dest);
    close (in);
    return -1;
  }
  r = copy_fd (in, out);
  if (r == 0 && fsync (out) == -1 && errno != EINVAL)
    r = -1;
  if (close (out) == -1)
    r = -1;
  if (r == -1)
    reply_with_perror ("%s to %s", src, dest);
  close (in);
  return r;
}

/* ---- sizes and contents ---- */

int
do_truncate_size (const char *path, int64_t size)
{
  int fd, r;

  if (size < 0) {
    reply_with_error ("size %" PRId64 ": must not be negative", size);
    return -1;
  }
  if ((fd = gd_open_regular (path, O_WRONLY)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  r = ftruncate (fd, (off_t) size);
  if (r == -1)
    reply_with_perror ("%s", path);
  close (fd);
  return r;
}

int
do_truncate (const char *path)
{
  return do_truncate_size (path, 0);
}

int
do_fallocate (const char *path, int len)
{
  int fd, e;

  if (len < 0) {
    reply_with_error ("len %d: must not be negative", len);
    return -1;
  }
  if ((fd = gd_open_for_write (path, 1)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  e = len > 0 ? posix_fallocate (fd, 0, len) : 0;
  if (close (fd) == -1 && e == 0)
    e = errno;
  if (e) {
    errno = e;
    reply_with_perror ("%s", path);
    return -1;
  }
  return 0;
}

int
do_fill (int c, int len, const char *path)
{
  size_t left = (size_t) len;
  int fd;

  if (c < 0 || c > 255) {
    reply_with_error ("c %d: must be a byte value (0 to 255)", c);
    return -1;
  }
  if (len < 0) {
    reply_with_error ("len %d: must not be negative", len);
    return -1;
  }
  if ((fd = gd_open_for_write (path, 1)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  memset (iobuf, c, sizeof iobuf);
  while (left > 0) {
    ssize_t w = write (fd, iobuf, left < sizeof iobuf ? left : sizeof iobuf);
    if (w == -1 && errno == EINTR)
      continue;
    if (w == -1)
      break;
    left -= (size_t) w;
  }
  if (left > 0 || close (fd) == -1) {
    reply_with_perror ("%s", path);
    if (left > 0)
      close (fd);
    return -1;
  }
  return 0;
}

/* ---- directories, modes, owners, times ---- */

static int
mkdir_at (int dirfd, const char *base, void *mode)
{
  return mkdirat (dirfd, base, (mode_t) *(int *) mode);
}

int
do_mkdir_mode (const char *path, int mode)
{
  if (check_mode (mode, 0) == -1)
    return -1;
  return on_last (path, mkdir_at, &mode);
}

static int
lchown_at (int dirfd, const char *base, void *ids)
{
  const int *id = ids;

  return fchownat (dirfd, base, (uid_t) id[0], (gid_t) id[1],
                   AT_SYMLINK_NOFOLLOW);
}

int
do_lchown (int owner, int group, const char *path)
{
  int ids[2] = { owner, group };

  return on_last (path, lchown_at, ids);
}

static int
utimens_at (int dirfd, const char *base, void *ts)
{
  return utimensat (dirfd, base, ts, AT_SYMLINK_NOFOLLOW);
}

/* nsecs -1: now, -2: leave as is (the old API's special values). */
static int
timespec_of (struct timespec *t, int64_t secs, int64_t nsecs, const char *arg)
{
  t->tv_sec = (time_t) secs;
  if (nsecs == -1)
    t->tv_nsec = UTIME_NOW;
  else if (nsecs == -2)
    t->tv_nsec = UTIME_OMIT;
  else if (nsecs >= 0 && nsecs <= 999999999)
    t->tv_nsec = (long) nsecs;
  else {
    reply_with_error ("%s %" PRId64 ": must be 0 to 999999999, -1 (now) or "
                      "-2 (unchanged)", arg, nsecs);
    return -1;
  }
  return 0;
}

int
do_utimens (const char *path, int64_t atsecs, int64_t atnsecs,
            int64_t mtsecs, int64_t mtnsecs)
{
  struct timespec ts[2];

  if (timespec_of (&ts[0], atsecs, atnsecs, "atnsecs") == -1 ||
      timespec_of (&ts[1], mtsecs, mtnsecs, "mtnsecs") == -1)
    return -1;
  return on_last (path, utimens_at, ts);
}

int
do_umask (int mask)
{
  if (mask < 0 || mask > 0777) {
    reply_with_error ("mask %#o: must be 0 to 0777", (unsigned) mask);
    return -1;
  }
  return (int) umask ((mode_t) mask);
}

/* TEMPLATE ends in XXXXXX: replace those with random letters until a
 * new directory (mode 0700) can be made. */
char *
do_mkdtemp (const char *template)
{
  static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t n = strlen (template);
  char *r, *base;
  int dirfd;

  if (n < 6 || strcmp (template + n - 6, "XXXXXX") != 0) {
    reply_with_error ("template %s: must end with XXXXXX", template);
    return NULL;
  }
  if ((r = strdup (template)) == NULL ||
      (dirfd = gd_parent_or_reply (template, &base)) == -1) {
    if (r == NULL)
      reply_with_perror ("malloc");
    free (r);
    return NULL;
  }
  for (int tries = 0; tries < 100; tries++) {
    unsigned char rnd[6];
    size_t bn = strlen (base);
    if (getrandom (rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
      break;
    for (int i = 0; i < 6; i++)
      r[n - 6 + i] = base[bn - 6 + i] = set[rnd[i] % (sizeof set - 1)];
    if (mkdirat (dirfd, base, 0700) == 0) {
      close (dirfd);
      free (base);
      return r;
    }
    if (errno != EEXIST)
      break;
  }
  reply_with_perror ("%s", template);
  close (dirfd);
  free (base);
  free (r);
  return NULL;
}

/* ---- listings ---- */

static char
ftyp_of (mode_t m)
{
  return S_ISREG (m) ? 'r' : S_ISDIR (m) ? 'd' : S_ISLNK (m) ? 'l' :
         S_ISBLK (m) ? 'b' : S_ISCHR (m) ? 'c' : S_ISFIFO (m) ? 'f' :
         S_ISSOCK (m) ? 's' : 'u';
}

static char
dtype_char (int dirfd, const struct dirent *e)
{
  struct stat st;

  switch (e->d_type) {
  case DT_REG: return 'r';
  case DT_DIR: return 'd';
  case DT_LNK: return 'l';
  case DT_BLK: return 'b';
  case DT_CHR: return 'c';
  case DT_FIFO: return 'f';
  case DT_SOCK: return 's';
  default:
    if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
      return '?';
    return ftyp_of (st.st_mode);
  }
}

static int
dirent_add (struct guestfs_dirent_list *l, size_t *cap, int dirfd,
            const struct dirent *e)
{
  struct guestfs_dirent *d;

  if (l->len == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = realloc (l->val, nc * sizeof *l->val);
    if (nv == NULL)
      return -1;
    l->val = nv;
    *cap = nc;
  }
  d = &l->val[l->len];
  if ((d->name = strdup (e->d_name)) == NULL)
    return -1;
  d->ino = (int64_t) e->d_ino;
  d->ftyp = dtype_char (dirfd, e);
  l->len++;
  return 0;
}

static void
free_dirents (struct guestfs_dirent_list *l)
{
  for (uint32_t i = 0; i < l->len; i++)
    free (l->val[i].name);
  free (l->val);
  free (l);
}

struct guestfs_dirent_list *
do_readdir (const char *dir)
{
  struct guestfs_dirent_list *l = calloc (1, sizeof *l);
  int fd = gd_open_in_root (dir, O_RDONLY | O_DIRECTORY, 0);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  size_t cap = 0, total = 0;
  struct dirent *e;

  if (d == NULL || l == NULL) {
    reply_with_perror ("%s", dir);
    if (fd >= 0)
      close (fd);
    free (l);
    return NULL;
  }
  errno = 0;
  while ((e = readdir (d)) != NULL) {
    total += strlen (e->d_name) + 24;       /* its XDR encoding, at most */
    if (total > GK_MESSAGE_MAX) {
      reply_with_error ("%s: too many entries to list within the protocol's "
                        "message size", dir);
      goto fail;
    }
    if (dirent_add (l, &cap, dirfd (d), e) == -1)
      break;
    errno = 0;
  }
  if (errno) {
    reply_with_perror ("%s", dir);
    goto fail;
  }
  closedir (d);
  return l;
 fail:
  closedir (d);
  free_dirents (l);
  return NULL;
}

static int
open_list_dir (const char *path, char *const *names)
{
  int fd;

  for (size_t i = 0; names[i]; i++)
    if (check_name (names[i], "names") == -1)
      return -1;
  fd = gd_open_in_root (path, O_PATH | O_DIRECTORY, 0);
  if (fd == -1)
    reply_with_perror ("%s", path);
  return fd;
}

struct guestfs_stat_list *
do_lstatlist (const char *path, char *const *names)
{
  struct guestfs_stat_list *l;
  size_t n = 0;
  int dirfd = open_list_dir (path, names);

  if (dirfd == -1)
    return NULL;
  while (names[n])
    n++;
  l = calloc (1, sizeof *l);
  if (l == NULL || (l->val = calloc (n ? n : 1, sizeof *l->val)) == NULL) {
    reply_with_perror ("malloc");
    free (l);
    close (dirfd);
    return NULL;
  }
  l->len = (uint32_t) n;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (fstatat (dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
      gd_fill_stat (&l->val[i], &st);
    else
      l->val[i].ino = -1;               /* this name could not be read */
  }
  close (dirfd);
  return l;
}

char **
do_readlinklist (const char *path, char *const *names)
{
  struct gd_strlist l = { 0 };
  char buf[PATH_MAX + 1];
  int dirfd = open_list_dir (path, names);

  if (dirfd == -1)
    return NULL;
  for (size_t i = 0; names[i]; i++) {
    ssize_t n = readlinkat (dirfd, names[i], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';          /* "" when not a link */
    if (gd_strlist_add (&l, buf) == -1) {
      reply_with_perror ("malloc");
      gd_strlist_free (&l);
      close (dirfd);
      return NULL;
    }
  }
  close (dirfd);
  return gd_strlist_end (&l);
}

/* glob(3) with directory access through paths.c, so that the walk stays
 * inside the sysroot. */
static void *
glob_opendir (const char *name)
{
  int fd = gd_open_in_root (*name ? name : "/", O_RDONLY | O_DIRECTORY, 0);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;

  if (d == NULL && fd >= 0)
    close (fd);
  return d;
}

static struct dirent *glob_readdir (void *d) { return readdir (d); }
static void glob_closedir (void *d) { closedir (d); }

static int
glob_stat (const char *name, struct stat *st)
{
  int fd = gd_open_in_root (name, O_PATH, 0), r;

  if (fd == -1)
    return -1;
  r = fstat (fd, st);
  close (fd);
  return r;
}

static int
glob_lstat (const char *name, struct stat *st)
{
  char *base;
  int dirfd = gd_open_parent (name, &base), r;

  if (dirfd == -1)
    return -1;
  r = fstatat (dirfd, base, st, AT_SYMLINK_NOFOLLOW);
  close (dirfd);
  free (base);
  return r;
}

char **
do_glob_expand (const char *pattern)
{
  glob_t gl = {
    .gl_closedir = glob_closedir, .gl_readdir = glob_readdir,
    .gl_opendir = glob_opendir, .gl_lstat = glob_lstat, .gl_stat = glob_stat,
  };
  struct gd_strlist l = { 0 };
  int r = glob (pattern, GLOB_MARK | GLOB_BRACE | GLOB_ALTDIRFUNC, NULL, &gl);

  if (r == GLOB_NOMATCH)
    return gd_strlist_end (&l);
  if (r != 0) {
    reply_with_error ("%s: %s", pattern, r == GLOB_NOSPACE ?
                      "out of memory" : "cannot read a directory");
    globfree (&gl);
    return NULL;
  }
  for (size_t i = 0; i < gl.gl_pathc; i++)
    if (gd_strlist_add (&l, gl.gl_pathv[i]) == -1) {
      reply_with_perror ("malloc");
      gd_strlist_free (&l);
      globfree (&gl);
      return NULL;
    }
  globfree (&gl);
  return gd_strlist_end (&l);
}

/* ---- links and special files ---- */

static int
link_to (const char *target, const char *linkname, int force)
{
  char *tbase, *lbase, *t = (char *) target;
  int tdir, ldir, r = -1;

  if (gd_check_path (&t, "target") == -1)
    return -1;
  if ((tdir = gd_parent_or_reply (target, &tbase)) == -1)
    return -1;
  if ((ldir = gd_parent_or_reply (linkname, &lbase)) == -1)
    goto out;
  if (force && unlinkat (ldir, lbase, 0) == -1 && errno != ENOENT)
    reply_with_perror ("%s", linkname);
  else if ((r = linkat (tdir, tbase, ldir, lbase, 0)) == -1)
    reply_with_perror ("%s to %s", linkname, target);
  close (ldir);
  free (lbase);
 out:
  close (tdir);
  free (tbase);
  return r;
}

int do_ln (const char *target, const char *linkname) { return link_to (target, linkname, 0); }
int do_ln_f (const char *target, const char *linkname) { return link_to (target, linkname, 1); }

static int
symlink_force_at (int dirfd, const char *base, void *target)
{
  if (unlinkat (dirfd, base, 0) == -1 && errno != ENOENT)
    return -1;
  return symlinkat (target, dirfd, base);
}

int
do_ln_sf (const char *target, const char *linkname)
{
  if (*target == '\0') {
    reply_with_error ("target: must not be empty");
    return -1;
  }
  return on_last (linkname, symlink_force_at, (void *) target);
}

struct node { mode_t mode; dev_t dev; };

static int
mknod_at (int dirfd, const char *base, void *arg)
{
  const struct node *n = arg;

  return mknodat (dirfd, base, n->mode, n->dev);
}

static int
make_node (int type, int mode, int devmajor, int devminor, const char *path)
{
  struct node n;

  if (check_mode (mode, type == 0) == -1)
    return -1;
  if (devmajor < 0 || devminor < 0) {
    reply_with_error ("devmajor %d, devminor %d: must not be negative",
                      devmajor, devminor);
    return -1;
  }
  n.mode = (mode_t) (type | mode);
  n.dev = makedev ((unsigned) devmajor, (unsigned) devminor);
  return on_last (path, mknod_at, &n);
}

int do_mknod (int mode, int ma, int mi, const char *path) { return make_node (0, mode, ma, mi, path); }
int do_mknod_b (int mode, int ma, int mi, const char *path) { return make_node (S_IFBLK, mode, ma, mi, path); }
int do_mknod_c (int mode, int ma, int mi, const char *path) { return make_node (S_IFCHR, mode, ma, mi, path); }
int do_mkfifo (int mode, const char *path) { return make_node (S_IFIFO, mode, 0, 0, path); }

/* ---- resolving names ---- */

/* The guest path an fd opened in the sysroot refers to. */
static char *
guest_path_of (int fd, const char *path)
{
  static char root[PATH_MAX];
  char proc[64], buf[PATH_MAX + 1];
  size_t rn;
  ssize_t n;

  if (root[0] == '\0' && realpath (gd_sysroot, root) == NULL) {
    reply_with_perror ("%s", gd_sysroot);
    return NULL;
  }
  gd_fd_path (proc, sizeof proc, fd);
  if ((n = readlink (proc, buf, sizeof buf - 1)) == -1) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  buf[n] = '\0';
  rn = strcmp (root, "/") == 0 ? 0 : strlen (root);
  if (strncmp (buf, root, rn) != 0 || (buf[rn] != '/' && buf[rn] != '\0')) {
    reply_with_error ("%s: resolves outside the guest filesystem", path);
    return NULL;
  }
  return strdup (buf[rn] ? buf + rn : "/");
}

char *
do_realpath (const char *path)
{
  int fd = gd_open_in_root (path, O_PATH, 0);
  char *r;

  if (fd == -1) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  r = guest_path_of (fd, path);
  close (fd);
  return r;
}

/* In the directory at guest path dir, the entry matching name exactly,
 * else ignoring case.  Returns a malloc'd name, NULL with errno. */
static char *
find_case (const char *dir, const char *name)
{
  int fd = gd_open_in_root (*dir ? dir : "/", O_RDONLY | O_DIRECTORY, 0);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  char *r = NULL;

  if (d == NULL) {
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  while ((e = readdir (d)) != NULL) {
    if (strcmp (e->d_name, name) == 0) {
      free (r);
      r = strdup (name);
      break;
    }
    if (r == NULL && strcasecmp (e->d_name, name) == 0)
      r = strdup (e->d_name);
  }
  closedir (d);
  if (r == NULL)
    errno = ENOENT;
  return r;
}

/* Each element looked up ignoring case; a missing last element is kept
 * as given (so the result can name a file to create). */
/* A path written with a trailing slash must name a directory (or
 * nothing yet): 1 if it names something else. */
static int
trailing_slash_bad (const char *path)
{
  int fd = gd_open_in_root (path, O_PATH | O_DIRECTORY, 0);

  if (fd >= 0)
    close (fd);
  return fd == -1 && errno == ENOTDIR;
}

char *
do_case_sensitive_path (const char *path)
{
  char *copy = strdup (path), *save, *out = NULL, *tok, *next;
  size_t len = 0;

  if (copy == NULL || (out = calloc (1, strlen (path) + 2)) == NULL)
    goto perror;
  for (tok = strtok_r (copy, "/", &save); tok; tok = next) {
    next = strtok_r (NULL, "/", &save);
    if (strcmp (tok, ".") == 0)
      continue;
    if (strcmp (tok, "..") == 0) {
      reply_with_error ("%s: \"..\" elements are not allowed", path);
      goto fail;
    }
    char *real = find_case (out, tok);
    if (real == NULL && (errno != ENOENT || next != NULL)) {
      reply_with_perror ("%s: %s%s%s", path, out, "/", tok);
      goto fail;
    }
    len += (size_t) sprintf (out + len, "/%s", real ? real : tok);
    free (real);
  }
  if (len == 0)
    strcpy (out, "/");
  else if (path[strlen (path) - 1] == '/' && trailing_slash_bad (out)) {
    reply_with_error ("%s: not a directory (a trailing slash after %s)", path, out);
    goto fail;
  }
  free (copy);
  return out;
 perror:
  reply_with_perror ("%s", path);
 fail:
  free (copy);
  free (out);
  return NULL;
}

struct guestfs_statvfs *
do_statvfs (const char *path)
{
  struct guestfs_statvfs *r = calloc (1, sizeof *r);
  struct statvfs sv;
  int fd = gd_open_in_root (path, O_PATH, 0);

  if (r == NULL || fd == -1 || fstatvfs (fd, &sv) == -1) {
    reply_with_perror ("%s", path);
    if (fd >= 0)
      close (fd);
    free (r);
    return NULL;
  }
  close (fd);
  r->bsize = (int64_t) sv.f_bsize;
  r->frsize = (int64_t) sv.f_frsize;
  r->blocks = (int64_t) sv.f_blocks;
  r->bfree = (int64_t) sv.f_bfree;
  r->bavail = (int64_t) sv.f_bavail;
  r->files = (int64_t) sv.f_files;
  r->ffree = (int64_t) sv.f_ffree;
  r->favail = (int64_t) sv.f_favail;
  r->fsid = (int64_t) sv.f_fsid;
  r->flag = (int64_t) sv.f_flag;
  r->namemax = (int64_t) sv.f_namemax;
  return r;
}
