/* runner/shell-remote.c: one shell as a server, others sending it
 * commands (guestkit shell --listen / --remote), so that a script can
 * run many shell invocations against one appliance.
 *
 *   eval "$(guestkit shell --listen -a disk.img)"   # sets GUESTKIT_PID
 *   guestkit shell --remote mount /dev/sda1 /
 *   guestkit shell --remote cat /etc/hostname
 *   guestkit shell --remote quit                    # ends the server
 *
 * The socket is DIR/socket-PID, DIR being $XDG_RUNTIME_DIR/guestkit or
 * else /tmp/guestkit-UID: a directory of ours, mode 0700, not a link
 * (refused otherwise).  Both ends check the other's uid (SO_PEERCRED):
 * only the same user may talk to a server.
 *
 * One request per connection.  The client sends its stdin, stdout and
 * stderr (SCM_RIGHTS) with the words:
 *
 *   u32 count, then count times (u32 length, bytes)     host byte order
 *
 * and the server runs them as one command with those fds as its own
 * (no words: it reads commands from the client's stdin), then answers
 * one byte, the exit status (0 or 1).  The server ends after `quit'.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "runner.h"

#define MAX_WORDS 4096
#define MAX_WORD  (1u << 20)

/* DIR/socket-PID into buf; the directory is made (0700) and checked. */
static int
socket_path (pid_t pid, char *buf, size_t size, int create)
{
  const char *run = getenv ("XDG_RUNTIME_DIR");
  char dir[sizeof ((struct sockaddr_un *) 0)->sun_path];
  struct stat st;

  if (run && *run == '/')
    snprintf (dir, sizeof dir, "%s/guestkit", run);
  else
    snprintf (dir, sizeof dir, "/tmp/guestkit-%u", (unsigned) geteuid ());
  if (create && mkdir (dir, 0700) == -1 && errno != EEXIST) {
    fprintf (stderr, "%s: shell: %s: %s\n", rn_progname, dir, strerror (errno));
    return -1;
  }
  if (lstat (dir, &st) == -1) {
    fprintf (stderr, "%s: shell: %s: %s (is a server listening?)\n", rn_progname, dir,
             strerror (errno));
    return -1;
  }
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 077)) {
    fprintf (stderr, "%s: shell: %s must be a directory of ours with mode 0700; refusing it\n",
             rn_progname, dir);
    return -1;
  }
  if ((size_t) snprintf (buf, size, "%s/socket-%ld", dir, (long) pid) >= size) {
    fprintf (stderr, "%s: shell: socket path too long\n", rn_progname);
    return -1;
  }
  return 0;
}

static int
peer_is_us (int fd)
{
  struct ucred cr;
  socklen_t len = sizeof cr;

  return getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.uid == geteuid ();
}

static int
write_all (int fd, const void *p, size_t n)
{
  const char *c = p;
  while (n) {
    ssize_t w = send (fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    c += w;
    n -= (size_t) w;
  }
  return 0;
}

static int
read_all (int fd, void *p, size_t n)
{
  char *c = p;
  while (n) {
    ssize_t r = read (fd, c, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    c += r;
    n -= (size_t) r;
  }
  return 0;
}

/* ---- server ---- */

/* The first message: the count word and three fds. */
static int
recv_fds (int s, uint32_t *count, int fds[3])
{
  char ctl[CMSG_SPACE (3 * sizeof (int))];
  struct iovec iov = { count, sizeof *count };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = ctl, .msg_controllen = sizeof ctl };
  struct cmsghdr *c;

  if (recvmsg (s, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL) != (ssize_t) sizeof *count)
    return -1;
  c = CMSG_FIRSTHDR (&m);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN (3 * sizeof (int)) || (m.msg_flags & MSG_CTRUNC)) {
    if (c && c->cmsg_type == SCM_RIGHTS) {   /* close whatever came */
      int *p = (int *) CMSG_DATA (c);
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        close (p[i]);
    }
    return -1;
  }
  memcpy (fds, CMSG_DATA (c), 3 * sizeof (int));
  return 0;
}

static int
recv_words (int s, uint32_t count, struct rn_strv *w)
{
  if (count > MAX_WORDS)
    return -1;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t len;
    char *word;
    if (read_all (s, &len, sizeof len) == -1 || len > MAX_WORD)
      return -1;
    word = rn_malloc (len + 1);
    if (read_all (s, word, len) == -1 || memchr (word, '\0', len)) {
      free (word);
      return -1;
    }
    word[len] = '\0';
    rn_strv_add (w, word);
  }
  return 0;
}

/* Run a request with the client's fds as 0, 1, 2; its exit status. */
static int
serve_one (struct rn_shell *sh, int s)
{
  uint32_t count;
  int fds[3], saved[3], rc = 1;
  struct rn_strv w = { NULL, 0 };

  if (recv_fds (s, &count, fds) == -1)
    return -1;
  if (recv_words (s, count, &w) == 0) {
    fflush (stdout);
    fflush (stderr);
    for (int i = 0; i < 3; i++) {
      saved[i] = fcntl (i, F_DUPFD_CLOEXEC, 3);
      dup2 (fds[i], i);
    }
    clearerr (stdin);
    if (w.n)
      rc = rn_sh_run_command (sh, w.v, w.n) == 0 ? 0 : 1;
    else
      rc = rn_sh_run_stream (sh, stdin, "stdin");
    fflush (stdout);
    fflush (stderr);
    for (int i = 0; i < 3; i++) {
      dup2 (saved[i], i);
      close (saved[i]);
    }
  }
  for (int i = 0; i < 3; i++)
    close (fds[i]);
  rn_strv_free (&w);
  return rc;
}

static void
serve (struct rn_shell *sh, int lfd)
{
  while (!sh->quit) {
    int s = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC), rc;
    unsigned char b;
    if (s == -1) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      break;
    }
    if (!peer_is_us (s)) {
      static const char msg[] = "refused: not the server's user\n";
      write_all (s, msg, sizeof msg - 1);
      close (s);
      continue;
    }
    rc = serve_one (sh, s);
    b = rc < 0 ? 2 : (unsigned char) rc;
    write_all (s, &b, 1);
    close (s);
  }
}

/* Fork.  The child binds the socket, makes the handle with setup (its
 * messages still reach the caller's stderr), tells the parent, and
 * serves until `quit'; it never returns.  The parent prints the line
 * that sets GUESTKIT_PID and returns the exit status. */
int
rn_sh_listen (struct rn_shell *sh, int (*setup) (struct rn_shell *, const void *),
              const void *arg)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int ready[2], lfd, null;
  pid_t pid;
  char ok;

  if (pipe2 (ready, O_CLOEXEC) == -1)
    return RN_EXIT_FAILED;
  fflush (stdout);
  fflush (stderr);
  if ((pid = fork ()) == -1) {
    close (ready[0]);
    close (ready[1]);
    return RN_EXIT_FAILED;
  }
  if (pid > 0) {                        /* the caller's side */
    close (ready[1]);
    if (read (ready[0], &ok, 1) != 1) {
      close (ready[0]);
      fprintf (stderr, "%s: shell: the server did not start\n", rn_progname);
      return RN_EXIT_FAILED;
    }
    close (ready[0]);
    printf ("GUESTKIT_PID=%ld; export GUESTKIT_PID\n", (long) pid);
    return RN_EXIT_OK;
  }
  close (ready[0]);
  setsid ();
  signal (SIGPIPE, SIG_IGN);
  if (socket_path (getpid (), a.sun_path, sizeof a.sun_path, 1) == -1)
    _exit (1);
  unlink (a.sun_path);
  if ((lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
      bind (lfd, (struct sockaddr *) &a, sizeof a) == -1 || listen (lfd, 8) == -1) {
    fprintf (stderr, "%s: shell: %s: %s\n", rn_progname, a.sun_path, strerror (errno));
    _exit (1);
  }
  if (setup (sh, arg) == -1) {
    unlink (a.sun_path);
    _exit (1);
  }
  ok = 1;
  if (write (ready[1], &ok, 1) != 1)
    _exit (1);
  close (ready[1]);
  /* Detach from the caller's terminal: requests bring their own fds. */
  if ((null = open ("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
    dup2 (null, 0);
    dup2 (null, 1);
    dup2 (null, 2);
    close (null);
  }
  serve (sh, lfd);
  close (lfd);
  unlink (a.sun_path);
  fflush (stdout);
  guestfs_close (sh->g);
  _exit (0);
}

/* ---- client ---- */

static int
send_request (int s, char **words, int n)
{
  uint32_t count = (uint32_t) n;
  int fds[3] = { 0, 1, 2 };
  char ctl[CMSG_SPACE (sizeof fds)];
  struct iovec iov = { &count, sizeof count };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                      .msg_control = ctl, .msg_controllen = sizeof ctl };
  struct cmsghdr *c = CMSG_FIRSTHDR (&m);

  memset (ctl, 0, sizeof ctl);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof fds);
  memcpy (CMSG_DATA (c), fds, sizeof fds);
  if (sendmsg (s, &m, MSG_NOSIGNAL) != (ssize_t) sizeof count)
    return -1;
  for (int i = 0; i < n; i++) {
    uint32_t len = (uint32_t) strlen (words[i]);
    if (write_all (s, &len, sizeof len) == -1 || write_all (s, words[i], len) == -1)
      return -1;
  }
  return 0;
}

/* guestkit shell --remote[=PID] [CMD ARG...]: the exit status. */
int
rn_sh_remote (const char *pidstr, char **words, int n)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int64_t pid;
  int s;
  unsigned char b;
  char msg[128];
  ssize_t got;

  if (pidstr == NULL)
    pidstr = getenv ("GUESTKIT_PID");
  if (pidstr == NULL || rn_parse_int (pidstr, &pid) == -1 || pid <= 0 || pid > INT32_MAX) {
    fprintf (stderr, "%s: shell: --remote needs a server: --remote=PID or GUESTKIT_PID "
             "(from guestkit shell --listen)\n", rn_progname);
    return RN_EXIT_USAGE;
  }
  if (socket_path ((pid_t) pid, a.sun_path, sizeof a.sun_path, 0) == -1)
    return RN_EXIT_FAILED;
  if ((s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
      connect (s, (struct sockaddr *) &a, sizeof a) == -1) {
    fprintf (stderr, "%s: shell: no server %ld: %s\n", rn_progname, (long) pid, strerror (errno));
    if (s != -1)
      close (s);
    return RN_EXIT_FAILED;
  }
  if (!peer_is_us (s)) {
    fprintf (stderr, "%s: shell: server %ld is another user's; refusing it\n", rn_progname,
             (long) pid);
    close (s);
    return RN_EXIT_FAILED;
  }
  fflush (stdout);
  if (send_request (s, words, n) == -1) {
    fprintf (stderr, "%s: shell: server %ld: %s\n", rn_progname, (long) pid, strerror (errno));
    close (s);
    return RN_EXIT_FAILED;
  }
  got = read (s, msg, sizeof msg - 1);
  close (s);
  if (got == 1) {
    b = (unsigned char) msg[0];
    return b == 0 ? RN_EXIT_OK : RN_EXIT_FAILED;
  }
  msg[got > 0 ? got : 0] = '\0';
  fprintf (stderr, "%s: shell: server %ld: %s\n", rn_progname, (long) pid,
           got > 0 ? msg : "closed the connection");
  return RN_EXIT_FAILED;
}
