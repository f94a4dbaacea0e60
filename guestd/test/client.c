/* A throwaway test client for guestd on the host: starts guestd with
 * --channel-fd on a socketpair and --sysroot on a temp dir, then speaks
 * the wire protocol with the schemas/ codec: ordinary calls, errors,
 * FileIn / FileOut with cancels from both sides, path escapes, and
 * garbage input.  No device-changing call is made.
 *
 *   guestd/test/client GUESTD_BINARY
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"
#include "guestfs-structs.h"

static const char *guestd;
static char root[256];
static int sock = -1;
static pid_t pid;
static uint32_t serial;
static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
  fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); } } while (0)

static void
write_all (const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t r = write (sock, p, len);
    if (r <= 0) { perror ("client write"); exit (1); }
    p += r; len -= (size_t) r;
  }
}

static int
read_all (void *buf, size_t len)
{
  char *p = buf;
  while (len > 0) {
    ssize_t r = read (sock, p, len);
    if (r <= 0) return -1;
    p += r; len -= (size_t) r;
  }
  return 0;
}

static uint32_t
read_word (void)
{
  unsigned char b[4];
  if (read_all (b, 4) == -1) { fprintf (stderr, "client: EOF\n"); exit (1); }
  return gk_get_u32 (b);
}

static void
start (void)
{
  int sv[2];

  socketpair (AF_UNIX, SOCK_STREAM, 0, sv);
  pid = fork ();
  if (pid == 0) {
    char fd[16];
    close (sv[0]);
    snprintf (fd, sizeof fd, "%d", sv[1]);
    if (!getenv ("V")) {
      int null = open ("/dev/null", O_WRONLY);
      dup2 (null, 2);
      close (null);
    }
    execl (guestd, guestd, "--channel-fd", fd, "--sysroot", root,
           getenv ("V") ? "--verbose" : NULL, (char *) NULL);
    _exit (127);
  }
  close (sv[1]);
  sock = sv[0];
  CHECK (read_word () == GK_LAUNCH_FLAG, "launch flag");
}

/* Stop the daemon; returns its wait status. */
static int
stop (void)
{
  int st;
  close (sock);
  waitpid (pid, &st, 0);
  return st;
}

static unsigned char msg[4 + GK_MESSAGE_MAX];

/* Send a call with args given as union gk_val. */
static void
send_call (const char *name, union gk_val *args)
{
  const struct gk_action *a = gk_action_by_name (name);
  struct gk_header h = { GK_PROGRAM, GK_PROTOCOL_VERS, (uint32_t) a->proc,
                         GK_CALL, ++serial, 0 };
  XDR x;

  xdrmem_create (&x, (char *) msg + 4, GK_MESSAGE_MAX, XDR_ENCODE);
  if (!gk_xdr_header (&x, &h) || (args && !gk_xdr_args (&x, a, args, GK_MESSAGE_MAX))) {
    fprintf (stderr, "encode failed\n"); exit (1);
  }
  gk_put_u32 (msg, xdr_getpos (&x));
  write_all (msg, 4 + xdr_getpos (&x));
}

/* Read a reply: returns 0 ok (r filled), -1 error (*err filled). */
static int
recv_reply (const char *name, union gk_retval *r, char **err)
{
  const struct gk_action *a = gk_action_by_name (name);
  struct gk_header h;
  uint32_t len;
  XDR x;
  int rv;

  do len = read_word (); while (len == GK_CANCEL_FLAG);
  if (len > GK_MESSAGE_MAX || read_all (msg, len) == -1) {
    fprintf (stderr, "bad reply\n"); exit (1);
  }
  xdrmem_create (&x, (char *) msg, len, XDR_DECODE);
  gk_xdr_header (&x, &h);
  CHECK (h.serial == serial && h.direction == GK_REPLY, "reply header");
  if (h.status == GK_ERROR) {
    struct gk_error e = { 0 };
    gk_xdr_error (&x, &e);
    *err = e.message;
    rv = -1;
  } else {
    memset (r, 0, sizeof *r);
    rv = gk_xdr_ret (&x, a, r, len) ? 0 : -2;
    CHECK (rv == 0, "%s: ret decode", name);
  }
  return rv;
}

/* Call with string args ("" list ends); expects success or error. */
static int
callv (const char *name, union gk_retval *r, char **err, union gk_val *args)
{
  union gk_retval tmp;
  char *e = NULL;
  int rv;

  send_call (name, args);
  rv = recv_reply (name, r ? r : &tmp, &e);
  if (err) *err = e; else free (e);
  if (!r && rv == 0) gk_free_ret (gk_action_by_name (name), &tmp);
  return rv;
}

#define S(x) ((union gk_val) { .s = (char *) (x) })
#define I(x) ((union gk_val) { .i = (x) })

static void
expect_ok (const char *name, union gk_val *args)
{
  char *e = NULL;
  int rv = callv (name, NULL, &e, args);
  CHECK (rv == 0, "%s: expected ok, got %s", name, e ? e : "?");
  free (e);
}

static void
expect_err (const char *name, union gk_val *args, const char *sub)
{
  char *e = NULL;
  int rv = callv (name, NULL, &e, args);
  CHECK (rv == -1 && e && strstr (e, sub), "%s: expected error with '%s', got %s",
         name, sub, rv == 0 ? "ok" : e ? e : "?");
  if (getenv ("V") && e) fprintf (stderr, "  error: %s\n", e);
  free (e);
}

static char *
call_s (const char *name, union gk_val *args)
{
  union gk_retval r;
  char *e = NULL;
  if (callv (name, &r, &e, args) != 0) {
    CHECK (0, "%s: %s", name, e);
    free (e);
    return NULL;
  }
  return r.s;
}

static int
call_i (const char *name, union gk_val *args)
{
  union gk_retval r;
  char *e = NULL;
  if (callv (name, &r, &e, args) != 0) {
    CHECK (0, "%s: %s", name, e);
    free (e);
    return -99;
  }
  return r.i;
}

static void
send_chunk (int cancel, const char *data, u_int len)
{
  static unsigned char buf[4 + GK_CHUNK_MAX + 16];
  char *d = (char *) data;
  XDR x;
  xdrmem_create (&x, (char *) buf + 4, GK_CHUNK_MAX + 16, XDR_ENCODE);
  gk_xdr_chunk (&x, &cancel, &d, &len);
  gk_put_u32 (buf, xdr_getpos (&x));
  write_all (buf, 4 + xdr_getpos (&x));
}

/* Read one chunk frame; returns data length, sets *cancel. */
static u_int
recv_chunk (int *cancel, char *data)
{
  static unsigned char buf[GK_CHUNK_MAX + 16];
  uint32_t len = read_word ();
  u_int n = 0;
  XDR x;
  if (len > sizeof buf || read_all (buf, len) == -1) { fprintf (stderr, "bad chunk\n"); exit (1); }
  xdrmem_create (&x, (char *) buf, len, XDR_DECODE);
  gk_xdr_chunk (&x, cancel, &data, &n);
  return n;
}

static int base_fds;

static int
count_fds (void)
{
  char path[64];
  int fds = 0;
  DIR *d;
  struct dirent *de;

  snprintf (path, sizeof path, "/proc/%d/fd", (int) pid);
  if ((d = opendir (path)) == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    fds += de->d_name[0] != '.';
  closedir (d);
  return fds;
}

static void
test_basic (void)
{
  union gk_retval r;
  char *words[] = { "hello", "big world", NULL }, *s;
  union gk_val a[4];

  expect_ok ("ping_daemon", NULL);
  base_fds = count_fds ();
  a[0].sl = words;
  s = call_s ("echo_daemon", a);
  CHECK (s && strcmp (s, "hello big world") == 0, "echo: %s", s);
  free (s);
  expect_ok ("sync", NULL);

  a[0] = S ("/f"); a[1] = S ("hello\nworld\r\nlast"); a[2] = I (0);
  expect_ok ("write_file", a);
  s = call_s ("cat", (union gk_val[]) { S ("/f") });
  CHECK (s && strcmp (s, "hello\nworld\r\nlast") == 0, "cat: %s", s);
  free (s);
  CHECK (callv ("read_lines", &r, NULL, (union gk_val[]) { S ("/f") }) == 0 &&
         r.sl[0] && strcmp (r.sl[0], "hello") == 0 && strcmp (r.sl[1], "world\r") == 0 &&
         strcmp (r.sl[2], "last") == 0 && r.sl[3] == NULL, "read_lines");
  gk_free_strings (r.sl);
  CHECK (callv ("read_file", &r, NULL, (union gk_val[]) { S ("/f") }) == 0 &&
         r.b.len == 17, "read_file len");
  free (r.b.buf);
  a[0] = S ("/f"); a[1] = S ("abc"); a[2] = I (2);
  expect_ok ("write_file", a);
  s = call_s ("cat", (union gk_val[]) { S ("/f") });
  CHECK (s && strcmp (s, "ab") == 0, "write_file size 2: %s", s);
  free (s);
  a[2] = I (10);
  expect_err ("write_file", a, "write_file: size 10");

  expect_ok ("touch", (union gk_val[]) { S ("/t") });
  expect_ok ("mkdir_p", (union gk_val[]) { S ("/a/b/c") });
  expect_ok ("mkdir_p", (union gk_val[]) { S ("/a/b/c/") });
  expect_err ("mkdir_p", (union gk_val[]) { S ("/f/x") }, "Not a directory");
  expect_ok ("mkdir", (union gk_val[]) { S ("/d") });
  expect_err ("mkdir", (union gk_val[]) { S ("/d") }, "mkdir: /d: File exists");
  CHECK (call_i ("is_dir", (union gk_val[]) { S ("/a/b/c") }) == 1, "is_dir");
  CHECK (call_i ("is_dir", (union gk_val[]) { S ("/f") }) == 0, "is_dir f");
  CHECK (call_i ("is_file", (union gk_val[]) { S ("/f") }) == 1, "is_file");
  CHECK (call_i ("exists", (union gk_val[]) { S ("/nope") }) == 0, "exists nope");
  CHECK (call_i ("exists", (union gk_val[]) { S ("/") }) == 1, "exists /");
  CHECK (callv ("ls", &r, NULL, (union gk_val[]) { S ("/") }) == 0 &&
         r.sl[0] && strcmp (r.sl[0], "a") == 0 && strcmp (r.sl[1], "d") == 0 &&
         strcmp (r.sl[2], "f") == 0 && strcmp (r.sl[3], "t") == 0 && !r.sl[4], "ls /");
  gk_free_strings (r.sl);
  s = call_s ("ll", (union gk_val[]) { S ("/") });
  CHECK (s && strstr (s, " f\n"), "ll: %s", s);
  free (s);
  expect_ok ("rmdir", (union gk_val[]) { S ("/d") });
  expect_err ("rmdir", (union gk_val[]) { S ("/a") }, "not empty");
  expect_ok ("rm_rf", (union gk_val[]) { S ("/a") });
  expect_ok ("rm_rf", (union gk_val[]) { S ("/a") });
  CHECK (call_i ("exists", (union gk_val[]) { S ("/a") }) == 0, "rm_rf gone");
  expect_ok ("rm", (union gk_val[]) { S ("/t") });
  expect_err ("rm", (union gk_val[]) { S ("/t") }, "rm: /t: No such file");

  a[0] = S ("f"); a[1] = S ("/lnk");
  expect_ok ("ln_s", a);
  s = call_s ("readlink", (union gk_val[]) { S ("/lnk") });
  CHECK (s && strcmp (s, "f") == 0, "readlink");
  free (s);
  CHECK (callv ("stat", &r, NULL, (union gk_val[]) { S ("/lnk") }) == 0 &&
         S_ISREG (((struct guestfs_stat *) r.st)->mode) &&
         ((struct guestfs_stat *) r.st)->size == 2, "stat follows");
  gk_free_ret (gk_action_by_name ("stat"), &r);
  CHECK (callv ("lstat", &r, NULL, (union gk_val[]) { S ("/lnk") }) == 0 &&
         S_ISLNK (((struct guestfs_stat *) r.st)->mode), "lstat");
  gk_free_ret (gk_action_by_name ("lstat"), &r);
  a[0] = I (0640); a[1] = S ("/f");
  expect_ok ("chmod", a);
  CHECK (callv ("stat", &r, NULL, (union gk_val[]) { S ("/f") }) == 0 &&
         (((struct guestfs_stat *) r.st)->mode & 07777) == 0640, "chmod");
  gk_free_ret (gk_action_by_name ("stat"), &r);
  a[0] = I (12); a[1] = I (34); a[2] = S ("/f");
  if (geteuid () == 0)
    expect_ok ("chown", a);
  s = call_s ("file", (union gk_val[]) { S ("/f") });
  CHECK (s && strstr (s, "text"), "file: %s", s);
  free (s);
  s = call_s ("file", (union gk_val[]) { S ("/lnk") });
  CHECK (s && strcmp (s, "symbolic link") == 0, "file lnk: %s", s);
  free (s);
}

static void
test_errors (void)
{
  union gk_val a[4];

  expect_err ("touch", (union gk_val[]) { S ("rel") }, "touch: path rel: path must be absolute");
  expect_err ("touch", (union gk_val[]) { S ("") }, "must not be empty");
  expect_err ("cat", (union gk_val[]) { S ("/nope") }, "cat: /nope: No such file");
  expect_err ("cat", (union gk_val[]) { S ("/") }, "Is a directory");
  expect_err ("blockdev_getsize64", (union gk_val[]) { S ("/dev/sdzz") }, "/dev/sdzz: no such device");
  expect_err ("blockdev_getsize64", (union gk_val[]) { S ("sda") }, "not a device name");
  expect_err ("blockdev_getsize64", (union gk_val[]) { S ("/dev/null") }, "not a block device");
  a[0] = S ("/dev/sdzz"); a[1] = S ("/");
  expect_err ("mount", a, "mount: device /dev/sdzz: no such device");
  expect_err ("umount", (union gk_val[]) { S ("/x") }, "not mounted");
  expect_err ("chmod", (union gk_val[]) { I (-1), S ("/f") }, "not a permission mode");
  /* Augeas calls before aug_init. */
  expect_err ("aug_get", (union gk_val[]) { S ("/files/etc/hosts") }, "call aug_init first");
}

/* Guest symlinks that point outside the guest must stay inside. */
static void
test_escape (void)
{
  char outside[300], *s;
  union gk_val a[3];
  int fd;

  snprintf (outside, sizeof outside, "%s.outside", root);
  fd = open (outside, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  write (fd, "SECRET", 6);
  close (fd);
  /* ../../../../root.outside from / */
  char target[400];
  snprintf (target, sizeof target, "../../../../../../..%s", outside);
  a[0] = S (target); a[1] = S ("/esc");
  expect_ok ("ln_s", a);
  a[0] = S (outside); a[1] = S ("/esc2");
  expect_ok ("ln_s", a);
  expect_err ("cat", (union gk_val[]) { S ("/esc") }, "No such file");
  expect_err ("cat", (union gk_val[]) { S ("/esc2") }, "No such file");
  expect_err ("cat", (union gk_val[]) { S ("/../../../../../../../../../../..") }, "Is a directory");
  a[0] = S ("/esc2"); a[1] = S ("PWNED"); a[2] = I (0);
  expect_err ("write_file", a, "File exists");
  a[0] = S ("/d2"); a[1] = S ("/");
  expect_ok ("mkdir", a);
  a[0] = S ("/"); a[1] = S ("/d2/up");
  a[0] = S ("/../../../../../../../etc/"); a[1] = S ("/etcl");
  expect_ok ("ln_s", a);
  CHECK (call_i ("exists", (union gk_val[]) { S ("/etcl/passwd") }) == 0, "escape via dir link");
  expect_err ("ls", (union gk_val[]) { S ("/etcl") }, "No such file");
  expect_err ("touch", (union gk_val[]) { S ("/etcl/x") }, "No such file");
  s = malloc (7); fd = open (outside, O_RDONLY); read (fd, s, 6); close (fd); s[6] = 0;
  CHECK (strcmp (s, "SECRET") == 0, "outside file changed: %s", s);
  free (s);
  CHECK (call_i ("exists", (union gk_val[]) { S ("/proc/self") }) == 0, "magic links");
  unlink (outside);
}

static char big[5 * 1024 * 1024 + 123];

static void
test_transfer (void)
{
  union gk_retval r;
  char *e = NULL, *back = malloc (sizeof big);
  size_t got = 0;
  u_int n;
  int cancel;

  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char) (i * 7 + i / 4096);
  /* Upload 5 MiB in chunks. */
  send_call ("upload", (union gk_val[]) { { 0 }, S ("/big") });
  for (size_t off = 0; off < sizeof big; off += GK_CHUNK_MAX)
    send_chunk (0, big + off, sizeof big - off < GK_CHUNK_MAX ? (u_int) (sizeof big - off) : GK_CHUNK_MAX);
  send_chunk (0, NULL, 0);
  CHECK (recv_reply ("upload", &r, &e) == 0, "upload: %s", e);
  /* Too large for read_file. */
  expect_err ("read_file", (union gk_val[]) { S ("/big") }, "larger than the protocol");
  /* Download it back. */
  send_call ("download", (union gk_val[]) { S ("/big"), { 0 } });
  CHECK (recv_reply ("download", &r, &e) == 0, "download: %s", e);
  while ((n = recv_chunk (&cancel, back + got)) > 0 && !cancel)
    got += n;
  CHECK (!cancel && got == sizeof big && memcmp (back, big, got) == 0, "download data %zu", got);
  /* Library cancels an upload: no reply, daemon still fine. */
  send_call ("upload", (union gk_val[]) { { 0 }, S ("/big2") });
  send_chunk (0, big, 1000);
  send_chunk (1, NULL, 0);
  expect_ok ("ping_daemon", NULL);
  /* Daemon cancels an upload (no such directory): we see the cancel flag. */
  send_call ("upload", (union gk_val[]) { { 0 }, S ("/nodir/x") });
  CHECK (read_word () == GK_CANCEL_FLAG, "daemon cancel flag");
  send_chunk (1, NULL, 0);
  CHECK (recv_reply ("upload", &r, &e) == -1 && strstr (e, "upload: /nodir/x: No such file"), "upload err: %s", e);
  free (e); e = NULL;
  /* Upload with a bad path argument: also cancelled + error. */
  send_call ("upload", (union gk_val[]) { { 0 }, S ("rel") });
  send_chunk (0, big, 100);         /* sent before we noticed the cancel */
  CHECK (read_word () == GK_CANCEL_FLAG, "daemon cancel flag 2");
  send_chunk (1, NULL, 0);
  CHECK (recv_reply ("upload", &r, &e) == -1 && strstr (e, "must be absolute"), "upload err2: %s", e);
  free (e); e = NULL;
  /* Library cancels a download after the first chunk. */
  send_call ("download", (union gk_val[]) { S ("/big"), { 0 } });
  CHECK (recv_reply ("download", &r, &e) == 0, "download 2");
  n = recv_chunk (&cancel, back);
  unsigned char w[4]; gk_put_u32 (w, GK_CANCEL_FLAG); write_all (w, 4);
  while ((n = recv_chunk (&cancel, back)) > 0 && !cancel)
    ;
  CHECK (cancel == 1, "download cancel chunk");
  expect_ok ("ping_daemon", NULL);
  /* Download of a missing file: plain error reply, no chunks. */
  expect_err ("download", (union gk_val[]) { S ("/nope"), { 0 } }, "download: /nope: No such file");
  free (back);
  /* No fd leaked after all that. */
  CHECK (count_fds () == base_fds, "guestd has %d fds open, %d at start",
         count_fds (), base_fds);
}

/* Raw frames. */
static void
send_raw (const void *p, size_t len)
{
  unsigned char b[4];
  gk_put_u32 (b, (uint32_t) len);
  write_all (b, 4);
  write_all (p, len);
}

static void
test_garbage (void)
{
  unsigned char buf[256];
  char *e = NULL;
  union gk_retval r;
  XDR x;
  struct gk_header h = { GK_PROGRAM, GK_PROTOCOL_VERS, 32 /* mkdir */, GK_CALL, ++serial, 0 };
  int st;

  /* Header only, missing the string argument. */
  xdrmem_create (&x, (char *) buf, sizeof buf, XDR_ENCODE);
  gk_xdr_header (&x, &h);
  send_raw (buf, xdr_getpos (&x));
  CHECK (recv_reply ("mkdir", &r, &e) == -1 && strstr (e, "cannot decode"), "truncated args: %s", e);
  free (e); e = NULL;
  /* A string length word that lies. */
  h.serial = ++serial;
  xdrmem_create (&x, (char *) buf, sizeof buf, XDR_ENCODE);
  gk_xdr_header (&x, &h);
  u_int huge = 0x7fffffff; xdr_u_int (&x, &huge);
  send_raw (buf, xdr_getpos (&x));
  CHECK (recv_reply ("mkdir", &r, &e) == -1 && strstr (e, "cannot decode"), "lying length: %s", e);
  free (e); e = NULL;
  /* Trailing bytes. */
  h.serial = ++serial; h.proc = 92;
  xdrmem_create (&x, (char *) buf, sizeof buf, XDR_ENCODE);
  gk_xdr_header (&x, &h);
  xdr_u_int (&x, &huge);
  send_raw (buf, xdr_getpos (&x));
  CHECK (recv_reply ("ping_daemon", &r, &e) == -1 && strstr (e, "unexpected bytes"), "trailing: %s", e);
  free (e); e = NULL;
  /* Unknown procedure and bad version. */
  h.serial = ++serial; h.proc = 99999;
  xdrmem_create (&x, (char *) buf, sizeof buf, XDR_ENCODE);
  gk_xdr_header (&x, &h);
  send_raw (buf, xdr_getpos (&x));
  CHECK (recv_reply ("ping_daemon", &r, &e) == -1 && strstr (e, "unknown procedure"), "unknown: %s", e);
  free (e); e = NULL;
  h.serial = ++serial; h.proc = 92; h.vers = 7;
  xdrmem_create (&x, (char *) buf, sizeof buf, XDR_ENCODE);
  gk_xdr_header (&x, &h);
  send_raw (buf, xdr_getpos (&x));
  CHECK (recv_reply ("ping_daemon", &r, &e) == -1 && strstr (e, "version"), "version: %s", e);
  free (e); e = NULL;
  /* A stray cancel word is ignored. */
  gk_put_u32 (buf, GK_CANCEL_FLAG); write_all (buf, 4);
  expect_ok ("ping_daemon", NULL);
  /* Huge length: clean exit, no crash. */
  gk_put_u32 (buf, GK_MESSAGE_MAX + 1); write_all (buf, 4);
  st = stop ();
  CHECK (WIFEXITED (st), "huge length: status %d", st);
  /* Random bytes, many times. */
  srand (42);
  for (int round = 0; round < 200; round++) {
    start ();
    size_t n = 4 + (size_t) (rand () % 200);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char) rand ();
    if (round % 2) {                 /* plausible length + valid header start */
      gk_put_u32 (buf, (uint32_t) n - 4);
      gk_put_u32 (buf + 4, GK_PROGRAM); gk_put_u32 (buf + 8, 1);
      gk_put_u32 (buf + 12, (uint32_t) (rand () % 220)); gk_put_u32 (buf + 16, 0);
    }
    write_all (buf, n);
    shutdown (sock, SHUT_WR);
    while (read (sock, buf, sizeof buf) > 0)
      ;
    st = stop ();
    CHECK (WIFEXITED (st), "random round %d: status %d", round, st);
  }
  /* Truncated message then EOF. */
  start ();
  gk_put_u32 (buf, 100); write_all (buf, 4); write_all (buf, 10);
  shutdown (sock, SHUT_WR);
  st = stop ();
  CHECK (WIFEXITED (st), "truncated: status %d", st);
}

/* Valid calls of file-only procedures with a few body bytes flipped.
 * The header (so the procedure) is never touched, so no device call can
 * come out of it; everything stays under the temp sysroot. */
static void
test_mutate (void)
{
  static const char *const names[] = { "touch", "cat", "mkdir_p", "write_file",
    "ls", "read_lines", "ln_s", "stat", "echo_daemon", "rm_rf", "chmod" };
  char *words[] = { "a", "bb", "ccc", NULL };
  unsigned char reply[64];
  int st;

  start ();
  for (int round = 0; round < 3000; round++) {
    const char *name = names[rand () % (sizeof names / sizeof names[0])];
    const struct gk_action *a = gk_action_by_name (name);
    union gk_val args[4] = { S ("/m/x"), S ("/m/y"), I (3), { 0 } };
    struct gk_header h = { GK_PROGRAM, GK_PROTOCOL_VERS, (uint32_t) a->proc, GK_CALL, ++serial, 0 };
    XDR x;
    u_int len;

    if (strcmp (name, "echo_daemon") == 0) args[0].sl = words;
    if (strcmp (name, "chmod") == 0) { args[0] = I (0644); args[1] = S ("/m/x"); }
    xdrmem_create (&x, (char *) msg + 4, 4096, XDR_ENCODE);
    gk_xdr_header (&x, &h);
    gk_xdr_args (&x, a, args, 4096);
    len = xdr_getpos (&x);
    if (len > GK_HEADER_LEN)
      for (int k = 1 + rand () % 3; k > 0; k--)
        msg[4 + GK_HEADER_LEN + (u_int) rand () % (len - GK_HEADER_LEN)] ^= (unsigned char) (1 + rand () % 255);
    if (rand () % 8 == 0 && len > GK_HEADER_LEN + 1)
      len -= 1 + (u_int) rand () % (len - GK_HEADER_LEN);   /* truncate */
    gk_put_u32 (msg, len);
    write_all (msg, 4 + len);
    uint32_t rl = read_word ();
    CHECK (rl <= GK_MESSAGE_MAX, "mutate: reply length");
    if (rl > GK_MESSAGE_MAX) break;
    while (rl > 0) {
      size_t n = rl > sizeof reply ? sizeof reply : rl;
      read_all (reply, n);
      rl -= (uint32_t) n;
    }
  }
  expect_ok ("ping_daemon", NULL);
  st = stop ();
  CHECK (WIFEXITED (st), "mutate: status %d", st);
}

static void
expect_list (const char *name, union gk_val *args, const char *want)
{
  union gk_retval r;
  char *e = NULL, got[4096] = "";

  if (callv (name, &r, &e, args) != 0) {
    CHECK (0, "%s: %s", name, e);
    free (e);
    return;
  }
  for (size_t i = 0; r.sl[i]; i++) {
    if (i) strcat (got, " ");
    strncat (got, r.sl[i], sizeof got - strlen (got) - 2);
  }
  gk_free_strings (r.sl);
  CHECK (strcmp (got, want) == 0, "%s: got '%s', want '%s'", name, got, want);
  if (getenv ("V")) fprintf (stderr, "  %s: %s\n", name, got);
}

/* Read a FileOut stream that follows an OK reply into buf (at most
 * size bytes kept); returns the bytes received, -1 if it was cancelled. */
static ssize_t
recv_stream (char *buf, size_t size)
{
  static char chunk[GK_CHUNK_MAX];
  size_t got = 0;
  u_int n;
  int cancel;

  while ((n = recv_chunk (&cancel, chunk)) > 0 && !cancel) {
    if (got < size)
      memcpy (buf + got, chunk, got + n > size ? size - got : n);
    got += n;
  }
  return cancel ? -1 : (ssize_t) got;
}

/* Trees: find / find0 over more names than one message holds, tar_out
 * streamed and unpacked again with tar_in, the content calls. */
static void
test_tree (void)
{
  static char out[8 * 1024 * 1024];
  char path[600], name[256], *e = NULL, *s;
  union gk_retval r;
  ssize_t got;
  size_t nuls = 0;
  int fd;

  /* 185 nested directories with 250-byte names: find's names add up to
   * more than one message (251 * 185 * 186 / 2 bytes), cheaply. */
  snprintf (path, sizeof path, "%s/tree", root);
  mkdir (path, 0755);
  memset (name, 'n', 250);
  name[250] = '\0';
  fd = open (path, O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 185 && fd >= 0; i++) {
    int sub;
    mkdirat (fd, name, 0755);
    sub = openat (fd, name, O_RDONLY | O_DIRECTORY);
    close (fd);
    fd = sub;
  }
  if (fd >= 0)
    close (fd);
  expect_err ("find", (union gk_val[]) { S ("/tree") }, "use find0");
  send_call ("find0", (union gk_val[]) { S ("/tree"), { 0 } });
  CHECK (recv_reply ("find0", &r, &e) == 0, "find0: %s", e);
  got = recv_stream (out, sizeof out);
  for (ssize_t i = 0; i < got && (size_t) i < sizeof out; i++)
    nuls += out[i] == '\0';
  CHECK (got == 251 * 185 * 186 / 2 && nuls == 185, "find0: %zd bytes, %zu names", got, nuls);
  expect_err ("find0", (union gk_val[]) { S ("/nope"), { 0 } }, "find0: /nope");

  expect_ok ("mkdir_p", (union gk_val[]) { S ("/small/sub") });
  expect_ok ("write_file", (union gk_val[]) { S ("/small/sub/x"), S ("one\ntwo\nthree\n"), I (0) });
  expect_list ("find", (union gk_val[]) { S ("/small") }, "sub sub/x");
  send_call ("tar_out", (union gk_val[]) { S ("/small"), { 0 } });
  CHECK (recv_reply ("tar_out", &r, &e) == 0, "tar_out: %s", e);
  got = recv_stream (out, sizeof out);
  CHECK (got >= 2048 && got % 512 == 0 && memcmp (out + 257, "ustar", 5) == 0,
         "tar_out: %zd bytes", got);
  expect_ok ("mkdir", (union gk_val[]) { S ("/back") });
  send_call ("tar_in", (union gk_val[]) { { 0 }, S ("/back") });
  send_chunk (0, out, (u_int) got);
  send_chunk (0, NULL, 0);
  CHECK (recv_reply ("tar_in", &r, &e) == 0, "tar_in: %s", e);
  s = call_s ("cat", (union gk_val[]) { S ("/back/sub/x") });
  CHECK (s && strcmp (s, "one\ntwo\nthree\n") == 0, "tar round trip: %s", s);
  free (s);
  /* tar_in of garbage: tar's error, stream drained, channel in step. */
  send_call ("tar_in", (union gk_val[]) { { 0 }, S ("/back") });
  memset (out, 'x', 1 << 20);
  send_chunk (0, out, 1 << 20);
  send_chunk (0, NULL, 0);
  CHECK (recv_reply ("tar_in", &r, &e) == -1 && e && strstr (e, "tar"), "tar_in garbage: %s", e);
  free (e); e = NULL;
  expect_ok ("ping_daemon", NULL);

  expect_list ("head_n", (union gk_val[]) { I (2), S ("/small/sub/x") }, "one two");
  expect_list ("tail_n", (union gk_val[]) { I (-2), S ("/small/sub/x") }, "two three");
  expect_list ("grep", (union gk_val[]) { S ("t"), S ("/small/sub/x") }, "two three");
  expect_list ("strings", (union gk_val[]) { S ("/small/sub/x") }, "three");
  CHECK (call_i ("wc_l", (union gk_val[]) { S ("/small/sub/x") }) == 3, "wc_l");
  s = call_s ("checksum", (union gk_val[]) { S ("md5"), S ("/small/sub/x") });
  CHECK (s && strlen (s) == 32, "checksum: %s", s);
  free (s);
  expect_err ("head", (union gk_val[]) { S ("/small") }, "Is a directory");
  CHECK (count_fds () == base_fds, "guestd has %d fds open, %d at start",
         count_fds (), base_fds);
}

/* In a real appliance with one 64 MiB scratch disk as /dev/sda. */
static void
test_devices (void)
{
  union gk_retval r;
  char *s, *e = NULL;
  union gk_val a[4];
  static char buf[3 * 1024 * 1024];
  size_t got = 0;
  u_int n;
  int cancel;

  expect_ok ("ping_daemon", NULL);
  expect_list ("list_devices", NULL, "/dev/sda");
  CHECK (callv ("blockdev_getsize64", &r, &e, (union gk_val[]) { S ("/dev/sda") }) == 0 &&
         r.i64 == 64 * 1024 * 1024, "getsize64: %s", e);
  expect_err ("blockdev_getsize64", (union gk_val[]) { S ("/dev/vda") }, "appliance");
  expect_err ("blockdev_getsize64", (union gk_val[]) { S ("/dev/sdb") }, "no such device");
  expect_err ("touch", (union gk_val[]) { S ("/x") }, "no guest filesystem is mounted");
  a[0] = S ("/dev/sda"); a[1] = S ("gpt");
  expect_ok ("part_init", a);
  a[1] = S ("p"); a[2].i64 = 2048; a[3].i64 = 65535;
  expect_ok ("part_add", a);
  a[2].i64 = 65536; a[3].i64 = 100000;
  expect_ok ("part_add", a);
  expect_list ("list_partitions", NULL, "/dev/sda1 /dev/sda2");
  CHECK (callv ("part_list", &r, &e, (union gk_val[]) { S ("/dev/sda") }) == 0 &&
         r.list->len == 2, "part_list: %s", e);
  if (e == NULL && r.list->len == 2) {
    struct guestfs_partition *p = r.list->val;
    CHECK (p[0].part_num == 1 && p[0].part_start == 2048 * 512 &&
           p[0].part_end == 65536 * 512 - 1 && p[0].part_size == 63488 * 512, "part 1");
    CHECK (p[1].part_num == 2 && p[1].part_start == 65536 * 512, "part 2");
    gk_free_ret (gk_action_by_name ("part_list"), &r);
  }
  free (e); e = NULL;
  a[0] = S ("ext4"); a[1] = S ("/dev/sda1");
  expect_ok ("mkfs", a);
  a[0] = S ("ext2"); a[1] = S ("/dev/sda2");
  expect_ok ("mkfs", a);
  a[0] = S ("nosuchfs"); a[1] = S ("/dev/sda2");
  expect_err ("mkfs", a, "mkfs");
  s = call_s ("vfs_type", (union gk_val[]) { S ("/dev/sda1") });
  CHECK (s && strcmp (s, "ext4") == 0, "vfs_type: %s", s);
  free (s);
  s = call_s ("file", (union gk_val[]) { S ("/dev/sda1") });
  CHECK (s && strstr (s, "ext4"), "file dev: %s", s);
  free (s);
  a[0] = S ("/dev/sda1"); a[1] = S ("/");
  expect_ok ("mount", a);
  expect_ok ("mkdir", (union gk_val[]) { S ("/boot") });
  a[0] = S ("/dev/sda2"); a[1] = S ("/boot");
  expect_ok ("mount_options", (union gk_val[]) { S ("noatime"), S ("/dev/sda2"), S ("/boot") });
  expect_list ("mounts", NULL, "/dev/sda1 /dev/sda2");
  a[0] = S ("/boot/hello"); a[1] = S ("hi\n"); a[2] = I (0);
  expect_ok ("write_file", a);
  a[0] = S ("/../../../run"); a[1] = S ("/evil");
  expect_ok ("ln_s", a);
  expect_err ("mount", (union gk_val[]) { S ("/dev/sda2"), S ("/evil") }, "No such file");
  expect_ok ("umount", (union gk_val[]) { S ("/boot") });
  expect_err ("umount", (union gk_val[]) { S ("/boot") }, "not mounted");
  expect_ok ("mount_ro", (union gk_val[]) { S ("/dev/sda2"), S ("/boot") });
  s = call_s ("cat", (union gk_val[]) { S ("/boot/hello") });
  CHECK (s && strcmp (s, "hi\n") == 0, "cat after remount: %s", s);
  free (s);
  expect_err ("touch", (union gk_val[]) { S ("/boot/x") }, "Read-only file system");
  expect_ok ("umount", (union gk_val[]) { S ("/dev/sda2") });
  expect_ok ("mount", (union gk_val[]) { S ("/dev/sda2"), S ("/boot") });
  expect_ok ("sync", NULL);
  expect_ok ("umount_all", NULL);
  expect_list ("mounts", NULL, "");
  expect_list ("pvs", NULL, "");
  expect_list ("vgs", NULL, "");
  expect_list ("lvs", NULL, "");
  /* Device upload / download on partition 2. */
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char) (i * 13);
  send_call ("upload", (union gk_val[]) { { 0 }, S ("/dev/sda2") });
  for (size_t off = 0; off < sizeof buf; off += GK_CHUNK_MAX)
    send_chunk (0, buf + off, GK_CHUNK_MAX);
  send_chunk (0, NULL, 0);
  CHECK (recv_reply ("upload", &r, &e) == 0, "upload dev: %s", e);
  send_call ("download", (union gk_val[]) { S ("/dev/sda2"), { 0 } });
  CHECK (recv_reply ("download", &r, &e) == 0, "download dev: %s", e);
  static char back[64 * 1024 * 1024];
  while ((n = recv_chunk (&cancel, back + got)) > 0 && !cancel)
    got += n;
  CHECK (!cancel && got == (100001 - 65536) * 512 && memcmp (back, buf, sizeof buf) == 0,
         "download dev: %zu", got);
  a[0] = S ("/dev/sda"); a[1] = S ("msdos");
  expect_ok ("part_disk", a);
  expect_list ("list_partitions", NULL, "/dev/sda1");
}

/* /dev/sda holds PV -> VG "VG" -> LV1 (ext4), LV2, all inactive. */
static void
test_lvm (void)
{
  char *s;

  s = call_s ("vfs_type", (union gk_val[]) { S ("/dev/VG/LV1") });
  CHECK (s && strcmp (s, "ext4") == 0, "vfs_type LV1: %s", s);
  free (s);
  expect_list ("pvs", NULL, "/dev/sda");
  expect_list ("vgs", NULL, "VG");
  expect_list ("lvs", NULL, "/dev/VG/LV1 /dev/VG/LV2");
  expect_ok ("mount", (union gk_val[]) { S ("/dev/VG/LV1"), S ("/") });
  expect_ok ("touch", (union gk_val[]) { S ("/on-lv") });
  expect_list ("mounts", NULL, "/dev/VG/LV1");
  expect_ok ("umount", (union gk_val[]) { S ("/dev/VG/LV1") });
  expect_list ("mounts", NULL, "");
  expect_list ("list_devices", NULL, "/dev/sda");
}

int
main (int argc, char *argv[])
{
  if (argc != 2) { fprintf (stderr, "usage: client GUESTD | unix:SOCKET\n"); return 2; }
  if (strncmp (argv[1], "unix:", 5) == 0) {
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    sock = socket (AF_UNIX, SOCK_STREAM, 0);
    snprintf (sun.sun_path, sizeof sun.sun_path, "%s", argv[1] + 5);
    if (connect (sock, (struct sockaddr *) &sun, sizeof sun) == -1) { perror ("connect"); return 1; }
    CHECK (read_word () == GK_LAUNCH_FLAG, "launch flag");
    if (getenv ("LVM")) test_lvm (); else test_devices ();
    close (sock);
    printf ("%s: %d failure(s)\n", argv[0], failures);
    return failures ? 1 : 0;
  }
  guestd = argv[1];
  snprintf (root, sizeof root, "/tmp/guestd-test.XXXXXX");
  if (mkdtemp (root) == NULL) { perror ("mkdtemp"); return 1; }
  start ();
  test_basic ();
  test_errors ();
  test_escape ();
  test_transfer ();
  test_tree ();
  test_garbage ();
  test_mutate ();
  {
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", root);
    system (cmd);
  }
  printf ("%s: %d failure(s)\n", argv[0], failures);
  return failures ? 1 : 0;
}
