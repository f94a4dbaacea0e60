/* guestd/walk.c: find_modes, the names under a directory with their
 * modes, in one call and without running a program.
 *
 *   find_modes DIR  ->  NAME MODE  NAME MODE ...
 *
 * The names are what find returns for DIR (every entry below it,
 * relative, symlinks listed but never followed, mount points crossed,
 * sorted by strcmp); each is followed by its st_mode from lstat, in
 * octal ("0" when the entry vanished between readdir and lstat).  The
 * tree checks (runner/checks.c) used find and then one lstatlist per
 * directory: under TCG the find program and the round trips cost more
 * than the walk.
 *
 * The walk opens each directory by one name relative to its parent's
 * fd with O_NOFOLLOW, so a guest symlink never leads it out of the tree.
 * Bounds: WALK_DEPTH levels (fds held along the path), and the reply
 * must fit one protocol message (as for find, which then says: use
 * find0); past either, the call fails and says which.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

#define WALK_DEPTH 256
#define WALK_BYTES (GK_MESSAGE_MAX - 4096)  /* strings and their XDR words */

struct entry {
  char *name;                   /* relative to the top */
  unsigned mode;
};

struct walk {
  struct entry *v;
  size_t n, cap;
  size_t bytes;                 /* XDR size of the reply so far */
  int err;                      /* errno of the first failure, or 0 */
  const char *why;              /* a bound that was hit, or NULL */
};

/* XDR size of a string: its length word and bytes padded to 4. */
static size_t
xdr_size (size_t len)
{
  return 4 + ((len + 3) & ~(size_t) 3);
}

static int
add (struct walk *w, char *name, unsigned mode)
{
  char m[16];

  snprintf (m, sizeof m, "%o", mode);
  w->bytes += xdr_size (strlen (name)) + xdr_size (strlen (m));
  if (w->bytes > WALK_BYTES) {
    w->why = "too many names for the protocol's message size; use find0";
    free (name);
    return -1;
  }
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 256;
    struct entry *v = realloc (w->v, cap * sizeof *v);
    if (v == NULL) {
      w->err = ENOMEM;
      free (name);
      return -1;
    }
    w->v = v;
    w->cap = cap;
  }
  w->v[w->n].name = name;
  w->v[w->n++].mode = mode;
  return 0;
}

static char *
join (const char *prefix, const char *name)
{
  char *r;

  if (*prefix == '\0')
    return strdup (name);
  return gd_mkstr (&r, "%s/%s", prefix, name) == -1 ? NULL : r;
}

static int walk_dir (struct walk *w, int fd, const char *prefix, int depth);

/* One entry of the directory open on dfd. */
static int
walk_entry (struct walk *w, int dfd, const char *prefix, const char *name, int depth)
{
  struct stat st;
  char *rel = join (prefix, name);
  unsigned mode = 0;
  int fd, r = 0;

  if (rel == NULL) {
    w->err = ENOMEM;
    return -1;
  }
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    mode = (unsigned) st.st_mode;
  if (add (w, rel, mode) == -1)
    return -1;
  if (!S_ISDIR (mode))
    return 0;
  if (depth >= WALK_DEPTH) {
    w->why = "deeper than 256 levels";
    return -1;
  }
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) {
    w->err = errno;
    return -1;
  }
  r = walk_dir (w, fd, w->v[w->n - 1].name, depth + 1);   /* closes fd */
  return r;
}

/* The entries of the directory open on fd (closed here). */
static int
walk_dir (struct walk *w, int fd, const char *prefix, int depth)
{
  DIR *d = fdopendir (fd);
  struct dirent *e;
  char *pfx;
  int r = 0;

  if (d == NULL) {
    w->err = errno;
    close (fd);
    return -1;
  }
  if ((pfx = strdup (prefix)) == NULL) {      /* w->v moves as it grows */
    w->err = ENOMEM;
    closedir (d);
    return -1;
  }
  errno = 0;
  while (r == 0 && (e = readdir (d)) != NULL) {
    if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
      continue;
    r = walk_entry (w, dirfd (d), pfx, e->d_name, depth);
    errno = 0;
  }
  if (r == 0 && errno != 0) {
    w->err = errno;
    r = -1;
  }
  free (pfx);
  closedir (d);
  return r;
}

static int
by_name (const void *a, const void *b)
{
  return strcmp (((const struct entry *) a)->name, ((const struct entry *) b)->name);
}

/* The sorted entries as NAME MODE pairs; w's names move into the list. */
static char **
pairs (struct walk *w)
{
  struct gd_strlist l = { 0 };
  char m[16];
  size_t i;

  if (w->n > 1)
    qsort (w->v, w->n, sizeof *w->v, by_name);
  for (i = 0; i < w->n; i++) {
    char *name = w->v[i].name;
    snprintf (m, sizeof m, "%o", w->v[i].mode);
    w->v[i].name = NULL;                /* the list owns it, or freed it */
    if (gd_strlist_take (&l, name) == -1 || gd_strlist_add (&l, m) == -1)
      break;
  }
  if (i < w->n) {
    gd_strlist_free (&l);
    return NULL;
  }
  return gd_strlist_end (&l);
}

static void
walk_free (struct walk *w)
{
  for (size_t i = 0; i < w->n; i++)
    free (w->v[i].name);
  free (w->v);
}

char **
do_find_modes (const char *directory)
{
  struct walk w = { 0 };
  char **r = NULL;
  int fd = gd_open_in_root (directory, O_RDONLY | O_DIRECTORY, 0);

  if (fd == -1) {
    reply_with_perror ("%s", directory);
    return NULL;
  }
  if (walk_dir (&w, fd, "", 0) == -1) {
    if (w.why)
      reply_with_error ("%s: %s", directory, w.why);
    else {
      errno = w.err;
      reply_with_perror ("%s", directory);
    }
  } else if ((r = pairs (&w)) == NULL)
    reply_with_perror ("find_modes");
  walk_free (&w);
  return r;
}
