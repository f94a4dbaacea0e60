/* guestd augeas: the aug_* calls, a thin layer over libaugeas with one
 * Augeas handle per appliance (aug_init opens it, aug_close frees it).
 *
 * Augeas opens files by path and follows symlinks itself, so it must
 * never see the appliance's "/": a guest /etc/hosts -> /etc/shadow (or
 * -> ../../../etc/shadow) would reach the appliance's files, or guest
 * files outside the root given to aug_init.  So the calls that touch
 * files (the load in aug_init, aug_load and aug_save) run with guestd
 * chrooted into that root, resolved inside the sysroot again each time
 * (paths.c), and come back out through an fd of the appliance's root.
 * The other calls only walk the in-memory tree.  Augeas's own root is
 * "/" and is opened outside the chroot with AUG_NO_LOAD.
 *
 * Lenses come from the appliance, never from the guest: Augeas reads a
 * lens module from its load path the first time a lens of it is named,
 * which inside the chroot would be the guest's load path.  So before
 * entering, every lens named under /augeas/load is looked up once
 * outside (load_lenses), and a lens the appliance lacks is hidden from
 * Augeas while inside (it gets Augeas's own "not found" error).
 * Errors quote Augeas's own message, minor message and details.
 */
#include <augeas.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

/* The flags a caller may pass (1.14's public AUG_* bits); we add
 * AUG_NO_ERR_CLOSE ourselves to get a message when init fails. */
#define AUG_CALLER_FLAGS (AUG_SAVE_BACKUP | AUG_SAVE_NEWFILE | AUG_TYPE_CHECK | \
  AUG_NO_STDINC | AUG_SAVE_NOOP | AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD | \
  AUG_ENABLE_SPAN)

/* Scratch nodes for load_lenses, removed again before it returns. */
#define PROBE_IN  "/augeas/guestkit-lens-probe"
#define PROBE_OUT "/augeas/guestkit-lens-probe-out"

static augeas *aug;             /* the handle, NULL until aug_init */
static char *aug_root;          /* the guest path given to aug_init */

static void reply_file_error (const char *op);

/* A lens the appliance does not have: its /augeas/load node, renamed to
 * a form Augeas never loads from disk ("@NAME") while in the guest. */
struct hidden {
  char *node;                   /* /augeas/load/X/lens */
  char *name;                   /* the caller's value */
};

struct lenses {
  struct hidden *v;
  size_t n;
};

static void
free_lenses (struct lenses *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free (l->v[i].node);
    free (l->v[i].name);
  }
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

/* Have Augeas look up lens NAME (not an "@Module" name, which only ever
 * refers to modules already loaded) with the appliance's load path: it
 * parses an empty string with it, which loads the lens's module and the
 * modules it uses.  Returns 0 if the lens exists, -1 if it does not (or
 * on out of memory, which hides the lens too: the safe way). */
static int
probe_lens (const char *name)
{
  if (aug_set (aug, PROBE_IN, "") == -1)
    return -1;
  if (aug_text_store (aug, name, PROBE_IN, PROBE_OUT) == -1 &&
      aug_error (aug) != AUG_NOERROR)
    return -1;                  /* a parse error of "" is no error here */
  return 0;
}

/* Give hidden lenses their names back; where Augeas recorded an error
 * for one (/augeas/load/X/error), say the lens was not found, as Augeas
 * says outside.  Frees the list. */
static void
restore_lenses (struct lenses *hide)
{
  for (size_t i = 0; i < hide->n; i++) {
    struct hidden *h = &hide->v[i];
    char *err = NULL, *msg = NULL;
    size_t n = strlen (h->node) - strlen ("/lens");

    aug_set (aug, h->node, h->name);
    if (gd_mkstr (&err, "%.*s/error", (int) n, h->node) != -1 &&
        aug_match (aug, err, NULL) == 1 &&
        gd_mkstr (&msg, "Can not find lens %s", h->name) != -1)
      aug_set (aug, err, msg);
    free (err);
    free (msg);
  }
  free_lenses (hide);
}

/* Hide the lens at NODE (value NAME): add it to *hide, rename it. */
static int
hide_lens (struct lenses *hide, char *node, const char *name)
{
  struct hidden *v = realloc (hide->v, (hide->n + 1) * sizeof *v);
  char *renamed = NULL;

  if (v == NULL)
    return -1;
  hide->v = v;
  if ((v[hide->n].name = strdup (name)) == NULL)
    return -1;
  if (gd_mkstr (&renamed, "@%s", name) == -1 || aug_set (aug, node, renamed) == -1) {
    free (v[hide->n].name);
    free (renamed);
    return -1;
  }
  free (renamed);
  v[hide->n++].node = node;
  return 0;
}

/* Look up every lens /augeas/load names, outside the guest, and hide
 * those that do not exist (*hide, for restore_lenses).  Returns 0, or -1
 * having replied (out of memory). */
static int
load_lenses (struct lenses *hide)
{
  char **m = NULL;
  int n = aug_match (aug, "/augeas/load/*/lens", &m);
  int had_text = aug_match (aug, "/augeas/text", NULL) > 0, r = 0;

  hide->v = NULL;
  hide->n = 0;
  for (int i = 0; i < n; i++) {
    const char *name = NULL;

    if (r == 0 && aug_get (aug, m[i], &name) == 1 && name && name[0] != '@' &&
        probe_lens (name) == -1) {
      if (hide_lens (hide, m[i], name) == 0)
        m[i] = NULL;            /* now hide's */
      else
        r = -1;
    }
    free (m[i]);
  }
  free (m);
  aug_rm (aug, PROBE_IN);
  aug_rm (aug, PROBE_OUT);
  aug_rm (aug, had_text ? "/augeas/text" PROBE_OUT : "/augeas/text");
  if (r == -1) {
    reply_with_perror ("augeas: lenses");
    restore_lenses (hide);
  }
  return r;
}

void
gd_leave_root (struct gd_outside *o)
{
  if (fchdir (o->root) == -1 || chroot (".") == -1 || fchdir (o->cwd) == -1)
    gd_fatal ("augeas: cannot leave the guest root: %m");
  close (o->root);
  close (o->cwd);
}

int
gd_enter_root (const char *root, struct gd_outside *o)
{
  char *real = gd_real_path (root, "root");
  int r = -1;

  if (real == NULL)
    return -1;
  o->root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  o->cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (o->root == -1 || o->cwd == -1)
    reply_with_perror ("augeas: the appliance's root");
  else if (chroot (real) == -1)
    reply_with_perror ("%s: cannot enter the guest root", root);
  else if (chdir ("/") == -1) {
    reply_with_perror ("%s: cannot enter the guest root", root);
    gd_leave_root (o);
    o->root = o->cwd = -1;
  } else
    r = 0;
  if (r == -1) {
    if (o->root >= 0) close (o->root);
    if (o->cwd >= 0) close (o->cwd);
  }
  free (real);
  return r;
}

/* aug_load or aug_save with the lenses from the appliance and the files
 * from the guest root; replies on failure. */
static int
in_guest (int (*fn) (augeas *), const char *what)
{
  struct gd_outside o;
  struct lenses hide;
  int r;

  if (load_lenses (&hide) == -1)
    return -1;
  if (gd_enter_root (aug_root, &o) == -1) {
    restore_lenses (&hide);
    return -1;
  }
  r = fn (aug);
  gd_leave_root (&o);
  restore_lenses (&hide);
  if (r == -1)
    reply_file_error (what);
  return r;
}

/* Reply "[WHAT: ]augeas message[: minor][: details]". */
static void
reply_aug (const char *what)
{
  const char *msg = aug ? aug_error_message (aug) : NULL;
  const char *minor = aug ? aug_error_minor_message (aug) : NULL;
  const char *details = aug ? aug_error_details (aug) : NULL;

  reply_with_error ("%s%s%s%s%s%s%s", what ? what : "", what ? ": " : "",
                    msg ? msg : "augeas error",
                    minor ? ": " : "", minor ? minor : "",
                    details ? ": " : "", details ? details : "");
}

/* After a failed save or load: the first file Augeas recorded an error
 * for (/augeas/files/PATH/error = what), or nothing. */
static void
reply_file_error (const char *op)
{
  char **m = NULL, *path = NULL;
  const char *why = NULL;
  int n = aug_match (aug, "/augeas/files//error", &m);

  if (n > 0 && aug_get (aug, m[0], &why) == 1 && why) {
    path = m[0] + strlen ("/augeas/files");
    path[strlen (path) - strlen ("/error")] = '\0';
    reply_with_error ("%s failed: %s: %s", op, path, why);
  } else
    reply_aug (NULL);
  for (int i = 0; i < n; i++)
    free (m[i]);
  free (m);
}

static int
need_aug (void)
{
  if (gd_check_group () == -1)
    return -1;
  if (aug == NULL) {
    reply_with_error ("no Augeas handle: call aug_init first");
    return -1;
  }
  return 0;
}

static void
close_aug (void)
{
  if (aug)
    aug_close (aug);
  aug = NULL;
  free (aug_root);
  aug_root = NULL;
}

int
do_aug_init (const char *root, int flags)
{
  char *real;

  if (gd_check_group () == -1)
    return -1;
  if (flags < 0 || (flags & ~AUG_CALLER_FLAGS) != 0) {
    reply_with_error ("flags %d: unknown flag bits (known: 0x%x)", flags,
                      AUG_CALLER_FLAGS);
    return -1;
  }
  if ((real = gd_real_path (root, "root")) == NULL)
    return -1;
  free (real);
  close_aug ();
  if ((aug_root = strdup (root)) == NULL) {
    reply_with_perror ("aug_init");
    return -1;
  }
  aug = aug_init ("/", NULL, (unsigned) flags | AUG_NO_LOAD | AUG_NO_ERR_CLOSE);
  if (aug == NULL) {
    reply_with_perror ("libaugeas");
    close_aug ();
    return -1;
  }
  if (aug_error (aug) != AUG_NOERROR) {
    reply_aug (NULL);
    close_aug ();
    return -1;
  }
  if (!(flags & AUG_NO_LOAD) && in_guest (aug_load, "loading") == -1) {
    close_aug ();
    return -1;
  }
  return 0;
}

int
do_aug_close (void)
{
  if (need_aug () == -1)
    return -1;
  close_aug ();
  return 0;
}

/* The number of nodes expr matches; expr NULL undefines the variable. */
int
do_aug_defvar (const char *name, const char *expr)
{
  int r;

  if (need_aug () == -1)
    return -1;
  if ((r = aug_defvar (aug, name, expr)) == -1)
    reply_aug (name);
  return r;
}

struct guestfs_int_bool *
do_aug_defnode (const char *name, const char *expr, const char *val)
{
  struct guestfs_int_bool *r;
  int created = 0, n;

  if (need_aug () == -1)
    return NULL;
  if ((n = aug_defnode (aug, name, expr, val, &created)) == -1) {
    reply_aug (name);
    return NULL;
  }
  if ((r = malloc (sizeof *r)) == NULL) {
    reply_with_perror ("aug_defnode");
    return NULL;
  }
  r->i = n;
  r->b = created;
  return r;
}

char *
do_aug_get (const char *augpath)
{
  const char *value = NULL;
  char *r;
  int n;

  if (need_aug () == -1)
    return NULL;
  n = aug_get (aug, augpath, &value);
  if (n == 0) {
    reply_with_error ("augpath %s: no matching node", augpath);
    return NULL;
  }
  if (n != 1) {
    if (n > 1)
      reply_with_error ("augpath %s: matches %d nodes, not one", augpath, n);
    else
      reply_aug (augpath);
    return NULL;
  }
  if (value == NULL) {
    reply_with_error ("augpath %s: the node has no value", augpath);
    return NULL;
  }
  if ((r = strdup (value)) == NULL)
    reply_with_perror ("aug_get");
  return r;
}

int
do_aug_set (const char *augpath, const char *val)
{
  if (need_aug () == -1)
    return -1;
  if (aug_set (aug, augpath, val) == -1) {
    reply_aug (augpath);
    return -1;
  }
  return 0;
}

int
do_aug_insert (const char *augpath, const char *label, int before)
{
  if (need_aug () == -1)
    return -1;
  if (aug_insert (aug, augpath, label, before) == -1) {
    reply_aug (augpath);
    return -1;
  }
  return 0;
}

int
do_aug_rm (const char *augpath)
{
  int r;

  if (need_aug () == -1)
    return -1;
  if ((r = aug_rm (aug, augpath)) == -1)
    reply_aug (augpath);
  return r;
}

int
do_aug_mv (const char *src, const char *dest)
{
  if (need_aug () == -1)
    return -1;
  if (aug_mv (aug, src, dest) == -1) {
    reply_aug (src);
    return -1;
  }
  return 0;
}

/* aug_match's array, as a list that we own. */
static char **
match (const char *augpath)
{
  struct gd_strlist l = { 0 };
  char **m = NULL;
  int n = aug_match (aug, augpath, &m);

  if (n == -1) {
    reply_aug (augpath);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (gd_strlist_take (&l, m[i]) == -1) {
      for (int j = i + 1; j < n; j++)
        free (m[j]);
      free (m);
      gd_strlist_free (&l);
      reply_with_perror ("aug_match");
      return NULL;
    }
  free (m);
  return gd_strlist_end (&l);
}

char **
do_aug_match (const char *augpath)
{
  if (need_aug () == -1)
    return NULL;
  return match (augpath);
}

/* The children of one node: augpath/ *, sorted, each once. */
char **
do_aug_ls (const char *augpath)
{
  size_t n = strlen (augpath), i, j;
  char *pattern, **r;

  if (need_aug () == -1)
    return NULL;
  if (n == 0 || (n > 1 && augpath[n-1] == '/')) {
    reply_with_error ("augpath %s: must not be empty or end with /", augpath);
    return NULL;
  }
  if (gd_mkstr (&pattern, "%s/*", strcmp (augpath, "/") ? augpath : "") == -1) {
    reply_with_perror ("aug_ls");
    return NULL;
  }
  r = match (pattern);
  free (pattern);
  if (r == NULL)
    return NULL;
  for (n = 0; r[n]; n++)
    ;
  gd_sort_strings (r, n);
  for (i = j = 0; i < n; i++) {
    if (j > 0 && strcmp (r[j-1], r[i]) == 0)
      free (r[i]);
    else
      r[j++] = r[i];
  }
  r[j] = NULL;
  return r;
}

int
do_aug_save (void)
{
  if (need_aug () == -1)
    return -1;
  return in_guest (aug_save, "saving");
}

/* Augeas skips files whose mtime it has seen, and after a failed save it
 * also thinks their trees are clean, so unsaved changes would survive a
 * load.  Forgetting the mtimes makes aug_load re-read every file. */
int
do_aug_load (void)
{
  if (need_aug () == -1)
    return -1;
  aug_rm (aug, "/augeas/files//mtime");
  return in_guest (aug_load, "loading");
}
