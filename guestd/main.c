/* guestd: the daemon inside the guestkit appliance.
 *
 * In the appliance guestd is /init: it sets the system up (init.c), opens
 * the virtio-serial port named GD_CHANNEL_NAME, writes the launch flag and
 * then serves one request at a time until the channel closes, when it
 * powers the appliance off.
 *
 * For tests it also runs as an ordinary process on a host:
 *
 *   guestd --channel-fd N [--sysroot DIR] [--verbose]
 *   guestd --channel PATH [--sysroot DIR] [--verbose]
 *
 * serves the protocol on an inherited fd (a socketpair end) or on a file,
 * FIFO or Unix socket path, with guest paths resolved under DIR instead of
 * /sysroot.  No system set-up is done then, and end of file just exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guestd.h"

#define MAX_ARGS 16             /* more than any call in the table */

int gd_verbose;
int gd_pid1;

/* Log lines carry the time since boot, to see where boot time goes. */
static void
vlog (const char *fmt, va_list ap)
{
  struct timespec ts;

  clock_gettime (CLOCK_BOOTTIME, &ts);
  fprintf (stderr, "guestd: [%ld.%03ld] ", (long) ts.tv_sec,
           ts.tv_nsec / 1000000);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
}

void
gd_log (const char *fmt, ...)
{
  va_list ap;

  if (!gd_verbose)
    return;
  va_start (ap, fmt);
  vlog (fmt, ap);
  va_end (ap);
}

void
gd_warn (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vlog (fmt, ap);
  va_end (ap);
}

void
gd_fatal (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vlog (fmt, ap);
  va_end (ap);
  gd_poweroff ();
}

/* Decode and run one request.  Only errors that can be answered (the
 * serial is known) are answered; the rest is logged. */
static void
handle_message (unsigned char *buf, uint32_t len)
{
  struct gk_header h;
  const struct gk_action *a;
  union gk_val args[MAX_ARGS];
  XDR x;

  xdrmem_create (&x, (char *) buf, len, XDR_DECODE);
  if (!gk_xdr_header (&x, &h))
    gd_fatal ("undecodable request header");
  if (h.prog != GK_PROGRAM || h.direction != GK_CALL)
    gd_fatal ("request with program 0x%x direction %u: channel out of step",
              h.prog, h.direction);
  if (h.proc == GK_PROC_RESUME) {
    gd_resume (&x, len, h.serial);
    xdr_destroy (&x);
    return;
  }
  a = h.proc <= 0x7fffffff ? gk_action_by_proc ((int) h.proc) : NULL;
  gd_call_begin (a, h.proc, h.serial);
  gd_log ("serial %u: call %s (proc %u, %u bytes)", h.serial,
          a ? a->name : "?", h.proc, len);
  if (h.vers != GK_PROTOCOL_VERS)
    reply_with_error ("protocol version %u, this daemon speaks %u",
                      h.vers, GK_PROTOCOL_VERS);
  else if (a == NULL)
    reply_with_error ("unknown procedure number %u", h.proc);
  else if (a->nargs > MAX_ARGS)
    reply_with_error ("too many arguments in the action table");
  else if (!gk_xdr_args (&x, a, args, len)) {
    gk_free_args (a, args);
    reply_with_error ("cannot decode the arguments");
  } else if (xdr_getpos (&x) != len) {
    gk_free_args (a, args);
    reply_with_error ("%u unexpected bytes after the arguments",
                      len - xdr_getpos (&x));
  } else {
    gd_dispatch (a, args);
    gk_free_args (a, args);
  }
  gd_call_end ();
  xdr_destroy (&x);
}

static void
serve (int fd)
{
  unsigned char *buf;
  uint32_t len;

  gd_proto_init (fd);
  gd_send_launch_flag ();
  for (;;) {
    gd_reap_children ();
    if (gd_read_message (&buf, &len) == -1)
      break;
    handle_message (buf, len);
  }
  gd_log ("channel closed");
}

/* --channel PATH: a Unix socket to connect to, or any openable file. */
static int
open_channel_path (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd;

  fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0 || errno != ENXIO || strlen (path) >= sizeof sun.sun_path)
    return fd;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return -1;
  strcpy (sun.sun_path, path);
  if (connect (fd, (struct sockaddr *) &sun, sizeof sun) == -1) {
    close (fd);
    return -1;
  }
  return fd;
}

static _Noreturn void
usage (void)
{
  fprintf (stderr, "usage: guestd [--channel PATH | --channel-fd N] "
           "[--sysroot DIR] [--verbose]\n");
  exit (2);
}

int
main (int argc, char *argv[])
{
  static const struct option opts[] = {
    { "channel", required_argument, NULL, 'c' },
    { "channel-fd", required_argument, NULL, 'f' },
    { "sysroot", required_argument, NULL, 's' },
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *channel = NULL;
  int fd = -1, c;

  signal (SIGPIPE, SIG_IGN);   /* a closed channel is an error, not death */
  gd_pid1 = getpid () == 1;
  while (!gd_pid1 && (c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'c': channel = optarg; break;
    case 'f': fd = atoi (optarg); break;
    case 's': gd_sysroot = optarg; gd_sysroot_assume_mounted = 1; break;
    case 'v': gd_verbose = 1; break;
    default: usage ();
    }
  }
  if (gd_pid1)
    gd_init_system ();
  else if (channel == NULL && fd < 0)
    usage ();

  setenv ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv ("LC_ALL", "C", 1);
  gd_devices_init ();

  if (channel && (fd = open_channel_path (channel)) == -1) {
    fprintf (stderr, "guestd: %s: %m\n", channel);
    exit (1);
  }
  if (fd < 0)
    fd = gd_find_channel ();
  serve (fd);
  if (gd_pid1)
    gd_poweroff ();
  return 0;
}
