/* runner/errors.c: validation errors.  Validation goes on after the first
 * mistake and collects every one; they are printed together, in file
 * order, as "file:line:column: what was expected".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

void
rn_err (struct rn_errs *e, const char *file, int line, int col,
        const char *fmt, ...)
{
  va_list ap;
  struct rn_errent *x;

  e->v = rn_realloc (e->v, (e->n + 1) * sizeof *e->v);
  x = &e->v[e->n];
  x->file = file ? rn_strdup (file) : NULL;
  x->line = line;
  x->col = col;
  x->order = e->n++;
  va_start (ap, fmt);
  if (vasprintf (&x->msg, fmt, ap) == -1)
    abort ();
  va_end (ap);
}

static int
cmp_err (const void *pa, const void *pb)
{
  const struct rn_errent *a = pa, *b = pb;
  int c;

  if (a->file == NULL || b->file == NULL)
    c = (a->file != NULL) - (b->file != NULL);
  else
    c = strcmp (a->file, b->file);
  if (c == 0)
    c = (a->line > b->line) - (a->line < b->line);
  if (c == 0)
    c = (a->col > b->col) - (a->col < b->col);
  if (c == 0)
    c = (a->order > b->order) - (a->order < b->order);
  return c;
}

static int
same (const struct rn_errent *a, const struct rn_errent *b)
{
  return a->line == b->line && a->col == b->col && strcmp (a->msg, b->msg) == 0 &&
         ((a->file == NULL && b->file == NULL) ||
          (a->file && b->file && strcmp (a->file, b->file) == 0));
}

void
rn_errs_print (struct rn_errs *e)
{
  qsort (e->v, e->n, sizeof *e->v, cmp_err);
  for (size_t i = 0; i < e->n; i++) {
    const struct rn_errent *x = &e->v[i];
    if (i > 0 && same (x, &e->v[i - 1]))
      continue;
    if (x->file && x->line > 0)
      fprintf (stderr, "%s:%d:%d: %s\n", x->file, x->line, x->col, x->msg);
    else if (x->file)
      fprintf (stderr, "%s: %s\n", x->file, x->msg);
    else
      fprintf (stderr, "%s: %s\n", rn_progname, x->msg);
  }
}

void
rn_errs_free (struct rn_errs *e)
{
  for (size_t i = 0; i < e->n; i++) {
    free (e->v[i].file);
    free (e->v[i].msg);
  }
  free (e->v);
  e->v = NULL;
  e->n = 0;
}
