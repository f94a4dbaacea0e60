/* tests/launch-misc.c: checks that are about launch and the appliance's
 * life: read-only drives, formats never probed, hostile images, qemu
 * dying mid-call, wrappers, callbacks, and two handles in two threads.
 * Each check launches its own appliance.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "harness.h"

static char *
sample (const char *name)
{
  char *p, *cmd;
  if (asprintf (&p, "tests/out/%s-%d.img", name, (int) getpid ()) == -1 ||
      asprintf (&cmd, "tests/bin/make-sample-image %s 32 %s", p, name) == -1)
    abort ();
  unlink (p);
  if (system (cmd) != 0) { free (cmd); free (p); return NULL; }
  free (cmd);
  return p;
}

/* add_drive_ro has the 2009 semantics: the guest may write (mount
 * read-write, mkfs, part_disk), the writes last as long as the handle,
 * and the image is byte-identical afterwards (sha256). */
static void
t_readonly (void)
{
  char *img = sample ("ro");
  char *s;
  guestfs_h *g;
  CHECK (img, "make-sample-image failed");
  CHECK (th_system ("sha256sum '%s' > '%s.sum'", img, img) == 0, "sha256sum");
  g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_add_drive_ro (g, img) == 0 && guestfs_launch (g) == 0,
         "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_is_file (g, "/etc/hostname") == 1, "sample file missing");
  CHECK (guestfs_write_file (g, "/new", "kept\n", 0) == 0, "write on an add_drive_ro "
         "drive: %s", guestfs_last_error (g));
  CHECK (guestfs_umount_all (g) == 0 && guestfs_mount_ro (g, "/dev/sda1", "/") == 0,
         "remount: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/new");
  CHECK (s && strcmp (s, "kept\n") == 0, "the write was not kept for the handle's life");
  free (s);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_mkfs (g, "ext2", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_part_disk (g, "/dev/sda", "gpt") == 0, "part_disk: %s",
         guestfs_last_error (g));
  guestfs_close (g);
  CHECK (th_system ("sha256sum --quiet -c '%s.sum'", img) == 0, "the image changed");
  th_system ("rm -f '%s.sum'", img);
  unlink (img);
  free (img);
}

/* Overlays made by disk_create (no qemu-img) over a sample image, added
 * with trust_backing: one named by an absolute path (its chain is read
 * from its header), one by a relative name (qemu-img reads its chain).
 * The guest sees the image through both, its writes go to the overlays,
 * the image is byte-identical afterwards and the overlays check clean. */
static void
t_disk_create_overlays (void)
{
  char *img = sample ("dc"), *abs = NULL, *ovl[2] = { NULL, NULL }, *s;
  const char *base;
  guestfs_h *g;

  CHECK (img, "make-sample-image failed");
  CHECK ((abs = realpath (img, NULL)) != NULL, "realpath");
  base = strrchr (img, '/') + 1;
  CHECK (asprintf (&ovl[0], "%s.abs.qcow2", img) > 0 &&
         asprintf (&ovl[1], "%s.rel.qcow2", img) > 0, "asprintf");
  CHECK (th_system ("sha256sum '%s' > '%s.sum'", img, img) == 0, "sha256sum");
  g = guestfs_create ();
  th_quiet (g);
  for (int i = 0; i < 2; i++) {
    unlink (ovl[i]);
    CHECK (guestfs_disk_create (g, ovl[i], "qcow2", -1,
                                GUESTFS_DISK_CREATE_BACKINGFILE, i ? base : abs,
                                GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1) == 0 &&
           guestfs_add_drive_opts (g, ovl[i], GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                   GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING, 1, -1) == 0,
           "overlay %d: %s", i, guestfs_last_error (g));
  }
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  for (int i = 0; i < 2; i++) {
    const char *dev = i ? "/dev/sdb1" : "/dev/sda1";
    CHECK (guestfs_mount (g, dev, "/") == 0, "mount %s: %s", dev, guestfs_last_error (g));
    CHECK (guestfs_is_file (g, "/etc/hostname") == 1, "%s: the image's file missing", dev);
    CHECK (guestfs_write_file (g, "/new", dev, 0) == 0, "write: %s", guestfs_last_error (g));
    s = guestfs_cat (g, "/new");
    CHECK (s && strcmp (s, dev) == 0, "%s: the write is not there", dev);
    free (s);
    CHECK (guestfs_umount_all (g) == 0, "umount_all");
  }
  guestfs_close (g);
  CHECK (th_system ("sha256sum --quiet -c '%s.sum'", img) == 0, "the image changed");
  for (int i = 0; i < 2; i++)
    CHECK (th_system ("qemu-img check -q '%s'", ovl[i]) == 0, "qemu-img check %s", ovl[i]);
  th_system ("rm -f '%s.sum' '%s' '%s'", img, ovl[0], ovl[1]);
  unlink (img);
  free (img);
  free (abs);
  free (ovl[0]);
  free (ovl[1]);
}

/* An image of a filesystem that was never unmounted (as when a running
 * VM's disk is copied): a read-only drive still mounts with mount_ro. */
static void
t_dirty_readonly (void)
{
  char *img = th_scratch ("dirty", 32);
  const char *imgs[] = { img, NULL };
  guestfs_h *g = th_launch (imgs, 0);
  char *s;
  CHECK (g != NULL, "launch");
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0 &&
         guestfs_mkfs (g, "ext4", "/dev/sda1") == 0 &&
         guestfs_mount (g, "/dev/sda1", "/") == 0 &&
         guestfs_write_file (g, "/f", "dirty\n", 0) == 0 &&
         guestfs_sync (g) == 0, "prepare: %s", guestfs_last_error (g));
  CHECK (guestfs_kill_subprocess (g) == 0, "kill");      /* never unmounted */
  guestfs_close (g);
  g = th_launch (imgs, 1);
  CHECK (g != NULL, "launch read-only");
  CHECK (guestfs_mount_ro (g, "/dev/sda1", "/") == 0, "mount_ro of a dirty ext4: %s",
         guestfs_last_error (g));
  s = guestfs_cat (g, "/f");
  CHECK (s && strcmp (s, "dirty\n") == 0, "cat /f: %s", s ? s : guestfs_last_error (g));
  free (s);
  /* Read-write, the journal is replayed on the overlay, not the image. */
  CHECK (th_system ("sha256sum '%s' > '%s.sum'", img, img) == 0, "sha256sum");
  CHECK (guestfs_umount_all (g) == 0 && guestfs_mount (g, "/dev/sda1", "/") == 0,
         "mount of a dirty ext4 on add_drive_ro: %s", guestfs_last_error (g));
  guestfs_close (g);
  CHECK (th_system ("sha256sum --quiet -c '%s.sum'", img) == 0, "the dirty image changed");
  th_system ("rm -f '%s.sum'", img);
  unlink (img);
  free (img);
}

/* A raw image that begins with a qcow2 header naming a host file as its
 * backing file: the guest must see the raw bytes, not the host file. */
static void
t_qcow2_header_in_raw (void)
{
  char *img = th_scratch ("fakeqcow", 1), *back = th_scratch ("hostsecret", 1);
  unsigned char hdr[512] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
  const char *bname = back;
  size_t blen = strlen (bname);
  char local[] = "tests/out/headXXXXXX";
  unsigned char got[512];
  int fd;
  guestfs_h *g;
  FILE *f;

  /* backing_file_offset (8 bytes at 8) and size (4 bytes at 16) */
  hdr[15] = 200; hdr[19] = (unsigned char) blen;
  hdr[27] = 0; hdr[24] = 0; /* size field at 24: leave 0 */
  memcpy (hdr + 200, bname, blen);
  fd = open (img, O_WRONLY);
  CHECK (fd >= 0 && pwrite (fd, hdr, sizeof hdr, 0) == sizeof hdr, "write header");
  close (fd);
  fd = open (back, O_WRONLY);
  CHECK (fd >= 0 && pwrite (fd, "HOST SECRET", 11, 0) == 11, "write host file");
  close (fd);
  g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_add_drive (g, img) == 0 && guestfs_launch (g) == 0,
         "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda") == 1 << 20, "size is not the raw file's");
  fd = mkstemp (local);
  close (fd);
  CHECK (guestfs_download (g, "/dev/sda", local) == 0, "download: %s", guestfs_last_error (g));
  f = fopen (local, "r");
  CHECK (f && fread (got, 1, sizeof got, f) == sizeof got, "read back");
  fclose (f);
  CHECK (memcmp (got, hdr, sizeof hdr) == 0, "the guest did not see the raw bytes");
  guestfs_close (g);
  unlink (local);
  unlink (img);
  unlink (back);
  free (img);
  free (back);
}

static void
t_qcow2_explicit (void)
{
  char *img, *cmd;
  guestfs_h *g;

  /* qemu-img is a dependency of the library itself (drive checks): its
   * absence fails this check rather than skipping it. */
  if (asprintf (&img, "tests/out/explicit-%d.qcow2", (int) getpid ()) == -1 ||
      asprintf (&cmd, "qemu-img create -q -f qcow2 %s 16M", img) == -1)
    abort ();
  CHECK (system (cmd) == 0, "qemu-img create");
  g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1) == 0 &&
         guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda") == 16 << 20, "qcow2 virtual size");
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0 && guestfs_mkfs (g, "ext4", "/dev/sda1") == 0,
         "write to qcow2: %s", guestfs_last_error (g));
  guestfs_close (g);
  unlink (img);
  free (img);
  free (cmd);
}

static void
t_garbage_image (void)
{
  char *img = th_scratch ("garbage", 2);
  unsigned seed = 7;
  FILE *f = fopen (img, "w");
  guestfs_h *g;
  char **l;
  for (int i = 0; i < 2 << 20; i++) fputc (rand_r (&seed) & 0xff, f);
  fclose (f);
  g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_add_drive_ro (g, img) == 0 && guestfs_launch (g) == 0,
         "launch on garbage: %s", guestfs_last_error (g));
  l = guestfs_list_partitions (g);
  CHECK (l != NULL, "list_partitions: %s", guestfs_last_error (g));
  th_count_free (l);
  CHECK (guestfs_mount_ro (g, "/dev/sda", "/") == -1, "mounted garbage");
  CHECK_ERR (g, "mount_ro");
  CHECK (guestfs_ping_daemon (g) == 0, "daemon unwell after garbage");
  guestfs_close (g);
  unlink (img);
  free (img);
}

static int quit_calls;
static void on_quit (guestfs_h *g, void *opaque) { quit_calls++; }
static int launched;
static void on_launch (guestfs_h *g, void *opaque) { launched++; }

static void *
killer (void *arg)
{
  usleep (800 * 1000);
  kill (*(pid_t *) arg, SIGKILL);
  return NULL;
}

static void
t_qemu_dies_mid_call (void)
{
  char *disk = th_scratch ("dies", 256), *big = th_scratch ("bigsrc", 1024);
  guestfs_h *g = guestfs_create ();
  pthread_t t;
  pid_t pid;
  int r;
  th_quiet (g);
  guestfs_set_subprocess_quit_callback (g, on_quit, NULL);
  guestfs_set_launch_done_callback (g, on_launch, NULL);
  CHECK (guestfs_add_drive (g, disk) == 0 && guestfs_launch (g) == 0,
         "launch: %s", guestfs_last_error (g));
  CHECK (launched == 1, "launch-done callback ran %d times", launched);
  pid = guestfs_get_pid (g);
  CHECK (pid > 0, "get_pid");
  pthread_create (&t, NULL, killer, &pid);
  /* 1 GiB through the channel takes far longer than 0.8 s. */
  r = guestfs_upload (g, big, "/dev/sda");
  pthread_join (t, NULL);
  CHECK (r == -1, "upload survived the death of qemu");
  CHECK_ERR (g, "appliance");
  CHECK (quit_calls == 1, "subprocess-quit callback ran %d times", quit_calls);
  CHECK (guestfs_is_config (g) == 1, "state after death: %d", guestfs_get_state (g));
  CHECK (guestfs_ping_daemon (g) == -1, "call after death succeeded");
  CHECK_ERR (g, "not running");
  guestfs_close (g);
  CHECK (quit_calls == 1, "quit callback ran again at close");
  unlink (disk);
  unlink (big);
  free (disk);
  free (big);
}

static void
t_kill_subprocess (void)
{
  char *disk = th_scratch ("kill", 8);
  guestfs_h *g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_kill_subprocess (g) == -1, "kill_subprocess without qemu");
  CHECK (guestfs_add_drive (g, disk) == 0 && guestfs_launch (g) == 0, "launch");
  CHECK (guestfs_kill_subprocess (g) == 0, "kill_subprocess: %s", guestfs_last_error (g));
  CHECK (guestfs_is_config (g) == 1, "state after kill");
  guestfs_close (g);
  unlink (disk);
  free (disk);
}

static void
t_bad_qemu (void)
{
  char *disk = th_scratch ("badqemu", 8);
  guestfs_h *g = guestfs_create ();
  th_quiet (g);
  CHECK (guestfs_set_qemu (g, "/nonexistent/qemu-system") == 0, "set_qemu");
  CHECK (guestfs_add_drive (g, disk) == 0, "add_drive");
  CHECK (guestfs_launch (g) == -1, "launch with a missing qemu succeeded");
  CHECK_ERR (g, "/nonexistent/qemu-system");
  CHECK (guestfs_is_config (g) == 1, "state after failed launch");
  guestfs_close (g);
  unlink (disk);
  free (disk);
}

static char log_buf[65536];
static size_t log_bytes;
static void
on_log (guestfs_h *g, void *o, char *buf, int len)
{
  size_t n = (size_t) len;
  if (log_bytes + n > sizeof log_buf - 1)
    n = sizeof log_buf - 1 - log_bytes;
  memcpy (log_buf + log_bytes, buf, n);
  log_bytes += n;
}

/* The wrapper runs confined like qemu (it may write nothing on the
 * host): it says that it ran on its stderr, the console. */
static void
t_qemu_wrapper (void)
{
  const char *wrapper = "tests/out/qemu-wrapper.sh";
  char *disk = th_scratch ("wrap", 8);
  FILE *f;
  guestfs_h *g;
  f = fopen (wrapper, "w");
  CHECK (f != NULL, "write wrapper");
  fprintf (f, "#!/bin/sh -\necho guestkit-wrapper-ran-%d >&2\n"
           "exec qemu-system-x86_64 \"$@\"\n", (int) getpid ());
  fclose (f);
  chmod (wrapper, 0755);
  setenv ("LIBGUESTFS_QEMU", wrapper, 1);
  g = guestfs_create ();
  unsetenv ("LIBGUESTFS_QEMU");
  th_quiet (g);
  log_bytes = 0;
  memset (log_buf, 0, sizeof log_buf);
  guestfs_set_log_message_callback (g, on_log, NULL);
  CHECK (strcmp (guestfs_get_qemu (g), wrapper) == 0, "LIBGUESTFS_QEMU not read");
  CHECK (guestfs_add_drive (g, disk) == 0 && guestfs_launch (g) == 0,
         "launch through wrapper: %s", guestfs_last_error (g));
  {
    char marker[64];
    snprintf (marker, sizeof marker, "guestkit-wrapper-ran-%d", (int) getpid ());
    CHECK (strstr (log_buf, marker), "the wrapper did not run");
  }
  CHECK (guestfs_ping_daemon (g) == 0, "ping");
  guestfs_close (g);
  unlink (disk);
  free (disk);
}

static void
t_log_callback (void)
{
  char *disk = th_scratch ("log", 8);
  guestfs_h *g = guestfs_create ();
  th_quiet (g);
  guestfs_set_log_message_callback (g, on_log, NULL);
  guestfs_set_verbose (g, 1);
  CHECK (guestfs_add_drive (g, disk) == 0 && guestfs_launch (g) == 0, "launch");
  /* A verbose guestd logs every call on the console. */
  for (int i = 0; i < 5; i++)
    CHECK (guestfs_ping_daemon (g) == 0, "ping");
  CHECK (log_bytes > 100 && strstr (log_buf, "guestd: ") &&
         strstr (log_buf, "ping_daemon"), "console output lacks guestd's call log: %zu bytes",
         log_bytes);
  guestfs_close (g);
  unlink (disk);
  free (disk);
}

struct worker { char *disk; int ok; char msg[256]; };

static void *
thread_main (void *arg)
{
  struct worker *w = arg;
  guestfs_h *g = guestfs_create ();
  char *s;
  th_quiet (g);
  if (guestfs_add_drive (g, w->disk) == -1 || guestfs_launch (g) == -1 ||
      guestfs_part_disk (g, "/dev/sda", "msdos") == -1 ||
      guestfs_mkfs (g, "ext2", "/dev/sda1") == -1 ||
      guestfs_mount (g, "/dev/sda1", "/") == -1 ||
      guestfs_write_file (g, "/who", w->disk, 0) == -1 ||
      (s = guestfs_cat (g, "/who")) == NULL) {
    snprintf (w->msg, sizeof w->msg, "%s", guestfs_last_error (g));
    guestfs_close (g);
    return NULL;
  }
  w->ok = strcmp (s, w->disk) == 0;
  free (s);
  guestfs_close (g);
  return NULL;
}

static void
t_two_threads (void)
{
  struct worker w[2] = { { th_scratch ("thr0", 16), 0, "" }, { th_scratch ("thr1", 16), 0, "" } };
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create (&t[i], NULL, thread_main, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join (t[i], NULL);
  for (int i = 0; i < 2; i++) {
    CHECK (w[i].ok, "thread %d: %s", i, w[i].msg);
    unlink (w[i].disk);
    free (w[i].disk);
  }
}

int
main (void)
{
  th_run ("launch-readonly-drive", t_readonly);
  th_run ("launch-dirty-fs-readonly", t_dirty_readonly);
  th_run ("launch-disk-create-overlays", t_disk_create_overlays);
  th_run ("launch-qcow2-header-in-raw-not-probed", t_qcow2_header_in_raw);
  th_run ("launch-qcow2-explicit-format", t_qcow2_explicit);
  th_run ("launch-garbage-image", t_garbage_image);
  th_run ("launch-qemu-dies-mid-call", t_qemu_dies_mid_call);
  th_run ("launch-kill-subprocess", t_kill_subprocess);
  th_run ("launch-missing-qemu", t_bad_qemu);
  th_run ("launch-qemu-wrapper", t_qemu_wrapper);
  th_run ("launch-log-callback", t_log_callback);
  th_run ("launch-two-threads", t_two_threads);
  return th_done ();
}
