/* tests/calls-basic.c: the foundation's calls against one real appliance.
 *
 * One handle with two scratch disks is launched once and shared by every
 * check here (none of them is about launch).  The checks run in order and
 * build on each other: partition, make a filesystem, mount, then the file
 * calls.  Each call has a success case and at least one error case; calls
 * that change something are checked through another call.
 */
#include <fcntl.h>
#include <stdint.h>

#include "harness.h"

static guestfs_h *g;
static char *disk_a, *disk_b;

static void
t_ping_echo (void)
{
  char *words[] = { "hello", "", "world", NULL };
  char *e;
  CHECK (guestfs_ping_daemon (g) == 0, "ping: %s", guestfs_last_error (g));
  e = guestfs_echo_daemon (g, words);
  CHECK (e && strcmp (e, "hello  world") == 0, "echo_daemon gave '%s'", e ? e : "(null)");
  free (e);
  CHECK (guestfs_echo_daemon (g, NULL) == NULL, "echo_daemon NULL list accepted");
  CHECK_ERR (g, "echo_daemon");
}

static void
t_list_devices (void)
{
  char **l = guestfs_list_devices (g);
  CHECK (l != NULL, "%s", guestfs_last_error (g));
  CHECK (l[0] && strcmp (l[0], "/dev/sda") == 0 && l[1] &&
         strcmp (l[1], "/dev/sdb") == 0 && l[2] == NULL,
         "devices: %s %s %s", l[0], l[0] ? l[1] : "", l[0] && l[1] ? l[2] : "");
  th_count_free (l);
}

static void
t_blockdev_getsize64 (void)
{
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda") == 64 << 20, "size of sda");
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sdb") == 32 << 20, "size of sdb");
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sdz") == -1, "sdz has a size");
  CHECK_ERR (g, "/dev/sdz");
  CHECK (guestfs_blockdev_getsize64 (g, "sda") == -1, "a device without /dev/ accepted");
}

static void
t_part_init_add_list (void)
{
  struct guestfs_partition_list *pl;
  char **parts;

  CHECK (guestfs_part_init (g, "/dev/sda", "msdos") == 0, "part_init: %s", guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sda", "primary", 2048, 65535) == 0, "part_add 1: %s", guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sda", "primary", 65536, 131071) == 0, "part_add 2: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sda");
  CHECK (pl != NULL, "part_list: %s", guestfs_last_error (g));
  CHECK (pl->len == 2, "%u partitions", pl->len);
  CHECK (pl->val[0].part_num == 1 && pl->val[0].part_start == 2048 * 512 &&
         pl->val[0].part_end == 65536 * 512 - 1 &&
         pl->val[0].part_size == 63488 * 512,
         "partition 1: %d %llu %llu %llu", pl->val[0].part_num,
         (unsigned long long) pl->val[0].part_start,
         (unsigned long long) pl->val[0].part_end,
         (unsigned long long) pl->val[0].part_size);
  CHECK (pl->val[1].part_num == 2 && pl->val[1].part_start == 65536 * 512, "partition 2");
  guestfs_free_partition_list (pl);
  parts = guestfs_list_partitions (g);
  CHECK (th_has (parts, "/dev/sda1") && th_has (parts, "/dev/sda2"), "list_partitions lacks sda1/sda2");
  th_count_free (parts);
  CHECK (guestfs_part_init (g, "/dev/sdz", "msdos") == -1, "part_init on sdz");
  CHECK_ERR (g, "part_init");
  CHECK (guestfs_part_init (g, "/dev/sda", "nosuchtype") == -1, "bad table type accepted");
  CHECK (guestfs_part_add (g, "/dev/sda", "sideways", 200000, 300000) == -1, "bad prlogex accepted");
  CHECK_ERR (g, "part_add");
  CHECK (guestfs_part_list (g, "/dev/sdz") == NULL, "part_list on sdz");
}

static void
t_part_disk (void)
{
  struct guestfs_partition_list *pl;
  CHECK (guestfs_part_disk (g, "/dev/sdb", "gpt") == 0, "part_disk: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sdb");
  CHECK (pl && pl->len == 1, "sdb partitions: %u", pl ? pl->len : 0);
  guestfs_free_partition_list (pl);
  CHECK (guestfs_part_disk (g, "/dev/sdz", "gpt") == -1, "part_disk on sdz");
  CHECK_ERR (g, "part_disk");
}

static void
t_mkfs_vfs_type (void)
{
  char *t;
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext2", "/dev/sdb1") == 0, "mkfs ext2: %s", guestfs_last_error (g));
  t = guestfs_vfs_type (g, "/dev/sda1");
  CHECK (t && strcmp (t, "ext4") == 0, "vfs_type sda1 '%s'", t ? t : "(null)");
  free (t);
  t = guestfs_vfs_type (g, "/dev/sdb1");
  CHECK (t && strcmp (t, "ext2") == 0, "vfs_type sdb1 '%s'", t ? t : "(null)");
  free (t);
  CHECK (guestfs_mkfs (g, "nosuchfs", "/dev/sda2") == -1, "mkfs nosuchfs");
  CHECK_ERR (g, "mkfs");
  CHECK (guestfs_vfs_type (g, "/dev/sdz1") == NULL, "vfs_type sdz1");
}

static void
t_mount_mounts (void)
{
  char **m;
  CHECK (guestfs_touch (g, "/nothing-mounted") == -1, "touch with nothing mounted");
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  m = guestfs_mounts (g);
  CHECK (m && m[0] && strcmp (m[0], "/dev/sda1") == 0 && m[1] == NULL, "mounts");
  th_count_free (m);
  CHECK (guestfs_mount (g, "/dev/sdz1", "/") == -1, "mount sdz1");
  CHECK_ERR (g, "mount");
  CHECK (guestfs_mount (g, "/dev/sda2", "/") == -1, "mount of an empty partition");
}

static void
t_sd_translation (void)
{
  /* The disks may appear as /dev/sd*, /dev/vd* or /dev/hd*; the /dev/sd
   * name must always work as a parameter. */
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda1") == 63488 * 512, "sda1 size");
}

static void
t_touch_exists (void)
{
  CHECK (guestfs_touch (g, "/hello") == 0, "touch: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/hello") == 1, "exists after touch");
  CHECK (guestfs_is_file (g, "/hello") == 1, "is_file");
  CHECK (guestfs_is_dir (g, "/hello") == 0, "is_dir of a file");
  CHECK (guestfs_exists (g, "/nope") == 0, "exists of nothing");
  CHECK (guestfs_is_file (g, "/nope") == 0, "is_file of nothing");
  CHECK (guestfs_touch (g, "/no/such/dir/x") == -1, "touch in a missing dir");
  CHECK_ERR (g, "touch");
  CHECK (guestfs_touch (g, "relative") == -1, "relative path accepted");
  CHECK_ERR (g, "absolute");
  CHECK (guestfs_exists (g, NULL) == -1, "NULL path accepted");
}

static void
t_mkdir_family (void)
{
  CHECK (guestfs_mkdir (g, "/d") == 0, "mkdir: %s", guestfs_last_error (g));
  CHECK (guestfs_is_dir (g, "/d") == 1, "is_dir after mkdir");
  CHECK (guestfs_mkdir (g, "/d") == -1, "mkdir of an existing dir");
  CHECK_ERR (g, "mkdir");
  CHECK (guestfs_mkdir (g, "/x/y") == -1, "mkdir without parent");
  CHECK (guestfs_mkdir_p (g, "/p/q/r") == 0, "mkdir_p: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir_p (g, "/p/q/r") == 0, "mkdir_p again");
  CHECK (guestfs_is_dir (g, "/p/q/r") == 1, "is_dir after mkdir_p");
  CHECK (guestfs_mkdir_p (g, "/hello/sub") == -1, "mkdir_p through a file");
  CHECK_ERR (g, "mkdir_p");
}

static void
t_write_cat_read (void)
{
  char *s, **lines;
  size_t n;

  CHECK (guestfs_write_file (g, "/d/f", "line one\nline two\n", 0) == 0,
         "write_file: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/d/f");
  CHECK (s && strcmp (s, "line one\nline two\n") == 0, "cat gave '%s'", s ? s : "(null)");
  free (s);
  lines = guestfs_read_lines (g, "/d/f");
  CHECK (lines && lines[0] && strcmp (lines[0], "line one") == 0 &&
         lines[1] && strcmp (lines[1], "line two") == 0 && lines[2] == NULL, "read_lines");
  th_count_free (lines);
  CHECK (guestfs_write_file (g, "/d/three", "abcdef", 3) == 0, "write_file size 3");
  s = guestfs_cat (g, "/d/three");
  CHECK (s && strcmp (s, "abc") == 0, "write_file size honoured: '%s'", s ? s : "(null)");
  free (s);
  s = guestfs_read_file (g, "/d/f", &n);
  CHECK (s && n == 18 && memcmp (s, "line one\nline two\n", 18) == 0, "read_file %zu bytes", n);
  free (s);
  CHECK (guestfs_cat (g, "/d/missing") == NULL, "cat of a missing file");
  CHECK_ERR (g, "cat");
  CHECK (guestfs_read_file (g, "/d", &n) == NULL, "read_file of a directory");
  CHECK (guestfs_read_lines (g, "/d/missing") == NULL, "read_lines of a missing file");
  CHECK (guestfs_write_file (g, "/nodir/f", "x", 0) == -1, "write_file in a missing dir");
  CHECK_ERR (g, "write_file");
}

static void
t_ls_ll (void)
{
  char **l = guestfs_ls (g, "/d");
  char *s;
  CHECK (l && th_has (l, "f") && !th_has (l, ".") && !th_has (l, ".."), "ls /d");
  th_count_free (l);
  l = guestfs_ls (g, "/");
  CHECK (th_has (l, "hello") && th_has (l, "d") && th_has (l, "p") && th_has (l, "lost+found"), "ls /");
  th_count_free (l);
  s = guestfs_ll (g, "/d");
  CHECK (s && strstr (s, " f\n") && strstr (s, " three\n"), "ll /d: %s", s ? s : "(null)");
  free (s);
  CHECK (guestfs_ls (g, "/nope") == NULL, "ls of a missing dir");
  CHECK_ERR (g, "ls");
  CHECK (guestfs_ll (g, "/nope") == NULL, "ll of a missing dir");
}

static void
t_links (void)
{
  char *s;
  CHECK (guestfs_ln_s (g, "d/f", "/link") == 0, "ln_s: %s", guestfs_last_error (g));
  s = guestfs_readlink (g, "/link");
  CHECK (s && strcmp (s, "d/f") == 0, "readlink '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_is_file (g, "/link") == 1, "is_file follows the link");
  CHECK (guestfs_ln_s (g, "x", "/link") == -1, "ln_s over an existing link");
  CHECK_ERR (g, "ln_s");
  CHECK (guestfs_readlink (g, "/hello") == NULL, "readlink of a file");
  CHECK_ERR (g, "readlink");
  /* A link that points out of the guest must resolve inside it. */
  CHECK (guestfs_ln_s (g, "/../../../../etc/hostname", "/escape") == 0, "ln_s escape");
  CHECK (guestfs_exists (g, "/escape") == 0, "a link out of the guest reached the appliance");
}

static void
t_stat_lstat (void)
{
  struct guestfs_stat *st = guestfs_stat (g, "/d/f");
  CHECK (st && st->size == 18 && (st->mode & 0170000) == 0100000, "stat /d/f");
  guestfs_free_stat (st);
  st = guestfs_lstat (g, "/link");
  CHECK (st && (st->mode & 0170000) == 0120000 && st->size == 3, "lstat /link");
  guestfs_free_stat (st);
  st = guestfs_stat (g, "/link");
  CHECK (st && (st->mode & 0170000) == 0100000, "stat follows /link");
  guestfs_free_stat (st);
  CHECK (guestfs_stat (g, "/nope") == NULL, "stat of nothing");
  CHECK_ERR (g, "stat");
  CHECK (guestfs_lstat (g, "/nope") == NULL, "lstat of nothing");
}

static void
t_chmod_chown (void)
{
  struct guestfs_stat *st;
  CHECK (guestfs_chmod (g, 0640, "/d/f") == 0, "chmod: %s", guestfs_last_error (g));
  CHECK (guestfs_chown (g, 1234, 5678, "/d/f") == 0, "chown: %s", guestfs_last_error (g));
  st = guestfs_stat (g, "/d/f");
  CHECK (st && (st->mode & 07777) == 0640 && st->uid == 1234 && st->gid == 5678,
         "mode %llo uid %lld", st ? (unsigned long long) st->mode : 0ULL,
         st ? (long long) st->uid : 0LL);
  guestfs_free_stat (st);
  CHECK (guestfs_chmod (g, 0644, "/nope") == -1, "chmod of nothing");
  CHECK_ERR (g, "chmod");
  CHECK (guestfs_chown (g, 0, 0, "/nope") == -1, "chown of nothing");
}

static void
t_file (void)
{
  char *s = guestfs_file (g, "/d");
  CHECK (s && strstr (s, "directory"), "file /d: %s", s ? s : "(null)");
  free (s);
  s = guestfs_file (g, "/d/f");
  CHECK (s && strstr (s, "text"), "file /d/f: %s", s ? s : "(null)");
  free (s);
  s = guestfs_file (g, "/dev/sda1");
  CHECK (s && strstr (s, "ext4"), "file /dev/sda1: %s", s ? s : "(null)");
  free (s);
  CHECK (guestfs_file (g, "/nope") == NULL, "file of nothing");
  CHECK_ERR (g, "file");
}

static int
write_random (const char *path, size_t n)
{
  FILE *f = fopen (path, "w");
  unsigned seed = 42;
  if (f == NULL) return -1;
  for (size_t i = 0; i < n; i++)
    fputc (rand_r (&seed) & 0xff, f);
  return fclose (f);
}

static int
same_files (const char *a, const char *b)
{
  FILE *fa = fopen (a, "r"), *fb = fopen (b, "r");
  int ca, cb, same = fa && fb;
  while (same && (ca = fgetc (fa)) != EOF) {
    cb = fgetc (fb);
    same = ca == cb;
  }
  if (same && fgetc (fb) != EOF) same = 0;
  if (fa) fclose (fa);
  if (fb) fclose (fb);
  return same;
}

static void
t_upload_download (void)
{
  char src[] = "tests/out/upXXXXXX", *dst;
  int fd = mkstemp (src);
  struct guestfs_stat *st;

  CHECK (fd >= 0, "mkstemp");
  close (fd);
  CHECK (write_random (src, 3 * 1024 * 1024 + 7) == 0, "write local file");
  CHECK (guestfs_upload (g, src, "/up") == 0, "upload: %s", guestfs_last_error (g));
  st = guestfs_stat (g, "/up");
  CHECK (st && st->size == 3 * 1024 * 1024 + 7, "uploaded size");
  guestfs_free_stat (st);
  if (asprintf (&dst, "%s.back", src) == -1) abort ();
  CHECK (guestfs_download (g, "/up", dst) == 0, "download: %s", guestfs_last_error (g));
  CHECK (same_files (src, dst), "downloaded bytes differ");
  unlink (dst);
  CHECK (guestfs_download (g, "/nope", dst) == -1, "download of nothing");
  CHECK_ERR (g, "download");
  CHECK (access (dst, F_OK) == -1, "failed download left a file");
  CHECK (guestfs_upload (g, "/nonexistent/local", "/up2") == -1, "upload of a missing local file");
  CHECK_ERR (g, "/nonexistent/local");
  CHECK (guestfs_upload (g, src, "/nodir/up") == -1, "upload into a missing dir");
  CHECK_ERR (g, "upload");
  /* The channel is still in step after the failures. */
  CHECK (guestfs_ping_daemon (g) == 0, "ping after failed transfers");
  CHECK (guestfs_download (g, "/up", "/nonexistent/dir/x") == -1, "download to a missing local dir");
  CHECK (guestfs_ping_daemon (g) == 0, "ping after failed local write");
  unlink (src);
  free (dst);
}

static void
t_rm_family (void)
{
  CHECK (guestfs_rm (g, "/hello") == 0, "rm: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/hello") == 0, "file remains after rm");
  CHECK (guestfs_rm (g, "/hello") == -1, "rm of nothing");
  CHECK_ERR (g, "rm");
  CHECK (guestfs_rm (g, "/d") == -1, "rm of a directory");
  CHECK (guestfs_rmdir (g, "/p/q/r") == 0, "rmdir: %s", guestfs_last_error (g));
  CHECK (guestfs_is_dir (g, "/p/q/r") == 0, "dir remains after rmdir");
  CHECK (guestfs_rmdir (g, "/d") == -1, "rmdir of a non-empty dir");
  CHECK_ERR (g, "rmdir");
  CHECK (guestfs_rm_rf (g, "/d") == 0, "rm_rf: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/d") == 0, "dir remains after rm_rf");
  CHECK (guestfs_rm_rf (g, "/") == -1, "rm_rf / accepted");
}

static void
t_lvm_lists (void)
{
  char **l;
  l = guestfs_pvs (g);
  CHECK (l != NULL, "pvs: %s", guestfs_last_error (g));
  CHECK (th_count_free (l) == 0, "pvs on disks without LVM");
  l = guestfs_vgs (g);
  CHECK (l != NULL && th_count_free (l) == 0, "vgs");
  l = guestfs_lvs (g);
  CHECK (l != NULL && th_count_free (l) == 0, "lvs");
}

static void
t_mount_variants (void)
{
  char **m;
  CHECK (guestfs_mkdir (g, "/mnt") == 0, "mkdir /mnt");
  CHECK (guestfs_mount_ro (g, "/dev/sdb1", "/mnt") == 0, "mount_ro: %s", guestfs_last_error (g));
  CHECK (guestfs_touch (g, "/mnt/x") == -1, "write to a read-only mount");
  m = guestfs_mounts (g);
  CHECK (m && th_has (m, "/dev/sdb1") && th_has (m, "/dev/sda1"), "mounts has both");
  th_count_free (m);
  CHECK (guestfs_umount (g, "/mnt") == 0, "umount: %s", guestfs_last_error (g));
  CHECK (guestfs_umount (g, "/mnt") == -1, "umount of nothing mounted");
  CHECK_ERR (g, "umount");
  CHECK (guestfs_mount_options (g, "noatime", "/dev/sdb1", "/mnt") == 0,
         "mount_options: %s", guestfs_last_error (g));
  CHECK (guestfs_touch (g, "/mnt/y") == 0, "write to a read-write mount");
  CHECK (guestfs_mount_options (g, "bogus_option_xyz", "/dev/sdb1", "/mnt") == -1, "bad options");
  CHECK (guestfs_mount_ro (g, "/dev/sdz", "/mnt") == -1, "mount_ro of sdz");
  CHECK (guestfs_sync (g) == 0, "sync");
  CHECK (guestfs_umount_all (g) == 0, "umount_all: %s", guestfs_last_error (g));
  m = guestfs_mounts (g);
  CHECK (m && m[0] == NULL, "mounts after umount_all");
  th_count_free (m);
  CHECK (guestfs_umount_all (g) == 0, "umount_all with nothing mounted");
}

int
main (void)
{
  const char *imgs[3];

  disk_a = th_scratch ("calls-a", 64);
  disk_b = th_scratch ("calls-b", 32);
  imgs[0] = disk_a; imgs[1] = disk_b; imgs[2] = NULL;
  th_name = "calls-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("calls-ping-echo", t_ping_echo);
  th_run ("calls-list-devices", t_list_devices);
  th_run ("calls-blockdev-getsize64", t_blockdev_getsize64);
  th_run ("calls-part-init-add-list", t_part_init_add_list);
  th_run ("calls-part-disk", t_part_disk);
  th_run ("calls-mkfs-vfs-type", t_mkfs_vfs_type);
  th_run ("calls-mount-mounts", t_mount_mounts);
  th_run ("calls-sd-translation", t_sd_translation);
  th_run ("calls-touch-exists", t_touch_exists);
  th_run ("calls-mkdir", t_mkdir_family);
  th_run ("calls-write-cat-read", t_write_cat_read);
  th_run ("calls-ls-ll", t_ls_ll);
  th_run ("calls-links", t_links);
  th_run ("calls-stat-lstat", t_stat_lstat);
  th_run ("calls-chmod-chown", t_chmod_chown);
  th_run ("calls-file", t_file);
  th_run ("calls-upload-download", t_upload_download);
  th_run ("calls-rm", t_rm_family);
  th_run ("calls-lvm-lists", t_lvm_lists);
  th_run ("calls-mount-variants", t_mount_variants);
  guestfs_close (g);
  unlink (disk_a);
  unlink (disk_b);
  free (disk_a);
  free (disk_b);
  return th_done ();
}
