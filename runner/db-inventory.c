/* runner/db-inventory.c: a task's inventory (os, applications,
 * filesystems) and findings, kept in a struct rn_audit while the task
 * runs and written to the tables of schemas/results.sql in the task's
 * own transaction (db.c's write_task calls rn_db_audit_write), through
 * db.c's rn_db_write.
 *
 * Every string in here came from the guest: it is copied capped
 * (rn_audit_str) so that a hostile image cannot fill the database.
 */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

char *
rn_audit_str (const char *s, size_t max)
{
  size_t n;
  struct rn_buf b = { 0 };

  if (s == NULL)
    return NULL;
  n = strnlen (s, max + 1);
  if (n <= max)
    return rn_strndup (s, n);
  n = max > 3 ? max - 3 : 0;
  while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
    n--;                       /* not inside a UTF-8 sequence */
  rn_buf_add (&b, s, n);
  rn_buf_adds (&b, "...");
  return rn_buf_take (&b);
}

/* Grow an array of records by one zeroed element. */
static void *
grow (void *v, size_t *n, size_t size)
{
  v = rn_realloc (v, (*n + 1) * size);
  memset ((char *) v + *n * size, 0, size);
  (*n)++;
  return v;
}

struct rn_osrec *
rn_audit_new_os (struct rn_audit *a)
{
  a->os = grow (a->os, &a->nos, sizeof *a->os);
  a->os[a->nos - 1].major = a->os[a->nos - 1].minor = -1;
  return &a->os[a->nos - 1];
}

struct rn_apprec *
rn_audit_new_app (struct rn_audit *a)
{
  a->apps = grow (a->apps, &a->napps, sizeof *a->apps);
  return &a->apps[a->napps - 1];
}

struct rn_fsrec *
rn_audit_new_fs (struct rn_audit *a)
{
  a->fs = grow (a->fs, &a->nfs, sizeof *a->fs);
  a->fs[a->nfs - 1].size = a->fs[a->nfs - 1].used = -1;
  return &a->fs[a->nfs - 1];
}

struct rn_findrec *
rn_audit_new_finding (struct rn_audit *a)
{
  a->findings = grow (a->findings, &a->nfindings, sizeof *a->findings);
  return &a->findings[a->nfindings - 1];
}

void
rn_audit_clear_inventory (struct rn_audit *a)
{
  for (size_t i = 0; i < a->nos; i++) {
    struct rn_osrec *o = &a->os[i];
    free (o->root); free (o->type); free (o->distro); free (o->product);
    free (o->hostname); free (o->arch); free (o->package_format);
    free (o->package_management); free (o->mountpoints);
  }
  for (size_t i = 0; i < a->napps; i++) {
    struct rn_apprec *p = &a->apps[i];
    free (p->root); free (p->name); free (p->version); free (p->release); free (p->arch);
  }
  for (size_t i = 0; i < a->nfs; i++) {
    struct rn_fsrec *f = &a->fs[i];
    free (f->device); free (f->type); free (f->label); free (f->uuid);
  }
  free (a->os);
  free (a->apps);
  free (a->fs);
  a->os = NULL, a->apps = NULL, a->fs = NULL;
  a->nos = a->napps = a->nfs = 0;
}

void
rn_audit_free (struct rn_audit *a)
{
  if (a == NULL)
    return;
  rn_audit_clear_inventory (a);
  for (size_t i = 0; i < a->nfindings; i++) {
    struct rn_findrec *f = &a->findings[i];
    free (f->check_id); free (f->severity); free (f->description);
    free (f->path); free (f->value);
  }
  free (a->findings);
  free (a);
}

/* An int64 column that is NULL when negative (unknown). */
static const char *
opt_int (int64_t v, char *buf)
{
  if (v < 0)
    return NULL;
  snprintf (buf, 24, "%lld", (long long) v);
  return buf;
}

static int
write_os (struct rn_db *db, int64_t task, const struct rn_osrec *o, char **err)
{
  char ma[24], mi[24];

  /* Versions as text bound into INTEGER columns: SQLite stores integers. */
  return rn_db_write (db, err, "INSERT OR REPLACE INTO os (task_id, root, type, distro, "
                      "major_version, minor_version, product, hostname, arch, "
                      "package_format, package_management, mountpoints) "
                      "VALUES (?, ?, ?, ?, CAST(? AS INTEGER), CAST(? AS INTEGER), "
                      "?, ?, ?, ?, ?, ?)", "ittttttttttt", task, o->root, o->type,
                      o->distro, opt_int (o->major, ma), opt_int (o->minor, mi),
                      o->product, o->hostname, o->arch, o->package_format,
                      o->package_management, o->mountpoints ? o->mountpoints : "{}");
}

static int
write_fs (struct rn_db *db, int64_t task, const struct rn_fsrec *f, char **err)
{
  char sz[24], us[24];

  return rn_db_write (db, err, "INSERT OR REPLACE INTO filesystems (task_id, device, "
                      "type, label, uuid, size, used) VALUES (?, ?, ?, ?, ?, "
                      "CAST(? AS INTEGER), CAST(? AS INTEGER))", "itttttt", task,
                      f->device, f->type, f->label, f->uuid, opt_int (f->size, sz),
                      opt_int (f->used, us));
}

static int
write_rows (struct rn_db *db, int64_t task, const struct rn_audit *a, char **err)
{
  for (size_t i = 0; i < a->nos; i++)
    if (write_os (db, task, &a->os[i], err) == -1)
      return -1;
  for (size_t i = 0; i < a->napps; i++) {
    const struct rn_apprec *p = &a->apps[i];
    if (rn_db_write (db, err, "INSERT INTO applications (task_id, root, name, epoch, "
                     "version, release, arch) VALUES (?, ?, ?, ?, ?, ?, ?)", "ittittt",
                     task, p->root ? p->root : "", p->name, p->epoch,
                     p->version ? p->version : "", p->release ? p->release : "",
                     p->arch ? p->arch : "") == -1)
      return -1;
  }
  for (size_t i = 0; i < a->nfs; i++)
    if (write_fs (db, task, &a->fs[i], err) == -1)
      return -1;
  for (size_t i = 0; i < a->nfindings; i++) {
    const struct rn_findrec *f = &a->findings[i];
    if (rn_db_write (db, err, "INSERT OR REPLACE INTO findings (task_id, check_id, "
                     "severity, description, passed, evidence_path, evidence_value) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", "itttitt", task,
                     f->check_id, f->severity, f->description, (int64_t) f->passed,
                     f->path, f->value) == -1)
      return -1;
  }
  return 0;
}

int
rn_db_audit_write (struct rn_db *db, int64_t task_id, const struct rn_audit *a,
                   char **err)
{
  static const char *const tables[] = { "os", "applications", "filesystems", "findings" };

  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    char sql[64];
    snprintf (sql, sizeof sql, "DELETE FROM %s WHERE task_id = ?", tables[i]);
    if (rn_db_write (db, err, sql, "i", task_id) == -1)
      return -1;
  }
  return a ? write_rows (db, task_id, a, err) : 0;
}

static int
first_int (void *ctx, int ncols, char **cols, char **names)
{
  *(int64_t *) ctx = ncols > 0 && cols[0] ? strtoll (cols[0], NULL, 10) : 0;
  return 1;
}

int64_t
rn_db_high_failures (struct rn_db *db, int64_t run_id)
{
  char run[32], *err = NULL;
  const char *p[1] = { run };
  int64_t n = 0;

  snprintf (run, sizeof run, "%lld", (long long) run_id);
  if (rn_db_query (db, "SELECT count(*) FROM findings f JOIN tasks t ON t.id = f.task_id "
                   "WHERE t.run_id = ?1 AND f.severity = 'high' AND NOT f.passed",
                   p, 1, first_int, &n, &err) == -1) {
    free (err);
    return -1;
  }
  return n;
}
