/* tests/bench.c: guestkit's speed and memory figures (make bench).
 *
 *   launch     median wall time of guestfs_launch over N runs (1 disk),
 *              restored from a saved appliance (the default)
 *   cold       the same with GUESTKIT_SNAPSHOT=0 (a full kernel boot)
 *   is_file    median round trip of a trivial call over >= 1000 calls
 *   transfer   upload + download of a 100 MiB file, MiB/s and seconds
 *   rss        qemu's peak RSS (VmHWM) at the end of the transfer run
 *
 * Prints one "name value unit" line per figure, for tests/bench.sh to
 * compare with libguestfs.  A benchmark, not a test: it asserts nothing.
 *
 * usage: bench [LAUNCHES] [CALLS] [MIB]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <guestfs.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + t.tv_nsec / 1e9;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static guestfs_h *
launch (const char *disk, double *secs)
{
  guestfs_h *g = guestfs_create ();
  double t0;
  if (g == NULL || guestfs_add_drive (g, disk) == -1)
    exit (1);
  t0 = now ();
  if (guestfs_launch (g) == -1)
    exit (1);
  *secs = now () - t0;
  return g;
}

static long
peak_rss_kb (int pid)
{
  char path[64], line[256];
  long kb = -1;
  FILE *f;
  snprintf (path, sizeof path, "/proc/%d/status", pid);
  if ((f = fopen (path, "r")) == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "VmHWM: %ld kB", &kb) == 1)
      break;
  fclose (f);
  return kb;
}

static char *
make_file (const char *name, long mib)
{
  char *p;
  int fd;
  if (asprintf (&p, "tests/out/bench-%s-%d", name, (int) getpid ()) == -1)
    exit (1);
  fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || ftruncate (fd, mib << 20) == -1)
    exit (1);
  close (fd);
  return p;
}

static void
fill_random (const char *path, long mib)
{
  FILE *f = fopen (path, "w");
  static unsigned char buf[1 << 20];
  unsigned seed = 1;
  for (long m = 0; m < mib; m++) {
    for (size_t i = 0; i < sizeof buf; i++)
      buf[i] = (unsigned char) rand_r (&seed);
    fwrite (buf, 1, sizeof buf, f);
  }
  fclose (f);
}

int
main (int argc, char *argv[])
{
  int launches = argc > 1 ? atoi (argv[1]) : 10;
  int calls = argc > 2 ? atoi (argv[2]) : 2000;
  long mib = argc > 3 ? atol (argv[3]) : 100;
  double *lt = calloc ((size_t) launches, sizeof *lt);
  double *ct = calloc ((size_t) calls, sizeof *ct);
  char *disk = make_file ("disk", mib * 2 + 64);
  char *src = make_file ("src", 0), *back;
  guestfs_h *g;
  double t0, up, down;
  long rss;

  g = launch (disk, &t0);           /* makes the saved appliance if missing */
  guestfs_close (g);
  for (int i = 0; i < launches; i++) {
    g = launch (disk, &lt[i]);
    guestfs_close (g);
  }
  printf ("launch %.3f s\n", median (lt, launches));
  setenv ("GUESTKIT_SNAPSHOT", "0", 1);
  for (int i = 0; i < launches / 2 + 1; i++) {
    g = launch (disk, &lt[i]);
    guestfs_close (g);
  }
  unsetenv ("GUESTKIT_SNAPSHOT");
  printf ("cold %.3f s\n", median (lt, launches / 2 + 1));

  g = launch (disk, &t0);
  if (guestfs_part_disk (g, "/dev/sda", "msdos") == -1 ||
      guestfs_mkfs (g, "ext4", "/dev/sda1") == -1 ||
      guestfs_mount (g, "/dev/sda1", "/") == -1)
    return 1;
  for (int i = 0; i < calls; i++) {
    t0 = now ();
    if (guestfs_is_file (g, "/lost+found") == -1)
      return 1;
    ct[i] = now () - t0;
  }
  printf ("is_file %.3f ms\n", median (ct, calls) * 1000);

  fill_random (src, mib);
  if (asprintf (&back, "%s.back", src) == -1)
    return 1;
  t0 = now ();
  if (guestfs_upload (g, src, "/big") == -1)
    return 1;
  up = now () - t0;
  t0 = now ();
  if (guestfs_download (g, "/big", back) == -1)
    return 1;
  down = now () - t0;
  printf ("upload %.1f MiB/s\n", mib / up);
  printf ("download %.1f MiB/s\n", mib / down);
  printf ("transfer %.2f s\n", up + down);
  rss = peak_rss_kb (guestfs_get_pid (g));
  printf ("rss %.0f MiB\n", rss / 1024.0);
  {
    struct rusage ru;             /* the library side: this process */
    getrusage (RUSAGE_SELF, &ru);
    fprintf (stderr, "library peak RSS %.1f MiB (this process, 1 MiB test buffer included)\n",
             ru.ru_maxrss / 1024.0);
  }
  guestfs_close (g);
  unlink (disk);
  unlink (src);
  unlink (back);
  return 0;
}
