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
 * Output: one line per finished task; on a terminal these scroll above
 * one status line (progress.c: done, ok, failed, running, images/min,
 * ETA, the longest-running task), redrawn in place.  Then a summary line.
 *
 * Prepare ahead: once a worker's task has launched, a thread restores
 * the appliance for that worker's next task (prepare_launch: no drives),
 * so the next task only attaches its image and resumes.  The spare is
 * taken by the next task when its job's memsize and network match, else
 * closed; it is never used for a second image.  GUESTKIT_PREPARE_AHEAD=1
 * turns this on (off by default); a worker that ends (run done, or
 * stopped) closes its spare.
 *
 * Workers: when neither the command line nor the job sets them,
 * rn_choose_workers takes the CPUs this process may use and the memory
 * it may fill (MemAvailable, a cgroup's memory.max), as README.md says.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "runner.h"


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
  double *began;             /* per worker: when its task started */
  int tty, quiet;
  double start;
  double overhead_ms;        /* sum over finished tasks */
  struct rn_live live;       /* the status line (progress.c) */
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

/* ---- how many workers: CPUs and memory (rule in runner/README.md) ---- */

static double cgroup_limit (const char *file2, const char *ctl, const char *file1, int cpu);

/* CPUs this process may run on: its affinity mask, lowered by a cgroup
 * v2 cpu.max quota; *src says which. */
static long
usable_cpus (const char **src)
{
  cpu_set_t set;
  long n = -1;
  double q;
  const char *fake = getenv ("GUESTKIT_TEST_CPUS");

  if (fake && *fake) {
    *src = "GUESTKIT_TEST_CPUS";
    return atol (fake);
  }
  *src = "sched_getaffinity";
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    n = CPU_COUNT (&set);
  if (n <= 0) {
    n = sysconf (_SC_NPROCESSORS_ONLN);
    *src = "online CPUs";
  }
  if ((q = cgroup_limit ("cpu.max", "cpu", NULL, 1)) > 0 && (long) (q + 0.999) < n) {
    n = (long) (q + 0.999);       /* 1.5 CPUs of quota: 2 appliances */
    *src = "cgroup cpu.max";
  }
  return n > 0 ? n : 1;
}

/* Our cgroup's path in hierarchy "0" (v2) or in the v1 hierarchy whose
 * controllers include ctl, from /proc/self/cgroup; caller frees. */
static char *
cgroup_path (const char *ctl)
{
  char line[4096], *r = NULL;
  FILE *f = fopen ("/proc/self/cgroup", "re");

  while (r == NULL && f && fgets (line, sizeof line, f)) {
    char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    line[strcspn (line, "\n")] = '\0';
    *c2 = '\0';
    if (ctl ? strstr (c1 + 1, ctl) != NULL : strcmp (line, "0") == 0 && c1[1] == '\0')
      r = rn_strdup (c2 + 1);
  }
  if (f)
    fclose (f);
  return r ? r : rn_strdup ("/");
}

/* The smallest limit in FILE from our cgroup up to ROOT (a limit is
 * inherited: the tightest one holds).  cpu: FILE is "QUOTA PERIOD" and
 * the value is QUOTA/PERIOD.  Values of 2^60 and more mean no limit.
 * Returns -1 if none. */
static double
cgroup_min (const char *root, const char *rel, const char *file, int cpu)
{
  char *path = rn_asprintf ("%s%s", root, strcmp (rel, "/") == 0 ? "" : rel), *slash;
  double best = -1;

  for (;;) {
    char *fp = rn_asprintf ("%s/%s", path, file), buf[128] = "";
    FILE *g = fopen (fp, "re");
    long long v, period;
    if (g && fgets (buf, sizeof buf, g)) {
      double val = -1;
      if (cpu ? sscanf (buf, "%lld %lld", &v, &period) == 2 && period > 0 && v > 0
              : sscanf (buf, "%lld", &v) == 1 && v > 0 && v < (1LL << 60))
        val = cpu ? (double) v / (double) period : (double) v;
      if (val > 0 && (best < 0 || val < best))
        best = val;
    }
    if (g)
      fclose (g);
    free (fp);
    if (strcmp (path, root) == 0 || (slash = strrchr (path, '/')) == NULL ||
        slash - path < (ptrdiff_t) strlen (root))
      break;
    *slash = '\0';
  }
  free (path);
  return best;
}

/* A cgroup limit: v2 FILE2 (under /sys/fs/cgroup or its unified mount),
 * else v1 FILE1 of controller ctl.  -1 if none. */
static double
cgroup_limit (const char *file2, const char *ctl, const char *file1, int cpu)
{
  char *rel = cgroup_path (NULL), *root1;
  double v = cgroup_min ("/sys/fs/cgroup", rel, file2, cpu);

  if (v < 0)
    v = cgroup_min ("/sys/fs/cgroup/unified", rel, file2, cpu);
  free (rel);
  if (v < 0 && file1) {
    rel = cgroup_path (ctl);
    root1 = rn_asprintf ("/sys/fs/cgroup/%s", ctl);
    v = cgroup_min (root1, rel, file1, cpu);
    free (root1);
    free (rel);
  }
  return v;
}

/* MiB of memory the appliances may use: MemAvailable, lowered by the
 * cgroup's memory.max minus memory.current; *src says which. */
static long
available_mib (const char **src)
{
  long avail_kb = -1, mib;
  FILE *f;
  char line[256];
  double lim;
  const char *fake = getenv ("GUESTKIT_TEST_MEMAVAIL");

  if (fake && *fake) {
    *src = "GUESTKIT_TEST_MEMAVAIL";
    return atol (fake);
  }
  f = fopen ("/proc/meminfo", "re");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "MemAvailable: %ld kB", &avail_kb) == 1)
      break;
  if (f)
    fclose (f);
  *src = "MemAvailable";
  mib = avail_kb > 0 ? avail_kb / 1024 : -1;
  if ((lim = cgroup_limit ("memory.max", "memory", "memory.limit_in_bytes", 0)) > 0) {
    double used = cgroup_limit ("memory.current", "memory", "memory.usage_in_bytes", 0);
    long room = (long) ((lim - (used > 0 ? used : 0)) / (1024 * 1024));
    if (room < 0)
      room = 0;
    if (mib < 0 || room < mib) {
      mib = room;
      *src = "cgroup memory limit minus its use";
    }
  }
  return mib;
}

int
rn_choose_workers (int memsize, char *why, size_t size)
{
  const char *csrc, *msrc, *psrc;
  char measured[48];
  long cpus = usable_cpus (&csrc), mem = available_mib (&msrc), per;
  long w = cpus, fit = -1;
  const char *e = getenv ("GUESTKIT_APPLIANCE_MIB"), *lm = getenv ("LIBGUESTFS_MEMSIZE");

  snprintf (measured, sizeof measured, "guest RAM + %d measured", RN_APPLIANCE_OVER_MIB);
  psrc = measured;
  if (memsize <= 0)
    memsize = lm && atoi (lm) >= 128 ? atoi (lm) : RN_DEFAULT_MEMSIZE_MIB;
  per = memsize + RN_APPLIANCE_OVER_MIB;
  if (e && atol (e) > 0) {
    per = atol (e);
    psrc = "GUESTKIT_APPLIANCE_MIB";
  }
  if (mem >= 0) {
    fit = (mem - RN_HOST_RESERVE_MIB) / per;
    if (fit < w)
      w = fit;
  }
  if (w < 1)
    w = 1;
  if (w > 256)
    w = 256;
  if (why) {
    char m[96] = "memory not known", r[32] = "no limit";
    if (mem >= 0) {
      snprintf (m, sizeof m, "%ld MiB available (%s)", mem, msrc);
      snprintf (r, sizeof r, "room for %ld", fit < 0 ? 0 : fit);
    }
    snprintf (why, size, "%ld CPU%s (%s), one appliance each; %s; %ld MiB per appliance "
              "(%s) after %d MiB for the host: %s; so %ld, limited by %s",
              cpus, cpus == 1 ? "" : "s", csrc, m, per, psrc, RN_HOST_RESERVE_MIB, r, w,
              fit >= 0 && fit < cpus ? "memory" : "CPUs");
  }
  return (int) w;
}

int
rn_default_workers (void)
{
  return rn_choose_workers (0, NULL, 0);
}

/* ---- output (called with the lock held) ---- */

/* The status line: counts of this invocation (a resumed run counts the
 * tasks it runs again), rate since it started, the longest-running task. */
static void
progress (struct pool *p, int force)
{
  struct rn_progress pr = { .total = p->todo, .ok = p->done, .failed = p->failed,
                            .running = p->running };
  double now = rn_now (), el = now - p->start;
  char line[512];
  int slow = -1;

  if (!p->tty || p->quiet)
    return;
  if (el > 0 && p->done + p->failed > 0)
    pr.rate = (double) (p->done + p->failed) / el * 60;
  for (int w = 0; w < p->nworkers; w++)
    if (p->current[w] && (slow < 0 || p->began[w] < p->began[slow]))
      slow = w;
  if (slow >= 0) {
    rn_progress_task_name (pr.slowest, sizeof pr.slowest, p->current[slow]->image_path,
                           p->current[slow]->inst->name);
    pr.slowest_secs = now - p->began[slow];
  }
  rn_progress_format (line, sizeof line, &pr, rn_term_cols (1));
  rn_live_draw (&p->live, line, force);
}

static void
task_line (struct pool *p, const struct rn_task *t, enum rn_status st, double secs,
           const char *error)
{
  char d[32];

  if (p->quiet && st == RN_OK)
    return;
  rn_live_clear (&p->live);  /* the line scrolls up; the status line follows */
  rn_fmt_secs (d, secs);
  printf ("%-11s run %lld task %d/%d  %s%s%s%s  %s%s%s\n", rn_status_name (st),
          (long long) t->run_id, t->seq, t->ntasks, t->image_path,
          *t->inst->name ? " [" : "", t->inst->name, *t->inst->name ? "]" : "",
          d, error ? ": " : "", error ? error : "");
  fflush (stdout);
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

/* ---- prepare ahead: the next task's appliance restored meanwhile ---- */

static int
prepare_ahead_on (void)
{
  const char *v = getenv ("GUESTKIT_PREPARE_AHEAD");

  return v && strcmp (v, "1") == 0;      /* off by default: see README.md */
}

static guestfs_h *
new_handle (int memsize, int network)
{
  guestfs_h *g = guestfs_create ();

  if (g == NULL)
    return NULL;
  guestfs_set_error_handler (g, NULL, NULL);
  if (memsize)
    guestfs_set_memsize (g, memsize);
  if (network)
    guestfs_set_network (g, 1);
  return g;
}

/* The spare thread: a handle with the slot's spare settings, prepared
 * (a prepare that cannot restore is a no-op: launch then boots). */
static void *
prepare_spare (void *arg)
{
  struct rn_slot *s = arg;
  guestfs_h *g = new_handle (s->spare_memsize, s->spare_network);

  if (g && guestfs_prepare_launch (g) == -1) {
    guestfs_close (g);
    g = NULL;
  }
  s->spare = g;              /* read only after the join */
  return NULL;
}

static void
spare_join (struct rn_slot *s)
{
  if (s->spare_busy)
    pthread_join (s->spare_thread, NULL);
  s->spare_busy = 0;
}

/* End of the worker (a run done or stopped): no spare is left running. */
static void
spare_close (struct rn_slot *s)
{
  spare_join (s);
  if (s->spare)
    guestfs_close (s->spare);   /* kills and reaps its qemu */
  s->spare = NULL;
}

/* Is a task still waiting that no worker has taken? */
static int
pending_left (struct pool *p)
{
  int r = 0;

  pthread_mutex_lock (&p->lock);
  for (size_t i = p->first; i < p->n && !r; i++)
    r = !p->taken[i] && p->v[i].status == RN_PENDING;
  pthread_mutex_unlock (&p->lock);
  return r;
}

guestfs_h *
rn_slot_handle (struct rn_slot *s, const struct rn_task *t)
{
  const struct rn_job *j = t->job;
  struct pool *p = s->pool;
  guestfs_h *g = NULL;

  spare_join (s);
  if (s->spare && s->spare_memsize == j->memsize && s->spare_network == !!j->network) {
    g = s->spare;
    s->spare = NULL;
    if (p->ctx.verbose)
      fprintf (stderr, "%s: worker %d: task %d starts on an appliance "
               "prepared ahead (qemu %d)\n", rn_progname, s->worker, t->seq,
               guestfs_get_pid (g));
  }
  spare_close (s);             /* made for other settings: never reused */
  return g ? g : new_handle (j->memsize, j->network);
}

void
rn_slot_launched (struct rn_slot *s, const struct rn_task *t)
{
  struct pool *p = s->pool;

  if (!prepare_ahead_on () || s->spare_busy || s->spare ||
      rn_stopping (&p->ctx) || !pending_left (p))
    return;
  s->spare_memsize = t->job->memsize;
  s->spare_network = !!t->job->network;
  s->spare_busy = pthread_create (&s->spare_thread, NULL, prepare_spare, s) == 0;
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
    p->began[w] = rn_now ();
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
    progress (p, 1);
    pthread_cond_broadcast (&p->changed);
  }
  pthread_mutex_unlock (&p->lock);
  spare_close (slot);
  pthread_mutex_lock (&p->lock);
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
    progress (p, 0);
    pthread_mutex_unlock (&p->lock);
    int sig = __atomic_load_n (&got_signal, __ATOMIC_ACQUIRE);
    if (sig && !*stop) {
      __atomic_store_n (stop, 1, __ATOMIC_RELEASE);   /* only this thread writes it */
      pthread_mutex_lock (&p->lock);
      rn_live_clear (&p->live);
      printf ("%s: %s: stopping; running tasks are recorded as interrupted\n",
              rn_progname, strsignal (sig));
      fflush (stdout);
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
  rn_live_clear (&p->live);
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
  p.began = rn_calloc ((size_t) p.nworkers, sizeof *p.began);
  p.live.f = stdout;
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
  free (p.began);
  free (p.taken);
  return p.failed || p.done < p.todo ? RN_EXIT_FAILED : RN_EXIT_OK;
}
