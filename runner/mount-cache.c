/* runner/mount-cache.c: what `guestkit mount' remembers of the guest tree,
 * so that the FUSE requests of ls -lR or find cost about one appliance
 * call per directory instead of one per name.
 *
 * An entry per guest path holds its lstat, the names of a directory once
 * listed, a symlink's target and the xattrs once read.  Everything is
 * filled a directory at a time: the first stat of a name lists its
 * parent with readdirplus (names and lstats in one call); the first
 * readlink in a directory reads every link there with readlinklist, the
 * first xattr request every name's xattrs with lxattrlist.  A name
 * missing from a listed directory is known not to exist.
 *
 * Nothing expires: the appliance is the only writer, and the write
 * operations (mount-ops.c) forget what they change.  The caller holds
 * m->lock around every function here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define BATCH 256                /* names per readlinklist / lxattrlist */
#define MAX_ENTRIES 2000000      /* then the cache starts again empty */

struct rn_mcent {
  struct rn_mcent *next;         /* hash chain */
  char *path;                    /* the key */
  int have_stat;                 /* st is valid */
  struct stat st;
  char **kids;                   /* a listed directory's names, or NULL */
  char *link;                    /* a symlink's target once read */
  struct guestfs_xattr_list *xattrs;  /* once read (ours, see xattrs_free) */
};

static size_t
hash (const char *s)
{
  size_t h = 14695981039346656037u;          /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211u;
  return h;
}

static struct rn_mcent *
get (struct rn_mcache *c, const char *path)
{
  if (c->size == 0)
    return NULL;
  for (struct rn_mcent *e = c->tab[hash (path) & (c->size - 1)]; e; e = e->next)
    if (strcmp (e->path, path) == 0)
      return e;
  return NULL;
}

static void
grow (struct rn_mcache *c)
{
  size_t ns = c->size ? c->size * 2 : 1024;
  struct rn_mcent **nt = rn_calloc (ns, sizeof *nt);

  for (size_t i = 0; i < c->size; i++)
    for (struct rn_mcent *e = c->tab[i], *next; e; e = next) {
      size_t h = hash (e->path) & (ns - 1);
      next = e->next;
      e->next = nt[h];
      nt[h] = e;
    }
  free (c->tab);
  c->tab = nt;
  c->size = ns;
}

/* The entry for path, made empty if there was none. */
static struct rn_mcent *
put (struct rn_mcache *c, const char *path)
{
  struct rn_mcent *e = get (c, path);
  size_t h;

  if (e)
    return e;
  if (c->n >= c->size)
    grow (c);
  e = rn_calloc (1, sizeof *e);
  e->path = rn_strdup (path);
  h = hash (path) & (c->size - 1);
  e->next = c->tab[h];
  c->tab[h] = e;
  c->n++;
  return e;
}

static void
xattrs_free (struct guestfs_xattr_list *l)
{
  if (l == NULL)
    return;
  for (uint32_t i = 0; i < l->len; i++) {
    free (l->val[i].attrname);
    free (l->val[i].attrval);
  }
  free (l->val);
  free (l);
}

static void
kids_free (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

static void
forget_entry (struct rn_mcent *e)
{
  e->have_stat = 0;
  free (e->link);
  e->link = NULL;
  xattrs_free (e->xattrs);
  e->xattrs = NULL;
}

void
rn_mc_forget (struct rn_mnt *m, const char *path)
{
  struct rn_mcent *e = get (&m->cache, path);

  if (e)
    forget_entry (e);
}

void
rn_mc_clear (struct rn_mnt *m)
{
  struct rn_mcache *c = &m->cache;

  for (size_t i = 0; i < c->size; i++)
    for (struct rn_mcent *e = c->tab[i], *next; e; e = next) {
      next = e->next;
      forget_entry (e);
      kids_free (e->kids);
      free (e->path);
      free (e);
    }
  free (c->tab);
  memset (c, 0, sizeof *c);
}

static void
stat_of_entry (struct stat *st, const struct guestfs_direntplus *d)
{
  memset (st, 0, sizeof *st);
  st->st_dev = (dev_t) d->dev;
  st->st_ino = (ino_t) d->ino;
  st->st_mode = (mode_t) d->mode;
  st->st_nlink = (nlink_t) d->nlink;
  st->st_uid = (uid_t) d->uid;
  st->st_gid = (gid_t) d->gid;
  st->st_rdev = (dev_t) d->rdev;
  st->st_size = (off_t) d->size;
  st->st_blksize = (blksize_t) d->blksize;
  st->st_blocks = (blkcnt_t) d->blocks;
  st->st_atim.tv_sec = d->atime;
  st->st_atim.tv_nsec = d->atime_nsec;
  st->st_mtim.tv_sec = d->mtime;
  st->st_mtim.tv_nsec = d->mtime_nsec;
  st->st_ctim.tv_sec = d->ctime;
  st->st_ctim.tv_nsec = d->ctime_nsec;
}

/* One page of readdirplus into names and the children's entries; the
 * count of names, or -1 (*more: another page follows). */
static int
list_page (struct rn_mnt *m, const char *dir, int start, struct rn_strv *names,
           int *more)
{
  struct guestfs_direntplus_list *l = guestfs_readdirplus (m->g, dir, start);
  uint32_t n;

  if (l == NULL)
    return -1;
  *more = l->len > 0 && l->val[l->len - 1].name[0] == '\0';
  n = l->len - (*more ? 1 : 0);
  for (uint32_t i = 0; i < n; i++) {
    char *child = rn_path_join (dir, l->val[i].name);
    struct rn_mcent *e = put (&m->cache, child);
    free (child);
    if (l->val[i].ino != -1 && !e->have_stat) {
      stat_of_entry (&e->st, &l->val[i]);
      e->have_stat = 1;
    }
    rn_strv_add (names, rn_strdup (l->val[i].name));
  }
  guestfs_free_direntplus_list (l);
  return (int) n;
}

/* List directory dir into the cache; 0 or -errno. */
static int
list_dir (struct rn_mnt *m, const char *dir)
{
  struct rn_strv names = { NULL, 0 };
  struct rn_mcent *e;
  int start = 0, more = 1;

  if (m->cache.n > MAX_ENTRIES)
    rn_mc_clear (m);
  while (more) {
    int n = list_page (m, dir, start, &names, &more);
    if (n == -1) {
      rn_strv_free (&names);
      return rn_mnt_errno (m);
    }
    start += n;
  }
  e = put (&m->cache, dir);
  kids_free (e->kids);
  e->kids = names.v ? names.v : rn_calloc (1, sizeof (char *));
  return 0;
}

static int
lstat_one (struct rn_mnt *m, const char *path, struct stat *st)
{
  struct guestfs_stat *s = guestfs_lstat (m->g, path);
  struct guestfs_direntplus d = { 0 };
  struct rn_mcent *e;

  if (s == NULL)
    return rn_mnt_errno (m);
  d.dev = s->dev; d.ino = s->ino; d.mode = s->mode; d.nlink = s->nlink;
  d.uid = s->uid; d.gid = s->gid; d.rdev = s->rdev; d.size = s->size;
  d.blksize = s->blksize; d.blocks = s->blocks;
  d.atime = s->atime; d.mtime = s->mtime; d.ctime = s->ctime;
  guestfs_free_stat (s);
  e = put (&m->cache, path);
  stat_of_entry (&e->st, &d);
  e->have_stat = 1;
  *st = e->st;
  return 0;
}

int
rn_mc_stat (struct rn_mnt *m, const char *path, struct stat *st)
{
  struct rn_mcent *e = get (&m->cache, path), *pe;
  char *parent;

  if (e && e->have_stat) {
    *st = e->st;
    return 0;
  }
  if (strcmp (path, "/") == 0)
    return lstat_one (m, path, st);
  parent = rn_dirname (path);
  pe = get (&m->cache, parent);
  if (e == NULL && (pe == NULL || pe->kids == NULL) && list_dir (m, parent) == 0)
    pe = get (&m->cache, parent);
  free (parent);
  if ((e = get (&m->cache, path)) != NULL && e->have_stat) {
    *st = e->st;
    return 0;
  }
  if (e == NULL && pe && pe->kids)
    return -ENOENT;               /* not among the names of its directory */
  return lstat_one (m, path, st);
}

char *const *
rn_mc_kids (struct rn_mnt *m, const char *path, int *err)
{
  struct rn_mcent *e = get (&m->cache, path);

  if (e && e->kids)
    return e->kids;
  if ((*err = list_dir (m, path)) != 0)
    return NULL;
  return get (&m->cache, path)->kids;
}

/* The entries of dir's listed names that pass want(), at most BATCH of
 * them from *at on; their names in names. */
static size_t
batch (struct rn_mnt *m, const char *dir, char *const *kids, size_t *at,
       int (*want) (const struct rn_mcent *), struct rn_mcent **ents,
       char **names)
{
  size_t n = 0;

  for (; kids[*at] && n < BATCH; (*at)++) {
    char *child = rn_path_join (dir, kids[*at]);
    struct rn_mcent *e = get (&m->cache, child);
    free (child);
    if (e && want (e)) {
      ents[n] = e;
      names[n++] = kids[*at];
    }
  }
  names[n] = NULL;
  return n;
}

static int
link_unread (const struct rn_mcent *e)
{
  return e->have_stat && S_ISLNK (e->st.st_mode) && e->link == NULL;
}

/* Run fetch over the names of path's directory, if listed, that pass
 * want(), BATCH at a time, until done or fetch fails (-1). */
static void
for_batches (struct rn_mnt *m, const char *path, int (*want) (const struct rn_mcent *),
             int (*fetch) (struct rn_mnt *, const char *, char **, struct rn_mcent **, size_t))
{
  char *dir = rn_dirname (path);
  struct rn_mcent *pe = get (&m->cache, dir), *ents[BATCH];
  char *names[BATCH + 1];
  size_t at = 0, n;

  while (pe && pe->kids && (n = batch (m, dir, pe->kids, &at, want, ents, names)))
    if (fetch (m, dir, names, ents, n) == -1) {
      rn_mnt_errno (m);                  /* notes a dead appliance */
      break;
    }
  free (dir);
}

static int
fetch_links (struct rn_mnt *m, const char *dir, char **names, struct rn_mcent **ents,
             size_t n)
{
  char **t = guestfs_readlinklist (m->g, dir, names);

  if (t == NULL)
    return -1;
  for (size_t i = 0; i < n && t[i]; i++)
    ents[i]->link = t[i][0] ? t[i] : (free (t[i]), NULL);
  free (t);
  return 0;
}

const char *
rn_mc_readlink (struct rn_mnt *m, const char *path, int *err)
{
  struct rn_mcent *e = get (&m->cache, path);
  char *t;

  if (e && e->link)
    return e->link;
  for_batches (m, path, link_unread, fetch_links);
  if ((e = get (&m->cache, path)) && e->link)
    return e->link;
  if ((t = guestfs_readlink (m->g, path)) == NULL) {
    *err = rn_mnt_errno (m);
    return NULL;
  }
  e = put (&m->cache, path);
  free (e->link);
  e->link = t;
  return t;
}

static int
xattrs_unread (const struct rn_mcent *e)
{
  return e->xattrs == NULL;
}

/* Split lxattrlist's answer (per name: a head entry "" with the count,
 * then the xattrs) over ents; a malformed answer is left unused. */
static void
split_xattrs (struct guestfs_xattr_list *l, struct rn_mcent **ents, size_t n)
{
  uint32_t at = 0;

  for (size_t i = 0; i < n && at < l->len; i++) {
    struct guestfs_xattr_list *one;
    long k;
    if (l->val[at].attrname[0] != '\0' || l->val[at].attrval_len == 0 ||
        l->val[at].attrval[l->val[at].attrval_len - 1] != '\0')
      return;
    k = strtol (l->val[at].attrval, NULL, 10);
    if (k < 0 || (uint32_t) k > l->len - at - 1)
      return;
    one = rn_calloc (1, sizeof *one);
    one->len = (uint32_t) k;
    one->val = rn_calloc (k ? (size_t) k : 1, sizeof *one->val);
    for (long j = 0; j < k; j++) {       /* move them over */
      one->val[j] = l->val[at + 1 + j];
      l->val[at + 1 + j].attrname = NULL;
      l->val[at + 1 + j].attrval = NULL;
    }
    xattrs_free (ents[i]->xattrs);
    ents[i]->xattrs = one;
    at += 1 + (uint32_t) k;
  }
}

static int
fetch_xattrs (struct rn_mnt *m, const char *dir, char **names, struct rn_mcent **ents,
              size_t n)
{
  struct guestfs_xattr_list *l = guestfs_lxattrlist (m->g, dir, names);

  if (l == NULL)
    return -1;
  split_xattrs (l, ents, n);
  xattrs_free (l);
  return 0;
}

const struct guestfs_xattr_list *
rn_mc_xattrs (struct rn_mnt *m, const char *path, int *err)
{
  struct rn_mcent *e = get (&m->cache, path);
  struct guestfs_xattr_list *l;

  if (e && e->xattrs)
    return e->xattrs;
  if (strcmp (path, "/") != 0)
    for_batches (m, path, xattrs_unread, fetch_xattrs);
  if ((e = get (&m->cache, path)) && e->xattrs)
    return e->xattrs;
  if ((l = guestfs_lgetxattrs (m->g, path)) == NULL) {
    *err = rn_mnt_errno (m);
    return NULL;
  }
  e = put (&m->cache, path);
  xattrs_free (e->xattrs);
  e->xattrs = l;
  return l;
}
