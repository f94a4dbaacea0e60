/* core/handle.c: creating and closing handles, the settings calls, event
 * callbacks, and the environment variables read at create time.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk.h"

#ifndef GK_DEFAULT_PATH
#define GK_DEFAULT_PATH "/usr/lib/guestkit"
#endif
#ifndef GK_DEFAULT_QEMU
#define GK_DEFAULT_QEMU "qemu-system-x86_64"
#endif
#define GK_DEFAULT_MEMSIZE 256

static int
env_true (const char *name)
{
  const char *v = getenv (name);
  return v && (strcmp (v, "1") == 0 || strcmp (v, "yes") == 0 ||
               strcmp (v, "true") == 0);
}

/* The integer in environment variable `name' if it is in [min, max],
 * else dflt. */
static int
env_int (const char *name, long min, long max, int dflt)
{
  const char *v = getenv (name);
  char *end;
  long n;

  if (v == NULL || *v == '\0')
    return dflt;
  errno = 0;
  n = strtol (v, &end, 10);
  return errno || *end || n < min || n > max ? dflt : (int) n;
}

/* ---- Handles still open at exit (set_autosync's promise) ----
 *
 * Every handle is on one list.  At exit, each READY handle with autosync
 * on gets umount_all and sync, then an orderly shutdown of its appliance
 * (guestd syncs again and powers off), so the data it wrote reaches its
 * disks.  A handle busy in another thread at that moment is left alone,
 * and nothing is freed: other threads may still hold the handles. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static guestfs_h *handles;          /* linked through g->next_handle */
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

static void
sync_at_exit (void)
{
  pthread_mutex_lock (&handles_lock);
  for (guestfs_h *g = handles; g; g = g->next_handle) {
    if (gk_use_try (g) == -1)
      continue;                 /* in a call in another thread */
    if (g->state == GK_READY && g->autosync) {
      guestfs_umount_all (g);
      guestfs_sync (g);
      gk_shutdown (g);
    }
    gk_use_end (g);
  }
  pthread_mutex_unlock (&handles_lock);
}

static void
register_atexit (void)
{
  atexit (sync_at_exit);
}

static void
list_add (guestfs_h *g)
{
  pthread_once (&atexit_once, register_atexit);
  pthread_mutex_lock (&handles_lock);
  g->next_handle = handles;
  handles = g;
  pthread_mutex_unlock (&handles_lock);
}

static void
list_remove (guestfs_h *g)
{
  pthread_mutex_lock (&handles_lock);
  for (guestfs_h **p = &handles; *p; p = &(*p)->next_handle)
    if (*p == g) {
      *p = g->next_handle;
      break;
    }
  pthread_mutex_unlock (&handles_lock);
}

guestfs_h *
guestfs_create (void)
{
  guestfs_h *g = calloc (1, sizeof *g);
  const char *v;

  if (g == NULL)
    return NULL;
  g->state = GK_CONFIG;
  g->sock = g->console = -1;
  g->prep_qmp = g->prep_state_fd = -1;
  gk_child_init (g);
  g->error_cb = gk_default_error_handler;
  g->recovery_proc = 1;
  g->memsize = env_int ("LIBGUESTFS_MEMSIZE", 128, 1024 * 1024, GK_DEFAULT_MEMSIZE);
  g->call_timeout = env_int ("GUESTKIT_CALL_TIMEOUT", 0, INT_MAX, 0);
  g->verbose = env_true ("LIBGUESTFS_DEBUG");
  g->trace = env_true ("LIBGUESTFS_TRACE");
  v = getenv ("LIBGUESTFS_PATH");
  g->path = strdup (v && *v ? v : GK_DEFAULT_PATH);
  v = getenv ("LIBGUESTFS_QEMU");
  g->qemu = strdup (v && *v ? v : GK_DEFAULT_QEMU);
  v = getenv ("LIBGUESTFS_APPEND");
  g->append = v && *v ? strdup (v) : NULL;
  if (g->path == NULL || g->qemu == NULL || (v && *v && g->append == NULL)) {
    free (g->path); free (g->qemu); free (g->append);
    gk_child_fini (g);
    free (g);
    return NULL;
  }
  list_add (g);
  return g;
}

static void
free_drives (guestfs_h *g)
{
  for (size_t i = 0; i < g->ndrives; i++)
    gk_drive_free (&g->drives[i]);
  free (g->drives);
}

void
guestfs_close (guestfs_h *g)
{
  if (g == NULL)
    return;
  list_remove (g);
  gk_use_begin (g, 0);          /* a kill from another thread only signals */
  gk_snapshot_unprepare (g);    /* a prepared VM never launched */
  if (g->state == GK_READY && g->autosync) {
    /* Best effort: errors here only reach the error handler. */
    guestfs_umount_all (g);
    guestfs_sync (g);
  }
  gk_shutdown (g);
  gk_use_end (g);
  gk_inspect_free (g);
  free_drives (g);
  for (size_t i = 0; i < g->nqemu_params; i++)
    free (g->qemu_params[i]);
  free (g->qemu_params);
  free (g->path);
  free (g->qemu);
  free (g->append);
  free (g->last_error);
  free (g->msgbuf);
  gk_child_fini (g);
  free (g);
}

/* ---- Callbacks ---- */

void
guestfs_set_log_message_callback (guestfs_h *g, guestfs_log_message_cb cb,
                                  void *opaque)
{
  g->log_cb = cb;
  g->log_cb_data = opaque;
}

void
guestfs_set_subprocess_quit_callback (guestfs_h *g,
                                      guestfs_subprocess_quit_cb cb,
                                      void *opaque)
{
  g->quit_cb = cb;
  g->quit_cb_data = opaque;
}

void
guestfs_set_launch_done_callback (guestfs_h *g, guestfs_launch_done_cb cb,
                                  void *opaque)
{
  g->launch_done_cb = cb;
  g->launch_done_cb_data = opaque;
}

void
guestfs_set_progress_callback (guestfs_h *g, guestfs_progress_cb cb, void *opaque)
{
  g->progress_cb = cb;
  g->progress_cb_data = opaque;
}

/* ---- Settings ---- */

int
gk_impl_config (guestfs_h *g, const char *param, const char *value)
{
  static const char *const reserved[] = {
    "-kernel", "-initrd", "-append", "-nographic", "-serial", "-chardev",
    "-m", "-machine", "-M", "-no-reboot", "-nodefaults", "-daemonize",
    "-monitor", "-qmp", "-pidfile", NULL,
  };

  if (param[0] != '-') {
    gk_error (g, "config: parameter '%s' must begin with '-'", param);
    return -1;
  }
  for (size_t i = 0; reserved[i]; i++)
    if (strcmp (param, reserved[i]) == 0) {
      gk_error (g, "config: parameter '%s' is set by guestkit itself", param);
      return -1;
    }
  g->qemu_params = gk_realloc (g, g->qemu_params,
                               (g->nqemu_params + 2) * sizeof (char *));
  g->qemu_params[g->nqemu_params++] = gk_strdup (g, param);
  if (value)
    g->qemu_params[g->nqemu_params++] = gk_strdup (g, value);
  return 0;
}

int
gk_impl_set_qemu (guestfs_h *g, const char *qemu)
{
  const char *v = getenv ("LIBGUESTFS_QEMU");
  char *old = g->qemu;           /* qemu may be get_qemu's string */

  g->qemu = gk_strdup (g, qemu ? qemu : v && *v ? v : GK_DEFAULT_QEMU);
  free (old);
  return 0;
}

const char *
gk_impl_get_qemu (guestfs_h *g)
{
  return g->qemu;
}

int
gk_impl_set_path (guestfs_h *g, const char *path)
{
  char *old = g->path;           /* path may be get_path's string */

  g->path = gk_strdup (g, path ? path : GK_DEFAULT_PATH);
  free (old);
  return 0;
}

const char *
gk_impl_get_path (guestfs_h *g)
{
  return g->path;
}

int
gk_impl_set_append (guestfs_h *g, const char *append)
{
  char *old = g->append;         /* append may be get_append's string */

  g->append = append ? gk_strdup (g, append) : NULL;
  free (old);
  return 0;
}

const char *
gk_impl_get_append (guestfs_h *g)
{
  return g->append;
}

int
gk_impl_set_memsize (guestfs_h *g, int v)
{
  if (v < 128 || v > 1024 * 1024) {
    gk_error (g, "set_memsize: %d MiB is out of range (128 to 1048576)", v);
    return -1;
  }
  g->memsize = v;
  return 0;
}

int gk_impl_get_memsize (guestfs_h *g) { return g->memsize; }
int gk_impl_set_autosync (guestfs_h *g, int v) { g->autosync = !!v; return 0; }
int gk_impl_get_autosync (guestfs_h *g) { return g->autosync; }
int gk_impl_set_verbose (guestfs_h *g, int v) { g->verbose = !!v; return 0; }
int gk_impl_get_verbose (guestfs_h *g) { return g->verbose; }
int gk_impl_set_selinux (guestfs_h *g, int v) { g->selinux = !!v; return 0; }
int gk_impl_get_selinux (guestfs_h *g) { return g->selinux; }
int gk_impl_set_network (guestfs_h *g, int v) { g->network = !!v; return 0; }
int gk_impl_get_network (guestfs_h *g) { return g->network; }
int gk_impl_set_trace (guestfs_h *g, int v) { g->trace = !!v; return 0; }
int gk_impl_get_trace (guestfs_h *g) { return g->trace; }
int gk_impl_set_direct (guestfs_h *g, int v) { g->direct = !!v; return 0; }
int gk_impl_get_direct (guestfs_h *g) { return g->direct; }
int gk_impl_set_recovery_proc (guestfs_h *g, int v) { g->recovery_proc = !!v; return 0; }
int gk_impl_get_recovery_proc (guestfs_h *g) { return g->recovery_proc; }
int
gk_impl_set_call_timeout (guestfs_h *g, int secs)
{
  if (secs < 0) {
    gk_error (g, "set_call_timeout: %d: must be 0 (no limit) or a number of seconds", secs);
    return -1;
  }
  g->call_timeout = secs;
  return 0;
}

int gk_impl_get_call_timeout (guestfs_h *g) { return g->call_timeout; }
int gk_impl_is_ready (guestfs_h *g) { return g->state == GK_READY; }
int gk_impl_is_config (guestfs_h *g) { return g->state == GK_CONFIG; }
int gk_impl_is_launching (guestfs_h *g) { return g->state == GK_LAUNCHING; }
int gk_impl_is_busy (guestfs_h *g) { return g->state == GK_BUSY; }
int gk_impl_get_state (guestfs_h *g) { return (int) g->state; }
int gk_impl_wait_ready (guestfs_h *g) { return 0; }

int
gk_impl_get_pid (guestfs_h *g)
{
  if (g->pid <= 0) {
    gk_error (g, "get_pid: no qemu process is running");
    return -1;
  }
  return (int) g->pid;
}

struct guestfs_version *
gk_impl_version (guestfs_h *g)
{
  struct guestfs_version *v = gk_calloc (g, 1, sizeof *v);

  v->major = GK_VERSION_MAJOR;
  v->minor = GK_VERSION_MINOR;
  v->release = GK_VERSION_RELEASE;
  v->extra = gk_strdup (g, GK_VERSION_EXTRA);
  return v;
}
