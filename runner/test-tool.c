/* runner/test-tool.c: `guestkit test-tool', the self-test of an install.
 *
 * It prints what a launch would use (versions, the accelerator and why,
 * the appliance path and the cache), then launches a scratch appliance on
 * a small sparse disk it makes in a private temp dir, twice: cold (the
 * saved appliance bypassed: GUESTKIT_SNAPSHOT=0, set in this process
 * only) and warm (restored from the saved appliance, which the first warm
 * launch makes when there is none).  Each launch is timed, with the
 * library's own phase timings from its debug output, which is captured
 * from stderr during the launch.  Then a few calls on the scratch disk;
 * the first that fails is named with the library's message.
 *
 * The temp dir is removed on every exit, a signal included.
 * Exit status: 0 everything worked, 1 something failed, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runner.h"

#define SCRATCH_MB 64
#define TEXT "guestkit test-tool was here\n"

static void
test_tool_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit test-tool [-v]\n"
"\n"
"Check that guestkit works on this machine: print the versions of guestkit,\n"
"qemu, the appliance kernel and supermin, the accelerator chosen and why,\n"
"and where the appliance and its cache are; then launch a scratch appliance\n"
"on a small disk in a private temp dir, cold and warm, timing each launch and\n"
"its phases, run a few calls on the disk, and say OK or what failed.  The\n"
"temp dir is removed in every case.\n"
"\n"
"  -v, --verbose      also print the library's messages and the appliance\n"
"                     console (as LIBGUESTFS_DEBUG=1 does)\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 all worked, 1 something failed, 2 invalid arguments.\n");
}

/* The scratch files, for the signal handler too. */
static char tt_dir[4096], tt_disk[4200], tt_log[4200];

static void
tt_cleanup (void)
{
  if (tt_disk[0])
    unlink (tt_disk);
  if (tt_log[0])
    unlink (tt_log);
  if (tt_dir[0])
    rmdir (tt_dir);
}

/* A signal may come in the middle of a launch, with the library's own
 * temp dir (it is made under TMPDIR, which is set to ours) still there:
 * rm -rf the whole dir.  _Fork, not fork: fork runs the atfork handlers
 * and takes malloc's locks, so it is not async-signal-safe (a signal
 * during a malloc deadlocks it; ThreadSanitizer reported it as a
 * signal-unsafe call); _Fork, execve and waitpid are. */
static void
tt_on_signal (int sig)
{
  if (tt_dir[0]) {
    pid_t pid = _Fork ();
    if (pid == 0) {
      char *const argv[] = { (char *) "rm", (char *) "-rf", tt_dir, NULL };
      execve ("/bin/rm", argv, (char *const[]) { NULL });
      _exit (127);
    }
    if (pid > 0)
      while (waitpid (pid, NULL, 0) == -1 && errno == EINTR)
        ;
  }
  tt_cleanup ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* The first line of `PROG --version', or why there is none. */
static char *
first_line_of (const char *prog)
{
  char *argv[] = { (char *) prog, (char *) "--version", NULL };
  char *out = NULL, *err = NULL, *nl;

  if (rn_run_command_output (argv, &out, &err) == -1) {
    nl = strchr (err, '\n');
    if (nl)
      *nl = '\0';
    char *s = rn_asprintf ("(not available: %s)", err);
    free (err);
    return s;
  }
  if ((nl = strchr (out, '\n')) != NULL)
    *nl = '\0';
  return out;
}

static int
vmlinuz (const struct dirent *d)
{
  return strncmp (d->d_name, "vmlinuz-", 8) == 0;
}

/* The kernel the appliance boots: a ready appliance's, else the one the
 * build script picks (SUPERMIN_KERNEL, else the newest under /boot). */
static void
print_kernel (const char *path)
{
  char *p = rn_strdup (path), *save = NULL;
  struct dirent **names;
  int n;

  for (char *d = strtok_r (p, ":", &save); d; d = strtok_r (NULL, ":", &save)) {
    char *k = rn_path_join (d, "kernel");
    if (access (k, R_OK) == 0) {
      printf ("  kernel       %s (a ready-made appliance)\n", k);
      free (k);
      free (p);
      return;
    }
    free (k);
  }
  free (p);
  if (getenv ("SUPERMIN_KERNEL") && *getenv ("SUPERMIN_KERNEL")) {
    printf ("  kernel       %s (SUPERMIN_KERNEL)\n", getenv ("SUPERMIN_KERNEL"));
    return;
  }
  n = scandir ("/boot", &names, vmlinuz, versionsort);
  if (n <= 0) {
    printf ("  kernel       none: /boot has no vmlinuz-* (install linux-image-amd64)\n");
    return;
  }
  printf ("  kernel       /boot/%s (the newest under /boot)\n", names[n - 1]->d_name);
  for (int i = 0; i < n; i++)
    free (names[i]);
  free (names);
}

static char *
cache_dir (void)
{
  const char *env = getenv ("GUESTKIT_CACHEDIR");
  return env && *env ? rn_strdup (env) : rn_asprintf ("/var/tmp/.guestkit-%d", (int) geteuid ());
}

/* The library's choice (core/accel.c), as the user can see it. */
static void
print_accel (const char *cache)
{
  const char *env = getenv ("GUESTKIT_ACCEL");
  const char *bs = getenv ("LIBGUESTFS_BACKEND_SETTINGS");
  char *vp, buf[16] = "";
  FILE *f;
  int fd;

  printf ("  accelerator  ");
  if (env && *env && strcmp (env, "kvm") && strcmp (env, "tcg") && strcmp (env, "auto")) {
    printf ("none: GUESTKIT_ACCEL=%s is not kvm, tcg or auto (launch will fail)\n", env);
    return;
  }
  if (bs && strstr (bs, "force_tcg")) {
    printf ("tcg: LIBGUESTFS_BACKEND_SETTINGS has force_tcg\n");
    return;
  }
  if (env && strcmp (env, "tcg") == 0) {
    printf ("tcg: GUESTKIT_ACCEL=tcg\n");
    return;
  }
  if (env && strcmp (env, "kvm") == 0) {
    printf ("kvm: GUESTKIT_ACCEL=kvm (no fallback to TCG)\n");
    return;
  }
  if ((fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1) {
    printf ("tcg: /dev/kvm: %s\n", strerror (errno));
    return;
  }
  close (fd);
  vp = rn_path_join (cache, "accel-verdict");
  if ((f = fopen (vp, "re")) != NULL) {
    if (fgets (buf, sizeof buf, f) == NULL)
      buf[0] = '\0';
    fclose (f);
  }
  buf[strcspn (buf, "\n")] = '\0';
  if (*buf)
    printf ("%s: recorded in %s by an earlier launch\n", buf, vp);
  else
    printf ("kvm if /dev/kvm answers, tried with a short timeout; else tcg\n");
  free (vp);
}

/* ---- launches, their debug output captured ---- */

struct launch_result {
  double secs;
  int made_template, built, restored;
  char accel[8];
};

/* Print the timing lines of the captured log (all of it when verbose);
 * note what the launch did. */
static void
read_log (int verbose, struct launch_result *r, int failed)
{
  char *err = NULL, *text;
  size_t len;
  char *save = NULL;
  struct rn_strv tail = { 0 };

  text = rn_read_file (tt_log, 8 << 20, &len, &err);

  if (text == NULL) {
    printf ("    (no debug output: %s)\n", err);
    free (err);
    return;
  }
  if (verbose)
    fputs (text, stderr);
  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
    const char *a;
    if (strncmp (l, "guestkit: ", 10) == 0 &&
        (strstr (l, "launch timings:") || strstr (l, "qemu up in") ||
         strstr (l, "snapshot") || strstr (l, "building the appliance") ||
         strstr (l, "KVM did not work")))
      printf ("    %s\n", l + 10);
    if (strstr (l, "snapshot: booting a template"))
      r->made_template = 1;
    if (strstr (l, "building the appliance"))
      r->built = 1;
    if (strstr (l, "launch timings:"))
      r->restored = 1;
    if (strstr (l, "qemu up in") && (a = strstr (l, "accelerator: ")) != NULL)
      snprintf (r->accel, sizeof r->accel, "%.*s", (int) strcspn (a + 13, ")"), a + 13);
    if (failed) {
      rn_strv_add (&tail, rn_strdup (l));
      if (tail.n > 12) {
        free (tail.v[0]);
        memmove (tail.v, tail.v + 1, (tail.n - 1) * sizeof *tail.v);
        tail.v[--tail.n] = NULL;
      }
    }
  }
  if (failed && !verbose && tail.n) {
    printf ("    last messages:\n");
    for (size_t i = 0; i < tail.n; i++)
      printf ("      %s\n", tail.v[i]);
  }
  rn_strv_free (&tail);
  free (text);
}

/* A handle on the scratch disk, launched with stderr going to the log. */
static guestfs_h *
launch_one (const char *what, int verbose, struct launch_result *r)
{
  guestfs_h *g = guestfs_create ();
  int saved, fd, rc;
  double t0;

  memset (r, 0, sizeof *r);
  if (g == NULL) {
    printf ("FAILED: %s: guestfs_create: out of memory\n", what);
    return NULL;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  guestfs_set_verbose (g, 1);
  fflush (stdout);
  fflush (stderr);
  fd = open (tt_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  saved = dup (2);
  if (fd == -1 || saved == -1) {
    printf ("FAILED: %s: cannot capture the debug output in %s: %s\n", what, tt_log,
            strerror (errno));
    if (fd >= 0)
      close (fd);
    guestfs_close (g);
    return NULL;
  }
  dup2 (fd, 2);
  close (fd);
  t0 = rn_now ();
  rc = guestfs_add_drive_opts (g, tt_disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1);
  if (rc == 0)
    rc = guestfs_launch (g);
  r->secs = rn_now () - t0;
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  if (rc == -1) {
    const char *e = guestfs_last_error (g);
    printf ("FAILED: %s: %s\n", what, e ? e : "no message");
    read_log (verbose, r, 1);
    guestfs_close (g);
    return NULL;
  }
  printf ("%s: %.2f s\n", what, r->secs);
  read_log (verbose, r, 0);
  if (!verbose)
    guestfs_set_verbose (g, 0);
  return g;
}

/* The appliance the handle holds in the cache. */
static void
print_in_use (guestfs_h *g)
{
  struct guestfs_cache_entry_list *l = guestfs_cache_list (g);

  if (l == NULL)
    return;
  for (uint32_t i = 0; i < l->len; i++)
    if (l->val[i].cache_in_use)
      printf ("    in use: %s %s\n", l->val[i].cache_kind, l->val[i].cache_path);
  guestfs_free_cache_entry_list (l);
}

/* ---- the calls ---- */

static int
call_failed (guestfs_h *g, const char *what)
{
  const char *e = guestfs_last_error (g);
  printf ("FAILED: %s: %s\n", what, e ? e : "no message");
  return -1;
}

static int
run_calls (guestfs_h *g)
{
  char *content;
  double t0;

  printf ("calls:\n");
#define STEP(what, expr) do {                                   \
    t0 = rn_now ();                                             \
    if ((expr) == -1)                                           \
      return call_failed (g, what);                             \
    printf ("  %-36s ok  %.2f s\n", what, rn_now () - t0);      \
  } while (0)
  STEP ("part_disk /dev/sda mbr", guestfs_part_disk (g, "/dev/sda", "mbr"));
  STEP ("mkfs ext4 /dev/sda1", guestfs_mkfs (g, "ext4", "/dev/sda1"));
  STEP ("mount /dev/sda1 /", guestfs_mount (g, "/dev/sda1", "/"));
  STEP ("write_file /test-tool.txt", guestfs_write_file (g, "/test-tool.txt", TEXT, 0));
  t0 = rn_now ();
  content = guestfs_cat (g, "/test-tool.txt");
  if (content == NULL)
    return call_failed (g, "cat /test-tool.txt");
  if (strcmp (content, TEXT) != 0) {
    printf ("FAILED: cat /test-tool.txt: read back %zu bytes that differ from the %zu "
            "written\n", strlen (content), strlen (TEXT));
    free (content);
    return -1;
  }
  free (content);
  printf ("  %-36s ok  %.2f s (the text written)\n", "cat /test-tool.txt", rn_now () - t0);
  STEP ("umount /", guestfs_umount (g, "/"));
#undef STEP
  return 0;
}

/* ---- the command ---- */

static int
make_scratch (void)
{
  const char *tmp = getenv ("TMPDIR");
  int fd, ok;

  snprintf (tt_dir, sizeof tt_dir, "%s/guestkit-test-tool.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (tt_dir) == NULL) {
    printf ("FAILED: cannot make a temp dir %s: %s\n", tt_dir, strerror (errno));
    tt_dir[0] = '\0';
    return -1;
  }
  snprintf (tt_disk, sizeof tt_disk, "%s/scratch.img", tt_dir);
  snprintf (tt_log, sizeof tt_log, "%s/launch.log", tt_dir);
  fd = open (tt_disk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ok = fd >= 0 && ftruncate (fd, (off_t) SCRATCH_MB << 20) == 0;
  if (!ok)
    printf ("FAILED: cannot make the scratch disk %s: %s\n", tt_disk, strerror (errno));
  if (fd >= 0)
    close (fd);
  return ok ? 0 : -1;
}

static int
test_tool (int verbose)
{
  guestfs_h *g = guestfs_create ();
  struct guestfs_version *v = g ? guestfs_version (g) : NULL;
  struct launch_result cold, warm;
  const char *snap = getenv ("GUESTKIT_SNAPSHOT");
  char *s, *cache, *user_snap = snap ? rn_strdup (snap) : NULL;
  int rc = RN_EXIT_FAILED;

  if (v == NULL) {
    printf ("FAILED: cannot create a handle\n");
    guestfs_close (g);
    free (user_snap);
    return RN_EXIT_FAILED;
  }
  printf ("guestkit test-tool\n");
  printf ("  guestkit     %s (libguestfs API %lld.%lld.%lld)\n",
          strncmp (v->extra, "guestkit-", 9) == 0 ? v->extra + 9 : v->extra,
          (long long) v->major, (long long) v->minor, (long long) v->release);
  guestfs_free_version (v);
  s = first_line_of (guestfs_get_qemu (g));
  printf ("  qemu         %s: %s\n", guestfs_get_qemu (g), s);
  free (s);
  print_kernel (guestfs_get_path (g));
  s = first_line_of ("supermin");
  printf ("  supermin     %s\n", s);
  free (s);
  cache = cache_dir ();
  print_accel (cache);
  printf ("  appliance    %s%s\n", guestfs_get_path (g),
          getenv ("LIBGUESTFS_PATH") && *getenv ("LIBGUESTFS_PATH") ? " (LIBGUESTFS_PATH)" : "");
  printf ("  cache        %s%s\n", cache,
          getenv ("GUESTKIT_CACHEDIR") && *getenv ("GUESTKIT_CACHEDIR") ? " (GUESTKIT_CACHEDIR)" : "");
  free (cache);
  guestfs_close (g);
  g = NULL;

  if (make_scratch () == -1)
    goto out;
  printf ("  scratch      %s (a %d MiB raw disk; removed at exit)\n", tt_dir, SCRATCH_MB);
  /* The library's temp dirs go inside ours, so that nothing is left. */
  setenv ("TMPDIR", tt_dir, 1);

  /* Cold: only this process stops using the saved appliance. */
  setenv ("GUESTKIT_SNAPSHOT", "0", 1);
  g = launch_one ("launch 1 (cold: a full boot, the saved appliance bypassed)", verbose, &cold);
  if (user_snap)
    setenv ("GUESTKIT_SNAPSHOT", user_snap, 1);
  else
    unsetenv ("GUESTKIT_SNAPSHOT");
  if (g == NULL)
    goto out;
  if (*cold.accel)
    printf ("    accelerator used: %s\n", cold.accel);
  print_in_use (g);
  guestfs_close (g);

  g = launch_one ("launch 2 (warm: from the saved appliance)", verbose, &warm);
  if (g && warm.made_template) {
    guestfs_close (g);
    printf ("    (launch 2 had to save the appliance first; launching again)\n");
    g = launch_one ("launch 3 (warm: restored from the saved appliance)", verbose, &warm);
  }
  if (g == NULL)
    goto out;
  print_in_use (g);
  if (!warm.restored)
    printf ("    note: this launch booted cold too (%s)\n",
            user_snap && strcmp (user_snap, "0") == 0 ? "GUESTKIT_SNAPSHOT=0"
            : "the saved appliance could not be used: see the messages above");
  if (run_calls (g) == 0) {
    printf ("OK\n");
    rc = RN_EXIT_OK;
  }

 out:
  if (g)
    guestfs_close (g);
  tt_cleanup ();
  free (user_snap);
  return rc;
}

int
rn_cmd_test_tool (int argc, char **argv)
{
  static const struct option opts[] = {
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, verbose = 0, rc;
  struct sigaction sa;

  optind = 1;
  while ((c = getopt_long (argc, argv, "vh", opts, NULL)) != -1) {
    switch (c) {
    case 'v': verbose = 1; break;
    case 'h': test_tool_usage (stdout); return RN_EXIT_OK;
    default:
      fprintf (stderr, "Try 'guestkit test-tool --help'.\n");
      return RN_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf (stderr, "%s: test-tool: unexpected argument '%s'\n", rn_progname, argv[optind]);
    return RN_EXIT_USAGE;
  }
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = tt_on_signal;
  sigfillset (&sa.sa_mask);        /* a second signal waits for the first's clean-up */
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  setvbuf (stdout, NULL, _IOLBF, 0);
  rc = test_tool (verbose);
  fflush (stdout);
  return rc;
}
