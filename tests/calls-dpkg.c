/* tests/calls-dpkg.c: dpkg_packages (guestd/dpkg.c) against one real
 * appliance.
 *
 * One scratch disk with an ext4 filesystem; each check writes its own
 * /var/lib/dpkg/status and reads the rows back:
 *   - a valid crafted file (continuations, half-installed, config-files,
 *     held, epochs 0 and 01, two architectures of one package) and this
 *     host's own status file: the rows' state, name, version and
 *     architecture must be what the host's dpkg-query prints for the
 *     same file (dpkg-query --admindir=DIR -W -f=...), and the text
 *     fields what the file says;
 *   - the names filter; paging across replies (START);
 *   - hostile content dpkg itself refuses: duplicates, a missing
 *     Version, NULs, CRs, a 1 MiB line, a paragraph without Package,
 *     a bad Status, field names in odd case;
 *   - a status symlink leading "outside" the guest, a file over the
 *     size cap, no file, bad arguments.
 */
#include "harness.h"

#define ROW 9
#define STATUS "/var/lib/dpkg/status"

static guestfs_h *g;

static int
put (const char *text)
{
  return th_upload_bytes (g, STATUS, text, strlen (text));
}

/* The row of package name (and arch, if not NULL) in v, or NULL. */
static char **
row_of (char **v, const char *name, const char *arch)
{
  for (size_t i = 0; v && v[i]; i += ROW)
    if (strcmp (v[i], "P") == 0 && strcmp (v[i + 1], name) == 0 &&
        (arch == NULL || strcmp (v[i + 4], arch) == 0))
      return v + i;
  return NULL;
}

static size_t
rows_of_kind (char **v, const char *kind)
{
  size_t n = 0;

  for (size_t i = 0; v && v[i]; i += ROW)
    n += strcmp (v[i], kind) == 0;
  return n;
}

static char **
all_rows (void)
{
  char *none[] = { NULL };
  return guestfs_dpkg_packages (g, none, 0);
}

/* Compare the rows of the guest's status (text, uploaded first) with
 * what dpkg-query prints for the same file; 1 if the same, 0 (and
 * why, in a file under tests/out) if not, -1 if no dpkg-query. */
static int
same_as_dpkg_query (const char *text, size_t len, const char *tag)
{
  char dir[64], path[96], cmd[1024];
  FILE *f;
  char **v;
  int r;

  if (th_system ("command -v dpkg-query >/dev/null") != 0)
    return -1;
  snprintf (dir, sizeof dir, "tests/out/dpkg-%s-%d", tag, (int) getpid ());
  th_system ("rm -rf %s && mkdir -p %s/updates %s/info", dir, dir, dir);
  snprintf (path, sizeof path, "%s/status", dir);
  if ((f = fopen (path, "w")) == NULL || fwrite (text, 1, len, f) != len || fclose (f) != 0)
    return 0;
  if (th_upload_bytes (g, STATUS, text, len) == -1 || (v = all_rows ()) == NULL)
    return 0;
  snprintf (path, sizeof path, "%s/rows", dir);
  if ((f = fopen (path, "w")) == NULL)
    return 0;
  for (size_t i = 0; v[i]; i += ROW)      /* dpkg-query leaves out "un" */
    if (strcmp (v[i], "P") == 0 && strncmp (v[i + 2], "un", 2) != 0)
      fprintf (f, "%s|%s|%s|%s\n", v[i + 2], v[i + 1], v[i + 3], v[i + 4]);
  fclose (f);
  th_count_free (v);
  snprintf (cmd, sizeof cmd,
            "dpkg-query --admindir=%s -W -f='${db:Status-Abbrev}|${Package}|${Version}|"
            "${Architecture}\\n' 2>/dev/null | grep -v '^un' | LC_ALL=C sort > %s/want && "
            "LC_ALL=C sort %s/rows > %s/got && cmp -s %s/want %s/got", dir, dir, dir, dir, dir, dir);
  r = th_system ("%s", cmd) == 0;
  if (r)
    th_system ("rm -rf %s", dir);
  return r;
}

/* The paragraph of libtwo, Multi-Arch: same, for one architecture. */
#define LIBTWO(arch)                                                    \
  "Package: libtwo\n"                                                   \
  "Status: install ok installed\n"                                      \
  "Maintainer: M <m@example.org>\n"                                     \
  "Multi-Arch: same\n"                                                  \
  "Version: 2.0\n"                                                      \
  "Architecture: " arch "\n"                                            \
  "Description: two architectures\n"

static const char valid[] =
  "Package: good\n"
  "Status: install ok installed\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 1:2.3-4\n"
  "Architecture: amd64\n"
  "Source: goodsrc (2.3-1)\n"
  "Homepage: https://example.org/good\n"
  "Description: a good package\n"
  " first line\n"
  " .\n"
  " third line\n"
  "\n"
  "Package: halfinst\n"
  "Status: install reinstreq half-installed\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 1.0\n"
  "Architecture: all\n"
  "Description: half installed\n"
  "\n"
  "Package: gone\n"
  "Status: deinstall ok config-files\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 0.9\n"
  "Architecture: amd64\n"
  "Description: removed, conffiles kept\n"
  "\n"
  "Package: held\n"
  "Status: hold ok installed\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 0:3.1\n"
  "Architecture: amd64\n"
  "Description: held, epoch 0\n"
  "\n"
  "Package: colons\n"
  "Status: install ok installed\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 0:1:2-3\n"
  "Architecture: amd64\n"
  "Description: epoch 0 kept: the rest has a colon\n"
  "\n"
  "Package: zeroes\n"
  "Status: install ok unpacked\n"
  "Maintainer: M <m@example.org>\n"
  "Version: 01:7.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17-1\n"
  "Architecture: amd64\n"
  "Description: epoch with a leading zero\n"
  "\n"
  LIBTWO ("amd64")
  "\n"
  LIBTWO ("i386");

static void
t_valid (void)
{
  char **v, **r;
  int same;

  same = same_as_dpkg_query (valid, sizeof valid - 1, "valid");
  CHECK (same != 0, "rows differ from dpkg-query's (see tests/out/dpkg-valid-*)");
  CHECK ((v = all_rows ()) != NULL, "dpkg_packages: %s", guestfs_last_error (g));
  CHECK (th_count (v) == 8 * ROW, "%zu strings, want 8 rows", th_count (v));
  r = row_of (v, "good", NULL);
  CHECK (r && strcmp (r[2], "ii ") == 0 && strcmp (r[3], "1:2.3-4") == 0 &&
         strcmp (r[5], "goodsrc (2.3-1)") == 0 &&
         strcmp (r[6], "https://example.org/good") == 0 &&
         strcmp (r[7], "a good package") == 0 &&
         strcmp (r[8], "first line\n\nthird line") == 0, "good's row is wrong");
  CHECK ((r = row_of (v, "halfinst", NULL)) && strcmp (r[2], "iHR") == 0, "halfinst");
  CHECK ((r = row_of (v, "gone", NULL)) && strcmp (r[2], "rc ") == 0, "gone");
  CHECK ((r = row_of (v, "held", NULL)) && strcmp (r[3], "3.1") == 0, "held: epoch 0 not dropped");
  CHECK ((r = row_of (v, "colons", NULL)) && strcmp (r[3], "0:1:2-3") == 0, "colons");
  CHECK ((r = row_of (v, "zeroes", NULL)) && strcmp (r[3], "1:7.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17-1") == 0 &&
         strcmp (r[2], "iU ") == 0, "zeroes");
  CHECK (row_of (v, "libtwo", "amd64") && row_of (v, "libtwo", "i386"),
         "one architecture of libtwo missing");
  CHECK (strcmp (v[0], "P") == 0 && strcmp (v[1], "good") == 0 &&
         strcmp (v[7 * ROW + 1], "libtwo") == 0, "not in file order");
  th_count_free (v);
  if (same == -1)
    th_skip ("dpkg-valid-vs-dpkg-query", "no dpkg-query on this host");
}

/* This host's own status file, a real one with hundreds of packages. */
static void
t_host_status (void)
{
  FILE *f = fopen ("/var/lib/dpkg/status", "r");
  char *text = NULL;
  size_t len = 0;
  int same;

  if (f == NULL) {
    th_skip ("dpkg-host-status", "this host has no /var/lib/dpkg/status");
    return;
  }
  text = malloc (64 << 20);
  CHECK (text != NULL, "malloc");
  len = fread (text, 1, 64 << 20, f);
  fclose (f);
  same = same_as_dpkg_query (text, len, "host");
  free (text);
  CHECK (same == 1, "rows differ from dpkg-query's (see tests/out/dpkg-host-*)");
}

static void
t_filter (void)
{
  char *names[] = { "gone", "libtwo", "nothere", "good", NULL };
  char *one[] = { "halfinst", NULL };
  char **v;

  CHECK (put (valid) == 0, "upload: %s", guestfs_last_error (g));
  CHECK ((v = guestfs_dpkg_packages (g, names, 0)) != NULL, "dpkg_packages: %s",
         guestfs_last_error (g));
  CHECK (th_count (v) == 4 * ROW && row_of (v, "gone", NULL) && row_of (v, "good", NULL) &&
         row_of (v, "libtwo", "i386") && row_of (v, "libtwo", "amd64"),
         "filter gave %zu strings", th_count (v));
  CHECK (strcmp (row_of (v, "good", NULL)[8], "first line\n\nthird line") == 0,
         "good's description lost by the filter");
  th_count_free (v);
  CHECK ((v = guestfs_dpkg_packages (g, one, 0)) != NULL, "dpkg_packages one");
  CHECK (th_count (v) == ROW && strcmp (v[1], "halfinst") == 0, "one name");
  th_count_free (v);
}

/* More than a reply holds: pages join up, each package once, in order. */
static void
t_paging (void)
{
  enum { NPKG = 400, DESC = 12000 };
  size_t cap = (size_t) NPKG * (DESC + 200), len = 0;
  char *text = malloc (cap), *none[] = { NULL };
  int start = 0, pages = 0, seen = 0, ok = 1;

  CHECK (text != NULL, "malloc");
  for (int i = 0; i < NPKG; i++) {
    len += (size_t) sprintf (text + len, "Package: p%d\nStatus: install ok installed\n"
                             "Version: %d\nDescription: s\n ", i, i);
    memset (text + len, 'x', DESC);
    len += DESC;
    text[len++] = '\n';
    text[len++] = '\n';
  }
  CHECK (th_upload_bytes (g, STATUS, text, len) == 0, "upload");
  free (text);
  while (start >= 0 && pages++ < 100 && ok) {
    char **v = guestfs_dpkg_packages (g, none, start);
    size_t n = th_count (v);
    CHECK (v != NULL, "dpkg_packages from %d: %s", start, guestfs_last_error (g));
    start = -1;
    for (size_t i = 0; i < n; i += ROW) {
      char want[16];
      snprintf (want, sizeof want, "p%d", seen);
      if (strcmp (v[i], "N") == 0)
        start = atoi (v[i + 1]);
      else if (strcmp (v[i], "P") != 0 || strcmp (v[i + 1], want) != 0 ||
               strlen (v[i + 8]) != DESC)
        ok = 0;
      else
        seen++;
    }
    th_count_free (v);
  }
  CHECK (ok && seen == NPKG, "%d packages in %d pages (ok %d)", seen, pages, ok);
  CHECK (pages > 1, "one page only: paging not exercised");
}

static void
t_hostile (void)
{
  static const char head[] =
    "Package: dup\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
    "Package: dup\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n\n"
    "package: nover\nSTATUS:install ok installed  \nArchitecture: all\r\n\n"
    "Status: install ok installed\nVersion: 1\n\n"
    "Package: nul\0hidden\nStatus: install ok installed\nVersion: 3\0.9\n"
    "Description: has\0nul\n continued\0cut\n\n"
    "Package: badstatus\nStatus: install ok installed extra\nVersion: 1\n\n"
    "Package: badword\nStatus: install bogus installed\nVersion: 1\n\n"
    "Package: nostatus\nVersion: 1\n\n"
    "Package: long\nStatus: install ok installed\nVersion: 4\nDescription: ";
  static const char tail[] = "\n\nPackage: after\nStatus: install ok installed\nVersion: 5";
  size_t big = 1 << 20, len = 0;
  char *text = malloc (sizeof head + big + sizeof tail), **v, **r;

  CHECK (text != NULL, "malloc");
  memcpy (text, head, sizeof head - 1);
  len = sizeof head - 1;
  memset (text + len, 'y', big);
  len += big;
  memcpy (text + len, tail, sizeof tail - 1);
  len += sizeof tail - 1;
  CHECK (th_upload_bytes (g, STATUS, text, len) == 0, "upload");
  free (text);
  CHECK ((v = all_rows ()) != NULL, "dpkg_packages: %s", guestfs_last_error (g));
  CHECK ((r = row_of (v, "dup", NULL)) && strcmp (r[3], "1.0") == 0, "dup: first copy");
  CHECK (rows_of_kind (v, "P") == 8, "%zu packages, want 8", rows_of_kind (v, "P"));
  CHECK ((r = row_of (v, "nover", NULL)) && strcmp (r[3], "") == 0 &&
         strcmp (r[2], "ii ") == 0 && strcmp (r[4], "all") == 0, "nover");
  CHECK ((r = row_of (v, "nul", NULL)) && strcmp (r[3], "3") == 0 &&
         strcmp (r[7], "has") == 0 && strcmp (r[8], "continued") == 0, "nul");
  CHECK ((r = row_of (v, "badstatus", NULL)) && strcmp (r[2], "") == 0, "badstatus");
  CHECK ((r = row_of (v, "badword", NULL)) && strcmp (r[2], "") == 0, "badword");
  CHECK ((r = row_of (v, "nostatus", NULL)) && strcmp (r[2], "un ") == 0, "nostatus");
  CHECK ((r = row_of (v, "long", NULL)) && strlen (r[7]) == 64 * 1024, "long line not cut "
         "at 64 KiB");
  CHECK ((r = row_of (v, "after", NULL)) && strcmp (r[3], "5") == 0, "after the long line");
  CHECK (rows_of_kind (v, "W") == 2, "%zu warnings, want 2", rows_of_kind (v, "W"));
  th_count_free (v);
}

static void
t_symlink (void)
{
  static const char inner[] = "Package: inside\nStatus: install ok installed\nVersion: 1\n";
  char **v;

  CHECK (guestfs_mkdir_p (g, "/etc") == 0, "mkdir");
  CHECK (guestfs_write_file (g, "/etc/inner-status", inner, 0) == 0, "write");
  CHECK (guestfs_rm_rf (g, STATUS) == 0, "rm");
  CHECK (guestfs_ln_s (g, "../../../../../../../etc/inner-status", STATUS) == 0, "ln_s");
  v = all_rows ();
  CHECK (v && row_of (v, "inside", NULL), "relative symlink not resolved in the guest: %s",
         v ? "no row" : guestfs_last_error (g));
  th_count_free (v);
  CHECK (guestfs_rm (g, STATUS) == 0 && guestfs_ln_s (g, "/etc/inner-status", STATUS) == 0, "ln_s");
  v = all_rows ();
  CHECK (v && row_of (v, "inside", NULL), "absolute symlink not resolved in the guest");
  th_count_free (v);
  /* /proc/cpuinfo exists in the appliance, not in this guest */
  CHECK (guestfs_rm (g, STATUS) == 0 && guestfs_ln_s (g, "/../../proc/cpuinfo", STATUS) == 0,
         "ln_s");
  CHECK (all_rows () == NULL, "a symlink out of the guest was followed");
  CHECK_ERR (g, STATUS);
  CHECK (guestfs_rm (g, STATUS) == 0 && guestfs_mkdir (g, STATUS) == 0, "mkdir");
  CHECK (all_rows () == NULL, "a directory was read");
  CHECK (guestfs_rmdir (g, STATUS) == 0, "rmdir");
}

static void
t_errors (void)
{
  char *none[] = { NULL }, **many;

  CHECK (all_rows () == NULL, "no status file: no error");
  CHECK_ERR (g, "dpkg_packages: " STATUS);
  CHECK (guestfs_touch (g, STATUS) == 0 && guestfs_truncate_size (g, STATUS, (64 << 20) + 1) == 0,
         "truncate_size: %s", guestfs_last_error (g));
  CHECK (all_rows () == NULL, "a file over 64 MiB was read");
  CHECK_ERR (g, "larger than");
  CHECK (guestfs_truncate_size (g, STATUS, 0) == 0, "truncate");
  CHECK ((many = all_rows ()) != NULL && many[0] == NULL, "empty file: rows");
  free (many);
  CHECK (guestfs_dpkg_packages (g, none, -1) == NULL, "negative start");
  CHECK_ERR (g, "negative");
  many = calloc (4098, sizeof *many);
  CHECK (many != NULL, "calloc");
  for (size_t i = 0; i < 4097; i++)
    many[i] = "x";
  CHECK (guestfs_dpkg_packages (g, many, 0) == NULL, "4097 names accepted");
  free (many);
  CHECK_ERR (g, "at most 4096");
}

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "msdos") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir_p (g, "/var/lib/dpkg") == 0, "mkdir_p");
}

int
main (void)
{
  char *disk = th_scratch ("dpkg", 128);
  const char *imgs[] = { disk, NULL };

  th_name = "dpkg-launch";
  g = th_launch (imgs, 0);
  if (g != NULL) {
    th_run ("dpkg-setup", t_setup);
    th_run ("dpkg-errors", t_errors);
    th_run ("dpkg-valid", t_valid);
    th_run ("dpkg-filter", t_filter);
    th_run ("dpkg-host-status", t_host_status);
    th_run ("dpkg-paging", t_paging);
    th_run ("dpkg-hostile", t_hostile);
    th_run ("dpkg-symlink", t_symlink);
    guestfs_close (g);
  }
  unlink (disk);
  free (disk);
  return th_done ();
}
