/* guestd calls for `guestkit mount' (runner/mount*.c) that the older
 * calls cannot do in one round trip:
 *
 *   pwrite       write bytes at an offset of an existing regular file; the
 *                bytes come as a BufferIn, so they may hold NULs
 *   readdirplus  one directory's names with the lstat of each, so that a
 *                FUSE readdir fills its stat cache with one call
 *
 * As everywhere in guestd, paths are resolved inside the sysroot by
 * paths.c, and names listed are lstat'ed relative to the directory's own
 * fd, so a symlink in the guest is reported, never followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestd.h"

/* What one entry costs in the reply, at most: its fields (8 bytes each),
 * the name's length word, the name and its padding. */
#define ENTRY_FIXED (17 * 8 + 4 + 3)
/* The reply budget: leave room for the header and the list's count. */
#define LIST_BUDGET (GK_MESSAGE_MAX - 4096)

int
do_pwrite (const char *path, const char *content, size_t content_size,
           int64_t offset)
{
  ssize_t n;
  int fd;

  if (offset < 0) {
    reply_with_error ("offset %" PRId64 ": must not be negative", offset);
    return -1;
  }
  if ((fd = gd_open_regular (path, O_WRONLY)) == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  /* One pwrite(2), as the call promises: a short count is an answer. */
  do
    n = pwrite (fd, content, content_size, (off_t) offset);
  while (n == -1 && errno == EINTR);
  if (n == -1) {
    reply_with_perror ("%s", path);
    close (fd);
    return -1;
  }
  if (close (fd) == -1) {
    reply_with_perror ("%s: close", path);
    return -1;
  }
  return (int) n;
}

/* Append an entry named name (copied); its stat fields stay for the
 * caller.  NULL on ENOMEM. */
static struct guestfs_direntplus *
entry_add (struct guestfs_direntplus_list *l, size_t *cap, const char *name)
{
  struct guestfs_direntplus *d;

  if (l->len == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = realloc (l->val, nc * sizeof *l->val);
    if (nv == NULL)
      return NULL;
    l->val = nv;
    *cap = nc;
  }
  d = &l->val[l->len];
  memset (d, 0, sizeof *d);
  if ((d->name = strdup (name)) == NULL)
    return NULL;
  l->len++;
  return d;
}

static void
free_entries (struct guestfs_direntplus_list *l)
{
  for (uint32_t i = 0; i < l->len; i++)
    free (l->val[i].name);
  free (l->val);
  free (l);
}

/* Read the entries of d from the start'th on (. and .. not counted) into
 * l, until the reply budget is used; then add the empty-named marker.
 * -1 with errno on failure. */
static int
list_entries (DIR *d, int start, struct guestfs_direntplus_list *l)
{
  size_t cap = 0, used = 0;
  struct dirent *e;
  int index = 0;

  for (errno = 0; (e = readdir (d)) != NULL; errno = 0) {
    struct guestfs_direntplus *ent;
    struct stat st;
    size_t cost;

    if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
      continue;
    if (index++ < start)
      continue;
    cost = ENTRY_FIXED + strlen (e->d_name);
    if (used + cost > LIST_BUDGET)
      return entry_add (l, &cap, "") ? 0 : -1;
    used += cost;
    if ((ent = entry_add (l, &cap, e->d_name)) == NULL)
      return -1;
    if (fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      GD_FILL_STAT (ent, &st);
      ent->atime_nsec = st.st_atim.tv_nsec;
      ent->mtime_nsec = st.st_mtim.tv_nsec;
      ent->ctime_nsec = st.st_ctim.tv_nsec;
    } else
      ent->ino = -1;                  /* listed, but it could not be read */
  }
  return errno ? -1 : 0;
}

struct guestfs_direntplus_list *
do_readdirplus (const char *path, int start)
{
  struct guestfs_direntplus_list *l;
  DIR *d;
  int fd;

  if (start < 0) {
    reply_with_error ("start %d: must not be negative", start);
    return NULL;
  }
  fd = gd_open_in_root (path, O_RDONLY | O_DIRECTORY, 0);
  if (fd == -1 || (d = fdopendir (fd)) == NULL) {
    reply_with_perror ("%s", path);
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  if ((l = calloc (1, sizeof *l)) == NULL) {
    reply_with_perror ("malloc");
    closedir (d);
    return NULL;
  }
  if (list_entries (d, start, l) == -1) {
    reply_with_perror ("%s", path);
    closedir (d);
    free_entries (l);
    return NULL;
  }
  closedir (d);
  return l;
}
