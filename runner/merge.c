/* runner/merge.c: `guestkit merge OUT.db SHARD.db...', and consistent
 * snapshots of a results database (for shard.c's --out copies).
 *
 * The shards of one sharded run (shard.c) each hold a run of the same
 * job with part of its tasks; the merge makes of them one run in OUT,
 * holding the tasks of every shard, numbered as in an unsharded run.
 *
 * The tables are not listed here: they are read from OUT's schema
 * (sqlite_master, table_info, foreign_key_list), so a table added to
 * schemas/results.sql merges without a change here:
 *
 *   kind        what                                how it merges
 *   runs        the run                             one row per group in OUT
 *   tasks       REFERENCES runs                     by (run, seq): new, replaced
 *                                                   or left as it is
 *   under task  REFERENCES tasks, or a table that   with their task; ids of an
 *               does (steps, facts, ...)            INTEGER PRIMARY KEY shifted
 *   under run   REFERENCES runs, not under a task   by value: a row already
 *                                                   there is not added twice
 *   other       no link to runs or tasks            not merged (said so)
 *
 * A shard's task that OUT already holds is compared by value: its status,
 * error and every row under it, leaving out ids, foreign keys and the
 * columns of the attempt (VOLATILE below).  Equal: nothing to do (merging
 * twice adds nothing).  A finished task (ok, failed, timeout) replaces an
 * unfinished one (pending, running, interrupted: a shard that was rerun)
 * and is never replaced by one; two finished ones that differ are a
 * conflict: the first merged stays, and the conflict is reported.
 *
 * Each shard is merged in one transaction, so a merge killed at any
 * moment can be run again.  A shard is refused, named, and the others
 * merged, when it is not a readable database (PRAGMA integrity_check),
 * not a shard's database, of another group, or ran another job, another
 * version of the job file or other options than the run in OUT.
 *
 * The shard is ATTACHed read-only as "s"; its schema may be older than
 * OUT's (fewer columns) but not newer.  Exit: 0 every shard merged and
 * every task of the run present and finished; 1 a shard refused, a
 * conflict, or tasks missing or unfinished; 2 usage, or OUT unusable.
 *
 * This file is the command and one shard's checks; merge-plan.c reads
 * OUT's schema into the plan (and has the SQL helpers), merge-rows.c
 * builds the SQL from the plan and puts a shard's tasks and rows in OUT.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>

#include "runner.h"

#define BUSY_TIMEOUT_MS 60000

/* ---- one shard ---- */

static int
strv_has (const struct rn_strv *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i], s) == 0)
      return 1;
  return 0;
}

static void
say_refused (struct rn_merge *m, const char *path, const char *why)
{
  fprintf (stderr, "%s: merge: %s: refused: %s\n", rn_progname, path, why);
  m->bad = 1;
}

/* A readable database of a schema no newer than OUT's. */
static int
check_shard (struct rn_merge *m, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "PRAGMA s.integrity_check (5)", err);
  struct rn_buf b = { 0 };
  int r;

  if (st == NULL)
    return -1;
  while ((r = sqlite3_step (st)) == SQLITE_ROW) {
    const char *row = (const char *) sqlite3_column_text (st, 0);
    if (row && strcmp (row, "ok") != 0)
      rn_buf_addf (&b, "%s%s", b.len ? "; " : "", row);
  }
  if (r != SQLITE_DONE)
    rn_buf_addf (&b, "%s%s", b.len ? "; " : "", sqlite3_errmsg (m->h));
  sqlite3_finalize (st);
  if (b.len) {
    *err = rn_asprintf ("it is not a sound database: %s", b.s);
    rn_buf_free (&b);
    return -1;
  }
  if (rn_mg_int_of (m, "PRAGMA s.user_version", 0, 0) > rn_mg_int_of (m, "PRAGMA main.user_version", 0, 0)) {
    *err = rn_strdup ("its schema is newer than this guestkit's");
    return -1;
  }
  return 0;
}

/* Tables the shard has and OUT lacks are created in OUT; then the
 * shard's columns of each table, which OUT must all have. */
static int
shard_schema (struct rn_merge *m, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT name, sql FROM s.sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", err);
  int created = 0, r = 0;

  if (st == NULL)
    return -1;
  while (r == 0 && sqlite3_step (st) == SQLITE_ROW) {
    const char *name = (const char *) sqlite3_column_text (st, 0);
    const char *sql = (const char *) sqlite3_column_text (st, 1);
    if (name == NULL || rn_mg_table_index (&m->p, name) >= 0)
      continue;
    if (sql == NULL || strncasecmp (sql, "CREATE TABLE", 12) != 0) {
      *err = rn_asprintf ("its table '%s' cannot be made in the output", name);
      r = -1;
    } else if ((r = rn_mg_exec_s (m, sql, err)) == 0)
      created = 1;
  }
  sqlite3_finalize (st);
  if (r == -1 || (created && rn_mg_plan_load (m, err) == -1))
    return -1;
  for (size_t i = 0; i < m->p.n; i++) {
    struct rn_mg_table *t = &m->p.t[i];
    rn_strv_free (&t->scols);
    if (rn_mg_read_columns (m, "s", t->name, &t->scols, NULL, err) == -1)
      return -1;
    t->in_shard = t->scols.n > 0;
    for (size_t k = 0; k < t->scols.n; k++)
      if (!strv_has (&t->cols, t->scols.v[k])) {
        *err = rn_asprintf ("its table '%s' has a column '%s' that the output's has not",
                            t->name, t->scols.v[k]);
        return -1;
      }
  }
  if (!m->p.t[m->p.runs].in_shard || !m->p.t[m->p.tasks].in_shard) {
    *err = rn_strdup ("it is not a guestkit results database (no runs or tasks)");
    return -1;
  }
  return 0;
}

/* The shard's run of the group being merged (the first shard decides
 * the group when --group is not given). */
static int
shard_run (struct rn_merge *m, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT id, json_extract (options, '$.shard.group'), "
                           "json_extract (options, '$.shard.index'), "
                           "json_extract (options, '$.shard.count'), "
                           "json_extract (options, '$.shard.total'), job_name FROM s.runs "
                           "WHERE json_valid (options) AND "
                           "json_type (options, '$.shard.index') = 'integer' AND "
                           "json_type (options, '$.shard.group') = 'text' ORDER BY id", err);
  char *other = NULL;
  int64_t count = 0;

  if (st == NULL)
    return -1;
  m->srun = 0;
  while (sqlite3_step (st) == SQLITE_ROW) {
    const char *g = (const char *) sqlite3_column_text (st, 1);
    const char *job = (const char *) sqlite3_column_text (st, 5);
    if (m->group && strcmp (g, m->group) != 0) {
      free (other);
      other = rn_asprintf ("it holds shard %lld of group %s (job %s), not of group %s",
                           (long long) sqlite3_column_int64 (st, 2), g, job ? job : "?",
                           m->group);
      continue;
    }
    if (m->group == NULL)
      m->group = m->group_own = rn_strdup (g);
    m->srun = sqlite3_column_int64 (st, 0);
    m->sindex = sqlite3_column_int (st, 2);
    count = sqlite3_column_int64 (st, 3);
    m->total = sqlite3_column_int64 (st, 4);
  }
  sqlite3_finalize (st);
  if (m->srun == 0) {
    *err = other ? other : rn_strdup ("it holds no shard's run (guestkit run --shard "
                                      "writes one)");
    return -1;
  }
  free (other);
  if (count < 1 || m->sindex < 0 || m->sindex >= count || m->total < 0) {
    *err = rn_asprintf ("its run says it is shard %d of %lld, with %lld tasks in all",
                        m->sindex, (long long) count, (long long) m->total);
    return -1;
  }
  return 0;
}

/* Why the shard's run cannot join run r of OUT, or NULL. */
static const char IDENTITY_SQL[] =
  "SELECT CASE"
  " WHEN r.job_name IS NOT x.job_name THEN"
  "  'it is a shard of job ''' || x.job_name || ''', not of ''' || r.job_name || ''''"
  " WHEN r.job_text IS NOT x.job_text THEN"
  "  'it ran another version of job ''' || x.job_name || ''' (the job file differs)'"
  " WHEN json_extract (r.options, '$.shard.count') IS NOT"
  "      json_extract (x.options, '$.shard.count') THEN"
  "  'it is one of ' || json_extract (x.options, '$.shard.count') || ' shards, not of ' ||"
  "  json_extract (r.options, '$.shard.count')"
  " WHEN json_remove (r.options, '$.shard.sources') IS NOT"
  "      json_remove (x.options, '$.shard.index') THEN"
  "  'it ran with other options or saw other images (--var, --images, --format,"
  " --timeout, --retries, or the images the job names, differ)'"
  " END FROM main.runs AS r, s.runs AS x WHERE r.id = ?1 AND x.id = ?2";

/* A new run in OUT for the group: the shard's, without its index. */
static int
new_run (struct rn_merge *m, char **err)
{
  const struct rn_mg_table *t = &m->p.t[m->p.runs];
  struct rn_buf b = { 0 };
  int r;

  rn_buf_adds (&b, "INSERT INTO main.runs (");
  for (size_t i = 0, n = 0; i < t->scols.n; i++)
    if (!t->pk || strcmp (t->scols.v[i], t->pk)) {
      char *c = rn_mg_qid (t->scols.v[i]);
      rn_buf_addf (&b, "%s%s", n++ ? ", " : "", c);
      free (c);
    }
  rn_buf_adds (&b, ") SELECT ");
  for (size_t i = 0, n = 0; i < t->scols.n; i++) {
    const char *c = t->scols.v[i];
    char *qc;
    if (t->pk && strcmp (c, t->pk) == 0)
      continue;
    rn_buf_adds (&b, n++ ? ", " : "");
    if (strcmp (c, "options") == 0)
      rn_buf_adds (&b, "json_set (json_remove (options, '$.shard.index'), "
                   "'$.shard.sources', json ('{}'))");
    else if (strcmp (c, "status") == 0)
      rn_buf_adds (&b, "'interrupted'");
    else if (strcmp (c, "pid") == 0 || strcmp (c, "host") == 0 || strcmp (c, "workers") == 0)
      rn_buf_adds (&b, "NULL");
    else {
      qc = rn_mg_qid (c);
      rn_buf_adds (&b, qc);
      free (qc);
    }
  }
  rn_buf_adds (&b, " FROM s.runs WHERE id = ?1");
  r = rn_mg_exec_i (m, err, b.s, 1, m->srun);
  rn_buf_free (&b);
  m->run = sqlite3_last_insert_rowid (m->h);
  return r;
}

/* OUT's run of the group, made if there is none; the shard must have
 * run the same job, version and options. */
static int
target_run (struct rn_merge *m, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT id FROM main.runs WHERE json_valid (options) AND "
                           "json_extract (options, '$.shard.group') = ?1 AND "
                           "json_type (options, '$.shard.index') IS NULL "
                           "ORDER BY id DESC LIMIT 1", err);
  const char *why;

  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, m->group, -1, SQLITE_TRANSIENT);
  m->run = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
  sqlite3_finalize (st);
  if (m->run == 0)
    return new_run (m, err);
  if ((st = rn_mg_prep (m, IDENTITY_SQL, err)) == NULL)
    return -1;
  sqlite3_bind_int64 (st, 1, m->run);
  sqlite3_bind_int64 (st, 2, m->srun);
  if (sqlite3_step (st) == SQLITE_ROW && (why = (const char *) sqlite3_column_text (st, 0)))
    *err = rn_asprintf ("%s (compared with run %lld of the output)", why,
                        (long long) m->run);
  sqlite3_finalize (st);
  return *err ? -1 : 0;
}


/* The run after this shard: its sources, times, task count and status. */
static int
update_run (struct rn_merge *m, const char *real, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "UPDATE main.runs AS r SET ntasks = ?3, "
    "options = json_set (r.options, '$.shard.sources.\"' || ?4 || '\"', ?5), "
    "started = CASE WHEN x.started < r.started THEN x.started ELSE r.started END, "
    "finished = CASE WHEN r.finished IS NULL OR x.finished > r.finished "
    "  THEN x.finished ELSE r.finished END "
    "FROM s.runs AS x WHERE r.id = ?1 AND x.id = ?2", err);
  int rc;

  if (st == NULL)
    return -1;
  sqlite3_bind_int64 (st, 1, m->run);
  sqlite3_bind_int64 (st, 2, m->srun);
  sqlite3_bind_int64 (st, 3, m->total);
  sqlite3_bind_int (st, 4, m->sindex);
  sqlite3_bind_text (st, 5, real, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (st);
  if (rc != SQLITE_DONE)
    *err = rn_asprintf ("%s", sqlite3_errmsg (m->h));
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    return -1;
  return rn_mg_exec_i (m, err, "UPDATE main.runs SET status = CASE "
    "WHEN (SELECT count(*) FROM main.tasks WHERE run_id = ?1) < ntasks OR EXISTS "
    "  (SELECT 1 FROM main.tasks WHERE run_id = ?1 AND "
    "   status IN ('pending', 'running', 'interrupted')) THEN 'interrupted' "
    "WHEN EXISTS (SELECT 1 FROM main.tasks WHERE run_id = ?1 AND status <> 'ok') "
    "  THEN 'failed' ELSE 'done' END WHERE id = ?1", 1, m->run);
}

/* Everything of one attached shard, in the open transaction. */
static int
merge_attached (struct rn_merge *m, const char *real, char **err)
{
  m->added = m->replaced = m->same = m->conflicts = 0;
  if (check_shard (m, err) == -1 || shard_schema (m, err) == -1 ||
      shard_run (m, err) == -1 || target_run (m, err) == -1 ||
      rn_mg_map_tasks (m, err) == -1 || rn_mg_drop_replaced (m, err) == -1 ||
      rn_mg_put_tasks (m, err) == -1 || rn_mg_put_rows (m, err) == -1)
    return -1;
  return update_run (m, real, err);
}

/* A path as a read-only SQLite URI (file:/a%20b.db?mode=ro). */
static char *
ro_uri (const char *path)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "file:");
  for (const unsigned char *p = (const unsigned char *) path; *p; p++)
    if (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~", *p))
      rn_buf_addc (&b, (char) *p);
    else
      rn_buf_addf (&b, "%%%02X", *p);
  rn_buf_adds (&b, "?mode=ro");
  return rn_buf_take (&b);
}

static void
merge_one (struct rn_merge *m, const char *path, const char *out_real)
{
  char real[PATH_MAX], *uri, *err = NULL;
  sqlite3_stmt *st;
  int chosen = m->group != NULL;   /* else this shard chooses the group */

  m->path = path;
  if (realpath (path, real) == NULL) {
    err = rn_strdup (strerror (errno));
    goto out;
  }
  if (strcmp (real, out_real) == 0) {
    err = rn_strdup ("it is the output database");
    goto out;
  }
  uri = ro_uri (real);
  st = rn_mg_prep (m, "ATTACH ?1 AS s", &err);
  if (st) {
    sqlite3_bind_text (st, 1, uri, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) != SQLITE_DONE)
      err = rn_asprintf ("it is not a sound database: %s", sqlite3_errmsg (m->h));
    sqlite3_finalize (st);
  }
  free (uri);
  if (err)
    goto out;
  if (rn_mg_exec_s (m, "BEGIN IMMEDIATE", &err) == 0) {
    if (merge_attached (m, real, &err) == 0)
      rn_mg_exec_s (m, "COMMIT", &err);
    if (err) {
      char *e2 = NULL;
      rn_mg_exec_s (m, "ROLLBACK", &e2);
      free (e2);
      rn_mg_plan_load (m, &e2);    /* tables made for this shard are gone again */
      free (e2);
    }
  }
  {
    char *e2 = NULL;
    rn_mg_exec_s (m, "DETACH s", &e2);
    free (e2);
  }
  if (err == NULL && !m->quiet)
    printf ("%s: shard %d of %s: %zu new, %zu updated, %zu unchanged task%s%s\n", path,
            m->sindex, m->group, m->added, m->replaced, m->same,
            m->added + m->replaced + m->same == 1 ? "" : "s",
            m->conflicts ? " (conflicts above)" : "");
 out:
  if (err) {
    say_refused (m, path, err);
    if (!chosen) {           /* a refused shard does not choose the group */
      free (m->group_own);
      m->group = m->group_own = NULL;
      m->run = 0;
    }
  }
  free (err);
}

/* The merged run: tasks present, shards missing. */
static void
summary (struct rn_merge *m, const char *out)
{
  sqlite3_stmt *st;
  char *err = NULL;
  int64_t have, want, count, unfinished;
  struct rn_buf missing = { 0 };

  if (m->run == 0) {
    printf ("%s: nothing merged\n", out);
    return;
  }
  have = rn_mg_int_of (m, "SELECT count(*) FROM main.tasks WHERE run_id = ?1", m->run, 0);
  unfinished = rn_mg_int_of (m, "SELECT count(*) FROM main.tasks WHERE run_id = ?1 AND "
                       "status IN ('pending', 'running', 'interrupted')", m->run, 0);
  want = rn_mg_int_of (m, "SELECT ntasks FROM main.runs WHERE id = ?1", m->run, 0);
  count = rn_mg_int_of (m, "SELECT json_extract (options, '$.shard.count') FROM main.runs "
                  "WHERE id = ?1", m->run, 0);
  st = rn_mg_prep (m, "WITH RECURSIVE n (value) AS (SELECT 0 UNION ALL SELECT value + 1 "
             "FROM n WHERE value + 1 < ?2) SELECT value FROM n WHERE value < ?2 AND "
             "value NOT IN (SELECT CAST (j.key AS INTEGER) FROM main.runs AS r, json_each "
             "(r.options, '$.shard.sources') AS j WHERE r.id = ?1)", &err);
  if (st) {
    sqlite3_bind_int64 (st, 1, m->run);
    sqlite3_bind_int64 (st, 2, count);
    while (sqlite3_step (st) == SQLITE_ROW)
      rn_buf_addf (&missing, "%s%lld", missing.len ? " " : "",
                   (long long) sqlite3_column_int64 (st, 0));
    sqlite3_finalize (st);
  }
  free (err);
  printf ("%s: run %lld (group %s): %lld of %lld task%s%s%s%s", out, (long long) m->run,
          m->group, (long long) have, (long long) want, want == 1 ? "" : "s",
          missing.len ? "; shards not merged yet: " : "", missing.len ? missing.s : "",
          have < want ? "" : ", all there");
  if (unfinished)
    printf ("; %lld unfinished (rerun their shards)", (long long) unfinished);
  printf ("\n");
  if (have < want || unfinished)
    m->bad = 1;
  rn_buf_free (&missing);
}

static void
merge_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit merge [--group NAME] [-q] OUT.db SHARD.db...\n"
"\n"
"Merge the databases of the shards of a sharded run (guestkit run --shard)\n"
"into OUT.db (created if missing), as one run with every shard's tasks.\n"
"Merging a shard again adds nothing; a shard that was rerun updates its\n"
"unfinished tasks.  A shard that is not a sound database, or ran another job,\n"
"job version or options, is refused and named; the others are merged.\n"
"\n"
"  --group NAME   merge the shards of this group (default: the first shard's)\n"
"  -q, --quiet    print only problems and the summary\n"
"  -h, --help     this text\n"
"\n"
"Exit status: 0 all merged and every task there, 1 a shard refused, a conflict\n"
"or tasks missing, 2 usage or OUT.db unusable.\n");
}

/* OUT made or upgraded to the schema by db.c, then opened here. */
static int
open_out (struct rn_merge *m, const char *out, char **err)
{
  struct rn_db *db = rn_db_open (out, 1, err);

  if (db == NULL)
    return -1;
  rn_db_close (db);
  if (sqlite3_open_v2 (out, &m->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s: %s", out, sqlite3_errmsg (m->h));
    return -1;
  }
  sqlite3_busy_timeout (m->h, BUSY_TIMEOUT_MS);
  /* a big cache: each shard's rows land all over the tasks' indexes */
  if (rn_mg_exec_s (m, "PRAGMA synchronous = NORMAL", err) == -1 ||
      rn_mg_exec_s (m, "PRAGMA cache_size = -65536", err) == -1 ||
      rn_mg_exec_s (m, "PRAGMA temp_store = MEMORY", err) == -1 || rn_mg_plan_load (m, err) == -1) {
    char *e = rn_asprintf ("%s: %s", out, *err);
    free (*err);
    *err = e;
    return -1;
  }
  return 0;
}

int
rn_cmd_merge (int argc, char **argv)
{
  static const struct option opts[] = {
    { "group", required_argument, NULL, 'g' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct rn_merge m = { 0 };
  char real[PATH_MAX], *err = NULL;
  int c, rc = RN_EXIT_USAGE;

  optind = 1;
  while ((c = getopt_long (argc, argv, "qh", opts, NULL)) != -1)
    switch (c) {
    case 'g': m.group = optarg; break;
    case 'q': m.quiet = 1; break;
    case 'h': merge_usage (stdout); return RN_EXIT_OK;
    default: fprintf (stderr, "Try 'guestkit merge --help'.\n"); return RN_EXIT_USAGE;
    }
  if (argc - optind < 2) {
    fprintf (stderr, "%s: merge: give the output database and at least one shard's\n"
             "Try 'guestkit merge --help'.\n", rn_progname);
    return RN_EXIT_USAGE;
  }
  if (open_out (&m, argv[optind], &err) == -1 || realpath (argv[optind], real) == NULL) {
    fprintf (stderr, "%s: merge: %s\n", rn_progname, err ? err : strerror (errno));
    goto out;
  }
  for (int i = optind + 1; i < argc; i++)
    merge_one (&m, argv[i], real);
  summary (&m, argv[optind]);
  rc = m.bad ? RN_EXIT_FAILED : RN_EXIT_OK;
 out:
  free (err);
  rn_mg_plan_free (&m.p);
  sqlite3_close (m.h);
  free (m.group_own);
  return rc;
}

/* ---- snapshots ---- */

int
rn_db_snapshot (const char *src, const char *dest, char **err)
{
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  int r = -1;

  if (sqlite3_open_v2 (src, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s: %s", src, h ? sqlite3_errmsg (h) : "cannot open");
    goto out;
  }
  sqlite3_busy_timeout (h, BUSY_TIMEOUT_MS);
  if (sqlite3_prepare_v2 (h, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s: %s", src, sqlite3_errmsg (h));
    goto out;
  }
  sqlite3_bind_text (st, 1, dest, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) != SQLITE_DONE) {
    *err = rn_asprintf ("%s: copying to %s: %s", src, dest, sqlite3_errmsg (h));
    goto out;
  }
  r = 0;
 out:
  sqlite3_finalize (st);
  sqlite3_close (h);
  return r;
}
