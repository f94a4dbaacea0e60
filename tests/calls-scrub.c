/* tests/calls-scrub.c: what zerofree, scrub_file and scrub_freespace
 * leave on the disk, read back from the device itself.
 *
 * One handle, one scratch disk with an ext4 filesystem (ext2 for
 * scrub_freespace, see there).  Each check
 * writes a file of numbered records with its own marker, finds the
 * records on the device (download of /dev/sda1), and then proves the
 * call's effect where a no-op would leave them: deleting a file leaves
 * its records on the device; zerofree turns the blocks they were in into
 * zeros; scrub_file overwrites them before the file goes; scrub_freespace
 * overwrites a deleted file's blocks.  The calls' error cases are in
 * calls-fs.c (zerofree) and calls-misc-dev.c (scrub_*).
 */
#include <fcntl.h>
#include <stdint.h>

#include "harness.h"

#define RECORD 64                  /* bytes per record */
#define NRECORDS 8192              /* 512 KiB per file */

static guestfs_h *g;
static char *dump;                 /* host copy of /dev/sda1 */

/* NRECORDS records of RECORD bytes, each starting with marker. */
static char *
records (const char *marker)
{
  char *p = malloc (RECORD * NRECORDS + 1);

  if (p == NULL)
    abort ();
  for (int i = 0; i < NRECORDS; i++)
    snprintf (p + i * RECORD, RECORD + 1, "%s %08d %*s\n", marker, i,
              (int) (RECORD - strlen (marker) - 11), "");
  return p;
}

/* Where the device holds records with marker: the offsets of their
 * starts (up to NRECORDS, in *off) and their number, after flushing the
 * appliance's buffers; -1 if the device cannot be read. */
static long
find_records (const char *marker, long *off, char **dev, size_t *devlen)
{
  struct stat st;
  long n = 0;
  int fd;

  if (guestfs_umount_all (g) == -1 || guestfs_sync (g) == -1 ||
      guestfs_blockdev_flushbufs (g, "/dev/sda1") == -1 ||
      guestfs_download (g, "/dev/sda1", dump) == -1)
    return -1;
  if ((fd = open (dump, O_RDONLY)) == -1 || fstat (fd, &st) == -1)
    return -1;
  *devlen = (size_t) st.st_size;
  *dev = malloc (*devlen + 1);
  if (*dev == NULL || read (fd, *dev, *devlen) != (ssize_t) *devlen)
    abort ();
  close (fd);
  /* A file's blocks start at block-aligned offsets of the filesystem, so
   * its records start at multiples of RECORD on the device: compare
   * there only (memmem over the rest of the device at each match is
   * quadratic under ThreadSanitizer, whose memmem checks the whole
   * range on every call). */
  for (size_t o = 0; o + RECORD <= *devlen; o += RECORD)
    if (memcmp (*dev + o, marker, strlen (marker)) == 0 && n < NRECORDS)
      off[n++] = (long) o;
  return n;
}

/* Count the records with marker on the device (no offsets kept). */
static long
count_records (const char *marker)
{
  static long off[NRECORDS];
  char *dev = NULL;
  size_t len;
  long n = find_records (marker, off, &dev, &len);

  free (dev);
  return n;
}

/* Write path with records of marker; mounted afterwards. */
static int
put_records (const char *path, const char *marker)
{
  char *r = records (marker);
  int ok = guestfs_mount (g, "/dev/sda1", "/") == 0 &&
           th_upload_bytes (g, path, r, RECORD * NRECORDS) == 0;

  free (r);
  return ok ? 0 : -1;
}

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
}

static void
t_zerofree (void)
{
  static long off[NRECORDS], after[NRECORDS];
  const char *m = "GK-ZEROFREE-RECORD";
  char *dev = NULL, *s;
  size_t len;
  long n;
  int nonzero = 0;

  CHECK (put_records ("/junk", m) == 0, "write /junk: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/keep", "kept\n", 0) == 0, "write_file");
  CHECK ((n = count_records (m)) == NRECORDS, "%ld of %d records on the device", n, NRECORDS);
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0 && guestfs_rm (g, "/junk") == 0, "rm");
  n = find_records (m, off, &dev, &len);
  free (dev);
  CHECK (n == NRECORDS, "deleting alone left %ld of %d records", n, NRECORDS);
  CHECK (guestfs_zerofree (g, "/dev/sda1") == 0, "zerofree: %s", guestfs_last_error (g));
  dev = NULL;
  n = find_records (m, after, &dev, &len);
  CHECK (n == 0, "%ld records left after zerofree", n);
  for (long i = 0; i < NRECORDS; i++)
    for (long j = 0; j < RECORD && off[i] + j < (long) len; j++)
      nonzero += dev[off[i] + j] != 0;
  free (dev);
  CHECK (nonzero == 0, "%d bytes of the freed blocks are not zero", nonzero);
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount again");
  s = guestfs_cat (g, "/keep");
  CHECK (s && strcmp (s, "kept\n") == 0, "file lost by zerofree");
  free (s);
  CHECK (guestfs_umount_all (g) == 0, "umount_all");
}

static void
t_scrub_file (void)
{
  const char *m = "GK-SCRUB-FILE-RECORD";
  long n;

  CHECK (put_records ("/secret", m) == 0, "write /secret: %s", guestfs_last_error (g));
  CHECK ((n = count_records (m)) == NRECORDS, "%ld of %d records on the device", n, NRECORDS);
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount");
  CHECK (guestfs_scrub_file (g, "/secret") == 0, "scrub_file: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/secret") == 0, "scrubbed file still there");
  CHECK ((n = count_records (m)) == 0, "%ld records left after scrub_file", n);
}

static void
t_scrub_freespace (void)
{
  const char *m = "GK-SCRUB-FREE-RECORD";
  long n;

  /* ext2, not ext4: the ext4 driver keeps up to 2% of an extent-based
   * filesystem's clusters in a reserve that no file may take, so scrub
   * -X cannot reach a freed block that went to that reserve (measured
   * here: 4848 of 8192 records left on a 32 MiB ext4). */
  CHECK (guestfs_umount_all (g) == 0 && guestfs_mkfs (g, "ext2", "/dev/sda1") == 0,
         "mkfs ext2: %s", guestfs_last_error (g));
  CHECK (put_records ("/old", m) == 0, "write /old: %s", guestfs_last_error (g));
  CHECK ((n = count_records (m)) == NRECORDS, "%ld of %d records on the device", n, NRECORDS);
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0 && guestfs_rm (g, "/old") == 0, "rm");
  CHECK ((n = count_records (m)) == NRECORDS, "deleting alone left %ld of %d records",
         n, NRECORDS);
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount");
  CHECK (guestfs_scrub_freespace (g, "/fill") == 0, "scrub_freespace: %s",
         guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/fill") == 0, "scrub_freespace left its directory");
  CHECK ((n = count_records (m)) == 0, "%ld records left after scrub_freespace", n);
}

int
main (void)
{
  char *disk = th_scratch ("calls-scrub", 32);
  const char *imgs[] = { disk, NULL };

  if (asprintf (&dump, "tests/out/calls-scrub-%d.dev", (int) getpid ()) == -1)
    abort ();
  th_name = "scrub-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("scrub-setup", t_setup);
    th_run ("scrub-zerofree-zeroes-freed-blocks", t_zerofree);
    th_run ("scrub-file-overwrites-its-blocks", t_scrub_file);
    th_run ("scrub-freespace-overwrites-freed-blocks", t_scrub_freespace);
    guestfs_close (g);
  }
  unlink (dump);
  unlink (disk);
  free (dump);
  free (disk);
  return th_done ();
}
