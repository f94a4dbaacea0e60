/* runner/steps-inventory.c: the `inventory' step.  One step records what
 * an image holds in the typed tables of schemas/results.sql:
 *
 *   os            inspect_os, then per root inspect_get_type, _distro,
 *                 _major/_minor_version, _product_name, _hostname, _arch,
 *                 _package_format, _package_management, _mountpoints
 *   applications  inspect_list_applications (per root)
 *   filesystems   inspect_get_filesystems of every root (or, with no OS,
 *                 list_partitions and lvs) with the type blkid finds (the
 *                 probe vfs_type makes), and the label and UUID of
 *                 ext2/3/4 (what get_e2label / get_e2uuid show); size and
 *                 use from statvfs on each one the OS mounts
 *
 * Everything is guest data: strings are capped (rn_audit_str), and so is
 * the number of rows (RN_INV_MAX_APPS, RN_INV_MAX_FS), each cut noted in
 * the step's result.  The rows go to the task's rn_audit and are written
 * with the task's result.  After the step, the OS's filesystems are
 * mounted (read-only on a read-only image), for the steps that follow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define RN_INV_MAX_APPS  50000     /* packages recorded per OS */
#define RN_INV_MAX_FS    256       /* filesystems recorded per image */

/* Take a library string, capped; NULL stays NULL. */
static char *
take (char *s)
{
  char *c = rn_audit_str (s, RN_AUDIT_STR_MAX);
  free (s);
  return c;
}

/* {"mountpoint": "device", ...} from inspect_get_mountpoints. */
static char *
mountpoints_json (char **mp)
{
  struct rn_buf b = { 0 };

  rn_buf_addc (&b, '{');
  for (size_t i = 0; mp && mp[i] && mp[i + 1]; i += 2) {
    char *k = rn_audit_str (mp[i], RN_AUDIT_STR_MAX), *v = rn_audit_str (mp[i + 1], RN_AUDIT_STR_MAX);
    if (i)
      rn_buf_adds (&b, ", ");
    rn_json_strz (&b, k);
    rn_buf_adds (&b, ": ");
    rn_json_strz (&b, v);
    free (k);
    free (v);
  }
  rn_buf_addc (&b, '}');
  return rn_buf_take (&b);
}

/* The os row of root; -1 when the library fails (error in the handle). */
static int
os_record (guestfs_h *g, const char *root, struct rn_audit *a)
{
  struct rn_osrec *o = rn_audit_new_os (a);
  char **mp;

  o->root = rn_audit_str (root, RN_AUDIT_STR_MAX);
  if ((o->type = take (guestfs_inspect_get_type (g, root))) == NULL ||
      (o->distro = take (guestfs_inspect_get_distro (g, root))) == NULL ||
      (o->product = take (guestfs_inspect_get_product_name (g, root))) == NULL ||
      (o->hostname = take (guestfs_inspect_get_hostname (g, root))) == NULL ||
      (o->arch = take (guestfs_inspect_get_arch (g, root))) == NULL ||
      (o->package_format = take (guestfs_inspect_get_package_format (g, root))) == NULL ||
      (o->package_management = take (guestfs_inspect_get_package_management (g, root))) == NULL ||
      (o->major = guestfs_inspect_get_major_version (g, root)) == -1 ||
      (o->minor = guestfs_inspect_get_minor_version (g, root)) == -1 ||
      (mp = guestfs_inspect_get_mountpoints (g, root)) == NULL)
    return -1;
  o->mountpoints = mountpoints_json (mp);
  rn_gfree_list (mp);
  return 0;
}

/* The applications of root; *cut set when some were left out. */
static int
app_records (guestfs_h *g, const char *root, struct rn_audit *a, int *cut)
{
  struct guestfs_application_list *l = guestfs_inspect_list_applications (g, root);

  if (l == NULL)
    return -1;
  for (uint32_t i = 0; i < l->len; i++) {
    const struct guestfs_application *x = &l->val[i];
    struct rn_apprec *p;
    if (i >= RN_INV_MAX_APPS) {
      *cut = 1;
      break;
    }
    p = rn_audit_new_app (a);
    p->root = rn_audit_str (root, RN_AUDIT_STR_MAX);
    p->name = rn_audit_str (x->app_name ? x->app_name : "", RN_AUDIT_STR_MAX);
    p->epoch = x->app_epoch;
    p->version = rn_audit_str (x->app_version ? x->app_version : "", RN_AUDIT_STR_MAX);
    p->release = rn_audit_str (x->app_release ? x->app_release : "", RN_AUDIT_STR_MAX);
    p->arch = rn_audit_str (x->app_arch ? x->app_arch : "", RN_AUDIT_STR_MAX);
  }
  guestfs_free_application_list (l);
  return 0;
}

static int
has_fs (const struct rn_audit *a, const char *dev)
{
  for (size_t i = 0; i < a->nfs; i++)
    if (strcmp (a->fs[i].device, dev) == 0)
      return 1;
  return 0;
}

/* The value of key in a blkid table, or NULL. */
static const char *
blkid_tag (char **kv, const char *key)
{
  for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
    if (strcmp (kv[i], key) == 0)
      return kv[i + 1];
  return NULL;
}

/* One blkid call: the type (as vfs_type sees it: the same probe) and,
 * for ext2/3/4, the label and UUID (as get_e2label and get_e2uuid show
 * them, without their two program runs). */
static void
fs_record (guestfs_h *g, const char *dev, struct rn_audit *a, int *cut)
{
  struct rn_fsrec *f;
  const char *t, *l, *u;
  char **kv;

  if (has_fs (a, dev))
    return;
  if (a->nfs >= RN_INV_MAX_FS) {
    *cut = 1;
    return;
  }
  f = rn_audit_new_fs (a);
  f->device = rn_audit_str (dev, RN_AUDIT_STR_MAX);
  if ((kv = guestfs_blkid (g, dev)) == NULL) {
    f->label = rn_strdup ("");
    f->uuid = rn_strdup ("");
    return;                             /* f->type NULL: the probe failed */
  }
  t = blkid_tag (kv, "TYPE");
  f->type = rn_audit_str (t ? t : "", RN_AUDIT_STR_MAX);
  l = strncmp (f->type, "ext", 3) == 0 ? blkid_tag (kv, "LABEL") : NULL;
  u = strncmp (f->type, "ext", 3) == 0 ? blkid_tag (kv, "UUID") : NULL;
  f->label = rn_audit_str (l ? l : "", RN_AUDIT_STR_MAX);
  f->uuid = rn_audit_str (u ? u : "", RN_AUDIT_STR_MAX);
  rn_gfree_list (kv);
}

/* Devices that may hold a filesystem when no OS was found. */
static char **
all_devices (guestfs_h *g)
{
  struct rn_strv v = { 0 };
  char **parts = guestfs_list_partitions (g), **lvs = guestfs_lvs (g);

  for (size_t i = 0; parts && parts[i]; i++)
    rn_strv_add (&v, rn_strdup (parts[i]));
  for (size_t i = 0; lvs && lvs[i]; i++)
    rn_strv_add (&v, rn_strdup (lvs[i]));
  if (v.n == 0) {                        /* a filesystem on the whole disk */
    char **devs = guestfs_list_devices (g);
    for (size_t i = 0; devs && devs[i]; i++)
      rn_strv_add (&v, rn_strdup (devs[i]));
    rn_gfree_list (devs);
  }
  rn_gfree_list (parts);
  rn_gfree_list (lvs);
  if (v.v == NULL)
    v.v = rn_calloc (1, sizeof (char *));
  return v.v;
}

static int
fs_records (guestfs_h *g, char *const *roots, struct rn_audit *a, int *cut)
{
  for (size_t r = 0; roots[r]; r++) {
    char **devs = guestfs_inspect_get_filesystems (g, roots[r]);
    if (devs == NULL)
      return -1;
    for (size_t i = 0; devs[i]; i++)
      fs_record (g, devs[i], a, cut);
    rn_gfree_list (devs);
  }
  if (roots[0] == NULL) {
    char **devs = all_devices (g);
    for (size_t i = 0; devs[i]; i++)
      fs_record (g, devs[i], a, cut);
    rn_gfree_list (devs);
  }
  return 0;
}

/* Size and use of the mounted filesystems (guestfs_mountpoints: device,
 * mountpoint pairs). */
static void
fs_usage (guestfs_h *g, struct rn_audit *a)
{
  char **mp = guestfs_mountpoints (g);

  for (size_t i = 0; mp && mp[i] && mp[i + 1]; i += 2)
    for (size_t k = 0; k < a->nfs; k++) {
      struct guestfs_statvfs *s;
      if (strcmp (a->fs[k].device, mp[i]) != 0 || a->fs[k].size >= 0 ||
          (s = guestfs_statvfs (g, mp[i + 1])) == NULL)
        continue;
      a->fs[k].size = s->blocks * s->frsize;
      a->fs[k].used = (s->blocks - s->bfree) * s->frsize;
      guestfs_free_statvfs (s);
    }
  rn_gfree_list (mp);
}

/* The applications of every root.  With mount_root, roots[0] is
 * mounted the caller's way first and stays mounted, so that its packages
 * are read without a mount of their own (under TCG a mount costs 0.1 to
 * 0.5 s); the other roots (rare) are read with nothing mounted, and
 * roots[0] is mounted again after them.  -1: the library failed (its
 * error in the handle), -2: mount_root failed (its error is the caller's). */
static int
all_apps (guestfs_h *g, char *const *roots, struct rn_audit *a, int *cut,
          int (*mount_root) (void *arg, const char *root), void *arg)
{
  int mounted = 0;

  for (size_t r = 0; roots[r]; r++) {
    if (r == 0 && mount_root) {
      if (mount_root (arg, roots[0]) == -1)
        return -2;
      mounted = 1;
    } else if (mounted && guestfs_umount_all (g) == -1)
      return -1;
    if (app_records (g, roots[r], a, cut) == -1)
      return -1;
  }
  if (mount_root && roots[0] && roots[1] && mount_root (arg, roots[0]) == -1)
    return -2;
  return 0;
}

int
rn_inventory_collect (guestfs_h *g, struct rn_audit *a, int with_apps, char ***rootsp,
                      int *cut, int (*mount_root) (void *arg, const char *root), void *arg)
{
  char **roots = guestfs_inspect_os (g);
  int r = 0;

  *rootsp = NULL;
  if (roots == NULL)
    return -1;
  for (size_t i = 0; roots[i] && r == 0; i++)
    r = os_record (g, roots[i], a);
  if (r == 0 && with_apps)
    r = all_apps (g, roots, a, cut, mount_root, arg);
  else if (r == 0 && mount_root && roots[0] && mount_root (arg, roots[0]) == -1)
    r = -2;
  if (r == 0)
    r = fs_records (g, roots, a, cut);
  if (r != 0) {
    rn_gfree_list (roots);
    return r;
  }
  *rootsp = roots;
  return 0;
}

void
rn_inventory_usage (guestfs_h *g, struct rn_audit *a)
{
  fs_usage (g, a);
}

static void
step_result (struct rn_sctx *c, char *const *roots, int cut)
{
  rn_buf_adds (&c->result, "{\"roots\": ");
  rn_json_strv (&c->result, roots);
  rn_buf_addf (&c->result, ", \"applications\": %zu, \"filesystems\": %zu, "
               "\"cut\": %s}", c->audit->napps, c->audit->nfs, cut ? "true" : "false");
}

/* Is mountpoint among guestfs_mountpoints' (device, mountpoint) pairs? */
static int
is_mounted (char *const *m, const char *mountpoint)
{
  for (size_t i = 0; m[i] && m[i + 1]; i += 2)
    if (strcmp (m[i + 1], mountpoint) == 0)
      return 1;
  return 0;
}

/* Why mountpoint was skipped: inspection's warning about it, or NULL. */
static char *
skip_reason (guestfs_h *g, const char *root, const char *mountpoint)
{
  char **w = guestfs_inspect_get_warnings (g, root), *r = NULL, *on;

  on = rn_asprintf (" on %s: ", mountpoint);
  for (size_t i = 0; w && w[i]; i++)
    if (strncmp (w[i], "could not mount ", 16) == 0 && strstr (w[i], on)) {
      free (r);
      r = rn_strdup (w[i]);
    }
  free (on);
  rn_gfree_list (w);
  return r;
}

/* After inspect_mount_root read-only: every mountpoint of root mounted,
 * or the step fails (nothing left mounted) as rn_step_mount_root would. */
static int
check_mounted (struct rn_sctx *c, const char *root)
{
  char **want = guestfs_inspect_get_mountpoints (c->g, root), **m = guestfs_mountpoints (c->g);
  int r = 0;

  if (want == NULL || m == NULL)
    r = rn_step_gfail (c, "the guest's mountpoints");
  for (size_t i = 0; r == 0 && want[i] && want[i + 1]; i += 2)
    if (!is_mounted (m, want[i])) {
      char *why = skip_reason (c->g, root, want[i]);
      guestfs_umount_all (c->g);
      r = rn_step_fail (c, "%s: %s", want[i], why ? why : "could not be mounted");
      free (why);
    }
  rn_gfree_list (want);
  rn_gfree_list (m);
  return r;
}

/* Mount root for the packages and the steps that follow.  Read-only
 * through inspect_mount_root: the library knows each filesystem's type
 * from inspection, so nothing is probed again (mount_ro would run blkid
 * for each); read-write as every step mounts (rn_step_mount_root). */
int
rn_inventory_mount (struct rn_sctx *c, const char *root)
{
  if (!c->readonly)
    return rn_step_mount_root (c, root);
  if (guestfs_inspect_mount_root (c->g, root, 1) == -1)
    return rn_step_gfail (c, "/");
  return check_mounted (c, root);
}

static int
step_mount (void *arg, const char *root)
{
  return rn_inventory_mount (arg, root);
}

int
rn_step_inventory (struct rn_sctx *c)
{
  int cut = 0, with_apps = (int) rn_sa_int (c, "applications", 1), r;
  char **roots;

  rn_audit_clear_inventory (c->audit);      /* the step given twice */
  if (guestfs_umount_all (c->g) == -1)
    return rn_step_gfail (c, "unmounting before inspection");
  if ((r = rn_inventory_collect (c->g, c->audit, with_apps, &roots, &cut, step_mount, c)) != 0)
    return r == -2 ? -1 : rn_step_gfail (c, "inventory");
  rn_inventory_usage (c->g, c->audit);
  step_result (c, roots, cut);
  rn_gfree_list (roots);
  return 0;
}
