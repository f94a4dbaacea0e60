/* core/inspect-fs.c: the filesystem side of inspection.
 *
 *  - finding the filesystems on the drives: whole disks without a
 *    partition table, partitions and LVM logical volumes (lvm runs only
 *    when a physical volume was seen), with the type blkid sees and,
 *    only when an fstab needs them, the label and UUID (tune2fs -l for
 *    ext2/3/4; the `file` call's summary for swap, btrfs and vfat;
 *    nothing for the rest: no call of the contract reads them);
 *  - bounded reads of guest files (pread in chunks, never more than a cap);
 *  - an OS's fstab: each entry's device resolved to a filesystem found
 *    above (guest names /dev/vda1, /dev/xvda1, /dev/hda1, /dev/nvme0n1p1,
 *    /dev/mapper/VG-LV, LABEL=, UUID=, /dev/disk/by-label|by-uuid/);
 *  - mounting an OS in order: "/", then by depth of the mount point.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"

#define MAX_FILESYSTEMS 256        /* candidates looked at */
#define READ_CHUNK (2 * 1024 * 1024)

static char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (p == NULL)
    abort ();
  return p;
}

static void
free_list (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

/* ---- Finding filesystems ---- */

/* `file` summary: the value after `key' up to one of `stops'. */
static char *
file_field (const char *out, const char *key, const char *stops)
{
  const char *p = strstr (out, key);
  size_t n;

  if (p == NULL)
    return NULL;
  p += strlen (key);
  n = strcspn (p, stops);
  return n ? strndup (p, n) : NULL;
}

static void
label_uuid_from_file (guestfs_h *g, struct gk_ifs *fs)
{
  char *out = guestfs_file (g, fs->device), *l = NULL, *u = NULL, *s;

  if (out == NULL)
    return;
  if (strcmp (fs->type, "swap") == 0) {
    l = file_field (out, "LABEL=", ",");
    u = file_field (out, "UUID=", ", ");
  } else if (strcmp (fs->type, "btrfs") == 0) {
    l = file_field (out, "label \"", "\"");
    u = file_field (out, "UUID=", ", ");
  } else if (strcmp (fs->type, "vfat") == 0) {
    l = file_field (out, "label: \"", "\"");
    if ((s = file_field (out, "serial number 0x", ", ")) && strlen (s) == 8 &&
        strspn (s, "0123456789abcdefABCDEF") == 8 &&
        asprintf (&u, "%.4s-%.4s", s, s + 4) != -1)
      for (char *p = u; *p; p++)
        *p = (*p >= 'a' && *p <= 'f') ? *p - 'a' + 'A' : *p;
    free (s);
  }
  if (l)
    gk_inspect_set (&fs->label, l, 256);
  if (u)
    gk_inspect_set (&fs->uuid, u, 64);
  free (l);
  free (u);
  free (out);
}

/* The label and UUID of one filesystem, looked up the first time an
 * fstab names a filesystem by LABEL= or UUID= (each costs a program run
 * in the appliance): tune2fs -l for ext2/3/4, the `file` summary for
 * swap, btrfs and vfat; "" for the rest. */
static void
load_ids (guestfs_h *g, struct gk_ifs *fs)
{
  char **kv;

  if (fs->label)
    return;
  fs->label = xstrdup ("");
  fs->uuid = xstrdup ("");
  if (strncmp (fs->type, "ext", 3) == 0 &&
      (kv = guestfs_tune2fs_l (g, fs->device)) != NULL) {
    for (size_t i = 0; kv[i] && kv[i+1]; i += 2) {
      if (strcmp (kv[i], "Filesystem volume name") == 0 &&
          strcmp (kv[i+1], "<none>") != 0)
        gk_inspect_set (&fs->label, kv[i+1], 256);
      else if (strcmp (kv[i], "Filesystem UUID") == 0)
        gk_inspect_set (&fs->uuid, kv[i+1], 64);
    }
    free_list (kv);
  } else if (strcmp (fs->type, "swap") == 0 || strcmp (fs->type, "btrfs") == 0 ||
             strcmp (fs->type, "vfat") == 0)
    label_uuid_from_file (g, fs);
}

/* Look at one candidate device; 0 also when it holds no filesystem. */
static int
add_candidate (guestfs_h *g, struct gk_inspect *in, const char *device)
{
  char *type;
  struct gk_ifs *fs;

  if (in->nfs >= MAX_FILESYSTEMS)
    return 0;
  if ((type = guestfs_vfs_type (g, device)) == NULL)
    return gk_inspect_alive (g) ? 0 : -1;
  if (*type == '\0') {
    free (type);
    return 0;
  }
  in->fs = realloc (in->fs, (in->nfs + 1) * sizeof *in->fs);
  if (in->fs == NULL)
    abort ();
  fs = &in->fs[in->nfs++];
  fs->device = xstrdup (device);
  fs->type = gk_inspect_clean (type, 64);
  fs->label = fs->uuid = NULL;
  free (type);
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
    if ((buf = realloc (buf, got + n + 1)) == NULL)
      abort ();
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

/* Copy a guest file into fd, refusing one larger than cap.  0 on
 * success, -1 with a warning on os (or silently when it is missing). */
int
gk_inspect_read_to_fd (guestfs_h *g, struct gk_ios *os, const char *path,
                       int64_t cap, int fd)
{
  int64_t got = 0;
  size_t n, want;
  char *c;

  for (;;) {
    want = cap + 1 - got < READ_CHUNK ? (size_t) (cap + 1 - got) : READ_CHUNK;
    if ((c = guestfs_pread (g, path, (int) want, got, &n)) == NULL) {
      if (gk_inspect_alive (g) && !(got == 0 && missing (guestfs_last_error (g))))
        gk_inspect_warn (g, os, "could not read %s: %s", path,
                         guestfs_last_error (g));
      return -1;
    }
    if (n > want)
      n = want;
    if (got + (int64_t) n > cap) {
      free (c);
      gk_inspect_warn (g, os, "%s is larger than %lld bytes: not read", path,
                       (long long) cap);
      return -1;
    }
    if (n > 0 && write (fd, c, n) != (ssize_t) n) {
      gk_inspect_warn (g, os, "%s: writing a temporary copy: %s", path,
                       strerror (errno));
      free (c);
      return -1;
    }
    free (c);
    got += (int64_t) n;
    if (n < want)
      return 0;
  }
}

/* A new empty temporary file on the host (in the handle's temp dir);
 * returns its fd, *path_r malloc'd; -1 on failure. */
int
gk_inspect_tmpfile (guestfs_h *g, char **path_r)
{
  const char *dir = g->tmpdir ? g->tmpdir : getenv ("TMPDIR");
  int fd;

  if (asprintf (path_r, "%s/inspect-XXXXXX", dir && *dir ? dir : "/tmp") == -1)
    abort ();
  fd = mkostemp (*path_r, O_CLOEXEC);
  if (fd == -1) {
    free (*path_r);
    *path_r = NULL;
  }
  return fd;
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
      if (asprintf (&r, "/dev/sd%c%s", 'a' + ctl, p + n + 1) == -1) abort ();
      return r;
    }
    if (p[n] == '\0') {
      if (asprintf (&r, "/dev/sd%c", 'a' + ctl) == -1) abort ();
      return r;
    }
    return NULL;
  } else
    return NULL;
  if (*p < 'a' || *p > 'z')
    return NULL;
  if (asprintf (&r, "/dev/sd%s", p) == -1)
    abort ();
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
      load_ids (g, &in->fs[i]);
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
  r = o = calloc (1, strlen (mp) + 2);
  copy = xstrdup (mp);
  if (r == NULL)
    abort ();
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

  os->mnts = realloc (os->mnts, (os->nmnts + 1) * sizeof *os->mnts);
  if (os->mnts == NULL)
    abort ();
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

/* Mount read-only; if the filesystem wants its journal replayed and
 * that cannot happen (a read-only drive), mount without replaying it. */
int
gk_inspect_mount_fs (guestfs_h *g, const char *device, const char *type,
                     const char *mountpoint, int readonly)
{
  const char *opts = NULL;

  if (!readonly)
    return guestfs_mount (g, device, mountpoint);
  if (guestfs_mount_ro (g, device, mountpoint) == 0)
    return 0;
  if (strcmp (type, "ext3") == 0 || strcmp (type, "ext4") == 0)
    opts = "ro,noload";
  else if (strcmp (type, "xfs") == 0)
    opts = "ro,norecovery";
  if (opts == NULL || !gk_inspect_alive (g))
    return -1;
  return guestfs_mount_options (g, opts, device, mountpoint);
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
