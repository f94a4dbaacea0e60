/* core/console.c: qemu's stdout and stderr (the appliance's serial
 * console and qemu's own messages) arrive on one pipe.  It must be drained
 * whenever we wait, or qemu blocks on a full pipe.  The bytes go to the log
 * message callback, to stderr when verbose, and the last few KiB are kept
 * so that a failed launch can say what qemu or the kernel said.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gk.h"

void
gk_console_feed (guestfs_h *g, const char *buf, size_t n)
{
  if (g->log_cb)
    g->log_cb (g, g->log_cb_data, (char *) buf, (int) n);
  if (g->verbose && !g->log_cb)
    fwrite (buf, 1, n, stderr);
  if (n >= GK_CONSOLE_TAIL) {
    memcpy (g->console_tail, buf + n - GK_CONSOLE_TAIL, GK_CONSOLE_TAIL);
    g->console_len = GK_CONSOLE_TAIL;
    return;
  }
  if (g->console_len + n > GK_CONSOLE_TAIL) {
    size_t drop = g->console_len + n - GK_CONSOLE_TAIL;
    memmove (g->console_tail, g->console_tail + drop, g->console_len - drop);
    g->console_len -= drop;
  }
  memcpy (g->console_tail + g->console_len, buf, n);
  g->console_len += n;
}

/* Read what is available now.  Returns 1 if data was read, 0 if none was
 * waiting, -1 at end of file (qemu has gone). */
int
gk_console_drain (guestfs_h *g)
{
  char buf[4096];
  ssize_t r;

  if (g->console < 0)
    return -1;
  r = read (g->console, buf, sizeof buf);
  if (r > 0) {
    gk_console_feed (g, buf, (size_t) r);
    return 1;
  }
  if (r == -1 && (errno == EAGAIN || errno == EINTR))
    return 0;
  close (g->console);
  g->console = -1;
  return -1;
}

/* The last lines of console output, trimmed, for an error message.  The
 * string lives in the handle until the next console output. */
const char *
gk_console_tail (guestfs_h *g)
{
  static const size_t max = 1024;
  char *p;
  size_t n = g->console_len;

  while (n > 0 && (g->console_tail[n - 1] == '\n' ||
                   g->console_tail[n - 1] == '\r' ||
                   g->console_tail[n - 1] == ' '))
    n--;
  p = g->console_tail;
  if (n > max) {
    p += n - max;
    n = max;
  }
  if (n == GK_CONSOLE_TAIL)
    n--;
  memmove (g->console_tail, p, n);
  g->console_tail[n] = '\0';
  g->console_len = n;
  for (size_t i = 0; i < n; i++)
    if (g->console_tail[i] == '\r')
      g->console_tail[i] = ' ';
  return g->console_tail;
}
