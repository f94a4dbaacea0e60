/* tests/calls-partitions.c: the sfdisk family and the part_* flag, name
 * and table-type calls against one real appliance.
 *
 * One handle with two scratch disks, shared by every check.  Tables
 * written are read back with part_list, sfdisk_l and part_get_parttype;
 * a GPT partition name is read back from the raw disk (download) since
 * no call of the 2009 API returns it.  Every call also gets at least one
 * error case.
 */
#include <fcntl.h>

#include "harness.h"

static guestfs_h *g;

static struct guestfs_partition *
find_part (struct guestfs_partition_list *l, int num)
{
  for (uint32_t i = 0; l && i < l->len; i++)
    if (l->val[i].part_num == num)
      return &l->val[i];
  return NULL;
}

static int
is_str (char *s, const char *want)
{
  int r = s && strcmp (s, want) == 0;
  free (s);
  return r;
}

/* The sfdisk_l line of a partition, e.g. "/dev/sda1 *  2048 ..." copied;
 * NULL if absent. */
static char *
list_line (const char *disk, const char *part)
{
  char *l = guestfs_sfdisk_l (g, disk), *r = NULL;
  size_t n = strlen (part);

  for (char *p = l; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, part, n) == 0 && p[n] == ' ') {
      r = strndup (p, strcspn (p, "\n"));
      break;
    }
  free (l);
  return r;
}

static void
t_sfdisk (void)
{
  char *lines[] = { "2048,16384,L", "18432,8192,L", ",", NULL }, *none[] = { NULL };
  char *bad[] = { "this is not a partition", NULL };
  struct guestfs_partition_list *pl;
  struct guestfs_partition *p;

  CHECK (guestfs_sfdisk (g, "/dev/sda", 0, 0, 0, lines) == 0, "sfdisk: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sda");
  CHECK (pl && pl->len == 3, "part_list: %u partitions", pl ? pl->len : 0);
  p = find_part (pl, 2);
  CHECK (p && p->part_start == 18432 * 512 && p->part_size == 8192 * 512, "partition 2");
  p = find_part (pl, 3);
  CHECK (p && p->part_start == 26624 * 512, "partition 3 start");
  guestfs_free_partition_list (pl);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda1") == 16384 * 512, "sda1 node size");
  CHECK (guestfs_sfdisk (g, "/dev/sda", -1, 0, 0, lines) == -1, "negative cyls");
  CHECK_ERR (g, "cyls");
  CHECK (guestfs_sfdisk (g, "/dev/sda", 0, 0, -63, lines) == -1, "negative sectors");
  CHECK_ERR (g, "sectors");
  CHECK (guestfs_sfdisk (g, "/dev/sda", 0, 0, 0, none) == -1, "no lines");
  CHECK_ERR (g, "lines");
  CHECK (guestfs_sfdisk (g, "/dev/sda", 0, 0, 0, bad) == -1, "a garbage line");
  CHECK_ERR (g, "sfdisk");
  CHECK (guestfs_sfdisk (g, "/dev/sdz", 0, 0, 0, lines) == -1, "sfdisk of sdz");
  CHECK_ERR (g, "/dev/sdz");
  /* The failures above left the table alone. */
  pl = guestfs_part_list (g, "/dev/sda");
  CHECK (pl && pl->len == 3, "table changed by a failed sfdisk");
  guestfs_free_partition_list (pl);
}

static void
t_sfdisk_N (void)
{
  struct guestfs_partition_list *pl;
  struct guestfs_partition *p;

  CHECK (guestfs_sfdisk_N (g, "/dev/sda", 2, 0, 0, 0, "18432,4096,L") == 0,
         "sfdisk_N: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sda");
  p = find_part (pl, 2);
  CHECK (p && p->part_start == 18432 * 512 && p->part_size == 4096 * 512, "partition 2 not changed");
  CHECK (find_part (pl, 1) && find_part (pl, 1)->part_size == 16384 * 512, "partition 1 changed");
  guestfs_free_partition_list (pl);
  CHECK (guestfs_blockdev_getsize64 (g, "/dev/sda2") == 4096 * 512, "sda2 node size");
  CHECK (guestfs_sfdisk_N (g, "/dev/sda", 0, 0, 0, 0, ",") == -1, "partition 0");
  CHECK_ERR (g, "partnum");
  CHECK (guestfs_sfdisk_N (g, "/dev/sda", 1, 0, 0, 0, "4096,999999999") == -1, "a partition past the end");
  CHECK_ERR (g, "sfdisk_N");
  CHECK (guestfs_sfdisk_N (g, "/dev/sda", 1, 0, -2, 0, ",") == -1, "negative heads");
  CHECK_ERR (g, "heads");
}

static void
t_sfdiskM (void)
{
  char *lines[] = { ",4", ",8", ",", NULL }, *none[] = { NULL };
  struct guestfs_partition_list *pl;
  struct guestfs_partition *p;

  CHECK (guestfs_sfdiskM (g, "/dev/sdb", lines) == 0, "sfdiskM: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sdb");
  CHECK (pl && pl->len == 3, "sfdiskM made %u partitions", pl ? pl->len : 0);
  p = find_part (pl, 1);
  CHECK (p && p->part_size == 4 << 20, "partition 1 is not 4 MiB");
  p = find_part (pl, 2);
  CHECK (p && p->part_size == 8 << 20, "partition 2 is not 8 MiB");
  guestfs_free_partition_list (pl);
  CHECK (guestfs_sfdiskM (g, "/dev/sdb", none) == -1, "sfdiskM with no lines");
  CHECK_ERR (g, "lines");
  CHECK (guestfs_sfdiskM (g, "/dev/sdz", lines) == -1, "sfdiskM of sdz");
}

static void
t_sfdisk_reads (void)
{
  char *s;

  s = guestfs_sfdisk_l (g, "/dev/sda");
  CHECK (s && strstr (s, "/dev/sda1") && strstr (s, "/dev/sda3") && strstr (s, "dos"),
         "sfdisk_l: %s", s ? s : guestfs_last_error (g));
  free (s);
  s = guestfs_sfdisk_kernel_geometry (g, "/dev/sda");
  CHECK (s && strstr (s, "cylinders") && strstr (s, "heads"), "kernel geometry: %s",
         s ? s : guestfs_last_error (g));
  free (s);
  s = guestfs_sfdisk_disk_geometry (g, "/dev/sda");
  CHECK (s && strstr (s, "sectors/track"), "disk geometry: %s", s ? s : guestfs_last_error (g));
  free (s);
  CHECK (guestfs_sfdisk_l (g, "/dev/sdz") == NULL, "sfdisk_l of sdz");
  CHECK_ERR (g, "sfdisk_l");
  CHECK (guestfs_sfdisk_kernel_geometry (g, "/dev/sdz") == NULL, "kernel geometry of sdz");
  CHECK_ERR (g, "sfdisk_kernel_geometry");
  CHECK (guestfs_sfdisk_disk_geometry (g, "sda") == NULL, "disk geometry of 'sda'");
  CHECK_ERR (g, "sfdisk_disk_geometry");
}

static void
t_bootable (void)
{
  char *l;

  CHECK (guestfs_part_set_bootable (g, "/dev/sda", 1, 1) == 0, "set bootable: %s", guestfs_last_error (g));
  l = list_line ("/dev/sda", "/dev/sda1");
  CHECK (l && strstr (l, "*"), "sda1 not marked bootable: %s", l ? l : "(none)");
  free (l);
  CHECK (guestfs_part_set_bootable (g, "/dev/sda", 1, 0) == 0, "clear bootable: %s", guestfs_last_error (g));
  l = list_line ("/dev/sda", "/dev/sda1");
  CHECK (l && !strstr (l, "*"), "sda1 still bootable: %s", l ? l : "(none)");
  free (l);
  CHECK (guestfs_part_set_bootable (g, "/dev/sda", 0, 1) == -1, "partition 0");
  CHECK_ERR (g, "partnum");
  CHECK (guestfs_part_set_bootable (g, "/dev/sda", 9, 1) == -1, "a missing partition");
  CHECK_ERR (g, "part_set_bootable");
}

/* The name of GPT partition 1 of the disk as ASCII, read from the raw
 * disk: entries start at LBA 2, the name (UTF-16LE) at byte 56. */
static char *
gpt_name_1 (const char *disk)
{
  char path[] = "tests/out/gptXXXXXX", buf[72], *name = NULL;
  int fd = mkstemp (path);

  if (fd == -1)
    return NULL;
  close (fd);
  if (guestfs_download (g, disk, path) == 0 && (fd = open (path, O_RDONLY)) >= 0) {
    if (pread (fd, buf, sizeof buf, 1024 + 56) == sizeof buf && (name = calloc (1, 37)))
      for (int i = 0; i < 36 && buf[2*i]; i++)
        name[i] = buf[2*i];
    close (fd);
  }
  unlink (path);
  return name;
}

static void
t_names_and_types (void)
{
  char *name;

  CHECK (is_str (guestfs_part_get_parttype (g, "/dev/sda"), "msdos"), "sda table type");
  CHECK (guestfs_part_disk (g, "/dev/sdb", "gpt") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (is_str (guestfs_part_get_parttype (g, "/dev/sdb"), "gpt"), "sdb table type");
  CHECK (guestfs_part_set_name (g, "/dev/sdb", 1, "data area") == 0, "part_set_name: %s",
         guestfs_last_error (g));
  name = gpt_name_1 ("/dev/sdb");
  CHECK (name && strcmp (name, "data area") == 0, "GPT name not written: %s", name ? name : "(null)");
  free (name);
  CHECK (guestfs_part_set_name (g, "/dev/sda", 1, "x") == -1, "a name on an msdos table");
  CHECK_ERR (g, "part_set_name");
  CHECK (guestfs_part_set_name (g, "/dev/sdb", -1, "x") == -1, "partition -1");
  CHECK_ERR (g, "partnum");
  CHECK (guestfs_part_set_name (g, "/dev/sdb", 1, "it's") == -1, "a quote in a name");
  CHECK_ERR (g, "name");
  CHECK (guestfs_zero (g, "/dev/sdb") == 0, "zero: %s", guestfs_last_error (g));
  CHECK (guestfs_part_get_parttype (g, "/dev/sdb") == NULL, "a blank disk has a table type");
  CHECK_ERR (g, "part_get_parttype");
  CHECK (guestfs_part_get_parttype (g, "/dev/sdz") == NULL, "parttype of sdz");
}

/* part_add with a negative end sector counts back from the end of the
 * disk: -1 is the last sector, -N the Nth from the end. */
static void
t_part_add_from_end (void)
{
  int64_t size = guestfs_blockdev_getsize64 (g, "/dev/sdb");
  struct guestfs_partition_list *pl;
  struct guestfs_partition *p;

  CHECK (guestfs_part_init (g, "/dev/sdb", "msdos") == 0, "part_init: %s", guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sdb", "p", 2048, -4097) == 0, "part_add to -4097: %s",
         guestfs_last_error (g));
  CHECK (guestfs_part_add (g, "/dev/sdb", "p", size / 512 - 4096, -1) == 0,
         "part_add to -1: %s", guestfs_last_error (g));
  pl = guestfs_part_list (g, "/dev/sdb");
  p = find_part (pl, 1);
  CHECK (p && (int64_t) p->part_end == size - 4096 * 512 - 1, "partition 1 ends at %lld",
         p ? (long long) p->part_end : -1LL);
  p = find_part (pl, 2);
  CHECK (p && (int64_t) p->part_end == size - 1, "partition 2 ends at %lld, the disk at %lld",
         p ? (long long) p->part_end : -1LL, (long long) size - 1);
  guestfs_free_partition_list (pl);
  CHECK (guestfs_part_add (g, "/dev/sdb", "p", 2048, -(size / 512) - 10) == -1,
         "an end before the disk's start accepted");
  CHECK_ERR (g, "part_add");
}

int
main (void)
{
  char *disks[2];
  const char *imgs[3];

  disks[0] = th_scratch ("part-a", 32);
  disks[1] = th_scratch ("part-b", 32);
  imgs[0] = disks[0]; imgs[1] = disks[1]; imgs[2] = NULL;
  th_name = "partitions-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("partitions-sfdisk", t_sfdisk);
    th_run ("partitions-sfdisk-N", t_sfdisk_N);
    th_run ("partitions-sfdiskM", t_sfdiskM);
    th_run ("partitions-sfdisk-reads", t_sfdisk_reads);
    th_run ("partitions-bootable", t_bootable);
    th_run ("partitions-names-types", t_names_and_types);
    th_run ("partitions-part-add-from-end", t_part_add_from_end);
    guestfs_close (g);
  }
  for (int i = 0; i < 2; i++) {
    unlink (disks[i]);
    free (disks[i]);
  }
  return th_done ();
}
