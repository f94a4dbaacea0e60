/* guestd augeas: the aug_* calls, a thin layer over libaugeas with one
 * Augeas handle per appliance (aug_init opens it, aug_close frees it).
 *
 * The root given to aug_init is resolved inside the sysroot (paths.c)
 * and handed to Augeas as its canonical appliance path, so a guest
 * symlink or ".." cannot make Augeas read or write the appliance's own
 * /etc.  Errors quote Augeas's own message, minor message and details.
 */
#include <augeas.h>
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

/* The flags a caller may pass (1.14's public AUG_* bits); we add
 * AUG_NO_ERR_CLOSE ourselves to get a message when init fails. */
#define AUG_CALLER_FLAGS (AUG_SAVE_BACKUP | AUG_SAVE_NEWFILE | AUG_TYPE_CHECK | \
  AUG_NO_STDINC | AUG_SAVE_NOOP | AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD | \
  AUG_ENABLE_SPAN)

static augeas *aug;             /* the handle, NULL until aug_init */

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
  if (aug)
    aug_close (aug);
  aug = aug_init (real, NULL, (unsigned) flags | AUG_NO_ERR_CLOSE);
  free (real);
  if (aug == NULL) {
    reply_with_perror ("libaugeas");
    return -1;
  }
  if (aug_error (aug) != AUG_NOERROR) {
    reply_aug (NULL);
    aug_close (aug);
    aug = NULL;
    return -1;
  }
  return 0;
}

int
do_aug_close (void)
{
  if (need_aug () == -1)
    return -1;
  aug_close (aug);
  aug = NULL;
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
  if (aug_save (aug) == -1) {
    reply_file_error ("saving");
    return -1;
  }
  return 0;
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
  if (aug_load (aug) == -1) {
    reply_file_error ("loading");
    return -1;
  }
  return 0;
}
