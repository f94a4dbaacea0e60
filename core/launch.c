/* core/launch.c: start the appliance and wait for guestd.
 *
 * Steps (one `goto out' unwinds whatever was set up):
 *   1. find or build the appliance (appliance.c), choose KVM/TCG (accel.c)
 *   2. make a private temp dir; the channel (and QMP) are socket pairs
 *      whose other end qemu gets as an fd (confine.c)
 *   3. fork + exec qemu with its stdout/stderr on a pipe (the console)
 *   4. wait for the GK_LAUNCH_FLAG word,
 *      draining the console and watching for qemu's death and a timeout
 *   5. READY; the launch-done callback runs
 * An automatic KVM try that fails or times out is recorded, and the
 * launch is redone with TCG.  A cached appliance removed while qemu was
 * starting is built again, once (cache.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gk.h"

#define CHANNEL_NAME "org.guestkit.channel.0"

double
gk_now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + t.tv_nsec / 1e9;
}

/* A growable argv. */
struct argv { char **v; size_t n; };

static void
push (guestfs_h *g, struct argv *a, char *s)
{
  a->v = gk_realloc (g, a->v, (a->n + 2) * sizeof (char *));
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

static void
free_argv (char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free (v[i]);
  free (v);
}

/* qemu's key=value option syntax: a comma in a value is written twice. */
char *
gk_qemu_escape (guestfs_h *g, const char *s)
{
  size_t n = 0;
  char *r, *p;

  for (const char *q = s; *q; q++)
    n += *q == ',' ? 2 : 1;
  r = p = gk_malloc (g, n + 1);
  for (const char *q = s; *q; q++) {
    *p++ = *q;
    if (*q == ',')
      *p++ = ',';
  }
  *p = '\0';
  return r;
}

/* Open file as qemu will use it and hand it over in a new fd set
 * (`-add-fd'); returns the set's id, or -1 (error set). */
int
gk_pass_file (guestfs_h *g, struct gk_confine *c, const char *file, int rw)
{
  int fd = open (file, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
  int k;

  if (fd == -1) {
    gk_perror (g, "launch: %s", file);
    return -1;
  }
  k = gk_confine_keep (g, c, fd);
  close (fd);
  if (k == -1)
    return -1;
  return k;
}

static int
push_fdset (guestfs_h *g, struct argv *a, struct gk_confine *c,
            const char *file, int rw)
{
  int k = gk_pass_file (g, c, file, rw), set = c->nfdsets++;

  if (k == -1)
    return -1;
  push (g, a, gk_strdup (g, "-add-fd"));
  push (g, a, gk_asprintf (g, "fd=%d,set=%d", k, set));
  return set;
}

/* A trusted drive's backing chain as options of its format node, each
 * file an fd set: ",backing.driver=raw,backing.file.filename=..." */
static char *
backing_opts (guestfs_h *g, struct argv *a, struct gk_confine *c,
              const struct gk_drive *d)
{
  char *opts = gk_strdup (g, ""), *prefix = gk_strdup (g, "");

  for (size_t k = 1; opts && d->chain && d->chain[k]; k++) {
    int set = push_fdset (g, a, c, d->chain[k], 0);
    char *p = gk_asprintf (g, "%sbacking.", prefix), *o;
    free (prefix);
    prefix = p;
    o = set == -1 ? NULL :
      gk_asprintf (g, "%s,%sdriver=%s,%sfile.driver=file,"
                   "%sfile.filename=/dev/fdset/%d,%sfile.locking=off",
                   opts, p, d->chain_formats[k], p, p, set, p);
    free (opts);
    opts = o;
  }
  free (prefix);
  return opts;
}

/* add_drive_ro: the image (node base%zu, read-only) under a new qcow2
 * overlay (node drive%zu) that takes the guest's writes. */
static int
push_overlay (guestfs_h *g, struct argv *a, struct gk_confine *c,
              const struct gk_drive *d, size_t i)
{
  int set = push_fdset (g, a, c, d->filename, 0), oset;
  char *ovl;

  if (set == -1 || (ovl = gk_make_overlay (g, "overlay", i, c->keep[c->nkeep - 1])) == NULL)
    return -1;
  oset = push_fdset (g, a, c, ovl, 1);
  free (ovl);
  if (oset == -1)
    return -1;
  push (g, a, gk_strdup (g, "-blockdev"));
  push (g, a, gk_asprintf (g, "driver=file,node-name=file%zu,filename=/dev/fdset/%d,"
                           "read-only=on,cache.direct=off,locking=off", i, set));
  push (g, a, gk_strdup (g, "-blockdev"));
  push (g, a, gk_asprintf (g, "driver=%s,node-name=base%zu,file=file%zu,read-only=on",
                           d->format, i, i));
  push (g, a, gk_strdup (g, "-blockdev"));
  push (g, a, gk_asprintf (g, "driver=qcow2,node-name=drive%zu,backing=base%zu,"
                           "file.driver=file,file.filename=/dev/fdset/%d,"
                           "file.locking=off", i, i, oset));
  return 0;
}

static int
push_drive (guestfs_h *g, struct argv *a, struct gk_confine *c,
            const struct gk_drive *d, size_t i)
{
  const char *ro = d->readonly ? "on" : "off";
  int set;
  char *backing;

  if (d->overlay) {
    if (push_overlay (g, a, c, d, i) == -1)
      return -1;
    goto device;
  }
  set = push_fdset (g, a, c, d->filename, !d->readonly);
  backing = set == -1 ? NULL : backing_opts (g, a, c, d);
  if (backing == NULL)
    return -1;
  push (g, a, gk_strdup (g, "-blockdev"));
  push (g, a, gk_asprintf (g, "driver=file,node-name=file%zu,"
                           "filename=/dev/fdset/%d,read-only=%s,"
                           "cache.direct=off,locking=off", i, set, ro));
  push (g, a, gk_strdup (g, "-blockdev"));
  push (g, a, gk_asprintf (g, "driver=%s,node-name=drive%zu,file=file%zu,"
                           "read-only=%s%s", d->format, i, i, ro, backing));
  free (backing);
 device:
  push (g, a, gk_strdup (g, "-device"));
  push (g, a, gk_asprintf (g, "%s,drive=drive%zu,bus=scsi0.0,channel=0,"
                           "scsi-id=0,lun=%zu",
                           d->cdrom ? "scsi-cd" : "scsi-hd", i, i));
  return 0;
}

/* -kernel FILE as an fd qemu reopens by /proc/self/fd/N. */
static int
push_by_fd (guestfs_h *g, struct argv *a, struct gk_confine *c,
            const char *opt, const char *file)
{
  int k = gk_pass_file (g, c, file, 0);

  if (k == -1)
    return -1;
  push (g, a, gk_strdup (g, opt));
  push (g, a, gk_asprintf (g, "/proc/self/fd/%d", k));
  return 0;
}

/* Each argument here was measured to shorten a TCG boot (appliance/README.md). */
/* A template's command line must not depend on per-handle settings that
 * a restored appliance gets over the channel instead (verbose). */
static char *
kernel_cmdline (guestfs_h *g, int template)
{
  int verbose = g->verbose && !template;
  char ndisks[32] = "";

  if (!template)              /* guestd waits for them, then orders them */
    snprintf (ndisks, sizeof ndisks, " guestkit.ndisks=%zu", g->ndrives);
  return gk_asprintf (g,
    "console=ttyS0 root=/dev/vda panic=-1 %s cryptomgr.notests "
    "nolapic_timer %s no_timer_check tsc=reliable noreplace-smp "
    "8250.nr_uarts=1 rcupdate.rcu_expedited=1 mitigations=off "
    "selinux=%d%s%s%s%s%s%s",
    verbose ? "" : "quiet loglevel=0",
    g->selinux ? "lsm=capability,selinux" : "lsm=capability", g->selinux,
    verbose ? " guestkit.verbose=1" : "",
    template ? " guestkit.template=1" : "",
    g->network ? " guestkit.network=1" : "",
    ndisks,
    g->append ? " " : "", g->append ? g->append : "");
}

static int
tb_size (void)
{
  const char *e = getenv ("GUESTKIT_TCG_TB_SIZE");
  int v = e ? atoi (e) : 0;

  return v >= 1 && v <= 1024 ? v : 64;
}

char **
gk_qemu_argv (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
              int chan_fd, const struct gk_boot *boot,
              struct gk_confine *c)
{
  struct argv a = { NULL, 0 };
  int kvm = strcmp (accel, "kvm") == 0, root, rset, bad = 0;
  char *rovl;

  push (g, &a, gk_strdup (g, g->qemu));
  push (g, &a, gk_strdup (g, "-sandbox"));
  push (g, &a, gk_strdup (g, "on,obsolete=deny,elevateprivileges=deny,"
                          "spawn=deny,resourcecontrol=deny"));
  push (g, &a, gk_strdup (g, "-nodefaults"));
  push (g, &a, gk_strdup (g, "-no-user-config"));
  push (g, &a, gk_strdup (g, "-display"));
  push (g, &a, gk_strdup (g, "none"));
  push (g, &a, gk_strdup (g, "-no-reboot"));
  push (g, &a, gk_strdup (g, "-machine"));
  push (g, &a, gk_strdup (g, "q35,sata=off,smbus=off,usb=off,"
                          "vmport=off,graphics=off,smm=off,i8042=off"));
  push (g, &a, gk_strdup (g, "-accel"));
  /* MiB of translated code, all of it resident once filled: bounds RSS.
   * When it fills, qemu drops it all and translates again.  64: with 32
   * a patch task's dpkg -i filled it (its packages step 1.07-1.17 s,
   * 0.79-0.87 s with 64), for 16 MiB more RSS after a 100 MiB transfer
   * (245 -> 261) and none idle; 8 makes an audit's steps 2.5 times
   * slower.  GUESTKIT_TCG_TB_SIZE (1-1024) sets it, for make bench. */
  push (g, &a, kvm ? gk_strdup (g, "kvm")
                   : gk_asprintf (g, "tcg,tb-size=%d", tb_size ()));
  push (g, &a, gk_strdup (g, "-cpu"));
  push (g, &a, gk_strdup (g, kvm ? "host" : "qemu64"));
  push (g, &a, gk_strdup (g, "-m"));
  push (g, &a, gk_asprintf (g, "%d", g->memsize));
  bad |= push_by_fd (g, &a, c, "-kernel", ap->kernel);
  bad |= push_by_fd (g, &a, c, "-initrd", ap->initrd);
  push (g, &a, gk_strdup (g, "-append"));
  push (g, &a, kernel_cmdline (g, boot->mode != GK_BOOT_COLD));
  push (g, &a, gk_strdup (g, "-device"));
  /* Restored appliances get drives by hotplug, but the guest's own event
   * handling would name them in any order: guestd scans them one by one
   * instead (guestd/resume.c). */
  push (g, &a, gk_strdup (g, boot->mode == GK_BOOT_COLD ? "virtio-scsi-pci,id=scsi0"
                          : "virtio-scsi-pci,id=scsi0,hotplug=off"));
  /* A template has no drives; a restored one gets them by hotplug. */
  for (size_t i = 0; boot->mode == GK_BOOT_COLD && i < g->ndrives; i++)
    bad |= push_drive (g, &a, c, &g->drives[i], i);
  /* supermin's init mounts the root read-write: writes go to a
   * throw-away qcow2 overlay in the temp dir, made here and passed as
   * an fd like the cached root file, which is opened read-only. */
  root = push_fdset (g, &a, c, ap->root, 0);
  rovl = root == -1 ? NULL : gk_make_overlay (g, "approot", 0, c->keep[c->nkeep - 1]);
  rset = rovl ? push_fdset (g, &a, c, rovl, 1) : -1;
  free (rovl);
  bad |= rset == -1;
  push (g, &a, gk_strdup (g, "-blockdev"));
  push (g, &a, gk_asprintf (g, "driver=raw,node-name=approot-base,read-only=on,"
                            "file.driver=file,file.filename=/dev/fdset/%d,"
                            "file.read-only=on,file.locking=off", root));
  push (g, &a, gk_strdup (g, "-blockdev"));
  push (g, &a, gk_asprintf (g, "driver=qcow2,node-name=approot,backing=approot-base,"
                            "file.driver=file,file.filename=/dev/fdset/%d,"
                            "file.locking=off", rset));
  push (g, &a, gk_strdup (g, "-device"));
  push (g, &a, gk_strdup (g, "virtio-blk-pci,drive=approot"));
  push (g, &a, gk_strdup (g, "-chardev"));
  push (g, &a, gk_asprintf (g, "socket,id=channel0,fd=%d", chan_fd));
  push (g, &a, gk_strdup (g, "-device"));
  push (g, &a, gk_strdup (g, "virtio-serial-pci"));
  push (g, &a, gk_strdup (g, "-device"));
  push (g, &a, gk_strdup (g, "virtserialport,chardev=channel0,name=" CHANNEL_NAME));
  push (g, &a, gk_strdup (g, "-device"));
  push (g, &a, gk_strdup (g, "virtio-rng-pci"));
  /* Free page reporting: the guest hands its free 2 MiB blocks back and
   * qemu discards them, so a restored appliance (whose load makes all of
   * guest RAM resident) and one after a large transfer shrink again.
   * guestd binds the driver only after a restore (guestd/init.c). */
  push (g, &a, gk_strdup (g, "-device"));
  push (g, &a, gk_strdup (g, "virtio-balloon-pci,free-page-reporting=on"));
  if (g->network) {
    /* set_network: qemu's user-mode stack (no host privileges, no
     * listening ports); guestd sets the guest side up statically
     * (guestd/net.c).  Part of the template, so restores keep it. */
    push (g, &a, gk_strdup (g, "-netdev"));
    push (g, &a, gk_strdup (g, "user,id=net0,ipv6=off"));
    push (g, &a, gk_strdup (g, "-device"));
    push (g, &a, gk_strdup (g, "virtio-net-pci,netdev=net0,romfile="));
  }
  push (g, &a, gk_strdup (g, "-serial"));
  push (g, &a, gk_strdup (g, g->direct ? "mon:stdio" : "stdio"));
  if (boot->mode != GK_BOOT_COLD) {
    push (g, &a, gk_strdup (g, "-chardev"));
    push (g, &a, gk_asprintf (g, "socket,id=qmp,fd=%d", boot->qmp_qemu_fd));
    push (g, &a, gk_strdup (g, "-mon"));
    push (g, &a, gk_strdup (g, "chardev=qmp,mode=control"));
  }
  if (boot->mode == GK_BOOT_RESTORE) {
    push (g, &a, gk_strdup (g, "-S"));          /* stay paused: drives first */
    push (g, &a, gk_strdup (g, "-incoming"));
    push (g, &a, gk_strdup (g, "fd:3"));
  }
  for (size_t i = 0; i < g->nqemu_params; i++)
    push (g, &a, gk_strdup (g, g->qemu_params[i]));
  if (bad) {
    free_argv (a.v);
    return NULL;
  }
  return a.v;
}

static int
make_tmpdir (guestfs_h *g)
{
  const char *t = getenv ("TMPDIR");
  char *tmpl = gk_asprintf (g, "%s/guestkit.XXXXXX", t && *t ? t : "/tmp");

  if (mkdtemp (tmpl) == NULL) {
    gk_perror (g, "launch: cannot make a temporary directory %s", tmpl);
    free (tmpl);
    return -1;
  }
  g->tmpdir = tmpl;
  gk_debug (g, "temp dir: %s", tmpl);
  return 0;
}

/* A connected socket pair: *ours (non-blocking) stays here, the other
 * end is handed to qemu (chardev socket,fd=N: no path on the host).
 * Returns qemu's fd number, or -1 (error set). */
static int
socket_pair (guestfs_h *g, struct gk_confine *c, int *ours)
{
  int sv[2], k;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
    gk_perror (g, "launch: socketpair");
    return -1;
  }
  k = gk_confine_keep (g, c, sv[1]);
  close (sv[1]);
  if (k == -1) {
    close (sv[0]);
    return -1;
  }
  fcntl (sv[0], F_SETFL, O_NONBLOCK);
  *ours = sv[0];
  return k;
}

/* Watchdog: kills qemu if this process dies without closing the handle. */
static pid_t
start_recovery (pid_t parent, pid_t qemu)
{
  pid_t pid = fork ();

  if (pid != 0)
    return pid;
  for (int fd = 3; fd < 1024; fd++)
    close (fd);
  for (;;) {
    if (getppid () != parent) {
      kill (qemu, SIGKILL);
      _exit (0);
    }
    if (kill (qemu, 0) == -1)
      _exit (0);
    sleep (1);
  }
}

static pid_t
spawn_qemu (guestfs_h *g, char **argv, const struct gk_confine *c,
            int state_fd, int *console_fd)
{
  int p[2];
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) == -1) {
    gk_perror (g, "launch: pipe");
    return -1;
  }
  pid = fork ();
  if (pid == -1) {
    gk_perror (g, "launch: fork");
    close (p[0]); close (p[1]);
    return -1;
  }
  if (pid == 0) {
    int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    sigset_t none;
    sigemptyset (&none);        /* qemu must not inherit the caller's mask */
    sigprocmask (SIG_SETMASK, &none, NULL);
    setpgid (0, 0);            /* keep ^C on the terminal away from qemu */
    if (!g->direct && null >= 0) dup2 (null, 0);
    if (!g->direct) dup2 (p[1], 1);
    dup2 (p[1], 2);
    if (state_fd >= 0)          /* -incoming fd:3 */
      dup2 (fcntl (state_fd, F_DUPFD_CLOEXEC, 10), 3);
    gk_confine_exec (c, argv);
  }
  close (p[1]);
  fcntl (p[0], F_SETFL, O_NONBLOCK);
  *console_fd = p[0];
  return pid;
}

/* Wait for fd to be readable, draining the console; 0 ready, -1 qemu
 * died, -2 timed out. */
int
gk_wait_readable (guestfs_h *g, int fd, double deadline)
{
  for (;;) {
    struct pollfd pf[2] = {
      { .fd = fd, .events = POLLIN },
      { .fd = g->console, .events = POLLIN },
    };
    double left = deadline - gk_now ();
    int n;

    if (left <= 0)
      return -2;
    n = poll (pf, g->console >= 0 ? 2 : 1, (int) (left * 1000) + 1);
    if (n == -1 && errno != EINTR)
      return -1;
    if (n > 0 && g->console >= 0 && (pf[1].revents & (POLLIN | POLLHUP)) &&
        gk_console_drain (g) == -1)
      return -1;                 /* console EOF: qemu has exited */
    if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
      return 0;
  }
}

double
gk_launch_timeout (void)
{
  const char *v = getenv ("GUESTKIT_LAUNCH_TIMEOUT");
  double t = v ? atof (v) : 0;
  return t > 0 ? t : 300;
}

/* Wait for guestd's launch flag on the channel. */
static int
await_flag (guestfs_h *g, double deadline)
{
  unsigned char w[4];
  int r;

  if ((r = gk_wait_readable (g, g->sock, deadline)) != 0)
    return r;
  if (gk_read_full (g, w, 4) == -1)
    return -1;
  return gk_get_u32 (w) == GK_LAUNCH_FLAG ? 0 : -3;
}

/* Start qemu as `boot' says and wait until it can be used: for a cold
 * boot or a template, until guestd's launch flag; for a restore, until
 * qemu has connected the channel and QMP (the guest is still paused).
 * Returns 0, -1 qemu died, -2 timeout, -3 bad greeting, -4 set-up failed
 * (error set). */
int
gk_launch_boot (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
                double timeout, struct gk_boot *boot)
{
  struct gk_confine conf = { .ruleset = -1, .exe = -1 };
  char **argv = NULL;
  int chan = -1, r = -4;
  double t0 = gk_now (), deadline = t0 + timeout;

  g->console_len = 0;
  boot->qmp = -1;
  if (make_tmpdir (g) == -1 ||
      gk_confine_prepare (g, &conf, ap, strcmp (accel, "kvm") == 0) == -1)
    goto out;
  if ((chan = socket_pair (g, &conf, &g->sock)) == -1 ||
      (boot->mode != GK_BOOT_COLD &&
       (boot->qmp_qemu_fd = socket_pair (g, &conf, &boot->qmp)) == -1))
    goto out;
  argv = gk_qemu_argv (g, ap, accel, chan, boot, &conf);
  if (argv == NULL)
    goto out;
  if (g->verbose) {
    fputs ("guestkit: qemu command:", stderr);
    for (size_t i = 0; argv[i]; i++)
      fprintf (stderr, " %s", argv[i]);
    fputc ('\n', stderr);
  }
  g->pid = spawn_qemu (g, argv, &conf, boot->state_fd, &g->console);
  gk_confine_free (&conf);
  if (g->pid == -1) {
    g->pid = 0;
    goto out;
  }
  gk_child_started (g);
  if (g->recovery_proc && boot->mode != GK_BOOT_TEMPLATE)
    g->recovery_pid = start_recovery (getpid (), g->pid);
  if (boot->mode != GK_BOOT_COLD &&
      (r = gk_qmp_handshake (g, boot->qmp, deadline)) != 0)
    goto out;
  if (boot->mode != GK_BOOT_RESTORE && (r = await_flag (g, deadline)) != 0)
    goto out;
  g->accel = strcmp (accel, "kvm") == 0 ? "kvm" : "tcg";
  boot->t_started = gk_now () - t0;
  gk_debug (g, "qemu up in %.3f s (%s, accelerator: %s)", boot->t_started,
            boot->mode == GK_BOOT_COLD ? "cold boot" :
            boot->mode == GK_BOOT_TEMPLATE ? "template" : "restoring",
            g->accel);
 out:
  gk_confine_free (&conf);
  free_argv (argv);
  return r;
}

static int
launch_cold (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
             double timeout)
{
  struct gk_boot boot = { .mode = GK_BOOT_COLD, .state_fd = -1, .qmp = -1 };

  return gk_launch_boot (g, ap, accel, timeout, &boot);
}

static void
report_failure (guestfs_h *g, int r, double timeout)
{
  char *why;

  if (r == -2)
    why = gk_asprintf (g, "timed out after %.0f s waiting for the appliance", timeout);
  else if (r == -3)
    why = gk_strdup (g, "the appliance sent a wrong greeting");
  else
    why = gk_strdup (g, "qemu exited before the appliance was ready");
  if (g->pid > 0) {
    kill (g->pid, SIGKILL);
    waitpid (g->pid, NULL, 0);
    g->pid = 0;
  }
  while (gk_console_drain (g) > 0)
    ;
  gk_shutdown (g);
  {
    const char *tail = gk_console_tail (g);
    gk_error (g, "launch: %s%s%s", why, *tail ? ": " : "", tail);
  }
  free (why);
}

/* The appliance's cache entry was removed while qemu was starting (by
 * hand, say): qemu could not open it.  Stop what was started; 1 if the
 * launch should build it again and retry. */
static int
appliance_vanished (guestfs_h *g)
{
  if (!gk_cache_vanished (g))
    return 0;
  if (g->pid > 0) {
    kill (g->pid, SIGKILL);
    waitpid (g->pid, NULL, 0);
    g->pid = 0;
  }
  gk_shutdown (g);
  gk_cache_notice (g, "launch: the cached appliance was removed while qemu "
                   "was starting; building it again");
  return 1;
}

/* Restore an appliance now, with no drives, for a later add_drive +
 * launch (snapshot.c).  Not possible here: a no-op the debug output
 * explains, and launch boots as usual. */
int
gk_impl_prepare_launch (guestfs_h *g)
{
  struct gk_appliance ap;
  const char *accel;
  int probe;

  if (g->prepared) {
    gk_error (g, "prepare_launch: this handle is already prepared");
    return -1;
  }
  if (g->ndrives > 0) {
    gk_error (g, "prepare_launch: %zu drive%s already added: call it before "
              "add_drive, on a handle that has none", g->ndrives,
              g->ndrives == 1 ? " is" : "s are");
    return -1;
  }
  if (gk_appliance_get (g, &ap) == -1)
    return -1;
  accel = gk_accel_choose (g, &probe);
  if (accel == NULL || probe) {
    gk_debug (g, "prepare_launch: %s; launch will boot normally",
              accel ? "KVM is not yet known to work" : "no accelerator");
    gk_appliance_free (&ap);
    gk_cache_release (g);
    g->error_pending = 0;
    return 0;
  }
  g->state = GK_LAUNCHING;
  if (gk_snapshot_prepare (g, &ap, accel) == -1)
    gk_cache_release (g);
  g->state = GK_CONFIG;
  gk_appliance_free (&ap);
  return 0;
}

int
gk_impl_launch (guestfs_h *g)
{
  struct gk_appliance ap;
  int probe, r, retried = 0;
  const char *accel;
  double timeout = gk_launch_timeout ();

  if (g->prepared) {
    g->state = GK_LAUNCHING;
    if (gk_snapshot_finish (g) == 0)
      goto ready;
  }
 again:
  if (gk_appliance_get (g, &ap) == -1)
    return -1;
  accel = gk_accel_choose (g, &probe);
  if (accel == NULL) {
    gk_appliance_free (&ap);
    gk_cache_release (g);
    return -1;
  }
  gk_debug (g, "accelerator: %s%s", accel, probe ? " (trying; TCG if it fails)" : "");
  g->state = GK_LAUNCHING;
  if (!probe && gk_snapshot_launch (g, &ap, accel) == 0) {
    gk_appliance_free (&ap);
    goto ready;
  }
  r = launch_cold (g, &ap, accel, probe ? 20 : timeout);
  if (r != 0 && r != -4 && probe) {
    gk_debug (g, "KVM did not work here; falling back to TCG");
    if (g->pid > 0) { kill (g->pid, SIGKILL); waitpid (g->pid, NULL, 0); g->pid = 0; }
    g->cache_keep++;
    gk_shutdown (g);
    g->cache_keep--;
    gk_accel_record (g, "tcg");
    g->state = GK_LAUNCHING;
    accel = "tcg";
    r = launch_cold (g, &ap, accel, timeout);
  } else if (r == 0 && probe)
    gk_accel_record (g, "kvm");
  gk_appliance_free (&ap);
  if (r == -4) {
    gk_shutdown (g);
    return -1;
  }
  if (r != 0 && !retried && appliance_vanished (g)) {
    retried = 1;
    goto again;
  }
  if (r != 0) {
    report_failure (g, r, timeout);
    return -1;
  }
 ready:
  g->state = GK_READY;
  if (g->launch_done_cb)
    g->launch_done_cb (g, g->launch_done_cb_data);
  return 0;
}
