/* runner/template.c: {{name}} templates in job strings.
 *
 * "{{" starts a reference that runs to the next "}}"; spaces inside are
 * ignored; the name is a letter or '_' then letters, digits or '_'.  There
 * is no escape: a literal "{{" cannot be written (job files have had no
 * need for one).  Validation checks every reference before anything runs;
 * expansion happens per task.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define RN_TMPL_MAX (1u << 20)     /* an expanded string's size cap */

int
rn_var_name_ok (const char *name)
{
  if (!(isalpha ((unsigned char) name[0]) || name[0] == '_'))
    return 0;
  for (const char *p = name + 1; *p; p++)
    if (!(isalnum ((unsigned char) *p) || *p == '_'))
      return 0;
  return strlen (name) <= 64;
}

/* A reference: a variable name, then optionally ".part" selectors made
 * of letters, digits, '_' and '-' (an element of a saved list, "roots.0",
 * or of a saved hashtable, "mounts./dev/sda1" is not allowed: '/'). */
static int
ref_name_ok (const char *name)
{
  const char *dot = strchr (name, '.');
  char *base;
  int ok;

  if (dot == NULL)
    return rn_var_name_ok (name);
  base = rn_strndup (name, (size_t) (dot - name));
  ok = rn_var_name_ok (base);
  free (base);
  for (const char *p = dot; ok && *p; p++)
    if (*p == '.')
      ok = isalnum ((unsigned char) p[1]) || p[1] == '_' || p[1] == '-';
    else
      ok = isalnum ((unsigned char) *p) || *p == '_' || *p == '-';
  return ok && strlen (name) <= 200;
}

int
rn_tmpl_has (const char *s)
{
  return strstr (s, "{{") != NULL;
}

/* The reference starting at s ("{{..."): its name (caller frees) and
 * where it ends; NULL with *why set if malformed. */
static char *
ref_at (const char *s, const char **end, const char **why)
{
  const char *p = s + 2, *q, *close = strstr (p, "}}");
  char *name;

  if (close == NULL) {
    *why = "'{{' without a closing '}}'";
    return NULL;
  }
  while (p < close && *p == ' ')
    p++;
  q = close;
  while (q > p && q[-1] == ' ')
    q--;
  name = rn_strndup (p, (size_t) (q - p));
  *end = close + 2;
  if (!ref_name_ok (name)) {
    free (name);
    *why = "a template name is a letter or '_' then letters, digits or '_' "
           "(and .N or .KEY for an element of a saved value)";
    return NULL;
  }
  return name;
}

void
rn_tmpl_check (const char *s, const char *file, int line, int col,
               rn_lookup_fn lookup, void *ctx, struct rn_errs *e)
{
  const char *p = s, *end, *why;

  while ((p = strstr (p, "{{")) != NULL) {
    char *name = ref_at (p, &end, &why);
    if (name == NULL) {
      rn_err (e, file, line, col, "bad template in '%.60s': %s", s, why);
      return;
    }
    if (lookup (ctx, name) == NULL)
      rn_err (e, file, line, col, "template variable '%s' is not defined", name);
    free (name);
    p = end;
  }
}

char *
rn_tmpl_expand (const char *s, rn_lookup_fn lookup, void *ctx, char **err)
{
  struct rn_buf b = { 0 };
  const char *p = s, *q, *end, *why;

  while ((q = strstr (p, "{{")) != NULL) {
    char *name = ref_at (q, &end, &why);
    const char *v;
    rn_buf_add (&b, p, (size_t) (q - p));
    if (name == NULL) {
      *err = rn_asprintf ("bad template in '%.60s': %s", s, why);
      rn_buf_free (&b);
      return NULL;
    }
    if ((v = lookup (ctx, name)) == NULL) {
      *err = rn_asprintf ("template variable '%s' is not defined", name);
      free (name);
      rn_buf_free (&b);
      return NULL;
    }
    free (name);
    rn_buf_adds (&b, v);
    if (b.len > RN_TMPL_MAX) {
      *err = rn_asprintf ("'%.60s' expands to more than %u bytes", s, RN_TMPL_MAX);
      rn_buf_free (&b);
      return NULL;
    }
    p = end;
  }
  rn_buf_adds (&b, p);
  return rn_buf_take (&b);
}
