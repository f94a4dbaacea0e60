/* tests/hardening-confine.c: what qemu and the library may touch on the
 * host (issue 16).
 *
 *  - trust-backing: add_drive_opts trust_backing=1 lets one qcow2 overlay
 *    use its backing file (the guest reads it), while the same image
 *    without the option is still refused.
 *  - qemu-confined: the running qemu has a seccomp filter (Seccomp: 2),
 *    no_new_privs, and, when we are root, a uid other than 0.
 *  - host-path-refused: a qemu told (by config) to open a host file,
 *    /etc/shadow or the world-readable /etc/hostname, cannot: the launch
 *    fails with qemu's own "Permission denied".  Unconfined, qemu opens
 *    both and the launch succeeds.
 *  - vmdk-fifo-extent: a vmdk whose descriptor names a FIFO is refused,
 *    and nothing opens the FIFO meanwhile: a thread that keeps trying to
 *    open it for writing (O_NONBLOCK) while add_drive_opts runs never
 *    finds a reader.  (qemu-img info, used before, blocked in that open.)
 *  - vmdk-parent-refused / vmdk-sparse-accepted: a sparse vmdk naming a
 *    parent is refused, a plain one is taken.
 *  - fds-not-shared: two handles launched at once from two threads; each
 *    qemu holds an fd to its own disk (/proc/PID/fd) and none to the
 *    other's (every fd of the library is O_CLOEXEC, and qemu's are
 *    handed over only in its own child).
 *  - fileout-closed-pipe: download into a FIFO whose reader goes away
 *    after one byte fails with EPIPE, and the caller (SIGPIPE at its
 *    default, fatal) lives on with a working handle.
 *  - console-cleaned: a qemu (wrapper) that prints escape sequences and
 *    C1 codes (raw and UTF-8) before dying: the launch error shows them
 *    as '?', and keeps the printable text and UTF-8 letters.
 *  - setters-after-launch: the 2009 setters succeed on a running handle
 *    and take effect at the next launch (qemu's -m, from its cmdline).
 *  - autosync-at-exit: a child process with an autosync handle writes a
 *    file and calls exit() without closing; the file is on the disk
 *    afterwards.  Without the exit handler the recovery process would
 *    SIGKILL its qemu with the write still in the guest's page cache.
 *  - call-timeout: GUESTKIT_CALL_TIMEOUT sets a new handle's limit;
 *    with set_call_timeout 2, `sleep 30' fails saying the limit passed,
 *    the appliance is gone (CONFIG), and a relaunch works.
 *  - garbage-qcow2: a file of noise called qcow2 is reported as corrupt
 *    or not qcow2, not as naming a backing file.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdint.h>

#include "harness.h"

static char out[256];         /* tests/out/confine-PID: scratch files */

static char *
path (const char *name)
{
  char *p;
  if (asprintf (&p, "%s/%s", out, name) == -1)
    abort ();
  return p;
}

static guestfs_h *
handle (void)
{
  guestfs_h *g = guestfs_create ();
  if (g == NULL)
    abort ();
  th_quiet (g);
  return g;
}

/* Write n bytes of s at the start of a new file of 1 MiB. */
static int
make_raw (const char *file, const char *s)
{
  int fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int r = fd >= 0 && write (fd, s, strlen (s)) == (ssize_t) strlen (s) &&
          ftruncate (fd, 1 << 20) == 0;
  if (fd >= 0)
    close (fd);
  return r ? 0 : -1;
}

/* ---- trust_backing ---- */

static void
t_trust_backing (void)
{
  char *base = path ("base.raw"), *img = path ("overlay.qcow2");
  char *local = path ("overlay.out");
  char buf[16] = "";
  guestfs_h *g = handle ();
  FILE *f;

  unsetenv ("GUESTKIT_ALLOW_BACKING");
  CHECK (make_raw (base, "BASE CONTENT") == 0, "%s", base);
  CHECK (th_system ("qemu-img create -q -f qcow2 -b '%s' -F raw '%s' 1M", base, img) == 0,
         "qemu-img create");
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) == -1,
         "an untrusted overlay was accepted");
  CHECK_ERR (g, "a backing file");
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                 GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING, 1, -1) == 0,
         "trusted overlay refused: %s", guestfs_last_error (g));
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_download (g, "/dev/sda", local) == 0, "download: %s",
         guestfs_last_error (g));
  f = fopen (local, "re");
  CHECK (f && fread (buf, 1, 12, f) == 12, "read %s", local);
  fclose (f);
  CHECK (memcmp (buf, "BASE CONTENT", 12) == 0, "the guest did not see the backing file");
  guestfs_close (g);
  unlink (local);
  free (local);
  free (base);
  free (img);
}

/* ---- vmdk ---- */

struct watch { const char *fifo; int stop; int opened; };   /* stop: atomic */

static void *
watch_fifo (void *arg)
{
  struct watch *w = arg;

  do {
    int fd = open (w->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      w->opened = 1;
      close (fd);
    }
    usleep (1000);
  } while (!__atomic_load_n (&w->stop, __ATOMIC_ACQUIRE));
  return NULL;
}

static void
t_vmdk_fifo_extent (void)
{
  char *img = path ("fifo.vmdk"), *fifo = path ("extent.fifo");
  struct watch w = { fifo, 0, 0 };
  guestfs_h *g = handle ();
  pthread_t t;
  FILE *f;
  int r;

  CHECK (mkfifo (fifo, 0600) == 0, "mkfifo %s", fifo);
  f = fopen (img, "we");
  CHECK (f, "%s", img);
  fprintf (f, "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
           "createType=\"monolithicFlat\"\n\nRW 2048 FLAT \"%s\" 0\n", fifo);
  fclose (f);
  CHECK (pthread_create (&t, NULL, watch_fifo, &w) == 0, "pthread_create");
  r = guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "vmdk",
                              GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, -1);
  __atomic_store_n (&w.stop, 1, __ATOMIC_RELEASE);
  pthread_join (t, NULL);
  CHECK (r == -1, "a vmdk naming a FIFO was accepted");
  CHECK_ERR (g, "another file");
  CHECK (!w.opened, "something opened the FIFO the vmdk names");
  /* The image itself being a FIFO: refused without blocking either. */
  CHECK (guestfs_add_drive_opts (g, fifo, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "vmdk", -1) == -1,
         "a FIFO was accepted as an image");
  CHECK_ERR (g, "FIFO");
  guestfs_close (g);
  unlink (fifo);
  free (img);
  free (fifo);
}

static void
t_vmdk_parent (void)
{
  char *base = path ("base.vmdk"), *img = path ("child.vmdk");
  guestfs_h *g = handle ();

  CHECK (th_system ("qemu-img create -q -f vmdk '%s' 1M && "
                    "qemu-img create -q -f vmdk -b '%s' -F vmdk '%s'", base, base, img) == 0,
         "qemu-img create");
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "vmdk", -1) == -1,
         "a vmdk naming a parent was accepted");
  CHECK_ERR (g, "a backing file");
  CHECK (guestfs_add_drive_opts (g, base, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "vmdk", -1) == 0,
         "a plain sparse vmdk was refused: %s", guestfs_last_error (g));
  guestfs_close (g);
  free (base);
  free (img);
}

static void
t_garbage_qcow2 (void)
{
  char *img = path ("garbage.qcow2");
  guestfs_h *g = handle ();

  CHECK (th_system ("head -c 65536 /dev/urandom > '%s'", img) == 0, "noise");
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) == -1,
         "noise accepted as qcow2");
  CHECK_ERR (g, "corrupt");
  CHECK (strstr (guestfs_last_error (g), "backing") == NULL, "the error talks of backing "
         "files: %s", guestfs_last_error (g));
  guestfs_close (g);
  free (img);
}

/* ---- console ---- */

static void
t_console_cleaned (void)
{
  char *wrapper = path ("noisy-qemu.sh");
  guestfs_h *g = handle ();
  const char *e;
  FILE *f = fopen (wrapper, "we");

  CHECK (f, "%s", wrapper);
  fprintf (f, "#!/bin/sh -\nprintf 'BAD\\033[31mRED\\302\\233X\\233Y\\303\\251\\n' >&2\n"
           "exit 1\n");
  fclose (f);
  CHECK (chmod (wrapper, 0755) == 0, "chmod");
  CHECK (guestfs_set_qemu (g, wrapper) == 0, "set_qemu");
  CHECK (guestfs_launch (g) == -1, "the noisy qemu launched");
  e = guestfs_last_error (g);
  CHECK (e && strstr (e, "BAD?[31mRED?X?Y\xc3\xa9"), "error not cleaned as expected: %s",
         e ? e : "(none)");
  for (const unsigned char *p = (const unsigned char *) e; *p; p++)
    CHECK (*p >= 0x20 || *p == '\n' || *p == '\t', "control byte 0x%02x in the error", *p);
  guestfs_close (g);
  free (wrapper);
}

/* ---- fds ---- */

struct launcher { char *disk; guestfs_h *g; };

static void *
launch_one (void *arg)
{
  struct launcher *l = arg;

  l->g = handle ();
  if (guestfs_add_drive (l->g, l->disk) == -1 || guestfs_launch (l->g) == -1) {
    guestfs_close (l->g);
    l->g = NULL;
  }
  return NULL;
}

/* Does process pid hold an fd to file? */
static int
holds (int pid, const char *file)
{
  char dir[64], link[PATH_MAX], *real = realpath (file, NULL);
  int found = 0;

  for (int fd = 0; fd < 1024 && real && !found; fd++) {
    ssize_t n;
    snprintf (dir, sizeof dir, "/proc/%d/fd/%d", pid, fd);
    n = readlink (dir, link, sizeof link - 1);
    if (n > 0) {
      link[n] = '\0';
      found = strcmp (link, real) == 0;
    }
  }
  free (real);
  return found;
}

static void
t_fds_not_shared (void)
{
  struct launcher l[2] = { { path ("a.img"), NULL }, { path ("b.img"), NULL } };
  pthread_t t[2];

  for (int i = 0; i < 2; i++)
    CHECK (make_raw (l[i].disk, "") == 0, "%s", l[i].disk);
  for (int i = 0; i < 2; i++)
    CHECK (pthread_create (&t[i], NULL, launch_one, &l[i]) == 0, "pthread_create");
  for (int i = 0; i < 2; i++)
    pthread_join (t[i], NULL);
  CHECK (l[0].g && l[1].g, "a launch failed");
  for (int i = 0; i < 2; i++) {
    int pid = guestfs_get_pid (l[i].g);
    CHECK (holds (pid, l[i].disk), "qemu %d has no fd to its own disk", pid);
    CHECK (!holds (pid, l[1 - i].disk), "qemu %d holds the other handle's disk", pid);
  }
  for (int i = 0; i < 2; i++) {
    guestfs_close (l[i].g);
    free (l[i].disk);
  }
}

/* ---- the running qemu ---- */

static guestfs_h *shared;     /* one launched appliance for the checks below */

/* The value of `field' in /proc/pid/status (static buffer), or "". */
static const char *
status_field (int pid, const char *field)
{
  static char line[256];
  char file[64];
  FILE *f;

  snprintf (file, sizeof file, "/proc/%d/status", pid);
  f = fopen (file, "re");
  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, field, strlen (field)) == 0 && line[strlen (field)] == ':') {
      fclose (f);
      return line + strlen (field) + 1 + strspn (line + strlen (field) + 1, " \t");
    }
  if (f)
    fclose (f);
  return "";
}

static void *
read_one_byte (void *fifo)
{
  char c;
  int fd = open (fifo, O_RDONLY | O_CLOEXEC);

  if (fd >= 0) {
    (void) !read (fd, &c, 1);
    close (fd);
  }
  return NULL;
}

static void
t_fileout_closed_pipe (void)
{
  char *fifo = path ("out.fifo");
  pthread_t t;
  int r;

  signal (SIGPIPE, SIG_DFL);
  CHECK (mkfifo (fifo, 0600) == 0, "mkfifo");
  CHECK (pthread_create (&t, NULL, read_one_byte, fifo) == 0, "pthread_create");
  r = guestfs_download (shared, "/dev/sda", fifo);
  pthread_join (t, NULL);
  CHECK (r == -1, "a download into a closed pipe succeeded");
  CHECK_ERR (shared, "Broken pipe");
  CHECK (guestfs_ping_daemon (shared) == 0, "handle unusable after: %s",
         guestfs_last_error (shared));
  unlink (fifo);
  free (fifo);
}

static void
t_qemu_confined (void)
{
  int pid = guestfs_get_pid (shared);

  CHECK (pid > 0, "get_pid: %s", guestfs_last_error (shared));
  CHECK (atoi (status_field (pid, "Seccomp")) == 2, "Seccomp: %s", status_field (pid, "Seccomp"));
  CHECK (atoi (status_field (pid, "NoNewPrivs")) == 1, "NoNewPrivs: %s",
         status_field (pid, "NoNewPrivs"));
  if (geteuid () == 0)
    CHECK (atoi (status_field (pid, "Uid")) != 0, "qemu runs as root: Uid: %s",
           status_field (pid, "Uid"));
}

/* qemu is asked to open `file' itself; it must be refused. */
static void
open_refused (const char *file)
{
  guestfs_h *g = handle ();
  char *opt;

  if (asprintf (&opt, "driver=file,node-name=evil,filename=%s,read-only=on", file) == -1)
    abort ();
  CHECK (guestfs_config (g, "-blockdev", opt) == 0, "config: %s", guestfs_last_error (g));
  CHECK (guestfs_launch (g) == -1, "qemu opened %s", file);
  CHECK_ERR (g, "Permission denied");
  guestfs_close (g);
  free (opt);
}

static void
t_host_path_refused (void)
{
  open_refused ("/etc/shadow");
  open_refused ("/etc/hostname");
}

/* The child of autosync-at-exit: never returns. */
static void
write_and_exit (const char *disk, int report)
{
  guestfs_h *g = handle ();
  int pid = -1;

  if (guestfs_set_autosync (g, 1) == 0 && guestfs_add_drive (g, disk) == 0 &&
      guestfs_launch (g) == 0 && guestfs_mkfs (g, "ext4", "/dev/sda") == 0 &&
      guestfs_mount (g, "/dev/sda", "/") == 0 &&
      guestfs_write_file (g, "/left", "written before exit\n", 0) == 0)
    pid = guestfs_get_pid (g);
  (void) !write (report, &pid, sizeof pid);
  exit (0);                     /* no guestfs_close */
}

static void
t_autosync_at_exit (void)
{
  char *disk = path ("exit.img"), *s;
  const char *const images[] = { disk, NULL };
  int p[2], qemu = -1, status;
  guestfs_h *g;
  pid_t child;

  CHECK (make_raw (disk, "") == 0 && truncate (disk, 32 << 20) == 0, "%s", disk);
  CHECK (pipe2 (p, O_CLOEXEC) == 0, "pipe");
  fflush (stdout);
  child = fork ();
  CHECK (child >= 0, "fork");
  if (child == 0)
    write_and_exit (disk, p[1]);
  close (p[1]);
  CHECK (read (p[0], &qemu, sizeof qemu) == sizeof qemu && qemu > 0, "the child failed");
  close (p[0]);
  CHECK (waitpid (child, &status, 0) == child && WIFEXITED (status), "child status");
  while (kill (qemu, 0) == 0)             /* its qemu, reparented, ends */
    usleep (100000);
  g = th_launch (images, 0);
  CHECK (g != NULL, "relaunch");
  CHECK (guestfs_mount (g, "/dev/sda", "/") == 0, "mount: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/left");
  CHECK (s && strcmp (s, "written before exit\n") == 0, "the write was lost at exit: %s",
         s ? s : guestfs_last_error (g));
  free (s);
  guestfs_close (g);
  free (disk);
}

/* Does the command line of process pid have `opt' followed by `val'? */
static int
cmdline_has (int pid, const char *opt, const char *val)
{
  char file[64], buf[65536];
  size_t n;
  FILE *f;

  snprintf (file, sizeof file, "/proc/%d/cmdline", pid);
  f = fopen (file, "re");
  if (f == NULL)
    return 0;
  n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  for (size_t i = 0; i < n; i += strlen (buf + i) + 1)
    if (strcmp (buf + i, opt) == 0 && i + strlen (opt) + 1 < n &&
        strcmp (buf + i + strlen (opt) + 1, val) == 0)
      return 1;
  return 0;
}

static void
t_setters_after_launch (void)
{
  int old = guestfs_get_memsize (shared);
  char olds[32];

  snprintf (olds, sizeof olds, "%d", old);
  CHECK (cmdline_has (guestfs_get_pid (shared), "-m", olds), "cannot see qemu's -m %s", olds);
  CHECK (guestfs_set_memsize (shared, 384) == 0, "set_memsize after launch: %s",
         guestfs_last_error (shared));
  CHECK (guestfs_set_selinux (shared, 0) == 0 && guestfs_set_direct (shared, 0) == 0 &&
         guestfs_set_append (shared, NULL) == 0 && guestfs_set_path (shared, guestfs_get_path (shared)) == 0 &&
         guestfs_set_qemu (shared, guestfs_get_qemu (shared)) == 0, "a setter failed after launch: %s",
         guestfs_last_error (shared));
  CHECK (guestfs_get_memsize (shared) == 384, "get_memsize");
  CHECK (guestfs_ping_daemon (shared) == 0, "the running appliance was disturbed");
  CHECK (!cmdline_has (guestfs_get_pid (shared), "-m", "384"), "took effect at once?");
  CHECK (guestfs_kill_subprocess (shared) == 0 && guestfs_launch (shared) == 0,
         "relaunch: %s", guestfs_last_error (shared));
  CHECK (cmdline_has (guestfs_get_pid (shared), "-m", "384"),
         "the next launch did not use the new memory size");
  guestfs_set_memsize (shared, old);
}

static void
t_call_timeout (void)
{
  guestfs_h *g;

  setenv ("GUESTKIT_CALL_TIMEOUT", "7", 1);
  g = handle ();
  unsetenv ("GUESTKIT_CALL_TIMEOUT");
  CHECK (guestfs_get_call_timeout (g) == 7, "GUESTKIT_CALL_TIMEOUT not read");
  guestfs_close (g);
  CHECK (guestfs_set_call_timeout (shared, -1) == -1, "a negative limit accepted");
  CHECK (guestfs_set_call_timeout (shared, 2) == 0 &&
         guestfs_get_call_timeout (shared) == 2, "set_call_timeout");
  CHECK (guestfs_sleep (shared, 1) == 0, "a call within the limit failed: %s",
         guestfs_last_error (shared));
  CHECK (guestfs_sleep (shared, 30) == -1, "sleep 30 outlived a 2 s limit");
  CHECK_ERR (shared, "time limit");
  CHECK (guestfs_is_config (shared) == 1, "the appliance was not ended");
  CHECK (guestfs_set_call_timeout (shared, 0) == 0 && guestfs_launch (shared) == 0 &&
         guestfs_ping_daemon (shared) == 0, "relaunch: %s", guestfs_last_error (shared));
}

int
main (void)
{
  mkdir ("tests/out", 0755);
  if (getcwd (out, 200) == NULL)
    abort ();
  snprintf (out + strlen (out), sizeof out - strlen (out), "/tests/out/confine-%d",
            (int) getpid ());
  if (mkdir (out, 0755) == -1) {
    perror (out);
    return 1;
  }
  th_run ("trust-backing", t_trust_backing);
  th_run ("host-path-refused", t_host_path_refused);
  th_run ("vmdk-fifo-extent", t_vmdk_fifo_extent);
  th_run ("vmdk-parent-refused", t_vmdk_parent);
  th_run ("garbage-qcow2", t_garbage_qcow2);
  th_run ("fds-not-shared", t_fds_not_shared);
  th_run ("console-cleaned", t_console_cleaned);
  th_run ("autosync-at-exit", t_autosync_at_exit);
  {
    char *disk = path ("disk.img");
    const char *const images[] = { disk, NULL };
    if (make_raw (disk, "") == 0 && truncate (disk, 8 << 20) == 0 && (shared = th_launch (images, 0)) != NULL) {
      th_run ("qemu-confined", t_qemu_confined);
      th_run ("fileout-closed-pipe", t_fileout_closed_pipe);
      th_run ("setters-after-launch", t_setters_after_launch);
      th_run ("call-timeout", t_call_timeout);
      guestfs_close (shared);
    }
    free (disk);
  }
  th_system ("rm -rf '%s'", out);
  return th_done ();
}
