/* runner/mount-ops.c: the FUSE operations of `guestkit mount'.  Each one
 * is a few appliance calls on the mount's one handle; mount-cache.c
 * answers most lookups without any.
 *
 * Threads: FUSE serves requests in several threads; every operation
 * takes m->lock for its whole length, so the handle (one channel to one
 * appliance) sees one call at a time.  Reads go through a read-ahead
 * buffer per open file, so a sequential reader costs one pread per
 * READ_AHEAD bytes rather than one per kernel request.
 *
 * Errors: the appliance's message ends in the strerror text of the errno
 * it met; rn_mnt_errno turns that back into the errno.  Once the
 * appliance is gone (qemu died) every request fails with EIO at once.
 * Without --rw every change is refused with EROFS (the kernel mount is
 * read-only too).
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define READ_AHEAD (2u << 20)    /* bytes per pread for a sequential reader */
#define WRITE_MAX (2u << 20)     /* bytes per pwrite */
#define NEAR (1 << 20)           /* a read this close to the last is sequential */

/* An open file. */
struct rn_mfile {
  char *path;
  char *buf;                     /* read-ahead bytes, or NULL */
  off_t boff;                    /* where buf starts in the file */
  size_t blen;                   /* bytes in buf */
  off_t next;                    /* where a sequential reader goes on */
  unsigned gen;                  /* m->gen when buf was read */
};

static struct rn_mnt *
mnt (void)
{
  return fuse_get_context ()->private_data;
}

void
rn_mnt_gone (struct rn_mnt *m, const char *why)
{
  if (!m->dead)
    fprintf (stderr, "%s: mount: the appliance is gone (%s); every request "
             "now fails with EIO: unmount with fusermount3 -u\n", rn_progname, why);
  m->dead = 1;
}

int
rn_mnt_errno (struct rn_mnt *m)
{
  const char *msg = guestfs_last_error (m->g);
  size_t ml = msg ? strlen (msg) : 0;

  if (!guestfs_is_ready (m->g)) {
    rn_mnt_gone (m, msg ? msg : "no message");
    return -EIO;
  }
  for (int e = 1; e < 134 && msg; e++) {
    const char *s = strerror (e);
    size_t sl = strlen (s);
    if (ml > sl + 2 && strcmp (msg + ml - sl, s) == 0 && msg[ml - sl - 2] == ':')
      return -e;
  }
  return -EIO;
}

/* Start of every operation: the lock, and EIO when the appliance died. */
static struct rn_mnt *
enter (const char *op, const char *path, int *err)
{
  struct rn_mnt *m = mnt ();

  pthread_mutex_lock (&m->lock);
  if (m->verbose)
    fprintf (stderr, "mount: %s %s\n", op, path ? path : "");
  *err = m->dead ? -EIO : 0;
  return m;
}

static int
leave (struct rn_mnt *m, int r)
{
  pthread_mutex_unlock (&m->lock);
  return r;
}

/* r from an int-returning call: 0, or -errno. */
static int
call_result (struct rn_mnt *m, int r)
{
  return r == -1 ? rn_mnt_errno (m) : 0;
}

static void *
op_init (struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  struct rn_mnt *m = mnt ();
  double t = m->rw ? 1.0 : 3600.0;     /* read-only: nothing changes */

  cfg->use_ino = 1;
  cfg->entry_timeout = t;
  cfg->attr_timeout = t;
  cfg->negative_timeout = m->rw ? 0.0 : t;
  cfg->kernel_cache = !m->rw && !m->direct_io;
  cfg->direct_io = m->direct_io;
  conn->max_write = 1u << 20;
  conn->max_readahead = 1u << 20;
  return m;
}

static int
op_getattr (const char *path, struct stat *st, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter ("getattr", path, &r);

  if (r == 0)
    r = rn_mc_stat (m, path, st);
  return leave (m, r);
}

static int
op_readdir (const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
            struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
  int r;
  struct rn_mnt *m = enter ("readdir", path, &r);
  char *const *kids = r ? NULL : rn_mc_kids (m, path, &r);

  if (kids == NULL)
    return leave (m, r);
  fill (buf, ".", NULL, 0, 0);
  fill (buf, "..", NULL, 0, 0);
  for (size_t i = 0; kids[i]; i++) {
    char *child = rn_path_join (path, kids[i]);
    struct stat st;
    int ok = rn_mc_stat (m, child, &st) == 0;
    free (child);
    if (fill (buf, kids[i], ok ? &st : NULL, 0, ok ? FUSE_FILL_DIR_PLUS : 0))
      break;
  }
  return leave (m, 0);
}

static int
op_open (const char *path, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter ("open", path, &r);
  struct rn_mfile *f;
  struct stat st;

  if (r == 0 && !m->rw && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
    r = -EROFS;
  if (r == 0)
    r = rn_mc_stat (m, path, &st);
  if (r == 0 && S_ISDIR (st.st_mode))
    r = -EISDIR;
  else if (r == 0 && !S_ISREG (st.st_mode))
    r = -EACCES;                   /* devices, fifos: never opened here */
  if (r)
    return leave (m, r);
  f = rn_calloc (1, sizeof *f);
  f->path = rn_strdup (path);
  fi->fh = (uintptr_t) f;
  fi->keep_cache = !m->rw;
  return leave (m, 0);
}

static int
op_release (const char *path, struct fuse_file_info *fi)
{
  struct rn_mfile *f = (struct rn_mfile *) (uintptr_t) fi->fh;

  if (f) {
    free (f->path);
    free (f->buf);
    free (f);
  }
  return 0;
}

/* Copy what buf holds of [off, off+size) to out; the bytes copied. */
static size_t
from_buffer (struct rn_mnt *m, struct rn_mfile *f, char *out, size_t size, off_t off)
{
  size_t n;

  if (f->buf == NULL || f->gen != m->gen ||
      off < f->boff || off >= f->boff + (off_t) f->blen)
    return 0;
  n = f->blen - (size_t) (off - f->boff);
  if (n > size)
    n = size;
  memcpy (out, f->buf + (off - f->boff), n);
  return n;
}

static int
op_read (const char *path, char *out, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter ("read", path, &r);
  struct rn_mfile *f = (struct rn_mfile *) (uintptr_t) fi->fh;
  size_t n, got = 0, want;
  char *b;

  if (r)
    return leave (m, r);
  if ((n = from_buffer (m, f, out, size, off)) == size) {
    f->next = off + (off_t) n;
    return leave (m, (int) n);
  }
  off += (off_t) n;                      /* the rest from the appliance */
  /* Read ahead for the first read and for one near the last: the
   * kernel's own read-ahead may send a reader's requests out of order. */
  want = (f->next == 0 || (off >= f->next - NEAR && off <= f->next + NEAR)) &&
         size - n < READ_AHEAD ? READ_AHEAD : size - n;
  m->failed = 0;
  b = guestfs_pread (m->g, f->path, (int) want, off, &got);
  if (b == NULL && m->failed)          /* else: nothing there, the end */
    return leave (m, n ? (int) n : rn_mnt_errno (m));
  free (f->buf);
  f->buf = b;
  f->boff = off;
  f->blen = b ? got : 0;
  f->gen = m->gen;
  n += from_buffer (m, f, out + n, size - n, off);
  f->next = off + (off_t) n;
  return leave (m, (int) n);
}

static int
op_readlink (const char *path, char *out, size_t size)
{
  int r;
  struct rn_mnt *m = enter ("readlink", path, &r);
  const char *t = r ? NULL : rn_mc_readlink (m, path, &r);

  if (t && size > 0) {
    strncpy (out, t, size - 1);
    out[size - 1] = '\0';
  }
  return leave (m, t ? 0 : r);
}

static int
op_statfs (const char *path, struct statvfs *sv)
{
  int r;
  struct rn_mnt *m = enter ("statfs", path, &r);
  struct guestfs_statvfs *s = r ? NULL : guestfs_statvfs (m->g, path);

  if (s == NULL)
    return leave (m, r ? r : rn_mnt_errno (m));
  memset (sv, 0, sizeof *sv);
  sv->f_bsize = (unsigned long) s->bsize;
  sv->f_frsize = (unsigned long) s->frsize;
  sv->f_blocks = (fsblkcnt_t) s->blocks;
  sv->f_bfree = (fsblkcnt_t) s->bfree;
  sv->f_bavail = (fsblkcnt_t) s->bavail;
  sv->f_files = (fsfilcnt_t) s->files;
  sv->f_ffree = (fsfilcnt_t) s->ffree;
  sv->f_favail = (fsfilcnt_t) s->favail;
  sv->f_namemax = (unsigned long) s->namemax;
  guestfs_free_statvfs (s);
  return leave (m, 0);
}

static int
op_getxattr (const char *path, const char *name, char *value, size_t size)
{
  int r;
  struct rn_mnt *m = enter ("getxattr", path, &r);
  const struct guestfs_xattr_list *l = r ? NULL : rn_mc_xattrs (m, path, &r);

  if (l == NULL)
    return leave (m, r);
  for (uint32_t i = 0; i < l->len; i++) {
    if (strcmp (l->val[i].attrname, name) != 0)
      continue;
    if (size == 0)
      return leave (m, (int) l->val[i].attrval_len);
    if (size < l->val[i].attrval_len)
      return leave (m, -ERANGE);
    memcpy (value, l->val[i].attrval, l->val[i].attrval_len);
    return leave (m, (int) l->val[i].attrval_len);
  }
  return leave (m, -ENODATA);
}

static int
op_listxattr (const char *path, char *list, size_t size)
{
  int r;
  struct rn_mnt *m = enter ("listxattr", path, &r);
  const struct guestfs_xattr_list *l = r ? NULL : rn_mc_xattrs (m, path, &r);
  size_t need = 0;

  if (l == NULL)
    return leave (m, r);
  for (uint32_t i = 0; i < l->len; i++)
    need += strlen (l->val[i].attrname) + 1;
  if (size == 0)
    return leave (m, (int) need);
  if (size < need)
    return leave (m, -ERANGE);
  for (uint32_t i = 0; i < l->len; i++) {
    size_t k = strlen (l->val[i].attrname) + 1;
    memcpy (list, l->val[i].attrname, k);
    list += k;
  }
  return leave (m, (int) need);
}

/* ---- changes (--rw) ---- */

/* What a change makes the caches forget. */
enum forget { KEEP, FORGET_PATH, FORGET_ALL };

/* enter() for a change: EROFS on a read-only mount; else the caches
 * forget what the change will make stale. */
static struct rn_mnt *
enter_change (const char *op, const char *path, int *err, enum forget what)
{
  struct rn_mnt *m = enter (op, path, err);

  if (*err == 0 && !m->rw)
    *err = -EROFS;
  if (*err == 0)
    m->gen++;                      /* every open file's read-ahead is stale */
  if (*err == 0 && what == FORGET_PATH)
    rn_mc_forget (m, path);
  else if (*err == 0 && what == FORGET_ALL)
    rn_mc_clear (m);
  return m;
}

static int
op_write (const char *path, const char *buf, size_t size, off_t off,
          struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("write", path, &r, FORGET_PATH);
  struct rn_mfile *f = (struct rn_mfile *) (uintptr_t) fi->fh;
  size_t done = 0;

  if (r)
    return leave (m, r);
  while (done < size) {
    size_t n = size - done > WRITE_MAX ? WRITE_MAX : size - done;
    int w = guestfs_pwrite (m->g, f->path, buf + done, n, off + (off_t) done);
    if (w == -1)
      return leave (m, done ? (int) done : rn_mnt_errno (m));
    if (w == 0)
      break;
    done += (size_t) w;
  }
  return leave (m, (int) done);
}

static int
op_create (const char *path, mode_t mode, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("create", path, &r, FORGET_ALL);

  if (r)
    return leave (m, r);
  if ((r = call_result (m, guestfs_touch (m->g, path))) == 0)
    r = call_result (m, guestfs_chmod (m->g, (int) (mode & 07777), path));
  leave (m, r);
  return r ? r : op_open (path, fi);
}

static int
op_mkdir (const char *path, mode_t mode)
{
  int r;
  struct rn_mnt *m = enter_change ("mkdir", path, &r, FORGET_ALL);

  if (r)
    return leave (m, r);
  if ((r = call_result (m, guestfs_mkdir (m->g, path))) == 0)
    r = call_result (m, guestfs_chmod (m->g, (int) (mode & 07777), path));
  return leave (m, r);
}

/* The name-changing calls of one path: rm, rmdir. */
static int
one_path_change (const char *op, const char *path,
                 int (*fn) (guestfs_h *, const char *))
{
  int r;
  struct rn_mnt *m = enter_change (op, path, &r, FORGET_ALL);

  if (r)
    return leave (m, r);
  return leave (m, call_result (m, fn (m->g, path)));
}

static int op_unlink (const char *path) { return one_path_change ("unlink", path, guestfs_rm); }
static int op_rmdir (const char *path) { return one_path_change ("rmdir", path, guestfs_rmdir); }

/* And of two: ln -s, ln, and mv, which is rename(2) only where the
 * target is not a directory (mv would move into it). */
static int
two_path_change (const char *op, const char *from, const char *to,
                 int (*fn) (guestfs_h *, const char *, const char *))
{
  int r;
  struct rn_mnt *m = enter_change (op, to, &r, KEEP);
  struct stat st, sf;

  if (r)
    return leave (m, r);
  if (fn == guestfs_mv && rn_mc_stat (m, to, &st) == 0 && S_ISDIR (st.st_mode)) {
    int e = 0;
    char *const *k = rn_mc_kids (m, to, &e);
    if (rn_mc_stat (m, from, &sf) == 0 && !S_ISDIR (sf.st_mode))
      return leave (m, -EISDIR);
    if (k == NULL || k[0])
      return leave (m, k ? -ENOTEMPTY : e);
    rn_mc_clear (m);
    if ((r = call_result (m, guestfs_rmdir (m->g, to))) != 0)
      return leave (m, r);
  } else if (fn == guestfs_mv && rn_mc_stat (m, to, &st) == 0 &&
             rn_mc_stat (m, from, &sf) == 0 && S_ISDIR (sf.st_mode)) {
    return leave (m, -ENOTDIR);          /* a directory over a non-directory */
  } else if (fn == guestfs_mv && rn_mc_stat (m, to, &st) == 0 && S_ISLNK (st.st_mode)) {
    rn_mc_clear (m);                     /* mv would follow it */
    if ((r = call_result (m, guestfs_rm (m->g, to))) != 0)
      return leave (m, r);
  }
  rn_mc_clear (m);
  return leave (m, call_result (m, fn (m->g, from, to)));
}

static int
op_rename (const char *from, const char *to, unsigned int flags)
{
  if (flags)
    return -EINVAL;                      /* RENAME_NOREPLACE, _EXCHANGE */
  return two_path_change ("rename", from, to, guestfs_mv);
}

static int op_symlink (const char *target, const char *path) { return two_path_change ("symlink", target, path, guestfs_ln_s); }
static int op_link (const char *from, const char *to) { return two_path_change ("link", from, to, guestfs_ln); }

static int
op_chmod (const char *path, mode_t mode, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("chmod", path, &r, FORGET_PATH);

  if (r)
    return leave (m, r);
  return leave (m, call_result (m, guestfs_chmod (m->g, (int) (mode & 07777), path)));
}

static int
op_chown (const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("chown", path, &r, KEEP);
  struct stat st;

  if (r == 0 && (uid == (uid_t) -1 || gid == (gid_t) -1))
    r = rn_mc_stat (m, path, &st);      /* -1: keep what it is */
  if (r)
    return leave (m, r);
  if (uid == (uid_t) -1)
    uid = st.st_uid;
  if (gid == (gid_t) -1)
    gid = st.st_gid;
  rn_mc_forget (m, path);
  return leave (m, call_result (m, guestfs_lchown (m->g, (int) uid, (int) gid, path)));
}

static int
op_truncate (const char *path, off_t size, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("truncate", path, &r, FORGET_PATH);

  if (r)
    return leave (m, r);
  return leave (m, call_result (m, guestfs_truncate_size (m->g, path, (int64_t) size)));
}

/* A FUSE time to utimens's (seconds, nanoseconds): -1 now, -2 unchanged. */
static int64_t
nsec_of (const struct timespec *t)
{
  return t->tv_nsec == UTIME_NOW ? -1 : t->tv_nsec == UTIME_OMIT ? -2 : t->tv_nsec;
}

static int
op_utimens (const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter_change ("utimens", path, &r, FORGET_PATH);

  if (r)
    return leave (m, r);
  r = guestfs_utimens (m->g, path, tv ? tv[0].tv_sec : 0, tv ? nsec_of (&tv[0]) : -1,
                       tv ? tv[1].tv_sec : 0, tv ? nsec_of (&tv[1]) : -1);
  return leave (m, call_result (m, r));
}

static int
op_fsync (const char *path, int datasync, struct fuse_file_info *fi)
{
  int r;
  struct rn_mnt *m = enter ("fsync", path, &r);

  if (r == 0 && m->rw)
    r = call_result (m, guestfs_sync (m->g));
  return leave (m, r);
}

static const struct fuse_operations ops = {
  .init = op_init,
  .getattr = op_getattr,
  .readdir = op_readdir,
  .open = op_open,
  .release = op_release,
  .read = op_read,
  .readlink = op_readlink,
  .statfs = op_statfs,
  .getxattr = op_getxattr,
  .listxattr = op_listxattr,
  .write = op_write,
  .create = op_create,
  .mkdir = op_mkdir,
  .unlink = op_unlink,
  .rmdir = op_rmdir,
  .rename = op_rename,
  .symlink = op_symlink,
  .link = op_link,
  .chmod = op_chmod,
  .chown = op_chown,
  .truncate = op_truncate,
  .utimens = op_utimens,
  .fsync = op_fsync,
};

const void *
rn_mnt_operations (void)
{
  return &ops;
}
