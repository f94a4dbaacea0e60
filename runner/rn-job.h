/* runner/rn-job.h: a job: its validation (job.c, job-steps.c,
 * job-checks.c, job-args.c) and the tasks it expands to (task.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_JOB_H
#define RN_JOB_H

#include <stdint.h>

#include "calls-gen.h"
#include "rn-util.h"

struct rn_check;             /* rn-db.h (checks.c) */

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

/* job-checks.c: the `checks' list */
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

#endif /* RN_JOB_H */
