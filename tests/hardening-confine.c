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
 *  - garbage-qcow2: a file of noise called qcow2 is reported as corrupt
 *    or not qcow2, not as naming a backing file.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
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

struct watch { const char *fifo; volatile int stop; int opened; };

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
  } while (!w->stop);
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
  w.stop = 1;
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
  {
    char *disk = path ("disk.img");
    const char *const images[] = { disk, NULL };
    if (make_raw (disk, "") == 0 && truncate (disk, 8 << 20) == 0 && (shared = th_launch (images, 0)) != NULL) {
      th_run ("qemu-confined", t_qemu_confined);
      th_run ("fileout-closed-pipe", t_fileout_closed_pipe);
      guestfs_close (shared);
    }
    free (disk);
  }
  th_system ("rm -rf '%s'", out);
  return th_done ();
}
