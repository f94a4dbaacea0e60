/* guestd file-content calls: head / tail, the grep family, wc, strings,
 * hexdump, checksums, comparisons, disk usage, pread and the compressed
 * forms (zgrep, zfile, initrd_list).
 *
 * A file is always opened here, through paths.c (inside the sysroot, a
 * regular file, never a FIFO or device), and handed to the tool as its
 * stdin, so no tool ever resolves a guest path itself.  checksum
 * "sha256" starts no tool: the file is hashed here (sha256.c).  Results are
 * bounded by one protocol message: a tool's output that does not fit is
 * a "too large" error, never a silently cut list.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "guestd.h"

/* Room for the reply header and length words around a result. */
#define RESULT_MAX (GK_MESSAGE_MAX - 64)

static int
open_or_reply (const char *path)
{
  int fd = gd_open_regular (path, O_RDONLY);

  if (fd == -1)
    reply_with_perror ("%s", path);
  return fd;
}

/* Run argv with the file at path as stdin; ok1: exit status 1 is not an
 * error (grep: no match).  Returns the captured stdout or NULL after
 * replying. */
static char *
run_on_file (const char *path, const char *const *argv, int ok1)
{
  struct gd_cmd c = GD_CMD_INIT (argv);
  char *out = NULL, *err = NULL;
  size_t outlen = 0;
  int r;

  if ((c.in_fd = open_or_reply (path)) == -1)
    return NULL;
  r = gd_cmd_run (&c, &out, &outlen, &err);
  close (c.in_fd);
  if (r != 0 && !(ok1 && r == 1)) {
    gd_cmd_reply_error (argv[0], r, err);
    free (out);
    out = NULL;
  } else if (outlen > RESULT_MAX) {
    reply_with_error ("%s: result of %zu bytes is too large for the protocol "
                      "(at most %u)", path, outlen, RESULT_MAX);
    free (out);
    out = NULL;
  }
  free (err);
  return out;
}

static char **
lines_or_reply (char *out)
{
  char **r;

  if (out == NULL)
    return NULL;
  r = gd_split_lines (out, strlen (out));
  if (r == NULL)
    reply_with_perror ("splitting the output");
  free (out);
  return r;
}

/* head_n / tail_n: "-n" with N as head(1) / tail(1) take it. */
static char **
head_tail (const char *prog, const char *count, const char *path)
{
  const char *argv[] = { prog, "-n", count, NULL };

  return lines_or_reply (run_on_file (path, argv, 0));
}

char **
do_head_n (int nrlines, const char *path)
{
  char n[32];

  snprintf (n, sizeof n, "%lld", (long long) nrlines);   /* -K: all but K */
  return head_tail ("head", n, path);
}

char **
do_head (const char *path)
{
  return do_head_n (10, path);
}

char **
do_tail_n (int nrlines, const char *path)
{
  char n[32];

  if (nrlines >= 0)
    snprintf (n, sizeof n, "%d", nrlines);
  else                                  /* from line -N on */
    snprintf (n, sizeof n, "+%lld", -(long long) nrlines);
  return head_tail ("tail", n, path);
}

char **
do_tail (const char *path)
{
  return do_tail_n (10, path);
}

/* The grep family.  kind: "G" basic, "E" extended, "F" fixed; z: through
 * zgrep (which decompresses gzip/compress and passes plain text). */
static char **
grep_family (const char *kind, int icase, int z, const char *regex,
             const char *path)
{
  const char *argv[8];
  char flag[3] = { '-', kind[0], '\0' };
  size_t n = 0;

  argv[n++] = z ? "zgrep" : "grep";
  argv[n++] = flag;
  if (icase)
    argv[n++] = "-i";
  argv[n++] = "-e";
  argv[n++] = regex;
  argv[n] = NULL;
  return lines_or_reply (run_on_file (path, argv, 1));
}

char **do_grep (const char *r, const char *p) { return grep_family ("G", 0, 0, r, p); }
char **do_egrep (const char *r, const char *p) { return grep_family ("E", 0, 0, r, p); }
char **do_fgrep (const char *r, const char *p) { return grep_family ("F", 0, 0, r, p); }
char **do_grepi (const char *r, const char *p) { return grep_family ("G", 1, 0, r, p); }
char **do_egrepi (const char *r, const char *p) { return grep_family ("E", 1, 0, r, p); }
char **do_fgrepi (const char *r, const char *p) { return grep_family ("F", 1, 0, r, p); }
char **do_zgrep (const char *r, const char *p) { return grep_family ("G", 0, 1, r, p); }
char **do_zegrep (const char *r, const char *p) { return grep_family ("E", 0, 1, r, p); }
char **do_zfgrep (const char *r, const char *p) { return grep_family ("F", 0, 1, r, p); }
char **do_zgrepi (const char *r, const char *p) { return grep_family ("G", 1, 1, r, p); }
char **do_zegrepi (const char *r, const char *p) { return grep_family ("E", 1, 1, r, p); }
char **do_zfgrepi (const char *r, const char *p) { return grep_family ("F", 1, 1, r, p); }

/* wc -l / -w / -c: the count as an int. */
static int
wc (const char *flag, const char *path)
{
  const char *argv[] = { "wc", flag, NULL };
  char *out = run_on_file (path, argv, 0), *end;
  long long v;

  if (out == NULL)
    return -1;
  errno = 0;
  v = strtoll (out, &end, 10);
  if (errno || end == out || v < 0 || v > INT_MAX) {
    reply_with_error ("%s: count '%s' does not fit the result type",
                      path, gd_trim (out));
    free (out);
    return -1;
  }
  free (out);
  return (int) v;
}

int do_wc_l (const char *path) { return wc ("-l", path); }
int do_wc_w (const char *path) { return wc ("-w", path); }
int do_wc_c (const char *path) { return wc ("-c", path); }

char *
do_hexdump (const char *path)
{
  const char *argv[] = { "hexdump", "-C", NULL };

  return run_on_file (path, argv, 0);
}

/* strings(1), done here: runs of at least STRINGS_MIN printable
 * characters.  enc is strings -e's letter: s 7-bit bytes, S 8-bit bytes,
 * b / l 16-bit big / little endian, B / L 32-bit. */
#define STRINGS_MIN 4

struct strings_state {
  struct gd_strlist l;          /* the runs found */
  char run[RESULT_MAX + 1];     /* the current run */
  size_t len;                   /* characters in run */
  size_t total;                 /* bytes of results so far, encoded */
};

static int
strings_flush (struct strings_state *s)
{
  int r = 0;

  if (s->len >= STRINGS_MIN) {
    s->total += s->len + 8;
    if (s->total > RESULT_MAX) {
      errno = EFBIG;
      return -1;
    }
    r = gd_strlist_take (&s->l, strndup (s->run, s->len));
  }
  s->len = 0;
  return r;
}

static int
strings_char (struct strings_state *s, uint32_t c, char enc)
{
  int graphic = c == '\t' || (c >= 0x20 && c < 0x7f) ||
                (enc == 'S' && c >= 0x80 && c <= 0xff);

  if (!graphic)
    return strings_flush (s);
  if (s->len >= RESULT_MAX) {
    errno = EFBIG;
    return -1;
  }
  s->run[s->len++] = (char) c;
  return 0;
}

/* One character from a unit of w bytes (w = 1, 2 or 4). */
static uint32_t
strings_unit (const unsigned char *p, size_t w, int big)
{
  uint32_t c = 0;

  for (size_t i = 0; i < w; i++)
    c |= (uint32_t) p[big ? i : w - 1 - i] << (8 * (w - 1 - i));
  return c;
}

static int
strings_scan (int fd, char enc, struct strings_state *s)
{
  size_t w = enc == 'b' || enc == 'l' ? 2 : enc == 'B' || enc == 'L' ? 4 : 1;
  int big = enc == 'b' || enc == 'B';
  unsigned char buf[65536];
  size_t have = 0;
  ssize_t n;

  for (;;) {
    do
      n = read (fd, buf + have, sizeof buf - have);
    while (n == -1 && errno == EINTR);
    if (n == -1)
      return -1;
    if (n == 0)
      break;
    have += (size_t) n;
    size_t i = 0;
    for (; i + w <= have; i += w)
      if (strings_char (s, strings_unit (buf + i, w, big), enc) == -1)
        return -1;
    memmove (buf, buf + i, have - i);
    have -= i;
  }
  return strings_flush (s);
}

char **
do_strings_e (const char *encoding, const char *path)
{
  struct strings_state *s;
  char **r = NULL;
  int fd;

  if (strlen (encoding) != 1 || !strchr ("sSbBlL", encoding[0])) {
    reply_with_error ("encoding %s: must be one of s, S, b, B, l, L",
                      encoding);
    return NULL;
  }
  if ((s = calloc (1, sizeof *s)) == NULL) {
    reply_with_perror ("malloc");
    return NULL;
  }
  if ((fd = open_or_reply (path)) >= 0) {
    if (strings_scan (fd, encoding[0], s) == -1) {
      if (errno == EFBIG)
        reply_with_error ("%s: result is too large for the protocol", path);
      else
        reply_with_perror ("%s", path);
    } else if ((r = gd_strlist_end (&s->l)) == NULL)
      reply_with_perror ("%s", path);
    close (fd);
  }
  gd_strlist_free (&s->l);
  free (s);
  return r;
}

char **
do_strings (const char *path)
{
  return do_strings_e ("s", path);
}

static const char *
checksum_program (const char *csumtype)
{
  static const char *const map[][2] = {
    { "crc", "cksum" }, { "md5", "md5sum" }, { "sha1", "sha1sum" },
    { "sha224", "sha224sum" }, { "sha256", "sha256sum" },
    { "sha384", "sha384sum" }, { "sha512", "sha512sum" },
  };

  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp (csumtype, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

/* checksum "sha256" computed here (sha256.c), with no program to start:
 * the same file as sha256sum would read (open_or_reply), the same
 * lower-case hex. */
static char *
sha256_here (const char *path)
{
  char *hex = malloc (65);
  int fd = open_or_reply (path);

  if (fd == -1 || hex == NULL || gd_sha256_fd (fd, hex) == -1) {
    if (fd >= 0)
      reply_with_perror ("%s", path);
    free (hex);
    hex = NULL;
  }
  if (fd >= 0)
    close (fd);
  return hex;
}

char *
do_checksum (const char *csumtype, const char *path)
{
  const char *prog = checksum_program (csumtype);
  const char *argv[] = { prog, NULL };
  char *out;

  if (prog == NULL) {
    reply_with_error ("csumtype %s: not one of crc, md5, sha1, sha224, "
                      "sha256, sha384, sha512", csumtype);
    return NULL;
  }
  if (strcmp (prog, "sha256sum") == 0)
    return sha256_here (path);
  if ((out = run_on_file (path, argv, 0)) == NULL)
    return NULL;
  out[strcspn (out, " \t\n")] = '\0';          /* the sum, not the name */
  return out;
}

static int
compare_fds (int a, int b, const char *file1, const char *file2)
{
  static char ba[65536], bb[65536];

  for (;;) {
    ssize_t na = gd_read_fill (a, ba, sizeof ba), nb;
    if (na == -1) {
      reply_with_perror ("%s", file1);
      return -1;
    }
    if ((nb = gd_read_fill (b, bb, sizeof bb)) == -1) {
      reply_with_perror ("%s", file2);
      return -1;
    }
    if (na != nb || memcmp (ba, bb, (size_t) na) != 0)
      return 0;
    if (na == 0)
      return 1;
  }
}

int
do_equal (const char *file1, const char *file2)
{
  int a = open_or_reply (file1), b, r;

  if (a == -1)
    return -1;
  if ((b = open_or_reply (file2)) == -1) {
    close (a);
    return -1;
  }
  r = compare_fds (a, b, file1, file2);
  close (a);
  close (b);
  return r;
}

int64_t
do_du (const char *path)
{
  char proc[64], *out = NULL, *end;
  const char *argv[] = { "du", "-s", "-k", "-D", "--", proc, NULL };
  struct gd_cmd c = GD_CMD_INIT (argv);
  int fd = gd_open_in_root (path, O_PATH, 0), keep[2] = { fd, -1 };
  long long v;

  if (fd == -1) {
    reply_with_perror ("%s", path);
    return -1;
  }
  gd_fd_path (proc, sizeof proc, fd);
  c.keep_fds = keep;
  if (gd_cmd_run_or_reply (&c, &out, NULL) == -1) {
    close (fd);
    return -1;
  }
  close (fd);
  errno = 0;
  v = strtoll (out, &end, 10);
  if (errno || end == out || v < 0) {
    reply_with_error ("%s: unexpected du output '%s'", path, gd_trim (out));
    free (out);
    return -1;
  }
  free (out);
  return v;
}

static char *
df_run (const char *flag)
{
  const char *argv[] = { "df", flag, NULL };
  char *out = NULL;

  if (flag == NULL)
    argv[1] = NULL;
  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return out;
}

char *do_df (void) { return df_run (NULL); }
char *do_df_h (void) { return df_run ("-h"); }

char *
do_pread (const char *path, int count, int64_t offset, size_t *size_r)
{
  char *buf;
  size_t got = 0;
  int fd;

  if (count < 0 || (unsigned) count > RESULT_MAX) {
    reply_with_error ("count %d: must be between 0 and %u", count,
                      RESULT_MAX);
    return NULL;
  }
  if (offset < 0) {
    reply_with_error ("offset %" PRId64 ": must not be negative", offset);
    return NULL;
  }
  if ((fd = open_or_reply (path)) == -1)
    return NULL;
  if ((buf = malloc (count > 0 ? (size_t) count : 1)) == NULL) {
    reply_with_perror ("malloc");
    close (fd);
    return NULL;
  }
  while (got < (size_t) count) {
    ssize_t n = pread (fd, buf + got, (size_t) count - got,
                       (off_t) (offset + (int64_t) got));
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1) {
      reply_with_perror ("%s", path);
      free (buf);
      close (fd);
      return NULL;
    }
    if (n == 0)
      break;
    got += (size_t) n;
  }
  close (fd);
  *size_r = got;
  return buf;
}

/* producer (stdin: the file) | consumer; the consumer's stdout is the
 * result.  A decompressor that failed (status 1: error; 2 is a warning
 * such as trailing garbage) or any producer failure that made the
 * consumer fail is the error reported: the consumer only saw a cut
 * stream.  A producer killed by SIGPIPE (consumer done early) is fine. */
static char *
pipeline (const char *path, const char *const *producer,
          const char *const *consumer)
{
  struct gd_cmd p = GD_CMD_INIT (producer), c = GD_CMD_INIT (consumer);
  int fd, pfd[2] = { -1, -1 }, perr = -1, pr = -1, cr = -1;
  char *out = NULL, *cerr = NULL, *ptext = NULL;
  pid_t pid = -1;
  size_t outlen = 0;

  if ((fd = open_or_reply (path)) == -1)
    return NULL;
  if (pipe2 (pfd, O_CLOEXEC) == 0 && (perr = gd_memfd ()) >= 0) {
    p.in_fd = fd;
    p.out_fd = pfd[1];
    p.err_fd = perr;
    pid = gd_cmd_spawn (&p);
  }
  if (pfd[1] >= 0)
    close (pfd[1]);
  if (pid == -1) {
    reply_with_perror ("%s", producer[0]);
    goto out;
  }
  c.in_fd = pfd[0];
  cr = gd_cmd_run (&c, &out, &outlen, &cerr);
  close (pfd[0]);
  pfd[0] = -1;
  pr = gd_cmd_wait (pid);
  ptext = gd_memfd_text (perr);
  if (pr > 0 && (pr == 1 || cr != 0)) {
    gd_cmd_reply_error (producer[0], pr, ptext);
    free (out);
    out = NULL;
  } else if (cr != 0) {
    gd_cmd_reply_error (consumer[0], cr, cerr);
    free (out);
    out = NULL;
  } else if (outlen > RESULT_MAX) {
    reply_with_error ("%s: result is too large for the protocol", path);
    free (out);
    out = NULL;
  }
 out:
  if (pfd[0] >= 0)
    close (pfd[0]);
  if (perr >= 0)
    close (perr);
  close (fd);
  free (cerr);
  free (ptext);
  return out;
}

char *
do_zfile (const char *meth, const char *path)
{
  const char *gz[] = { "gzip", "-dc", NULL }, *bz[] = { "bzip2", "-dc", NULL };
  const char *xz[] = { "xz", "-dc", NULL };
  const char *file[] = { "file", "-b", "-", NULL };
  const char *const *dec;
  char *out;

  if (strcmp (meth, "gzip") == 0 || strcmp (meth, "compress") == 0)
    dec = gz;
  else if (strcmp (meth, "bzip2") == 0)
    dec = bz;
  else if (strcmp (meth, "xz") == 0)
    dec = xz;
  else {
    reply_with_error ("meth %s: must be gzip, compress, bzip2 or xz", meth);
    return NULL;
  }
  if ((out = pipeline (path, dec, file)) == NULL)
    return NULL;
  return gd_trim (out);
}

char **
do_initrd_list (const char *path)
{
  const char *gz[] = { "gzip", "-dcf", NULL };
  const char *cpio[] = { "cpio", "--quiet", "-it", NULL };

  return lines_or_reply (pipeline (path, gz, cpio));
}
