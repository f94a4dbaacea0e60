/* tests/reap-watch.c: an LD_PRELOAD library for tests/runner-faults.sh
 * that catches a signal sent to a pid after that pid was reaped: the
 * pid-reuse hazard of a watchdog that kills by pid.
 *
 * waitpid: when it reaps a qemu-system-* process, the pid is remembered;
 * the first such reap by a polling waitpid (WNOHANG: how the library
 * reaps a qemu that died during a call; the blocking ones are launch's
 * own clean-ups) also creates the file $REAP_WATCH_MARK and then holds
 * the reaping thread for $REAP_WATCH_HOLD seconds, so that the test can
 * act (send SIGTERM) while the process is gone but the caller has not
 * yet returned from the library.  kill: a signal to a remembered pid is
 * not sent (the pid may be another process's by now) and appends
 * "kill PID SIG after reap" to $REAP_WATCH_LOG.
 *
 * Built by the test itself (cc -shared); not part of guestkit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REAPED 64

static pid_t reaped[MAX_REAPED];
static int nreaped, held;

static int
is_qemu (pid_t pid)
{
  char path[64], comm[64] = "";
  int fd, n;

  snprintf (path, sizeof path, "/proc/%d/comm", (int) pid);
  if ((fd = open (path, O_RDONLY | O_CLOEXEC)) == -1)
    return 0;
  n = read (fd, comm, sizeof comm - 1);
  close (fd);
  return n > 0 && strncmp (comm, "qemu-system", 11) == 0;
}

static void
hold (void)
{
  const char *mark = getenv ("REAP_WATCH_MARK"), *secs = getenv ("REAP_WATCH_HOLD");
  struct timespec until;

  if (__atomic_exchange_n (&held, 1, __ATOMIC_SEQ_CST))
    return;
  if (mark)
    close (open (mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  clock_gettime (CLOCK_MONOTONIC, &until);
  until.tv_sec += secs ? atoi (secs) : 0;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
    ;
}

pid_t
waitpid (pid_t pid, int *status, int options)
{
  static pid_t (*real) (pid_t, int *, int);
  int qemu = pid > 0 && is_qemu (pid);
  pid_t r;

  if (real == NULL)
    real = (pid_t (*) (pid_t, int *, int)) dlsym (RTLD_NEXT, "waitpid");
  r = real (pid, status, options);
  if (r > 0 && qemu) {
    int i = __atomic_fetch_add (&nreaped, 1, __ATOMIC_SEQ_CST);
    if (i < MAX_REAPED)
      __atomic_store_n (&reaped[i], r, __ATOMIC_SEQ_CST);
    if (options & WNOHANG)
      hold ();
  }
  return r;
}

int
kill (pid_t pid, int sig)
{
  static int (*real) (pid_t, int);
  const char *log = getenv ("REAP_WATCH_LOG");
  int n = __atomic_load_n (&nreaped, __ATOMIC_SEQ_CST);

  if (real == NULL)
    real = (int (*) (pid_t, int)) dlsym (RTLD_NEXT, "kill");
  for (int i = 0; i < n && i < MAX_REAPED; i++)
    if (pid > 0 && __atomic_load_n (&reaped[i], __ATOMIC_SEQ_CST) == pid) {
      FILE *f = log ? fopen (log, "ae") : NULL;
      if (f) {
        fprintf (f, "kill %d %d after reap\n", (int) pid, sig);
        fclose (f);
      }
      errno = ESRCH;
      return -1;
    }
  return real (pid, sig);
}
