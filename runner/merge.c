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
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>

#include "runner.h"

#define BUSY_TIMEOUT_MS 60000

/* Columns that describe an attempt, not its result: left out when two
 * copies of a task are compared. */
static const char *const VOLATILE[] = {
  "started", "finished", "duration_ms", "overhead_ms", "worker", "attempts", NULL,
};

enum kind { K_RUNS, K_TASKS, K_UNDER_TASK, K_UNDER_RUN, K_OTHER };
enum act { A_SKIP, A_INSERT, A_REPLACE };

struct fk {
  char *col;                 /* the referencing column */
  char *ptable;              /* the referenced table */
  char *pcol;                /* the referenced column (NULL: its key) */
  int parent;                /* index of ptable, -1 if there is no such table */
};

struct mtable {
  char *name;
  struct rn_strv cols;       /* OUT's columns, in order */
  char *pk;                  /* its INTEGER PRIMARY KEY (rowid) column, or NULL */
  struct fk *fks;
  size_t nfks;
  enum kind kind;
  int via;                   /* under a task or run: the fk toward it */
  int depth;                 /* tasks 0, steps 1, ... (parents first) */
  int in_shard;              /* the shard has this table */
  struct rn_strv scols;      /* the shard's columns (a subset of cols) */
  int64_t off;               /* this shard's rows: new id = old id + off */
};

struct plan {
  struct mtable *t;
  size_t n;
  int runs, tasks;           /* indexes of the two fixed tables */
};

struct merge {
  sqlite3 *h;                /* OUT, with the shard attached as "s" */
  struct plan p;
  const char *group;         /* the sharded run merged (--group, or the first shard's) */
  char *group_own;
  int64_t run;               /* its run in OUT, once known */
  const char *path;          /* the shard being merged */
  int64_t srun;              /* its run in the shard */
  int sindex;                /* its shard index */
  int64_t total;             /* tasks of the whole run */
  size_t added, replaced, same, conflicts;
  int quiet;
  int bad;                   /* something to report in the exit status */
};

/* ---- SQL helpers ---- */

static char *
qid (const char *name)       /* "name", quotes doubled; caller frees */
{
  struct rn_buf b = { 0 };

  rn_buf_addc (&b, '"');
  for (const char *p = name; *p; p++) {
    if (*p == '"')
      rn_buf_addc (&b, '"');
    rn_buf_addc (&b, *p);
  }
  rn_buf_addc (&b, '"');
  return rn_buf_take (&b);
}

static sqlite3_stmt *
prep (struct merge *m, const char *sql, char **err)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (m->h, sql, -1, &st, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s", sqlite3_errmsg (m->h));
    return NULL;
  }
  return st;
}

/* Run sql (no rows wanted), binding int64 parameters ?1, ?2, ... */
static int
exec_i (struct merge *m, char **err, const char *sql, int n, ...)
{
  sqlite3_stmt *st = prep (m, sql, err);
  va_list ap;
  int r;

  if (st == NULL)
    return -1;
  va_start (ap, n);
  for (int i = 0; i < n; i++)
    sqlite3_bind_int64 (st, i + 1, va_arg (ap, int64_t));
  va_end (ap);
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    ;
  if (r != SQLITE_DONE)
    *err = rn_asprintf ("%s", sqlite3_errmsg (m->h));
  sqlite3_finalize (st);
  return r == SQLITE_DONE ? 0 : -1;
}

static int
exec_s (struct merge *m, const char *sql, char **err)
{
  return exec_i (m, err, sql, 0);
}

/* The first column of the first row as an integer (def if none). */
static int64_t
int_of (struct merge *m, const char *sql, int64_t a, int64_t def)
{
  sqlite3_stmt *st;
  char *err = NULL;
  int64_t v = def;

  if ((st = prep (m, sql, &err)) == NULL) {
    free (err);
    return def;
  }
  sqlite3_bind_int64 (st, 1, a);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static int
in_list (const char *const *l, const char *s)
{
  for (size_t i = 0; l[i]; i++)
    if (strcmp (l[i], s) == 0)
      return 1;
  return 0;
}

static int
strv_has (const struct rn_strv *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i], s) == 0)
      return 1;
  return 0;
}

/* ---- the schema ---- */

static void
plan_free (struct plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    struct mtable *t = &p->t[i];
    free (t->name);
    free (t->pk);
    rn_strv_free (&t->cols);
    rn_strv_free (&t->scols);
    for (size_t k = 0; k < t->nfks; k++) {
      free (t->fks[k].col);
      free (t->fks[k].ptable);
      free (t->fks[k].pcol);
    }
    free (t->fks);
  }
  free (p->t);
  memset (p, 0, sizeof *p);
}

static int
table_index (const struct plan *p, const char *name)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcasecmp (p->t[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Columns of schema.table into cols; its rowid alias into *pk. */
static int
read_columns (struct merge *m, const char *schema, const char *table,
              struct rn_strv *cols, char **pk, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT name, upper (type), pk, "
                           "(SELECT count(*) FROM pragma_table_info (?1, ?2) WHERE pk > 0) "
                           "FROM pragma_table_info (?1, ?2) ORDER BY cid", err);

  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, table, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (st, 2, schema, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW) {
    const char *name = (const char *) sqlite3_column_text (st, 0);
    const char *type = (const char *) sqlite3_column_text (st, 1);
    rn_strv_add (cols, rn_strdup (name ? name : ""));
    if (pk && sqlite3_column_int (st, 2) == 1 && sqlite3_column_int (st, 3) == 1 &&
        type && strcmp (type, "INTEGER") == 0)
      *pk = rn_strdup (name);
  }
  sqlite3_finalize (st);
  return 0;
}

static int
read_fks (struct merge *m, struct mtable *t, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT \"from\", \"table\", \"to\" FROM "
                           "pragma_foreign_key_list (?1, 'main') ORDER BY id, seq", err);

  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, t->name, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW) {
    const char *from = (const char *) sqlite3_column_text (st, 0);
    const char *table = (const char *) sqlite3_column_text (st, 1);
    const char *to = (const char *) sqlite3_column_text (st, 2);
    struct fk *f;
    t->fks = rn_realloc (t->fks, (t->nfks + 1) * sizeof *t->fks);
    f = &t->fks[t->nfks++];
    f->col = rn_strdup (from ? from : "");
    f->ptable = rn_strdup (table ? table : "");
    f->pcol = to ? rn_strdup (to) : NULL;
    f->parent = -1;
  }
  sqlite3_finalize (st);
  return 0;
}

/* Under a task if some foreign key leads to tasks, else under the run if
 * one leads to runs; repeated until nothing changes (any depth). */
static void
classify (struct plan *p)
{
  int changed = 1;

  for (size_t i = 0; i < p->n; i++)
    p->t[i].kind = (int) i == p->runs ? K_RUNS : (int) i == p->tasks ? K_TASKS : K_OTHER;
  for (int round = 0; changed && round < 64; round++) {
    changed = 0;
    for (size_t i = 0; i < p->n; i++) {
      struct mtable *t = &p->t[i];
      if (t->kind != K_OTHER && t->kind != K_UNDER_RUN)
        continue;
      for (size_t k = 0; k < t->nfks && t->kind != K_UNDER_TASK; k++) {
        int par = t->fks[k].parent;
        enum kind pk = par >= 0 && par != (int) i ? p->t[par].kind : K_OTHER;
        if (pk == K_TASKS || pk == K_UNDER_TASK) {
          t->kind = K_UNDER_TASK, t->via = (int) k, t->depth = p->t[par].depth + 1;
          changed = 1;
        } else if (pk == K_RUNS && t->kind == K_OTHER) {
          t->kind = K_UNDER_RUN, t->via = (int) k;
          changed = 1;
        }
      }
    }
  }
}

/* OUT's tables, their columns, keys and kinds. */
static int
plan_load (struct merge *m, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT name FROM main.sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", err);
  struct plan *p = &m->p;

  if (st == NULL)
    return -1;
  plan_free (p);
  while (sqlite3_step (st) == SQLITE_ROW) {
    p->t = rn_realloc (p->t, (p->n + 1) * sizeof *p->t);
    memset (&p->t[p->n], 0, sizeof *p->t);
    p->t[p->n++].name = rn_strdup ((const char *) sqlite3_column_text (st, 0));
  }
  sqlite3_finalize (st);
  for (size_t i = 0; i < p->n; i++)
    if (read_columns (m, "main", p->t[i].name, &p->t[i].cols, &p->t[i].pk, err) == -1 ||
        read_fks (m, &p->t[i], err) == -1)
      return -1;
  for (size_t i = 0; i < p->n; i++)
    for (size_t k = 0; k < p->t[i].nfks; k++)
      p->t[i].fks[k].parent = table_index (p, p->t[i].fks[k].ptable);
  p->runs = table_index (p, "runs");
  p->tasks = table_index (p, "tasks");
  if (p->runs < 0 || p->tasks < 0) {
    *err = rn_strdup ("it has no runs or tasks table");
    return -1;
  }
  classify (p);
  return 0;
}

/* ---- SQL built from the plan ---- */

/* The column that t's fk k references in its parent. */
static const char *
fk_target (const struct plan *p, const struct fk *f)
{
  return f->pcol ? f->pcol : f->parent >= 0 && p->t[f->parent].pk ? p->t[f->parent].pk
                                                                     : "rowid";
}

/* An SQL expression: the task (or, under a run, the run) that the row
 * `a<depth>' of t in schema belongs to. */
static void
owner_expr (const struct plan *p, const struct mtable *t, const char *schema,
            int depth, struct rn_buf *b)
{
  const struct fk *f = &t->fks[t->via];
  const struct mtable *par = &p->t[f->parent];
  char *col = qid (f->col);

  if (par->kind == K_TASKS || par->kind == K_RUNS) {
    rn_buf_addf (b, "a%d.%s", depth, col);
  } else {
    char *pt = qid (par->name), *pc = qid (fk_target (p, f));
    rn_buf_adds (b, "(SELECT ");
    owner_expr (p, par, schema, depth + 1, b);
    rn_buf_addf (b, " FROM %s.%s AS a%d WHERE a%d.%s = a%d.%s)", schema, pt, depth + 1,
                 depth + 1, pc, depth, col);
    free (pt), free (pc);
  }
  free (col);
}

static const struct fk *
fk_of (const struct mtable *t, const char *col)
{
  for (size_t k = 0; k < t->nfks; k++)
    if (strcmp (t->fks[k].col, col) == 0)
      return &t->fks[k];
  return NULL;
}

/* Left out of a comparison: keys, links and the attempt's own columns. */
static int
compared (const struct mtable *t, const char *col)
{
  return !(t->pk && strcmp (t->pk, col) == 0) && fk_of (t, col) == NULL &&
         !in_list (VOLATILE, col);
}

/* quote(a0.c1) || char(31) || quote(a0.c2) ... over t's compared columns
 * (the shard's: OUT may have more). */
static void
row_text (const struct mtable *t, struct rn_buf *b)
{
  int first = 1;

  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if (!compared (t, t->scols.v[i]))
      continue;
    c = qid (t->scols.v[i]);
    rn_buf_addf (b, "%squote (a0.%s)", first ? "" : " || char(31) || ", c);
    free (c);
    first = 0;
  }
  if (first)
    rn_buf_adds (b, "''");
}

/* One text for task ?1 of schema: the task's row and every row under it. */
static char *
digest_sql (const struct plan *p, const char *schema)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "SELECT (SELECT ");
  row_text (&p->t[p->tasks], &b);
  rn_buf_addf (&b, " FROM %s.tasks AS a0 WHERE a0.id = ?1)", schema);
  for (size_t i = 0; i < p->n; i++) {
    const struct mtable *t = &p->t[i];
    char *name;
    if (t->kind != K_UNDER_TASK || !t->in_shard)
      continue;
    name = qid (t->name);
    rn_buf_adds (&b, " || char(29) || coalesce ((SELECT group_concat (r, char(30)) FROM "
                 "(SELECT ");
    row_text (t, &b);
    rn_buf_addf (&b, " AS r FROM %s.%s AS a0 WHERE ", schema, name);
    owner_expr (p, t, schema, 0, &b);
    rn_buf_adds (&b, " = ?1 ORDER BY r)), '')");
    free (name);
  }
  return rn_buf_take (&b);
}

/* The value written for column col of a row a0 of t coming from the
 * shard: ids shifted, links followed to their new rows. */
static void
col_expr (const struct merge *m, const struct mtable *t, const char *col,
          struct rn_buf *b)
{
  const struct plan *p = &m->p;
  const struct fk *f = fk_of (t, col);
  char *c = qid (col);

  if (t == &p->t[p->tasks] && t->pk && strcmp (col, t->pk) == 0)
    rn_buf_adds (b, "m.new");
  else if (t->pk && strcmp (col, t->pk) == 0)
    rn_buf_addf (b, "a0.%s + %lld", c, (long long) t->off);
  else if (f && f->parent == p->runs)
    rn_buf_addf (b, "%lld", (long long) m->run);
  else if (f && f->parent == p->tasks)
    rn_buf_addf (b, "(SELECT new FROM temp.m_tasks WHERE old = a0.%s)", c);
  else if (f && f->parent >= 0 && p->t[f->parent].pk && p->t[f->parent].kind != K_OTHER &&
           strcmp (fk_target (p, f), p->t[f->parent].pk) == 0)
    rn_buf_addf (b, "a0.%s + %lld", c, (long long) p->t[f->parent].off);
  else
    rn_buf_addf (b, "a0.%s", c);
  free (c);
}

/* INSERT INTO main.T (the shard's columns) SELECT ... FROM s.T AS a0 */
static void
insert_head (const struct merge *m, const struct mtable *t, struct rn_buf *b)
{
  char *name = qid (t->name);

  rn_buf_addf (b, "INSERT INTO main.%s (", name);
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c = qid (t->scols.v[i]);
    rn_buf_addf (b, "%s%s", i ? ", " : "", c);
    free (c);
  }
  rn_buf_adds (b, ") SELECT ");
  for (size_t i = 0; i < t->scols.n; i++) {
    if (i)
      rn_buf_adds (b, ", ");
    col_expr (m, t, t->scols.v[i], b);
  }
  rn_buf_addf (b, " FROM s.%s AS a0", name);
  free (name);
}

/* The first id of the shard's rows of t in OUT: after OUT's last. */
static void
set_offset (struct merge *m, struct mtable *t)
{
  char *name, *pk, *sql;

  t->off = 0;
  if (t->pk == NULL)
    return;
  name = qid (t->name), pk = qid (t->pk);
  sql = rn_asprintf ("SELECT coalesce ((SELECT max (%s) FROM main.%s), 0) - "
                     "coalesce ((SELECT min (%s) FROM s.%s), 0) + 1", pk, name, pk, name);
  t->off = int_of (m, sql, 0, 0);
  free (name), free (pk), free (sql);
}

/* ---- one shard ---- */

static void
say_refused (struct merge *m, const char *path, const char *why)
{
  fprintf (stderr, "%s: merge: %s: refused: %s\n", rn_progname, path, why);
  m->bad = 1;
}

/* A readable database of a schema no newer than OUT's. */
static int
check_shard (struct merge *m, char **err)
{
  sqlite3_stmt *st = prep (m, "PRAGMA s.integrity_check (5)", err);
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
  if (int_of (m, "PRAGMA s.user_version", 0, 0) > int_of (m, "PRAGMA main.user_version", 0, 0)) {
    *err = rn_strdup ("its schema is newer than this guestkit's");
    return -1;
  }
  return 0;
}

/* Tables the shard has and OUT lacks are created in OUT; then the
 * shard's columns of each table, which OUT must all have. */
static int
shard_schema (struct merge *m, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT name, sql FROM s.sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", err);
  int created = 0, r = 0;

  if (st == NULL)
    return -1;
  while (r == 0 && sqlite3_step (st) == SQLITE_ROW) {
    const char *name = (const char *) sqlite3_column_text (st, 0);
    const char *sql = (const char *) sqlite3_column_text (st, 1);
    if (name == NULL || table_index (&m->p, name) >= 0)
      continue;
    if (sql == NULL || strncasecmp (sql, "CREATE TABLE", 12) != 0) {
      *err = rn_asprintf ("its table '%s' cannot be made in the output", name);
      r = -1;
    } else if ((r = exec_s (m, sql, err)) == 0)
      created = 1;
  }
  sqlite3_finalize (st);
  if (r == -1 || (created && plan_load (m, err) == -1))
    return -1;
  for (size_t i = 0; i < m->p.n; i++) {
    struct mtable *t = &m->p.t[i];
    rn_strv_free (&t->scols);
    if (read_columns (m, "s", t->name, &t->scols, NULL, err) == -1)
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
shard_run (struct merge *m, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT id, json_extract (options, '$.shard.group'), "
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
new_run (struct merge *m, char **err)
{
  const struct mtable *t = &m->p.t[m->p.runs];
  struct rn_buf b = { 0 };
  int r;

  rn_buf_adds (&b, "INSERT INTO main.runs (");
  for (size_t i = 0, n = 0; i < t->scols.n; i++)
    if (!t->pk || strcmp (t->scols.v[i], t->pk)) {
      char *c = qid (t->scols.v[i]);
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
      qc = qid (c);
      rn_buf_adds (&b, qc);
      free (qc);
    }
  }
  rn_buf_adds (&b, " FROM s.runs WHERE id = ?1");
  r = exec_i (m, err, b.s, 1, m->srun);
  rn_buf_free (&b);
  m->run = sqlite3_last_insert_rowid (m->h);
  return r;
}

/* OUT's run of the group, made if there is none; the shard must have
 * run the same job, version and options. */
static int
target_run (struct merge *m, char **err)
{
  sqlite3_stmt *st = prep (m, "SELECT id FROM main.runs WHERE json_valid (options) AND "
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
  if ((st = prep (m, IDENTITY_SQL, err)) == NULL)
    return -1;
  sqlite3_bind_int64 (st, 1, m->run);
  sqlite3_bind_int64 (st, 2, m->srun);
  if (sqlite3_step (st) == SQLITE_ROW && (why = (const char *) sqlite3_column_text (st, 0)))
    *err = rn_asprintf ("%s (compared with run %lld of the output)", why,
                        (long long) m->run);
  sqlite3_finalize (st);
  return *err ? -1 : 0;
}

static int
finished (const char *status)
{
  return status && (strcmp (status, "ok") == 0 || strcmp (status, "failed") == 0 ||
                    strcmp (status, "timeout") == 0);
}

/* One text for a task and everything under it (NULL: none). */
static char *
digest (sqlite3_stmt *st, int64_t id)
{
  char *r = NULL;

  sqlite3_reset (st);
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_text (st, 0))
    r = rn_strdup ((const char *) sqlite3_column_text (st, 0));
  return r;
}

/* A task's status, image and instance, for messages. */
static char *
task_info (struct merge *m, const char *schema, int64_t id, char **status)
{
  char *sql = rn_asprintf ("SELECT status, image, instance, seq FROM %s.tasks WHERE id = ?1",
                           schema), *err = NULL, *r = NULL;
  sqlite3_stmt *st = prep (m, sql, &err);

  free (sql);
  free (err);
  *status = NULL;
  if (st == NULL)
    return rn_strdup ("?");
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) == SQLITE_ROW) {
    const char *s = (const char *) sqlite3_column_text (st, 0);
    const char *inst = (const char *) sqlite3_column_text (st, 2);
    *status = rn_strdup (s ? s : "?");
    r = rn_asprintf ("task %lld (%s%s%s%s)", (long long) sqlite3_column_int64 (st, 3),
                     (const char *) sqlite3_column_text (st, 1),
                     inst && *inst ? " [" : "", inst ? inst : "", inst && *inst ? "]" : "");
  }
  sqlite3_finalize (st);
  return r ? r : rn_strdup ("?");
}

/* What to do with a task OUT has already: see the file's header. */
static enum act
decide (struct merge *m, sqlite3_stmt *dm, sqlite3_stmt *ds, int64_t old, int64_t cur)
{
  char *a = digest (dm, cur), *b = digest (ds, old), *sa, *sb;
  char *what = task_info (m, "main", cur, &sa);
  char *w2 = task_info (m, "s", old, &sb);
  enum act r = A_SKIP;

  if (a && b && strcmp (a, b) == 0)
    m->same++;
  else if (finished (sb) && !finished (sa))
    r = A_REPLACE;
  else if (finished (sa) && !finished (sb))
    m->same++;               /* an older copy: OUT's is the result */
  else if (!finished (sa))
    r = A_REPLACE;           /* neither finished: the later word */
  else {
    m->conflicts++;
    m->bad = 1;
    fprintf (stderr, "%s: merge: %s: conflict: %s is %s here and %s in the output "
             "(%s), with other results; the output's is kept\n", rn_progname, m->path,
             w2, sb, sa, what);
  }
  free (a), free (b), free (sa), free (sb), free (what), free (w2);
  return r;
}

/* The tasks that OUT has already: decided one by one. */
static int
decide_all (struct merge *m, char **err)
{
  char *q1 = digest_sql (&m->p, "main"), *q2 = digest_sql (&m->p, "s");
  sqlite3_stmt *dm = prep (m, q1, err), *ds = *err ? NULL : prep (m, q2, err);
  sqlite3_stmt *st = *err ? NULL : prep (m, "SELECT old, new FROM temp.m_tasks WHERE act = 0", err);
  int64_t (*v)[2] = NULL;
  size_t n = 0;
  int r = 0;

  free (q1), free (q2);
  while (st && sqlite3_step (st) == SQLITE_ROW) {
    v = rn_realloc (v, (n + 1) * sizeof *v);
    v[n][0] = sqlite3_column_int64 (st, 0);
    v[n++][1] = sqlite3_column_int64 (st, 1);
  }
  sqlite3_finalize (st);
  for (size_t i = 0; !*err && i < n && r == 0; i++) {
    enum act a = decide (m, dm, ds, v[i][0], v[i][1]);
    if (a != A_SKIP)
      r = exec_i (m, err, "UPDATE temp.m_tasks SET act = ?1 WHERE old = ?2", 2,
                  (int64_t) a, v[i][0]);
  }
  sqlite3_finalize (dm);
  sqlite3_finalize (ds);
  free (v);
  return *err ? -1 : r;
}

/* Which of the shard's tasks are new (with their new ids), which OUT
 * has already (then decided), in temp.m_tasks. */
static int
map_tasks (struct merge *m, char **err)
{
  int64_t bad, off;

  if (exec_s (m, "CREATE TEMP TABLE IF NOT EXISTS m_tasks (old INTEGER PRIMARY KEY, "
              "new INTEGER, act INTEGER NOT NULL)", err) == -1 ||
      exec_s (m, "DELETE FROM temp.m_tasks", err) == -1)
    return -1;
  bad = int_of (m, "SELECT count(*) FROM s.tasks WHERE run_id = ?1", m->srun, 0) -
        int_of (m, "SELECT count(DISTINCT seq) FROM s.tasks WHERE run_id = ?1 AND "
                "seq BETWEEN 1 AND (SELECT json_extract (options, '$.shard.total') "
                "FROM s.runs WHERE id = ?1)", m->srun, 0);
  if (bad) {
    *err = rn_asprintf ("%lld of its tasks are numbered twice or outside 1..%lld",
                        (long long) bad, (long long) m->total);
    return -1;
  }
  if (exec_i (m, err, "INSERT INTO temp.m_tasks (old, new, act) SELECT x.id, y.id, "
              "y.id IS NULL FROM s.tasks AS x LEFT JOIN main.tasks AS y "
              "ON y.run_id = ?1 AND y.seq = x.seq WHERE x.run_id = ?2", 2,
              m->run, m->srun) == -1)
    return -1;
  off = int_of (m, "SELECT coalesce ((SELECT max (id) FROM main.tasks), 0) - "
                "coalesce ((SELECT min (id) FROM s.tasks), 0) + 1", 0, 0);
  m->added = (size_t) int_of (m, "SELECT count(*) FROM temp.m_tasks WHERE act = 1", 0, 0);
  if (exec_i (m, err, "UPDATE temp.m_tasks SET new = old + ?1 WHERE act = 1", 1, off) == -1 ||
      decide_all (m, err) == -1)
    return -1;
  m->replaced = (size_t) int_of (m, "SELECT count(*) FROM temp.m_tasks WHERE act = 2", 0, 0);
  return 0;
}

/* The rows under the tasks being replaced go, children before parents. */
static int
max_depth (const struct plan *p)
{
  int d = 0;

  for (size_t i = 0; i < p->n; i++)
    if (p->t[i].kind == K_UNDER_TASK && p->t[i].depth > d)
      d = p->t[i].depth;
  return d;
}

static int
drop_replaced (struct merge *m, char **err)
{
  for (int d = max_depth (&m->p); d >= 1; d--)
    for (size_t i = 0; i < m->p.n; i++) {
      const struct mtable *t = &m->p.t[i];
      struct rn_buf b = { 0 };
      char *name;
      int r;
      if (t->kind != K_UNDER_TASK || t->depth != d)
        continue;
      name = qid (t->name);
      rn_buf_addf (&b, "DELETE FROM main.%s AS a0 WHERE ", name);
      owner_expr (&m->p, t, "main", 0, &b);
      rn_buf_adds (&b, " IN (SELECT new FROM temp.m_tasks WHERE act = 2)");
      r = exec_s (m, b.s, err);
      rn_buf_free (&b);
      free (name);
      if (r == -1)
        return -1;
    }
  return 0;
}

/* The tasks: replaced ones updated in place (they keep their ids), new
 * ones inserted. */
static int
put_tasks (struct merge *m, char **err)
{
  const struct mtable *t = &m->p.t[m->p.tasks];
  struct rn_buf b = { 0 };
  int r, n = 0;

  rn_buf_adds (&b, "UPDATE main.tasks AS y SET ");
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if ((t->pk && strcmp (t->scols.v[i], t->pk) == 0) || fk_of (t, t->scols.v[i]))
      continue;
    c = qid (t->scols.v[i]);
    rn_buf_addf (&b, "%s%s = a0.%s", n++ ? ", " : "", c, c);
    free (c);
  }
  rn_buf_adds (&b, " FROM s.tasks AS a0, temp.m_tasks AS m "
               "WHERE m.act = 2 AND m.old = a0.id AND y.id = m.new");
  r = n ? exec_s (m, b.s, err) : 0;
  rn_buf_free (&b);
  if (r == -1)
    return -1;
  insert_head (m, t, &b);
  rn_buf_adds (&b, " JOIN temp.m_tasks AS m ON m.old = a0.id WHERE m.act = 1");
  r = exec_s (m, b.s, err);
  rn_buf_free (&b);
  return r;
}

/* ... AND OUT has no row of the same values (under the run). */
static void
same_row_absent (const struct merge *m, const struct mtable *t, struct rn_buf *b)
{
  char *name = qid (t->name);

  rn_buf_addf (b, " = %lld AND NOT EXISTS (SELECT 1 FROM main.%s AS b WHERE 1",
               (long long) m->srun, name);
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if (t->pk && strcmp (t->scols.v[i], t->pk) == 0)
      continue;
    c = qid (t->scols.v[i]);
    rn_buf_addf (b, " AND b.%s IS ", c);
    col_expr (m, t, t->scols.v[i], b);
    free (c);
  }
  rn_buf_adds (b, ")");
  free (name);
}

/* The shard's rows of t under the new and replaced tasks (or, under the
 * run, those OUT does not have). */
static int
put_table (struct merge *m, struct mtable *t, char **err)
{
  struct rn_buf b = { 0 };
  int r;

  set_offset (m, t);
  insert_head (m, t, &b);
  rn_buf_adds (&b, " WHERE ");
  owner_expr (&m->p, t, "s", 0, &b);
  if (t->kind == K_UNDER_TASK)
    rn_buf_adds (&b, " IN (SELECT old FROM temp.m_tasks WHERE act > 0)");
  else
    same_row_absent (m, t, &b);
  r = exec_s (m, b.s, err);
  rn_buf_free (&b);
  return r;
}

/* Every table under a task, parents first, then those under the run. */
static int
put_rows (struct merge *m, char **err)
{
  int maxd = max_depth (&m->p);

  for (int d = 1; d <= maxd; d++)
    for (size_t i = 0; i < m->p.n; i++)
      if (m->p.t[i].kind == K_UNDER_TASK && m->p.t[i].depth == d && m->p.t[i].in_shard &&
          put_table (m, &m->p.t[i], err) == -1)
        return -1;
  for (size_t i = 0; i < m->p.n; i++)
    if (m->p.t[i].kind == K_UNDER_RUN && m->p.t[i].in_shard &&
        put_table (m, &m->p.t[i], err) == -1)
      return -1;
  for (size_t i = 0; i < m->p.n; i++)
    if (m->p.t[i].kind == K_OTHER && m->p.t[i].in_shard && !m->quiet) {
      char *name = qid (m->p.t[i].name), *sql = rn_asprintf ("SELECT count(*) FROM s.%s", name);
      if (int_of (m, sql, 0, 0) > 0)
        fprintf (stderr, "%s: merge: %s: table '%s' is not linked to runs or tasks: "
                 "its rows are not merged\n", rn_progname, m->path, m->p.t[i].name);
      free (name), free (sql);
    }
  return 0;
}

/* The run after this shard: its sources, times, task count and status. */
static int
update_run (struct merge *m, const char *real, char **err)
{
  sqlite3_stmt *st = prep (m, "UPDATE main.runs AS r SET ntasks = ?3, "
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
  return exec_i (m, err, "UPDATE main.runs SET status = CASE "
    "WHEN (SELECT count(*) FROM main.tasks WHERE run_id = ?1) < ntasks OR EXISTS "
    "  (SELECT 1 FROM main.tasks WHERE run_id = ?1 AND "
    "   status IN ('pending', 'running', 'interrupted')) THEN 'interrupted' "
    "WHEN EXISTS (SELECT 1 FROM main.tasks WHERE run_id = ?1 AND status <> 'ok') "
    "  THEN 'failed' ELSE 'done' END WHERE id = ?1", 1, m->run);
}

/* Everything of one attached shard, in the open transaction. */
static int
merge_attached (struct merge *m, const char *real, char **err)
{
  m->added = m->replaced = m->same = m->conflicts = 0;
  if (check_shard (m, err) == -1 || shard_schema (m, err) == -1 ||
      shard_run (m, err) == -1 || target_run (m, err) == -1 ||
      map_tasks (m, err) == -1 || drop_replaced (m, err) == -1 ||
      put_tasks (m, err) == -1 || put_rows (m, err) == -1)
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
merge_one (struct merge *m, const char *path, const char *out_real)
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
  st = prep (m, "ATTACH ?1 AS s", &err);
  if (st) {
    sqlite3_bind_text (st, 1, uri, -1, SQLITE_TRANSIENT);
    if (sqlite3_step (st) != SQLITE_DONE)
      err = rn_asprintf ("it is not a sound database: %s", sqlite3_errmsg (m->h));
    sqlite3_finalize (st);
  }
  free (uri);
  if (err)
    goto out;
  if (exec_s (m, "BEGIN IMMEDIATE", &err) == 0) {
    if (merge_attached (m, real, &err) == 0)
      exec_s (m, "COMMIT", &err);
    if (err) {
      char *e2 = NULL;
      exec_s (m, "ROLLBACK", &e2);
      free (e2);
      plan_load (m, &e2);    /* tables made for this shard are gone again */
      free (e2);
    }
  }
  {
    char *e2 = NULL;
    exec_s (m, "DETACH s", &e2);
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
summary (struct merge *m, const char *out)
{
  sqlite3_stmt *st;
  char *err = NULL;
  int64_t have, want, count, unfinished;
  struct rn_buf missing = { 0 };

  if (m->run == 0) {
    printf ("%s: nothing merged\n", out);
    return;
  }
  have = int_of (m, "SELECT count(*) FROM main.tasks WHERE run_id = ?1", m->run, 0);
  unfinished = int_of (m, "SELECT count(*) FROM main.tasks WHERE run_id = ?1 AND "
                       "status IN ('pending', 'running', 'interrupted')", m->run, 0);
  want = int_of (m, "SELECT ntasks FROM main.runs WHERE id = ?1", m->run, 0);
  count = int_of (m, "SELECT json_extract (options, '$.shard.count') FROM main.runs "
                  "WHERE id = ?1", m->run, 0);
  st = prep (m, "WITH RECURSIVE n (value) AS (SELECT 0 UNION ALL SELECT value + 1 "
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
open_out (struct merge *m, const char *out, char **err)
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
  if (exec_s (m, "PRAGMA synchronous = NORMAL", err) == -1 ||
      exec_s (m, "PRAGMA cache_size = -65536", err) == -1 ||
      exec_s (m, "PRAGMA temp_store = MEMORY", err) == -1 || plan_load (m, err) == -1) {
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
  struct merge m = { 0 };
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
  plan_free (&m.p);
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
