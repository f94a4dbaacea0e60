/* guestd inotify: one inotify instance per appliance for watching guest
 * files (inotify_init ... inotify_close).
 *
 * Watched paths are opened inside the sysroot (paths.c) and given to the
 * kernel as /proc/self/fd/N, so a guest symlink cannot make us watch an
 * appliance file.  The instance is non-blocking: inotify_read returns what
 * is queued now, possibly nothing; a long queue comes back over several
 * calls (each reply holds at most READ_MAX bytes of events).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "guestd.h"

#define READ_MAX (1024 * 1024)          /* event bytes per inotify_read */
/* The bits of the 2009 API's masks that we pass on: the events and the
 * ONLYDIR, MASK_ADD and ONESHOT flags.  Any other bit is dropped, not
 * refused: the kernel gave some new meanings later (IN_EXCL_UNLINK,
 * IN_MASK_CREATE), others only appear in events.  IN_DONT_FOLLOW is
 * honoured when the path is opened (the kernel sees a /proc/self/fd). */
#define MASK_2009 (IN_ALL_EVENTS | IN_ONLYDIR | IN_MASK_ADD | IN_ONESHOT)

static int inotify_fd = -1;

static int
need_inotify (void)
{
  if (gd_check_group () == -1)
    return -1;
  if (inotify_fd == -1) {
    reply_with_error ("no inotify instance: call inotify_init first");
    return -1;
  }
  return 0;
}

/* maxevents > 0 sets the kernel's queue limit for new instances. */
int
do_inotify_init (int maxevents)
{
  if (gd_check_group () == -1)
    return -1;
  if (maxevents < 0) {
    reply_with_error ("maxevents %d: must be >= 0 (0: the default)", maxevents);
    return -1;
  }
  if (maxevents > 0) {
    FILE *f = fopen ("/proc/sys/fs/inotify/max_queued_events", "we");
    if (f == NULL || fprintf (f, "%d\n", maxevents) < 0 || fclose (f) == EOF) {
      reply_with_perror ("max_queued_events");
      return -1;
    }
  }
  if (inotify_fd >= 0)
    close (inotify_fd);
  inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd == -1) {
    reply_with_perror ("inotify_init1");
    return -1;
  }
  return 0;
}

int64_t
do_inotify_add_watch (const char *path, int mask)
{
  char proc[64];
  int fd, wd;

  if (need_inotify () == -1)
    return -1;
  if (((unsigned) mask & IN_ALL_EVENTS) == 0) {
    reply_with_error ("mask 0x%x: no IN_* event to watch", (unsigned) mask);
    return -1;
  }
  fd = gd_open_in_root (path, O_PATH | ((unsigned) mask & IN_DONT_FOLLOW ? O_NOFOLLOW : 0), 0);
  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  gd_fd_path (proc, sizeof proc, fd);
  wd = inotify_add_watch (inotify_fd, proc, (uint32_t) mask & MASK_2009);
  if (wd == -1)
    reply_with_perror ("%s", path);
  close (fd);
  return wd;
}

int
do_inotify_rm_watch (int wd)
{
  if (need_inotify () == -1)
    return -1;
  if (inotify_rm_watch (inotify_fd, wd) == -1) {
    if (errno == EINVAL)
      reply_with_error ("wd %d: no such watch", wd);
    else
      reply_with_perror ("wd %d", wd);
    return -1;
  }
  return 0;
}

/* Read up to READ_MAX bytes of queued events into *buf_r (caller frees);
 * returns the byte count, -1 after replying. */
static ssize_t
read_events (char **buf_r)
{
  char *buf = malloc (READ_MAX);
  size_t len = 0;

  if (buf == NULL) {
    reply_with_perror ("inotify");
    return -1;
  }
  /* Leave room for one event with the longest name. */
  while (len + sizeof (struct inotify_event) + 256 <= READ_MAX) {
    ssize_t r = read (inotify_fd, buf + len, READ_MAX - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1 && errno == EAGAIN)
      break;
    if (r <= 0) {
      reply_with_perror ("read inotify");
      free (buf);
      return -1;
    }
    len += (size_t) r;
  }
  *buf_r = buf;
  return (ssize_t) len;
}

struct guestfs_inotify_event_list *
do_inotify_read (void)
{
  struct guestfs_inotify_event_list *r;
  char *buf;
  ssize_t len;
  size_t n = 0;

  if (need_inotify () == -1 || (len = read_events (&buf)) == -1)
    return NULL;
  if ((r = calloc (1, sizeof *r)) == NULL ||
      (r->val = calloc ((size_t) len / sizeof (struct inotify_event) + 1,
                        sizeof *r->val)) == NULL)
    goto nomem;
  for (size_t off = 0; off < (size_t) len; n++) {
    struct inotify_event *e = (struct inotify_event *) (buf + off);
    r->val[n].in_wd = e->wd;
    r->val[n].in_mask = e->mask;
    r->val[n].in_cookie = e->cookie;
    r->val[n].in_name = strndup (e->len ? e->name : "", e->len);
    r->len = (uint32_t) n + 1;
    if (r->val[n].in_name == NULL)
      goto nomem;
    off += sizeof *e + e->len;
  }
  free (buf);
  return r;

 nomem:
  reply_with_perror ("inotify_read");
  for (uint32_t i = 0; r && r->val && i < r->len; i++)
    free (r->val[i].in_name);
  if (r)
    free (r->val);
  free (r);
  free (buf);
  return NULL;
}

/* The names in all queued events, sorted, each once. */
char **
do_inotify_files (void)
{
  struct gd_strlist l = { 0 };
  char *buf, **v;
  ssize_t len;
  size_t i, j;

  if (need_inotify () == -1)
    return NULL;
  do {
    if ((len = read_events (&buf)) == -1) {
      gd_strlist_free (&l);
      return NULL;
    }
    for (size_t off = 0; off < (size_t) len; ) {
      struct inotify_event *e = (struct inotify_event *) (buf + off);
      if (e->len && e->name[0] && gd_strlist_add (&l, e->name) == -1) {
        reply_with_perror ("inotify_files");
        gd_strlist_free (&l);
        free (buf);
        return NULL;
      }
      off += sizeof *e + e->len;
    }
    free (buf);
  } while (len > 0);
  gd_sort_strings (l.v, l.n);
  for (i = j = 0; i < l.n; i++) {
    if (j > 0 && strcmp (l.v[j-1], l.v[i]) == 0)
      free (l.v[i]);
    else
      l.v[j++] = l.v[i];
  }
  l.n = j;
  if ((v = gd_strlist_end (&l)) == NULL)
    reply_with_perror ("inotify_files");
  return v;
}

int
do_inotify_close (void)
{
  if (need_inotify () == -1)
    return -1;
  close (inotify_fd);
  inotify_fd = -1;
  return 0;
}
