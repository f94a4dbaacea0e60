/* core/confine.c: what the qemu child may do on the host.
 *
 * Everything is decided in the parent (launch.c) before fork, so that the
 * child only makes async-signal-safe system calls between fork and exec:
 *
 *   - the files qemu needs are opened here and handed over as fds: the
 *     qemu binary itself (run with fexecve, so no directory has to be
 *     searchable by the qemu user), the kernel and initrd (named
 *     /proc/self/fd/N), the appliance root and every drive (`-add-fd'
 *     and /dev/fdset/N).  gk_confine_keep lists them, at numbers >= 10;
 *   - when the library runs as root, qemu runs as an unprivileged user:
 *     `guestkit' if it exists, else `nobody' (plus the group of /dev/kvm
 *     when KVM is used); the per-launch temp dir and its sockets are
 *     given to that user;
 *   - no_new_privs, and a Landlock rule set (when the kernel has it) that
 *     leaves qemu read access to the system's programs and libraries
 *     (/usr), a few devices, /proc and /sys, the appliance files, and full
 *     access to its own temp dir only; with ABI >= 4 no TCP either,
 *     or, with set_network, TCP connections to ports 80 and 443 only
 *     (the package mirrors) and read access to the host's resolv.conf
 *     (slirp forwards the guest's DNS queries to its name server);
 *   - qemu's own seccomp filter (-sandbox, added by launch.c).
 * What was applied is said in the debug output.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk.h"

extern char **environ;

/* Debian 12's kernel headers (6.1) stop at Landlock ABI 2; the kernels
 * guestkit runs on may be newer.  The ABI is stable: what later headers
 * add is defined here, and used only when the kernel reports the ABI. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define GK_LL_NET_BIND_TCP    (1ULL << 0)
#define GK_LL_NET_CONNECT_TCP (1ULL << 1)
#define GK_LL_RULE_NET_PORT   2
struct gk_ll_ruleset_attr {     /* struct landlock_ruleset_attr, ABI 4 */
  __u64 handled_access_fs;
  __u64 handled_access_net;
};
struct gk_ll_net_port_attr {    /* struct landlock_net_port_attr */
  __u64 allowed_access;
  __u64 port;
} __attribute__ ((packed));

#define RO_FILE (LANDLOCK_ACCESS_FS_READ_FILE)
#define RO_TREE (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
                 LANDLOCK_ACCESS_FS_EXECUTE)
#define RW_DEV  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE)

/* fd moved to >= 10, out of the way of the fds the child sets up (0 to
 * 3); errno kept on failure. */
static int
high_fd (int fd)
{
  int k;

  if (fd == -1 || fd >= 10)
    return fd;
  k = fcntl (fd, F_DUPFD_CLOEXEC, 10);
  close (fd);
  return k;
}

/* Every filesystem right Landlock ABI `abi' knows. */
static __u64
fs_rights (int abi)
{
  __u64 r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

  if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

/* Allow `access' beneath path (a file or a directory); a path that does
 * not exist is skipped.  Rights a file cannot have are dropped. */
static void
allow (struct gk_confine *c, const char *path, __u64 access)
{
  struct landlock_path_beneath_attr pb = { 0 };
  struct stat st;
  int fd = open (path, O_PATH | O_CLOEXEC);

  if (fd == -1)
    return;
  if (fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode))
    access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
              LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
              LANDLOCK_ACCESS_FS_IOCTL_DEV;
  pb.allowed_access = access & fs_rights (c->landlock_abi);
  pb.parent_fd = fd;
  if (syscall (SYS_landlock_add_rule, c->ruleset, LANDLOCK_RULE_PATH_BENEATH,
               &pb, 0) == -1)
    c->landlock_failed = errno;
  close (fd);
}

/* Build the Landlock rule set (not yet applied: the child does that). */
static void
make_ruleset (guestfs_h *g, struct gk_confine *c, const struct gk_appliance *ap,
              int kvm)
{
  static const char *const system_trees[] = {
    "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ld.so.cache",
    "/etc/localtime", "/proc", "/sys", NULL,
  };
  static const char *const devices[] = {
    "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", NULL,
  };
  struct gk_ll_ruleset_attr attr = { 0 };
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0,
                      LANDLOCK_CREATE_RULESET_VERSION);

  c->ruleset = -1;
  if (abi < 1)
    return;
  c->landlock_abi = (int) abi;
  attr.handled_access_fs = fs_rights (c->landlock_abi);
  if (abi >= 4)
    attr.handled_access_net = GK_LL_NET_BIND_TCP | GK_LL_NET_CONNECT_TCP;
  c->ruleset = high_fd ((int) syscall (SYS_landlock_create_ruleset, &attr,
                                       abi >= 4 ? sizeof attr
                                                : sizeof attr.handled_access_fs, 0));
  if (c->ruleset == -1) {
    c->landlock_failed = errno;
    return;
  }
  for (size_t i = 0; system_trees[i]; i++)
    allow (c, system_trees[i], RO_TREE);
  for (size_t i = 0; devices[i]; i++)
    allow (c, devices[i], RW_DEV);
  if (kvm)
    allow (c, "/dev/kvm", RW_DEV | fs_rights (c->landlock_abi));
  allow (c, ap->kernel, RO_FILE);
  allow (c, ap->initrd, RO_FILE);
  allow (c, c->qemu_path, RO_FILE | LANDLOCK_ACCESS_FS_EXECUTE);
  allow (c, g->tmpdir, fs_rights (c->landlock_abi));
  if (g->network) {
    char *real = realpath ("/etc/resolv.conf", NULL);
    allow (c, "/etc/resolv.conf", RO_FILE);
    if (real)
      allow (c, real, RO_FILE);
    free (real);
    for (int i = 0; abi >= 4 && i < 2; i++) {
      struct gk_ll_net_port_attr np = { GK_LL_NET_CONNECT_TCP, i ? 443 : 80 };
      if (syscall (SYS_landlock_add_rule, c->ruleset, GK_LL_RULE_NET_PORT, &np, 0) == -1)
        c->landlock_failed = errno;
    }
  }
}

/* The user qemu runs as when we are root: guestkit, else nobody. */
static void
pick_user (struct gk_confine *c, int kvm)
{
  static const char *const names[] = { "guestkit", "nobody", NULL };
  struct stat st;

  c->drop = 0;
  if (geteuid () != 0)
    return;
  for (size_t i = 0; names[i]; i++) {
    struct passwd pw, *r = NULL;
    char buf[1024];
    if (getpwnam_r (names[i], &pw, buf, sizeof buf, &r) == 0 && r &&
        pw.pw_uid != 0) {
      c->drop = 1;
      c->uid = pw.pw_uid;
      c->gids[0] = pw.pw_gid;
      c->ngids = 1;
      snprintf (c->user, sizeof c->user, "%s", names[i]);
      break;
    }
  }
  if (c->drop && kvm && stat ("/dev/kvm", &st) == 0)
    c->gids[c->ngids++] = st.st_gid;
}

/* The environment qemu gets: ours, with TMPDIR pointing at the temp dir
 * (snapshot=on makes its throw-away overlay there). */
static void
make_env (guestfs_h *g, struct gk_confine *c)
{
  size_t n = 0, k = 0;

  while (environ[n])
    n++;
  c->envp = gk_calloc (g, n + 2, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    if (strncmp (environ[i], "TMPDIR=", 7) != 0)
      c->envp[k++] = gk_strdup (g, environ[i]);
  c->envp[k++] = gk_asprintf (g, "TMPDIR=%s", g->tmpdir);
  c->envp[k] = NULL;
}

static void
say_applied (guestfs_h *g, const struct gk_confine *c)
{
  char ll[256];

  if (c->landlock_abi < 1)
    snprintf (ll, sizeof ll, "not supported by this kernel");
  else if (c->ruleset == -1 || c->landlock_failed)
    snprintf (ll, sizeof ll, "not applied: %s", strerror (c->landlock_failed));
  else
    snprintf (ll, sizeof ll, "ABI %d, read /usr /proc /sys and the appliance "
              "kernel and initrd, write only its temp dir and /dev/null%s",
              c->landlock_abi, c->landlock_abi < 4 ? ""
              : g->network ? ", TCP connect to ports 80 and 443 only (network on)"
              : ", no TCP");
  gk_debug (g, "confine: qemu runs as %s%s; no_new_privs; landlock: %s; "
            "drives passed as fds; seccomp: -sandbox on (obsolete, "
            "elevateprivileges, spawn, resourcecontrol denied)",
            c->drop ? "user " : "", c->drop ? c->user : "the caller (not root)",
            ll);
}

/* A program name as execvp would find it (caller frees), or NULL. */
char *
gk_find_program (guestfs_h *g, const char *name)
{
  const char *path = getenv ("PATH");
  char *dirs, *save = NULL, *found = NULL;

  if (strchr (name, '/'))
    return access (name, X_OK) == 0 ? gk_strdup (g, name) : NULL;
  dirs = gk_strdup (g, path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (char *d = strtok_r (dirs, ":", &save); d && !found;
       d = strtok_r (NULL, ":", &save)) {
    char *full = gk_asprintf (g, "%s/%s", d, name);
    if (access (full, X_OK) == 0)
      found = full;
    else
      free (full);
  }
  free (dirs);
  return found;
}

int
gk_confine_prepare (guestfs_h *g, struct gk_confine *c,
                    const struct gk_appliance *ap, int kvm)
{
  memset (c, 0, sizeof *c);
  c->ruleset = c->exe = -1;
  c->qemu_path = gk_find_program (g, g->qemu);
  if (c->qemu_path == NULL) {
    gk_error (g, "launch: cannot run %s: not found", g->qemu);
    return -1;
  }
  c->exe = high_fd (open (c->qemu_path, O_RDONLY | O_CLOEXEC));
  if (c->exe == -1) {
    gk_perror (g, "launch: cannot run %s", c->qemu_path);
    gk_confine_free (c);
    return -1;
  }
  pick_user (c, kvm);
  if (c->drop && (chown (g->tmpdir, c->uid, c->gids[0]) == -1)) {
    gk_perror (g, "launch: chown %s", g->tmpdir);
    gk_confine_free (c);
    return -1;
  }
  make_ruleset (g, c, ap, kvm);
  make_env (g, c);
  say_applied (g, c);
  return 0;
}

/* Hand fd (still ours) to qemu: returns the number qemu will see it as
 * (a copy at >= 10, closed by gk_confine_free), or -1. */
int
gk_confine_keep (guestfs_h *g, struct gk_confine *c, int fd)
{
  int k = fcntl (fd, F_DUPFD_CLOEXEC, 10);

  if (k == -1) {
    gk_perror (g, "launch: dup");
    return -1;
  }
  if (c->nkeep == sizeof c->keep / sizeof c->keep[0]) {
    close (k);
    gk_error (g, "launch: too many files for qemu");
    return -1;
  }
  c->keep[c->nkeep++] = k;
  return k;
}

/* In the child, between fork and exec: only system calls.  Does not
 * return: execs qemu or exits 126/127 with a message on fd 2. */
void
gk_confine_exec (const struct gk_confine *c, char **argv)
{
  const char *what = "exec";

  for (size_t i = 0; i < c->nkeep; i++)
    fcntl (c->keep[i], F_SETFD, 0);
  if (c->drop &&
      (setgroups (c->ngids, c->gids) == -1 || setgid (c->gids[0]) == -1 ||
       setuid (c->uid) == -1)) {
    what = "drop privileges";
    goto fail;
  }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
    what = "no_new_privs";
    goto fail;
  }
  if (c->ruleset >= 0 && !c->landlock_failed &&
      syscall (SYS_landlock_restrict_self, c->ruleset, 0) == -1) {
    what = "landlock";
    goto fail;
  }
  /* The fd stays open across exec, so that a #! script can be run. */
  fcntl (c->exe, F_SETFD, 0);
  fexecve (c->exe, argv, c->envp);
 fail:
  dprintf (2, "guestkit: cannot run %s: %s: %s\n", argv[0], what, strerror (errno));
  _exit (127);
}

void
gk_confine_free (struct gk_confine *c)
{
  if (c->ruleset >= 0)
    close (c->ruleset);
  if (c->exe >= 0)
    close (c->exe);
  for (size_t i = 0; i < c->nkeep; i++)
    close (c->keep[i]);
  for (size_t i = 0; c->envp && c->envp[i]; i++)
    free (c->envp[i]);
  free (c->envp);
  free (c->qemu_path);
  memset (c, 0, sizeof *c);
  c->ruleset = c->exe = -1;
}
