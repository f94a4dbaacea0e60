/* core/errors.c: the handle's last error, the error and out-of-memory
 * handlers, allocation wrappers and debug output.
 *
 * The library never prints except through these: errors go to the error
 * handler (stderr by default), debug lines go to stderr only when the
 * handle is verbose.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk.h"

void
gk_default_error_handler (guestfs_h *g, void *opaque, const char *msg)
{
  fprintf (stderr, "guestkit: error: %s\n", msg);
}

/* The error handler hears of it (even where errors are kept quiet: this
 * one is never recovered from; no allocation needed), then the
 * out-of-memory handler runs, then the process aborts. */
static void
out_of_memory (guestfs_h *g)
{
  if (g && g->error_cb)
    g->error_cb (g, g->error_cb_data, "out of memory");
  if (g && g->abort_cb)
    g->abort_cb ();
  abort ();
}

void
gk_set_error_string (guestfs_h *g, const char *msg)
{
  char *copy = strdup (msg);

  if (copy == NULL)
    out_of_memory (g);
  free (g->last_error);
  g->last_error = copy;
  g->error_pending = 1;
  if (g->error_cb && !g->quiet_errors)
    g->error_cb (g, g->error_cb_data, g->last_error);
}

static void
verror (guestfs_h *g, int errnum, const char *fmt, va_list ap)
{
  char *msg;

  if (vasprintf (&msg, fmt, ap) == -1)
    out_of_memory (g);
  if (errnum) {
    char *m2;
    if (asprintf (&m2, "%s: %s", msg, strerror (errnum)) == -1)
      out_of_memory (g);
    free (msg);
    msg = m2;
  }
  gk_set_error_string (g, msg);
  free (msg);
}

void
gk_error (guestfs_h *g, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  verror (g, 0, fmt, ap);
  va_end (ap);
}

void
gk_perror (guestfs_h *g, const char *fmt, ...)
{
  int errnum = errno;
  va_list ap;

  va_start (ap, fmt);
  verror (g, errnum, fmt, ap);
  va_end (ap);
}

int
gk_error_pending (guestfs_h *g)
{
  return g->error_pending;
}

void *
gk_malloc (guestfs_h *g, size_t n)
{
  void *p = gk_fault_alloc () ? NULL : malloc (n ? n : 1);
  if (p == NULL)
    out_of_memory (g);
  return p;
}

void *
gk_calloc (guestfs_h *g, size_t n, size_t size)
{
  void *p = gk_fault_alloc () ? NULL : calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    out_of_memory (g);
  return p;
}

void *
gk_realloc (guestfs_h *g, void *p, size_t n)
{
  void *q = gk_fault_alloc () ? NULL : realloc (p, n ? n : 1);
  if (q == NULL)
    out_of_memory (g);
  return q;
}

char *
gk_strdup (guestfs_h *g, const char *s)
{
  char *p = gk_fault_alloc () ? NULL : strdup (s);
  if (p == NULL)
    out_of_memory (g);
  return p;
}

char *
gk_asprintf (guestfs_h *g, const char *fmt, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, fmt);
  r = gk_fault_alloc () ? -1 : vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r == -1)
    out_of_memory (g);
  return s;
}

void
gk_debug (guestfs_h *g, const char *fmt, ...)
{
  va_list ap;

  if (!g->verbose)
    return;
  va_start (ap, fmt);
  fputs ("guestkit: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

const char *
guestfs_last_error (guestfs_h *g)
{
  return g->last_error;
}

void
guestfs_set_error_handler (guestfs_h *g, guestfs_error_handler_cb cb,
                           void *opaque)
{
  g->error_cb = cb;
  g->error_cb_data = opaque;
}

guestfs_error_handler_cb
guestfs_get_error_handler (guestfs_h *g, void **opaque_rtn)
{
  if (opaque_rtn)
    *opaque_rtn = g->error_cb_data;
  return g->error_cb;
}

void
guestfs_set_out_of_memory_handler (guestfs_h *g, guestfs_abort_cb cb)
{
  g->abort_cb = cb;
}

guestfs_abort_cb
guestfs_get_out_of_memory_handler (guestfs_h *g)
{
  return g->abort_cb;
}
