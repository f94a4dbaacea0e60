/* runner/shell.c: `guestkit shell', a guestfish-compatible shell.
 *
 *   guestkit shell [-a IMG]... [--ro] [-i | -m DEV[:DIR]]... [CMD ARG... : CMD ...]
 *   guestkit shell -a IMG -f SCRIPT
 *   guestkit shell                      (a prompt when stdin is a terminal)
 *
 * Its commands are the calls of the generated table (calls-gen.c) that
 * are not flagged NotInFish, by name (`-' and `_' alike) or by their
 * FishAlias, plus a few of its own (help, quit, exit, echo, !CMD).  The
 * words of a command (shell-parse.c) become the call's arguments by type:
 *
 *   String, Device, Pathname, ...  the word
 *   OptString                      the word; "" is NULL
 *   StringList, DeviceList         the word cut at blanks
 *   Bool                           true/false yes/no on/off 1/0
 *   Int, Int64                     decimal, 0x hex, 0 octal; range checked
 *   FileIn, FileOut                a host path; "-" is stdin / stdout
 *
 * and results are printed as guestfish prints them (see print_ret).
 * With drives given, the appliance is launched before the first command
 * that needs it.  A failed command stops a script or a command line with
 * exit status 1, unless it was written with a leading `-'.  Messages
 * name the script and line.  The handle has autosync on: closing it
 * unmounts everything and syncs, so a session's writes reach the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
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
static const char *
shorten (const char *w, char *buf, size_t size)
{
  if (strlen (w) < 60)
    return w;
  snprintf (buf, size, "%.57s...", w);
  return buf;
}

/* ---- Names ---- */

/* name with every `from' replaced by `to'; caller frees. */
static char *
respell (const char *name, char from, char to)
{
  char *s = rn_strdup (name);
  for (char *p = s; *p; p++)
    if (*p == from)
      *p = to;
  return s;
}

const struct rn_call *
rn_sh_find_call (const char *name)
{
  char *u = respell (name, '-', '_'), *d = respell (name, '_', '-');
  const struct rn_call *c = rn_call_find (u);

  if (c == NULL)
    c = rn_call_find (d);              /* aliases are spelt with `-' */
  free (u);
  free (d);
  return c && !(c->flags & RN_CALL_NOTINFISH) ? c : NULL;
}

const char *const rn_sh_builtins[][2] = {
  { "help", "list the commands, or describe one: help [COMMAND]" },
  { "quit", "leave the shell (also: exit, q)" },
  { "echo", "print its arguments, separated by spaces" },
  { "!", "!COMMAND runs a command of the host's shell" },
  { "edit", "edit a guest file with $EDITOR (default vi): edit FILE (also: vi, emacs)" },
  { "more", "show a guest file with $PAGER (default more): more FILE (also: less)" },
  { "glob", "expand guest wildcards in the arguments, run the command for each match: glob COMMAND ARG..." },
  { NULL, NULL },
};

static const char *
suggest (const char *name)
{
  char *u = respell (name, '-', '_');
  const char *best = NULL;
  int bd = 3;

  for (size_t i = 0; i < rn_ncalls; i++) {
    int d = rn_distance (rn_calls[i].name, u);
    if (!(rn_calls[i].flags & RN_CALL_NOTINFISH) && d < bd)
      bd = d, best = rn_calls[i].name;
  }
  free (u);
  return best;
}

/* ---- help ---- */

static void
print_dashed (FILE *f, const char *name, int width)
{
  char *d = respell (name, '_', '-');
  fprintf (f, "%-*s", width, d);
  free (d);
}

static void
help_list (void)
{
  printf ("Commands (help COMMAND describes one; '-' and '_' are alike):\n\n");
  for (size_t i = 0; i < rn_ncalls; i++) {
    const struct rn_call *c = &rn_calls[i];
    if (c->flags & RN_CALL_NOTINFISH)
      continue;
    printf ("  ");
    print_dashed (stdout, c->name, 28);
    printf (" %s\n", c->summary);
  }
  printf ("\nAliases:");
  for (size_t i = 0; i < rn_ncalls; i++)
    if (rn_calls[i].alias && !(rn_calls[i].flags & RN_CALL_NOTINFISH)) {
      printf (" %s=", rn_calls[i].alias);
      print_dashed (stdout, rn_calls[i].name, 0);
    }
  printf ("\n\nShell commands:\n");
  for (size_t i = 0; rn_sh_builtins[i][0]; i++)
    printf ("  %-28s %s\n", rn_sh_builtins[i][0], rn_sh_builtins[i][1]);
}

static const char *
ret_words (const struct rn_call *c)
{
  switch (c->ret) {
  case RN_RET_ERR: return "nothing";
  case RN_RET_INT: return "an integer";
  case RN_RET_INT64: return "a 64-bit integer";
  case RN_RET_BOOL: return "true or false";
  case RN_RET_CONSTSTRING: case RN_RET_STRING: return "a string";
  case RN_RET_CONSTOPTSTRING: return "a string, or (null)";
  case RN_RET_STRINGLIST: return "a list of strings, one a line";
  case RN_RET_HASHTABLE: return "'key: value' lines";
  case RN_RET_BUFFEROUT: return "bytes, written as they are";
  case RN_RET_STRUCT: return "a struct: 'field: value' lines";
  case RN_RET_STRUCTLIST: return "a list of structs";
  }
  return "?";
}

static void
help_call (const struct rn_call *c)
{
  printf ("usage: ");
  print_dashed (stdout, c->name, 0);
  if (strcmp (c->name, "add_drive_opts") == 0)
    printf (" filename [format:FORMAT] [readonly:true|false]");
  else
    for (int i = 0; i < c->nargs; i++)
      printf (" %s", c->args[i].name);
  printf ("\n\n  %s.\n\n", c->summary);
  for (int i = 0; i < c->nargs; i++)
    printf ("  %-16s %s%s\n", c->args[i].name, rn_argtype_name (c->args[i].type),
            c->args[i].type == RN_ARG_FILEIN ? " (- for stdin)" :
            c->args[i].type == RN_ARG_FILEOUT ? " (- for stdout)" :
            c->args[i].type == RN_ARG_STRINGLIST ||
            c->args[i].type == RN_ARG_DEVICELIST ? " (one word, items split at blanks)" : "");
  printf ("%sreturns: %s\n", c->nargs ? "\n" : "", ret_words (c));
  if (c->alias)
    printf ("alias: %s\n", c->alias);
  if (c->flags & RN_CALL_DANGER)
    printf ("warning: destroys the data on the device it is given\n");
}

static int
cmd_help (struct rn_shell *sh, char **w, size_t n)
{
  const struct rn_call *c;

  if (n == 1) {
    help_list ();
    return 0;
  }
  for (size_t i = 0; rn_sh_builtins[i][0]; i++)
    if (strcmp (w[1], rn_sh_builtins[i][0]) == 0 ||
        (i == 1 && (strcmp (w[1], "exit") == 0 || strcmp (w[1], "q") == 0))) {
      printf ("%s: %s\n", w[1], rn_sh_builtins[i][1]);
      return 0;
    }
  if ((c = rn_sh_find_call (w[1])) == NULL) {
    char b[64];
    rn_sh_err (sh, "help: unknown command '%s'", shorten (w[1], b, sizeof b));
    return -1;
  }
  help_call (c);
  return 0;
}

/* ---- Results ---- */

static void
print_bytes (const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      putchar (c);
    else
      printf ("\\x%02x", c);
  }
}

static void
print_field (const struct rn_field *f, const char *base, const char *indent)
{
  const char *p = base + f->offset;

  printf ("%s%s: ", indent, f->name);
  switch (f->type) {
  case RN_F_STRING: fputs (*(char *const *) p, stdout); break;
  case RN_F_UUID: fwrite (p, 1, 32, stdout); break;
  case RN_F_BYTES: printf ("%llu", (unsigned long long) *(const uint64_t *) p); break;
  case RN_F_INT64: printf ("%lld", (long long) *(const int64_t *) p); break;
  case RN_F_INT32: printf ("%d", (int) *(const int32_t *) p); break;
  case RN_F_UINT32: printf ("%u", (unsigned) *(const uint32_t *) p); break;
  case RN_F_CHAR: putchar (*p); break;
  case RN_F_OPTPERCENT:
    if (*(const float *) p >= 0)
      printf ("%g%%", (double) *(const float *) p);
    break;
  case RN_F_BUFFER:
    print_bytes (*(char *const *) p, *(const uint32_t *) (base + f->len_offset));
    break;
  }
  putchar ('\n');
}

static void
print_struct (const struct rn_struct *s, const char *p, const char *indent)
{
  for (int i = 0; i < s->nfields; i++)
    print_field (&s->fields[i], p, indent);
}

/* Every guestfs_NAME_list is { uint32_t len; struct guestfs_NAME *val; }. */
struct any_list {
  uint32_t len;
  char *val;
};

static void
print_ret (const struct rn_ret *r)
{
  const struct rn_struct *s = r->struct_index >= 0 ? &rn_structs[r->struct_index] : NULL;

  switch (r->type) {
  case RN_RET_ERR: break;
  case RN_RET_INT: printf ("%d\n", r->v.i); break;
  case RN_RET_INT64: printf ("%lld\n", (long long) r->v.i64); break;
  case RN_RET_BOOL: puts (r->v.i ? "true" : "false"); break;
  case RN_RET_CONSTSTRING:
  case RN_RET_CONSTOPTSTRING: puts (r->v.cs ? r->v.cs : "(null)"); break;
  case RN_RET_STRING: puts (r->v.s); break;
  case RN_RET_STRINGLIST:
    for (size_t i = 0; r->v.sl[i]; i++)
      puts (r->v.sl[i]);
    break;
  case RN_RET_HASHTABLE:
    for (size_t i = 0; r->v.sl[i] && r->v.sl[i + 1]; i += 2)
      printf ("%s: %s\n", r->v.sl[i], r->v.sl[i + 1]);
    break;
  case RN_RET_BUFFEROUT: fwrite (r->v.s, 1, r->size, stdout); break;
  case RN_RET_STRUCT: print_struct (s, r->v.p, ""); break;
  case RN_RET_STRUCTLIST: {
    const struct any_list *l = r->v.p;
    for (uint32_t i = 0; i < l->len; i++) {
      printf ("[%u] = {\n", i);
      print_struct (s, l->val + (size_t) i * s->size, "  ");
      printf ("}\n");
    }
    break;
  }
  }
}

/* ---- FileOut "-": a pipe drained to stdout by a thread ----
 * The library writes a FileOut into a regular file by way of a temp file
 * renamed into place, and opens anything else directly; a pipe is always
 * "anything else", whatever stdout is. */

struct pump {
  int fds[2];                /* read end (the thread's), write end */
  pthread_t thread;
  char path[32];             /* /dev/fd/N of the write end */
};

static void *
pump_run (void *arg)
{
  struct pump *p = arg;
  char buf[65536];
  ssize_t n;
  int out_ok = 1;

  while ((n = read (p->fds[0], buf, sizeof buf)) != 0) {
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      break;
    for (ssize_t off = 0; out_ok && off < n;) {
      ssize_t w = write (STDOUT_FILENO, buf + off, (size_t) (n - off));
      if (w == -1 && errno == EINTR)
        continue;
      if (w <= 0)
        out_ok = 0;            /* keep draining, or the library would block */
      else
        off += w;
    }
  }
  return NULL;
}

static int
pump_start (struct rn_shell *sh, struct pump *p)
{
  if (pipe2 (p->fds, O_CLOEXEC) == -1) {
    rn_sh_err (sh, "pipe: %s", strerror (errno));
    return -1;
  }
  fflush (stdout);
  if ((errno = pthread_create (&p->thread, NULL, pump_run, p)) != 0) {
    rn_sh_err (sh, "pthread_create: %s", strerror (errno));
    close (p->fds[0]);
    close (p->fds[1]);
    return -1;
  }
  snprintf (p->path, sizeof p->path, "/dev/fd/%d", p->fds[1]);
  return 0;
}

static void
pump_end (struct pump *p)
{
  close (p->fds[1]);
  pthread_join (p->thread, NULL);
  close (p->fds[0]);
}

/* ---- Arguments ---- */

/* A Bool word: true/false, yes/no, on/off (as in job files), or 1/0. */
static int
parse_bool (const char *w)
{
  int b = rn_parse_bool (w);
  if (b == -1 && (strcmp (w, "1") == 0 || strcmp (w, "0") == 0))
    b = w[0] == '1';
  return b;
}

struct args {
  union rn_argval *v;        /* c->nargs values */
  struct rn_strv *lists;     /* StringList storage, per argument */
  struct pump pump;
  int pumping;               /* a FileOut goes to stdout */
};

static void
split_list (const char *w, struct rn_strv *l)
{
  const char *p = w;

  rn_strv_add (l, NULL);               /* an empty list is still a list */
  l->n = 0;
  while (*p) {
    size_t n;
    p += strspn (p, " \t\r\n");
    n = strcspn (p, " \t\r\n");
    if (n)
      rn_strv_add (l, rn_strndup (p, n));
    p += n;
  }
}

static int
int_arg (struct rn_shell *sh, const struct rn_call *c, const struct rn_arg *a,
         const char *w, union rn_argval *v)
{
  char b[64];
  int64_t x;

  if (rn_parse_int (w, &x) == -1) {
    rn_sh_err (sh, "%s: %s: expected %s (decimal, 0x hex or 0 octal), got '%s'",
            c->name, a->name, a->type == RN_ARG_INT ? "an integer" : "a 64-bit integer",
            shorten (w, b, sizeof b));
    return -1;
  }
  if (a->type == RN_ARG_INT64) {
    v->i64 = x;
    return 0;
  }
  if (x < INT32_MIN || x > INT32_MAX) {
    rn_sh_err (sh, "%s: %s: %s is out of range (%d to %d)", c->name, a->name,
            shorten (w, b, sizeof b), INT32_MIN, INT32_MAX);
    return -1;
  }
  v->i = (int) x;
  return 0;
}

static int
one_arg (struct rn_shell *sh, const struct rn_call *c, int i, const char *w, struct args *a)
{
  const struct rn_arg *arg = &c->args[i];
  char b[64];

  switch (arg->type) {
  case RN_ARG_BOOL:
    if ((a->v[i].i = parse_bool (w)) == -1) {
      rn_sh_err (sh, "%s: %s: expected true or false (yes/no, on/off, 1/0), got '%s'",
              c->name, arg->name, shorten (w, b, sizeof b));
      return -1;
    }
    return 0;
  case RN_ARG_INT:
  case RN_ARG_INT64:
    return int_arg (sh, c, arg, w, &a->v[i]);
  case RN_ARG_STRINGLIST:
  case RN_ARG_DEVICELIST:
    split_list (w, &a->lists[i]);
    a->v[i].sl = a->lists[i].v;
    return 0;
  case RN_ARG_OPTSTRING:
    a->v[i].s = *w ? w : NULL;
    return 0;
  case RN_ARG_BUFFERIN:        /* the word's bytes, without its NUL */
    a->v[i].b.buf = w;
    a->v[i].b.len = strlen (w);
    return 0;
  case RN_ARG_FILEIN:
    a->v[i].s = strcmp (w, "-") == 0 ? "/dev/stdin" : w;
    return 0;
  case RN_ARG_FILEOUT:
    if (strcmp (w, "-") != 0) {
      a->v[i].s = w;
      return 0;
    }
    if (pump_start (sh, &a->pump) == -1)
      return -1;
    a->pumping = 1;
    a->v[i].s = a->pump.path;
    return 0;
  default:
    a->v[i].s = w;
    return 0;
  }
}

static void
args_free (const struct rn_call *c, struct args *a)
{
  for (int i = 0; i < c->nargs; i++)
    rn_strv_free (&a->lists[i]);
  free (a->lists);
  free (a->v);
  if (a->pumping)
    pump_end (&a->pump);
}

/* ---- Running calls ---- */

static int
launch (struct rn_shell *sh)
{
  return guestfs_launch (sh->g);
}

int
rn_sh_need_appliance (struct rn_shell *sh)
{
  if (sh->ndrives == 0 || guestfs_is_config (sh->g) != 1)
    return 0;
  return launch (sh);
}

/* With drives given, launch before the first call that needs the
 * appliance. */
static int
auto_launch (struct rn_shell *sh, const struct rn_call *c)
{
  if (sh->ndrives == 0 || (c->states & RN_ST_CONFIG) || !(c->states & RN_ST_READY) ||
      guestfs_is_config (sh->g) != 1)
    return 0;
  return launch (sh);
}

static int
wrong_count (struct rn_shell *sh, const struct rn_call *c, size_t given)
{
  struct rn_buf u = { NULL, 0, 0 };
  char *d = respell (c->name, '_', '-');

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
               (o.readonly = parse_bool (w[i] + 9)) != -1)
      o.bitmask |= GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
    else {
      rn_sh_err (sh, "add-drive-opts: '%s': expected format:FORMAT or readonly:true|false",
              shorten (w[i], b, sizeof b));
      return -1;
    }
  }
  if (guestfs_add_drive_opts_argv (sh->g, w[1], &o) == -1)
    return -1;
  sh->ndrives++;
  return 0;
}

static int
run_call (struct rn_shell *sh, const struct rn_call *c, char **w, size_t n)
{
  struct args a = { rn_calloc ((size_t) c->nargs, sizeof *a.v),
                    rn_calloc ((size_t) c->nargs, sizeof *a.lists), { { -1, -1 }, 0, "" }, 0 };
  struct rn_ret ret;
  int r = -1;

  for (int i = 0; i < c->nargs; i++)
    if (one_arg (sh, c, i, w[i + 1], &a) == -1)
      goto out;
  if (auto_launch (sh, c) == -1)
    goto out;
  fflush (stdout);
  r = rn_call_invoke (c, sh->g, a.v, &ret);
  rn_sh_progress_done ();
  if (r == -1)
    goto out;
  if (a.pumping) {                      /* its bytes before the result's */
    pump_end (&a.pump);
    a.pumping = 0;
  }
  print_ret (&ret);
  rn_ret_free (&ret);
  if (strncmp (c->name, "add_", 4) == 0)
    sh->ndrives++;
  r = 0;
 out:
  args_free (c, &a);
  return r;
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
    return cmd_help (sh, w, n);
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
    const char *s = suggest (w[0]);
    char *d = s ? respell (s, '_', '-') : NULL;
    rn_sh_err (sh, "unknown command '%s'%s%s%s", shorten (w[0], b, sizeof b),
            d ? " (did you mean '" : "", d ? d : "", d ? "'?)" : "; try 'help'");
    free (d);
    return -1;
  }
  if (strcmp (c->name, "add_drive_opts") == 0)
    return cmd_add_drive_opts (sh, w, n);
  if ((size_t) c->nargs != n - 1)
    return wrong_count (sh, c, n - 1);
  return run_call (sh, c, w, n);
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
  char **roots = guestfs_inspect_os (sh->g);
  size_t n = 0;
  int r = -1;

  if (roots == NULL)
    return -1;
  while (roots[n])
    n++;
  if (n == 0)
    rn_sh_err (sh, "-i: no operating system was found on the disks");
  else if (n > 1)
    rn_sh_err (sh, "-i: %zu operating systems were found (%s, %s%s); use -m to choose",
            n, roots[0], roots[1], n > 2 ? ", ..." : "");
  else
    r = guestfs_inspect_mount_root (sh->g, roots[0], sh->ro);
  for (size_t i = 0; i < n; i++)
    free (roots[i]);
  free (roots);
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
  if (launch (sh) == -1 ||
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
