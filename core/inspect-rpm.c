/* core/inspect-rpm.c: installed packages from an rpm database.
 *
 * The database (rpmdb.sqlite on Fedora 33+ and RHEL 9+, a Berkeley DB
 * hash Packages file before) is guest data: guestd decodes it in the
 * appliance (guestd/inspect-rpm.c, internal_rpm_list) and sends rows of
 * plain strings, a page at a time:
 *
 *   "P" name version release epoch arch summary description vendor url
 *       sourcerpm      one package
 *   "W" message        a warning, kept on the root
 *   "N" start          more: ask again from record START
 *
 * SUSE's ndb format (Packages.db) is not read: a warning says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

#define ROW 11                  /* strings per row of internal_rpm_list */

static void
add_package (struct gk_apps *a, char *const *r)
{
  struct guestfs_application *p;
  char *end;
  long epoch;

  if ((p = gk_apps_add (a)) == NULL)
    return;
  gk_inspect_set (&p->app_name, r[1], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_version, r[2], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_release, r[3], GK_FIELD_MAX);
  errno = 0;
  epoch = strtol (r[4], &end, 10);
  p->app_epoch = *end || errno || epoch < INT32_MIN || epoch > INT32_MAX ? 0 : (int32_t) epoch;
  gk_inspect_set_opt (&p->app_arch, r[5], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_summary, r[6], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_description, r[7], GK_TEXT_MAX);
  gk_inspect_set_opt (&p->app_publisher, r[8], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_url, r[9], GK_FIELD_MAX);
  gk_inspect_set_opt (&p->app_source_package, r[10], GK_FIELD_MAX);
}

static void
rpm_db (guestfs_h *g, struct gk_ios *os, struct gk_apps *a, const char *path)
{
  const struct gk_pkg_rows rpm = { path, ROW, guestfs_internal_rpm_list, add_package };

  gk_inspect_pkg_rows (g, os, a, &rpm);
}

/* ---- Which database ---- */

void
gk_inspect_rpm_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  static const char *const dbs[] = {
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/Packages",
    "/var/lib/rpm/Packages",
    NULL,
  };

  for (size_t i = 0; dbs[i]; i++)
    if (guestfs_is_file (g, dbs[i]) == 1) {
      rpm_db (g, os, a, dbs[i]);
      return;
    }
  if (guestfs_exists (g, "/var/lib/rpm/Packages.db") == 1 ||
      guestfs_exists (g, "/usr/lib/sysimage/rpm/Packages.db") == 1)
    gk_inspect_warn (g, os, "applications unknown: the rpm database is in the "
                     "ndb format, which guestkit does not read");
  else
    gk_inspect_warn (g, os, "applications unknown: no rpm database "
                     "(rpmdb.sqlite or Packages) under /var/lib/rpm or "
                     "/usr/lib/sysimage/rpm");
}
