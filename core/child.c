/* core/child.c: the end of a qemu child, whether asked for (close,
 * kill_subprocess) or not (qemu crashed or was killed).  Either way the
 * handle goes back to CONFIG, every fd, the cache entries it held and the
 * temp dir are released, the child is reaped and the subprocess-quit
 * callback runs once.
 */
#include <errno.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
gk_impl_kill_subprocess (guestfs_h *g)
{
  if (g->pid <= 0) {
    gk_error (g, "kill_subprocess: no qemu process is running");
    return -1;
  }
  kill (g->pid, SIGKILL);
  waitpid (g->pid, NULL, 0);
  release (g);
  return 0;
}
