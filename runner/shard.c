/* runner/shard.c: one shard of a run (`guestkit run --shard I/N').
 *
 * A sharded run is one run split over N processes, usually on N
 * machines: each runs the same job with its own index I and keeps its
 * share of the tasks.  Which share is decided by a stable hash of each
 * task's key, its image path (a build's output path) and its matrix
 * instance name, so a shard holds the same tasks on any machine and
 * whatever the order of the images:
 *
 *   h = FNV-1a 64 over the bytes of the path, one 0 byte, the bytes of
 *       the instance name ("" when the job has no matrix)
 *       (offset basis 0xcbf29ce484222325, prime 0x100000001b3);
 *   h = splitmix64's finaliser of h (h ^= h >> 30; h *= 0xbf58476d1ce4e5b9;
 *       h ^= h >> 27; h *= 0x94d049bb133111eb; h ^= h >> 31);
 *   the job's tasks are sorted by (h, path, instance) and dealt out in
 *   that order: the task of rank r (from 0) is in shard r mod N.
 *
 * Dealing by rank, rather than h mod N, keeps the shards even (their task
 * counts differ by one at most, where h mod N gives 8 tasks to 4 shards
 * as 0, 3, 2, 3); every shard expands the whole job, so each computes
 * the same ranks.  A fingerprint of the sorted hashes is kept with the
 * shard's run: shards that saw other images are refused by the merge.
 *
 * The shards of one sharded run share a group name (--shard-group, or the
 * job's name and a fingerprint of its text and options).  Each shard
 * writes its own database on local disk; with --out DIR the finished
 * database is copied into DIR under a temporary name and renamed, and a
 * shard started again finds its earlier database (or that copy) and goes
 * on where it stopped.  merge.c combines the copies into one run.
 *
 * The index comes from --shard I/N, else from the environment of a Slurm
 * job array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN, _STEP) or of a Kubernetes
 * Indexed Job (JOB_COMPLETION_INDEX, with --shards N).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "runner.h"

#define MAX_SHARDS 100000

/* Parse a whole non-negative decimal number below MAX_SHARDS + 1. */
static int
shard_num (const char *s, int *out)
{
  char *end;
  long v;

  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || *end || v > MAX_SHARDS)
    return -1;
  *out = (int) v;
  return 0;
}

int
rn_shard_check (int index, int count, const char *what, char **err)
{
  if (count < 1) {
    *err = rn_asprintf ("%s: there must be at least 1 shard, got %d", what, count);
    return -1;
  }
  if (index < 0 || index >= count) {
    *err = rn_asprintf ("%s: shard index %d is out of range: shards of %d are "
                        "numbered 0 to %d", what, index, count, count - 1);
    return -1;
  }
  return 0;
}

int
rn_shard_parse (const char *s, int *index, int *count, char **err)
{
  const char *slash = strchr (s, '/');
  char *a;
  int r;

  if (slash == NULL) {
    *err = rn_asprintf ("--shard: expected I/N (shard I of N, from 0), got '%s'", s);
    return -1;
  }
  a = rn_strndup (s, (size_t) (slash - s));
  r = shard_num (a, index) == -1 || shard_num (slash + 1, count) == -1;
  free (a);
  if (r) {
    *err = rn_asprintf ("--shard: expected I/N with numbers from 0 to %d, got '%s'",
                        MAX_SHARDS, s);
    return -1;
  }
  return rn_shard_check (*index, *count, "--shard", err);
}

/* An environment variable as a number; 1 if set, 0 if not, -1 if bad. */
static int
env_num (const char *name, int *out, char **err)
{
  const char *s = getenv (name);

  if (s == NULL || *s == '\0')
    return 0;
  if (shard_num (s, out) == -1) {
    *err = rn_asprintf ("%s='%s' is not a shard number (0 to %d)", name, s, MAX_SHARDS);
    return -1;
  }
  return 1;
}

/* Slurm: with --shards N the array numbers the shards itself (0..N-1, as
 * `guestkit slurm' writes it, so that `sbatch --array=I' reruns shard I
 * alone); without it, the array's range gives both. */
static int
from_slurm (struct rn_shard *sh, int shards, int id, char **err)
{
  int count, min = 0, step = 1;

  sh->from = "SLURM_ARRAY_TASK_ID";
  if (shards > 0) {
    sh->index = id, sh->count = shards;
    return rn_shard_check (id, shards, "SLURM_ARRAY_TASK_ID with --shards", err);
  }
  if (env_num ("SLURM_ARRAY_TASK_COUNT", &count, err) != 1 ||
      env_num ("SLURM_ARRAY_TASK_MIN", &min, err) == -1 ||
      env_num ("SLURM_ARRAY_TASK_STEP", &step, err) == -1) {
    if (*err == NULL)
      *err = rn_strdup ("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not "
                        "(give --shards N)");
    return -1;
  }
  if (step < 1 || id < min || (id - min) % step) {
    *err = rn_asprintf ("SLURM_ARRAY_TASK_ID=%d is not in the array's range (from %d, "
                        "step %d); give --shard I/N", id, min, step);
    return -1;
  }
  sh->index = (id - min) / step, sh->count = count;
  return rn_shard_check (sh->index, count, "SLURM_ARRAY_TASK_ID", err);
}

int
rn_shard_resolve (struct rn_shard *sh, int given, int shards, char **err)
{
  int id, r;

  *err = NULL;
  if (given) {
    if (shards > 0 && shards != sh->count) {
      *err = rn_asprintf ("--shard %d/%d and --shards %d disagree", sh->index,
                          sh->count, shards);
      return -1;
    }
    sh->from = "--shard";
    return 0;
  }
  if ((r = env_num ("SLURM_ARRAY_TASK_ID", &id, err)) == -1)
    return -1;
  if (r == 1)
    return from_slurm (sh, shards, id, err);
  if ((r = env_num ("JOB_COMPLETION_INDEX", &id, err)) == -1)
    return -1;
  if (r == 1) {
    if (shards <= 0) {
      *err = rn_strdup ("JOB_COMPLETION_INDEX is set: give the number of shards with "
                        "--shards N (the Job's completions)");
      return -1;
    }
    sh->index = id, sh->count = shards, sh->from = "JOB_COMPLETION_INDEX";
    return rn_shard_check (id, shards, "JOB_COMPLETION_INDEX", err);
  }
  if (shards > 0) {
    *err = rn_strdup ("--shards N needs the shard's index: --shard I/N, or run under "
                      "a Slurm array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job "
                      "(JOB_COMPLETION_INDEX)");
    return -1;
  }
  sh->count = 0;             /* not sharded */
  return 0;
}

static uint64_t
fnv1a (uint64_t h, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char) s[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static uint64_t
mix (uint64_t h)
{
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

uint64_t
rn_shard_hash (const char *image, const char *instance)
{
  uint64_t h = fnv1a (0xcbf29ce484222325ULL, image, strlen (image) + 1);
  return mix (fnv1a (h, instance, strlen (instance)));
}

struct keyed {
  uint64_t h;
  const struct rn_task *t;
  size_t i;                  /* its place in v */
};

static const char *
task_image (const struct rn_task *t)
{
  return t->image_path ? t->image_path : "";
}

static int
keyed_cmp (const void *a, const void *b)
{
  const struct keyed *x = a, *y = b;
  int c;

  if (x->h != y->h)
    return x->h < y->h ? -1 : 1;
  if ((c = strcmp (task_image (x->t), task_image (y->t))) != 0)
    return c;
  return strcmp (x->t->inst->name, y->t->inst->name);
}

uint64_t
rn_shard_filter (const struct rn_shard *sh, struct rn_task *v, size_t first, size_t *n)
{
  size_t m = *n - first, k = first;
  struct keyed *o = rn_calloc (m ? m : 1, sizeof *o);
  char *keep = rn_calloc (m ? m : 1, 1);
  uint64_t keys = 0xcbf29ce484222325ULL;

  for (size_t i = 0; i < m; i++)
    o[i] = (struct keyed) { rn_shard_hash (task_image (&v[first + i]),
                                           v[first + i].inst->name), &v[first + i], i };
  qsort (o, m, sizeof *o, keyed_cmp);
  for (size_t r = 0; r < m; r++) {
    keep[o[r].i] = sh->count == 0 || (int) (r % (size_t) sh->count) == sh->index;
    keys = fnv1a (keys, (const char *) &o[r].h, sizeof o[r].h);
  }
  for (size_t i = 0; sh->count && i < m; i++) {
    if (keep[i])
      v[k++] = v[first + i];
    else
      free (v[first + i].image_path);
  }
  if (sh->count)
    *n = k;
  free (o);
  free (keep);
  return mix (keys);
}

int
rn_shard_group_ok (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > 100 || s[0] == '.' || s[0] == '-')
    return 0;
  return strspn (s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789._-") == n;
}

char *
rn_shard_clean (const char *s)
{
  char *g = rn_asprintf ("%.60s", s);

  for (char *p = g; *p; p++)     /* a file name part: keep it plain */
    if (!strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", *p))
      *p = '_';
  if (g[0] == '.' || g[0] == '-')
    g[0] = '_';
  return g;
}

char *
rn_shard_default_group (const char *job_name, const char *text, const char *options)
{
  uint64_t h = fnv1a (0xcbf29ce484222325ULL, text, strlen (text) + 1);
  char *name = rn_shard_clean (job_name);
  char *g = rn_asprintf ("%s-%012llx", name,
                         (unsigned long long) (mix (fnv1a (h, options, strlen (options)))
                                               & 0xffffffffffffULL));
  free (name);
  return g;
}

char *
rn_shard_file (const struct rn_shard *sh, const char *dir)
{
  return rn_asprintf ("%s/%s.shard-%d.db", dir, sh->group, sh->index);
}

char *
rn_shard_local_db (const struct rn_shard *sh)
{
  const char *tmp = getenv ("TMPDIR");
  return rn_shard_file (sh, tmp && *tmp ? tmp : "/var/tmp");
}

/* ---- files ---- */

static int
copy_fd (int in, int out)
{
  char buf[1 << 16];
  ssize_t n;

  while ((n = read (in, buf, sizeof buf)) != 0) {
    if (n == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write (out, buf + off, (size_t) (n - off));
      if (w == -1 && errno != EINTR)
        return -1;
      if (w > 0)
        off += w;
    }
  }
  return 0;
}

static void
sync_dir (const char *path)
{
  char *dir = rn_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0) {
    fsync (fd);
    close (fd);
  }
  free (dir);
}

int
rn_copy_file_atomic (const char *src, const char *dest, char **err)
{
  char *dir = rn_dirname (dest);
  char *tmp = rn_asprintf ("%s/.%s.tmp-XXXXXX", dir, rn_basename (dest));
  int in = open (src, O_RDONLY | O_CLOEXEC), out = -1, r = -1;

  free (dir);
  if (in == -1) {
    *err = rn_asprintf ("%s: %s", src, strerror (errno));
    goto out;
  }
  if ((out = mkostemp (tmp, O_CLOEXEC)) == -1) {
    *err = rn_asprintf ("%s: %s", tmp, strerror (errno));
    goto out;
  }
  fchmod (out, 0666 & ~rn_umask);
  if (copy_fd (in, out) == -1 || fsync (out) == -1 || close (out) == -1) {
    *err = rn_asprintf ("copying %s to %s: %s", src, dest, strerror (errno));
    out = -1;
    unlink (tmp);
    goto out;
  }
  out = -1;
  if (rename (tmp, dest) == -1) {
    *err = rn_asprintf ("%s: %s", dest, strerror (errno));
    unlink (tmp);
    goto out;
  }
  sync_dir (dest);
  r = 0;
 out:
  if (in >= 0)
    close (in);
  if (out >= 0) {
    close (out);
    unlink (tmp);
  }
  free (tmp);
  return r;
}

void
rn_db_files_remove (const char *path)
{
  char *p;

  unlink (path);
  p = rn_asprintf ("%s-wal", path);
  unlink (p);
  free (p);
  p = rn_asprintf ("%s-shm", path);
  unlink (p);
  free (p);
  p = rn_asprintf ("%s-journal", path);
  unlink (p);
  free (p);
}

int
rn_shard_seed (const struct rn_shard *sh, const char *db, char **err)
{
  struct stat st;
  char *copy;
  int r = 0;

  if (sh->out_dir == NULL || stat (db, &st) == 0)
    return 0;                /* no copy, or this node's own database goes on */
  copy = rn_shard_file (sh, sh->out_dir);
  if (stat (copy, &st) == 0) {
    r = rn_copy_file_atomic (copy, db, err);
    if (r == 0)
      printf ("shard %d/%d: going on from %s\n", sh->index, sh->count, copy);
  }
  free (copy);
  return r;
}

int
rn_shard_publish (const struct rn_shard *sh, const char *db, char **err)
{
  char *dest = rn_shard_file (sh, sh->out_dir);
  char *tmp = rn_asprintf ("%s.export-%ld", db, (long) getpid ());
  int r;

  if (mkdir (sh->out_dir, 0777) == -1 && errno != EEXIST) {
    *err = rn_asprintf ("--out %s: %s", sh->out_dir, strerror (errno));
    free (dest), free (tmp);
    return -1;
  }
  rn_db_files_remove (tmp);
  r = rn_db_snapshot (db, tmp, err);
  if (r == 0)
    r = rn_copy_file_atomic (tmp, dest, err);
  rn_db_files_remove (tmp);
  if (r == 0) {
    printf ("shard %d/%d: results in %s\n", sh->index, sh->count, dest);
    rn_db_files_remove (db);  /* the copy is now the shard's state */
  }
  free (dest);
  free (tmp);
  return r;
}

/* ---- the shard's run in its database ---- */

struct found {
  int64_t id;
  char *text, *options;
};

static int
found_row (void *ctx, int ncols, char **cols, char **names)
{
  struct found *f = ctx;
  int64_t id;

  (void) names;
  if (ncols < 3 || cols[0] == NULL || rn_parse_int (cols[0], &id) == -1)
    return 0;
  f->id = id;                /* the latest, if there were several */
  free (f->text);
  free (f->options);
  f->text = rn_strdup (cols[1] ? cols[1] : "");
  f->options = rn_strdup (cols[2] ? cols[2] : "");
  return 0;
}

int64_t
rn_shard_find_run (struct rn_db *db, const struct rn_shard *sh, char **text,
                   char **options, char **err)
{
  struct found f = { 0 };
  char idx[16];
  const char *params[2] = { sh->group, idx };

  snprintf (idx, sizeof idx, "%d", sh->index);
  if (rn_db_query (db, "SELECT id, job_text, options FROM runs "
                   "WHERE json_valid (options) "
                   "AND json_extract (options, '$.shard.group') = ?1 "
                   "AND json_extract (options, '$.shard.index') = CAST (?2 AS INTEGER) "
                   "ORDER BY id", params, 2, found_row, &f, err) == -1)
    return -1;
  *text = f.text;
  *options = f.options;
  return f.id;
}
