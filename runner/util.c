/* runner/util.c: the small helpers every runner file uses: allocation
 * that cannot fail, a growable string, a string list, paths, time, and
 * the parsers for YAML-style integers, booleans, sizes and durations.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

static void
oom (void)
{
  fputs ("guestkit: out of memory\n", stderr);
  abort ();
}

void *
rn_malloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
rn_calloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
rn_realloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (p == NULL)
    oom ();
  return p;
}

char *
rn_strdup (const char *s)
{
  char *p = strdup (s);
  if (p == NULL)
    oom ();
  return p;
}

char *
rn_strndup (const char *s, size_t n)
{
  char *p = rn_malloc (n + 1);
  memcpy (p, s, n);
  p[n] = '\0';
  return p;
}

char *
rn_asprintf (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) == -1)
    oom ();
  va_end (ap);
  return s;
}

/* ---- rn_buf ---- */

void
rn_buf_add (struct rn_buf *b, const char *p, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->s = rn_realloc (b->s, cap);
    b->cap = cap;
  }
  memcpy (b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
rn_buf_adds (struct rn_buf *b, const char *s)
{
  rn_buf_add (b, s, strlen (s));
}

void
rn_buf_addc (struct rn_buf *b, char c)
{
  rn_buf_add (b, &c, 1);
}

void
rn_buf_addf (struct rn_buf *b, const char *fmt, ...)
{
  va_list ap;
  char *s;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n == -1)
    oom ();
  rn_buf_add (b, s, (size_t) n);
  free (s);
}

char *
rn_buf_take (struct rn_buf *b)
{
  char *s = b->s ? b->s : rn_strdup ("");
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
rn_buf_free (struct rn_buf *b)
{
  free (b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

/* ---- rn_strv ---- */

void
rn_strv_add (struct rn_strv *l, char *s)
{
  l->v = rn_realloc (l->v, (l->n + 2) * sizeof (char *));
  l->v[l->n++] = s;
  l->v[l->n] = NULL;
}

void
rn_strv_free (struct rn_strv *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

/* ---- paths ---- */

char *
rn_path_join (const char *dir, const char *rel)
{
  if (rel[0] == '/' || dir == NULL || dir[0] == '\0')
    return rn_strdup (rel);
  return rn_asprintf ("%s%s%s", dir, dir[strlen (dir) - 1] == '/' ? "" : "/", rel);
}

char *
rn_dirname (const char *path)
{
  const char *s = strrchr (path, '/');

  if (s == NULL)
    return rn_strdup (".");
  if (s == path)
    return rn_strdup ("/");
  return rn_strndup (path, (size_t) (s - path));
}

const char *
rn_basename (const char *path)
{
  const char *s = strrchr (path, '/');
  return s ? s + 1 : path;
}

/* ---- time ---- */

double
rn_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

void
rn_utc (char *buf)
{
  struct timespec ts;
  struct tm tm;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  snprintf (buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
            tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
            (int) (ts.tv_nsec / 1000000) % 1000);
}

void
rn_fmt_secs (char *buf, double secs)
{
  if (secs < 0)
    secs = 0;
  if (secs < 60)
    snprintf (buf, 32, "%.1fs", secs);
  else if (secs < 3600)
    snprintf (buf, 32, "%dm%02ds", (int) secs / 60, (int) secs % 60);
  else
    snprintf (buf, 32, "%dh%02dm", (int) secs / 3600, (int) secs / 60 % 60);
}

/* ---- files ---- */

char *
rn_read_file (const char *path, size_t max, size_t *len, char **err)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  size_t got = 0;

  if (fd == -1) {
    *err = rn_asprintf ("%s: %s", path, strerror (errno));
    return NULL;
  }
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)) {
    *err = rn_asprintf ("%s: not a regular file", path);
    close (fd);
    return NULL;
  }
  if ((uint64_t) st.st_size > max) {
    *err = rn_asprintf ("%s: larger than %zu bytes", path, max);
    close (fd);
    return NULL;
  }
  buf = rn_malloc (max + 1);
  for (;;) {
    ssize_t r = read (fd, buf + got, max + 1 - got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      *err = rn_asprintf ("%s: %s", path, strerror (errno));
      free (buf);
      close (fd);
      return NULL;
    }
    if (r == 0)
      break;
    got += (size_t) r;
    if (got > max) {
      *err = rn_asprintf ("%s: larger than %zu bytes", path, max);
      free (buf);
      close (fd);
      return NULL;
    }
  }
  close (fd);
  buf[got] = '\0';
  *len = got;
  return buf;
}

/* ---- parsers ---- */

int
rn_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  int d[64][64];

  if (la > 62 || lb > 62)
    return 99;
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int) i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int) j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
      d[i][j] = c;
    }
  return d[la][lb];
}

int
rn_parse_int (const char *s, int64_t *v)
{
  int neg = 0, base = 10;
  uint64_t u = 0;

  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    base = 16, s += 2;
  else if (s[0] == '0' && s[1] == 'o')
    base = 8, s += 2;
  else if (s[0] == '0' && s[1] != '\0')
    base = 8, s += 1;
  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    int dgt;
    if (*s == '_')                 /* YAML 1.1 digit separator */
      continue;
    if (*s >= '0' && *s <= '9') dgt = *s - '0';
    else if (*s >= 'a' && *s <= 'f') dgt = *s - 'a' + 10;
    else if (*s >= 'A' && *s <= 'F') dgt = *s - 'A' + 10;
    else return -1;
    if (dgt >= base)
      return -1;
    if (u > (UINT64_MAX - (uint64_t) dgt) / (uint64_t) base)
      return -1;
    u = u * (uint64_t) base + (uint64_t) dgt;
  }
  if (u > (uint64_t) INT64_MAX + neg)
    return -1;
  *v = neg ? (int64_t) (0 - u) : (int64_t) u;
  return 0;
}

int
rn_parse_bool (const char *s)
{
  static const char *const t[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
                                   "on", "On", "ON", NULL };
  static const char *const f[] = { "false", "False", "FALSE", "no", "No", "NO",
                                   "off", "Off", "OFF", NULL };
  for (size_t i = 0; t[i]; i++)
    if (strcmp (s, t[i]) == 0)
      return 1;
  for (size_t i = 0; f[i]; i++)
    if (strcmp (s, f[i]) == 0)
      return 0;
  return -1;
}

/* A number followed by an optional one-letter unit from units[] (with
 * the matching multipliers); the number may not be negative. */
static int
parse_unit (const char *s, const char *units, const uint64_t *mult, uint64_t *v)
{
  size_t n = strlen (s);
  uint64_t m = 1;
  int64_t x;
  char *num;
  const char *u;
  int r;

  if (n == 0)
    return -1;
  if ((u = strchr (units, s[n - 1])) != NULL && s[n - 1] != '\0') {
    m = mult[u - units];
    n--;
  } else if (n > 2 && (s[n - 1] == 'B' || s[n - 1] == 'b') &&
             (u = strchr (units, s[n - 2])) != NULL) {     /* "64MB" */
    m = mult[u - units];
    n -= 2;
  }
  num = rn_strndup (s, n);
  r = strchr (num, '-') ? -1 : rn_parse_int (num, &x);
  free (num);
  if (r == -1 || x < 0 || (m > 1 && (uint64_t) x > UINT64_MAX / m))
    return -1;
  *v = (uint64_t) x * m;
  return 0;
}

int
rn_parse_size (const char *s, uint64_t *v)
{
  static const uint64_t mult[] = { 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40,
                                   1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40 };
  return parse_unit (s, "KMGTkmgt", mult, v);
}

int
rn_parse_duration (const char *s, int64_t *v)
{
  static const uint64_t mult[] = { 1, 60, 3600 };
  uint64_t u;

  if (parse_unit (s, "smh", mult, &u) == -1 || u > INT32_MAX)
    return -1;
  *v = (int64_t) u;
  return 0;
}

int
rn_int_arg (const char *opt, const char *s, int min, int max, int *out)
{
  int64_t v;
  if ((strcmp (opt, "--timeout") == 0 ? rn_parse_duration (s, &v) : rn_parse_int (s, &v)) == -1 ||
      v < min || v > max) {
    fprintf (stderr, "%s: %s: expected a number from %d to %d, got '%s'\n",
             rn_progname, opt, min, max, s);
    return -1;
  }
  *out = (int) v;
  return 0;
}
