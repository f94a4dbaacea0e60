/* tests/hardening-faults.c: the library under injected faults
 * (core/fault.c, GUESTKIT_FAULT).
 *
 * Channel faults (rpc-read, rpc-write: short, garbage, close; kill-qemu)
 * are armed right before one call on a launched handle.  Each case checks
 * that the call fails with a clear error, that the handle is back in
 * CONFIG with no appliance, that closing it leaves no file descriptor,
 * child process or temp dir behind, and that a fresh handle then works.
 * Faults during launch must end in a working appliance (the restore
 * falls back to a cold boot) or a clean launch error.
 *
 * Allocation faults (alloc:N) run in a child process each, N doubling
 * from 1 until the scenario completes: the child must end through the
 * out-of-memory path (error handler, out-of-memory handler, abort), never
 * another way, and its qemu must not outlive it (the recovery process
 * kills it; this test is the subreaper that sees it go).
 *
 * qemu dying in the middle of a long call is launch-misc's
 * launch-qemu-dies-mid-call; here kill-qemu hits at fixed points.
 * A private cache directory keeps the launch-time faults (which make the
 * saved appliance be rebuilt) away from other tests.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

static char *disk;              /* 2 MiB scratch disk: sda */
static char *src;               /* 200 KiB local file to upload */
static char *dst;               /* download destination */
static char tmpdir[256];        /* TMPDIR of the handles: must end empty */

enum op { OP_LAUNCH, OP_PING, OP_LIST, OP_UPLOAD, OP_DOWNLOAD };

struct fcase {
  const char *name;
  const char *spec;             /* GUESTKIT_FAULT, armed right before op */
  enum op op;
  const char *needle;           /* in the error; NULL: the op may succeed */
  int racy;                     /* kill-qemu: the answer may already be
                                   buffered, then the next call fails */
};

static const struct fcase cases[] = {
  /* reads: 1 = a reply's length word, 2 = its body; with download,
   * 3 and 4 = the first chunk's length word and body */
  { "read-1-short-ping", "rpc-read:1:short", OP_PING, "appliance exited unexpectedly", 0 },
  { "read-2-short-list", "rpc-read:2:short", OP_LIST, "appliance exited unexpectedly", 0 },
  { "read-1-garbage-ping", "rpc-read:1:garbage", OP_PING, "bad reply from the appliance: bad length word", 0 },
  { "read-2-garbage-list", "rpc-read:2:garbage", OP_LIST, "bad reply from the appliance: wrong program", 0 },
  { "read-1-close-ping", "rpc-read:1:close", OP_PING, "appliance exited unexpectedly", 0 },
  { "read-2-close-list", "rpc-read:2:close", OP_LIST, "appliance exited unexpectedly", 0 },
  { "read-3-garbage-download", "rpc-read:3:garbage", OP_DOWNLOAD, "malformed file chunk", 0 },
  { "read-4-garbage-download", "rpc-read:4:garbage", OP_DOWNLOAD, "malformed file chunk", 0 },
  { "read-4-short-download", "rpc-read:4:short", OP_DOWNLOAD, "appliance exited unexpectedly", 0 },
  { "read-6-close-download", "rpc-read:6:close", OP_DOWNLOAD, "appliance exited unexpectedly", 0 },
  /* writes: 1 = the request; with upload, 2 = the first chunk's
   * header, 3 = its data */
  { "write-1-short-ping", "rpc-write:1:short", OP_PING, "appliance exited unexpectedly", 0 },
  { "write-1-garbage-list", "rpc-write:1:garbage", OP_LIST, "appliance exited unexpectedly", 0 },
  { "write-1-close-ping", "rpc-write:1:close", OP_PING, "appliance exited unexpectedly", 0 },
  { "write-2-garbage-upload", "rpc-write:2:garbage", OP_UPLOAD, "appliance exited unexpectedly", 0 },
  { "write-3-short-upload", "rpc-write:3:short", OP_UPLOAD, "appliance exited unexpectedly", 0 },
  { "write-3-close-upload", "rpc-write:3:close", OP_UPLOAD, "appliance exited unexpectedly", 0 },
  /* qemu killed before a reply is read */
  { "kill-qemu-1-ping", "kill-qemu:1", OP_PING, "appliance exited unexpectedly (qemu killed by signal 9)", 1 },
  { "kill-qemu-3-download", "kill-qemu:3", OP_DOWNLOAD, "appliance exited unexpectedly", 1 },
  /* during launch: the restore's resume call breaks, the launch boots
   * cold instead (or fails cleanly) */
  { "launch-read-1-garbage", "rpc-read:1:garbage", OP_LAUNCH, NULL, 0 },
  { "launch-write-1-close", "rpc-write:1:close", OP_LAUNCH, NULL, 0 },
  { "launch-kill-qemu-1", "kill-qemu:1", OP_LAUNCH, NULL, 1 },
};
static const struct fcase *cur;

/* Entries left in tmpdir (the handles' per-launch temp dirs). */
static int
tmpdir_entries (void)
{
  DIR *d = opendir (tmpdir);
  struct dirent *e;
  int n = 0;

  while (d && (e = readdir (d)))
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
      n++;
  if (d)
    closedir (d);
  return n;
}

/* Reap every child and grandchild (we are their subreaper) for up to
 * `secs' seconds; returns how many are still alive then. */
static int
reap_all (int secs)
{
  for (int i = 0; i < secs * 20; i++) {
    pid_t p;
    while ((p = waitpid (-1, NULL, WNOHANG)) > 0)
      ;
    if (p == -1 && errno == ECHILD)
      return 0;
    usleep (50000);
  }
  return 1;
}

static guestfs_h *
create (void)
{
  guestfs_h *g = guestfs_create ();
  if (g) {
    th_quiet (g);
    guestfs_add_drive (g, disk);
  }
  return g;
}

static int
run_op (guestfs_h *g, enum op op)
{
  char **l;

  switch (op) {
  case OP_LAUNCH: return guestfs_launch (g);
  case OP_PING: return guestfs_ping_daemon (g);
  case OP_LIST:
    l = guestfs_list_devices (g);
    return l ? (int) th_count_free (l) - 1 : -1;
  case OP_UPLOAD: return guestfs_upload (g, src, "/dev/sda");
  case OP_DOWNLOAD: return guestfs_download (g, "/dev/sda", dst);
  }
  return -1;
}

/* A fresh handle works once the fault has fired. */
static int
fresh_works (void)
{
  guestfs_h *g = create ();
  int ok = g && guestfs_launch (g) == 0 && guestfs_ping_daemon (g) == 0 &&
           guestfs_download (g, "/dev/sda", dst) == 0;
  guestfs_close (g);
  return ok;
}

static void
t_fault (void)
{
  int fds = th_count_fds (), r;
  guestfs_h *g = create ();

  CHECK (g, "create");
  if (cur->op != OP_LAUNCH)
    CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  setenv ("GUESTKIT_FAULT", cur->spec, 1);
  r = run_op (g, cur->op);
  unsetenv ("GUESTKIT_FAULT");
  if (r != -1 && cur->racy)       /* qemu died after it had answered */
    r = cur->op == OP_LAUNCH ? guestfs_ping_daemon (g) : run_op (g, cur->op);
  if (cur->needle) {
    CHECK (r == -1, "%s succeeded under %s", cur->name, cur->spec);
    CHECK_ERR (g, cur->needle);
    CHECK (guestfs_is_config (g) == 1, "state after the fault: %d",
           guestfs_get_state (g));
    CHECK (guestfs_get_pid (g) == -1, "a qemu is still attached");
    CHECK (guestfs_ping_daemon (g) == -1, "a call after the fault worked");
    CHECK_ERR (g, "not running");
  } else {
    /* A launch either recovered (a cold boot) or failed cleanly. */
    CHECK (r == 0 || guestfs_is_config (g) == 1, "launch failed (%s) but "
           "the handle is in state %d", guestfs_last_error (g),
           guestfs_get_state (g));
    CHECK (r == -1 || guestfs_ping_daemon (g) == 0, "ping after the launch: %s",
           guestfs_last_error (g));
  }
  guestfs_close (g);
  CHECK (th_count_fds () == fds, "%d file descriptors before, %d after close",
         fds, th_count_fds ());
  CHECK (reap_all (5) == 0, "a child process outlived guestfs_close");
  CHECK (tmpdir_entries () == 0, "a temp dir was left in %s", tmpdir);
  CHECK (fresh_works (), "a fresh handle after the fault failed");
}

/* ---- allocation faults, in child processes ---- */

static int oom_pipe = -1;

static void
on_oom (void)
{
  (void) !write (oom_pipe, "O", 1);
}

static void
on_error (guestfs_h *g, void *opaque, const char *msg)
{
  if (strcmp (msg, "out of memory") == 0)
    (void) !write (oom_pipe, "E", 1);
}

/* The child: the whole life of a handle with alloc:N armed.  Exits 0
 * when everything worked, 3 when a call failed (it must not). */
static _Noreturn void
alloc_child (int n)
{
  char spec[32];
  struct rlimit nocore = { 0, 0 };
  guestfs_h *g;
  int ok;

  setrlimit (RLIMIT_CORE, &nocore);
  snprintf (spec, sizeof spec, "alloc:%d", n);
  setenv ("GUESTKIT_FAULT", spec, 1);
  g = guestfs_create ();
  if (g == NULL)
    _exit (3);
  guestfs_set_error_handler (g, on_error, NULL);
  guestfs_set_out_of_memory_handler (g, on_oom);
  ok = guestfs_add_drive (g, disk) == 0 && guestfs_launch (g) == 0 &&
       guestfs_ping_daemon (g) == 0 && run_op (g, OP_LIST) == 0 &&
       guestfs_upload (g, src, "/dev/sda") == 0 &&
       guestfs_download (g, "/dev/sda", dst) == 0;
  guestfs_close (g);
  _exit (ok ? 0 : 3);
}

/* Returns 1 when the child completed (n is past the last allocation). */
static int
alloc_case (int n, int *bad)
{
  int p[2], status;
  char marks[8] = "";
  ssize_t got;
  pid_t pid;

  if (pipe (p) == -1)
    abort ();
  fflush (stdout);
  pid = fork ();
  if (pid == 0) {
    close (p[0]);
    oom_pipe = p[1];
    alloc_child (n);
  }
  close (p[1]);
  waitpid (pid, &status, 0);
  got = read (p[0], marks, sizeof marks - 1);
  close (p[0]);
  marks[got > 0 ? got : 0] = '\0';
  if (reap_all (15) != 0) {
    printf ("FAIL: %s: alloc:%d: an appliance outlived its aborted process\n",
            th_name, n);
    kill (0, SIGKILL);          /* not reached in a passing run */
  }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 1;
  if (!(WIFSIGNALED (status) && WTERMSIG (status) == SIGABRT &&
        strcmp (marks, "EO") == 0)) {
    printf ("FAIL: %s: alloc:%d: child ended with status 0x%x, marks '%s' "
            "(wanted SIGABRT after the error and out-of-memory handlers)\n",
            th_name, n, status, marks);
    (*bad)++;
  }
  return 0;
}

static void
t_alloc (void)
{
  int bad = 0, cases_run = 0, n;

  /* 1 to 16, then steps of an eighth: every stage of a handle's life */
  for (n = 1; n < 100000; n += n < 16 ? 1 : n / 8) {
    cases_run++;
    if (alloc_case (n, &bad))
      break;
  }
  printf ("  (alloc: %d cases, the scenario makes fewer than %d allocations; "
          "%d temp dirs left by aborted processes)\n", cases_run, n,
          tmpdir_entries ());
  CHECK (n < 100000, "the scenario never completed");
  CHECK (bad == 0, "%d allocation faults ended badly", bad);
  CHECK (fresh_works (), "a fresh handle after the allocation faults failed");
}

static void
t_bad_spec (void)
{
  /* A spec that does not parse is ignored. */
  setenv ("GUESTKIT_FAULT", "rpc-read:x:garbage,alloc:0,bogus", 1);
  CHECK (fresh_works (), "a bad GUESTKIT_FAULT broke a handle");
  unsetenv ("GUESTKIT_FAULT");
}

int
main (void)
{
  char cwd[200], cache[256], cmd[600];
  int fd;

  prctl (PR_SET_CHILD_SUBREAPER, 1);
  unsetenv ("GUESTKIT_FAULT");
  mkdir ("tests/out", 0755);
  if (getcwd (cwd, sizeof cwd) == NULL)
    abort ();
  snprintf (cache, sizeof cache, "%s/tests/out/faults-cache-%d", cwd,
            (int) getpid ());
  snprintf (tmpdir, sizeof tmpdir, "%s/tests/out/faults-tmp-%d", cwd,
            (int) getpid ());
  mkdir (cache, 0700);
  mkdir (tmpdir, 0700);
  setenv ("GUESTKIT_CACHEDIR", cache, 1);
  setenv ("TMPDIR", tmpdir, 1);
  disk = th_scratch ("faults", 2);
  src = th_scratch ("faults-src", 1);
  fd = open (src, O_WRONLY);
  if (fd == -1 || ftruncate (fd, 200 * 1024) == -1 ||
      pwrite (fd, "guestkit", 8, 1000) != 8)
    abort ();
  close (fd);
  if (asprintf (&dst, "tests/out/faults-dst-%d", (int) getpid ()) == -1)
    abort ();

  th_run ("fault-baseline", t_bad_spec);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[80];
    cur = &cases[i];
    snprintf (name, sizeof name, "fault-%s", cur->name);
    th_run (name, t_fault);
  }
  th_run ("fault-alloc", t_alloc);

  unlink (disk); unlink (src); unlink (dst);
  free (disk); free (src); free (dst);
  snprintf (cmd, sizeof cmd, "rm -rf '%s' '%s'", cache, tmpdir);
  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", cache);
  return th_done ();
}
