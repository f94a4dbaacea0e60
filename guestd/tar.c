/* guestd tree transfers: tar_in / tgz_in (a FileIn tar stream unpacked
 * into a guest directory), tar_out / tgz_out (a guest directory packed
 * as a FileOut stream), and find / find0 (every name below a directory).
 *
 * The tools (tar, gzip, find) run as children with the directory, opened
 * inside the sysroot by paths.c, as their working directory; their data
 * goes through a pipe a chunk at a time and their stderr into a memory
 * file, so nothing is held whole and no pipe can deadlock.
 *
 * Unpacking is the dangerous direction: tar refuses ".." members and
 * strips leading "/" itself, and it runs in command.c's sandbox (every
 * mount outside the sysroot read-only and nodev), so neither a crafted
 * archive nor a symlink already in the guest can make it write anywhere
 * but the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

/* Room for the reply header and the list's length word. */
#define RESULT_MAX (GK_MESSAGE_MAX - 64)

static char buf[GK_CHUNK_MAX];

/* String arguments that name a guest directory (the table types some as
 * String): check as a Pathname, then open.  -1 after replying. */
static int
open_dir (const char *directory)
{
  char *d = (char *) directory;
  int fd;

  if (gd_check_path (&d, "directory") == -1)
    return -1;
  fd = gd_open_in_root (directory, O_PATH | O_DIRECTORY, 0);
  if (fd == -1)
    reply_with_perror ("%s", directory);
  return fd;
}

/* Feed the FileIn stream to "tar -x[z]f -" in the sandbox. */
static int
unpack (const char *directory, int gzip)
{
  const char *argv[] = { "tar", gzip ? "-xzf" : "-xf", "-", NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  int dirfd = open_dir (directory), p[2] = { -1, -1 }, errfd = -1;
  int r = -1, status, saved;
  pid_t pid = -1;
  char *text;

  if (dirfd == -1)
    return -1;                          /* replied: stream cancelled */
  if (pipe2 (p, O_CLOEXEC) == 0 && (errfd = gd_memfd ()) >= 0) {
    c.root = GD_ROOT_SANDBOX;
    c.cwd_fd = dirfd;
    c.in_fd = p[0];
    c.out_fd = c.err_fd = errfd;
    pid = gd_cmd_spawn (&c);
  }
  saved = errno;
  if (p[0] >= 0)
    close (p[0]);
  close (dirfd);
  if (pid == -1) {
    errno = saved;
    reply_with_perror ("tar");
    goto out;
  }
  r = gd_receive_file (gd_write_to_fd, &p[1]);
  saved = errno;
  close (p[1]);
  p[1] = -1;
  status = gd_cmd_wait (pid);
  text = gd_memfd_text (errfd);
  if (r == -2)
    ;                                   /* the library cancelled */
  else if (status != 0)
    gd_cmd_reply_error ("tar", status, text);     /* also ends the stream */
  else if (r == -1) {
    errno = saved;
    reply_with_perror ("writing to tar");
  }
  if (status != 0)
    r = -1;
  free (text);
 out:
  if (p[1] >= 0)
    close (p[1]);
  if (errfd >= 0)
    close (errfd);
  return r == 0 ? 0 : -1;
}

int do_tar_in (const char *directory) { return unpack (directory, 0); }
int do_tgz_in (const char *directory) { return unpack (directory, 1); }

/* Start argv in dirfd with stdout on a pipe and stderr in a memfd.
 * Returns the pid, or -1 after replying. */
static pid_t
start_reader (const char *const *argv, int dirfd, int *outfd, int *errfd)
{
  struct gd_cmd c = GD_CMD_INIT (argv);
  int p[2];
  pid_t pid = -1;

  *outfd = *errfd = -1;
  if (pipe2 (p, O_CLOEXEC) == -1) {
    reply_with_perror ("pipe");
    return -1;
  }
  if ((*errfd = gd_memfd ()) >= 0) {
    c.cwd_fd = dirfd;
    c.out_fd = p[1];
    c.err_fd = *errfd;
    pid = gd_cmd_spawn (&c);
  }
  if (pid == -1) {
    reply_with_perror ("%s", argv[0]);
    close (p[0]);
    if (*errfd >= 0)
      close (*errfd);
    *errfd = -1;
  } else
    *outfd = p[0];
  close (p[1]);
  return pid;
}

/* Wait for a reader; status <= okmax is success.  Else reply (which
 * ends an open FileOut stream with a cancel chunk) and return -1. */
static int
finish_reader (pid_t pid, int errfd, const char *prog, int okmax)
{
  int status = gd_cmd_wait (pid);
  char *text = gd_memfd_text (errfd);

  close (errfd);
  if (status < 0 || status > okmax) {
    gd_cmd_reply_error (prog, status, text);
    free (text);
    return -1;
  }
  free (text);
  return 0;
}

/* Stop caring about a reader (killed or being killed). */
static void
stop_reader (pid_t pid, int errfd)
{
  gd_cmd_wait (pid);
  close (errfd);
}

/* FileOut: run argv in directory and send its stdout as the stream. */
static int
stream_out (const char *directory, const char *const *argv, int okmax)
{
  int dirfd = open_dir (directory), outfd, errfd;
  pid_t pid;
  ssize_t n;

  if (dirfd == -1)
    return -1;
  pid = start_reader (argv, dirfd, &outfd, &errfd);
  close (dirfd);
  if (pid == -1)
    return -1;
  gd_reply_ok (NULL, NULL);
  while ((n = gd_read_fill (outfd, buf, sizeof buf)) > 0)
    if (gd_send_chunk (buf, (size_t) n) == -1)    /* library cancelled */
      break;
  close (outfd);
  if (n > 0) {                         /* the stream has been ended */
    kill (pid, SIGTERM);
    stop_reader (pid, errfd);
    return -1;
  }
  if (finish_reader (pid, errfd, argv[0], okmax) == -1)
    return -1;
  if (n == -1) {
    reply_with_perror ("reading from %s", argv[0]);
    return -1;
  }
  gd_send_chunk (NULL, 0);
  return 0;
}

/* tar exits 1 when a file changed while it was read: still an archive. */
int
do_tar_out (const char *directory)
{
  const char *argv[] = { "tar", "-cf", "-", ".", NULL };

  return stream_out (directory, argv, 1);
}

int
do_tgz_out (const char *directory)
{
  const char *argv[] = { "tar", "-czf", "-", ".", NULL };

  return stream_out (directory, argv, 1);
}

static const char *const find_argv[] = {
  "find", ".", "-mindepth", "1", "-printf", "%P\\0", NULL,
};

int
do_find0 (const char *directory)
{
  return stream_out (directory, find_argv, 0);
}

/* Add the NUL-terminated names in b[0..len) to l; returns the bytes
 * consumed (a name cut by the buffer's end is left), -1 if too large. */
static ssize_t
add_names (struct gd_strlist *l, const char *b, size_t len, size_t *total)
{
  const char *p = b, *end = b + len, *z;

  while (p < end && (z = memchr (p, '\0', (size_t) (end - p))) != NULL) {
    *total += (size_t) (z - p) + 8;            /* its XDR encoding, at most */
    if (*total > RESULT_MAX) {
      errno = EFBIG;
      return -1;
    }
    if (gd_strlist_add (l, p) == -1)
      return -1;
    p = z + 1;
  }
  return p - b;
}

static int
collect_names (int outfd, struct gd_strlist *l)
{
  size_t have = 0, total = 0;
  ssize_t n, used;

  while ((n = gd_read_fill (outfd, buf + have, sizeof buf - have)) > 0) {
    have += (size_t) n;
    if ((used = add_names (l, buf, have, &total)) == -1)
      return -1;
    if (used == 0 && have == sizeof buf) {
      errno = ENAMETOOLONG;
      return -1;
    }
    memmove (buf, buf + used, have - (size_t) used);
    have -= (size_t) used;
  }
  return n == -1 ? -1 : 0;
}

char **
do_find (const char *directory)
{
  struct gd_strlist l = { 0 };
  int dirfd = open_dir (directory), outfd, errfd, r, saved;
  pid_t pid;

  if (dirfd == -1)
    return NULL;
  pid = start_reader (find_argv, dirfd, &outfd, &errfd);
  close (dirfd);
  if (pid == -1)
    return NULL;
  r = collect_names (outfd, &l);
  saved = errno;
  close (outfd);
  if (r == 0 && finish_reader (pid, errfd, "find", 0) == -1) {
    gd_strlist_free (&l);
    return NULL;
  }
  if (r == -1) {
    kill (pid, SIGTERM);
    stop_reader (pid, errfd);
    if (saved == EFBIG)
      reply_with_error ("%s: too many names for the protocol's message "
                        "size; use find0", directory);
    else {
      errno = saved;
      reply_with_perror ("%s", directory);
    }
    gd_strlist_free (&l);
    return NULL;
  }
  gd_sort_strings (l.v, l.n);
  return gd_strlist_end (&l);
}
