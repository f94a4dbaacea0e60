/* runner/vercmp.c: package versions compared by their package format's
 * own rules, written once for the whole runner (report --packages, the
 * `package below a version' checks).
 *
 *   deb   dpkg's algorithm: epoch numerically, then the upstream version
 *         and the revision each as alternating non-digit / digit runs;
 *         in a non-digit run `~' sorts before everything (even the end of
 *         the string), letters before other characters; digit runs
 *         compare as numbers.  An absent revision equals "0".
 *   rpm   rpmvercmp: epoch numerically, then version and release split
 *         into alphanumeric segments (anything else only separates);
 *         numeric segments beat alphabetic ones, compare as numbers;
 *         `~' sorts before everything, `^' after the end of the string
 *         but before any other segment.  A query without a release
 *         matches every release (as rpm's dependencies do).
 *
 * pacman's vercmp is rpmvercmp's: arch-style formats use the rpm rules;
 * every other format (and an unknown one) uses dpkg's.
 * Nothing here allocates: strings are compared and split in place.
 */
#include <string.h>

#include "runner.h"

/* ASCII only: guest bytes must not depend on the host's locale. */
static int
is_digit (int c)
{
  return c >= '0' && c <= '9';
}

static int
is_alpha (int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- dpkg ---- */

/* The weight of a character in a non-digit run; the end of the string
 * (and a digit, which ends the run) weighs 0. */
static int
deb_weight (int c)
{
  if (c == '\0' || is_digit (c))
    return 0;
  if (c == '~')
    return -1;
  if (is_alpha (c))
    return c;
  return c + 256;
}

/* Compare two digit runs as numbers (leading zeros ignored); advance. */
static int
deb_digits (const char **pa, const char **pb)
{
  const char *a = *pa, *b = *pb;
  int first = 0;

  while (*a == '0')
    a++;
  while (*b == '0')
    b++;
  for (; is_digit (*a) && is_digit (*b); a++, b++)
    if (first == 0)
      first = *a - *b;
  if (is_digit (*a))
    return 1;
  if (is_digit (*b))
    return -1;
  *pa = a;
  *pb = b;
  return first;
}

int
rn_vercmp_deb (const char *a, const char *b)
{
  a = a ? a : "";
  b = b ? b : "";
  while (*a || *b) {
    int d;
    while ((*a && !is_digit (*a)) || (*b && !is_digit (*b))) {
      int wa = deb_weight ((unsigned char) *a), wb = deb_weight ((unsigned char) *b);
      if (wa != wb)
        return wa < wb ? -1 : 1;
      a++;
      b++;
    }
    if ((d = deb_digits (&a, &b)) != 0)
      return d < 0 ? -1 : 1;
  }
  return 0;
}

/* ---- rpmvercmp ---- */

static int
rpm_sep (int c)
{
  return c && !is_digit (c) && !is_alpha (c) && c != '~' && c != '^';
}

/* Compare the segments at *pa and *pb (both non-empty, same kind by a's
 * first character); advance past them. */
static int
rpm_segment (const char **pa, const char **pb)
{
  const char *a = *pa, *b = *pb, *ea = a, *eb = b;
  int num = is_digit (*a);
  size_t la, lb;
  int r;

  while (*ea && (num ? is_digit (*ea) : is_alpha (*ea)))
    ea++;
  while (*eb && (num ? is_digit (*eb) : is_alpha (*eb)))
    eb++;
  if (eb == b)                 /* b's segment is of the other kind */
    return num ? 1 : -1;
  *pa = ea;
  *pb = eb;
  if (num) {
    while (*a == '0' && a + 1 < ea)
      a++;
    while (*b == '0' && b + 1 < eb)
      b++;
    if (ea - a != eb - b)
      return ea - a < eb - b ? -1 : 1;
  }
  la = (size_t) (ea - a);
  lb = (size_t) (eb - b);
  r = memcmp (a, b, la < lb ? la : lb);
  if (r == 0 && la != lb)
    return la < lb ? -1 : 1;
  return r < 0 ? -1 : r > 0;
}

/* ~ and ^ at the current positions: -1/1 decided, 0 both consumed
 * (go on), 2 neither present. */
static int
rpm_marks (const char **a, const char **b)
{
  if (**a == '~' || **b == '~') {
    if (**a != '~')
      return 1;
    if (**b != '~')
      return -1;
  } else if (**a == '^' || **b == '^') {
    if (**a == '\0')
      return -1;
    if (**b == '\0')
      return 1;
    if (**a != '^')
      return 1;
    if (**b != '^')
      return -1;
  } else
    return 2;
  (*a)++;
  (*b)++;
  return 0;
}

int
rn_vercmp_rpm (const char *a, const char *b)
{
  a = a ? a : "";
  b = b ? b : "";
  if (strcmp (a, b) == 0)
    return 0;
  for (;;) {
    int r;
    while (rpm_sep (*a))
      a++;
    while (rpm_sep (*b))
      b++;
    if ((r = rpm_marks (&a, &b)) == 0)
      continue;
    if (r != 2)
      return r;
    if (*a == '\0' || *b == '\0')
      break;
    if ((r = rpm_segment (&a, &b)) != 0)
      return r;
  }
  if (*a == '\0' && *b == '\0')
    return 0;
  return *a == '\0' ? -1 : 1;
}

/* ---- epoch:version-release ---- */

enum rn_pkgfmt
rn_pkgfmt_of (const char *package_format)
{
  if (package_format && (strcmp (package_format, "rpm") == 0 ||
                         strcmp (package_format, "pacman") == 0))
    return RN_PKG_RPM;
  return RN_PKG_DEB;
}

int
rn_evr_cmp (enum rn_pkgfmt f, const struct rn_evr *a, const struct rn_evr *b)
{
  int (*cmp) (const char *, const char *) = f == RN_PKG_RPM ? rn_vercmp_rpm : rn_vercmp_deb;
  int r;

  if (a->epoch != b->epoch)
    return a->epoch < b->epoch ? -1 : 1;
  if ((r = cmp (a->version, b->version)) != 0)
    return r;
  if (f == RN_PKG_RPM && (a->release == NULL || b->release == NULL ||
                          *a->release == '\0' || *b->release == '\0'))
    return 0;
  return cmp (a->release, b->release);
}

int
rn_evr_parse (char *s, struct rn_evr *e)
{
  char *colon = strchr (s, ':'), *dash;

  e->epoch = 0;
  if (colon) {
    if (colon == s || colon - s > 9)
      return -1;
    for (char *p = s; p < colon; p++) {
      if (!is_digit (*p))
        return -1;
      e->epoch = e->epoch * 10 + (*p - '0');
    }
    s = colon + 1;
  }
  dash = strrchr (s, '-');
  e->release = NULL;
  if (dash) {
    *dash = '\0';
    e->release = dash + 1;
    if (*e->release == '\0')
      return -1;
  }
  e->version = s;
  if (*s == '\0' || strchr (s, ':'))
    return -1;
  return 0;
}

/* Longest operators first, so that "<=" is not read as "<". */
static const struct { const char *text; enum rn_verop op; } ops[] = {
  { "<=", RN_OP_LE }, { ">=", RN_OP_GE }, { "<", RN_OP_LT }, { ">", RN_OP_GT },
  { "=", RN_OP_EQ },
};

int
rn_pkgquery_parse (char *s, struct rn_pkgquery *q)
{
  size_t n = strcspn (s, "<=>");

  memset (q, 0, sizeof *q);
  q->name = s;
  q->op = RN_OP_ANY;
  if (n == 0)
    return -1;
  if (s[n] == '\0')
    return 0;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    size_t l = strlen (ops[i].text);
    if (strncmp (s + n, ops[i].text, l) == 0) {
      q->op = ops[i].op;
      s[n] = '\0';
      q->text = s + n + l;
      break;
    }
  }
  if (q->text == NULL || strpbrk (q->text, "<=>") ||
      strlen (q->text) >= sizeof q->evrbuf)
    return -1;
  strcpy (q->evrbuf, q->text);
  return rn_evr_parse (q->evrbuf, &q->evr);
}

int
rn_verop_holds (enum rn_verop op, int cmp)
{
  switch (op) {
  case RN_OP_ANY: return 1;
  case RN_OP_LT: return cmp < 0;
  case RN_OP_LE: return cmp <= 0;
  case RN_OP_EQ: return cmp == 0;
  case RN_OP_GE: return cmp >= 0;
  case RN_OP_GT: return cmp > 0;
  }
  return 0;
}
