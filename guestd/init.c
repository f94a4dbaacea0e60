/* guestd as PID 1: what an init system would do, reduced to what the
 * appliance needs, plus finding the channel.
 *
 * supermin's mini initrd has loaded the modules needed to reach the root
 * disk, switched root to it (read-only ext2) and exec'd us.  There is no
 * udev and no systemd: we mount the API filesystems, load the few modules
 * the initrd may not have (in modules.dep order, by finit_module), and
 * reap orphans.  PID 1 must never exit (the kernel would panic), so every
 * way out goes through gd_poweroff; qemu runs with -no-reboot.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guestd.h"

/* Modules guestd needs from the start; the initrd normally loaded them
 * all already (see appliance/guestkit-build-appliance), so this costs a
 * few access() calls.  Others load on first use: dm_mod for LVM, sr_mod
 * for CD-ROMs (gd_load_module), filesystems by the kernel's modprobe. */
int gd_template;
int gd_ndisks;

static const char *const boot_modules[] = {
  "virtio_pci", "virtio_console", "virtio_blk", "virtio_scsi", "sd_mod", NULL,
};

void
gd_poweroff (void)
{
  if (!gd_pid1)
    exit (1);
  sync ();
  reboot (RB_POWER_OFF);
  for (;;)                      /* reboot failed: never return as PID 1 */
    pause ();
}

/* Reap finished children.  Called between requests only, so that it
 * never takes the exit status a running command is waiting for. */
void
gd_reap_children (void)
{
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

static void
mount_fs (const char *type, const char *target, const char *opts)
{
  mkdir (target, 0755);
  if (gd_is_mount_root (target) == 1)
    return;
  if (mount (type, target, type, MS_NOSUID | (strcmp (type, "devtmpfs") ? MS_NODEV : 0),
             opts) == -1)
    gd_warn ("mount %s on %s: %m", type, target);
}

/* fds 0-2 on the console, if the kernel did not leave them open. */
static void
open_console (void)
{
  int fd;

  if (fcntl (2, F_GETFD) != -1)
    return;
  fd = open ("/dev/console", O_RDWR | O_NOCTTY);
  if (fd == -1)
    return;
  for (int i = 0; i < 3; i++)
    if (fd != i)
      dup2 (fd, i);
  if (fd > 2)
    close (fd);
}

static int network;             /* guestkit.network=1: set_network */

static void
read_cmdline (void)
{
  char *cmd = gd_read_small_file ("/proc/cmdline");

  if (cmd == NULL)
    return;
  for (char *w = strtok (cmd, " \t\n"); w; w = strtok (NULL, " \t\n"))
    if (strcmp (w, "guestkit.verbose=1") == 0)
      gd_verbose = 1;
    else if (strcmp (w, "guestkit.template=1") == 0)
      gd_template = 1;
    else if (strcmp (w, "guestkit.network=1") == 0)
      network = 1;
    else if (strncmp (w, "guestkit.ndisks=", 16) == 0)
      gd_ndisks = atoi (w + 16) > 0 && atoi (w + 16) < 64 ? atoi (w + 16) : 0;
  free (cmd);
}

/* Is the module of this .ko path loaded (or built in with parameters)?
 * Cheaper than letting finit_module read and check it to say EEXIST. */
static int
module_present (const char *rel)
{
  const char *base = strrchr (rel, '/');
  char path[300];
  size_t n, start;

  base = base ? base + 1 : rel;
  n = strcspn (base, ".");
  start = (size_t) snprintf (path, sizeof path, "/sys/module/");
  if (n + start >= sizeof path)
    return 0;
  for (size_t i = 0; i < n; i++)
    path[start + i] = base[i] == '-' ? '_' : base[i];
  path[start + n] = '\0';
  return access (path, F_OK) == 0;
}

/* Load one .ko file (path relative to the modules dir fd). */
static void
load_ko (int dirfd, const char *rel)
{
  int fd;

  if (module_present (rel))
    return;
  fd = openat (dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    gd_log ("module %s: %m", rel);
    return;
  }
  if (syscall (SYS_finit_module, fd, "", 0) == -1 && errno != EEXIST)
    gd_warn ("module %s: %m", rel);
  else
    gd_log ("module %s loaded", rel);
  close (fd);
}

/* Does this modules.dep key ("kernel/x/y/dm-mod.ko: deps") name `want'?
 * Module names treat '-' and '_' alike. */
static int
dep_line_is (const char *line, const char *want)
{
  const char *colon = strchr (line, ':'), *base;
  size_t n;

  if (colon == NULL)
    return 0;
  base = line;
  for (const char *p = line; p < colon; p++)
    if (*p == '/')
      base = p + 1;
  n = strlen (want);
  if ((size_t) (colon - base) != n + 3 || memcmp (base + n, ".ko", 3) != 0)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char a = base[i] == '-' ? '_' : base[i], b = want[i] == '-' ? '_' : want[i];
    if (a != b)
      return 0;
  }
  return 1;
}

/* Load a module and its dependencies: modules.dep lists them so that the
 * last one must be loaded first. */
static void
load_module (int dirfd, char *dep, const char *name)
{
  char *line, *deps[64];
  size_t n = 0;

  for (line = strtok (dep, "\n"); line; line = strtok (NULL, "\n"))
    if (dep_line_is (line, name))
      break;
  if (line == NULL) {
    gd_log ("module %s: not in modules.dep (built in?)", name);
    return;
  }
  *strchr (line, ':') = '\0';
  deps[n++] = line;
  for (char *w = strtok (line + strlen (line) + 1, " "); w && n < 64;
       w = strtok (NULL, " "))
    deps[n++] = w;
  while (n > 1)
    load_ko (dirfd, deps[--n]);
  load_ko (dirfd, deps[0]);
}

/* Load a module by name (with its dependencies) unless it is there. */
void
gd_load_module (const char *name)
{
  struct utsname u;
  char path[300], *dep;
  int dirfd;

  snprintf (path, sizeof path, "%s.ko", name);
  if (module_present (path))
    return;
  uname (&u);
  snprintf (path, sizeof path, "/lib/modules/%s", u.release);
  dirfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd == -1) {
    gd_log ("%s: %m: cannot load %s", path, name);
    return;
  }
  snprintf (path, sizeof path, "/lib/modules/%s/modules.dep", u.release);
  if ((dep = gd_read_small_file (path)) != NULL)
    load_module (dirfd, dep, name);
  else
    gd_log ("%s: %m", path);
  free (dep);
  close (dirfd);
}

/* Free page reporting (see resume.c): a cold boot binds virtio_balloon
 * now; a template loads it without binding it to its device (the
 * virtio bus's autoprobe off meanwhile), for a restored copy to bind. */
static void
balloon_driver (void)
{
  const char *probe = "/sys/bus/virtio/drivers_autoprobe";
  int fd = gd_template ? open (probe, O_WRONLY | O_CLOEXEC) : -1;

  if (gd_template && (fd == -1 || write (fd, "0", 1) != 1)) {
    gd_warn ("%s: %m: no free page reporting", probe);
    if (fd >= 0)
      close (fd);
    return;
  }
  gd_load_module ("virtio_balloon");
  if (fd >= 0 && (lseek (fd, 0, SEEK_SET) != 0 || write (fd, "1", 1) != 1))
    gd_warn ("%s: %m", probe);
  if (fd >= 0)
    close (fd);
}

void
gd_init_system (void)
{
  mount_fs ("proc", "/proc", NULL);
  mount_fs ("sysfs", "/sys", NULL);
  mount_fs ("devtmpfs", "/dev", "mode=0755");
  open_console ();
  mount_fs ("tmpfs", "/run", "mode=0755");
  mount_fs ("tmpfs", "/tmp", "mode=1777");
  read_cmdline ();
  gd_log ("starting as PID 1");
  for (size_t i = 0; boot_modules[i]; i++)
    gd_load_module (boot_modules[i]);
  if (mkdir ("/run/lock", 0755) == -1 && errno != EEXIST)
    gd_warn ("mkdir /run/lock: %m");
  if (access (gd_sysroot, F_OK) == -1) {
    /* Read-only root without the mount point: use one on a tmpfs. */
    mkdir ("/run/sysroot", 0755);
    gd_sysroot = "/run/sysroot";
  }
  if (network)
    gd_net_up ();
  gd_order_disks (gd_ndisks);
  balloon_driver ();
  if (gd_template) {
    gd_aug_warm ();             /* compiled lenses kept by every restore */
    gd_probe_warm ();           /* libblkid loaded, likewise */
  }
  /* A template is saved and restored many times, each time over a fresh
   * copy of the root disk: nothing may be written to it after this. */
  if (gd_template && mount (NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) == -1)
    gd_warn ("remount / read-only: %m");
}

/* The /dev name of the virtio-serial port named GD_CHANNEL_NAME, or -1. */
static int
open_named_port (void)
{
  DIR *d = opendir ("/sys/class/virtio-ports");
  struct dirent *e;
  int fd = -1;

  if (d == NULL)
    return -1;
  while (fd == -1 && (e = readdir (d)) != NULL) {
    char path[300], *name;
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
    name = gd_read_small_file (path);
    if (name && strcmp (gd_trim (name), GD_CHANNEL_NAME) == 0) {
      snprintf (path, sizeof path, "/dev/%s", e->d_name);
      fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY);
      if (fd == -1)
        gd_log ("%s: %m", path);
    }
    free (name);
  }
  closedir (d);
  return fd;
}

/* The port may take a moment to appear after its module loads. */
int
gd_find_channel (void)
{
  struct timespec ts = { 0, 10 * 1000 * 1000 };

  for (int tries = 0; tries < 2000; tries++) {
    int fd = open_named_port ();
    if (fd >= 0)
      return fd;
    nanosleep (&ts, NULL);
  }
  gd_fatal ("no virtio-serial port named %s", GD_CHANNEL_NAME);
}
