/* runner/main.c: the `guestkit' command line and `guestkit run'.
 *
 *   guestkit run JOB.yaml...      validate every job, then run them
 *   guestkit run --resume RUN     run again the tasks of RUN that did not
 *                                 finish (pending, running when killed,
 *                                 interrupted)
 *   guestkit report / status      report.c
 *
 * Exit status: 0 every task ok, 1 some task not ok (failed, timed out,
 * interrupted), 2 invalid job file or arguments.  See runner/README.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "runner.h"

const char *rn_progname = "guestkit";
mode_t rn_umask = 022;

struct run_opts {
  const char *db;
  int workers, timeout, retries;   /* -1: not given */
  int check, quiet, verbose;
  int64_t resume;                   /* 0: a new run */
  struct rn_overrides ov;
  struct rn_shard shard;            /* --shard, --shards, --shard-group, --out */
  int shard_given, shards;          /* --shard given; --shards N (0: not) */
  int db_given;                     /* --db given */
};

static void
run_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit run [OPTION]... JOB.yaml...\n"
"       guestkit run [OPTION]... --resume RUN\n"
"\n"
"Validate the job files (every error is reported, with file:line:column),\n"
"then run their tasks on a pool of worker threads, each task in a fresh\n"
"appliance, and record every step in the results database.\n"
"\n"
"  --db FILE          results database (default ./guestkit.db)\n"
"  -j, --workers N    worker threads (default: the job's, else what this\n"
"                     machine can hold: %d here)\n"
"  --timeout SECS     per-task timeout, overriding the jobs' (90, 10m, 1h)\n"
"  --retries N        retries of a task whose appliance failed\n"
"  --var NAME=VALUE   set a template variable (repeatable)\n"
"  --images PATH      run on these images (path or glob) instead of the\n"
"                     job's (repeatable)\n"
"  --format FORMAT    the format of --images (default: the job's, else raw)\n"
"  --resume RUN       run the unfinished tasks of RUN again\n"
"  --shard I/N        run only shard I (0..N-1) of the tasks (default: from\n"
"                     SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX and --shards)\n"
"  --shards N         the number of shards, the index from the environment\n"
"  --shard-group NAME the sharded run this shard belongs to (default: the\n"
"                     job's name and a hash of its text and options)\n"
"  --out DIR          copy the shard's database to DIR when it ends; start\n"
"                     from that copy if --db is missing\n"
"  -n, --check        validate and list the tasks; run nothing\n"
"  --dry-run          run every step on a throw-away overlay and record what\n"
"                     changed; commit nothing to the images\n"
"  -q, --quiet        print only tasks that are not ok, and the summary\n"
"  -v, --verbose      more messages\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 all tasks ok, 1 some task not ok, 2 invalid job or arguments.\n",
           rn_default_workers ());
}

static int
parse_var (struct rn_overrides *ov, const char *s)
{
  const char *eq = strchr (s, '=');
  char *name;

  if (eq == NULL) {
    fprintf (stderr, "%s: --var: expected NAME=VALUE, got '%s'\n", rn_progname, s);
    return -1;
  }
  name = rn_strndup (s, (size_t) (eq - s));
  if (!rn_var_name_ok (name)) {
    fprintf (stderr, "%s: --var: '%s' is not a variable name\n", rn_progname, name);
    free (name);
    return -1;
  }
  rn_strv_add (&ov->var_names, name);
  rn_strv_add (&ov->var_values, rn_strdup (eq + 1));
  return 0;
}

static int
shard_arg (struct run_opts *o, int c, const char *arg)
{
  char *err = NULL;

  if (c == 'S' && rn_shard_parse (arg, &o->shard.index, &o->shard.count, &err) == 0)
    o->shard_given = 1;
  else if (c == 'N' && rn_int_arg ("--shards", arg, 1, 100000, &o->shards) == -1)
    return -1;
  else if (c == 'G' && !rn_shard_group_ok (arg))
    err = rn_asprintf ("--shard-group: '%s' is not a name (1 to 100 of A-Z a-z 0-9 "
                       ". _ -, not starting with . or -)", arg);
  else if (c == 'G')
    o->shard.group = rn_strdup (arg);
  else if (c == 'O')
    o->shard.out_dir = rn_strdup (arg);
  if (err) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    free (err);
    return -1;
  }
  return 0;
}

/* Options; the index of the first job file, or -1 (exit 2), -2 (--help). */
static int
parse_run_args (int argc, char **argv, struct run_opts *o)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' },
    { "workers", required_argument, NULL, 'j' },
    { "timeout", required_argument, NULL, 't' },
    { "retries", required_argument, NULL, 'r' },
    { "var", required_argument, NULL, 'V' },
    { "images", required_argument, NULL, 'I' },
    { "format", required_argument, NULL, 'F' },
    { "resume", required_argument, NULL, 'R' },
    { "shard", required_argument, NULL, 'S' },
    { "shards", required_argument, NULL, 'N' },
    { "shard-group", required_argument, NULL, 'G' },
    { "out", required_argument, NULL, 'O' },
    { "check", no_argument, NULL, 'n' },
    { "dry-run", no_argument, NULL, 'D' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, x;

  optind = 1;
  while ((c = getopt_long (argc, argv, "j:nqvh", opts, NULL)) != -1) {
    switch (c) {
    case 'd': o->db = optarg; o->db_given = 1; break;
    case 'j': if (rn_int_arg ("--workers", optarg, 1, 256, &o->workers) == -1) return -1; break;
    case 't': if (rn_int_arg ("--timeout", optarg, 1, 86400, &o->timeout) == -1) return -1; break;
    case 'r': if (rn_int_arg ("--retries", optarg, 0, 10, &o->retries) == -1) return -1; break;
    case 'V': if (parse_var (&o->ov, optarg) == -1) return -1; break;
    case 'I': {               /* absolute, so that --resume works anywhere */
      char cwd[4096];
      rn_strv_add (&o->ov.images, optarg[0] == '/' || getcwd (cwd, sizeof cwd) == NULL
                   ? rn_strdup (optarg) : rn_path_join (cwd, optarg));
      break;
    }
    case 'F':
      free (o->ov.format);
      o->ov.format = rn_strdup (optarg);
      break;
    case 'R':
      if (rn_int_arg ("--resume", optarg, 1, INT32_MAX, &x) == -1) return -1;
      o->resume = x;
      break;
    case 'S': case 'N': case 'G': case 'O':
      if (shard_arg (o, c, optarg) == -1) return -1;
      break;
    case 'n': o->check = 1; break;
    case 'D': rn_dry_run = 1; break;
    case 'q': o->quiet = 1; break;
    case 'v': o->verbose = 1; break;
    case 'h': return -2;
    default:
      fprintf (stderr, "Try 'guestkit run --help'.\n");
      return -1;
    }
  }
  if (o->resume && optind < argc) {
    fprintf (stderr, "%s: run: --resume takes no job files (the run has its own)\n",
             rn_progname);
    return -1;
  }
  if (o->resume && (o->shard_given || o->shards || o->shard.group)) {
    fprintf (stderr, "%s: run: --resume keeps the run's shard (only --out may be "
             "given)\n", rn_progname);
    return -1;
  }
  if (o->resume && (o->ov.var_names.n || o->ov.images.n || o->ov.format)) {
    fprintf (stderr, "%s: run: --resume keeps the run's --var, --images and --format\n",
             rn_progname);
    return -1;
  }
  if (o->ov.format && o->ov.images.n == 0) {
    fprintf (stderr, "%s: run: --format is the format of --images (a job file gives "
             "its images' formats)\n", rn_progname);
    return -1;
  }
  if (!o->resume && optind == argc) {
    fprintf (stderr, "%s: run: no job file given\nTry 'guestkit run --help'.\n",
             rn_progname);
    return -1;
  }
  return optind;
}

/* ---- the options a run keeps, as JSON (read back as YAML) ---- */

static char *
options_json (const struct run_opts *o)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "{\"vars\":{");
  for (size_t i = 0; i < o->ov.var_names.n; i++) {
    if (i)
      rn_buf_addc (&b, ',');
    rn_json_strz (&b, o->ov.var_names.v[i]);
    rn_buf_addc (&b, ':');
    rn_json_strz (&b, o->ov.var_values.v[i]);
  }
  rn_buf_adds (&b, "},\"images\":");
  rn_json_strv (&b, o->ov.images.v);
  rn_buf_adds (&b, ",\"format\":");
  rn_json_strz (&b, o->ov.format);
  rn_buf_addf (&b, ",\"timeout\":%d,\"retries\":%d", o->timeout, o->retries);
  if (o->shard.count > 0) {
    rn_buf_adds (&b, ",\"shard\":{\"group\":");
    rn_json_strz (&b, o->shard.group);
    rn_buf_addf (&b, ",\"index\":%d,\"count\":%d,\"total\":%zu,\"keys\":\"%016llx\"}",
                 o->shard.index, o->shard.count, o->shard.total,
                 (unsigned long long) o->shard.keys);
  }
  rn_buf_addc (&b, '}');
  return rn_buf_take (&b);
}

/* The "shard" object of a run's options: {group, index, count, total}. */
static void
shard_read (const struct rn_node *m, struct rn_shard *sh)
{
  int64_t x;

  for (size_t j = 0; j < m->nkids; j += 2) {
    const char *k = m->kids[j]->str;
    const struct rn_node *v = m->kids[j + 1];
    if (v->kind != RN_Y_SCALAR)
      continue;
    if (strcmp (k, "group") == 0) {
      free (sh->group);
      sh->group = rn_strdup (v->str);
    } else if (rn_parse_int (v->str, &x) == 0 && x >= 0 && x <= INT32_MAX) {
      if (strcmp (k, "index") == 0)
        sh->index = (int) x;
      else if (strcmp (k, "count") == 0)
        sh->count = (int) x;
      else if (strcmp (k, "total") == 0)
        sh->total = (size_t) x;
    }
  }
  if (sh->group == NULL || !rn_shard_group_ok (sh->group) || sh->index >= sh->count)
    sh->count = 0;           /* not a shard's run (a merged one): all tasks */
}

static void
options_read (const char *json, struct run_opts *o)
{
  struct rn_errs e = { 0 };
  struct rn_doc d;

  if (rn_yaml_parse (&d, "options", json, strlen (json), &e) == -1 || d.root == NULL ||
      d.root->kind != RN_Y_MAP) {
    rn_errs_free (&e);
    return;
  }
  for (size_t i = 0; i < d.root->nkids; i += 2) {
    const char *k = d.root->kids[i]->str;
    const struct rn_node *v = d.root->kids[i + 1];
    int64_t x;
    if (strcmp (k, "vars") == 0 && v->kind == RN_Y_MAP)
      for (size_t j = 0; j < v->nkids; j += 2) {
        rn_strv_add (&o->ov.var_names, rn_strdup (v->kids[j]->str));
        rn_strv_add (&o->ov.var_values, rn_strdup (v->kids[j + 1]->str));
      }
    else if (strcmp (k, "images") == 0 && v->kind == RN_Y_SEQ)
      for (size_t j = 0; j < v->nkids; j++)
        rn_strv_add (&o->ov.images, rn_strdup (v->kids[j]->str));
    else if (strcmp (k, "format") == 0 && v->kind == RN_Y_SCALAR && !rn_node_is_null (v))
      o->ov.format = rn_strdup (v->str);
    else if (strcmp (k, "shard") == 0 && v->kind == RN_Y_MAP)
      shard_read (v, &o->shard);
    else if (v->kind == RN_Y_SCALAR && rn_parse_int (v->str, &x) == 0 && x >= 0) {
      if (strcmp (k, "timeout") == 0 && o->timeout < 0)
        o->timeout = (int) x;
      else if (strcmp (k, "retries") == 0 && o->retries < 0)
        o->retries = (int) x;
    }
  }
  rn_yaml_free (&d);
}

/* ---- running ---- */

struct runset {
  struct rn_job **jobs;
  int64_t *run_ids;
  size_t njobs;
  struct rn_task *tasks;
  size_t ntasks;
};

static void
apply_overrides (struct rn_job *j, const struct run_opts *o)
{
  if (o->timeout > 0)
    j->timeout = o->timeout;
  if (o->retries >= 0)
    j->retries = o->retries;
}

static void
today (char *buf)
{
  char now[32];
  rn_utc (now);
  snprintf (buf, 16, "%.10s", now);
}

static void
list_tasks (const struct runset *rs)
{
  for (size_t i = 0; i < rs->ntasks; i++) {
    const struct rn_task *t = &rs->tasks[i];
    printf ("%s task %d/%d: %s%s%s%s (%s)\n", t->job->name, t->seq, t->ntasks,
            t->image_path, *t->inst->name ? " [" : "", t->inst->name,
            *t->inst->name ? "]" : "", t->job->kind == RN_JOB_BUILD ? "build"
            : t->image->readonly ? "read-only" : "read-write");
  }
  printf ("%zu job%s valid, %zu task%s\n", rs->njobs, rs->njobs == 1 ? "" : "s",
          rs->ntasks, rs->ntasks == 1 ? "" : "s");
}

/* Validate every job file and expand them (with run id 0); 0 or -1 after
 * printing every error. */
static int
load_all (char **files, int nfiles, struct run_opts *o, struct runset *rs)
{
  struct rn_errs e = { 0 };
  char date[16];
  size_t first;

  today (date);
  rs->jobs = rn_calloc ((size_t) nfiles, sizeof *rs->jobs);
  rs->run_ids = rn_calloc ((size_t) nfiles, sizeof *rs->run_ids);
  for (int i = 0; i < nfiles; i++) {
    struct rn_job *j = rn_job_load (files[i], NULL, &o->ov, &e);
    if (j == NULL)
      continue;
    apply_overrides (j, o);
    rs->jobs[rs->njobs++] = j;
    first = rs->ntasks;
    rn_tasks_expand (j, 0, date, &rs->tasks, &rs->ntasks, &e);
    o->shard.total = rs->ntasks - first;
    o->shard.keys = rn_shard_filter (&o->shard, rs->tasks, first, &rs->ntasks);
  }
  if (e.n > 0) {
    rn_errs_print (&e);
    fprintf (stderr, "%s: %zu error%s; nothing was run\n", rn_progname, e.n,
             e.n == 1 ? "" : "s");
    rn_errs_free (&e);
    return -1;
  }
  return 0;
}

/* Create one run per job in the database, with its tasks. */
static int
create_runs (struct rn_db *db, const struct run_opts *o, struct runset *rs)
{
  char *opts = options_json (o), *err = NULL, date[16];
  struct rn_errs e = { 0 };

  today (date);
  rn_tasks_free (rs->tasks, rs->ntasks);
  rs->tasks = NULL;
  rs->ntasks = 0;
  for (size_t i = 0; i < rs->njobs; i++) {
    size_t first = rs->ntasks;
    if (rn_db_begin (db, &err) == -1)
      break;
    if (rn_db_new_run (db, rs->jobs[i], opts, &rs->run_ids[i], &err) == -1 ||
        rn_tasks_expand (rs->jobs[i], rs->run_ids[i], date, &rs->tasks, &rs->ntasks, &e) == -1 ||
        (rn_shard_filter (&o->shard, rs->tasks, first, &rs->ntasks), 0) ||
        rn_db_add_tasks (db, rs->run_ids[i], rs->tasks + first, rs->ntasks - first, &err) == -1) {
      rn_db_rollback (db);
      break;
    }
    if (rn_db_commit (db, &err) == -1)
      break;
    printf ("run %lld: job %s, %zu task%s (%s)\n", (long long) rs->run_ids[i],
            rs->jobs[i]->name, rs->ntasks - first, rs->ntasks - first == 1 ? "" : "s",
            rs->jobs[i]->path);
  }
  free (opts);
  if (err || e.n) {
    if (e.n)
      rn_errs_print (&e);
    if (err)
      fprintf (stderr, "%s: %s\n", rn_progname, err);
    free (err);
    rn_errs_free (&e);
    return -1;
  }
  fflush (stdout);
  return 0;
}

/* Load the run's job again (from the text stored with it) and mark the
 * tasks to run: those that did not end ok, failed or timed out. */
static int
load_resume (struct rn_db *db, struct run_opts *o, struct runset *rs)
{
  char *file = NULL, *text = NULL, *opts = NULL, *err = NULL, started[32], date[16];
  struct rn_errs e = { 0 };
  struct rn_job *j = NULL;
  size_t again = 0;

  if (rn_db_get_run (db, o->resume, &file, &text, &opts, started, &err) == -1)
    goto fail;
  options_read (opts, o);
  if ((j = rn_job_load (file, text, &o->ov, &e)) == NULL)
    goto fail;
  apply_overrides (j, o);
  snprintf (date, sizeof date, "%.10s", started);
  if (rn_tasks_expand (j, o->resume, date, &rs->tasks, &rs->ntasks, &e) == -1 ||
      (rn_shard_filter (&o->shard, rs->tasks, 0, &rs->ntasks), 0) ||
      rn_db_load_tasks (db, o->resume, rs->tasks, rs->ntasks, &err) == -1)
    goto fail;
  for (size_t i = 0; i < rs->ntasks; i++) {
    enum rn_status s = rs->tasks[i].status;
    if (s == RN_COMMITTING)         /* killed while committing: finish it */
      rn_task_resume_commit (db, &rs->tasks[i]);
    if (s == RN_PENDING || s == RN_RUNNING || s == RN_INTERRUPTED) {
      rs->tasks[i].status = RN_PENDING;   /* the pool runs these only */
      again++;
    }
  }
  rs->jobs = rn_calloc (1, sizeof *rs->jobs);
  rs->run_ids = rn_calloc (1, sizeof *rs->run_ids);
  rs->jobs[0] = j;
  rs->run_ids[0] = o->resume;
  rs->njobs = 1;
  printf ("run %lld: job %s, %zu of %zu task%s to run again (%s)\n",
          (long long) o->resume, j->name, again, rs->ntasks,
          rs->ntasks == 1 ? "" : "s", file);
  fflush (stdout);
  free (file); free (text); free (opts);
  return 0;
 fail:
  if (e.n)
    rn_errs_print (&e);
  if (err)
    fprintf (stderr, "%s: --resume %lld: %s\n", rn_progname, (long long) o->resume, err);
  rn_errs_free (&e);
  rn_job_free (j);
  free (file); free (text); free (opts); free (err);
  return -1;
}

static int
pool_workers (const struct run_opts *o, const struct runset *rs)
{
  int w = o->workers;
  for (size_t i = 0; w <= 0 && i < rs->njobs; i++)
    if (rs->jobs[i]->workers > 0 && (w <= 0 || rs->jobs[i]->workers < w))
      w = rs->jobs[i]->workers;
  return w > 0 ? w : 0;
}

/* The worker count (never more than the tasks: pool.c), said under -v. */
static int
decide_workers (const struct run_opts *o, const struct runset *rs)
{
  char why[512];
  int w = pool_workers (o, rs), mem = 0;
  size_t todo = 0;

  for (size_t i = 0; i < rs->njobs; i++)   /* the largest appliance */
    if (rs->jobs[i]->memsize > mem)
      mem = rs->jobs[i]->memsize;
  if (w > 0)
    snprintf (why, sizeof why, "%s", o->workers > 0 ? "--workers" : "the job's workers:");
  else
    w = rn_choose_workers (mem, why, sizeof why);
  for (size_t i = 0; i < rs->ntasks; i++)
    todo += rs->tasks[i].status == RN_PENDING;
  if (o->verbose) {
    int n = todo > 0 && (size_t) w > todo ? (int) todo : w;
    char cap[64] = "";
    if (n < w)
      snprintf (cap, sizeof cap, "; no more than the %zu tasks to run", todo);
    fprintf (stderr, "%s: %d worker%s: %s%s\n", rn_progname, n, n == 1 ? "" : "s", why, cap);
  }
  return w;
}

/* The library's launch timeout: no longer than the longest task timeout. */
static void
launch_timeout (const struct runset *rs)
{
  int t = 0;
  char buf[32];

  if (getenv ("GUESTKIT_LAUNCH_TIMEOUT"))
    return;
  for (size_t i = 0; i < rs->njobs; i++)
    if (rs->jobs[i]->timeout > t)
      t = rs->jobs[i]->timeout;
  snprintf (buf, sizeof buf, "%d", t > 0 ? t : 600);
  setenv ("GUESTKIT_LAUNCH_TIMEOUT", buf, 1);
}

/* Checks of severity high that failed in run_id, said on stdout. */
static int
high_failures (struct rn_db *db, int64_t run_id)
{
  int64_t n = rn_db_high_failures (db, run_id);

  if (n > 0)
    printf ("run %lld: %lld check%s of severity high failed (guestkit report "
            "--run %lld --findings --failed)\n", (long long) run_id, (long long) n,
            n == 1 ? "" : "s", (long long) run_id);
  return n != 0;
}

static void
end_runs (struct rn_db *db, const struct runset *rs, int interrupted)
{
  for (size_t i = 0; i < rs->njobs; i++) {
    const char *status = interrupted ? "interrupted" : "done";
    for (size_t k = 0; k < rs->ntasks; k++) {
      const struct rn_task *t = &rs->tasks[k];
      if (t->run_id != rs->run_ids[i])
        continue;
      if (t->status == RN_PENDING || t->status == RN_INTERRUPTED)
        status = "interrupted";
      else if (t->status != RN_OK && strcmp (status, "done") == 0)
        status = "failed";
    }
    rn_db_run_end (db, rs->run_ids[i], status);
  }
}

/* ---- shards ---- */

static void
runset_free (struct runset *rs)
{
  rn_tasks_free (rs->tasks, rs->ntasks);
  for (size_t i = 0; i < rs->njobs; i++)
    rn_job_free (rs->jobs[i]);
  free (rs->jobs);
  free (rs->run_ids);
  memset (rs, 0, sizeof *rs);
}

static void
overrides_free (struct rn_overrides *ov)
{
  rn_strv_free (&ov->var_names);
  rn_strv_free (&ov->var_values);
  rn_strv_free (&ov->images);
  free (ov->format);
  ov->format = NULL;
}

/* The shard's index from the options or the environment; one job only. */
static int
shard_setup (struct run_opts *o, int nfiles)
{
  char *err = NULL;

  if (rn_shard_resolve (&o->shard, o->shard_given, o->shards, &err) == -1) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    free (err);
    return -1;
  }
  if (o->shard.count == 0 && (o->shard.group || o->shard.out_dir)) {
    fprintf (stderr, "%s: run: --shard-group and --out are for a shard (--shard I/N)\n",
             rn_progname);
    return -1;
  }
  if (o->shard.count > 0 && nfiles != 1) {
    fprintf (stderr, "%s: run: a shard runs one job file, not %d\n", rn_progname, nfiles);
    return -1;
  }
  return 0;
}

/* After loading: the default group and database; say what runs here. */
static void
shard_name (struct run_opts *o, const struct runset *rs, char **db_alloc)
{
  struct rn_shard *sh = &o->shard;

  if (sh->group == NULL) {
    int count = sh->count;
    char *opts;
    sh->count = 0;           /* the options without the shard */
    opts = options_json (o);
    sh->count = count;
    sh->group = rn_shard_default_group (rs->jobs[0]->name, rs->jobs[0]->text, opts);
    free (opts);
  }
  if (!o->db_given)
    o->db = *db_alloc = rn_shard_local_db (sh);
  printf ("shard %d/%d (%s), group %s: %zu of %zu task%s\n", sh->index, sh->count,
          sh->from, sh->group, rs->ntasks, sh->total, sh->total == 1 ? "" : "s");
}

/* A shard started again goes on with its run in the database, if the
 * job and options are the same; else it is refused. */
static int
shard_existing (struct rn_db *db, struct run_opts *o, struct runset *rs)
{
  char *text = NULL, *opts = NULL, *mine = NULL, *err = NULL;
  int64_t id = rn_shard_find_run (db, &o->shard, &text, &opts, &err);
  int r = 0;

  if (id > 0) {
    mine = options_json (o);
    if (strcmp (text, rs->jobs[0]->text) || strcmp (opts, mine)) {
      err = rn_asprintf ("%s holds shard %d of group %s from another version of the "
                         "job (its file or options differ): give another --shard-group "
                         "or --db", o->db, o->shard.index, o->shard.group);
    } else {
      o->resume = id;        /* load_resume reads the run's own settings */
      overrides_free (&o->ov);
      runset_free (rs);
    }
  }
  if (err) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    r = -1;
  }
  free (text), free (opts), free (mine), free (err);
  return r;
}

/* Run the tasks of rs; the exit status. */
static int
run_tasks (struct rn_db *db, const struct run_opts *o, struct runset *rs)
{
  struct rn_pool_opts po;
  char *err = NULL;
  int rc, interrupted = 0;

  po = (struct rn_pool_opts) { .workers = decide_workers (o, rs), .verbose = o->verbose,
                               .quiet = o->quiet };
  for (size_t i = 0; i < rs->njobs; i++)
    if (rn_db_claim_run (db, rs->run_ids[i], po.workers, &err) == -1) {
      fprintf (stderr, "%s: %s\n", rn_progname, err);
      free (err);
      return RN_EXIT_USAGE;
    }
  launch_timeout (rs);
  rc = rn_pool_run (db, rs->tasks, rs->ntasks, &po, &interrupted);
  end_runs (db, rs, interrupted);
  for (size_t i = 0; i < rs->ntasks; i++)
    if (rs->tasks[i].status != RN_OK)
      rc = RN_EXIT_FAILED;         /* the whole run, resumed or not */
  for (size_t i = 0; i < rs->njobs; i++)
    if (rs->jobs[i]->nchecks && high_failures (db, rs->run_ids[i]))
      rc = RN_EXIT_FAILED;         /* a check of severity high failed */
  return rc;
}

int
rn_cmd_run (int argc, char **argv)
{
  struct run_opts o = { .db = "guestkit.db", .workers = -1, .timeout = -1, .retries = -1 };
  struct runset rs = { 0 };
  struct rn_db *db = NULL;
  char *err = NULL, *db_alloc = NULL;
  int first, rc = RN_EXIT_USAGE;

  first = parse_run_args (argc, argv, &o);
  if (first == -2) {
    run_usage (stdout);
    return RN_EXIT_OK;
  }
  if (first < 0 || (!o.resume && shard_setup (&o, argc - first) == -1))
    goto out;
  if (!o.resume && load_all (argv + first, argc - first, &o, &rs) == -1)
    goto out;
  if (o.shard.count > 0)
    shard_name (&o, &rs, &db_alloc);
  if (o.check && !o.resume) {
    list_tasks (&rs);
    if (o.verbose)
      decide_workers (&o, &rs);
    rc = RN_EXIT_OK;
    goto out;
  }
  if (o.shard.count > 0 && rn_shard_seed (&o.shard, o.db, &err) == -1) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    goto out;
  }
  if ((db = rn_db_open (o.db, !o.resume, &err)) == NULL) {
    fprintf (stderr, "%s: %s\n", rn_progname, err);
    goto out;
  }
  if (o.shard.count > 0 && !o.resume && shard_existing (db, &o, &rs) == -1)
    goto out;
  if (o.resume ? load_resume (db, &o, &rs) : create_runs (db, &o, &rs))
    goto out;
  if (o.check) {
    list_tasks (&rs);
    rc = RN_EXIT_OK;
    goto out;
  }
  rc = run_tasks (db, &o, &rs);
  rn_db_close (db);
  db = NULL;
  if (o.shard.count > 0 && o.shard.out_dir && rc != RN_EXIT_USAGE &&
      rn_shard_publish (&o.shard, o.db, &err) == -1) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    rc = RN_EXIT_FAILED;
  }
 out:
  free (err);
  rn_db_close (db);
  runset_free (&rs);
  overrides_free (&o.ov);
  free (o.shard.group);
  free (o.shard.out_dir);
  free (db_alloc);
  return rc;
}

static void
usage (FILE *f)
{
  fprintf (f,
"usage: guestkit COMMAND [OPTION]...\n"
"\n"
"Inspect and change virtual machine disk images in batches: YAML job files\n"
"run on a pool of appliances, results in SQLite.\n"
"\n"
"Commands:\n"
"  run JOB.yaml...    validate and run job files (guestkit run --help)\n"
"  report             print results: table, JSON or CSV (guestkit report --help)\n"
"  status             runs and their progress (guestkit status --help)\n"
"  shell              a guestfish-compatible shell (guestkit shell --help)\n"
"  inspect -a IMG...  the operating systems on disk images, as JSON or XML\n"
"  mount -a IMG -i DIR  a guest filesystem on DIR through FUSE (--help)\n"
"  cache              the appliance cache: list, --prune, --clear (guestkit cache --help)\n"
"  boot-test -a IMG   boot an image and wait for a console text (--help)\n"
"  steps [STEP]       the high-level job steps (help STEP: one of them)\n"
"  merge OUT SHARD...\n"
"                     merge the databases of a sharded run (guestkit merge --help)\n"
"  slurm JOB.yaml     a Slurm job array of shards and a merge job (guestkit slurm --help)\n"
"  k8s JOB.yaml       a Kubernetes Indexed Job of shards and a merge Job\n"
"  test-tool          launch a scratch appliance and say what works (--help)\n"
"\n"
"guestkit --version, or guestkit COMMAND --version, prints the version.\n"
"\n"
"Reference: runner/README.md; job format: schemas/job-schema.md.\n");
}

/* "guestkit VERSION": the library's version, from guestfs_version. */
static int
print_version (void)
{
  guestfs_h *g = guestfs_create ();
  struct guestfs_version *v = g ? guestfs_version (g) : NULL;

  if (v == NULL) {
    fprintf (stderr, "%s: cannot read the library's version\n", rn_progname);
    if (g)
      guestfs_close (g);
    return RN_EXIT_FAILED;
  }
  printf ("guestkit %s (libguestfs API %" PRId64 ".%" PRId64 ".%" PRId64 ")\n",
          strncmp (v->extra, "guestkit-", 9) == 0 ? v->extra + 9 : v->extra,
          v->major, v->minor, v->release);
  guestfs_free_version (v);
  guestfs_close (g);
  return RN_EXIT_OK;
}

int
main (int argc, char **argv)
{
  rn_umask = umask (022);           /* read it once, before any thread */
  umask (rn_umask);
  if (argc < 2) {
    usage (stderr);
    return RN_EXIT_USAGE;
  }
  if (strcmp (argv[1], "help") == 0 && argc == 3)
    return rn_cmd_steps (argc - 1, argv + 1);      /* help STEP */
  if (strcmp (argv[1], "steps") == 0)
    return rn_cmd_steps (argc - 1, argv + 1);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0) {
    usage (stdout);
    return RN_EXIT_OK;
  }
  /* guestkit --version, and guestkit COMMAND --version for every command. */
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0 ||
      (argc >= 3 && strcmp (argv[2], "--version") == 0))
    return print_version ();
  if (strcmp (argv[1], "run") == 0)
    return rn_cmd_run (argc - 1, argv + 1);
  if (strcmp (argv[1], "report") == 0)
    return rn_cmd_report (argc - 1, argv + 1);
  if (strcmp (argv[1], "status") == 0)
    return rn_cmd_status_main (argc - 1, argv + 1);
  if (strcmp (argv[1], "shell") == 0)
    return rn_cmd_shell (argc - 1, argv + 1);
  if (strcmp (argv[1], "inspect") == 0)
    return rn_cmd_inspect (argc - 1, argv + 1);
  if (strcmp (argv[1], "mount") == 0)
    return rn_cmd_mount (argc - 1, argv + 1);
  if (strcmp (argv[1], "cache") == 0)
    return rn_cmd_cache (argc - 1, argv + 1);
  if (strcmp (argv[1], "boot-test") == 0)
    return rn_cmd_boot_test (argc - 1, argv + 1);
  if (strcmp (argv[1], "merge") == 0)
    return rn_cmd_merge (argc - 1, argv + 1);
  if (strcmp (argv[1], "slurm") == 0)
    return rn_cmd_slurm (argc - 1, argv + 1);
  if (strcmp (argv[1], "k8s") == 0)
    return rn_cmd_k8s (argc - 1, argv + 1);
  if (strcmp (argv[1], "test-tool") == 0)
    return rn_cmd_test_tool (argc - 1, argv + 1);
  fprintf (stderr, "%s: unknown command '%s'\n", rn_progname, argv[1]);
  usage (stderr);
  return RN_EXIT_USAGE;
}
