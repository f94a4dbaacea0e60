/* tests/bench-density.c: memory per appliance with N running at once
 * (make bench, through tests/bench-density.sh).
 *
 * Forks N processes; each launches one appliance (restored from the saved
 * one) on its own empty disk and waits for orders on a pipe.  The parent
 * reads every qemu's /proc/PID/smaps_rollup (Rss, Pss, and the anonymous
 * part of each) at three points:
 *
 *   idle        all N launched, 2 s after the last
 *   idle-6s     4 s later (free page reporting hands free memory back
 *               2 s after the guest frees it, and a restored guest binds
 *               its balloon driver only after the resume: guestd/resume.c)
 *   transfer    after each appliance, one at a time, made an ext4 on its
 *               disk and uploaded then downloaded MIB MiB of random data
 *   transfer-4s 4 s later (guestd drops a large file's pages once moved)
 *   dropped     after each then ran drop_caches 3, 4 s later
 *
 * and prints, per point, the mean and largest per appliance in MiB:
 *   "N idle rss MEAN MAX pss MEAN MAX anon MEAN kernel MEAN"
 * (kernel: the Rss of qemu's mapping of the appliance's ELF kernel file)
 * and the mean seconds of one transfer: "N transfer-seconds S".
 * A benchmark: it asserts nothing.
 *
 * usage: bench-density N [MIB]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

struct kid {
  pid_t pid;
  int to, from;              /* pipes: orders, answers */
  int qemu;
};

static char *
path_of (const char *what, int i)
{
  char *p;
  if (asprintf (&p, "tests/out/density-%d-%s-%d", (int) getpid (), what, i) == -1)
    exit (1);
  return p;
}

/* One appliance, driven by the parent: L (launched, then its qemu pid),
 * T (transfer done), D (caches dropped); any failure: E. */
static void
child (int in, int out, const char *disk, const char *src, const char *back)
{
  guestfs_h *g = guestfs_create ();
  char c;
  int pid;

  if (g == NULL || guestfs_add_drive_opts (g, disk, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw", -1) == -1 ||
      guestfs_launch (g) == -1) {
    (void) !write (out, "E", 1);
    _exit (1);
  }
  pid = guestfs_get_pid (g);
  if (write (out, "L", 1) != 1 || write (out, &pid, sizeof pid) != sizeof pid)
    _exit (1);
  while (read (in, &c, 1) == 1) {
    int ok = 1;
    if (c == 'T')
      ok = guestfs_part_disk (g, "/dev/sda", "msdos") == 0 &&
           guestfs_mkfs (g, "ext4", "/dev/sda1") == 0 &&
           guestfs_mount (g, "/dev/sda1", "/") == 0 &&
           guestfs_upload (g, src, "/big") == 0 &&
           guestfs_download (g, "/big", back) == 0;
    else if (c == 'D')
      ok = guestfs_drop_caches (g, 3) == 0;
    else
      break;
    if (write (out, ok ? &c : "E", 1) != 1)
      break;
  }
  guestfs_close (g);
  _exit (0);
}

static int
order (struct kid *k, char c)
{
  char r = 0;
  if (write (k->to, &c, 1) != 1 || read (k->from, &r, 1) != 1 || r != c) {
    fprintf (stderr, "bench-density: appliance %d failed at '%c'\n", (int) k->pid, c);
    return -1;
  }
  return 0;
}

/* Rss, Pss, Pss_Anon of pid (kB). */
static void
rollup (int pid, long *rss, long *pss, long *anon)
{
  char path[64], line[256];
  FILE *f;

  *rss = *pss = *anon = 0;
  snprintf (path, sizeof path, "/proc/%d/smaps_rollup", pid);
  if ((f = fopen (path, "r")) == NULL)
    return;
  while (fgets (line, sizeof line, f)) {
    sscanf (line, "Rss: %ld kB", rss);
    sscanf (line, "Pss: %ld kB", pss);
    sscanf (line, "Pss_Anon: %ld kB", anon);
  }
  fclose (f);
}

/* Rss (kB) of pid's mappings of the appliance's kernel file. */
static long
kernel_rss (int pid)
{
  char path[64], line[512];
  long kb = 0, v;
  unsigned long lo, hi;
  int in = 0;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/smaps", pid);
  if ((f = fopen (path, "r")) == NULL)
    return 0;
  while (fgets (line, sizeof line, f)) {
    size_t l = strlen (line);
    if (sscanf (line, "%lx-%lx ", &lo, &hi) == 2)   /* a mapping's first line */
      in = l > 8 && strcmp (line + l - 8, "/kernel\n") == 0;
    else if (in && sscanf (line, "Rss: %ld kB", &v) == 1)
      kb += v;
  }
  fclose (f);
  return kb;
}

static void
report (struct kid *k, int n, const char *point)
{
  double srss = 0, spss = 0, sanon = 0, skern = 0;
  long mrss = 0, mpss = 0;

  for (int i = 0; i < n; i++) {
    long rss, pss, anon;
    rollup (k[i].qemu, &rss, &pss, &anon);
    srss += rss, spss += pss, sanon += anon;
    skern += kernel_rss (k[i].qemu);
    if (rss > mrss)
      mrss = rss;
    if (pss > mpss)
      mpss = pss;
  }
  printf ("%d %s rss %.0f %.0f pss %.0f %.0f anon %.0f kernel %.1f\n", n, point,
          srss / n / 1024, mrss / 1024.0, spss / n / 1024, mpss / 1024.0, sanon / n / 1024,
          skern / n / 1024);
  fflush (stdout);
}

int
main (int argc, char *argv[])
{
  int n = argc > 1 ? atoi (argv[1]) : 1;
  long mib = argc > 2 ? atol (argv[2]) : 100;
  struct kid *k = calloc ((size_t) n, sizeof *k);
  char *src = path_of ("src", 0);
  static unsigned char buf[1 << 20];
  unsigned seed = 1;
  FILE *f;
  int rc = 0;
  double t0;

  if (n < 1 || k == NULL || (f = fopen (src, "w")) == NULL)
    return 2;
  for (long m = 0; m < mib; m++) {
    for (size_t i = 0; i < sizeof buf; i++)
      buf[i] = (unsigned char) rand_r (&seed);
    fwrite (buf, 1, sizeof buf, f);
  }
  fclose (f);
  for (int i = 0; i < n; i++) {
    int a[2], b[2], fd;
    char *disk = path_of ("disk", i), *back = path_of ("back", i);
    if ((fd = open (disk, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
        ftruncate (fd, (mib * 2 + 64) << 20) == -1 || pipe (a) == -1 || pipe (b) == -1)
      return 2;
    close (fd);
    fflush (stdout);
    if ((k[i].pid = fork ()) == 0) {
      close (a[1]), close (b[0]);
      for (int j = 0; j < i; j++)  /* the others' pipes: their EOF is theirs */
        close (k[j].to), close (k[j].from);
      child (a[0], b[1], disk, src, back);
    }
    close (a[0]), close (b[1]);
    k[i].to = a[1], k[i].from = b[0];
    free (disk), free (back);
  }
  for (int i = 0; i < n; i++) {
    char c = 0;
    if (read (k[i].from, &c, 1) != 1 || c != 'L' ||
        read (k[i].from, &k[i].qemu, sizeof k[i].qemu) != sizeof k[i].qemu) {
      fprintf (stderr, "bench-density: appliance %d did not launch\n", i);
      rc = 1;
      goto out;
    }
  }
  sleep (2);
  report (k, n, "idle");
  sleep (4);                  /* free page reporting runs 2 s after a free */
  report (k, n, "idle-6s");
  t0 = now ();
  for (int i = 0; i < n && rc == 0; i++)
    rc = order (&k[i], 'T');
  if (rc == 0) {
    report (k, n, "transfer");
    sleep (4);
    report (k, n, "transfer-4s");
    printf ("%d transfer-seconds %.2f\n", n, (now () - t0) / n);
  }
  for (int i = 0; i < n && rc == 0; i++)
    rc = order (&k[i], 'D');
  if (rc == 0) {
    sleep (4);
    report (k, n, "dropped");
  }
 out:
  for (int i = 0; i < n; i++) {
    char *disk = path_of ("disk", i), *back = path_of ("back", i);
    if (k[i].to > 0)
      close (k[i].to);
    if (k[i].pid > 0)
      waitpid (k[i].pid, NULL, 0);
    unlink (disk), unlink (back);
    free (disk), free (back);
  }
  unlink (src);
  return rc;
}
