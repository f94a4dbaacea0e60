/* tests/make-sample-image.c: make a small disk image with guestkit itself
 * (no host mounts): one partition, an ext4 filesystem, and a few files of
 * a Debian-like system.  Used by tests and by `make demo'.
 *
 * usage: make-sample-image OUTPUT SIZE_MB [HOSTNAME]
 * OUTPUT must not exist; it is written as OUTPUT.tmp and renamed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

static int
populate (guestfs_h *g, const char *hostname)
{
  char *h;
  int r;

  if (guestfs_part_disk (g, "/dev/sda", "msdos") == -1 ||
      guestfs_mkfs (g, "ext4", "/dev/sda1") == -1 ||
      guestfs_mount (g, "/dev/sda1", "/") == -1 ||
      guestfs_mkdir_p (g, "/etc") == -1 ||
      guestfs_mkdir_p (g, "/var/lib/dpkg") == -1 ||
      guestfs_mkdir_p (g, "/home/user") == -1)
    return -1;
  if (asprintf (&h, "%s\n", hostname) == -1)
    return -1;
  r = guestfs_write_file (g, "/etc/hostname", h, 0);
  free (h);
  if (r == -1 ||
      guestfs_write_file (g, "/etc/os-release",
                          "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                          "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                          "VERSION=\"12 (bookworm)\"\nID=debian\n", 0) == -1 ||
      guestfs_write_file (g, "/etc/debian_version", "12.11\n", 0) == -1 ||
      guestfs_write_file (g, "/etc/fstab",
                          "/dev/sda1 / ext4 errors=remount-ro 0 1\n", 0) == -1 ||
      guestfs_write_file (g, "/etc/shadow", "root:*:19700:0:99999:7:::\n", 0) == -1 ||
      guestfs_chmod (g, 0640, "/etc/shadow") == -1 ||
      guestfs_chown (g, 0, 42, "/etc/shadow") == -1 ||      /* root:shadow */
      guestfs_ln_s (g, "/usr/bin", "/bin") == -1 ||
      guestfs_umount_all (g) == -1 ||
      guestfs_sync (g) == -1)
    return -1;
  return 0;
}

int
main (int argc, char *argv[])
{
  char *tmp;
  int fd, mb;
  guestfs_h *g;

  if (argc < 3 || (mb = atoi (argv[2])) < 8) {
    fprintf (stderr, "usage: %s OUTPUT SIZE_MB(>=8) [HOSTNAME]\n", argv[0]);
    return 2;
  }
  if (access (argv[1], F_OK) == 0) {
    fprintf (stderr, "%s: %s already exists; not overwriting it\n", argv[0], argv[1]);
    return 1;
  }
  if (asprintf (&tmp, "%s.tmp", argv[1]) == -1)
    return 1;
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || ftruncate (fd, (off_t) mb << 20) == -1 || close (fd) == -1) {
    fprintf (stderr, "%s: %s: %s\n", argv[0], tmp, strerror (errno));
    return 1;
  }
  g = guestfs_create ();
  if (g == NULL || guestfs_add_drive (g, tmp) == -1 ||
      guestfs_launch (g) == -1 || populate (g, argc > 3 ? argv[3] : "sample") == -1) {
    guestfs_close (g);
    unlink (tmp);
    return 1;
  }
  guestfs_close (g);
  if (rename (tmp, argv[1]) == -1) {
    fprintf (stderr, "%s: %s: %s\n", argv[0], argv[1], strerror (errno));
    unlink (tmp);
    return 1;
  }
  free (tmp);
  return 0;
}
