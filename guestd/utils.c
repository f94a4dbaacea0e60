/* guestd utilities: the one string-list builder every handler uses to
 * build RStringList results, plus small text helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

#define SMALL_FILE_MAX (16 * 1024 * 1024)

static int
strlist_grow (struct gd_strlist *l)
{
  size_t cap = l->cap ? l->cap * 2 : 16;
  char **v;

  if (l->n + 1 < l->cap)
    return 0;
  v = realloc (l->v, cap * sizeof *v);
  if (v == NULL)
    return -1;
  l->v = v;
  l->cap = cap;
  return 0;
}

/* Append s, taking ownership (s is freed on failure).  -1 on ENOMEM. */
int
gd_strlist_take (struct gd_strlist *l, char *s)
{
  if (s == NULL || strlist_grow (l) == -1) {
    free (s);
    return -1;
  }
  l->v[l->n++] = s;
  l->v[l->n] = NULL;
  return 0;
}

int
gd_strlist_add (struct gd_strlist *l, const char *s)
{
  return gd_strlist_take (l, strdup (s));
}

/* The finished NULL-terminated list (an empty list is a valid result);
 * NULL on ENOMEM.  The builder is left empty. */
char **
gd_strlist_end (struct gd_strlist *l)
{
  char **v;

  if (l->v == NULL && strlist_grow (l) == -1)
    return NULL;
  l->v[l->n] = NULL;
  v = l->v;
  memset (l, 0, sizeof *l);
  return v;
}

void
gd_strlist_free (struct gd_strlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  memset (l, 0, sizeof *l);
}

int
gd_row_add (struct gd_strlist *l, const char *const *f, size_t n, size_t *bytes)
{
  for (size_t i = 0; i < n; i++) {
    const char *s = f[i] ? f[i] : "";
    size_t len = strnlen (s, GD_ROW_FIELD_MAX);
    *bytes += len + 8;
    if (gd_strlist_take (l, strndup (s, len)) == -1)
      return -1;
  }
  return 0;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

void
gd_sort_strings (char **v, size_t n)
{
  if (n > 1)
    qsort (v, n, sizeof *v, compare_strings);
}

char *
gd_trim (char *s)
{
  size_t n;
  char *p = s;

  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  n = strlen (p);
  while (n > 0 && (p[n-1] == ' ' || p[n-1] == '\t' || p[n-1] == '\n' ||
                   p[n-1] == '\r'))
    n--;
  memmove (s, p, n);
  s[n] = '\0';
  return s;
}

/* A whole text file (sysfs, procfs, modules.dep), NUL-terminated; NULL
 * with errno on error.  Caller frees. */
char *
gd_read_small_file (const char *path)
{
  size_t len = 0, cap = 4096;
  char *buf = malloc (cap), *nbuf;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t r;

  if (buf == NULL || fd == -1)
    goto fail;
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= SMALL_FILE_MAX || (nbuf = realloc (buf, cap * 2)) == NULL)
        goto fail;
      buf = nbuf;
      cap *= 2;
    }
    r = read (fd, buf + len, cap - len - 1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      goto fail;
    if (r == 0)
      break;
    len += (size_t) r;
  }
  close (fd);
  buf[len] = '\0';
  return buf;

 fail:
  if (fd >= 0)
    close (fd);
  free (buf);
  return NULL;
}

int
gd_mkstr (char **out, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (out, fmt, ap);
  va_end (ap);
  if (r == -1)
    *out = NULL;
  return r;
}

/* Split on '\n'; a final newline makes no empty last line and '\r'
 * stays.  NULL on ENOMEM. */
char **
gd_split_lines (const char *buf, size_t len)
{
  struct gd_strlist l = { 0 };
  const char *p, *end = buf + len, *nl;

  for (p = buf; p < end; p = nl + 1) {
    nl = memchr (p, '\n', (size_t) (end - p));
    if (nl == NULL)
      nl = end;
    if (gd_strlist_take (&l, strndup (p, (size_t) (nl - p))) == -1) {
      gd_strlist_free (&l);
      return NULL;
    }
  }
  return gd_strlist_end (&l);
}

/* gd_receive_file callback: write each chunk whole to the fd *opaque. */
int
gd_write_to_fd (void *opaque, const void *data, size_t len)
{
  int fd = *(int *) opaque;
  const char *p = data;

  while (len > 0) {
    ssize_t r = write (fd, p, len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    p += r;
    len -= (size_t) r;
  }
  return 0;
}

/* Fill buf from fd up to len bytes or end of file: the bytes read, or -1
 * on a read error. */
ssize_t
gd_read_fill (int fd, void *buf, size_t len)
{
  char *b = buf;
  size_t got = 0;

  while (got < len) {
    ssize_t n = read (fd, b + got, len - got);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      return -1;
    if (n == 0)
      break;
    got += (size_t) n;
  }
  return (ssize_t) got;
}
