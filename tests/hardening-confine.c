/* tests/hardening-confine.c: what qemu and the library may touch on the
 * host (issue 16).
 *
 *  - trust-backing: add_drive_opts trust_backing=1 lets one qcow2 overlay
 *    use its backing file (the guest reads it), while the same image
 *    without the option is still refused.
 */
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
  th_system ("rm -rf '%s'", out);
  return th_done ();
}
