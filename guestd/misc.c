/* guestd small calls: the debug round trips, making a filesystem, and
 * identifying what a device or file holds (blkid, file(1)). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

int
do_ping_daemon (void)
{
  return 0;
}

char *
do_echo_daemon (char *const *words)
{
  size_t len = 1;
  char *r, *p;

  for (size_t i = 0; words[i]; i++)
    len += strlen (words[i]) + 1;
  if ((r = p = malloc (len)) == NULL) {
    reply_with_perror ("malloc");
    return NULL;
  }
  *p = '\0';
  for (size_t i = 0; words[i]; i++) {
    if (i > 0)
      *p++ = ' ';
    p = stpcpy (p, words[i]);
  }
  return r;
}

/* A filesystem type name: letters, digits, '_' and '.', not empty. */
int
gd_valid_fstype (const char *t)
{
  if (*t == '\0' || *t == '.')
    return 0;
  return strspn (t, "abcdefghijklmnopqrstuvwxyz0123456789_.") == strlen (t);
}

/* mkfs -t FSTYPE [never-ask flag] OPTS... DEVICE; replies on failure.
 * opts (NULL-terminated, may be NULL) go before the device. */
int
gd_mkfs (const char *fstype, const char *const *opts, const char *device)
{
  const char *argv[24];
  size_t n = 0;

  if (!gd_valid_fstype (fstype)) {
    reply_with_error ("fstype %s: not a filesystem type name", fstype);
    return -1;
  }
  argv[n++] = "mkfs";
  argv[n++] = "-t";
  argv[n++] = fstype;
  /* Never ask: whole disks and old signatures are what callers mean. */
  if (strncmp (fstype, "ext", 3) == 0)
    argv[n++] = "-F";
  else if (strcmp (fstype, "vfat") == 0 || strcmp (fstype, "msdos") == 0 ||
           strcmp (fstype, "fat") == 0)
    argv[n++] = "-I";
  else if (strcmp (fstype, "xfs") == 0 || strcmp (fstype, "btrfs") == 0)
    argv[n++] = "-f";
  for (size_t i = 0; opts && opts[i] && n < 22; i++)
    argv[n++] = opts[i];
  argv[n++] = device;
  argv[n] = NULL;
  return gd_run_or_reply (NULL, -1, argv);
}

int
do_mkfs (const char *fstype, const char *device)
{
  return gd_mkfs (fstype, NULL, device);
}

/* TYPE of libblkid's probe (probe.c: the probe `blkid -c /dev/null'
 * makes, without running it: 0.1-0.5 s saved per call under TCG, and
 * mount_ro calls this on every read-only drive). */
char *
do_vfs_type (const char *device)
{
  char **kv = do_blkid (device), *r = NULL;

  if (kv == NULL)
    return NULL;
  for (size_t i = 0; kv[i] && kv[i+1] && r == NULL; i += 2)
    if (strcmp (kv[i], "TYPE") == 0)
      r = strdup (kv[i+1]);
  if (r == NULL && (r = strdup ("")) == NULL)
    reply_with_perror ("vfs_type");
  gk_free_strings (kv);
  return r;
}

static char *
run_file (const char *target)
{
  const char *argv[] = { "file", "-bsL", "--", target, NULL };
  char *out = NULL;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return gd_trim (out);
}

/* What lstat alone can tell; NULL for a regular file. */
static const char *
special_type (mode_t m)
{
  return S_ISLNK (m) ? "symbolic link" : S_ISDIR (m) ? "directory" :
         S_ISCHR (m) ? "character special" : S_ISBLK (m) ? "block special" :
         S_ISFIFO (m) ? "fifo" : S_ISSOCK (m) ? "socket" : NULL;
}

char *
do_file (const char *path)
{
  struct stat st;
  char proc[64], *base, *r;
  int dirfd, fd, rc;

  if (strncmp (path, "/dev/", 5) == 0)
    return run_file (path);
  if ((dirfd = gd_open_parent (path, &base)) == -1) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  rc = fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW);
  close (dirfd);
  free (base);
  if (rc == -1) {
    reply_with_perror ("%s", path);
    return NULL;
  }
  if (special_type (st.st_mode))
    return strdup (special_type (st.st_mode));
  if ((fd = gd_open_regular (path, O_RDONLY)) == -1 ||
      fcntl (fd, F_SETFD, 0) == -1) {
    reply_with_perror ("%s", path);
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  gd_fd_path (proc, sizeof proc, fd);
  r = run_file (proc);
  close (fd);
  return r;
}
