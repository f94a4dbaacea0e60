/* runner/db.c: the results store, the only runner file that speaks SQL.
 * The schema is schemas/results.sql (embedded: results-sql-gen.c).
 *
 * One connection per process, used under one mutex by every thread.  WAL
 * journal with synchronous=NORMAL: a commit survives the process being
 * killed at any moment (only a power cut can lose the last commits), and
 * readers (`guestkit report' / `status') never block the writer.
 * foreign_keys is on: a step or fact always belongs to a task, a task to
 * a run.  Every fixed statement is prepared once, on first use, and kept
 * in struct rn_db until close.
 *
 * Other processes writing the same file: every write transaction is
 * BEGIN IMMEDIATE, so two writers never deadlock; sqlite's busy handler
 * waits up to the busy timeout (60 s, or GUESTKIT_DB_BUSY_MS) for a lock,
 * and a task's start, result and a run's end are tried again for up to
 * RETRY_BUDGET_S more when the lock is still held (SQLITE_BUSY or
 * SQLITE_LOCKED, as the failing statement reported it: a ROLLBACK after
 * it would reset sqlite's own error code).  A finished task is written in
 * one transaction: its steps, its facts and its final status together, or
 * none of them.
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
#define RETRY_BUDGET_S 120.0       /* more tries after the busy handler gave up */
#define RN_STR_(x) #x
#define RN_STR(x) RN_STR_ (x)
#define EXTRA_MAX 16               /* statements other files give as text */

extern const char rn_results_sql[];

/* The fixed statements, prepared once each (stmt_sql, same order). */
enum stmt {
  ST_NEW_RUN, ST_ADD_TASK, ST_SET_NTASKS, ST_GET_RUN, ST_HELD, ST_CLAIM,
  ST_LOAD_TASKS, ST_TASK_START, ST_DEL_STEPS, ST_DEL_FACTS, ST_ADD_STEP,
  ST_ADD_FACT, ST_TASK_END, ST_RUN_END, ST_N
};

static const char *const stmt_sql[ST_N] = {
  [ST_NEW_RUN] = "INSERT INTO runs (job_name, job_file, job_text, options, status, "
                 "ntasks, started, pid, host) VALUES (?, ?, ?, ?, 'running', 0, ?, ?, ?)",
  [ST_ADD_TASK] = "INSERT INTO tasks (run_id, seq, image, instance, status) "
                  "VALUES (?, ?, ?, ?, 'pending')",
  [ST_SET_NTASKS] = "UPDATE runs SET ntasks = ? WHERE id = ?",
  [ST_GET_RUN] = "SELECT job_file, job_text, options, started FROM runs WHERE id = ?",
  [ST_HELD] = "SELECT status, pid, host FROM runs WHERE id = ?",
  [ST_CLAIM] = "UPDATE runs SET status = 'running', pid = ?, host = ?, workers = ?, "
               "finished = NULL WHERE id = ?",
  [ST_LOAD_TASKS] = "SELECT seq, id, image, instance, status FROM tasks "
                    "WHERE run_id = ? ORDER BY seq",
  [ST_TASK_START] = "UPDATE tasks SET status = 'running', started = ?, worker = ?, "
                    "finished = NULL WHERE id = ?",
  [ST_DEL_STEPS] = "DELETE FROM steps WHERE task_id = ?",
  [ST_DEL_FACTS] = "DELETE FROM facts WHERE task_id = ?",
  [ST_ADD_STEP] = "INSERT INTO steps (task_id, seq, call, args, result, error, "
                  "duration_ms, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  [ST_ADD_FACT] = "INSERT OR REPLACE INTO facts (task_id, name, value) VALUES (?, ?, ?)",
  [ST_TASK_END] = "UPDATE tasks SET status = ?, attempts = ?, step_errors = ?, "
                  "error = ?, started = ?, finished = ?, duration_ms = ?, "
                  "overhead_ms = ?, worker = ? WHERE id = ?",
  [ST_RUN_END] = "UPDATE runs SET status = ?, finished = ? WHERE id = ?",
};

struct rn_db {
  sqlite3 *h;
  pthread_mutex_t lock;      /* one transaction at a time; all below */
  sqlite3_stmt *st[ST_N];    /* prepared on first use, finalized at close */
  const char *extra_sql[EXTRA_MAX];  /* rn_db_write's statements, by address */
  sqlite3_stmt *extra_st[EXTRA_MAX];
  int code;                  /* primary result code of the last failure */
  char host[256];
};

static char *
db_err (struct rn_db *db, const char *what)
{
  return rn_asprintf ("%s: %s", what, sqlite3_errmsg (db->h));
}

/* Note a failure's code and message, before anything resets them. */
static int
failed (struct rn_db *db, int rc, char **err)
{
  db->code = rc & 0xff;
  *err = db_err (db, "database");
  return -1;
}

static int
busy (const struct rn_db *db)
{
  return db->code == SQLITE_BUSY || db->code == SQLITE_LOCKED;
}

/* Bind the arguments described by types to st:
 *   t  const char * (NULL binds NULL)    i  int64_t    d  double */
static int
bind_args (struct rn_db *db, sqlite3_stmt *st, const char *types, va_list ap, char **err)
{
  int r;

  for (int i = 0; types[i]; i++) {
    if (types[i] == 't') {
      const char *s = va_arg (ap, const char *);
      r = s ? sqlite3_bind_text (st, i + 1, s, -1, SQLITE_TRANSIENT)
            : sqlite3_bind_null (st, i + 1);
    } else if (types[i] == 'i')
      r = sqlite3_bind_int64 (st, i + 1, va_arg (ap, int64_t));
    else
      r = sqlite3_bind_double (st, i + 1, va_arg (ap, double));
    if (r != SQLITE_OK)
      return failed (db, r, err);
  }
  return 0;
}

/* Statement id, reset, with the arguments described by types bound. */
static sqlite3_stmt *
prepare (struct rn_db *db, enum stmt id, const char *types, va_list ap, char **err)
{
  sqlite3_stmt *st = db->st[id];
  int r;

  if (st == NULL) {
    r = sqlite3_prepare_v3 (db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                            &db->st[id], NULL);
    if (r != SQLITE_OK) {
      failed (db, r, err);
      return NULL;
    }
    st = db->st[id];
  }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  return bind_args (db, st, types, ap, err) == -1 ? NULL : st;
}

/* Statement id with its arguments bound, for the caller to step and
 * then sqlite3_reset; NULL (*err set) on failure. */
static sqlite3_stmt *
query (struct rn_db *db, char **err, enum stmt id, const char *types, ...)
{
  va_list ap;
  sqlite3_stmt *st;

  va_start (ap, types);
  st = prepare (db, id, types, ap, err);
  va_end (ap);
  return st;
}

/* Step st to its end and reset it; 0 or -1 (*err set). */
static int
step_done (struct rn_db *db, sqlite3_stmt *st, char **err)
{
  int r;

  while ((r = sqlite3_step (st)) == SQLITE_ROW)
    ;
  if (r != SQLITE_DONE)
    failed (db, r, err);
  sqlite3_reset (st);
  return r == SQLITE_DONE ? 0 : -1;
}

/* Run a statement that returns no rows; 0 or -1 (*err set). */
static int
run (struct rn_db *db, char **err, enum stmt id, const char *types, ...)
{
  va_list ap;
  sqlite3_stmt *st;

  va_start (ap, types);
  st = prepare (db, id, types, ap, err);
  va_end (ap);
  return st ? step_done (db, st, err) : -1;
}

/* The same for a statement given as text by another file of the runner
 * (db-inventory.c): sql must be a string constant, since its address
 * keys the statement, prepared once. */
int
rn_db_write (struct rn_db *db, char **err, const char *sql, const char *types, ...)
{
  va_list ap;
  sqlite3_stmt *st;
  size_t i;
  int r;

  for (i = 0; i < EXTRA_MAX && db->extra_sql[i] && db->extra_sql[i] != sql; i++)
    ;
  if (i == EXTRA_MAX) {
    *err = rn_asprintf ("database: more than %d statements given as text", EXTRA_MAX);
    return -1;
  }
  if (db->extra_sql[i] == NULL) {
    r = sqlite3_prepare_v3 (db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &db->extra_st[i], NULL);
    if (r != SQLITE_OK)
      return failed (db, r, err);
    db->extra_sql[i] = sql;
  }
  st = db->extra_st[i];
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  va_start (ap, types);
  r = bind_args (db, st, types, ap, err);
  va_end (ap);
  return r == -1 ? -1 : step_done (db, st, err);
}

static int
exec (struct rn_db *db, const char *sql, char **err)
{
  char *msg = NULL;
  int r = sqlite3_exec (db->h, sql, NULL, NULL, &msg);

  if (r != SQLITE_OK) {
    db->code = r & 0xff;
    *err = rn_asprintf ("database: %s", msg ? msg : sqlite3_errmsg (db->h));
    sqlite3_free (msg);
    return -1;
  }
  return 0;
}

/* End a failed transaction; db->code keeps the failure's code. */
static void
rollback (struct rn_db *db)
{
  if (!sqlite3_get_autocommit (db->h))
    sqlite3_exec (db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* exec, waiting out SQLITE_BUSY where sqlite's busy handler does not
 * (switching to WAL while another process creates the same file). */
static int
exec_busy (struct rn_db *db, const char *sql, char **err)
{
  for (int tries = 0;; tries++) {
    if (exec (db, sql, err) == 0)
      return 0;
    if (!busy (db) || tries * 20 > BUSY_TIMEOUT_MS)
      return -1;
    free (*err);
    *err = NULL;
    usleep (20000);
  }
}

/* A write transaction running fn(db, arg, err), under the lock; tried
 * again while it fails because another process holds the lock, for
 * RETRY_BUDGET_S at most.  0 or -1 (*err set). */
typedef int (*tx_fn) (struct rn_db *db, const void *arg, char **err);

static int
transaction (struct rn_db *db, tx_fn fn, const void *arg, char **err)
{
  double give_up = rn_now () + RETRY_BUDGET_S;
  useconds_t pause = 20000;
  int r;

  pthread_mutex_lock (&db->lock);
  for (;;) {
    db->code = SQLITE_OK;
    r = exec (db, "BEGIN IMMEDIATE", err);
    if (r == 0 && (r = fn (db, arg, err)) == 0)
      r = exec (db, "COMMIT", err);
    if (r == 0 || !busy (db) || rn_now () > give_up)
      break;
    rollback (db);
    free (*err);
    *err = NULL;
    usleep (pause);
    pause = pause < 500000 ? pause * 2 : pause;
  }
  if (r == -1)
    rollback (db);
  pthread_mutex_unlock (&db->lock);
  return r;
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
    rollback (db);
    return -1;
  }
  if (exec (db, rn_results_sql, err) == -1 ||
      exec (db, "PRAGMA user_version = " RN_STR (SCHEMA_VERSION), err) == -1 ||
      exec (db, "COMMIT", err) == -1) {
    rollback (db);
    return -1;
  }
  return 0;
}

/* sqlite's busy timeout: BUSY_TIMEOUT_MS, or GUESTKIT_DB_BUSY_MS. */
static int
busy_timeout_ms (void)
{
  const char *s = getenv ("GUESTKIT_DB_BUSY_MS");
  char *end;
  long v;

  if (s == NULL || *s == '\0')
    return BUSY_TIMEOUT_MS;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || *end || v < 0 || v > 3600000) {
    fprintf (stderr, "%s: GUESTKIT_DB_BUSY_MS: '%s' is not a number of "
             "milliseconds (0-3600000); using %d\n", rn_progname, s, BUSY_TIMEOUT_MS);
    return BUSY_TIMEOUT_MS;
  }
  return (int) v;
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
  sqlite3_busy_timeout (db->h, busy_timeout_ms ());
  if (exec_busy (db, "PRAGMA journal_mode = WAL", err) == -1 ||
      exec (db, "PRAGMA synchronous = NORMAL", err) == -1 ||
      exec (db, "PRAGMA foreign_keys = ON", err) == -1 ||
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
  for (int i = 0; i < ST_N; i++)
    sqlite3_finalize (db->st[i]);
  for (int i = 0; i < EXTRA_MAX; i++)
    sqlite3_finalize (db->extra_st[i]);
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
  if (r == -1)
    rollback (db);
  pthread_mutex_unlock (&db->lock);
  return r;
}

void
rn_db_rollback (struct rn_db *db)
{
  rollback (db);
  pthread_mutex_unlock (&db->lock);
}

int
rn_db_new_run (struct rn_db *db, const struct rn_job *j, const char *options,
               int64_t *run_id, char **err)
{
  char now[32];

  rn_utc (now);
  if (run (db, err, ST_NEW_RUN, "tttttit", j->name, j->path, j->text, options, now,
           (int64_t) getpid (), db->host) == -1)
    return -1;
  *run_id = sqlite3_last_insert_rowid (db->h);
  return 0;
}

int
rn_db_add_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t, size_t n,
                 char **err)
{
  for (size_t i = 0; i < n; i++) {
    if (run (db, err, ST_ADD_TASK, "iitt", run_id, (int64_t) t[i].seq,
             t[i].image_path, t[i].inst->name) == -1)
      return -1;
    t[i].db_id = sqlite3_last_insert_rowid (db->h);
  }
  return run (db, err, ST_SET_NTASKS, "ii", (int64_t) n, run_id);
}

static char *
column_dup (sqlite3_stmt *st, int i)
{
  const char *s = (const char *) sqlite3_column_text (st, i);
  return rn_strdup (s ? s : "");
}

int
rn_db_get_run (struct rn_db *db, int64_t run_id, char **file, char **text,
               char **options, char *started, char **err)
{
  sqlite3_stmt *st;
  int r = -1, rc;

  pthread_mutex_lock (&db->lock);
  if ((st = query (db, err, ST_GET_RUN, "i", run_id)) == NULL) {
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  if ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    *file = column_dup (st, 0);
    *text = column_dup (st, 1);
    *options = column_dup (st, 2);
    snprintf (started, 32, "%s", (const char *) sqlite3_column_text (st, 3));
    r = 0;
  } else if (rc == SQLITE_DONE)
    *err = rn_asprintf ("there is no run %lld in this database", (long long) run_id);
  else
    failed (db, rc, err);
  sqlite3_reset (st);
  pthread_mutex_unlock (&db->lock);
  return r;
}

/* Is the run held by a live process (not us) on this host? */
static int
held_elsewhere (struct rn_db *db, int64_t run_id, int64_t *pid, char **err)
{
  sqlite3_stmt *st = query (db, err, ST_HELD, "i", run_id);
  int held = 0;

  if (st == NULL)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW) {
    const char *status = (const char *) sqlite3_column_text (st, 0);
    const char *host = (const char *) sqlite3_column_text (st, 2);
    *pid = sqlite3_column_int64 (st, 1);
    held = status && strcmp (status, "running") == 0 && host &&
           strcmp (host, db->host) == 0 && *pid > 0 && *pid != getpid () &&
           (kill ((pid_t) *pid, 0) == 0 || errno == EPERM);
  }
  sqlite3_reset (st);
  return held;
}

struct claim {
  int64_t run_id;
  int workers;
};

static int
claim_tx (struct rn_db *db, const void *arg, char **err)
{
  const struct claim *c = arg;
  int64_t pid = 0;
  int held = held_elsewhere (db, c->run_id, &pid, err);

  if (held == -1)
    return -1;
  if (held) {
    *err = rn_asprintf ("run %lld is being run by process %lld", (long long) c->run_id,
                        (long long) pid);
    return -1;
  }
  return run (db, err, ST_CLAIM, "itii", (int64_t) getpid (), db->host,
              (int64_t) c->workers, c->run_id);
}

int
rn_db_claim_run (struct rn_db *db, int64_t run_id, int workers, char **err)
{
  struct claim c = { run_id, workers };
  return transaction (db, claim_tx, &c, err);
}

static enum rn_status
status_of (const char *s)
{
  for (int i = RN_PENDING; i <= RN_INTERRUPTED; i++)
    if (s && strcmp (s, rn_status_name ((enum rn_status) i)) == 0)
      return (enum rn_status) i;
  return RN_PENDING;
}

/* The task numbered seq in t (sorted by seq, maybe with gaps: a shard's
 * tasks), or NULL. */
static struct rn_task *
task_by_seq (struct rn_task *t, size_t n, int64_t seq)
{
  size_t lo = 0, hi = n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t[mid].seq == seq)
      return &t[mid];
    if (t[mid].seq < seq)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* One row of ST_LOAD_TASKS into t[]; -1 (*err set) if it does not match. */
static int
load_task (sqlite3_stmt *st, int64_t run_id, struct rn_task *t, size_t n, char **err)
{
  int64_t seq = sqlite3_column_int64 (st, 0);
  const char *image = (const char *) sqlite3_column_text (st, 2);
  const char *inst = (const char *) sqlite3_column_text (st, 3);
  struct rn_task *x = task_by_seq (t, n, seq);

  if (x == NULL || x->seq != seq || strcmp (x->image_path, image ? image : "") ||
      strcmp (x->inst->name, inst ? inst : "")) {
    *err = rn_asprintf ("run %lld: task %lld (%s) no longer matches its job: "
                        "the images or the matrix changed", (long long) run_id,
                        (long long) seq, image ? image : "?");
    return -1;
  }
  x->db_id = sqlite3_column_int64 (st, 1);
  x->status = status_of ((const char *) sqlite3_column_text (st, 4));
  return 0;
}

int
rn_db_load_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t, size_t n,
                  char **err)
{
  sqlite3_stmt *st;
  size_t found = 0;
  int r = 0, rc;

  pthread_mutex_lock (&db->lock);
  if ((st = query (db, err, ST_LOAD_TASKS, "i", run_id)) == NULL) {
    pthread_mutex_unlock (&db->lock);
    return -1;
  }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    if ((r = load_task (st, run_id, t, n, err)) == -1)
      break;
    found++;
  }
  if (r == 0 && rc != SQLITE_DONE)
    r = failed (db, rc, err);
  sqlite3_reset (st);
  pthread_mutex_unlock (&db->lock);
  if (r == 0 && found != n) {
    *err = rn_asprintf ("run %lld has %zu tasks but its job now expands to %zu",
                        (long long) run_id, found, n);
    r = -1;
  }
  return r;
}

struct task_start {
  const struct rn_task *t;
  int worker;
  const char *started;
};

static int
task_start_tx (struct rn_db *db, const void *arg, char **err)
{
  const struct task_start *s = arg;
  return run (db, err, ST_TASK_START, "tii", s->started, (int64_t) s->worker,
              s->t->db_id);
}

int
rn_db_task_start (struct rn_db *db, const struct rn_task *t, int worker,
                  const char *started)
{
  struct task_start s = { t, worker, started };
  char *err = NULL;
  int r = transaction (db, task_start_tx, &s, &err);

  if (r == -1) {
    fprintf (stderr, "%s: task %d (%s): %s\n", rn_progname, t->seq, t->image_path, err);
    free (err);
  }
  return r;
}

struct task_end {
  const struct rn_task *t;
  const struct rn_taskrec *r;
};

static int
write_task (struct rn_db *db, const void *arg, char **err)
{
  const struct rn_task *t = ((const struct task_end *) arg)->t;
  const struct rn_taskrec *r = ((const struct task_end *) arg)->r;

  if (run (db, err, ST_DEL_STEPS, "i", t->db_id) == -1 ||
      run (db, err, ST_DEL_FACTS, "i", t->db_id) == -1)
    return -1;
  for (size_t i = 0; i < r->nsteps; i++) {
    const struct rn_steprec *s = &r->steps[i];
    if (run (db, err, ST_ADD_STEP, "iittttdi", t->db_id, (int64_t) s->seq, s->call,
             s->args, s->result, s->error, s->ms, (int64_t) s->line) == -1)
      return -1;
  }
  for (size_t i = 0; i < r->fact_names.n; i++)
    if (run (db, err, ST_ADD_FACT, "itt", t->db_id, r->fact_names.v[i],
             r->fact_values.v[i]) == -1)
      return -1;
  if (rn_db_audit_write (db, t->db_id, r->audit, err) == -1)   /* db-inventory.c */
    return -1;
  if (r->changes && rn_db_write_changes (db->h, t->db_id, r->changes, err) == -1)
    return -1;
  return run (db, err, ST_TASK_END, "tiitttddii", rn_status_name (r->status),
              (int64_t) r->attempts, (int64_t) r->step_errors, r->error, r->started,
              r->finished, r->ms, r->overhead_ms, (int64_t) r->worker, t->db_id);
}

int
rn_db_task_finish (struct rn_db *db, const struct rn_task *t,
                   const struct rn_taskrec *r)
{
  struct task_end e = { t, r };
  char *err = NULL;

  if (transaction (db, write_task, &e, &err) == 0)
    return 0;
  fprintf (stderr, "%s: task %d (%s): cannot record the result: %s\n", rn_progname,
           t->seq, t->image_path, err);
  free (err);
  return -1;
}

struct run_end {
  int64_t run_id;
  const char *status;
};

static int
run_end_tx (struct rn_db *db, const void *arg, char **err)
{
  const struct run_end *e = arg;
  char now[32];

  rn_utc (now);
  return run (db, err, ST_RUN_END, "tti", e->status, now, e->run_id);
}

int
rn_db_run_end (struct rn_db *db, int64_t run_id, const char *status)
{
  struct run_end e = { run_id, status };
  char *err = NULL;
  int r = transaction (db, run_end_tx, &e, &err);

  if (r == -1) {
    fprintf (stderr, "%s: run %lld: %s\n", rn_progname, (long long) run_id, err);
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
