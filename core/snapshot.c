/* core/snapshot.c: launch a fresh appliance by restoring a saved one.
 *
 * The first launch with a given appliance, qemu, memory size, accelerator
 * and kernel command line boots a template with no drives, waits for
 * guestd, and saves the paused VM with QMP `migrate' into the cache
 * (snapshot-KEY, written under the cache lock, renamed into place).  The
 * handle holds the state file in use until its qemu exits (cache.c).
 * Every launch then starts a new qemu with `-incoming' from that file,
 * hot-adds the handle's drives on the virtio-scsi controller while the
 * guest is still paused (blockdev-add with the explicit format, then
 * scsi-hd at lun N), continues it, and sends the resume call: the clock,
 * a new random seed, the verbose flag, and the number of disks guestd must
 * see, in order, before it answers.  No restored VM ever saw another
 * handle's drives: each starts from the never-used template.
 *
 * Anything unexpected (no cache, a corrupt or foreign state file, qemu
 * refusing a command, disks out of order) makes gk_snapshot_launch return
 * -1 with the reason in the debug output; the caller then boots cold.
 * GUESTKIT_SNAPSHOT=0 disables the whole path.
 *
 * prepare_launch does the first half ahead of time (gk_snapshot_prepare):
 * qemu restored and loaded, paused, with no drives, its QMP socket kept
 * in the handle, which stays CONFIG.  The launch after add_drive only
 * hot-adds, continues and resumes (gk_snapshot_finish), unless a setting
 * the restore depends on changed since: then the VM is discarded and the
 * launch is a normal one.  close kills and reaps a VM never launched.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk.h"

#define SNAPSHOT_FORMAT 3     /* bump when what a template holds changes */

static void
hash_bytes (uint64_t *h, const void *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    *h ^= ((const unsigned char *) p)[i];
    *h *= 1099511628211ull;
  }
}

static void
hash_str (uint64_t *h, const char *s)
{
  hash_bytes (h, s ? s : "(null)", strlen (s ? s : "(null)") + 1);
}

static void
hash_file (uint64_t *h, const char *path)
{
  struct stat st;
  char buf[128];

  if (stat (path, &st) == -1)
    memset (&st, 0, sizeof st);
  snprintf (buf, sizeof buf, "%lld:%lld:%ld", (long long) st.st_size,
            (long long) st.st_mtime, (long) st.st_mtim.tv_nsec);
  hash_str (h, path);
  hash_str (h, buf);
}

/* The qemu binary: a path, or a name looked up in $PATH. */
static void
hash_qemu (guestfs_h *g, uint64_t *h, const char *qemu)
{
  char *full = gk_find_program (g, qemu);

  hash_file (h, full ? full : qemu);
  free (full);
}

/* The handle's settings a restored appliance was made with. */
static void
hash_settings (guestfs_h *g, uint64_t *h)
{
  hash_qemu (g, h, g->qemu);
  hash_bytes (h, &g->memsize, sizeof g->memsize);
  hash_bytes (h, &g->selinux, sizeof g->selinux);
  hash_bytes (h, &g->network, sizeof g->network);
  hash_str (h, g->append);
  for (size_t i = 0; i < g->nqemu_params; i++)
    hash_str (h, g->qemu_params[i]);
}

static uint64_t
settings_key (guestfs_h *g)
{
  uint64_t h = 14695981039346656037ull;

  hash_settings (g, &h);
  return h;
}

static char *
snapshot_path (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
               const char *cache)
{
  uint64_t h = 14695981039346656037ull;
  int fmt = SNAPSHOT_FORMAT;

  hash_bytes (&h, &fmt, sizeof fmt);
  hash_file (&h, ap->kernel);
  hash_file (&h, ap->initrd);
  hash_file (&h, ap->root);
  hash_str (&h, accel);
  hash_settings (g, &h);
  return gk_asprintf (g, "%s/snapshot-%016llx", cache, (unsigned long long) h);
}

static int
usable (guestfs_h *g)
{
  const char *env = getenv ("GUESTKIT_SNAPSHOT");

  if (env && strcmp (env, "0") == 0)
    return 0;
  if (g->direct || g->ndrives > 26)
    return 0;
  for (size_t i = 0; i < g->ndrives; i++)
    if (g->drives[i].cdrom)
      return 0;
  return 1;
}

/* End a VM that is not (or no longer) the handle's appliance: no
 * subprocess-quit callback, since the caller never saw it. */
static void
discard_vm (guestfs_h *g, struct gk_boot *b)
{
  if (b->qmp >= 0)
    close (b->qmp);
  b->qmp = -1;
  if (g->pid > 0) {
    kill (g->pid, SIGKILL);
    waitpid (g->pid, NULL, 0);
    g->pid = 0;
  }
  g->cache_keep++;            /* the launch goes on with the same entries */
  gk_shutdown (g);
  g->cache_keep--;
}

static int
wait_migration (guestfs_h *g, int qmp, double deadline)
{
  for (;;) {
    char *reply = NULL;
    int r = gk_qmp (g, qmp, deadline, &reply, "{\"execute\":\"query-migrate\"}");
    if (r != 0)
      return -1;
    r = strstr (reply, "\"completed\"") ? 1 :
        (strstr (reply, "\"failed\"") || strstr (reply, "\"cancelled\"")) ? -1 : 0;
    free (reply);
    if (r)
      return r == 1 ? 0 : -1;
    if (gk_now () > deadline)
      return -1;
    usleep (5000);
  }
}

/* Boot a template and save it to `path' (through a file we open and
 * hand to qemu: it may neither open files nor run programs).  Called
 * under the cache lock. */
static int
make_template (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
               const char *path)
{
  struct gk_boot b = { .mode = GK_BOOT_TEMPLATE, .state_fd = -1, .qmp = -1 };
  char *tmp = gk_asprintf (g, "%s.tmp%d", path, (int) getpid ());
  double deadline = gk_now () + gk_launch_timeout ();
  int r = -1, out;

  gk_debug (g, "snapshot: booting a template to save as %s", path);
  out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (out >= 0 && gk_launch_boot (g, ap, accel, gk_launch_timeout (), &b) == 0 &&
      gk_qmp (g, b.qmp, deadline, NULL, "{\"execute\":\"stop\"}") == 0 &&
      gk_qmp_pass (g, b.qmp, out, deadline, NULL,
                   "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"state\"}}") == 0 &&
      gk_qmp (g, b.qmp, deadline, NULL,
              "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:state\"}}") == 0 &&
      wait_migration (g, b.qmp, deadline) == 0 && fsync (out) == 0)
    r = rename (tmp, path);
  discard_vm (g, &b);
  if (out >= 0)
    close (out);
  if (r != 0)
    unlink (tmp);
  free (tmp);
  return r;
}

/* The cached state file, made first if missing, held in use (cache.c). */
static int
open_state (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
            char **path_r)
{
  char *cache = gk_cache_dir (g);
  int lock, fd;

  *path_r = NULL;
  if (cache == NULL)
    return -1;
  *path_r = snapshot_path (g, ap, accel, cache);
  fd = gk_cache_hold (g, *path_r, 0);
  if (fd == -1 && (lock = gk_cache_lock (g, cache)) >= 0) {
    fd = gk_cache_hold (g, *path_r, 0);   /* made while we waited? */
    if (fd == -1 && make_template (g, ap, accel, *path_r) == 0)
      fd = gk_cache_hold (g, *path_r, 0);
    close (lock);
  }
  free (cache);
  return fd;
}

/* A state file that did not restore: remove it, unless another handle
 * is using it (then it is theirs to judge).  Closes fd. */
static void
drop_state (const char *path, int fd)
{
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    unlink (path);
  close (fd);
}

static int
wait_loaded (guestfs_h *g, int qmp, double deadline)
{
  for (;;) {
    char *reply = NULL;
    int loading;
    if (gk_qmp (g, qmp, deadline, &reply, "{\"execute\":\"query-status\"}") != 0)
      return -1;
    loading = strstr (reply, "\"inmigrate\"") != NULL;
    free (reply);
    if (!loading)
      return 0;
    if (gk_now () > deadline)
      return -1;
    usleep (2000);
  }
}

/* Hand qemu the image file as fd set `set' (QMP add-fd). */
static int
add_fd (guestfs_h *g, int qmp, double deadline, const char *file, int rw, int set)
{
  int fd = open (file, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY), r;

  if (fd == -1) {
    gk_perror (g, "launch: %s", file);
    return -1;
  }
  r = gk_qmp_pass (g, qmp, fd, deadline, NULL,
                   "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":%d}}", set);
  close (fd);
  return r;
}

/* A trusted drive's backing chain as JSON members of its format node,
 * each file handed over as fd set *set, *set + 1, ...  NULL on error. */
static char *
backing_json (guestfs_h *g, int qmp, double deadline, const struct gk_drive *d,
              int *set)
{
  char *head = gk_strdup (g, ""), *tail = gk_strdup (g, "");

  for (size_t k = 1; head && d->chain && d->chain[k]; k++) {
    char *fmt = gk_json_string (g, d->chain_formats[k]), *h = NULL, *t;
    int s = (*set)++;
    if (add_fd (g, qmp, deadline, d->chain[k], 0, s) == 0)
      h = gk_asprintf (g, "%s,\"backing\":{\"driver\":%s,\"file\":{\"driver\":"
                       "\"file\",\"filename\":\"/dev/fdset/%d\",\"locking\":\"off\"}",
                       head, fmt, s);
    t = gk_asprintf (g, "}%s", tail);
    free (head);
    free (tail);
    free (fmt);
    head = h;
    tail = t;
  }
  if (head) {
    char *r = gk_asprintf (g, "%s%s", head, tail);
    free (head);
    head = r;
  }
  free (tail);
  return head;
}

/* add_drive_ro: the image as node base%zu (read-only) under a new
 * qcow2 overlay, node drive%zu, that takes the guest's writes. */
static int
hotplug_overlay (guestfs_h *g, int qmp, double deadline, size_t i, int *next)
{
  const struct gk_drive *d = &g->drives[i];
  int fd = open (d->filename, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  char *ovl = fd >= 0 ? gk_make_overlay (g, "overlay", i, fd) : NULL;
  char *fmt = gk_json_string (g, d->format);
  int set = (*next)++, oset = (*next)++, r = -1;

  if (fd == -1)
    gk_perror (g, "launch: %s", d->filename);
  if (ovl && gk_qmp_pass (g, qmp, fd, deadline, NULL,
                          "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":%d}}",
                          set) == 0 &&
      add_fd (g, qmp, deadline, ovl, 1, oset) == 0)
    r = gk_qmp (g, qmp, deadline, NULL,
                "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":%s,"
                "\"node-name\":\"base%zu\",\"read-only\":true,\"file\":{\"driver\":"
                "\"file\",\"filename\":\"/dev/fdset/%d\",\"read-only\":true,"
                "\"locking\":\"off\"}}}", fmt, i, set) ||
        gk_qmp (g, qmp, deadline, NULL,
                "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\","
                "\"node-name\":\"drive%zu\",\"backing\":\"base%zu\",\"file\":{"
                "\"driver\":\"file\",\"filename\":\"/dev/fdset/%d\",\"locking\":"
                "\"off\"}}}", i, i, oset);
  if (fd >= 0)
    close (fd);
  free (ovl);
  free (fmt);
  return r ? -1 : 0;
}

static int
add_device (guestfs_h *g, int qmp, double deadline, size_t i)
{
  return gk_qmp (g, qmp, deadline, NULL,
                 "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"scsi-hd\","
                 "\"id\":\"disk%zu\",\"drive\":\"drive%zu\",\"bus\":\"scsi0.0\","
                 "\"channel\":0,\"scsi-id\":0,\"lun\":%zu}}", i, i, i);
}

/* Drives go in as fds (fd sets 100, 101, ...): qemu opens no path. */
static int
hotplug (guestfs_h *g, int qmp, double deadline)
{
  int next = 100;

  for (size_t i = 0; i < g->ndrives; i++) {
    const struct gk_drive *d = &g->drives[i];
    if (d->overlay) {
      if (hotplug_overlay (g, qmp, deadline, i, &next) == -1 ||
          add_device (g, qmp, deadline, i) != 0)
        return -1;
      continue;
    }
    const char *ro = d->readonly ? "true" : "false";
    char *fmt = gk_json_string (g, d->format), *backing = NULL;
    int set = next++;
    int r = add_fd (g, qmp, deadline, d->filename, !d->readonly, set) ||
            (backing = backing_json (g, qmp, deadline, d, &next)) == NULL ||
            gk_qmp (g, qmp, deadline, NULL,
                    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"file\","
                    "\"node-name\":\"file%zu\",\"filename\":\"/dev/fdset/%d\","
                    "\"read-only\":%s,\"locking\":\"off\"}}", i, set, ro) ||
            gk_qmp (g, qmp, deadline, NULL,
                    "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":%s,"
                    "\"node-name\":\"drive%zu\",\"file\":\"file%zu\",\"read-only\":%s%s}}",
                    fmt, i, i, ro, backing) ||
            add_device (g, qmp, deadline, i);
    free (fmt);
    free (backing);
    if (r)
      return -1;
  }
  return 0;
}

/* A restore in progress: its VM, state file and timings. */
struct restore {
  struct gk_boot b;
  char *path;
  const char *why;             /* NULL, or why it failed */
  int stale;                   /* the state file did not restore */
  double t0, t1;               /* qemu spawned, state loaded */
};

/* Start qemu restoring the saved appliance and wait until it is loaded:
 * paused, no drives.  0, or -1 with r->why. */
static int
restore_paused (guestfs_h *g, const struct gk_appliance *ap, const char *accel,
                struct restore *r)
{
  r->b = (struct gk_boot) { .mode = GK_BOOT_RESTORE, .state_fd = -1, .qmp = -1 };
  r->b.state_fd = open_state (g, ap, accel, &r->path);
  if (r->b.state_fd == -1) {
    r->why = "no saved appliance could be made";
    return -1;
  }
  r->t0 = gk_now ();
  if (gk_launch_boot (g, ap, accel, 60, &r->b) != 0 ||
      wait_loaded (g, r->b.qmp, r->t0 + 60) != 0) {
    r->why = "the saved appliance did not load";
    r->stale = 1;
    return -1;
  }
  r->t1 = gk_now ();
  return 0;
}

/* The restored VM gets the handle's drives, runs, and is told to resume.
 * 0, or -1 with r->why. */
static int
finish (guestfs_h *g, struct restore *r)
{
  double deadline = gk_now () + 60, t2, t3;

  if (hotplug (g, r->b.qmp, deadline) != 0) {
    r->why = "adding the drives failed";
    return -1;
  }
  t2 = gk_now ();
  if (gk_qmp (g, r->b.qmp, deadline, NULL, "{\"execute\":\"cont\"}") != 0 ||
      gk_rpc_resume (g, (int) g->ndrives) != 0) {
    r->why = "the restored appliance did not resume";
    r->stale = 1;
    return -1;
  }
  t3 = gk_now ();
  gk_debug (g, "launch timings: qemu start %.3f s, state load %.3f s, "
            "hotplug %.3f s, resume+rescan %.3f s, total %.3f s",
            r->b.t_started, r->t1 - r->t0 - r->b.t_started, t2 - r->t1,
            t3 - t2, t3 - r->t0);
  g->cache_snapshot_lock = r->b.state_fd;    /* held until qemu exits */
  close (r->b.qmp);
  free (r->path);
  return 0;
}

/* A restore that failed: the VM ended, a stale state file dropped. */
static void
abandon (guestfs_h *g, struct restore *r, const char *then)
{
  gk_debug (g, "snapshot launch: %s%s%s; %s", r->why,
            gk_error_pending (g) ? ": " : "",
            gk_error_pending (g) ? guestfs_last_error (g) : "", then);
  g->error_pending = 0;
  discard_vm (g, &r->b);
  if (r->b.state_fd >= 0 && r->stale)
    drop_state (r->path, r->b.state_fd);  /* made again by the next launch */
  else if (r->b.state_fd >= 0)
    close (r->b.state_fd);
  free (r->path);
}

int
gk_snapshot_launch (guestfs_h *g, const struct gk_appliance *ap,
                    const char *accel)
{
  struct restore r = { .path = NULL };
  int ok;

  if (!usable (g))
    return -1;
  g->quiet_errors++;          /* a failure here is not the caller's error */
  ok = restore_paused (g, ap, accel, &r) == 0 && finish (g, &r) == 0;
  if (!ok)
    abandon (g, &r, "booting cold instead");
  g->quiet_errors--;
  g->state = ok ? g->state : GK_LAUNCHING;
  return ok ? 0 : -1;
}

int
gk_snapshot_prepare (guestfs_h *g, const struct gk_appliance *ap,
                     const char *accel)
{
  struct restore r = { .path = NULL };
  int ok;

  if (!usable (g)) {
    gk_debug (g, "prepare_launch: the snapshot path is off here; "
              "launch will boot normally");
    return -1;
  }
  g->quiet_errors++;
  ok = restore_paused (g, ap, accel, &r) == 0;
  if (ok) {
    g->prepared = 1;
    g->prep_qmp = r.b.qmp;
    g->prep_state_fd = r.b.state_fd;
    g->prep_path = r.path;
    g->prep_key = settings_key (g);
    gk_debug (g, "prepare_launch: appliance restored and paused in %.3f s "
              "(qemu %d), no drives", r.t1 - r.t0, (int) g->pid);
  } else
    abandon (g, &r, "launch will boot normally");
  g->quiet_errors--;
  return ok ? 0 : -1;
}

/* The prepared VM back into a struct restore, the handle's fields cleared. */
static void
take_prepared (guestfs_h *g, struct restore *r)
{
  r->b = (struct gk_boot) { .mode = GK_BOOT_RESTORE, .state_fd = g->prep_state_fd,
                            .qmp = g->prep_qmp };
  r->path = g->prep_path;
  r->t0 = r->t1 = gk_now ();
  g->prepared = 0;
  g->prep_qmp = g->prep_state_fd = -1;
  g->prep_path = NULL;
}

int
gk_snapshot_finish (guestfs_h *g)
{
  struct restore r = { .path = NULL };
  int changed = settings_key (g) != g->prep_key, ok;

  take_prepared (g, &r);
  g->quiet_errors++;
  if (changed || !usable (g)) {
    r.why = changed ? "settings changed since prepare_launch"
                    : "these drives need a normal launch";
    ok = 0;
  } else
    ok = finish (g, &r) == 0;
  if (!ok) {
    abandon (g, &r, "launching normally instead");
    gk_cache_release (g);     /* the next launch takes its own */
  }
  g->quiet_errors--;
  return ok ? 0 : -1;
}

void
gk_snapshot_unprepare (guestfs_h *g)
{
  struct restore r = { .path = NULL };

  if (!g->prepared)
    return;
  take_prepared (g, &r);
  discard_vm (g, &r.b);
  close (r.b.state_fd);
  free (r.path);
  gk_cache_release (g);
  g->state = GK_CONFIG;
}
