/* guestd partitioning: the part_* calls, done by parted(8) in script
 * mode with sector or byte units so nothing is rounded behind our back.
 *
 * After every change the kernel must see the new table and devtmpfs must
 * have made (or removed) the /dev nodes before we reply, since there is
 * no udev to wait for: gd_wait_partitions does that.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

/* Run parted -s -- DEVICE args...; reply on failure. */
static int
parted (char **out, const char *device, const char *const *args)
{
  const char *argv[16];
  size_t n = 0;

  argv[n++] = "parted";
  argv[n++] = "-s";
  if (out)
    argv[n++] = "-m";
  argv[n++] = "--";
  argv[n++] = device;
  while (*args && n < 15)
    argv[n++] = *args++;
  argv[n] = NULL;
  return gd_run_or_reply (out, -1, argv);
}

/* The parted label name for a parttype, or NULL. */
static const char *
label_name (const char *parttype)
{
  static const char *const names[][2] = {
    { "msdos", "msdos" }, { "mbr", "msdos" }, { "gpt", "gpt" },
    { "efi", "gpt" }, { "aix", "aix" }, { "amiga", "amiga" },
    { "rdb", "amiga" }, { "bsd", "bsd" }, { "dvh", "dvh" },
    { "mac", "mac" }, { "pc98", "pc98" }, { "sun", "sun" },
    { "loop", "loop" },
  };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp (parttype, names[i][0]) == 0)
      return names[i][1];
  return NULL;
}

int
do_part_init (const char *device, const char *parttype)
{
  const char *label = label_name (parttype);

  if (label == NULL) {
    reply_with_error ("parttype %s: unknown partition table type "
                      "(msdos, gpt, ...)", parttype);
    return -1;
  }
  if (parted (NULL, device, (const char *const[]) { "mklabel", label, NULL }) == -1)
    return -1;
  gd_wait_partitions (device);
  return 0;
}

static const char *
part_type_name (const char *prlogex)
{
  if (strcmp (prlogex, "p") == 0 || strcmp (prlogex, "primary") == 0)
    return "primary";
  if (strcmp (prlogex, "l") == 0 || strcmp (prlogex, "logical") == 0)
    return "logical";
  if (strcmp (prlogex, "e") == 0 || strcmp (prlogex, "extended") == 0)
    return "extended";
  return NULL;
}

int
do_part_add (const char *device, const char *prlogex, int64_t startsect,
             int64_t endsect)
{
  const char *type = part_type_name (prlogex);
  char start[32], end[32];

  if (type == NULL) {
    reply_with_error ("prlogex %s: must be primary, logical or extended "
                      "(or p, l, e)", prlogex);
    return -1;
  }
  if (startsect < 0 || endsect < startsect) {
    reply_with_error ("sectors %" PRId64 " to %" PRId64 ": start must be "
                      ">= 0 and end >= start", startsect, endsect);
    return -1;
  }
  snprintf (start, sizeof start, "%" PRId64 "s", startsect);
  snprintf (end, sizeof end, "%" PRId64 "s", endsect);
  if (parted (NULL, device,
              (const char *const[]) { "mkpart", type, start, end, NULL }) == -1)
    return -1;
  gd_wait_partitions (device);
  return 0;
}

/* One partition from the first MiB (aligned) to the end of the disk. */
int
do_part_disk (const char *device, const char *parttype)
{
  const char *label = label_name (parttype);

  if (label == NULL) {
    reply_with_error ("parttype %s: unknown partition table type "
                      "(msdos, gpt, ...)", parttype);
    return -1;
  }
  if (parted (NULL, device, (const char *const[]) {
        "mklabel", label, "mkpart", "primary", "1MiB", "100%", NULL }) == -1)
    return -1;
  gd_wait_partitions (device);
  return 0;
}

/* "1:1048576B:67108863B:66060288B:ext4::;" into p.  -1 if not a
 * partition line. */
static int
parse_part_line (const char *line, struct guestfs_partition *p)
{
  uint64_t start, end, size;
  int num;

  if (sscanf (line, "%d:%" SCNu64 "B:%" SCNu64 "B:%" SCNu64 "B:", &num,
              &start, &end, &size) != 4)
    return -1;
  p->part_num = num;
  p->part_start = start;
  p->part_end = end;
  p->part_size = size;
  return 0;
}

/* parted -m output: "BYT;", the disk line, then one line a partition. */
struct guestfs_partition_list *
do_part_list (const char *device)
{
  struct guestfs_partition_list *r;
  char *out, *save = NULL, *line;
  size_t lines = 0;

  if (parted (&out, device, (const char *const[]) { "unit", "b", "print", NULL }) == -1)
    return NULL;
  for (char *p = out; *p; p++)
    lines += *p == '\n';
  r = calloc (1, sizeof *r);
  if (r == NULL || (r->val = calloc (lines + 1, sizeof *r->val)) == NULL) {
    reply_with_perror ("part_list");
    free (r);
    free (out);
    return NULL;
  }
  for (line = strtok_r (out, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (r->len < lines + 1 && parse_part_line (line, &r->val[r->len]) == 0)
      r->len++;
  free (out);
  return r;
}
