/* runner/shell-edit.c: the shell's prompt for a person at a keyboard:
 * line editing, history and Tab completion.
 *
 * It uses libedit through its readline interface (BSD licensed, so it
 * puts no condition on how guestkit is licensed; GNU readline is GPL).
 * It is used only when stdin is a terminal; scripts and pipes read
 * plain lines (shell-parse.c).
 *
 * History lives in ~/.guestkit_history (GUESTKIT_HISTORY=0: none; at
 * most RN_SH_HISTORY_MAX entries, GUESTKIT_HISTSIZE changes that).
 *
 * Completion, by the word under the cursor:
 *   first word          command names (the call table, aliases, builtins)
 *   Pathname, Dev_or_Path   guest paths, one `ls' of the directory per
 *                       prompt (cached until the next line is read)
 *   Device, DeviceList  devices, partitions and logical volumes
 *   FileIn, FileOut     host files
 * Guest names are asked only from a launched appliance: Tab never
 * launches one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <editline/readline.h>

#include "runner.h"

#define RN_SH_HISTORY_MAX 1000

/* One directory's entries, for the prompt being edited. */
struct dir_cache {
  char *dir;                 /* guest path, no trailing slash (but "/") */
  struct rn_strv names;      /* each with "/" appended for directories */
};

static struct {
  guestfs_h *g;
  char *history;             /* file, or NULL: no history */
  struct dir_cache *dirs;
  size_t ndirs;
  struct rn_strv devices;    /* filled on first use at a prompt */
  int have_devices;
  struct rn_strv matches;    /* candidates for the word being completed */
  size_t next;               /* generator position in matches */
} ed;

static void
cache_clear (void)
{
  for (size_t i = 0; i < ed.ndirs; i++) {
    free (ed.dirs[i].dir);
    rn_strv_free (&ed.dirs[i].names);
  }
  free (ed.dirs);
  ed.dirs = NULL;
  ed.ndirs = 0;
  rn_strv_free (&ed.devices);
  ed.have_devices = 0;
}

/* Guest look-ups for completion are quiet: a failure completes nothing. */
static guestfs_error_handler_cb saved_cb;
static void *saved_opaque;

static void
quiet_on (void)
{
  saved_cb = guestfs_get_error_handler (ed.g, &saved_opaque);
  guestfs_set_error_handler (ed.g, NULL, NULL);
}

static void
quiet_off (void)
{
  guestfs_set_error_handler (ed.g, saved_cb, saved_opaque);
}

static int
launched (void)
{
  return ed.g && guestfs_is_ready (ed.g) == 1;
}

static void
free_strings (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

/* The names in guest directory dir, directories marked with "/": one
 * ls and one lstatlist per directory and prompt. */
static const struct rn_strv *
dir_names (const char *dir)
{
  struct dir_cache *c;
  char **names;
  struct guestfs_stat_list *st = NULL;

  for (size_t i = 0; i < ed.ndirs; i++)
    if (strcmp (ed.dirs[i].dir, dir) == 0)
      return &ed.dirs[i].names;
  ed.dirs = rn_realloc (ed.dirs, (ed.ndirs + 1) * sizeof *ed.dirs);
  c = &ed.dirs[ed.ndirs++];
  c->dir = rn_strdup (dir);
  c->names = (struct rn_strv) { NULL, 0 };
  quiet_on ();
  names = guestfs_ls (ed.g, dir);
  if (names && names[0])
    st = guestfs_lstatlist (ed.g, dir, names);
  quiet_off ();
  for (size_t i = 0; names && names[i]; i++) {
    int isdir = st && i < st->len && S_ISDIR (st->val[i].mode);
    rn_strv_add (&c->names, rn_asprintf ("%s%s", names[i], isdir ? "/" : ""));
  }
  if (st)
    guestfs_free_stat_list (st);
  free_strings (names);
  return &c->names;
}

static void
add_all (struct rn_strv *to, char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    rn_strv_add (to, rn_strdup (l[i]));
}

static const struct rn_strv *
device_names (void)
{
  if (!ed.have_devices) {
    char **d, **p, **lv;
    quiet_on ();
    d = guestfs_list_devices (ed.g);
    p = guestfs_list_partitions (ed.g);
    lv = guestfs_lvs (ed.g);
    quiet_off ();
    add_all (&ed.devices, d);
    add_all (&ed.devices, p);
    add_all (&ed.devices, lv);
    free_strings (d);
    free_strings (p);
    free_strings (lv);
    ed.have_devices = 1;
  }
  return &ed.devices;
}

static void
match (const char *cand, const char *text)
{
  if (strncmp (cand, text, strlen (text)) == 0)
    rn_strv_add (&ed.matches, rn_strdup (cand));
}

static void
match_commands (const char *text)
{
  for (size_t i = 0; rn_sh_builtins[i][0]; i++)
    match (rn_sh_builtins[i][0], text);
  for (size_t i = 0; i < rn_ncalls; i++) {
    const struct rn_call *c = &rn_calls[i];
    char *d;
    if (c->flags & RN_CALL_NOTINFISH)
      continue;
    d = rn_strdup (c->name);
    for (char *p = d; *p; p++)
      if (*p == '_')
        *p = '-';
    match (d, text);
    free (d);
    if (c->alias)
      match (c->alias, text);
  }
}

static void
match_guest_path (const char *text)
{
  const char *slash = strrchr (text, '/');
  char *dir;
  const struct rn_strv *names;

  if (text[0] != '/' || slash == NULL)
    return;
  dir = slash == text ? rn_strdup ("/") : rn_strndup (text, (size_t) (slash - text));
  names = dir_names (dir);
  for (size_t i = 0; i < names->n; i++) {
    char *full = rn_asprintf ("%.*s%s", (int) (slash - text + 1), text, names->v[i]);
    match (full, text);
    free (full);
  }
  free (dir);
}

/* The generator libedit calls: one match per call, then NULL. */
static char *
next_match (const char *text, int state)
{
  (void) text;
  if (state == 0)
    ed.next = 0;
  return ed.next < ed.matches.n ? strdup (ed.matches.v[ed.next++]) : NULL;
}

/* The argument type for word number `word' (1: the first argument) of
 * the line's command words, or -1 for the command name itself. */
static int
word_type (char **w, size_t nw, size_t word)
{
  const char *name;
  const struct rn_call *c;

  if (word == 0)
    return -1;
  name = w[0][0] == '-' ? w[0] + 1 : w[0];
  if (strcmp (name, "glob") == 0 && nw > 1)
    return word_type (w + 1, nw - 1, word - 1);
  if ((c = rn_sh_find_call (name)) == NULL)
    return -2;
  if (strcmp (name, "edit") == 0 || strcmp (name, "more") == 0)
    return RN_ARG_PATHNAME;
  if (word > (size_t) c->nargs)
    return -2;
  return (int) c->args[word - 1].type;
}

static char **
complete (const char *text, int start, int end)
{
  struct rn_strv w = { NULL, 0 };
  char *err = NULL;
  int type;

  (void) end;
  rl_attempted_completion_over = 1;    /* never fall back to host files */
  rn_strv_free (&ed.matches);
  if (rn_sh_split (rl_line_buffer, (size_t) start, &w, &err) == -1) {
    free (err);
    return NULL;
  }
  type = word_type (w.v, w.n, w.n);
  if (type == -1)
    match_commands (text);
  else if ((type == RN_ARG_PATHNAME || type == RN_ARG_DEV_OR_PATH) && launched ())
    match_guest_path (text);
  if ((type == RN_ARG_DEVICE || type == RN_ARG_DEVICELIST || type == RN_ARG_DEV_OR_PATH)
      && launched ()) {
    const struct rn_strv *d = device_names ();
    for (size_t i = 0; i < d->n; i++)
      match (d->v[i], text);
  }
  rn_strv_free (&w);
  if (type == RN_ARG_FILEIN || type == RN_ARG_FILEOUT) {
    rl_attempted_completion_over = 0;  /* host files: libedit's own */
    return NULL;
  }
  /* A directory is completed without a space, so the next Tab goes on. */
  rl_completion_append_character =
    ed.matches.n == 1 && ed.matches.v[0][strlen (ed.matches.v[0]) - 1] == '/' ? '\0' : ' ';
  return ed.matches.n ? rl_completion_matches (text, next_match) : NULL;
}

static int
history_size (void)
{
  const char *s = getenv ("GUESTKIT_HISTSIZE");
  int64_t v;

  if (s && rn_parse_int (s, &v) == 0 && v >= 0 && v <= 1000000)
    return (int) v;
  return RN_SH_HISTORY_MAX;
}

void
rn_sh_edit_start (guestfs_h *g)
{
  const char *home = getenv ("HOME"), *off = getenv ("GUESTKIT_HISTORY");

  ed.g = g;
  rl_readline_name = "guestkit";
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"'";
  using_history ();
  stifle_history (history_size ());
  if (home && *home && !(off && strcmp (off, "0") == 0)) {
    ed.history = rn_path_join (home, ".guestkit_history");
    read_history (ed.history);          /* none yet is fine */
  }
}

/* A line into b: 1, or 0 at end of input (Ctrl-D). */
int
rn_sh_edit_read (const char *prompt, struct rn_buf *b)
{
  char *line;

  cache_clear ();                      /* the guest may have changed */
  if ((line = readline (prompt)) == NULL)
    return 0;
  b->len = 0;
  rn_buf_adds (b, line);
  if (b->s == NULL)
    rn_buf_adds (b, "");
  if (line[strspn (line, " \t")] != '\0') {
    HIST_ENTRY *last = history_length > 0 ? history_get (history_base + history_length - 1) : NULL;
    if (last == NULL || strcmp (last->line, line) != 0)
      add_history (line);
  }
  free (line);
  return 1;
}

void
rn_sh_edit_end (void)
{
  if (ed.history) {
    /* 0600: commands may name secrets (a password for a key, say). */
    mode_t old = umask (077);
    if (write_history (ed.history) != 0 && errno != 0)
      fprintf (stderr, "%s: shell: cannot save history in %s: %s\n", rn_progname,
               ed.history, strerror (errno));
    else
      history_truncate_file (ed.history, history_size ());
    umask (old);
    free (ed.history);
    ed.history = NULL;
  }
  cache_clear ();
  rn_strv_free (&ed.matches);
  ed.g = NULL;
}
