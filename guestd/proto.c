/* guestd protocol layer: the framing of wire.h on the channel fd.
 *
 * One call at a time.  main.c reads a request with gd_read_message and
 * brackets its handling with gd_call_begin / gd_call_end; in between, the
 * handler replies exactly once (gd_reply_ok or reply_with_*) and, for
 * FileIn / FileOut calls, reads or writes the chunk stream.  The state of
 * the current call (struct call) lets the reply functions do the right
 * thing whatever point a handler fails at: drain an unread FileIn stream
 * before an error reply, stay silent after the library cancelled, end an
 * open FileOut stream with a cancel chunk instead of a second reply.
 *
 * Any framing violation by the other side (impossible length, undecodable
 * chunk) means the two ends no longer agree where messages start: that is
 * fatal, the appliance powers off and the library sees the channel close.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

/* Longest chunk frame: cancel word, data length word, data. */
#define CHUNK_FRAME_MAX (8 + GK_CHUNK_MAX)

struct call {
  const struct gk_action *a;  /* NULL for an unknown procedure */
  uint32_t proc;              /* procedure number, echoed in the reply */
  uint32_t serial;            /* echoed in the reply */
  int replied;                /* a reply has been written */
  int silent;                 /* library cancelled its FileIn: never reply */
  int filein;                 /* a FileIn stream is still to be read */
  int fileout;                /* a FileOut stream is open */
};

static int chan = -1;
static struct call cur;
static unsigned char inbuf[4 + GK_MESSAGE_MAX];
static unsigned char outbuf[4 + GK_MESSAGE_MAX];
static unsigned char framebuf[4 + CHUNK_FRAME_MAX];
static char chunkdata[GK_CHUNK_MAX];

void
gd_proto_init (int fd)
{
  chan = fd;
  fcntl (fd, F_SETFD, FD_CLOEXEC);      /* never into a command's child */
}

/* Read exactly len bytes.  Returns 0, or -1 at end of file / error. */
static int
read_full (void *buf, size_t len)
{
  unsigned char *p = buf;

  while (len > 0) {
    ssize_t r = read (chan, p, len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == -1)
        gd_warn ("channel read: %m");
      return -1;
    }
    p += r;
    len -= (size_t) r;
  }
  return 0;
}

static void
write_full (const void *buf, size_t len)
{
  const unsigned char *p = buf;

  while (len > 0) {
    ssize_t r = write (chan, p, len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      gd_fatal ("channel write: %s", r == 0 ? "no progress" : strerror (errno));
    p += r;
    len -= (size_t) r;
  }
}

/* A bare word: the launch flag or a cancel flag. */
static void
write_word (uint32_t w)
{
  unsigned char b[4];

  gk_put_u32 (b, w);
  write_full (b, 4);
}

/* Read the next request into an internal buffer, valid until the next
 * call.  Stray cancel words (the library cancelling a FileOut we had
 * already finished) are skipped.  Returns 0, or -1 at end of file. */
int
gd_read_message (unsigned char **buf_r, uint32_t *len_r)
{
  uint32_t len;

  do {
    if (read_full (inbuf, 4) == -1)
      return -1;
    len = gk_get_u32 (inbuf);
  } while (len == GK_CANCEL_FLAG);
  if (len > GK_MESSAGE_MAX || len < GK_HEADER_LEN)
    gd_fatal ("request length %u out of range: channel out of step", len);
  if (read_full (inbuf + 4, len) == -1)
    gd_fatal ("channel closed inside a %u byte request", len);
  *buf_r = inbuf + 4;
  *len_r = len;
  return 0;
}

static int
has_arg (const struct gk_action *a, enum gk_argtype t)
{
  for (size_t i = 0; a && i < a->nargs; i++)
    if (a->args[i].type == t)
      return 1;
  return 0;
}

void
gd_call_begin (const struct gk_action *a, uint32_t proc, uint32_t serial)
{
  memset (&cur, 0, sizeof cur);
  cur.a = a;
  cur.proc = proc;
  cur.serial = serial;
  cur.filein = has_arg (a, GK_ARG_FILEIN);
}

const char *
gd_call_name (void)
{
  return cur.a ? cur.a->name : "guestd";
}

/* After the handler: make sure the call is closed on the wire whatever
 * the handler did (a missing reply would hang the library). */
void
gd_call_end (void)
{
  if (cur.fileout)
    gd_cancel_send ();
  if (!cur.replied && !cur.silent)
    reply_with_error ("internal error: the handler sent no reply");
  if (cur.filein)
    gd_cancel_receive ();
  cur.a = NULL;
}

/* Frame and write what was encoded into outbuf + 4. */
static void
send_encoded (XDR *x)
{
  u_int len = xdr_getpos (x);

  gk_put_u32 (outbuf, len);
  write_full (outbuf, 4 + (size_t) len);
}

static void
begin_reply (XDR *x, enum gk_status status)
{
  struct gk_header h = {
    .prog = GK_PROGRAM, .vers = GK_PROTOCOL_VERS, .proc = cur.proc,
    .direction = GK_REPLY, .serial = cur.serial, .status = status,
  };

  xdrmem_create (x, (char *) outbuf + 4, GK_MESSAGE_MAX, XDR_ENCODE);
  if (!gk_xdr_header (x, &h))
    gd_fatal ("cannot encode a reply header");
}

static void
send_error (const char *msg, int errnum)
{
  XDR x;
  struct gk_error e = { .message = (char *) msg, .errnum = errnum };

  begin_reply (&x, GK_ERROR);
  if (!gk_xdr_error (&x, &e))
    gd_fatal ("cannot encode an error reply");
  send_encoded (&x);
  xdr_destroy (&x);
}

/* The body shared by reply_with_error and reply_with_perror. */
static void
reply_error_v (int errnum, const char *fmt, va_list ap)
{
  char msg[GK_ERROR_LEN];
  size_t n;

  n = (size_t) snprintf (msg, sizeof msg, "%s: ", gd_call_name ());
  if (n < sizeof msg)
    vsnprintf (msg + n, sizeof msg - n, fmt, ap);
  n = strlen (msg);
  if (errnum && n < sizeof msg)
    snprintf (msg + n, sizeof msg - n, ": %s", strerror (errnum));

  if (cur.filein)
    gd_cancel_receive ();
  if (cur.silent)
    return;
  if (cur.fileout || cur.replied) {
    gd_warn ("%s (after the reply: %s)", msg,
             cur.fileout ? "transfer cancelled" : "not sent");
    gd_cancel_send ();
    return;
  }
  gd_log ("serial %u: error: %s", cur.serial, msg);
  send_error (msg, errnum);
  cur.replied = 1;
}

void
reply_with_error (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  reply_error_v (0, fmt, ap);
  va_end (ap);
}

void
reply_with_perror (const char *fmt, ...)
{
  int errnum = errno;
  va_list ap;

  va_start (ap, fmt);
  reply_error_v (errnum ? errnum : EIO, fmt, ap);
  va_end (ap);
}

void
gd_reply_ok (const struct gk_action *a, union gk_retval *r)
{
  union gk_retval none = { 0 };
  XDR x;

  if (a == NULL)
    a = cur.a;
  if (r == NULL)
    r = &none;
  if (cur.replied || cur.silent || a == NULL)
    return;
  begin_reply (&x, GK_OK);
  if (!gk_xdr_ret (&x, a, r, GK_MESSAGE_MAX)) {
    xdr_destroy (&x);
    reply_with_error ("result too large for the protocol");
    return;
  }
  send_encoded (&x);
  xdr_destroy (&x);
  cur.replied = 1;
  cur.fileout = has_arg (a, GK_ARG_FILEOUT);
  gd_log ("serial %u: ok", cur.serial);
}

/* Read and decode one chunk frame into chunkdata. */
static void
read_chunk (int *cancel, u_int *n)
{
  uint32_t len;
  char *data = chunkdata;
  XDR x;

  if (read_full (framebuf, 4) == -1)
    gd_fatal ("channel closed inside a file transfer");
  len = gk_get_u32 (framebuf);
  if (len < 8 || len > CHUNK_FRAME_MAX)
    gd_fatal ("chunk length %u out of range: channel out of step", len);
  if (read_full (framebuf + 4, len) == -1)
    gd_fatal ("channel closed inside a chunk");
  xdrmem_create (&x, (char *) framebuf + 4, len, XDR_DECODE);
  *n = 0;
  if (!gk_xdr_chunk (&x, cancel, &data, n) || xdr_getpos (&x) != len)
    gd_fatal ("undecodable chunk of %u bytes", len);
  xdr_destroy (&x);
}

int
gd_receive_file (int (*cb) (void *opaque, const void *buf, size_t len),
                 void *opaque)
{
  int cancel;
  u_int n;

  if (!cur.filein) {
    errno = EINVAL;
    return -1;
  }
  for (;;) {
    read_chunk (&cancel, &n);
    if (cancel) {
      cur.filein = 0;
      cur.silent = 1;
      gd_log ("serial %u: the library cancelled the upload", cur.serial);
      return -2;
    }
    if (n == 0) {
      cur.filein = 0;
      return 0;
    }
    if (cb && cb (opaque, chunkdata, n) == -1)
      return -1;
  }
}

void
gd_cancel_receive (void)
{
  int cancel;
  u_int n;

  if (!cur.filein)
    return;
  write_word (GK_CANCEL_FLAG);
  do
    read_chunk (&cancel, &n);
  while (n > 0 && !cancel);
  cur.filein = 0;
}

static void
send_chunk_frame (int cancel, const void *buf, u_int len)
{
  char *data = (char *) buf;
  XDR x;

  xdrmem_create (&x, (char *) outbuf + 4, GK_MESSAGE_MAX, XDR_ENCODE);
  if (!gk_xdr_chunk (&x, &cancel, &data, &len))
    gd_fatal ("cannot encode a chunk");
  send_encoded (&x);
  xdr_destroy (&x);
}

/* Has the library written a cancel word?  Never blocks unless a word has
 * started to arrive.  Anything but a cancel word here is a desync. */
static int
library_cancelled (void)
{
  struct pollfd p = { .fd = chan, .events = POLLIN };
  unsigned char b[4];

  if (poll (&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
    return 0;
  if (read_full (b, 4) == -1)
    gd_fatal ("channel closed during a download");
  if (gk_get_u32 (b) != GK_CANCEL_FLAG)
    gd_fatal ("unexpected word 0x%08x during a download", gk_get_u32 (b));
  return 1;
}

int
gd_send_chunk (const void *buf, size_t len)
{
  const char *p = buf;

  if (!cur.fileout) {
    errno = EINVAL;
    return -1;
  }
  if (len == 0) {
    send_chunk_frame (0, NULL, 0);
    cur.fileout = 0;
    return 0;
  }
  while (len > 0) {
    u_int n = len > GK_CHUNK_MAX ? GK_CHUNK_MAX : (u_int) len;
    if (library_cancelled ()) {
      gd_log ("serial %u: the library cancelled the download", cur.serial);
      gd_cancel_send ();
      errno = ECANCELED;
      return -1;
    }
    send_chunk_frame (0, p, n);
    p += n;
    len -= n;
  }
  return 0;
}

void
gd_cancel_send (void)
{
  if (!cur.fileout)
    return;
  send_chunk_frame (1, NULL, 0);
  cur.fileout = 0;
}

/* The launch flag: the first thing written once the channel is open. */
void
gd_send_launch_flag (void)
{
  write_word (GK_LAUNCH_FLAG);
}
