/* core/inspect-apps.c: installed applications of a Linux root, read from
 * its package database (the OS is mounted when these run):
 *
 *   deb     /var/lib/dpkg/status             parsed in the appliance
 *           (guestd/dpkg.c, dpkg_packages): rows of plain strings here
 *   apk     /lib/apk/db/installed            paragraphs of "X:value"
 *   pacman  /var/lib/pacman/local/NAME/desc  "%FIELD%" then value lines
 *   rpm     see inspect-rpm.c
 *
 * gk_inspect_pkg_rows takes any such list of rows from guestd, page by
 * page (dpkg's here; its row layout is in schemas/actions.tsv).
 *
 * The apk and pacman parsers still run here (to be moved into guestd as
 * dpkg's was): they take the whole text (bounded by the read) and never
 * trust it.  Everywhere a record without a name is skipped, a value is
 * cleaned and cut, a record that cannot be used costs that record only.
 * What could not be read at all is a warning on the root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

#define PACMAN_MAX_DIRS 100000
#define PKG_MAX_PAGES 10000     /* a daemon that keeps saying "more" */

struct guestfs_application *
gk_apps_add (struct gk_apps *a)
{
  if (a->n >= GK_MAX_APPS) {
    a->full = 1;
    return NULL;
  }
  if (a->n == a->cap) {
    a->cap = a->cap ? 2 * a->cap : 256;
    a->v = gk_inspect_realloc (a->v, a->cap * sizeof *a->v);
  }
  memset (&a->v[a->n], 0, sizeof a->v[a->n]);
  return &a->v[a->n++];
}

/* [epoch:]version[-release], as dpkg, apk and pacman write it. */
void
gk_inspect_split_evr (const char *evr, int32_t *epoch, char **version,
                      char **release)
{
  const char *colon = strchr (evr, ':'), *dash;
  char *v;

  *epoch = 0;
  if (colon && colon > evr && colon - evr <= 9 &&
      strspn (evr, "0123456789") == (size_t) (colon - evr)) {
    *epoch = (int32_t) atoi (evr);
    evr = colon + 1;
  }
  dash = strrchr (evr, '-');
  v = gk_inspect_strndup (evr, dash ? (size_t) (dash - evr) : strlen (evr));
  gk_inspect_set (version, v, GK_FIELD_MAX);
  gk_inspect_set (release, dash ? dash + 1 : "", GK_FIELD_MAX);
  free (v);
}

/* ---- dpkg ---- */

/* Rows of dpkg_packages (guestd/dpkg.c), still hostile here: every
 * value is cleaned and cut as it is stored.  A package counts when
 * dpkg's status word is "installed" (STATE's second letter). */
#define DPKG_ROW 9

static void
deb_add (struct gk_apps *a, char *const *r)
{
  struct guestfs_application *p;
  char *src;

  if (*r[1] == '\0' || *r[3] == '\0' || strlen (r[2]) != 3 || r[2][1] != 'i' ||
      (p = gk_apps_add (a)) == NULL)
    return;
  gk_inspect_set (&p->app_name, r[1], GK_FIELD_MAX);
  gk_inspect_split_evr (r[3], &p->app_epoch, &p->app_version, &p->app_release);
  gk_inspect_set_opt (&p->app_arch, r[4], GK_FIELD_MAX);
  src = gk_inspect_strndup (r[5], strcspn (r[5], " ("));
  gk_inspect_set_opt (&p->app_source_package, src, GK_FIELD_MAX);
  free (src);
  gk_inspect_set_opt (&p->app_url, r[6], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_summary, r[7], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_description, r[8], GK_TEXT_MAX);
}

static char **
deb_page (guestfs_h *g, const char *path, int start)
{
  char *none[] = { NULL };

  (void) path;
  return guestfs_dpkg_packages (g, none, start);
}

static void
deb_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  static const struct gk_pkg_rows dpkg = {
    "/var/lib/dpkg/status", DPKG_ROW, deb_page, deb_add,
  };

  gk_inspect_pkg_rows (g, os, a, &dpkg);
}

/* ---- Rows of a package list from guestd ---- */

/* Take one page of rows; returns the next start, or -1 at the end. */
static int
take_page (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
           const struct gk_pkg_rows *r, char **v, int start)
{
  size_t n = 0;
  int next = -1;

  while (v[n])
    n++;
  if (n % r->row != 0) {
    gk_inspect_warn (g, os, "%s: the appliance sent a broken package list", r->path);
    return -1;
  }
  for (size_t i = 0; i < n && !a->full; i += r->row) {
    char *const *row = v + i;
    if (strcmp (row[0], "P") == 0)
      r->add (a, row);
    else if (strcmp (row[0], "W") == 0)
      gk_inspect_warn (g, os, "%s: %s", r->path, row[1]);
    else if (strcmp (row[0], "N") == 0 && i + r->row == n)
      next = atoi (row[1]);
    else
      gk_inspect_warn (g, os, "%s: the appliance sent an unknown row", r->path);
  }
  if (next != -1 && next <= start) {
    gk_inspect_warn (g, os, "%s: the appliance's package list does not advance", r->path);
    return -1;
  }
  return next;
}

void
gk_inspect_pkg_rows (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
                     const struct gk_pkg_rows *r)
{
  int start = 0;

  for (int pages = 0; start >= 0 && !a->full; pages++) {
    char **v = r->page (g, r->path, start);
    if (v == NULL) {
      if (gk_inspect_alive (g))
        gk_inspect_warn (g, os, "applications unknown: %s", guestfs_last_error (g));
      return;
    }
    start = pages < PKG_MAX_PAGES ? take_page (g, os, a, r, v, start) : -1;
    gk_free_strings (v);
  }
}

/* ---- apk ---- */

struct apk {
  const char *name, *version, *arch, *summary, *url, *origin;
};

static void
apk_add (struct gk_apps *a, struct apk *k)
{
  struct guestfs_application *p;

  if (k->name && k->version && (p = gk_apps_add (a)) != NULL) {
    gk_inspect_set_opt (&p->app_name, k->name, GK_FIELD_MAX);
    gk_inspect_split_evr (k->version, &p->app_epoch, &p->app_version,
                          &p->app_release);
    gk_inspect_set_opt (&p->app_arch, k->arch, GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_summary, k->summary, GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_url, k->url, GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_source_package, k->origin, GK_FIELD_MAX);
  }
  memset (k, 0, sizeof *k);
}

void
gk_inspect_parse_apk (struct gk_apps *a, char *text)
{
  struct apk k = { 0 };
  char *line = text, *next;

  for (; line; line = next) {
    if ((next = strchr (line, '\n')) != NULL)
      *next++ = '\0';
    line[strcspn (line, "\r")] = '\0';
    if (*line == '\0') {
      apk_add (a, &k);
      continue;
    }
    if (line[1] != ':')
      continue;
    switch (line[0]) {
    case 'P': k.name = line + 2; break;
    case 'V': k.version = line + 2; break;
    case 'A': k.arch = line + 2; break;
    case 'T': k.summary = line + 2; break;
    case 'U': k.url = line + 2; break;
    case 'o': k.origin = line + 2; break;
    }
  }
  apk_add (a, &k);
}

/* ---- pacman ---- */

/* One desc file: "%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n..." */
void
gk_inspect_parse_pacman (struct gk_apps *a, char *text)
{
  const char *name = NULL, *version = NULL, *arch = NULL, *desc = NULL;
  const char *url = NULL, *base = NULL, **want = NULL;
  struct guestfs_application *p;
  char *line = text, *next;

  for (; line; line = next) {
    if ((next = strchr (line, '\n')) != NULL)
      *next++ = '\0';
    line[strcspn (line, "\r")] = '\0';
    if (*line == '%') {
      want = strcmp (line, "%NAME%") == 0 ? &name :
        strcmp (line, "%VERSION%") == 0 ? &version :
        strcmp (line, "%ARCH%") == 0 ? &arch :
        strcmp (line, "%DESC%") == 0 ? &desc :
        strcmp (line, "%URL%") == 0 ? &url :
        strcmp (line, "%BASE%") == 0 ? &base : NULL;
      continue;
    }
    if (want && *line && *want == NULL)
      *want = line;                    /* the first value line */
  }
  if (name == NULL || version == NULL || (p = gk_apps_add (a)) == NULL)
    return;
  gk_inspect_set_opt (&p->app_name, name, GK_FIELD_MAX);
  gk_inspect_split_evr (version, &p->app_epoch, &p->app_version, &p->app_release);
  gk_inspect_set_opt (&p->app_arch, arch, GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_summary, desc, GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_url, url, GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_source_package, base, GK_FIELD_MAX);
}

/* One package's desc file; returns the bytes read. */
static size_t
pacman_one (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
            const char *dir, const char *name)
{
  char *path, *text;
  size_t len = 0;

  path = gk_inspect_asprintf ("%s/%s/desc", dir, name);
  if ((text = gk_inspect_read (g, os, path, GK_SMALL_FILE_MAX, &len)) != NULL)
    gk_inspect_parse_pacman (a, text);
  else if (gk_inspect_alive (g) && guestfs_exists (g, path) == 0)
    gk_inspect_warn (g, os, "%s is missing", path);
  free (text);
  free (path);
  return len;
}

static void
pacman_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  const char *dir = "/var/lib/pacman/local";
  char **names = guestfs_ls (g, dir);
  size_t total = 0;

  if (names == NULL) {
    if (gk_inspect_alive (g))
      gk_inspect_warn (g, os, "cannot list %s: %s", dir, guestfs_last_error (g));
    return;
  }
  for (size_t i = 0; names[i] && !a->full && gk_inspect_alive (g); i++) {
    if (i == PACMAN_MAX_DIRS || total > GK_DB_FILE_MAX) {
      gk_inspect_warn (g, os, "%s: more than %d entries or %d bytes: the rest "
                       "ignored", dir, PACMAN_MAX_DIRS, GK_DB_FILE_MAX);
      break;
    }
    if (strcmp (names[i], "ALPM_DB_VERSION") != 0 && !strchr (names[i], '/'))
      total += pacman_one (g, os, a, dir, names[i]);
  }
  for (size_t i = 0; names[i]; i++)
    free (names[i]);
  free (names);
}

/* ---- Which database ---- */

/* Read one text database and parse it; warn when it is not there. */
static void
text_db (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
         const char *const *paths, void (*parse) (struct gk_apps *, char *))
{
  char *text;

  for (size_t i = 0; paths[i]; i++)
    if ((text = gk_inspect_read (g, os, paths[i], GK_DB_FILE_MAX, NULL)) != NULL) {
      parse (a, text);
      free (text);
      return;
    }
  if (gk_inspect_alive (g))
    gk_inspect_warn (g, os, "applications unknown: no package database at %s",
                     paths[0]);
}

void
gk_inspect_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  static const char *const apk[] = { "/lib/apk/db/installed",
                                     "/usr/lib/apk/db/installed", NULL };
  const char *f = os->pkg_format;

  if (strcmp (os->type, "windows") == 0)
    gk_inspect_windows_apps (g, os, a);
  else if (strcmp (f, "deb") == 0)
    deb_apps (g, os, a);
  else if (strcmp (f, "apk") == 0)
    text_db (g, os, a, apk, gk_inspect_parse_apk);
  else if (strcmp (f, "pacman") == 0)
    pacman_apps (g, os, a);
  else if (strcmp (f, "rpm") == 0)
    gk_inspect_rpm_apps (g, os, a);
  else
    gk_inspect_warn (g, os, "applications unknown: package format %s is not "
                     "supported", f);
}
