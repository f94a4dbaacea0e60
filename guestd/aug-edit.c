/* guestd aug-edit: aug_edit_file, one guest file edited through one
 * lens in one call, without the aug_init handle.
 *
 * No tree is loaded: this call reads the file itself, parses the text
 * with aug_text_store, edits the tree, prints it back with
 * aug_text_retrieve and writes the file itself.  Its handle lives as
 * long as guestd, so lens modules stay compiled from call to call (and
 * from the snapshot template on: gd_aug_warm).  Each of those libaugeas
 * calls still frees the lens's compiled regexps when it ends; the
 * compiled copies regex-cache.c keeps are what makes the next call
 * cheap.
 *
 * Confinement: the path is resolved (realpath) with guestd chrooted into
 * the sysroot, as augeas.c does for aug_load and aug_save, so a symlink
 * never leads out of the guest tree; the file is then opened, and its
 * replacement written and renamed, relative to an fd of its directory
 * by one name component, with O_NOFOLLOW.  Augeas itself runs outside
 * the chroot on text only, with the appliance's lenses.  As Augeas's own
 * save: a symlink's target is replaced (the symlink stays), owner, mode
 * and extended attributes (the SELinux label among them) are kept, the
 * new text goes to a temp file in the same directory, fsynced, renamed
 * over the old one; text that did not change is not written.
 */
#include <augeas.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "guestd.h"

#define MAX_TEXT (16 << 20)     /* a config file larger than this is refused */
#define IN   "/gk/in"           /* the file's text */
#define TREE "/gk/tree"         /* its tree */
#define OUT  "/gk/out"          /* the new text */

static augeas *ed;              /* this call's handle, kept */

static augeas *
handle (void)
{
  if (ed == NULL) {
    ed = aug_init ("/", NULL, AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD | AUG_NO_ERR_CLOSE);
    if (ed && aug_error (ed) != AUG_NOERROR) {
      aug_close (ed);
      ed = NULL;
    }
  }
  return ed;
}

/* The guest file: its directory (an fd), name, lstat and text. */
struct gfile {
  int dir;
  char *name;
  struct stat st;
  char *text;
  int fd;                       /* open for reading, for its xattrs */
};

static void
gfile_free (struct gfile *f)
{
  if (f->dir >= 0) close (f->dir);
  if (f->fd >= 0) close (f->fd);
  free (f->name);
  free (f->text);
}

static char *
read_all (int fd, off_t size, const char *path)
{
  char *s;
  ssize_t n;

  if (size > MAX_TEXT) {
    reply_with_error ("%s: larger than %d bytes", path, MAX_TEXT);
    return NULL;
  }
  if ((s = malloc ((size_t) size + 1)) == NULL) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  if ((n = gd_read_fill (fd, s, (size_t) size)) == -1) {
    reply_with_perror ("%s: read", path);
    free (s);
    return NULL;
  }
  s[n] = '\0';
  if (strlen (s) != (size_t) n) {
    reply_with_error ("%s: holds a NUL byte: not a text file", path);
    free (s);
    return NULL;
  }
  return s;
}

/* Open the resolved path REAL (inside the chroot) into *f. */
static int
open_real (char *real, const char *path, struct gfile *f)
{
  char *slash = strrchr (real, '/');

  if ((f->name = strdup (slash + 1)) == NULL) {
    reply_with_perror ("%s", path);
    return -1;
  }
  *slash = '\0';
  f->dir = open (real[0] ? real : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f->dir == -1 ||
      (f->fd = openat (f->dir, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
      fstat (f->fd, &f->st) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  if (!S_ISREG (f->st.st_mode)) {
    reply_with_error ("%s: not a regular file", path);
    return -1;
  }
  return (f->text = read_all (f->fd, f->st.st_size, path)) ? 0 : -1;
}

/* Resolve and read path with guestd chrooted into the sysroot. */
static int
read_guest (const char *path, struct gfile *f)
{
  struct gd_outside o;
  char *real;
  int r = -1;

  f->dir = f->fd = -1;
  f->name = f->text = NULL;
  if (gd_enter_root ("/", &o) == -1)
    return -1;
  if ((real = realpath (path, NULL)) == NULL)
    reply_with_perror ("%s%s", path, errno == ENOENT ? ": no such file in the guest" : "");
  else
    r = open_real (real, path, f);
  free (real);
  gd_leave_root (&o);
  return r;
}

/* Copy f's extended attributes to fd (a filesystem without them, or
 * with no right to one, is no error: Augeas keeps the label the same way,
 * at best). */
static void
copy_xattrs (const struct gfile *f, int fd)
{
  char names[4096], value[4096];
  ssize_t n = flistxattr (f->fd, names, sizeof names);

  for (ssize_t i = 0; i < n; i += (ssize_t) strlen (names + i) + 1) {
    ssize_t v = fgetxattr (f->fd, names + i, value, sizeof value);
    if (v >= 0 && fsetxattr (fd, names + i, value, (size_t) v, 0) == -1)
      gd_warn ("%s: xattr %s not kept: %m", f->name, names + i);
  }
}

/* Replace f's content with text: temp file beside it, owner, mode and
 * xattrs of the old one, fsync, rename, fsync of the directory. */
static int
write_guest (const struct gfile *f, const char *text, const char *path)
{
  char *tmp = NULL;
  int fd = -1;

  for (int i = 0; i < 100 && fd == -1; i++) {
    free (tmp);
    if (gd_mkstr (&tmp, ".%.200s.gk%08lx", f->name, (unsigned long) random ()) == -1) {
      reply_with_perror ("%s", path);
      return -1;
    }
    fd = openat (f->dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd == -1 && errno != EEXIST)
      break;
  }
  if (fd == -1 || fchown (fd, f->st.st_uid, f->st.st_gid) == -1 ||
      fchmod (fd, f->st.st_mode & 07777) == -1 || (copy_xattrs (f, fd), 0) ||
      gd_write_to_fd (&fd, text, strlen (text)) == -1 || fsync (fd) == -1 ||
      close (fd) == -1 || (fd = -2, renameat (f->dir, tmp, f->dir, f->name) == -1)) {
    reply_with_perror ("%s: writing", path);
    if (fd >= 0)
      close (fd);
    if (fd != -1)
      unlinkat (f->dir, tmp, 0);
    free (tmp);
    return -1;
  }
  free (tmp);
  fsync (f->dir);
  return 0;
}

/* Reply with Augeas's error: the first /augeas/text error if any (a
 * parse or put failure), else the handle's own. */
static void
reply_edit (const char *path, const char *lens, const char *what)
{
  char **m = NULL, *msgpath = NULL;
  const char *why = NULL, *msg = NULL;
  int n = aug_match (ed, "/augeas/text//error", &m);

  if (n > 0 && aug_get (ed, m[0], &why) == 1 && why) {
    if (gd_mkstr (&msgpath, "%s/../message", m[0]) != -1)
      aug_get (ed, msgpath, &msg);
    reply_with_error ("%s: Augeas cannot %s with %s: %s%s%s", path, what, lens, why,
                      msg ? ": " : "", msg ? msg : "");
  } else {
    const char *minor = aug_error_minor_message (ed);
    reply_with_error ("%s: lens %s: %s%s%s", path, lens, aug_error_message (ed),
                      minor ? ": " : "", minor ? minor : "");
  }
  free (msgpath);
  for (int i = 0; i < n; i++)
    free (m[i]);
  free (m);
}

/* TREE/key, or NULL having replied. */
static char *
node (const char *key)
{
  char *p = NULL;

  if (key[0] == '\0' || key[0] == '/') {
    reply_with_error ("key '%s': must be a path relative to the file's tree", key);
    return NULL;
  }
  if (gd_mkstr (&p, TREE "/%s", key) == -1)
    reply_with_perror ("aug_edit_file");
  return p;
}

/* Record a change: KEY then OLD ("=value", "+", "-"). */
static int
note (struct gd_strlist *l, const char *key, const char *how, const char *old)
{
  char *s = NULL;

  if (gd_strlist_add (l, key) == -1 || gd_mkstr (&s, "%s%s", how, old ? old : "") == -1 ||
      gd_strlist_take (l, s) == -1) {
    free (s);
    reply_with_perror ("aug_edit_file");
    return -1;
  }
  return 0;
}

/* A new simple key goes before the first node named before, if any. */
static int
insert_before (const char *key, const char *before)
{
  char *b = NULL;
  int r = 0;

  if (before == NULL || strpbrk (key, "/[]") || strpbrk (before, "/[]"))
    return 0;
  if (gd_mkstr (&b, TREE "/%s[1]", before) == -1)
    r = -1;
  else if (aug_match (ed, b, NULL) > 0)
    r = aug_insert (ed, b, key, 1);
  free (b);
  return r;
}

static int
set_key (const char *path, const char *key, const char *val, const char *before,
         struct gd_strlist *l)
{
  char *p = node (key);
  const char *old = NULL;
  int n, r = 0;

  if (p == NULL)
    return -1;
  n = aug_match (ed, p, NULL);
  if (n > 1)
    reply_with_error ("%s: '%s' matches %d entries; name one, e.g. %s[1]", path, key, n, key);
  if (n == -1)
    reply_with_error ("%s: key '%s': %s", path, key, aug_error_message (ed));
  if (n == 1 && aug_get (ed, p, &old) == 1 && old && strcmp (old, val) == 0)
    ;                           /* already so */
  else if (n == 0 || n == 1) {
    int had = old != NULL;
    char *keep = had ? strdup (old) : NULL;
    if ((had && keep == NULL) || (n == 0 && insert_before (key, before) == -1) ||
        aug_set (ed, p, val) == -1)
      reply_with_error ("%s: key '%s': %s", path, key, aug_error_message (ed)), r = -1;
    else
      r = note (l, key, had ? "=" : "+", keep);
    free (keep);
  } else
    r = -1;
  free (p);
  return r;
}

static int
remove_key (const char *path, const char *key, struct gd_strlist *l)
{
  char *p = node (key);
  int n;

  if (p == NULL)
    return -1;
  n = aug_rm (ed, p);
  free (p);
  if (n == -1) {
    reply_with_error ("%s: key '%s': %s", path, key, aug_error_message (ed));
    return -1;
  }
  return n > 0 ? note (l, key, "-", NULL) : 0;
}

/* Parse f's text, apply the edits, and write the file if its text
 * changed.  Returns the list of changes, or NULL having replied. */
static char **
edit (const struct gfile *f, const char *lens, const char *path, char *const *set,
      char *const *remove, const char *before)
{
  struct gd_strlist l = { 0 };
  const char *out = NULL;
  int r = 0;

  if (aug_set (ed, IN, f->text) == -1 || aug_text_store (ed, lens, IN, TREE) == -1) {
    reply_edit (path, lens, "parse it");
    return NULL;
  }
  if (aug_match (ed, TREE "/*", NULL) <= 0) {
    reply_with_error ("%s: the lens matched nothing in it (is it the right lens?)", path);
    return NULL;
  }
  for (size_t i = 0; set[i] && r == 0; i += 2)
    r = set[i + 1] ? set_key (path, set[i], set[i + 1], before, &l)
                   : (reply_with_error ("set: key '%s' has no value", set[i]), -1);
  for (size_t i = 0; remove[i] && r == 0; i++)
    r = remove_key (path, remove[i], &l);
  if (r == 0 && l.n > 0) {
    if (aug_text_retrieve (ed, lens, IN, TREE, OUT) == -1 || aug_get (ed, OUT, &out) != 1 ||
        out == NULL) {
      reply_edit (path, lens, "write the edited tree back");
      r = -1;
    } else if (strcmp (out, f->text) != 0)
      r = write_guest (f, out, path);
  }
  if (r == -1) {
    gd_strlist_free (&l);
    return NULL;
  }
  return gd_strlist_end (&l);
}

char **
do_aug_edit_file (const char *lens, const char *path, char *const *set,
                  char *const *remove, const char *before)
{
  struct gfile f;
  char **r = NULL;

  if (gd_check_group () == -1)
    return NULL;
  if (handle () == NULL) {
    reply_with_perror ("libaugeas");
    return NULL;
  }
  if (read_guest (path, &f) == 0)
    r = edit (&f, lens, path, set, remove, before);
  gfile_free (&f);
  aug_rm (ed, "/gk");
  aug_rm (ed, "/augeas/text");
  return r;
}

/* A few lines of each lens's syntax: parsing and printing them back
 * compiles most of the lens's regexps, not only its module. */
static const char *const warm[][2] = {
  { "Sshd.lns", "Port 22\nAcceptEnv LANG LC_*\nSubsystem sftp /usr/lib/sftp\n"
                "Match User x\n  X11Forwarding no\n" },
};

void
gd_aug_warm (void)
{
  if (handle () == NULL)
    return;
  for (size_t i = 0; i < sizeof warm / sizeof warm[0]; i++) {
    aug_set (ed, IN, warm[i][1]);
    if (aug_text_store (ed, warm[i][0], IN, TREE) == -1 ||
        aug_set (ed, TREE "/Port", "2222") == -1 ||
        aug_text_retrieve (ed, warm[i][0], IN, TREE, OUT) == -1)
      gd_warn ("augeas: %s not warmed: %s", warm[i][0], aug_error_message (ed));
    aug_rm (ed, "/gk");
    aug_rm (ed, "/augeas/text");
  }
}
