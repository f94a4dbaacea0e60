/* runner/exec.c: one task on one handle.
 *
 *   [build: make a temp image beside the output]
 *   guestfs_create, or the worker's handle prepared ahead (pool.c) ->
 *   add_drive_opts (format given, read-only unless the job writes) ->
 *   launch [-> the worker's next handle prepared meanwhile] -> the steps
 *   in order -> [read-write: umount_all, sync] -> close -> [build: the
 *   output written, hashed and boot-checked (build.c), then renamed into
 *   place]
 *
 * A fresh appliance per task: a handle is never reused for another image.
 * The handle is used by this worker thread only; the watchdog (pool.c)
 * only ever signals the qemu through the pidfd published in the slot,
 * which makes the blocked call fail and lets this thread clean up.  A
 * pidfd names one process: once the library has reaped its qemu (it
 * died, or close), the signal fails with ESRCH instead of reaching
 * whatever process got the pid since.  A bare pid could not promise
 * that, and guestfs_kill_subprocess may not be called from another
 * thread while this one is inside a call (it closes the handle's fds
 * and reaps under its feet).  The pidfd is opened between calls, when
 * qemu cannot have been reaped yet, and closed under the slot lock.  Files written on the
 * host (build images, FileOut downloads) go to a temp name first and are
 * renamed into place on success, never over an existing file unless the
 * job says overwrite: true; a failure leaves no partial file.
 *
 * Retries (job `retries') are for failures of the appliance, not of a
 * step: a launch that failed, an appliance that died, a timeout.  A step
 * that returns an error fails the same way each time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define RESULT_MAX (1u << 20)      /* a result JSON bigger than this is cut */


struct attempt {
  struct rn_runctx *ctx;
  struct rn_slot *slot;
  struct rn_task *t;
  struct rn_taskrec *rec;
  guestfs_h *g;
  double lib;                /* seconds spent in the library / qemu-img */
  int retryable;
  struct rn_strv vnames, vvalues;   /* saved values as template variables:
                                     * "x" and its elements "x.0", "x.KEY" */
  struct rn_vars vars;
  char *tmp_image;           /* build: the temp image */
  struct rn_changes chg;     /* what the high-level steps changed */
  char *overlay;             /* all-or-nothing writes: the task's overlay */
};

/* ---- time accounting ---- */

#define LIB(a, expr) ({ double t0_ = rn_now (); __auto_type r_ = (expr); \
                        (a)->lib += rn_now () - t0_; r_; })

static void
record_step (struct attempt *a, int seq, const char *call, char *args,
             char *result, char *error, double ms, int line)
{
  rn_taskrec_add_step (a->rec, seq, call, args, result, error, ms, line);
}

static int
killed (struct attempt *a)
{
  int k;
  pthread_mutex_lock (&a->slot->lock);
  k = a->slot->killed;
  pthread_mutex_unlock (&a->slot->lock);
  return k;
}

/* Let the watchdog signal this task's qemu (pid > 0), or no longer
 * (pid 0).  Called between library calls only. */
static void
publish_qemu (struct attempt *a, pid_t pid)
{
  static int warned;
  int fd = -1;

  if (pid > 0 && (fd = pidfd_open (pid, 0)) == -1 &&
      __atomic_exchange_n (&warned, 1, __ATOMIC_RELAXED) == 0)
    fprintf (stderr, "%s: cannot watch qemu (pidfd_open: %s): a timeout or a "
             "signal only ends a task between its steps\n", rn_progname, strerror (errno));
  pthread_mutex_lock (&a->slot->lock);
  if (a->slot->pidfd >= 0)
    close (a->slot->pidfd);
  a->slot->pidfd = fd;
  pthread_mutex_unlock (&a->slot->lock);
}

/* ---- host files ---- */

char *
rn_temp_beside (const char *path, int *fd)
{
  char *dir = rn_dirname (path);
  char *tmp = rn_asprintf ("%s/.%s.guestkit-XXXXXX", dir, rn_basename (path));

  free (dir);
  *fd = mkostemp (tmp, O_CLOEXEC);
  if (*fd == -1) {
    free (tmp);
    return NULL;
  }
  fchmod (*fd, 0666 & ~rn_umask);   /* as a plain open would have made it */
  return tmp;
}

/* Move tmp to final: never over an existing file unless overwrite. */
static int
put_in_place (const char *tmp, const char *final, int overwrite, char **err)
{
  int r = overwrite ? rename (tmp, final)
                    : renameat2 (AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
  if (r == -1) {
    *err = errno == EEXIST
      ? rn_asprintf ("'%s' exists; not replacing it (overwrite: true would)", final)
      : rn_asprintf ("%s: %s", final, strerror (errno));
    unlink (tmp);
    return -1;
  }
  return 0;
}

/* Build: the working image (raw, build.c) at a temp name. */
static int
make_image (struct attempt *a, char **err)
{
  int fd, r;
  double t0 = rn_now ();

  a->tmp_image = rn_temp_beside (a->t->image_path, &fd);
  if (a->tmp_image == NULL) {
    *err = rn_asprintf ("cannot create a file beside %s: %s", a->t->image_path,
                        strerror (errno));
    return -1;
  }
  close (fd);
  r = rn_build_work_image (a->t->job, a->tmp_image, err);
  a->lib += rn_now () - t0;
  return r;
}

/* ---- steps ---- */
static void
save_fact (struct attempt *a, const char *name, const struct rn_ret *r,
           const char *json)
{
  char *plain;

  if (r->type == RN_RET_STRING || r->type == RN_RET_CONSTSTRING) {
    const char *s = r->type == RN_RET_STRING ? r->v.s : r->v.cs;
    size_t n = s ? strlen (s) : 0;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
      n--;
    plain = rn_strndup (s ? s : "", n);
  } else
    plain = rn_strdup (json);
  rn_strv_add (&a->rec->fact_names, rn_strdup (name));
  rn_strv_add (&a->rec->fact_values, rn_strdup (json));
  rn_strv_add (&a->vnames, rn_strdup (name));
  rn_strv_add (&a->vvalues, plain);
  /* Elements of lists and hashtables for templates: {{name.0}}, {{name.KEY}}. */
  if ((r->type == RN_RET_STRINGLIST || r->type == RN_RET_HASHTABLE) && r->v.sl) {
    int hash = r->type == RN_RET_HASHTABLE;
    for (size_t i = 0; r->v.sl[i] && (!hash || r->v.sl[i + 1]); i += hash ? 2 : 1) {
      rn_strv_add (&a->vnames, hash ? rn_asprintf ("%s.%s", name, r->v.sl[i])
                                          : rn_asprintf ("%s.%zu", name, i));
      rn_strv_add (&a->vvalues, rn_strdup (r->v.sl[i + hash]));
    }
  }
}

static char *
result_json (const struct rn_ret *r)
{
  struct rn_buf b = { 0 };

  rn_json_ret (&b, r);
  if (b.len > RESULT_MAX) {
    size_t n = b.len;
    rn_buf_free (&b);
    return rn_asprintf ("{\"truncated\":true,\"bytes\":%zu}", n);
  }
  return rn_buf_take (&b);
}

/* Record step i (name, its arguments' JSON js, its result or err, taken)
 * and decide: 0 if the task goes on, -1 (and *why) if it stops. */
static int
step_end (struct attempt *a, size_t i, const char *name, struct rn_buf *js,
          char *result, char *err, double t0, int r, char **why)
{
  const struct rn_step *s = &a->t->job->steps[i];

  record_step (a, (int) i + 1, name, rn_buf_take (js), result,
               err ? rn_strdup (err) : NULL, (rn_now () - t0) * 1000, s->line);
  if (r == -1) {
    if (s->on_error_continue && !killed (a) && guestfs_is_ready (a->g) == 1) {
      a->rec->step_errors++;
      if (a->ctx->verbose)
        fprintf (stderr, "%s: run %lld task %d: step %zu (%s, line %d): %s (continuing)\n",
                 rn_progname, (long long) a->t->run_id, a->t->seq, i + 1, name,
                 s->line, err);
      free (err);
      return 0;
    }
    *why = rn_asprintf ("step %zu (%s, line %d): %s", i + 1, name, s->line, err);
  }
  free (err);
  return r;
}

/* The task's inventory and findings (db-inventory.c), made when first
 * needed; written with the task's result. */
static struct rn_audit *
task_audit (struct attempt *a)
{
  if (a->rec->audit == NULL)
    a->rec->audit = rn_calloc (1, sizeof *a->rec->audit);
  return a->rec->audit;
}

/* Step i's arguments converted as a call's are, into av and given (by
 * index in the step's table), with their JSON into js: 0, or -1 with
 * *err set. */
static int
hstep_args (struct attempt *a, size_t i, union rn_argval *av, unsigned char *given,
            struct rn_argbufs *bufs, struct rn_buf *js, char **err)
{
  const struct rn_step *s = &a->t->job->steps[i];
  const struct rn_hstep *h = s->hstep;
  int r = 0;

  memset (av, 0, (RN_MAX_ARGS + 1) * sizeof *av);
  rn_buf_addc (js, '{');
  for (int k = 0, first = 1; k < h->nargs && r == 0; k++) {
    struct rn_arg d = { h->args[k].name, h->args[k].type };
    if (s->args[k].kind == RN_V_NULL)
      continue;                      /* not given */
    if (!first)
      rn_buf_addc (js, ',');
    first = 0;
    given[k] = 1;
    r = rn_arg_convert (a->t->job, &a->vars, &d, &s->args[k], &av[k], bufs, k, js, err);
  }
  rn_buf_addc (js, '}');
  return r;
}

/* Before the launch: the steps' host-side work (rn_hstep's prefetch),
 * with their arguments as they convert now.  A step whose arguments do
 * not convert yet (they name a value an earlier step saves) is left to
 * do its own work when it runs. */
static void
prefetch (struct attempt *a)
{
  for (size_t i = 0; i < a->t->job->nsteps; i++) {
    const struct rn_hstep *h = a->t->job->steps[i].hstep;
    union rn_argval av[RN_MAX_ARGS + 1];
    unsigned char given[RN_MAX_ARGS + 1] = { 0 };
    struct rn_argbufs bufs = { 0 };
    struct rn_buf js = { 0 };
    char *err = NULL;

    if (h == NULL || h->prefetch == NULL)
      continue;
    if (hstep_args (a, i, av, given, &bufs, &js, &err) == 0)
      h->prefetch (&(struct rn_sctx) { .j = a->t->job, .h = h, .av = av, .given = given });
    free (err);
    rn_buf_free (&js);
    rn_argbufs_free (&bufs);
  }
}

/* A high-level step (steps.c). */
static int
run_hstep (struct attempt *a, size_t i, char **why)
{
  const struct rn_step *s = &a->t->job->steps[i];
  const struct rn_hstep *h = s->hstep;
  union rn_argval av[RN_MAX_ARGS + 1];
  unsigned char given[RN_MAX_ARGS + 1] = { 0 };
  struct rn_argbufs bufs = { 0 };
  struct rn_buf js = { 0 };
  struct rn_sctx c = {
    .g = a->g, .j = a->t->job, .h = h, .av = av, .given = given,
    .readonly = a->t->job->kind != RN_JOB_BUILD && a->t->image->readonly,
    .chg = &a->chg, .audit = task_audit (a),
  };
  char *err = NULL, *result = NULL;
  double t0;
  int r = hstep_args (a, i, av, given, &bufs, &js, &err);

  t0 = rn_now ();
  if (r == 0 && (h->flags & RN_HS_WRITES) && c.readonly) {
    err = rn_strdup ("this step changes the image, and the image is read-only");
    r = -1;
  }
  if (r == 0) {
    r = rn_hstep_run (&c);
    a->lib += rn_now () - t0;
    if (r == -1)
      err = c.err ? c.err : rn_strdup ("failed (no message)");
    else {
      result = c.result.s ? rn_buf_take (&c.result) : rn_strdup ("null");
      if (s->save_as)
        save_fact (a, s->save_as, &(struct rn_ret) { .type = RN_RET_ERR }, result);
      free (c.err);
    }
  }
  rn_buf_free (&c.result);
  rn_argbufs_free (&bufs);
  return step_end (a, i, h->name, &js, result, err, t0, r, why);
}

/* Run step number i; 0 if the task goes on, -1 if it stops. */
static int
run_step (struct attempt *a, size_t i, char **why)
{
  const struct rn_step *s = &a->t->job->steps[i];
  const struct rn_call *c = s->call;
  union rn_argval av[RN_MAX_ARGS + 1];
  struct rn_argbufs bufs = { 0 };
  struct rn_buf js = { 0 };
  struct rn_ret ret;
  char *err = NULL, *result = NULL;
  double t0;
  int r = 0;

  if (s->hstep)
    return run_hstep (a, i, why);
  if (c->nargs > RN_MAX_ARGS) {        /* no call has that many */
    *why = rn_asprintf ("step %zu (%s): too many arguments", i + 1, c->name);
    return -1;
  }
  rn_buf_addc (&js, '{');
  for (int k = 0; k < c->nargs && r == 0; k++) {
    if (k)
      rn_buf_addc (&js, ',');
    r = rn_arg_convert (a->t->job, &a->vars, &c->args[k], &s->args[k], &av[k],
                        &bufs, k, &js, &err);
  }
  rn_buf_addc (&js, '}');
  t0 = rn_now ();
  if (r == 0) {
    r = rn_call_invoke (c, a->g, av, &ret);
    a->lib += rn_now () - t0;
    if (r == -1)
      err = rn_strdup (guestfs_last_error (a->g) ? guestfs_last_error (a->g)
                                                 : "failed (no message)");
    else {
      result = result_json (&ret);
      if (s->save_as)
        save_fact (a, s->save_as, &ret, result);
      rn_ret_free (&ret);
    }
  }
  if (bufs.out.tmp) {
    if (r == 0 && put_in_place (bufs.out.tmp, bufs.out.final, a->t->job->overwrite,
                                &err) == -1)
      r = -1;
    else if (r == -1)
      unlink (bufs.out.tmp);
  }
  rn_argbufs_free (&bufs);
  return step_end (a, i, c->name, &js, result, err, t0, r, why);
}

/* ---- one attempt ---- */

static int
launch (struct attempt *a, char **why)
{
  const struct rn_task *t = a->t;
  const struct rn_job *j = t->job;
  int build = j->kind == RN_JOB_BUILD;
  struct guestfs_add_drive_opts_argv o = {
    .bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK | GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK |
               GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING_BITMASK,
    .format = build ? "raw" : a->overlay ? "qcow2" : t->image->format,   /* build.c converts it */
    .readonly = build ? 0 : t->image->readonly,
    .trust_backing = a->overlay != NULL,   /* we made it, over the checked image */
  };
  const char *path = build ? a->tmp_image : a->overlay ? a->overlay : t->image_path;
  struct rn_buf js = { 0 };
  double t0 = rn_now ();
  int r;

  rn_buf_adds (&js, "{\"image\":");
  rn_json_strz (&js, t->image_path);
  rn_buf_addf (&js, ",\"format\":\"%s\",\"readonly\":%s%s}",
               a->overlay ? t->image->format : o.format,
               o.readonly ? "true" : "false", a->overlay ? ",\"overlay\":true" : "");
  r = guestfs_add_drive_opts_argv (a->g, path, &o);
  if (r == 0)
    r = guestfs_launch (a->g);
  a->lib += rn_now () - t0;
  if (r == -1) {
    const char *e = guestfs_last_error (a->g);
    *why = rn_asprintf ("launch: %s", e ? e : "failed");
    a->retryable = 1;
  }
  record_step (a, 0, "launch", rn_buf_take (&js), r == 0 ? rn_strdup ("null") : NULL,
               r == -1 ? rn_strdup (*why) : NULL, (rn_now () - t0) * 1000, 0);
  return r;
}

/* After the steps of a read-write task: everything on disk. */
static int
finish_writes (struct attempt *a, char **why)
{
  if (LIB (a, guestfs_umount_all (a->g)) == -1 || LIB (a, guestfs_sync (a->g)) == -1) {
    const char *e = guestfs_last_error (a->g);
    *why = rn_asprintf ("writing back: %s", e ? e : "failed");
    return -1;
  }
  return 0;
}

/* The job's checks (checks.c), after the steps: recorded as a step
 * "checks" numbered after the last one, its findings in the audit. */
static int
run_checks (struct attempt *a, char **why)
{
  const struct rn_job *j = a->t->job;
  int ro = j->kind != RN_JOB_BUILD && a->t->image->readonly;
  char *result = NULL, *err = NULL;
  double t0 = rn_now ();
  int r = rn_checks_task (a->g, j, ro, task_audit (a), &a->vars, &result, &err);

  a->lib += rn_now () - t0;
  record_step (a, (int) j->nsteps + 1, "checks", rn_strdup ("{}"), result,
               err ? rn_strdup (err) : NULL, (rn_now () - t0) * 1000, j->checks[0].line);
  if (r == -1)
    *why = rn_asprintf ("checks: %s", err);
  free (err);
  return r;
}

static enum rn_status
steps (struct attempt *a, char **why)
{
  const struct rn_job *j = a->t->job;
  int rw = j->kind == RN_JOB_BUILD || !a->t->image->readonly;

  if (j->kind == RN_JOB_BUILD && LIB (a, rn_build_grow_base (a->g, j, why)) == -1)
    return RN_FAILED;
  for (size_t i = 0; i < j->nsteps; i++) {
    if (rn_stopping (a->ctx))
      return RN_INTERRUPTED;
    if (rn_now () > a->slot->deadline)
      return RN_TIMEOUT;
    if (run_step (a, i, why) == -1) {
      /* A step that failed because the appliance died (crash, killed
       * qemu) is a failure of the appliance: retryable. */
      if (guestfs_is_config (a->g) == 1)
        a->retryable = 1;
      return RN_FAILED;
    }
  }
  if (j->nchecks && run_checks (a, why) == -1) {
    if (guestfs_is_config (a->g) == 1)
      a->retryable = 1;
    return RN_FAILED;
  }
  if (rw) {
    LIB (a, (rn_chg_finish (&a->chg, a->g), 0));
    if (finish_writes (a, why) == -1)
      return RN_FAILED;
  }
  if (j->kind == RN_JOB_BUILD && LIB (a, rn_build_zero_free (a->g, j, why)) == -1)
    return RN_FAILED;
  return RN_OK;
}

static void
boot_pid (void *a, pid_t pid)
{
  publish_qemu (a, pid);
}

/* Build: the output written, recorded and boot-checked (build.c); then
 * a->tmp_image is the output, at its temp name, to be put in place. */
static int
finish_build (struct attempt *a, char **why)
{
  const struct rn_job *j = a->t->job;
  struct rn_build_end e = {
    .t = a->t, .rec = a->rec, .seq = (int) j->nsteps + 1, .work = a->tmp_image,
    .on_pid = boot_pid, .ctx = a, .stop = a->ctx->stop,
  };
  char *expect = NULL, *out = NULL;
  double t0 = rn_now ();
  int r = -1;

  if (j->verify_boot &&
      (expect = rn_tmpl_expand (j->verify_expect, rn_task_lookup, &a->vars, why)) == NULL)
    goto out;
  e.expect = expect;
  if ((r = rn_build_finish (&e, &out, why)) == 0) {
    unlink (a->tmp_image);
    free (a->tmp_image);
    a->tmp_image = out;
  }
 out:
  free (expect);
  a->lib += rn_now () - t0;
  return r;
}

static enum rn_status
attempt_once (struct attempt *a, char **why)
{
  enum rn_status st = RN_FAILED;
  int k;

  prefetch (a);
  if (a->t->job->kind == RN_JOB_BUILD && make_image (a, why) == -1)
    return RN_FAILED;
  if (rn_task_atomic (a->t)) {
    double t0 = rn_now ();
    int r = rn_overlay_make (a->t, &a->overlay, why);
    a->lib += rn_now () - t0;
    if (r == -1)
      return RN_FAILED;
  }
  a->g = LIB (a, rn_slot_handle (a->slot, a->t));   /* maybe prepared ahead */
  if (a->g == NULL) {
    *why = rn_strdup ("guestfs_create: out of memory");
    a->retryable = 1;
  } else {
    if (launch (a, why) == 0) {
      publish_qemu (a, guestfs_get_pid (a->g));
      rn_slot_launched (a->slot, a->t);   /* the next task's, meanwhile */
      st = steps (a, why);
    }
    publish_qemu (a, 0);
    LIB (a, (guestfs_close (a->g), 0));
    a->g = NULL;
  }
  if (st == RN_OK && a->tmp_image && finish_build (a, why) == -1)
    st = RN_FAILED;
  if ((k = killed (a)) != 0 || rn_stopping (a->ctx) || st == RN_TIMEOUT) {
    st = k ? (enum rn_status) k : rn_stopping (a->ctx) ? RN_INTERRUPTED : RN_TIMEOUT;
    free (*why);
    *why = st == RN_TIMEOUT
      ? rn_asprintf ("timed out after %d s", a->t->job->timeout)
      : rn_strdup ("interrupted");
    a->retryable = st == RN_TIMEOUT;
  } else if (st == RN_INTERRUPTED) {
    free (*why);
    *why = rn_strdup ("interrupted");
  }
  if (a->tmp_image) {
    if (st == RN_OK && !rn_dry_run &&
        put_in_place (a->tmp_image, a->t->image_path, a->t->job->overwrite, why) == -1)
      st = RN_FAILED;
    else if (st != RN_OK || rn_dry_run)
      unlink (a->tmp_image);
    free (a->tmp_image);
    a->tmp_image = NULL;
  }
  if (a->overlay && (st != RN_OK || rn_dry_run)) {
    unlink (a->overlay);        /* the image was never written */
    free (a->overlay);
    a->overlay = NULL;
  }
  return st;
}

/* The steps succeeded on the overlay: record 'committing' with the
 * task's steps, commit, record the commit (exec-commit.c). */
static enum rn_status
commit (struct rn_runctx *ctx, struct rn_task *t, struct rn_taskrec *rec,
        const char *overlay, char **why)
{
  double t0;
  char *err = NULL;
  enum rn_status st;

  if (rn_overlay_sync (overlay, &err) == -1) {
    unlink (overlay);
    rec->status = RN_FAILED;
    rec->error = err;
    *why = rn_strdup (err);
    rn_db_task_finish (ctx->db, t, rec);
    return RN_FAILED;
  }
  rec->status = RN_COMMITTING;
  if (rn_db_task_finish (ctx->db, t, rec) == -1) {
    unlink (overlay);               /* not recorded: as if never run */
    *why = rn_strdup ("cannot record the task before its commit");
    return RN_FAILED;
  }
  t0 = rn_now ();
  st = rn_overlay_commit (overlay, t->image_path, &err) == 0 ? RN_OK : RN_COMMITTING;
  if (rn_db_task_committed (ctx->db, t, (rn_now () - t0) * 1000, st, err) == 0 &&
      st == RN_OK)
    unlink (overlay);
  if (err) {
    *why = rn_asprintf ("commit: %s (the overlay %s is kept: guestkit run "
                        "--resume %lld finishes the commit)", err, overlay,
                        (long long) t->run_id);
    free (err);
  }
  rec->ms += (rn_now () - t0) * 1000;
  return st;
}

static void
slot_arm (struct rn_slot *slot, int timeout)
{
  pthread_mutex_lock (&slot->lock);
  slot->killed = 0;
  slot->deadline = rn_now () + timeout;
  pthread_mutex_unlock (&slot->lock);
}

enum rn_status
rn_task_run (struct rn_runctx *ctx, struct rn_slot *slot, struct rn_task *t,
             double *overhead_ms, char **error)
{
  struct rn_taskrec rec = { 0 };
  struct attempt a = { 0 };
  double t0 = rn_now (), tw, lib = 0;
  enum rn_status st;
  char *why = NULL;

  rec.worker = slot->worker;
  for (int n = 1;; n++) {
    rn_taskrec_free (&rec);
    rec.worker = slot->worker;
    rn_chg_free (&a.chg);
    memset (&a, 0, sizeof a);
    a.ctx = ctx, a.slot = slot, a.t = t, a.rec = &rec;
    a.vars.t = t;
    a.vars.fact_names = &a.vnames;
    a.vars.fact_values = &a.vvalues;
    rn_utc (rec.started);
    rn_db_task_start (ctx->db, t, slot->worker, rec.started);
    slot_arm (slot, t->job->timeout);
    free (why);
    why = NULL;
    st = attempt_once (&a, &why);
    rn_strv_free (&a.vnames);
    rn_strv_free (&a.vvalues);
    lib += a.lib;
    rec.attempts = n;
    if (st == RN_OK || !a.retryable || n > t->job->retries || rn_stopping (ctx))
      break;
  }
  rn_utc (rec.finished);
  rec.status = st;
  rec.error = why ? rn_strdup (why) : NULL;
  rec.ms = (rn_now () - t0) * 1000;
  rec.overhead_ms = rec.ms - lib * 1000;
  /* What changed, for a writing task that succeeded (after a failure,
   * nothing was: the overlay is discarded). */
  if (st == RN_OK && (t->job->kind == RN_JOB_BUILD || !t->image->readonly))
    rec.changes = &a.chg;
  tw = rn_now ();
  if (a.overlay)
    st = commit (ctx, t, &rec, a.overlay, &why);
  else
    rn_db_task_finish (ctx->db, t, &rec);
  *overhead_ms = rec.overhead_ms + (rn_now () - tw) * 1000;
  rn_chg_free (&a.chg);
  free (a.overlay);
  t->status = st;
  t->attempts = rec.attempts;
  rn_taskrec_free (&rec);
  *error = why;
  return st;
}
