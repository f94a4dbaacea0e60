/* runner/shell.c: `guestkit shell', a guestfish-compatible shell.
 *
 *   guestkit shell [-a IMG]... [--ro] [-i | -m DEV[:DIR]]... [CMD ARG... : CMD ...]
 *   guestkit shell -a IMG -f SCRIPT
 *   guestkit shell                      (a prompt when stdin is a terminal)
 *
 * Its commands are the calls of the generated table (calls-gen.c) that
 * are not flagged NotInFish, by name (`-' and `_' alike) or by their
 * FishAlias, plus a few of its own (help, quit, exit, echo, !CMD; names
 * and help are in shell-help.c).  The words of a command (shell-parse.c)
 * become the call's arguments by type (shell-call.c):
 *
 *   String, Device, Pathname, ...  the word
 *   OptString                      the word; "" is NULL
 *   StringList, DeviceList         the word cut at blanks
 *   Bool                           true/false yes/no on/off 1/0
 *   Int, Int64                     decimal, 0x hex, 0 octal; range checked
 *   FileIn, FileOut                a host path; "-" is stdin / stdout
 *
 * and results are printed as guestfish prints them (see print_ret in
 * shell-call.c, which runs one call from its words).
 * With drives given, the appliance is launched before the first command
 * that needs it.  A failed command stops a script or a command line with
 * exit status 1, unless it was written with a leading `-'.  Messages
 * name the script and line.  The handle has autosync on: closing it
 * unmounts everything and syncs, so a session's writes reach the disk.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "runner.h"

/* ---- Messages ---- */

void
rn_sh_err (struct rn_shell *sh, const char *fmt, ...)
{
  va_list ap;

  fflush (stdout);
  fprintf (stderr, "%s: ", rn_progname);
  if (sh->src)
    fprintf (stderr, "%s:%d: ", sh->src, sh->line);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

static void
on_lib_error (guestfs_h *g, void *opaque, const char *msg)
{
  (void) g;
  rn_sh_err (opaque, "%s", msg);
}

/* A word for a message: at most 60 bytes of it. */
const char *
rn_sh_shorten (const char *w, char *buf, size_t size)
{
  if (strlen (w) < 60)
    return w;
  snprintf (buf, size, "%.57s...", w);
  return buf;
}

/* ---- Running calls ---- */

static int
wrong_count (struct rn_shell *sh, const struct rn_call *c, size_t given)
{
  struct rn_buf u = { NULL, 0, 0 };
  char *d = rn_sh_respell (c->name, '_', '-');

  rn_buf_adds (&u, d);
  for (int i = 0; i < c->nargs; i++)
    rn_buf_addf (&u, " %s", c->args[i].name);
  rn_sh_err (sh, "%s: expected %d argument%s, got %zu (usage: %s)", d, c->nargs,
          c->nargs == 1 ? "" : "s", given, u.s);
  rn_buf_free (&u);
  free (d);
  return -1;
}

/* add-drive-opts FILE [format:FMT] [readonly:BOOL] (its optional
 * arguments in guestfish's NAME:VALUE form). */
static int
cmd_add_drive_opts (struct rn_shell *sh, char **w, size_t n)
{
  struct guestfs_add_drive_opts_argv o = { 0 };
  char b[64];

  if (n < 2)
    return wrong_count (sh, rn_sh_find_call ("add_drive_opts"), n - 1);
  for (size_t i = 2; i < n; i++) {
    if (strncmp (w[i], "format:", 7) == 0) {
      o.format = w[i] + 7;
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
    } else if (strncmp (w[i], "readonly:", 9) == 0 &&
               (o.readonly = rn_sh_parse_bool (w[i] + 9)) != -1)
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
    else {
      rn_sh_err (sh, "add-drive-opts: '%s': expected format:FORMAT or readonly:true|false",
              rn_sh_shorten (w[i], b, sizeof b));
      return -1;
    }
  }
  if (guestfs_add_drive_opts_argv (sh->g, w[1], &o) == -1)
    return -1;
  sh->ndrives++;
  return 0;
}

static int
run_local (struct rn_shell *sh, const char *cmd)
{
  int st;

  fflush (stdout);
  st = system (cmd);
  if (st == -1)
    rn_sh_err (sh, "!%s: %s", cmd, strerror (errno));
  else if (WIFSIGNALED (st))
    rn_sh_err (sh, "!%s: killed by signal %d", cmd, WTERMSIG (st));
  else if (WEXITSTATUS (st) != 0)
    rn_sh_err (sh, "!%s: exit status %d", cmd, WEXITSTATUS (st));
  else
    return 0;
  return -1;
}

/* !CMD given as words (on the command line): the words joined. */
static int
run_local_words (struct rn_shell *sh, char **w, size_t n)
{
  struct rn_buf b = { NULL, 0, 0 };
  int r;

  rn_buf_adds (&b, w[0] + 1);
  for (size_t i = 1; i < n; i++)
    rn_buf_addf (&b, " %s", w[i]);
  r = run_local (sh, b.s);
  rn_buf_free (&b);
  return r;
}

/* One command as words; 0 or -1 (the message is printed). */
static int
run_words (struct rn_shell *sh, char **w, size_t n)
{
  const struct rn_call *c;
  char b[64];

  if (strcmp (w[0], "help") == 0)
    return rn_sh_cmd_help (sh, w, n);
  if (strcmp (w[0], "quit") == 0 || strcmp (w[0], "exit") == 0 || strcmp (w[0], "q") == 0) {
    sh->quit = 1;
    return 0;
  }
  if (w[0][0] == '!')
    return run_local_words (sh, w, n);
  if (strcmp (w[0], "edit") == 0 || strcmp (w[0], "vi") == 0 || strcmp (w[0], "emacs") == 0)
    return rn_sh_cmd_edit (sh, w, n);
  if (strcmp (w[0], "more") == 0 || strcmp (w[0], "less") == 0)
    return rn_sh_cmd_more (sh, w, n);
  if (strcmp (w[0], "glob") == 0)
    return rn_sh_cmd_glob (sh, w, n);
  if (strcmp (w[0], "echo") == 0) {
    for (size_t i = 1; i < n; i++)
      printf ("%s%s", w[i], i + 1 < n ? " " : "");
    putchar ('\n');
    return 0;
  }
  if ((c = rn_sh_find_call (w[0])) == NULL) {
    const char *s = rn_sh_suggest (w[0]);
    char *d = s ? rn_sh_respell (s, '_', '-') : NULL;
    rn_sh_err (sh, "unknown command '%s'%s%s%s", rn_sh_shorten (w[0], b, sizeof b),
            d ? " (did you mean '" : "", d ? d : "", d ? "'?)" : "; try 'help'");
    free (d);
    return -1;
  }
  if (strcmp (c->name, "add_drive_opts") == 0)
    return cmd_add_drive_opts (sh, w, n);
  if ((size_t) c->nargs != n - 1)
    return wrong_count (sh, c, n - 1);
  return rn_sh_run_call (sh, c, w, n);
}

/* A command with its optional leading `-' (report the error, go on). */
int
rn_sh_run_command (struct rn_shell *sh, char **w, size_t n)
{
  int ignore = w[0][0] == '-' && w[0][1] != '\0';
  char *name = w[0];
  int r;

  if (ignore)
    w[0] = name + 1;
  r = run_words (sh, w, n);
  w[0] = name;
  return ignore ? 0 : r;
}

/* One line of a script or of the prompt; 0 or -1. */
static int
run_line (struct rn_shell *sh, const char *line, size_t len)
{
  struct rn_strv w = { NULL, 0 };
  char *err;
  size_t i = strspn (line, " \t");
  int r;

  if (i < len && line[i] == '!' && memchr (line, '\0', len) == NULL)
    return run_local (sh, line + i + 1);
  if (rn_sh_split (line, len, &w, &err) == -1) {
    rn_sh_err (sh, "%s", err);
    free (err);
    return -1;
  }
  r = w.n ? rn_sh_run_command (sh, w.v, w.n) : 0;
  rn_strv_free (&w);
  return r;
}

/* Commands from f until EOF or quit; a prompt when interactive, where
 * a failure does not end the session.  0, or 1 when a command failed. */
static int
run_stream (struct rn_shell *sh, FILE *f, const char *src, int prompt)
{
  struct rn_buf b = { NULL, 0, 0 };
  int r, failed = 0;

  sh->src = prompt ? NULL : src;
  sh->line = 0;
  for (;;) {
    if (prompt)
      r = rn_sh_edit_read ("guestkit> ", &b);
    else
      r = rn_sh_read_line (f, &b);
    if (r == 0)
      break;
    sh->line++;
    if (r == -1)
      rn_sh_err (sh, "line longer than %u bytes", RN_SH_LINE_MAX);
    if (r == -1 || run_line (sh, b.s, b.len) == -1) {
      failed = 1;
      if (!prompt)
        break;
    }
    if (sh->quit)
      break;
  }
  if (prompt && !sh->quit)
    putchar ('\n');
  rn_buf_free (&b);
  return failed && !prompt ? 1 : 0;
}

int
rn_sh_run_stream (struct rn_shell *sh, FILE *f, const char *src)
{
  return run_stream (sh, f, src, 0);
}

/* Commands from the command line, separated by ":" words. */
static int
run_argv (struct rn_shell *sh, char **argv, int argc)
{
  int start = 0;

  sh->src = NULL;
  for (int i = 0; i <= argc && !sh->quit; i++) {
    if (i < argc && strcmp (argv[i], ":") != 0)
      continue;
    if (i > start && rn_sh_run_command (sh, argv + start, (size_t) (i - start)) == -1)
      return 1;
    start = i + 1;
  }
  return 0;
}

/* ---- Options ---- */

struct shell_opts {
  struct rn_drive_opts d;              /* -a, --format, --ro/--rw, -i, -m */
  const char *script;                  /* -f */
  int trace, verbose;
  int progress;                        /* --progress-bars: 1, --no-...: 0, -1 */
  int listen;                          /* --listen */
  int remote;                          /* --remote[=PID] */
  const char *remote_pid;              /* its PID, or NULL: $GUESTKIT_PID */
};

static void
shell_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit shell [OPTION]... [COMMAND ARG... [: COMMAND ARG...]...]\n"
"\n"
"A guestfish-compatible shell over every call of the library: commands\n"
"from the command line (separated by ':'), from a script (-f), from a\n"
"prompt when stdin is a terminal, else from stdin.  'help' lists them.\n"
"\n"
"  -a, --add IMG        add a disk image (repeatable)\n"
"  --format FMT         format of the following -a images (default raw,\n"
"                       never probed)\n"
"  --ro                 add the images read-only\n"
"  -i, --inspector      find the OS on the images and mount it\n"
"  -m, --mount DEV[:DIR]  mount DEV on DIR (default /) after launch\n"
"                       (repeatable; mounted parents first)\n"
"  -f, --file SCRIPT    read commands from SCRIPT\n"
"  -x                   print each call before it runs\n"
"  -v, --verbose        the library's and the appliance's messages\n"
"  --listen             run in the background as a server for --remote;\n"
"                       prints GUESTKIT_PID=PID (use with eval)\n"
"  --remote[=PID]       send the command (or stdin's commands) to the\n"
"                       server PID (default $GUESTKIT_PID)\n"
"  --progress-bars      progress bars for transfers on a terminal (the\n"
"                       default at a prompt); --no-progress-bars: none\n"
"  --version            the version\n"
"  -h, --help           this text\n"
"\n"
"Exit status: 0 every command ran, 1 one failed (a command written with\n"
"a leading '-' may fail), 2 invalid options.\n");
}

/* One of the shell's own options; 0. */
static int
take_shell_opt (void *opaque, int c, const char *arg)
{
  struct shell_opts *o = opaque;

  switch (c) {
  case 'f': o->script = arg; break;
  case 'v': o->verbose = 1; break;
  case 'x': o->trace = 1; break;
  case 'L': o->listen = 1; break;
  case 'P': o->progress = 1; break;
  case 'N': o->progress = 0; break;
  case 'R': o->remote = 1; o->remote_pid = arg; break;
  }
  return 0;
}

/* Options; the index of the first command word, -1 (exit 2), -2 (--help). */
static int
parse_shell_args (int argc, char **argv, struct shell_opts *o)
{
  static const struct option opts[] = {
    { "file", required_argument, NULL, 'f' },
    { "verbose", no_argument, NULL, 'v' },
    { "listen", no_argument, NULL, 'L' },
    { "progress-bars", no_argument, NULL, 'P' },
    { "no-progress-bars", no_argument, NULL, 'N' },
    { "remote", optional_argument, NULL, 'R' },
    { NULL, 0, NULL, 0 },
  };
  const struct rn_cmd_opts cmd = { "shell", "+f:vx", opts, RN_DO_RW | RN_DO_MOUNT,
                                   take_shell_opt, o };
  int first = rn_drive_opts_parse (argc, argv, &cmd, &o->d);

  if (first < 0)
    return first;
  if ((o->d.inspect || o->d.mounts.n) && o->d.drives.paths.n == 0) {
    fprintf (stderr, "%s: shell: -i and -m need drives (-a IMG)\n", rn_progname);
    return -1;
  }
  if (o->remote && (o->listen || o->d.drives.paths.n || o->script)) {
    fprintf (stderr, "%s: shell: --remote sends commands to a server; it takes no -a, -f "
             "or --listen\n", rn_progname);
    return -1;
  }
  if (o->listen && (o->script || first < argc)) {
    fprintf (stderr, "%s: shell: --listen takes commands from --remote, not -f or the "
             "command line\n", rn_progname);
    return -1;
  }
  if (o->script && first < argc) {
    fprintf (stderr, "%s: shell: give commands either with -f or on the command line\n",
             rn_progname);
    return -1;
  }
  return first;
}

/* ---- Set-up: drives, -i, -m ---- */

static int
inspect_and_mount (struct rn_shell *sh)
{
  char *why;
  int r = rn_mount_inspected (sh->g, sh->ro, &why);

  if (why)
    rn_sh_err (sh, "%s", why);
  free (why);
  return r;
}

static int
set_up (struct rn_shell *sh, const void *arg)
{
  const struct shell_opts *o = arg;

  guestfs_set_error_handler (sh->g, on_lib_error, sh);
  if (guestfs_set_autosync (sh->g, 1) == -1 ||
      (o->verbose && guestfs_set_verbose (sh->g, 1) == -1) ||
      (o->trace && guestfs_set_trace (sh->g, 1) == -1) ||
      rn_drives_attach (sh->g, &o->d.drives, o->d.ro) == -1)
    return -1;
  sh->ndrives = (int) o->d.drives.paths.n;
  if (!o->d.inspect && o->d.mounts.n == 0)
    return 0;
  if (rn_sh_launch (sh) == -1 ||
      (o->d.inspect && inspect_and_mount (sh) == -1) ||
      rn_mount_specs (sh->g, &o->d.mounts, sh->ro) == -1)
    return -1;
  return 0;
}

static int
run_script (struct rn_shell *sh, const char *path)
{
  FILE *f = strcmp (path, "-") == 0 ? stdin : fopen (path, "r");
  int r;

  if (f == NULL) {
    rn_sh_err (sh, "%s: %s", path, strerror (errno));
    return 1;
  }
  r = run_stream (sh, f, path, 0);
  if (f != stdin)
    fclose (f);
  return r;
}

int
rn_cmd_shell (int argc, char **argv)
{
  struct shell_opts o = { .progress = -1 };
  struct rn_shell sh = { .g = NULL };
  int first = parse_shell_args (argc, argv, &o), rc;

  if (first < 0) {
    if (first == -2)
      shell_usage (stdout);
    rc = first == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
    goto out;
  }
  if (o.remote) {
    rc = rn_sh_remote (o.remote_pid, argv + first, argc - first);
    goto out;
  }
  sh.ro = o.d.ro;
  if ((sh.g = guestfs_create ()) == NULL) {
    fprintf (stderr, "%s: shell: cannot create a handle\n", rn_progname);
    rc = RN_EXIT_FAILED;
    goto out;
  }
  if (o.listen) {
    rc = rn_sh_listen (&sh, set_up, &o);
    guestfs_close (sh.g);
    goto out;
  }
  if (o.progress == 1 ||
      (o.progress == -1 && first >= argc && !o.script && isatty (STDIN_FILENO)))
    rn_sh_progress_start (sh.g);
  if (set_up (&sh, &o) == -1)
    rc = RN_EXIT_FAILED;
  else if (first < argc)
    rc = run_argv (&sh, argv + first, argc - first);
  else if (o.script)
    rc = run_script (&sh, o.script);
  else if (isatty (STDIN_FILENO)) {
    printf ("guestkit shell: 'help' lists the commands, 'quit' leaves.\n");
    rn_sh_edit_start (sh.g);
    rc = run_stream (&sh, stdin, NULL, 1);
    rn_sh_edit_end ();
  } else
    rc = run_stream (&sh, stdin, "stdin", 0);
  fflush (stdout);
  guestfs_close (sh.g);
 out:
  rn_drive_opts_free (&o.d);
  return rc;
}
