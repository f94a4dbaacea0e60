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
 * This is the "before/after walk of the touched trees" of the design.
 * The states come from lstat_sha256_list, which stats and hashes a
 * batch of paths in the appliance in one round trip: the record costs
 * a call per step that touches something, one for the whole tree of a
 * touched directory, and a few at the end, whatever the image's size.  Raw calls in a job's steps are not tracked (they do not say
 * what they touch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define MAX_TRACKED 20000       /* paths per task */
#define BATCH 1024              /* paths per lstat_sha256_list */

/* One line of lstat_sha256_list ("MODE UID GID SIZE SUM", "" when
 * absent) as a state. */
static void
fstate_parse (const char *line, struct rn_fstate *f)
{
  unsigned mode, uid, gid;
  long long size;
  char sum[65];

  memset (f, 0, sizeof *f);
  if (line == NULL || sscanf (line, "%u %u %u %lld %64s", &mode, &uid, &gid,
                              &size, sum) != 5)
    return;                     /* absent (or unreadable: as absent) */
  f->exists = 1;
  f->mode = mode;
  f->uid = uid;
  f->gid = gid;
  f->size = S_ISDIR (mode) ? 0 : size;   /* a directory's size is noise */
  if (S_ISREG (mode) && strlen (sum) == 64)
    memcpy (f->sha256, sum, sizeof f->sha256);
}

/* The states of n paths into f[0..n-1], a batch of them per round trip
 * (the appliance hashes the files itself). */
static void
fstates_take (guestfs_h *g, const char *const *paths, size_t n, struct rn_fstate *f)
{
  for (size_t i = 0; i < n; i += BATCH) {
    size_t k = n - i < BATCH ? n - i : BATCH, j = 0;
    char **l, **sl = rn_calloc (k + 1, sizeof *sl);
    memcpy (sl, paths + i, k * sizeof *sl);
    l = guestfs_lstat_sha256_list (g, sl);
    free (sl);
    for (; l && l[j] && j < k; j++)
      fstate_parse (l[j], &f[i + j]);
    for (; j < k; j++)
      fstate_parse (NULL, &f[i + j]);
    rn_gfree_list (l);
  }
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

static char *
child_path (const char *dir, const char *rel)
{
  return rn_asprintf ("%s%s%s", dir, strcmp (dir, "/") ? "/" : "", rel);
}

/* The states now of entries first.. (as before, or as after), in one
 * batch. */
static void
take_range (struct rn_changes *ch, guestfs_h *g, size_t first, int after)
{
  size_t n = ch->n - first;
  const char **paths;
  struct rn_fstate *f;

  if (n == 0)
    return;
  paths = rn_calloc (n, sizeof *paths);
  f = rn_calloc (n, sizeof *f);
  for (size_t i = 0; i < n; i++)
    paths[i] = ch->v[first + i].path;
  fstates_take (g, paths, n, f);
  for (size_t i = 0; i < n; i++)
    *(after ? &ch->v[first + i].after : &ch->v[first + i].before) = f[i];
  free (paths);
  free (f);
}

/* Every path below directory dir into out (at most MAX_TRACKED), a
 * directory per readdirplus: no find process to start in the appliance
 * for the small trees steps touch. */
static void
walk (guestfs_h *g, const char *dir, struct rn_strv *out)
{
  for (int start = 0, more = 1; more && out->n < MAX_TRACKED;) {
    struct guestfs_direntplus_list *l = guestfs_readdirplus (g, dir, start);
    more = 0;
    for (uint32_t i = 0; l && i < l->len && out->n < MAX_TRACKED; i++) {
      const struct guestfs_direntplus *e = &l->val[i];
      char *p;
      if (e->name[0] == '\0') {    /* the rest did not fit: again from here */
        more = 1;
        break;
      }
      p = child_path (dir, e->name);
      rn_strv_add (out, p);
      start++;
      if (S_ISDIR (e->mode))
        walk (g, p, out);
    }
    if (l)
      guestfs_free_direntplus_list (l);
  }
}

/* Track the paths below directory dir not tracked yet: their state now
 * as before (after == 0: they existed) or after (after == 1: new). */
static void
track_below (struct rn_changes *ch, guestfs_h *g, const char *dir, int after)
{
  struct rn_strv l = { 0 };
  size_t first = ch->n;

  walk (g, dir, &l);
  if (l.n >= MAX_TRACKED)
    ch->overflow = 1;
  for (size_t i = 0; i < l.n; i++)
    if (find_ent (ch, l.v[i]) == NULL)
      add_ent (ch, l.v[i]);
  rn_strv_free (&l);
  take_range (ch, g, first, after);
}

void
rn_chg_before_list (struct rn_changes *ch, guestfs_h *g, const char *const *paths,
                    size_t n, int skip_dirs)
{
  size_t first, k;

  if (ch == NULL)
    return;
  first = k = ch->n;
  for (size_t i = 0; i < n; i++)
    if (find_ent (ch, paths[i]) == NULL)
      add_ent (ch, paths[i]);
  take_range (ch, g, first, 0);
  for (size_t i = first; i < ch->n; i++) {
    struct rn_change e = ch->v[i];
    if (skip_dirs && e.before.exists && S_ISDIR (e.before.mode))
      free (e.path);
    else
      ch->v[k++] = e;
  }
  ch->n = k;
  for (size_t i = first; i < k; i++)
    if (ch->v[i].before.exists && S_ISDIR (ch->v[i].before.mode)) {
      char *dir = rn_strdup (ch->v[i].path);   /* ch->v may move */
      track_below (ch, g, dir, 0);
      free (dir);
    }
}

void
rn_chg_before (struct rn_changes *ch, guestfs_h *g, const char *path)
{
  rn_chg_before_list (ch, g, &path, 1, 0);
}

/* Does a path's state differ between a and b? */
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
  size_t k = 0;

  take_range (ch, g, 0, 1);
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
