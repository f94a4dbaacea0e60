/* core/inspect-fs.c: the filesystem side of inspection.
 *
 *  - finding the filesystems on the drives: whole disks without a
 *    partition table, partitions and LVM logical volumes (lvm runs only
 *    when a physical volume was seen), with the type, label and UUID
 *    libblkid sees (one blkid call each, which runs no program: under
 *    TCG a program run costs 0.1 to 0.5 s);
 *  - bounded reads of guest files (pread in chunks, never more than a cap);
 *  - an OS's fstab: each entry's device resolved to a filesystem found
 *    above (guest names /dev/vda1, /dev/xvda1, /dev/hda1, /dev/nvme0n1p1,
 *    /dev/mapper/VG-LV, LABEL=, UUID=, /dev/disk/by-label|by-uuid/);
 *  - mounting an OS in order: "/", then by depth of the mount point,
 *    each filesystem with the type found above (mount_vfs), so that
 *    mounting probes nothing again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"

#define MAX_FILESYSTEMS 256        /* candidates looked at */
#define READ_CHUNK (2 * 1024 * 1024)

#define xstrdup gk_inspect_strdup

static void
free_list (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

/* ---- Finding filesystems ---- */

/* The value of key in a blkid table, or NULL. */
static const char *
tag (char **kv, const char *key)
{
  for (size_t i = 0; kv[i] && kv[i+1]; i += 2)
    if (strcmp (kv[i], key) == 0)
      return kv[i+1];
  return NULL;
}

/* Look at one candidate device; 0 also when it holds no filesystem.
 * One blkid call (no program run in the appliance) gives the type and,
 * for fstab's LABEL= and UUID=, the label and UUID. */
static int
add_candidate (guestfs_h *g, struct gk_inspect *in, const char *device)
{
  const char *type, *label, *uuid;
  struct gk_ifs *fs;
  char **kv;

  if (in->nfs >= MAX_FILESYSTEMS)
    return 0;
  if ((kv = guestfs_blkid (g, device)) == NULL)
    return gk_inspect_alive (g) ? 0 : -1;
  if ((type = tag (kv, "TYPE")) == NULL || *type == '\0') {
    free_list (kv);
    return 0;
  }
  label = tag (kv, "LABEL");
  uuid = tag (kv, "UUID");
  in->fs = gk_inspect_realloc (in->fs, (in->nfs + 1) * sizeof *in->fs);
  fs = &in->fs[in->nfs++];
  fs->device = xstrdup (device);
  fs->type = gk_inspect_clean (type, 64);
  fs->label = gk_inspect_clean (label ? label : "", 256);
  fs->uuid = gk_inspect_clean (uuid ? uuid : "", 64);
  free_list (kv);
  return 0;
}

/* Is some partition of `disk' in the list?  (/dev/sda -> /dev/sda1) */
static int
has_partitions (char **parts, const char *disk)
{
  size_t n = strlen (disk);

  for (size_t i = 0; parts[i]; i++)
    if (strncmp (parts[i], disk, n) == 0 && parts[i][n] >= '0' &&
        parts[i][n] <= '9')
      return 1;
  return 0;
}

int
gk_inspect_find_filesystems (guestfs_h *g, struct gk_inspect *in)
{
  char **devs = guestfs_list_devices (g), **parts = NULL, **lvs = NULL;
  int r = -1;

  if (devs == NULL || (parts = guestfs_list_partitions (g)) == NULL)
    goto out;
  r = 0;
  for (size_t i = 0; r == 0 && devs[i]; i++)
    if (!has_partitions (parts, devs[i]))
      r = add_candidate (g, in, devs[i]);
  for (size_t i = 0; r == 0 && parts[i]; i++)
    r = add_candidate (g, in, parts[i]);
  /* Physical volumes show as LVM2_member: only then run lvm (slow), and
   * an lvm that fails is not a failure of inspection. */
  for (size_t i = 0; r == 0 && i < in->nfs; i++)
    if (strcmp (in->fs[i].type, "LVM2_member") == 0) {
      if ((lvs = guestfs_lvs (g)) == NULL && !gk_inspect_alive (g))
        r = -1;
      break;
    }
  for (size_t i = 0; r == 0 && lvs && lvs[i]; i++)
    r = add_candidate (g, in, lvs[i]);
 out:
  free_list (devs);
  free_list (parts);
  free_list (lvs);
  return r;
}

const struct gk_ifs *
gk_inspect_fs (const struct gk_inspect *in, const char *device)
{
  for (size_t i = 0; i < in->nfs; i++)
    if (strcmp (in->fs[i].device, device) == 0)
      return &in->fs[i];
  return NULL;
}

/* ---- Bounded reads ---- */

static int
missing (const char *err)
{
  return err && (strstr (err, "No such file or directory") ||
                 strstr (err, "Not a directory"));
}

/* Read at most cap bytes of a guest file as text: NUL bytes become
 * spaces, the result is NUL-terminated (*len_r bytes before the NUL).
 * NULL when the file is missing (silently) or unreadable (a warning on
 * os); a file longer than cap is cut, with a warning. */
char *
gk_inspect_read (guestfs_h *g, struct gk_ios *os, const char *path,
                 size_t cap, size_t *len_r)
{
  char *buf = NULL, *c;
  size_t got = 0, n, want;

  for (;;) {
    want = cap + 1 - got < READ_CHUNK ? cap + 1 - got : READ_CHUNK;
    c = guestfs_pread (g, path, (int) want, (int64_t) got, &n);
    if (c == NULL) {
      if (gk_inspect_alive (g) && !(got == 0 && missing (guestfs_last_error (g))))
        gk_inspect_warn (g, os, "could not read %s: %s", path,
                         guestfs_last_error (g));
      free (buf);
      return NULL;
    }
    if (n > want)
      n = want;
    buf = gk_inspect_realloc (buf, got + n + 1);
    memcpy (buf + got, c, n);
    free (c);
    got += n;
    if (n < want || got > cap)
      break;
  }
  if (got > cap) {
    gk_inspect_warn (g, os, "%s is larger than %zu bytes: only the start was read",
                     path, cap);
    got = cap;
  }
  for (size_t i = 0; i < got; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[got] = '\0';
  if (len_r)
    *len_r = got;
  return buf;
}

/* ---- fstab ---- */

/* The LVM device-mapper name of /dev/VG/LV: dashes doubled, joined by one. */
static int
mapper_matches (const char *device, const char *name)
{
  const char *vg, *lv, *p;
  char buf[512];
  size_t o = 0;

  if (strncmp (device, "/dev/", 5) != 0 || (lv = strrchr (device, '/')) == NULL)
    return 0;
  vg = device + 5;
  if (lv <= vg || strchr (vg, '/') != lv)
    return 0;
  for (p = vg; *p && o + 3 < sizeof buf; p++) {
    if (p == lv) {
      buf[o++] = '-';
      continue;
    }
    if (*p == '-')
      buf[o++] = '-';
    buf[o++] = *p;
  }
  buf[o] = '\0';
  return *p == '\0' && strcmp (buf, name) == 0;
}

/* The appliance's name for a guest disk name: vda1, xvda1, hda1 -> sda1;
 * nvme0n1p2 -> sda2 (controller N becomes the Nth disk).  NULL if none. */
static char *
appliance_name (const char *spec)
{
  const char *p = spec + 5;
  unsigned ctl, ns;
  char *r;
  int n = 0;

  if (strncmp (p, "vd", 2) == 0 || strncmp (p, "hd", 2) == 0)
    p += 2;
  else if (strncmp (p, "xvd", 3) == 0)
    p += 3;
  else if (strncmp (p, "sd", 2) == 0)
    return xstrdup (spec);
  else if (sscanf (p, "nvme%un%u%n", &ctl, &ns, &n) == 2 && ctl < 26) {
    if (p[n] == 'p' && p[n+1] >= '1' && p[n+1] <= '9' &&
        strspn (p + n + 1, "0123456789") == strlen (p + n + 1)) {
      return gk_inspect_asprintf ("/dev/sd%c%s", 'a' + ctl, p + n + 1);
    }
    if (p[n] == '\0') {
      r = gk_inspect_asprintf ("/dev/sd%c", 'a' + ctl);
      return r;
    }
    return NULL;
  } else
    return NULL;
  if (*p < 'a' || *p > 'z')
    return NULL;
  r = gk_inspect_asprintf ("/dev/sd%s", p);
  return r;
}

/* The filesystem an fstab spec names; NULL if none.  *ambiguous is set
 * when a label or UUID names several. */
static const struct gk_ifs *
resolve (guestfs_h *g, struct gk_inspect *in, const char *spec, int *ambiguous)
{
  const struct gk_ifs *r = NULL;
  const char *label = NULL, *uuid = NULL;
  char *name;

  *ambiguous = 0;
  if (strncmp (spec, "LABEL=", 6) == 0) label = spec + 6;
  else if (strncmp (spec, "UUID=", 5) == 0) uuid = spec + 5;
  else if (strncmp (spec, "/dev/disk/by-label/", 19) == 0) label = spec + 19;
  else if (strncmp (spec, "/dev/disk/by-uuid/", 18) == 0) uuid = spec + 18;
  if (label || uuid) {
    if (*(label ? label : uuid) == '\0')
      return NULL;
    for (size_t i = 0; i < in->nfs; i++)
      if (label ? strcmp (in->fs[i].label, label) == 0
                : strcasecmp (in->fs[i].uuid, uuid) == 0) {
        if (r)
          *ambiguous = 1;
        else
          r = &in->fs[i];
      }
    return r;
  }
  if (strncmp (spec, "/dev/mapper/", 12) == 0) {
    for (size_t i = 0; i < in->nfs; i++)
      if (mapper_matches (in->fs[i].device, spec + 12))
        return &in->fs[i];
    return NULL;
  }
  if (strncmp (spec, "/dev/", 5) != 0)
    return NULL;
  if ((r = gk_inspect_fs (in, spec)) != NULL)
    return r;
  if ((name = appliance_name (spec)) != NULL)
    r = gk_inspect_fs (in, name);
  free (name);
  return r;
}

/* Does the spec try to name a local block device (so that not finding
 * it deserves a warning)? */
static int
names_device (const char *spec)
{
  return strncmp (spec, "/dev/", 5) == 0 || strncmp (spec, "LABEL=", 6) == 0 ||
    strncmp (spec, "UUID=", 5) == 0 || strncmp (spec, "PARTUUID=", 9) == 0 ||
    strncmp (spec, "PARTLABEL=", 10) == 0;
}

/* Filesystem types that never name a local block device. */
static int
virtual_type (const char *t)
{
  static const char *const v[] = { "proc", "sysfs", "tmpfs", "devpts",
    "devtmpfs", "ramfs", "debugfs", "securityfs", "cgroup", "cgroup2",
    "pstore", "efivarfs", "mqueue", "hugetlbfs", "binfmt_misc", "configfs",
    "fusectl", "tracefs", "bpf", "autofs", "nfs", "nfs4", "cifs", "smbfs",
    "smb3", "sshfs", "9p", "virtiofs", "none", "overlay", NULL };

  for (size_t i = 0; v[i]; i++)
    if (strcmp (t, v[i]) == 0)
      return 1;
  return strncmp (t, "fuse", 4) == 0;
}

/* Undo fstab's octal escapes (\040 for a space) in place. */
static void
unescape (char *s)
{
  char *o = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
        s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      int c = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
      *o++ = c ? (char) c : ' ';
      s += 3;
    } else
      *o++ = *s;
  }
  *o = '\0';
}

/* A LABEL="x" or UUID="x" value without its quotes, in place. */
static void
unquote (char *spec)
{
  char *eq = strchr (spec, '=');
  size_t n;

  if (eq && (eq[1] == '"' || eq[1] == '\'') && (n = strlen (eq + 1)) >= 2 &&
      eq[n] == eq[1]) {
    memmove (eq + 1, eq + 2, n - 2);
    eq[n - 1] = '\0';
  }
}

/* A clean absolute mount point (no "//", "/./", "/../", no trailing
 * slash) or NULL. */
static char *
clean_mountpoint (const char *mp)
{
  char *r, *o, *copy, *save = NULL, *tok;

  if (mp[0] != '/' || strlen (mp) > 1024)
    return NULL;
  r = o = gk_inspect_realloc (NULL, strlen (mp) + 2);
  memset (r, 0, strlen (mp) + 2);
  copy = xstrdup (mp);
  for (tok = strtok_r (copy, "/", &save); tok; tok = strtok_r (NULL, "/", &save)) {
    if (strcmp (tok, ".") == 0 || strcmp (tok, "..") == 0) {
      free (r);
      free (copy);
      return NULL;
    }
    o += sprintf (o, "/%s", tok);
  }
  if (o == r)
    strcpy (r, "/");
  free (copy);
  return r;
}

static size_t
depth (const char *mp)
{
  size_t d = 0;

  if (strcmp (mp, "/") == 0)
    return 0;
  for (; *mp; mp++)
    d += *mp == '/';
  return d;
}

static int
cmp_mnt (const void *a, const void *b)
{
  const struct gk_mnt *x = a, *y = b;
  size_t dx = depth (x->mountpoint), dy = depth (y->mountpoint);

  if (dx != dy)
    return dx < dy ? -1 : 1;
  return strcmp (x->mountpoint, y->mountpoint);
}

static void
add_mnt (struct gk_ios *os, const char *mp, const char *device,
         const char *type)
{
  struct gk_mnt *m;

  os->mnts = gk_inspect_realloc (os->mnts, (os->nmnts + 1) * sizeof *os->mnts);
  m = &os->mnts[os->nmnts++];
  m->mountpoint = xstrdup (mp);
  m->device = xstrdup (device);
  m->vfstype = xstrdup (type);
}

static int
has_mountpoint (const struct gk_ios *os, const char *mp)
{
  for (size_t i = 0; i < os->nmnts; i++)
    if (strcmp (os->mnts[i].mountpoint, mp) == 0)
      return 1;
  return 0;
}

/* Split a line into at most max blank-separated fields, in place. */
static size_t
split_fields (char *line, char **f, size_t max)
{
  size_t n = 0;
  char *save = NULL;

  for (char *t = strtok_r (line, " \t\r", &save); t && n < max;
       t = strtok_r (NULL, " \t\r", &save))
    f[n++] = t;
  return n;
}

/* Record a resolved fstab entry's mount point (mp is clean). */
static void
fstab_mount (guestfs_h *g, struct gk_ios *os, const struct gk_ifs *fs,
             const char *mp, int lineno)
{
  if (strcmp (mp, "/") == 0) {
    if (strcmp (fs->device, os->root) != 0)
      gk_inspect_warn (g, os, "/etc/fstab line %d: / is %s, but the root found "
                       "is %s", lineno, fs->device, os->root);
    return;
  }
  if (has_mountpoint (os, mp))
    gk_inspect_warn (g, os, "/etc/fstab line %d: %s is mounted twice: the "
                     "first entry wins", lineno, mp);
  else if (os->nmnts >= GK_MAX_FSTAB)
    gk_inspect_warn (g, os, "/etc/fstab: more than %d entries: the rest ignored",
                     GK_MAX_FSTAB);
  else {
    add_mnt (os, mp, fs->device, fs->type);
    if (!gk_strv_has (&os->fss, fs->device))
      gk_strv_add (&os->fss, fs->device);
  }
}

/* One fstab line (already split); lineno for warnings.  Entries that
 * name no local filesystem (proc, tmpfs, nfs, bind mounts) are skipped
 * quietly; one that names a device we cannot find gets a warning, except
 * for "/", which inspection found by itself. */
static void
fstab_entry (guestfs_h *g, struct gk_inspect *in, struct gk_ios *os,
             char **f, size_t nf, int lineno)
{
  const struct gk_ifs *fs;
  char *mp = NULL;
  int amb;

  if (nf < 3) {
    gk_inspect_warn (g, os, "/etc/fstab line %d: malformed (fewer than 3 fields)",
                     lineno);
    return;
  }
  unquote (f[0]);
  unescape (f[0]);
  unescape (f[1]);
  if (virtual_type (f[2]) || (nf >= 4 && strstr (f[3], "bind")))
    return;
  if (strcmp (f[2], "swap") != 0 && (mp = clean_mountpoint (f[1])) == NULL) {
    gk_inspect_warn (g, os, "/etc/fstab line %d: bad mount point '%.80s'",
                     lineno, f[1]);
    return;
  }
  if ((fs = resolve (g, in, f[0], &amb)) == NULL) {
    if (names_device (f[0]) && !(mp && strcmp (mp, "/") == 0))
      gk_inspect_warn (g, os, "/etc/fstab line %d: %s (for %s): no such "
                       "filesystem found", lineno, f[0], f[1]);
  } else {
    if (amb)
      gk_inspect_warn (g, os, "/etc/fstab line %d: %s names several "
                       "filesystems: using %s", lineno, f[0], fs->device);
    if (strcmp (fs->type, "swap") == 0) {
      if (!gk_strv_has (&os->fss, fs->device))
        gk_strv_add (&os->fss, fs->device);
    } else if (mp)
      fstab_mount (g, os, fs, mp, lineno);
  }
  free (mp);
}

/* Fill os->mnts ("/" first, then mount order) and os->fss from the text
 * of the OS's fstab (modified; NULL when there is none). */
void
gk_inspect_fstab (guestfs_h *g, struct gk_inspect *in, struct gk_ios *os,
                  char *text)
{
  const struct gk_ifs *root = gk_inspect_fs (in, os->root);
  char *save = NULL, *f[6];
  int lineno = 0;

  add_mnt (os, "/", os->root, root ? root->type : "");
  for (char *line = text ? strtok_r (text, "\n", &save) : NULL; line;
       line = strtok_r (NULL, "\n", &save)) {
    lineno++;              /* strtok_r skips empty lines: numbers are a hint */
    line += strspn (line, " \t\r");
    if (*line == '#' || *line == '\0')
      continue;
    if (strlen (line) > 4096) {
      gk_inspect_warn (g, os, "/etc/fstab line %d: too long, ignored", lineno);
      continue;
    }
    fstab_entry (g, in, os, f, split_fields (line, f, 6), lineno);
  }
  if (os->nmnts > 2)
    qsort (os->mnts + 1, os->nmnts - 1, sizeof *os->mnts, cmp_mnt);
}

/* ---- Mounting ---- */

/* The options mount_ro uses on a read-only drive: there a journal
 * cannot be replayed, so ext3/4 and xfs mount without replaying it. */
static const char *
no_replay (const char *type)
{
  if (strcmp (type, "ext3") == 0 || strcmp (type, "ext4") == 0)
    return "ro,noload";
  if (strcmp (type, "xfs") == 0)
    return "ro,norecovery";
  return NULL;
}

/* Mount read-only, as mount_ro does, but with the type already known
 * (mount_ro probes it again, running blkid): a read-only drive gets the
 * no-replay options at once; on a writable one a filesystem that wants
 * its journal replayed is mounted without replaying it on a second try. */
int
gk_inspect_mount_fs (guestfs_h *g, const char *device, const char *type,
                     const char *mountpoint, int readonly)
{
  const char *opts = no_replay (type);
  int ro;

  if (!readonly)
    return guestfs_mount (g, device, mountpoint);
  if (*type == '\0' || type[strspn (type, "abcdefghijklmnopqrstuvwxyz0123456789_.")])
    return guestfs_mount_ro (g, device, mountpoint);     /* not a -t name */
  if ((ro = guestfs_blockdev_getro (g, device)) == -1)
    return -1;
  if (ro == 1 && opts)
    return guestfs_mount_vfs (g, opts, type, device, mountpoint);
  if (guestfs_mount_vfs (g, "ro", type, device, mountpoint) == 0)
    return 0;
  if (opts == NULL || !gk_inspect_alive (g))
    return -1;
  return guestfs_mount_vfs (g, opts, type, device, mountpoint);
}

/* Mount the OS: its root on "/", then each fstab filesystem (those that
 * `want' accepts, all when NULL) in order.  Read-only, a filesystem that
 * will not mount is a warning and is skipped; read-write, it is an error
 * and everything is unmounted again (nothing half-mounted to write
 * into).  Nothing may be mounted when called. */
int
gk_inspect_mount_os (guestfs_h *g, struct gk_ios *os, int readonly,
                     int (*want) (const char *mountpoint))
{
  const struct gk_mnt *m = &os->mnts[0];

  if (gk_inspect_mount_fs (g, m->device, m->vfstype, "/", readonly) == -1) {
    gk_error (g, "%s on /: %s", m->device, guestfs_last_error (g));
    return -1;
  }
  for (size_t i = 1; i < os->nmnts; i++) {
    m = &os->mnts[i];
    if (want && !want (m->mountpoint))
      continue;
    if (gk_inspect_mount_fs (g, m->device, m->vfstype, m->mountpoint,
                             readonly) == 0)
      continue;
    if (!gk_inspect_alive (g))
      return -1;
    if (readonly) {
      gk_inspect_warn (g, os, "could not mount %s on %s: %s", m->device,
                       m->mountpoint, guestfs_last_error (g));
      continue;
    }
    gk_error (g, "%s on %s: %s", m->device, m->mountpoint,
              guestfs_last_error (g));
    {
      char *msg = xstrdup (guestfs_last_error (g));
      guestfs_umount_all (g);
      gk_set_error_string (g, msg);
      free (msg);
    }
    return -1;
  }
  return 0;
}
