/* guestd ids: lookup_ids, user and group names to the ids the guest
 * gives them, read from its /etc/passwd and /etc/group here in the
 * appliance (the runner's owner "root:root" needs no Augeas handle: its
 * lenses take longer to compile than the files take to read).
 *
 * The files are hostile guest data.  Each is opened through paths.c
 * (resolved inside the sysroot, a symlink to anything outside the guest
 * tree included, and only if it is a regular file) and read whole, at
 * most IDS_FILE_MAX bytes.  A line is NAME:PASSWORD:ID:... (passwd: the
 * uid, then the gid; group: the gid, then the members).  As getpwnam and
 * getgrnam read the files (glibc's "files" source), leading blanks are
 * skipped, empty lines and comments ('#') are ignored, the first line
 * that names a name wins, and a line that does not parse is passed over:
 * one with too few fields, an id that is not a decimal number below
 * 2^32 - 1, a NUL byte.  NIS lines ("+name", "-name", "+") are passed
 * over too: they name no id here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

#define IDS_FILE_MAX (16 << 20)  /* a larger passwd or group is refused */
#define NAMES_MAX 1024           /* names per list */
#define NAME_MAX_LEN 256         /* bytes in a name */

/* One name asked for: its slot in the reply. */
struct want {
  const char *name;
  size_t slot;
};

static int
want_cmp (const void *a, const void *b)
{
  return strcmp (((const struct want *) a)->name, ((const struct want *) b)->name);
}

/* Names a line could hold: not empty, no ':' or newline, not too long. */
static int
check_names (char *const *names, const char *argname, size_t *n_r)
{
  size_t n = 0;

  for (; names[n]; n++) {
    const char *s = names[n];
    if (n >= NAMES_MAX) {
      reply_with_error ("%s: more than %d names in one call", argname, NAMES_MAX);
      return -1;
    }
    if (s[0] == '\0' || strpbrk (s, ":\n") || strlen (s) > NAME_MAX_LEN) {
      reply_with_error ("%s: '%.*s': not a name (empty, ':' or a newline, or "
                        "longer than %d bytes)", argname, NAME_MAX_LEN, s, NAME_MAX_LEN);
      return -1;
    }
  }
  *n_r = n;
  return 0;
}

/* The decimal id in s (not NUL-terminated: len bytes), or -1. */
static int64_t
parse_id (const char *s, size_t len)
{
  int64_t v = 0;

  if (len == 0 || len > 10)
    return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v <= 0xfffffffeLL ? v : -1;
}

/* Field k (0-based) of the line [p, end): *f and *len; 0, or -1 when
 * the line has fewer fields. */
static int
field (const char *p, const char *end, int k, const char **f, size_t *len)
{
  for (; k > 0; k--) {
    const char *c = memchr (p, ':', (size_t) (end - p));
    if (c == NULL)
      return -1;
    p = c + 1;
  }
  *f = p;
  const char *c = memchr (p, ':', (size_t) (end - p));
  *len = (size_t) ((c ? c : end) - p);
  return 0;
}

/* The id of the line [p, end) (its third field; a passwd line also
 * needs a numeric gid after the uid), its name in *name and *nlen; -1
 * when the line is to be passed over. */
static int64_t
line_id (const char *p, const char *end, int passwd, const char **name, size_t *nlen)
{
  const char *f;
  size_t len;
  int64_t id;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  if (p == end || *p == '#' || *p == '+' || *p == '-' || memchr (p, '\0', (size_t) (end - p)))
    return -1;
  if (field (p, end, 0, name, nlen) == -1 || *nlen == 0 || field (p, end, 2, &f, &len) == -1 ||
      (id = parse_id (f, len)) == -1)
    return -1;
  if (passwd && (field (p, end, 3, &f, &len) == -1 || parse_id (f, len) == -1))
    return -1;
  return id;
}

/* Fill res[w[i].slot] for the names of w (sorted) from the text. */
static int
match_lines (const char *text, size_t size, int passwd, struct want *w, size_t n, char **res)
{
  const char *p = text, *end = text + size;

  while (p < end) {
    const char *nl = memchr (p, '\n', (size_t) (end - p)), *eol = nl ? nl : end, *name;
    size_t nlen;
    int64_t id = line_id (p, eol, passwd, &name, &nlen);
    p = nl ? nl + 1 : end;
    if (id == -1 || nlen > NAME_MAX_LEN)
      continue;
    char key[NAME_MAX_LEN + 1];
    memcpy (key, name, nlen);
    key[nlen] = '\0';
    struct want k = { key, 0 }, *hit = bsearch (&k, w, n, sizeof *w, want_cmp);
    if (hit == NULL)
      continue;
    while (hit > w && strcmp (hit[-1].name, key) == 0)
      hit--;
    for (; hit < w + n && strcmp (hit->name, key) == 0; hit++)
      if (res[hit->slot] == NULL && gd_mkstr (&res[hit->slot], "%lld", (long long) id) == -1)
        return -1;
  }
  return 0;
}

/* Read the guest file path whole (replies on failure: NULL). */
static char *
read_ids_file (const char *path, size_t *size_r)
{
  size_t size;
  ssize_t got;
  int fd = gd_open_regular_max (path, IDS_FILE_MAX, &size);
  char *text;

  if (fd == -1)
    return NULL;
  if ((text = malloc (size + 1)) == NULL || (got = gd_read_fill (fd, text, size)) == -1) {
    reply_with_perror ("%s", path);
    free (text);
    close (fd);
    return NULL;
  }
  close (fd);
  *size_r = (size_t) got;
  return text;
}

/* Look the n names up in path into res[base ...]; replies on failure. */
static int
lookup_file (const char *path, int passwd, char *const *names, size_t n, char **res,
             size_t base)
{
  struct want *w;
  size_t size;
  char *text;
  int r;

  if (n == 0)
    return 0;
  if ((text = read_ids_file (path, &size)) == NULL)
    return -1;
  if ((w = calloc (n, sizeof *w)) == NULL) {
    reply_with_perror ("%s", path);
    free (text);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    w[i] = (struct want) { names[i], base + i };
  qsort (w, n, sizeof *w, want_cmp);
  if ((r = match_lines (text, size, passwd, w, n, res)) == -1)
    reply_with_perror ("%s", path);
  free (w);
  free (text);
  return r;
}

char **
do_lookup_ids (char *const *users, char *const *groups)
{
  struct gd_strlist l = { 0 };
  size_t nu, ng;
  char **res;
  int r;

  if (check_names (users, "users", &nu) == -1 || check_names (groups, "groups", &ng) == -1)
    return NULL;
  if (!gd_sysroot_mounted ()) {
    reply_with_error ("no guest filesystem is mounted on /");
    return NULL;
  }
  if ((res = calloc (nu + ng + 1, sizeof *res)) == NULL) {
    reply_with_perror ("lookup_ids");
    return NULL;
  }
  r = lookup_file ("/etc/passwd", 1, users, nu, res, 0) == -1 ||
      lookup_file ("/etc/group", 0, groups, ng, res, nu) == -1 ? -1 : 0;
  for (size_t i = 0; i < nu + ng; i++) {
    if (r == 0 && gd_strlist_add (&l, res[i] ? res[i] : "") == -1) {
      reply_with_perror ("lookup_ids");
      r = -1;
    }
    free (res[i]);
  }
  free (res);
  if (r == -1) {
    gd_strlist_free (&l);
    return NULL;
  }
  return gd_strlist_end (&l);
}
