/* guestd filesystems: making ext2/3/4 filesystems and external journals
 * with options, the superblock (tune2fs -l), labels and UUIDs, checking
 * (fsck, e2fsck -f), resizing, and blanking (zerofree, zero).
 *
 * The work is done by e2fsprogs, zerofree and util-linux's fsck.  Labels
 * and UUIDs are checked here first so that a bad one is reported against
 * the argument rather than as a tool's usage message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guestd.h"

#define E2_LABEL_MAX 16               /* bytes in an ext2 volume name */
#define ZERO_BYTES (1024 * 1024)      /* zero: this much at each end */

int
gd_check_label (const char *label, size_t max, const char *argname)
{
  if (strlen (label) > max) {
    reply_with_error ("%s '%s': longer than %zu bytes", argname, label, max);
    return -1;
  }
  return 0;
}

/* 8-4-4-4-12 hex digits. */
static int
is_uuid (const char *u)
{
  static const int len[] = { 8, 4, 4, 4, 12 };

  for (int i = 0; i < 5; i++) {
    size_t n = strspn (u, "0123456789abcdefABCDEF");
    if (n != (size_t) len[i] || u[n] != (i < 4 ? '-' : '\0'))
      return 0;
    u += n + 1;
  }
  return 1;
}

int
gd_check_uuid (const char *uuid, const char *argname)
{
  if (!is_uuid (uuid)) {
    reply_with_error ("%s '%s': not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-"
                      "xxxxxxxxxxxx, hexadecimal)", argname, uuid);
    return -1;
  }
  return 0;
}

/* A filesystem block size: a power of two from 512 to 64 KiB. */
static int
check_blocksize (int bs)
{
  if (bs < 512 || bs > 65536 || (bs & (bs - 1)) != 0) {
    reply_with_error ("blocksize %d: must be a power of two from 512 to "
                      "65536", bs);
    return -1;
  }
  return 0;
}

static int
check_ext (const char *fstype)
{
  if (strcmp (fstype, "ext2") && strcmp (fstype, "ext3") &&
      strcmp (fstype, "ext4")) {
    reply_with_error ("fstype %s: must be ext2, ext3 or ext4", fstype);
    return -1;
  }
  return 0;
}

static int
sector_size (const char *device)
{
  int fd = open (device, O_RDONLY | O_CLOEXEC), ss = 512;

  if (fd >= 0) {
    if (ioctl (fd, BLKSSZGET, &ss) == -1)
      ss = 512;
    close (fd);
  }
  return ss;
}

/* Each mkfs has its own way to say "block size". */
int
do_mkfs_b (const char *fstype, int blocksize, const char *device)
{
  char num[32], opt[40];
  const char *opts[3] = { opt, num, NULL };

  if (check_blocksize (blocksize) == -1)
    return -1;
  snprintf (num, sizeof num, "%d", blocksize);
  if (strcmp (fstype, "vfat") == 0 || strcmp (fstype, "msdos") == 0 ||
      strcmp (fstype, "fat") == 0) {
    int ss = sector_size (device);
    if (blocksize < ss || blocksize / ss > 128) {
      reply_with_error ("blocksize %d: a FAT cluster is 1 to 128 sectors of "
                        "%d bytes", blocksize, ss);
      return -1;
    }
    strcpy (opt, "-s");                       /* sectors per cluster */
    snprintf (num, sizeof num, "%d", blocksize / ss);
  } else if (strcmp (fstype, "xfs") == 0) {
    strcpy (opt, "-b");
    snprintf (num, sizeof num, "size=%d", blocksize);
  } else if (strcmp (fstype, "ntfs") == 0)
    strcpy (opt, "-c");                       /* cluster size */
  else
    strcpy (opt, "-b");
  return gd_mkfs (fstype, opts, device);
}

/* mke2fs -F [-t fstype] -b BS [extra1 extra2] DEVICE. */
static int
mke2fs (const char *fstype, int blocksize, const char *extra1,
        const char *extra2, const char *device)
{
  const char *argv[12];
  char bs[16];
  size_t n = 0;

  if (check_blocksize (blocksize) == -1)
    return -1;
  snprintf (bs, sizeof bs, "%d", blocksize);
  argv[n++] = "mke2fs";
  argv[n++] = "-F";
  argv[n++] = "-q";
  if (fstype) {
    argv[n++] = "-t";
    argv[n++] = fstype;
  }
  argv[n++] = "-b";
  argv[n++] = bs;
  if (extra1)
    argv[n++] = extra1;
  if (extra2)
    argv[n++] = extra2;
  argv[n++] = device;
  argv[n] = NULL;
  return gd_run_or_reply (NULL, -1, argv);
}

int
do_mke2journal (int blocksize, const char *device)
{
  return mke2fs (NULL, blocksize, "-O", "journal_dev", device);
}

/* The journal options with a label or UUID: "-O journal_dev -L x". */
static int
mke2journal_tag (int blocksize, const char *flag, const char *tag,
                 const char *device)
{
  const char *argv[] = { "mke2fs", "-F", "-q", "-O", "journal_dev", "-b", NULL,
                         flag, tag, device, NULL };
  char bs[16];

  if (check_blocksize (blocksize) == -1)
    return -1;
  snprintf (bs, sizeof bs, "%d", blocksize);
  argv[6] = bs;
  return gd_run_or_reply (NULL, -1, argv);
}

int
do_mke2journal_L (int blocksize, const char *label, const char *device)
{
  if (gd_check_label (label, E2_LABEL_MAX, "label") == -1)
    return -1;
  return mke2journal_tag (blocksize, "-L", label, device);
}

int
do_mke2journal_U (int blocksize, const char *uuid, const char *device)
{
  if (gd_check_group () == -1 || gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return mke2journal_tag (blocksize, "-U", uuid, device);
}

/* mke2fs -J device=TAGWHERE: a device, LABEL=x or UUID=x. */
static int
mke2fs_journal (const char *fstype, int blocksize, const char *device,
                const char *tag, const char *where)
{
  char *j;
  int r;

  if (check_ext (fstype) == -1 || gd_mkstr (&j, "device=%s%s", tag, where) == -1) {
    if (errno == ENOMEM)
      reply_with_perror ("mke2fs");
    return -1;
  }
  r = mke2fs (fstype, blocksize, "-J", j, device);
  free (j);
  return r;
}

int
do_mke2fs_J (const char *fstype, int blocksize, const char *device,
             const char *journal)
{
  return mke2fs_journal (fstype, blocksize, device, "", journal);
}

int
do_mke2fs_JL (const char *fstype, int blocksize, const char *device,
              const char *label)
{
  if (gd_check_label (label, E2_LABEL_MAX, "label") == -1)
    return -1;
  return mke2fs_journal (fstype, blocksize, device, "LABEL=", label);
}

int
do_mke2fs_JU (const char *fstype, int blocksize, const char *device,
              const char *uuid)
{
  if (gd_check_group () == -1 || gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return mke2fs_journal (fstype, blocksize, device, "UUID=", uuid);
}

/* tune2fs -l: "Name:   value" lines after a version line.  "<none>"
 * becomes the empty string. */
char **
do_tune2fs_l (const char *device)
{
  const char *argv[] = { "tune2fs", "-l", device, NULL };
  struct gd_strlist l = { 0 };
  char *out, *save = NULL;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  for (char *line = strtok_r (out, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *colon = strchr (line, ':'), *v;
    if (colon == NULL || colon == line)
      continue;
    *colon = '\0';
    v = gd_trim (colon + 1);
    if (strcmp (v, "<none>") == 0)
      *v = '\0';
    if (gd_strlist_add (&l, gd_trim (line)) == -1 || gd_strlist_add (&l, v) == -1) {
      reply_with_perror ("tune2fs_l");
      gd_strlist_free (&l);
      free (out);
      return NULL;
    }
  }
  free (out);
  return gd_strlist_end (&l);
}

int
do_set_e2label (const char *device, const char *label)
{
  const char *argv[] = { "e2label", device, label, NULL };

  if (gd_check_label (label, E2_LABEL_MAX, "label") == -1)
    return -1;
  return gd_run_or_reply (NULL, -1, argv);
}

char *
do_get_e2label (const char *device)
{
  const char *argv[] = { "e2label", device, NULL };
  char *out;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  out[strcspn (out, "\n")] = '\0';
  return out;
}

/* Also "clear", "random" and "time", as tune2fs -U takes them. */
int
do_set_e2uuid (const char *device, const char *uuid)
{
  const char *argv[] = { "tune2fs", "-U", uuid, device, NULL };

  if (strcmp (uuid, "clear") && strcmp (uuid, "random") &&
      strcmp (uuid, "time") && gd_check_uuid (uuid, "uuid") == -1)
    return -1;
  return gd_run_or_reply (NULL, -1, argv);
}

char *
do_get_e2uuid (const char *device)
{
  char **kv = do_tune2fs_l (device), *r = NULL;
  int found = 0;

  if (kv == NULL)
    return NULL;
  for (size_t i = 0; !found && kv[i] && kv[i+1]; i += 2)
    if (strcmp (kv[i], "Filesystem UUID") == 0) {
      found = 1;
      if ((r = strdup (kv[i+1])) == NULL)
        reply_with_perror ("get_e2uuid");
    }
  if (!found)
    reply_with_error ("%s: tune2fs shows no filesystem UUID", device);
  gk_free_strings (kv);
  return r;
}

/* fsck's exit status is the answer (a bit mask: 1 errors corrected,
 * 4 errors left, 8 operational error, ...); only failing to run it at
 * all is an error. */
int
do_fsck (const char *fstype, const char *device)
{
  const char *argv[] = { "fsck", "-a", "-t", fstype, device, NULL };
  char *err = NULL;
  int r;

  if (!gd_valid_fstype (fstype)) {
    reply_with_error ("fstype %s: not a filesystem type name", fstype);
    return -1;
  }
  r = gd_commandv (NULL, &err, -1, argv);
  if (r == -1)
    reply_with_error ("fsck: %s", err && *gd_trim (err) ? err : "cannot run");
  free (err);
  return r;
}

int
do_resize2fs (const char *device)
{
  const char *argv[] = { "resize2fs", device, NULL };

  return gd_run_or_reply (NULL, -1, argv);
}

/* e2fsck -p -f: status 1 (errors found and fixed) is a success too. */
int
do_e2fsck_f (const char *device)
{
  const char *argv[] = { "e2fsck", "-p", "-f", device, NULL };
  char *out = NULL, *err = NULL;
  int r = gd_commandv (&out, &err, -1, argv);

  if (r != 0 && r != 1) {
    char *msg = err && *gd_trim (err) ? err : out ? gd_trim (out) : NULL;
    reply_with_error ("e2fsck %s: %s (exit status %d)", device,
                      msg && *msg ? msg : "failed", r);
    r = -1;
  }
  free (out);
  free (err);
  return r == -1 ? -1 : 0;
}

int
do_zerofree (const char *device)
{
  const char *argv[] = { "zerofree", device, NULL };

  if (gd_check_group () == -1)
    return -1;
  return gd_run_or_reply (NULL, -1, argv);
}

static int
write_zeroes (int fd, off_t offset, size_t len)
{
  static const char zeroes[65536];

  while (len > 0) {
    size_t n = len < sizeof zeroes ? len : sizeof zeroes;
    ssize_t w = pwrite (fd, zeroes, n, offset);
    if (w == -1 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    offset += w;
    len -= (size_t) w;
  }
  return 0;
}

/* Zero the first and the last MiB: partition tables (a GPT's backup
 * too), filesystem superblocks and LVM labels are gone, the rest stays.
 * O_EXCL refuses a device that is mounted or otherwise in use. */
int
do_zero (const char *device)
{
  int fd = open (device, O_WRONLY | O_EXCL | O_CLOEXEC);
  uint64_t size;
  size_t head, tail;

  if (fd == -1) {
    reply_with_perror ("%s", device);
    return -1;
  }
  if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
    reply_with_perror ("%s: BLKGETSIZE64", device);
    close (fd);
    return -1;
  }
  head = size < ZERO_BYTES ? (size_t) size : ZERO_BYTES;
  tail = size - head < ZERO_BYTES ? (size_t) (size - head) : ZERO_BYTES;
  if (write_zeroes (fd, 0, head) == -1 ||
      write_zeroes (fd, (off_t) (size - tail), tail) == -1 ||
      fsync (fd) == -1) {
    reply_with_perror ("%s: write", device);
    close (fd);
    return -1;
  }
  if (ioctl (fd, BLKFLSBUF, 0) == -1)
    gd_log ("%s: BLKFLSBUF: %m", device);
  close (fd);
  return 0;
}

/* ntfs-3g.probe's exit status is the answer (0: mountable; 11-21: why
 * not, see ntfs-3g.probe(8)); only failing to run it is an error. */
int
do_ntfs_3g_probe (int rw, const char *device)
{
  const char *argv[] = { "ntfs-3g.probe", rw ? "--readwrite" : "--readonly",
                         device, NULL };
  char *err = NULL;
  int r;

  if (gd_check_group () == -1)
    return -1;
  r = gd_commandv (NULL, &err, -1, argv);
  if (r == -1 || r == 126 || r == 127)
    reply_with_error ("ntfs-3g.probe: %s", err && *gd_trim (err) ? err : "cannot run");
  free (err);
  return r == 126 || r == 127 ? -1 : r;
}
