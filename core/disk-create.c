/* core/disk-create.c: guestfs_disk_create, a new empty disk image made
 * in the library (no appliance, no qemu-img), and gk_create_image, which
 * the launch's throw-away overlays use too.
 *
 * raw:   a sparse file of the size.
 * qcow2: the image qemu-img create writes (core/qcow2.c), optionally
 *        over a backing file whose format is given, never probed.
 * Sizes are rounded up to a multiple of 512 bytes, as qemu-img does.
 *
 * The file is created with O_EXCL (an existing file is an error, never
 * overwritten) and mode 0666 less the umask; if writing it fails it is
 * removed, so no partial image is left.  It is not fsynced.
 *
 * A backing file name is written into the image as given.  A relative
 * name is relative to the new image's directory (where qemu looks for
 * it), and is checked there; a name with a protocol prefix (anything
 * before a ':' that comes before any '/', "json:" included) is refused.
 * The backing file must exist and be a regular file or block device.
 * size -1 takes the backing file's virtual size: a raw file's length, or
 * the size field of a qcow2 header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk.h"

/* Write the image into the open fd; -1 with errno and *why on error. */
static int
fill (int fd, const char *format, uint64_t size, const char *backing,
      const char *backing_format, const char **why)
{
  uint64_t rounded = (size + 511) & ~(uint64_t) 511;

  if (strcmp (format, "qcow2") == 0)
    return gk_qcow2_write (fd, size, backing, backing_format, why);
  *why = "ftruncate";
  if (rounded > INT64_MAX) {
    errno = EFBIG;
    return -1;
  }
  return ftruncate (fd, (off_t) rounded);
}

int
gk_create_image (guestfs_h *g, const char *call, const char *file,
                 const char *format, uint64_t size, const char *backing,
                 const char *backing_format, int replace)
{
  const char *why = NULL;
  int fd, e;

  if (strcmp (format, "qcow2") == 0 &&
      gk_qcow2_check (size, backing, backing_format, &why) == -1) {
    gk_error (g, "%s: %s: %s", call, file, why);
    return -1;
  }
  if (replace && unlink (file) == -1 && errno != ENOENT) {
    gk_perror (g, "%s: %s: cannot replace it", call, file);
    return -1;
  }
  fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd == -1) {
    gk_perror (g, "%s: %s", call, file);
    return -1;
  }
  if (fill (fd, format, size, backing, backing_format, &why) == -1) {
    e = errno;
    close (fd);
    goto fail;
  }
  why = "close";
  if (close (fd) == -1) {
    e = errno;
    goto fail;
  }
  return 0;
 fail:
  unlink (file);
  errno = e;
  gk_perror (g, "%s: %s: %s", call, file, why);
  return -1;
}

/* The backing file as qemu will look for it: a relative name is taken
 * from the new image's directory.  Caller frees. */
static char *
backing_path (guestfs_h *g, const char *file, const char *backing)
{
  const char *slash = strrchr (file, '/');

  if (backing[0] == '/' || slash == NULL)
    return gk_strdup (g, backing);
  return gk_asprintf (g, "%.*s/%s", (int) (slash - file), file, backing);
}

/* Does qemu take the name as protocol:rest (nbd:, json:, ...)? */
static int
has_protocol (const char *name)
{
  return name[strcspn (name, ":/")] == ':';
}

/* The virtual size of the backing file open at fd, in its format. */
static int
backing_size (guestfs_h *g, const char *file, const char *path, int fd,
              const char *format, int need_size, uint64_t *size)
{
  struct gk_qcow2 q;
  const char *why;
  off_t end;

  if (strcmp (format, "qcow2") == 0) {
    if (gk_qcow2_read (g, fd, &q, &why) == -1) {
      gk_error (g, "disk_create: %s: backing file %s: %s", file, path, why);
      return -1;
    }
    *size = q.size;
    gk_qcow2_free (&q);
    return 0;
  }
  if (strcmp (format, "raw") == 0) {
    if ((end = lseek (fd, 0, SEEK_END)) == -1) {
      gk_perror (g, "disk_create: %s: backing file %s", file, path);
      return -1;
    }
    *size = (uint64_t) end;
    return 0;
  }
  if (!need_size)
    return 0;
  gk_error (g, "disk_create: %s: size -1 takes the backing file's size, which "
            "is read for raw and qcow2 backing files only, not %s: give the size",
            file, format);
  return -1;
}

/* The backing file must be there, be an image file, and (size -1) tell
 * its size. */
static int
check_backing (guestfs_h *g, const char *file, const char *backing,
               const char *format, int64_t *size)
{
  char *path;
  struct stat st;
  uint64_t bsize = 0;
  int fd, r;

  if (has_protocol (backing)) {
    gk_error (g, "disk_create: %s: backing file '%s': a name with a protocol "
              "prefix (before a ':') is not taken; write ./%s for a file",
              file, backing, backing);
    return -1;
  }
  if (gk_check_format (g, "disk_create", format) == -1)
    return -1;
  path = backing_path (g, file, backing);
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd == -1 || fstat (fd, &st) == -1) {
    gk_perror (g, "disk_create: %s: backing file %s", file, path);
    r = -1;
  } else if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    gk_error (g, "disk_create: %s: backing file %s: not a regular file or "
              "block device", file, path);
    r = -1;
  } else
    r = backing_size (g, file, path, fd, format, *size == -1, &bsize);
  if (fd >= 0)
    close (fd);
  free (path);
  if (r == 0 && *size == -1) {
    if (bsize > INT64_MAX) {
      gk_error (g, "disk_create: %s: backing file %s: its size is out of range",
                file, backing);
      return -1;
    }
    *size = (int64_t) bsize;
  }
  return r;
}

/* The options we take only at their defaults (and the combinations that
 * do not make sense).  0 or -1 with the error set. */
static int
check_options (guestfs_h *g, const char *file, const char *format,
               const struct guestfs_disk_create_argv *o)
{
  uint64_t m = o ? o->bitmask : 0;
  int qcow2 = strcmp (format, "qcow2") == 0;

  if (m & ~(GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK |
            GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK |
            GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK |
            GUESTFS_DISK_CREATE_COMPAT_BITMASK |
            GUESTFS_DISK_CREATE_CLUSTERSIZE_BITMASK)) {
    gk_error (g, "disk_create: unknown option bits 0x%llx", (unsigned long long) m);
    return -1;
  }
  if ((m & GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK && o->backingfile == NULL) ||
      (m & GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK && o->backingformat == NULL) ||
      (m & GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK && o->preallocation == NULL) ||
      (m & GUESTFS_DISK_CREATE_COMPAT_BITMASK && o->compat == NULL)) {
    gk_error (g, "disk_create: an optional string argument is NULL");
    return -1;
  }
  if (m & GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK &&
      strcmp (o->preallocation, "off") != 0 && strcmp (o->preallocation, "sparse") != 0) {
    gk_error (g, "disk_create: %s: preallocation '%s' is not supported "
              "(only off or sparse)", file, o->preallocation);
    return -1;
  }
  if (m & (GUESTFS_DISK_CREATE_COMPAT_BITMASK | GUESTFS_DISK_CREATE_CLUSTERSIZE_BITMASK |
           GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK) && !qcow2) {
    gk_error (g, "disk_create: %s: backingfile, compat and clustersize are "
              "qcow2 options, not for %s", file, format);
    return -1;
  }
  if (m & GUESTFS_DISK_CREATE_COMPAT_BITMASK && strcmp (o->compat, "1.1") != 0) {
    gk_error (g, "disk_create: %s: compat '%s' is not supported (only 1.1, "
              "qcow2 version 3)", file, o->compat);
    return -1;
  }
  if (m & GUESTFS_DISK_CREATE_CLUSTERSIZE_BITMASK && o->clustersize != 65536) {
    gk_error (g, "disk_create: %s: clustersize %d is not supported (only 65536)",
              file, o->clustersize);
    return -1;
  }
  if (!!(m & GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK) !=
      !!(m & GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK)) {
    gk_error (g, "disk_create: %s: backingfile and backingformat go together "
              "(the backing file's format is never probed)", file);
    return -1;
  }
  return 0;
}

static int
disk_create (guestfs_h *g, const char *filename, const char *format,
             int64_t size, const struct guestfs_disk_create_argv *o)
{
  const char *backing = NULL, *bformat = NULL;

  if (filename[0] == '\0') {
    gk_error (g, "disk_create: the file name is empty");
    return -1;
  }
  if (strcmp (format, "raw") != 0 && strcmp (format, "qcow2") != 0) {
    gk_error (g, "disk_create: %s: format '%s' is not supported (raw or qcow2)",
              filename, format);
    return -1;
  }
  if (check_options (g, filename, format, o) == -1)
    return -1;
  if (o && o->bitmask & GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK) {
    backing = o->backingfile;
    bformat = o->backingformat;
  }
  if (size < -1 || (size == -1 && backing == NULL)) {
    gk_error (g, "disk_create: %s: size %lld: the size must be 0 or more "
              "(-1 only with a backing file)", filename, (long long) size);
    return -1;
  }
  if (backing && check_backing (g, filename, backing, bformat, &size) == -1)
    return -1;
  return gk_create_image (g, "disk_create", filename, format, (uint64_t) size,
                          backing, bformat, 0);
}

int
guestfs_disk_create_argv (guestfs_h *g, const char *filename, const char *format,
                          int64_t size, const struct guestfs_disk_create_argv *o)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_disk_create];
  union gk_val args[3] = { { .s = (char *) filename }, { .s = (char *) format },
                           { .i64 = size } };
  int r;

  if (gk_enter (g, a, args) == -1)
    return -1;
  r = disk_create (g, filename, format, size, o);
  gk_leave (g, a, r == -1);
  return r;
}

int
guestfs_disk_create (guestfs_h *g, const char *filename, const char *format,
                     int64_t size, ...)
{
  struct guestfs_disk_create_argv o = { 0 };
  va_list ap;
  int key;

  va_start (ap, size);
  while ((key = va_arg (ap, int)) != -1) {
    switch (key) {
    case GUESTFS_DISK_CREATE_BACKINGFILE:
      o.backingfile = va_arg (ap, const char *);
      break;
    case GUESTFS_DISK_CREATE_BACKINGFORMAT:
      o.backingformat = va_arg (ap, const char *);
      break;
    case GUESTFS_DISK_CREATE_PREALLOCATION:
      o.preallocation = va_arg (ap, const char *);
      break;
    case GUESTFS_DISK_CREATE_COMPAT:
      o.compat = va_arg (ap, const char *);
      break;
    case GUESTFS_DISK_CREATE_CLUSTERSIZE:
      o.clustersize = va_arg (ap, int);
      break;
    default:
      va_end (ap);
      g->error_pending = 0;
      gk_error (g, "disk_create: unknown option key %d", key);
      return -1;
    }
    o.bitmask |= UINT64_C (1) << key;
  }
  va_end (ap);
  return guestfs_disk_create_argv (g, filename, format, size, &o);
}
