/* core/qmp.c: just enough of a QMP client to save and restore appliances
 * (core/snapshot.c).  qemu connects to our listening socket; we read its
 * greeting, enable commands, then send one command at a time and read
 * lines until its answer: a line starting {"return" or {"error".  Event
 * lines in between are skipped.  Everything waits with a deadline and
 * drains qemu's console meanwhile.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gk.h"

#define QMP_LINE_MAX (64 * 1024)

/* Read one line (without the newline) into a malloc'd string. */
static int
read_line (guestfs_h *g, int fd, double deadline, char **line)
{
  size_t n = 0, cap = 256;
  char *buf = gk_malloc (g, cap);
  int r;

  for (;;) {
    char c;
    ssize_t got = read (fd, &c, 1);
    if (got == 1) {
      if (c == '\n')
        break;
      if (n + 2 > cap) {
        if (cap >= QMP_LINE_MAX) { free (buf); return -3; }
        buf = gk_realloc (g, buf, cap *= 2);
      }
      buf[n++] = c;
      continue;
    }
    if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
      free (buf);
      return -1;
    }
    if ((r = gk_wait_readable (g, fd, deadline)) != 0) {
      free (buf);
      return r;
    }
  }
  while (n > 0 && buf[n - 1] == '\r')
    n--;
  buf[n] = '\0';
  *line = buf;
  return 0;
}

static int
write_all (int fd, const char *s, size_t n)
{
  while (n > 0) {
    ssize_t w = send (fd, s, n, MSG_NOSIGNAL);
    if (w > 0) { s += w; n -= (size_t) w; continue; }
    if (w == -1 && (errno == EINTR || errno == EAGAIN)) { usleep (1000); continue; }
    return -1;
  }
  return 0;
}

/* Send the first byte of a command with fd attached (SCM_RIGHTS). */
static int
send_fd (int sock, const char *s, int fd)
{
  char ctl[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { .iov_base = (void *) s, .iov_len = 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = ctl, .msg_controllen = sizeof ctl };
  struct cmsghdr *cm = CMSG_FIRSTHDR (&m);
  ssize_t w;

  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cm), &fd, sizeof fd);
  do
    w = sendmsg (sock, &m, MSG_NOSIGNAL);
  while (w == -1 && (errno == EINTR || errno == EAGAIN));
  return w == 1 ? 0 : -1;
}

/* gk_qmp with fd (if >= 0) passed along with the command. */
static int
vqmp (guestfs_h *g, int sock, int fd, double deadline, char **reply,
      const char *fmt, va_list ap)
{
  char *cmd, *line;
  int r;

  if (vasprintf (&cmd, fmt, ap) == -1)
    abort ();
  gk_debug (g, "qmp: %s%s", cmd, fd >= 0 ? " (with an fd)" : "");
  r = (fd >= 0 && send_fd (sock, cmd, fd) == -1) ||
      write_all (sock, cmd + (fd >= 0), strlen (cmd) - (fd >= 0)) == -1 ||
      write_all (sock, "\n", 1) == -1;
  free (cmd);
  if (r)
    return -1;
  for (;;) {
    if ((r = read_line (g, sock, deadline, &line)) != 0)
      return r;
    if (strncmp (line, "{\"return\"", 9) == 0) {
      if (reply) *reply = line; else free (line);
      return 0;
    }
    if (strncmp (line, "{\"error\"", 8) == 0) {
      gk_error (g, "launch: qemu refused a command: %s", line);
      free (line);
      return -5;
    }
    free (line);                /* an event */
  }
}

/* Send a command and wait for its answer.  Returns 0 on {"return"...}
 * (the line in *reply if reply != NULL), -5 on {"error"...} (error set),
 * or a gk_wait_readable code. */
int
gk_qmp (guestfs_h *g, int fd, double deadline, char **reply,
        const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vqmp (g, fd, -1, deadline, reply, fmt, ap);
  va_end (ap);
  return r;
}

/* The same, handing qemu a copy of pass (for getfd and add-fd). */
int
gk_qmp_pass (guestfs_h *g, int fd, int pass, double deadline, char **reply,
             const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vqmp (g, fd, pass, deadline, reply, fmt, ap);
  va_end (ap);
  return r;
}

int
gk_qmp_handshake (guestfs_h *g, int fd, double deadline)
{
  char *greeting;
  int r = read_line (g, fd, deadline, &greeting);

  if (r != 0)
    return r;
  r = strstr (greeting, "\"QMP\"") ? 0 : -3;
  free (greeting);
  if (r == 0)
    r = gk_qmp (g, fd, deadline, NULL, "{\"execute\":\"qmp_capabilities\"}");
  return r == -5 ? -3 : r;
}

/* s as a JSON string literal, quotes included. */
char *
gk_json_string (guestfs_h *g, const char *s)
{
  char *out = gk_malloc (g, strlen (s) * 6 + 3), *p = out;

  *p++ = '"';
  for (const unsigned char *q = (const unsigned char *) s; *q; q++) {
    if (*q == '"' || *q == '\\') {
      *p++ = '\\';
      *p++ = (char) *q;
    } else if (*q < 0x20)
      p += sprintf (p, "\\u%04x", *q);
    else
      *p++ = (char) *q;
  }
  *p++ = '"';
  *p = '\0';
  return out;
}
