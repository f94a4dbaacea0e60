/* guestd partitioning: the part_* calls, done by parted(8) in script
 * mode with sector or byte units so nothing is rounded behind our back.
 *
 * After every change the kernel must see the new table and devtmpfs must
 * have made (or removed) the /dev nodes before we reply, since there is
 * no udev to wait for: gd_wait_partitions does that.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* A negative end sector counts back from the end of the disk: -1 is its
 * last sector (in the disk's logical sectors, parted's "s" unit). */
static int
from_end (const char *device, int64_t *sect)
{
  uint64_t bytes;
  int ss, fd = open (device, O_RDONLY | O_CLOEXEC);

  if (fd == -1 || ioctl (fd, BLKGETSIZE64, &bytes) == -1 ||
      ioctl (fd, BLKSSZGET, &ss) == -1 || ss <= 0) {
    reply_with_perror ("%s: size", device);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  *sect += (int64_t) (bytes / (uint64_t) ss);
  return 0;
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
  if (endsect < 0 && from_end (device, &endsect) == -1)
    return -1;
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

/* ---- partition flags, names and table type (parted) ---- */

static int
check_partnum (int partnum)
{
  if (partnum <= 0) {
    reply_with_error ("partnum %d: partition numbers start at 1", partnum);
    return -1;
  }
  return 0;
}

int
do_part_set_bootable (const char *device, int partnum, int bootable)
{
  char num[16];

  if (check_partnum (partnum) == -1)
    return -1;
  snprintf (num, sizeof num, "%d", partnum);
  return parted (NULL, device, (const char *const[]) {
      "set", num, "boot", bootable ? "on" : "off", NULL });
}

int
do_part_set_name (const char *device, int partnum, const char *name)
{
  char num[16], *quoted;
  int r;

  if (check_partnum (partnum) == -1)
    return -1;
  if (strpbrk (name, "'\"\n")) {
    reply_with_error ("name %s: quotes and newlines are not allowed", name);
    return -1;
  }
  if (strlen (name) > 36) {
    reply_with_error ("name %s: longer than 36 characters (GPT's limit)", name);
    return -1;
  }
  /* parted splits its arguments into words again: quote the name. */
  if (gd_mkstr (&quoted, "\"%s\"", name) == -1) {
    reply_with_perror ("part_set_name");
    return -1;
  }
  snprintf (num, sizeof num, "%d", partnum);
  r = parted (NULL, device, (const char *const[]) {
      "name", num, quoted, NULL });
  free (quoted);
  return r;
}

/* parted -m's second line: "/dev/sda:67108864B:scsi:512:512:msdos:...;". */
char *
do_part_get_parttype (const char *device)
{
  char *out, *line, *save = NULL, *f[7];
  size_t n = 0;

  if (parted (&out, device, (const char *const[]) { "unit", "b", "print", NULL }) == -1)
    return NULL;
  line = strtok_r (out, "\n", &save);
  if (line && strcmp (line, "BYT;") == 0)
    line = strtok_r (NULL, "\n", &save);
  for (char *p = line, *s2 = NULL; p && n < 7; p = NULL)
    while (n < 7 && (f[n] = strtok_r (p, ":", &s2)) != NULL) {
      p = NULL;
      n++;
    }
  if (n < 6 || strcmp (f[5], "unknown") == 0) {
    reply_with_error ("%s: no partition table found", device);
    free (out);
    return NULL;
  }
  memmove (out, f[5], strlen (f[5]) + 1);
  return out;
}

/* ---- the sfdisk family (util-linux sfdisk, script on stdin) ----
 *
 * sfdisk today takes no C/H/S geometry (its -C -H -S are gone) and reads
 * its input in sectors unless a size has a unit.  The geometry arguments
 * are therefore checked (not negative) and otherwise unused; the lines
 * are given to sfdisk as they are, except for sfdiskM, whose start and
 * size fields are in MiB. */

static int
check_geometry (int cyls, int heads, int sectors)
{
  if (cyls < 0 || heads < 0 || sectors < 0) {
    reply_with_error ("%s %d: must not be negative (0: the default)",
                      cyls < 0 ? "cyls" : heads < 0 ? "heads" : "sectors",
                      cyls < 0 ? cyls : heads < 0 ? heads : sectors);
    return -1;
  }
  return 0;
}

/* A memfd holding the lines, one a line, at offset 0; -1 after replying. */
static int
script_fd (char *const *lines)
{
  int fd = memfd_create ("sfdisk-script", MFD_CLOEXEC);

  if (fd == -1) {
    reply_with_perror ("memfd_create");
    return -1;
  }
  for (size_t i = 0; lines[i]; i++)
    if (strchr (lines[i], '\n') ||
        write (fd, lines[i], strlen (lines[i])) != (ssize_t) strlen (lines[i]) ||
        write (fd, "\n", 1) != 1) {
      if (strchr (lines[i], '\n'))
        reply_with_error ("lines: a line must not contain a newline");
      else
        reply_with_perror ("sfdisk script");
      close (fd);
      return -1;
    }
  lseek (fd, 0, SEEK_SET);
  return fd;
}

/* sfdisk --force [-N partnum] DEVICE < lines. */
static int
sfdisk_write (const char *device, int partnum, char *const *lines)
{
  const char *argv[] = { "sfdisk", "--force", device, NULL, NULL, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  char num[16];
  int fd, r;

  if (lines == NULL || lines[0] == NULL) {
    reply_with_error ("lines: no partitions given");
    return -1;
  }
  if ((fd = script_fd (lines)) == -1)
    return -1;
  if (partnum > 0) {
    snprintf (num, sizeof num, "%d", partnum);
    argv[2] = "-N";
    argv[3] = num;
    argv[4] = device;
  }
  c.in_fd = fd;
  r = gd_cmd_run_or_reply (&c, NULL, NULL);
  close (fd);
  if (r == 0)
    gd_wait_partitions (device);
  return r;
}

int
do_sfdisk (const char *device, int cyls, int heads, int sectors,
           char *const *lines)
{
  if (check_geometry (cyls, heads, sectors) == -1)
    return -1;
  return sfdisk_write (device, 0, lines);
}

int
do_sfdisk_N (const char *device, int partnum, int cyls, int heads,
             int sectors, const char *line)
{
  char *lines[] = { (char *) line, NULL };

  if (check_partnum (partnum) == -1 ||
      check_geometry (cyls, heads, sectors) == -1)
    return -1;
  return sfdisk_write (device, partnum, lines);
}

/* "start,size,type,bootable" (or space-separated) with start and size in
 * MiB: a bare number in either of the first two fields gets an "M". */
static char *
line_in_mib (const char *line)
{
  const char *sep = strchr (line, ',') ? "," : " \t";
  char *copy = strdup (line), *r = malloc (strlen (line) * 2 + 8), *w = r;
  char *save = NULL, *f;
  int i = 0;

  if (copy == NULL || r == NULL) {
    free (copy);
    free (r);
    return NULL;
  }
  *w = '\0';
  if (*sep == ',') {                       /* keep empty fields */
    for (char *p = copy; p; p = f, i++) {
      f = strchr (p, ',');
      if (f)
        *f++ = '\0';
      w += sprintf (w, "%s%s%s", i ? "," : "", p,
                    i < 2 && *p && strspn (p, "0123456789") == strlen (p) ? "M" : "");
    }
  } else
    for (f = strtok_r (copy, sep, &save); f; f = strtok_r (NULL, sep, &save), i++)
      w += sprintf (w, "%s%s%s", i ? " " : "", f,
                    i < 2 && strspn (f, "0123456789") == strlen (f) ? "M" : "");
  free (copy);
  return r;
}

int
do_sfdiskM (const char *device, char *const *lines)
{
  struct gd_strlist l = { 0 };
  char **v;
  int r;

  for (size_t i = 0; lines && lines[i]; i++)
    if (gd_strlist_take (&l, line_in_mib (lines[i])) == -1) {
      reply_with_perror ("sfdiskM");
      gd_strlist_free (&l);
      return -1;
    }
  if ((v = gd_strlist_end (&l)) == NULL) {
    reply_with_perror ("sfdiskM");
    return -1;
  }
  r = sfdisk_write (device, 0, v);
  gk_free_strings (v);
  return r;
}

static char *
sfdisk_read (const char *opt, const char *device)
{
  const char *argv[] = { "sfdisk", opt, device, NULL };
  char *out;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return out;
}

char *
do_sfdisk_l (const char *device)
{
  return sfdisk_read ("-l", device);
}

/* "/dev/sda: 8 cylinders, 255 heads, 63 sectors/track" */
char *
do_sfdisk_kernel_geometry (const char *device)
{
  return sfdisk_read ("--show-geometry", device);
}

/* sfdisk no longer derives a geometry from the partition table: its -G
 * is an alias of -g, so this is the same answer. */
char *
do_sfdisk_disk_geometry (const char *device)
{
  return sfdisk_read ("--show-pt-geometry", device);
}
