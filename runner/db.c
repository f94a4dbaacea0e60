/* runner/db.c: the results store, the only runner file that speaks SQL.
 * The schema is schemas/results.sql (embedded: results-sql-gen.c).
 *
 * One connection per process, used under one mutex by every thread.  WAL
 * journal with synchronous=NORMAL: a commit survives the process being
 * killed at any moment (only a power cut can lose the last commits), and
 * readers (`guestkit report' / `status') never block the writer.  Other
 * processes writing the same file wait on the busy timeout; every write
 * transaction is BEGIN IMMEDIATE, so two writers never deadlock.  A
 * finished task is written in one transaction: its steps, its facts and
 * its final status together, or none of them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "runner.h"

#define SCHEMA_VERSION 2           /* 2: the audit and changes tables */
#define BUSY_TIMEOUT_MS 60000
#define RN_STR_(x) #x
#define RN_STR(x) RN_STR_ (x)

extern const char rn_results_sql[];

struct rn_db {
  sqlite3 *h;
  pthread_mutex_t lock;      /* one transaction at a time */
  char host[256];
};

static char *
db_err (struct rn_db *db, const char *what)
{
  return rn_asprintf ("%s: %s", what, sqlite3_errmsg (db->h));
}

/* Prepare sql and bind the arguments described by types:
 *   t  const char * (NULL binds NULL)    i  int64_t    d  double */
static sqlite3_stmt *
prepare (struct rn_db *db, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *st;

  if (sqlite3_prepare_v2 (db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return NULL;
  for (int i = 0; types[i]; i++) {
    int r;
    if (types[i] == 't') {
      const char *s = va_arg (ap, const char *);
      r = s ? sqlite3_bind_text (st, i + 1, s, -1, SQLITE_TRANSIENT)
            : sqlite3_bind_null (st, i + 1);
    } else if (types[i] == 'i')
      r = sqlite3_bind_int64 (st, i + 1, va_arg (ap, int64_t));
    else
      r = sqlite3_bind_double (st, i + 1, va_arg (ap, double));
    if (r != SQLITE_OK) {
      sqlite3_finalize (st);
      return NULL;
    }
  }
  return st;
}

/* Run a statement that returns no rows; 0 or -1 (*err set).  Shared as
 * rn_db_write with db-inventory.c, for the audit tables. */
int
rn_db_write (struct rn_db *db, char **err, const char *sql, const char *types, ...)
{
  va_list ap;
  sqlite3_stmt *st;
  int r;

  va_start (ap, types);
  st = prepare (db, sql, types, ap);
  va_end (ap);
  if (st == NULL) {
    *err = db_err (db, "database");
    return -1;
  }
  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    ;
  if (r != SQLITE_DONE) {
    *err = db_err (db, "database");
    sqlite3_finalize (st);
    return -1;
  }
  sqlite3_finalize (st);
  return 0;
}
#define run rn_db_write

static int
exec (struct rn_db *db, const char *sql, char **err)
{
  char *msg = NULL;

  if (sqlite3_exec (db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
    *err = rn_asprintf ("database: %s", msg ? msg : sqlite3_errmsg (db->h));
    sqlite3_free (msg);
    return -1;
  }
  return 0;
}

/* exec, waiting out SQLITE_BUSY where sqlite's busy handler does not
 * (switching to WAL while another process creates the same file). */
static int
exec_busy (struct rn_db *db, const char *sql, char **err)
{
  for (int tries = 0;; tries++) {
    int code;
    if (exec (db, sql, err) == 0)
      return 0;
    code = sqlite3_errcode (db->h) & 0xff;
    if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || tries * 20 > BUSY_TIMEOUT_MS)
      return -1;
    free (*err);
    *err = NULL;
    usleep (20000);
  }
}

static int64_t
query_int (struct rn_db *db, const char *sql)
{
  sqlite3_stmt *st;
  int64_t v = -1;

  if (sqlite3_prepare_v2 (db->h, sql, -1, &st, NULL) != SQLITE_OK)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return v;
}

static int
init_schema (struct rn_db *db, char **err)
{
  int64_t v = query_int (db, "PRAGMA user_version");

  if (v == SCHEMA_VERSION)
    return 0;                  /* there already: readers write nothing */
  if (exec_busy (db, "BEGIN IMMEDIATE", err) == -1)
    return -1;
  v = query_int (db, "PRAGMA user_version");
  if (v > SCHEMA_VERSION) {
    *err = rn_asprintf ("database schema version %lld is newer than this "
                        "guestkit's (%d)", (long long) v, SCHEMA_VERSION);
    exec (db, "ROLLBACK", err);
    return -1;
  }
  if (exec (db, rn_results_sql, err) == -1 ||
      exec (db, "PRAGMA user_version = " RN_STR (SCHEMA_VERSION), err) == -1 ||
      exec (db, "COMMIT", err) == -1) {
    char *e2 = NULL;
    exec (db, "ROLLBACK", &e2);
    free (e2);
    return -1;
  }
  return 0;
}

struct rn_db *
rn_db_open (const char *path, int create, char **err)
{
  struct rn_db *db = rn_calloc (1, sizeof *db);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
              (create ? SQLITE_OPEN_CREATE : 0);
  struct stat st;

  if (!create && stat (path, &st) == -1) {
    *err = rn_asprintf ("%s: %s (no run has written it yet?)", path, strerror (errno));
    free (db);
    return NULL;
  }
  if (sqlite3_open_v2 (path, &db->h, flags, NULL) != SQLITE_OK) {
    *err = rn_asprintf ("%s: %s", path, db->h ? sqlite3_errmsg (db->h) : "cannot open");
    sqlite3_close (db->h);
    free (db);
    return NULL;
  }
  pthread_mutex_init (&db->lock, NULL);
  if (gethostname (db->host, sizeof db->host - 1) == -1)
    strcpy (db->host, "?");
  sqlite3_busy_timeout (db->h, BUSY_TIMEOUT_MS);
  if (exec_busy (db, "PRAGMA journal_mode = WAL", err) == -1 ||
      exec (db, "PRAGMA synchronous = NORMAL", err) == -1 ||
      init_schema (db, err) == -1) {
    char *e = rn_asprintf ("%s: %s", path, *err);
    free (*err);
    *err = e;
    rn_db_close (db);
    return NULL;
  }
  return db;
}

void
rn_db_close (struct rn_db *db)
{
  if (db == NULL)
    return;
  sqlite3_close (db->h);
  pthread_mutex_destroy (&db->lock);
  free (db);
}

int
rn_db_begin (struct rn_db *db, char **err)
{
  pthread_mutex_lock (&db->lock);
  if (exec (db, "BEGIN IMMEDIATE", err) == -1) {
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  return 0;
}

int
rn_db_commit (struct rn_db *db, char **err)
{
  int r = exec (db, "COMMIT", err);
  if (r == -1) {
    char *e2 = NULL;
    exec (db, "ROLLBACK", &e2);
    free (e2);
  }
  pthread_mutex_unlock (&db->lock);
  return r;
}

void
rn_db_rollback (struct rn_db *db)
{
  char *err = NULL;
  exec (db, "ROLLBACK", &err);
  free (err);
  pthread_mutex_unlock (&db->lock);
}

int
rn_db_new_run (struct rn_db *db, const struct rn_job *j, const char *options,
               int64_t *run_id, char **err)
{
  char now[32];

  rn_utc (now);
  if (run (db, err, "INSERT INTO runs (job_name, job_file, job_text, options, "
           "status, ntasks, started, pid, host) VALUES (?, ?, ?, ?, 'running', 0, ?, ?, ?)",
           "tttttit", j->name, j->path, j->text, options, now, (int64_t) getpid (),
           db->host) == -1)
    return -1;
  *run_id = sqlite3_last_insert_rowid (db->h);
  return 0;
}

int
rn_db_add_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t, size_t n,
                 char **err)
{
  for (size_t i = 0; i < n; i++) {
    if (run (db, err, "INSERT INTO tasks (run_id, seq, image, instance, status) "
             "VALUES (?, ?, ?, ?, 'pending')", "iitt", run_id, (int64_t) t[i].seq,
             t[i].image_path, t[i].inst->name) == -1)
      return -1;
    t[i].db_id = sqlite3_last_insert_rowid (db->h);
  }
  return run (db, err, "UPDATE runs SET ntasks = ? WHERE id = ?", "ii",
              (int64_t) n, run_id);
}

int
rn_db_get_run (struct rn_db *db, int64_t run_id, char **file, char **text,
               char **options, char *started, char **err)
{
  sqlite3_stmt *st;
  int r = -1;

  pthread_mutex_lock (&db->lock);
  if (sqlite3_prepare_v2 (db->h, "SELECT job_file, job_text, options, started FROM runs "
                          "WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
    *err = db_err (db, "database");
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  sqlite3_bind_int64 (st, 1, run_id);
  if (sqlite3_step (st) == SQLITE_ROW) {
    *file = rn_strdup ((const char *) sqlite3_column_text (st, 0));
    *text = rn_strdup ((const char *) sqlite3_column_text (st, 1));
    *options = rn_strdup ((const char *) sqlite3_column_text (st, 2));
    snprintf (started, 32, "%s", (const char *) sqlite3_column_text (st, 3));
    r = 0;
  } else
    *err = rn_asprintf ("there is no run %lld in this database", (long long) run_id);
  sqlite3_finalize (st);
  pthread_mutex_unlock (&db->lock);
  return r;
}

/* Is the run held by a live process (not us) on this host? */
static int
held_elsewhere (struct rn_db *db, int64_t run_id, int64_t *pid)
{
  sqlite3_stmt *st;
  int held = 0;

  if (sqlite3_prepare_v2 (db->h, "SELECT status, pid, host FROM runs WHERE id = ?",
                          -1, &st, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64 (st, 1, run_id);
  if (sqlite3_step (st) == SQLITE_ROW) {
    const char *status = (const char *) sqlite3_column_text (st, 0);
    const char *host = (const char *) sqlite3_column_text (st, 2);
    *pid = sqlite3_column_int64 (st, 1);
    held = status && strcmp (status, "running") == 0 && host &&
           strcmp (host, db->host) == 0 && *pid > 0 && *pid != getpid () &&
           (kill ((pid_t) *pid, 0) == 0 || errno == EPERM);
  }
  sqlite3_finalize (st);
  return held;
}

int
rn_db_claim_run (struct rn_db *db, int64_t run_id, int workers, char **err)
{
  int64_t pid = 0;

  if (rn_db_begin (db, err) == -1)
    return -1;
  if (held_elsewhere (db, run_id, &pid)) {
    *err = rn_asprintf ("run %lld is being run by process %lld", (long long) run_id,
                        (long long) pid);
    rn_db_rollback (db);
    return -1;
  }
  if (run (db, err, "UPDATE runs SET status = 'running', pid = ?, host = ?, "
           "workers = ?, finished = NULL WHERE id = ?", "itii", (int64_t) getpid (),
           db->host, (int64_t) workers, run_id) == -1) {
    rn_db_rollback (db);
    return -1;
  }
  return rn_db_commit (db, err);
}

static enum rn_status
status_of (const char *s)
{
  for (int i = RN_PENDING; i <= RN_INTERRUPTED; i++)
    if (s && strcmp (s, rn_status_name ((enum rn_status) i)) == 0)
      return (enum rn_status) i;
  return RN_PENDING;
}

int
rn_db_load_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t, size_t n,
                  char **err)
{
  sqlite3_stmt *st;
  size_t found = 0;
  int r = 0;

  pthread_mutex_lock (&db->lock);
  if (sqlite3_prepare_v2 (db->h, "SELECT seq, id, image, instance, status FROM tasks "
                          "WHERE run_id = ? ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
    *err = db_err (db, "database");
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  sqlite3_bind_int64 (st, 1, run_id);
  while (r == 0 && sqlite3_step (st) == SQLITE_ROW) {
    int64_t seq = sqlite3_column_int64 (st, 0);
    const char *image = (const char *) sqlite3_column_text (st, 2);
    const char *inst = (const char *) sqlite3_column_text (st, 3);
    struct rn_task *x = seq >= 1 && (size_t) seq <= n ? &t[seq - 1] : NULL;
    if (x == NULL || x->seq != seq || strcmp (x->image_path, image ? image : "") ||
        strcmp (x->inst->name, inst ? inst : "")) {
      *err = rn_asprintf ("run %lld: task %lld (%s) no longer matches its job: "
                          "the images or the matrix changed", (long long) run_id,
                          (long long) seq, image ? image : "?");
      r = -1;
      break;
    }
    x->db_id = sqlite3_column_int64 (st, 1);
    x->status = status_of ((const char *) sqlite3_column_text (st, 4));
    found++;
  }
  sqlite3_finalize (st);
  pthread_mutex_unlock (&db->lock);
  if (r == 0 && found != n) {
    *err = rn_asprintf ("run %lld has %zu tasks but its job now expands to %zu",
                        (long long) run_id, found, n);
    r = -1;
  }
  return r;
}

int
rn_db_task_start (struct rn_db *db, const struct rn_task *t, int worker,
                  const char *started)
{
  char *err = NULL;
  int r;

  pthread_mutex_lock (&db->lock);
  r = run (db, &err, "UPDATE tasks SET status = 'running', started = ?, worker = ?, "
           "finished = NULL WHERE id = ?", "tii", started, (int64_t) worker, t->db_id);
  pthread_mutex_unlock (&db->lock);
  if (r == -1) {
    fprintf (stderr, "%s: %s\n", rn_progname, err);
    free (err);
  }
  return r;
}

static int
write_task (struct rn_db *db, const struct rn_task *t, const struct rn_taskrec *r,
            char **err)
{
  if (run (db, err, "DELETE FROM steps WHERE task_id = ?", "i", t->db_id) == -1 ||
      run (db, err, "DELETE FROM facts WHERE task_id = ?", "i", t->db_id) == -1)
    return -1;
  for (size_t i = 0; i < r->nsteps; i++) {
    const struct rn_steprec *s = &r->steps[i];
    if (run (db, err, "INSERT INTO steps (task_id, seq, call, args, result, error, "
             "duration_ms, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "iittttdi",
             t->db_id, (int64_t) s->seq, s->call, s->args, s->result, s->error,
             s->ms, (int64_t) s->line) == -1)
      return -1;
  }
  for (size_t i = 0; i < r->fact_names.n; i++)
    if (run (db, err, "INSERT OR REPLACE INTO facts (task_id, name, value) "
             "VALUES (?, ?, ?)", "itt", t->db_id, r->fact_names.v[i],
             r->fact_values.v[i]) == -1)
      return -1;
  if (r->changes && rn_db_write_changes (db->h, t->db_id, r->changes, err) == -1)
    return -1;
  if (rn_db_audit_write (db, t->db_id, r->audit, err) == -1)   /* db-inventory.c */
    return -1;
  return run (db, err, "UPDATE tasks SET status = ?, attempts = ?, step_errors = ?, "
              "error = ?, started = ?, finished = ?, duration_ms = ?, "
              "overhead_ms = ?, worker = ? WHERE id = ?", "tiitttddii",
              rn_status_name (r->status), (int64_t) r->attempts,
              (int64_t) r->step_errors, r->error, r->started, r->finished, r->ms,
              r->overhead_ms, (int64_t) r->worker, t->db_id);
}

int
rn_db_task_finish (struct rn_db *db, const struct rn_task *t,
                   const struct rn_taskrec *r)
{
  char *err = NULL;

  for (int attempt = 0; attempt < 5; attempt++) {
    if (rn_db_begin (db, &err) == 0) {
      if (write_task (db, t, r, &err) == 0) {
        if (rn_db_commit (db, &err) == 0)
          return 0;
      } else
        rn_db_rollback (db);
    }
    if (sqlite3_errcode (db->h) != SQLITE_BUSY && sqlite3_errcode (db->h) != SQLITE_LOCKED)
      break;
    free (err);
    err = NULL;
  }
  fprintf (stderr, "%s: task %d (%s): cannot record the result: %s\n", rn_progname,
           t->seq, t->image_path, err ? err : "database busy");
  free (err);
  return -1;
}

int
rn_db_run_end (struct rn_db *db, int64_t run_id, const char *status)
{
  char now[32], *err = NULL;
  int r;

  rn_utc (now);
  pthread_mutex_lock (&db->lock);
  r = run (db, &err, "UPDATE runs SET status = ?, finished = ? WHERE id = ?", "tti",
           status, now, run_id);
  pthread_mutex_unlock (&db->lock);
  if (r == -1) {
    fprintf (stderr, "%s: %s\n", rn_progname, err);
    free (err);
  }
  return r;
}

int
rn_db_query (struct rn_db *db, const char *sql, const char *const *params,
             size_t nparams, rn_row_fn fn, void *ctx, char **err)
{
  sqlite3_stmt *st;
  int r, ret = 0;

  pthread_mutex_lock (&db->lock);
  if (sqlite3_prepare_v2 (db->h, sql, -1, &st, NULL) != SQLITE_OK) {
    *err = db_err (db, "database");
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  for (size_t i = 0; i < nparams; i++)
    sqlite3_bind_text (st, (int) i + 1, params[i], -1, SQLITE_TRANSIENT);
  while ((r = sqlite3_step (st)) == SQLITE_ROW) {
    int nc = sqlite3_column_count (st);
    char *cols[64], *names[64];
    for (int i = 0; i < nc && i < 64; i++) {
      cols[i] = (char *) sqlite3_column_text (st, i);
      names[i] = (char *) sqlite3_column_name (st, i);
    }
    if (fn (ctx, nc < 64 ? nc : 64, cols, names) != 0)
      break;
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE) {
    *err = db_err (db, "database");
    ret = -1;
  }
  sqlite3_finalize (st);
  pthread_mutex_unlock (&db->lock);
  return ret;
}

void
rn_taskrec_free (struct rn_taskrec *r)
{
  for (size_t i = 0; i < r->nsteps; i++) {
    free (r->steps[i].args);
    free (r->steps[i].result);
    free (r->steps[i].error);
  }
  free (r->steps);
  free (r->error);
  rn_strv_free (&r->fact_names);
  rn_strv_free (&r->fact_values);
  rn_audit_free (r->audit);
  memset (r, 0, sizeof *r);
}
