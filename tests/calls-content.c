/* tests/calls-content.c: the file-content calls (head / tail, the grep
 * family, wc, strings, hexdump, zfile, checksum, equal, du, df,
 * initrd_list, pread) against one real appliance.
 *
 * Files are written with write_file or uploaded from fixtures made here
 * (gzip, cpio), then read back through the call under test; each call
 * also gets an error case.
 */
#include <fcntl.h>

#include "harness.h"

static guestfs_h *g;
static char tmpdir[] = "tests/out/contentXXXXXX";

/* A local file with the given bytes; returns its malloc'd path. */
static char *
local_file (const char *name, const void *data, size_t len)
{
  char *p;
  int fd;

  if (asprintf (&p, "%s/%s", tmpdir, name) == -1)
    abort ();
  fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || write (fd, data, len) != (ssize_t) len || close (fd) == -1)
    abort ();
  return p;
}

static int
put (const char *name, const void *data, size_t len, const char *guestpath)
{
  char *p = local_file (name, data, len);
  int r = guestfs_upload (g, p, guestpath);
  free (p);
  return r;
}

/* Run a host shell command in tmpdir. */
static int
shell (const char *script)
{
  char *cmd;
  int r;
  if (asprintf (&cmd, "cd %s && %s", tmpdir, script) == -1)
    abort ();
  r = system (cmd);
  free (cmd);
  return r;
}

static void
t_setup (void)
{
  char buf[512] = "";

  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  for (int i = 1; i <= 20; i++)
    snprintf (buf + strlen (buf), sizeof buf - strlen (buf), "line %d\n", i);
  CHECK (guestfs_write_file (g, "/twenty", buf, 0) == 0, "write_file: %s", guestfs_last_error (g));
  CHECK (guestfs_write_file (g, "/words", "Hello\nhello world\nfoo.bar\nfooXbar\n", 0) == 0,
         "write_file: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir (g, "/dir") == 0, "mkdir");
}

static void
t_head (void)
{
  char **l = guestfs_head (g, "/twenty");
  CHECK (th_count (l) == 10 && strcmp (l[0], "line 1") == 0 && strcmp (l[9], "line 10") == 0,
         "head: %zu lines, %s", th_count (l), guestfs_last_error (g));
  th_count_free (l);
  l = guestfs_head_n (g, 3, "/twenty");
  CHECK (th_count (l) == 3 && strcmp (l[2], "line 3") == 0, "head_n 3");
  th_count_free (l);
  l = guestfs_head_n (g, -18, "/twenty");
  CHECK (th_count (l) == 2 && strcmp (l[1], "line 2") == 0, "head_n -18: %zu", th_count (l));
  th_count_free (l);
  l = guestfs_head_n (g, 0, "/twenty");
  CHECK (l && th_count (l) == 0, "head_n 0");
  th_count_free (l);
  CHECK (guestfs_head (g, "/nope") == NULL, "head of nothing");
  CHECK_ERR (g, "/nope");
  CHECK (guestfs_head_n (g, 1, "/dir") == NULL, "head_n of a directory");
  CHECK_ERR (g, "head_n");
}

static void
t_tail (void)
{
  char **l = guestfs_tail (g, "/twenty");
  CHECK (th_count (l) == 10 && strcmp (l[0], "line 11") == 0 && strcmp (l[9], "line 20") == 0,
         "tail: %zu lines", th_count (l));
  th_count_free (l);
  l = guestfs_tail_n (g, 2, "/twenty");
  CHECK (th_count (l) == 2 && strcmp (l[0], "line 19") == 0, "tail_n 2");
  th_count_free (l);
  l = guestfs_tail_n (g, -19, "/twenty");
  CHECK (th_count (l) == 2 && strcmp (l[0], "line 19") == 0, "tail_n -19: %zu", th_count (l));
  th_count_free (l);
  l = guestfs_tail_n (g, 0, "/twenty");
  CHECK (l && th_count (l) == 0, "tail_n 0");
  th_count_free (l);
  CHECK (guestfs_tail (g, "/nope") == NULL, "tail of nothing");
  CHECK_ERR (g, "tail");
  CHECK (guestfs_tail_n (g, 2, "relative") == NULL, "relative path");
}

typedef char **(*grep_fn) (guestfs_h *, const char *, const char *);

static int
grep_count (grep_fn f, const char *re, const char *path)
{
  char **l = f (g, re, path);
  int n = l ? (int) th_count (l) : -1;
  th_count_free (l);
  return n;
}

static void
t_grep (void)
{
  char **l = guestfs_grep (g, "hel", "/words");
  CHECK (th_count (l) == 1 && strcmp (l[0], "hello world") == 0, "grep: %s", guestfs_last_error (g));
  th_count_free (l);
  CHECK (grep_count (guestfs_grepi, "hel", "/words") == 2, "grepi");
  CHECK (grep_count (guestfs_egrep, "^fo+\\.bar$", "/words") == 1, "egrep");
  CHECK (grep_count (guestfs_egrepi, "^(hello|FOO)", "/words") == 4, "egrepi");
  CHECK (grep_count (guestfs_fgrep, "foo.bar", "/words") == 1, "fgrep");
  CHECK (grep_count (guestfs_fgrepi, "HELLO", "/words") == 2, "fgrepi");
  CHECK (grep_count (guestfs_grep, "-v", "/words") == 0, "a regex like an option");
  l = guestfs_grep (g, "nomatch", "/words");
  CHECK (l && l[0] == NULL, "no match is an empty list");
  th_count_free (l);
  CHECK (guestfs_grep (g, "[", "/words") == NULL, "bad regex accepted");
  CHECK_ERR (g, "grep");
  CHECK (guestfs_egrep (g, "x", "/nope") == NULL, "egrep of nothing");
  CHECK (guestfs_fgrepi (g, "x", "/dir") == NULL, "fgrepi of a directory");
}

static void
t_zgrep (void)
{
  char *p = local_file ("words", "Hello\nhello world\nfoo.bar\nfooXbar\n", 34);
  free (p);
  CHECK (shell ("gzip -9 words") == 0, "gzip on the host");
  if (asprintf (&p, "%s/words.gz", tmpdir) == -1) abort ();
  CHECK (guestfs_upload (g, p, "/words.gz") == 0, "upload: %s", guestfs_last_error (g));
  free (p);
  CHECK (grep_count (guestfs_zgrep, "hel", "/words.gz") == 1, "zgrep: %s", guestfs_last_error (g));
  CHECK (grep_count (guestfs_zgrepi, "hel", "/words.gz") == 2, "zgrepi");
  CHECK (grep_count (guestfs_zegrep, "fo+X", "/words.gz") == 1, "zegrep");
  CHECK (grep_count (guestfs_zegrepi, "FO+X", "/words.gz") == 1, "zegrepi");
  CHECK (grep_count (guestfs_zfgrep, "o.b", "/words.gz") == 1, "zfgrep");
  CHECK (grep_count (guestfs_zfgrepi, "O.B", "/words.gz") == 1, "zfgrepi");
  CHECK (grep_count (guestfs_zgrep, "hel", "/words") == 1, "zgrep of a plain file");
  CHECK (guestfs_zgrep (g, "x", "/nope.gz") == NULL, "zgrep of nothing");
  CHECK_ERR (g, "zgrep");
}

static void
t_wc (void)
{
  CHECK (guestfs_wc_l (g, "/words") == 4, "wc_l: %s", guestfs_last_error (g));
  CHECK (guestfs_wc_w (g, "/words") == 5, "wc_w");
  CHECK (guestfs_wc_c (g, "/words") == 34, "wc_c");
  CHECK (guestfs_wc_l (g, "/nope") == -1, "wc_l of nothing");
  CHECK_ERR (g, "wc_l");
  CHECK (guestfs_wc_w (g, "/dir") == -1, "wc_w of a directory");
  CHECK (guestfs_wc_c (g, "/nope") == -1, "wc_c of nothing");
}

static void
t_strings (void)
{
  static const char bin[] = "\x01\x02" "abcd\0xy\0longer string\n\x7f" "\xe9\xe9\xe9\xe9";
  static const char le[] = "h\0e\0l\0l\0o\0\0\0";
  char **l;

  CHECK (put ("bin", bin, sizeof bin - 1, "/bin") == 0, "upload: %s", guestfs_last_error (g));
  CHECK (put ("le", le, sizeof le - 1, "/le") == 0, "upload: %s", guestfs_last_error (g));
  l = guestfs_strings (g, "/bin");
  CHECK (th_count (l) == 2 && th_has (l, "abcd") && th_has (l, "longer string"), "strings: %zu %s",
         th_count (l), guestfs_last_error (g));
  th_count_free (l);
  l = guestfs_strings_e (g, "S", "/bin");
  CHECK (th_count (l) == 3 && th_has (l, "\xe9\xe9\xe9\xe9"), "strings_e S: %zu", th_count (l));
  th_count_free (l);
  l = guestfs_strings_e (g, "l", "/le");
  CHECK (th_count (l) == 1 && th_has (l, "hello"), "strings_e l");
  th_count_free (l);
  l = guestfs_strings_e (g, "b", "/le");
  CHECK (l && th_count (l) == 0, "strings_e b of little-endian text");
  th_count_free (l);
  CHECK (guestfs_strings_e (g, "x", "/bin") == NULL, "encoding x accepted");
  CHECK_ERR (g, "encoding");
  CHECK (guestfs_strings (g, "/nope") == NULL, "strings of nothing");
  CHECK_ERR (g, "strings");
}

static void
t_hexdump (void)
{
  char *s;
  CHECK (guestfs_write_file (g, "/abc", "ABC", 0) == 0, "write_file");
  s = guestfs_hexdump (g, "/abc");
  CHECK (s && strstr (s, "41 42 43") && strstr (s, "|ABC|"), "hexdump: '%s' %s",
         s ? s : "(null)", guestfs_last_error (g));
  free (s);
  CHECK (guestfs_hexdump (g, "/nope") == NULL, "hexdump of nothing");
  CHECK_ERR (g, "hexdump");
}

static void
t_zfile (void)
{
  char *s = guestfs_zfile (g, "gzip", "/words.gz");
  CHECK (s && strstr (s, "text"), "zfile: '%s' %s", s ? s : "(null)", guestfs_last_error (g));
  free (s);
  CHECK (guestfs_zfile (g, "gzip", "/words") == NULL, "zfile of a plain file");
  CHECK_ERR (g, "gzip");
  CHECK (guestfs_zfile (g, "lzma-9000", "/words.gz") == NULL, "bad meth accepted");
  CHECK_ERR (g, "meth");
}

static void
t_checksum (void)
{
  static const char *const sums[][2] = {
    { "md5", "900150983cd24fb0d6963f7d28e17f72" },
    { "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d" },
    { "sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "crc", "1219131554" },
  };
  char *s;

  CHECK (guestfs_write_file (g, "/abc", "abc", 0) == 0, "write_file");
  for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++) {
    s = guestfs_checksum (g, sums[i][0], "/abc");
    CHECK (s && strcmp (s, sums[i][1]) == 0, "checksum %s: '%s' %s", sums[i][0],
           s ? s : "(null)", guestfs_last_error (g));
    free (s);
  }
  s = guestfs_checksum (g, "sha512", "/abc");
  CHECK (s && strlen (s) == 128, "sha512");
  free (s);
  CHECK (guestfs_checksum (g, "md4", "/abc") == NULL, "md4 accepted");
  CHECK_ERR (g, "csumtype");
  CHECK (guestfs_checksum (g, "md5", "/nope") == NULL, "checksum of nothing");
}

/* The host's sha256sum of the local file tmpdir/name into hex[65]. */
static int
host_sha256 (const char *name, char *hex)
{
  char *cmd;
  FILE *f;
  int ok;

  if (asprintf (&cmd, "sha256sum < %s/%s", tmpdir, name) == -1)
    abort ();
  f = popen (cmd, "r");
  free (cmd);
  ok = f && fscanf (f, "%64s", hex) == 1 && strlen (hex) == 64;
  if (f && pclose (f) != 0)
    ok = 0;
  return ok;
}

/* checksum "sha256" (hashed in guestd, no sha256sum: see
 * tests/calls-checksum.sh) against the host's sha256sum, on sizes
 * around SHA-256's 64-byte block and its 56-byte padding limit and
 * around guestd's 64 KiB reads; then through symlinks (followed, inside
 * the guest tree) and its errors. */
static void
t_checksum_sha256 (void)
{
  static const size_t sizes[] = { 0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 65535, 65536,
                                  65537, 300001 };
  unsigned char *data = malloc (300001);
  char name[32], want[65], *s;

  CHECK (data != NULL, "malloc");
  for (size_t i = 0; i < 300001; i++)
    data[i] = (unsigned char) ((i * 2654435761u) >> 13);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    snprintf (name, sizeof name, "sum%zu", sizes[i]);
    CHECK (put (name, data, sizes[i], "/sum") == 0, "upload %s: %s", name, guestfs_last_error (g));
    CHECK (host_sha256 (name, want), "host sha256sum of %s", name);
    s = guestfs_checksum (g, "sha256", "/sum");
    CHECK (s && strcmp (s, want) == 0, "sha256 of %zu bytes: '%s', host '%s' %s", sizes[i],
           s ? s : "(null)", want, guestfs_last_error (g));
    free (s);
  }
  free (data);
  /* /sum is the 300001 bytes: a link to it, absolute with ".." past the
   * guest's root, sums the same file (the guest's "/" is its root). */
  CHECK (guestfs_ln_s (g, "/../../../sum", "/sum-link") == 0, "ln_s: %s", guestfs_last_error (g));
  s = guestfs_checksum (g, "SHA256", "/sum-link");
  CHECK (s && strcmp (s, want) == 0, "sha256 through a symlink: '%s' %s", s ? s : "(null)",
         guestfs_last_error (g));
  free (s);
  CHECK (guestfs_checksum (g, "sha256", "/nope") == NULL, "sha256 of nothing");
  CHECK_ERR (g, "/nope: No such file");
  CHECK (guestfs_checksum (g, "sha256", "/dir") == NULL, "sha256 of a directory");
  CHECK_ERR (g, "/dir: Is a directory");
  CHECK (guestfs_ln_s (g, "/proc/self/exe", "/exe-link") == 0, "ln_s");
  CHECK (guestfs_checksum (g, "sha256", "/exe-link") == NULL, "a link into the appliance's /proc");
  CHECK_ERR (g, "/exe-link: No such file");
}

static void
t_equal (void)
{
  CHECK (guestfs_write_file (g, "/abc2", "abc", 0) == 0, "write_file");
  CHECK (guestfs_equal (g, "/abc", "/abc2") == 1, "equal: %s", guestfs_last_error (g));
  CHECK (guestfs_equal (g, "/abc", "/words") == 0, "different files equal");
  CHECK (guestfs_write_file (g, "/abc2", "abd", 0) == 0, "write_file");
  CHECK (guestfs_equal (g, "/abc", "/abc2") == 0, "same size, other bytes equal");
  CHECK (guestfs_equal (g, "/abc", "/nope") == -1, "equal with nothing");
  CHECK_ERR (g, "equal");
}

static void
t_du (void)
{
  static char big[1 << 20];
  int64_t k;
  memset (big, 'x', sizeof big);
  CHECK (put ("big", big, sizeof big, "/dir/big") == 0, "upload: %s", guestfs_last_error (g));
  k = guestfs_du (g, "/dir");
  CHECK (k >= 1024 && k < 1200, "du /dir: %lld %s", (long long) k, guestfs_last_error (g));
  k = guestfs_du (g, "/dir/big");
  CHECK (k >= 1024 && k < 1100, "du of a file: %lld", (long long) k);
  CHECK (guestfs_du (g, "/nope") == -1, "du of nothing");
  CHECK_ERR (g, "du");
}

static void
t_df (void)
{
  char *s = guestfs_df (g);
  guestfs_h *g2;
  CHECK (s && strstr (s, "/sysroot") && strstr (s, "Filesystem"), "df: %s", guestfs_last_error (g));
  free (s);
  s = guestfs_df_h (g);
  CHECK (s && strstr (s, "/sysroot") && strstr (s, "Size"), "df_h");
  free (s);
  g2 = guestfs_create ();
  th_quiet (g2);
  CHECK (guestfs_df (g2) == NULL && guestfs_df_h (g2) == NULL, "df before launch");
  guestfs_close (g2);
}

static void
t_initrd_list (void)
{
  char *p, **l;
  CHECK (shell ("mkdir -p ird/etc && echo x > ird/etc/conf && "
                "(cd ird && find . | cpio --quiet -o -H newc) | gzip > initrd.img") == 0,
         "making an initrd");
  if (asprintf (&p, "%s/initrd.img", tmpdir) == -1) abort ();
  CHECK (guestfs_upload (g, p, "/initrd.img") == 0, "upload");
  free (p);
  l = guestfs_initrd_list (g, "/initrd.img");
  CHECK (l && th_has (l, "etc") && th_has (l, "etc/conf"), "initrd_list: %s", guestfs_last_error (g));
  th_count_free (l);
  CHECK (guestfs_initrd_list (g, "/words") == NULL, "initrd_list of a text file");
  CHECK_ERR (g, "initrd_list");
  CHECK (guestfs_initrd_list (g, "/nope") == NULL, "initrd_list of nothing");
}

static void
t_pread (void)
{
  size_t n = 99;
  char *b;
  CHECK (guestfs_write_file (g, "/digits", "0123456789", 0) == 0, "write_file");
  b = guestfs_pread (g, "/digits", 3, 4, &n);
  CHECK (b && n == 3 && memcmp (b, "456", 3) == 0, "pread: %s", guestfs_last_error (g));
  free (b);
  b = guestfs_pread (g, "/digits", 100, 8, &n);
  CHECK (b && n == 2 && memcmp (b, "89", 2) == 0, "pread past the end: %zu", n);
  free (b);
  b = guestfs_pread (g, "/digits", 5, 1000, &n);
  CHECK (n == 0, "pread beyond the end");     /* empty: the library may give NULL */
  free (b);
  CHECK (guestfs_pread (g, "/digits", -1, 0, &n) == NULL, "negative count");
  CHECK_ERR (g, "count");
  CHECK (guestfs_pread (g, "/digits", 1, -5, &n) == NULL, "negative offset");
  CHECK_ERR (g, "offset");
  CHECK (guestfs_pread (g, "/nope", 1, 0, &n) == NULL, "pread of nothing");
}

int
main (void)
{
  char *disk = th_scratch ("calls-content", 64), *cmd;
  const char *imgs[] = { disk, NULL };

  if (mkdtemp (tmpdir) == NULL) {
    perror (tmpdir);
    return 1;
  }
  th_name = "content-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("content-setup", t_setup);
  th_run ("content-head", t_head);
  th_run ("content-tail", t_tail);
  th_run ("content-grep", t_grep);
  th_run ("content-zgrep", t_zgrep);
  th_run ("content-wc", t_wc);
  th_run ("content-strings", t_strings);
  th_run ("content-hexdump", t_hexdump);
  th_run ("content-zfile", t_zfile);
  th_run ("content-checksum", t_checksum);
  th_run ("content-checksum-sha256", t_checksum_sha256);
  th_run ("content-equal", t_equal);
  th_run ("content-du", t_du);
  th_run ("content-df", t_df);
  th_run ("content-initrd-list", t_initrd_list);
  th_run ("content-pread", t_pread);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  if (asprintf (&cmd, "rm -rf %s", tmpdir) != -1 && system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", tmpdir);
  free (cmd);
  return th_done ();
}
