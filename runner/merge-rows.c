/* runner/merge-rows.c: one shard's tasks and rows put into OUT, for
 * `guestkit merge' (merge.c), with SQL built from the plan
 * (merge-plan.c).  The shard's tasks are mapped by (run, seq) in
 * temp.m_tasks: new (with new ids), or already in OUT and then compared by
 * a digest of their rows and decided (skip, or replace); the rows under
 * replaced tasks are dropped, then the tasks and every table under them,
 * parents first, are copied with ids shifted past OUT's and links
 * followed, then the rows under the run that OUT does not have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "runner.h"

/* What is done with a shard's task that OUT has already. */
enum act { A_SKIP, A_INSERT, A_REPLACE };

/* Columns that describe an attempt, not its result: left out when two
 * copies of a task are compared. */
static const char *const VOLATILE[] = {
  "started", "finished", "duration_ms", "overhead_ms", "worker", "attempts", NULL,
};

/* ---- SQL built from the plan ---- */

/* The column that t's fk k references in its parent. */
static const char *
fk_target (const struct rn_mg_plan *p, const struct rn_mg_fk *f)
{
  return f->pcol ? f->pcol : f->parent >= 0 && p->t[f->parent].pk ? p->t[f->parent].pk
                                                                     : "rowid";
}

/* An SQL expression: the task (or, under a run, the run) that the row
 * `a<depth>' of t in schema belongs to. */
static void
owner_expr (const struct rn_mg_plan *p, const struct rn_mg_table *t, const char *schema,
            int depth, struct rn_buf *b)
{
  const struct rn_mg_fk *f = &t->fks[t->via];
  const struct rn_mg_table *par = &p->t[f->parent];
  char *col = rn_mg_qid (f->col);

  if (par->kind == RN_MG_TASKS || par->kind == RN_MG_RUNS) {
    rn_buf_addf (b, "a%d.%s", depth, col);
  } else {
    char *pt = rn_mg_qid (par->name), *pc = rn_mg_qid (fk_target (p, f));
    rn_buf_adds (b, "(SELECT ");
    owner_expr (p, par, schema, depth + 1, b);
    rn_buf_addf (b, " FROM %s.%s AS a%d WHERE a%d.%s = a%d.%s)", schema, pt, depth + 1,
                 depth + 1, pc, depth, col);
    free (pt), free (pc);
  }
  free (col);
}

static const struct rn_mg_fk *
fk_of (const struct rn_mg_table *t, const char *col)
{
  for (size_t k = 0; k < t->nfks; k++)
    if (strcmp (t->fks[k].col, col) == 0)
      return &t->fks[k];
  return NULL;
}

/* Left out of a comparison: keys, links and the attempt's own columns. */
static int
compared (const struct rn_mg_table *t, const char *col)
{
  return !(t->pk && strcmp (t->pk, col) == 0) && fk_of (t, col) == NULL &&
         !rn_in_list (VOLATILE, col);
}

/* quote(a0.c1) || char(31) || quote(a0.c2) ... over t's compared columns
 * (the shard's: OUT may have more). */
static void
row_text (const struct rn_mg_table *t, struct rn_buf *b)
{
  int first = 1;

  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if (!compared (t, t->scols.v[i]))
      continue;
    c = rn_mg_qid (t->scols.v[i]);
    rn_buf_addf (b, "%squote (a0.%s)", first ? "" : " || char(31) || ", c);
    free (c);
    first = 0;
  }
  if (first)
    rn_buf_adds (b, "''");
}

/* One text for task ?1 of schema: the task's row and every row under it. */
static char *
digest_sql (const struct rn_mg_plan *p, const char *schema)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "SELECT (SELECT ");
  row_text (&p->t[p->tasks], &b);
  rn_buf_addf (&b, " FROM %s.tasks AS a0 WHERE a0.id = ?1)", schema);
  for (size_t i = 0; i < p->n; i++) {
    const struct rn_mg_table *t = &p->t[i];
    char *name;
    if (t->kind != RN_MG_UNDER_TASK || !t->in_shard)
      continue;
    name = rn_mg_qid (t->name);
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
col_expr (const struct rn_merge *m, const struct rn_mg_table *t, const char *col,
          struct rn_buf *b)
{
  const struct rn_mg_plan *p = &m->p;
  const struct rn_mg_fk *f = fk_of (t, col);
  char *c = rn_mg_qid (col);

  if (t == &p->t[p->tasks] && t->pk && strcmp (col, t->pk) == 0)
    rn_buf_adds (b, "m.new");
  else if (t->pk && strcmp (col, t->pk) == 0)
    rn_buf_addf (b, "a0.%s + %lld", c, (long long) t->off);
  else if (f && f->parent == p->runs)
    rn_buf_addf (b, "%lld", (long long) m->run);
  else if (f && f->parent == p->tasks)
    rn_buf_addf (b, "(SELECT new FROM temp.m_tasks WHERE old = a0.%s)", c);
  else if (f && f->parent >= 0 && p->t[f->parent].pk && p->t[f->parent].kind != RN_MG_OTHER &&
           strcmp (fk_target (p, f), p->t[f->parent].pk) == 0)
    rn_buf_addf (b, "a0.%s + %lld", c, (long long) p->t[f->parent].off);
  else
    rn_buf_addf (b, "a0.%s", c);
  free (c);
}

/* INSERT INTO main.T (the shard's columns) SELECT ... FROM s.T AS a0 */
static void
insert_head (const struct rn_merge *m, const struct rn_mg_table *t, struct rn_buf *b)
{
  char *name = rn_mg_qid (t->name);

  rn_buf_addf (b, "INSERT INTO main.%s (", name);
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c = rn_mg_qid (t->scols.v[i]);
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
set_offset (struct rn_merge *m, struct rn_mg_table *t)
{
  char *name, *pk, *sql;

  t->off = 0;
  if (t->pk == NULL)
    return;
  name = rn_mg_qid (t->name), pk = rn_mg_qid (t->pk);
  sql = rn_asprintf ("SELECT coalesce ((SELECT max (%s) FROM main.%s), 0) - "
                     "coalesce ((SELECT min (%s) FROM s.%s), 0) + 1", pk, name, pk, name);
  t->off = rn_mg_int_of (m, sql, 0, 0);
  free (name), free (pk), free (sql);
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
task_info (struct rn_merge *m, const char *schema, int64_t id, char **status)
{
  char *sql = rn_asprintf ("SELECT status, image, instance, seq FROM %s.tasks WHERE id = ?1",
                           schema), *err = NULL, *r = NULL;
  sqlite3_stmt *st = rn_mg_prep (m, sql, &err);

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
decide (struct rn_merge *m, sqlite3_stmt *dm, sqlite3_stmt *ds, int64_t old, int64_t cur)
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
decide_all (struct rn_merge *m, char **err)
{
  char *q1 = digest_sql (&m->p, "main"), *q2 = digest_sql (&m->p, "s");
  sqlite3_stmt *dm = rn_mg_prep (m, q1, err), *ds = *err ? NULL : rn_mg_prep (m, q2, err);
  sqlite3_stmt *st = *err ? NULL : rn_mg_prep (m, "SELECT old, new FROM temp.m_tasks WHERE act = 0", err);
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
      r = rn_mg_exec_i (m, err, "UPDATE temp.m_tasks SET act = ?1 WHERE old = ?2", 2,
                  (int64_t) a, v[i][0]);
  }
  sqlite3_finalize (dm);
  sqlite3_finalize (ds);
  free (v);
  return *err ? -1 : r;
}

/* Which of the shard's tasks are new (with their new ids), which OUT
 * has already (then decided), in temp.m_tasks. */
int
rn_mg_map_tasks (struct rn_merge *m, char **err)
{
  int64_t bad, off;

  if (rn_mg_exec_s (m, "CREATE TEMP TABLE IF NOT EXISTS m_tasks (old INTEGER PRIMARY KEY, "
              "new INTEGER, act INTEGER NOT NULL)", err) == -1 ||
      rn_mg_exec_s (m, "DELETE FROM temp.m_tasks", err) == -1)
    return -1;
  bad = rn_mg_int_of (m, "SELECT count(*) FROM s.tasks WHERE run_id = ?1", m->srun, 0) -
        rn_mg_int_of (m, "SELECT count(DISTINCT seq) FROM s.tasks WHERE run_id = ?1 AND "
                "seq BETWEEN 1 AND (SELECT json_extract (options, '$.shard.total') "
                "FROM s.runs WHERE id = ?1)", m->srun, 0);
  if (bad) {
    *err = rn_asprintf ("%lld of its tasks are numbered twice or outside 1..%lld",
                        (long long) bad, (long long) m->total);
    return -1;
  }
  if (rn_mg_exec_i (m, err, "INSERT INTO temp.m_tasks (old, new, act) SELECT x.id, y.id, "
              "y.id IS NULL FROM s.tasks AS x LEFT JOIN main.tasks AS y "
              "ON y.run_id = ?1 AND y.seq = x.seq WHERE x.run_id = ?2", 2,
              m->run, m->srun) == -1)
    return -1;
  off = rn_mg_int_of (m, "SELECT coalesce ((SELECT max (id) FROM main.tasks), 0) - "
                "coalesce ((SELECT min (id) FROM s.tasks), 0) + 1", 0, 0);
  m->added = (size_t) rn_mg_int_of (m, "SELECT count(*) FROM temp.m_tasks WHERE act = 1", 0, 0);
  if (rn_mg_exec_i (m, err, "UPDATE temp.m_tasks SET new = old + ?1 WHERE act = 1", 1, off) == -1 ||
      decide_all (m, err) == -1)
    return -1;
  m->replaced = (size_t) rn_mg_int_of (m, "SELECT count(*) FROM temp.m_tasks WHERE act = 2", 0, 0);
  return 0;
}

/* The rows under the tasks being replaced go, children before parents. */
static int
max_depth (const struct rn_mg_plan *p)
{
  int d = 0;

  for (size_t i = 0; i < p->n; i++)
    if (p->t[i].kind == RN_MG_UNDER_TASK && p->t[i].depth > d)
      d = p->t[i].depth;
  return d;
}

int
rn_mg_drop_replaced (struct rn_merge *m, char **err)
{
  for (int d = max_depth (&m->p); d >= 1; d--)
    for (size_t i = 0; i < m->p.n; i++) {
      const struct rn_mg_table *t = &m->p.t[i];
      struct rn_buf b = { 0 };
      char *name;
      int r;
      if (t->kind != RN_MG_UNDER_TASK || t->depth != d)
        continue;
      name = rn_mg_qid (t->name);
      rn_buf_addf (&b, "DELETE FROM main.%s AS a0 WHERE ", name);
      owner_expr (&m->p, t, "main", 0, &b);
      rn_buf_adds (&b, " IN (SELECT new FROM temp.m_tasks WHERE act = 2)");
      r = rn_mg_exec_s (m, b.s, err);
      rn_buf_free (&b);
      free (name);
      if (r == -1)
        return -1;
    }
  return 0;
}

/* The tasks: replaced ones updated in place (they keep their ids), new
 * ones inserted. */
int
rn_mg_put_tasks (struct rn_merge *m, char **err)
{
  const struct rn_mg_table *t = &m->p.t[m->p.tasks];
  struct rn_buf b = { 0 };
  int r, n = 0;

  rn_buf_adds (&b, "UPDATE main.tasks AS y SET ");
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if ((t->pk && strcmp (t->scols.v[i], t->pk) == 0) || fk_of (t, t->scols.v[i]))
      continue;
    c = rn_mg_qid (t->scols.v[i]);
    rn_buf_addf (&b, "%s%s = a0.%s", n++ ? ", " : "", c, c);
    free (c);
  }
  rn_buf_adds (&b, " FROM s.tasks AS a0, temp.m_tasks AS m "
               "WHERE m.act = 2 AND m.old = a0.id AND y.id = m.new");
  r = n ? rn_mg_exec_s (m, b.s, err) : 0;
  rn_buf_free (&b);
  if (r == -1)
    return -1;
  insert_head (m, t, &b);
  rn_buf_adds (&b, " JOIN temp.m_tasks AS m ON m.old = a0.id WHERE m.act = 1");
  r = rn_mg_exec_s (m, b.s, err);
  rn_buf_free (&b);
  return r;
}

/* ... AND OUT has no row of the same values (under the run). */
static void
same_row_absent (const struct rn_merge *m, const struct rn_mg_table *t, struct rn_buf *b)
{
  char *name = rn_mg_qid (t->name);

  rn_buf_addf (b, " = %lld AND NOT EXISTS (SELECT 1 FROM main.%s AS b WHERE 1",
               (long long) m->srun, name);
  for (size_t i = 0; i < t->scols.n; i++) {
    char *c;
    if (t->pk && strcmp (t->scols.v[i], t->pk) == 0)
      continue;
    c = rn_mg_qid (t->scols.v[i]);
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
put_table (struct rn_merge *m, struct rn_mg_table *t, char **err)
{
  struct rn_buf b = { 0 };
  int r;

  set_offset (m, t);
  insert_head (m, t, &b);
  rn_buf_adds (&b, " WHERE ");
  owner_expr (&m->p, t, "s", 0, &b);
  if (t->kind == RN_MG_UNDER_TASK)
    rn_buf_adds (&b, " IN (SELECT old FROM temp.m_tasks WHERE act > 0)");
  else
    same_row_absent (m, t, &b);
  r = rn_mg_exec_s (m, b.s, err);
  rn_buf_free (&b);
  return r;
}

/* Every table under a task, parents first, then those under the run. */
int
rn_mg_put_rows (struct rn_merge *m, char **err)
{
  int maxd = max_depth (&m->p);

  for (int d = 1; d <= maxd; d++)
    for (size_t i = 0; i < m->p.n; i++)
      if (m->p.t[i].kind == RN_MG_UNDER_TASK && m->p.t[i].depth == d && m->p.t[i].in_shard &&
          put_table (m, &m->p.t[i], err) == -1)
        return -1;
  for (size_t i = 0; i < m->p.n; i++)
    if (m->p.t[i].kind == RN_MG_UNDER_RUN && m->p.t[i].in_shard &&
        put_table (m, &m->p.t[i], err) == -1)
      return -1;
  for (size_t i = 0; i < m->p.n; i++)
    if (m->p.t[i].kind == RN_MG_OTHER && m->p.t[i].in_shard && !m->quiet) {
      char *name = rn_mg_qid (m->p.t[i].name), *sql = rn_asprintf ("SELECT count(*) FROM s.%s", name);
      if (rn_mg_int_of (m, sql, 0, 0) > 0)
        fprintf (stderr, "%s: merge: %s: table '%s' is not linked to runs or tasks: "
                 "its rows are not merged\n", rn_progname, m->path, m->p.t[i].name);
      free (name), free (sql);
    }
  return 0;
}
