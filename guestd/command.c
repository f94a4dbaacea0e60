/* guestd external commands: fork + execvp, never a shell, with stdout and
 * stderr captured (each capped at GK_MESSAGE_MAX; the excess is read and
 * dropped so the child never blocks) and the exit status returned.
 *
 * Handlers use it for the tools that do the real work (parted, mkfs, lvm,
 * blkid, file, mount, ls, rm).  The child gets stdin from /dev/null and
 * default signal dispositions.  Not reentrant: one call at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guestd.h"

#define MAX_ARGV 64

struct capture {
  int fd;                       /* read end of the pipe, -1 once closed */
  char *buf;                    /* what was read, NUL-terminated */
  size_t len;                   /* bytes in buf */
  size_t cap;                   /* bytes allocated in buf */
};

static _Noreturn void
child (int outfd, int errfd, int cwd_fd, const char *const *argv)
{
  int null = open ("/dev/null", O_RDONLY);

  signal (SIGPIPE, SIG_DFL);
  if (null >= 0)
    dup2 (null, 0);
  dup2 (outfd, 1);
  dup2 (errfd, 2);
  if (cwd_fd >= 0 && fchdir (cwd_fd) == -1) {
    fprintf (stderr, "cannot enter the directory: %m");
    _exit (126);
  }
  execvp (argv[0], (char *const *) argv);
  fprintf (stderr, "cannot run: %m");
  _exit (127);
}

/* Read what is available; returns 0 at end of file. */
static int
capture_read (struct capture *c)
{
  char tmp[65536];
  ssize_t r = read (c->fd, tmp, sizeof tmp);
  size_t keep;

  if (r == -1 && errno == EINTR)
    return 1;
  if (r <= 0)
    return 0;
  keep = (size_t) r;
  if (c->len + keep > GK_MESSAGE_MAX)
    keep = GK_MESSAGE_MAX - c->len;
  if (c->len + keep + 1 > c->cap) {
    size_t cap = (c->len + keep + 1) * 2;
    char *nb = realloc (c->buf, cap);
    if (nb == NULL)
      return 1;                 /* drop this block, keep draining */
    c->buf = nb;
    c->cap = cap;
  }
  memcpy (c->buf + c->len, tmp, keep);
  c->len += keep;
  c->buf[c->len] = '\0';
  return 1;
}

static void
capture_all (struct capture *c)
{
  struct pollfd p[2];

  while (c[0].fd >= 0 || c[1].fd >= 0) {
    for (int i = 0; i < 2; i++)
      p[i] = (struct pollfd) { .fd = c[i].fd, .events = POLLIN };
    if (poll (p, 2, -1) == -1) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; i++)
      if (p[i].revents && !capture_read (&c[i])) {
        close (c[i].fd);
        c[i].fd = -1;
      }
  }
}

static char *
take_capture (struct capture *c)
{
  if (c->buf == NULL)
    return strdup ("");
  return c->buf;
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      return -1;
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}

int
gd_commandv (char **out, char **err, int cwd_fd, const char *const *argv)
{
  struct capture c[2] = { { .fd = -1 }, { .fd = -1 } };
  int po[2], pe[2], r;
  pid_t pid;

  if (pipe2 (po, O_CLOEXEC) == -1)
    return -1;
  if (pipe2 (pe, O_CLOEXEC) == -1) {
    close (po[0]); close (po[1]);
    return -1;
  }
  pid = fork ();
  if (pid == 0)
    child (po[1], pe[1], cwd_fd, argv);
  close (po[1]);
  close (pe[1]);
  c[0].fd = po[0];
  c[1].fd = pe[0];
  if (pid == -1) {
    close (po[0]); close (pe[0]);
    return -1;
  }
  capture_all (c);
  r = wait_child (pid);
  if (r == -1 && c[1].len == 0)
    gd_mkstr (&c[1].buf, "killed by a signal");
  if (out) *out = take_capture (&c[0]); else free (c[0].buf);
  if (err) *err = take_capture (&c[1]); else free (c[1].buf);
  gd_log ("command %s: exit %d", argv[0], r);
  return r;
}

int
gd_command (char **out, char **err, const char *prog, ...)
{
  const char *argv[MAX_ARGV];
  size_t n = 0;
  va_list ap;

  argv[n++] = prog;
  va_start (ap, prog);
  while (n < MAX_ARGV - 1 && (argv[n] = va_arg (ap, const char *)) != NULL)
    n++;
  va_end (ap);
  argv[n] = NULL;
  return gd_commandv (out, err, -1, argv);
}

int
gd_run_or_reply (char **out, int cwd_fd, const char *const *argv)
{
  char *o = NULL, *e = NULL;
  int r = gd_commandv (&o, &e, cwd_fd, argv);

  if (r != 0) {
    if (r == -1 && e == NULL)
      reply_with_perror ("%s", argv[0]);
    else if (e && *gd_trim (e) && strncmp (e, argv[0], strlen (argv[0])) == 0 &&
             e[strlen (argv[0])] == ':')
      reply_with_error ("%s", e);            /* already names itself */
    else
      reply_with_error ("%s: %s", argv[0],
                        e && *e ? e : "failed with no message");
    free (o);
    free (e);
    return -1;
  }
  free (e);
  if (out)
    *out = o;
  else
    free (o);
  return 0;
}
