/* tests/calls-selinux.c: setcon / getcon against an appliance booted with
 * SELinux by set_selinux alone (the library puts selinux in the kernel's
 * lsm= list), and the same handle relaunched without it: SELinux is then
 * not available.
 *
 * No policy is loaded in the appliance, so the kernel takes any context
 * string: enough to check that setcon really changes what getcon reads
 * back.  The default appliance (no SELinux) is checked in calls-misc-dev.
 */
#include "harness.h"

static guestfs_h *g;

static int
con_is (const char *want)
{
  char *c = guestfs_getcon (g);
  int r = c && strcmp (c, want) == 0;
  free (c);
  return r;
}

static void
t_available (void)
{
  char *selinux[] = { "selinux", NULL };

  CHECK (guestfs_available (g, selinux) == 0, "available: %s", guestfs_last_error (g));
}

static void
t_getcon_setcon (void)
{
  CHECK (con_is ("kernel"), "getcon before any setcon: %s", guestfs_last_error (g));
  CHECK (guestfs_setcon (g, "system_u:system_r:kernel_t:s0") == 0, "setcon: %s",
         guestfs_last_error (g));
  CHECK (con_is ("system_u:system_r:kernel_t:s0"), "getcon after setcon");
  CHECK (guestfs_setcon (g, "") == -1, "an empty context accepted");
  CHECK_ERR (g, "setcon");
  CHECK (con_is ("system_u:system_r:kernel_t:s0"), "a failed setcon changed the context");
  CHECK (guestfs_setcon (g, "kernel") == 0, "setcon back: %s", guestfs_last_error (g));
  CHECK (con_is ("kernel"), "getcon after setcon back");
}

/* set_selinux 0, relaunch: no SELinux in the appliance. */
static void
t_off (void)
{
  char *selinux[] = { "selinux", NULL };

  CHECK (guestfs_set_selinux (g, 0) == 0, "set_selinux 0: %s", guestfs_last_error (g));
  CHECK (guestfs_kill_subprocess (g) == 0 && guestfs_launch (g) == 0, "relaunch: %s",
         guestfs_last_error (g));
  CHECK (guestfs_available (g, selinux) == -1, "SELinux available without set_selinux");
}

int
main (void)
{
  th_name = "selinux-launch";
  g = guestfs_create ();
  if (g == NULL)
    return 1;
  th_quiet (g);
  if (guestfs_set_selinux (g, 1) == -1 || guestfs_launch (g) == -1) {
    printf ("FAIL: %s: %s\n", th_name, guestfs_last_error (g));
    guestfs_close (g);
    th_failed++;
    return th_done ();
  }
  th_run ("selinux-available", t_available);
  th_run ("selinux-getcon-setcon", t_getcon_setcon);
  th_run ("selinux-off-after-relaunch", t_off);
  guestfs_close (g);
  return th_done ();
}
