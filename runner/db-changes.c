/* runner/db-changes.c: the results store's part for writing tasks: the
 * `changes' table (what a task's steps changed) and the end of an
 * all-or-nothing commit (exec-commit.c).  db.c stays the owner of the
 * connection and its transactions: rn_db_write_changes runs inside the
 * task's own transaction (db.c's write_task), and the commit's end uses
 * rn_db_query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "runner.h"

static void
bind_state (sqlite3_stmt *st, int col, const struct rn_fstate *f)
{
  const char *type = rn_fstate_type (f);

  if (type == NULL) {
    for (int i = 0; i < 5; i++)
      sqlite3_bind_null (st, col + i);
    return;
  }
  sqlite3_bind_int64 (st, col, f->size);
  sqlite3_bind_int64 (st, col + 1, f->mode & 07777);
  sqlite3_bind_int64 (st, col + 2, f->uid);
  sqlite3_bind_int64 (st, col + 3, f->gid);
  if (f->sha256[0])
    sqlite3_bind_text (st, col + 4, f->sha256, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, col + 4);
}

int
rn_db_write_changes (struct sqlite3 *h, int64_t task_id, const struct rn_changes *c,
                     char **err)
{
  static const char sql[] =
    "INSERT INTO changes (task_id, path, kind, type, size_before, mode_before, "
    "uid_before, gid_before, sha256_before, size_after, mode_after, uid_after, "
    "gid_after, sha256_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14)";
  sqlite3_stmt *st = NULL;
  int r = 0;

  if (sqlite3_prepare_v2 (h, "DELETE FROM changes WHERE task_id = ?", -1, &st,
                          NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int64 (st, 1, task_id);
  r = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize (st);
  if (r == -1)
    goto fail;
  if (c == NULL || c->n == 0)
    return 0;
  if (sqlite3_prepare_v2 (h, sql, -1, &st, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < c->n && r == 0; i++) {
    const struct rn_change *e = &c->v[i];
    const char *type = rn_fstate_type (e->after.exists ? &e->after : &e->before);
    sqlite3_reset (st);
    sqlite3_bind_int64 (st, 1, task_id);
    sqlite3_bind_text (st, 2, e->path, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 3, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 4, type, -1, SQLITE_STATIC);
    bind_state (st, 5, &e->before);
    bind_state (st, 10, &e->after);
    if (sqlite3_step (st) != SQLITE_DONE)
      r = -1;
  }
  sqlite3_finalize (st);
  if (r == 0)
    return 0;
 fail:
  *err = rn_asprintf ("database: changes: %s", sqlite3_errmsg (h));
  return -1;
}

static int
no_rows (void *ctx, int ncols, char **cols, char **names)
{
  return 0;
}

int
rn_db_task_committed (struct rn_db *db, const struct rn_task *t, double ms,
                      enum rn_status status, const char *error)
{
  char id[32], dur[32], now[32], *err = NULL;
  const char *p1[] = { id, dur, error }, *p2[] = { rn_status_name (status), error, now, id };
  int r;

  snprintf (id, sizeof id, "%lld", (long long) t->db_id);
  snprintf (dur, sizeof dur, "%.3f", ms);
  rn_utc (now);
  /* The commit is the task's last step; written again by a resumed
   * commit, it is still there once. */
  r = rn_db_query (db, "INSERT OR REPLACE INTO steps (task_id, seq, call, args, "
                   "result, error, duration_ms, line) VALUES (?1, (SELECT "
                   "coalesce(max(seq), 0) + 1 FROM steps WHERE task_id = ?1 AND "
                   "call <> 'commit'), 'commit', '{}', CASE WHEN ?3 IS NULL THEN "
                   "'null' END, ?3, ?2, 0)", p1, 3, no_rows, NULL, &err);
  if (r == 0)
    r = rn_db_query (db, "UPDATE tasks SET status = ?1, error = ?2, finished = ?3 "
                     "WHERE id = ?4", p2, 4, no_rows, NULL, &err);
  if (r == -1) {
    fprintf (stderr, "%s: task %d (%s): cannot record the commit: %s\n", rn_progname,
             t->seq, t->image_path, err);
    free (err);
  }
  return r;
}
