/* tests/launch-prepare.c: prepare_launch, a restored appliance made ready
 * before its drives are known (issue 17, prepare ahead).
 *
 * A prepared handle has a qemu (get_pid) while still CONFIG; the launch
 * that follows must use that same qemu, and it must see exactly the one
 * drive added after the prepare, never another handle's (each image has
 * its own size, so a wrong one shows).  close of a handle prepared and
 * never launched must leave no qemu and no fd behind; prepare is refused with
 * drives already added, twice, or after launch; a setting changed after
 * the prepare makes launch discard that VM and launch normally; with the
 * snapshot path off prepare is a no-op and launch still works.
 */
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

/* Has pid gone (no process, not even a zombie)? */
static int
gone (int pid)
{
  for (int i = 0; i < 50; i++) {
    if (kill (pid, 0) == -1 && errno == ESRCH)
      return 1;
    usleep (100000);
  }
  return 0;
}

/* A handle prepared with no drives; its qemu's pid in *pid. */
static guestfs_h *
prepared (int *pid)
{
  guestfs_h *g = guestfs_create ();

  th_quiet (g);
  if (guestfs_prepare_launch (g) == -1) {
    printf ("FAIL: %s: prepare_launch: %s\n", th_name, guestfs_last_error (g));
    th_failed++;
    guestfs_close (g);
    return NULL;
  }
  *pid = guestfs_get_pid (g);
  return g;
}

/* g sees exactly one device, of mb MiB. */
static const char *
sees_only (guestfs_h *g, int mb)
{
  static char why[200];
  char **devs = guestfs_list_devices (g);
  int64_t size;

  if (devs == NULL)
    return "list_devices failed";
  if (th_count (devs) != 1 || strcmp (devs[0], "/dev/sda") != 0) {
    snprintf (why, sizeof why, "%zu devices (first %s), want only /dev/sda",
              th_count (devs), devs[0] ? devs[0] : "none");
    th_count_free (devs);
    return why;
  }
  th_count_free (devs);
  size = guestfs_blockdev_getsize64 (g, "/dev/sda");
  if (size != (int64_t) mb << 20) {
    snprintf (why, sizeof why, "/dev/sda is %lld bytes, want %d MiB: "
              "another image", (long long) size, mb);
    return why;
  }
  return NULL;
}

static void
t_one_drive (void)
{
  char *img = th_scratch ("prep-a", 13);
  int pid;
  guestfs_h *g = prepared (&pid);
  const char *why;

  CHECK (g, "no handle");
  CHECK (pid > 0, "prepare_launch left no qemu running (a no-op?)");
  CHECK (guestfs_is_config (g) == 1, "a prepared handle is not CONFIG");
  CHECK (guestfs_add_drive (g, img) == 0, "add_drive: %s", guestfs_last_error (g));
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_get_pid (g) == pid, "launch started qemu %d, not the prepared %d",
         guestfs_get_pid (g), pid);
  why = sees_only (g, 13);
  CHECK (why == NULL, "%s", why);
  guestfs_close (g);
  CHECK (gone (pid), "qemu %d still there after close", pid);
  unlink (img);
  free (img);
}

/* Two prepared at once, each given its own image. */
static void
t_two_handles (void)
{
  char *a = th_scratch ("prep-b", 17), *b = th_scratch ("prep-c", 19);
  int pa, pb;
  guestfs_h *ga = prepared (&pa), *gb = prepared (&pb);
  const char *why;

  CHECK (ga && gb && pa > 0 && pb > 0 && pa != pb, "two prepared qemus: %d %d", pa, pb);
  CHECK (guestfs_add_drive (gb, b) == 0 && guestfs_launch (gb) == 0,
         "launch b: %s", guestfs_last_error (gb));
  CHECK (guestfs_add_drive (ga, a) == 0 && guestfs_launch (ga) == 0,
         "launch a: %s", guestfs_last_error (ga));
  CHECK (guestfs_get_pid (ga) == pa && guestfs_get_pid (gb) == pb,
         "the launches did not use the prepared qemus");
  why = sees_only (ga, 17);
  CHECK (why == NULL, "first handle: %s", why);
  why = sees_only (gb, 19);
  CHECK (why == NULL, "second handle: %s", why);
  guestfs_close (ga);
  guestfs_close (gb);
  unlink (a); unlink (b);
  free (a); free (b);
}

static void
t_close_unlaunched (void)
{
  int before = th_count_fds (), pid, after;
  guestfs_h *g = prepared (&pid);

  CHECK (g && pid > 0, "no prepared qemu");
  CHECK (kill (pid, 0) == 0, "qemu %d is not running", pid);
  guestfs_close (g);
  CHECK (gone (pid), "qemu %d of a prepared, never launched handle is left "
         "after close", pid);
  after = th_count_fds ();
  CHECK (after == before, "%d fds open before the prepare, %d after the close "
         "(its QMP socket or state file kept?)", before, after);
}

static void
t_refused (void)
{
  char *img = th_scratch ("prep-d", 8);
  guestfs_h *g = guestfs_create ();
  int pid;

  th_quiet (g);
  CHECK (guestfs_add_drive (g, img) == 0, "add_drive");
  CHECK (guestfs_prepare_launch (g) == -1, "prepare with a drive added was accepted");
  CHECK_ERR (g, "already added");
  CHECK (guestfs_get_pid (g) == -1, "a refused prepare started qemu");
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_prepare_launch (g) == -1, "prepare after launch was accepted");
  CHECK_ERR (g, "only allowed before guestfs_launch");
  guestfs_close (g);
  g = prepared (&pid);
  CHECK (g, "no handle");
  CHECK (guestfs_prepare_launch (g) == -1, "a second prepare was accepted");
  CHECK_ERR (g, "already prepared");
  CHECK (guestfs_get_pid (g) == pid, "the second prepare replaced the qemu");
  guestfs_close (g);
  CHECK (gone (pid), "qemu %d left", pid);
  unlink (img);
  free (img);
}

/* memsize changed after prepare: that VM is wrong; launch discards it. */
static void
t_settings_changed (void)
{
  char *img = th_scratch ("prep-e", 11);
  int pid;
  guestfs_h *g = prepared (&pid);
  const char *why;

  CHECK (g && pid > 0, "no prepared qemu");
  CHECK (guestfs_set_memsize (g, guestfs_get_memsize (g) + 64) == 0, "set_memsize");
  CHECK (guestfs_add_drive (g, img) == 0, "add_drive");
  CHECK (guestfs_launch (g) == 0, "launch: %s", guestfs_last_error (g));
  CHECK (guestfs_get_pid (g) != pid, "launch used the VM prepared with the old memsize");
  CHECK (gone (pid), "the discarded qemu %d is left", pid);
  why = sees_only (g, 11);
  CHECK (why == NULL, "%s", why);
  guestfs_close (g);
  unlink (img);
  free (img);
}

static void
t_snapshot_off (void)
{
  char *img = th_scratch ("prep-f", 9);
  guestfs_h *g = guestfs_create ();
  const char *why;

  th_quiet (g);
  setenv ("GUESTKIT_SNAPSHOT", "0", 1);
  CHECK (guestfs_prepare_launch (g) == 0, "prepare: %s", guestfs_last_error (g));
  CHECK (guestfs_get_pid (g) == -1, "prepare started qemu with snapshots off");
  CHECK (guestfs_add_drive (g, img) == 0 && guestfs_launch (g) == 0,
         "launch: %s", guestfs_last_error (g));
  unsetenv ("GUESTKIT_SNAPSHOT");
  why = sees_only (g, 9);
  CHECK (why == NULL, "%s", why);
  guestfs_close (g);
  unlink (img);
  free (img);
}

int
main (void)
{
  guestfs_h *warm = th_launch (NULL, 0);   /* the saved appliance, made once */

  if (warm)
    guestfs_close (warm);
  th_run ("prepare-then-one-drive", t_one_drive);
  th_run ("prepare-two-handles-own-images", t_two_handles);
  th_run ("prepare-close-unlaunched-no-qemu", t_close_unlaunched);
  th_run ("prepare-refused", t_refused);
  th_run ("prepare-settings-changed", t_settings_changed);
  th_run ("prepare-snapshot-off", t_snapshot_off);
  unsetenv ("GUESTKIT_SNAPSHOT");
  return th_done ();
}
