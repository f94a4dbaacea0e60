/* runner/progress.c: the one live status line of a run, for `guestkit
 * run' on a terminal (pool.c, from its own counters) and `guestkit status
 * --watch' (status.c, from the results database).
 *
 * The line: done out of the total with ok and failed, running, images
 * per minute, ETA, and the task running longest with its time so far.
 * It is cut to the terminal's width (a line that wraps cannot be redrawn
 * with \r), and drawn as one write of "\r" TEXT "\033[K": the old text
 * is overwritten, then what is left of it cleared, so the line is never
 * blank between two frames (no flicker).  An unchanged text is not
 * written again, and redraws come at most four times a second unless
 * forced (a task ended).  Lines printed above it first wipe it
 * (rn_live_clear), and it is drawn again below them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "runner.h"

int
rn_term_cols (int fd)
{
  struct winsize ws;

  if (ioctl (fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    return ws.ws_col;
  return 80;
}

/* Cut s (cleaned UTF-8) to at most cols characters, in place. */
static void
cut_cols (char *s, int cols)
{
  int n = 0;

  for (char *p = s; *p; p++)
    if (((unsigned char) *p & 0xc0) != 0x80 && ++n > cols) {
      *p = '\0';
      return;
    }
}

void
rn_progress_format (char *buf, size_t size, const struct rn_progress *p, int cols)
{
  size_t fin = p->ok + p->failed;
  char eta[32] = "?", slow[32], rate[32] = "?";
  size_t len;

  if (p->rate > 0) {
    snprintf (rate, sizeof rate, "%.1f", p->rate);
    if (fin < p->total)
      rn_fmt_secs (eta, (double) (p->total - fin) / p->rate * 60);
  }
  if (fin >= p->total)
    strcpy (eta, "0s");
  snprintf (buf, size, "%zu/%zu done (%zu ok, %zu failed), %zu running | %s images/min | ETA %s",
            fin, p->total, p->ok, p->failed, p->running, rate, eta);
  len = strlen (buf);
  if (p->slowest[0] && len + 1 < size) {
    char *name = rn_term_clean (p->slowest);
    rn_fmt_secs (slow, p->slowest_secs);
    snprintf (buf + len, size - len, " | slowest %s %s", name, slow);
    free (name);
  }
  cut_cols (buf, cols > 1 ? cols - 1 : 1);   /* the last column would wrap */
}

void
rn_progress_task_name (char *buf, size_t size, const char *image, const char *instance)
{
  const char *b = strrchr (image, '/');

  snprintf (buf, size, "%s%s%s%s", b ? b + 1 : image, *instance ? " [" : "", instance,
            *instance ? "]" : "");
}

void
rn_live_draw (struct rn_live *l, const char *text, int force)
{
  double now = rn_now ();

  if (l->shown && strcmp (l->text, text) == 0)
    return;
  if (l->shown && !force && now - l->last < 0.25)
    return;
  snprintf (l->text, sizeof l->text, "%s", text);
  fprintf (l->f, "\r%s\033[K", l->text);
  fflush (l->f);
  l->shown = 1;
  l->last = now;
}

void
rn_live_clear (struct rn_live *l)
{
  if (!l->shown)
    return;
  fputs ("\r\033[K", l->f);
  fflush (l->f);
  l->shown = 0;
}
