/* guestd mounts: guest filesystems are mounted under the sysroot, the
 * first one on the sysroot itself ("/" to the library).
 *
 * A block device whose type is known (given, or found by libblkid's safe
 * probe, probe.c) with options that are only kernel flags and
 * filesystem data is mounted by mount(2) itself: under TCG a run of
 * mount(8) costs 0.1 s or more, most of a mount.  Everything else (loop
 * files, options mount(8) keeps for itself, types with a mount.TYPE
 * helper), and any mount(2) that fails, goes to util-linux mount(8),
 * which probes, parses and retries as it always has and words the error.
 * Either way the mount point is resolved inside the guest (paths.c) and
 * handed over as /proc/self/fd/N (--no-canonicalize for mount(8)), so a
 * guest symlink can never make us mount over the appliance.  What is
 * mounted is read back from /proc/self/mountinfo, never tracked on the
 * side, so it is right even after a failed or partial operation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guestd.h"

struct mnt {
  char *source;                 /* "/dev/sda1" as the kernel shows it */
  char *target;                 /* absolute appliance path */
  dev_t dev;                    /* st_dev of the mounted filesystem */
};

/* Undo mountinfo's octal escapes (\040 for space, ...) in place. */
static char *
unescape (char *s)
{
  char *r = s, *w = s;

  while (*r) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
        r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else
      *w++ = *r++;
  }
  *w = '\0';
  return s;
}

/* Is target the sysroot or below it? */
static int
under_sysroot (const char *target)
{
  size_t n = strlen (gd_sysroot);

  return strncmp (target, gd_sysroot, n) == 0 &&
         (target[n] == '\0' || target[n] == '/');
}

/* What the library calls a mount point: the path below the sysroot. */
static const char *
guest_path (const char *target)
{
  const char *p = target + strlen (gd_sysroot);

  return *p ? p : "/";
}

/* One mountinfo line into m (strings point into line); -1 if malformed.
 * Fields: id parent maj:min root mountpoint options [optional...] - fstype
 * source superoptions. */
static int
parse_line (char *line, struct mnt *m)
{
  char *f[6], *w, *save = NULL;
  unsigned maj, min;
  int i;

  for (i = 0; i < 6; i++)
    if ((f[i] = strtok_r (i ? NULL : line, " ", &save)) == NULL)
      return -1;
  if (sscanf (f[2], "%u:%u", &maj, &min) != 2)
    return -1;
  while ((w = strtok_r (NULL, " ", &save)) != NULL && strcmp (w, "-") != 0)
    ;                                           /* optional fields */
  if (w == NULL || strtok_r (NULL, " ", &save) == NULL)      /* fstype */
    return -1;
  if ((m->source = strtok_r (NULL, " ", &save)) == NULL)
    return -1;
  m->target = unescape (f[4]);
  unescape (m->source);
  m->dev = makedev (maj, min);
  return 0;
}

/* The mounts under the sysroot, in mount order.  *text_r owns the
 * strings; caller frees both.  -1 with errno on error. */
static int
read_mounts (struct mnt **mv_r, size_t *n_r, char **text_r)
{
  char *text = gd_read_small_file ("/proc/self/mountinfo"), *save = NULL;
  struct mnt *mv = NULL, m, *nv;
  size_t n = 0;

  if (text == NULL)
    return -1;
  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
    if (parse_line (l, &m) == -1 || !under_sysroot (m.target))
      continue;
    if ((nv = realloc (mv, (n + 1) * sizeof *mv)) == NULL) {
      free (mv);
      free (text);
      return -1;
    }
    mv = nv;
    mv[n++] = m;
  }
  *mv_r = mv;
  *n_r = n;
  *text_r = text;
  return 0;
}

/* Replace "/proc/self/fd/N" in mount(8)'s message by the guest path. */
static void
reply_mount_error (char *err, const char *proc, const char *device,
                   const char *mountpoint)
{
  char *hint = strstr (err, "\n"), *p;

  if (hint && strstr (hint, "dmesg(1)"))     /* util-linux's log hint */
    *hint = '\0';
  p = strstr (err, proc);

  if (p)
    reply_with_error ("%s on %s: %.*s%s%s", device, mountpoint,
                      (int) (p - err), err, mountpoint, p + strlen (proc));
  else
    reply_with_error ("%s on %s: %s", device, mountpoint, err);
}

/* Options that are mount(2) flags; the rest of an option string is the
 * filesystem's data, except the words mount(8) keeps for itself. */
static const struct {
  const char *name;
  unsigned long set, clear;
} mount_flags[] = {
  { "ro", MS_RDONLY, 0 }, { "rw", 0, MS_RDONLY },
  { "nosuid", MS_NOSUID, 0 }, { "suid", 0, MS_NOSUID },
  { "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
  { "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
  { "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
  { "dirsync", MS_DIRSYNC, 0 },
  { "noatime", MS_NOATIME, 0 }, { "atime", 0, MS_NOATIME },
  { "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
  { "relatime", MS_RELATIME, 0 }, { "norelatime", 0, MS_RELATIME },
  { "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
  { "lazytime", MS_LAZYTIME, 0 }, { "nolazytime", 0, MS_LAZYTIME },
  { "silent", MS_SILENT, 0 }, { "loud", 0, MS_SILENT }, { "defaults", 0, 0 },
};

/* Words (or word= prefixes) that mean more than a flag or fs data to
 * mount(8): loop set-up, fstab and user options, bind and move, SELinux
 * contexts (libmount translates them), x-* comments. */
static int
userspace_option (const char *o, size_t n)
{
  static const char *const words[] = {
    "loop", "offset", "sizelimit", "encryption", "user", "nouser", "users",
    "owner", "noowner", "group", "nogroup", "auto", "noauto", "nofail",
    "_netdev", "comment", "helper", "uhelper", "remount", "bind", "rbind",
    "move", "context", "fscontext", "defcontext", "rootcontext", "verity",
  };
  size_t w = strcspn (o, "=");

  if (w > n)
    w = n;
  if (n >= 2 && (strncmp (o, "x-", 2) == 0 || strncmp (o, "X-", 2) == 0))
    return 1;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strlen (words[i]) == w && strncmp (o, words[i], w) == 0)
      return 1;
  return 0;
}

/* Split options into flags and data[size]; -1 when mount(8) must do it. */
static int
split_options (const char *options, unsigned long *flags, char *data, size_t size)
{
  size_t used = 0;

  *flags = MS_SILENT;                          /* libmount's default too */
  data[0] = '\0';
  for (const char *o = options ? options : ""; *o; o += *o == ',') {
    size_t n = strcspn (o, ","), i;
    if (n == 0)
      continue;
    if (userspace_option (o, n))
      return -1;
    for (i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++)
      if (strlen (mount_flags[i].name) == n && strncmp (o, mount_flags[i].name, n) == 0)
        break;
    if (i < sizeof mount_flags / sizeof mount_flags[0])
      *flags = (*flags | mount_flags[i].set) & ~mount_flags[i].clear;
    else if (used + n + 2 > size)
      return -1;
    else {
      used += (size_t) snprintf (data + used, size - used, "%s%.*s", used ? "," : "",
                                 (int) n, o);
    }
    o += n;
  }
  return 0;
}

/* Has util-linux a mount.TYPE helper (ntfs-3g, fuse types) for it? */
static int
has_helper (const char *type)
{
  static const char *const dirs[] = { "/sbin", "/usr/sbin", "/bin", "/usr/bin" };
  char path[PATH_MAX];

  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf (path, sizeof path, "%s/mount.%s", dirs[i], type);
    if (access (path, X_OK) == 0)
      return 1;
  }
  return strncmp (type, "fuse", 4) == 0;
}

/* mount(2) of a block device on target when the type is known and the
 * options are flags and data; 0 mounted, -1 not tried or failed (errno
 * is not reported: mount(8) then tries and words the error). */
static int
direct_mount (const char *options, const char *vfstype, const char *device,
              const char *target)
{
  char data[1024], *type;
  unsigned long flags;
  struct stat st;
  int r;

  if (split_options (options, &flags, data, sizeof data) == -1 ||
      stat (device, &st) == -1 || !S_ISBLK (st.st_mode))
    return -1;
  type = vfstype ? strdup (vfstype) : gd_probe_type (device);
  if (type == NULL || !gd_valid_fstype (type) || has_helper (type)) {
    free (type);
    return -1;
  }
  r = mount (device, target, type, flags, data[0] ? data : NULL);
  if (r == 0)
    gd_log ("mount(2) %s on %s: type %s, flags %#lx, data '%s'", device, target,
            type, flags, data);
  free (type);
  return r == 0 ? 0 : -1;
}

/* mount [-t vfstype] [-o options] SOURCE MOUNTPOINT.  The source is
 * device, or (src_fd >= 0) the file open on src_fd, which device then
 * names in messages. */
static int
mount_full (const char *options, const char *vfstype, const char *device,
            int src_fd, const char *mountpoint)
{
  char proc[64], src[64], *err = NULL;
  const char *argv[10], *target = gd_sysroot, *source = device;
  int fd = -1, r, n = 0;

  if (mountpoint[0] != '/') {
    reply_with_error ("mountpoint %s: must be an absolute path", mountpoint);
    return -1;
  }
  if (mountpoint[strspn (mountpoint, "/")] != '\0') {
    if (!gd_sysroot_mounted ()) {
      reply_with_error ("mountpoint %s: mount a filesystem on / first",
                        mountpoint);
      return -1;
    }
    fd = gd_open_in_root (mountpoint, O_PATH | O_DIRECTORY, 0);
    if (fd == -1 || fcntl (fd, F_SETFD, 0) == -1) {
      reply_with_perror ("mountpoint %s", mountpoint);
      if (fd >= 0)
        close (fd);
      return -1;
    }
    gd_fd_path (proc, sizeof proc, fd);
    target = proc;
  }
  if (src_fd >= 0) {
    gd_fd_path (src, sizeof src, src_fd);
    source = src;
  }
  if (src_fd < 0 && direct_mount (options, vfstype, device, target) == 0) {
    if (fd >= 0)
      close (fd);
    return 0;
  }
  argv[n++] = "mount";
  argv[n++] = "--no-canonicalize";
  if (vfstype) {
    argv[n++] = "-t";
    argv[n++] = vfstype;
  }
  if (options && *options) {
    argv[n++] = "-o";
    argv[n++] = options;
  }
  argv[n++] = source;
  argv[n++] = target;
  argv[n] = NULL;
  r = gd_commandv (NULL, &err, -1, argv);
  if (r != 0 && err && *gd_trim (err))
    reply_mount_error (err, target, device, mountpoint);
  else if (r != 0)
    reply_with_error ("%s on %s: mount failed", device, mountpoint);
  free (err);
  if (fd >= 0)
    close (fd);
  return r == 0 ? 0 : -1;
}

static int
mount_with (const char *options, const char *device, const char *mountpoint)
{
  return mount_full (options, NULL, device, -1, mountpoint);
}

int
do_mount (const char *device, const char *mountpoint)
{
  return mount_with (NULL, device, mountpoint);
}

/* Is the block device read-only (a drive added read-only)? */
static int
device_readonly (const char *device)
{
  int fd = open (device, O_RDONLY | O_CLOEXEC), ro = 0;

  if (fd >= 0) {
    if (ioctl (fd, BLKROGET, &ro) == -1)
      ro = 0;
    close (fd);
  }
  return ro;
}

/* On a read-only drive a journal cannot be replayed, and ext3/4 and xfs
 * refuse to mount a dirty filesystem at all (say, an image of a running
 * VM).  Skip the replay there: we see the filesystem as of its last
 * commit, which is what an audit of a read-only image can have. */
int
do_mount_ro (const char *device, const char *mountpoint)
{
  const char *options = "ro";
  char *type;

  if (device_readonly (device)) {
    if ((type = do_vfs_type (device)) == NULL)
      return -1;
    if (strcmp (type, "ext3") == 0 || strcmp (type, "ext4") == 0)
      options = "ro,noload";
    else if (strcmp (type, "xfs") == 0)
      options = "ro,norecovery";
    free (type);
  }
  return mount_with (options, device, mountpoint);
}

int
do_mount_options (const char *options, const char *device,
                  const char *mountpoint)
{
  return mount_with (options, device, mountpoint);
}

/* Does mount m match the argument: a device (by number or name) or a
 * guest mount point (by its appliance path)? */
static int
mount_matches (const struct mnt *m, const char *arg, const struct stat *st,
               const char *target)
{
  if (st)
    return (S_ISBLK (st->st_mode) && m->dev == st->st_rdev) ||
           strcmp (m->source, arg) == 0;
  return strcmp (m->target, target) == 0;
}

/* The appliance path of a guest mount point: sysroot + path, without
 * trailing slashes.  Lexical only: it is compared, never opened. */
static char *
sysroot_path (const char *path)
{
  char *s;
  size_t n;

  while (*path == '/')
    path++;
  if (gd_mkstr (&s, "%s/%s", gd_sysroot, path) == -1)
    return NULL;
  n = strlen (s);
  while (n > 1 && s[n-1] == '/')
    s[--n] = '\0';
  return s;
}

int
do_umount (const char *pathordevice)
{
  int isdev = strncmp (pathordevice, "/dev/", 5) == 0, r = -1;
  char *target = NULL, *text;
  struct stat st;
  struct mnt *mv;
  size_t n;

  if (isdev && stat (pathordevice, &st) == -1)
    st.st_mode = 0;                           /* match by name only */
  if (!isdev && (pathordevice[0] != '/' ||
                 (target = sysroot_path (pathordevice)) == NULL)) {
    reply_with_error ("%s: not a device or an absolute path", pathordevice);
    return -1;
  }
  if (read_mounts (&mv, &n, &text) == -1) {
    reply_with_perror ("/proc/self/mountinfo");
    free (target);
    return -1;
  }
  while (n-- > 0)                             /* the topmost match */
    if (mount_matches (&mv[n], pathordevice, isdev ? &st : NULL, target)) {
      if ((r = umount2 (mv[n].target, 0)) == -1)
        reply_with_perror ("%s", pathordevice);
      break;
    }
  if (n == (size_t) -1)
    reply_with_error ("%s: not mounted", pathordevice);
  free (mv);
  free (text);
  free (target);
  return r;
}

/* The tmpfs that mkmountpoint puts on the sysroot when nothing is
 * mounted there: scaffolding for other mounts, never listed. */
#define SCAFFOLD "guestkit-mountpoints"

static int
is_scaffold (const struct mnt *m)
{
  return strcmp (m->source, SCAFFOLD) == 0 && strcmp (m->target, gd_sysroot) == 0;
}

static size_t
count_scaffold (const struct mnt *mv, size_t n)
{
  size_t c = 0;

  for (size_t i = 0; i < n; i++)
    c += is_scaffold (&mv[i]);
  return c;
}

int
do_umount_all (void)
{
  char *text;
  struct mnt *mv;
  size_t n;

  if (read_mounts (&mv, &n, &text) == -1) {
    reply_with_perror ("/proc/self/mountinfo");
    return -1;
  }
  while (n-- > 0)                 /* reverse mount order: children first */
    if (umount2 (mv[n].target, 0) == -1) {
      reply_with_perror ("%s (on %s)", mv[n].source, guest_path (mv[n].target));
      break;
    }
  free (mv);
  free (text);
  return n == (size_t) -1 ? 0 : -1;
}

char **
do_mounts (void)
{
  struct gd_strlist l = { 0 };
  char *text, **r;
  struct mnt *mv;
  size_t n;

  if (read_mounts (&mv, &n, &text) == -1) {
    reply_with_perror ("/proc/self/mountinfo");
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (!is_scaffold (&mv[i]) && gd_strlist_add (&l, mv[i].source) == -1)
      break;
  r = l.n == n - count_scaffold (mv, n) ? gd_strlist_end (&l) : NULL;
  if (r == NULL) {
    reply_with_perror ("mounts");
    gd_strlist_free (&l);
  }
  free (mv);
  free (text);
  return r;
}

int
do_sync (void)
{
  sync ();
  return 0;
}

/* ---- mount extras: an explicit type, loop files, the mount map, and
 * extra mount points for guests made of several unrelated filesystems
 * (a live CD: mkmountpoint /cd /squash; mount /dev/sda /cd; mount_loop
 * /cd/squashfs.img /squash). ---- */

int
do_mount_vfs (const char *options, const char *vfstype, const char *device,
              const char *mountpoint)
{
  if (!gd_valid_fstype (vfstype)) {
    reply_with_error ("vfstype %s: not a filesystem type name", vfstype);
    return -1;
  }
  return mount_full (options, vfstype, device, -1, mountpoint);
}

/* The file is opened inside the guest and handed to mount(8) as
 * /proc/self/fd/N: mount sets up (and on umount frees) the loop device. */
int
do_mount_loop (const char *file, const char *mountpoint)
{
  int fd = gd_open_regular (file, O_RDWR), r;

  if (fd == -1 && (errno == EROFS || errno == EACCES))
    fd = gd_open_regular (file, O_RDONLY);
  if (fd == -1 || fcntl (fd, F_SETFD, 0) == -1) {
    reply_with_perror ("file %s", file);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  gd_load_module ("loop");
  r = mount_full ("loop", NULL, file, fd, mountpoint);
  close (fd);
  return r;
}

/* device, mount point, device, mount point, ... in mount order. */
char **
do_mountpoints (void)
{
  struct gd_strlist l = { 0 };
  char *text, **r = NULL;
  struct mnt *mv;
  size_t n, i;

  if (read_mounts (&mv, &n, &text) == -1) {
    reply_with_perror ("/proc/self/mountinfo");
    return NULL;
  }
  for (i = 0; i < n; i++)
    if (!is_scaffold (&mv[i]) &&
        (gd_strlist_add (&l, mv[i].source) == -1 ||
         gd_strlist_add (&l, guest_path (mv[i].target)) == -1))
      break;
  if (i == n)
    r = gd_strlist_end (&l);
  if (r == NULL) {
    reply_with_perror ("mountpoints");
    gd_strlist_free (&l);
  }
  free (mv);
  free (text);
  return r;
}

static int
check_exempt (const char *path)
{
  if (path[0] != '/' || path[strspn (path, "/")] == '\0') {
    reply_with_error ("exemptpath %s: must be an absolute path below /", path);
    return -1;
  }
  if (strlen (path) >= PATH_MAX) {
    reply_with_error ("exemptpath: longer than %d bytes", PATH_MAX);
    return -1;
  }
  return 0;
}

int
do_mkmountpoint (const char *exemptpath)
{
  char *base;
  int dirfd, r;

  if (check_exempt (exemptpath) == -1)
    return -1;
  if (!gd_sysroot_mounted () &&
      mount (SCAFFOLD, gd_sysroot, "tmpfs", MS_NOSUID | MS_NODEV,
             "mode=0755,size=1m") == -1) {
    reply_with_perror ("tmpfs on /");
    return -1;
  }
  if ((dirfd = gd_open_parent (exemptpath, &base)) == -1) {
    reply_with_perror ("exemptpath %s", exemptpath);
    return -1;
  }
  r = mkdirat (dirfd, base, 0755);
  if (r == -1)
    reply_with_perror ("exemptpath %s", exemptpath);
  close (dirfd);
  free (base);
  return r;
}

/* Once the scaffold is empty and nothing is mounted on it, it goes. */
static void
drop_scaffold (void)
{
  struct mnt *mv;
  size_t n;
  char *text;
  int fd;
  DIR *d;
  struct dirent *e;
  int empty = 1;

  if (read_mounts (&mv, &n, &text) == -1)
    return;
  if (n == 1 && is_scaffold (&mv[0]) &&
      (fd = open (gd_sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
      (d = fdopendir (fd)) != NULL) {
    while ((e = readdir (d)) != NULL)
      if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
        empty = 0;
    closedir (d);
    if (empty && umount2 (gd_sysroot, 0) == -1)
      gd_log ("umount scaffold: %m");
  }
  free (mv);
  free (text);
}

int
do_rmmountpoint (const char *exemptpath)
{
  char *base;
  int dirfd, r;

  if (check_exempt (exemptpath) == -1)
    return -1;
  if (!gd_sysroot_mounted ()) {
    reply_with_error ("exemptpath %s: no such mount point", exemptpath);
    return -1;
  }
  if ((dirfd = gd_open_parent (exemptpath, &base)) == -1) {
    reply_with_perror ("exemptpath %s", exemptpath);
    return -1;
  }
  r = unlinkat (dirfd, base, AT_REMOVEDIR);
  if (r == -1)
    reply_with_perror ("exemptpath %s", exemptpath);
  close (dirfd);
  free (base);
  if (r == 0)
    drop_scaffold ();
  return r;
}

/* The canonical appliance path of a guest directory (for tools that take
 * a root directory and resolve paths below it themselves); NULL after
 * replying.  Caller frees. */
char *
gd_real_path (const char *path, const char *argname)
{
  int fd = gd_open_in_root (path, O_PATH | O_DIRECTORY, 0);
  char proc[64], *real;

  if (fd == -1) {
    reply_with_perror ("%s %s", argname, path);
    return NULL;
  }
  gd_fd_path (proc, sizeof proc, fd);
  real = realpath (proc, NULL);
  close (fd);
  if (real == NULL || !under_sysroot (real)) {
    reply_with_error ("%s %s: cannot be resolved inside the guest", argname, path);
    free (real);
    return NULL;
  }
  return real;
}
