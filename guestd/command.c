/* guestd external commands: fork + execvp, never a shell, with stdout and
 * stderr captured (each capped at GK_MESSAGE_MAX; the excess is counted,
 * read and dropped so the child never blocks) and the exit status returned.
 *
 * Handlers use it for the tools that do the real work (parted, mkfs, lvm,
 * blkid, file, mount, tar, grep, ...).  The child gets stdin from
 * /dev/null unless told otherwise and default signal dispositions.
 *
 * A command runs in one of three roots (struct gd_cmd.root):
 *   appliance  the appliance as it is;
 *   sandbox    the appliance's tools in a private mount namespace where
 *              every mount outside the sysroot is read-only and nodev, so
 *              whatever a hostile guest tree or archive makes a tool
 *              follow, writes can only land in the guest;
 *   guest      chrooted into the sysroot (the guest's own binaries), in a
 *              private mount namespace with /dev, /proc and /sys bound in,
 *              so the guest tree is left with no mounts behind; and with
 *              address randomisation off (ADDR_NO_RANDOMIZE, inherited by
 *              what they start).  Under TCG qemu finds translated code by
 *              its virtual address, so with randomisation every program
 *              had its libc and loader translated again: sh -c true took
 *              45 ms of qemu's CPU, 14 ms without, and a second dpkg -i
 *              650 ms, 260 ms without.  Randomising them protects
 *              nothing: they are the guest's own code, which the
 *              appliance runs on purpose, inside its sandbox.
 * Not reentrant: one call at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guestd.h"

#define MAX_ARGV 64

struct capture {
  int fd;                       /* read end of the pipe, -1 once closed */
  char *buf;                    /* what was kept, NUL-terminated */
  size_t len;                   /* bytes in buf */
  size_t cap;                   /* bytes allocated in buf */
  size_t total;                 /* bytes the child wrote, kept or not */
};

/* What a command run in the guest sees. */
static char *const guest_env[] = {
  "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C", NULL,
};

/* Undo the escapes (\040 etc.) of a /proc/self/mountinfo field. */
static void
unescape_octal (char *s)
{
  char *d = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
        s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *d++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else
      *d++ = *s;
  }
  *d = '\0';
}

static int
under_sysroot (const char *mp)
{
  size_t n = strlen (gd_sysroot);

  return strncmp (mp, gd_sysroot, n) == 0 && (mp[n] == '\0' || mp[n] == '/');
}

/* In the child: a private mount namespace, sharing nothing back. */
static int
private_mounts (void)
{
  if (unshare (CLONE_NEWNS) == -1)
    return -1;
  return mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* In the child: make every mount outside the sysroot read-only, nodev
 * and nosuid (the mount's noexec is kept).  A sysroot that is only a
 * directory (guestd --sysroot on a host, for tests) would be made
 * read-only with its parent: there is no sandbox then. */
static int
enter_sandbox (void)
{
  char line[8192], *f[7], *save;
  FILE *fp;
  int r = 0;

  if (!gd_pid1 && gd_is_mount_root (gd_sysroot) != 1)
    return 0;
  if (private_mounts () == -1 ||
      (fp = fopen ("/proc/self/mountinfo", "re")) == NULL)
    return -1;
  while (fgets (line, sizeof line, fp)) {
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV |
                          MS_NOSUID;
    size_t i = 0;

    for (char *t = strtok_r (line, " ", &save); t && i < 7;
         t = strtok_r (NULL, " ", &save))
      f[i++] = t;
    if (i < 6)
      continue;
    unescape_octal (f[4]);
    if (under_sysroot (f[4]))
      continue;
    if (strstr (f[5], "noexec"))
      flags |= MS_NOEXEC;
    if (mount (NULL, f[4], NULL, flags, NULL) == -1 && errno != ENOENT &&
        errno != EINVAL)
      r = -1;
  }
  fclose (fp);
  return r;
}

/* In the child: bind the appliance's /dev, /proc and /sys over the
 * guest's own (when it has those directories), then chroot. */
static int
enter_guest (void)
{
  static const char *const binds[] = { "/dev", "/proc", "/sys", NULL };
  char proc[64];

  if (private_mounts () == -1)
    return -1;
  for (size_t i = 0; binds[i]; i++) {
    int fd = gd_open_in_root (binds[i], O_PATH | O_DIRECTORY, 0);
    if (fd == -1)
      continue;
    gd_fd_path (proc, sizeof proc, fd);
    if (mount (binds[i], proc, NULL, MS_BIND | MS_REC, NULL) == -1)
      gd_log ("bind %s into the guest: %m", binds[i]);
    close (fd);
  }
  if (chroot (gd_sysroot) == -1 || chdir ("/") == -1)
    return -1;
  return 0;
}

static _Noreturn void
child (const struct gd_cmd *c, int outfd, int errfd)
{
  int in = c->in_fd >= 0 ? c->in_fd : open ("/dev/null", O_RDONLY);

  signal (SIGPIPE, SIG_DFL);
  if (in >= 0)
    dup2 (in, 0);
  dup2 (outfd, 1);
  dup2 (errfd, 2);
  for (size_t i = 0; c->keep_fds && c->keep_fds[i] >= 0; i++)
    fcntl (c->keep_fds[i], F_SETFD, 0);
  if (c->cwd_fd >= 0 && fchdir (c->cwd_fd) == -1) {
    fprintf (stderr, "cannot enter the directory: %m");
    _exit (126);
  }
  /* Outside the appliance (host tests, not root) there is no namespace
   * to make: the sandbox is then best effort. */
  if (c->root == GD_ROOT_SANDBOX && enter_sandbox () == -1 && gd_pid1) {
    fprintf (stderr, "cannot set up the sandbox: %m");
    _exit (126);
  }
  if (c->root == GD_ROOT_GUEST) {
    personality (ADDR_NO_RANDOMIZE);
    if (enter_guest () == -1) {
      fprintf (stderr, "cannot enter the guest root: %m");
      _exit (126);
    }
    execvpe (c->argv[0], (char *const *) c->argv, guest_env);
  } else
    execvp (c->argv[0], (char *const *) c->argv);
  fprintf (stderr, "cannot run %s: %m", c->argv[0]);
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
  c->total += (size_t) r;
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
      if (c[i].fd >= 0 && p[i].revents && !capture_read (&c[i])) {
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

int
gd_cmd_wait (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      return -1;
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return -1;
}

pid_t
gd_cmd_spawn (const struct gd_cmd *c)
{
  pid_t pid;

  if (c->out_fd < 0 || c->err_fd < 0) {
    errno = EINVAL;
    return -1;
  }
  pid = fork ();
  if (pid == 0)
    child (c, c->out_fd, c->err_fd);
  return pid;
}

/* A pipe for one captured stream, or the caller's fd. */
static int
open_capture (int given, struct capture *cap, int *wfd)
{
  int p[2];

  cap->fd = -1;
  *wfd = given;
  if (given >= 0)
    return 0;
  if (pipe2 (p, O_CLOEXEC) == -1)
    return -1;
  cap->fd = p[0];
  *wfd = p[1];
  return 0;
}

int
gd_cmd_run (const struct gd_cmd *c, char **out, size_t *outlen, char **err)
{
  struct capture cap[2] = { { .fd = -1 }, { .fd = -1 } };
  int wo = -1, we = -1, r = -1;
  pid_t pid = -1;

  if (open_capture (c->out_fd, &cap[0], &wo) == 0 &&
      open_capture (c->err_fd, &cap[1], &we) == 0) {
    pid = fork ();
    if (pid == 0)
      child (c, wo, we);
  }
  if (c->out_fd < 0 && wo >= 0) close (wo);
  if (c->err_fd < 0 && we >= 0) close (we);
  if (pid == -1) {
    for (int i = 0; i < 2; i++)
      if (cap[i].fd >= 0)
        close (cap[i].fd);
    return -1;
  }
  capture_all (cap);
  r = gd_cmd_wait (pid);
  if (r == -1 && cap[1].len == 0 && c->err_fd < 0)
    gd_mkstr (&cap[1].buf, "killed by a signal");
  if (outlen) *outlen = cap[0].total;
  if (out) *out = take_capture (&cap[0]); else free (cap[0].buf);
  if (err) *err = take_capture (&cap[1]); else free (cap[1].buf);
  gd_log ("command %s: exit %d", c->argv[0], r);
  return r;
}

int
gd_commandv (char **out, char **err, int cwd_fd, const char *const *argv)
{
  struct gd_cmd c = GD_CMD_INIT (argv);

  c.cwd_fd = cwd_fd;
  return gd_cmd_run (&c, out, NULL, err);
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

void
gd_cmd_reply_error (const char *prog, int status, char *err)
{
  size_t n = strlen (prog);

  if (status == -1 && err == NULL)
    reply_with_perror ("%s", prog);
  else if (err && *gd_trim (err) && strncmp (err, prog, n) == 0 &&
           err[n] == ':')
    reply_with_error ("%s", err);            /* already names itself */
  else
    reply_with_error ("%s: %s", prog,
                      err && *err ? err : status > 0 ?
                      "failed with no message" : "killed by a signal");
}

int
gd_cmd_run_or_reply (const struct gd_cmd *c, char **out, size_t *outlen)
{
  char *o = NULL, *e = NULL;
  int r = gd_cmd_run (c, &o, outlen, &e);

  if (r != 0) {
    gd_cmd_reply_error (c->argv[0], r, e);
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

int
gd_run_or_reply (char **out, int cwd_fd, const char *const *argv)
{
  struct gd_cmd c = GD_CMD_INIT (argv);

  c.cwd_fd = cwd_fd;
  return gd_cmd_run_or_reply (&c, out, NULL);
}

int
gd_memfd (void)
{
  return memfd_create ("guestd-stderr", MFD_CLOEXEC);
}

char *
gd_memfd_text (int fd)
{
  char *buf = malloc (GK_ERROR_LEN);
  ssize_t n;

  if (buf == NULL)
    return NULL;
  n = pread (fd, buf, GK_ERROR_LEN - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  return gd_trim (buf);
}
