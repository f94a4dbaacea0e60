/* runner/shell-progress.c: the shell's progress bar for file transfers
 * (upload, download, tar-in, tar-out, ...: every FileIn or FileOut
 * call), drawn from the library's progress callback.
 *
 * It is drawn on stderr, and only when stderr is a terminal, so that
 * output going to a pipe or file never carries it; at most ten redraws
 * a second; the line is wiped when the call returns.  Without a known
 * total (a download) it shows the bytes so far and the rate.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

static struct {
  int shown;                 /* a bar is on the screen */
  double start, last;        /* when the transfer began, last redraw */
  int serial;                /* the transfer being shown */
} bar = { 0, 0, 0, -1 };

static void
human (char *buf, size_t size, double bytes)
{
  static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  int u = 0;

  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    u++;
  }
  snprintf (buf, size, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static void
draw (guestfs_h *g, void *opaque, int proc, int serial, uint64_t pos, uint64_t total)
{
  double now = rn_now ();
  char done[32], rate[32];
  const int width = 30;

  (void) g; (void) opaque; (void) proc;
  if (serial != bar.serial) {
    bar.serial = serial;
    bar.start = now;
    bar.last = 0;
  }
  if (now - bar.last < 0.1 && !(total && pos >= total))
    return;
  bar.last = now;
  human (done, sizeof done, (double) pos);
  human (rate, sizeof rate, now > bar.start ? (double) pos / (now - bar.start) : 0);
  if (total) {
    int fill = (int) ((double) pos * width / (double) total);
    if (fill > width)
      fill = width;
    fprintf (stderr, "\r[%.*s%*s] %3d%%  %s  %s/s\033[K", fill,
             "##############################", width - fill, "",
             (int) ((double) pos * 100 / (double) total), done, rate);
  } else
    fprintf (stderr, "\r[%c] %s  %s/s\033[K", "|/-\\"[(int) (now * 4) % 4], done, rate);
  fflush (stderr);
  bar.shown = 1;
}

void
rn_sh_progress_start (guestfs_h *g)
{
  if (isatty (STDERR_FILENO))
    guestfs_set_progress_callback (g, draw, NULL);
}

void
rn_sh_progress_done (void)
{
  if (bar.shown) {
    fputs ("\r\033[K", stderr);
    fflush (stderr);
    bar.shown = 0;
  }
  bar.serial = -1;
}
