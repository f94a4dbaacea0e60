/* runner/steps-disk.c: the build steps that make a disk from nothing:
 * partition, filesystems, unpack, fstab.
 *
 *   partition    a new partition table (mbr or gpt) with one root
 *                partition filling the disk, or a layout of sizes
 *   filesystems  mkfs on a partition (label and UUID may be given) and
 *                mount it at its mount point, root first
 *   unpack       a root tree tarball (the job's base.tar by default)
 *                into the mounted tree
 *   fstab        /etc/fstab written from what is mounted, by UUID
 *
 * They work on the bare disk (RN_HS_DISK: the dispatcher mounts nothing
 * for them) and use only library calls.  Filesystems are named by UUID
 * everywhere, never by device name: the appliance's /dev/sda is the
 * booted machine's /dev/vda or /dev/sda, depending on its disk bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define SECTOR 512
#define FIRST_SECTOR 2048          /* 1 MiB: room for the bootloader */
#define GPT_TAIL 34                /* sectors the backup GPT needs */

void
rn_free_strings (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

/* ---- partition ---- */

/* One layout item: a size with K/M/G suffix, or "rest" (last only). */
static int
layout_sectors (struct rn_sctx *c, const char *item, int last, int64_t free_s,
                int64_t *n)
{
  uint64_t bytes;

  if (strcmp (item, "rest") == 0) {
    if (!last)
      return rn_step_fail (c, "layout: 'rest' must be the last item");
    *n = free_s;
    return 0;
  }
  if (rn_parse_size (item, &bytes) == -1 || bytes < (1u << 20))
    return rn_step_fail (c, "layout: '%s' is not a size of at least 1M "
                         "(e.g. 512M, 4G) or 'rest'", item);
  *n = (int64_t) (bytes / SECTOR);
  return 0;
}

int
rn_step_partition (struct rn_sctx *c)
{
  const char *dev = rn_sa_str (c, "device") ? rn_sa_str (c, "device") : "/dev/sda";
  const char *table = rn_sa_str (c, "table") ? rn_sa_str (c, "table") : "mbr";
  char *const *layout = rn_sa_list (c, "layout");
  static char *const one_root[] = { "rest", NULL };
  int64_t size, end_s, start = FIRST_SECTOR, n = 0;
  int gpt = strcmp (table, "gpt") == 0;

  if (!gpt && strcmp (table, "mbr") != 0)
    return rn_step_fail (c, "table: expected mbr or gpt, got '%s'", table);
  if (layout[0] == NULL)
    layout = one_root;
  if ((size = guestfs_blockdev_getsize64 (c->g, dev)) == -1)
    return rn_step_gfail (c, dev);
  end_s = size / SECTOR - (gpt ? GPT_TAIL : 0);       /* first sector past the end */
  if (guestfs_part_init (c->g, dev, gpt ? "gpt" : "msdos") == -1)
    return rn_step_gfail (c, "part_init");
  if (gpt) {                   /* grub-pc on gpt needs a BIOS boot partition */
    if (guestfs_part_add (c->g, dev, "p", start, start + 2047) == -1)
      return rn_step_gfail (c, "part_add (BIOS boot)");
    start += 2048;
  }
  rn_buf_adds (&c->result, "{\"table\":");
  rn_json_strz (&c->result, table);
  rn_buf_adds (&c->result, ",\"partitions\":[");
  for (size_t i = 0; layout[i]; i++) {
    if (layout_sectors (c, layout[i], layout[i + 1] == NULL, end_s - start, &n) == -1)
      return -1;
    if (n <= 0 || start + n > end_s)
      return rn_step_fail (c, "layout does not fit: item %zu ('%s') ends at %lld MiB "
                           "but the disk (%s, build.size) holds %lld MiB", i + 1, layout[i],
                           (long long) ((start + n) * SECTOR >> 20), dev,
                           (long long) (size >> 20));
    if (guestfs_part_add (c->g, dev, "p", start, start + n - 1) == -1)
      return rn_step_gfail (c, "part_add");
    rn_buf_addf (&c->result, "%s{\"start\":%lld,\"bytes\":%lld}", i ? "," : "",
                 (long long) start * SECTOR, (long long) n * SECTOR);
    start += n;
  }
  rn_buf_adds (&c->result, "]}");
  return 0;
}

/* ---- filesystems ---- */

/* The last partition of /dev/sda (the root of a one-root layout). */
static char *
last_partition (struct rn_sctx *c)
{
  char **l = guestfs_list_partitions (c->g);
  char *last = NULL;

  if (l == NULL) {
    rn_step_gfail (c, "list_partitions");
    return NULL;
  }
  for (size_t i = 0; l[i]; i++)
    if (strncmp (l[i], "/dev/sda", 8) == 0) {
      free (last);
      last = rn_strdup (l[i]);
    }
  rn_free_strings (l);
  if (last == NULL)
    rn_step_fail (c, "no partition on /dev/sda: a partition step comes first");
  return last;
}

/* A UUID for a filesystem of a reproducible build: derived from
 * SOURCE_DATE_EPOCH, the device and the label, so two builds of one job
 * agree and two instances (with their own labels) do not. */
static char *
derived_uuid (const char *epoch, const char *dev, const char *label)
{
  uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
  const char *parts[] = { epoch, dev, label ? label : "", NULL };

  for (int k = 0; k < 2; k++)
    for (size_t i = 0; parts[i]; i++)
      for (const char *p = parts[i]; ; p++) {
        h[k] = (h[k] ^ (unsigned char) *p ^ (uint64_t) k) * 0x100000001b3ull;
        if (*p == '\0')
          break;
      }
  /* a version 4 layout, so tools take it for a random one */
  return rn_asprintf ("%08x-%04x-4%03x-%04x-%012llx", (unsigned) (h[0] >> 32),
                      (unsigned) (h[0] >> 16) & 0xffff, (unsigned) h[0] & 0xfff,
                      (unsigned) ((h[1] >> 48) & 0x3fff) | 0x8000,
                      (unsigned long long) (h[1] & 0xffffffffffffull));
}

static int
set_ids (struct rn_sctx *c, const char *dev, const char *fstype, const char *label,
         const char *uuid)
{
  const char *epoch = getenv ("SOURCE_DATE_EPOCH");
  char *d = NULL;
  int ext = strncmp (fstype, "ext", 3) == 0, r = 0;

  if (!ext && (label || uuid))
    return rn_step_fail (c, "label and uuid can be set on ext2/3/4 only, not %s", fstype);
  if (ext && uuid == NULL && epoch && *epoch)
    uuid = d = derived_uuid (epoch, dev, label);
  if (label && guestfs_set_e2label (c->g, dev, label) == -1)
    r = rn_step_gfail (c, "set_e2label");
  else if (uuid && guestfs_set_e2uuid (c->g, dev, uuid) == -1)
    r = rn_step_gfail (c, "set_e2uuid");
  free (d);
  return r;
}

static int
mount_at (struct rn_sctx *c, const char *dev, const char *mp)
{
  if (strcmp (mp, "/") != 0 && guestfs_mkdir_p (c->g, mp) == -1)
    return rn_step_gfail (c, mp);
  if (guestfs_mount (c->g, dev, mp) == -1)
    return rn_step_gfail (c, "mount");
  return 0;
}

int
rn_step_filesystems (struct rn_sctx *c)
{
  const char *fstype = rn_sa_str (c, "fstype") ? rn_sa_str (c, "fstype") : "ext4";
  const char *mp = rn_sa_str (c, "mountpoint") ? rn_sa_str (c, "mountpoint") : "/";
  const char *label = rn_sa_str (c, "label");
  char *dev = rn_sa_str (c, "device") ? rn_strdup (rn_sa_str (c, "device"))
                                      : last_partition (c);
  char *uuid = NULL;
  int r = -1;

  if (dev == NULL)
    return -1;
  if (mp[0] != '/')
    rn_step_fail (c, "mountpoint: '%s' is not an absolute path", mp);
  else if (guestfs_mkfs (c->g, fstype, dev) == -1)
    rn_step_gfail (c, "mkfs");
  else if (set_ids (c, dev, fstype, label, rn_sa_str (c, "uuid")) == 0 &&
           mount_at (c, dev, mp) == 0) {
    uuid = strncmp (fstype, "ext", 3) == 0 ? guestfs_get_e2uuid (c->g, dev) : NULL;
    rn_buf_adds (&c->result, "{\"device\":");
    rn_json_strz (&c->result, dev);
    rn_buf_adds (&c->result, ",\"fstype\":");
    rn_json_strz (&c->result, fstype);
    rn_buf_adds (&c->result, ",\"label\":");
    rn_json_strz (&c->result, label);
    rn_buf_adds (&c->result, ",\"uuid\":");
    rn_json_strz (&c->result, uuid);
    rn_buf_adds (&c->result, ",\"mountpoint\":");
    rn_json_strz (&c->result, mp);
    rn_buf_addc (&c->result, '}');
    r = 0;
  }
  free (uuid);
  free (dev);
  return r;
}

/* ---- unpack ---- */

int
rn_step_unpack (struct rn_sctx *c)
{
  const char *tar = rn_sa_str (c, "tar") ? rn_sa_str (c, "tar") : c->j->base_tar;
  const char *dir = rn_sa_str (c, "directory") ? rn_sa_str (c, "directory") : "/";

  if (tar == NULL)
    return rn_step_fail (c, "no tar given and the job has no base: {tar: PATH}");
  if (rn_tar_check (tar, &c->err) == -1)
    return -1;
  if (guestfs_tar_in (c->g, tar, dir) == -1)
    return rn_step_gfail (c, "tar_in");
  rn_buf_adds (&c->result, "{\"tar\":");
  rn_json_strz (&c->result, tar);
  rn_buf_adds (&c->result, ",\"directory\":");
  rn_json_strz (&c->result, dir);
  rn_buf_addc (&c->result, '}');
  return 0;
}

/* ---- fstab ---- */

/* One fstab line for a mounted device, by UUID. */
static int
fstab_line (struct rn_sctx *c, const char *dev, const char *mp, struct rn_buf *b)
{
  const char *ropts = rn_sa_str (c, "root_options") ? rn_sa_str (c, "root_options")
                                                    : "errors=remount-ro";
  char *type = guestfs_vfs_type (c->g, dev), *uuid = NULL;
  int root = strcmp (mp, "/") == 0;

  if (type == NULL)
    return rn_step_gfail (c, "vfs_type");
  if (strncmp (type, "ext", 3) != 0) {
    rn_step_fail (c, "%s (%s on %s): fstab names filesystems by UUID, which this "
                  "step can read on ext2/3/4 only", dev, type, mp);
    free (type);
    return -1;
  }
  if ((uuid = guestfs_get_e2uuid (c->g, dev)) == NULL || *uuid == '\0') {
    free (type);
    free (uuid);
    return rn_step_gfail (c, "get_e2uuid");
  }
  rn_buf_addf (b, "UUID=%s\t%s\t%s\t%s\t0\t%d\n", uuid, mp, type,
               root ? ropts : "defaults", root ? 1 : 2);
  free (type);
  free (uuid);
  return 0;
}

int
rn_step_fstab (struct rn_sctx *c)
{
  char **m = guestfs_mountpoints (c->g);
  struct rn_buf b = { 0 };
  int r = 0;

  if (m == NULL)
    return rn_step_gfail (c, "mountpoints");
  rn_buf_adds (&b, "# /etc/fstab: written by guestkit from the filesystems it made\n");
  for (size_t i = 0; m[i] && m[i + 1] && r == 0; i += 2)
    r = fstab_line (c, m[i], m[i + 1], &b);
  rn_free_strings (m);
  if (r == 0 && b.len == 0)
    r = rn_step_fail (c, "nothing is mounted: a filesystems step comes first");
  if (r == 0)
    r = rn_gfile_write (c, "/etc/fstab", b.s, b.len);
  if (r == 0)
    rn_json_strz (&c->result, b.s);
  rn_buf_free (&b);
  return r;
}
