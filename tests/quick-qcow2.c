/* tests/quick-qcow2.c: disk images made in the library, no VM.
 *  - disk_create qcow2 writes, byte for byte, what `qemu-img create -f
 *    qcow2' writes, for many sizes (one and several L1 clusters, up to
 *    the largest qemu takes), with and without a backing file, and
 *    `qemu-img check' finds nothing wrong;
 *  - the sizes qemu-img refuses are refused;
 *  - raw images, and the errors (existing file, bad format, bad size,
 *    missing backing file, protocol names, options);
 *  - a trusted overlay's backing chain read from its header is the one
 *    qemu-img reports, and every other case falls back to qemu-img.
 * Linked with the static library: the chain readers are internal. */
#include <fcntl.h>
#include <stdint.h>

#include "harness.h"
#include "gk.h"

static char dir[256];

static guestfs_h *
fresh (void)
{
  guestfs_h *g = guestfs_create ();
  if (g) th_quiet (g);
  return g;
}

static char *
path (const char *name)
{
  char *p;
  if (asprintf (&p, "%s/%s", dir, name) == -1)
    abort ();
  return p;
}

/* The whole file, or NULL; *n its length. */
static unsigned char *
slurp (const char *file, size_t *n)
{
  int fd = open (file, O_RDONLY);
  struct stat st;
  unsigned char *buf;

  if (fd == -1 || fstat (fd, &st) == -1) {
    if (fd >= 0) close (fd);
    return NULL;
  }
  buf = malloc ((size_t) st.st_size + 1);
  *n = (size_t) st.st_size;
  if (buf == NULL || pread (fd, buf, *n, 0) != (ssize_t) *n) {
    free (buf);
    buf = NULL;
  }
  close (fd);
  return buf;
}

/* 0 when both files hold the same bytes; else the first differing
 * offset + 1 (or the shorter length + 1). */
static size_t
differ (const char *a, const char *b)
{
  size_t na = 0, nb = 0, i = 0;
  unsigned char *x = slurp (a, &na), *y = slurp (b, &nb);

  if (x && y)
    while (i < na && i < nb && x[i] == y[i])
      i++;
  free (x);
  free (y);
  return x && y && na == nb && i == na ? 0 : i + 1;
}

/* ours (disk_create) against theirs (qemu-img create) for one size and
 * backing; both made in dir, the backing name given to both as is. */
static void
same_as_qemu_img (const char *label, uint64_t size, const char *backing,
                  const char *bformat)
{
  guestfs_h *g = fresh ();
  char *ours = path ("ours.qcow2"), *theirs = path ("theirs.qcow2");
  char sz[32];
  size_t d;
  int r;

  unlink (ours);
  unlink (theirs);
  snprintf (sz, sizeof sz, "%llu", (unsigned long long) size);
  if (backing)
    r = guestfs_disk_create (g, ours, "qcow2", (int64_t) size,
                             GUESTFS_DISK_CREATE_BACKINGFILE, backing,
                             GUESTFS_DISK_CREATE_BACKINGFORMAT, bformat, -1);
  else
    r = guestfs_disk_create (g, ours, "qcow2", (int64_t) size, -1);
  CHECK (r == 0, "%s: disk_create: %s", label, guestfs_last_error (g));
  CHECK (th_system ("qemu-img create -q -f qcow2 %s%s%s%s '%s' %s", backing ? "-F " : "",
                    backing ? bformat : "", backing ? " -b " : "", backing ? backing : "",
                    theirs, size == (uint64_t) -1 ? "" : sz) == 0,
         "%s: qemu-img create failed", label);
  CHECK ((d = differ (ours, theirs)) == 0, "%s: the images differ at byte %zu", label, d - 1);
  CHECK (th_system ("qemu-img check -q '%s'", ours) == 0, "%s: qemu-img check", label);
  unlink (ours);
  unlink (theirs);
  free (ours);
  free (theirs);
  guestfs_close (g);
}

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define PiB (1024 * TiB)

static void
t_sizes (void)
{
  static const uint64_t sizes[] = {
    0, 1, 511, 512, 1000, 1025, MiB, MiB + 1, 96 * MiB, 512 * MiB,
    512 * MiB + 512, GiB, 3 * GiB + 7, TiB,
    4 * TiB,                    /* the L1 fills one cluster */
    4 * TiB + 512,              /* ... and needs a second */
    16 * TiB, 100 * TiB + 12345,
    2 * PiB,                    /* the largest: a 32 MiB L1 table */
  };
  char label[64];

  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    int before = th_failed;
    snprintf (label, sizeof label, "size %llu", (unsigned long long) sizes[i]);
    same_as_qemu_img (label, sizes[i], NULL, NULL);
    if (th_failed != before)
      return;
  }
}

static void
t_backing (void)
{
  char *raw = path ("base.raw"), *odd = path ("odd.raw"), *q = path ("base.qcow2");
  guestfs_h *g = fresh ();
  int before = th_failed;

  CHECK (th_system ("truncate -s 10M '%s' && truncate -s 1000 '%s'", raw, odd) == 0, "truncate");
  CHECK (guestfs_disk_create (g, q, "qcow2", 3 * GiB + 512, -1) == 0, "base qcow2");
  same_as_qemu_img ("raw absolute", 5 * GiB, raw, "raw");
  same_as_qemu_img ("raw absolute, its size", (uint64_t) -1, raw, "raw");
  same_as_qemu_img ("raw of 1000 bytes, its size", (uint64_t) -1, odd, "raw");
  same_as_qemu_img ("raw relative", 20 * MiB, "base.raw", "raw");
  same_as_qemu_img ("raw relative, its size", (uint64_t) -1, "base.raw", "raw");
  same_as_qemu_img ("raw relative through ..", (uint64_t) -1, "../qcow2-dir/base.raw", "raw");
  same_as_qemu_img ("qcow2 backing, its size", (uint64_t) -1, q, "qcow2");
  same_as_qemu_img ("qcow2 backing, 16 TiB", 16 * TiB, "base.qcow2", "qcow2");
  CHECK (th_failed == before, "a backing case differs");
  unlink (q);
  free (raw);
  free (odd);
  free (q);
  guestfs_close (g);
}

static void
t_too_large (void)
{
  guestfs_h *g = fresh ();
  char *f = path ("big.qcow2");

  unlink (f);
  CHECK (th_system ("qemu-img create -q -f qcow2 '%s' %llu 2>/dev/null", f,
                    2 * PiB + 512) != 0, "qemu-img took 2 PiB + 512");
  CHECK (access (f, F_OK) == -1, "qemu-img left a file");
  CHECK (guestfs_disk_create (g, f, "qcow2", (int64_t) (2 * PiB + 512), -1) == -1,
         "2 PiB + 512 accepted");
  CHECK_ERR (g, "too large");
  CHECK_ERR (g, f);
  CHECK (access (f, F_OK) == -1, "a file was left");
  CHECK (guestfs_disk_create (g, f, "qcow2", INT64_MAX, -1) == -1, "INT64_MAX accepted");
  CHECK_ERR (g, "too large");
  free (f);
  guestfs_close (g);
}

static void
t_raw (void)
{
  guestfs_h *g = fresh ();
  char *f = path ("new.raw");
  struct stat st;

  unlink (f);
  CHECK (guestfs_disk_create (g, f, "raw", 1000, -1) == 0, "raw: %s", guestfs_last_error (g));
  CHECK (stat (f, &st) == 0 && st.st_size == 1024 && st.st_blocks == 0,
         "raw 1000: size %lld, blocks %lld", (long long) st.st_size, (long long) st.st_blocks);
  unlink (f);
  CHECK (guestfs_disk_create (g, f, "raw", 0, GUESTFS_DISK_CREATE_PREALLOCATION, "sparse", -1) == 0,
         "raw 0: %s", guestfs_last_error (g));
  CHECK (stat (f, &st) == 0 && st.st_size == 0, "raw 0: size %lld", (long long) st.st_size);
  unlink (f);
  CHECK (guestfs_disk_create (g, f, "raw", (int64_t) TiB, -1) == 0, "raw 1 TiB: %s",
         guestfs_last_error (g));
  CHECK (stat (f, &st) == 0 && st.st_size == (off_t) TiB, "raw 1 TiB: size %lld",
         (long long) st.st_size);
  unlink (f);
  free (f);
  guestfs_close (g);
}

/* r is a failure whose error contains needle (else a FAIL line). */
static int
refused (guestfs_h *g, int r, const char *needle)
{
  const char *e = guestfs_last_error (g);
  if (r != -1 || e == NULL || strstr (e, needle) == NULL) {
    printf ("FAIL: %s: returned %d, error '%s', expected '%s'\n", th_name, r,
            e ? e : "(none)", needle);
    th_failed++;
    return 0;
  }
  return 1;
}

static void
t_errors (void)
{
  guestfs_h *g = fresh ();
  char *f = path ("err.qcow2"), *raw = path ("base.raw"), *nodir = path ("no/such/x.qcow2");
  struct stat st;
  int ok = 1;

  unlink (f);
  CHECK (guestfs_disk_create (g, f, "qcow2", MiB, -1) == 0, "create");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB, -1), "File exists");
  ok &= refused (g, guestfs_disk_create (g, f, "raw", MiB, -1), f);
  CHECK (ok, "existing file");
  CHECK (stat (f, &st) == 0 && st.st_size == 3 * 65536 + 8, "the existing file was touched");
  unlink (f);
  ok &= refused (g, guestfs_disk_create (g, f, "vmdk", MiB, -1), "format 'vmdk' is not supported");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", -2, -1), "size -2");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", -1, -1), "-1 only with a backing file");
  ok &= refused (g, guestfs_disk_create (g, f, "raw", -5, -1), "size -5");
  ok &= refused (g, guestfs_disk_create (g, "", "raw", 1, -1), "file name is empty");
  ok &= refused (g, guestfs_disk_create (g, nodir, "raw", 1, -1), nodir);
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, "missing.raw",
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "missing.raw");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", -1,
                 GUESTFS_DISK_CREATE_BACKINGFILE, "/nonexistent/base.raw",
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "No such file");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, "json:{\"file.filename\":\"/etc/passwd\"}",
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "protocol prefix");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, "nbd:localhost:10809",
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "protocol prefix");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, raw, -1), "backingformat go together");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "floppy", -1), "unknown disk format");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", -1,
                 GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "vdi", -1), "raw and qcow2 backing files only");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", -1,
                 GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "qcow2", -1), "not a qcow2 image");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, dir,
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "not a regular file");
  ok &= refused (g, guestfs_disk_create (g, f, "raw", MiB,
                 GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                 GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1), "qcow2 options");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_PREALLOCATION, "full", -1), "preallocation 'full'");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_COMPAT, "0.10", -1), "compat '0.10'");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB,
                 GUESTFS_DISK_CREATE_CLUSTERSIZE, 4096, -1), "clustersize 4096");
  ok &= refused (g, guestfs_disk_create (g, f, "qcow2", MiB, 99, 0, -1), "unknown option key 99");
  CHECK (ok, "an error case was accepted or named the wrong cause");
  CHECK (access (f, F_OK) == -1, "an error left %s behind", f);
  /* The defaults given explicitly are taken. */
  CHECK (guestfs_disk_create (g, f, "qcow2", MiB, GUESTFS_DISK_CREATE_PREALLOCATION, "off",
                              GUESTFS_DISK_CREATE_COMPAT, "1.1",
                              GUESTFS_DISK_CREATE_CLUSTERSIZE, 65536, -1) == 0,
         "defaults: %s", guestfs_last_error (g));
  unlink (f);
  free (f);
  free (raw);
  free (nodir);
  guestfs_close (g);
}

static void
free_list (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

/* The header path takes file, and gives what qemu-img gives. */
static void
t_chain_same (void)
{
  guestfs_h *g = fresh ();
  char *raw = path ("base.raw"), *f = path ("top.qcow2");
  char **c1 = NULL, **f1 = NULL, **c2 = NULL, **f2 = NULL;
  int n = 0;

  unlink (f);
  CHECK (guestfs_disk_create (g, f, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                              GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1) == 0, "create");
  CHECK (gk_header_chain (g, f, "qcow2", &c1, &f1) == 1, "the header path was not taken");
  CHECK (gk_qemu_img_chain (g, "test", f, "qcow2", &c2, &f2) == 0, "qemu-img: %s",
         guestfs_last_error (g));
  for (; c1[n] || c2[n]; n++)
    CHECK (c1[n] && c2[n] && strcmp (c1[n], c2[n]) == 0 && f1[n] && f2[n] &&
           strcmp (f1[n], f2[n]) == 0, "entry %d: %s (%s) vs qemu-img's %s (%s)", n,
           c1[n] ? c1[n] : "-", f1[n] ? f1[n] : "-", c2[n] ? c2[n] : "-", f2[n] ? f2[n] : "-");
  CHECK (n == 2 && strcmp (c1[1], raw) == 0, "chain of %d", n);
  CHECK (guestfs_add_drive_opts (g, f, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                 GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING, 1, -1) == 0,
         "add_drive_opts: %s", guestfs_last_error (g));
  free_list (c1); free_list (f1); free_list (c2); free_list (f2);
  unlink (f);
  free (f);
  free (raw);
  guestfs_close (g);
}

/* Write len bytes at off of file. */
static int
poke (const char *file, off_t off, const void *buf, size_t len)
{
  int fd = open (file, O_WRONLY), r;
  r = fd >= 0 && pwrite (fd, buf, len, off) == (ssize_t) len ? 0 : -1;
  if (fd >= 0) close (fd);
  return r;
}

/* file is not taken by the header path, and qemu-img still reads it
 * (unless qemu_img_fails: then add_drive_opts must fail as it did). */
static int
falls_back (guestfs_h *g, const char *label, const char *file, int qemu_img_fails)
{
  char **c = NULL, **f = NULL;
  int h = gk_header_chain (g, file, "qcow2", &c, &f), q;

  free_list (c); free_list (f);
  c = f = NULL;
  q = gk_qemu_img_chain (g, "test", file, "qcow2", &c, &f);
  free_list (c); free_list (f);
  if (h != 0 || (q == 0) == qemu_img_fails) {
    printf ("FAIL: %s: %s: header path %d, qemu-img %d (%s)\n", th_name, label, h, q,
            guestfs_last_error (g) ? guestfs_last_error (g) : "");
    th_failed++;
    return 0;
  }
  return 1;
}

static void
t_chain_fallback (void)
{
  guestfs_h *g = fresh ();
  char *raw = path ("base.raw"), *f = path ("fb.qcow2"), *base = path ("fbbase.qcow2");
  char *data = path ("fb.data"), **c = NULL, **fm = NULL;
  static const char missing[] = "/nonexistent/base.raw";
  unsigned char be[12];
  size_t rawlen = strlen (raw);
  int ok = 1;

#define REMAKE(...)                                                     \
  do { unlink (f); CHECK (__VA_ARGS__, "make %s", f); } while (0)
  /* A relative backing name. */
  REMAKE (guestfs_disk_create (g, f, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, "base.raw",
                               GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1) == 0);
  ok &= falls_back (g, "relative name", f, 0);
  /* A qcow2 backing file. */
  unlink (base);
  CHECK (guestfs_disk_create (g, base, "qcow2", MiB, -1) == 0, "make %s", base);
  REMAKE (guestfs_disk_create (g, f, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, base,
                               GUESTFS_DISK_CREATE_BACKINGFORMAT, "qcow2", -1) == 0);
  ok &= falls_back (g, "qcow2 backing", f, 0);
  /* No backing format extension: a plain image given a backing name
   * after its end mark (0x1f8 + 8) by hand. */
  REMAKE (guestfs_disk_create (g, f, "qcow2", MiB, -1) == 0);
  memset (be, 0, sizeof be);
  be[6] = 0x02; be[7] = 0x00;                           /* offset 0x200 */
  be[8] = (unsigned char) (rawlen >> 24); be[9] = (unsigned char) (rawlen >> 16);
  be[10] = (unsigned char) (rawlen >> 8); be[11] = (unsigned char) rawlen;
  CHECK (poke (f, 8, be, 12) == 0 && poke (f, 0x200, raw, rawlen) == 0, "poke");
  CHECK (th_system ("qemu-img info -U '%s' | grep -q 'backing file: %s'", f, raw) == 0,
         "the hand-made image does not name its backing file");
  ok &= falls_back (g, "no format extension", f, 0);
  /* An external data file. */
  REMAKE (th_system ("qemu-img create -q -f qcow2 -o data_file='%s' "
                     "-F raw -b '%s' '%s' 1M", data, raw, f) == 0);
  ok &= falls_back (g, "data file", f, 0);
  /* A json: name (qemu-img -u: not opened). */
  REMAKE (th_system ("qemu-img create -q -u -f qcow2 -F raw -b 'json:{\"driver\":\"raw\","
                     "\"file\":{\"driver\":\"file\",\"filename\":\"%s\"}}' '%s' 1M",
                     raw, f) == 0);
  ok &= falls_back (g, "json: name", f, 0);
  /* An incompatible feature bit (dirty) set by hand. */
  REMAKE (guestfs_disk_create (g, f, "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, raw,
                               GUESTFS_DISK_CREATE_BACKINGFORMAT, "raw", -1) == 0);
  CHECK (poke (f, 72 + 7, "\1", 1) == 0, "poke");
  ok &= falls_back (g, "dirty bit", f, 0);
  /* A missing backing file: qemu-img's error stands. */
  REMAKE (th_system ("qemu-img create -q -u -f qcow2 -F raw -b %s '%s' 1M", missing, f) == 0);
  ok &= falls_back (g, "missing backing file", f, 1);
  CHECK (guestfs_add_drive_opts (g, f, GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                 GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING, 1, -1) == -1,
         "a missing backing file was taken");
  CHECK_ERR (g, "cannot read its backing chain");
  /* Not a qcow2 at all, or not said to be one. */
  ok &= gk_header_chain (g, raw, "qcow2", &c, &fm) == 0 && c == NULL;
  ok &= gk_header_chain (g, f, "qed", &c, &fm) == 0 && c == NULL;
  CHECK (ok, "a case took the header path, or qemu-img disagreed");
#undef REMAKE
  unlink (f); unlink (base); unlink (data);
  free (f); free (raw); free (base); free (data);
  guestfs_close (g);
}

static void
cleanup (void)
{
  th_system ("rm -rf '%s'", dir);
}

int
main (void)
{
  if (system ("qemu-img --version >/dev/null 2>&1") != 0) {
    printf ("SKIP: quick-qcow2: qemu-img is not installed\n");
    return 77;
  }
  mkdir ("tests/out", 0755);
  if (getcwd (dir, sizeof dir - 32) == NULL)
    return 1;
  strcat (dir, "/tests/out/qcow2-dir");
  cleanup ();
  if (mkdir (dir, 0755) == -1 || chdir (dir) == -1) {
    perror (dir);
    return 1;
  }
  th_run ("qcow2-sizes", t_sizes);
  th_run ("qcow2-backing", t_backing);
  th_run ("qcow2-too-large", t_too_large);
  th_run ("raw", t_raw);
  th_run ("errors", t_errors);
  th_run ("chain-same", t_chain_same);
  th_run ("chain-fallback", t_chain_fallback);
  cleanup ();
  return th_done ();
}
