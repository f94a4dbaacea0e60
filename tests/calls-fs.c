/* tests/calls-fs.c: the filesystem calls against one real appliance.
 *
 * One handle with two scratch disks, shared by every check.  sda holds
 * the filesystems under test (ext4, vfat, and an LVM volume to resize);
 * sdb holds external journals and the filesystems that use them.  Every
 * change is read back through another call (tune2fs_l, get_e2label,
 * get_e2uuid, vfs_type, file contents); every call also gets at least
 * one error case.
 */
#include "harness.h"

static guestfs_h *g;

#define UUID1 "01234567-89ab-cdef-0123-456789abcdef"
#define UUID2 "fedcba98-7654-3210-fedc-ba9876543210"

/* The value of key in a tune2fs_l table, copied (caller frees); NULL if
 * the call failed or the key is missing. */
static char *
tune2fs_get (const char *dev, const char *key)
{
  char **kv = guestfs_tune2fs_l (g, dev), *r = NULL;

  for (size_t i = 0; kv && kv[i] && kv[i+1]; i += 2)
    if (strcmp (kv[i], key) == 0)
      r = strdup (kv[i+1]);
  th_count_free (kv);
  return r;
}

static int
is_str (char *s, const char *want)
{
  int r = s && strcmp (s, want) == 0;
  free (s);
  return r;
}

static void
t_setup (void)
{
  CHECK (guestfs_part_init (g, "/dev/sda", "msdos") == 0, "part_init: %s", guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 2048, 51199) == 0, "part_add 1");
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 51200, 67583) == 0, "part_add 2");
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 67584, -1 + 131072 - 2048) == 0, "part_add 3");
  CHECK (guestfs_part_init (g, "/dev/sdb", "gpt") == 0, "part_init sdb");
  for (int i = 0; i < 4; i++)
    CHECK (guestfs_part_add (g, "/dev/sdb", "p", 2048 + i * 16384,
                             2048 + (i + 1) * 16384 - 1) == 0,
           "part_add sdb%d: %s", i + 1, guestfs_last_error (g));
}

static void
t_mkfs_b (void)
{
  char *t;

  CHECK (guestfs_mkfs_b (g, "ext4", 1024, "/dev/sda1") == 0, "mkfs_b ext4: %s", guestfs_last_error (g));
  CHECK (is_str (tune2fs_get ("/dev/sda1", "Block size"), "1024"), "ext4 block size");
  CHECK (guestfs_mkfs_b (g, "vfat", 2048, "/dev/sda2") == 0, "mkfs_b vfat: %s", guestfs_last_error (g));
  t = guestfs_vfs_type (g, "/dev/sda2");
  CHECK (t && strcmp (t, "vfat") == 0, "vfs_type sda2 %s", t ? t : "(null)");
  free (t);
  CHECK (guestfs_mkfs_b (g, "ext4", 1000, "/dev/sda1") == -1, "block size 1000 accepted");
  CHECK_ERR (g, "blocksize");
  CHECK (guestfs_mkfs_b (g, "ext4", -4096, "/dev/sda1") == -1, "negative block size accepted");
  CHECK (guestfs_mkfs_b (g, "no such fs!", 4096, "/dev/sda1") == -1, "bad fstype accepted");
  CHECK_ERR (g, "fstype");
  CHECK (guestfs_mkfs_b (g, "ext4", 4096, "/dev/sdz1") == -1, "mkfs_b on sdz1");
  CHECK_ERR (g, "mkfs_b");
}

static void
t_tune2fs_l (void)
{
  char **kv = guestfs_tune2fs_l (g, "/dev/sda1");
  size_t n = 0;
  int magic = 0, name = 0;

  CHECK (kv != NULL, "tune2fs_l: %s", guestfs_last_error (g));
  for (; kv[n]; n += 2) {
    CHECK (kv[n+1] != NULL, "odd number of strings");
    magic |= strcmp (kv[n], "Filesystem magic number") == 0 && strcmp (kv[n+1], "0xEF53") == 0;
    name |= strcmp (kv[n], "Filesystem volume name") == 0 && kv[n+1][0] == '\0';
  }
  th_count_free (kv);
  CHECK (n > 40 && magic && name, "%zu keys, magic %d, empty name %d", n / 2, magic, name);
  CHECK (guestfs_tune2fs_l (g, "/dev/sda2") == NULL, "tune2fs_l of vfat");
  CHECK_ERR (g, "tune2fs_l");
  CHECK (guestfs_tune2fs_l (g, "/dev/sdz") == NULL, "tune2fs_l of sdz");
}

static void
t_e2label (void)
{
  CHECK (guestfs_set_e2label (g, "/dev/sda1", "root-fs") == 0, "set_e2label: %s", guestfs_last_error (g));
  CHECK (is_str (guestfs_get_e2label (g, "/dev/sda1"), "root-fs"), "get_e2label");
  CHECK (is_str (tune2fs_get ("/dev/sda1", "Filesystem volume name"), "root-fs"), "label in tune2fs_l");
  CHECK (guestfs_set_e2label (g, "/dev/sda1", "") == 0, "clear the label");
  CHECK (is_str (guestfs_get_e2label (g, "/dev/sda1"), ""), "label not cleared");
  CHECK (guestfs_set_e2label (g, "/dev/sda1", "seventeen-chars-x") == -1, "a 17-byte label");
  CHECK_ERR (g, "label");
  CHECK (guestfs_set_e2label (g, "/dev/sda2", "x") == -1, "e2label on vfat");
  CHECK_ERR (g, "set_e2label");
  CHECK (guestfs_get_e2label (g, "/dev/sda2") == NULL, "get_e2label on vfat");
  CHECK_ERR (g, "get_e2label");
}

static void
t_e2uuid (void)
{
  char *u;

  CHECK (guestfs_set_e2uuid (g, "/dev/sda1", UUID1) == 0, "set_e2uuid: %s", guestfs_last_error (g));
  CHECK (is_str (guestfs_get_e2uuid (g, "/dev/sda1"), UUID1), "get_e2uuid");
  CHECK (guestfs_set_e2uuid (g, "/dev/sda1", "random") == 0, "set_e2uuid random: %s", guestfs_last_error (g));
  u = guestfs_get_e2uuid (g, "/dev/sda1");
  CHECK (u && strlen (u) == 36 && strcmp (u, UUID1) != 0, "random uuid %s", u ? u : "(null)");
  free (u);
  CHECK (guestfs_set_e2uuid (g, "/dev/sda1", "not-a-uuid") == -1, "a bad uuid accepted");
  CHECK_ERR (g, "uuid");
  CHECK (guestfs_set_e2uuid (g, "/dev/sda1", UUID1 "0") == -1, "a long uuid accepted");
  CHECK (guestfs_get_e2uuid (g, "/dev/sda2") == NULL, "get_e2uuid on vfat");
  CHECK_ERR (g, "get_e2uuid");
}

static void
t_journals (void)
{
  char *t;

  CHECK (guestfs_mke2journal (g, 1024, "/dev/sdb1") == 0, "mke2journal: %s", guestfs_last_error (g));
  t = guestfs_vfs_type (g, "/dev/sdb1");
  CHECK (t && strcmp (t, "jbd") == 0, "vfs_type of a journal: %s", t ? t : "(null)");
  free (t);
  CHECK (guestfs_mke2fs_J (g, "ext4", 1024, "/dev/sdb4", "/dev/sdb1") == 0,
         "mke2fs_J: %s", guestfs_last_error (g));
  CHECK (is_str (tune2fs_get ("/dev/sdb4", "Journal device"), "0x0811"), "sdb4's journal device");

  CHECK (guestfs_mke2journal_U (g, 1024, UUID2, "/dev/sdb3") == 0, "mke2journal_U: %s", guestfs_last_error (g));
  CHECK (guestfs_mke2fs_JU (g, "ext3", 1024, "/dev/sdb4", UUID2) == 0, "mke2fs_JU: %s", guestfs_last_error (g));
  CHECK (is_str (tune2fs_get ("/dev/sdb4", "Journal UUID"), UUID2), "sdb4's journal UUID");

  CHECK (guestfs_mke2journal_L (g, 1024, "jlabel", "/dev/sdb2") == 0, "mke2journal_L: %s", guestfs_last_error (g));
  CHECK (guestfs_mke2fs_JL (g, "ext4", 1024, "/dev/sdb4", "jlabel") == 0, "mke2fs_JL: %s", guestfs_last_error (g));
  CHECK (is_str (tune2fs_get ("/dev/sdb4", "Journal device"), "0x0812"), "sdb4's journal by label");

  CHECK (guestfs_mke2fs_JL (g, "ext4", 1024, "/dev/sdb4", "nosuchlabel") == -1, "a missing journal label");
  CHECK_ERR (g, "mke2fs_JL");
  CHECK (guestfs_mke2fs_J (g, "xfs", 1024, "/dev/sdb4", "/dev/sdb1") == -1, "mke2fs_J of xfs");
  CHECK_ERR (g, "fstype");
  CHECK (guestfs_mke2fs_J (g, "ext4", 1024, "/dev/sdb4", "/dev/sdz") == -1, "mke2fs_J with sdz");
  CHECK_ERR (g, "/dev/sdz");
  CHECK (guestfs_mke2fs_JU (g, "ext4", 1024, "/dev/sdb4", "bad") == -1, "mke2fs_JU with a bad uuid");
  CHECK_ERR (g, "uuid");
  CHECK (guestfs_mke2journal (g, 3, "/dev/sdb1") == -1, "mke2journal block size 3");
  CHECK_ERR (g, "blocksize");
  CHECK (guestfs_mke2journal_L (g, 1024, "a-label-far-too-long", "/dev/sdb2") == -1, "long label");
  CHECK_ERR (g, "label");
  CHECK (guestfs_mke2journal_U (g, 1024, "", "/dev/sdb3") == -1, "empty uuid");
}

static void
t_fsck (void)
{
  CHECK (guestfs_fsck (g, "ext4", "/dev/sda1") == 0, "fsck of a clean fs: %s", guestfs_last_error (g));
  CHECK (guestfs_fsck (g, "no such", "/dev/sda1") == -1, "a bad fsck type accepted");
  CHECK_ERR (g, "fstype");
  CHECK (guestfs_fsck (g, "ext4", "/dev/sdz") == -1, "fsck of sdz");
  CHECK (guestfs_e2fsck_f (g, "/dev/sda1") == 0, "e2fsck_f: %s", guestfs_last_error (g));
  CHECK (guestfs_e2fsck_f (g, "/dev/sda2") == -1, "e2fsck_f of vfat");
  CHECK_ERR (g, "e2fsck_f");
}

static void
t_resize2fs (void)
{
  char *pvs[] = { "/dev/sda3", NULL }, *s;

  CHECK (guestfs_pvcreate (g, "/dev/sda3") == 0, "pvcreate: %s", guestfs_last_error (g));
  CHECK (guestfs_vgcreate (g, "FS", pvs) == 0, "vgcreate: %s", guestfs_last_error (g));
  CHECK (guestfs_lvcreate (g, "lv", "FS", 8) == 0, "lvcreate: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs_b (g, "ext2", 1024, "/dev/FS/lv") == 0, "mkfs_b: %s", guestfs_last_error (g));
  CHECK (guestfs_lvresize (g, "/dev/FS/lv", 16) == 0, "lvresize: %s", guestfs_last_error (g));
  CHECK (guestfs_e2fsck_f (g, "/dev/FS/lv") == 0, "e2fsck_f: %s", guestfs_last_error (g));
  CHECK (guestfs_resize2fs (g, "/dev/FS/lv") == 0, "resize2fs: %s", guestfs_last_error (g));
  s = tune2fs_get ("/dev/FS/lv", "Block count");
  CHECK (s && atoi (s) == 16384, "block count after resize2fs: %s", s ? s : "(null)");
  free (s);
  CHECK (guestfs_resize2fs (g, "/dev/sda2") == -1, "resize2fs of vfat");
  CHECK_ERR (g, "resize2fs");
  CHECK (guestfs_resize2fs (g, "/dev/sdz") == -1, "resize2fs of sdz");
}

static void
t_zerofree (void)
{
  char *s;

  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/keep", "kept\n", 0) == 0, "write_file");
  CHECK (guestfs_fill (g, 'x', 1 << 20, "/junk") == 0, "fill: %s", guestfs_last_error (g));
  CHECK (guestfs_rm (g, "/junk") == 0, "rm");
  CHECK (guestfs_zerofree (g, "/dev/sda1") == -1, "zerofree of a mounted fs");
  CHECK_ERR (g, "zerofree");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_zerofree (g, "/dev/sda1") == 0, "zerofree: %s", guestfs_last_error (g));
  CHECK (guestfs_e2fsck_f (g, "/dev/sda1") == 0, "e2fsck_f after zerofree");
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount again");
  s = guestfs_cat (g, "/keep");
  CHECK (s && strcmp (s, "kept\n") == 0, "file lost by zerofree");
  free (s);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_zerofree (g, "/dev/sdz") == -1, "zerofree of sdz");
}

static void
t_zero (void)
{
  char *t;

  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_zero (g, "/dev/sda1") == -1, "zero of a mounted fs");
  CHECK_ERR (g, "zero");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_zero (g, "/dev/sda2") == 0, "zero: %s", guestfs_last_error (g));
  t = guestfs_vfs_type (g, "/dev/sda2");
  CHECK (t && *t == '\0', "vfs_type after zero: %s", t ? t : "(null)");
  free (t);
  CHECK (guestfs_zero (g, "/dev/sdz") == -1, "zero of sdz");
  CHECK_ERR (g, "/dev/sdz");
  /* fsck's status is returned, not turned into an error. */
  CHECK (guestfs_fsck (g, "ext4", "/dev/sda2") == 8, "fsck of a blank device");
}

int
main (void)
{
  char *disks[2];
  const char *imgs[3];

  disks[0] = th_scratch ("fs-a", 64);
  disks[1] = th_scratch ("fs-b", 96);
  imgs[0] = disks[0]; imgs[1] = disks[1]; imgs[2] = NULL;
  th_name = "fs-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("fs-setup", t_setup);
    th_run ("fs-mkfs-b", t_mkfs_b);
    th_run ("fs-tune2fs-l", t_tune2fs_l);
    th_run ("fs-e2label", t_e2label);
    th_run ("fs-e2uuid", t_e2uuid);
    th_run ("fs-journals", t_journals);
    th_run ("fs-fsck", t_fsck);
    th_run ("fs-resize2fs", t_resize2fs);
    th_run ("fs-zerofree", t_zerofree);
    th_run ("fs-zero", t_zero);
    guestfs_close (g);
  }
  for (int i = 0; i < 2; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  return th_done ();
}
