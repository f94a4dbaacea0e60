/* runner/boot-test.c: does a disk image boot?  `guestkit boot-test' and
 * the build jobs' `verify: {boot: true, ...}'.
 *
 *   qemu-img info (refuse images that name other files) -> a throw-away
 *   qcow2 overlay in a private temp dir -> plain qemu: the overlay as
 *   the only drive, the image's own bootloader, serial console on a pipe,
 *   no network, no display -> watch the console until the expected text
 *   appears or the time is up -> kill qemu, remove the overlay.
 *
 * The image itself is opened read-only as the overlay's backing file and
 * is never written.  Its format is given, never probed, and its own
 * backing chain is cut (backing=null), so a hostile qcow2 cannot make
 * qemu open a host file.  qemu is confined as far as this host allows:
 * a seccomp filter (-sandbox), and when we are root it drops to `nobody'
 * (-runas) once its files are open.
 *
 * Accelerator: GUESTKIT_ACCEL=kvm|tcg, LIBGUESTFS_BACKEND_SETTINGS with
 * force_tcg, as for the appliance; in auto mode KVM is used only when the
 * library recorded that KVM really works here (its accel-verdict in the
 * cache directory), else TCG.
 *
 * The console text is cleaned as it arrives (escape sequences and control
 * characters dropped, non-ASCII bytes shown as '?'), so what is matched,
 * printed and stored is plain text.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define CONSOLE_KEEP  (64u << 10)   /* cleaned console text kept */
#define TAIL_BYTES    2000          /* console tail reported */
#define TAIL_LINES    20

/* The console cleaner: a small state machine over escape sequences. */
struct console {
  struct rn_buf text;        /* cleaned text, at most ~2 x CONSOLE_KEEP */
  int esc;                   /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC */
  size_t searched;           /* text[0..searched) holds no match */
};

static void
console_feed (struct console *c, const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char) p[i];
    switch (c->esc) {
    case 1:
      c->esc = ch == '[' ? 2 : ch == ']' ? 3 : 0;
      continue;
    case 2:                          /* CSI: parameters, then a final byte */
      if (ch >= 0x40 && ch <= 0x7e)
        c->esc = 0;
      continue;
    case 3:                          /* OSC: up to BEL or ESC */
      if (ch == 7 || ch == 27)
        c->esc = ch == 27 ? 1 : 0;
      continue;
    }
    if (ch == 27)
      c->esc = 1;
    else if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch < 0x7f))
      rn_buf_addc (&c->text, (char) ch);
    else if (ch >= 0x80)
      rn_buf_addc (&c->text, '?');
  }
  if (c->text.len > 2 * CONSOLE_KEEP) {
    size_t cut = c->text.len - CONSOLE_KEEP;
    memmove (c->text.s, c->text.s + cut, CONSOLE_KEEP + 1);
    c->text.len = CONSOLE_KEEP;
    c->searched = c->searched > cut ? c->searched - cut : 0;
  }
}

/* Has expect appeared since the last look? */
static int
console_seen (struct console *c, const char *expect)
{
  size_t el = strlen (expect);
  const char *from;

  if (c->text.s == NULL)
    return 0;
  from = c->text.s + c->searched;
  if (strstr (from, expect))
    return 1;
  if (c->text.len >= el)
    c->searched = c->text.len - el + 1;
  return 0;
}

/* The last lines of the console, trailing blanks dropped; caller frees. */
static char *
console_tail (const struct console *c)
{
  const char *s = c->text.s ? c->text.s : "";
  size_t end = c->text.len, start;
  int lines = 0;

  while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == ' '))
    end--;
  start = end;
  while (start > 0 && end - start < TAIL_BYTES) {
    if (s[start - 1] == '\n' && ++lines == TAIL_LINES)
      break;
    start--;
  }
  return rn_strndup (s + start, end - start);
}

/* What the console showed last, for one-line messages; caller frees. */
static char *
console_last_line (const struct console *c)
{
  char *tail = console_tail (c), *nl = strrchr (tail, '\n');
  char *line = *tail ? rn_asprintf ("last console line: '%s'", nl ? nl + 1 : tail)
                     : rn_strdup ("the console stayed empty (no bootloader on the "
                                  "disk, or none that uses the serial port)");
  free (tail);
  return line;
}

static const char *
choose_accel (char **err)
{
  const char *env = getenv ("GUESTKIT_ACCEL");
  const char *bs = getenv ("LIBGUESTFS_BACKEND_SETTINGS");
  const char *cache = getenv ("GUESTKIT_CACHEDIR");
  char *vp, buf[8] = "";
  FILE *f;

  if (env && *env && strcmp (env, "kvm") && strcmp (env, "tcg") && strcmp (env, "auto")) {
    *err = rn_asprintf ("GUESTKIT_ACCEL=%s: expected kvm, tcg or auto", env);
    return NULL;
  }
  if ((bs && strstr (bs, "force_tcg")) || (env && strcmp (env, "tcg") == 0))
    return "tcg";
  if (env && strcmp (env, "kvm") == 0)
    return "kvm";
  vp = cache && *cache ? rn_asprintf ("%s/accel-verdict", cache)
                       : rn_asprintf ("/var/tmp/.guestkit-%d/accel-verdict", (int) geteuid ());
  if ((f = fopen (vp, "r")) != NULL) {
    if (fgets (buf, sizeof buf, f) == NULL)
      buf[0] = '\0';
    fclose (f);
  }
  free (vp);
  return strncmp (buf, "kvm", 3) == 0 && access ("/dev/kvm", R_OK | W_OK) == 0
    ? "kvm" : "tcg";
}

/* qemu-img's view of the image: refused if it names another file. */
static int
check_image (const char *path, const char *format, char **err)
{
  char *argv[] = { "qemu-img", "info", "--output=json", "-f", (char *) format,
                   (char *) path, NULL };
  char *out = NULL;
  int r = rn_run_command_output (argv, &out, err);

  if (r == 0 && (strstr (out, "\"backing-filename\"") || strstr (out, "\"data-file\""))) {
    *err = rn_asprintf ("%s: the image names another file (a backing or data "
                        "file); refusing to boot it", path);
    r = -1;
  }
  free (out);
  return r;
}

/* A file blockdev as JSON; caller frees. */
static char *
blockdev_file (const char *node, const char *path, int ro)
{
  struct rn_buf b = { 0 };

  rn_buf_addf (&b, "{\"driver\":\"file\",\"node-name\":\"%s\",\"read-only\":%s,"
               "\"filename\":", node, ro ? "true" : "false");
  rn_json_strz (&b, path);
  rn_buf_addc (&b, '}');
  return rn_buf_take (&b);
}

/* The qemu command line, into av. */
static void
qemu_argv (const struct rn_boot *b, const char *qemu, const char *accel,
           const char *overlay, struct rn_strv *av)
{
  int root = geteuid () == 0 && getpwnam ("nobody") != NULL;
  int blk = b->bus == NULL || strcmp (b->bus, "virtio-blk") == 0;
  const char *fixed[] = {
    "-nodefaults", "-display", "none", "-vga", "none", "-nic", "none",
    "-no-user-config", "-m", "512", "-monitor", "none", "-parallel", "none",
    "-serial", "stdio", NULL,
  };

  rn_strv_add (av, rn_strdup (qemu));
  for (size_t i = 0; fixed[i]; i++)
    rn_strv_add (av, rn_strdup (fixed[i]));
  rn_strv_add (av, rn_strdup ("-machine"));
  rn_strv_add (av, rn_asprintf ("pc,accel=%s", accel));
  rn_strv_add (av, rn_strdup ("-sandbox"));
  rn_strv_add (av, rn_asprintf ("on,obsolete=deny,spawn=deny,resourcecontrol=deny%s",
                                root ? "" : ",elevateprivileges=deny"));
  if (root) {
    rn_strv_add (av, rn_strdup ("-runas"));
    rn_strv_add (av, rn_strdup ("nobody"));
  }
  /* JSON, so that a path with commas stays one path and the image's own
   * backing chain can be cut (backing: null) */
  rn_strv_add (av, rn_strdup ("-blockdev"));
  rn_strv_add (av, blockdev_file ("img-file", b->image, 1));
  rn_strv_add (av, rn_strdup ("-blockdev"));
  rn_strv_add (av, rn_asprintf ("{\"driver\":\"%s\",\"node-name\":\"img\",\"file\":\"img-file\","
                                "\"read-only\":true%s}", b->format,
                                strcmp (b->format, "qcow2") == 0 ? ",\"backing\":null" : ""));
  rn_strv_add (av, rn_strdup ("-blockdev"));
  rn_strv_add (av, blockdev_file ("ov-file", overlay, 0));
  rn_strv_add (av, rn_strdup ("-blockdev"));
  rn_strv_add (av, rn_strdup ("{\"driver\":\"qcow2\",\"node-name\":\"ov\",\"file\":\"ov-file\","
                              "\"backing\":\"img\"}"));
  if (!blk) {
    rn_strv_add (av, rn_strdup ("-device"));
    rn_strv_add (av, rn_strdup ("virtio-scsi-pci,id=scsi0"));
  }
  rn_strv_add (av, rn_strdup ("-device"));
  rn_strv_add (av, rn_strdup (blk ? "virtio-blk-pci,drive=ov,bootindex=0"
                                  : "scsi-hd,drive=ov,bootindex=0"));
}

static int
stopped (const struct rn_boot *b)
{
  return b->stop && *b->stop;
}

/* Read the console until expect, qemu's end or the deadline.  Returns 0
 * when seen, else -1 with *err. */
static int
watch (const struct rn_boot *b, int fd, pid_t pid, double t0, struct console *c,
       char **err)
{
  char chunk[4096], *last;
  double deadline = t0 + b->timeout;
  ssize_t n;

  for (;;) {
    double left = deadline - rn_now ();
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    if (left <= 0 || stopped (b))
      break;
    if (poll (&pfd, 1, left > 0.5 ? 500 : (int) (left * 1000) + 1) == -1 && errno != EINTR)
      break;
    if (!(pfd.revents & (POLLIN | POLLHUP)))
      continue;
    n = read (fd, chunk, sizeof chunk);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      int st;
      waitpid (pid, &st, 0);
      last = console_last_line (c);
      *err = rn_asprintf ("qemu ended (%s %d) before '%s' appeared; %s",
                          WIFEXITED (st) ? "exit status" : "signal",
                          WIFEXITED (st) ? WEXITSTATUS (st) : WTERMSIG (st), b->expect, last);
      free (last);
      return -2;                     /* reaped */
    }
    console_feed (c, chunk, (size_t) n);
    if (console_seen (c, b->expect))
      return 0;
  }
  last = console_last_line (c);
  *err = stopped (b)
    ? rn_strdup ("boot check interrupted")
    : rn_asprintf ("'%s' not seen on the console within %d s; %s",
                   b->expect, b->timeout, last);
  free (last);
  return -1;
}

/* Boot the overlay and watch; fills r. */
static int
boot_overlay (const struct rn_boot *b, const char *overlay, struct rn_boot_result *r)
{
  struct rn_strv av = { 0 };
  struct console c = { 0 };
  const char *accel;
  guestfs_h *g;
  double t0;
  int fd, w = -1;
  pid_t pid;

  if ((accel = choose_accel (&r->error)) == NULL)
    return -1;
  snprintf (r->accel, sizeof r->accel, "%s", accel);
  g = guestfs_create ();                     /* for the qemu it would run */
  qemu_argv (b, g && guestfs_get_qemu (g) ? guestfs_get_qemu (g) : "qemu-system-x86_64",
             accel, overlay, &av);
  if (g)
    guestfs_close (g);
  t0 = rn_now ();
  if ((pid = rn_spawn_piped (av.v, &fd, &r->error)) > 0) {
    if (b->on_pid)
      b->on_pid (b->ctx, pid);
    w = watch (b, fd, pid, t0, &c, &r->error);
    r->secs = rn_now () - t0;
    if (w != -2) {
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) == -1 && errno == EINTR)
        ;
    }
    if (b->on_pid)
      b->on_pid (b->ctx, 0);
    close (fd);
    r->tail = console_tail (&c);
  }
  rn_buf_free (&c.text);
  rn_strv_free (&av);
  return w == 0 ? 0 : -1;
}

int
rn_boot_test (const struct rn_boot *b, struct rn_boot_result *r)
{
  const char *tmpdir = getenv ("TMPDIR");
  char *dir, *overlay;
  int ret = -1;

  memset (r, 0, sizeof *r);
  if (b->expect == NULL || *b->expect == '\0') {
    r->error = rn_strdup ("the expected text is empty");
    return -1;
  }
  if (b->image[0] != '/' || access (b->image, R_OK) == -1) {
    r->error = rn_asprintf ("%s: %s", b->image,
                            b->image[0] != '/' ? "not an absolute path" : strerror (errno));
    return -1;
  }
  if (check_image (b->image, b->format, &r->error) == -1)
    return -1;
  dir = rn_asprintf ("%s/guestkit-boot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (mkdtemp (dir) == NULL) {
    r->error = rn_asprintf ("%s: %s", dir, strerror (errno));
    free (dir);
    return -1;
  }
  overlay = rn_asprintf ("%s/overlay.qcow2", dir);
  {
    char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", (char *) b->image,
                     "-F", (char *) b->format, overlay, NULL };
    if (rn_run_command (argv, &r->error) == 0)
      ret = boot_overlay (b, overlay, r);
  }
  unlink (overlay);
  rmdir (dir);
  free (overlay);
  free (dir);
  return ret;
}

void
rn_boot_result_free (struct rn_boot_result *r)
{
  free (r->tail);
  free (r->error);
  r->tail = r->error = NULL;
}

/* ---- guestkit boot-test ---- */

static void
boot_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit boot-test -a IMG [--format FMT] --expect TEXT [--timeout 5m]\n"
"                          [--bus virtio-blk|scsi]\n"
"\n"
"Boot IMG in a plain qemu (its own bootloader, the image as the only drive,\n"
"serial console, no network) on a throw-away overlay, and wait until TEXT\n"
"appears on the console.  The image is never written.  Prints the boot time\n"
"and the last lines of the console.\n"
"\n"
"  -a, --add IMG      the disk image\n"
"  --format FMT       its format (default raw; never probed)\n"
"  --expect TEXT      the text that proves the boot (e.g. 'web1 login:')\n"
"  --timeout DUR      how long to wait (default 5m; 90, 90s, 10m)\n"
"  --bus BUS          virtio-blk (default: the disk is /dev/vda) or scsi\n"
"\n"
"Exit status: 0 the text appeared, 1 it did not (or qemu failed), 2 usage.\n");
}

static int
boot_opts (int argc, char **argv, struct rn_boot *b, char **img)
{
  static const struct option lo[] = {
    { "add", required_argument, NULL, 'a' }, { "format", required_argument, NULL, 'f' },
    { "expect", required_argument, NULL, 'e' }, { "timeout", required_argument, NULL, 't' },
    { "bus", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int64_t secs;
  int o;

  while ((o = getopt_long (argc, argv, "a:h", lo, NULL)) != -1) {
    switch (o) {
    case 'a': *img = optarg; break;
    case 'f': b->format = optarg; break;
    case 'e': b->expect = optarg; break;
    case 'b': b->bus = optarg; break;
    case 't':
      if (rn_parse_duration (optarg, &secs) == -1 || secs < 1 || secs > 86400) {
        fprintf (stderr, "%s: boot-test: --timeout: expected a duration from 1 s to 24 h, got '%s'\n",
                 rn_progname, optarg);
        return -1;
      }
      b->timeout = (int) secs;
      break;
    case 'h': boot_usage (stdout); exit (RN_EXIT_OK);
    default: return -1;
    }
  }
  if (optind < argc || *img == NULL || b->expect == NULL || *b->expect == '\0') {
    fprintf (stderr, "%s: boot-test: %s\n", rn_progname, optind < argc
             ? "unexpected arguments" : "-a IMG and --expect TEXT are required");
    return -1;
  }
  if (b->bus && strcmp (b->bus, "virtio-blk") && strcmp (b->bus, "scsi")) {
    fprintf (stderr, "%s: boot-test: --bus: expected virtio-blk or scsi, got '%s'\n",
             rn_progname, b->bus);
    return -1;
  }
  return 0;
}

int
rn_cmd_boot_test (int argc, char **argv)
{
  struct rn_boot b = { .format = "raw", .timeout = 300 };
  struct rn_boot_result r;
  char *img = NULL, *abs, secs[32];
  int rc;

  if (boot_opts (argc, argv, &b, &img) == -1) {
    boot_usage (stderr);
    return RN_EXIT_USAGE;
  }
  if ((abs = realpath (img, NULL)) == NULL) {
    fprintf (stderr, "%s: boot-test: %s: %s\n", rn_progname, img, strerror (errno));
    return RN_EXIT_FAILED;
  }
  b.image = abs;
  rc = rn_boot_test (&b, &r);
  rn_fmt_secs (secs, r.secs);
  if (r.tail && *r.tail)
    printf ("---- console (last lines) ----\n%s\n------------------------------\n", r.tail);
  if (rc == 0)
    printf ("boot-test: %s: '%s' after %s (%s)\n", img, b.expect, secs, r.accel);
  else
    fprintf (stderr, "%s: boot-test: %s: %s\n", rn_progname, img, r.error);
  rn_boot_result_free (&r);
  free (abs);
  return rc == 0 ? RN_EXIT_OK : RN_EXIT_FAILED;
}
