/* core/appliance.c: find the appliance for a launch.
 *
 * Each directory of the search path (set_path, LIBGUESTFS_PATH) may hold
 *   - kernel, initrd, root: a ready appliance, used as it is; or
 *   - supermin.d + guestkit-build-appliance: a prepared appliance, built
 *     into the per-user cache the first time and whenever its inputs change.
 *
 * The cache lives in $GUESTKIT_CACHEDIR or /var/tmp/.guestkit-UID (mode
 * 0700, owned by us, else refused).  An appliance is named by a stamp of
 * its inputs (the supermin.d files, the host kernels, the package
 * database), so a change of any of them selects a new one.  Building takes
 * an exclusive flock on CACHE/lock, so concurrent launches in threads or
 * processes build once; the build script renames its result into place.
 * The handle holds the entry it uses, and a build prunes the others that
 * nobody holds by age and size: see cache.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk.h"

static int
is_file (const char *dir, const char *name)
{
  char p[4096];
  struct stat st;

  snprintf (p, sizeof p, "%s/%s", dir, name);
  return stat (p, &st) == 0 && S_ISREG (st.st_mode);
}

static int
is_dir (const char *dir, const char *name)
{
  char p[4096];
  struct stat st;

  snprintf (p, sizeof p, "%s/%s", dir, name);
  return stat (p, &st) == 0 && S_ISDIR (st.st_mode);
}

char *
gk_cache_dir (guestfs_h *g)
{
  const char *env = getenv ("GUESTKIT_CACHEDIR");
  char *dir = env && *env ? gk_strdup (g, env)
                          : gk_asprintf (g, "/var/tmp/.guestkit-%d", (int) geteuid ());
  struct stat st;

  if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
    gk_perror (g, "launch: cache directory %s", dir);
    free (dir);
    return NULL;
  }
  if (lstat (dir, &st) == -1 || !S_ISDIR (st.st_mode) ||
      st.st_uid != geteuid () || (st.st_mode & 022)) {
    gk_error (g, "launch: cache directory %s is not a private directory owned "
              "by this user; refusing to use it", dir);
    free (dir);
    return NULL;
  }
  return dir;
}

/* FNV-1a over (name, size, mtime) of a file. */
static void
stamp_add (uint64_t *h, const char *path)
{
  struct stat st;
  char buf[4200];
  int n;

  if (stat (path, &st) == -1)
    st.st_size = st.st_mtime = -1;
  n = snprintf (buf, sizeof buf, "%s:%lld:%lld:%ld;", path,
                (long long) st.st_size, (long long) st.st_mtime,
                (long) st.st_mtim.tv_nsec);
  for (int i = 0; i < n && i < (int) sizeof buf; i++) {
    *h ^= (unsigned char) buf[i];
    *h *= 1099511628211ull;
  }
}

static void
stamp_dir (uint64_t *h, const char *dir)
{
  struct dirent **names;
  int n = scandir (dir, &names, NULL, alphasort);

  for (int i = 0; i < n; i++) {
    if (names[i]->d_name[0] != '.') {
      char p[4096];
      snprintf (p, sizeof p, "%s/%s", dir, names[i]->d_name);
      stamp_add (h, p);
    }
    free (names[i]);
  }
  if (n >= 0)
    free (names);
}

static uint64_t
stamp (const char *dir)
{
  uint64_t h = 14695981039346656037ull;
  char p[4096];

  snprintf (p, sizeof p, "%s/supermin.d", dir);
  stamp_dir (&h, p);
  snprintf (p, sizeof p, "%s/guestkit-build-appliance", dir);
  stamp_add (&h, p);
  stamp_dir (&h, "/boot");
  stamp_add (&h, "/var/lib/dpkg/status");
  return h;
}

static int
run_build (guestfs_h *g, const char *dir, const char *dest)
{
  char *script = gk_asprintf (g, "%s/guestkit-build-appliance", dir);
  char *sd = gk_asprintf (g, "%s/supermin.d", dir);
  pid_t pid;
  int status = 0;

  gk_debug (g, "building the appliance: %s %s %s", script, sd, dest);
  pid = fork ();
  if (pid == 0) {
    if (!g->verbose) {
      int fd = open ("/dev/null", O_WRONLY);
      if (fd >= 0) dup2 (fd, 1);
    }
    execl (script, script, sd, dest, (char *) NULL);
    _exit (127);
  }
  if (pid > 0)
    waitpid (pid, &status, 0);
  free (sd);
  if (pid == -1 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    gk_error (g, "launch: building the appliance failed (%s exited with "
              "status %d); run with LIBGUESTFS_DEBUG=1 to see why",
              script, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    free (script);
    return -1;
  }
  free (script);
  return 0;
}

/* The appliance built from dir, from the cache (built first if missing),
 * held in use by the handle (cache.c). */
static int
from_cache (guestfs_h *g, const char *dir, struct gk_appliance *ap)
{
  char *cache = gk_cache_dir (g), *dest;
  int fd, lock;

  if (cache == NULL)
    return -1;
  dest = gk_asprintf (g, "%s/appliance-%016llx", cache,
                      (unsigned long long) stamp (dir));
  fd = gk_cache_hold (g, dest, 1);
  if (fd == -1 && (lock = gk_cache_lock (g, cache)) >= 0) {
    fd = gk_cache_hold (g, dest, 1);          /* built while we waited? */
    if (fd == -1 && run_build (g, dir, dest) == 0) {
      fd = gk_cache_hold (g, dest, 1);
      gk_cache_prune (g, cache, dest);
    }
    close (lock);
  }
  if (fd == -1 && !gk_error_pending (g))
    gk_error (g, "launch: the appliance %s was removed as soon as it was built", dest);
  if (fd >= 0) {
    g->cache_appliance_lock = fd;
    ap->kernel = gk_asprintf (g, "%s/kernel", dest);
    ap->initrd = gk_asprintf (g, "%s/initrd", dest);
    ap->root = gk_asprintf (g, "%s/root", dest);
  }
  free (dest);
  free (cache);
  return fd >= 0 ? 0 : -1;
}

int
gk_appliance_get (guestfs_h *g, struct gk_appliance *ap)
{
  char *path = gk_strdup (g, g->path), *save = NULL;
  int r = -1;

  memset (ap, 0, sizeof *ap);
  gk_cache_release (g);          /* whatever a failed launch still held */
  for (char *dir = strtok_r (path, ":", &save); dir;
       dir = strtok_r (NULL, ":", &save)) {
    if (*dir == '\0')
      dir = ".";
    if (is_file (dir, "kernel") && is_file (dir, "initrd") &&
        is_file (dir, "root")) {
      ap->kernel = gk_asprintf (g, "%s/kernel", dir);
      ap->initrd = gk_asprintf (g, "%s/initrd", dir);
      ap->root = gk_asprintf (g, "%s/root", dir);
      r = 0;
      break;
    }
    if (is_dir (dir, "supermin.d") && is_file (dir, "guestkit-build-appliance")) {
      r = from_cache (g, dir, ap);
      break;
    }
  }
  if (r == -1 && !gk_error_pending (g))
    gk_error (g, "launch: no appliance found in the search path '%s' (a "
              "directory holding kernel, initrd and root, or supermin.d); "
              "run 'make' or set LIBGUESTFS_PATH", g->path);
  free (path);
  return r;
}

void
gk_appliance_free (struct gk_appliance *ap)
{
  free (ap->kernel);
  free (ap->initrd);
  free (ap->root);
  memset (ap, 0, sizeof *ap);
}
