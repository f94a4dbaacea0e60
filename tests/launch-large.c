/* tests/launch-large.c: transfers past 4 GiB.  A marker is written just
 * past the 4 GiB boundary of a sparse image; downloading the whole device
 * and uploading it to a second disk must carry the marker to the same
 * offset (64-bit offsets and chunk counts end to end). */
#include <fcntl.h>
#include <stdint.h>

#include "harness.h"

#define SIZE   ((off_t) 4 * 1024 * 1024 * 1024 + (off_t) 64 * 1024 * 1024)
#define MARKER_AT ((off_t) 4 * 1024 * 1024 * 1024 + 4096 + 13)
static const char marker[] = "past-4GiB-marker";

static char *
sparse (const char *name)
{
  char *p;
  int fd;
  if (asprintf (&p, "tests/out/%s-%d.img", name, (int) getpid ()) == -1) abort ();
  fd = open (p, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || ftruncate (fd, SIZE) == -1) abort ();
  close (fd);
  return p;
}

static int
has_marker (const char *path)
{
  char buf[sizeof marker];
  int fd = open (path, O_RDONLY);
  ssize_t n = fd >= 0 ? pread (fd, buf, sizeof buf, MARKER_AT) : -1;
  if (fd >= 0) close (fd);
  return n == (ssize_t) sizeof buf && memcmp (buf, marker, sizeof buf) == 0;
}

static void
t_large (void)
{
  char *a = sparse ("large-a"), *b = sparse ("large-b"), *local;
  const char *imgs[] = { a, b, NULL };
  struct stat st;
  guestfs_h *g;
  int fd = open (a, O_WRONLY);

  CHECK (fd >= 0 && pwrite (fd, marker, sizeof marker, MARKER_AT) == sizeof marker, "marker");
  close (fd);
  if (asprintf (&local, "tests/out/large-local-%d", (int) getpid ()) == -1) abort ();
  g = th_launch (imgs, 0);
  CHECK (g != NULL, "launch");
  CHECK (guestfs_download (g, "/dev/sda", local) == 0, "download: %s", guestfs_last_error (g));
  CHECK (stat (local, &st) == 0 && st.st_size == SIZE, "downloaded %lld bytes",
         (long long) st.st_size);
  CHECK (has_marker (local), "marker not past 4 GiB in the download");
  CHECK (guestfs_upload (g, local, "/dev/sdb") == 0, "upload: %s", guestfs_last_error (g));
  guestfs_close (g);
  CHECK (has_marker (b), "marker not past 4 GiB on the uploaded disk");
  unlink (local);
  unlink (a);
  unlink (b);
  free (local); free (a); free (b);
}

int
main (void)
{
  if (getenv ("GUESTKIT_SKIP_LARGE")) {
    th_skip ("transfer-past-4GiB", "GUESTKIT_SKIP_LARGE is set");
    return th_done ();
  }
  th_run ("transfer-past-4GiB", t_large);
  return th_done ();
}
