/* runner/shell-help.c: the names of the commands of `guestkit shell'
 * (shell.c): the calls of the generated table not flagged NotInFish,
 * found by name with '-' and '_' alike or by their FishAlias; the
 * shell's own commands; the nearest name for a misspelt one; and `help',
 * the list of every command or one command's usage, arguments and
 * result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- Names ---- */

/* name with every `from' replaced by `to'; caller frees. */
char *
rn_sh_respell (const char *name, char from, char to)
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
  char *u = rn_sh_respell (name, '-', '_'), *d = rn_sh_respell (name, '_', '-');
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

const char *
rn_sh_suggest (const char *name)
{
  char *u = rn_sh_respell (name, '-', '_');
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
  char *d = rn_sh_respell (name, '_', '-');
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

int
rn_sh_cmd_help (struct rn_shell *sh, char **w, size_t n)
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
    rn_sh_err (sh, "help: unknown command '%s'", rn_sh_shorten (w[1], b, sizeof b));
    return -1;
  }
  help_call (c);
  return 0;
}
