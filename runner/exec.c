/* runner/exec.c: one task on one handle.
 *
 *   [build: make a temp image beside the output]
 *   guestfs_create -> add_drive_opts (format given, read-only unless the
 *   job writes) -> launch -> the steps in order -> [read-write: umount_all,
 *   sync] -> close -> [build: rename the temp image to the output]
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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define RESULT_MAX (1u << 20)      /* a result JSON bigger than this is cut */

extern char **environ;

/* A host file to rename into place after the step (FileOut). */
struct pending_file {
  char *tmp, *final;
};

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
};

/* ---- time accounting ---- */

#define LIB(a, expr) ({ double t0_ = rn_now (); __auto_type r_ = (expr); \
                        (a)->lib += rn_now () - t0_; r_; })

static void
record_step (struct attempt *a, int seq, const char *call, char *args,
             char *result, char *error, double ms, int line)
{
  struct rn_taskrec *r = a->rec;
  struct rn_steprec *s;

  r->steps = rn_realloc (r->steps, (r->nsteps + 1) * sizeof *r->steps);
  s = &r->steps[r->nsteps++];
  s->seq = seq;
  s->call = call;
  s->args = args;
  s->result = result;
  s->error = error;
  s->ms = ms;
  s->line = line;
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

/* A temp file beside path (same directory, so rename is atomic). */
static char *
temp_beside (const char *path, int *fd)
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

/* Run argv, its output collected; 0 if it exited 0, else -1 and *err. */
static int
run_command (char *const *argv, char **err)
{
  posix_spawn_file_actions_t fa;
  int p[2], status;
  pid_t pid;
  char out[1024];
  ssize_t n, got = 0;

  if (pipe2 (p, O_CLOEXEC) == -1) {
    *err = rn_asprintf ("pipe: %s", strerror (errno));
    return -1;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 2);
  errno = posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (errno) {
    *err = rn_asprintf ("%s: %s", argv[0], strerror (errno));
    close (p[0]);
    return -1;
  }
  while ((n = read (p[0], out + got, sizeof out - 1 - (size_t) got)) > 0 ||
         (n == -1 && errno == EINTR))
    if (n > 0)
      got += n;
  close (p[0]);
  out[got] = '\0';
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  while (got > 0 && out[got - 1] == '\n')
    out[--got] = '\0';
  *err = rn_asprintf ("%s failed: %s", argv[0], got ? out : "no message");
  return -1;
}

/* Build: an empty image of the job's size and format, at a temp name. */
static int
make_image (struct attempt *a, char **err)
{
  const struct rn_job *j = a->t->job;
  int fd, r = 0;
  double t0 = rn_now ();

  a->tmp_image = temp_beside (a->t->image_path, &fd);
  if (a->tmp_image == NULL) {
    *err = rn_asprintf ("cannot create a file beside %s: %s", a->t->image_path,
                        strerror (errno));
    return -1;
  }
  if (strcmp (j->build_format, "raw") == 0) {
    if (ftruncate (fd, (off_t) j->build_size) == -1) {
      *err = rn_asprintf ("%s: %s", a->tmp_image, strerror (errno));
      r = -1;
    }
    close (fd);
  } else {
    char size[32];
    char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", a->tmp_image, size, NULL };
    close (fd);
    snprintf (size, sizeof size, "%llu", (unsigned long long) j->build_size);
    r = run_command (argv, err);
  }
  a->lib += rn_now () - t0;
  return r;
}

/* ---- steps ---- */

/* A list argument, each item expanded, into list (NULL-terminated). */
static int
list_arg (struct attempt *a, const struct rn_val *v, struct rn_strv *list,
          union rn_argval *out, struct rn_buf *js, char **err)
{
  for (size_t i = 0; i < v->list.n; i++) {
    char *e = rn_tmpl_expand (v->list.v[i], rn_task_lookup, &a->vars, err);
    if (e == NULL)
      return -1;
    rn_strv_add (list, e);
  }
  if (list->v == NULL)
    list->v = rn_calloc (1, sizeof (char *));    /* an empty list */
  rn_json_strv (js, list->v);
  out->sl = list->v;
  return 0;
}

/* An expanded Bool or Int/Int64 argument. */
static int
number_arg (const struct rn_arg *d, const char *s, union rn_argval *out,
            struct rn_buf *js, char **err)
{
  int64_t x;
  int b;

  if (d->type == RN_ARG_BOOL) {
    if ((b = rn_parse_bool (s)) == -1) {
      *err = rn_asprintf ("%s: expected true or false, got '%s'", d->name, s);
      return -1;
    }
    out->i = b;
    rn_buf_adds (js, b ? "true" : "false");
    return 0;
  }
  if (rn_parse_int (s, &x) == -1 ||
      (d->type == RN_ARG_INT && (x < INT32_MIN || x > INT32_MAX))) {
    *err = rn_asprintf ("%s: expected an integer%s, got '%s'", d->name,
                        d->type == RN_ARG_INT ? " (32 bits)" : "", s);
    return -1;
  }
  if (d->type == RN_ARG_INT)
    out->i = (int) x;
  else
    out->i64 = x;
  rn_buf_addf (js, "%lld", (long long) x);
  return 0;
}

/* A FileIn/FileOut argument: a host path relative to the job file.  A
 * FileOut goes to a temp file (pf) renamed into place after the call. */
static int
host_file_arg (struct attempt *a, const struct rn_arg *d, const char *s,
               union rn_argval *out, struct rn_strv *owned, struct pending_file *pf,
               struct rn_buf *js, char **err)
{
  char *p = rn_path_join (a->t->job->dir, s);
  struct stat st;
  int fd;

  rn_strv_add (owned, p);
  rn_json_strz (js, p);
  out->s = p;
  if (d->type == RN_ARG_FILEIN)
    return 0;
  if (!a->t->job->overwrite && lstat (p, &st) == 0) {
    *err = rn_asprintf ("%s: '%s' exists; not replacing it (overwrite: true would)",
                        d->name, p);
    return -1;
  }
  if ((pf->tmp = temp_beside (p, &fd)) == NULL) {
    *err = rn_asprintf ("%s: cannot create a file beside '%s': %s", d->name, p,
                        strerror (errno));
    return -1;
  }
  close (fd);
  pf->final = rn_strdup (p);
  out->s = pf->tmp;
  return 0;
}

static int convert_arg (struct attempt *a, const struct rn_arg *d,
                        const struct rn_val *v, union rn_argval *out,
                        struct rn_strv *owned, struct rn_strv *list,
                        struct pending_file *pf, struct rn_buf *js, char **err);

/* One argument: expanded, converted and added to the JSON of the step's
 * arguments.  -1 and *err if it does not convert. */
static int
one_arg (struct attempt *a, const struct rn_arg *d, const struct rn_val *v,
         union rn_argval *out, struct rn_strv *owned, struct rn_strv *list,
         struct pending_file *pf, struct rn_buf *js, char **err)
{
  struct rn_buf val = { 0 };
  int r = convert_arg (a, d, v, out, owned, list, pf, &val, err);

  /* The step's arguments stay valid JSON whatever failed. */
  rn_json_strz (js, d->name);
  rn_buf_addc (js, ':');
  rn_buf_adds (js, r == 0 && val.s ? val.s : "null");
  rn_buf_free (&val);
  return r;
}

static int
convert_arg (struct attempt *a, const struct rn_arg *d, const struct rn_val *v,
             union rn_argval *out, struct rn_strv *owned, struct rn_strv *list,
             struct pending_file *pf, struct rn_buf *js, char **err)
{
  char *s;

  if (v->kind == RN_V_NULL) {
    out->s = NULL;
    rn_buf_adds (js, "null");
    return 0;
  }
  if (v->kind == RN_V_LIST)
    return list_arg (a, v, list, out, js, err);
  if ((s = rn_tmpl_expand (v->s, rn_task_lookup, &a->vars, err)) == NULL)
    return -1;
  rn_strv_add (owned, s);
  switch (d->type) {
  case RN_ARG_BOOL:
  case RN_ARG_INT:
  case RN_ARG_INT64:
    return number_arg (d, s, out, js, err);
  case RN_ARG_FILEIN:
  case RN_ARG_FILEOUT:
    return host_file_arg (a, d, s, out, owned, pf, js, err);
  default:
    out->s = s;
    rn_json_strz (js, s);
    return 0;
  }
}

/* Save a step's result as a fact: JSON for the database, plain text for
 * later templates (strings without their trailing newlines). */
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

/* Run step number i; 0 if the task goes on, -1 if it stops. */
static int
run_step (struct attempt *a, size_t i, char **why)
{
  const struct rn_step *s = &a->t->job->steps[i];
  const struct rn_call *c = s->call;
  union rn_argval av[16 + 1];
  struct rn_strv owned = { 0 }, lists[16];
  struct pending_file pf = { 0 };
  struct rn_buf js = { 0 };
  struct rn_ret ret;
  char *err = NULL, *result = NULL;
  double t0;
  int r = 0;

  memset (lists, 0, sizeof lists);
  if (c->nargs > 16) {                 /* no call has that many */
    *why = rn_asprintf ("step %zu (%s): too many arguments", i + 1, c->name);
    return -1;
  }
  rn_buf_addc (&js, '{');
  for (int k = 0; k < c->nargs && k < 16 && r == 0; k++) {
    if (k)
      rn_buf_addc (&js, ',');
    r = one_arg (a, &c->args[k], &s->args[k], &av[k], &owned, &lists[k], &pf, &js, &err);
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
  if (pf.tmp) {
    if (r == 0 && put_in_place (pf.tmp, pf.final, a->t->job->overwrite, &err) == -1)
      r = -1;
    else if (r == -1)
      unlink (pf.tmp);
    free (pf.tmp);
    free (pf.final);
  }
  rn_strv_free (&owned);
  for (int k = 0; k < 16; k++)
    rn_strv_free (&lists[k]);
  record_step (a, (int) i + 1, c->name, rn_buf_take (&js), result,
               err ? rn_strdup (err) : NULL, (rn_now () - t0) * 1000, s->line);
  if (r == -1) {
    if (s->on_error_continue && !killed (a) && guestfs_is_ready (a->g) == 1) {
      a->rec->step_errors++;
      if (a->ctx->verbose)
        fprintf (stderr, "%s: run %lld task %d: step %zu (%s, line %d): %s (continuing)\n",
                 rn_progname, (long long) a->t->run_id, a->t->seq, i + 1, c->name,
                 s->line, err);
      free (err);
      return 0;
    }
    *why = rn_asprintf ("step %zu (%s, line %d): %s", i + 1, c->name, s->line, err);
  }
  free (err);
  return r;
}

/* ---- one attempt ---- */

static int
launch (struct attempt *a, char **why)
{
  const struct rn_task *t = a->t;
  const struct rn_job *j = t->job;
  int build = j->kind == RN_JOB_BUILD;
  struct guestfs_add_drive_opts_argv o = {
    .bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK | GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK,
    .format = build ? j->build_format : t->image->format,
    .readonly = build ? 0 : t->image->readonly,
  };
  const char *path = build ? a->tmp_image : t->image_path;
  struct rn_buf js = { 0 };
  double t0 = rn_now ();
  int r;

  rn_buf_adds (&js, "{\"image\":");
  rn_json_strz (&js, t->image_path);
  rn_buf_addf (&js, ",\"format\":\"%s\",\"readonly\":%s}", o.format,
               o.readonly ? "true" : "false");
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

static enum rn_status
steps (struct attempt *a, char **why)
{
  const struct rn_job *j = a->t->job;
  int rw = j->kind == RN_JOB_BUILD || !a->t->image->readonly;

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
  if (rw && finish_writes (a, why) == -1)
    return RN_FAILED;
  return RN_OK;
}

static enum rn_status
attempt_once (struct attempt *a, char **why)
{
  enum rn_status st = RN_FAILED;
  int k;

  if (a->t->job->kind == RN_JOB_BUILD && make_image (a, why) == -1)
    return RN_FAILED;
  a->g = LIB (a, guestfs_create ());
  if (a->g == NULL) {
    *why = rn_strdup ("guestfs_create: out of memory");
    a->retryable = 1;
  } else {
    guestfs_set_error_handler (a->g, NULL, NULL);
    if (a->t->job->memsize)
      guestfs_set_memsize (a->g, a->t->job->memsize);
    if (launch (a, why) == 0) {
      publish_qemu (a, guestfs_get_pid (a->g));
      st = steps (a, why);
    }
    publish_qemu (a, 0);
    LIB (a, (guestfs_close (a->g), 0));
    a->g = NULL;
  }
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
    if (st == RN_OK &&
        put_in_place (a->tmp_image, a->t->image_path, a->t->job->overwrite, why) == -1)
      st = RN_FAILED;
    else if (st != RN_OK)
      unlink (a->tmp_image);
    free (a->tmp_image);
    a->tmp_image = NULL;
  }
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
  struct attempt a;
  double t0 = rn_now (), tw, lib = 0;
  enum rn_status st;
  char *why = NULL;

  rec.worker = slot->worker;
  for (int n = 1;; n++) {
    rn_taskrec_free (&rec);
    rec.worker = slot->worker;
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
  tw = rn_now ();
  rn_db_task_finish (ctx->db, t, &rec);
  *overhead_ms = rec.overhead_ms + (rn_now () - tw) * 1000;
  t->status = st;
  t->attempts = rec.attempts;
  rn_taskrec_free (&rec);
  *error = why;
  return st;
}
