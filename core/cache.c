/* core/cache.c: the entries of the appliance cache, who is using them,
 * and when they are removed.
 *
 * The cache (gk_cache_dir) holds two kinds of entry:
 *   appliance-STAMP/   kernel, initrd, root: a built appliance (appliance.c)
 *   snapshot-KEY       a saved, never-used appliance VM (snapshot.c)
 * and CACHE/lock, the build lock: whoever builds, saves or removes entries
 * holds it exclusively.  Names with a '.' in them are the temp files of a
 * build or a save in progress, or left by one that was killed.
 *
 * In use.  A handle holds a shared flock on each entry it uses (on the
 * directory itself, on the snapshot file) from the moment it chooses the
 * entry until its qemu has exited: gk_cache_hold takes it, the handle
 * keeps the fds, gk_cache_release (child.c, when qemu has gone) drops
 * them.  Taking an entry also sets its mtime: the entry's last use.
 *
 * Removal.  An entry is removed only under an exclusive flock taken
 * without waiting; an entry that cannot be locked is in use and is
 * skipped.  A handle that got its shared lock just after an entry was
 * removed sees that (the entry is no longer linked at its path) and
 * builds it again.  The rule (gk_cache_prune, run after every build and by
 * `guestkit cache --prune'): oldest last use first, remove each entry
 * unused for more than GUESTKIT_CACHE_DAYS days (default 7), and, while
 * the cache is over GUESTKIT_CACHE_SIZE bytes (K/M/G suffixes; default
 * 4G; disk blocks, as du counts them), the next oldest; never the entry
 * just built.  guestfs_cache_clear removes every entry not in use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gk.h"

#define DEFAULT_DAYS 7.0
#define DEFAULT_SIZE (4ull << 30)

static const char *const appliance_files[] = { "kernel", "initrd", "root" };

/* The entry fd refers to what is still at path: not removed, not replaced. */
static int
still_there (int fd, const char *path, int is_dir)
{
  struct stat a, b;

  if (fstat (fd, &a) == -1 || a.st_nlink == 0 || stat (path, &b) == -1 ||
      a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return 0;
  for (size_t i = 0; is_dir && i < 3; i++)
    if (fstatat (fd, appliance_files[i], &b, 0) == -1 || !S_ISREG (b.st_mode))
      return 0;
  return 1;
}

int
gk_cache_hold (guestfs_h *g, const char *path, int is_dir)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));

  if (fd >= 0 && fd < 3) {      /* 0 means "none" in the handle */
    int hi = fcntl (fd, F_DUPFD_CLOEXEC, 3);
    close (fd);
    fd = hi;
  }
  if (fd == -1)
    return -1;
  if (flock (fd, LOCK_SH) == -1 || !still_there (fd, path, is_dir)) {
    close (fd);
    return -1;
  }
  futimens (fd, NULL);          /* last use; best effort */
  return fd;
}

void
gk_cache_release (guestfs_h *g)
{
  if (g->cache_appliance_lock > 0)
    close (g->cache_appliance_lock);
  if (g->cache_snapshot_lock > 0)
    close (g->cache_snapshot_lock);
  g->cache_appliance_lock = g->cache_snapshot_lock = 0;
}

int
gk_cache_vanished (guestfs_h *g)
{
  struct stat st;
  int fd = g->cache_appliance_lock;

  if (fd <= 0)
    return 0;
  if (fstat (fd, &st) == -1 || st.st_nlink == 0)
    return 1;
  for (size_t i = 0; i < 3; i++)
    if (fstatat (fd, appliance_files[i], &st, 0) == -1)
      return 1;
  return 0;
}

void
gk_cache_notice (guestfs_h *g, const char *msg)
{
  if (g->log_cb) {
    char *line = gk_asprintf (g, "guestkit: %s\n", msg);
    g->log_cb (g, g->log_cb_data, line, (int) strlen (line));
    free (line);
  } else
    fprintf (stderr, "guestkit: %s\n", msg);
}

/* ---- listing ---- */

struct entry {
  char *path;             /* owned */
  int is_dir;             /* appliance (directory) or snapshot (file) */
  int temp;               /* a build's temp name: always garbage under the lock */
  uint64_t size;          /* disk blocks, bytes */
  time_t used;            /* mtime: last use */
};

typedef int (*tree_fn) (const char *, const struct stat *, int, struct FTW *);
static uint64_t du_total;   /* nftw has no user pointer; under tree_lock */
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

static int
du_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  du_total += (uint64_t) st->st_blocks * 512;
  return 0;
}

static int
rm_one (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  return flag == FTW_DP ? rmdir (p) : unlink (p), 0;
}

/* Run fn over the tree at path (depth first); the sum of du_one. */
static uint64_t
walk (const char *path, tree_fn fn)
{
  uint64_t r;

  pthread_mutex_lock (&tree_lock);
  du_total = 0;
  nftw (path, fn, 16, FTW_DEPTH | FTW_PHYS);
  r = du_total;
  pthread_mutex_unlock (&tree_lock);
  return r;
}

static int
by_use (const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  return x->used < y->used ? -1 : x->used > y->used;
}

/* The entries of cache, oldest use first; *n set.  NULL on no memory. */
static struct entry *
list_entries (guestfs_h *g, const char *cache, size_t *n)
{
  DIR *d = opendir (cache);
  struct dirent *e;
  struct entry *v = NULL;

  *n = 0;
  while (d && (e = readdir (d)) != NULL) {
    int app = strncmp (e->d_name, "appliance-", 10) == 0;
    struct stat st;
    struct entry x;
    if (!app && strncmp (e->d_name, "snapshot-", 9) != 0)
      continue;
    x.path = gk_asprintf (g, "%s/%s", cache, e->d_name);
    if (lstat (x.path, &st) == -1 || (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))) {
      free (x.path);
      continue;
    }
    x.is_dir = S_ISDIR (st.st_mode);
    x.temp = strchr (e->d_name, '.') != NULL;
    x.size = x.is_dir ? walk (x.path, du_one) : (uint64_t) st.st_blocks * 512;
    x.used = st.st_mtime;
    v = gk_realloc (g, v, (*n + 1) * sizeof *v);
    v[(*n)++] = x;
  }
  if (d)
    closedir (d);
  if (*n)
    qsort (v, *n, sizeof *v, by_use);
  return v;
}

static void
free_entries (struct entry *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i].path);
  free (v);
}

/* 1 if some handle holds the entry. */
static int
busy (const char *path, int is_dir)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
  int r;

  if (fd == -1)
    return 0;
  r = flock (fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK;
  close (fd);
  return r;
}

/* Remove the entry unless it is in use: 1 removed, 0 skipped. */
static int
remove_entry (const struct entry *x)
{
  int fd = open (x->path, O_RDONLY | O_CLOEXEC | (x->is_dir ? O_DIRECTORY : 0));
  int r = 0;

  if (fd == -1)
    return 0;
  if (flock (fd, LOCK_EX | LOCK_NB) == 0) {
    if (x->is_dir)
      walk (x->path, rm_one);
    else
      unlink (x->path);
    r = 1;
  }
  close (fd);
  return r;
}

/* ---- pruning ---- */

static double
env_days (void)
{
  const char *v = getenv ("GUESTKIT_CACHE_DAYS");
  char *end;
  double d = v && *v ? strtod (v, &end) : -1;

  return d >= 0 && v && *end == '\0' ? d : DEFAULT_DAYS;
}

static uint64_t
env_size (void)
{
  const char *v = getenv ("GUESTKIT_CACHE_SIZE");
  char *end;
  unsigned long long n;
  int shift = 0;

  if (v == NULL || *v < '0' || *v > '9')
    return DEFAULT_SIZE;
  errno = 0;
  n = strtoull (v, &end, 10);
  switch (*end) {
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  case 'T': case 't': shift = 40; end++; break;
  }
  if (errno || *end != '\0' || n > (~0ull >> shift))
    return DEFAULT_SIZE;
  return (uint64_t) n << shift;
}

/* With the build lock held.  all: every entry not in use; else the rule.
 * keep (a path, or NULL) is never removed.  Returns how many went. */
static int
prune_locked (guestfs_h *g, const char *cache, const char *keep, int all)
{
  size_t n;
  struct entry *v = list_entries (g, cache, &n);
  uint64_t total = 0, budget = env_size ();
  time_t old = time (NULL) - (time_t) (env_days () * 86400);
  int removed = 0;

  for (size_t i = 0; i < n; i++)
    total += v[i].size;
  for (size_t i = 0; i < n; i++) {
    const struct entry *x = &v[i];
    if (keep && strcmp (x->path, keep) == 0)
      continue;
    if (!(all || x->temp || x->used < old || total > budget))
      continue;
    if (remove_entry (x)) {
      gk_debug (g, "cache: removed %s", x->path);
      total -= x->size;
      removed++;
    }
  }
  free_entries (v, n);
  return removed;
}

/* Take the build lock of cache: its fd, or -1 with the error set. */
int
gk_cache_lock (guestfs_h *g, const char *cache)
{
  char *p = gk_asprintf (g, "%s/lock", cache);
  int fd = open (p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd == -1 || flock (fd, LOCK_EX) == -1) {
    gk_perror (g, "cache: %s", p);
    if (fd >= 0)
      close (fd);
    fd = -1;
  }
  free (p);
  return fd;
}

void
gk_cache_prune (guestfs_h *g, const char *cache, const char *keep)
{
  prune_locked (g, cache, keep, 0);
}

static int
prune_call (guestfs_h *g, int all)
{
  char *cache = gk_cache_dir (g);
  int lock, r = -1;

  if (cache == NULL)
    return -1;
  lock = gk_cache_lock (g, cache);
  if (lock >= 0) {
    r = prune_locked (g, cache, NULL, all);
    close (lock);
  }
  free (cache);
  return r;
}

int
gk_impl_cache_prune (guestfs_h *g)
{
  return prune_call (g, 0);
}

int
gk_impl_cache_clear (guestfs_h *g)
{
  return prune_call (g, 1);
}

struct guestfs_cache_entry_list *
gk_impl_cache_list (guestfs_h *g)
{
  char *cache = gk_cache_dir (g);
  struct guestfs_cache_entry_list *l;
  struct entry *v;
  size_t n;

  if (cache == NULL)
    return NULL;
  v = list_entries (g, cache, &n);
  l = gk_calloc (g, 1, sizeof *l);
  l->len = (uint32_t) n;
  l->val = gk_calloc (g, n ? n : 1, sizeof *l->val);
  for (size_t i = 0; i < n; i++) {
    struct guestfs_cache_entry *c = &l->val[i];
    c->cache_path = v[i].path;
    v[i].path = NULL;
    c->cache_kind = gk_strdup (g, v[i].temp ? "temporary" :
                               v[i].is_dir ? "appliance" : "snapshot");
    c->cache_size = v[i].size;
    c->cache_last_used = (int64_t) v[i].used;
    c->cache_in_use = busy (c->cache_path, v[i].is_dir);
  }
  free_entries (v, n);
  free (cache);
  return l;
}
