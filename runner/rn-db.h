/* runner/rn-db.h: the results store: runs, tasks, steps and facts
 * (db.c), inventory and findings (db-inventory.c, checks.c), changes
 * (db-changes.c), and results as JSON text (json.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_DB_H
#define RN_DB_H

#include <stdint.h>

#include "guestfs.h"
#include "calls-gen.h"
#include "rn-job.h"

struct rn_changes;           /* rn-steps.h (steps-changes.c) */

/* ---- db.c: the results store (the only file that speaks SQL) ---- */

struct rn_db;

/* Open (create: also create the file and schema if missing). */
struct rn_db *rn_db_open (const char *path, int create, char **err);
void rn_db_close (struct rn_db *db);
/* A write transaction (BEGIN IMMEDIATE) around new-run creation. */
int rn_db_begin (struct rn_db *db, char **err);
int rn_db_commit (struct rn_db *db, char **err);
void rn_db_rollback (struct rn_db *db);
/* Inside a transaction: a new run of j, owned by this process. */
int rn_db_new_run (struct rn_db *db, const struct rn_job *j, const char *options,
                   int64_t *run_id, char **err);
/* Inside a transaction: tasks as 'pending'; sets each one's db_id. */
int rn_db_add_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t,
                     size_t n, char **err);
/* For --resume: the run's job file, text, options and start time
 * (started[32]); caller frees the strings. */
int rn_db_get_run (struct rn_db *db, int64_t run_id, char **file, char **text,
                   char **options, char *started, char **err);
/* Take a run over for this process; fails if another live process on
 * this host has it.  Marks it running. */
int rn_db_claim_run (struct rn_db *db, int64_t run_id, int workers, char **err);
/* For --resume: each task's db_id and status from the database; -1 if
 * the job no longer expands to the run's tasks. */
int rn_db_load_tasks (struct rn_db *db, int64_t run_id, struct rn_task *t,
                      size_t n, char **err);
int rn_db_task_start (struct rn_db *db, const struct rn_task *t, int worker,
                      const char *started);
int rn_db_run_end (struct rn_db *db, int64_t run_id, const char *status);

/* One finished step, kept until the task's result is written. */
struct rn_steprec {
  int seq;
  const char *call;
  char *args;                /* JSON */
  char *result;              /* JSON or NULL */
  char *error;               /* or NULL */
  double ms;
  int line;
};

/* A finished task: everything written in one transaction. */
struct rn_taskrec {
  enum rn_status status;
  int attempts;
  int step_errors;
  char *error;
  char started[32], finished[32];
  double ms, overhead_ms;
  int worker;
  struct rn_steprec *steps;
  size_t nsteps;
  struct rn_strv fact_names, fact_values;   /* values are JSON */
  struct rn_audit *audit;    /* inventory and findings, or NULL (owned) */
  const struct rn_changes *changes;         /* or NULL: not a writing task */
};
int rn_db_task_finish (struct rn_db *db, const struct rn_task *t,
                       const struct rn_taskrec *r);
void rn_taskrec_free (struct rn_taskrec *r);

/* A statement returning no rows, inside the caller's transaction (for
 * db-inventory.c); types as for the binds: t text (NULL: NULL), i int64_t,
 * d double.  0 or -1 with *err set. */
int rn_db_write (struct rn_db *db, char **err, const char *sql, const char *types, ...);

/* For report.c and status: run a query, one callback per row (columns as
 * text, NULL for SQL NULL). */
typedef int (*rn_row_fn) (void *ctx, int ncols, char **cols, char **names);
int rn_db_query (struct rn_db *db, const char *sql, const char *const *params,
                 size_t nparams, rn_row_fn fn, void *ctx, char **err);

/* ---- db-inventory.c: a task's inventory and findings ---- */

/* Caps on what is recorded from the guest (bytes; longer is cut at a
 * character boundary and marked with "..."). */
#define RN_AUDIT_STR_MAX   1024     /* names, versions, labels, ... */
#define RN_AUDIT_EVIDENCE_MAX 512   /* a finding's value */

struct rn_osrec {
  char *root, *type, *distro, *product, *hostname, *arch;
  char *package_format, *package_management;
  char *mountpoints;         /* JSON object */
  int major, minor;          /* -1 unknown */
};
struct rn_apprec {
  char *root, *name, *version, *release, *arch;
  int64_t epoch;
};
struct rn_fsrec {
  char *device, *type, *label, *uuid;   /* type NULL: unknown */
  int64_t size, used;        /* bytes, -1: not mounted */
};
struct rn_findrec {
  char *check_id, *severity, *description;
  int passed;
  char *path, *value;        /* evidence, or NULL */
};

/* Everything the audit steps of one task found, written with its result. */
struct rn_audit {
  struct rn_osrec *os; size_t nos;
  struct rn_apprec *apps; size_t napps;
  struct rn_fsrec *fs; size_t nfs;
  struct rn_findrec *findings; size_t nfindings;
};

/* A copy of a guest string capped at max bytes (NULL stays NULL). */
char *rn_audit_str (const char *s, size_t max);
/* Append a zeroed record and return it (fields to be set by the caller,
 * each string malloc'd and capped with rn_audit_str). */
struct rn_osrec *rn_audit_new_os (struct rn_audit *a);
struct rn_apprec *rn_audit_new_app (struct rn_audit *a);
struct rn_fsrec *rn_audit_new_fs (struct rn_audit *a);
struct rn_findrec *rn_audit_new_finding (struct rn_audit *a);
void rn_audit_free (struct rn_audit *a);    /* NULL is fine */
/* Drop the os, applications and filesystems rows (not the findings). */
void rn_audit_clear_inventory (struct rn_audit *a);
/* Inside write_task's transaction: replace the task's audit rows with
 * a's (a NULL: just remove them). */
int rn_db_audit_write (struct rn_db *db, int64_t task_id, const struct rn_audit *a,
                       char **err);

/* How many checks of severity high failed in the latest result of the
 * run's tasks (-1 if the database cannot say). */
int64_t rn_db_high_failures (struct rn_db *db, int64_t run_id);

/* ---- checks.c: a job's checks: -> findings ---- */

enum rn_checkkind { RN_CK_EXISTS, RN_CK_ABSENT, RN_CK_FILE, RN_CK_TREE, RN_CK_CONFIG,
                    RN_CK_PACKAGE, RN_CK_FACT };
struct rn_check {
  char *id, *severity, *description;
  enum rn_checkkind kind;
  char *path;                /* file, tree, Augeas path */
  char *mode, *owner;        /* regexes; tree: mode is mode_not */
  char *content, *no_content;/* EREs, matched by grep in the appliance */
  char *key, *lens;          /* config: the key below path, the lens or NULL */
  char *value;               /* config: regex over the value */
  int missing_pass;          /* config: an absent key passes */
  char *name;                /* package or fact name */
  int installed;             /* package: must be (1) or must not be (0) */
  char *min_version;         /* package: fails when installed below it */
  struct rn_strv equals;     /* fact: any of these */
  int line, col;
};
/* After the steps: mount the OS if nothing is mounted, take the
 * inventory if a package or fact check needs it and none was taken,
 * then add one finding per check of j to a.  *result: the counts as JSON
 * (caller frees).  -1 and *err (caller frees) when the appliance fails. */
int rn_checks_task (guestfs_h *g, const struct rn_job *j, int readonly,
                    struct rn_audit *a, struct rn_vars *vars, char **result,
                    char **err);
/* Do j's checks read the inventory (package and fact checks)? */
int rn_checks_need_inventory (const struct rn_job *j);
void rn_checks_free (struct rn_job *j);

/* ---- db-changes.c: changes and commits of writing tasks ---- */

struct sqlite3;
/* Inside the task's transaction (db.c): replace its changes rows. */
int rn_db_write_changes (struct sqlite3 *h, int64_t task_id,
                         const struct rn_changes *c, char **err);
/* The end of a commit (exec-commit.c): its step recorded (error NULL if
 * it succeeded), the task's state set to status. */
int rn_db_task_committed (struct rn_db *db, const struct rn_task *t, double ms,
                          enum rn_status status, const char *error);

/* ---- json.c: results as JSON text ---- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
size_t rn_utf8_len (const unsigned char *s, size_t n);
/* Is the l-byte UTF-8 sequence at s a C1 control (U+0080..U+009F)? */
#define rn_utf8_c1(s, l) ((l) == 2 && (s)[0] == 0xc2 && (s)[1] < 0xa0)

void rn_json_str (struct rn_buf *b, const char *s, size_t len);
void rn_json_strz (struct rn_buf *b, const char *s);    /* NULL: null */
void rn_json_strv (struct rn_buf *b, char *const *l);
/* A call's return value as JSON. */
void rn_json_ret (struct rn_buf *b, const struct rn_ret *r);

#endif /* RN_DB_H */
