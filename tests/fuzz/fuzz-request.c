/* tests/fuzz/fuzz-request.c: fuzz guestd's side of the channel, in
 * process and without a VM: the request framing and decoder, the resume
 * call, and FileIn chunk streams (with their cancels, both ways), up to
 * the replies and FileOut streams guestd writes back.
 *
 * guestd's own main.c and proto.c are compiled into this file (included
 * below, with main renamed), so the code under test is exactly guestd's
 * serve() loop and its static handle_message(), unchanged.  What the
 * appliance would do is replaced by stubs here: no system set-up, and a
 * fake dispatcher instead of the handlers.  The fake dispatcher checks
 * the decoded arguments (every string NUL-terminated, every list
 * NULL-terminated), reads a FileIn stream (failing it when a chunk starts
 * with '!', to drive guestd's own cancel), and answers a FileOut call
 * with a short stream.  gd_poweroff, which guestd's fatal errors end in,
 * jumps back here.
 *
 * Input: the bytes the library would write on the channel.  They are fed
 * through a socketpair by a second thread, which also drains what guestd
 * writes back.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>

int guestd_main (int argc, char *argv[]);
#define main guestd_main
#include "../../guestd/main.c"
#undef main
#include "../../guestd/proto.c"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static jmp_buf powered_off;
/* While the fake dispatcher runs, a copy of the decoded arguments (whose
 * array is in handle_message's frame): freed here if a fatal error jumps
 * out of the handler, as handle_message then never frees them. */
static const struct gk_action *pending_a;
static union gk_val pending_args[MAX_ARGS];

/* ---- stubs for what the rest of guestd provides ---- */

const char *gd_sysroot = "/nonexistent-guestkit-sysroot";
int gd_sysroot_assume_mounted = 1;

void gd_init_system (void) { }
void gd_reap_children (void) { }
void gd_devices_init (void) { }
int gd_find_channel (void) { return -1; }

_Noreturn void
gd_poweroff (void)
{
  longjmp (powered_off, 1);
}

/* resume.c's decoding and checks, without setting the clock, seeding the
 * RNG or scanning disks. */
void
gd_resume (XDR *x, uint32_t len, uint32_t serial)
{
  static const struct gk_action resume = {
    .name = "resume", .proc = (int) GK_PROC_RESUME, .ret = GK_RET_ERR,
  };
  struct gk_resume r = { 0 };

  gd_call_begin (&resume, GK_PROC_RESUME, serial);
  if (!gk_xdr_resume (x, &r) || xdr_getpos (x) != len ||
      r.seed_len != GK_SEED_LEN || r.ndisks < 0 || r.ndisks > 26)
    reply_with_error ("malformed resume request");
  else
    gd_reply_ok (&resume, NULL);
  free (r.seed);
  gd_call_end ();
}

static size_t checksum;

static int
sink (void *opaque, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  checksum += p[0] + p[len - 1];
  if (p[0] == '!') {
    errno = EIO;
    return -1;
  }
  return 0;
}

static void
check_args (const struct gk_action *a, const union gk_val *args)
{
  for (size_t i = 0; i < a->nargs; i++) {
    switch (a->args[i].type) {
    case GK_ARG_STRING: case GK_ARG_DEVICE: case GK_ARG_DEV_OR_PATH:
    case GK_ARG_PATHNAME:
      checksum += strlen (args[i].s);
      break;
    case GK_ARG_OPTSTRING:
      checksum += args[i].s ? strlen (args[i].s) : 0;
      break;
    case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST:
      for (size_t j = 0; args[i].sl[j]; j++)
        checksum += strlen (args[i].sl[j]);
      break;
    default:
      break;
    }
  }
}

void
gd_dispatch (const struct gk_action *a, union gk_val *args)
{
  int r;

  pending_a = a;
  memcpy (pending_args, args, a->nargs * sizeof *args);
  check_args (a, args);
  if (has_arg (a, GK_ARG_FILEIN)) {
    r = gd_receive_file (sink, NULL);
    if (r == -1)
      reply_with_perror ("fuzz sink");      /* cancels and drains */
    else if (r == 0)
      gd_reply_ok (a, NULL);
  } else if (has_arg (a, GK_ARG_FILEOUT) && a->ret == GK_RET_ERR) {
    gd_reply_ok (a, NULL);
    if (gd_send_chunk ("fuzz", 4) == 0 && gd_send_chunk ("data", 4) == 0)
      gd_send_chunk (NULL, 0);
  } else if (a->ret == GK_RET_ERR)
    gd_reply_ok (a, NULL);
  else
    reply_with_error ("no handler in the fuzz build");
  pending_a = NULL;
}

/* ---- the other end of the channel ---- */

struct feed {
  int fd;
  const uint8_t *data;
  size_t left;
};

static void *
feeder (void *arg)
{
  struct feed *f = arg;
  char junk[65536];

  for (;;) {
    struct pollfd p = { .fd = f->fd, .events = POLLIN };
    ssize_t n;

    if (f->left)
      p.events |= POLLOUT;
    if (poll (&p, 1, -1) == -1)
      continue;
    if (p.revents & (POLLIN | POLLHUP)) {
      n = read (f->fd, junk, sizeof junk);
      if (n <= 0)
        break;                   /* guestd's end is closed */
    }
    if (f->left && (p.revents & POLLOUT)) {
      n = send (f->fd, f->data, f->left, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        f->data += n;
        f->left -= (size_t) n;
      }
      if (n == -1 && errno != EAGAIN)
        f->left = 0;
      if (f->left == 0)
        shutdown (f->fd, SHUT_WR);   /* guestd reads end of file */
    }
  }
  return NULL;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  signal (SIGPIPE, SIG_IGN);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int sv[2];
  struct feed f;
  pthread_t t;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
    abort ();
  f.fd = sv[1];
  f.data = data;
  f.left = size;
  if (size == 0)
    shutdown (sv[1], SHUT_WR);
  if (pthread_create (&t, NULL, feeder, &f) != 0)
    abort ();
  if (setjmp (powered_off) == 0)
    serve (sv[0]);
  else if (pending_a) {            /* fatal inside the handler */
    gk_free_args (pending_a, pending_args);
    pending_a = NULL;
  }
  close (sv[0]);
  pthread_join (t, NULL);
  close (sv[1]);
  return 0;
}
