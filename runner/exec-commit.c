/* runner/exec-commit.c: all-or-nothing writes.
 *
 * A task that writes an image (readonly: false, atomic: true, the
 * default) never writes the image while its steps run:
 *
 *   disk_create OVERLAY qcow2 backingfile=IMAGE backingformat=FMT
 *                                   (beside the image; no qemu-img)
 *   add_drive_opts OVERLAY format=qcow2 trust_backing=1 (the image is only
 *                                    read, as the overlay's backing file)
 *   steps; umount_all; sync; close
 *   fsync OVERLAY and its directory
 *   task recorded 'committing' (with its steps, facts, changes)
 *   qemu-img commit OVERLAY       (writes the changed clusters into IMAGE)
 *   'commit' step recorded, task 'ok'; OVERLAY removed
 *
 * On any failure before the commit the overlay is removed and the image
 * is byte-identical.  A runner killed before 'committing' is recorded
 * leaves the image untouched (the task is rerun by --resume); killed
 * after, --resume commits the same overlay again — writing the same
 * clusters twice is harmless — and records the commit once.  The overlay
 * name is fixed by the run and task, so --resume finds it.
 *
 * Only raw and qcow2 images are committed into (job.c refuses the
 * others).  The image itself must not name other files: it is checked
 * the way the library checks any image, before the overlay trusts it.
 *
 * Fault injection for tests: GUESTKIT_RUNNER_FAULT=kill-before-commit
 * (SIGKILL just before 'committing' is recorded) or kill-in-commit
 * (SIGKILL, with qemu-img, once qemu-img commit has started).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

extern char **environ;

int rn_dry_run;

int
rn_task_atomic (const struct rn_task *t)
{
  return t->job->kind == RN_JOB_IMAGES && !t->image->readonly &&
         (t->job->atomic || rn_dry_run);
}

char *
rn_overlay_path (const struct rn_task *t)
{
  char *dir = rn_dirname (t->image_path);
  char *p = rn_asprintf ("%s/.%s.guestkit-run%lld-task%d.qcow2", dir,
                         rn_basename (t->image_path), (long long) t->run_id, t->seq);
  free (dir);
  return p;
}

static int
fault (const char *what)
{
  const char *f = getenv ("GUESTKIT_RUNNER_FAULT");
  return f && strcmp (f, what) == 0;
}

/* The overlay, made by the library on a handle that is never launched:
 * first its own check that the image names no other file (a qcow2
 * backing file, a data file) as add_drive_opts does for any image, then
 * disk_create (no qemu-img) of a qcow2 whose backing file is the image
 * (an absolute path: job.c takes images by realpath) and whose size is
 * the image's.  A stale overlay of the same task (a run killed before
 * 'committing') is replaced. */
static int
make_overlay (const struct rn_task *t, const char *overlay, char **err)
{
  guestfs_h *g = guestfs_create ();
  struct guestfs_add_drive_opts_argv o = {
    .bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK | GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK,
    .format = t->image->format, .readonly = 1,
  };
  struct guestfs_disk_create_argv c = {
    .bitmask = GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK |
               GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK,
    .backingfile = t->image_path, .backingformat = t->image->format,
  };
  const char *e;

  if (g == NULL) {
    *err = rn_strdup ("guestfs_create: out of memory");
    return -1;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  if (unlink (overlay) == -1 && errno != ENOENT) {
    *err = rn_asprintf ("%s: %s", overlay, strerror (errno));
    guestfs_close (g);
    return -1;
  }
  if (guestfs_add_drive_opts_argv (g, t->image_path, &o) == -1 ||
      guestfs_disk_create_argv (g, overlay, "qcow2", -1, &c) == -1) {
    e = guestfs_last_error (g);
    *err = rn_strdup (e ? e : "disk_create failed");
    guestfs_close (g);
    return -1;
  }
  guestfs_close (g);
  return 0;
}

int
rn_overlay_make (const struct rn_task *t, char **overlay, char **err)
{
  char *p = rn_overlay_path (t);

  *overlay = NULL;
  if (make_overlay (t, p, err) == -1) {
    free (p);
    return -1;
  }
  chmod (p, 0600);
  *overlay = p;
  return 0;
}

/* fsync a file and its directory: the overlay is on disk before the
 * state says it will be committed. */
static int
sync_file (const char *path, char **err)
{
  char *dir = rn_dirname (path);
  int fd = open (path, O_RDONLY | O_CLOEXEC), dfd, r = 0;

  if (fd == -1 || fsync (fd) == -1)
    r = -1;
  if (fd != -1)
    close (fd);
  if (r == 0 && ((dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
                 (fsync (dfd), close (dfd), 0)))
    r = -1;
  if (r == -1)
    *err = rn_asprintf ("fsync %s: %s", path, strerror (errno));
  free (dir);
  return r;
}

int
rn_overlay_sync (const char *overlay, char **err)
{
  if (fault ("kill-before-commit"))
    raise (SIGKILL);
  return sync_file (overlay, err);
}

/* kill-in-commit: start qemu-img commit, let it write a little, then
 * SIGKILL it and this process, as a crash in the middle would. */
static void
kill_in_commit (char *const *argv)
{
  pid_t pid;
  struct timespec ts = { 0, 30 * 1000 * 1000 };

  if (posix_spawnp (&pid, argv[0], NULL, NULL, argv, environ) == 0) {
    nanosleep (&ts, NULL);
    kill (pid, SIGKILL);
  }
  raise (SIGKILL);
}

int
rn_overlay_commit (const char *overlay, const char *image, char **err)
{
  /* -d: no need to empty the overlay, it is removed next. */
  char *argv[] = { "qemu-img", "commit", "-q", "-d", "-f", "qcow2",
                   (char *) overlay, NULL };
  int r;

  if (fault ("kill-in-commit"))
    kill_in_commit (argv);
  r = rn_run_command (argv, err);
  if (r == 0)
    r = sync_file (image, err);
  return r;
}

int
rn_task_resume_commit (struct rn_db *db, struct rn_task *t)
{
  char *overlay = rn_overlay_path (t), *err = NULL;
  double t0 = rn_now ();
  struct stat st;

  if (stat (overlay, &st) == -1) {
    /* Removed only once the task was recorded ok: someone else did. */
    err = rn_asprintf ("resuming the commit: the overlay %s is gone (%s); the "
                       "image may be partly patched", overlay, strerror (errno));
    t->status = RN_FAILED;
  } else if (rn_overlay_commit (overlay, t->image_path, &err) == 0)
    t->status = RN_OK;
  else
    t->status = RN_COMMITTING;     /* kept, with its overlay: resume again */
  if (rn_db_task_committed (db, t, (rn_now () - t0) * 1000, t->status, err) == 0 &&
      t->status == RN_OK)
    unlink (overlay);
  printf ("%-11s run %lld task %d/%d  %s  commit resumed%s%s\n",
          rn_status_name (t->status), (long long) t->run_id, t->seq, t->ntasks,
          t->image_path, err ? ": " : "", err ? err : "");
  fflush (stdout);
  free (err);
  free (overlay);
  return t->status == RN_OK ? 0 : -1;
}
