/* core/rpc.c: one call into guestd.  Encode the request from the action's
 * descriptor, send it, stream a FileIn argument, read and check the reply,
 * decode it, stream a FileOut argument to its local file.
 *
 * Everything that comes back is hostile until checked: the length word is
 * bounded by GK_MESSAGE_MAX, the header must echo our program, version,
 * procedure and serial, and the body must decode to exactly its length.
 * If the appliance dies at any point the call fails cleanly and the handle
 * returns to CONFIG (see child.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gk.h"

/* Wait until the channel is readable (events POLLIN) or writable
 * (POLLOUT), draining the console meanwhile.  -1 if qemu went away, or
 * if the call's time limit passed: qemu is then killed, and
 * g->call_timed_out set for the error message. */
static int
wait_channel (guestfs_h *g, short events)
{
  for (;;) {
    struct pollfd p[2] = {
      { .fd = g->sock, .events = events },
      { .fd = g->console, .events = POLLIN },
    };
    double left = g->call_deadline > 0 ? g->call_deadline - gk_now () : -1;
    int n;

    if (g->call_deadline > 0 && left <= 0) {
      g->call_timed_out = 1;
      if (g->pid > 0)
        kill (g->pid, SIGKILL);
      return -1;
    }
    n = poll (p, g->console >= 0 ? 2 : 1, left < 0 ? -1 : (int) (left * 1000) + 1);
    if (n == -1) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (g->console >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
      gk_console_drain (g);
    if (p[0].revents & (events | POLLHUP | POLLERR))
      return 0;
  }
}

ssize_t
gk_read_full (guestfs_h *g, void *buf, size_t n)
{
  size_t got = 0;
  enum gk_fault f = gk_fault_io (g, 0);        /* tests only (fault.c) */
  size_t want = f == GK_FAULT_SHORT ? n / 2 : n;

  if (f == GK_FAULT_CLOSE)
    return -1;
  while (got < want) {
    ssize_t r = read (g->sock, (char *) buf + got, want - got);
    if (r > 0) { got += (size_t) r; continue; }
    if (r == 0) return -1;                     /* EOF: appliance gone */
    if (errno == EINTR) continue;
    if (errno != EAGAIN || wait_channel (g, POLLIN) == -1)
      return -1;
  }
  if (f == GK_FAULT_SHORT)
    return -1;
  if (f == GK_FAULT_GARBAGE)
    gk_fault_scramble (buf, n);
  return (ssize_t) got;
}

static int
write_all (guestfs_h *g, const void *buf, size_t n)
{
  size_t done = 0;

  while (done < n) {
    /* send, not write: a dead appliance must not SIGPIPE the caller */
    ssize_t r = send (g->sock, (const char *) buf + done, n - done, MSG_NOSIGNAL);
    if (r > 0) { done += (size_t) r; continue; }
    if (r == -1 && errno == EINTR) continue;
    if (r == -1 && errno == EAGAIN && wait_channel (g, POLLOUT) == 0)
      continue;
    return -1;
  }
  return 0;
}

int
gk_write_full (guestfs_h *g, const void *buf, size_t n)
{
  enum gk_fault f = gk_fault_io (g, 1);        /* tests only (fault.c) */
  char *junk;
  int r;

  if (f == GK_FAULT_CLOSE)
    return -1;
  if (f == GK_FAULT_SHORT) {
    write_all (g, buf, n / 2);
    return -1;
  }
  if (f != GK_FAULT_GARBAGE)
    return write_all (g, buf, n);
  junk = gk_malloc (g, n);
  memcpy (junk, buf, n);
  gk_fault_scramble (junk, n);
  r = write_all (g, junk, n);
  free (junk);
  return r;
}

static char *
msgbuf (guestfs_h *g)
{
  if (g->msgbuf == NULL)
    g->msgbuf = gk_malloc (g, GK_MESSAGE_MAX + 4);
  return g->msgbuf;
}

/* Encode and send header + args.  -2 if the arguments are too large. */
static int
send_request (guestfs_h *g, const struct gk_action *a, union gk_val *args,
              uint32_t serial)
{
  char *buf = msgbuf (g);
  struct gk_header h = { GK_PROGRAM, GK_PROTOCOL_VERS, (uint32_t) a->proc,
                         GK_CALL, serial, GK_OK };
  XDR x;
  u_int len;

  xdrmem_create (&x, buf + 4, GK_MESSAGE_MAX, XDR_ENCODE);
  if (!gk_xdr_header (&x, &h) ||
      !gk_xdr_args (&x, a, args, GK_MESSAGE_MAX)) {
    xdr_destroy (&x);
    return -2;
  }
  len = xdr_getpos (&x);
  xdr_destroy (&x);
  gk_put_u32 ((unsigned char *) buf, len);
  return gk_write_full (g, buf, len + 4);
}

/* Read one framed message (a reply, or a chunk: `min' is the smallest
 * legal length) into the handle's buffer; returns its length, -1 on I/O
 * failure, -2 on a bad length word. */
static ssize_t
read_message (guestfs_h *g, uint32_t min)
{
  unsigned char w[4];
  uint32_t len;

  /* Skip late cancels of a FileIn.  A loop, not recursion: a hostile
   * daemon may send any number of them. */
  do {
    if (gk_read_full (g, w, 4) == -1)
      return -1;
    len = gk_get_u32 (w);
  } while (len == GK_CANCEL_FLAG);
  if (len < min || len > GK_MESSAGE_MAX)
    return -2;
  if (gk_read_full (g, msgbuf (g), len) == -1)
    return -1;
  return (ssize_t) len;
}

static int
io_failed (guestfs_h *g, const struct gk_action *a)
{
  int timed_out = g->call_timed_out;

  g->call_timed_out = 0;
  g->call_deadline = 0;
  gk_child_died (g, a->name);
  if (timed_out) {
    g->error_pending = 0;
    gk_error (g, "%s: the call took more than its time limit of %d s "
              "(set_call_timeout, GUESTKIT_CALL_TIMEOUT): the appliance was "
              "killed", a->name, g->call_timeout);
  }
  return -1;
}

/* A reply we cannot trust: drop the appliance, it is out of step. */
static int
protocol_error (guestfs_h *g, const struct gk_action *a, const char *what)
{
  gk_shutdown (g);
  gk_error (g, "%s: bad reply from the appliance: %s", a->name, what);
  return -1;
}

/* Decode the reply in buf (len bytes, after the length word).  Returns
 * 0 OK (*ret filled), 1 error reply (message set in g), 2 a stale reply
 * to skip, -1 malformed (*why says how). */
int
gk_decode_reply (guestfs_h *g, const struct gk_action *a, const char *buf,
                 size_t len, uint32_t serial, union gk_retval *ret,
                 const char **why)
{
  struct gk_header h;
  XDR x;
  int r = -1;

  xdrmem_create (&x, (char *) buf, (u_int) len, XDR_DECODE);
  if (!gk_xdr_header (&x, &h)) { *why = "short header"; goto out; }
  if (h.prog != GK_PROGRAM || h.vers != GK_PROTOCOL_VERS ||
      h.direction != GK_REPLY) { *why = "wrong program or direction"; goto out; }
  if (h.serial != serial && serial - h.serial < 16) {
    r = 2;                /* a late reply to an earlier, cancelled call */
    goto out;
  }
  if (h.serial != serial || h.proc != (uint32_t) a->proc) {
    *why = "reply to another call"; goto out;
  }
  if (h.status == GK_ERROR) {
    struct gk_error e = { NULL, 0 };
    if (!gk_xdr_error (&x, &e)) {
      *why = "undecodable error message";
      xdr_free ((xdrproc_t) xdr_wrapstring, (char *) &e.message);
      goto out;
    }
    /* The appliance's text may reach a terminal: no control characters. */
    for (char *p = e.message; *p; p++)
      if ((*p > 0 && *p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
        *p = '?';
    gk_set_error_string (g, e.message);
    free (e.message);
    r = 1;
    goto out;
  }
  if (h.status != GK_OK) { *why = "unknown status"; goto out; }
  if (!gk_xdr_ret (&x, a, ret, len) || xdr_getpos (&x) != len) {
    gk_free_ret (a, ret);
    *why = "undecodable or oversized result";
    goto out;
  }
  r = 0;
 out:
  xdr_destroy (&x);
  return r;
}

/* Decode one chunk (len bytes, after the length word).  0, or -1 if
 * malformed; *data (caller frees) holds *n bytes, NULL when empty. */
int
gk_decode_chunk (const char *buf, size_t len, int *cancel, char **data,
                 u_int *n)
{
  XDR x;
  int r = 0;

  *data = NULL;
  *n = 0;
  xdrmem_create (&x, (char *) buf, (u_int) len, XDR_DECODE);
  if (!gk_xdr_chunk (&x, cancel, data, n) || xdr_getpos (&x) != (u_int) len) {
    free (*data);
    *data = NULL;
    r = -1;
  }
  xdr_destroy (&x);
  return r;
}

/* ---- chunk streams ---- */

static int
send_chunk (guestfs_h *g, int cancel, const char *data, u_int n)
{
  char hdr[16];
  XDR x;
  u_int len;
  char *p = (char *) data;

  /* XDR of { int cancel; opaque data<> } is 8 bytes + padded data. */
  xdrmem_create (&x, hdr + 4, 12, XDR_ENCODE);
  if (!xdr_int (&x, &cancel) || !xdr_u_int (&x, &n)) {
    xdr_destroy (&x);
    return -1;
  }
  xdr_destroy (&x);
  len = 8 + ((n + 3) & ~3u);
  gk_put_u32 ((unsigned char *) hdr, len);
  if (gk_write_full (g, hdr, 12) == -1)
    return -1;
  if (n && gk_write_full (g, p, n) == -1)
    return -1;
  if (n & 3) {
    static const char pad[4];
    if (gk_write_full (g, pad, 4 - (n & 3)) == -1)
      return -1;
  }
  return 0;
}

/* Has guestd written a cancel word while we stream to it? */
static int
daemon_cancelled (guestfs_h *g)
{
  struct pollfd p = { .fd = g->sock, .events = POLLIN };
  unsigned char w[4];

  if (poll (&p, 1, 0) <= 0 || !(p.revents & POLLIN))
    return 0;
  if (gk_read_full (g, w, 4) == -1)
    return -1;
  return gk_get_u32 (w) == GK_CANCEL_FLAG ? 1 : -1;
}

/* n more bytes of the transfer have moved: tell the progress callback. */
static void
progress (guestfs_h *g, uint64_t n)
{
  g->xfer_pos += n;
  if (g->progress_cb && n)
    g->progress_cb (g, g->progress_cb_data, g->xfer_proc, (int) g->xfer_serial,
                    g->xfer_pos, g->xfer_total);
}

/* Stream a local file into the appliance.  Returns 0 when sent, 1 when
 * the daemon cancelled (its error reply follows), -1 on I/O failure,
 * -2 on a local read error (the stream was cancelled by us). */
static int
send_file (guestfs_h *g, const char *path, int *local_errno)
{
  size_t cap = GK_CHUNK_MAX;
  char *buf = msgbuf (g);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  int r;

  if (fd == -1) {
    *local_errno = errno;
    return send_chunk (g, 1, NULL, 0) == -1 ? -1 : -2;
  }
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    g->xfer_total = (uint64_t) st.st_size;
  for (;;) {
    ssize_t n = read (fd, buf, cap);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) {
      *local_errno = errno;
      close (fd);
      return send_chunk (g, 1, NULL, 0) == -1 ? -1 : -2;
    }
    if ((r = daemon_cancelled (g)) != 0) {
      close (fd);
      if (r == -1 || send_chunk (g, 1, NULL, 0) == -1)
        return -1;
      return 1;
    }
    if (send_chunk (g, 0, buf, (u_int) n) == -1) {
      close (fd);
      return -1;
    }
    progress (g, (uint64_t) n);
    if (n == 0)
      break;
  }
  close (fd);
  return 0;
}

/* Open the local destination of a FileOut.  Regular files are written to a
 * temp file beside the target and renamed into place when complete. */
static int
open_dest (guestfs_h *g, const char *path, char **tmp)
{
  struct stat st;
  int fd;

  *tmp = NULL;
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    return open (path, O_WRONLY | O_CLOEXEC);   /* /dev/stdout, a pipe ... */
  *tmp = gk_asprintf (g, "%s.guestkit-XXXXXX", path);
  fd = mkostemp (*tmp, O_CLOEXEC);
  if (fd == -1) {
    free (*tmp);
    *tmp = NULL;
  }
  return fd;
}

/* write(2) to a local file that may be a pipe whose reader has gone:
 * EPIPE, never a SIGPIPE that would kill the caller.  The signal is
 * blocked in this thread for the write, and one it raised is consumed
 * unless it was already pending (the process may receive it anyway if
 * the caller's own SIGPIPE was pending process-wide: not ours to take). */
static ssize_t
write_nosigpipe (int fd, const void *buf, size_t n)
{
  static const struct timespec zero = { 0, 0 };
  sigset_t pipe_set, old, pending;
  ssize_t w;
  int was_pending, saved;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
  w = write (fd, buf, n);
  saved = errno;
  /* A write cut short by the reader's exit returns what it wrote but
   * still raises the signal: look at what is pending, not at errno. */
  sigpending (&pending);
  if (!was_pending && sigismember (&pending, SIGPIPE))
    while (sigtimedwait (&pipe_set, NULL, &zero) == -1 && errno == EINTR)
      ;
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  errno = saved;
  return w;
}

/* Receive a chunk stream into fd.  0 complete, 1 cancelled by the daemon,
 * -1 I/O failure, -2 protocol error, -3 local write error (we asked the
 * daemon to cancel and drained the stream). */
static int
receive_file (guestfs_h *g, int fd, int *local_errno)
{
  int wfailed = 0;

  for (;;) {
    ssize_t len = read_message (g, 8);
    int cancel = 0;
    char *data = NULL;
    u_int n = 0;

    if (len == -1) return -1;
    if (len == -2) return -2;
    if (gk_decode_chunk (msgbuf (g), (size_t) len, &cancel, &data, &n) == -1)
      return -2;
    if (n == 0) {
      free (data);
      return wfailed ? -3 : cancel ? 1 : 0;
    }
    if (!wfailed && fd >= 0) {
      size_t off = 0;
      while (off < n) {
        ssize_t w = write_nosigpipe (fd, data + off, n - off);
        if (w == -1 && errno == EINTR) continue;
        if (w <= 0) {
          unsigned char cw[4];
          *local_errno = errno;
          wfailed = 1;
          gk_put_u32 (cw, GK_CANCEL_FLAG);
          if (gk_write_full (g, cw, 4) == -1) { free (data); return -1; }
          break;
        }
        off += (size_t) w;
      }
    }
    progress (g, n);
    free (data);
  }
}

static const char *
file_arg (const struct gk_action *a, union gk_val *args, enum gk_argtype t)
{
  for (size_t i = 0; i < a->nargs; i++)
    if (a->args[i].type == t)
      return args[i].s;
  return NULL;
}

static int
finish_fileout (guestfs_h *g, const struct gk_action *a, const char *dest)
{
  char *tmp;
  int local_errno = 0;
  int fd = open_dest (g, dest, &tmp);
  int r;

  if (fd == -1)
    local_errno = errno;
  r = receive_file (g, fd, &local_errno);
  if (fd >= 0 && close (fd) == -1 && r == 0) {
    local_errno = errno;
    r = -3;
  }
  if (r == 0 && tmp && rename (tmp, dest) == -1) {
    local_errno = errno;
    r = -3;
  }
  if (r != 0 && tmp)
    unlink (tmp);
  free (tmp);
  if (r == 0 && fd == -1)
    r = -3;
  switch (r) {
  case 0: return 0;
  case 1: gk_error (g, "%s: the appliance cancelled the transfer", a->name); return -1;
  case -1: return io_failed (g, a);
  case -2: return protocol_error (g, a, "malformed file chunk");
  default:
    errno = local_errno;
    gk_perror (g, "%s: %s", a->name, dest);
    return -1;
  }
}

/* After a FileIn stream: the daemon's reply comes as usual. */
static int
finish_filein (guestfs_h *g, const struct gk_action *a, const char *src,
               int *local_errno)
{
  int r = send_file (g, src, local_errno);
  if (r == -1)
    return io_failed (g, a);
  return r;
}

static int
call (guestfs_h *g, const struct gk_action *a, union gk_val *args,
      union gk_retval *ret)
{
  uint32_t serial;
  ssize_t len;
  const char *why = "";
  int r, local_errno = 0, in_r = 0;

  if (gk_enter (g, a, args) == -1)
    return -1;
  gk_use_end (g);               /* gk_call holds the handle (child.c) */
  if (!a->done) {
    gk_not_supported (g, a);
    return -1;
  }
  g->state = GK_BUSY;
  serial = g->serial++;
  g->xfer_proc = a->proc;
  g->xfer_serial = serial;
  g->xfer_pos = g->xfer_total = 0;
  r = send_request (g, a, args, serial);
  if (r == -2) {
    g->state = GK_READY;
    gk_error (g, "%s: arguments are too large for the protocol (limit %u bytes)",
              a->name, GK_MESSAGE_MAX);
    return -1;
  }
  if (r == -1)
    return io_failed (g, a);
  if (file_arg (a, args, GK_ARG_FILEIN)) {
    in_r = finish_filein (g, a, file_arg (a, args, GK_ARG_FILEIN), &local_errno);
    if (in_r == -1)
      return -1;
    if (in_r == -2) {             /* we cancelled: no reply will come */
      g->state = GK_READY;
      errno = local_errno;
      gk_perror (g, "%s: %s", a->name, file_arg (a, args, GK_ARG_FILEIN));
      return -1;
    }
  }
  do {
    len = read_message (g, GK_HEADER_LEN);
    if (len == -1)
      return io_failed (g, a);
    if (len == -2)
      return protocol_error (g, a, "bad length word");
    r = gk_decode_reply (g, a, msgbuf (g), (size_t) len, serial, ret, &why);
  } while (r == 2);
  if (r == -1)
    return protocol_error (g, a, why);
  if (r == 1) {
    g->state = GK_READY;
    return -1;
  }
  if (file_arg (a, args, GK_ARG_FILEOUT)) {
    r = finish_fileout (g, a, file_arg (a, args, GK_ARG_FILEOUT));
    if (r == -1) {
      gk_free_ret (a, ret);
      if (g->state == GK_BUSY)
        g->state = GK_READY;
      return -1;
    }
  }
  /* XDR allocates nothing for an empty buffer: the caller still gets a
   * pointer to free, as the prototype promises. */
  if (a->ret == GK_RET_BUFFEROUT && ret->b.buf == NULL)
    ret->b.buf = gk_malloc (g, 1);
  g->state = GK_READY;
  return 0;
}

/* The first call to a restored appliance (GK_PROC_RESUME): the clock, a
 * fresh random seed, the verbose flag, and how many hot-added disks to
 * wait for.  0 on success; -1 with the error set. */
int
gk_rpc_resume (guestfs_h *g, int ndisks)
{
  static const struct gk_action resume = {
    .name = "resume", .proc = (int) GK_PROC_RESUME, .ret = GK_RET_ERR,
  };
  char seed[GK_SEED_LEN], *buf = msgbuf (g);
  struct timespec now;
  struct gk_resume r = { .seed = seed, .seed_len = GK_SEED_LEN,
                         .verbose = g->verbose, .ndisks = ndisks };
  struct gk_header h = { GK_PROGRAM, GK_PROTOCOL_VERS, GK_PROC_RESUME,
                         GK_CALL, g->serial++, GK_OK };
  union gk_retval none = { 0 };
  const char *why = "";
  ssize_t len;
  XDR x;
  int rr;

  if (getrandom (seed, sizeof seed, 0) != (ssize_t) sizeof seed) {
    gk_perror (g, "launch: getrandom");
    return -1;
  }
  clock_gettime (CLOCK_REALTIME, &now);
  r.time_sec = now.tv_sec;
  r.time_nsec = (int32_t) now.tv_nsec;
  xdrmem_create (&x, buf + 4, GK_MESSAGE_MAX, XDR_ENCODE);
  if (!gk_xdr_header (&x, &h) || !gk_xdr_resume (&x, &r)) {
    xdr_destroy (&x);
    gk_error (g, "launch: cannot encode the resume call");
    return -1;
  }
  gk_put_u32 ((unsigned char *) buf, xdr_getpos (&x));
  xdr_destroy (&x);
  explicit_bzero (seed, sizeof seed);
  if (gk_write_full (g, buf, gk_get_u32 ((unsigned char *) buf) + 4) == -1 ||
      (len = read_message (g, GK_HEADER_LEN)) < 0) {
    gk_error (g, "launch: the restored appliance did not answer");
    return -1;
  }
  rr = gk_decode_reply (g, &resume, msgbuf (g), (size_t) len, h.serial,
                       &none, &why);
  if (rr == -1)
    gk_error (g, "launch: bad answer from the restored appliance: %s", why);
  return rr == 0 ? 0 : -1;
}

/* One daemon call, within the handle's time limit (set_call_timeout). */
int
gk_call (guestfs_h *g, const struct gk_action *a, union gk_val *args,
         union gk_retval *ret)
{
  int r;

  gk_use_begin (g, 0);
  g->call_deadline = g->call_timeout > 0 ? gk_now () + g->call_timeout : 0;
  r = call (g, a, args, ret);
  g->call_deadline = 0;
  gk_use_end (g);
  return r;
}
