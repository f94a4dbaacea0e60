/* runner/run-cli.c: `guestkit run'.
 *
 *   guestkit run JOB.yaml...      validate every job, then run them
 *   guestkit run --resume RUN     run again the tasks of RUN that did not
 *                                 finish (pending, running when killed,
 *                                 interrupted)
 *
 * Options are parsed and kept with the run (as JSON, read back on
 * --resume); jobs are loaded and validated, runs and tasks created, the
 * worker count decided, and the pool (pool.c) runs the tasks.  Shards
 * (--shard, --shards, --out) choose their share of the tasks here.
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

/* ---- running ---- */

struct runset {
  struct rn_job **jobs;
  int64_t *run_ids;
  size_t njobs;
  struct rn_task *tasks;
  size_t ntasks;
};

static void
apply_overrides (struct rn_job *j, const struct rn_run_opts *o)
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
load_all (char **files, int nfiles, struct rn_run_opts *o, struct runset *rs)
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
create_runs (struct rn_db *db, const struct rn_run_opts *o, struct runset *rs)
{
  char *opts = rn_run_options_json (o), *err = NULL, date[16];
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
load_resume (struct rn_db *db, struct rn_run_opts *o, struct runset *rs)
{
  char *file = NULL, *text = NULL, *opts = NULL, *err = NULL, started[32], date[16];
  struct rn_errs e = { 0 };
  struct rn_job *j = NULL;
  size_t again = 0;

  if (rn_db_get_run (db, o->resume, &file, &text, &opts, started, &err) == -1)
    goto fail;
  rn_run_options_read (opts, o);
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
pool_workers (const struct rn_run_opts *o, const struct runset *rs)
{
  int w = o->workers;
  for (size_t i = 0; w <= 0 && i < rs->njobs; i++)
    if (rs->jobs[i]->workers > 0 && (w <= 0 || rs->jobs[i]->workers < w))
      w = rs->jobs[i]->workers;
  return w > 0 ? w : 0;
}

/* The worker count (never more than the tasks: pool.c), said under -v. */
static int
decide_workers (const struct rn_run_opts *o, const struct runset *rs)
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
shard_setup (struct rn_run_opts *o, int nfiles)
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
shard_name (struct rn_run_opts *o, const struct runset *rs, char **db_alloc)
{
  struct rn_shard *sh = &o->shard;

  if (sh->group == NULL) {
    int count = sh->count;
    char *opts;
    sh->count = 0;           /* the options without the shard */
    opts = rn_run_options_json (o);
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
shard_existing (struct rn_db *db, struct rn_run_opts *o, struct runset *rs)
{
  char *text = NULL, *opts = NULL, *mine = NULL, *err = NULL;
  int64_t id = rn_shard_find_run (db, &o->shard, &text, &opts, &err);
  int r = 0;

  if (id > 0) {
    mine = rn_run_options_json (o);
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
run_tasks (struct rn_db *db, const struct rn_run_opts *o, struct runset *rs)
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
  struct rn_run_opts o = { .db = "guestkit.db", .workers = -1, .timeout = -1, .retries = -1 };
  struct runset rs = { 0 };
  struct rn_db *db = NULL;
  char *err = NULL, *db_alloc = NULL;
  int first, rc = RN_EXIT_USAGE;

  first = rn_run_parse_args (argc, argv, &o);
  if (first == -2) {
    rn_run_usage (stdout);
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
