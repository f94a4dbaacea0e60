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

/* Send a command and wait for its answer.  Returns 0 on {"return"...}
 * (the line in *reply if reply != NULL), -5 on {"error"...} (error set),
 * or a gk_wait_readable code. */
int
gk_qmp (guestfs_h *g, int fd, double deadline, char **reply,
        const char *fmt, ...)
{
  char *cmd, *line;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&cmd, fmt, ap);
  va_end (ap);
  if (r == -1)
    abort ();
  gk_debug (g, "qmp: %s", cmd);
  r = write_all (fd, cmd, strlen (cmd)) == -1 || write_all (fd, "\n", 1) == -1;
  free (cmd);
  if (r)
    return -1;
  for (;;) {
    if ((r = read_line (g, fd, deadline, &line)) != 0)
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
