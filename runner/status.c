/* runner/status.c: `guestkit status --watch': the status line of a run
 * that another process (or a shard on this machine) is running, read from
 * the results database every --interval seconds, with each task that
 * ends printed above it, as `guestkit run' does on a terminal.  Without
 * --watch, `guestkit status' is report.c's table.
 *
 * Everything comes from the tasks table: a task is 'running' with its
 * `started' from when a worker takes it, and gets its final state and
 * `finished' when it ends.  The rate is the tasks finished over the last
 * ten minutes (or since the earliest of them started, if later), so a
 * resumed run is not slowed by the hours it lay stopped; the ETA is the
 * tasks left at that rate.  A finished run is measured up to its last
 * task's end, not up to now.
 *
 * Off a terminal, one plain line each time the counts change, and one
 * every 30 s while they do not.  The watch ends when the run does (or
 * when its process is found gone, on this host); exit status 0 for a run
 * done with every task ok, 1 for any other end, 130 on SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define RATE_WINDOW 600.0    /* seconds of history the rate is taken over */

static volatile sig_atomic_t stop_sig;

static void
on_sigint (int sig)
{
  stop_sig = sig;
}

static void
watch_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit status [--db FILE] [--format FORMAT] [RUN]\n"
"       guestkit status --watch [--interval SECS] [--db FILE] [RUN]\n"
"\n"
"List the runs (the latest 20) with their tasks counted by state; with RUN,\n"
"that run's tasks that are not finished ok.  A run whose process is gone\n"
"without ending it shows as 'killed': resume it with guestkit run --resume RUN.\n"
"\n"
"With --watch, follow RUN (default: the latest run still running, else the\n"
"latest) as guestkit run shows it: each task that ends, and one status line\n"
"(done, ok, failed, running, images/min, ETA, the task running longest),\n"
"until the run ends.\n"
"\n"
"  --db FILE          results database (default ./guestkit.db)\n"
"  --format FORMAT    table (default), json or csv (not with --watch)\n"
"  -w, --watch        follow the run until it ends\n"
"  --interval SECS    between two reads of the database (default 1)\n"
"  -h, --help         this text\n");
}

/* ---- one read of the database ---- */

struct trow {
  int seq;
  char status[16];
  double ago_start, ago_end;   /* seconds before now; < 0: NULL */
  double ms;
  char *image, *instance, *error;
};

struct snap {
  char status[16];           /* the run's */
  int ntasks;
  long pid;
  char host[256];
  struct trow *t;
  size_t n, cap;
};

static int
run_row (void *ctx, int nc, char **c, char **names)
{
  struct snap *s = ctx;

  (void) names;
  if (nc < 4)
    return 1;
  snprintf (s->status, sizeof s->status, "%s", c[0] ? c[0] : "");
  s->ntasks = c[1] ? atoi (c[1]) : 0;
  s->pid = c[2] ? atol (c[2]) : 0;
  snprintf (s->host, sizeof s->host, "%s", c[3] ? c[3] : "");
  return 0;
}

static int
task_row (void *ctx, int nc, char **c, char **names)
{
  struct snap *s = ctx;
  struct trow *r;

  (void) names;
  if (nc < 8)
    return 1;
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 64;
    s->t = rn_realloc (s->t, s->cap * sizeof *s->t);
  }
  r = &s->t[s->n++];
  memset (r, 0, sizeof *r);
  r->seq = atoi (c[0]);
  snprintf (r->status, sizeof r->status, "%s", c[1] ? c[1] : "");
  r->ago_start = c[2] ? atof (c[2]) : -1;
  r->ago_end = c[3] ? atof (c[3]) : -1;
  r->ms = c[4] ? atof (c[4]) : 0;
  r->image = rn_strdup (c[5] ? c[5] : "");
  r->instance = rn_strdup (c[6] ? c[6] : "");
  r->error = c[7] ? rn_strdup (c[7]) : NULL;
  return 0;
}

static void
snap_free (struct snap *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free (s->t[i].image);
    free (s->t[i].instance);
    free (s->t[i].error);
  }
  free (s->t);
  memset (s, 0, sizeof *s);
}

static int
snap_read (struct rn_db *db, const char *run, struct snap *s, char **err)
{
  const char *p[1] = { run };

  memset (s, 0, sizeof *s);
  if (rn_db_query (db, "SELECT status, ntasks, pid, host FROM runs WHERE id = ?1",
                   p, 1, run_row, s, err) == -1)
    return -1;
  if (s->status[0] == '\0') {
    *err = rn_asprintf ("no run %s in the database", run);
    return -1;
  }
  return rn_db_query (db,
      "SELECT seq, status, "
      "(julianday('now') - julianday(started)) * 86400, "
      "(julianday('now') - julianday(finished)) * 86400, "
      "duration_ms, image, instance, error FROM tasks WHERE run_id = ?1 ORDER BY seq",
      p, 1, task_row, s, err);
}

static int
finished (const struct trow *r)
{
  return strcmp (r->status, "pending") != 0 && strcmp (r->status, "running") != 0;
}

/* Is the run over: ended, or its process gone (this host only)? */
static int
run_over (const struct snap *s, int *killed)
{
  char host[256] = "";

  *killed = 0;
  if (strcmp (s->status, "running") != 0)
    return 1;
  if (gethostname (host, sizeof host - 1) == 0 && strcmp (host, s->host) == 0 &&
      s->pid > 0 && kill ((pid_t) s->pid, 0) == -1 && errno == ESRCH) {
    *killed = 1;
    return 1;
  }
  return 0;
}

static void
snap_progress (const struct snap *s, struct rn_progress *pr)
{
  double ref = -1, span = 0, slow = -1;
  size_t nwin = 0, slowi = 0;
  int over = strcmp (s->status, "running") != 0;

  memset (pr, 0, sizeof *pr);
  pr->total = (size_t) s->ntasks;
  for (size_t i = 0; i < s->n; i++) {
    const struct trow *r = &s->t[i];
    if (strcmp (r->status, "ok") == 0)
      pr->ok++;
    else if (finished (r))
      pr->failed++;
    else if (strcmp (r->status, "running") == 0) {
      pr->running++;
      if (r->ago_start > slow) {
        slow = r->ago_start;
        slowi = i;
      }
    }
    if (over && finished (r) && r->ago_end >= 0 && (ref < 0 || r->ago_end < ref))
      ref = r->ago_end;      /* a run that ended: up to its last task's end */
  }
  if (ref < 0)
    ref = 0;
  for (size_t i = 0; i < s->n; i++) {
    const struct trow *r = &s->t[i];
    int in = strcmp (r->status, "running") == 0 && !over;
    if (finished (r) && r->ago_end >= 0 && r->ago_end - ref <= RATE_WINDOW) {
      in = 1;
      nwin++;
    }
    if (in && r->ago_start - ref > span)
      span = r->ago_start - ref;
  }
  if (span > RATE_WINDOW)
    span = RATE_WINDOW;
  if (nwin > 0 && span > 0)
    pr->rate = (double) nwin / span * 60;
  if (slow >= 0 && !over) {
    rn_progress_task_name (pr->slowest, sizeof pr->slowest, s->t[slowi].image,
                           s->t[slowi].instance);
    pr->slowest_secs = slow;
  }
}

/* ---- the watch ---- */

static char *
pick_run (struct rn_db *db, char **err)
{
  struct rn_rows r = { 0 };
  char *id = NULL;

  r.kinds = "n";
  if (rn_db_query (db, "SELECT coalesce((SELECT max(id) FROM runs WHERE status = 'running'), "
                   "(SELECT max(id) FROM runs))", NULL, 0, rn_rows_collect, &r, err) == -1)
    return NULL;
  if (r.nrows == 1 && strcmp (r.cells.v[0], RN_NULLCELL) != 0)
    id = rn_strdup (r.cells.v[0]);
  else
    *err = rn_strdup ("no run in the database");
  rn_rows_free (&r);
  return id;
}

static void
task_line (struct rn_live *l, const char *run, int ntasks, const struct trow *r)
{
  char d[32];
  char *img = rn_term_clean (r->image), *inst = rn_term_clean (r->instance);
  char *e = r->error ? rn_term_clean (r->error) : NULL;

  rn_live_clear (l);
  rn_fmt_secs (d, r->ms / 1000);
  printf ("%-11s run %s task %d/%d  %s%s%s%s  %s%s%s\n", r->status, run, r->seq, ntasks,
          img, *inst ? " [" : "", inst, *inst ? "]" : "", d, e ? ": " : "", e ? e : "");
  fflush (stdout);
  free (img), free (inst), free (e);
}

static int
watch (struct rn_db *db, const char *run, double interval)
{
  int tty = isatty (1), first = 1, killed = 0, rc = RN_EXIT_FAILED;
  char *seen = NULL, line[512], last[512] = "";
  size_t nseen = 0;
  double last_print = 0;
  struct rn_live live = { .f = stdout };
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  for (;;) {
    struct snap s;
    struct rn_progress pr;
    char *err = NULL;
    int over;

    if (snap_read (db, run, &s, &err) == -1) {
      rn_live_clear (&live);
      fprintf (stderr, "%s: status: %s\n", rn_progname, err);
      free (err);
      snap_free (&s);
      break;
    }
    over = run_over (&s, &killed);
    for (size_t i = 0; i < s.n; i++) {
      const struct trow *r = &s.t[i];
      size_t k = (size_t) r->seq;
      if (k >= nseen) {
        seen = rn_realloc (seen, k + 1);
        memset (seen + nseen, 0, k + 1 - nseen);
        nseen = k + 1;
      }
      if (!finished (r))
        seen[k] = 0;         /* rerun by a resume: report it again */
      else if (!seen[k]) {
        seen[k] = 1;
        if (!first)          /* those that ended before the watch: counted only */
          task_line (&live, run, s.ntasks, r);
      }
    }
    snap_progress (&s, &pr);
    rn_progress_format (line, sizeof line, &pr, tty ? rn_term_cols (1) : 400);
    if (tty)
      rn_live_draw (&live, line, 1);
    else {
      /* the counts, without the times that change at every read */
      char counts[128];
      snprintf (counts, sizeof counts, "%zu %zu %zu", pr.ok, pr.failed, pr.running);
      if (strcmp (counts, last) != 0 || rn_now () - last_print >= 30 || over) {
        printf ("%s\n", line);
        fflush (stdout);
        snprintf (last, sizeof last, "%s", counts);
        last_print = rn_now ();
      }
    }
    first = 0;
    if (over) {
      rn_live_clear (&live);
      if (tty)
        printf ("%s\n", line);
      printf ("run %s: %s%s\n", run, killed ? "killed" : s.status,
              killed ? " (its process is gone: guestkit run --resume resumes it)" : "");
      fflush (stdout);
      rc = strcmp (s.status, "done") == 0 && pr.ok == pr.total && !killed
           ? RN_EXIT_OK : RN_EXIT_FAILED;
      snap_free (&s);
      break;
    }
    snap_free (&s);
    poll (NULL, 0, (int) (interval * 1000));
    if (stop_sig) {
      rn_live_clear (&live);
      rc = 130;
      break;
    }
  }
  free (seen);
  return rc;
}

int
rn_cmd_status_main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' }, { "format", required_argument, NULL, 'o' },
    { "watch", no_argument, NULL, 'w' }, { "interval", required_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  const char *dbpath = "guestkit.db";
  char *run = NULL, *err = NULL, *end;
  int c, want = 0, rc;
  double interval = 1;
  struct rn_db *db;
  int64_t x;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--watch") == 0 || strcmp (argv[i], "-w") == 0 ||
        strncmp (argv[i], "--interval", 10) == 0 || strcmp (argv[i], "--help") == 0 ||
        strcmp (argv[i], "-h") == 0)
      want = 1;
    else if (strcmp (argv[i], "--") == 0)
      break;
  if (!want)
    return rn_cmd_status (argc, argv);
  optind = 1;
  want = 0;
  while ((c = getopt_long (argc, argv, "hw", opts, NULL)) != -1)
    switch (c) {
    case 'd': dbpath = optarg; break;
    case 'w': want = 1; break;
    case 'i':
      errno = 0;
      interval = strtod (optarg, &end);
      if (errno || end == optarg || *end || !(interval >= 0.1 && interval <= 3600)) {
        fprintf (stderr, "%s: status: --interval: expected seconds from 0.1 to 3600, "
                 "got '%s'\n", rn_progname, optarg);
        return RN_EXIT_USAGE;
      }
      break;
    case 'h': watch_usage (stdout); return RN_EXIT_OK;
    case 'o':
      fprintf (stderr, "%s: status: --format does not go with --watch\n", rn_progname);
      return RN_EXIT_USAGE;
    default:
      fprintf (stderr, "Try 'guestkit status --help'.\n");
      return RN_EXIT_USAGE;
    }
  if (!want) {
    fprintf (stderr, "%s: status: --interval needs --watch\n", rn_progname);
    return RN_EXIT_USAGE;
  }
  if (optind < argc) {
    if (rn_parse_int (argv[optind], &x) == -1 || x < 1 || optind + 1 < argc) {
      fprintf (stderr, "%s: status: expected one run number, got '%s'\n", rn_progname,
               argv[optind]);
      return RN_EXIT_USAGE;
    }
    run = rn_asprintf ("%lld", (long long) x);
  }
  if ((db = rn_db_open (dbpath, 0, &err)) == NULL) {
    fprintf (stderr, "%s: status: %s\n", rn_progname, err);
    free (err);
    free (run);
    return RN_EXIT_USAGE;
  }
  if (run == NULL && (run = pick_run (db, &err)) == NULL) {
    fprintf (stderr, "%s: status: %s\n", rn_progname, err);
    rc = RN_EXIT_FAILED;
  } else
    rc = watch (db, run, interval);
  free (err);
  free (run);
  rn_db_close (db);
  return rc;
}
