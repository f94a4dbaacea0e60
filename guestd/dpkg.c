/* guestd/dpkg.c: the packages of the mounted guest's dpkg database, read
 * in the appliance so that neither inspection (core/inspect-apps.c) nor
 * the packages step (runner/steps-packages.c) parses the guest's text
 * or runs a program for it.
 *
 *   dpkg_packages NAMES START
 *
 * The file is /var/lib/dpkg/status, resolved inside the sysroot (a
 * symlink cannot lead out of the guest), a regular file of at most
 * DB_FILE_MAX bytes read whole.  Its text is hostile: paragraphs of
 * "Field: value" lines, field names matched without case as dpkg does;
 * a line is cut at its first NUL or CR; continuation lines count for
 * Description only; single-line values lose surrounding blanks.  A
 * paragraph without a Package field is skipped, and a second paragraph
 * for the same package and architecture too (dpkg refuses such a file;
 * the first is kept): each kind is counted in one "W" row.
 *
 * The reply is rows of GD_DPKG_ROW strings; the first says what it is:
 *
 *   "P" name state version arch source homepage summary description
 *          one package, in file order; "" for a missing field
 *   "W" message        a warning about the file
 *   "N" start          the reply is full: call again with this START
 *
 *   state    dpkg's db:Status-Abbrev: want (u i h r p), status (n c H U
 *            F W t i), error flag (' ' or R), e.g. "ii " for "install
 *            ok installed"; "un " without a Status field (dpkg's
 *            reading); "" when Status is not three words dpkg knows
 *   version  as dpkg-query prints ${Version}: an epoch of 0 is dropped
 *            ("0:1.2" -> "1.2") and one with leading zeros rewritten
 *   source   the Source field as written ("name (version)" possible)
 *   summary, description   Description's first line, then its
 *            continuation lines joined by "\n" (" ." is an empty line)
 *
 * NAMES (at most MAX_NAMES, compared exactly with Package) keeps only
 * the rows of those packages; empty keeps all.  START counts the usable
 * packages of the file (every architecture, before NAMES filters) from
 * 0, so that the pages of one file join up.  Strings are cut at 64 KiB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "guestd.h"

#define STATUS_PATH "/var/lib/dpkg/status"
#define GD_DPKG_ROW 9                     /* strings per row */
#define DB_FILE_MAX (64 * 1024 * 1024)    /* as core's GK_DB_FILE_MAX */
#define FIELD_MAX GD_ROW_FIELD_MAX        /* one string, cut after this */
#define MAX_NAMES 4096
#define REPLY_BUDGET (GK_MESSAGE_MAX / 2) /* bytes of strings per reply */

/* One paragraph being read: pointers into the file's buffer. */
struct para {
  const char *name, *status, *version, *arch, *source, *homepage;
  const char *summary;
  char *desc;                  /* continuation lines, malloc'd, or NULL */
  size_t desclen;
  int in_desc;                 /* the last field was Description */
  int fields;                  /* any field seen */
};

/* The reply being built, and where the walk is. */
struct dpkg_out {
  struct gd_strlist l;
  char **names;                /* sorted filter, or NULL for all */
  size_t nnames;
  int64_t start;               /* first package to report */
  int64_t index;               /* usable packages so far */
  size_t bytes;                /* strings so far */
  size_t nameless, dups;       /* paragraphs skipped */
  struct seen *seen;           /* name + arch of the packages so far */
  int full;                    /* an "N" row was added: stop */
  int nomem;
};

/* ---- Rows ---- */

static void
add_row (struct dpkg_out *o, const char *const f[GD_DPKG_ROW])
{
  if (!o->nomem && gd_row_add (&o->l, f, GD_DPKG_ROW, &o->bytes) == -1)
    o->nomem = 1;
}

static void
add_note (struct dpkg_out *o, const char *tag, const char *text)
{
  const char *f[GD_DPKG_ROW] = { tag, text };
  add_row (o, f);
}

/* ---- Seen packages: a chained hash set of "name\0arch" ---- */

#define SEEN_MAX_BUCKETS 65536

struct seen_entry {
  struct seen_entry *next;
  char key[];                  /* name, '\0', arch, '\0' */
};
struct seen {
  size_t n;                    /* buckets, a power of 2 */
  struct seen_entry *b[];
};

/* A set sized for a status file of len bytes (a paragraph is rarely
 * under 256 bytes); NULL on ENOMEM. */
static struct seen *
seen_new (size_t len)
{
  size_t n = 64;
  struct seen *s;

  while (n < SEEN_MAX_BUCKETS && n < len / 256)
    n *= 2;
  if ((s = calloc (1, sizeof *s + n * sizeof s->b[0])) != NULL)
    s->n = n;
  return s;
}

static size_t
seen_hash (const struct seen *s, const char *name, const char *arch)
{
  size_t h = 2166136261u;

  for (const char *p = name; *p; p++)
    h = (h ^ (unsigned char) *p) * 16777619u;
  h = (h ^ 0xff) * 16777619u;
  for (const char *p = arch; *p; p++)
    h = (h ^ (unsigned char) *p) * 16777619u;
  return h & (s->n - 1);
}

/* 1 if (name, arch) was seen before, else record it and return 0;
 * -1 on ENOMEM. */
static int
seen_check (struct seen *s, const char *name, const char *arch)
{
  size_t h = seen_hash (s, name, arch), nl = strlen (name), al = strlen (arch);
  struct seen_entry *e;

  for (e = s->b[h]; e; e = e->next)
    if (strcmp (e->key, name) == 0 && strcmp (e->key + nl + 1, arch) == 0)
      return 1;
  if ((e = malloc (sizeof *e + nl + al + 2)) == NULL)
    return -1;
  memcpy (e->key, name, nl + 1);
  memcpy (e->key + nl + 1, arch, al + 1);
  e->next = s->b[h];
  s->b[h] = e;
  return 0;
}

static void
seen_free (struct seen *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n; i++)
    for (struct seen_entry *e = s->b[i], *n; e; e = n) {
      n = e->next;
      free (e);
    }
  free (s);
}

/* ---- Values ---- */

/* dpkg's db:Status-Abbrev of a Status value into abbrev[4]. */
static void
status_abbrev (const char *status, char abbrev[4])
{
  static const char *const want[] = { "unknown", "install", "hold", "deinstall", "purge", NULL };
  static const char *const eflag[] = { "ok", "reinstreq", NULL };
  static const char *const st[] = { "not-installed", "config-files", "half-installed",
    "unpacked", "half-configured", "triggers-awaited", "triggers-pending",
    "installed", NULL };
  static const char *const *const words[3] = { want, st, eflag };
  static const char *const letters[3] = { "uihrp", "ncHUFWti", " R" };
  char w[3][24];
  int end = -1;

  abbrev[0] = '\0';
  if (status == NULL) {
    memcpy (abbrev, "un ", 4);
    return;
  }
  /* Status is "WANT EFLAG STATUS"; abbrev is want, status, eflag. */
  if (sscanf (status, "%23s %23s %23s %n", w[0], w[2], w[1], &end) != 3 ||
      end < 0 || status[end] != '\0')
    return;
  for (int k = 0; k < 3; k++) {
    size_t i = 0;
    while (words[k][i] && strcmp (words[k][i], w[k]) != 0)
      i++;
    if (words[k][i] == NULL) {
      abbrev[0] = '\0';
      return;
    }
    abbrev[k] = letters[k][i];
  }
  abbrev[3] = '\0';
}

/* A version as dpkg-query prints ${Version}: a pointer into v. */
static const char *
dpkg_version (const char *v)
{
  const char *colon = v ? strchr (v, ':') : NULL;
  size_t digits = v ? strspn (v, "0123456789") : 0;
  char *end;
  unsigned long epoch;

  if (colon == NULL || digits == 0 || v + digits != colon)
    return v;
  errno = 0;
  epoch = strtoul (v, &end, 10);
  if (errno || epoch > 0x7fffffff)
    return v;                   /* dpkg refuses it: shown as written */
  if (epoch == 0)               /* "0:" only when the rest has a ':' */
    return strchr (colon + 1, ':') ? colon - 1 : colon + 1;
  return v + strspn (v, "0");   /* "01:" as "1:" */
}

/* Cut surrounding blanks of a value in place. */
static char *
trim_value (char *v)
{
  size_t n;

  v += strspn (v, " \t");
  n = strlen (v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    v[--n] = '\0';
  return v;
}

/* ---- Paragraphs ---- */

static int
wanted (const struct dpkg_out *o, const char *name)
{
  size_t lo = 0, hi = o->nnames;

  if (o->names == NULL)
    return 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp (name, o->names[mid]);
    if (c == 0)
      return 1;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

/* A continuation line of Description: " text", or " ." for a blank. */
static void
desc_line (struct dpkg_out *o, struct para *p, const char *line)
{
  size_t n;
  char *d;

  line++;
  if (strcmp (line, ".") == 0)
    line = "";
  n = strlen (line);
  if (p->desclen + n + 2 > FIELD_MAX || (p->name && !wanted (o, p->name)))
    return;                    /* full, or a package not asked for */
  if ((d = realloc (p->desc, p->desclen + n + 2)) == NULL) {
    o->nomem = 1;
    return;
  }
  p->desc = d;
  if (p->desclen)
    d[p->desclen++] = '\n';
  memcpy (d + p->desclen, line, n + 1);
  p->desclen += n;
}

/* The end of a paragraph: report it if usable, wanted and in the page. */
static void
para_end (struct dpkg_out *o, struct para *p)
{
  char abbrev[4], next[32];
  int r;

  if (!p->fields || o->full || o->nomem)
    goto out;
  if (p->name == NULL || *p->name == '\0') {
    o->nameless++;
    goto out;
  }
  if ((r = seen_check (o->seen, p->name, p->arch ? p->arch : "")) != 0) {
    if (r == -1)
      o->nomem = 1;
    o->dups++;
    goto out;
  }
  if (o->index++ < o->start || !wanted (o, p->name))
    goto out;
  if (o->bytes > REPLY_BUDGET) {
    snprintf (next, sizeof next, "%lld", (long long) o->index - 1);
    add_note (o, "N", next);
    o->full = 1;
    goto out;
  }
  status_abbrev (p->status, abbrev);
  const char *f[GD_DPKG_ROW] = {
    "P", p->name, abbrev, dpkg_version (p->version),
    p->arch, p->source, p->homepage, p->summary, p->desc,
  };
  add_row (o, f);
 out:
  free (p->desc);
  memset (p, 0, sizeof *p);
}

/* One "Field: value" line (line is modified). */
static void
field_line (struct para *p, char *line)
{
  static const struct { const char *name; size_t off; } fields[] = {
    { "Package", offsetof (struct para, name) },
    { "Status", offsetof (struct para, status) },
    { "Version", offsetof (struct para, version) },
    { "Architecture", offsetof (struct para, arch) },
    { "Source", offsetof (struct para, source) },
    { "Homepage", offsetof (struct para, homepage) },
  };
  char *colon = strchr (line, ':'), *v;

  p->in_desc = 0;
  if (colon == NULL)
    return;                    /* not a field: ignore the line */
  *colon = '\0';
  p->fields = 1;
  if (strcasecmp (line, "Description") == 0) {
    if (p->summary)
      return;                  /* a repeated field: the first counts */
    p->summary = colon + 1 + strspn (colon + 1, " \t");
    p->in_desc = 1;
    return;
  }
  v = trim_value (colon + 1);
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (strcasecmp (line, fields[i].name) == 0) {
      const char **slot = (const char **) ((char *) p + fields[i].off);
      if (*slot == NULL)         /* a repeated field: the first counts */
        *slot = v;
      return;
    }
}

/* Walk the text (len bytes, text[len] == '\0'; modified). */
static void
parse_status (struct dpkg_out *o, char *text, size_t len)
{
  struct para p = { 0 };
  char *line = text, *end = text + len, *next;

  for (; line < end && !o->full && !o->nomem; line = next) {
    char *nl = memchr (line, '\n', (size_t) (end - line));
    next = nl ? nl + 1 : end;
    if (nl)
      *nl = '\0';
    line[strcspn (line, "\r")] = '\0';   /* also stops at a NUL */
    if (*line == '\0')
      para_end (o, &p);
    else if (*line == ' ' || *line == '\t') {
      if (p.in_desc)
        desc_line (o, &p, line);
    } else
      field_line (&p, line);
  }
  para_end (o, &p);
}

/* ---- The call ---- */

/* The rows of the status text (len bytes at text, modified). */
static void
dpkg_rows (struct dpkg_out *o, char *text, size_t len)
{
  char msg[96];

  if ((o->seen = seen_new (len)) == NULL) {
    o->nomem = 1;
    return;
  }
  parse_status (o, text, len);
  if (o->full || o->nomem)
    return;
  if (o->nameless) {
    snprintf (msg, sizeof msg, "%zu paragraphs without a Package field ignored",
              o->nameless);
    add_note (o, "W", msg);
  }
  if (o->dups) {
    snprintf (msg, sizeof msg, "%zu duplicate packages ignored (the first kept)",
              o->dups);
    add_note (o, "W", msg);
  }
}

/* The whole file, NUL-terminated; NULL after replying. */
static char *
read_status (size_t *len_r)
{
  size_t size;
  char *text;
  ssize_t got;
  int fd;

  if ((fd = gd_open_regular_max (STATUS_PATH, DB_FILE_MAX, &size)) == -1)
    return NULL;
  if ((text = malloc (size + 1)) == NULL) {
    close (fd);
    reply_with_error ("%s: out of memory", STATUS_PATH);
    return NULL;
  }
  got = gd_read_fill (fd, text, size);
  close (fd);
  if (got == -1) {
    reply_with_perror ("%s: read", STATUS_PATH);
    free (text);
    return NULL;
  }
  text[got] = '\0';
  *len_r = (size_t) got;
  return text;
}

char **
do_dpkg_packages (char *const *names, int start)
{
  struct dpkg_out o = { .start = start };
  size_t n = 0, len;
  char *text;

  while (names[n])
    n++;
  if (start < 0) {
    reply_with_error ("start %d is negative", start);
    return NULL;
  }
  if (n > MAX_NAMES) {
    reply_with_error ("%zu names: at most %d", n, MAX_NAMES);
    return NULL;
  }
  if (n && (o.names = malloc (n * sizeof *o.names)) == NULL) {
    reply_with_error ("out of memory");
    return NULL;
  }
  if (n) {
    memcpy (o.names, names, n * sizeof *o.names);
    gd_sort_strings (o.names, n);
    o.nnames = n;
  }
  if ((text = read_status (&len)) != NULL)
    dpkg_rows (&o, text, len);
  free (text);
  free (o.names);
  seen_free (o.seen);
  if (text == NULL || o.nomem) {
    gd_strlist_free (&o.l);
    if (text && o.nomem)
      reply_with_error ("%s: out of memory", STATUS_PATH);
    return NULL;
  }
  return gd_strlist_end (&o.l);
}
