/* runner/shell-parse.c: how `guestkit shell' reads a line and cuts it
 * into words, the way guestfish scripts are written.
 *
 *   word          anything up to a blank (space, tab, CR)
 *   "text"        blanks kept; \" \\ \n \t \r \a \b \f \v \e, \xHH
 *                 (one or two hex digits) and \NNN (octal) are escapes
 *   'text'        everything kept as written, no escapes
 *   a"b c"'d'     quoted and plain parts next to each other make one word
 *   # ...         a line whose first non-blank is # is a comment
 *
 * A line is read whole up to RN_SH_LINE_MAX bytes; a longer one is
 * skipped to its end and reported.  A NUL byte, in the line or made by
 * an escape, is an error: no guest call takes one in a string.
 */
#include <stdio.h>
#include <string.h>

#include "runner.h"

int
rn_sh_read_line (FILE *f, struct rn_buf *b)
{
  int c, too_long = 0, any = 0;

  b->len = 0;
  rn_buf_add (b, "", 0);
  while ((c = getc (f)) != EOF) {
    any = 1;
    if (c == '\n')
      break;
    if (b->len >= RN_SH_LINE_MAX)
      too_long = 1;
    else
      rn_buf_addc (b, (char) c);
  }
  if (!any)
    return 0;
  return too_long ? -1 : 1;
}

static int
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The escape after a backslash at s[*i] (inside double quotes): its byte
 * in *out and *i moved past it; -1 with *err if unknown. */
static int
escape (const char *s, size_t len, size_t *i, char *out, char **err)
{
  static const char from[] = "\"\\ntrabfve", to[] = "\"\\\n\t\r\a\b\f\v\033";
  const char *p;
  char c = s[*i];
  unsigned v = 0;
  int n = 0;

  if (c != '\0' && (p = strchr (from, c)) != NULL) {
    *out = to[p - from];
    (*i)++;
    return 0;
  }
  if (c == 'x') {
    while (n < 2 && *i + 1 + n < len && hexval (s[*i + 1 + n]) >= 0)
      v = v * 16 + (unsigned) hexval (s[*i + 1 + n]), n++;
    if (n == 0) {
      *err = rn_strdup ("\\x needs one or two hex digits");
      return -1;
    }
    *i += 1 + (size_t) n;
  } else if (c >= '0' && c <= '7') {
    while (n < 3 && *i + n < len && s[*i + n] >= '0' && s[*i + n] <= '7')
      v = v * 8 + (unsigned) (s[*i + n] - '0'), n++;
    if (v > 0xff) {
      *err = rn_asprintf ("\\%.3s is not a byte", s + *i);
      return -1;
    }
    *i += (size_t) n;
  } else {
    *err = rn_asprintf ("unknown escape \\%c in double quotes", c);
    return -1;
  }
  if (v == 0) {
    *err = rn_strdup ("an escape makes a NUL byte, which no argument may hold");
    return -1;
  }
  *out = (char) v;
  return 0;
}

/* One word starting at line[*i] (not a blank) into w. */
static int
one_word (const char *line, size_t len, size_t *i, struct rn_buf *w, char **err)
{
  while (*i < len && !is_blank (line[*i])) {
    char q = line[*i];
    if (q != '"' && q != '\'') {
      rn_buf_addc (w, q);
      (*i)++;
      continue;
    }
    for ((*i)++; *i < len && line[*i] != q;) {
      char c = line[(*i)++];
      if (q == '"' && c == '\\') {
        if (*i >= len)
          break;
        if (escape (line, len, i, &c, err) == -1)
          return -1;
      }
      rn_buf_addc (w, c);
    }
    if (*i >= len) {
      *err = rn_asprintf ("unterminated %s quote", q == '"' ? "double" : "single");
      return -1;
    }
    (*i)++;                               /* the closing quote */
  }
  return 0;
}

int
rn_sh_split (const char *line, size_t len, struct rn_strv *words, char **err)
{
  size_t i = 0;

  *err = NULL;
  if (memchr (line, '\0', len) != NULL) {
    *err = rn_strdup ("the line holds a NUL byte");
    return -1;
  }
  while (i < len && is_blank (line[i]))
    i++;
  if (i < len && line[i] == '#')
    return 0;
  while (i < len) {
    struct rn_buf w = { NULL, 0, 0 };
    rn_buf_add (&w, "", 0);
    if (one_word (line, len, &i, &w, err) == -1) {
      rn_buf_free (&w);
      rn_strv_free (words);
      return -1;
    }
    rn_strv_add (words, rn_buf_take (&w));
    while (i < len && is_blank (line[i]))
      i++;
  }
  return 0;
}
