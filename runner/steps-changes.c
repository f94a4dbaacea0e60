/* runner/steps-changes.c: what a task's steps changed, as data.
 *
 * Before a high-level step changes a guest path it calls rn_step_before,
 * which records the path's state once per task: whether it exists, its
 * type, mode, owner, size and (regular files) sha256 — for a directory,
 * also every path below it.  When the steps are done, rn_chg_finish
 * takes the state of the same paths again (and of new paths below
 * recorded directories) and keeps those that differ, as added, changed
 * or removed.  The record goes to the `changes' table (db-changes.c).
 *
 * This is the "before/after walk of the touched trees" of the design:
 * it costs two or three calls per touched path, whatever the image's
 * size.  Raw calls in a job's steps are not tracked (they do not say
 * what they touch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define MAX_TRACKED 20000       /* paths per task */

static void
fstate_take (guestfs_h *g, const char *path, struct rn_fstate *f)
{
  struct guestfs_stat *st;
  char *sum;

  memset (f, 0, sizeof *f);
  st = guestfs_lstat (g, path);
  if (st == NULL)
    return;                     /* absent (or unreadable: as absent) */
  f->exists = 1;
  f->mode = (uint32_t) st->mode;
  f->uid = st->uid;
  f->gid = st->gid;
  f->size = S_ISDIR (st->mode) ? 0 : st->size;  /* a directory's size is noise */
  if (S_ISREG (st->mode) && (sum = guestfs_checksum (g, "sha256", path)) != NULL) {
    snprintf (f->sha256, sizeof f->sha256, "%s", sum);
    free (sum);
  }
  guestfs_free_stat (st);
}

static struct rn_change *
find_ent (struct rn_changes *ch, const char *path)
{
  for (size_t i = 0; i < ch->n; i++)
    if (strcmp (ch->v[i].path, path) == 0)
      return &ch->v[i];
  return NULL;
}

static struct rn_change *
add_ent (struct rn_changes *ch, const char *path)
{
  struct rn_change *e;

  if (ch->n == MAX_TRACKED) {
    ch->overflow = 1;
    return NULL;
  }
  ch->v = rn_realloc (ch->v, (ch->n + 1) * sizeof *ch->v);
  e = &ch->v[ch->n++];
  memset (e, 0, sizeof *e);
  e->path = rn_strdup (path);
  return e;
}

/* The paths below directory dir (absolute), or NULL. */
static char **
below (guestfs_h *g, const char *dir)
{
  char **l;

  l = guestfs_find (g, dir);
  return l;
}

static char *
child_path (const char *dir, const char *rel)
{
  return rn_asprintf ("%s%s%s", dir, strcmp (dir, "/") ? "/" : "", rel);
}

/* Track the paths below directory dir not tracked yet: their state now
 * as before (after == 0: they existed) or after (after == 1: new). */
static void
track_below (struct rn_changes *ch, guestfs_h *g, const char *dir, int after)
{
  char **l = below (g, dir);

  for (size_t i = 0; l && l[i]; i++) {
    char *p = child_path (dir, l[i]);
    struct rn_change *c = find_ent (ch, p) ? NULL : add_ent (ch, p);
    if (c)
      fstate_take (g, p, after ? &c->after : &c->before);
    free (p);
    free (l[i]);
  }
  free (l);
}

void
rn_chg_before (struct rn_changes *ch, guestfs_h *g, const char *path)
{
  struct rn_change *e;

  if (ch == NULL || find_ent (ch, path) || (e = add_ent (ch, path)) == NULL)
    return;
  fstate_take (g, path, &e->before);
  if (e->before.exists && S_ISDIR (e->before.mode))
    track_below (ch, g, path, 0);
}

static int
fstate_differs (const struct rn_fstate *a, const struct rn_fstate *b)
{
  return a->exists != b->exists || a->mode != b->mode || a->uid != b->uid ||
         a->gid != b->gid || a->size != b->size || strcmp (a->sha256, b->sha256);
}

/* New paths below the recorded directories that now exist. */
static void
add_new_children (struct rn_changes *ch, guestfs_h *g)
{
  size_t n = ch->n;

  for (size_t i = 0; i < n; i++)
    if (ch->v[i].after.exists && S_ISDIR (ch->v[i].after.mode)) {
      char *dir = rn_strdup (ch->v[i].path);   /* ch->v may move */
      track_below (ch, g, dir, 1);
      free (dir);
    }
}

void
rn_chg_finish (struct rn_changes *ch, guestfs_h *g)
{
  size_t n = ch->n, k = 0;

  for (size_t i = 0; i < n; i++)
    fstate_take (g, ch->v[i].path, &ch->v[i].after);
  add_new_children (ch, g);
  for (size_t i = 0; i < ch->n; i++) {
    struct rn_change *e = &ch->v[i];
    if (!fstate_differs (&e->before, &e->after)) {
      free (e->path);
      continue;
    }
    e->kind = !e->before.exists ? "added" : !e->after.exists ? "removed" : "changed";
    ch->v[k++] = *e;
  }
  ch->n = k;
}

void
rn_chg_free (struct rn_changes *ch)
{
  for (size_t i = 0; i < ch->n; i++)
    free (ch->v[i].path);
  free (ch->v);
  memset (ch, 0, sizeof *ch);
}

const char *
rn_fstate_type (const struct rn_fstate *f)
{
  if (!f->exists)
    return NULL;
  return S_ISREG (f->mode) ? "file" : S_ISDIR (f->mode) ? "directory"
       : S_ISLNK (f->mode) ? "symlink" : "other";
}
