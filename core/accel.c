/* core/accel.c: choose KVM or TCG for a launch.
 *
 * /dev/kvm existing proves nothing (on some hosts a nested KVM accepts
 * every ioctl, then a real kernel hangs at entry).  So:
 *   - GUESTKIT_ACCEL=tcg or LIBGUESTFS_BACKEND_SETTINGS containing
 *     force_tcg: TCG.  GUESTKIT_ACCEL=kvm: KVM, no fallback.
 *   - otherwise (auto): if /dev/kvm answers the basic ioctls and no earlier
 *     launch recorded a verdict, launch tries KVM with a short timeout and
 *     falls back to TCG; the verdict is kept in the cache directory
 *     (accel-verdict) so later launches choose at once.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gk.h"

static int
probe_kvm_ioctls (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  int ok = 0;

  if (fd == -1)
    return 0;
  if (ioctl (fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION) {
    int vm = ioctl (fd, KVM_CREATE_VM, 0);
    if (vm >= 0) {
      ok = 1;
      close (vm);
    }
  }
  close (fd);
  return ok;
}

/* The probe creates a VM: do it once per process, not per launch. */
static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;
static int kvm_ok;

static void
kvm_probe_once (void)
{
  kvm_ok = probe_kvm_ioctls ();
}

static int
kvm_answers (void)
{
  pthread_once (&kvm_once, kvm_probe_once);
  return kvm_ok;
}

static char *
verdict_path (guestfs_h *g)
{
  char *cache = gk_cache_dir (g), *p;

  if (cache == NULL)
    return NULL;
  p = gk_asprintf (g, "%s/accel-verdict", cache);
  free (cache);
  return p;
}

/* Returns "kvm" or "tcg" (NULL: bad setting, error set).  *probe_kvm is set when launch should try KVM
 * with a short timeout and fall back to TCG. */
const char *
gk_accel_choose (guestfs_h *g, int *probe_kvm)
{
  const char *env = getenv ("GUESTKIT_ACCEL");
  const char *bs = getenv ("LIBGUESTFS_BACKEND_SETTINGS");
  char *vp, buf[8] = "";
  FILE *f;

  *probe_kvm = 0;
  if (env && *env && strcmp (env, "kvm") != 0 && strcmp (env, "tcg") != 0 &&
      strcmp (env, "auto") != 0) {
    gk_error (g, "launch: GUESTKIT_ACCEL=%s: expected kvm, tcg or auto", env);
    return NULL;
  }
  if ((bs && strstr (bs, "force_tcg")) || (env && strcmp (env, "tcg") == 0))
    return "tcg";
  if (env && strcmp (env, "kvm") == 0)
    return "kvm";
  if (!kvm_answers ())
    return "tcg";
  vp = verdict_path (g);
  g->error_pending = 0;
  if (vp && (f = fopen (vp, "re")) != NULL) {
    if (fgets (buf, sizeof buf, f) == NULL)
      buf[0] = '\0';
    fclose (f);
  }
  free (vp);
  if (strncmp (buf, "tcg", 3) == 0)
    return "tcg";
  if (strncmp (buf, "kvm", 3) == 0)
    return "kvm";
  *probe_kvm = 1;
  return "kvm";
}

void
gk_accel_record (guestfs_h *g, const char *verdict)
{
  char *vp = verdict_path (g), *tmp;
  FILE *f;

  if (vp == NULL)
    return;
  tmp = gk_asprintf (g, "%s.%d", vp, (int) getpid ());
  f = fopen (tmp, "we");
  if (f) {
    fprintf (f, "%s\n", verdict);
    if (fclose (f) == 0)
      rename (tmp, vp);
  }
  unlink (tmp);
  free (tmp);
  free (vp);
}
