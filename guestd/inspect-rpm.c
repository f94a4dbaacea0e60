/* guestd/inspect-rpm.c: the installed packages of an rpm database, read
 * for inspection (core/inspect-rpm.c asks, page by page).
 *
 *   internal_rpm_list PATH START
 *
 * PATH is an rpm database in one of two on-disk forms, told apart by
 * their magic numbers:
 *
 *   rpmdb.sqlite  (Fedora 33+, RHEL 9+) table Packages(hnum, blob); read
 *       with libsqlite3 read-only and immutable, in defensive mode,
 *       without triggers, views or untrusted schema functions, with a
 *       step budget, a heap limit and length limits.
 *   Packages      (Berkeley DB hash, RHEL/CentOS 5-8, SLES 11-15) read by
 *       the page walker below, which needs no libdb: every hash page's
 *       data items, following overflow page chains.
 *
 * Each record is an rpm header blob:
 *
 *   be32 il | be32 dl | il x { be32 tag, be32 type, be32 offset, be32 count }
 *   | dl bytes of data (strings NUL-terminated at their offset)
 *
 * The reply is a list of rows of GD_RPM_ROW strings; the first says what
 * the row is:
 *
 *   "P" name version release epoch arch summary description vendor url
 *       sourcerpm      one package ("" for what the header lacks)
 *   "W" message        a warning (records that are not rpm headers, ...)
 *   "N" start          the reply is full: call again with this START
 *
 * START counts database records (usable or not) from 0, so that the
 * pages of one database join up.  Strings are cut at 64 KiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sqlite3.h>

#include "guestd.h"

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

#define GD_RPM_ROW 11                     /* strings per row */
#define DB_FILE_MAX (512LL * 1024 * 1024)
#define HEADER_MAX (64 * 1024 * 1024)     /* one header blob */
#define REPLY_BUDGET (GK_MESSAGE_MAX / 2) /* bytes of strings per reply */
#define SQLITE_HEAP_MAX (64 * 1024 * 1024)

/* The reply being built, and where the walk is. */
struct rpm_out {
  struct gd_strlist l;
  int64_t start;               /* first record to report */
  int64_t index;               /* current record */
  size_t bytes;                /* strings so far */
  size_t bad;                  /* records that are not headers */
  int full;                    /* an "N" row was added: stop */
  int nomem;
};

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* ---- Rows ---- */

static void
add_row (struct rpm_out *o, const char *const f[GD_RPM_ROW])
{
  if (!o->nomem && gd_row_add (&o->l, f, GD_RPM_ROW, &o->bytes) == -1)
    o->nomem = 1;
}

static void
add_note (struct rpm_out *o, const char *tag, const char *text)
{
  const char *f[GD_RPM_ROW] = { tag, text };
  add_row (o, f);
}

/* Before each record: skip those before start, stop when the reply is
 * full.  1 if the record is to be parsed. */
static int
next_record (struct rpm_out *o)
{
  char n[32];

  if (o->full || o->nomem)
    return 0;
  if (o->index++ < o->start)
    return 0;
  if (o->bytes > REPLY_BUDGET) {
    snprintf (n, sizeof n, "%lld", (long long) o->index - 1);
    add_note (o, "N", n);
    o->full = 1;
    return 0;
  }
  return 1;
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

/* Add the package a header blob describes; count it bad if unusable. */
static void
rpm_header (struct rpm_out *o, const unsigned char *blob, size_t len)
{
  const char *s[RPMTAG_SOURCERPM - RPMTAG_NAME + 1] = { 0 };
  const unsigned char *e, *data;
  uint32_t il, dl, tag, type, off;
  char epoch[16] = "0";

  il = len >= 8 ? be32 (blob) : 0;
  dl = len >= 8 ? be32 (blob + 4) : 0;
  if (il == 0 || il > 0x10000 || dl > HEADER_MAX ||
      8 + (size_t) il * 16 + dl > len) {
    o->bad++;
    return;
  }
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
      snprintf (epoch, sizeof epoch, "%d", (int32_t) be32 (data + off));
    else if (type == RPM_STRING || type == RPM_I18NSTRING ||
             type == RPM_STRING_ARRAY)
      s[tag - RPMTAG_NAME] = hdr_string (data, dl, off);
  }
  if (s[0] == NULL) {
    o->bad++;
    return;
  }
  if (*s[0] == '\0')
    return;
  const char *f[GD_RPM_ROW] = {
    "P", s[0], s[RPMTAG_VERSION - RPMTAG_NAME], s[RPMTAG_RELEASE - RPMTAG_NAME],
    epoch, s[RPMTAG_ARCH - RPMTAG_NAME], s[RPMTAG_SUMMARY - RPMTAG_NAME],
    s[RPMTAG_DESCRIPTION - RPMTAG_NAME], s[RPMTAG_VENDOR - RPMTAG_NAME],
    s[RPMTAG_URL - RPMTAG_NAME], s[RPMTAG_SOURCERPM - RPMTAG_NAME],
  };
  add_row (o, f);
}

/* ---- SQLite ---- */

/* Stop a statement that runs for too long (a crafted database). */
static int
budget (void *opaque)
{
  long *left = opaque;
  return --*left < 0;
}

static sqlite3 *
open_sqlite (const char *fdpath, long *steps)
{
  char uri[96];
  sqlite3 *db = NULL;

  snprintf (uri, sizeof uri, "file:%s?immutable=1", fdpath);
  sqlite3_hard_heap_limit64 (SQLITE_HEAP_MAX);
  if (sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close (db);
    return NULL;
  }
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
sqlite_packages (struct rpm_out *o, const char *fdpath)
{
  long steps = 200000;         /* x 1000 virtual machine steps */
  sqlite3 *db = open_sqlite (fdpath, &steps);
  sqlite3_stmt *st = NULL;
  char msg[256];
  int rc;

  if (db == NULL) {
    add_note (o, "W", "cannot open as an SQLite database");
    return;
  }
  rc = sqlite3_prepare_v2 (db, "SELECT blob FROM Packages", -1, &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    if (!next_record (o)) {
      if (o->full || o->nomem)
        break;
      continue;
    }
    const void *b = sqlite3_column_blob (st, 0);
    int n = sqlite3_column_bytes (st, 0);
    if (b == NULL || n <= 0)
      o->bad++;
    else
      rpm_header (o, b, (size_t) n);
  }
  if (rc != SQLITE_DONE && rc != SQLITE_OK) {
    snprintf (msg, sizeof msg, "reading the Packages table: %s",
              steps < 0 ? "too much work, stopped" : sqlite3_errmsg (db));
    add_note (o, "W", msg);
  }
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

/* The data items (odd indexes) of one hash page. */
static void
bdb_hash_page (const struct bdb *b, const unsigned char *pg, struct rpm_out *o)
{
  unsigned n = bdb16 (b, pg + 20);
  size_t ps = b->pagesize;

  if (PAGE_HDR + (size_t) n * 2 > ps)
    return;
  for (unsigned i = 1; i < n && !o->full && !o->nomem; i += 2) {
    size_t off = bdb16 (b, pg + PAGE_HDR + 2 * i);
    size_t end = bdb16 (b, pg + PAGE_HDR + 2 * (i - 1));
    unsigned char *blob;

    if (off >= ps || end > ps || end <= off)
      continue;
    if (pg[off] == H_KEYDATA && end - off > 8) {
      if (next_record (o))
        rpm_header (o, pg + off + 1, end - off - 1);
    } else if (pg[off] == H_OFFPAGE && end - off >= 12 && next_record (o)) {
      uint32_t tlen = bdb32 (b, pg + off + 8);
      blob = bdb_overflow (b, bdb32 (b, pg + off + 4), tlen);
      if (blob == NULL)
        o->bad++;
      else
        rpm_header (o, blob, tlen);
      free (blob);
    }
  }
}

/* Check the meta page; NULL if usable, else why not. */
static const char *
bdb_meta (struct bdb *b)
{
  if (bdb32 (b, b->map + 12) != DB_HASHMAGIC) {
    b->swap = 1;
    if (bdb32 (b, b->map + 12) != DB_HASHMAGIC)
      return "not a Berkeley DB hash database";
  }
  b->pagesize = bdb32 (b, b->map + 20);
  if (b->pagesize < 512 || b->pagesize > 65536 || (b->pagesize & (b->pagesize - 1)) ||
      b->map[24] != 0)
    return "Berkeley DB with an unusable page size, or encrypted";
  b->npages = b->size / b->pagesize;
  return NULL;
}

/* Walk a Berkeley DB hash file held in memory (size bytes). */
static void
bdb_packages_mem (struct rpm_out *o, const unsigned char *map, size_t size)
{
  struct bdb b = { .map = map, .size = size };
  const char *why;

  if (size < 512) {
    add_note (o, "W", "not a Berkeley DB hash database (too short)");
    return;
  }
  if ((why = bdb_meta (&b)) != NULL) {
    add_note (o, "W", why);
    return;
  }
  for (uint32_t i = 1; i < b.npages && !o->full && !o->nomem; i++) {
    const unsigned char *pg = bdb_page (&b, i);
    if (pg[25] == P_HASH || pg[25] == P_HASH_UNSORTED)
      bdb_hash_page (&b, pg, o);
  }
}

static void
bdb_packages (struct rpm_out *o, int fd, size_t size)
{
  void *map;

  if (size < 512) {               /* too short: said without mapping it */
    bdb_packages_mem (o, NULL, size);
    return;
  }
  map = mmap (NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    add_note (o, "W", "cannot map the database file");
    return;
  }
  bdb_packages_mem (o, map, size);
  munmap (map, size);
}

/* ---- The call ---- */

/* Read the rows of the database open on fd (size bytes). */
static void
rpm_packages (struct rpm_out *o, int fd, size_t size)
{
  static const char sqlite_magic[16] = "SQLite format 3";
  unsigned char head[16];
  char proc[64], msg[64];

  if (size >= 16 && pread (fd, head, 16, 0) == 16 &&
      memcmp (head, sqlite_magic, 16) == 0) {
    gd_fd_path (proc, sizeof proc, fd);
    sqlite_packages (o, proc);
  } else
    bdb_packages (o, fd, size);
  if (o->bad) {
    snprintf (msg, sizeof msg, "%zu records are not rpm headers", o->bad);
    add_note (o, "W", msg);
  }
}

char **
do_internal_rpm_list (const char *path, int start)
{
  struct rpm_out o = { .start = start };
  size_t size;
  int fd;

  if (start < 0) {
    reply_with_error ("start %d is negative", start);
    return NULL;
  }
  if ((fd = gd_open_regular_max (path, DB_FILE_MAX, &size)) == -1)
    return NULL;
  rpm_packages (&o, fd, size);
  close (fd);
  if (o.nomem) {
    gd_strlist_free (&o.l);
    reply_with_error ("%s: out of memory", path);
    return NULL;
  }
  return gd_strlist_end (&o.l);
}
