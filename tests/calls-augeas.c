/* tests/calls-augeas.c: the aug_* calls against one real appliance.
 *
 * One handle, one scratch disk holding an ext4 filesystem with a small
 * /etc/hosts.  The checks run in order on one Augeas handle: read, change
 * the tree (set, insert, rm, mv, defvar, defnode), then save and read the
 * file back with cat, and reload.  Each call also gets an error case,
 * including calls made before aug_init and after aug_close.
 */
#include "harness.h"

static guestfs_h *g;

#define AUG_NO_LOAD          32 /* augeas.h's flags (not in guestfs.h) */
#define AUG_NO_MODL_AUTOLOAD 64

#define HOSTS "127.0.0.1 localhost\n192.168.0.1 host1 alias1\n"

static int
nmatch (const char *path)
{
  char **m = guestfs_aug_match (g, path);
  return m ? (int) th_count_free (m) : -1;
}

static int
get_is (const char *path, const char *want)
{
  char *v = guestfs_aug_get (g, path);
  int r = v && strcmp (v, want) == 0;
  free (v);
  return r;
}

static void
t_init (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir (g, "/etc") == 0, "mkdir");
  CHECK (guestfs_write_file (g, "/etc/hosts", HOSTS, 0) == 0, "write_file");
  CHECK (guestfs_aug_get (g, "/files/etc/hosts/1/ipaddr") == NULL, "aug_get before aug_init");
  CHECK_ERR (g, "aug_init first");
  CHECK (guestfs_aug_init (g, "/nosuchdir", 0) == -1, "aug_init of a missing root");
  CHECK_ERR (g, "root");
  CHECK (guestfs_aug_init (g, "/", -1) == -1, "flags -1 accepted");
  CHECK_ERR (g, "flags");
  CHECK (guestfs_aug_init (g, "/", 1 << 20) == -1, "unknown flag accepted");
  CHECK_ERR (g, "flags");
  CHECK (guestfs_aug_init (g, "/", 0) == 0, "aug_init: %s", guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/*") == 2, "hosts entries: %d", nmatch ("/files/etc/hosts/*"));
}

static void
t_get_set (void)
{
  CHECK (get_is ("/files/etc/hosts/1/canonical", "localhost"), "aug_get: %s", guestfs_last_error (g));
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/1/canonical", "myhost") == 0, "aug_set: %s",
         guestfs_last_error (g));
  CHECK (get_is ("/files/etc/hosts/1/canonical", "myhost"), "aug_get after aug_set");
  CHECK (guestfs_aug_get (g, "/files/etc/hosts/*/ipaddr") == NULL, "aug_get of two nodes");
  CHECK_ERR (g, "2 nodes");
  CHECK (guestfs_aug_get (g, "/files/etc/nosuch") == NULL, "aug_get of nothing");
  CHECK_ERR (g, "no matching node");
  CHECK (guestfs_aug_get (g, "/files/etc/hosts") == NULL, "aug_get of a node without value");
  CHECK_ERR (g, "no value");
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/[", "x") == -1, "aug_set of a bad path");
  CHECK_ERR (g, "aug_set");
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/*/ipaddr", "x") == -1, "aug_set of two nodes");
}

static void
t_insert_rm_mv (void)
{
  CHECK (guestfs_aug_insert (g, "/files/etc/hosts/1/canonical", "alias", 0) == 0,
         "aug_insert: %s", guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/1/alias") == 1, "inserted node missing");
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/1/alias", "lh") == 0, "aug_set alias");
  CHECK (guestfs_aug_insert (g, "/files/etc/nosuch", "x", 1) == -1, "aug_insert at nothing");
  CHECK_ERR (g, "aug_insert");
  CHECK (guestfs_aug_mv (g, "/files/etc/hosts/2/alias", "/files/etc/hosts/1/alias[2]") == 0,
         "aug_mv: %s", guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/2/alias") == 0 && get_is ("/files/etc/hosts/1/alias[2]", "alias1"),
         "aug_mv did not move");
  CHECK (guestfs_aug_mv (g, "/files/etc/nosuch", "/files/etc/x") == -1, "aug_mv of nothing");
  CHECK_ERR (g, "aug_mv");
  CHECK (guestfs_aug_rm (g, "/files/etc/hosts/1/alias") == 2, "aug_rm: %s", guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/1/alias") == 0, "aliases remain");
  CHECK (guestfs_aug_rm (g, "/files/etc/nosuch") == 0, "aug_rm of nothing");
  CHECK (guestfs_aug_rm (g, "/files/etc/hosts/[") == -1, "aug_rm of a bad path");
  CHECK_ERR (g, "aug_rm");
}

static void
t_vars (void)
{
  struct guestfs_int_bool *ib;

  CHECK (guestfs_aug_defvar (g, "hosts", "/files/etc/hosts/*") == 2, "aug_defvar: %s",
         guestfs_last_error (g));
  CHECK (nmatch ("$hosts") == 2, "$hosts matches %d", nmatch ("$hosts"));
  CHECK (guestfs_aug_defvar (g, "hosts", NULL) == 0, "undefine: %s", guestfs_last_error (g));
  CHECK (guestfs_aug_defvar (g, "bad", "/files/[") == -1, "aug_defvar of a bad path");
  CHECK_ERR (g, "aug_defvar");
  ib = guestfs_aug_defnode (g, "ip3", "/files/etc/hosts/3/ipaddr", "10.0.0.3");
  CHECK (ib && ib->i == 1 && ib->b == 1, "aug_defnode: %s", ib ? "wrong result" : guestfs_last_error (g));
  guestfs_free_int_bool (ib);
  CHECK (get_is ("$ip3", "10.0.0.3"), "defnode's value");
  ib = guestfs_aug_defnode (g, "ip3", "/files/etc/hosts/3/ipaddr", "10.9.9.9");
  CHECK (ib && ib->i == 1 && ib->b == 0, "aug_defnode of an existing node");
  guestfs_free_int_bool (ib);
  CHECK (get_is ("$ip3", "10.0.0.3"), "defnode changed an existing value");
  CHECK (guestfs_aug_defnode (g, "bad", "/files/[", "x") == NULL, "aug_defnode of a bad path");
  CHECK_ERR (g, "aug_defnode");
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/3/canonical", "three") == 0, "complete entry 3");
}

static void
t_ls (void)
{
  char **l = guestfs_aug_ls (g, "/files/etc/hosts");

  CHECK (l && l[0] && l[1] && l[2] && !l[3] &&
         strcmp (l[0], "/files/etc/hosts/1") == 0 && strcmp (l[2], "/files/etc/hosts/3") == 0,
         "aug_ls: %s", l ? (l[0] ? l[0] : "(empty)") : guestfs_last_error (g));
  th_count_free (l);
  l = guestfs_aug_ls (g, "/");
  CHECK (l && l[0] && strcmp (l[0], "/augeas") == 0 && l[1] && strcmp (l[1], "/files") == 0,
         "aug_ls /");
  th_count_free (l);
  CHECK (guestfs_aug_ls (g, "/files/etc/") == NULL, "aug_ls with a trailing /");
  CHECK_ERR (g, "augpath");
  CHECK (guestfs_aug_ls (g, "/files/[") == NULL, "aug_ls of a bad path");
}

static void
t_save_load (void)
{
  char *s;

  CHECK (guestfs_aug_save (g) == 0, "aug_save: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/etc/hosts");
  CHECK (s && strstr (s, "127.0.0.1 myhost\n") && strstr (s, "192.168.0.1 host1\n") &&
         strstr (s, "10.0.0.3\tthree\n"), "saved hosts: %s", s ? s : "(null)");
  free (s);
  /* A tree the lens cannot write back: the save fails, naming the file. */
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/4/bogus", "x") == 0, "aug_set bogus");
  CHECK (guestfs_aug_save (g) == -1, "saved a tree the lens rejects");
  CHECK_ERR (g, "/etc/hosts");
  CHECK (guestfs_aug_load (g) == 0, "aug_load: %s", guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/4") == 0, "aug_load kept the unsaved change");
  CHECK (get_is ("/files/etc/hosts/3/canonical", "three"), "aug_load lost the saved file");
}

static void
t_close (void)
{
  CHECK (guestfs_aug_close (g) == 0, "aug_close: %s", guestfs_last_error (g));
  CHECK (guestfs_aug_match (g, "/files/*") == NULL, "aug_match after aug_close");
  CHECK_ERR (g, "aug_init first");
  CHECK (guestfs_aug_close (g) == -1, "aug_close twice");
  CHECK_ERR (g, "aug_close");
  CHECK (guestfs_aug_load (g) == -1, "aug_load after aug_close");
  CHECK (guestfs_aug_save (g) == -1, "aug_save after aug_close");
  CHECK_ERR (g, "aug_save");
}

/* aug_init at ROOT with nothing loaded and no module autoloaded, then
 * /etc/hosts loaded with lens LENS, named by hand under
 * /augeas/load/NAME.  -1 if a call fails; a lens Augeas cannot find is
 * no failure here (aug_load notes it in /augeas/load/NAME/error). */
static int
init_lens (const char *root, const char *name, const char *lens)
{
  char lens_at[64], incl_at[64];

  snprintf (lens_at, sizeof lens_at, "/augeas/load/%s/lens", name);
  snprintf (incl_at, sizeof incl_at, "/augeas/load/%s/incl", name);
  return guestfs_aug_init (g, root, AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD) == -1 ||
    guestfs_aug_set (g, lens_at, lens) == -1 ||
    guestfs_aug_set (g, incl_at, "/etc/hosts") == -1 ||
    guestfs_aug_load (g) == -1 ? -1 : 0;
}

/* aug_init at ROOT loading /etc/hosts: with every module autoloaded
 * (flags 0), or, quicker, with the Hosts lens named by hand. */
static int
init_hosts (const char *root, int autoload)
{
  return autoload ? guestfs_aug_init (g, root, 0) : init_lens (root, "h", "Hosts.lns");
}

/* Guest symlinks resolve inside the root given to aug_init.  ROOT's
 * etc/hosts points at TARGET (absolute, or climbing with ../); the file
 * it must reach is ROOT/etc/shadow, while OUTSIDE (a guest file outside
 * ROOT, where Augeas's own path resolution would land) keeps its text. */
static void
symlinked_hosts (const char *root, const char *target, const char *outside, int autoload)
{
  char *hosts = NULL, *shadow = NULL, *s;

  CHECK (asprintf (&hosts, "%s/etc/hosts", strcmp (root, "/") ? root : "") > 0 &&
         asprintf (&shadow, "%s/etc/shadow", strcmp (root, "/") ? root : "") > 0, "asprintf");
  guestfs_rm_rf (g, hosts);
  CHECK (guestfs_ln_s (g, target, hosts) == 0, "ln -s %s: %s", target, guestfs_last_error (g));
  CHECK (guestfs_write_file (g, shadow, "10.9.8.7 guestshadow\n", 0) == 0, "write %s", shadow);
  if (outside)
    CHECK (guestfs_write_file (g, outside, "10.1.1.1 outside\n", 0) == 0, "write %s", outside);
  CHECK (init_hosts (root, autoload) == 0, "aug_init: %s", guestfs_last_error (g));
  CHECK (get_is ("/files/etc/hosts/1/canonical", "guestshadow"),
         "%s -> %s: the tree is not %s: %s", hosts, target, shadow, guestfs_last_error (g));
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/1/canonical", "edited") == 0,
         "aug_set: %s", guestfs_last_error (g));
  CHECK (guestfs_aug_save (g) == 0, "aug_save: %s", guestfs_last_error (g));
  s = guestfs_cat (g, shadow);
  CHECK (s && strcmp (s, "10.9.8.7 edited\n") == 0, "%s -> %s: %s is '%s'", hosts, target,
         shadow, s ? s : "(null)");
  free (s);
  if (outside) {
    s = guestfs_cat (g, outside);
    CHECK (s && strcmp (s, "10.1.1.1 outside\n") == 0, "%s -> %s: %s outside the root "
           "became '%s'", hosts, target, outside, s ? s : "(null)");
    free (s);
  }
  s = guestfs_readlink (g, hosts);
  CHECK (s && strcmp (s, target) == 0, "the symlink was replaced: '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_aug_close (g) == 0, "aug_close");
  free (hosts);
  free (shadow);
}

static void
t_symlinks (void)
{
  CHECK (guestfs_mkdir_p (g, "/jail/etc") == 0, "mkdir_p: %s", guestfs_last_error (g));
  symlinked_hosts ("/", "/etc/shadow", NULL, 1);
  symlinked_hosts ("/", "../../../etc/shadow", NULL, 0);
  /* Rooted at /jail: without the chroot, ../../etc/shadow from
   * /jail/etc is the guest's /etc/shadow, outside the root. */
  symlinked_hosts ("/jail", "/etc/shadow", "/etc/shadow", 0);
  symlinked_hosts ("/jail", "../../etc/shadow", "/etc/shadow", 1);
  symlinked_hosts ("/jail", "../../../../etc/shadow", "/etc/shadow", 0);
  /* A symlinked root resolves inside the sysroot too. */
  CHECK (guestfs_ln_s (g, "/jail", "/jaillink") == 0, "ln -s: %s", guestfs_last_error (g));
  symlinked_hosts ("/jaillink", "../../etc/shadow", "/etc/shadow", 0);
  guestfs_rm_rf (g, "/etc/hosts");
  CHECK (guestfs_write_file (g, "/etc/hosts", HOSTS, 0) == 0, "write_file");
}

/* Lenses come from the appliance only, also when named after aug_init
 * without the modules autoloaded (as the runner's steps do): Hosts.lns
 * loads, and a lens the appliance lacks is not taken from the guest's
 * own load path even when the guest has one of that name. */
static void
t_lenses (void)
{
  static const char guest_lens[] =
    "module Guestonly =\n  let lns = [ label \"line\" . store /[^\\n]+/ . del \"\\n\" \"\\n\" ] *\n";
  char *s;

  CHECK (init_hosts ("/", 0) == 0, "aug_init, Hosts.lns: %s", guestfs_last_error (g));
  CHECK (get_is ("/files/etc/hosts/2/canonical", "host1"), "Hosts.lns after the chroot: %s",
         guestfs_last_error (g));
  CHECK (nmatch ("/augeas/load/h/error") == 0, "a load error for Hosts.lns");
  CHECK (nmatch ("/augeas/text") == 0 && nmatch ("/augeas/guestkit-lens-probe") == 0,
         "the lens lookup left nodes behind");
  CHECK (guestfs_aug_set (g, "/files/etc/hosts/2/canonical", "lensed") == 0, "aug_set");
  CHECK (guestfs_aug_save (g) == 0, "aug_save: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/etc/hosts");
  CHECK (s && strstr (s, "192.168.0.1 lensed"), "saved: '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_aug_close (g) == 0, "aug_close");
  CHECK (guestfs_write_file (g, "/etc/hosts", HOSTS, 0) == 0, "write_file");

  CHECK (guestfs_mkdir_p (g, "/usr/share/augeas/lenses/dist") == 0 &&
         guestfs_write_file (g, "/usr/share/augeas/lenses/guestonly.aug", guest_lens, 0) == 0 &&
         guestfs_write_file (g, "/usr/share/augeas/lenses/dist/guestonly.aug", guest_lens, 0) == 0,
         "the guest's lens: %s", guestfs_last_error (g));
  CHECK (init_lens ("/", "x", "Guestonly.lns") == 0, "aug_init, Guestonly.lns: %s",
         guestfs_last_error (g));
  CHECK (nmatch ("/files/etc/hosts/line") == 0, "the guest's own lens was loaded");
  s = guestfs_aug_get (g, "/augeas/load/x/error");
  CHECK (s && strcmp (s, "Can not find lens Guestonly.lns") == 0,
         "the missing lens's error: %s", s ? s : guestfs_last_error (g));
  free (s);
  CHECK (get_is ("/augeas/load/x/lens", "Guestonly.lns"), "the lens name was not restored");
  CHECK (guestfs_aug_close (g) == 0, "aug_close");
  guestfs_rm_rf (g, "/usr");
}

/* aug_edit_file: one file, one lens, one call, no aug_init handle. */
#define SSHD "Port 22\nMatch User bob\n  X11Forwarding no\n"
#define SSHD_EDITED "Port 2222\nPermitRootLogin no\nMatch User bob\n  X11Forwarding no\n"

static int
cat_is (const char *path, const char *want)
{
  char *s = guestfs_cat (g, path);
  int r = s && strcmp (s, want) == 0;
  if (!r)
    fprintf (stderr, "%s is '%s'\n", path, s ? s : guestfs_last_error (g));
  free (s);
  return r;
}

static int
readlink_is (const char *path, const char *want)
{
  char *s = guestfs_readlink (g, path);
  int r = s && strcmp (s, want) == 0;
  free (s);
  return r;
}

/* The changes list is exactly want (NULL-terminated pairs). */
static int
changes_are (char **l, const char *const *want)
{
  size_t i = 0;
  int r = l != NULL;

  for (; r && want[i]; i++)
    r = l[i] && strcmp (l[i], want[i]) == 0;
  r = r && l[i] == NULL;
  if (l)
    th_count_free (l);
  return r;
}

static void
t_edit_file (void)
{
  char *set[] = { "Port", "2222", "PermitRootLogin", "no", NULL };
  char *none[] = { NULL };
  char *rm[] = { "PermitRootLogin", NULL };
  char *two[] = { "*", "x", NULL };
  static const char *const want[] = { "Port", "=22", "PermitRootLogin", "+", NULL };
  static const char *const want_rm[] = { "PermitRootLogin", "-", NULL };
  static const char *const nothing[] = { NULL };
  struct guestfs_stat *st, *st2;

  guestfs_rm_rf (g, "/usr");
  CHECK (guestfs_mkdir_p (g, "/etc/ssh") == 0 &&
         guestfs_write_file (g, "/etc/ssh/sshd_config", SSHD, 0) == 0 &&
         guestfs_chmod (g, 0640, "/etc/ssh/sshd_config") == 0 &&
         guestfs_chown (g, 12, 34, "/etc/ssh/sshd_config") == 0, "set-up: %s",
         guestfs_last_error (g));
  CHECK (changes_are (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", set, none,
                                             "Match"), want),
         "aug_edit_file's changes: %s", guestfs_last_error (g));
  CHECK (cat_is ("/etc/ssh/sshd_config", SSHD_EDITED), "the edit (new key before Match)");
  st = guestfs_stat (g, "/etc/ssh/sshd_config");
  CHECK (st && (st->mode & 07777) == 0640 && st->uid == 12 && st->gid == 34,
         "owner or mode not kept: %o %ld %ld", st ? (unsigned) st->mode : 0,
         st ? (long) st->uid : -1L, st ? (long) st->gid : -1L);
  /* Again: nothing changes, and the file is not rewritten (same inode). */
  CHECK (changes_are (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", set, none,
                                             "Match"), nothing), "a second edit changed things");
  st2 = guestfs_stat (g, "/etc/ssh/sshd_config");
  CHECK (st && st2 && st->ino == st2->ino, "unchanged text was written again");
  guestfs_free_stat (st);
  guestfs_free_stat (st2);
  CHECK (changes_are (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", none, rm,
                                             NULL), want_rm), "remove: %s", guestfs_last_error (g));
  CHECK (cat_is ("/etc/ssh/sshd_config", "Port 2222\nMatch User bob\n  X11Forwarding no\n"),
         "after remove");

  /* Errors: a lens that does not exist, a missing file, a key of two
   * entries, a file the lens cannot parse.  None writes. */
  CHECK (guestfs_aug_edit_file (g, "Nosuch.lns", "/etc/ssh/sshd_config", set, none, NULL) == NULL,
         "a missing lens accepted");
  CHECK_ERR (g, "Nosuch.lns");
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/nothere", set, none, NULL) == NULL,
         "a missing file accepted");
  CHECK_ERR (g, "no such file in the guest");
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", two, none, NULL) == NULL,
         "a key of two entries accepted");
  CHECK_ERR (g, "matches 2 entries");
  CHECK (guestfs_write_file (g, "/etc/ssh/bad", "Port 22\n\"unterminated\n", 0) == 0, "write");
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/bad", set, none, NULL) == NULL,
         "a file the lens cannot parse accepted");
  CHECK_ERR (g, "cannot parse");
  /* A tree the lens cannot print: a key after the Match block. */
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", set, none, NULL) == NULL,
         "an unprintable tree accepted");
  CHECK_ERR (g, "cannot write the edited tree back");
  CHECK (cat_is ("/etc/ssh/sshd_config", "Port 2222\nMatch User bob\n  X11Forwarding no\n"),
         "a failed edit wrote");

  /* Symlinks: one inside the guest is followed (its target edited, the
   * symlink kept); one that climbs out of the guest tree stays inside it:
   * the appliance's own lens file there is not reached. */
  CHECK (guestfs_ln_s (g, "../ssh/sshd_config", "/etc/ssh/link") == 0, "ln -s");
  set[1] = "2022";
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/link", set, none, "Match") != NULL,
         "edit through a symlink: %s", guestfs_last_error (g));
  CHECK (cat_is ("/etc/ssh/sshd_config", "Port 2022\nPermitRootLogin no\nMatch User bob\n"
                 "  X11Forwarding no\n"), "the symlink's target");
  CHECK (cat_is ("/etc/ssh/link", "Port 2022\nPermitRootLogin no\nMatch User bob\n"
                 "  X11Forwarding no\n") && readlink_is ("/etc/ssh/link", "../ssh/sshd_config"),
         "the symlink was replaced");
  CHECK (guestfs_ln_s (g, "../../../../../usr/share/augeas/lenses/dist/sshd.aug",
                       "/etc/ssh/out") == 0, "ln -s");
  CHECK (guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/out", set, none, NULL) == NULL,
         "a symlink out of the guest was followed");
  CHECK_ERR (g, "no such file in the guest");
  guestfs_rm_rf (g, "/etc/ssh");
}

/* A count from `debug regex' (guestd/regex-cache.c); ~0 if absent. */
static unsigned long long
rx_stat (const char *name)
{
  char *none[] = { NULL };
  char *s = guestfs_debug (g, "regex", none);
  unsigned long long v = th_line_value (s, name);

  free (s);
  return v;
}

/* libaugeas frees a lens's compiled regexps after every parse and print;
 * guestd keeps one compiled copy of each (regex-cache.c), so the same
 * edit made twice compiles nothing the second time, and the snapshot
 * template's Sshd warm-up is in the table from the start. */
static void
t_regex_reuse (void)
{
  const char *text = "Port 22\nPermitRootLogin yes\nMatch User bob\n  X11Forwarding no\n";
  char *set[] = { "PermitRootLogin", "no", NULL };
  char *none[] = { NULL };
  unsigned long long c[2], r[2], p[2];
  char **l;

  CHECK (rx_stat ("kept") != ~0ULL && rx_stat ("kept") > 0, "debug regex: %s",
         guestfs_last_error (g));
  CHECK (guestfs_mkdir_p (g, "/etc/ssh") == 0, "set-up");
  for (int i = 0; i < 2; i++) {
    CHECK (guestfs_write_file (g, "/etc/ssh/sshd_config", text, 0) == 0, "set-up %d", i);
    CHECK ((l = guestfs_aug_edit_file (g, "Sshd.lns", "/etc/ssh/sshd_config", set, none,
                                       NULL)) != NULL, "edit %d: %s", i, guestfs_last_error (g));
    th_count_free (l);
    c[i] = rx_stat ("compiled");
    r[i] = rx_stat ("reused");
    p[i] = rx_stat ("passed");
  }
  CHECK (c[1] == c[0] && p[1] == p[0], "the same edit compiled %llu patterns again "
         "(%llu by libc)", c[1] - c[0] + p[1] - p[0], p[1] - p[0]);
  CHECK (r[1] - r[0] >= 10, "the same edit took only %llu compiled patterns from the table",
         r[1] - r[0]);
  CHECK (cat_is ("/etc/ssh/sshd_config", "Port 22\nPermitRootLogin no\nMatch User bob\n"
                 "  X11Forwarding no\n"), "the edit");
  guestfs_rm_rf (g, "/etc/ssh");
}

int
main (void)
{
  char *disk = th_scratch ("augeas", 32);
  const char *imgs[] = { disk, NULL };

  th_name = "augeas-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("augeas-init", t_init);
    th_run ("augeas-get-set", t_get_set);
    th_run ("augeas-insert-rm-mv", t_insert_rm_mv);
    th_run ("augeas-defvar-defnode", t_vars);
    th_run ("augeas-ls", t_ls);
    th_run ("augeas-save-load", t_save_load);
    th_run ("augeas-close", t_close);
    th_run ("augeas-guest-symlinks", t_symlinks);
    th_run ("augeas-appliance-lenses", t_lenses);
    th_run ("augeas-edit-file", t_edit_file);
    th_run ("augeas-regex-reuse", t_regex_reuse);
    guestfs_close (g);
  }
  unlink (disk);
  free (disk);
  return th_done ();
}
