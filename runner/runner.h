/* runner/runner.h: the internals of the `guestkit' command, shared by the
 * files of runner/ (one section per file).  Nothing here is public: the
 * runner uses the library only through guestfs.h, like any program.
 *
 * Flow: yaml.c parses a job file into a node tree (with line:column);
 * job.c validates it into a struct rn_job, collecting every error; the
 * tasks it expands to go to pool.c, whose worker threads run each one
 * with exec.c (one handle, one fresh appliance per task) and record it
 * through db.c; report.c reads the database back.
 */
#ifndef RN_RUNNER_H
#define RN_RUNNER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "guestfs.h"
#include "calls-gen.h"

#define RN_EXIT_OK      0   /* every task ended ok */
#define RN_EXIT_FAILED  1   /* some task failed, timed out or was interrupted */
#define RN_EXIT_USAGE   2   /* invalid job file or arguments */

/* ---- util.c: memory, strings, lists, paths, time ---- */

/* Allocation never fails: out of memory ends the process. */
void *rn_malloc (size_t n);
void *rn_calloc (size_t n, size_t size);
void *rn_realloc (void *p, size_t n);
char *rn_strdup (const char *s);
char *rn_strndup (const char *s, size_t n);
char *rn_asprintf (const char *fmt, ...) __attribute__((format (printf, 1, 2)));

/* A growable string; s is always NUL-terminated once anything was added. */
struct rn_buf {
  char *s;
  size_t len, cap;
};
void rn_buf_add (struct rn_buf *b, const char *p, size_t n);
void rn_buf_adds (struct rn_buf *b, const char *s);
void rn_buf_addc (struct rn_buf *b, char c);
void rn_buf_addf (struct rn_buf *b, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
char *rn_buf_take (struct rn_buf *b);     /* caller frees; b is emptied */
void rn_buf_free (struct rn_buf *b);

/* A NULL-terminated list of malloc'd strings. */
struct rn_strv {
  char **v;
  size_t n;
};
void rn_strv_add (struct rn_strv *l, char *s);   /* takes s */
void rn_strv_free (struct rn_strv *l);

/* rel if absolute, else dir/rel; caller frees. */
char *rn_path_join (const char *dir, const char *rel);
/* The directory part of path ("." if none); caller frees. */
char *rn_dirname (const char *path);
/* The last component of path; points into path. */
const char *rn_basename (const char *path);

double rn_now (void);                      /* monotonic seconds */
/* UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf[32]. */
void rn_utc (char *buf);
/* Read a whole regular file of at most max bytes; NULL and *err set. */
char *rn_read_file (const char *path, size_t max, size_t *len, char **err);
/* Edit distance capped at 3 (for "did you mean" hints). */
int rn_distance (const char *a, const char *b);
/* Parse an integer in YAML style: decimal, 0x hex, 0o or 0 octal, with
 * sign; 0 on success. */
int rn_parse_int (const char *s, int64_t *v);
/* Is s a YAML 1.1 boolean?  -1 if not, else its value. */
int rn_parse_bool (const char *s);
/* A size: bytes, or with K M G T suffix (powers of 1024); 0 on success. */
int rn_parse_size (const char *s, uint64_t *v);
/* Seconds: a number, or with s m h suffix; 0 on success. */
int rn_parse_duration (const char *s, int64_t *v);
/* "1m02s", "3.1s" into buf[32]. */
void rn_fmt_secs (char *buf, double secs);

/* ---- errors.c: the list of validation errors ---- */

struct rn_errent {
  char *file;                /* or NULL: not about a file (command line) */
  int line, col;             /* 0: no position */
  char *msg;
  size_t order;              /* order found, to keep sorting stable */
};

struct rn_errs {
  struct rn_errent *v;
  size_t n;
};
/* Add "file:line:col: message" (positions omitted when 0). */
void rn_err (struct rn_errs *e, const char *file, int line, int col,
             const char *fmt, ...) __attribute__((format (printf, 5, 6)));
/* Print them on stderr, sorted by file, line and column; duplicates once. */
void rn_errs_print (struct rn_errs *e);
void rn_errs_free (struct rn_errs *e);

/* ---- yaml.c: a YAML file as a tree of nodes with positions ---- */

enum rn_ykind { RN_Y_SCALAR, RN_Y_SEQ, RN_Y_MAP };

struct rn_node {
  enum rn_ykind kind;
  int line, col;             /* 1-based position in the file */
  char *str;                 /* scalar: its text (NUL-terminated) */
  size_t len;                /* scalar: its length (may hold NULs) */
  int plain;                 /* scalar was unquoted: null/bool/int apply */
  struct rn_node **kids;     /* seq: items; map: key, value, key, value... */
  size_t nkids;
  size_t weight;             /* nodes in this subtree, aliases expanded */
};

/* Limits on what a job file may hold. */
#define RN_YAML_MAX_BYTES  (4u << 20)   /* file size */
#define RN_YAML_MAX_DEPTH  64           /* nesting */
#define RN_YAML_MAX_NODES  100000       /* nodes, aliases expanded */

struct rn_doc {
  const char *file;          /* for messages; not owned */
  struct rn_node *root;      /* NULL for an empty file */
  void *arena;               /* every node and string, freed at once */
};

/* Parse text; 0, or -1 with the errors added to e. */
int rn_yaml_parse (struct rn_doc *d, const char *file, const char *text,
                   size_t len, struct rn_errs *e);
void rn_yaml_free (struct rn_doc *d);
/* A plain scalar meaning null (empty, ~, null)? */
int rn_node_is_null (const struct rn_node *n);
/* What a node is, for "expected X, got Y" messages. */
const char *rn_node_what (const struct rn_node *n);

/* ---- template.c: {{name}} in strings ---- */

/* Look a variable up; NULL if undefined.  The result stays valid until
 * the expansion returns. */
typedef const char *(*rn_lookup_fn) (void *ctx, const char *name);

/* Does s contain a template? */
int rn_tmpl_has (const char *s);
/* Check every {{name}} in s against lookup (NULL value = undefined),
 * adding one error per bad reference at the node's position. */
void rn_tmpl_check (const char *s, const char *file, int line, int col,
                    rn_lookup_fn lookup, void *ctx, struct rn_errs *e);
/* Expand s; NULL and *err set (caller frees) if a name is undefined. */
char *rn_tmpl_expand (const char *s, rn_lookup_fn lookup, void *ctx, char **err);
/* Is name a valid variable name? */
int rn_var_name_ok (const char *name);

/* ---- job.c: a validated job ---- */

enum rn_valkind { RN_V_NULL, RN_V_SCALAR, RN_V_LIST };

/* One argument of a step as written (templates not yet expanded). */
struct rn_val {
  enum rn_valkind kind;
  char *s;                   /* scalar text */
  struct rn_strv list;       /* list items */
  int line, col;
};

struct rn_step {
  const struct rn_call *call;
  struct rn_val *args;       /* call->nargs of them, in the call's order */
  char *save_as;             /* or NULL */
  int on_error_continue;     /* on_error: continue */
  int line, col;
};

struct rn_image {
  char *path;                /* absolute */
  char *format;              /* raw, qcow2, ... */
  int readonly;
};

/* One matrix instance: variables (name, value) and a display name. */
struct rn_instance {
  struct rn_strv names, values;
  char *name;                /* its `name' variable, or "#N" */
};

enum rn_jobkind { RN_JOB_IMAGES, RN_JOB_BUILD };

struct rn_job {
  char *file;                /* as given: for messages */
  char *path;                /* absolute: stored with the run */
  char *dir;                 /* absolute directory of the job file */
  char *text;                /* the file as read */
  char *name;
  enum rn_jobkind kind;
  struct rn_image *images;   /* RN_JOB_IMAGES */
  size_t nimages;
  struct rn_instance *insts; /* at least one (maybe with no variables) */
  size_t ninsts;
  struct rn_strv var_names, var_values;   /* vars: and --var */
  struct rn_step *steps;
  size_t nsteps;
  int workers;               /* 0: default */
  int timeout;               /* seconds per task */
  int retries;
  int memsize;               /* MiB, 0: the library's default */
  int overwrite;             /* build outputs and FileOut may replace files */
  uint64_t build_size;       /* RN_JOB_BUILD */
  char *build_format;
  char *build_output;        /* template, relative to dir */
  int build_line, build_col; /* position of build.output */
};

/* Settings from the command line that change a job. */
struct rn_overrides {
  struct rn_strv var_names, var_values;   /* --var NAME=VALUE */
  struct rn_strv images;                  /* --images PATH|GLOB */
  char *format;                           /* --format: theirs, or NULL */
};

/* Load and validate; NULL with every problem in e.  text may be NULL
 * (then the file is read). */
struct rn_job *rn_job_load (const char *file, const char *text,
                            const struct rn_overrides *o, struct rn_errs *e);
void rn_job_free (struct rn_job *j);
/* Variables every task has: image, image_name, job, run_id, ... */
extern const char *const rn_builtin_names[];

/* ---- tasks (task.c): what workers run ---- */

enum rn_status { RN_PENDING, RN_RUNNING, RN_OK, RN_FAILED, RN_TIMEOUT,
                 RN_INTERRUPTED };
const char *rn_status_name (enum rn_status s);

struct rn_task {
  struct rn_job *job;
  int64_t run_id;
  int seq;                   /* 1.. within its run */
  int ntasks;                /* tasks in its run */
  int64_t db_id;             /* tasks.id */
  const struct rn_image *image;   /* RN_JOB_IMAGES */
  const struct rn_instance *inst;
  char *image_path;          /* the image, or a build's output path */
  char date[16];             /* run start date, for {{date}} */
  enum rn_status status;     /* final state after running */
  int attempts;
};

/* Expand a job into tasks (images x instances, or instances for a build),
 * appending them to *v; build outputs are templated and checked here
 * (exists, twice).  -1 with errors. */
int rn_tasks_expand (struct rn_job *j, int64_t run_id, const char *date,
                     struct rn_task **v, size_t *n, struct rn_errs *e);
void rn_tasks_free (struct rn_task *v, size_t n);
/* Variables of a task at run time: builtins, vars, its instance, and the
 * facts saved so far (names, JSON-or-plain values). */
struct rn_vars {
  const struct rn_task *t;
  const struct rn_strv *fact_names, *fact_values;
  char buf[4096];            /* for numbers and image_stem */
};
const char *rn_task_lookup (void *vars, const char *name);

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
};
int rn_db_task_finish (struct rn_db *db, const struct rn_task *t,
                       const struct rn_taskrec *r);
void rn_taskrec_free (struct rn_taskrec *r);

/* For report.c and status: run a query, one callback per row (columns as
 * text, NULL for SQL NULL). */
typedef int (*rn_row_fn) (void *ctx, int ncols, char **cols, char **names);
int rn_db_query (struct rn_db *db, const char *sql, const char *const *params,
                 size_t nparams, rn_row_fn fn, void *ctx, char **err);

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

/* ---- calls.c: helpers over the generated call table ---- */

/* Call c with args; fills *ret (free with rn_ret_free). */
int rn_call_invoke (const struct rn_call *c, guestfs_h *g,
                    const union rn_argval *args, struct rn_ret *ret);
void rn_ret_free (struct rn_ret *r);
/* May the call be a job step?  NULL if yes, else why not. */
const char *rn_call_step_refusal (const struct rn_call *c);
const char *rn_argtype_name (enum rn_argtype t);
/* The nearest step-callable name to a misspelt one, or NULL. */
const char *rn_call_suggest (const char *name);

/* ---- exec.c: one task on one handle ---- */

/* What the watchdog may do to a worker's appliance. */
struct rn_slot {
  pthread_mutex_t lock;
  int pidfd;                 /* pidfd of qemu while the task runs, else -1 */
  double deadline;           /* monotonic time the task must end by */
  int killed;                /* 0, or RN_TIMEOUT / RN_INTERRUPTED */
  int worker;                /* 1.. */
  void *pool;                /* pool.c's state */
};

struct rn_runctx {
  struct rn_db *db;
  int *stop;                 /* set by SIGINT/SIGTERM: read with rn_stopping */
  int verbose;
};

/* Has a signal stopped the run?  The watchdog thread sets *stop while
 * workers read it: an atomic access, not a plain one (a data race). */
static inline int
rn_stopping (const struct rn_runctx *ctx)
{
  return __atomic_load_n (ctx->stop, __ATOMIC_ACQUIRE);
}

/* Run t (with its retries) and record the result; returns its status.
 * *overhead_ms: the runner's own time on it (not in the library or
 * qemu-img), its database writes included; *error: why it did not end
 * ok (caller frees) or NULL. */
enum rn_status rn_task_run (struct rn_runctx *ctx, struct rn_slot *slot,
                            struct rn_task *t, double *overhead_ms, char **error);

/* ---- pool.c: the worker pool, watchdog, signals and progress ---- */

struct rn_pool_opts {
  int workers;               /* 0: rn_default_workers() */
  int verbose;
  int quiet;
};
/* Default workers: what cores and memory allow. */
int rn_default_workers (void);
/* Run every pending task of v; returns RN_EXIT_OK or RN_EXIT_FAILED. */
int rn_pool_run (struct rn_db *db, struct rn_task *v, size_t n,
                 const struct rn_pool_opts *o, int *interrupted);

/* ---- report.c: guestkit report / status ---- */

int rn_cmd_report (int argc, char **argv);
int rn_cmd_status (int argc, char **argv);

/* ---- shell-parse.c: the shell's lines and words ---- */

#define RN_SH_LINE_MAX (1u << 20)  /* bytes in one line of commands */

/* Read a line of f, without its newline, into b (emptied first): 1, 0 at
 * EOF, -1 when longer than RN_SH_LINE_MAX (the rest is skipped). */
int rn_sh_read_line (FILE *f, struct rn_buf *b);
/* Cut a line (len bytes) into words, guestfish style, appending them to
 * words; none for a blank or comment line.  -1 with *err (caller frees)
 * on an unterminated quote, a bad escape or a NUL byte. */
int rn_sh_split (const char *line, size_t len, struct rn_strv *words, char **err);

/* ---- shell.c: guestkit shell, and the -a drives it shares ---- */

/* Disk images given with -a, each with the --format in force before it. */
struct rn_drives {
  struct rn_strv paths, formats;
};
void rn_drives_add (struct rn_drives *d, const char *path, const char *format);
/* Add every drive to g, read-only if ro, formats never probed; -1 with
 * the handle's error. */
int rn_drives_attach (guestfs_h *g, const struct rn_drives *d, int ro);
void rn_drives_free (struct rn_drives *d);
int rn_cmd_shell (int argc, char **argv);

/* ---- inspect-cli.c: guestkit inspect ---- */

int rn_cmd_inspect (int argc, char **argv);

/* ---- main.c ---- */

extern const char *rn_progname;
extern mode_t rn_umask;            /* the process's umask, read at start */
int rn_cmd_run (int argc, char **argv);

#endif /* RN_RUNNER_H */
