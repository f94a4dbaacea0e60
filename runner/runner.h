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
/* An option's number (a duration for --timeout) in min..max into *out;
 * -1 after printing "OPT: expected a number from MIN to MAX". */
int rn_int_arg (const char *opt, const char *s, int min, int max, int *out);

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

struct rn_hstep;

struct rn_step {
  const struct rn_call *call;     /* a raw call, or NULL ... */
  const struct rn_hstep *hstep;   /* ... a high-level step (steps.c) */
  struct rn_val *args;       /* nargs of them, in the call's or step's order;
                              * RN_V_NULL: not given */
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
  int atomic;                /* writes go to an overlay, committed on success
                              * (default 1; `atomic: false') */
  int network;               /* `network: true': the appliance gets a NIC */
  uint64_t build_size;       /* RN_JOB_BUILD */
  char *build_format;
  char *build_output;        /* template, relative to dir */
  int build_line, build_col; /* position of build.output */
  int build_compress;        /* build.compress: a compressed qcow2 */
  char *base_tar;            /* base: {tar: PATH}, absolute, or NULL */
  char *base_image;          /* base: {image: PATH, format: F}, or NULL */
  char *base_format;
  int verify_boot;           /* verify: {boot: true, ...} */
  char *verify_expect;       /* template: the text that proves the boot */
  int verify_timeout;        /* seconds */
  char *verify_bus;          /* virtio-blk or scsi, or NULL */
  struct rn_check *checks;   /* checks: (checks.c) */
  size_t nchecks;
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

/* Validation internals shared by job.c, job-steps.c and job-args.c. */
struct rn_jv {
  struct rn_errs *e;
  const char *file;
  struct rn_job *j;
  const struct rn_node *top[24];   /* by index in job.c's top_keys */
  struct rn_strv known;      /* variables defined for the current check */
};
/* An error at node n of the job being validated. */
#define RN_JV_ERR(v, n, ...) \
  rn_err ((v)->e, (v)->file, (n)->line, (n)->col, __VA_ARGS__)
/* Is s in the NULL-terminated list l? */
int rn_in_list (const char *const *l, const char *s);
/* The entry of l nearest to s (edit distance under 3), or NULL. */
const char *rn_nearest (const char *const *l, const char *s);
/* "unknown key 'k' in WHERE (did you mean ...?)" */
void rn_jv_unknown_key (struct rn_jv *v, const struct rn_node *k,
                        const char *where, const char *const *keys);
/* Typed getters: each reports its own error at n and returns -1. */
int rn_jv_kind (struct rn_jv *v, const struct rn_node *n, enum rn_ykind k,
                const char *what);
int rn_jv_str (struct rn_jv *v, const struct rn_node *n, const char *what,
               char **out);      /* caller frees *out */
int rn_jv_int (struct rn_jv *v, const struct rn_node *n, const char *what,
               int64_t min, int64_t max, int64_t *out);
int rn_jv_bool (struct rn_jv *v, const struct rn_node *n, const char *what,
                int *out);
/* A mapping whose keys must be in keys; vals[i] is keys[i]'s value or
 * NULL.  Unknown keys are reported; -1 only if n is not a mapping. */
int rn_jv_map (struct rn_jv *v, const struct rn_node *n, const char *what,
               const char *const *keys, const struct rn_node **vals);
/* The value of a top-level key, or NULL. */
const struct rn_node *rn_jv_top (struct rn_jv *v, const char *key);
/* Variables known to templates at this point (an rn_lookup_fn on v). */
const char *rn_jv_known (void *v, const char *name);
void rn_jv_known_add (struct rn_jv *v, const char *name);
/* Check the {{names}} of s, written at node n. */
void rn_jv_tmpl (struct rn_jv *v, const struct rn_node *n, const char *s);
/* A name that may be defined (vars, matrix, save_as)?  -1 with an error. */
int rn_jv_var_name (struct rn_jv *v, const struct rn_node *k, const char *what);

/* ---- job-steps.c: the `steps' list ---- */

void rn_jv_steps (struct rn_jv *v);

/* checks.c: the `checks' list */
void rn_jv_checks (struct rn_jv *v);

/* ---- job-args.c: argument values, checked and converted ---- */

struct rn_vars;

#define RN_MAX_ARGS 16       /* no call has more */

/* Check n as the value of argument a; *out holds it as written. */
void rn_jv_arg (struct rn_jv *v, const struct rn_node *n, const struct rn_arg *a,
                struct rn_val *out);

/* The arguments of high-level step s->hstep, from node n (NULL: none),
 * into s->args; key is the step's name node, for messages. */
void rn_jv_hstep_args (struct rn_jv *v, struct rn_step *s,
                       const struct rn_node *key, const struct rn_node *n);

/* Are all of job j's images read-only?  A build job never is; a job with
 * no images gives if_none (a step check wants 0: nothing says read-only;
 * the k8s images volume wants 1: nothing there is written). */
int rn_job_all_readonly (const struct rn_job *j, int if_none);

/* A host file a step writes (FileOut): a temp name, put in place after. */
struct rn_outfile {
  char *tmp, *final;
};
/* What a step's converted arguments point into until the step is done. */
struct rn_argbufs {
  struct rn_strv owned;      /* expanded strings */
  struct rn_strv lists[RN_MAX_ARGS];
  struct rn_outfile out;     /* the FileOut argument, if any */
};
/* Argument k (description d, value v as written) expanded with vars and
 * converted into *out, pointing into b; "NAME":VALUE added to js (null
 * when it fails).  -1 and *err (caller frees) if it does not convert. */
int rn_arg_convert (const struct rn_job *j, struct rn_vars *vars,
                    const struct rn_arg *d, const struct rn_val *v,
                    union rn_argval *out, struct rn_argbufs *b, int k,
                    struct rn_buf *js, char **err);
void rn_argbufs_free (struct rn_argbufs *b);

/* ---- tasks (task.c): what workers run ---- */

/* RN_COMMITTING: the steps succeeded and their overlay is being committed
 * into the image (all-or-nothing writes); --resume finishes the commit.
 * It sorts before RN_INTERRUPTED so that loops up to RN_INTERRUPTED
 * (db.c) know every state. */
enum rn_status { RN_PENDING, RN_RUNNING, RN_OK, RN_FAILED, RN_TIMEOUT,
                 RN_COMMITTING, RN_INTERRUPTED };
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

/* ---- steps.c: the high-level steps, one table ---- */

#define RN_SA_REQUIRED 1u    /* the argument must be given */
#define RN_SA_MAP      2u    /* a mapping of strings, kept as key, value, ...
                              * in a RN_ARG_STRINGLIST */

/* One argument of a high-level step. */
struct rn_sarg {
  const char *name;
  enum rn_argtype type;      /* checked and converted as a call's would be */
  unsigned flags;            /* RN_SA_* */
  const char *doc;           /* one line */
};

#define RN_HS_WRITES   1u    /* changes the image: not in a read-only job */
#define RN_HS_DISK     2u    /* works on the bare disk: nothing mounted first */
#define RN_HS_NOMOUNT  2u    /* the dispatcher does not mount the OS first:
                              * the step inspects and mounts by itself */

/* ---- steps-changes.c: what the steps changed ---- */

/* A guest path's state. */
struct rn_fstate {
  int exists;
  uint32_t mode;             /* st_mode: type and permission bits */
  int64_t uid, gid, size;    /* size 0 for directories */
  char sha256[65];           /* regular files; else "" */
};
struct rn_change {
  char *path;
  struct rn_fstate before, after;
  const char *kind;          /* after rn_chg_finish: added, changed, removed */
};
/* The paths a task's steps touched; after rn_chg_finish, only those that
 * changed. */
struct rn_changes {
  struct rn_change *v;
  size_t n;
  int overflow;              /* more paths than it keeps */
};
/* Record path's state (and everything below a directory) once, before
 * it is first changed.  ch may be NULL (not tracking). */
void rn_chg_before (struct rn_changes *ch, guestfs_h *g, const char *path);
/* The same for n paths in one batch; with skip_dirs, a path that is a
 * directory now is not recorded. */
void rn_chg_before_list (struct rn_changes *ch, guestfs_h *g, const char *const *paths,
                         size_t n, int skip_dirs);
/* Take the states after and keep the differences. */
void rn_chg_finish (struct rn_changes *ch, guestfs_h *g);
void rn_chg_free (struct rn_changes *ch);
/* "file", "directory", "symlink", "other", or NULL if absent. */
const char *rn_fstate_type (const struct rn_fstate *f);

struct rn_sctx;

/* One high-level step: a row of the table in steps.c. */
struct rn_hstep {
  const char *name;
  const char *area;          /* files, users, config, packages, system */
  const char *summary;       /* one line, for help and the doc */
  const char *records;       /* what its result (JSON) holds */
  const struct rn_sarg *args;
  int nargs;
  unsigned flags;            /* RN_HS_* */
  /* Run it: 0, or -1 with c->err set. */
  int (*run) (struct rn_sctx *c);
};
extern const struct rn_hstep rn_hsteps[];
extern const size_t rn_nhsteps;
const struct rn_hstep *rn_hstep_find (const char *name);
/* The nearest step name to a misspelt one, or NULL. */
const char *rn_hstep_suggest (const char *name);
/* Index of argument name in h->args, or -1. */
int rn_hstep_arg (const struct rn_hstep *h, const char *name);

/* What a run function gets and gives back. */
struct rn_sctx {
  guestfs_h *g;
  const struct rn_job *j;
  const struct rn_hstep *h;
  const union rn_argval *av; /* by index in h->args, converted */
  const unsigned char *given;/* by index: was the argument given? */
  int readonly;              /* the image is read-only */
  struct rn_buf result;      /* the step's result as JSON; empty: null */
  struct rn_changes *chg;    /* the task's record of changes, or NULL */
  struct rn_audit *audit;    /* the task's inventory and findings */
  char *err;                 /* why it failed (caller frees) */
};
/* Arguments by name (the name must be one of the step's). */
int rn_sa_given (const struct rn_sctx *c, const char *name);
const char *rn_sa_str (const struct rn_sctx *c, const char *name); /* or NULL */
char *const *rn_sa_list (const struct rn_sctx *c, const char *name); /* never NULL */
int64_t rn_sa_int (const struct rn_sctx *c, const char *name, int64_t def);
/* Set c->err (printf style); returns -1. */
int rn_step_fail (struct rn_sctx *c, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
/* c->err = "what: the handle's last error"; returns -1. */
int rn_step_gfail (struct rn_sctx *c, const char *what);
/* Call before changing a guest path: its state goes to the changes
 * record (once per task). */
void rn_step_before (struct rn_sctx *c, const char *path);
/* Mount the guest's operating system (by inspection) if nothing is
 * mounted yet. */
int rn_step_mount (struct rn_sctx *c);
/* Mount the filesystems of root (an inspect_os root) at their
 * mountpoints, read-only when c->readonly. */
int rn_step_mount_root (struct rn_sctx *c, const char *root);
/* Free a NULL-terminated list the library returned (NULL is fine). */
void rn_gfree_list (char **l);
/* A guest file's content (caller frees): NULL with *missing set if it
 * does not exist, NULL with c->err on another error. */
char *rn_gfile_read (struct rn_sctx *c, const char *path, size_t *len,
                     int *missing);
/* Write a guest file (created 0644 if new, else its mode and owner kept),
 * noted as touched.  rn_gfile_update writes only if the content differs. */
int rn_gfile_write (struct rn_sctx *c, const char *path, const char *s, size_t len);
int rn_gfile_update (struct rn_sctx *c, const char *path, const char *s, size_t len);
/* Add each line the file lacks at its end (created if missing); *added
 * counts them. */
int rn_gfile_add_lines (struct rn_sctx *c, const char *path, char *const *lines,
                        int *added);
/* The dispatcher: mount if needed, then run c->h. */
int rn_hstep_run (struct rn_sctx *c);
/* guestkit steps [--markdown | STEP], guestkit help STEP */
int rn_cmd_steps (int argc, char **argv);

/* steps-system.c */
int rn_step_hostname (struct rn_sctx *c);
int rn_step_timezone (struct rn_sctx *c);
int rn_step_run (struct rn_sctx *c);

/* steps-inventory.c */
int rn_step_inventory (struct rn_sctx *c);
/* The inventory of every OS on g into a (strings and rows capped; the
 * packages if with_apps), and rn_inventory_usage the size and use of
 * what is mounted afterwards; *roots (caller frees,
 * NULL-terminated).  mount_root (may be NULL) mounts the first root the
 * caller's way before its packages are read; it stays mounted.  -1 with
 * the handle's error; -2 when mount_root failed (its error is the
 * caller's). */
int rn_inventory_collect (guestfs_h *g, struct rn_audit *a, int with_apps, char ***roots,
                          int *cut, int (*mount_root) (void *arg, const char *root),
                          void *arg);
void rn_inventory_usage (guestfs_h *g, struct rn_audit *a);
/* Mount root (inspected) for what follows: read-only without probing
 * its filesystems again, else as rn_step_mount_root.  -1 with c->err. */
int rn_inventory_mount (struct rn_sctx *c, const char *root);

/* steps-packages.c */
int rn_step_packages (struct rn_sctx *c);

/* steps-users.c */
int rn_step_user (struct rn_sctx *c);
int rn_step_ssh_inject (struct rn_sctx *c);

/* steps-files.c */
int rn_step_write (struct rn_sctx *c);
int rn_step_append_line (struct rn_sctx *c);
int rn_step_delete (struct rn_sctx *c);
int rn_step_copy_in (struct rn_sctx *c);
int rn_step_chmod (struct rn_sctx *c);
int rn_step_chown (struct rn_sctx *c);

/* steps-config.c */
int rn_step_set_config (struct rn_sctx *c);
/* Open Augeas on the guest with only these n files loaded, each with its
 * lens; a file Augeas cannot parse is an error. */
int rn_aug_load (struct rn_sctx *c, size_t n, const char *const *files,
                 const char *const *lens);
/* The lens set_config uses for a file it is not told one for, or NULL
 * (also for the config checks of checks.c). */
const char *rn_aug_default_lens (const char *file);
/* user and group (names, looked up in the guest's /etc/passwd and
 * /etc/group, or numbers; NULL: not wanted) into *uid and *gid. */
int rn_guest_ids (struct rn_sctx *c, const char *user, const char *group,
                  int64_t *uid, int64_t *gid);

/* steps-disk.c (build) */
int rn_step_partition (struct rn_sctx *c);
int rn_step_filesystems (struct rn_sctx *c);
int rn_step_unpack (struct rn_sctx *c);
int rn_step_fstab (struct rn_sctx *c);
/* Free a NULL-terminated list of strings from the library. */
void rn_free_strings (char **l);

/* steps-boot.c (build) */
int rn_step_bootloader (struct rn_sctx *c);
int rn_step_machine_id (struct rn_sctx *c);
int rn_step_ssh_host_keys (struct rn_sctx *c);
int rn_step_locale (struct rn_sctx *c);
int rn_step_firstboot (struct rn_sctx *c);

/* ---- exec.c: one task on one handle ---- */

/* A new temp file beside path (same directory, so a rename into place is
 * atomic), its fd in *fd; NULL with errno.  Caller frees the name. */
char *rn_temp_beside (const char *path, int *fd);

/* What the watchdog may do to a worker's appliance. */
struct rn_slot {
  pthread_mutex_t lock;
  int pidfd;                 /* pidfd of qemu while the task runs, else -1 */
  double deadline;           /* monotonic time the task must end by */
  int killed;                /* 0, or RN_TIMEOUT / RN_INTERRUPTED */
  int worker;                /* 1.. */
  void *pool;                /* pool.c's state */
  /* Prepare ahead (pool.c): the handle for this worker's next task,
   * restored with no drives while the current task runs. */
  guestfs_h *spare;          /* prepared, never launched, or NULL */
  int spare_memsize, spare_network;   /* the settings it was made with */
  pthread_t spare_thread;    /* preparing it ... */
  int spare_busy;            /* ... while this is 1: join before use */
};

/* A new handle for task t, set as its job says (memsize, network, no
 * error handler): the slot's prepared spare when its settings match,
 * else a fresh one.  NULL: out of memory.  (pool.c) */
guestfs_h *rn_slot_handle (struct rn_slot *slot, const struct rn_task *t);
/* t has launched: prepare the worker's next handle in the background,
 * unless GUESTKIT_PREPARE_AHEAD=0 or no task is left to take it. */
void rn_slot_launched (struct rn_slot *slot, const struct rn_task *t);

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

/* ---- exec-commit.c: all-or-nothing writes (an overlay, committed) ---- */

extern int rn_dry_run;       /* --dry-run: steps on an overlay, no commit */
/* Does t write through an overlay? */
int rn_task_atomic (const struct rn_task *t);
/* The overlay's path, fixed by the run and task (caller frees). */
char *rn_overlay_path (const struct rn_task *t);
/* Create it over the image (checked first); -1 and *err. */
int rn_overlay_make (const struct rn_task *t, char **overlay, char **err);
/* fsync it and its directory before 'committing' is recorded. */
int rn_overlay_sync (const char *overlay, char **err);
/* qemu-img commit it into image, then fsync the image. */
int rn_overlay_commit (const char *overlay, const char *image, char **err);
/* --resume of a task left 'committing': commit again, record it. */
int rn_task_resume_commit (struct rn_db *db, struct rn_task *t);

/* ---- pool.c: the worker pool, watchdog, signals and progress ---- */

struct rn_pool_opts {
  int workers;               /* 0: rn_default_workers() */
  int verbose;
  int quiet;
};
/* Peak qemu RSS of one appliance (MiB) beyond its guest RAM, measured by
 * tests/bench-density.sh right after a 100 MiB transfer (347 MiB with
 * -m 256, 219 with -m 128: the whole guest RAM is resident after a
 * restore, plus about 91 MiB with the 64 MiB TCG code buffer of
 * core/launch.c), rounded up.  Free page reporting brings a
 * 256 MiB appliance down to about 167 MiB idle and 217 MiB a few seconds
 * after a transfer, but only 2 s after memory is freed, and a 128 MiB
 * guest does not report at all: the rule budgets the peak, which it
 * still reaches.  GUESTKIT_APPLIANCE_MIB replaces the sum.
 * The same sums size a Slurm or Kubernetes shard (shard-gen.c). */
#define RN_APPLIANCE_OVER_MIB 96
#define RN_DEFAULT_MEMSIZE_MIB 256    /* the library's, without LIBGUESTFS_MEMSIZE */
#define RN_HOST_RESERVE_MIB 256       /* kept for the runner, sqlite, the host */

/* Default workers: what cores and memory allow (pool.c; the rule is in
 * runner/README.md).  rn_choose_workers: for appliances of memsize MiB
 * (0: the library's default), saying why in why[]. */
int rn_default_workers (void);
int rn_choose_workers (int memsize, char *why, size_t size);

/* Run every pending task of v; returns RN_EXIT_OK or RN_EXIT_FAILED. */
int rn_pool_run (struct rn_db *db, struct rn_task *v, size_t n,
                 const struct rn_pool_opts *o, int *interrupted);

/* ---- progress.c: the live status line (guestkit run, status --watch) ---- */

struct rn_progress {
  size_t total, ok, failed, running;  /* failed: every end but ok */
  double rate;               /* finished tasks per minute; <= 0: unknown */
  char slowest[256];         /* the task running longest ("" if none) */
  double slowest_secs;
};
/* The line, cut to cols - 1 characters. */
void rn_progress_format (char *buf, size_t size, const struct rn_progress *p, int cols);
/* A task's short name: the image's file name [instance]. */
void rn_progress_task_name (char *buf, size_t size, const char *image, const char *instance);
int rn_term_cols (int fd);   /* 80 if not known */
struct rn_live {
  FILE *f;
  int shown;                 /* the line is on the screen */
  double last;               /* when it was drawn */
  char text[512];
};
/* Draw text in place (skipped if unchanged, or < 0.25 s since the last
 * draw unless force); clear it before printing other lines. */
void rn_live_draw (struct rn_live *l, const char *text, int force);
void rn_live_clear (struct rn_live *l);

/* ---- status.c: guestkit status, and status --watch ---- */
int rn_cmd_status_main (int argc, char **argv);

/* ---- vercmp.c: package versions by their format's rules ---- */

enum rn_pkgfmt { RN_PKG_DEB, RN_PKG_RPM };
/* The rules a package format's versions follow (deb for unknown ones). */
enum rn_pkgfmt rn_pkgfmt_of (const char *package_format);
/* One version part (upstream version or revision/release): <0, 0, >0.
 * NULL is "". */
int rn_vercmp_deb (const char *a, const char *b);
int rn_vercmp_rpm (const char *a, const char *b);

/* epoch:version-release; strings not owned. */
struct rn_evr {
  int64_t epoch;
  const char *version;
  const char *release;       /* NULL or "": none given */
};
int rn_evr_cmp (enum rn_pkgfmt f, const struct rn_evr *a, const struct rn_evr *b);
/* Split s in place ("1:9.2p1-2" -> 1, "9.2p1", "2"); -1 if malformed. */
int rn_evr_parse (char *s, struct rn_evr *e);

enum rn_verop { RN_OP_ANY, RN_OP_LT, RN_OP_LE, RN_OP_EQ, RN_OP_GE, RN_OP_GT };
/* NAME[<|<=|=|>=|>VERSION], parsed in place of s. */
struct rn_pkgquery {
  const char *name;          /* points into s */
  enum rn_verop op;          /* RN_OP_ANY: no version given */
  const char *text;          /* the version as written (into s), or NULL */
  struct rn_evr evr;         /* its parts (into evrbuf) */
  char evrbuf[256];
};
/* 0, or -1 when s is not of that form (empty name, bad version). */
int rn_pkgquery_parse (char *s, struct rn_pkgquery *q);
/* Does a comparison result (<0, 0, >0) satisfy op? */
int rn_verop_holds (enum rn_verop op, int cmp);

/* ---- report.c: guestkit report / status ---- */

/* Rows of a query, printed as a table, JSON or CSV.  Each column has a
 * kind: s text, n number, j JSON (kept structured in JSON output). */
enum rn_fmt { RN_FMT_TABLE, RN_FMT_JSON, RN_FMT_CSV, RN_FMT_HTML };
#define RN_NULLCELL "\x01"          /* a cell that was SQL NULL */
struct rn_rows {
  size_t ncols;
  const char *kinds;          /* per column: s, n or j */
  struct rn_strv names;
  struct rn_strv cells;       /* row-major; RN_NULLCELL marks SQL NULL */
  size_t nrows;
};
/* An rn_row_fn appending to a struct rn_rows. */
int rn_rows_collect (void *ctx, int ncols, char **cols, char **names);
void rn_rows_print (const struct rn_rows *r, enum rn_fmt f);   /* not HTML */
void rn_rows_free (struct rn_rows *r);
/* A guest string made safe for a terminal, as a table cell is: C0 and C1
 * controls, DEL and bytes that are not UTF-8 become visible escapes (\e,
 * \x07, \u009b); newline and tab stay.  Caller frees. */
char *rn_term_clean (const char *s);

int rn_cmd_report (int argc, char **argv);

/* ---- report-fleet.c: report --packages/--findings/--fleet/--diff/--baseline ---- */

/* Does this report command line ask for a fleet view (or HTML)? */
int rn_report_is_fleet (int argc, char **argv);
void rn_report_fleet_usage (FILE *f);
int rn_cmd_report_fleet (int argc, char **argv);
/* The per-image fleet query (?1 run, ?2 image glob or ''); all: each
 * image's latest audit; with_json: its findings and filesystems as JSON
 * columns too.  Caller frees. */
char *rn_fleet_sql (int all, int with_json);

/* ---- report-html.c: the fleet as one HTML page ---- */

/* Write the page to path (through a temporary file: never a partial
 * one); params as for rn_fleet_sql.  0, or -1 with *err. */
int rn_report_html (struct rn_db *db, int all, const char *const *params,
                    const char *path, char **err);
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

/* ---- shell.c: guestkit shell ---- */

/* One shell session. */
struct rn_shell {
  guestfs_h *g;
  int ro;                    /* --ro: drives read-only, -m mounts ro */
  int ndrives;               /* drives added (-a or add commands) */
  const char *src;           /* script name for messages, or NULL */
  int line;                  /* line in src */
  int quit;                  /* quit/exit was run */
};
/* "guestkit: [SCRIPT:LINE: ]message" on stderr. */
void rn_sh_err (struct rn_shell *sh, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
/* A word for a message: w, or its first 57 bytes and "..." in buf. */
const char *rn_sh_shorten (const char *w, char *buf, size_t size);
/* One command's words, a leading '-' meaning "go on if it fails"; 0 or
 * -1 (the message is printed). */
int rn_sh_run_command (struct rn_shell *sh, char **w, size_t n);
/* Commands of a script stream until EOF or quit: 0, or 1 on a failure. */
int rn_sh_run_stream (struct rn_shell *sh, FILE *f, const char *src);

int rn_cmd_shell (int argc, char **argv);

/* ---- shell-help.c: command names, suggestions, help ---- */

/* The shell's command for a name ('-' and '_' alike, aliases), or NULL. */
const struct rn_call *rn_sh_find_call (const char *name);
/* The shell's own commands: { name, help } rows, { NULL, NULL } last. */
extern const char *const rn_sh_builtins[][2];
/* name with every `from' replaced by `to'; caller frees. */
char *rn_sh_respell (const char *name, char from, char to);
/* The call whose name is nearest to name (within 2 edits), or NULL. */
const char *rn_sh_suggest (const char *name);
/* help [COMMAND]; 0 or -1 (the message is printed). */
int rn_sh_cmd_help (struct rn_shell *sh, char **w, size_t n);

/* ---- shell-call.c: one call of the table, from the shell's words ---- */

/* A Bool word: true/false, yes/no, on/off, 1/0; 1, 0 or -1. */
int rn_sh_parse_bool (const char *w);
/* Launch the appliance; 0 or -1 (the handle's error). */
int rn_sh_launch (struct rn_shell *sh);
/* Launch now if drives were added and the appliance is not up; 0 or -1. */
int rn_sh_need_appliance (struct rn_shell *sh);
/* Call c with the words w[1..n-1], c->nargs of them (checked by the
 * caller), and print its result; 0 or -1 (the message is printed). */
int rn_sh_run_call (struct rn_shell *sh, const struct rn_call *c, char **w, size_t n);

/* ---- cache-cli.c: guestkit cache ---- */

int rn_cmd_cache (int argc, char **argv);
/* ---- shell-cmds.c: edit, more, glob ---- */

int rn_sh_cmd_edit (struct rn_shell *sh, char **w, size_t n);
int rn_sh_cmd_more (struct rn_shell *sh, char **w, size_t n);
int rn_sh_cmd_glob (struct rn_shell *sh, char **w, size_t n);

/* ---- shell-edit.c: line editing, history, completion (a terminal) ---- */

/* Before the first prompt; completion asks g for guest names. */
void rn_sh_edit_start (guestfs_h *g);
/* Read a line with the prompt into b: 1, or 0 at end of input. */
int rn_sh_edit_read (const char *prompt, struct rn_buf *b);
/* Save the history; after the last prompt. */
void rn_sh_edit_end (void);

/* ---- shell-progress.c: progress bars for transfers (a terminal) ---- */

/* Draw a bar on stderr for g's transfers, if stderr is a terminal. */
void rn_sh_progress_start (guestfs_h *g);
/* After a call: wipe the bar, if one was drawn. */
void rn_sh_progress_done (void);

/* ---- shell-remote.c: --listen and --remote ---- */

/* Become a server in a child process, set up by setup(sh, arg); the
 * parent prints GUESTKIT_PID=... and gets the exit status. */
int rn_sh_listen (struct rn_shell *sh, int (*setup) (struct rn_shell *, const void *),
                  const void *arg);
/* Send words (none: stdin's commands) to server pid (NULL:
 * $GUESTKIT_PID); the exit status. */
int rn_sh_remote (const char *pid, char **words, int n);

/* ---- drive-opts.c: -a, --format, --ro, --rw, -i, -m of shell, mount, inspect ---- */

/* Disk images given with -a, each with the --format in force before it. */
struct rn_drives {
  struct rn_strv paths, formats;
};
/* What the drive options gave. */
struct rn_drive_opts {
  struct rn_drives drives;   /* -a IMG */
  struct rn_strv mounts;     /* -m DEV[:MNT], as given */
  int inspect;               /* -i */
  int ro;                    /* --ro 1, --rw 0, the last wins; the caller's default */
};
/* Which of the drive options a command has, besides -a, --format, --ro
 * and -h. */
enum { RN_DO_RW = 1,         /* --rw */
       RN_DO_MOUNT = 2 };    /* -i, -m */
/* A command's own options. */
struct option;
struct rn_cmd_opts {
  const char *name;          /* "shell": in messages */
  const char *shorts;        /* getopt letters; a leading '+': stop at the first operand */
  const struct option *longs;  /* { NULL } last; codes other than ours (< 0x100) */
  unsigned flags;            /* RN_DO_* */
  /* Take one of its options (arg: optarg or NULL); 0, or -1 after
   * printing why. */
  int (*take) (void *opaque, int c, const char *arg);
  void *opaque;
};
/* Parse argv into d (set d->ro first) and the command's own options: the
 * index of the first operand, -1 on invalid options (the message is
 * printed: exit 2) or -2 for --help.  d holds copies; free it with
 * rn_drive_opts_free. */
int rn_drive_opts_parse (int argc, char **argv, const struct rn_cmd_opts *c,
                         struct rn_drive_opts *d);
void rn_drive_opts_free (struct rn_drive_opts *d);
/* Add every drive to g, read-only if ro, formats never probed; -1 with
 * the handle's error. */
int rn_drives_attach (guestfs_h *g, const struct rn_drives *d, int ro);
/* Mount each -m DEV[:MNT] spec (MNT default /), parents first, read-only
 * if ro; -1 with the handle's error.  The specs are changed while it
 * runs and restored. */
int rn_mount_specs (guestfs_h *g, const struct rn_strv *mounts, int ro);
/* -i: inspect, then mount the one OS found as its fstab says, read-only
 * if ro.  -1 with *why set (no OS, or more than one: allocated), or with
 * *why NULL and the handle's error. */
int rn_mount_inspected (guestfs_h *g, int ro, char **why);

/* ---- inspect-cli.c: guestkit inspect ---- */

int rn_cmd_inspect (int argc, char **argv);

/* ---- mount.c, mount-ops.c, mount-cache.c: guestkit mount (FUSE) ---- */

struct rn_mcent;
/* The caches of one mount, by guest path (a hash table). */
struct rn_mcache {
  struct rn_mcent **tab;     /* chains */
  size_t size;               /* slots in tab, a power of two */
  size_t n;                  /* entries */
};
/* One mount: one handle, one appliance.  FUSE runs its requests in
 * several threads; lock serialises them on the handle (and guards the
 * caches and open files). */
struct rn_mnt {
  guestfs_h *g;
  pthread_mutex_t lock;
  int rw;                    /* --rw: writes allowed */
  int verbose;               /* -v: each request on stderr */
  int dead;                  /* the appliance is gone: everything is EIO */
  int failed;                /* set by the handle's error handler */
  int direct_io;             /* -o direct_io: no kernel page cache */
  unsigned gen;              /* bumped by every change (stale read-aheads) */
  struct rn_mcache cache;
};
int rn_cmd_mount (int argc, char **argv);
/* mount-ops.c: the FUSE operations (a struct fuse_operations *). */
const void *rn_mnt_operations (void);
/* -errno for the handle's last error (EIO when the appliance died,
 * which also sets m->dead). */
int rn_mnt_errno (struct rn_mnt *m);
/* The appliance is gone (why): said once on stderr; from now on every
 * request fails with EIO.  Under m->lock. */
void rn_mnt_gone (struct rn_mnt *m, const char *why);
/* mount-cache.c: stat, link and xattr caches, filled a directory at a
 * time (readdirplus, readlinklist, lxattrlist).  All under m->lock. */
struct stat;
int rn_mc_stat (struct rn_mnt *m, const char *path, struct stat *st);
/* The names in directory path (NULL-terminated, the cache's: valid until
 * the next cache call), or NULL with *err = -errno. */
char *const *rn_mc_kids (struct rn_mnt *m, const char *path, int *err);
/* The target of symlink path, the cache's; NULL with *err = -errno. */
const char *rn_mc_readlink (struct rn_mnt *m, const char *path, int *err);
/* The xattrs of path (not following a link) as the cache's list; NULL
 * with *err = -errno. */
const struct guestfs_xattr_list *rn_mc_xattrs (struct rn_mnt *m, const char *path,
                                               int *err);
void rn_mc_forget (struct rn_mnt *m, const char *path);  /* its attributes changed */
void rn_mc_clear (struct rn_mnt *m);                     /* names changed */

/* ---- build.c: a build's host side (outputs, commands) ---- */

/* Run argv (stdin empty); 0 if it exited 0, else -1 with *err naming the
 * program and what it printed (caller frees).  With out: its stdout and
 * stderr, caller frees. */
int rn_run_command (char *const *argv, char **err);
int rn_run_command_output (char *const *argv, char **out, char **err);
/* Start argv with stdin empty and stdout+stderr on a pipe (*fd, the
 * caller closes it and reaps the pid); -1 with *err. */
pid_t rn_spawn_piped (char *const *argv, int *fd, char **err);

/* A disk image's virtual size by qemu-img, in the format given; -1 if it
 * does not open so, or names a backing or data file. */
int rn_build_image_size (const char *path, const char *format, uint64_t *size,
                         char **err);
/* Build: the working image (always raw, sparse) at work, already
 * created empty: grown to build.size, or the base image copied into it. */
int rn_build_work_image (const struct rn_job *j, const char *work, char **err);
/* After launch: a base image's last partition and filesystem grown. */
int rn_build_grow_base (guestfs_h *g, const struct rn_job *j, char **err);
/* After umount_all: free blocks of ext filesystems zeroed (a disk copied
 * from base.image only). */
int rn_build_zero_free (guestfs_h *g, const struct rn_job *j, char **err);

/* A finished build's output, at a temp name beside the final path. */
struct rn_build_out {
  char *path;                /* the temp output (caller renames or unlinks) */
  uint64_t bytes, allocated; /* file size, blocks on disk */
  char sha256[65];
};
/* Convert work (raw) to the job's format (compressed if asked) at a temp
 * name beside final, and hash it; -1 with *err and nothing left. */
int rn_build_output (const struct rn_job *j, const char *work, const char *final,
                     struct rn_build_out *o, char **err);
/* JSON records of an output and of a boot check; caller frees. */
char *rn_build_out_json (const struct rn_build_out *o, const char *final,
                         const char *format);
struct rn_boot_result;
char *rn_boot_json (const struct rn_boot_result *r, const char *expect);

/* What a build task has when its appliance is closed. */
struct rn_build_end {
  const struct rn_task *t;
  struct rn_taskrec *rec;    /* steps and facts are added to it */
  int seq;                   /* step number for the records */
  const char *work;          /* the working raw image */
  const char *expect;        /* verify.expect expanded, or NULL */
  void (*on_pid) (void *ctx, pid_t pid);   /* the boot's qemu, for the watchdog */
  void *ctx;
  volatile int *stop;
};
/* Write the output, record it, boot-check it (verify); 0 with *out_tmp
 * the finished output at a temp name (caller renames it into place), or
 * -1 with *why and nothing left. */
int rn_build_finish (const struct rn_build_end *e, char **out_tmp, char **why);
/* Append a step record to r (takes args, result, error). */
void rn_taskrec_add_step (struct rn_taskrec *r, int seq, const char *call, char *args,
                          char *result, char *error, double ms, int line);
/* Is path a plain tar archive?  -1 with *err naming it and why not. */
int rn_tar_check (const char *path, char **err);

/* build-job.c: the `base' and `verify' keys of a build job */
struct rn_jv;
void rn_jv_build_keys (struct rn_jv *v);
void rn_job_build_free (struct rn_job *j);

/* ---- boot-test.c: does an image boot? ---- */

struct rn_boot {
  const char *image;         /* absolute path; opened read-only */
  const char *format;        /* given, never probed */
  const char *expect;        /* text that proves the boot */
  int timeout;               /* seconds */
  const char *bus;           /* "virtio-blk" (NULL: default) or "scsi" */
  void (*on_pid) (void *ctx, pid_t pid);   /* qemu's pid, 0 when gone */
  void *ctx;
  volatile int *stop;        /* or NULL: set to give up */
};

struct rn_boot_result {
  double secs;               /* from qemu's start to the text */
  char accel[8];             /* "kvm" or "tcg" */
  char *tail;                /* the console's last lines, cleaned */
  char *error;               /* why it failed, or NULL */
};

/* Boot b->image on a throw-away overlay; 0 when b->expect appeared.
 * Free r with rn_boot_result_free either way. */
int rn_boot_test (const struct rn_boot *b, struct rn_boot_result *r);
void rn_boot_result_free (struct rn_boot_result *r);
int rn_cmd_boot_test (int argc, char **argv);

/* ---- shard.c: one shard of a sharded run (--shard I/N) ---- */

struct rn_shard {
  int index, count;          /* shard index of count; count 0: not sharded */
  char *group;               /* the sharded run's name, the same in every shard */
  char *out_dir;             /* --out DIR: where the finished database goes, or NULL */
  size_t total;              /* tasks of the whole job, every shard's */
  uint64_t keys;             /* fingerprint of the whole job's task keys */
  const char *from;          /* where index came from, for messages (static) */
};

/* Check 0 <= index < count, count >= 1; -1 with *err naming what. */
int rn_shard_check (int index, int count, const char *what, char **err);
/* Parse --shard's "I/N"; -1 with *err (caller frees). */
int rn_shard_parse (const char *s, int *index, int *count, char **err);
/* Index and count: from --shard I/N (given), else a Slurm array or a
 * Kubernetes Indexed Job in the environment; shards is --shards N or 0.
 * sh->count stays 0 when nothing asks for a shard.  -1 with *err. */
int rn_shard_resolve (struct rn_shard *sh, int given, int shards, char **err);
/* A task's key hashed: the stable hash documented in shard.c. */
uint64_t rn_shard_hash (const char *image, const char *instance);
/* Keep only sh's share of the tasks v[first..*n) (order kept, the others
 * freed; nothing when sh is not a shard): the tasks sorted by their
 * hash and dealt out in turn.  Returns a fingerprint of the whole set. */
uint64_t rn_shard_filter (const struct rn_shard *sh, struct rn_task *v, size_t first,
                          size_t *n);
/* May s name a group (and so a file name part)? */
int rn_shard_group_ok (const char *s);
/* s (a job name) as a plain file name part: at most 60 of A-Z a-z 0-9
 * . _ -, others made '_'.  Caller frees. */
char *rn_shard_clean (const char *s);
/* The default group: the job's name and a hash of its text and options
 * (without the shard).  Caller frees. */
char *rn_shard_default_group (const char *job_name, const char *text,
                              const char *options);
/* DIR/GROUP.shard-I.db; caller frees. */
char *rn_shard_file (const struct rn_shard *sh, const char *dir);
/* The shard's database on local disk: $TMPDIR (else /var/tmp)/GROUP.shard-I.db. */
char *rn_shard_local_db (const struct rn_shard *sh);
/* Copy src to dest through a temp file in dest's directory, fsync'd, then
 * renamed: dest is never seen half-written.  -1 with *err. */
int rn_copy_file_atomic (const char *src, const char *dest, char **err);
/* Remove a database and its -wal, -shm and -journal files. */
void rn_db_files_remove (const char *path);
/* Before the run: with --out, when db does not exist but the copy in the
 * out dir does (an earlier attempt elsewhere), start from that copy. */
int rn_shard_seed (const struct rn_shard *sh, const char *db, char **err);
/* After the run (db closed): a consistent copy of db into the out dir,
 * atomically; then db is removed (the copy is the shard's state). */
int rn_shard_publish (const struct rn_shard *sh, const char *db, char **err);
/* The run of sh's group and index in db: its id (0: none, -1: error),
 * job text and options (caller frees both). */
int64_t rn_shard_find_run (struct rn_db *db, const struct rn_shard *sh, char **text,
                           char **options, char **err);

/* ---- merge.c: guestkit merge, and snapshots of a database ---- */

/* A consistent copy of the database at src (its WAL included) into a new
 * file dest, in rollback-journal mode; -1 with *err. */
int rn_db_snapshot (const char *src, const char *dest, char **err);
int rn_cmd_merge (int argc, char **argv);

/* What a table is to the merge (merge.c's header). */
enum rn_mg_kind { RN_MG_RUNS, RN_MG_TASKS, RN_MG_UNDER_TASK, RN_MG_UNDER_RUN, RN_MG_OTHER };
/* A foreign key of a table of OUT. */
struct rn_mg_fk {
  char *col;                 /* the referencing column */
  char *ptable;              /* the referenced table */
  char *pcol;                /* the referenced column (NULL: its key) */
  int parent;                /* index of ptable, -1 if there is no such table */
};
/* A table of OUT, and what the shard being merged has of it. */
struct rn_mg_table {
  char *name;
  struct rn_strv cols;       /* OUT's columns, in order */
  char *pk;                  /* its INTEGER PRIMARY KEY (rowid) column, or NULL */
  struct rn_mg_fk *fks;
  size_t nfks;
  enum rn_mg_kind kind;
  int via;                   /* under a task or run: the fk toward it */
  int depth;                 /* tasks 0, steps 1, ... (parents first) */
  int in_shard;              /* the shard has this table */
  struct rn_strv scols;      /* the shard's columns (a subset of cols) */
  int64_t off;               /* this shard's rows: new id = old id + off */
};
/* OUT's tables. */
struct rn_mg_plan {
  struct rn_mg_table *t;
  size_t n;
  int runs, tasks;           /* indexes of the two fixed tables */
};
/* One merge: OUT, and the shard being merged. */
struct sqlite3;
struct sqlite3_stmt;
struct rn_merge {
  struct sqlite3 *h;         /* OUT, with the shard attached as "s" */
  struct rn_mg_plan p;
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

/* ---- merge-plan.c: OUT's schema as the merge's plan; SQL helpers ---- */

/* "name" as an SQL identifier, quotes doubled; caller frees. */
char *rn_mg_qid (const char *name);
/* A statement on m's database, or NULL with *err (caller frees). */
struct sqlite3_stmt *rn_mg_prep (struct rn_merge *m, const char *sql, char **err);
/* Run sql (no rows wanted), binding n int64 parameters ?1, ?2, ...; 0, or
 * -1 with *err. */
int rn_mg_exec_i (struct rn_merge *m, char **err, const char *sql, int n, ...);
int rn_mg_exec_s (struct rn_merge *m, const char *sql, char **err);
/* The first column of the first row, ?1 bound to a (def if none). */
int64_t rn_mg_int_of (struct rn_merge *m, const char *sql, int64_t a, int64_t def);
void rn_mg_plan_free (struct rn_mg_plan *p);
/* The index of the table name (any case), or -1. */
int rn_mg_table_index (const struct rn_mg_plan *p, const char *name);
/* Columns of schema.table appended to cols; its rowid alias into *pk
 * (pk may be NULL); -1 with *err. */
int rn_mg_read_columns (struct rn_merge *m, const char *schema, const char *table,
                        struct rn_strv *cols, char **pk, char **err);
/* m->p made again from OUT's tables, their columns, keys and kinds; -1
 * with *err. */
int rn_mg_plan_load (struct rn_merge *m, char **err);

/* ---- merge-rows.c: a shard's tasks and rows into OUT ---- */

/* In the open transaction, with the shard attached and its run and
 * OUT's target run known; each 0, or -1 with *err.  In this order: */
/* Which of the shard's tasks are new, which OUT has (then decided), in
 * temp.m_tasks; counts m->added and m->replaced. */
int rn_mg_map_tasks (struct rn_merge *m, char **err);
/* The rows under the tasks being replaced go, children first. */
int rn_mg_drop_replaced (struct rn_merge *m, char **err);
/* Replaced tasks updated in place, new ones inserted. */
int rn_mg_put_tasks (struct rn_merge *m, char **err);
/* Every table under a task, parents first, then those under the run. */
int rn_mg_put_rows (struct rn_merge *m, char **err);

/* ---- slurm.c: guestkit slurm and guestkit k8s ---- */

int rn_cmd_slurm (int argc, char **argv);
int rn_cmd_k8s (int argc, char **argv);
/* guestkit test-tool: versions, accelerator, a scratch launch (test-tool.c). */
int rn_cmd_test_tool (int argc, char **argv);

/* ---- run-opts.c, run-cli.c: guestkit run ---- */

/* The options of one `guestkit run', as parsed (run-opts.c). */
struct rn_run_opts {
  const char *db;
  int workers, timeout, retries;   /* -1: not given */
  int check, quiet, verbose;
  int64_t resume;                   /* 0: a new run */
  struct rn_overrides ov;
  struct rn_shard shard;            /* --shard, --shards, --shard-group, --out */
  int shard_given, shards;          /* --shard given; --shards N (0: not) */
  int db_given;                     /* --db given */
};
/* --help text of guestkit run. */
void rn_run_usage (FILE *f);
/* Fills *o from argv; returns the index of the first job file, -1 after
 * printing why (exit 2), or -2 when --help was asked. */
int rn_run_parse_args (int argc, char **argv, struct rn_run_opts *o);
/* The options a run keeps, as a JSON object: caller frees. */
char *rn_run_options_json (const struct rn_run_opts *o);
/* Options kept by a run, for --resume: fill what argv did not give. */
void rn_run_options_read (const char *json, struct rn_run_opts *o);
int rn_cmd_run (int argc, char **argv);

/* ---- main.c ---- */

extern const char *rn_progname;
extern mode_t rn_umask;            /* the process's umask, read at start */

#endif /* RN_RUNNER_H */
