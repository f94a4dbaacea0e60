/* tests/harness.c: see harness.h. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>

#include "harness.h"

int th_failed;
const char *th_name;
static int passed, skipped;

void
th_run (const char *name, th_fn fn)
{
  int before = th_failed, skipped_before = skipped;

  th_name = name;
  fn ();
  if (th_failed == before && skipped == skipped_before) {   /* th_skip: no PASS */
    printf ("PASS: %s\n", name);
    passed++;
  }
  fflush (stdout);
}

void
th_skip (const char *name, const char *why)
{
  printf ("SKIP: %s: %s\n", name, why);
  skipped++;
}

int
th_done (void)
{
  fprintf (stderr, "%d passed, %d failed, %d skipped\n", passed, th_failed, skipped);
  return th_failed ? 1 : 0;
}

static void
quiet_handler (guestfs_h *g, void *opaque, const char *msg)
{
  if (getenv ("TESTS_VERBOSE"))
    fprintf (stderr, "  (error: %s)\n", msg);
}

void
th_quiet (guestfs_h *g)
{
  guestfs_set_error_handler (g, quiet_handler, NULL);
}

char *
th_scratch (const char *name, int mb)
{
  char *path;
  int fd;

  mkdir ("tests/out", 0755);
  if (asprintf (&path, "tests/out/%s-%d.img", name, (int) getpid ()) == -1)
    abort ();
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || ftruncate (fd, (off_t) mb << 20) == -1) {
    perror (path);
    abort ();
  }
  close (fd);
  return path;
}

guestfs_h *
th_launch (const char *const *images, int readonly)
{
  guestfs_h *g = guestfs_create ();

  if (g == NULL) {
    printf ("FAIL: %s: guestfs_create returned NULL\n", th_name);
    th_failed++;
    return NULL;
  }
  th_quiet (g);
  for (size_t i = 0; images && images[i]; i++) {
    int r = readonly ? guestfs_add_drive_ro (g, images[i])
                     : guestfs_add_drive (g, images[i]);
    if (r == -1)
      goto fail;
  }
  if (guestfs_launch (g) == -1)
    goto fail;
  return g;
 fail:
  printf ("FAIL: %s: %s\n", th_name, guestfs_last_error (g));
  th_failed++;
  guestfs_close (g);
  return NULL;
}

size_t
th_count_free (char **l)
{
  size_t n = 0;

  if (l == NULL)
    return 0;
  for (; l[n]; n++)
    free (l[n]);
  free (l);
  return n;
}

int
th_has (char *const *l, const char *s)
{
  for (size_t i = 0; l && l[i]; i++)
    if (strcmp (l[i], s) == 0)
      return 1;
  return 0;
}

size_t
th_count (char *const *l)
{
  size_t n = 0;
  while (l && l[n])
    n++;
  return n;
}

int
th_upload_bytes (guestfs_h *g, const char *path, const void *data, size_t n)
{
  char tmp[] = "tests/out/upload-XXXXXX";
  int fd, r;

  mkdir ("tests/out", 0755);
  fd = mkstemp (tmp);
  if (fd == -1 || write (fd, data, n) != (ssize_t) n || close (fd) == -1)
    return -1;
  r = guestfs_upload (g, tmp, path);
  unlink (tmp);
  return r;
}

int
th_system (const char *fmt, ...)
{
  char *cmd;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&cmd, fmt, ap);
  va_end (ap);
  if (r == -1)
    abort ();
  r = system (cmd);
  free (cmd);
  return r;
}

int
th_count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;

  while (d && readdir (d))
    n++;
  if (d)
    closedir (d);
  return n;
}

unsigned long long
th_line_value (const char *text, const char *name)
{
  size_t n = strlen (name);

  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : p + strlen (p))
    if (strncmp (p, name, n) == 0 && p[n] == ' ')
      return strtoull (p + n + 1, NULL, 10);
  return ~0ULL;
}
