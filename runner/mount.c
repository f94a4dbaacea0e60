/* runner/mount.c: `guestkit mount', a guest filesystem on a host directory
 * through FUSE (libfuse3).  The host kernel sees only FUSE requests; the
 * filesystem itself is read by guestd in the appliance, whatever the
 * image holds.
 *
 *   guestkit mount -a IMG [--format F] (-i | -m DEV[:MNT]...) [--ro | --rw]
 *                  [-o OPTS] [-s] [-v] MOUNTPOINT
 *
 * One handle and so one appliance per mount, in the foreground until
 * fusermount3 -u MOUNTPOINT, Ctrl-C or SIGTERM; then, with --rw, the
 * guest filesystems are synced and unmounted before the appliance stops.
 * Read-only unless --rw: the drives are added read-only, mounted ro, and
 * the FUSE mount is ro.  Always nodev and nosuid; allow_other only when
 * -o asks for it.  The operations are in mount-ops.c, the caches in
 * mount-cache.c.
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

struct mount_opts {
  struct rn_drive_opts d;        /* -a, --format, --ro/--rw, -i, -m */
  struct rn_buf fuse_opts;       /* -o, joined by commas */
  int single, verbose, direct_io;
  const char *mountpoint;
};

static void
usage (FILE *f)
{
  fprintf (f,
"usage: guestkit mount -a IMG [--format F] (-i | -m DEV[:MNT]...) [--rw]\n"
"                      [-o OPTS] [-s] [-v] MOUNTPOINT\n"
"\n"
"Serve a guest filesystem on MOUNTPOINT through FUSE, in the foreground.\n"
"The appliance reads the filesystem; the host kernel never parses it.\n"
"Unmount with fusermount3 -u MOUNTPOINT or Ctrl-C.\n"
"\n"
"  -a, --add IMG        a disk image (more than one: in order)\n"
"  --format F           the format of the -a after it (default raw; never\n"
"                       probed)\n"
"  -i, --inspector      find the operating system and mount its filesystems\n"
"  -m, --mount DEV[:MNT]  mount DEV on MNT (default /) in the guest tree\n"
"  --ro                 read-only (the default): writes fail with EROFS\n"
"  --rw                 allow changes; they are written to the images\n"
"  -o OPTS              FUSE mount options (allow_other only if given here;\n"
"                       nodev and nosuid are always set; direct_io: no page\n"
"                       cache, every read goes to the appliance)\n"
"  -s                   serve one request at a time (one FUSE thread)\n"
"  -v, --verbose        each request on stderr\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 unmounted cleanly, 1 the appliance or the mount failed,\n"
"2 invalid options.\n");
}

/* -o OPTS: refuse what would undo nodev/nosuid; direct_io (no page
 * cache: every read reaches the appliance) is ours, the rest libfuse's. */
static int
add_fuse_opts (struct mount_opts *o, const char *s)
{
  char *copy = rn_strdup (s), *save = NULL;

  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
    if (strcmp (t, "dev") == 0 || strcmp (t, "suid") == 0) {
      fprintf (stderr, "%s: mount: -o %s: not allowed (guest devices and setuid "
               "bits never take effect on the host)\n", rn_progname, t);
      free (copy);
      return -1;
    }
    if (strcmp (t, "direct_io") == 0) {
      o->direct_io = 1;
      continue;
    }
    if (o->fuse_opts.len)
      rn_buf_addc (&o->fuse_opts, ',');
    rn_buf_adds (&o->fuse_opts, t);
  }
  free (copy);
  return 0;
}

/* One of mount's own options; 0 or -1. */
static int
take_mount_opt (void *opaque, int c, const char *arg)
{
  struct mount_opts *o = opaque;

  switch (c) {
  case 'o': return add_fuse_opts (o, arg);
  case 's': o->single = 1; break;
  case 'v': o->verbose = 1; break;
  }
  return 0;
}

/* 0, -1 (exit 2) or -2 (--help). */
static int
parse_args (int argc, char **argv, struct mount_opts *o)
{
  static const struct option opts[] = {
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const struct rn_cmd_opts cmd = { "mount", "+o:sv", opts, RN_DO_RW | RN_DO_MOUNT,
                                   take_mount_opt, o };
  struct stat st;
  int first;

  o->d.ro = 1;
  if ((first = rn_drive_opts_parse (argc, argv, &cmd, &o->d)) < 0)
    return first;
  if (o->d.drives.paths.n == 0 || (o->d.inspect == 0) == (o->d.mounts.n == 0) ||
      first != argc - 1) {
    fprintf (stderr, "%s: mount: give -a IMG, one of -i or -m DEV[:MNT], and one "
             "MOUNTPOINT (guestkit mount --help)\n", rn_progname);
    return -1;
  }
  o->mountpoint = argv[first];
  if (stat (o->mountpoint, &st) == -1 || !S_ISDIR (st.st_mode)) {
    fprintf (stderr, "%s: mount: %s: %s\n", rn_progname, o->mountpoint,
             strerror (S_ISDIR (st.st_mode) || errno != 0 ? errno : ENOTDIR));
    return -1;
  }
  return 0;
}

/* -i, with a message of our own when the OS count is wrong. */
static int
mount_inspected (guestfs_h *g, int rw)
{
  char *why;
  int r = rn_mount_inspected (g, !rw, &why);

  if (why)
    fprintf (stderr, "%s: mount: %s\n", rn_progname, why);
  free (why);
  return r;
}

static guestfs_h *
start_appliance (struct mount_opts *o)
{
  guestfs_h *g = guestfs_create ();

  if (g == NULL) {
    fprintf (stderr, "%s: mount: cannot create a handle\n", rn_progname);
    return NULL;
  }
  if (rn_drives_attach (g, &o->d.drives, o->d.ro) == -1 ||
      guestfs_launch (g) == -1 ||
      (o->d.inspect ? mount_inspected (g, !o->d.ro)
                    : rn_mount_specs (g, &o->d.mounts, o->d.ro)) == -1) {
    guestfs_close (g);
    return NULL;
  }
  return g;
}

/* The handle's errors: noted for mount-ops.c, shown only with -v (each
 * becomes the errno of a FUSE request). */
static void
on_error (guestfs_h *g, void *opaque, const char *msg)
{
  struct rn_mnt *m = opaque;

  m->failed = 1;
  if (m->verbose)
    fprintf (stderr, "mount: appliance: %s\n", msg);
}

/* qemu's end, noticed when it happens.  Without this the mount learns
 * of it only from a failing call, and a reader whose file is all in the
 * kernel's page cache (read-only mounts keep it) makes none: it would
 * go on reading old bytes, opening and reading again, for ever.  Once
 * qemu has exited, every request fails with EIO, opens included. */
struct watch {
  struct rn_mnt *m;
  int pidfd;                     /* qemu's, readable once it exits */
  int stop[2];                   /* the watcher's wake-up: unmounted */
  pthread_t thread;
};

static void *
watch_qemu (void *arg)
{
  struct watch *w = arg;
  struct pollfd p[2] = { { w->pidfd, POLLIN, 0 }, { w->stop[0], POLLIN, 0 } };

  while (poll (p, 2, -1) == -1 && errno == EINTR)
    ;
  if (p[0].revents && !p[1].revents) {
    pthread_mutex_lock (&w->m->lock);
    rn_mnt_gone (w->m, "qemu exited");
    pthread_mutex_unlock (&w->m->lock);
  }
  return NULL;
}

/* Start watching qemu; 0, or -1 (then nothing is started: the mount
 * still notices qemu's end at its next call). */
static int
watch_start (struct watch *w, struct rn_mnt *m)
{
  int pid = guestfs_get_pid (m->g);

  w->m = m;
  w->pidfd = pid > 0 ? (int) syscall (SYS_pidfd_open, pid, 0) : -1;
  if (w->pidfd == -1 || pipe2 (w->stop, O_CLOEXEC) == -1) {
    if (w->pidfd >= 0)
      close (w->pidfd);
    fprintf (stderr, "%s: mount: warning: cannot watch qemu (pid %d): %s\n",
             rn_progname, pid, strerror (errno));
    return -1;
  }
  if (pthread_create (&w->thread, NULL, watch_qemu, w) != 0) {
    close (w->pidfd);
    close (w->stop[0]);
    close (w->stop[1]);
    return -1;
  }
  return 0;
}

static void
watch_stop (struct watch *w)
{
  if (write (w->stop[1], "", 1) != 1)
    fprintf (stderr, "%s: mount: stopping the qemu watcher: %s\n", rn_progname,
             strerror (errno));
  pthread_join (w->thread, NULL);
  close (w->pidfd);
  close (w->stop[0]);
  close (w->stop[1]);
}

/* Mount, serve until unmounted or signalled, unmount; 0 or -1. */
static int
serve (struct rn_mnt *m, struct mount_opts *o)
{
  char *opts = rn_asprintf ("fsname=guestkit,subtype=guestkit%s%s,nodev,nosuid%s",
                            o->fuse_opts.len ? "," : "",
                            o->fuse_opts.len ? o->fuse_opts.s : "", m->rw ? "" : ",ro");
  char *fargv[] = { (char *) "guestkit-mount", (char *) "-o", opts, NULL };
  struct fuse_args args = FUSE_ARGS_INIT (3, fargv);
  struct fuse *f = fuse_new (&args, rn_mnt_operations (), sizeof (struct fuse_operations), m);
  int r = -1;

  if (f == NULL)
    goto out;
  if (fuse_mount (f, o->mountpoint) == -1)
    goto destroy;
  if (fuse_set_signal_handlers (fuse_get_session (f)) == 0) {
    if (o->verbose)
      fprintf (stderr, "mount: %s on %s (%s), appliance pid %d\n", o->d.drives.paths.v[0],
               o->mountpoint, m->rw ? "read-write" : "read-only", guestfs_get_pid (m->g));
    r = o->single ? fuse_loop (f) : fuse_loop_mt (f, 0);
    fuse_remove_signal_handlers (fuse_get_session (f));
  }
  fuse_unmount (f);
 destroy:
  fuse_destroy (f);
 out:
  fuse_opt_free_args (&args);
  free (opts);
  return r >= 0 ? 0 : -1;        /* > 0: ended by that signal, cleanly */
}

/* After the mount: with --rw, everything to the disks before qemu stops. */
static int
finish (struct rn_mnt *m)
{
  int r = m->dead ? -1 : 0;

  if (!m->dead && m->rw &&
      (guestfs_sync (m->g) == -1 || guestfs_umount_all (m->g) == -1 ||
       guestfs_sync (m->g) == -1)) {
    fprintf (stderr, "%s: mount: flushing the changes: %s\n", rn_progname,
             guestfs_last_error (m->g));
    r = -1;
  }
  guestfs_close (m->g);
  rn_mc_clear (m);
  pthread_mutex_destroy (&m->lock);
  return r;
}

int
rn_cmd_mount (int argc, char **argv)
{
  struct mount_opts o = { 0 };
  struct rn_mnt m = { 0 };
  struct watch w;
  int r = parse_args (argc, argv, &o), status = RN_EXIT_FAILED, watching;

  if (r != 0) {
    if (r == -2)
      usage (stdout);
    status = r == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
    goto out;
  }
  if ((m.g = start_appliance (&o)) == NULL)
    goto out;
  m.rw = !o.d.ro;
  m.verbose = o.verbose;
  m.direct_io = o.direct_io;
  pthread_mutex_init (&m.lock, NULL);
  guestfs_set_error_handler (m.g, on_error, &m);
  watching = watch_start (&w, &m) == 0;
  r = serve (&m, &o);
  if (watching)
    watch_stop (&w);               /* before close stops qemu */
  if (finish (&m) == 0 && r == 0)
    status = RN_EXIT_OK;
 out:
  rn_drive_opts_free (&o.d);
  rn_buf_free (&o.fuse_opts);
  return status;
}
