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

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none. */
static size_t
utf8_len (const unsigned char *p, size_t n)
{
  size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 :
               p[0] >= 0xe0 && p[0] < 0xf0 ? 3 :
               p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;

  if (len == 0 || len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return len;
}

/* Make s[0..n) safe to show on a terminal, in place: every control
 * character but newline and tab (C0, DEL, and C1 whether a raw byte or
 * UTF-8 encoded) and every byte that is not valid UTF-8 becomes '?'.
 * Returns the new length (never longer). */
size_t
gk_clean_text (char *s, size_t n)
{
  unsigned char *p = (unsigned char *) s;
  size_t o = 0;

  for (size_t i = 0; i < n; ) {
    size_t len = p[i] < 0x80 ? 1 : utf8_len (p + i, n - i);
    if (len == 1 && ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f))
      p[o++] = '?', i++;
    else if (len == 0 || (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
      p[o++] = '?', i += len ? len : 1;      /* C1 or a stray byte */
    else {
      memmove (p + o, p + i, len);
      o += len;
      i += len;
    }
  }
  return o;
}

/* The last lines of console output, trimmed and cleaned of control
 * characters, for an error message.  The string lives in the handle
 * until the next console output. */
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
  n = gk_clean_text (g->console_tail, n);
  g->console_tail[n] = '\0';
  g->console_len = n;
  return g->console_tail;
}
