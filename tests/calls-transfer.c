/* tests/calls-transfer.c: tar_in, tgz_in, tar_out, tgz_out, find and
 * find0 against one real appliance, including hostile archives.
 *
 * Archives are made on the host with tar(1), or crafted byte by byte
 * here (absolute names, "..", symlinks out of the tree) to check that
 * unpacking never writes outside the guest: the appliance's own
 * writable places (/tmp, /run) are then listed through debug.
 */
#include <fcntl.h>

#include "harness.h"

static guestfs_h *g;
static char tmpdir[] = "tests/out/transferXXXXXX";

static char *
local (const char *name)
{
  char *p;
  if (asprintf (&p, "%s/%s", tmpdir, name) == -1)
    abort ();
  return p;
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

/* ---- a minimal ustar writer for crafted archives ---- */

static void
octal (char *field, size_t len, unsigned long long v)
{
  char tmp[32];
  snprintf (tmp, sizeof tmp, "%0*llo", (int) len - 1, v);
  memcpy (field, tmp, len - 1);
}

static void
tar_entry (FILE *f, const char *name, char type, const char *link,
           const char *data)
{
  unsigned char h[512] = { 0 };
  size_t len = data ? strlen (data) : 0;
  unsigned sum = 0;
  char pad[512] = { 0 };

  snprintf ((char *) h, 100, "%s", name);
  octal ((char *) h + 100, 8, type == '5' ? 0755 : 0644);
  octal ((char *) h + 108, 8, 0);
  octal ((char *) h + 116, 8, 0);
  octal ((char *) h + 124, 12, len);
  octal ((char *) h + 136, 12, 1000000000);
  h[156] = (unsigned char) type;
  if (link)
    snprintf ((char *) h + 157, 100, "%s", link);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memset (h + 148, ' ', 8);
  for (size_t i = 0; i < 512; i++)
    sum += h[i];
  snprintf ((char *) h + 148, 8, "%06o", sum);
  fwrite (h, 1, 512, f);
  if (len) {
    fwrite (data, 1, len, f);
    fwrite (pad, 1, (512 - len % 512) % 512, f);
  }
}

static void
tar_end (FILE *f)
{
  char z[1024] = { 0 };
  fwrite (z, 1, sizeof z, f);
  fclose (f);
}

static FILE *
tar_open (const char *name)
{
  char *p = local (name);
  FILE *f = fopen (p, "w");
  free (p);
  if (f == NULL)
    abort ();
  return f;
}

/* Names in an appliance directory (through debug ls), joined. */
static char *
appliance_ls (const char *dir)
{
  char *args[] = { (char *) dir, NULL };
  return guestfs_debug (g, "ls", args);
}

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (shell ("mkdir -p src/sub && echo hello > src/a && echo bee > src/sub/b && "
                "ln -s ../a src/sub/link && tar -C src -cf src.tar . && "
                "tar -C src -czf src.tgz .") == 0, "making archives on the host");
}

static void
t_tar_in (void)
{
  char *tarfile = local ("src.tar"), *s, *bad = local ("garbage");
  FILE *f;

  CHECK (guestfs_mkdir (g, "/in") == 0, "mkdir");
  CHECK (guestfs_tar_in (g, tarfile, "/in") == 0, "tar_in: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/in/sub/b");
  CHECK (s && strcmp (s, "bee\n") == 0, "unpacked file: '%s'", s ? s : "(null)");
  free (s);
  s = guestfs_readlink (g, "/in/sub/link");
  CHECK (s && strcmp (s, "../a") == 0, "unpacked link: '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_tar_in (g, tarfile, "/nodir") == -1, "tar_in into a missing dir");
  CHECK_ERR (g, "/nodir");
  CHECK (guestfs_tar_in (g, tarfile, "in") == -1, "relative directory accepted");
  CHECK_ERR (g, "directory");
  f = fopen (bad, "w");
  CHECK (f != NULL, "fopen");
  for (int i = 0; i < 5000; i++)
    fputs ("this is not a tar archive\n", f);
  fclose (f);
  CHECK (guestfs_tar_in (g, bad, "/in") == -1, "garbage unpacked");
  CHECK_ERR (g, "tar");
  CHECK (guestfs_ping_daemon (g) == 0, "channel out of step after tar_in errors");
  free (tarfile);
  free (bad);
}

static void
t_tgz_in (void)
{
  char *tgz = local ("src.tgz"), *tarfile = local ("src.tar"), *s;

  CHECK (guestfs_mkdir (g, "/tgz") == 0, "mkdir");
  CHECK (guestfs_tgz_in (g, tgz, "/tgz") == 0, "tgz_in: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/tgz/a");
  CHECK (s && strcmp (s, "hello\n") == 0, "unpacked file: '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_tgz_in (g, tarfile, "/tgz") == -1, "an uncompressed archive as tgz");
  CHECK_ERR (g, "tgz_in");
  CHECK (guestfs_tgz_in (g, tgz, "/nodir") == -1, "tgz_in into a missing dir");
  free (tgz);
  free (tarfile);
}

/* A crafted archive: absolute names, "..", a symlink out then a file
 * through it.  Whatever tar says, nothing may land outside /evil. */
static void
t_tar_in_hostile_archive (void)
{
  FILE *f = tar_open ("evil.tar");
  char *p = local ("evil.tar"), *s;
  char **l;

  tar_entry (f, "/abs", '0', NULL, "absolute\n");
  tar_entry (f, "../escape", '0', NULL, "dotdot\n");
  tar_entry (f, "d/../../escape2", '0', NULL, "dotdot\n");
  tar_entry (f, "tmplink", '2', "/tmp", NULL);
  tar_entry (f, "tmplink/via-link", '0', NULL, "through a link\n");
  tar_entry (f, "uplink", '2', "../../../../../../tmp", NULL);
  tar_entry (f, "uplink/via-uplink", '0', NULL, "through a link\n");
  tar_end (f);
  CHECK (guestfs_mkdir (g, "/evil") == 0, "mkdir");
  guestfs_tar_in (g, p, "/evil");               /* may fail: tar refuses ".." */
  free (p);
  CHECK (guestfs_ping_daemon (g) == 0, "daemon after a hostile archive");
  s = guestfs_cat (g, "/evil/abs");
  CHECK (s && strcmp (s, "absolute\n") == 0, "absolute name not unpacked under /evil");
  free (s);
  CHECK (guestfs_exists (g, "/escape") == 0 && guestfs_exists (g, "/escape2") == 0,
         "'..' member unpacked above the directory");
  s = appliance_ls ("/tmp");
  CHECK (s && !strstr (s, "via-link") && !strstr (s, "via-uplink"),
         "archive wrote into the appliance's /tmp: %s", s ? s : "(null)");
  free (s);
  l = guestfs_ls (g, "/");
  CHECK (l && !th_has (l, "via-link") && !th_has (l, "abs") && !th_has (l, "escape"),
         "archive wrote into the guest root");
  th_count_free (l);
}

/* Symlinks already in the guest, pointing out of it (absolute, and by
 * ".." past the guest root): unpacking through them must fail. */
static void
t_tar_in_guest_symlinks (void)
{
  FILE *f = tar_open ("through.tar");
  char *p = local ("through.tar"), *s;

  tar_entry (f, "abs/pwned-abs", '0', NULL, "x\n");
  tar_entry (f, "rel/pwned-rel", '0', NULL, "x\n");
  tar_entry (f, "run/pwned-run", '0', NULL, "x\n");
  tar_end (f);
  CHECK (guestfs_mkdir (g, "/evil2") == 0, "mkdir");
  CHECK (guestfs_ln_s (g, "/tmp", "/evil2/abs") == 0 &&
         guestfs_ln_s (g, "../../../../../../tmp", "/evil2/rel") == 0 &&
         guestfs_ln_s (g, "/run", "/evil2/run") == 0, "ln_s: %s", guestfs_last_error (g));
  CHECK (guestfs_tar_in (g, p, "/evil2") == -1, "unpacking through links out succeeded");
  CHECK_ERR (g, "tar");
  free (p);
  s = appliance_ls ("/tmp");
  CHECK (s && !strstr (s, "pwned"), "guest symlink let tar write to /tmp: %s", s ? s : "(null)");
  free (s);
  s = appliance_ls ("/run");
  CHECK (s && !strstr (s, "pwned"), "guest symlink let tar write to /run: %s", s ? s : "(null)");
  free (s);
}

static void
t_tar_out (void)
{
  char *out = local ("out.tar"), *s;

  CHECK (guestfs_tar_out (g, "/in", out) == 0, "tar_out: %s", guestfs_last_error (g));
  CHECK (shell ("tar -tf out.tar | grep -qx ./sub/b") == 0, "tar_out archive lacks ./sub/b");
  CHECK (guestfs_mkdir (g, "/back") == 0 && guestfs_tar_in (g, out, "/back") == 0,
         "round trip: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/back/a");
  CHECK (s && strcmp (s, "hello\n") == 0, "round trip content");
  free (s);
  unlink (out);
  CHECK (guestfs_tar_out (g, "/nope", out) == -1, "tar_out of nothing");
  CHECK_ERR (g, "/nope");
  CHECK (access (out, F_OK) == -1, "failed tar_out left a file");
  CHECK (guestfs_tar_out (g, "/in", "/nonexistent/dir/x.tar") == -1, "tar_out to a missing local dir");
  CHECK (guestfs_ping_daemon (g) == 0, "ping after a failed tar_out");
  free (out);
}

static void
t_tgz_out (void)
{
  char *out = local ("out.tgz");

  CHECK (guestfs_tgz_out (g, "/in", out) == 0, "tgz_out: %s", guestfs_last_error (g));
  CHECK (shell ("tar -tzf out.tgz | grep -qx ./sub/link") == 0, "tgz_out archive lacks ./sub/link");
  unlink (out);
  CHECK (guestfs_tgz_out (g, "/in/a", out) == -1, "tgz_out of a file");
  CHECK_ERR (g, "tgz_out");
  CHECK (access (out, F_OK) == -1, "failed tgz_out left a file");
  free (out);
}

static void
t_find (void)
{
  char **l = guestfs_find (g, "/in");

  CHECK (l && th_count (l) == 4 && strcmp (l[0], "a") == 0 && strcmp (l[1], "sub") == 0 &&
         strcmp (l[2], "sub/b") == 0 && strcmp (l[3], "sub/link") == 0,
         "find: %zu names %s", th_count (l), guestfs_last_error (g));
  th_count_free (l);
  CHECK (guestfs_find (g, "/nope") == NULL, "find of nothing");
  CHECK_ERR (g, "find");
  CHECK (guestfs_find (g, "/in/a") == NULL, "find of a file");
}

static void
t_find0 (void)
{
  char *out = local ("find0.out"), buf[256];
  FILE *f;
  size_t n;

  CHECK (guestfs_find0 (g, "/in", out) == 0, "find0: %s", guestfs_last_error (g));
  f = fopen (out, "r");
  CHECK (f != NULL, "no find0 output");
  n = fread (buf, 1, sizeof buf, f);
  fclose (f);
  CHECK (n == 21 && buf[n-1] == '\0' && memmem (buf, n, "sub/link\0", 9) &&
         memmem (buf, n, "a\0", 2), "find0 wrote %zu bytes", n);
  unlink (out);
  CHECK (guestfs_find0 (g, "/nope", out) == -1, "find0 of nothing");
  CHECK_ERR (g, "find0");
  CHECK (access (out, F_OK) == -1, "failed find0 left a file");
  free (out);
}

/* Many names: an archive of 3000 files unpacks, and find / find0 list
 * them all. */
static void
t_many (void)
{
  FILE *f = tar_open ("many.tar");
  char *p = local ("many.tar"), name[64];
  char **l;

  tar_entry (f, "m", '5', NULL, NULL);
  for (int i = 0; i < 3000; i++) {
    snprintf (name, sizeof name, "m/file-with-a-longish-name-%05d", i);
    tar_entry (f, name, '0', NULL, NULL);
  }
  tar_end (f);
  CHECK (guestfs_mkdir (g, "/many") == 0 && guestfs_tar_in (g, p, "/many") == 0,
         "tar_in: %s", guestfs_last_error (g));
  l = guestfs_find (g, "/many");
  CHECK (th_count (l) == 3001 && strcmp (l[1], "m/file-with-a-longish-name-00000") == 0 &&
         strcmp (l[3000], "m/file-with-a-longish-name-02999") == 0,
         "find: %zu names", th_count (l));
  th_count_free (l);
  free (p);
  p = local ("many.out");
  CHECK (guestfs_find0 (g, "/many", p) == 0, "find0: %s", guestfs_last_error (g));
  CHECK (shell ("test $(tr -cd '\\0' < many.out | wc -c) = 3001") == 0, "find0 count");
  free (p);
}

int
main (void)
{
  char *disk = th_scratch ("calls-transfer", 64), *cmd;
  const char *imgs[] = { disk, NULL };

  if (mkdtemp (tmpdir) == NULL) {
    perror (tmpdir);
    return 1;
  }
  th_name = "transfer-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("transfer-setup", t_setup);
  th_run ("transfer-tar-in", t_tar_in);
  th_run ("transfer-tgz-in", t_tgz_in);
  th_run ("transfer-tar-in-hostile-archive", t_tar_in_hostile_archive);
  th_run ("transfer-tar-in-guest-symlinks", t_tar_in_guest_symlinks);
  th_run ("transfer-tar-out", t_tar_out);
  th_run ("transfer-tgz-out", t_tgz_out);
  th_run ("transfer-find", t_find);
  th_run ("transfer-find0", t_find0);
  th_run ("transfer-many", t_many);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  if (asprintf (&cmd, "rm -rf %s", tmpdir) != -1 && system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", tmpdir);
  free (cmd);
  return th_done ();
}
