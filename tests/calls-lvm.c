/* tests/calls-lvm.c: the LVM2 calls against one real appliance.
 *
 * One handle with three scratch disks, shared by every check; the checks
 * run in order and build on each other: physical volumes, a volume group
 * over two disks, logical volumes, resizing, (de)activation, removal.
 * Every change is checked through a listing (pvs, vgs, lvs or the _full
 * structs); every call also gets at least one error case.
 */
#include "harness.h"

static guestfs_h *g;

/* Does the list call (pvs, vgs, lvs) return s?  -1 on error. */
static int
lists (char **(*fn) (guestfs_h *), const char *s)
{
  char **l = fn (g);
  int r;

  if (l == NULL)
    return -1;
  r = th_has (l, s);
  th_count_free (l);
  return r;
}

static struct guestfs_lvm_lv *
find_lv (struct guestfs_lvm_lv_list *l, const char *name)
{
  for (uint32_t i = 0; l && i < l->len; i++)
    if (strcmp (l->val[i].lv_name, name) == 0)
      return &l->val[i];
  return NULL;
}

static void
t_pvcreate (void)
{
  struct guestfs_lvm_pv_list *pl;

  CHECK (guestfs_pvcreate (g, "/dev/sda") == 0, "pvcreate sda: %s", guestfs_last_error (g));
  CHECK (guestfs_pvcreate (g, "/dev/sdb") == 0, "pvcreate sdb: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_pvs, "/dev/sda") == 1 && lists (guestfs_pvs, "/dev/sdb") == 1,
         "pvs lacks the new PVs");
  pl = guestfs_pvs_full (g);
  CHECK (pl && pl->len == 2, "pvs_full: %s", pl ? "wrong count" : guestfs_last_error (g));
  CHECK (strcmp (pl->val[0].pv_name, "/dev/sda") == 0, "pv_name %s", pl->val[0].pv_name);
  CHECK ((int64_t) pl->val[0].dev_size == guestfs_blockdev_getsize64 (g, "/dev/sda"),
         "dev_size %llu",
         (unsigned long long) pl->val[0].dev_size);
  CHECK (strcmp (pl->val[0].pv_fmt, "lvm2") == 0, "pv_fmt %s", pl->val[0].pv_fmt);
  CHECK (memchr (pl->val[0].pv_uuid, '-', 32) == NULL &&
         memchr (pl->val[0].pv_uuid, ' ', 32) == NULL, "pv_uuid has dashes or gaps");
  CHECK (memcmp (pl->val[0].pv_uuid, pl->val[1].pv_uuid, 32) != 0, "two PVs, one UUID");
  CHECK (pl->val[0].pe_start > 0 && pl->val[0].pv_mda_count == 1, "pe_start/mda_count");
  guestfs_free_lvm_pv_list (pl);
  CHECK (guestfs_pvcreate (g, "/dev/sdz") == -1, "pvcreate of a missing disk");
  CHECK_ERR (g, "pvcreate");
  CHECK_ERR (g, "/dev/sdz");
}

static void
t_vgcreate (void)
{
  char *pvs[] = { "/dev/sda", "/dev/sdb", NULL }, *none[] = { NULL };
  char *bad[] = { "/dev/sdz", NULL };
  struct guestfs_lvm_vg_list *vl;

  CHECK (guestfs_vgcreate (g, "VG", pvs) == 0, "vgcreate: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_vgs, "VG") == 1, "vgs lacks VG");
  vl = guestfs_vgs_full (g);
  CHECK (vl && vl->len == 1, "vgs_full: %s", vl ? "wrong count" : guestfs_last_error (g));
  CHECK (strcmp (vl->val[0].vg_name, "VG") == 0 && vl->val[0].pv_count == 2 &&
         vl->val[0].lv_count == 0 && vl->val[0].vg_extent_size == 4 << 20,
         "vg %s pvs %lld lvs %lld extent %llu", vl->val[0].vg_name,
         (long long) vl->val[0].pv_count, (long long) vl->val[0].lv_count,
         (unsigned long long) vl->val[0].vg_extent_size);
  CHECK (vl->val[0].vg_size == vl->val[0].vg_extent_size * vl->val[0].vg_extent_count &&
         vl->val[0].vg_free == vl->val[0].vg_size, "vg sizes");
  guestfs_free_lvm_vg_list (vl);
  CHECK (guestfs_vgcreate (g, "bad name!", pvs) == -1, "a bad VG name accepted");
  CHECK_ERR (g, "volgroup");
  CHECK (guestfs_vgcreate (g, "VG2", none) == -1, "vgcreate with no PVs");
  CHECK_ERR (g, "physvols");
  CHECK (guestfs_vgcreate (g, "VG2", bad) == -1, "vgcreate on a missing disk");
  CHECK_ERR (g, "/dev/sdz");
  CHECK (guestfs_vgcreate (g, "VG", pvs) == -1, "vgcreate of an existing VG");
}

static void
t_lvcreate (void)
{
  struct guestfs_lvm_lv_list *ll;
  struct guestfs_lvm_lv *lv;

  CHECK (guestfs_lvcreate (g, "LV1", "VG", 8) == 0, "lvcreate LV1: %s", guestfs_last_error (g));
  CHECK (guestfs_lvcreate (g, "LV2", "VG", 16) == 0, "lvcreate LV2: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_lvs, "/dev/VG/LV1") == 1 && lists (guestfs_lvs, "/dev/VG/LV2") == 1,
         "lvs lacks the new LVs");
  ll = guestfs_lvs_full (g);
  CHECK (ll && ll->len == 2, "lvs_full: %s", ll ? "wrong count" : guestfs_last_error (g));
  lv = find_lv (ll, "LV1");
  CHECK (lv && lv->lv_size == 8 << 20 && lv->seg_count == 1 && lv->lv_attr[4] == 'a' &&
         lv->lv_kernel_major > 0 && lv->snap_percent == -1,
         "LV1: size %llu attr %s", lv ? (unsigned long long) lv->lv_size : 0ULL,
         lv ? lv->lv_attr : "");
  guestfs_free_lvm_lv_list (ll);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/VG/LV2") == 16 << 20, "LV2 device size");
  CHECK (guestfs_lvcreate (g, "LV3", "VG", 0) == -1, "an LV of 0 MiB");
  CHECK_ERR (g, "mbytes");
  CHECK (guestfs_lvcreate (g, "LV3", "VG", -5) == -1, "an LV of -5 MiB");
  CHECK (guestfs_lvcreate (g, "LV3", "NOVG", 4) == -1, "an LV in a missing VG");
  CHECK_ERR (g, "lvcreate");
  CHECK (guestfs_lvcreate (g, "LV3", "VG", 1000) == -1, "an LV larger than the VG");
  CHECK (guestfs_lvcreate (g, "../x", "VG", 4) == -1, "a bad LV name accepted");
  CHECK_ERR (g, "logvol");
}

static void
t_lvresize (void)
{
  struct guestfs_lvm_lv_list *ll;
  struct guestfs_lvm_lv *lv;

  CHECK (guestfs_lvresize (g, "/dev/VG/LV1", 12) == 0, "lvresize up: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/VG/LV1") == 12 << 20, "LV1 grew");
  CHECK (guestfs_lvresize (g, "/dev/VG/LV1", 4) == 0, "lvresize down: %s", guestfs_last_error (g));
  ll = guestfs_lvs_full (g);
  lv = find_lv (ll, "LV1");
  CHECK (lv && lv->lv_size == 4 << 20, "LV1 size after shrinking");
  guestfs_free_lvm_lv_list (ll);
  CHECK (guestfs_lvresize (g, "/dev/VG/LV1", -1) == -1, "negative lvresize");
  CHECK_ERR (g, "mbytes");
  CHECK (guestfs_lvresize (g, "/dev/VG/nope", 4) == -1, "lvresize of a missing LV");
  CHECK_ERR (g, "/dev/VG/nope");
}

static void
t_activate (void)
{
  char *vgs[] = { "VG", NULL }, *nosuch[] = { "NOVG", NULL }, *bad[] = { "-x", NULL };
  struct guestfs_lvm_lv_list *ll;
  struct guestfs_lvm_lv *lv;

  CHECK (guestfs_vg_activate_all (g, 0) == 0, "deactivate all: %s", guestfs_last_error (g));
  ll = guestfs_lvs_full (g);
  lv = find_lv (ll, "LV1");
  CHECK (lv && lv->lv_attr[4] == '-' && lv->lv_kernel_major == -1,
         "LV1 still active: %s", lv ? lv->lv_attr : "(missing)");
  guestfs_free_lvm_lv_list (ll);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/VG/LV1") == -1, "an inactive LV has a size");
  CHECK (guestfs_vg_activate (g, 1, vgs) == 0, "activate VG: %s", guestfs_last_error (g));
  ll = guestfs_lvs_full (g);
  lv = find_lv (ll, "LV1");
  CHECK (lv && lv->lv_attr[4] == 'a', "LV1 not active again");
  guestfs_free_lvm_lv_list (ll);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/VG/LV1") == 4 << 20, "LV1 back");
  CHECK (guestfs_vg_activate (g, 1, nosuch) == -1, "activating a missing VG");
  CHECK_ERR (g, "vg_activate");
  CHECK (guestfs_vg_activate (g, 0, bad) == -1, "a bad VG name accepted");
  CHECK_ERR (g, "volgroups");
  CHECK (guestfs_vg_activate_all (g, 1) == 0, "activate all: %s", guestfs_last_error (g));
}

static void
t_lvremove (void)
{
  CHECK (guestfs_lvremove (g, "/dev/VG/LV2") == 0, "lvremove: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_lvs, "/dev/VG/LV2") == 0, "LV2 still listed");
  CHECK (lists (guestfs_lvs, "/dev/VG/LV1") == 1, "LV1 gone too");
  CHECK (guestfs_lvremove (g, "/dev/VG/LV2") == -1, "lvremove of a removed LV");
  CHECK_ERR (g, "lvremove");
  /* /dev/VG removes every LV of the VG, and only those. */
  CHECK (guestfs_lvcreate (g, "LV3", "VG", 8) == 0, "lvcreate LV3: %s", guestfs_last_error (g));
  CHECK (guestfs_lvremove (g, "/dev/VG") == 0, "lvremove /dev/VG: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_lvs, "/dev/VG/LV1") == 0 && lists (guestfs_lvs, "/dev/VG/LV3") == 0,
         "LVs left in VG after lvremove /dev/VG");
  CHECK (lists (guestfs_vgs, "VG") == 1, "the VG itself went");
  CHECK (guestfs_lvremove (g, "/dev/nosuchvg/x") == -1, "lvremove of nothing");
  CHECK_ERR (g, "lvremove");
}

static void
t_pvresize (void)
{
  struct guestfs_lvm_pv_list *pl;
  struct guestfs_lvm_pv *pv = NULL;

  CHECK (guestfs_pvcreate (g, "/dev/sdc") == 0, "pvcreate sdc: %s", guestfs_last_error (g));
  CHECK (guestfs_pvresize (g, "/dev/sdc") == 0, "pvresize: %s", guestfs_last_error (g));
  pl = guestfs_pvs_full (g);
  CHECK (pl && pl->len == 3, "pvs_full after pvresize");
  for (uint32_t i = 0; i < pl->len; i++)
    if (strcmp (pl->val[i].pv_name, "/dev/sdc") == 0)
      pv = &pl->val[i];
  CHECK (pv && (int64_t) pv->dev_size == guestfs_blockdev_getsize64 (g, "/dev/sdc") &&
         pv->pv_size <= pv->dev_size && pv->pv_size > pv->dev_size - (4 << 20),
         "sdc: pv_size %llu dev_size %llu pe_start %llu", pv ? (unsigned long long) pv->pv_size : 0ULL,
         pv ? (unsigned long long) pv->dev_size : 0ULL, pv ? (unsigned long long) pv->pe_start : 0ULL);
  guestfs_free_lvm_pv_list (pl);
  CHECK (guestfs_pvresize (g, "/dev/sdz") == -1, "pvresize of a missing disk");
  CHECK_ERR (g, "/dev/sdz");
}

static void
t_vgremove_pvremove (void)
{
  CHECK (guestfs_vgremove (g, "VG") == 0, "vgremove: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_vgs, "VG") == 0, "VG still listed");
  CHECK (lists (guestfs_lvs, "/dev/VG/LV1") == 0, "LV1 outlived its VG");
  CHECK (guestfs_vgremove (g, "VG") == -1, "vgremove of a removed VG");
  CHECK_ERR (g, "vgremove");
  CHECK (guestfs_vgremove (g, "") == -1, "vgremove of an empty name");
  CHECK_ERR (g, "vgname");
  CHECK (guestfs_pvremove (g, "/dev/sdb") == 0, "pvremove: %s", guestfs_last_error (g));
  CHECK (lists (guestfs_pvs, "/dev/sdb") == 0, "sdb still a PV");
  CHECK (lists (guestfs_pvs, "/dev/sda") == 1, "sda stopped being a PV");
  CHECK (guestfs_pvremove (g, "/dev/sdb") == -1, "pvremove of a non-PV");
  CHECK_ERR (g, "pvremove");
}

static void
t_remove_all (void)
{
  char *pvs[] = { "/dev/sda", "/dev/sdb", NULL };
  char **l;

  CHECK (guestfs_pvcreate (g, "/dev/sdb") == 0, "pvcreate sdb again");
  CHECK (guestfs_vgcreate (g, "VG9", pvs) == 0, "vgcreate VG9: %s", guestfs_last_error (g));
  CHECK (guestfs_lvcreate (g, "data", "VG9", 8) == 0, "lvcreate data");
  CHECK (guestfs_mkfs (g, "ext2", "/dev/VG9/data") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/VG9/data", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_lvm_remove_all (g) == -1, "removed a mounted LV");
  CHECK_ERR (g, "lvm_remove_all");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_lvm_remove_all (g) == 0, "lvm_remove_all: %s", guestfs_last_error (g));
  l = guestfs_pvs (g);
  CHECK (l && l[0] == NULL, "PVs left: %s", l && l[0] ? l[0] : "");
  th_count_free (l);
  l = guestfs_vgs (g);
  CHECK (l && l[0] == NULL, "VGs left");
  th_count_free (l);
  l = guestfs_lvs (g);
  CHECK (l && l[0] == NULL, "LVs left");
  th_count_free (l);
  CHECK (guestfs_lvm_remove_all (g) == 0, "lvm_remove_all with nothing to remove");
}

static void
t_available (void)
{
  char *lvm2[] = { "lvm2", NULL }, *bogus[] = { "lvm2", "nosuchgroup", NULL };
  char *none[] = { NULL };

  CHECK (guestfs_available (g, lvm2) == 0, "available lvm2: %s", guestfs_last_error (g));
  CHECK (guestfs_available (g, none) == 0, "available of no groups");
  CHECK (guestfs_available (g, bogus) == -1, "an unknown group is available");
  CHECK_ERR (g, "nosuchgroup");
}

int
main (void)
{
  char *disks[3];
  const char *imgs[4];

  disks[0] = th_scratch ("lvm-a", 64);
  disks[1] = th_scratch ("lvm-b", 64);
  disks[2] = th_scratch ("lvm-c", 32);
  for (int i = 0; i < 3; i++)
    imgs[i] = disks[i];
  imgs[3] = NULL;
  th_name = "lvm-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("lvm-available", t_available);
    th_run ("lvm-pvcreate-pvs-full", t_pvcreate);
    th_run ("lvm-vgcreate-vgs-full", t_vgcreate);
    th_run ("lvm-lvcreate-lvs-full", t_lvcreate);
    th_run ("lvm-lvresize", t_lvresize);
    th_run ("lvm-vg-activate", t_activate);
    th_run ("lvm-lvremove", t_lvremove);
    th_run ("lvm-pvresize", t_pvresize);
    th_run ("lvm-vgremove-pvremove", t_vgremove_pvremove);
    th_run ("lvm-remove-all", t_remove_all);
    guestfs_close (g);
  }
  for (int i = 0; i < 3; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  return th_done ();
}
