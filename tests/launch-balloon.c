/* tests/launch-balloon.c: free page reporting (issue 17, density).
 *
 * launch.c gives every appliance a virtio-balloon device with
 * free-page-reporting=on; a template loads the driver without binding it
 * and a restored appliance binds it after its resume reply (guestd
 * resume.c), so the free memory the template left is handed back to the
 * host; guestd drops a large transferred file's pages (transfer.c) so
 * that they are handed back too.  Checked here: the device on qemu's
 * command line, the driver bound in the restored guest and bound there
 * (not in the template), and the effect: qemu's anonymous memory shrinks
 * after a restore and again after a 64 MiB upload.  The effect checks
 * poll for up to 60 s (the guest reports 2 s after pages are freed).
 */
#include <fcntl.h>
#include <time.h>

#include "harness.h"

#define MIB (1024L * 1024)

/* qemu's anonymous memory (bytes), from smaps_rollup; -1 if unreadable. */
static long
qemu_anon (guestfs_h *g)
{
  char path[64], line[256];
  long kb = -1;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/smaps_rollup", guestfs_get_pid (g));
  if ((f = fopen (path, "r")) == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "Anonymous: %ld kB", &kb) == 1)
      break;
  fclose (f);
  return kb < 0 ? -1 : kb * 1024;
}

/* Poll until qemu's anonymous memory is at most `target' bytes; the
 * last value read. */
static long
wait_anon_below (guestfs_h *g, long target)
{
  long a = qemu_anon (g);

  for (int i = 0; i < 120 && a > target; i++) {
    struct timespec ts = { 0, 500 * 1000 * 1000 };
    nanosleep (&ts, NULL);
    a = qemu_anon (g);
  }
  return a;
}

static char *
read_all (const char *path)
{
  FILE *f = fopen (path, "r");
  char *s = calloc (1, 1 << 20);
  size_t n = f && s ? fread (s, 1, (1 << 20) - 1, f) : 0;

  if (f)
    fclose (f);
  if (s)
    s[n] = '\0';
  return s;
}

static char *disk, *log_path;
static guestfs_h *g;            /* launched once, verbose output in log_path */
static long anon_launched;      /* right after the launch */

/* Launch on one scratch disk with the debug output going to log_path,
 * and one call made, so that guestd's messages after the resume reply
 * are in it. */
static void
t_launch (void)
{
  int saved = dup (2), fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int ok;

  g = guestfs_create ();
  CHECK (g != NULL && fd >= 0, "handle");
  fflush (stderr);
  dup2 (fd, 2);
  th_quiet (g);
  guestfs_set_verbose (g, 1);
  ok = guestfs_add_drive_opts (g, disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1) == 0 &&
       guestfs_launch (g) == 0;
  anon_launched = ok ? qemu_anon (g) : -1;
  ok = ok && guestfs_ping_daemon (g) == 0;
  if (ok)
    guestfs_set_verbose (g, 0);
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  close (fd);
  if (!ok) {
    char *log = read_all (log_path);
    guestfs_close (g);
    g = NULL;
    CHECK (0, "launch failed: %.2000s", log ? log : "");
  }
}

static void
t_device (void)
{
  char path[64], *cmd;
  int fd;
  ssize_t n;

  CHECK (g != NULL, "not launched");
  snprintf (path, sizeof path, "/proc/%d/cmdline", guestfs_get_pid (g));
  cmd = calloc (1, 65536);
  fd = open (path, O_RDONLY);
  n = fd >= 0 ? read (fd, cmd, 65535) : -1;
  if (fd >= 0)
    close (fd);
  for (ssize_t i = 0; i < n; i++)
    if (cmd[i] == '\0')
      cmd[i] = ' ';
  CHECK (n > 0 && strstr (cmd, "virtio-balloon-pci,free-page-reporting=on"),
         "no balloon device with free page reporting on qemu's command line");
  free (cmd);
}

/* The launch restored a template, and guestd bound the driver after the
 * resume: in the restored guest, not in the template. */
static void
t_bound_after_restore (void)
{
  char *log = read_all (log_path);
  const char *resumed, *bound;

  CHECK (g != NULL && log != NULL, "not launched");
  CHECK (strstr (log, "launch timings:"), "the launch did not restore a template");
  resumed = strstr (log, "resumed: 1 disks");
  bound = strstr (log, "balloon bound: free page reporting on");
  CHECK (resumed && bound && bound > resumed,
         "guestd did not bind the balloon driver after the resume");
  free (log);
}

static void
t_driver_bound (void)
{
  const char *dir[] = { "/sys/bus/virtio/drivers/virtio_balloon", NULL };
  char *ls;

  CHECK (g != NULL, "not launched");
  ls = guestfs_debug (g, "ll", (char **) dir);
  CHECK (ls != NULL, "debug ll: %s", guestfs_last_error (g));
  CHECK (strstr (ls, " virtio") && strstr (ls, "-> "),
         "the driver is bound to no device:\n%s", ls);
  free (ls);
}

/* All of guest RAM is resident after a restore on a host without a
 * shared zero page (qemu's load reads every page); reporting gives the
 * free part back.  A host that left most of it unmapped has nothing to
 * give back: skip then. */
static void
t_restore_returned (void)
{
  long mem, after;

  CHECK (g != NULL && anon_launched > 0, "not launched");
  mem = (long) guestfs_get_memsize (g) * MIB;
  if (anon_launched < mem / 2) {
    th_skip ("restore-memory-returned", "this host left most guest RAM unmapped after the restore");
    return;
  }
  after = wait_anon_below (g, anon_launched - 48 * MIB);
  CHECK (after <= anon_launched - 48 * MIB,
         "qemu's anonymous memory went from %ld to %ld MiB only", anon_launched / MIB,
         after / MIB);
}

/* path: a file of mib MiB of random bytes (no zero pages, no
 * compression); 0, or -1 if it cannot be written. */
static int
random_file (const char *path, int mib, unsigned seed)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600), ok = fd >= 0;

  for (int i = 0; ok && i < mib; i++) {
    static unsigned char buf[MIB];
    for (size_t k = 0; k < sizeof buf; k++)
      buf[k] = (unsigned char) rand_r (&seed);
    ok = write (fd, buf, sizeof buf) == (ssize_t) sizeof buf;
  }
  if (fd >= 0)
    close (fd);
  return ok ? 0 : -1;
}

/* A 64 MiB upload's pages leave the guest's page cache and go back to
 * the host: without either, qemu keeps them.  A 16 MiB upload first, so
 * that the code an upload runs is translated already: TCG's code buffer
 * grows too (up to its tb-size), and that is not what is measured. */
static void
t_transfer_returned (void)
{
  char local[64];
  long before, after;
  struct guestfs_stat *st;

  CHECK (g != NULL, "not launched");
  snprintf (local, sizeof local, "tests/out/balloon-%d", (int) getpid ());
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0 &&
         guestfs_mkfs (g, "ext4", "/dev/sda1") == 0 &&
         guestfs_mount (g, "/dev/sda1", "/") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (random_file (local, 16, 5) == 0, "writing %s: %s", local, strerror (errno));
  before = qemu_anon (g);
  CHECK (guestfs_upload (g, local, "/warm") == 0, "upload: %s", guestfs_last_error (g));
  wait_anon_below (g, before + 8 * MIB);
  CHECK (random_file (local, 64, 17) == 0, "writing %s: %s", local, strerror (errno));
  before = qemu_anon (g);
  CHECK (guestfs_upload (g, local, "/big") == 0, "upload: %s", guestfs_last_error (g));
  unlink (local);
  after = wait_anon_below (g, before + 24 * MIB);
  CHECK (after <= before + 24 * MIB,
         "qemu's anonymous memory grew from %ld to %ld MiB over a 64 MiB upload",
         before / MIB, after / MIB);
  st = guestfs_stat (g, "/big");
  CHECK (st && st->size == 64 * MIB, "the upload is not whole");
  guestfs_free_stat (st);
}

int
main (void)
{
  if (asprintf (&log_path, "tests/out/launch-balloon-%d.log", (int) getpid ()) == -1)
    abort ();
  disk = th_scratch ("balloon", 256);
  th_run ("balloon-launch", t_launch);
  th_run ("balloon-device", t_device);
  th_run ("balloon-bound-after-restore", t_bound_after_restore);
  th_run ("balloon-driver-bound", t_driver_bound);
  th_run ("restore-memory-returned", t_restore_returned);
  th_run ("transfer-memory-returned", t_transfer_returned);
  if (g)
    guestfs_close (g);
  unlink (disk);
  unlink (log_path);
  return th_done ();
}
