/* core/inspect-rpm.c: installed packages from an rpm database.
 *
 * Two on-disk forms are read, each from a temporary copy on the host
 * (at most GK_BLOB_FILE_MAX bytes; the guest's file is never opened in
 * place):
 *
 *   rpmdb.sqlite  (Fedora 33+, RHEL 9+; /var/lib/rpm or /usr/lib/sysimage/rpm)
 *       table Packages(hnum, blob); opened with libsqlite3 read-only and
 *       immutable, in defensive mode, without triggers, views or untrusted
 *       schema functions, with a step budget and length limits.
 *   Packages      (Berkeley DB hash, RHEL/CentOS 5-8, SLES 11-15 until ndb)
 *       read by the page walker below, which needs no libdb: every hash
 *       page's data items, following overflow page chains.
 *
 * Each record is an rpm header blob, parsed by gk_inspect_rpm_header:
 *
 *   be32 il | be32 dl | il x { be32 tag, be32 type, be32 offset, be32 count }
 *   | dl bytes of data (strings NUL-terminated at their offset)
 *
 * SUSE's ndb format (Packages.db) is not read: a warning says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "inspect.h"

#define RPMTAG_NAME 1000
#define RPMTAG_VERSION 1001
#define RPMTAG_RELEASE 1002
#define RPMTAG_EPOCH 1003
#define RPMTAG_SUMMARY 1004
#define RPMTAG_DESCRIPTION 1005
#define RPMTAG_VENDOR 1011
#define RPMTAG_URL 1020
#define RPMTAG_ARCH 1022
#define RPMTAG_SOURCERPM 1044

#define RPM_INT32 4
#define RPM_STRING 6
#define RPM_STRING_ARRAY 8
#define RPM_I18NSTRING 9

#define HEADER_MAX (64 * 1024 * 1024)   /* one header blob */

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* ---- Header blobs ---- */

/* The string at offset off of the data area (dl bytes), or NULL. */
static const char *
hdr_string (const unsigned char *data, uint32_t dl, uint32_t off)
{
  if (off >= dl || memchr (data + off, '\0', dl - off) == NULL)
    return NULL;
  return (const char *) data + off;
}

static void
set (char **field, const char *v, size_t max)
{
  if (v && *v)
    gk_inspect_set (field, v, max);
}

/* Add the package a header blob describes.  0 on success, -1 if the
 * blob is not a usable header. */
int
gk_inspect_rpm_header (struct gk_apps *a, const unsigned char *blob, size_t len)
{
  const char *s[RPMTAG_SOURCERPM - RPMTAG_NAME + 1] = { 0 };
  const unsigned char *e, *data;
  struct guestfs_application *p;
  uint32_t il, dl, tag, type, off;
  int32_t epoch = 0;

  if (len < 8)
    return -1;
  il = be32 (blob);
  dl = be32 (blob + 4);
  if (il == 0 || il > 0x10000 || dl > HEADER_MAX ||
      8 + (size_t) il * 16 + dl > len)
    return -1;
  data = blob + 8 + (size_t) il * 16;
  for (uint32_t i = 0; i < il; i++) {
    e = blob + 8 + (size_t) i * 16;
    tag = be32 (e);
    type = be32 (e + 4);
    off = be32 (e + 8);
    if (tag < RPMTAG_NAME || tag > RPMTAG_SOURCERPM)
      continue;
    if (tag == RPMTAG_EPOCH && type == RPM_INT32 && off % 4 == 0 &&
        dl >= 4 && off <= dl - 4)
      epoch = (int32_t) be32 (data + off);
    else if (type == RPM_STRING || type == RPM_I18NSTRING ||
             type == RPM_STRING_ARRAY)
      s[tag - RPMTAG_NAME] = hdr_string (data, dl, off);
  }
  if (s[0] == NULL || *s[0] == '\0' || (p = gk_apps_add (a)) == NULL)
    return s[0] ? 0 : -1;
  set (&p->app_name, s[0], GK_FIELD_MAX);
  set (&p->app_version, s[RPMTAG_VERSION - RPMTAG_NAME], GK_FIELD_MAX);
  set (&p->app_release, s[RPMTAG_RELEASE - RPMTAG_NAME], GK_FIELD_MAX);
  p->app_epoch = epoch;
  set (&p->app_arch, s[RPMTAG_ARCH - RPMTAG_NAME], GK_FIELD_MAX);
  set (&p->app_summary, s[RPMTAG_SUMMARY - RPMTAG_NAME], GK_FIELD_MAX);
  set (&p->app_description, s[RPMTAG_DESCRIPTION - RPMTAG_NAME], GK_TEXT_MAX);
  set (&p->app_publisher, s[RPMTAG_VENDOR - RPMTAG_NAME], GK_FIELD_MAX);
  set (&p->app_url, s[RPMTAG_URL - RPMTAG_NAME], GK_FIELD_MAX);
  set (&p->app_source_package, s[RPMTAG_SOURCERPM - RPMTAG_NAME], GK_FIELD_MAX);
  return 0;
}

/* ---- SQLite ---- */

/* Stop a statement that runs for too long (a crafted database). */
static int
budget (void *opaque)
{
  long *left = opaque;
  return --*left < 0;
}

/* A file: URI for path, percent-encoding anything unusual. */
static char *
file_uri (const char *path)
{
  char *r = malloc (strlen (path) * 3 + 32), *o;

  if (r == NULL)
    abort ();
  o = r + sprintf (r, "file:");
  for (const unsigned char *p = (const unsigned char *) path; *p; p++)
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || strchr ("/._-", *p))
      *o++ = (char) *p;
    else
      o += sprintf (o, "%%%02X", *p);
  strcpy (o, "?immutable=1");
  return r;
}

static sqlite3 *
open_sqlite (const char *path, long *steps)
{
  char *uri = file_uri (path);
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close (db);
    free (uri);
    return NULL;
  }
  free (uri);
  sqlite3_db_config (db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config (db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
  sqlite3_db_config (db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
  sqlite3_limit (db, SQLITE_LIMIT_LENGTH, HEADER_MAX);
  sqlite3_limit (db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_progress_handler (db, 1000, budget, steps);
  sqlite3_exec (db, "PRAGMA cell_size_check=ON; PRAGMA mmap_size=0;", NULL, NULL, NULL);
  return db;
}

static void
sqlite_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a,
             const char *tmp, const char *path)
{
  long steps = 200000;         /* x 1000 virtual machine steps */
  sqlite3 *db = open_sqlite (tmp, &steps);
  sqlite3_stmt *st = NULL;
  size_t bad = 0;
  int rc;

  if (db == NULL) {
    gk_inspect_warn (g, os, "%s: cannot open as an SQLite database", path);
    return;
  }
  rc = sqlite3_prepare_v2 (db, "SELECT blob FROM Packages", -1, &st, NULL);
  while (rc == SQLITE_OK && !a->full && (rc = sqlite3_step (st)) == SQLITE_ROW) {
    const void *b = sqlite3_column_blob (st, 0);
    int n = sqlite3_column_bytes (st, 0);
    if (b == NULL || n <= 0 || gk_inspect_rpm_header (a, b, (size_t) n) == -1)
      bad++;
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    gk_inspect_warn (g, os, "%s: reading the Packages table: %s", path,
                     steps < 0 ? "too much work, stopped" : sqlite3_errmsg (db));
  if (bad)
    gk_inspect_warn (g, os, "%s: %zu records are not rpm headers", path, bad);
  sqlite3_finalize (st);
  sqlite3_close (db);
}

/* ---- Berkeley DB hash ---- */

#define DB_HASHMAGIC 0x061561
#define P_HASH_UNSORTED 2
#define P_OVERFLOW 7
#define P_HASH 13
#define H_KEYDATA 1
#define H_OFFPAGE 3
#define PAGE_HDR 26

struct bdb {
  const unsigned char *map;    /* the whole file */
  size_t size, pagesize, npages;
  int swap;                    /* file is big-endian */
};

static uint32_t
bdb32 (const struct bdb *b, const unsigned char *p)
{
  return b->swap ? be32 (p) :
    ((uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0]);
}

static unsigned
bdb16 (const struct bdb *b, const unsigned char *p)
{
  return b->swap ? (unsigned) (p[0] << 8 | p[1]) : (unsigned) (p[1] << 8 | p[0]);
}

static const unsigned char *
bdb_page (const struct bdb *b, uint32_t n)
{
  return n < b->npages ? b->map + (size_t) n * b->pagesize : NULL;
}

/* Gather an overflow chain of tlen bytes starting at page pgno. */
static unsigned char *
bdb_overflow (const struct bdb *b, uint32_t pgno, uint32_t tlen)
{
  unsigned char *r;
  size_t got = 0, hops = 0;
  const unsigned char *pg;

  if (tlen == 0 || tlen > HEADER_MAX || (r = malloc (tlen)) == NULL)
    return NULL;
  while (got < tlen && (pg = bdb_page (b, pgno)) != NULL && pg[25] == P_OVERFLOW &&
         hops++ < b->npages) {
    size_t n = bdb16 (b, pg + 22);         /* bytes used on this page */
    if (n > b->pagesize - PAGE_HDR || n > tlen - got)
      break;
    memcpy (r + got, pg + PAGE_HDR, n);
    got += n;
    pgno = bdb32 (b, pg + 16);
  }
  if (got != tlen) {
    free (r);
    return NULL;
  }
  return r;
}

/* The data items (odd indexes) of one hash page; counts bad records. */
static void
bdb_hash_page (const struct bdb *b, const unsigned char *pg, struct gk_apps *a,
               size_t *bad)
{
  unsigned n = bdb16 (b, pg + 20);
  size_t ps = b->pagesize;

  if (PAGE_HDR + (size_t) n * 2 > ps)
    return;
  for (unsigned i = 1; i < n && !a->full; i += 2) {
    size_t off = bdb16 (b, pg + PAGE_HDR + 2 * i);
    size_t end = bdb16 (b, pg + PAGE_HDR + 2 * (i - 1));
    unsigned char *blob;

    if (off >= ps || end > ps || end <= off)
      continue;
    if (pg[off] == H_KEYDATA) {
      if (end - off > 8 && gk_inspect_rpm_header (a, pg + off + 1, end - off - 1) == -1)
        (*bad)++;
    } else if (pg[off] == H_OFFPAGE && end - off >= 12) {
      blob = bdb_overflow (b, bdb32 (b, pg + off + 4), bdb32 (b, pg + off + 8));
      if (blob == NULL || gk_inspect_rpm_header (a, blob, bdb32 (b, pg + off + 8)) == -1)
        (*bad)++;
      free (blob);
    }
  }
}

static void
bdb_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a, int fd,
          const char *path)
{
  struct bdb b = { 0 };
  void *map = MAP_FAILED;
  size_t bad = 0;
  struct stat st;

  if (fstat (fd, &st) == -1 || st.st_size < 512) {
    gk_inspect_warn (g, os, "%s: not a Berkeley DB hash database (%lld bytes)",
                     path, (long long) st.st_size);
    return;
  }
  b.size = (size_t) st.st_size;
  if ((map = mmap (NULL, b.size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
    gk_inspect_warn (g, os, "%s: cannot map the temporary copy: %s", path,
                     strerror (errno));
    return;
  }
  b.map = map;
  if (bdb32 (&b, b.map + 12) != DB_HASHMAGIC) {
    b.swap = 1;
    if (bdb32 (&b, b.map + 12) != DB_HASHMAGIC) {
      gk_inspect_warn (g, os, "%s: not a Berkeley DB hash database", path);
      goto out;
    }
  }
  b.pagesize = bdb32 (&b, b.map + 20);
  if (b.pagesize < 512 || b.pagesize > 65536 || (b.pagesize & (b.pagesize - 1)) ||
      b.map[24] != 0) {
    gk_inspect_warn (g, os, "%s: unusable page size or encrypted", path);
    goto out;
  }
  b.npages = b.size / b.pagesize;
  for (uint32_t i = 1; i < b.npages && !a->full; i++) {
    const unsigned char *pg = bdb_page (&b, i);
    if (pg[25] == P_HASH || pg[25] == P_HASH_UNSORTED)
      bdb_hash_page (&b, pg, a, &bad);
  }
  if (bad)
    gk_inspect_warn (g, os, "%s: %zu records could not be read", path, bad);
 out:
  munmap (map, b.size);
}

/* ---- Which database ---- */

void
gk_inspect_rpm_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  static const struct { const char *path; int sqlite; } dbs[] = {
    { "/usr/lib/sysimage/rpm/rpmdb.sqlite", 1 },
    { "/var/lib/rpm/rpmdb.sqlite", 1 },
    { "/usr/lib/sysimage/rpm/Packages", 0 },
    { "/var/lib/rpm/Packages", 0 },
    { NULL, 0 },
  };
  char *tmp = NULL;
  int fd;

  for (size_t i = 0; dbs[i].path; i++) {
    if (guestfs_is_file (g, dbs[i].path) != 1)
      continue;
    if ((fd = gk_inspect_tmpfile (g, &tmp)) == -1) {
      gk_inspect_warn (g, os, "%s: no temporary file: %s", dbs[i].path,
                       strerror (errno));
      return;
    }
    if (gk_inspect_read_to_fd (g, os, dbs[i].path, GK_BLOB_FILE_MAX, fd) == 0) {
      if (dbs[i].sqlite)
        sqlite_apps (g, os, a, tmp, dbs[i].path);
      else
        bdb_apps (g, os, a, fd, dbs[i].path);
    }
    close (fd);
    unlink (tmp);
    free (tmp);
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
