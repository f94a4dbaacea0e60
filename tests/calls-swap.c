/* tests/calls-swap.c: the swap calls against one real appliance.
 *
 * One handle, one scratch disk of three partitions: two swap partitions
 * and an ext4 filesystem holding a swap file.  Formatting is checked with
 * vfs_type / file; that swap is really on is checked through the device
 * being busy (zero refuses it) and through swapoff then succeeding once
 * and failing the second time.
 */
#include "harness.h"

static guestfs_h *g;

#define UUID1 "11111111-2222-3333-4444-555555555555"

static int
vfs_is (const char *dev, const char *want)
{
  char *t = guestfs_vfs_type (g, dev);
  int r = t && strcmp (t, want) == 0;
  free (t);
  return r;
}

static void
t_setup (void)
{
  CHECK (guestfs_part_init (g, "/dev/sda", "msdos") == 0, "part_init: %s", guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 2048, 34815) == 0, "part_add 1");
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 34816, 67583) == 0, "part_add 2");
  CHECK (guestfs_part_add (g, "/dev/sda", "p", 67584, 129023) == 0, "part_add 3");
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda3") == 0, "mkfs: %s", guestfs_last_error (g));
}

static void
t_device (void)
{
  CHECK (guestfs_mkswap (g, "/dev/sda1") == 0, "mkswap: %s", guestfs_last_error (g));
  CHECK (vfs_is ("/dev/sda1", "swap"), "sda1 is not swap");
  CHECK (guestfs_swapon_device (g, "/dev/sda1") == 0, "swapon_device: %s", guestfs_last_error (g));
  CHECK (guestfs_zero (g, "/dev/sda1") == -1, "zeroed a swap device in use");
  CHECK (guestfs_swapon_device (g, "/dev/sda1") == -1, "swapon twice");
  CHECK_ERR (g, "swapon_device");
  CHECK (guestfs_swapoff_device (g, "/dev/sda1") == 0, "swapoff_device: %s", guestfs_last_error (g));
  CHECK (guestfs_swapoff_device (g, "/dev/sda1") == -1, "swapoff twice");
  CHECK_ERR (g, "swapoff_device");
  CHECK (guestfs_swapon_device (g, "/dev/sda3") == -1, "swapon of an ext4 partition");
  CHECK_ERR (g, "not a swap area");
  CHECK (guestfs_mkswap (g, "/dev/sdz") == -1, "mkswap of sdz");
  CHECK_ERR (g, "/dev/sdz");
  CHECK (guestfs_swapon_device (g, "/dev/sdz") == -1, "swapon of sdz");
}

static void
t_label (void)
{
  CHECK (guestfs_mkswap_L (g, "swaplabel", "/dev/sda2") == 0, "mkswap_L: %s", guestfs_last_error (g));
  CHECK (vfs_is ("/dev/sda2", "swap"), "sda2 is not swap");
  CHECK (guestfs_swapon_label (g, "swaplabel") == 0, "swapon_label: %s", guestfs_last_error (g));
  CHECK (guestfs_zero (g, "/dev/sda2") == -1, "zeroed a swap device in use");
  CHECK (guestfs_swapoff_label (g, "swaplabel") == 0, "swapoff_label: %s", guestfs_last_error (g));
  CHECK (guestfs_swapoff_label (g, "swaplabel") == -1, "swapoff_label twice");
  CHECK (guestfs_swapon_label (g, "nosuchlabel") == -1, "swapon of a missing label");
  CHECK_ERR (g, "nosuchlabel");
  CHECK (guestfs_mkswap_L (g, "a-label-that-is-too-long", "/dev/sda2") == -1, "a long label");
  CHECK_ERR (g, "label");
  CHECK (guestfs_swapoff_label (g, "a-label-that-is-too-long") == -1, "swapoff of a long label");
}

static void
t_uuid (void)
{
  CHECK (guestfs_mkswap_U (g, UUID1, "/dev/sda2") == 0, "mkswap_U: %s", guestfs_last_error (g));
  CHECK (guestfs_swapon_label (g, "swaplabel") == -1, "the old label survived mkswap_U");
  CHECK (guestfs_swapon_uuid (g, UUID1) == 0, "swapon_uuid: %s", guestfs_last_error (g));
  CHECK (guestfs_zero (g, "/dev/sda2") == -1, "zeroed a swap device in use");
  CHECK (guestfs_swapoff_uuid (g, UUID1) == 0, "swapoff_uuid: %s", guestfs_last_error (g));
  CHECK (guestfs_swapoff_uuid (g, UUID1) == -1, "swapoff_uuid twice");
  CHECK (guestfs_mkswap_U (g, "1234", "/dev/sda2") == -1, "a bad uuid accepted");
  CHECK_ERR (g, "uuid");
  CHECK (guestfs_swapon_uuid (g, "99999999-2222-3333-4444-555555555555") == -1, "a missing uuid");
  CHECK_ERR (g, "swapon_uuid");
  CHECK (guestfs_swapoff_uuid (g, "x") == -1, "swapoff of a bad uuid");
}

static void
t_file (void)
{
  char *s;

  CHECK (guestfs_mount (g, "/dev/sda3", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_fill (g, 0, 8 << 20, "/swapfile") == 0, "fill: %s", guestfs_last_error (g));
  CHECK (guestfs_chmod (g, 0600, "/swapfile") == 0, "chmod");
  CHECK (guestfs_mkswap_file (g, "/swapfile") == 0, "mkswap_file: %s", guestfs_last_error (g));
  s = guestfs_file (g, "/swapfile");
  CHECK (s && strstr (s, "swap"), "file /swapfile: %s", s ? s : "(null)");
  free (s);
  CHECK (guestfs_swapon_file (g, "/swapfile") == 0, "swapon_file: %s", guestfs_last_error (g));
  CHECK (guestfs_umount_all (g) == -1, "unmounted a filesystem with swap on");
  CHECK (guestfs_swapoff_file (g, "/swapfile") == 0, "swapoff_file: %s", guestfs_last_error (g));
  CHECK (guestfs_swapoff_file (g, "/swapfile") == -1, "swapoff_file twice");
  CHECK_ERR (g, "swapoff_file");
  CHECK (guestfs_write_file (g, "/notswap", "hello", 0) == 0, "write_file");
  CHECK (guestfs_swapon_file (g, "/notswap") == -1, "swapon of a text file");
  CHECK_ERR (g, "/notswap");
  CHECK (guestfs_mkswap_file (g, "/nosuchfile") == -1, "mkswap_file of nothing");
  CHECK_ERR (g, "mkswap_file");
  CHECK (guestfs_swapon_file (g, "/nosuchfile") == -1, "swapon_file of nothing");
  CHECK (guestfs_mkswap_file (g, "relative") == -1, "a relative path accepted");
  CHECK (guestfs_umount_all (g) == 0, "umount_all: %s", guestfs_last_error (g));
}

int
main (void)
{
  char *disk = th_scratch ("swap", 64);
  const char *imgs[] = { disk, NULL };

  th_name = "swap-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("swap-setup", t_setup);
    th_run ("swap-device", t_device);
    th_run ("swap-label", t_label);
    th_run ("swap-uuid", t_uuid);
    th_run ("swap-file", t_file);
    guestfs_close (g);
  }
  unlink (disk);
  free (disk);
  return th_done ();
}
