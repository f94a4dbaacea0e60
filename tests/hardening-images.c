/* tests/hardening-images.c: hostile images and hostile guest paths.
 *
 *  - an image that names another host file (qcow2 backing file, relative
 *    or absolute, qcow2 external data file, qed backing file, vmdk
 *    extent) is refused at add_drive, unless GUESTKIT_ALLOW_BACKING=1;
 *  - a truncated qcow2 and a filesystem with corrupt metadata give clean
 *    errors, and nothing hangs (a watchdog fails the test after
 *    WATCHDOG seconds);
 *  - guest symlinks pointing out of the guest are resolved inside it by
 *    download, and tar_out writes only its destination on the host;
 *  - 100,000 files in one directory are listed by find0 (a stream) with
 *    the library's memory bounded, and by ls (one reply).
 * A raw image carrying a qcow2 header is launch-misc's
 * launch-qcow2-header-in-raw.
 */
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

#define WATCHDOG 300          /* seconds any one check may take */

static char out[256];         /* tests/out/images-PID: scratch files */
static char *secret;          /* a host file that must never be read */

static void
on_alarm (int sig)
{
  static const char msg[] = "FAIL: hung: a check took more than the watchdog's time\n";
  (void) !write (1, msg, sizeof msg - 1);
  _exit (1);
}

static int
run (const char *fmt, ...)
{
  char *cmd;
  va_list ap;
  int r;

  va_start (ap, fmt);
  if (vasprintf (&cmd, fmt, ap) == -1)
    abort ();
  va_end (ap);
  r = system (cmd);
  free (cmd);
  return r;
}

static char *
path (const char *name)
{
  char *p;
  if (asprintf (&p, "%s/%s", out, name) == -1)
    abort ();
  return p;
}

static int
add (guestfs_h *g, const char *img, const char *format, int ro)
{
  return guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, format,
                                 GUESTFS_ADD_DRIVE_OPTS_READONLY, ro, -1);
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

/* ---- images that name host files ---- */

static void
refused (const char *img, const char *format, const char *what)
{
  guestfs_h *g = handle ();
  int r = add (g, img, format, 0), r2 = add (g, img, format, 1);

  CHECK (r == -1 && r2 == -1, "%s image naming %s accepted", format, what);
  CHECK_ERR (g, what);
  CHECK_ERR (g, "refused");
  guestfs_close (g);
}

static void
t_qcow2_backing (void)
{
  char *img = path ("backing.qcow2");
  CHECK (run ("qemu-img create -q -f qcow2 -b '%s' -F raw '%s' 1M", secret, img) == 0,
         "qemu-img create");
  refused (img, "qcow2", "a backing file");
  free (img);
}

static void
t_qcow2_relative_backing (void)
{
  char *img = path ("relbacking.qcow2");
  CHECK (run ("qemu-img create -q -f qcow2 -u -b ../../../../../../../../etc/hostname "
              "-F raw '%s' 1M", img) == 0, "qemu-img create");
  refused (img, "qcow2", "a backing file");
  free (img);
}

static void
t_qcow2_data_file (void)
{
  char *img = path ("datafile.qcow2"), *data = path ("datafile.raw");
  CHECK (run ("qemu-img create -q -f qcow2 -o data_file='%s' '%s' 1M", data, img) == 0,
         "qemu-img create");
  /* The data file is now a host file the image must not reach. */
  CHECK (unlink (data) == 0 && symlink (secret, data) == 0, "symlink");
  refused (img, "qcow2", "an external data file");
  free (img);
  free (data);
}

static void
t_qed_backing (void)
{
  char *img = path ("backing.qed");
  CHECK (run ("qemu-img create -q -f qed -b '%s' -F raw '%s' 1M", secret, img) == 0,
         "qemu-img create");
  refused (img, "qed", "a backing file");
  free (img);
}

static void
t_vmdk_extent (void)
{
  char *img = path ("extent.vmdk");
  FILE *f = fopen (img, "w");
  CHECK (f, "%s", img);
  fprintf (f, "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
           "createType=\"monolithicFlat\"\n\nRW 2048 FLAT \"%s\" 0\n\n"
           "ddb.virtualHWVersion = \"4\"\n", secret);
  fclose (f);
  refused (img, "vmdk", "another file");
  free (img);
}

/* The switch is real: allowed, the guest sees the backing file. */
static void
t_backing_allowed (void)
{
  char *img = path ("allowed.qcow2"), *local = path ("allowed.out");
  char buf[16] = "";
  guestfs_h *g = handle ();
  FILE *f;
  int r;

  CHECK (run ("qemu-img create -q -f qcow2 -b '%s' -F raw '%s' 1M", secret, img) == 0,
         "qemu-img create");
  setenv ("GUESTKIT_ALLOW_BACKING", "1", 1);
  r = add (g, img, "qcow2", 1);
  unsetenv ("GUESTKIT_ALLOW_BACKING");
  CHECK (r == 0, "allowed backing file refused: %s", guestfs_last_error (g));
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_download (g, "/dev/sda", local) == 0, "download: %s",
         guestfs_last_error (g));
  f = fopen (local, "r");
  CHECK (f && fread (buf, 1, 11, f) == 11, "read %s", local);
  fclose (f);
  CHECK (memcmp (buf, "HOST SECRET", 11) == 0, "the guest did not see the backing file");
  guestfs_close (g);
  unlink (local);
  free (img);
  free (local);
}

static void
t_plain_qcow2_accepted (void)
{
  char *img = path ("plain.qcow2");
  guestfs_h *g = handle ();
  CHECK (run ("qemu-img create -q -f qcow2 '%s' 16M", img) == 0, "qemu-img create");
  CHECK (add (g, img, "qcow2", 0) == 0, "plain qcow2 refused: %s", guestfs_last_error (g));
  guestfs_close (g);
  free (img);
}

/* ---- broken images: clean errors, no hang ---- */

/* Whatever a call on a broken image returned, the handle must be in a
 * defined state: READY and answering, or CONFIG after the appliance
 * went away with an error saying so. */
static int
defined_state (guestfs_h *g)
{
  if (guestfs_is_ready (g))
    return guestfs_ping_daemon (g) == 0;
  return guestfs_is_config (g) && guestfs_last_error (g) != NULL;
}

/* Try the usual first calls of an audit on a broken image: each returns
 * (success or a clean error) and the handle stays defined. */
static void
poke (guestfs_h *g, const char *what)
{
  char **l;
  int r;

  l = guestfs_list_partitions (g);
  th_count_free (l);
  CHECK (defined_state (g), "%s: list_partitions left the handle undefined", what);
  if (!guestfs_is_ready (g))
    return;
  r = guestfs_mount_ro (g, "/dev/sda1", "/");
  CHECK (defined_state (g), "%s: mount_ro left the handle undefined", what);
  if (r == 0) {
    l = guestfs_ls (g, "/");
    CHECK (l || guestfs_last_error (g), "%s: ls failed without an error", what);
    th_count_free (l);
    l = guestfs_find (g, "/");
    th_count_free (l);
    free (guestfs_cat (g, "/etc/hostname"));
    CHECK (defined_state (g), "%s: reading files left the handle undefined", what);
  }
  if (guestfs_is_ready (g)) {
    r = guestfs_download (g, "/dev/sda", "/dev/null");
    CHECK (r == 0 || guestfs_last_error (g), "%s: download failed without an error", what);
    CHECK (defined_state (g), "%s: reading the disk left the handle undefined", what);
  }
}

static char *
sample (const char *name)
{
  char *img = path (name);
  if (run ("tests/bin/make-sample-image '%s' 32 %s >/dev/null 2>&1", img, name) != 0) {
    free (img);
    return NULL;
  }
  return img;
}

static void
t_truncated_qcow2 (void)
{
  char *raw = sample ("trunc-src"), *img = path ("truncated.qcow2");
  guestfs_h *g = handle ();
  struct stat st;
  time_t t0 = time (NULL);

  CHECK (raw, "make-sample-image failed");
  CHECK (run ("qemu-img convert -f raw -O qcow2 '%s' '%s'", raw, img) == 0, "convert");
  CHECK (stat (img, &st) == 0 && truncate (img, st.st_size * 2 / 5) == 0, "truncate");
  if (add (g, img, "qcow2", 1) == -1) {
    CHECK_ERR (g, "truncated.qcow2");       /* refused cleanly: fine */
  } else if (guestfs_launch (g) == -1) {
    CHECK_ERR (g, "launch");
  } else
    poke (g, "truncated qcow2");
  guestfs_close (g);
  printf ("  (truncated qcow2: %ld s)\n", (long) (time (NULL) - t0));
  unlink (raw);
  free (raw);
  free (img);
}

/* Fill len bytes at off with reproducible garbage. */
static int
scribble (const char *img, off_t off, size_t len, unsigned seed)
{
  unsigned char *b = malloc (len);
  int fd = open (img, O_WRONLY), r;

  for (size_t i = 0; i < len; i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (unsigned char) (seed >> 16);
  }
  r = fd >= 0 && pwrite (fd, b, len, off) == (ssize_t) len ? 0 : -1;
  if (fd >= 0)
    close (fd);
  free (b);
  return r;
}

/* The first partition's start, from the MBR. */
static off_t
part1_start (const char *img)
{
  unsigned char mbr[512];
  int fd = open (img, O_RDONLY);
  off_t lba = -1;

  if (fd >= 0 && pread (fd, mbr, sizeof mbr, 0) == (ssize_t) sizeof mbr)
    lba = mbr[454] | mbr[455] << 8 | mbr[456] << 16 | (off_t) mbr[457] << 24;
  if (fd >= 0)
    close (fd);
  return lba * 512;
}

/* ext4 in the partition at p: where inode 11 (the first after the
 * reserved ones) starts, from the superblock and group descriptor 0. */
static off_t
first_user_inode (const char *img, off_t p)
{
  unsigned char sb[1024], gd[64];
  int fd = open (img, O_RDONLY);
  off_t r = -1, bs, table;

  if (fd >= 0 && pread (fd, sb, sizeof sb, p + 1024) == (ssize_t) sizeof sb) {
    bs = (off_t) 1024 << (sb[24] | sb[25] << 8);
    /* descriptors: the block after the superblock's */
    if (pread (fd, gd, sizeof gd, p + (bs == 1024 ? 2048 : bs)) == (ssize_t) sizeof gd) {
      table = gd[8] | gd[9] << 8 | gd[10] << 16 | (off_t) gd[11] << 24;
      r = table * bs + 10 * (sb[88] | sb[89] << 8);
    }
  }
  if (fd >= 0)
    close (fd);
  return r;
}

static void
corrupt_case (const char *name, off_t from, size_t len, unsigned seed)
{
  char *img = sample (name);
  guestfs_h *g = handle ();
  off_t p;
  time_t t0 = time (NULL);

  CHECK (img, "make-sample-image failed");
  p = part1_start (img);
  CHECK (p > 0, "no partition in the sample");
  if (from == -1)
    from = first_user_inode (img, p);
  CHECK (from > 0, "no inode table found");
  CHECK (scribble (img, p + from, len, seed) == 0, "scribble");
  CHECK (add (g, img, "raw", 1) == 0 && guestfs_launch (g) == 0, "launch: %s",
         guestfs_last_error (g));
  poke (g, name);
  guestfs_close (g);
  printf ("  (%s: %ld s)\n", name, (long) (time (NULL) - t0));
  unlink (img);
  free (img);
}

static void
t_corrupt_group_descriptors (void)
{
  /* ext4 with 1 KiB blocks: the group descriptors follow the superblock */
  corrupt_case ("corrupt-gdt", 2048, 4096, 1);
}

static void
t_corrupt_metadata (void)
{
  /* bitmaps, inode tables and the first directories, superblock intact */
  corrupt_case ("corrupt-meta", 8192, 1 << 20, 2);
}

static void
t_corrupt_inodes (void)
{
  /* the inodes of the sample's files: it mounts, reading them fails */
  corrupt_case ("corrupt-inodes", -1, 16384, 3);
}

/* ---- symlinks pointing out of the guest ---- */

static int
dir_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  while (d && (e = readdir (d)))
    n += e->d_name[0] != '.';
  if (d)
    closedir (d);
  return n;
}

static void
t_symlink_escape (void)
{
  char *disk = th_scratch ("images-links", 64), *dest = path ("dest");
  char *target = path ("host-target"), *local, *tarball, *rel;
  guestfs_h *g = handle ();
  char buf[64] = "";
  FILE *f;
  struct stat st;

  mkdir (dest, 0700);
  CHECK (add (g, disk, "raw", 0) == 0 && guestfs_launch (g) == 0, "launch");
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda") == 0 &&
         guestfs_mount (g, "/dev/sda", "/") == 0, "mkfs/mount: %s",
         guestfs_last_error (g));
  CHECK (guestfs_mkdir_p (g, "/etc") == 0 && guestfs_mkdir (g, "/dir") == 0 &&
         guestfs_write_file (g, "/etc/passwd", "guest passwd\n", 0) == 0 &&
         guestfs_write_file (g, "/dir/file", "data\n", 0) == 0, "populate: %s",
         guestfs_last_error (g));
  CHECK (guestfs_ln_s (g, "/etc/passwd", "/abs") == 0 &&
         guestfs_ln_s (g, "../../../../../../../../etc/passwd", "/rel") == 0 &&
         guestfs_ln_s (g, "/proc/self/environ", "/proc-link") == 0 &&
         guestfs_ln_s (g, "/loop", "/loop") == 0, "ln_s: %s", guestfs_last_error (g));
  if (asprintf (&rel, "../../../../../../../../../../..%s", target) == -1)
    abort ();
  CHECK (guestfs_ln_s (g, target, "/dir/abs-host") == 0 &&
         guestfs_ln_s (g, rel, "/dir/rel-host") == 0 &&
         guestfs_ln_s (g, "/etc/passwd", "/dir/passwd") == 0, "ln_s: %s",
         guestfs_last_error (g));
  free (rel);

  /* download follows links inside the guest only */
  local = path ("dest/abs");
  CHECK (guestfs_download (g, "/abs", local) == 0, "download /abs: %s",
         guestfs_last_error (g));
  f = fopen (local, "r");
  CHECK (f && fgets (buf, sizeof buf, f), "read %s", local);
  fclose (f);
  CHECK (strcmp (buf, "guest passwd\n") == 0, "/abs gave '%s', not the guest's file", buf);
  unlink (local);
  CHECK (guestfs_download (g, "/rel", local) == 0, "download /rel: %s",
         guestfs_last_error (g));
  unlink (local);
  CHECK (guestfs_download (g, "/proc-link", local) == -1,
         "a link to /proc/self/environ read the appliance's");
  CHECK (guestfs_download (g, "/loop", local) == -1, "a symlink loop downloaded");
  CHECK (guestfs_is_ready (g), "the handle is not ready after the loops");
  CHECK (guestfs_download (g, "/dir/abs-host", local) == -1,
         "a link to a host path read something");
  free (local);

  /* tar_out writes one file, the tarball; links stay links in it */
  tarball = path ("dest/out.tar");
  CHECK (guestfs_tar_out (g, "/dir", tarball) == 0, "tar_out: %s",
         guestfs_last_error (g));
  CHECK (dir_entries (dest) == 1, "%d files in the destination directory, not 1",
         dir_entries (dest));
  CHECK (lstat (target, &st) == -1 && errno == ENOENT, "tar_out created %s", target);
  CHECK (run ("tar -tvf '%s' | grep -q 'abs-host -> %s'", tarball, target) == 0,
         "the tarball does not hold the link as a link");
  guestfs_close (g);
  unlink (tarball);
  free (tarball);
  rmdir (dest);
  unlink (disk);
  free (disk);
  free (dest);
  free (target);
}

/* ---- 100,000 files in one directory ---- */

#define NFILES 100000

/* A tar of NFILES empty files big/fNNNNNN, written directly. */
static int
write_tar (const char *file)
{
  FILE *f = fopen (file, "w");
  char h[512];

  if (f == NULL)
    return -1;
  for (int i = 0; i < NFILES; i++) {
    unsigned sum = 0;
    memset (h, 0, sizeof h);
    snprintf (h, 100, "big/f%06d", i);
    memcpy (h + 100, "0000644", 7);
    memcpy (h + 108, "0000000", 7);
    memcpy (h + 116, "0000000", 7);
    memcpy (h + 124, "00000000000", 11);
    memcpy (h + 136, "14000000000", 11);
    h[156] = '0';
    memcpy (h + 257, "ustar\0" "00", 8);
    memset (h + 148, ' ', 8);
    for (int j = 0; j < 512; j++)
      sum += (unsigned char) h[j];
    snprintf (h + 148, 8, "%06o", sum);
    if (fwrite (h, 1, sizeof h, f) != sizeof h)
      break;
  }
  memset (h, 0, sizeof h);
  fwrite (h, 1, sizeof h, f);
  fwrite (h, 1, sizeof h, f);
  return fclose (f);
}

/* A field of /proc/PID/status in KiB, -1 if unknown. */
static long
status_kb (pid_t pid, const char *field)
{
  char p[64], line[256];
  long v = -1;
  FILE *f;

  snprintf (p, sizeof p, "/proc/%d/status", (int) pid);
  f = fopen (p, "r");
  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, field, strlen (field)) == 0)
      v = atol (line + strlen (field) + 1);
  if (f)
    fclose (f);
  return v;
}

static void
t_many_files (void)
{
  char *disk = th_scratch ("images-many", 500), *tar = path ("many.tar");
  char *list = path ("many.find0");
  guestfs_h *g = handle ();
  long hwm0, hwm1, q0, q1;
  time_t t0 = time (NULL), t1, t2;
  size_t n = 0;
  char **l;
  FILE *f;
  int c;

  CHECK (write_tar (tar) == 0, "write %s", tar);
  CHECK (add (g, disk, "raw", 0) == 0 && guestfs_launch (g) == 0, "launch");
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda") == 0 &&
         guestfs_mount (g, "/dev/sda", "/") == 0, "mkfs/mount: %s",
         guestfs_last_error (g));
  CHECK (guestfs_tar_in (g, tar, "/") == 0, "tar_in: %s", guestfs_last_error (g));
  t1 = time (NULL);
  hwm0 = status_kb (getpid (), "VmHWM");
  q0 = status_kb (guestfs_get_pid (g), "VmRSS");
  CHECK (guestfs_find0 (g, "/big", list) == 0, "find0: %s", guestfs_last_error (g));
  hwm1 = status_kb (getpid (), "VmHWM");
  q1 = status_kb (guestfs_get_pid (g), "VmRSS");
  f = fopen (list, "r");
  while (f && (c = fgetc (f)) != EOF)
    n += c == '\0';
  if (f)
    fclose (f);
  CHECK (n == NFILES, "find0 listed %zu names, not %d", n, NFILES);
  /* The stream goes through one message buffer (4 MiB): the library's
   * peak memory grows by little more than that, whatever the count. */
  CHECK (hwm1 - hwm0 < 16 * 1024, "the library's peak RSS grew by %ld KiB during find0",
         hwm1 - hwm0);
  l = guestfs_ls (g, "/big");
  CHECK (l, "ls: %s", guestfs_last_error (g));
  CHECK (th_count_free (l) == NFILES, "ls count");
  t2 = time (NULL);
  printf ("  (100k files: tar_in %ld s, find0 + ls %ld s; library peak RSS +%ld KiB "
          "during find0; qemu RSS %ld -> %ld KiB)\n", (long) (t1 - t0),
          (long) (t2 - t1), hwm1 - hwm0, q0, q1);
  guestfs_close (g);
  unlink (tar); unlink (list); unlink (disk);
  free (tar); free (list); free (disk);
}

int
main (void)
{
  FILE *f;

  signal (SIGALRM, on_alarm);
  unsetenv ("GUESTKIT_ALLOW_BACKING");
  mkdir ("tests/out", 0755);
  if (getcwd (out, 200) == NULL)
    abort ();
  snprintf (out + strlen (out), sizeof out - strlen (out), "/tests/out/images-%d",
            (int) getpid ());
  mkdir (out, 0700);
  secret = path ("host-secret");
  f = fopen (secret, "w");
  if (f == NULL || fputs ("HOST SECRET\n", f) < 0 || fclose (f) != 0)
    abort ();
  if (system ("command -v qemu-img >/dev/null") != 0) {
    fprintf (stderr, "hardening-images: qemu-img not installed\n");
    return 77;
  }
#define RUN(name, fn) do { alarm (WATCHDOG); th_run (name, fn); } while (0)
  RUN ("images-qcow2-backing-refused", t_qcow2_backing);
  RUN ("images-qcow2-relative-backing-refused", t_qcow2_relative_backing);
  RUN ("images-qcow2-data-file-refused", t_qcow2_data_file);
  RUN ("images-qed-backing-refused", t_qed_backing);
  RUN ("images-vmdk-extent-refused", t_vmdk_extent);
  RUN ("images-backing-allowed-explicitly", t_backing_allowed);
  RUN ("images-plain-qcow2-accepted", t_plain_qcow2_accepted);
  RUN ("images-truncated-qcow2", t_truncated_qcow2);
  RUN ("images-corrupt-group-descriptors", t_corrupt_group_descriptors);
  RUN ("images-corrupt-metadata", t_corrupt_metadata);
  RUN ("images-corrupt-inodes", t_corrupt_inodes);
  RUN ("images-symlinks-stay-in-guest", t_symlink_escape);
  RUN ("images-100k-files", t_many_files);
  alarm (0);
  run ("rm -rf '%s'", out);
  free (secret);
  return th_done ();
}
