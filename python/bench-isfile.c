/* python/bench-isfile.c: the C half of make bench's Python figure
 * (tests/bench-python.sh), a shared object the script loads with ctypes.
 * gk_bench_is_file times n calls of guestfs_is_file on a handle the
 * Python side opened (GuestFS._o), the same way the script times
 * g.is_file, so both run against one appliance, in turns, under the
 * same load.  A benchmark: it asserts nothing.
 */
#include <time.h>

#include <guestfs.h>

int gk_bench_is_file (guestfs_h *g, const char *path, int n, double *us);

static double
now_us (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* us[i] = the time of call i in microseconds; 0, or -1 if a call failed. */
int
gk_bench_is_file (guestfs_h *g, const char *path, int n, double *us)
{
  for (int i = 0; i < n; i++) {
    double t0 = now_us ();
    if (guestfs_is_file (g, path) == -1)
      return -1;
    us[i] = now_us () - t0;
  }
  return 0;
}
