/* core/drives.c: adding disk images to a handle before launch.
 *
 * The format of an image is whatever the caller says (raw by default) and
 * is never guessed from the image's bytes: a raw image that starts with a
 * qcow2 header stays raw, so it cannot make qemu open a file it names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk.h"

static const char *const known_formats[] = {
  "raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vpc", "vhdx", "parallels",
  "dmg", "bochs", "cloop", NULL,
};

static int
check_format (guestfs_h *g, const char *call, const char *format)
{
  for (size_t i = 0; known_formats[i]; i++)
    if (strcmp (format, known_formats[i]) == 0)
      return 0;
  gk_error (g, "%s: unknown disk format '%s' (use raw, qcow2, vmdk, vdi, "
            "vpc, vhdx, ...)", call, format);
  return -1;
}

/* The image must exist and be accessible the way it will be opened. */
static int
check_image (guestfs_h *g, const char *call, const char *filename, int ro)
{
  struct stat st;

  if (filename[0] == '\0') {
    gk_error (g, "%s: the file name is empty", call);
    return -1;
  }
  if (stat (filename, &st) == -1) {
    gk_perror (g, "%s: %s", call, filename);
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    gk_error (g, "%s: %s: is a directory, not a disk image", call, filename);
    return -1;
  }
  if (access (filename, ro ? R_OK : R_OK | W_OK) == -1) {
    gk_perror (g, "%s: %s", call, filename);
    return -1;
  }
  return 0;
}

static int
add (guestfs_h *g, const char *call, const char *filename,
     const char *format, int readonly, int cdrom)
{
  struct gk_drive *d;

  if (check_image (g, call, filename, readonly) == -1 ||
      check_format (g, call, format) == -1)
    return -1;
  g->drives = gk_realloc (g, g->drives, (g->ndrives + 1) * sizeof *g->drives);
  d = &g->drives[g->ndrives++];
  d->filename = gk_strdup (g, filename);
  d->format = gk_strdup (g, format);
  d->readonly = readonly;
  d->cdrom = cdrom;
  return 0;
}

int
gk_impl_add_drive (guestfs_h *g, const char *filename)
{
  return add (g, "add_drive", filename, "raw", 0, 0);
}

int
gk_impl_add_drive_ro (guestfs_h *g, const char *filename)
{
  return add (g, "add_drive_ro", filename, "raw", 1, 0);
}

int
gk_impl_add_cdrom (guestfs_h *g, const char *filename)
{
  return add (g, "add_cdrom", filename, "raw", 1, 1);
}

int
guestfs_add_drive_opts_argv (guestfs_h *g, const char *filename,
                             const struct guestfs_add_drive_opts_argv *o)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_add_drive_opts];
  union gk_val args[1] = { { .s = (char *) filename } };
  const char *format = "raw";
  int readonly = 0, r;

  if (gk_enter (g, a, args) == -1)
    return -1;
  if (o && (o->bitmask & ~(GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK |
                           GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK))) {
    gk_error (g, "add_drive_opts: unknown option bits 0x%llx",
              (unsigned long long) o->bitmask);
    gk_leave (g, a, 1);
    return -1;
  }
  if (o && (o->bitmask & GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK)) {
    if (o->format == NULL) {
      gk_error (g, "add_drive_opts: format must not be NULL");
      gk_leave (g, a, 1);
      return -1;
    }
    format = o->format;
  }
  if (o && (o->bitmask & GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK))
    readonly = !!o->readonly;
  r = add (g, "add_drive_opts", filename, format, readonly, 0);
  gk_leave (g, a, r == -1);
  return r;
}

int
guestfs_add_drive_opts (guestfs_h *g, const char *filename, ...)
{
  struct guestfs_add_drive_opts_argv o = { 0 };
  va_list ap;
  int key;

  va_start (ap, filename);
  while ((key = va_arg (ap, int)) != -1) {
    switch (key) {
    case GUESTFS_ADD_DRIVE_OPTS_READONLY:
      o.readonly = va_arg (ap, int);
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
      break;
    case GUESTFS_ADD_DRIVE_OPTS_FORMAT:
      o.format = va_arg (ap, const char *);
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
      break;
    default:
      va_end (ap);
      g->error_pending = 0;
      gk_error (g, "add_drive_opts: unknown option key %d", key);
      return -1;
    }
  }
  va_end (ap);
  return guestfs_add_drive_opts_argv (g, filename, &o);
}
