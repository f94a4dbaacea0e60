/* runner/rn-report.h: reading results back: package versions (vercmp.c),
 * guestkit report (report.c, report-fleet.c, report-html.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_REPORT_H
#define RN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "rn-util.h"

struct rn_db;                /* rn-db.h (db.c) */

/* ---- vercmp.c: package versions by their format's rules ---- */

enum rn_pkgfmt { RN_PKG_DEB, RN_PKG_RPM };
/* The rules a package format's versions follow (deb for unknown ones). */
enum rn_pkgfmt rn_pkgfmt_of (const char *package_format);
/* One version part (upstream version or revision/release): <0, 0, >0.
 * NULL is "". */
int rn_vercmp_deb (const char *a, const char *b);
int rn_vercmp_rpm (const char *a, const char *b);

/* epoch:version-release; strings not owned. */
struct rn_evr {
  int64_t epoch;
  const char *version;
  const char *release;       /* NULL or "": none given */
};
int rn_evr_cmp (enum rn_pkgfmt f, const struct rn_evr *a, const struct rn_evr *b);
/* Split s in place ("1:9.2p1-2" -> 1, "9.2p1", "2"); -1 if malformed. */
int rn_evr_parse (char *s, struct rn_evr *e);

enum rn_verop { RN_OP_ANY, RN_OP_LT, RN_OP_LE, RN_OP_EQ, RN_OP_GE, RN_OP_GT };
/* NAME[<|<=|=|>=|>VERSION], parsed in place of s. */
struct rn_pkgquery {
  const char *name;          /* points into s */
  enum rn_verop op;          /* RN_OP_ANY: no version given */
  const char *text;          /* the version as written (into s), or NULL */
  struct rn_evr evr;         /* its parts (into evrbuf) */
  char evrbuf[256];
};
/* 0, or -1 when s is not of that form (empty name, bad version). */
int rn_pkgquery_parse (char *s, struct rn_pkgquery *q);
/* Does a comparison result (<0, 0, >0) satisfy op? */
int rn_verop_holds (enum rn_verop op, int cmp);

/* ---- report.c: guestkit report / status ---- */

/* Rows of a query, printed as a table, JSON or CSV.  Each column has a
 * kind: s text, n number, j JSON (kept structured in JSON output). */
enum rn_fmt { RN_FMT_TABLE, RN_FMT_JSON, RN_FMT_CSV, RN_FMT_HTML };
#define RN_NULLCELL "\x01"          /* a cell that was SQL NULL */
struct rn_rows {
  size_t ncols;
  const char *kinds;          /* per column: s, n or j */
  struct rn_strv names;
  struct rn_strv cells;       /* row-major; RN_NULLCELL marks SQL NULL */
  size_t nrows;
};
/* An rn_row_fn appending to a struct rn_rows. */
int rn_rows_collect (void *ctx, int ncols, char **cols, char **names);
void rn_rows_print (const struct rn_rows *r, enum rn_fmt f);   /* not HTML */
void rn_rows_free (struct rn_rows *r);
/* A guest string made safe for a terminal, as a table cell is: C0 and C1
 * controls, DEL and bytes that are not UTF-8 become visible escapes (\e,
 * \x07, \u009b); newline and tab stay.  Caller frees. */
char *rn_term_clean (const char *s);

int rn_cmd_report (int argc, char **argv);

/* ---- report-fleet.c: report --packages/--findings/--fleet/--diff/--baseline ---- */

/* Does this report command line ask for a fleet view (or HTML)? */
int rn_report_is_fleet (int argc, char **argv);
void rn_report_fleet_usage (FILE *f);
int rn_cmd_report_fleet (int argc, char **argv);
/* The per-image fleet query (?1 run, ?2 image glob or ''); all: each
 * image's latest audit; with_json: its findings and filesystems as JSON
 * columns too.  Caller frees. */
char *rn_fleet_sql (int all, int with_json);

/* ---- report-html.c: the fleet as one HTML page ---- */

/* Write the page to path (through a temporary file: never a partial
 * one); params as for rn_fleet_sql.  0, or -1 with *err. */
int rn_report_html (struct rn_db *db, int all, const char *const *params,
                    const char *path, char **err);
int rn_cmd_status (int argc, char **argv);

#endif /* RN_REPORT_H */
