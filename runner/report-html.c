/* runner/report-html.c: `guestkit report --format html -o FILE', the
 * fleet audit as one self-contained page: no network, no external
 * assets (a Content-Security-Policy forbids loading any), charts drawn
 * here as inline SVG, a few lines of inline script to sort the table.
 *
 *   header    images, ok / not ok, failing findings (#nfindings)
 *   charts    failing findings by severity; images by OS version
 *   table     one row per image (#fleet, sortable: click a heading, or
 *             open the page as FILE#sort=N for column N)
 *   details   per image: OS, findings with evidence, filesystems, packages
 *
 * Every string from the database may come from a guest: it goes out
 * only through html_text (control characters dropped, & < > " '
 * escaped), never into a tag, an attribute name or the script.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

/* Columns of rn_fleet_sql. */
enum { C_IMAGE, C_RUN, C_TASK, C_STATUS, C_DISTRO, C_VERSION, C_PRODUCT, C_HOST,
       C_ARCH, C_FORMAT, C_PACKAGES, C_HIGH, C_MEDIUM, C_LOW, C_PASSED, C_ERROR };

static const char *
val (const struct rn_rows *r, size_t row, size_t col)
{
  const char *s = r->cells.v[row * r->ncols + col];
  return strcmp (s, RN_NULLCELL) == 0 ? "" : s;
}

/* Escaped text for an element's content or a quoted attribute value. */
static void
html_text (struct rn_buf *b, const char *s)
{
  char *clean = rn_term_clean (s);
  for (const char *p = clean; *p; p++)
    switch (*p) {
    case '&': rn_buf_adds (b, "&amp;"); break;
    case '<': rn_buf_adds (b, "&lt;"); break;
    case '>': rn_buf_adds (b, "&gt;"); break;
    case '"': rn_buf_adds (b, "&quot;"); break;
    case '\'': rn_buf_adds (b, "&#39;"); break;
    default: rn_buf_addc (b, *p);
    }
  free (clean);
}

/* <TAG>text</TAG> */
static void
html_elem (struct rn_buf *b, const char *tag, const char *s)
{
  rn_buf_addf (b, "<%s>", tag);
  html_text (b, s);
  rn_buf_addf (b, "</%s>", tag);
}

static const char STYLE[] =
  "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
  "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.5em 0 .4em}"
  "table{border-collapse:collapse;background:#fff;margin:.3em 0}"
  "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
  "th{background:#eee}#fleet th{cursor:pointer}#fleet th:hover{background:#ddd}"
  "td.n{text-align:right}.high{color:#b00;font-weight:bold}.medium{color:#b60}"
  ".fail{color:#b00}.pass{color:#070}.charts{display:flex;gap:2em;flex-wrap:wrap}"
  ".image{border-top:1px solid #ccc;margin-top:1em}code{font-size:.9em;word-break:break-all}";

/* Sort #fleet's rows by a column: numbers as numbers, else as text. */
static const char SCRIPT[] =
  "(function(){var t=document.getElementById('fleet');if(!t)return;"
  "var hs=t.tHead.rows[0].cells;"
  "function key(r,i){var s=r.cells[i].textContent.trim();"
  "return s!==''&&!isNaN(s)?[0,Number(s),'']:[1,0,s]}"
  "function sort(i,asc){var b=t.tBodies[0],rs=Array.prototype.slice.call(b.rows);"
  "rs.sort(function(x,y){var a=key(x,i),c=key(y,i);var d=a[0]-c[0]||a[1]-c[1]||"
  "(a[2]<c[2]?-1:a[2]>c[2]?1:0);return asc?d:-d});"
  "for(var k=0;k<hs.length;k++)hs[k].removeAttribute('aria-sort');"
  "hs[i].setAttribute('aria-sort',asc?'ascending':'descending');"
  "rs.forEach(function(r){b.appendChild(r)})}"
  "Array.prototype.forEach.call(hs,function(h,i){h.addEventListener('click',function(){"
  "sort(i,h.getAttribute('aria-sort')!=='ascending')})});"
  "var m=/^#sort=(\\d+)(-?)$/.exec(location.hash);"
  "if(m&&+m[1]<hs.length)sort(+m[1],m[2]!=='-')})();";

/* ---- charts ---- */

struct bar {
  char *label;
  long value;
  const char *color;
};

/* A horizontal bar chart: labels left, bars scaled to the largest. */
static void
svg_bars (struct rn_buf *b, const char *id, const char *title, const struct bar *v, size_t n)
{
  long max = 1;
  int h = 24 * (int) n + 30;

  for (size_t i = 0; i < n; i++)
    if (v[i].value > max)
      max = v[i].value;
  rn_buf_addf (b, "<figure><svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" "
               "height=\"%d\" role=\"img\"><text x=\"0\" y=\"16\" font-weight=\"bold\">", id, h);
  html_text (b, title);
  rn_buf_adds (b, "</text>");
  for (size_t i = 0; i < n; i++) {
    int y = 26 + 24 * (int) i, w = (int) (v[i].value * 220 / max);
    rn_buf_addf (b, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 14);
    html_text (b, v[i].label);
    rn_buf_addf (b, "</text><rect x=\"150\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"%s\"/>"
                 "<text x=\"%d\" y=\"%d\" font-size=\"12\">%ld</text>", y, w ? w : 1,
                 v[i].color, 155 + w, y + 14, v[i].value);
  }
  rn_buf_adds (b, "</svg></figure>");
}

static void
chart_findings (struct rn_buf *b, const struct rn_rows *r)
{
  struct bar v[4] = { { "high", 0, "#c22" }, { "medium", 0, "#e80" },
                      { "low", 0, "#db3" }, { "passed", 0, "#3a3" } };
  for (size_t i = 0; i < r->nrows; i++)
    for (int k = 0; k < 4; k++)
      v[k].value += atol (val (r, i, C_HIGH + k));
  svg_bars (b, "chart-findings", "Findings by severity (failing), and checks passed", v, 4);
}

/* Images counted by "distro version", in order of first appearance. */
static void
chart_os (struct rn_buf *b, const struct rn_rows *r)
{
  struct bar *v = rn_calloc (r->nrows + 1, sizeof *v);
  size_t n = 0;

  for (size_t i = 0; i < r->nrows; i++) {
    char *label = *val (r, i, C_DISTRO) ?
      rn_asprintf ("%s %s", val (r, i, C_DISTRO), val (r, i, C_VERSION)) :
      rn_strdup ("(no OS found)");
    size_t k = 0;
    while (k < n && strcmp (v[k].label, label) != 0)
      k++;
    if (k == n && n < 12) {
      v[n].label = label;
      v[n++].color = "#48c";
      label = NULL;
    }
    if (k < n)
      v[k].value++;
    free (label);
  }
  svg_bars (b, "chart-os", "Images by OS version", v, n);
  for (size_t k = 0; k < n; k++)
    free (v[k].label);
  free (v);
}

/* ---- the summary and the table ---- */

static long
sum_col (const struct rn_rows *r, int col)
{
  long s = 0;
  for (size_t i = 0; i < r->nrows; i++)
    s += atol (val (r, i, col));
  return s;
}

static void
summary (struct rn_buf *b, const struct rn_rows *r, const char *scope)
{
  long ok = 0;
  for (size_t i = 0; i < r->nrows; i++)
    ok += strcmp (val (r, i, C_STATUS), "ok") == 0;
  rn_buf_adds (b, "<h1>Fleet audit</h1><p id=\"summary\">");
  html_text (b, scope);
  rn_buf_addf (b, ": <b id=\"nimages\">%zu</b> images, %ld audited ok, %ld not; "
               "<b id=\"nfindings\">%ld</b> failing findings (<span class=\"high\">%ld "
               "high</span>, %ld medium, %ld low), %ld checks passed.</p>",
               r->nrows, ok, (long) r->nrows - ok,
               sum_col (r, C_HIGH) + sum_col (r, C_MEDIUM) + sum_col (r, C_LOW),
               sum_col (r, C_HIGH), sum_col (r, C_MEDIUM), sum_col (r, C_LOW),
               sum_col (r, C_PASSED));
}

static const int table_cols[] = { C_IMAGE, C_STATUS, C_HOST, C_DISTRO, C_VERSION,
                                  C_PRODUCT, C_ARCH, C_PACKAGES, C_HIGH, C_MEDIUM,
                                  C_LOW, C_PASSED };
#define NTABLE (sizeof table_cols / sizeof table_cols[0])

static void
fleet_table (struct rn_buf *b, const struct rn_rows *r)
{
  rn_buf_adds (b, "<h2>Images</h2><table id=\"fleet\"><thead><tr>");
  for (size_t c = 0; c < NTABLE; c++)
    html_elem (b, "th", r->names.v[table_cols[c]]);
  rn_buf_adds (b, "</tr></thead><tbody>");
  for (size_t i = 0; i < r->nrows; i++) {
    rn_buf_adds (b, "<tr>");
    for (size_t c = 0; c < NTABLE; c++) {
      int col = table_cols[c];
      if (col == C_IMAGE) {
        rn_buf_addf (b, "<td><a href=\"#img-%zu\">", i + 1);
        html_text (b, rn_basename (val (r, i, col)));
        rn_buf_adds (b, "</a></td>");
      } else {
        rn_buf_adds (b, col >= C_PACKAGES && col <= C_PASSED ? "<td class=\"n\">" : "<td>");
        html_text (b, val (r, i, col));
        rn_buf_adds (b, "</td>");
      }
    }
    rn_buf_adds (b, "</tr>");
  }
  rn_buf_adds (b, "</tbody></table>");
}

/* ---- per-image detail ---- */

/* A small table of a query's rows (every cell escaped). */
static int
detail_table (struct rn_buf *b, struct rn_db *db, const char *cls, const char *sql,
              const char *run, const char *seq, char **err)
{
  const char *p[2] = { run, seq };
  struct rn_rows r = { 0 };

  if (rn_db_query (db, sql, p, 2, rn_rows_collect, &r, err) == -1)
    return -1;
  if (r.nrows) {
    rn_buf_addf (b, "<table class=\"%s\"><tr>", cls);
    for (size_t c = 0; c < r.ncols; c++)
      html_elem (b, "th", r.names.v[c]);
    rn_buf_adds (b, "</tr>");
    for (size_t i = 0; i < r.nrows; i++) {
      rn_buf_adds (b, "<tr>");
      for (size_t c = 0; c < r.ncols; c++) {
        const char *s = val (&r, i, c);
        if (strcmp (s, "fail") == 0 || strcmp (s, "pass") == 0 || strcmp (s, "high") == 0)
          rn_buf_addf (b, "<td class=\"%s\">", s);
        else
          rn_buf_adds (b, "<td>");
        html_text (b, s);
        rn_buf_adds (b, "</td>");
      }
      rn_buf_adds (b, "</tr>");
    }
    rn_buf_adds (b, "</table>");
  }
  rn_rows_free (&r);
  return 0;
}

#define TASK_OF "(SELECT id FROM tasks WHERE run_id = ?1 AND seq = ?2)"

static const char FINDINGS_SQL[] =
  "SELECT check_id AS \"check\", severity, CASE passed WHEN 1 THEN 'pass' ELSE 'fail' END "
  "AS result, description, evidence_path AS path, evidence_value AS value FROM findings "
  "WHERE task_id = " TASK_OF " ORDER BY passed, CASE severity WHEN 'high' THEN 0 "
  "WHEN 'medium' THEN 1 ELSE 2 END, check_id";
static const char FS_SQL[] =
  "SELECT device, type, label, uuid, size, used FROM filesystems WHERE task_id = "
  TASK_OF " ORDER BY device";
static const char PKG_SQL[] =
  "SELECT name, CASE WHEN epoch <> 0 THEN epoch || ':' ELSE '' END || version || "
  "CASE WHEN release <> '' THEN '-' || release ELSE '' END AS version, arch "
  "FROM applications WHERE task_id = " TASK_OF " ORDER BY name, arch";

static int
image_detail (struct rn_buf *b, struct rn_db *db, const struct rn_rows *r, size_t i,
              char **err)
{
  static const int facts[] = { C_STATUS, C_HOST, C_DISTRO, C_VERSION, C_PRODUCT,
                               C_ARCH, C_FORMAT, C_ERROR };
  const char *run = val (r, i, C_RUN), *seq = val (r, i, C_TASK);

  rn_buf_addf (b, "<div class=\"image\" id=\"img-%zu\">", i + 1);
  html_elem (b, "h3", val (r, i, C_IMAGE));
  rn_buf_adds (b, "<table class=\"os\">");
  for (size_t k = 0; k < sizeof facts / sizeof facts[0]; k++)
    if (*val (r, i, facts[k])) {
      rn_buf_adds (b, "<tr>");
      html_elem (b, "th", r->names.v[facts[k]]);
      html_elem (b, "td", val (r, i, facts[k]));
      rn_buf_adds (b, "</tr>");
    }
  rn_buf_adds (b, "</table>");
  if (detail_table (b, db, "findings", FINDINGS_SQL, run, seq, err) == -1 ||
      detail_table (b, db, "filesystems", FS_SQL, run, seq, err) == -1)
    return -1;
  rn_buf_addf (b, "<details><summary>%s packages</summary>", val (r, i, C_PACKAGES));
  if (detail_table (b, db, "packages", PKG_SQL, run, seq, err) == -1)
    return -1;
  rn_buf_adds (b, "</details></div>");
  return 0;
}

/* ---- the page ---- */

static int
page (struct rn_buf *b, struct rn_db *db, const struct rn_rows *r, const char *scope,
      char **err)
{
  rn_buf_adds (b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
               "<title>guestkit fleet audit</title><style>");
  rn_buf_adds (b, STYLE);
  rn_buf_adds (b, "</style></head><body>");
  summary (b, r, scope);
  rn_buf_adds (b, "<div class=\"charts\">");
  chart_findings (b, r);
  chart_os (b, r);
  rn_buf_adds (b, "</div>");
  fleet_table (b, r);
  rn_buf_adds (b, "<h2>Details</h2>");
  for (size_t i = 0; i < r->nrows; i++)
    if (image_detail (b, db, r, i, err) == -1)
      return -1;
  rn_buf_adds (b, "<script>");
  rn_buf_adds (b, SCRIPT);
  rn_buf_adds (b, "</script></body></html>\n");
  return 0;
}

/* Write text to path through path.tmp.PID and a rename. */
static int
write_atomic (const char *path, const char *text, size_t len, char **err)
{
  char *tmp = rn_asprintf ("%s.tmp.%ld", path, (long) getpid ());
  FILE *f = fopen (tmp, "wx");
  int ok;

  if (f == NULL) {
    *err = rn_asprintf ("%s: %s", tmp, strerror (errno));
    free (tmp);
    return -1;
  }
  ok = fwrite (text, 1, len, f) == len;
  ok = fclose (f) == 0 && ok;
  if (!ok || rename (tmp, path) == -1) {
    *err = rn_asprintf ("%s: %s", ok ? path : tmp, strerror (errno));
    unlink (tmp);
    free (tmp);
    return -1;
  }
  free (tmp);
  return 0;
}

int
rn_report_html (struct rn_db *db, int all, const char *const *params, const char *path,
                char **err)
{
  char *sql = rn_fleet_sql (all, 0);
  char *scope = all ? rn_strdup ("each image's latest audit") :
                      rn_asprintf ("run %s", params[0]);
  struct rn_rows r = { 0 };
  struct rn_buf b = { 0 };
  int rc = -1;

  if (rn_db_query (db, sql, params, 2, rn_rows_collect, &r, err) == 0 && r.nrows == 0)
    *err = rn_asprintf ("no image in %s", scope);
  else if (*err == NULL && page (&b, db, &r, scope, err) == 0)
    rc = write_atomic (path, b.s, b.len, err);
  rn_buf_free (&b);
  rn_rows_free (&r);
  free (scope);
  free (sql);
  return rc;
}
