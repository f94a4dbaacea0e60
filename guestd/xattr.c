/* guestd extended attributes: getxattrs / lgetxattrs, setxattr /
 * lsetxattr, removexattr / lremovexattr and the batched lxattrlist.
 *
 * The xattr syscalls take paths, so each call reaches its file through
 * a /proc/self/fd path of something paths.c opened inside the sysroot:
 * the file itself for the following forms (the magic link is followed
 * to it), or its parent directory plus the last component for the l*
 * forms, which then act on a final symlink itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guestd.h"

/* A guest path made reachable by the xattr syscalls. */
struct xpath {
  int fd;                       /* the file (follow) or its parent */
  int follow;                   /* use the following syscalls */
  char p[PATH_MAX + 64];        /* /proc/self/fd/N[/base] */
};

static int
xpath_open (struct xpath *x, const char *path, int follow)
{
  char *base = NULL;

  x->follow = follow;
  x->fd = follow ? gd_open_in_root (path, O_PATH, 0)
                 : gd_open_parent (path, &base);
  if (x->fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  if (follow)
    snprintf (x->p, sizeof x->p, "/proc/self/fd/%d", x->fd);
  else
    snprintf (x->p, sizeof x->p, "/proc/self/fd/%d/%s", x->fd, base);
  free (base);
  return 0;
}

static ssize_t
x_list (const struct xpath *x, char *buf, size_t size)
{
  return x->follow ? listxattr (x->p, buf, size) : llistxattr (x->p, buf, size);
}

static ssize_t
x_get (const struct xpath *x, const char *name, void *buf, size_t size)
{
  return x->follow ? getxattr (x->p, name, buf, size)
                   : lgetxattr (x->p, name, buf, size);
}

/* A growing array of struct guestfs_xattr. */
struct xlist {
  struct guestfs_xattr *v;
  size_t n, cap;
};

static struct guestfs_xattr *
xlist_new (struct xlist *l)
{
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    void *nv = realloc (l->v, nc * sizeof *l->v);
    if (nv == NULL)
      return NULL;
    l->v = nv;
    l->cap = nc;
  }
  memset (&l->v[l->n], 0, sizeof l->v[0]);
  return &l->v[l->n++];
}

static void
xlist_free (struct xlist *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free (l->v[i].attrname);
    free (l->v[i].attrval);
  }
  free (l->v);
}

/* One attribute's value, malloc'd (a 1-byte buffer when empty). */
static int
get_value (const struct xpath *x, const char *name, struct guestfs_xattr *e)
{
  for (int tries = 0; tries < 5; tries++) {
    ssize_t n = x_get (x, name, NULL, 0), m;
    if (n == -1)
      return -1;
    free (e->attrval);
    if ((e->attrval = malloc ((size_t) n + 1)) == NULL)
      return -1;
    m = x_get (x, name, e->attrval, (size_t) n);
    if (m >= 0) {
      e->attrval_len = (uint32_t) m;
      return 0;
    }
    if (errno != ERANGE)              /* ERANGE: it grew, read again */
      return -1;
  }
  return -1;
}

/* Append every attribute of x to l; the number appended or -1. */
static ssize_t
append_all (struct xlist *l, const struct xpath *x)
{
  ssize_t n, count = 0;
  char *names = NULL;

  do {
    if ((n = x_list (x, NULL, 0)) == -1)
      return -1;
    free (names);
    if ((names = malloc ((size_t) n + 1)) == NULL)
      return -1;
  } while ((n = x_list (x, names, (size_t) n)) == -1 && errno == ERANGE);
  for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t) strlen (names + i) + 1) {
    struct guestfs_xattr *e = xlist_new (l);
    if (e == NULL || (e->attrname = strdup (names + i)) == NULL ||
        get_value (x, names + i, e) == -1) {
      free (names);
      return -1;
    }
    count++;
  }
  free (names);
  return n == -1 ? -1 : count;
}

static struct guestfs_xattr_list *
xlist_result (struct xlist *l)
{
  struct guestfs_xattr_list *r = malloc (sizeof *r);

  if (r == NULL) {
    reply_with_perror ("malloc");
    xlist_free (l);
    return NULL;
  }
  r->len = (uint32_t) l->n;
  r->val = l->v ? l->v : calloc (1, sizeof *l->v);
  return r;
}

static struct guestfs_xattr_list *
get_all (const char *path, int follow)
{
  struct xlist l = { 0 };
  struct xpath x;

  if (xpath_open (&x, path, follow) == -1)
    return NULL;
  if (append_all (&l, &x) == -1) {
    reply_with_perror ("%s", path);
    close (x.fd);
    xlist_free (&l);
    return NULL;
  }
  close (x.fd);
  return xlist_result (&l);
}

struct guestfs_xattr_list *do_getxattrs (const char *path) { return get_all (path, 1); }
struct guestfs_xattr_list *do_lgetxattrs (const char *path) { return get_all (path, 0); }

static int
check_xattr_name (const char *xattr)
{
  if (*xattr == '\0' || strlen (xattr) > XATTR_NAME_MAX) {
    reply_with_error ("xattr '%s': must be 1 to %d bytes", xattr,
                      XATTR_NAME_MAX);
    return -1;
  }
  return 0;
}

static int
set_one (const char *xattr, const char *val, int vallen, const char *path,
         int follow)
{
  struct xpath x;
  int r;

  if (check_xattr_name (xattr) == -1)
    return -1;
  if (vallen < 0 || (size_t) vallen > strlen (val)) {
    reply_with_error ("vallen %d: must be 0 to the value's length %zu",
                      vallen, strlen (val));
    return -1;
  }
  if (xpath_open (&x, path, follow) == -1)
    return -1;
  r = follow ? setxattr (x.p, xattr, val, (size_t) vallen, 0)
             : lsetxattr (x.p, xattr, val, (size_t) vallen, 0);
  if (r == -1)
    reply_with_perror ("%s: %s", path, xattr);
  close (x.fd);
  return r;
}

int
do_setxattr (const char *xattr, const char *val, int vallen, const char *path)
{
  return set_one (xattr, val, vallen, path, 1);
}

int
do_lsetxattr (const char *xattr, const char *val, int vallen, const char *path)
{
  return set_one (xattr, val, vallen, path, 0);
}

static int
remove_one (const char *xattr, const char *path, int follow)
{
  struct xpath x;
  int r;

  if (check_xattr_name (xattr) == -1 || xpath_open (&x, path, follow) == -1)
    return -1;
  r = follow ? removexattr (x.p, xattr) : lremovexattr (x.p, xattr);
  if (r == -1)
    reply_with_perror ("%s: %s", path, xattr);
  close (x.fd);
  return r;
}

int do_removexattr (const char *xattr, const char *path) { return remove_one (xattr, path, 1); }
int do_lremovexattr (const char *xattr, const char *path) { return remove_one (xattr, path, 0); }

/* For each name in the directory path: an entry with an empty attrname
 * whose attrval is the count of entries that follow (decimal text with
 * its NUL), then those entries.  A name that cannot be read counts 0. */
struct guestfs_xattr_list *
do_lxattrlist (const char *path, char *const *names)
{
  struct xlist l = { 0 };
  struct xpath x = { .follow = 0 };
  struct guestfs_xattr *head;
  size_t at;
  ssize_t n;

  for (size_t i = 0; names[i]; i++)
    if (*names[i] == '\0' || strchr (names[i], '/') ||
        strcmp (names[i], "..") == 0) {
      reply_with_error ("names '%s': must be a single file name", names[i]);
      return NULL;
    }
  if ((x.fd = gd_open_in_root (path, O_PATH | O_DIRECTORY, 0)) == -1) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  for (size_t i = 0; names[i]; i++) {
    snprintf (x.p, sizeof x.p, "/proc/self/fd/%d/%s", x.fd, names[i]);
    if (xlist_new (&l) == NULL)
      goto fail;
    at = l.n - 1;
    n = append_all (&l, &x);
    if (n == -1) {                     /* drop what this name added */
      while (l.n > at + 1) {
        l.n--;
        free (l.v[l.n].attrname);
        free (l.v[l.n].attrval);
      }
      n = 0;
    }
    head = &l.v[at];
    if ((head->attrname = strdup ("")) == NULL ||
        gd_mkstr (&head->attrval, "%zd", n) == -1)
      goto fail;
    head->attrval_len = (uint32_t) strlen (head->attrval) + 1;
  }
  close (x.fd);
  return xlist_result (&l);
 fail:
  reply_with_perror ("%s", path);
  close (x.fd);
  xlist_free (&l);
  return NULL;
}
