/* tests/quick-handle.c: the library side without a VM: handle life cycle,
 * the state machine's refusals, settings, drives, errors and callbacks. */
#include "harness.h"

static guestfs_h *
fresh (void)
{
  guestfs_h *g = guestfs_create ();
  if (g) th_quiet (g);
  return g;
}

static void
t_create_close (void)
{
  guestfs_h *g = fresh ();
  CHECK (g != NULL, "create returned NULL");
  CHECK (guestfs_is_config (g) == 1, "new handle not in CONFIG");
  CHECK (guestfs_get_state (g) == 0, "state %d", guestfs_get_state (g));
  CHECK (guestfs_last_error (g) == NULL, "fresh handle has an error");
  guestfs_close (g);
  guestfs_close (NULL);
}

static void
t_call_before_launch (void)
{
  guestfs_h *g = fresh ();
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == -1, "mount before launch succeeded");
  CHECK_ERR (g, "mount: the appliance is not running");
  CHECK (guestfs_ls (g, "/") == NULL, "ls before launch succeeded");
  CHECK_ERR (g, "launch");
  guestfs_close (g);
}

static void
t_settings (void)
{
  guestfs_h *g = fresh ();
  CHECK (guestfs_set_memsize (g, 512) == 0, "set_memsize");
  CHECK (guestfs_get_memsize (g) == 512, "get_memsize %d", guestfs_get_memsize (g));
  CHECK (guestfs_set_memsize (g, 1) == -1, "memsize 1 accepted");
  CHECK_ERR (g, "set_memsize");
  CHECK (guestfs_set_append (g, "foo=1") == 0 && strcmp (guestfs_get_append (g), "foo=1") == 0, "append");
  CHECK (guestfs_set_append (g, NULL) == 0 && guestfs_get_append (g) == NULL, "append NULL");
  CHECK (guestfs_set_qemu (g, "/bin/true") == 0 && strcmp (guestfs_get_qemu (g), "/bin/true") == 0, "qemu");
  CHECK (guestfs_set_path (g, "/nonexistent") == 0 && strcmp (guestfs_get_path (g), "/nonexistent") == 0, "path");
  CHECK (guestfs_set_verbose (g, 1) == 0 && guestfs_get_verbose (g) == 1, "verbose");
  guestfs_set_verbose (g, 0);
  CHECK (guestfs_set_autosync (g, 1) == 0 && guestfs_get_autosync (g) == 1, "autosync");
  CHECK (guestfs_set_selinux (g, 1) == 0 && guestfs_get_selinux (g) == 1, "selinux");
  CHECK (guestfs_set_recovery_proc (g, 0) == 0 && guestfs_get_recovery_proc (g) == 0, "recovery");
  CHECK (guestfs_set_direct (g, 1) == 0 && guestfs_get_direct (g) == 1, "direct");
  CHECK (guestfs_get_pid (g) == -1, "get_pid without qemu");
  CHECK_ERR (g, "get_pid");
  CHECK (guestfs_wait_ready (g) == 0, "wait_ready");
  CHECK (guestfs_is_ready (g) == 0 && guestfs_is_busy (g) == 0 && guestfs_is_launching (g) == 0, "is_*");
  guestfs_close (g);
}

static void
t_version (void)
{
  guestfs_h *g = fresh ();
  struct guestfs_version *v = guestfs_version (g);
  CHECK (v != NULL, "version NULL");
  CHECK (v->major == 1 && v->extra != NULL, "version %lld", (long long) v->major);
  guestfs_free_version (v);
  guestfs_close (g);
}

static void
t_config (void)
{
  guestfs_h *g = fresh ();
  CHECK (guestfs_config (g, "-smp", "1") == 0, "config -smp");
  CHECK (guestfs_config (g, "nodash", NULL) == -1, "config without dash accepted");
  CHECK_ERR (g, "must begin with '-'");
  CHECK (guestfs_config (g, "-kernel", "x") == -1, "config -kernel accepted");
  CHECK_ERR (g, "set by guestkit");
  guestfs_close (g);
}

static void
t_add_drive_errors (void)
{
  guestfs_h *g = fresh ();
  CHECK (guestfs_add_drive (g, "/nonexistent/disk.img") == -1, "missing image accepted");
  CHECK_ERR (g, "/nonexistent/disk.img");
  CHECK (guestfs_add_drive (g, NULL) == -1, "NULL filename accepted");
  CHECK_ERR (g, "must not be NULL");
  CHECK (guestfs_add_drive (g, "/") == -1, "directory accepted");
  CHECK_ERR (g, "directory");
  char *img = th_scratch ("quick", 1);
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "bogus", -1) == -1, "bad format accepted");
  CHECK_ERR (g, "unknown disk format");
  CHECK (guestfs_add_drive_opts (g, img, 99, -1) == -1, "bad key accepted");
  CHECK (guestfs_add_drive_opts (g, img, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                 GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, -1) == 0, "add_drive_opts");
  CHECK (guestfs_add_drive (g, img) == 0, "add_drive");
  CHECK (guestfs_add_drive_ro (g, img) == 0, "add_drive_ro");
  unlink (img);
  free (img);
  guestfs_close (g);
}

static void
t_no_appliance (void)
{
  guestfs_h *g = fresh ();
  CHECK (guestfs_set_path (g, "/nonexistent") == 0, "set_path");
  CHECK (guestfs_launch (g) == -1, "launch without appliance succeeded");
  CHECK_ERR (g, "no appliance found");
  CHECK (guestfs_is_config (g) == 1, "state after failed launch: %d", guestfs_get_state (g));
  guestfs_close (g);
}

static int handler_calls;
static void
count_handler (guestfs_h *g, void *opaque, const char *msg)
{
  handler_calls++;
  *(int *) opaque = (int) strlen (msg);
}

static void
t_error_handler (void)
{
  guestfs_h *g = fresh ();
  int len = 0;
  void *op = NULL;
  guestfs_set_error_handler (g, count_handler, &len);
  CHECK (guestfs_get_error_handler (g, &op) == count_handler && op == &len, "get_error_handler");
  guestfs_touch (g, "/x");
  CHECK (handler_calls == 1 && len > 0, "handler called %d times", handler_calls);
  guestfs_set_error_handler (g, NULL, NULL);
  guestfs_touch (g, "/x");
  CHECK (handler_calls == 1, "NULL handler still called");
  CHECK (guestfs_last_error (g) != NULL, "last_error not kept without handler");
  guestfs_set_out_of_memory_handler (g, abort);
  CHECK (guestfs_get_out_of_memory_handler (g) == abort, "oom handler");
  guestfs_close (g);
}

int
main (void)
{
  th_run ("handle-create-close", t_create_close);
  th_run ("handle-call-before-launch", t_call_before_launch);
  th_run ("handle-settings", t_settings);
  th_run ("handle-version", t_version);
  th_run ("handle-config", t_config);
  th_run ("handle-add-drive-errors", t_add_drive_errors);
  th_run ("handle-no-appliance", t_no_appliance);
  th_run ("handle-error-handler", t_error_handler);
  return th_done ();
}
