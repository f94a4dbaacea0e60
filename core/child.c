/* core/child.c: the end of a qemu child, whether asked for (close,
 * kill_subprocess) or not (qemu crashed or was killed).  Either way the
 * handle goes back to CONFIG, every fd, the cache entries it held and the
 * temp dir are released, the child is reaped and the subprocess-quit
 * callback runs once.
 *
 * Threads.  A handle is used by one thread at a time, but a watchdog
 * may call kill_subprocess from another thread at any moment, also while
 * the owner is in a call or in close, reaping qemu.  So every call and
 * close hold g->use_lock (recursive: calls nest), and the thread of the
 * last call is the handle's user.  kill_subprocess takes the lock only
 * with trylock: when it gets it, comes from the user (or a handle that
 * never made a call) and is not nested in a call, it kills, reaps and
 * releases as before.  Otherwise it touches nothing of the handle but
 * qemu's pidfd, and only signals: the user's call in progress, or its
 * next one, sees the appliance die and reaps it.  A pidfd names one
 * process, never a later one that got its pid, and it is closed (under
 * g->child_lock, which every use of it takes) only once qemu has been
 * reaped, so no thread can signal a recycled pid or a recycled fd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gk.h"

static void
remove_tmpdir (guestfs_h *g)
{
  DIR *d;
  struct dirent *e;

  if (g->tmpdir == NULL)
    return;
  d = opendir (g->tmpdir);
  if (d) {
    while ((e = readdir (d)) != NULL) {
      char *p;
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      p = gk_asprintf (g, "%s/%s", g->tmpdir, e->d_name);
      unlink (p);
      free (p);
    }
    closedir (d);
  }
  rmdir (g->tmpdir);
  free (g->tmpdir);
  g->tmpdir = NULL;
}

/* Wait up to ms milliseconds for pid to exit, draining the console. */
static int
wait_exit (guestfs_h *g, pid_t pid, int ms, int *status)
{
  struct timespec start, now;

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid (pid, status, WNOHANG);
    if (r == pid || (r == -1 && errno == ECHILD))
      return 0;
    clock_gettime (CLOCK_MONOTONIC, &now);
    long el = (now.tv_sec - start.tv_sec) * 1000 +
              (now.tv_nsec - start.tv_nsec) / 1000000;
    if (el >= ms)
      return -1;
    if (g->console >= 0) {
      struct pollfd p = { .fd = g->console, .events = POLLIN };
      if (poll (&p, 1, 10) > 0)
        gk_console_drain (g);
    } else
      usleep (5000);
  }
}

/* ---- the handle across threads ---- */

static __thread int kill_is_remote;   /* this thread's kill_subprocess */

void
gk_child_init (guestfs_h *g)
{
  pthread_mutexattr_t a;

  pthread_mutexattr_init (&a);
  pthread_mutexattr_settype (&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init (&g->use_lock, &a);
  pthread_mutexattr_destroy (&a);
  pthread_mutex_init (&g->child_lock, NULL);
  g->pidfd = -1;
}

/* Close the pidfd: qemu has been reaped, or never ran. */
static void
forget_pidfd (guestfs_h *g)
{
  pthread_mutex_lock (&g->child_lock);
  if (g->pidfd >= 0)
    close (g->pidfd);
  g->pidfd = -1;
  pthread_mutex_unlock (&g->child_lock);
}

void
gk_child_fini (guestfs_h *g)
{
  forget_pidfd (g);
  pthread_mutex_destroy (&g->child_lock);
  pthread_mutex_destroy (&g->use_lock);
}

/* Called by the thread that forked qemu, before anyone could reap it.
 * Without a pidfd (a kernel before 5.3) kills from other threads fail. */
void
gk_child_started (guestfs_h *g)
{
  int fd = pidfd_open (g->pid, 0);

  if (fd == -1)
    gk_debug (g, "pidfd_open of qemu: %s: kill_subprocess works only from "
              "the handle's own thread", strerror (errno));
  else
    fcntl (fd, F_SETFD, FD_CLOEXEC);
  pthread_mutex_lock (&g->child_lock);
  if (g->pidfd >= 0)
    close (g->pidfd);           /* an earlier qemu's, reaped */
  g->pidfd = fd;
  pthread_mutex_unlock (&g->child_lock);
}

int
gk_use_begin (guestfs_h *g, int kill)
{
  if (!kill) {
    pthread_mutex_lock (&g->use_lock);
    g->use_depth++;
    g->user = pthread_self ();
    g->has_user = 1;
    return 0;
  }
  kill_is_remote = 1;
  if (pthread_mutex_trylock (&g->use_lock) != 0)
    return 1;                   /* another thread is in a call */
  if (g->use_depth > 0 ||       /* inside this thread's own call */
      (g->has_user && !pthread_equal (g->user, pthread_self ()))) {
    pthread_mutex_unlock (&g->use_lock);
    return 1;                   /* or the handle is another thread's */
  }
  kill_is_remote = 0;
  g->use_depth++;
  return 0;
}

int
gk_use_try (guestfs_h *g)
{
  if (pthread_mutex_trylock (&g->use_lock) != 0)
    return -1;
  g->use_depth++;
  return 0;
}

void
gk_use_end (guestfs_h *g)
{
  g->use_depth--;
  pthread_mutex_unlock (&g->use_lock);
}

int
gk_use_remote (int clear)
{
  int r = kill_is_remote;

  if (clear)
    kill_is_remote = 0;
  return r;
}

/* SIGKILL through the pidfd; 0 if qemu was there to get it (or had
 * already exited, not yet reaped), -1 if there is no qemu. */
static int
signal_qemu (guestfs_h *g)
{
  int r = -1;

  pthread_mutex_lock (&g->child_lock);
  if (g->pidfd >= 0 && (pidfd_send_signal (g->pidfd, SIGKILL, NULL, 0) == 0 ||
                        errno != ESRCH))
    r = 0;
  pthread_mutex_unlock (&g->child_lock);
  return r;
}

static void
stop_recovery (guestfs_h *g)
{
  if (g->recovery_pid > 0) {
    kill (g->recovery_pid, SIGKILL);
    waitpid (g->recovery_pid, NULL, 0);
    g->recovery_pid = 0;
  }
}

/* Release everything after qemu has gone (or been made to go). */
static void
release (guestfs_h *g)
{
  int had_child = g->pid > 0;

  stop_recovery (g);
  if (g->sock >= 0)
    close (g->sock);
  if (g->console >= 0)
    close (g->console);
  g->sock = g->console = -1;
  g->pid = 0;
  forget_pidfd (g);             /* reaped by now: see the top */
  if (!g->cache_keep)
    gk_cache_release (g);       /* qemu has gone: its cache entries are free */
  remove_tmpdir (g);
  g->state = GK_CONFIG;
  if (had_child && g->quit_cb)
    g->quit_cb (g, g->quit_cb_data);
}

void
gk_child_died (guestfs_h *g, const char *call)
{
  int status = 0;
  char *why;

  if (g->pid > 0 && wait_exit (g, g->pid, 2000, &status) == -1) {
    kill (g->pid, SIGKILL);
    waitpid (g->pid, &status, 0);
  }
  while (gk_console_drain (g) > 0)
    ;
  if (WIFSIGNALED (status))
    why = gk_asprintf (g, "killed by signal %d", WTERMSIG (status));
  else
    why = gk_asprintf (g, "exit status %d", WEXITSTATUS (status));
  gk_debug (g, "qemu pid %d ended: %s", (int) g->pid, why);
  release (g);
  {
    const char *tail = gk_console_tail (g);
    gk_error (g, "%s: the appliance exited unexpectedly (qemu %s)%s%s",
              call, why, *tail ? ": " : "", tail);
  }
  free (why);
}

/* Orderly stop: closing the channel makes guestd sync and power off. */
void
gk_shutdown (guestfs_h *g)
{
  int status;

  if (g->sock >= 0) {
    close (g->sock);
    g->sock = -1;
  }
  if (g->pid > 0) {
    if (wait_exit (g, g->pid, 3000, &status) == -1) {
      kill (g->pid, SIGTERM);
      if (wait_exit (g, g->pid, 2000, &status) == -1) {
        kill (g->pid, SIGKILL);
        waitpid (g->pid, &status, 0);
      }
    }
  }
  release (g);
}

/* From another thread (or nested in a call of this one) only a signal:
 * see the top.  No error message then either, since the handle's error
 * belongs to the thread using it: -1 means no qemu was running. */
int
gk_impl_kill_subprocess (guestfs_h *g)
{
  if (gk_use_remote (0))
    return signal_qemu (g);
  if (g->pid <= 0) {
    gk_error (g, "kill_subprocess: no qemu process is running");
    return -1;
  }
  kill (g->pid, SIGKILL);       /* our own child, not yet reaped */
  waitpid (g->pid, NULL, 0);
  release (g);
  return 0;
}
