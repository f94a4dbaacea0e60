/* runner/report-fleet.c: the fleet views of `guestkit report', over the
 * audit tables of schemas/results.sql (os, applications, filesystems,
 * findings):
 *
 *   --packages NAME[OP VERSION]  images holding a package, versions compared
 *                                by the image's package format (vercmp.c)
 *   --findings [--failed]        every check's result per image
 *   --fleet                      one row per image: OS, counts, findings
 *   --diff RUN_A RUN_B           per image: what changed between two audits
 *   --baseline IMAGE             per image: what differs from IMAGE
 *   --format html -o FILE        the fleet as one page (report-html.c)
 *
 * Scope: --run RUN, else the latest run that recorded inventory or
 * findings; --all takes each image's latest such task.  report.c hands
 * over to rn_cmd_report_fleet when one of these options is given; the
 * rows are printed by report.c's printers, which clean guest strings of
 * control characters for a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* Tasks in scope, as an SQL condition on t; ?1 the run. */
#define SCOPE_RUN "t.run_id = ?1"
#define SCOPE_ALL "t.id IN (SELECT max(t2.id) FROM tasks t2 WHERE " \
  "EXISTS (SELECT 1 FROM os WHERE task_id = t2.id) OR " \
  "EXISTS (SELECT 1 FROM findings WHERE task_id = t2.id) GROUP BY t2.image)"
/* ...and on the image pattern, ?2. */
#define IMAGE_COND " AND (?2 = '' OR t.image GLOB ?2 OR t.image GLOB '*/' || ?2)"

int
rn_report_is_fleet (int argc, char **argv)
{
  static const char *const opts[] = { "--packages", "--findings", "--fleet", "--diff",
                                      "--baseline", "-o", "--output", NULL };
  for (int i = 1; i < argc; i++) {
    for (size_t k = 0; opts[k]; k++) {
      size_t n = strlen (opts[k]);
      if (strncmp (argv[i], opts[k], n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
        return 1;
    }
    if ((strcmp (argv[i], "--format") == 0 && i + 1 < argc && strcmp (argv[i + 1], "html") == 0) ||
        strcmp (argv[i], "--format=html") == 0)
      return 1;
  }
  return 0;
}

void
rn_report_fleet_usage (FILE *f)
{
  fprintf (f,
"\n"
"Audits (tables filled by the inventory step and checks:):\n"
"  --packages NAME[OP VERSION]  images holding package NAME; OP is <, <=, =,\n"
"                     >= or >; versions compare by the image's package format\n"
"                     (dpkg's rules for deb, rpmvercmp for rpm)\n"
"  --findings         each check's result per image (--failed: failures only)\n"
"  --fleet            one row per image: OS, packages, findings by severity\n"
"  --diff RUN_A RUN_B per image: OS facts, saved facts, packages and findings\n"
"                     that changed from RUN_A to RUN_B\n"
"  --baseline IMAGE   per image: what differs from IMAGE\n"
"  --format html -o FILE  the fleet as one self-contained HTML page\n"
"These read the latest run that recorded an audit, or --run RUN; with --all,\n"
"each image's latest audit.\n");
}

/* ---- options ---- */

struct fleet_opts {
  const char *db, *run, *image, *out;
  int all, failed;
  enum rn_fmt fmt;
  char mode;                  /* p packages, f findings, l fleet, d diff, b baseline */
  const char *arg, *arg2;     /* --packages / --baseline / --diff's runs */
  char latest[32];            /* the run found when none is given */
};

static int
set_mode (struct fleet_opts *o, char mode, const char *arg)
{
  if (o->mode && o->mode != mode) {
    fprintf (stderr, "%s: report: choose one of --packages, --findings, --fleet, "
             "--diff and --baseline\n", rn_progname);
    return -1;
  }
  o->mode = mode;
  o->arg = arg;
  return 0;
}

static int
parse_format (struct fleet_opts *o, const char *s)
{
  static const char *const names[] = { "table", "json", "csv", "html" };
  for (int i = 0; i < 4; i++)
    if (strcmp (s, names[i]) == 0) {
      o->fmt = (enum rn_fmt) i;
      return 0;
    }
  fprintf (stderr, "%s: report: --format: expected table, json, csv or html, got '%s'\n",
           rn_progname, s);
  return -1;
}

static int
parse_run_number (const char *what, const char *s)
{
  int64_t x;
  if (rn_parse_int (s, &x) == -1 || x < 1) {
    fprintf (stderr, "%s: report: %s: expected a run number, got '%s'\n", rn_progname,
             what, s);
    return -1;
  }
  return 0;
}

/* After getopt: the modes' consistency; 0 or -1. */
static int
check_opts (struct fleet_opts *o)
{
  if (o->fmt == RN_FMT_HTML && o->mode == 0)
    o->mode = 'l';
  if (o->mode == 'l' && o->fmt == RN_FMT_HTML && o->out == NULL) {
    fprintf (stderr, "%s: report: --format html needs -o FILE\n", rn_progname);
    return -1;
  }
  if (o->fmt == RN_FMT_HTML && o->mode != 'l') {
    fprintf (stderr, "%s: report: --format html is the fleet page: not with --packages, "
             "--findings, --diff or --baseline\n", rn_progname);
    return -1;
  }
  if (o->out && o->fmt != RN_FMT_HTML) {
    fprintf (stderr, "%s: report: -o is for --format html\n", rn_progname);
    return -1;
  }
  if (o->run && o->all) {
    fprintf (stderr, "%s: report: --run and --all do not go together\n", rn_progname);
    return -1;
  }
  if (o->mode == 'd' && (o->run || o->all)) {
    fprintf (stderr, "%s: report: --diff names its two runs: not with --run or --all\n",
             rn_progname);
    return -1;
  }
  return 0;
}

static int
parse_fleet_args (int argc, char **argv, struct fleet_opts *o)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' }, { "run", required_argument, NULL, 'r' },
    { "all", no_argument, NULL, 'a' }, { "image", required_argument, NULL, 'i' },
    { "failed", no_argument, NULL, 'F' }, { "format", required_argument, NULL, 'm' },
    { "output", required_argument, NULL, 'o' },
    { "packages", required_argument, NULL, 'p' }, { "findings", no_argument, NULL, 'f' },
    { "fleet", no_argument, NULL, 'l' }, { "diff", required_argument, NULL, 'D' },
    { "baseline", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 },
  };
  int c;

  optind = 1;
  while ((c = getopt_long (argc, argv, "o:", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case 'd': o->db = optarg; break;
    case 'r': o->run = optarg; bad = parse_run_number ("--run", optarg); break;
    case 'a': o->all = 1; break;
    case 'i': o->image = optarg; break;
    case 'F': o->failed = 1; break;
    case 'm': bad = parse_format (o, optarg); break;
    case 'o': o->out = optarg; break;
    case 'p': case 'f': case 'l': case 'b': bad = set_mode (o, (char) c, optarg); break;
    case 'D':
      if (optind >= argc) {
        fprintf (stderr, "%s: report: --diff needs two runs: --diff RUN_A RUN_B\n",
                 rn_progname);
        return -1;
      }
      o->arg2 = argv[optind++];
      bad = set_mode (o, 'd', optarg) || parse_run_number ("--diff", optarg) ||
            parse_run_number ("--diff", o->arg2);
      break;
    default:
      fprintf (stderr, "Try 'guestkit report --help'.\n");
      return -1;
    }
    if (bad)
      return -1;
  }
  if (optind < argc) {
    fprintf (stderr, "%s: report: unexpected argument '%s'\n", rn_progname, argv[optind]);
    return -1;
  }
  return check_opts (o);
}

/* ---- --packages ---- */

/* Columns of the lookup: image, run, task, name, epoch, version, release,
 * arch, package_format. */
static char *
packages_sql (const struct fleet_opts *o)
{
  return rn_asprintf (
    "SELECT t.image, t.run_id AS run, t.seq AS task, a.name, a.epoch, a.version, "
    "a.release, a.arch, o.package_format FROM applications a "
    "JOIN tasks t ON t.id = a.task_id "
    "LEFT JOIN os o ON o.task_id = a.task_id AND o.root = a.root "
    "WHERE a.name = ?3 AND %s" IMAGE_COND " ORDER BY t.image, a.arch",
    o->all ? SCOPE_ALL : SCOPE_RUN);
}

/* "epoch:version-release" as dpkg and rpm print it. */
static char *
evr_text (const char *epoch, const char *version, const char *release)
{
  int e = epoch && strcmp (epoch, "0") != 0 && strcmp (epoch, RN_NULLCELL) != 0;
  int r = release && *release && strcmp (release, RN_NULLCELL) != 0;
  return rn_asprintf ("%s%s%s%s%s", e ? epoch : "", e ? ":" : "", version, r ? "-" : "",
                      r ? release : "");
}

/* Keep the rows whose version satisfies the query; reshape the columns. */
static void
packages_filter (const struct rn_rows *in, const struct rn_pkgquery *q, struct rn_rows *out)
{
  static const char *const names[] = { "image", "run", "task", "name", "version",
                                       "arch", "format" };
  out->kinds = "snnssss";
  out->ncols = 7;
  for (size_t c = 0; c < 7; c++)
    rn_strv_add (&out->names, rn_strdup (names[c]));
  for (size_t i = 0; i < in->nrows; i++) {
    char *const *row = in->cells.v + i * in->ncols;
    const char *fmt = strcmp (row[8], RN_NULLCELL) ? row[8] : "";
    struct rn_evr have = { strtoll (row[4], NULL, 10), row[5], row[6] };
    if (q->op != RN_OP_ANY &&
        !rn_verop_holds (q->op, rn_evr_cmp (rn_pkgfmt_of (fmt), &have, &q->evr)))
      continue;
    for (size_t c = 0; c < 4; c++)
      rn_strv_add (&out->cells, rn_strdup (row[c]));
    rn_strv_add (&out->cells, evr_text (row[4], row[5], row[6]));
    rn_strv_add (&out->cells, rn_strdup (row[7]));
    rn_strv_add (&out->cells, rn_strdup (fmt));
    out->nrows++;
  }
}

static int
report_packages (struct rn_db *db, const struct fleet_opts *o, const char *const *params,
                 struct rn_rows *out, char **err)
{
  char *spec = rn_strdup (o->arg), *sql;
  struct rn_pkgquery q;
  struct rn_rows raw = { 0 };
  const char *p[3];
  int r;

  if (rn_pkgquery_parse (spec, &q) == -1) {
    *err = rn_asprintf ("--packages: expected NAME or NAME<VERSION (operators < <= = "
                        ">= >, version [EPOCH:]VERSION[-RELEASE]), got '%s'", o->arg);
    free (spec);
    return -1;
  }
  p[0] = params[0];
  p[1] = params[1];
  p[2] = q.name;
  sql = packages_sql (o);
  r = rn_db_query (db, sql, p, 3, rn_rows_collect, &raw, err);
  if (r == 0)
    packages_filter (&raw, &q, out);
  rn_rows_free (&raw);
  free (sql);
  free (spec);
  return r;
}

/* ---- --findings, --fleet ---- */

static int
report_findings (struct rn_db *db, const struct fleet_opts *o, const char *const *params,
                 struct rn_rows *out, char **err)
{
  char *sql = rn_asprintf (
    "SELECT t.image, t.run_id AS run, t.seq AS task, f.check_id AS check_id, f.severity, "
    "CASE f.passed WHEN 1 THEN 'pass' ELSE 'fail' END AS result, f.description, "
    "f.evidence_path AS path, f.evidence_value AS value "
    "FROM findings f JOIN tasks t ON t.id = f.task_id WHERE %s" IMAGE_COND "%s "
    "ORDER BY t.image, f.passed, CASE f.severity WHEN 'high' THEN 0 WHEN 'medium' "
    "THEN 1 ELSE 2 END, f.check_id", o->all ? SCOPE_ALL : SCOPE_RUN,
    o->failed ? " AND f.passed = 0" : "");
  int r;

  out->kinds = "snnssssss";
  r = rn_db_query (db, sql, params, 2, rn_rows_collect, out, err);
  free (sql);
  return r;
}

char *
rn_fleet_sql (int all, int with_json)
{
  return rn_asprintf (
    "SELECT t.image, t.run_id AS run, t.seq AS task, t.status, o.distro, "
    "CASE WHEN o.major_version IS NULL THEN NULL ELSE o.major_version || '.' || "
    "coalesce(o.minor_version, 0) END AS version, o.product, o.hostname, o.arch, "
    "o.package_format AS format, "
    "(SELECT count(*) FROM applications WHERE task_id = t.id) AS packages, "
    "(SELECT count(*) FROM findings WHERE task_id = t.id AND NOT passed AND severity = 'high') AS high, "
    "(SELECT count(*) FROM findings WHERE task_id = t.id AND NOT passed AND severity = 'medium') AS medium, "
    "(SELECT count(*) FROM findings WHERE task_id = t.id AND NOT passed AND severity = 'low') AS low, "
    "(SELECT count(*) FROM findings WHERE task_id = t.id AND passed) AS passed, "
    "t.error%s FROM tasks t LEFT JOIN os o ON o.task_id = t.id AND o.root = "
    "(SELECT min(root) FROM os WHERE task_id = t.id) WHERE %s" IMAGE_COND
    " ORDER BY t.image, t.seq", with_json ? ", "
    "(SELECT json_group_array(json_object('check', check_id, 'severity', severity, "
    "'passed', passed, 'description', description, 'path', evidence_path, 'value', "
    "evidence_value)) FROM findings WHERE task_id = t.id) AS findings, "
    "(SELECT json_group_array(json_object('device', device, 'type', type, 'label', "
    "label, 'uuid', uuid, 'size', size, 'used', used)) FROM filesystems "
    "WHERE task_id = t.id) AS filesystems" : "", all ? SCOPE_ALL : SCOPE_RUN);
}

/* ---- --diff, --baseline ---- */

/* What a task set holds, one row per (image, kind, name) -> value, sorted:
 * OS facts, saved facts, packages (name:arch -> version), findings. */
static char *
entries_sql (const char *scope)
{
  return rn_asprintf (
    "WITH s AS (SELECT t.id, t.image FROM tasks t WHERE %s" IMAGE_COND ") "
    "SELECT s.image, 'os', j.key, j.value FROM s JOIN os o ON o.task_id = s.id, "
    "json_each(json_object('type', o.type, 'distro', o.distro, 'version', "
    "o.major_version || '.' || o.minor_version, 'product', o.product, 'hostname', "
    "o.hostname, 'arch', o.arch, 'package_format', o.package_format)) j "
    "UNION ALL SELECT s.image, 'fact', f.name, f.value FROM s JOIN facts f ON f.task_id = s.id "
    "UNION ALL SELECT s.image, 'package', a.name || CASE WHEN a.arch <> '' THEN ':' || "
    "a.arch ELSE '' END, CASE WHEN a.epoch <> 0 THEN a.epoch || ':' ELSE '' END || "
    "a.version || CASE WHEN a.release <> '' THEN '-' || a.release ELSE '' END "
    "FROM s JOIN applications a ON a.task_id = s.id "
    "UNION ALL SELECT s.image, 'finding', f.check_id, CASE f.passed WHEN 1 THEN 'pass' "
    "ELSE 'fail' END FROM s JOIN findings f ON f.task_id = s.id "
    "ORDER BY 1, 2, 3", scope);
}

static int
load_entries (struct rn_db *db, const char *scope, const char *run, const char *image,
              struct rn_rows *r, char **err)
{
  const char *p[2] = { run, image };
  char *sql = entries_sql (scope);
  int rc = rn_db_query (db, sql, p, 2, rn_rows_collect, r, err);
  free (sql);
  r->ncols = 4;
  return rc;
}

/* Row i of an entry list, or NULL past the end. */
static char *const *
entry (const struct rn_rows *r, size_t i)
{
  return i < r->nrows ? r->cells.v + i * 4 : NULL;
}

/* Compare two entries by the first `cols' columns (image, kind, name). */
static int
entry_cmp (char *const *a, char *const *b, int cols)
{
  for (int c = 0; c < cols; c++) {
    int x = strcmp (a[c], b[c]);
    if (x)
      return x;
  }
  return 0;
}

static int
has_image (const struct rn_rows *r, const char *image)
{
  size_t lo = 0, hi = r->nrows;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp (entry (r, mid)[0], image);
    if (c == 0)
      return 1;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

static void
diff_row (struct rn_rows *out, const char *image, const char *kind, const char *name,
          const char *change, const char *before, const char *after)
{
  const char *v[6] = { image, kind, name, change, before, after };
  for (int i = 0; i < 6; i++)
    rn_strv_add (&out->cells, rn_strdup (v[i] ? v[i] : RN_NULLCELL));
  out->nrows++;
}

static void
diff_header (struct rn_rows *out, const char *before, const char *after)
{
  const char *n[6] = { "image", "kind", "name", "change", before, after };
  out->ncols = 6;
  out->kinds = "ssssss";
  for (int i = 0; i < 6; i++)
    rn_strv_add (&out->names, rn_strdup (n[i]));
}

/* One side's entry (the other has none): added, removed, or (for an
 * image the other run did not audit) nothing but one row per image. */
static void
diff_one_side (const struct rn_rows *other, char *const *e, int in_a, struct rn_rows *out,
               const char **last_image)
{
  if (!has_image (other, e[0])) {
    if (*last_image == NULL || strcmp (*last_image, e[0]) != 0)
      diff_row (out, e[0], "image", "", in_a ? "removed" : "added",
                in_a ? "audited" : NULL, in_a ? NULL : "audited");
    *last_image = e[0];
    return;
  }
  diff_row (out, e[0], e[1], e[2], in_a ? "removed" : "added",
            in_a ? e[3] : NULL, in_a ? NULL : e[3]);
}

/* Merge two sorted entry lists (same images compared). */
static void
diff_merge (const struct rn_rows *a, const struct rn_rows *b, struct rn_rows *out)
{
  size_t i = 0, j = 0;
  const char *last = NULL;

  while (entry (a, i) || entry (b, j)) {
    char *const *x = entry (a, i), *const *y = entry (b, j);
    int c = x == NULL ? 1 : y == NULL ? -1 : entry_cmp (x, y, 3);
    if (c < 0) {
      diff_one_side (b, x, 1, out, &last);
      i++;
    } else if (c > 0) {
      diff_one_side (a, y, 0, out, &last);
      j++;
    } else {
      if (strcmp (x[3], y[3]) != 0)
        diff_row (out, x[0], x[1], x[2], strcmp (x[1], "finding") == 0 ? "flipped" : "changed",
                  x[3], y[3]);
      i++;
      j++;
    }
  }
}

static int
report_diff (struct rn_db *db, const struct fleet_opts *o, struct rn_rows *out, char **err)
{
  struct rn_rows a = { 0 }, b = { 0 };
  const char *img = o->image ? o->image : "";
  int r = -1;

  if (load_entries (db, SCOPE_RUN, o->arg, img, &a, err) == 0 &&
      load_entries (db, SCOPE_RUN, o->arg2, img, &b, err) == 0) {
    char *ba = rn_asprintf ("run_%s", o->arg), *bb = rn_asprintf ("run_%s", o->arg2);
    diff_header (out, ba, bb);
    diff_merge (&a, &b, out);
    free (ba);
    free (bb);
    r = 0;
  }
  rn_rows_free (&a);
  rn_rows_free (&b);
  return r;
}

/* The entries of the baseline image, with the image column set to the
 * compared one, so that they merge against it. */
static void
baseline_as (const struct rn_rows *base, const char *image, struct rn_rows *out)
{
  out->ncols = 4;
  for (size_t i = 0; i < base->nrows; i++) {
    rn_strv_add (&out->cells, rn_strdup (image));
    for (int c = 1; c < 4; c++)
      rn_strv_add (&out->cells, rn_strdup (entry (base, i)[c]));
    out->nrows++;
  }
}

/* Each image (its entries in all, sorted) against the baseline's. */
static void
baseline_compare (const struct rn_rows *all, const struct rn_rows *base,
                  const char *base_image, struct rn_rows *out)
{
  for (size_t i = 0; i < all->nrows;) {
    const char *image = entry (all, i)[0];
    struct rn_rows one = { .ncols = 4 }, ref = { 0 };
    size_t j = i;
    for (; j < all->nrows && strcmp (entry (all, j)[0], image) == 0; j++) {
      for (int c = 0; c < 4; c++)
        rn_strv_add (&one.cells, rn_strdup (entry (all, j)[c]));
      one.nrows++;
    }
    if (strcmp (image, base_image) != 0) {
      baseline_as (base, image, &ref);
      diff_merge (&ref, &one, out);
    }
    rn_rows_free (&one);
    rn_rows_free (&ref);
    i = j;
  }
}

static int
report_baseline (struct rn_db *db, const struct fleet_opts *o, const char *const *params,
                 struct rn_rows *out, char **err)
{
  struct rn_rows all = { 0 }, base = { 0 };
  const char *scope = o->all ? SCOPE_ALL : SCOPE_RUN;
  int r = -1;

  if (load_entries (db, scope, params[0], o->arg, &base, err) == 0 &&
      load_entries (db, scope, params[0], params[1], &all, err) == 0) {
    const char *img = base.nrows ? entry (&base, 0)[0] : NULL;
    if (img == NULL)
      *err = rn_asprintf ("--baseline: no audit of an image matching '%s' in scope", o->arg);
    else if (strcmp (entry (&base, base.nrows - 1)[0], img) != 0)
      *err = rn_asprintf ("--baseline: '%s' matches more than one image", o->arg);
    else {
      diff_header (out, "baseline", "image_value");
      baseline_compare (&all, &base, img, out);
      r = 0;
    }
  }
  rn_rows_free (&all);
  rn_rows_free (&base);
  return r;
}

/* ---- the command ---- */

static int
first_col (void *ctx, int ncols, char **cols, char **names)
{
  char *out = ctx;
  if (ncols > 0 && cols[0])
    snprintf (out, 32, "%s", cols[0]);
  return 1;
}

/* The run to read when --run and --all are not given. */
static int
find_latest (struct rn_db *db, struct fleet_opts *o, char **err)
{
  if (o->run || o->all || o->mode == 'd')
    return 0;
  if (rn_db_query (db, "SELECT max(t.run_id) FROM tasks t WHERE t.id IN "
                   "(SELECT task_id FROM os UNION SELECT task_id FROM findings)",
                   NULL, 0, first_col, o->latest, err) == -1)
    return -1;
  if (o->latest[0] == '\0') {
    *err = rn_asprintf ("%s holds no audit yet (no run recorded inventory or findings)", o->db);
    return -1;
  }
  o->run = o->latest;
  return 0;
}

static int
fleet_dispatch (struct rn_db *db, struct fleet_opts *o, struct rn_rows *out, char **err)
{
  const char *params[2] = { o->all ? "0" : o->run, o->image ? o->image : "" };

  switch (o->mode) {
  case 'p': return report_packages (db, o, params, out, err);
  case 'f': return report_findings (db, o, params, out, err);
  case 'd': return report_diff (db, o, out, err);
  case 'b': return report_baseline (db, o, params, out, err);
  }
  if (o->fmt == RN_FMT_HTML)
    return rn_report_html (db, o->all, params, o->out, err);
  {
    char *sql = rn_fleet_sql (o->all, o->fmt == RN_FMT_JSON);
    int r;
    out->kinds = "snnsssssssnnnnnsjj";
    r = rn_db_query (db, sql, params, 2, rn_rows_collect, out, err);
    free (sql);
    return r;
  }
}

int
rn_cmd_report_fleet (int argc, char **argv)
{
  struct fleet_opts o = { .db = "guestkit.db" };
  struct rn_rows out = { 0 };
  struct rn_db *db;
  char *err = NULL;
  int rc = RN_EXIT_OK;

  if (parse_fleet_args (argc, argv, &o) == -1)
    return RN_EXIT_USAGE;
  if ((db = rn_db_open (o.db, 0, &err)) == NULL) {
    fprintf (stderr, "%s: report: %s\n", rn_progname, err);
    free (err);
    return RN_EXIT_USAGE;
  }
  if (find_latest (db, &o, &err) == -1 || fleet_dispatch (db, &o, &out, &err) == -1) {
    char *clean = rn_term_clean (err ? err : "failed");
    fprintf (stderr, "%s: report: %s\n", rn_progname, clean);
    free (clean);
    rc = RN_EXIT_FAILED;
  } else if (o.fmt != RN_FMT_HTML)
    rn_rows_print (&out, o.fmt);
  free (err);
  rn_rows_free (&out);
  rn_db_close (db);
  return rc;
}
