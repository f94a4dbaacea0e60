/* tests/calls-files.c: the file and directory calls beyond the basics
 * (cp, mv, links, special files, times, sizes, listings, glob, realpath,
 * case_sensitive_path, statvfs, dd) and the xattr calls, against one
 * real appliance.  Each call is checked through another call (stat,
 * cat, readlink, ...) and has at least one error case.
 */
#include <stdint.h>

#include "harness.h"

static guestfs_h *g;

static int64_t
stat_field (const char *path, int lstat_it, char what)
{
  struct guestfs_stat *st = lstat_it ? guestfs_lstat (g, path) : guestfs_stat (g, path);
  int64_t v = -1;
  if (st == NULL)
    return -1;
  switch (what) {
  case 'm': v = st->mode; break;
  case 's': v = st->size; break;
  case 'u': v = st->uid; break;
  case 'n': v = st->nlink; break;
  case 'a': v = st->atime; break;
  case 't': v = st->mtime; break;
  case 'r': v = st->rdev; break;
  case 'b': v = st->blocks; break;
  }
  guestfs_free_stat (st);
  return v;
}

static int
cat_is (const char *path, const char *want)
{
  char *s = guestfs_cat (g, path);
  int r = s && strcmp (s, want) == 0;
  free (s);
  return r;
}

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/a", "abc", 0) == 0 && guestfs_mkdir (g, "/d") == 0,
         "write_file: %s", guestfs_last_error (g));
}

static void
t_cp (void)
{
  CHECK (guestfs_cp (g, "/a", "/b") == 0, "cp: %s", guestfs_last_error (g));
  CHECK (cat_is ("/b", "abc"), "cp content");
  CHECK (guestfs_cp (g, "/a", "/d") == 0, "cp into a dir: %s", guestfs_last_error (g));
  CHECK (cat_is ("/d/a", "abc"), "cp into a dir content");
  CHECK (guestfs_cp (g, "/nope", "/x") == -1, "cp of nothing");
  CHECK_ERR (g, "cp");
  CHECK (guestfs_cp (g, "/d", "/x") == -1, "cp of a directory");
  CHECK (guestfs_cp (g, "/a", "/nodir/x") == -1, "cp into a missing dir");
}

static void
t_cp_a (void)
{
  CHECK (guestfs_mkdir_p (g, "/t/s") == 0 && guestfs_write_file (g, "/t/s/f", "deep", 0) == 0 &&
         guestfs_chmod (g, 0600, "/t/s/f") == 0, "tree");
  CHECK (guestfs_cp_a (g, "/t", "/t2") == 0, "cp_a: %s", guestfs_last_error (g));
  CHECK (cat_is ("/t2/s/f", "deep"), "cp_a content");
  CHECK ((stat_field ("/t2/s/f", 0, 'm') & 07777) == 0600, "cp_a kept the mode");
  CHECK (guestfs_cp_a (g, "/t", "/d") == 0, "cp_a into a dir: %s", guestfs_last_error (g));
  CHECK (cat_is ("/d/t/s/f", "deep"), "cp_a into a dir content");
  CHECK (guestfs_cp_a (g, "/nope", "/x") == -1, "cp_a of nothing");
  CHECK_ERR (g, "cp_a");
}

static void
t_mv (void)
{
  CHECK (guestfs_mv (g, "/b", "/c") == 0, "mv: %s", guestfs_last_error (g));
  CHECK (guestfs_exists (g, "/b") == 0 && cat_is ("/c", "abc"), "mv result");
  CHECK (guestfs_mv (g, "/c", "/d") == 0, "mv into a dir: %s", guestfs_last_error (g));
  CHECK (cat_is ("/d/c", "abc") && guestfs_exists (g, "/c") == 0, "mv into a dir result");
  CHECK (guestfs_mv (g, "/nope", "/x") == -1, "mv of nothing");
  CHECK_ERR (g, "mv");
}

static void
t_mkdir_mode_umask (void)
{
  int old;
  CHECK (guestfs_mkdir_mode (g, "/m", 0711) == 0, "mkdir_mode: %s", guestfs_last_error (g));
  CHECK ((stat_field ("/m", 0, 'm') & 07777) == 0711, "mkdir_mode mode");
  CHECK (guestfs_mkdir_mode (g, "/m", 0700) == -1, "mkdir_mode of an existing dir");
  CHECK_ERR (g, "mkdir_mode");
  CHECK (guestfs_mkdir_mode (g, "/m3", -1) == -1, "mode -1 accepted");
  CHECK_ERR (g, "mode");
  old = guestfs_umask (g, 077);
  CHECK (old >= 0, "umask: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir_mode (g, "/m2", 0777) == 0, "mkdir_mode under umask");
  CHECK ((stat_field ("/m2", 0, 'm') & 07777) == 0700, "umask not applied");
  CHECK (guestfs_umask (g, old) == 077, "umask did not return the previous mask");
  CHECK (guestfs_umask (g, 01000) == -1, "umask 01000 accepted");
  CHECK_ERR (g, "mask");
}

static void
t_lchown (void)
{
  CHECK (guestfs_ln_s (g, "a", "/la") == 0, "ln_s");
  CHECK (guestfs_lchown (g, 10, 20, "/la") == 0, "lchown: %s", guestfs_last_error (g));
  CHECK (stat_field ("/la", 1, 'u') == 10, "lchown: link owner");
  CHECK (stat_field ("/a", 0, 'u') == 0, "lchown followed the link");
  CHECK (guestfs_lchown (g, 1, 1, "/nope") == -1, "lchown of nothing");
  CHECK_ERR (g, "lchown");
}

static void
t_utimens (void)
{
  CHECK (guestfs_utimens (g, "/a", 1000000, 0, 2000000, 500) == 0, "utimens: %s",
         guestfs_last_error (g));
  CHECK (stat_field ("/a", 0, 'a') == 1000000 && stat_field ("/a", 0, 't') == 2000000,
         "utimens times");
  CHECK (guestfs_utimens (g, "/a", 5, -2, 3000000, 0) == 0, "utimens omit");
  CHECK (stat_field ("/a", 0, 'a') == 1000000 && stat_field ("/a", 0, 't') == 3000000,
         "utimens omit times");
  CHECK (guestfs_utimens (g, "/a", 0, 2000000000, 0, 0) == -1, "bad nsecs accepted");
  CHECK_ERR (g, "atnsecs");
  CHECK (guestfs_utimens (g, "/nope", 0, 0, 0, 0) == -1, "utimens of nothing");
}

static void
t_truncate (void)
{
  CHECK (guestfs_write_file (g, "/tr", "hello world", 0) == 0, "write_file");
  CHECK (guestfs_truncate_size (g, "/tr", 5) == 0, "truncate_size: %s", guestfs_last_error (g));
  CHECK (cat_is ("/tr", "hello"), "truncate_size content");
  CHECK (guestfs_truncate_size (g, "/tr", 100) == 0 && stat_field ("/tr", 0, 's') == 100,
         "truncate_size up");
  CHECK (guestfs_truncate (g, "/tr") == 0 && stat_field ("/tr", 0, 's') == 0, "truncate");
  CHECK (guestfs_truncate_size (g, "/tr", -1) == -1, "negative size accepted");
  CHECK_ERR (g, "size");
  CHECK (guestfs_truncate (g, "/nope") == -1, "truncate of nothing");
  CHECK_ERR (g, "truncate");
  CHECK (guestfs_truncate (g, "/d") == -1, "truncate of a directory");
}

static void
t_fallocate_fill (void)
{
  CHECK (guestfs_fallocate (g, "/fa", 100000) == 0, "fallocate: %s", guestfs_last_error (g));
  CHECK (stat_field ("/fa", 0, 's') == 100000 && stat_field ("/fa", 0, 'b') >= 195,
         "fallocate size/blocks");
  CHECK (guestfs_fallocate (g, "/fa2", -1) == -1, "fallocate -1 accepted");
  CHECK_ERR (g, "len");
  CHECK (guestfs_fill (g, 'x', 10, "/fi") == 0, "fill: %s", guestfs_last_error (g));
  CHECK (cat_is ("/fi", "xxxxxxxxxx"), "fill content");
  CHECK (guestfs_fill (g, 0, 3000000, "/fi") == 0 && stat_field ("/fi", 0, 's') == 3000000,
         "fill big");
  CHECK (guestfs_fill (g, 256, 1, "/fi") == -1, "fill 256 accepted");
  CHECK_ERR (g, "c 256");
  CHECK (guestfs_fill (g, 'x', 1, "/nodir/f") == -1, "fill in a missing dir");
}

static void
t_mkdtemp (void)
{
  char *s = guestfs_mkdtemp (g, "/d/tmpXXXXXX");
  CHECK (s && strncmp (s, "/d/tmp", 6) == 0 && strlen (s) == 12 && !strstr (s, "XXXXXX"),
         "mkdtemp: %s %s", s ? s : "(null)", guestfs_last_error (g));
  CHECK (guestfs_is_dir (g, s) == 1, "mkdtemp made no directory");
  CHECK ((stat_field (s, 0, 'm') & 0777) == 0700, "mkdtemp mode");
  free (s);
  CHECK (guestfs_mkdtemp (g, "/d/tmp") == NULL, "template without XXXXXX");
  CHECK_ERR (g, "template");
  CHECK (guestfs_mkdtemp (g, "/nodir/XXXXXX") == NULL, "mkdtemp in a missing dir");
}

static void
t_readdir (void)
{
  struct guestfs_dirent_list *l = guestfs_readdir (g, "/d");
  int dot = 0, a = 0, t = 0;
  CHECK (l != NULL, "readdir: %s", guestfs_last_error (g));
  for (uint32_t i = 0; i < l->len; i++) {
    if (strcmp (l->val[i].name, ".") == 0 && l->val[i].ftyp == 'd') dot = 1;
    if (strcmp (l->val[i].name, "a") == 0 && l->val[i].ftyp == 'r' && l->val[i].ino > 0) a = 1;
    if (strcmp (l->val[i].name, "t") == 0 && l->val[i].ftyp == 'd') t = 1;
  }
  guestfs_free_dirent_list (l);
  CHECK (dot && a && t, "readdir entries: . %d a %d t %d", dot, a, t);
  CHECK (guestfs_readdir (g, "/nope") == NULL, "readdir of nothing");
  CHECK_ERR (g, "readdir");
}

static void
t_lstatlist_readlinklist (void)
{
  char *names[] = { "a", "nope", "la", NULL }, *bad[] = { "../x", NULL };
  struct guestfs_stat_list *sl = guestfs_lstatlist (g, "/", names);
  char **rl;
  CHECK (sl && sl->len == 3, "lstatlist: %s", guestfs_last_error (g));
  CHECK (sl->val[0].size == 3 && sl->val[1].ino == -1 &&
         (sl->val[2].mode & 0170000) == 0120000, "lstatlist values");
  guestfs_free_stat_list (sl);
  CHECK (guestfs_lstatlist (g, "/", bad) == NULL, "a name with '..' accepted");
  CHECK_ERR (g, "names");
  rl = guestfs_readlinklist (g, "/", names);
  CHECK (rl && rl[0] && *rl[0] == '\0' && *rl[1] == '\0' && strcmp (rl[2], "a") == 0 &&
         rl[3] == NULL, "readlinklist: %s", guestfs_last_error (g));
  th_count_free (rl);
  CHECK (guestfs_readlinklist (g, "/nope", names) == NULL, "readlinklist of nothing");
  CHECK_ERR (g, "readlinklist");
}

static void
t_ln (void)
{
  char *s;
  CHECK (guestfs_ln (g, "/a", "/ha") == 0, "ln: %s", guestfs_last_error (g));
  CHECK (stat_field ("/a", 0, 'n') == 2, "ln nlink");
  CHECK (guestfs_ln (g, "/a", "/ha") == -1, "ln over an existing name");
  CHECK_ERR (g, "ln");
  CHECK (guestfs_ln_f (g, "/fi", "/ha") == 0, "ln_f: %s", guestfs_last_error (g));
  CHECK (stat_field ("/a", 0, 'n') == 1 && stat_field ("/fi", 0, 'n') == 2, "ln_f nlink");
  CHECK (guestfs_ln (g, "a", "/ha2") == -1, "relative target accepted");
  CHECK_ERR (g, "target");
  CHECK (guestfs_ln_f (g, "/nope", "/ha3") == -1, "ln_f to nothing");
  CHECK (guestfs_ln_sf (g, "x", "/la") == 0, "ln_sf: %s", guestfs_last_error (g));
  s = guestfs_readlink (g, "/la");
  CHECK (s && strcmp (s, "x") == 0, "ln_sf target '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_ln_sf (g, "x", "/nodir/l") == -1, "ln_sf in a missing dir");
  CHECK_ERR (g, "ln_sf");
}

static void
t_realpath (void)
{
  char *s;
  CHECK (guestfs_ln_s (g, "/d", "/ld") == 0 && guestfs_ln_s (g, "../../../../etc", "/esc") == 0,
         "ln_s");
  s = guestfs_realpath (g, "/ld/t/../a");
  CHECK (s && strcmp (s, "/d/a") == 0, "realpath '%s' %s", s ? s : "(null)", guestfs_last_error (g));
  free (s);
  s = guestfs_realpath (g, "/");
  CHECK (s && strcmp (s, "/") == 0, "realpath / '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_realpath (g, "/esc") == NULL, "a link out of the guest resolved");
  CHECK_ERR (g, "realpath");
  CHECK (guestfs_realpath (g, "/nope") == NULL, "realpath of nothing");
}

static void
t_mknod (void)
{
  CHECK (guestfs_mkfifo (g, 0644, "/fifo") == 0, "mkfifo: %s", guestfs_last_error (g));
  CHECK ((stat_field ("/fifo", 1, 'm') & 0170000) == 0010000, "mkfifo type");
  CHECK (guestfs_mknod_b (g, 0600, 8, 1, "/blk") == 0, "mknod_b: %s", guestfs_last_error (g));
  CHECK ((stat_field ("/blk", 1, 'm') & 0170000) == 0060000 &&
         stat_field ("/blk", 1, 'r') == 0x801, "mknod_b type/rdev");
  CHECK (guestfs_mknod_c (g, 0600, 1, 3, "/chr") == 0, "mknod_c: %s", guestfs_last_error (g));
  CHECK ((stat_field ("/chr", 1, 'm') & 0170000) == 0020000, "mknod_c type");
  CHECK (guestfs_mknod (g, 0010644, 0, 0, "/fifo2") == 0, "mknod: %s", guestfs_last_error (g));
  CHECK ((stat_field ("/fifo2", 1, 'm') & 0170000) == 0010000, "mknod type");
  CHECK (guestfs_mkfifo (g, 0010644, "/fifo3") == -1, "mkfifo with type bits accepted");
  CHECK_ERR (g, "mode");
  CHECK (guestfs_mknod_b (g, 0600, -1, 0, "/blk2") == -1, "negative major accepted");
  CHECK_ERR (g, "devmajor");
  CHECK (guestfs_mknod_c (g, 0600, 1, 3, "/chr") == -1, "mknod_c over an existing node");
  CHECK (guestfs_mknod (g, 0644, 0, 0, "/nodir/x") == -1, "mknod in a missing dir");
}

static void
t_glob_expand (void)
{
  char **l = guestfs_glob_expand (g, "/d/*");
  CHECK (l && th_has (l, "/d/a") && th_has (l, "/d/t/"), "glob_expand: %s", guestfs_last_error (g));
  th_count_free (l);
  l = guestfs_glob_expand (g, "/ld/{a,c}");
  CHECK (l && th_has (l, "/ld/a") && th_has (l, "/ld/c"), "glob_expand braces through a link");
  th_count_free (l);
  l = guestfs_glob_expand (g, "/nothing*here");
  CHECK (l && l[0] == NULL, "glob_expand no match");
  th_count_free (l);
  CHECK (guestfs_glob_expand (g, "d/*") == NULL, "relative pattern accepted");
  CHECK_ERR (g, "glob_expand");
}

static void
t_statvfs (void)
{
  struct guestfs_statvfs *sv = guestfs_statvfs (g, "/d");
  CHECK (sv && sv->blocks > 0 && sv->bfree > 0 && sv->bfree <= sv->blocks &&
         sv->namemax == 255, "statvfs: %s", guestfs_last_error (g));
  guestfs_free_statvfs (sv);
  CHECK (guestfs_statvfs (g, "/nope") == NULL, "statvfs of nothing");
  CHECK_ERR (g, "statvfs");
}

static void
t_case_sensitive_path (void)
{
  char *s;
  CHECK (guestfs_mkdir (g, "/Dir") == 0 && guestfs_touch (g, "/Dir/File") == 0, "setup");
  s = guestfs_case_sensitive_path (g, "/dir/FILE");
  CHECK (s && strcmp (s, "/Dir/File") == 0, "case_sensitive_path '%s' %s", s ? s : "(null)",
         guestfs_last_error (g));
  free (s);
  s = guestfs_case_sensitive_path (g, "/DIR/newfile");
  CHECK (s && strcmp (s, "/Dir/newfile") == 0, "missing last element '%s'", s ? s : "(null)");
  free (s);
  s = guestfs_case_sensitive_path (g, "/");
  CHECK (s && strcmp (s, "/") == 0, "root '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_case_sensitive_path (g, "/nodir/x") == NULL, "missing middle element");
  CHECK_ERR (g, "case_sensitive_path");
  CHECK (guestfs_case_sensitive_path (g, "/Dir/../a") == NULL, "'..' accepted");
  /* A trailing slash after a file (not a directory) is an error. */
  CHECK (guestfs_case_sensitive_path (g, "/dir/file/") == NULL, "a file with a trailing slash");
  CHECK_ERR (g, "not a directory");
  s = guestfs_case_sensitive_path (g, "/dir/");
  CHECK (s && strcmp (s, "/Dir") == 0, "a directory with a trailing slash: '%s' %s",
         s ? s : "(null)", guestfs_last_error (g));
  free (s);
}

static void
t_dd (void)
{
  CHECK (guestfs_dd (g, "/t/s/f", "/ddout") == 0, "dd: %s", guestfs_last_error (g));
  CHECK (cat_is ("/ddout", "deep"), "dd content");
  CHECK (guestfs_dd (g, "/a", "/ddout") == 0 && cat_is ("/ddout", "abc"), "dd truncates");
  CHECK (guestfs_dd (g, "/nope", "/ddout") == -1, "dd of nothing");
  CHECK_ERR (g, "dd");
  CHECK (guestfs_dd (g, "/a", "/dev/sdz") == -1, "dd to a missing device");
}

static int
find_xattr (struct guestfs_xattr_list *l, const char *name, const char *val)
{
  for (uint32_t i = 0; l && i < l->len; i++)
    if (strcmp (l->val[i].attrname, name) == 0)
      return l->val[i].attrval_len == strlen (val) &&
             memcmp (l->val[i].attrval, val, strlen (val)) == 0;
  return 0;
}

static void
t_xattrs (void)
{
  struct guestfs_xattr_list *l;

  CHECK (guestfs_setxattr (g, "user.test", "hello!", 5, "/a") == 0, "setxattr: %s",
         guestfs_last_error (g));
  l = guestfs_getxattrs (g, "/a");
  CHECK (l && find_xattr (l, "user.test", "hello"), "getxattrs: %s", guestfs_last_error (g));
  guestfs_free_xattr_list (l);
  CHECK (guestfs_ln_s (g, "a", "/xl") == 0, "ln_s");
  l = guestfs_getxattrs (g, "/xl");
  CHECK (l && find_xattr (l, "user.test", "hello"), "getxattrs follows the link");
  guestfs_free_xattr_list (l);
  CHECK (guestfs_lsetxattr (g, "trusted.k", "v", 1, "/xl") == 0, "lsetxattr: %s",
         guestfs_last_error (g));
  l = guestfs_lgetxattrs (g, "/xl");
  CHECK (l && find_xattr (l, "trusted.k", "v") && !find_xattr (l, "user.test", "hello"),
         "lgetxattrs: %s", guestfs_last_error (g));
  guestfs_free_xattr_list (l);
  CHECK (guestfs_setxattr (g, "user.x", "abc", 10, "/a") == -1, "vallen past the value");
  CHECK_ERR (g, "vallen");
  CHECK (guestfs_setxattr (g, "", "abc", 1, "/a") == -1, "empty name accepted");
  CHECK_ERR (g, "xattr");
  CHECK (guestfs_getxattrs (g, "/nope") == NULL, "getxattrs of nothing");
  CHECK_ERR (g, "getxattrs");
  CHECK (guestfs_lgetxattrs (g, "/nope") == NULL, "lgetxattrs of nothing");
  CHECK (guestfs_lsetxattr (g, "trusted.k", "v", 1, "/nope") == -1, "lsetxattr of nothing");
}

static void
t_lxattrlist (void)
{
  char *names[] = { "a", "xl", "nope", NULL }, *bad[] = { "a/b", NULL };
  struct guestfs_xattr_list *l = guestfs_lxattrlist (g, "/", names);
  CHECK (l != NULL, "lxattrlist: %s", guestfs_last_error (g));
  CHECK (l->len == 5 && *l->val[0].attrname == '\0' && strcmp (l->val[0].attrval, "1") == 0 &&
         strcmp (l->val[1].attrname, "user.test") == 0 &&
         strcmp (l->val[2].attrval, "1") == 0 && strcmp (l->val[3].attrname, "trusted.k") == 0 &&
         strcmp (l->val[4].attrval, "0") == 0, "lxattrlist layout (%u entries)", l->len);
  guestfs_free_xattr_list (l);
  CHECK (guestfs_lxattrlist (g, "/", bad) == NULL, "a name with '/' accepted");
  CHECK_ERR (g, "names");
}

static void
t_removexattr (void)
{
  struct guestfs_xattr_list *l;
  CHECK (guestfs_removexattr (g, "user.test", "/a") == 0, "removexattr: %s", guestfs_last_error (g));
  CHECK (guestfs_lremovexattr (g, "trusted.k", "/xl") == 0, "lremovexattr: %s", guestfs_last_error (g));
  l = guestfs_getxattrs (g, "/a");
  CHECK (l && !find_xattr (l, "user.test", "hello"), "attribute still there");
  guestfs_free_xattr_list (l);
  l = guestfs_lgetxattrs (g, "/xl");
  CHECK (l && l->len == 0, "link attribute still there");
  guestfs_free_xattr_list (l);
  CHECK (guestfs_removexattr (g, "user.test", "/a") == -1, "removing a missing attribute");
  CHECK_ERR (g, "removexattr");
  CHECK (guestfs_lremovexattr (g, "trusted.k", "/nope") == -1, "lremovexattr of nothing");
}

int
main (void)
{
  char *disk = th_scratch ("calls-files", 64);
  const char *imgs[] = { disk, NULL };

  th_name = "files-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("files-setup", t_setup);
  th_run ("files-cp", t_cp);
  th_run ("files-cp-a", t_cp_a);
  th_run ("files-mv", t_mv);
  th_run ("files-mkdir-mode-umask", t_mkdir_mode_umask);
  th_run ("files-lchown", t_lchown);
  th_run ("files-utimens", t_utimens);
  th_run ("files-truncate", t_truncate);
  th_run ("files-fallocate-fill", t_fallocate_fill);
  th_run ("files-mkdtemp", t_mkdtemp);
  th_run ("files-readdir", t_readdir);
  th_run ("files-lstatlist-readlinklist", t_lstatlist_readlinklist);
  th_run ("files-ln", t_ln);
  th_run ("files-realpath", t_realpath);
  th_run ("files-mknod", t_mknod);
  th_run ("files-glob-expand", t_glob_expand);
  th_run ("files-statvfs", t_statvfs);
  th_run ("files-case-sensitive-path", t_case_sensitive_path);
  th_run ("files-dd", t_dd);
  th_run ("files-xattrs", t_xattrs);
  th_run ("files-lxattrlist", t_lxattrlist);
  th_run ("files-removexattr", t_removexattr);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  return th_done ();
}
