/* tests/hardening-threads.c: many handles in many threads at once.
 *
 * NTHREADS threads each own HANDLES_PER_THREAD handles (8 in all), and
 * run ROUNDS rounds of: create, add a drive, launch (all threads at
 * once), calls on every handle (uploads and downloads checked byte for
 * byte, a failing call, the error string of the right handle), then hand
 * one handle to the next thread (a handle may move between threads, as
 * long as one thread uses it at a time), calls on the received handle,
 * and close.  Built and run under SANITIZE=thread this is the data-race
 * check of the library.
 *
 * Then a watchdog thread hammers guestfs_kill_subprocess on one handle
 * while its owner makes calls, sees the appliance die and reaps it, and
 * while the owner closes the handle: the watchdog's kills only signal
 * (through qemu's pidfd, child.c), never reap or release from under the
 * owner, and find nothing to kill once qemu has been reaped.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>

#include "harness.h"

#define NTHREADS 4
#define HANDLES_PER_THREAD 2
#define ROUNDS 2

struct worker {
  int id;
  char *disks[HANDLES_PER_THREAD];
  char *local;                  /* a file of this thread's own bytes */
  guestfs_h *h[HANDLES_PER_THREAD];
  guestfs_h *inbox;             /* handed over by the previous thread */
  char why[256];                /* first failure, empty when none */
};

static struct worker workers[NTHREADS];
static pthread_barrier_t barrier;

static int
failed (struct worker *w, const char *what, guestfs_h *g)
{
  if (w->why[0] == '\0')
    snprintf (w->why, sizeof w->why, "thread %d: %s: %s", w->id, what,
              g && guestfs_last_error (g) ? guestfs_last_error (g) : "");
  return -1;
}

/* Upload this thread's file to the handle's disk, download it back. */
static int
exercise (struct worker *w, guestfs_h *g, int round)
{
  char back[64], **devs;
  char a[4096], b[4096];
  FILE *f;
  size_t n = 0;

  snprintf (back, sizeof back, "tests/out/threads-%d-%d-%d.back", (int) getpid (),
            w->id, round);
  if (guestfs_ping_daemon (g) == -1)
    return failed (w, "ping_daemon", g);
  devs = guestfs_list_devices (g);
  if (th_count_free (devs) != 1)
    return failed (w, "list_devices", g);
  if (guestfs_blockdev_getsize64 (g, "/dev/sda") != 8 << 20)
    return failed (w, "blockdev_getsize64", g);
  if (guestfs_upload (g, w->local, "/dev/sda") == -1)
    return failed (w, "upload", g);
  if (guestfs_download (g, "/dev/sda", back) == -1)
    return failed (w, "download", g);
  f = fopen (back, "r");
  if (f)
    n = fread (b, 1, sizeof b, f);
  if (f)
    fclose (f);
  unlink (back);
  f = fopen (w->local, "r");
  if (f == NULL || fread (a, 1, sizeof a, f) != sizeof a || n != sizeof b ||
      memcmp (a, b, sizeof a) != 0)
    n = 0;
  if (f)
    fclose (f);
  if (n == 0)
    return failed (w, "downloaded bytes differ from the uploaded ones", NULL);
  /* An error names this handle's call, not another thread's. */
  if (guestfs_mount (g, "/dev/sdz9", "/") != -1)
    return failed (w, "mount of a missing device worked", g);
  if (strstr (guestfs_last_error (g), "sdz9") == NULL)
    return failed (w, "error of another call", g);
  return 0;
}

static void *
run (void *arg)
{
  struct worker *w = arg;

  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < HANDLES_PER_THREAD; i++) {
      w->h[i] = guestfs_create ();
      th_quiet (w->h[i]);
      if (guestfs_add_drive (w->h[i], w->disks[i]) == -1)
        failed (w, "add_drive", w->h[i]);
    }
    pthread_barrier_wait (&barrier);           /* launch all at once */
    for (int i = 0; i < HANDLES_PER_THREAD; i++)
      if (guestfs_launch (w->h[i]) == -1)
        failed (w, "launch", w->h[i]);
    for (int i = 0; i < HANDLES_PER_THREAD && w->why[0] == '\0'; i++)
      exercise (w, w->h[i], round);
    /* Hand the last handle to the next thread. */
    workers[(w->id + 1) % NTHREADS].inbox = w->h[HANDLES_PER_THREAD - 1];
    pthread_barrier_wait (&barrier);
    if (w->why[0] == '\0')
      exercise (w, w->inbox, round);
    for (int i = 0; i < HANDLES_PER_THREAD - 1; i++)
      guestfs_close (w->h[i]);
    guestfs_close (w->inbox);
    pthread_barrier_wait (&barrier);           /* inbox read before reuse */
  }
  return NULL;
}

static void
t_threads (void)
{
  pthread_t t[NTHREADS];

  pthread_barrier_init (&barrier, NULL, NTHREADS);
  for (int i = 0; i < NTHREADS; i++)
    CHECK (pthread_create (&t[i], NULL, run, &workers[i]) == 0, "pthread_create");
  for (int i = 0; i < NTHREADS; i++)
    pthread_join (t[i], NULL);
  pthread_barrier_destroy (&barrier);
  for (int i = 0; i < NTHREADS; i++)
    CHECK (workers[i].why[0] == '\0', "%s", workers[i].why);
}

/* The watchdog: kill_subprocess in a loop until told to stop. */
struct hammer {
  guestfs_h *g;
  pthread_t t;
  atomic_int stop;
  atomic_long sent, none;       /* kill_subprocess returned 0 / -1 */
  int joined;                   /* the quit callback stopped it */
};

static void *
hammer_run (void *arg)
{
  struct hammer *h = arg;

  while (!atomic_load (&h->stop)) {
    if (guestfs_kill_subprocess (h->g) == 0)
      atomic_fetch_add (&h->sent, 1);
    else
      atomic_fetch_add (&h->none, 1);
    sched_yield ();
  }
  return NULL;
}

static int
hammer_start (struct hammer *h, guestfs_h *g)
{
  h->g = g;
  h->joined = 0;
  atomic_store (&h->stop, 0);
  atomic_store (&h->sent, 0);
  atomic_store (&h->none, 0);
  return pthread_create (&h->t, NULL, hammer_run, h);
}

static void
hammer_stop (struct hammer *h)
{
  atomic_store (&h->stop, 1);
  pthread_join (h->t, NULL);
  h->joined++;
}

/* Runs in the owner's thread once qemu has been reaped, inside close:
 * the watchdog ran through the whole shutdown. */
static void
quit_stops_hammer (guestfs_h *g, void *data)
{
  hammer_stop (data);
}

static void
t_kill_watchdog (void)
{
  static struct hammer h;
  char *disk = th_scratch ("threads-kill", 8);
  const char *imgs[] = { disk, NULL };
  guestfs_h *g;
  long before, after;
  int pings = 0, config;
  char *err;

  /* 1: the owner is in calls; the watchdog's kill ends the appliance,
   * the owner's call fails and reaps it.  Then, reaped, the watchdog
   * finds nothing to kill. */
  g = th_launch (imgs, 0);
  CHECK (g != NULL, "launch");
  CHECK (hammer_start (&h, g) == 0, "pthread_create");
  while (pings < 100000 && guestfs_ping_daemon (g) == 0)
    pings++;
  err = strdup (guestfs_last_error (g) ? guestfs_last_error (g) : "(none)");
  config = guestfs_is_config (g);
  before = atomic_load (&h.sent);
  for (long n = atomic_load (&h.none); atomic_load (&h.none) < n + 200; )
    sched_yield ();
  after = atomic_load (&h.sent);
  hammer_stop (&h);
  CHECK (err && strstr (err, "exited unexpectedly"), "after %d pings the call failed "
         "with '%s'", pings, err);
  free (err);
  CHECK (config == 1, "the owner did not reap: the handle is not CONFIG");
  CHECK (before >= 1, "no kill reached qemu");
  CHECK (after == before, "kills reported after the reap: %ld > %ld", after, before);
  CHECK (guestfs_get_pid (g) == -1, "a pid after the reap");
  CHECK (guestfs_kill_subprocess (g) == -1, "the owner's kill after the reap");
  CHECK_ERR (g, "kill_subprocess");
  guestfs_close (g);

  /* 2: the owner closes while the watchdog kills; the quit callback
   * (after the reap, inside close) stops the watchdog. */
  for (int round = 0; round < 2; round++) {
    g = th_launch (imgs, 0);
    CHECK (g != NULL, "launch");
    guestfs_set_subprocess_quit_callback (g, quit_stops_hammer, &h);
    CHECK (hammer_start (&h, g) == 0, "pthread_create");
    if (round == 1)
      guestfs_ping_daemon (g);  /* the owner made a call before closing */
    guestfs_close (g);
    CHECK (h.joined == 1, "close: the quit callback ran %d times", h.joined);
    CHECK (atomic_load (&h.sent) + atomic_load (&h.none) > 0, "the watchdog never ran");
  }
  unlink (disk);
  free (disk);
}

int
main (void)
{
  char name[32];

  for (int i = 0; i < NTHREADS; i++) {
    struct worker *w = &workers[i];
    char block[4096];
    int fd;

    w->id = i;
    for (int j = 0; j < HANDLES_PER_THREAD; j++) {
      snprintf (name, sizeof name, "threads-%d-%d", i, j);
      w->disks[j] = th_scratch (name, 8);
    }
    snprintf (name, sizeof name, "threads-local-%d", i);
    w->local = th_scratch (name, 0);
    memset (block, 'A' + i, sizeof block);
    fd = open (w->local, O_WRONLY);
    if (fd == -1 || write (fd, block, sizeof block) != sizeof block)
      abort ();
    close (fd);
  }
  th_run ("threads-8-handles-4-threads", t_threads);
  th_run ("threads-kill-watchdog", t_kill_watchdog);
  for (int i = 0; i < NTHREADS; i++) {
    for (int j = 0; j < HANDLES_PER_THREAD; j++) {
      unlink (workers[i].disks[j]);
      free (workers[i].disks[j]);
    }
    unlink (workers[i].local);
    free (workers[i].local);
  }
  return th_done ();
}
