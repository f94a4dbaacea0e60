/* python/bench-isfile.c: the C half of make bench's Python figure
 * (tests/bench-python.sh): the round trip of guestfs_is_file from C,
 * timed the same way as the Python half times g.is_file.
 *
 * usage: bench-isfile DISK CALLS
 * DISK is a scratch image made by the script (partitioned and formatted
 * here).  Prints "c_is_file MEDIAN_US us".  A benchmark: asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <guestfs.h>

static double
now_us (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char *argv[])
{
  int calls = argc > 2 ? atoi (argv[2]) : 0;
  double *t = calloc (calls > 0 ? (size_t) calls : 1, sizeof *t);
  guestfs_h *g;

  if (argc != 3 || calls < 1 || t == NULL) {
    fprintf (stderr, "usage: %s DISK CALLS\n", argv[0]);
    return 1;
  }
  if ((g = guestfs_create ()) == NULL ||
      guestfs_add_drive (g, argv[1]) == -1 || guestfs_launch (g) == -1 ||
      guestfs_part_disk (g, "/dev/sda", "mbr") == -1 ||
      guestfs_mkfs (g, "ext4", "/dev/sda1") == -1 ||
      guestfs_mount (g, "/dev/sda1", "/") == -1)
    return 1;
  for (int i = 0; i < calls; i++) {
    double t0 = now_us ();
    if (guestfs_is_file (g, "/lost+found") == -1)
      return 1;
    t[i] = now_us () - t0;
  }
  qsort (t, (size_t) calls, sizeof *t, cmp);
  printf ("c_is_file %.1f us\n", t[calls / 2]);
  guestfs_close (g);
  free (t);
  return 0;
}
