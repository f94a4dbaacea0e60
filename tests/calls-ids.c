/* tests/calls-ids.c: lookup_ids (guestd/ids.c), user and group names to
 * ids from the guest's own /etc/passwd and /etc/group, against one real
 * appliance.
 *
 * The files are crafted to be hostile: comments, NIS lines, duplicates
 * (the first wins), bad or too large ids, missing fields, a NUL byte, a
 * 100 kB line, no final newline; then /etc/passwd as a symlink that
 * leads out of the guest tree (it must resolve inside it), a directory,
 * a file over the size bound, and a missing file.
 */
#include "harness.h"

static guestfs_h *g;

/* lookup_ids on users and groups (NULL-terminated) must answer want
 * (NULL-terminated, the users' then the groups'). */
static int
answers (char *const *users, char *const *groups, const char *const *want, char *why,
         size_t whylen)
{
  char **v = guestfs_lookup_ids (g, users, groups);
  size_t i = 0;
  int ok = v != NULL;

  if (v == NULL)
    snprintf (why, whylen, "error: %s", guestfs_last_error (g));
  for (; ok && want[i]; i++)
    if (v[i] == NULL || strcmp (v[i], want[i]) != 0) {
      snprintf (why, whylen, "answer %zu: '%s', want '%s'", i, v[i] ? v[i] : "(none)", want[i]);
      ok = 0;
    }
  if (ok && v[i] != NULL) {
    snprintf (why, whylen, "answer %zu: '%s' too many", i, v[i]);
    ok = 0;
  }
  th_count_free (v);
  return ok;
}

static void
t_unmounted (void)
{
  char *users[] = { "root", NULL }, *none[] = { NULL };

  CHECK (guestfs_lookup_ids (g, users, none) == NULL, "lookup_ids with nothing mounted");
  CHECK_ERR (g, "no guest filesystem is mounted");
}

static void
t_setup (void)
{
  static const char passwd[] =
    "# a comment, then NIS lines\n"
    "+nisuser::0:0:::\n"
    "-bob:x:7:7::/:/bin/sh\n"
    "+\n"
    "\n"
    "root:x:0:0:root:/root:/bin/bash\n"
    "  alice:x:1000:1000::/home/alice:/bin/sh\n"
    "bob:x:12x:100::/:/bin/sh\n"
    "bob:x:1001:100::/:/bin/sh\n"
    "carol:x:1002\n"
    "carol:x:4294967295:0::/:\n"
    "carol:x::0::/:\n"
    "carol:x:1003:x::/:\n"
    "carol:x:1013:1003::/:/bin/sh\n"
    "dave:x:1004:1004::/:/bin/sh\n"
    "dave:x:2004:2004::/:/bin/sh\n"
    "eve:x:1005:1005:\0::\n"
    "eve:x:1006:1006::/:/bin/sh\n"
    "root:x:99:99::/:/bin/sh\n"
    "::1111:1111::/:\n";
  static const char group[] =
    "root:x:0:\n"
    "+:::\n"
    "wheel:x:abc:\n"
    "wheel:x:10:alice,bob\n"
    "staff:x:50:\n"
    "staff:x:60:\n"
    "shadow:x:42:\n"
    "users:x:100";
  size_t n = sizeof passwd - 1, long_len = 100000;
  char *buf = malloc (n + long_len + 64);

  CHECK (buf != NULL, "malloc");
  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir (g, "/etc") == 0 && guestfs_mkdir (g, "/real") == 0, "mkdir");
  /* The passwd above, then a 100 kB line, then one with no newline. */
  memcpy (buf, passwd, n);
  n += (size_t) sprintf (buf + n, "frank:x:1007:1007:");
  memset (buf + n, 'A', long_len);
  n += long_len;
  n += (size_t) sprintf (buf + n, ":/:/bin/sh\nzed:x:1010:1010::/:/bin/sh");
  CHECK (th_upload_bytes (g, "/etc/passwd", buf, n) == 0, "upload passwd: %s",
         guestfs_last_error (g));
  free (buf);
  CHECK (th_upload_bytes (g, "/etc/group", group, sizeof group - 1) == 0, "upload group: %s",
         guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/real/passwd", "root:x:4242:4242::/:/bin/sh\n", 0) == 0,
         "write_file: %s", guestfs_last_error (g));
}

static void
t_lookup (void)
{
  char *users[] = { "root", "alice", "bob", "carol", "dave", "eve", "frank", "zed", "nisuser",
                    "+nisuser", "-bob", "mallory", "root", NULL };
  char *groups[] = { "root", "wheel", "staff", "shadow", "users", "nogroup", NULL };
  const char *want[] = { "0", "1000", "1001", "1013", "1004", "1006", "1007", "1010", "", "", "",
                         "", "0", "0", "10", "50", "42", "100", "", NULL };
  char why[200] = "";

  CHECK (answers (users, groups, want, why, sizeof why), "%s", why);
}

static void
t_one_side (void)
{
  char *users[] = { "dave", NULL }, *groups[] = { "shadow", NULL }, *none[] = { NULL };
  const char *u[] = { "1004", NULL }, *gr[] = { "42", NULL }, *empty[] = { NULL };
  char why[200] = "";

  CHECK (answers (users, none, u, why, sizeof why), "users only: %s", why);
  CHECK (answers (none, groups, gr, why, sizeof why), "groups only: %s", why);
  CHECK (answers (none, none, empty, why, sizeof why), "no names: %s", why);
}

static void
t_bad_names (void)
{
  char *colon[] = { "ro:ot", NULL }, *empty[] = { "", NULL }, *none[] = { NULL };
  char *nl[] = { "root\nx", NULL }, **many = calloc (1026, sizeof *many);

  CHECK (guestfs_lookup_ids (g, colon, none) == NULL, "a name with ':' accepted");
  CHECK_ERR (g, "users: 'ro:ot': not a name");
  CHECK (guestfs_lookup_ids (g, none, empty) == NULL, "an empty name accepted");
  CHECK_ERR (g, "groups: '': not a name");
  CHECK (guestfs_lookup_ids (g, nl, none) == NULL, "a name with a newline accepted");
  CHECK_ERR (g, "not a name");
  CHECK (many != NULL, "calloc");
  for (size_t i = 0; i < 1025; i++)
    many[i] = "root";
  CHECK (guestfs_lookup_ids (g, many, none) == NULL, "1025 names accepted");
  CHECK_ERR (g, "more than 1024 names");
  free (many);
}

/* /etc/passwd as a symlink out of the guest tree: the kernel resolves it
 * with the guest's root as "/", so both land on the guest's /real/passwd
 * (uid 4242), which the appliance's own tree does not have. */
static void
t_symlink_out (void)
{
  static const char *const targets[] = { "/real/passwd", "../../../../../../../real/passwd" };
  char *users[] = { "root", NULL }, *none[] = { NULL };
  const char *want[] = { "4242", NULL };
  char why[200] = "";

  CHECK (guestfs_mv (g, "/etc/passwd", "/etc/passwd.crafted") == 0, "mv: %s",
         guestfs_last_error (g));
  for (size_t i = 0; i < 2; i++) {
    CHECK (guestfs_ln_sf (g, targets[i], "/etc/passwd") == 0, "ln_sf: %s", guestfs_last_error (g));
    CHECK (answers (users, none, want, why, sizeof why), "symlink to %s: %s", targets[i], why);
  }
  /* Into the appliance's /proc: not there in the guest tree. */
  CHECK (guestfs_ln_sf (g, "/proc/self/root/etc/passwd", "/etc/passwd") == 0, "ln_sf");
  CHECK (guestfs_lookup_ids (g, users, none) == NULL, "a link into /proc was followed");
  CHECK_ERR (g, "/etc/passwd");
  CHECK (guestfs_rm (g, "/etc/passwd") == 0 &&
         guestfs_mv (g, "/etc/passwd.crafted", "/etc/passwd") == 0, "restore passwd");
}

static void
t_bad_files (void)
{
  char *users[] = { "root", NULL }, *groups[] = { "root", NULL }, *none[] = { NULL };
  const char *want[] = { "0", NULL };
  char why[200] = "";

  CHECK (guestfs_mv (g, "/etc/group", "/etc/group.crafted") == 0, "mv");
  CHECK (guestfs_lookup_ids (g, none, groups) == NULL, "a missing /etc/group");
  CHECK_ERR (g, "/etc/group: No such file");
  /* Not read when no group is asked for. */
  CHECK (answers (users, none, want, why, sizeof why), "no groups, no /etc/group: %s", why);
  CHECK (guestfs_mkdir (g, "/etc/group") == 0, "mkdir");
  CHECK (guestfs_lookup_ids (g, none, groups) == NULL, "a directory as /etc/group");
  CHECK_ERR (g, "/etc/group: Is a directory");
  CHECK (guestfs_rmdir (g, "/etc/group") == 0, "rmdir");
  CHECK (guestfs_truncate_size (g, "/etc/group.crafted", (17 << 20)) == 0, "truncate_size: %s",
         guestfs_last_error (g));
  CHECK (guestfs_ln_s (g, "group.crafted", "/etc/group") == 0, "ln_s");
  CHECK (guestfs_lookup_ids (g, none, groups) == NULL, "a 17 MiB /etc/group");
  CHECK_ERR (g, "/etc/group: larger than");
}

int
main (void)
{
  char *disk = th_scratch ("calls-ids", 64);
  const char *imgs[] = { disk, NULL };

  th_name = "ids-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("ids-unmounted", t_unmounted);
  th_run ("ids-setup", t_setup);
  th_run ("ids-lookup", t_lookup);
  th_run ("ids-one-side", t_one_side);
  th_run ("ids-bad-names", t_bad_names);
  th_run ("ids-symlink-out", t_symlink_out);
  th_run ("ids-bad-files", t_bad_files);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  return th_done ();
}
