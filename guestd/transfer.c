/* guestd file transfer: upload (a FileIn chunk stream into a guest file
 * or device) and download (a guest file or device out as a FileOut chunk
 * stream).  Data is streamed a chunk at a time, never held whole, and
 * sizes are never stored, so files of any size work.
 *
 * A large regular file (GD_DROP_BYTES or more) leaves the guest's page
 * cache once transferred: an upload is written out (fdatasync) and its
 * pages dropped, a download's pages dropped (posix_fadvise DONTNEED).
 * The freed blocks go back to the host by free page reporting
 * (resume.c), so an appliance's memory does not stay at the size of the
 * largest file it moved.  Small files stay cached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

#define GD_DROP_BYTES (16 << 20)

static char buf[GK_CHUNK_MAX];

/* Drop a large regular file's pages from the page cache (written out
 * first if `dirty').  0, or -1 if writing out failed (errno set). */
static int
drop_cached (int fd, int dirty)
{
  struct stat st;

  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode) || st.st_size < GD_DROP_BYTES)
    return 0;
  if (dirty && fdatasync (fd) == -1)
    return -1;
  (void) posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);   /* advice only */
  return 0;
}

static int
is_device (const char *p)
{
  return strncmp (p, "/dev/", 5) == 0;
}

int
do_upload (const char *remotefilename)
{
  int fd, r, saved;

  if (is_device (remotefilename))
    fd = open (remotefilename, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  else
    fd = gd_open_for_write (remotefilename, 1);
  if (fd == -1) {
    reply_with_perror ("%s", remotefilename);   /* cancels the stream */
    return -1;
  }
  r = gd_receive_file (gd_write_to_fd, &fd);
  if (r == 0 && is_device (remotefilename) && fsync (fd) == -1)
    r = -1;
  if (r == 0 && drop_cached (fd, 1) == -1)
    r = -1;
  saved = errno;
  if (close (fd) == -1 && r == 0)
    r = -1;
  else
    errno = saved;
  if (r != 0) {
    reply_with_perror ("%s", remotefilename);   /* silent if r == -2 */
    return -1;
  }
  return 0;
}

int
do_download (const char *remotefilename)
{
  int fd;
  ssize_t n;

  if (is_device (remotefilename))
    fd = open (remotefilename, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  else
    fd = gd_open_regular (remotefilename, O_RDONLY);
  if (fd == -1) {
    reply_with_perror ("%s", remotefilename);
    return -1;
  }
  gd_reply_ok (NULL, NULL);
  for (;;) {
    do
      n = read (fd, buf, sizeof buf);
    while (n == -1 && errno == EINTR);
    if (n <= 0)
      break;
    if (gd_send_chunk (buf, (size_t) n) == -1) {
      close (fd);
      return -1;                /* the library cancelled: stream ended */
    }
  }
  if (n == -1)
    reply_with_perror ("%s", remotefilename);   /* ends with a cancel chunk */
  else
    gd_send_chunk (NULL, 0);
  drop_cached (fd, 0);
  close (fd);
  return n == -1 ? -1 : 0;
}
