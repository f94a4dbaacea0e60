/* tests/launch-snapshot.c: launch by restoring a saved appliance.
 *
 * Uses a private cache directory so it starts empty.  Checks that the
 * first launches from many threads at once are safe, that later launches
 * restore, that drives appear in order with their sizes, that no restored
 * appliance sees another handle's drives, that two restored appliances
 * never share RNG output, and that a corrupt, truncated or foreign state
 * file, or a changed memory size, falls back to a cold boot and is
 * rebuilt.  How a launch went is read from the library's debug output.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#include "harness.h"

static char cachedir[100];

/* Launch with debug output captured; returns the handle (or NULL) and
 * the debug text in *log (malloc'd). */
static guestfs_h *
launch_logged (const char *const *disks, int memsize, char **log)
{
  char path[300];
  int saved = dup (2), fd;
  guestfs_h *g = guestfs_create ();
  FILE *f;
  long n;

  snprintf (path, sizeof path, "%s/launch.log", cachedir);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  fflush (stderr);
  dup2 (fd, 2);
  th_quiet (g);
  guestfs_set_verbose (g, 1);
  if (memsize)
    guestfs_set_memsize (g, memsize);
  for (size_t i = 0; disks[i]; i++)
    guestfs_add_drive (g, disks[i]);
  if (guestfs_launch (g) == -1) {
    guestfs_close (g);
    g = NULL;
  } else
    guestfs_set_verbose (g, 0);
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  close (fd);
  f = fopen (path, "r");
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  rewind (f);
  *log = calloc (1, (size_t) n + 1);
  if (fread (*log, 1, (size_t) n, f) != (size_t) n) abort ();
  fclose (f);
  return g;
}

static int restored (const char *log) { return strstr (log, "launch timings:") != NULL; }
static void show (const char *log) { if (getenv ("TESTS_VERBOSE")) fputs (log, stderr); }

/* The state files in the cache, for the corruption checks. */
static int
state_files (char names[][300], int max)
{
  DIR *d = opendir (cachedir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir (d)) != NULL && n < max)
    if (strncmp (e->d_name, "snapshot-", 9) == 0 && !strstr (e->d_name, ".tmp") &&
        strlen (e->d_name) < 300 - sizeof cachedir - 1)
      snprintf (names[n++], 300, "%s/%.*s", cachedir, 150, e->d_name);
  if (d) closedir (d);
  return n;
}

struct worker { char *disk; int ok; char msg[256]; };

static void *
worker (void *arg)
{
  struct worker *w = arg;
  guestfs_h *g = guestfs_create ();
  th_quiet (g);
  if (guestfs_add_drive (g, w->disk) == -1 || guestfs_launch (g) == -1 ||
      guestfs_ping_daemon (g) == -1 ||
      guestfs_blockdev_getsize64 (g, "/dev/sda") != 8 << 20)
    snprintf (w->msg, sizeof w->msg, "%s", guestfs_last_error (g));
  else
    w->ok = 1;
  guestfs_close (g);
  return NULL;
}

static void
t_threads_empty_cache (void)
{
  struct worker w[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    w[i].disk = th_scratch ("snapthr", 8);
    w[i].ok = 0;
    w[i].msg[0] = '\0';
    pthread_create (&t[i], NULL, worker, &w[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join (t[i], NULL);
  for (int i = 0; i < 4; i++) {
    CHECK (w[i].ok, "thread %d: %s", i, w[i].msg);
    unlink (w[i].disk);
    free (w[i].disk);
  }
}

static void
t_restore_used_drives_in_order (void)
{
  char *d[4] = { th_scratch ("ord0", 8), th_scratch ("ord1", 16), th_scratch ("ord2", 24), NULL };
  char *log, **devs;
  guestfs_h *g = launch_logged ((const char *const *) d, 0, &log);
  CHECK (g != NULL, "launch failed: %s", log);
  show (log);
  CHECK (restored (log), "the launch did not restore a snapshot");
  devs = guestfs_list_devices (g);
  CHECK (devs && devs[0] && devs[1] && devs[2] && !devs[3] &&
         strcmp (devs[0], "/dev/sda") == 0 && strcmp (devs[2], "/dev/sdc") == 0,
         "devices out of order");
  th_count_free (devs);
  for (int i = 0; i < 3; i++) {
    char dev[16];
    snprintf (dev, sizeof dev, "/dev/sd%c", 'a' + i);
    CHECK (guestfs_blockdev_getsize64 (g, dev) == (int64_t) (8 << 20) * (i + 1),
           "%s has the wrong size", dev);
  }
  guestfs_close (g);
  free (log);
  for (int i = 0; i < 3; i++) { unlink (d[i]); free (d[i]); }
}

/* A cold boot must name drives in order too (sd probes asynchronously). */
static void
t_cold_drives_in_order (void)
{
  char *d[5];
  char *log;
  guestfs_h *g;
  for (int i = 0; i < 4; i++) {
    char name[16];
    snprintf (name, sizeof name, "cold%d", i);
    d[i] = th_scratch (name, 8 * (i + 1));
  }
  d[4] = NULL;
  setenv ("GUESTKIT_SNAPSHOT", "0", 1);
  g = launch_logged ((const char *const *) d, 0, &log);
  unsetenv ("GUESTKIT_SNAPSHOT");
  CHECK (g != NULL && !restored (log), "cold launch");
  for (int i = 0; i < 4; i++) {
    char dev[16];
    snprintf (dev, sizeof dev, "/dev/sd%c", 'a' + i);
    CHECK (guestfs_blockdev_getsize64 (g, dev) == (int64_t) (8 << 20) * (i + 1),
           "%s has the wrong size after a cold boot", dev);
  }
  guestfs_close (g);
  free (log);
  for (int i = 0; i < 4; i++) { unlink (d[i]); free (d[i]); }
}

static void
t_no_previous_drives (void)
{
  char *a[2] = { th_scratch ("prevA", 32), NULL }, *b[2] = { th_scratch ("prevB", 8), NULL };
  char *log, **devs;
  guestfs_h *g = launch_logged ((const char *const *) a, 0, &log);
  CHECK (g && guestfs_part_disk (g, "/dev/sda", "msdos") == 0, "first handle");
  guestfs_close (g);
  free (log);
  g = launch_logged ((const char *const *) b, 0, &log);
  CHECK (g != NULL && restored (log), "second launch did not restore");
  devs = guestfs_list_devices (g);
  CHECK (devs && devs[0] && !devs[1], "the second appliance sees more than its drive");
  th_count_free (devs);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda") == 8 << 20, "sda is not the second handle's disk");
  devs = guestfs_list_partitions (g);
  CHECK (devs && devs[0] == NULL, "the second appliance sees the first one's partition");
  th_count_free (devs);
  guestfs_close (g);
  free (log);
  unlink (a[0]); unlink (b[0]); free (a[0]); free (b[0]);
}

/* The ext4 UUID comes from the guest's RNG: two restored appliances
 * making a filesystem must get different ones. */
static int
fs_uuid (const char *disk, unsigned char uuid[16])
{
  const char *d[2] = { disk, NULL };
  char *log, local[300];
  guestfs_h *g = launch_logged (d, 0, &log);
  int ok = 0, fd;
  snprintf (local, sizeof local, "%s.sb", disk);
  if (g && restored (log) && guestfs_part_disk (g, "/dev/sda", "msdos") == 0 &&
      guestfs_mkfs (g, "ext4", "/dev/sda1") == 0 &&
      guestfs_download (g, "/dev/sda1", local) == 0 &&
      (fd = open (local, O_RDONLY)) >= 0) {
    ok = pread (fd, uuid, 16, 1024 + 104) == 16;
    close (fd);
  }
  unlink (local);
  guestfs_close (g);
  free (log);
  return ok;
}

static void
t_rng_differs (void)
{
  char *a = th_scratch ("rngA", 8), *b = th_scratch ("rngB", 8);
  unsigned char ua[16], ub[16];
  CHECK (fs_uuid (a, ua), "first restored appliance");
  CHECK (fs_uuid (b, ub), "second restored appliance");
  CHECK (memcmp (ua, ub, 16) != 0, "two restored appliances made the same UUID");
  unlink (a); unlink (b); free (a); free (b);
}

static void
corrupt_and_check (const char *how)
{
  char names[8][300], *log;
  char *d[2] = { th_scratch ("corrupt", 8), NULL };
  int n = state_files (names, 8), fd;
  guestfs_h *g;

  CHECK (n >= 1, "no state file in %s", cachedir);
  for (int i = 0; i < n; i++) {
    fd = open (names[i], O_WRONLY);
    CHECK (fd >= 0, "open %s", names[i]);
    if (strcmp (how, "truncate") == 0)
      CHECK (ftruncate (fd, 1000) == 0, "truncate");
    else {
      static char junk[65536];
      memset (junk, 0x5a, sizeof junk);
      CHECK (pwrite (fd, junk, sizeof junk, 4096) == sizeof junk, "scribble");
    }
    close (fd);
  }
  g = launch_logged ((const char *const *) d, 0, &log);
  CHECK (g != NULL, "launch after %s failed: %s", how, log);
  CHECK (strstr (log, "booting cold instead") || strstr (log, "booting a template"),
         "a %s state file was used without a fallback", how);
  CHECK (guestfs_ping_daemon (g) == 0, "ping after fallback");
  guestfs_close (g);
  free (log);
  g = launch_logged ((const char *const *) d, 0, &log);
  CHECK (g != NULL && restored (log), "the state file was not rebuilt after %s", how);
  guestfs_close (g);
  free (log);
  unlink (d[0]);
  free (d[0]);
}

static void t_corrupt (void) { corrupt_and_check ("scribble"); }
static void t_truncated (void) { corrupt_and_check ("truncate"); }

static void
t_other_shape (void)
{
  char *d[2] = { th_scratch ("shape", 8), NULL }, *log;
  guestfs_h *g = launch_logged ((const char *const *) d, 320, &log);
  CHECK (g != NULL, "launch with memsize 320");
  CHECK (strstr (log, "booting a template"), "memsize 320 reused another size's snapshot");
  CHECK (strstr (log, " -m 320 "), "memsize not passed to qemu");
  guestfs_close (g);
  free (log);
  setenv ("GUESTKIT_SNAPSHOT", "0", 1);
  g = launch_logged ((const char *const *) d, 0, &log);
  unsetenv ("GUESTKIT_SNAPSHOT");
  CHECK (g != NULL && strstr (log, "cold boot") && !restored (log),
         "GUESTKIT_SNAPSHOT=0 did not boot cold");
  guestfs_close (g);
  free (log);
  unlink (d[0]);
  free (d[0]);
}

/* A restored appliance runs on the host's clock, not the template's. */
static void
t_clock_set (void)
{
  char *d[2] = { th_scratch ("clock", 16), NULL }, *log;
  struct guestfs_stat *st;
  guestfs_h *g = launch_logged ((const char *const *) d, 0, &log);
  time_t now;
  CHECK (g && restored (log), "launch did not restore");
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0 &&
         guestfs_mkfs (g, "ext2", "/dev/sda1") == 0 &&
         guestfs_mount (g, "/dev/sda1", "/") == 0 &&
         guestfs_touch (g, "/now") == 0, "touch: %s", guestfs_last_error (g));
  now = time (NULL);
  st = guestfs_stat (g, "/now");
  CHECK (st && st->mtime >= now - 3 && st->mtime <= now + 3,
         "guest time %lld, host time %lld", st ? (long long) st->mtime : 0LL,
         (long long) now);
  guestfs_free_stat (st);
  guestfs_close (g);
  free (log);
  unlink (d[0]);
  free (d[0]);
}

/* Another qemu binary (here a wrapper) never restores a state file made
 * by a different one. */
static void
t_other_qemu (void)
{
  char wrapper[300], *d[2] = { th_scratch ("wrapq", 8), NULL }, *log;
  FILE *f;
  guestfs_h *g;
  snprintf (wrapper, sizeof wrapper, "%s/qemu-wrapper", cachedir);
  f = fopen (wrapper, "w");
  CHECK (f != NULL, "wrapper");
  fprintf (f, "#!/bin/sh -\nexec qemu-system-x86_64 \"$@\"\n");
  fclose (f);
  chmod (wrapper, 0755);
  setenv ("LIBGUESTFS_QEMU", wrapper, 1);
  g = launch_logged ((const char *const *) d, 0, &log);
  unsetenv ("LIBGUESTFS_QEMU");
  CHECK (g != NULL, "launch through the wrapper");
  CHECK (strstr (log, "booting a template"), "a state file of another qemu was used");
  guestfs_close (g);
  free (log);
  unlink (d[0]);
  free (d[0]);
}

int
main (void)
{
  char cmd[400];
  snprintf (cachedir, sizeof cachedir, "%s/tests/out/cache-%d",
            getcwd (cmd, 100), (int) getpid ());
  mkdir ("tests/out", 0755);
  mkdir (cachedir, 0700);
  setenv ("GUESTKIT_CACHEDIR", cachedir, 1);
  th_run ("snapshot-threads-empty-cache", t_threads_empty_cache);
  th_run ("snapshot-restore-drives-in-order", t_restore_used_drives_in_order);
  th_run ("snapshot-no-previous-drives", t_no_previous_drives);
  th_run ("cold-boot-drives-in-order", t_cold_drives_in_order);
  th_run ("snapshot-rng-differs", t_rng_differs);
  th_run ("snapshot-corrupt-state-falls-back", t_corrupt);
  th_run ("snapshot-truncated-state-falls-back", t_truncated);
  th_run ("snapshot-other-shape-and-disabled", t_other_shape);
  th_run ("snapshot-other-qemu", t_other_qemu);
  th_run ("snapshot-clock-set", t_clock_set);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", cachedir);
  if (system (cmd) != 0) perror ("rm");
  return th_done ();
}
