/* tests/calls-misc-dev.c: block-device settings, the extra mount calls,
 * optional groups, inotify, scrub, modules and the calls whose feature
 * this appliance lacks, against one real appliance.
 *
 * One handle with two scratch disks, shared by every check; they run in
 * order.  sda holds an ext4 filesystem; sdb an ext2 filesystem that is
 * also copied into a file on sda to be mounted through a loop device.
 * Changes are read back through another call; every call also gets at
 * least one error case.
 */
#include "harness.h"

static guestfs_h *g;

/* Does the hashtable map key to value? */
static int
maps (char **h, const char *key, const char *value)
{
  for (size_t i = 0; h && h[i] && h[i+1]; i += 2)
    if (strcmp (h[i], key) == 0 && strcmp (h[i+1], value) == 0)
      return 1;
  return 0;
}

static void
t_blockdev_get (void)
{
  int64_t bytes = guestfs_blockdev_getsize64 (g, "/dev/sda");

  CHECK (guestfs_blockdev_getss (g, "/dev/sda") == 512, "getss");
  CHECK (guestfs_blockdev_getsz (g, "/dev/sda") == bytes / 512, "getsz");
  CHECK (guestfs_blockdev_getbsz (g, "/dev/sda") == 4096, "getbsz %d",
         guestfs_blockdev_getbsz (g, "/dev/sda"));
  CHECK (guestfs_blockdev_getss (g, "/dev/sdz") == -1, "getss of sdz");
  CHECK_ERR (g, "blockdev_getss");
  CHECK (guestfs_blockdev_getsz (g, "/dev/sdz") == -1, "getsz of sdz");
  CHECK_ERR (g, "blockdev_getsz");
  CHECK (guestfs_blockdev_getbsz (g, "/dev/null") == -1, "getbsz of /dev/null");
  CHECK_ERR (g, "not a block device");
  /* The kernel forgets a soft block size on the last close: only the
   * call itself and its checks can be tested. */
  CHECK (guestfs_blockdev_setbsz (g, "/dev/sda", 1024) == 0, "setbsz: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_setbsz (g, "/dev/sda", 1000) == -1, "setbsz 1000");
  CHECK_ERR (g, "blocksize");
  CHECK (guestfs_blockdev_setbsz (g, "/dev/sda", -4096) == -1, "setbsz -4096");
  CHECK (guestfs_blockdev_flushbufs (g, "/dev/sda") == 0, "flushbufs: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_flushbufs (g, "/dev/sdz") == -1, "flushbufs of sdz");
  CHECK_ERR (g, "blockdev_flushbufs");
}

static void
t_blockdev_ro (void)
{
  CHECK (guestfs_blockdev_getro (g, "/dev/sdb") == 0, "sdb starts read-only");
  CHECK (guestfs_blockdev_setro (g, "/dev/sdb") == 0, "setro: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_getro (g, "/dev/sdb") == 1, "getro after setro");
  CHECK (guestfs_mkfs (g, "ext2", "/dev/sdb") == -1, "mkfs on a read-only device");
  CHECK (guestfs_blockdev_setrw (g, "/dev/sdb") == 0, "setrw: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_getro (g, "/dev/sdb") == 0, "getro after setrw");
  CHECK (guestfs_mkfs (g, "ext2", "/dev/sdb") == 0, "mkfs after setrw: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_setro (g, "/dev/sdz") == -1, "setro of sdz");
  CHECK_ERR (g, "blockdev_setro");
  CHECK (guestfs_blockdev_setrw (g, "/dev/sdz") == -1, "setrw of sdz");
  CHECK_ERR (g, "blockdev_setrw");
  CHECK (guestfs_blockdev_getro (g, "/dev/sdz") == -1, "getro of sdz");
  CHECK_ERR (g, "blockdev_getro");
}

static void
t_rereadpt (void)
{
  char **l;

  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_rereadpt (g, "/dev/sda") == 0, "rereadpt: %s", guestfs_last_error (g));
  l = guestfs_list_partitions (g);
  CHECK (th_has (l, "/dev/sda1"), "sda1 missing after rereadpt");
  th_count_free (l);
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_blockdev_rereadpt (g, "/dev/sda") == -1, "rereadpt of a disk in use");
  CHECK_ERR (g, "blockdev_rereadpt");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
}

static void
t_mount_vfs (void)
{
  char **m;

  CHECK (guestfs_mount_vfs (g, "ro", "ext4", "/dev/sda1", "/") == 0, "mount_vfs: %s",
         guestfs_last_error (g));
  CHECK (guestfs_touch (g, "/x") == -1, "wrote to a read-only mount");
  m = guestfs_mountpoints (g);
  CHECK (m && maps (m, "/dev/sda1", "/") && m[2] == NULL, "mountpoints: %s",
         m ? (m[0] ? m[0] : "(empty)") : guestfs_last_error (g));
  th_count_free (m);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_mount_vfs (g, "", "vfat", "/dev/sda1", "/") == -1, "ext4 mounted as vfat");
  CHECK_ERR (g, "mount_vfs");
  CHECK (guestfs_mount_vfs (g, "", "bad type!", "/dev/sda1", "/") == -1, "a bad vfstype");
  CHECK_ERR (g, "vfstype");
  CHECK (guestfs_mount_vfs (g, "", "ext4", "/dev/sdz", "/") == -1, "mount_vfs of sdz");
  CHECK (guestfs_mount_vfs (g, "", "ext4", "/dev/sda1", "/") == 0, "mount_vfs rw: %s",
         guestfs_last_error (g));
  CHECK (guestfs_touch (g, "/x") == 0, "touch on a rw mount_vfs");
  m = guestfs_mountpoints (g);
  CHECK (m && maps (m, "/dev/sda1", "/"), "mountpoints after rw mount");
  th_count_free (m);
}

static void
t_mount_loop (void)
{
  char *s, **m;

  /* An ext2 image with one file, copied from sdb into a file on sda1. */
  CHECK (guestfs_mkdir (g, "/mnt") == 0, "mkdir /mnt");
  CHECK (guestfs_mount (g, "/dev/sdb", "/mnt") == 0, "mount sdb: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/mnt/hello", "from the loop\n", 0) == 0, "write_file");
  CHECK (guestfs_umount (g, "/mnt") == 0, "umount /mnt");
  CHECK (guestfs_dd (g, "/dev/sdb", "/disk.img") == 0, "dd: %s", guestfs_last_error (g));
  CHECK (guestfs_mount_loop (g, "/disk.img", "/mnt") == 0, "mount_loop: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/mnt/hello");
  CHECK (s && strcmp (s, "from the loop\n") == 0, "cat through the loop: %s", s ? s : "(null)");
  free (s);
  m = guestfs_mountpoints (g);
  CHECK (m && m[0] && m[1] && m[2] && strncmp (m[2], "/dev/loop", 9) == 0 &&
         strcmp (m[3], "/mnt") == 0 && m[4] == NULL, "mountpoints with a loop");
  th_count_free (m);
  CHECK (guestfs_umount (g, "/mnt") == 0, "umount loop: %s", guestfs_last_error (g));
  CHECK (guestfs_mount_loop (g, "/nosuch.img", "/mnt") == -1, "mount_loop of nothing");
  CHECK_ERR (g, "mount_loop");
  CHECK (guestfs_write_file (g, "/text", "not a filesystem\n", 0) == 0, "write_file");
  CHECK (guestfs_mount_loop (g, "/text", "/mnt") == -1, "mount_loop of a text file");
  CHECK (guestfs_mount_loop (g, "/disk.img", "/nosuchdir") == -1, "mount_loop on nothing");
  CHECK_ERR (g, "/nosuchdir");
  CHECK (guestfs_umount_all (g) == 0, "umount_all: %s", guestfs_last_error (g));
}

/* A live CD's layout: two unrelated filesystems side by side, nothing
 * mounted on / itself. */
static void
t_mkmountpoint (void)
{
  char *s, **m;

  CHECK (guestfs_mkmountpoint (g, "/cd") == 0, "mkmountpoint: %s", guestfs_last_error (g));
  CHECK (guestfs_mkmountpoint (g, "/sq") == 0, "mkmountpoint /sq");
  CHECK (guestfs_mkmountpoint (g, "/sq") == -1, "mkmountpoint twice");
  CHECK_ERR (g, "mkmountpoint");
  CHECK (guestfs_mount (g, "/dev/sda1", "/cd") == 0, "mount on /cd: %s", guestfs_last_error (g));
  CHECK (guestfs_mount_loop (g, "/cd/disk.img", "/sq") == 0, "mount_loop on /sq: %s",
         guestfs_last_error (g));
  s = guestfs_cat (g, "/sq/hello");
  CHECK (s && strcmp (s, "from the loop\n") == 0, "cat /sq/hello: %s", s ? s : "(null)");
  free (s);
  m = guestfs_mounts (g);
  CHECK (m && m[0] && strcmp (m[0], "/dev/sda1") == 0 && m[1] && m[2] == NULL,
         "mounts: %s", m && m[0] ? m[0] : "(empty)");
  th_count_free (m);
  m = guestfs_mountpoints (g);
  CHECK (maps (m, "/dev/sda1", "/cd") && m[4] == NULL, "mountpoints");
  th_count_free (m);
  CHECK (guestfs_umount_all (g) == 0, "umount_all: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/cd") == -1, "/ still mounted after umount_all");
  CHECK (guestfs_mkmountpoint (g, "/a") == 0, "mkmountpoint /a: %s", guestfs_last_error (g));
  CHECK (guestfs_is_dir (g, "/a") == 1, "/a is not a directory");
  CHECK (guestfs_rmmountpoint (g, "/a") == 0, "rmmountpoint: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/a") == -1, "the scaffold outlived its last mount point");
  CHECK (guestfs_rmmountpoint (g, "/a") == -1, "rmmountpoint twice");
  CHECK_ERR (g, "rmmountpoint");
  CHECK (guestfs_mkmountpoint (g, "relative") == -1, "a relative mount point");
  CHECK_ERR (g, "exemptpath");
  CHECK (guestfs_mkmountpoint (g, "/") == -1, "mkmountpoint /");
}

static void
t_available (void)
{
  char *all[] = { "augeas", "inotify", "linuxfsuuid", "linuxmodules", "linuxxattrs",
                  "lvm2", "mknod", "ntfs3g", "realpath", "scrub", "zerofree", NULL };
  char *selinux[] = { "selinux", NULL }, *unknown[] = { "frobnicate", NULL };

  CHECK (guestfs_available (g, all) == 0, "available: %s", guestfs_last_error (g));
  /* The appliance boots with lsm=capability: no SELinux. */
  CHECK (guestfs_available (g, selinux) == -1, "selinux available");
  CHECK_ERR (g, "the selinux feature is not available in this appliance");
  CHECK (guestfs_available (g, unknown) == -1, "an unknown group");
  CHECK_ERR (g, "frobnicate");
  CHECK (guestfs_getcon (g) == NULL, "getcon without SELinux");
  CHECK_ERR (g, "getcon: the selinux feature is not available in this appliance");
  CHECK (guestfs_setcon (g, "system_u:system_r:kernel_t:s0") == -1, "setcon without SELinux");
  CHECK_ERR (g, "setcon: the selinux feature is not available");
}

/* grub_install runs the guest's grub-install chrooted into the guest: a
 * stand-in script (the host's dash as the guest's /bin/sh, builtins only)
 * records its arguments and writes ROOT/boot/grub/marker, where the guest's /boot is
 * an absolute symlink to /realboot: the file must land in the guest's
 * /realboot. */
static void
t_grub_install (void)
{
  static const char *const files[][2] = {
    { "/bin/dash", "/bin/sh" },
    { "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6" },
    { "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2" },
  };
  static const char script[] =
    "#!/bin/sh\necho \"$@\" > /grub-args\nr=${1#--root-directory=}\n"
    "echo installed > $r/boot/grub/marker\n";
  char *s;

  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_grub_install (g, "/", "/dev/sda") == -1, "grub_install without grub");
  CHECK_ERR (g, "grub-install");
  CHECK (guestfs_grub_install (g, "/nosuchdir", "/dev/sda") == -1, "a missing root");
  CHECK_ERR (g, "root /nosuchdir");
  CHECK (guestfs_mkdir_p (g, "/lib/x86_64-linux-gnu") == 0 && guestfs_mkdir_p (g, "/lib64") == 0 &&
         guestfs_mkdir_p (g, "/bin") == 0 && guestfs_mkdir_p (g, "/usr/sbin") == 0 &&
         guestfs_mkdir_p (g, "/dev") == 0 && guestfs_mkdir_p (g, "/proc") == 0 &&
         guestfs_mkdir_p (g, "/sys") == 0 && guestfs_mkdir_p (g, "/realboot/grub") == 0 &&
         guestfs_ln_s (g, "/realboot", "/boot") == 0, "guest tree: %s", guestfs_last_error (g));
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    CHECK (guestfs_upload (g, files[i][0], files[i][1]) == 0, "upload %s: %s",
           files[i][0], guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/usr/sbin/grub-install", script, 0) == 0 &&
         guestfs_chmod (g, 0755, "/usr/sbin/grub-install") == 0 &&
         guestfs_chmod (g, 0755, "/bin/sh") == 0 &&
         guestfs_chmod (g, 0755, "/lib64/ld-linux-x86-64.so.2") == 0,
         "install the script: %s", guestfs_last_error (g));
  CHECK (guestfs_grub_install (g, "/", "/dev/sda") == 0, "grub_install: %s",
         guestfs_last_error (g));
  s = guestfs_cat (g, "/grub-args");
  CHECK (s && strcmp (s, "--root-directory=/ /dev/sda\n") == 0, "grub-install got '%s'",
         s ? s : "(null)");
  free (s);
  s = guestfs_cat (g, "/realboot/grub/marker");
  CHECK (s && strcmp (s, "installed\n") == 0, "guest /realboot/grub/marker: '%s'",
         s ? s : "(null)");
  free (s);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
}

static void
t_modprobe (void)
{
  CHECK (guestfs_modprobe (g, "vfat") == 0, "modprobe: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "vfat", "/dev/sdb") == 0, "mkfs vfat");
  CHECK (guestfs_mount_vfs (g, "", "vfat", "/dev/sdb", "/") == 0, "mount vfat: %s",
         guestfs_last_error (g));
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_modprobe (g, "no_such_module") == -1, "modprobe of nothing");
  CHECK_ERR (g, "modprobe");
  CHECK (guestfs_modprobe (g, "../../etc/x") == -1, "a path as module name");
  CHECK_ERR (g, "modulename");
}

static void
t_ntfs_3g_probe (void)
{
  CHECK (guestfs_ntfs_3g_probe (g, 1, "/dev/sdb") > 0, "vfat probed as NTFS");
  CHECK (guestfs_ntfs_3g_probe (g, 0, "/dev/sdb") > 0, "vfat probed as NTFS (ro)");
  CHECK (guestfs_ntfs_3g_probe (g, 0, "/dev/sdz") == -1, "probe of sdz");
  CHECK_ERR (g, "ntfs_3g_probe");
}

static void
t_inotify (void)
{
  struct guestfs_inotify_event_list *ev;
  char **files;
  int64_t wd;

  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_inotify_add_watch (g, "/", 2) == -1, "a watch before inotify_init");
  CHECK_ERR (g, "inotify_init first");
  CHECK (guestfs_inotify_init (g, -1) == -1, "negative maxevents");
  CHECK_ERR (g, "maxevents");
  CHECK (guestfs_inotify_init (g, 0) == 0, "inotify_init: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir (g, "/watched") == 0, "mkdir");
  wd = guestfs_inotify_add_watch (g, "/watched", 0x100 /* IN_CREATE */ | 0x8 /* CLOSE_WRITE */);
  CHECK (wd >= 0, "inotify_add_watch: %s", guestfs_last_error (g));
  ev = guestfs_inotify_read (g);
  CHECK (ev && ev->len == 0, "events before any change");
  guestfs_free_inotify_event_list (ev);
  /* Bits the kernel gave new meanings to after 2009 (IN_EXCL_UNLINK,
   * IN_MASK_CREATE) or that only appear in events are dropped, not
   * refused; the events asked for still come. */
  CHECK (guestfs_inotify_add_watch (g, "/watched", 0x108 | 0x04000000 | 0x10000000 |
                                    0x40000000) == wd,
         "inotify_add_watch with later bits: %s", guestfs_last_error (g));
  CHECK (guestfs_inotify_add_watch (g, "/watched", 0x04000000) == -1, "a mask with no event");
  CHECK_ERR (g, "no IN_* event");
  CHECK (guestfs_touch (g, "/watched/b") == 0, "touch b");
  CHECK (guestfs_touch (g, "/watched/a") == 0, "touch a");
  CHECK (guestfs_touch (g, "/outside") == 0, "touch outside");
  ev = guestfs_inotify_read (g);
  CHECK (ev && ev->len >= 2 && ev->val[0].in_wd == wd && (ev->val[0].in_mask & 0x100) &&
         strcmp (ev->val[0].in_name, "b") == 0, "inotify_read: %u events",
         ev ? ev->len : 0);
  guestfs_free_inotify_event_list (ev);
  CHECK (guestfs_write_file (g, "/watched/b", "x", 0) == 0, "write b");
  CHECK (guestfs_touch (g, "/watched/c") == 0, "touch c");
  files = guestfs_inotify_files (g);
  CHECK (files && files[0] && strcmp (files[0], "b") == 0 && files[1] &&
         strcmp (files[1], "c") == 0 && files[2] == NULL, "inotify_files");
  th_count_free (files);
  CHECK (guestfs_inotify_rm_watch (g, (int) wd) == 0, "rm_watch: %s", guestfs_last_error (g));
  CHECK (guestfs_touch (g, "/watched/d") == 0, "touch d");
  files = guestfs_inotify_files (g);
  CHECK (files && (files[0] == NULL || strcmp (files[0], "d") != 0), "events after rm_watch");
  th_count_free (files);
  CHECK (guestfs_inotify_rm_watch (g, (int) wd) == -1, "rm_watch twice");
  CHECK_ERR (g, "inotify_rm_watch");
  CHECK (guestfs_inotify_add_watch (g, "/nosuch", 0x100) == -1, "a watch on nothing");
  CHECK_ERR (g, "/nosuch");
  CHECK (guestfs_inotify_add_watch (g, "/watched", 0) == -1, "an empty mask");
  CHECK_ERR (g, "mask");
  CHECK (guestfs_inotify_close (g) == 0, "inotify_close: %s", guestfs_last_error (g));
  CHECK (guestfs_inotify_read (g) == NULL, "inotify_read after close");
  CHECK_ERR (g, "inotify_init first");
  CHECK (guestfs_inotify_files (g) == NULL, "inotify_files after close");
  CHECK (guestfs_inotify_close (g) == -1, "inotify_close twice");
  CHECK_ERR (g, "inotify_close");
}

static void
t_scrub (void)
{
  struct guestfs_statvfs *before, *after;

  CHECK (guestfs_write_file (g, "/secret", "top secret\n", 0) == 0, "write_file");
  CHECK (guestfs_scrub_file (g, "/secret") == 0, "scrub_file: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/secret") == 0, "scrubbed file still there");
  CHECK (guestfs_scrub_file (g, "/secret") == -1, "scrub_file of nothing");
  CHECK_ERR (g, "scrub_file");
  CHECK (guestfs_ln_s (g, "/text", "/link") == 0, "ln_s");
  CHECK (guestfs_scrub_file (g, "/link") == -1, "scrub_file followed a symlink");
  CHECK (guestfs_exists (g, "/text") == 1, "the link's target was removed");
  /* Free space on the small disk (vfat since t_modprobe) on /mnt. */
  CHECK (guestfs_mount (g, "/dev/sdb", "/mnt") == 0, "mount sdb: %s", guestfs_last_error (g));
  before = guestfs_statvfs (g, "/mnt");
  CHECK (guestfs_scrub_freespace (g, "/mnt/fill") == 0, "scrub_freespace: %s", guestfs_last_error (g));
  after = guestfs_statvfs (g, "/mnt");
  CHECK (guestfs_exists (g, "/mnt/fill") == 0, "scrub_freespace left its directory");
  CHECK (before && after && after->bfree == before->bfree, "free space changed");
  guestfs_free_statvfs (before);
  guestfs_free_statvfs (after);
  CHECK (guestfs_mkdir (g, "/taken") == 0, "mkdir");
  CHECK (guestfs_scrub_freespace (g, "/taken") == -1, "scrub_freespace into an existing dir");
  CHECK_ERR (g, "scrub_freespace");
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
  CHECK (guestfs_scrub_device (g, "/dev/sdb") == 0, "scrub_device: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sdb", "/") == -1, "mounted a scrubbed device");
  CHECK (guestfs_scrub_device (g, "/dev/sdz") == -1, "scrub_device of sdz");
  CHECK_ERR (g, "/dev/sdz");
}

int
main (void)
{
  char *disks[2];
  const char *imgs[3];

  disks[0] = th_scratch ("misc-dev-a", 48);
  disks[1] = th_scratch ("misc-dev-b", 8);
  imgs[0] = disks[0]; imgs[1] = disks[1]; imgs[2] = NULL;
  th_name = "misc-dev-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("misc-dev-blockdev-get", t_blockdev_get);
    th_run ("misc-dev-blockdev-ro", t_blockdev_ro);
    th_run ("misc-dev-rereadpt", t_rereadpt);
    th_run ("misc-dev-mount-vfs", t_mount_vfs);
    th_run ("misc-dev-mount-loop", t_mount_loop);
    th_run ("misc-dev-mkmountpoint", t_mkmountpoint);
    th_run ("misc-dev-available", t_available);
    th_run ("misc-dev-grub-install", t_grub_install);
    th_run ("misc-dev-modprobe", t_modprobe);
    th_run ("misc-dev-ntfs-3g-probe", t_ntfs_3g_probe);
    th_run ("misc-dev-inotify", t_inotify);
    th_run ("misc-dev-scrub", t_scrub);
    guestfs_close (g);
  }
  for (int i = 0; i < 2; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  return th_done ();
}
