/* runner/merge-plan.c: the plan of `guestkit merge' (merge.c): OUT's
 * tables read from its schema (sqlite_master, table_info,
 * foreign_key_list), each with its columns, INTEGER PRIMARY KEY, foreign
 * keys and kind (the runs, the tasks, under a task, under the run,
 * other: see merge.c's header), and the few SQL helpers the merge files
 * share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sqlite3.h>

#include "runner.h"

/* ---- SQL helpers ---- */

char *
rn_mg_qid (const char *name)       /* "name", quotes doubled; caller frees */
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

sqlite3_stmt *
rn_mg_prep (struct rn_merge *m, const char *sql, char **err)
{
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (m->h, sql, -1, &st, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s", sqlite3_errmsg (m->h));
    return NULL;
  }
  return st;
}

/* Run sql (no rows wanted), binding int64 parameters ?1, ?2, ... */
int
rn_mg_exec_i (struct rn_merge *m, char **err, const char *sql, int n, ...)
{
  sqlite3_stmt *st = rn_mg_prep (m, sql, err);
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

int
rn_mg_exec_s (struct rn_merge *m, const char *sql, char **err)
{
  return rn_mg_exec_i (m, err, sql, 0);
}

/* The first column of the first row as an integer (def if none). */
int64_t
rn_mg_int_of (struct rn_merge *m, const char *sql, int64_t a, int64_t def)
{
  sqlite3_stmt *st;
  char *err = NULL;
  int64_t v = def;

  if ((st = rn_mg_prep (m, sql, &err)) == NULL) {
    free (err);
    return def;
  }
  sqlite3_bind_int64 (st, 1, a);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) != SQLITE_NULL)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

/* ---- the schema ---- */

void
rn_mg_plan_free (struct rn_mg_plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    struct rn_mg_table *t = &p->t[i];
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

int
rn_mg_table_index (const struct rn_mg_plan *p, const char *name)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcasecmp (p->t[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* Columns of schema.table into cols; its rowid alias into *pk. */
int
rn_mg_read_columns (struct rn_merge *m, const char *schema, const char *table,
              struct rn_strv *cols, char **pk, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT name, upper (type), pk, "
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
read_fks (struct rn_merge *m, struct rn_mg_table *t, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT \"from\", \"table\", \"to\" FROM "
                           "pragma_foreign_key_list (?1, 'main') ORDER BY id, seq", err);

  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, t->name, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW) {
    const char *from = (const char *) sqlite3_column_text (st, 0);
    const char *table = (const char *) sqlite3_column_text (st, 1);
    const char *to = (const char *) sqlite3_column_text (st, 2);
    struct rn_mg_fk *f;
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
classify (struct rn_mg_plan *p)
{
  int changed = 1;

  for (size_t i = 0; i < p->n; i++)
    p->t[i].kind = (int) i == p->runs ? RN_MG_RUNS : (int) i == p->tasks ? RN_MG_TASKS : RN_MG_OTHER;
  for (int round = 0; changed && round < 64; round++) {
    changed = 0;
    for (size_t i = 0; i < p->n; i++) {
      struct rn_mg_table *t = &p->t[i];
      if (t->kind != RN_MG_OTHER && t->kind != RN_MG_UNDER_RUN)
        continue;
      for (size_t k = 0; k < t->nfks && t->kind != RN_MG_UNDER_TASK; k++) {
        int par = t->fks[k].parent;
        enum rn_mg_kind pk = par >= 0 && par != (int) i ? p->t[par].kind : RN_MG_OTHER;
        if (pk == RN_MG_TASKS || pk == RN_MG_UNDER_TASK) {
          t->kind = RN_MG_UNDER_TASK, t->via = (int) k, t->depth = p->t[par].depth + 1;
          changed = 1;
        } else if (pk == RN_MG_RUNS && t->kind == RN_MG_OTHER) {
          t->kind = RN_MG_UNDER_RUN, t->via = (int) k;
          changed = 1;
        }
      }
    }
  }
}

/* OUT's tables, their columns, keys and kinds. */
int
rn_mg_plan_load (struct rn_merge *m, char **err)
{
  sqlite3_stmt *st = rn_mg_prep (m, "SELECT name FROM main.sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", err);
  struct rn_mg_plan *p = &m->p;

  if (st == NULL)
    return -1;
  rn_mg_plan_free (p);
  while (sqlite3_step (st) == SQLITE_ROW) {
    p->t = rn_realloc (p->t, (p->n + 1) * sizeof *p->t);
    memset (&p->t[p->n], 0, sizeof *p->t);
    p->t[p->n++].name = rn_strdup ((const char *) sqlite3_column_text (st, 0));
  }
  sqlite3_finalize (st);
  for (size_t i = 0; i < p->n; i++)
    if (rn_mg_read_columns (m, "main", p->t[i].name, &p->t[i].cols, &p->t[i].pk, err) == -1 ||
        read_fks (m, &p->t[i], err) == -1)
      return -1;
  for (size_t i = 0; i < p->n; i++)
    for (size_t k = 0; k < p->t[i].nfks; k++)
      p->t[i].fks[k].parent = rn_mg_table_index (p, p->t[i].fks[k].ptable);
  p->runs = rn_mg_table_index (p, "runs");
  p->tasks = rn_mg_table_index (p, "tasks");
  if (p->runs < 0 || p->tasks < 0) {
    *err = rn_strdup ("it has no runs or tasks table");
    return -1;
  }
  classify (p);
  return 0;
}
