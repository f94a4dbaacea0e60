/* tests/calls-fileio.c: the calls `guestkit mount' added (pwrite with its
 * BufferIn argument, readdirplus), against one real appliance.  pwrite is
 * checked through pread and stat, readdirplus through lstat and
 * readlink; each has error cases, and readdirplus's paging is driven
 * past one reply with a directory of long names made by tar_in.
 */
#include <stdint.h>

#include "harness.h"

static guestfs_h *g;

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/f", "0123456789", 0) == 0, "write_file: %s", guestfs_last_error (g));
}

static int
pread_is (const char *path, int64_t off, const void *want, size_t n)
{
  size_t got = 0;
  char *b = guestfs_pread (g, path, (int) n, off, &got);
  int r = b && got == n && memcmp (b, want, n) == 0;
  free (b);
  return r;
}

static void
t_pwrite (void)
{
  static const char bin[] = { 'a', '\0', 'b', '\n', '\0' };
  struct guestfs_stat *st;
  int n;

  n = guestfs_pwrite (g, "/f", bin, sizeof bin, 3);
  CHECK (n == (int) sizeof bin, "pwrite returned %d: %s", n, guestfs_last_error (g));
  CHECK (pread_is ("/f", 0, "012a\0b\n\0" "89", 10), "bytes at 3, NULs kept, the rest untouched");
  /* Past the end: the gap is a hole of zeros, the size grows. */
  CHECK (guestfs_pwrite (g, "/f", "end", 3, 20) == 3, "pwrite past the end: %s", guestfs_last_error (g));
  CHECK ((st = guestfs_stat (g, "/f")) != NULL, "stat: %s", guestfs_last_error (g));
  n = (int) st->size;
  guestfs_free_stat (st);
  CHECK (n == 23, "size after pwrite at 20 is %d", n);
  CHECK (pread_is ("/f", 10, "\0\0\0\0\0\0\0\0\0\0end", 13), "hole then the bytes");
  CHECK (guestfs_pwrite (g, "/f", "", 0, 0) == 0, "an empty pwrite writes 0: %s", guestfs_last_error (g));
  CHECK (pread_is ("/f", 0, "012a", 4), "an empty pwrite changed nothing");
}

static void
t_pwrite_errors (void)
{
  CHECK (guestfs_pwrite (g, "/nope", "x", 1, 0) == -1, "pwrite to a missing file");
  CHECK_ERR (g, "No such file");
  CHECK (guestfs_is_file (g, "/nope") == 0, "pwrite did not create the file");
  CHECK (guestfs_mkdir (g, "/dir") == 0, "mkdir: %s", guestfs_last_error (g));
  CHECK (guestfs_pwrite (g, "/dir", "x", 1, 0) == -1, "pwrite to a directory");
  CHECK_ERR (g, "Is a directory");
  CHECK (guestfs_pwrite (g, "/f", "x", 1, -1) == -1, "pwrite at a negative offset");
  CHECK_ERR (g, "negative");
  CHECK (guestfs_pwrite (g, "relative", "x", 1, 0) == -1, "pwrite to a relative path");
  CHECK (guestfs_pwrite (g, "/f", NULL, 1, 0) == -1, "pwrite of NULL bytes");
  CHECK_ERR (g, "must not be NULL");
}

/* The entry named name in l, or NULL. */
static struct guestfs_direntplus *
find (struct guestfs_direntplus_list *l, const char *name)
{
  for (uint32_t i = 0; i < l->len; i++)
    if (strcmp (l->val[i].name, name) == 0)
      return &l->val[i];
  return NULL;
}

/* Entry e agrees with lstat of path. */
static int
same_as_lstat (const struct guestfs_direntplus *e, const char *path)
{
  struct guestfs_stat *st = guestfs_lstat (g, path);
  int r;

  if (st == NULL)
    return 0;
  r = st->ino == e->ino && st->mode == e->mode && st->size == e->size &&
      st->nlink == e->nlink && st->uid == e->uid && st->mtime == e->mtime &&
      st->blocks == e->blocks;
  guestfs_free_stat (st);
  return r;
}

static void
t_readdirplus (void)
{
  struct guestfs_direntplus_list *l;
  struct guestfs_direntplus *e;

  CHECK (guestfs_mkdir (g, "/r") == 0 && guestfs_mkdir (g, "/r/sub") == 0 &&
         guestfs_write_file (g, "/r/file", "hello", 0) == 0 &&
         guestfs_ln_s (g, "/etc/passwd", "/r/link") == 0 &&
         guestfs_utimens (g, "/r/file", 5, 123, 7, 456789) == 0 &&
         guestfs_lchown (g, 1234, 99, "/r/link") == 0, "tree: %s", guestfs_last_error (g));
  l = guestfs_readdirplus (g, "/r", 0);
  CHECK (l != NULL, "readdirplus: %s", guestfs_last_error (g));
  CHECK (l->len == 3, "3 entries (no . and ..), got %u", l->len);
  e = find (l, "file");
  CHECK (e && (e->mode & 0170000) == 0100000 && e->size == 5, "file: regular, 5 bytes");
  CHECK (e->mtime == 7 && e->mtime_nsec == 456789 && e->atime == 5 && e->atime_nsec == 123,
         "file: times with nanoseconds (%lld.%lld)", (long long) e->mtime, (long long) e->mtime_nsec);
  CHECK (same_as_lstat (e, "/r/file"), "file agrees with lstat");
  e = find (l, "link");
  CHECK (e && (e->mode & 0170000) == 0120000, "link: a symlink, not followed");
  CHECK (e->size == 11 && e->uid == 1234, "link: the link's own size and owner");
  CHECK (same_as_lstat (e, "/r/link"), "link agrees with lstat");
  e = find (l, "sub");
  CHECK (e && (e->mode & 0170000) == 0040000 && same_as_lstat (e, "/r/sub"), "sub: a directory");
  guestfs_free_direntplus_list (l);
  l = guestfs_readdirplus (g, "/r", 2);
  CHECK (l && l->len == 1, "start 2 leaves one entry");
  guestfs_free_direntplus_list (l);
  l = guestfs_readdirplus (g, "/r", 10);
  CHECK (l && l->len == 0, "start past the end gives an empty list");
  guestfs_free_direntplus_list (l);
}

static void
t_readdirplus_errors (void)
{
  CHECK (guestfs_readdirplus (g, "/nope", 0) == NULL, "readdirplus of nothing");
  CHECK_ERR (g, "No such file");
  CHECK (guestfs_readdirplus (g, "/f", 0) == NULL, "readdirplus of a file");
  CHECK_ERR (g, "Not a directory");
  CHECK (guestfs_readdirplus (g, "/r", -1) == NULL, "negative start");
  CHECK_ERR (g, "negative");
}

/* More entries than one reply holds: pages end in an empty name, and
 * reading on from there gives every name exactly once. */
static void
t_readdirplus_pages (void)
{
  const int want = 14000;
  char *tar = th_scratch ("fileio-tar", 0);
  uint32_t total = 0, pages = 0;
  int start = 0;

  CHECK (th_system ("set -e; d=$(mktemp -d tests/out/fileio.XXXXXX); mkdir $d/big; cd $d/big; "
                    "n=$(printf 'n%%0240d' 0); i=0; while [ $i -lt %d ]; do : > $n$i; i=$((i+1)); done; "
                    "cd ..; tar cf ../../../%s big; cd /; rm -rf \"$OLDPWD\"",
                    want, tar) == 0, "making the tar");
  CHECK (guestfs_tar_in (g, tar, "/") == 0, "tar_in: %s", guestfs_last_error (g));
  unlink (tar);
  free (tar);
  for (;;) {
    struct guestfs_direntplus_list *l = guestfs_readdirplus (g, "/big", start);
    int more;
    CHECK (l != NULL, "readdirplus page %u: %s", pages, guestfs_last_error (g));
    more = l->len > 0 && l->val[l->len - 1].name[0] == '\0';
    for (uint32_t i = 0; i < l->len - (more ? 1 : 0); i++)
      if ((l->val[i].mode & 0170000) == 0100000 && l->val[i].ino > 0)
        total++;
    start += (int) (l->len - (more ? 1 : 0));
    pages++;
    guestfs_free_direntplus_list (l);
    if (!more)
      break;
    CHECK (pages < 100, "paging does not end");
  }
  CHECK (pages >= 2, "%d long names fit one reply (%u pages)", want, pages);
  CHECK (total == (uint32_t) want, "%u regular files listed, want %d", total, want);
}

int
main (void)
{
  char *disk = th_scratch ("calls-fileio", 128);
  const char *imgs[] = { disk, NULL };

  th_name = "fileio-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("fileio-setup", t_setup);
  th_run ("fileio-pwrite", t_pwrite);
  th_run ("fileio-pwrite-errors", t_pwrite_errors);
  th_run ("fileio-readdirplus", t_readdirplus);
  th_run ("fileio-readdirplus-errors", t_readdirplus_errors);
  th_run ("fileio-readdirplus-pages", t_readdirplus_pages);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  return th_done ();
}
