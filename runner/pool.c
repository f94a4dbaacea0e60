/* runner/pool.c: the worker pool.
 *
 * N worker threads take pending tasks in order and run each with
 * rn_task_run (one handle and one fresh appliance per task).  Two tasks
 * that write the same image never run at once.  The main thread is the
 * watchdog: every 100 ms it kills (SIGKILL through the qemu pidfd the
 * worker published: never a recycled pid) any appliance whose task passed
 * its deadline, reacts to
 * SIGINT/SIGTERM by killing every appliance so running tasks end as
 * 'interrupted' and no new task starts, and redraws the progress line.
 *
 * Signals: the handler only stores the signal number (an atomic store,
 * async-signal-safe) and wakes the watchdog through a pipe; the
 * watchdog sets the run's stop flag, which workers read atomically
 * (rn_stopping).  Both were plain volatile accesses from several
 * threads, data races that ThreadSanitizer reported at random on
 * SIGINT/SIGTERM (exit 66 in tests/runner-resume.sh).
 *
 * Output: on a terminal, one progress line (done/failed/total, elapsed,
 * ETA) with failures printed above it; otherwise one plain line per
 * finished task.  Then a summary line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "runner.h"

#define APPLIANCE_MIB 350          /* qemu RSS of one appliance, measured */

struct pool {
  struct rn_task *v;
  size_t n;
  char *taken;               /* per task: a worker has it */
  size_t first;              /* tasks before this one are all taken */
  size_t todo, done, failed, running;
  pthread_mutex_t lock;      /* everything above, and the output */
  pthread_cond_t changed;
  struct rn_slot *slots;
  const struct rn_task **current;   /* per worker: its task or NULL */
  int nworkers, finished_workers;
  struct rn_runctx ctx;
  int tty, quiet;
  double start;
  double overhead_ms;        /* sum over finished tasks */
  int drawn;                 /* a progress line is on the screen */
};

static int got_signal;       /* the signal caught, 0 if none: atomic */
static int wake_pipe[2] = { -1, -1 };

static void
on_signal (int sig)
{
  int e = errno;
  __atomic_store_n (&got_signal, sig, __ATOMIC_RELEASE);
  if (wake_pipe[1] >= 0 && write (wake_pipe[1], "x", 1) == -1) {
    /* nothing to do: the main loop polls anyway */
  }
  errno = e;
}

int
rn_default_workers (void)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  long avail_kb = -1, w;
  FILE *f = fopen ("/proc/meminfo", "re");
  char line[256];

  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "MemAvailable: %ld kB", &avail_kb) == 1)
      break;
  if (f)
    fclose (f);
  w = cpus > 0 ? cpus : 1;
  if (avail_kb > 0 && (avail_kb / 1024 - 256) / APPLIANCE_MIB < w)
    w = (avail_kb / 1024 - 256) / APPLIANCE_MIB;
  return w < 1 ? 1 : w > 256 ? 256 : (int) w;
}

/* ---- output (called with the lock held) ---- */

static void
progress (struct pool *p)
{
  double el = rn_now () - p->start;
  char e[32], eta[32] = "?";
  size_t fin = p->done + p->failed;

  if (!p->tty || p->quiet)
    return;
  rn_fmt_secs (e, el);
  if (fin > 0 && fin < p->todo)
    rn_fmt_secs (eta, el / (double) fin * (double) (p->todo - fin));
  else if (fin == p->todo)
    strcpy (eta, "0s");
  printf ("\r\033[K%zu/%zu done, %zu failed, %zu running | %s elapsed, ETA %s",
          fin, p->todo, p->failed, p->running, e, eta);
  fflush (stdout);
  p->drawn = 1;
}

static void
task_line (struct pool *p, const struct rn_task *t, enum rn_status st, double secs,
           const char *error)
{
  char d[32];

  if (p->quiet && st == RN_OK)
    return;
  if (p->tty && st == RN_OK)
    return;                  /* the progress line counts it */
  if (p->drawn)
    printf ("\r\033[K");
  rn_fmt_secs (d, secs);
  printf ("%-11s run %lld task %d/%d  %s%s%s%s  %s%s%s\n", rn_status_name (st),
          (long long) t->run_id, t->seq, t->ntasks, t->image_path,
          *t->inst->name ? " [" : "", t->inst->name, *t->inst->name ? "]" : "",
          d, error ? ": " : "", error ? error : "");
  fflush (stdout);
  p->drawn = 0;
}

/* ---- workers ---- */

static int
writes (const struct rn_task *t)
{
  return t->job->kind == RN_JOB_BUILD || !t->image->readonly;
}

/* Does t share an image with a running task, one of the two writing? */
static int
conflicts (struct pool *p, const struct rn_task *t)
{
  for (int w = 0; w < p->nworkers; w++) {
    const struct rn_task *c = p->current[w];
    if (c && (writes (c) || writes (t)) && strcmp (c->image_path, t->image_path) == 0)
      return 1;
  }
  return 0;
}

/* The next task this worker may start, or NULL (*none: nothing is left). */
static struct rn_task *
next_task (struct pool *p, int *none)
{
  *none = 1;
  while (p->first < p->n && (p->taken[p->first] || p->v[p->first].status != RN_PENDING))
    p->first++;
  for (size_t i = p->first; i < p->n; i++) {
    if (p->taken[i] || p->v[i].status != RN_PENDING)
      continue;
    *none = 0;
    if (!conflicts (p, &p->v[i])) {
      p->taken[i] = 1;
      return &p->v[i];
    }
  }
  return NULL;
}

static void *
worker (void *arg)
{
  struct rn_slot *slot = arg;
  struct pool *p = (struct pool *) slot->pool;
  int w = slot->worker - 1;

  pthread_mutex_lock (&p->lock);
  while (!rn_stopping (&p->ctx)) {
    int none;
    struct rn_task *t = next_task (p, &none);
    enum rn_status st;
    double t0, ovh = 0;
    char *error = NULL;
    if (t == NULL) {
      if (none)
        break;
      pthread_cond_wait (&p->changed, &p->lock);
      continue;
    }
    p->current[w] = t;
    p->running++;
    pthread_mutex_unlock (&p->lock);
    t0 = rn_now ();
    st = rn_task_run (&p->ctx, slot, t, &ovh, &error);
    pthread_mutex_lock (&p->lock);
    p->current[w] = NULL;
    p->running--;
    if (st == RN_OK)
      p->done++;
    else
      p->failed++;
    p->overhead_ms += ovh;
    task_line (p, t, st, rn_now () - t0, error);
    free (error);
    progress (p);
    pthread_cond_broadcast (&p->changed);
  }
  p->finished_workers++;
  pthread_cond_broadcast (&p->changed);
  pthread_mutex_unlock (&p->lock);
  return NULL;
}

/* ---- the watchdog (main thread) ---- */

static void
kill_slot (struct rn_slot *s, int why, double now)
{
  pthread_mutex_lock (&s->lock);
  if (why == RN_TIMEOUT && !(s->deadline > 0 && now > s->deadline)) {
    pthread_mutex_unlock (&s->lock);
    return;
  }
  if (s->pidfd >= 0 && s->killed == 0) {
    s->killed = why;
    pidfd_send_signal (s->pidfd, SIGKILL, NULL, 0);   /* ESRCH once reaped */
  } else if (s->killed == 0 && why == RN_INTERRUPTED)
    s->killed = why;         /* launching: it stops before the first step */
  pthread_mutex_unlock (&s->lock);
}

static void
watch (struct pool *p, int *stop)
{
  struct pollfd pf = { .fd = wake_pipe[0], .events = POLLIN };
  char buf[64];

  for (;;) {
    double now = rn_now ();
    pthread_mutex_lock (&p->lock);
    if (p->finished_workers == p->nworkers) {
      pthread_mutex_unlock (&p->lock);
      return;
    }
    progress (p);
    pthread_mutex_unlock (&p->lock);
    int sig = __atomic_load_n (&got_signal, __ATOMIC_ACQUIRE);
    if (sig && !*stop) {
      __atomic_store_n (stop, 1, __ATOMIC_RELEASE);   /* only this thread writes it */
      pthread_mutex_lock (&p->lock);
      if (p->drawn)
        printf ("\r\033[K");
      printf ("%s: %s: stopping; running tasks are recorded as interrupted\n",
              rn_progname, strsignal (sig));
      fflush (stdout);
      p->drawn = 0;
      pthread_cond_broadcast (&p->changed);
      pthread_mutex_unlock (&p->lock);
    }
    for (int w = 0; w < p->nworkers; w++) {
      struct rn_slot *s = &p->slots[w];
      kill_slot (s, *stop ? RN_INTERRUPTED : RN_TIMEOUT, now);
    }
    if (poll (&pf, 1, 100) > 0 && read (wake_pipe[0], buf, sizeof buf) < 0) {
      /* drained or interrupted: either way, look again */
    }
  }
}

static void
signals_catch (void)
{
  struct sigaction sa;

  if (wake_pipe[0] == -1 && pipe2 (wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1)
    wake_pipe[0] = wake_pipe[1] = -1;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction (SIGPIPE, &sa, NULL);
}

static void
summary (struct pool *p, int workers)
{
  char e[32];
  size_t n = p->done + p->failed;

  rn_fmt_secs (e, rn_now () - p->start);
  if (p->drawn)
    printf ("\r\033[K");
  printf ("%zu task%s: %zu ok, %zu not ok, %zu not started, in %s with %d worker%s"
          "; runner overhead %.1f ms/task\n", p->todo, p->todo == 1 ? "" : "s",
          p->done, p->failed, p->todo - n, e, workers, workers == 1 ? "" : "s",
          n ? p->overhead_ms / (double) n : 0.0);
  fflush (stdout);
}

int
rn_pool_run (struct rn_db *db, struct rn_task *v, size_t n,
             const struct rn_pool_opts *o, int *interrupted)
{
  static int stop;
  struct pool p = { .v = v, .n = n };
  pthread_t *th;

  for (size_t i = 0; i < n; i++)
    p.todo += v[i].status == RN_PENDING;
  p.nworkers = o->workers > 0 ? o->workers : rn_default_workers ();
  if ((size_t) p.nworkers > p.todo)
    p.nworkers = p.todo > 0 ? (int) p.todo : 1;
  p.taken = rn_calloc (n + 1, 1);
  p.slots = rn_calloc ((size_t) p.nworkers, sizeof *p.slots);
  p.current = rn_calloc ((size_t) p.nworkers, sizeof *p.current);
  th = rn_calloc ((size_t) p.nworkers, sizeof *th);
  pthread_mutex_init (&p.lock, NULL);
  pthread_cond_init (&p.changed, NULL);
  p.ctx.db = db;
  p.ctx.stop = &stop;
  p.ctx.verbose = o->verbose;
  p.tty = isatty (1);
  p.quiet = o->quiet;
  p.start = rn_now ();
  signals_catch ();
  for (int w = 0; w < p.nworkers; w++) {
    pthread_mutex_init (&p.slots[w].lock, NULL);
    p.slots[w].pidfd = -1;
    p.slots[w].worker = w + 1;
    p.slots[w].pool = &p;
    if (pthread_create (&th[w], NULL, worker, &p.slots[w]) != 0) {
      fprintf (stderr, "%s: cannot start worker threads\n", rn_progname);
      abort ();
    }
  }
  watch (&p, &stop);
  for (int w = 0; w < p.nworkers; w++)
    pthread_join (th[w], NULL);
  summary (&p, p.nworkers);
  *interrupted = stop;
  for (int w = 0; w < p.nworkers; w++)
    pthread_mutex_destroy (&p.slots[w].lock);
  free (th);
  free (p.slots);
  free (p.current);
  free (p.taken);
  return p.failed || p.done < p.todo ? RN_EXIT_FAILED : RN_EXIT_OK;
}
