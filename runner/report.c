/* runner/report.c: `guestkit report' and `guestkit status': the results
 * database read back as a table, JSON or CSV.
 *
 * Every view is one SQL query (the schema is schemas/results.sql) whose
 * rows are collected and then printed by one of three printers.  Each
 * column has a kind: s text, n number, j JSON (emitted as it is in JSON
 * output, so saved values stay structured).
 *
 * Cells hold guest data (saved values, error messages), so nothing is
 * printed raw: a table shows every C0 and C1 control character, DEL and
 * any byte that is not UTF-8 as a visible escape (\e, \x9b, \u009b, ...);
 * JSON escapes them as \u00XX; CSV quotes what needs quoting and is
 * byte-exact in a file or pipe, and cleaned as the table is on a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define CELL_MAX 60                 /* table mode: longer cells are cut */

static const char NULLCELL[] = RN_NULLCELL;

int
rn_rows_collect (void *ctx, int ncols, char **cols, char **names)
{
  struct rn_rows *r = ctx;

  if (r->names.n == 0) {
    r->ncols = (size_t) ncols;
    for (int i = 0; i < ncols; i++)
      rn_strv_add (&r->names, rn_strdup (names[i]));
  }
  for (int i = 0; i < ncols; i++)
    rn_strv_add (&r->cells, rn_strdup (cols[i] ? cols[i] : NULLCELL));
  r->nrows++;
  return 0;
}

static const char *
cell (const struct rn_rows *r, size_t row, size_t col)
{
  return r->cells.v[row * r->ncols + col];
}

/* ---- printers ---- */

/* s for a terminal: control characters (C0, DEL, C1 whether as UTF-8 or
 * as a stray byte) and bytes that are not UTF-8 become visible escapes.
 * oneline: a newline shows as \n (a final one is dropped) and a tab as a
 * blank; else both are kept. */
static char *
clean (const char *s, int oneline)
{
  struct rn_buf b = { 0 };
  size_t n = strlen (s);

  for (size_t i = 0; i < n;) {
    const unsigned char *p = (const unsigned char *) s + i;
    size_t l = rn_utf8_len (p, n - i);
    if (*p == '\n' && oneline)
      rn_buf_adds (&b, i + 1 == n ? "" : "\\n");
    else if ((*p == '\n' || *p == '\t') && !oneline)
      rn_buf_addc (&b, (char) *p);
    else if (*p == '\t')
      rn_buf_addc (&b, ' ');
    else if (*p == 0x1b)
      rn_buf_adds (&b, "\\e");
    else if (l == 0 || *p < 0x20 || *p == 0x7f)
      rn_buf_addf (&b, "\\x%02x", *p);
    else if (rn_utf8_c1 (p, l))
      rn_buf_addf (&b, "\\u%04x", p[1]);
    else
      rn_buf_add (&b, (const char *) p, l);
    i += l ? l : 1;
  }
  return b.s ? rn_buf_take (&b) : rn_strdup ("");
}

char *
rn_term_clean (const char *s)
{
  return clean (s, 0);
}

/* A cell for a table: cleaned, one line, at most CELL_MAX characters. */
static char *
flat (const char *s)
{
  char *c, *cut;
  size_t chars = 0;

  if (strcmp (s, NULLCELL) == 0)
    return rn_strdup ("");
  c = clean (s, 1);
  for (char *p = c; *p; p++)
    if ((*p & 0xc0) != 0x80 && ++chars > CELL_MAX) {
      *p = '\0';
      cut = rn_asprintf ("%s...", c);
      free (c);
      return cut;
    }
  return c;
}

static size_t
width (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += (*s & 0xc0) != 0x80;
  return n;
}

static void
print_table (const struct rn_rows *r)
{
  size_t *w = rn_calloc (r->ncols, sizeof *w);
  struct rn_strv f = { 0 };

  for (size_t c = 0; c < r->ncols; c++)
    w[c] = width (r->names.v[c]);
  for (size_t i = 0; i < r->nrows * r->ncols; i++) {
    rn_strv_add (&f, flat (r->cells.v[i]));
    if (width (f.v[i]) > w[i % r->ncols])
      w[i % r->ncols] = width (f.v[i]);
  }
  for (size_t row = 0; row <= r->nrows; row++)
    for (size_t c = 0; c < r->ncols; c++) {
      const char *s = row == 0 ? r->names.v[c] : f.v[(row - 1) * r->ncols + c];
      int last = c + 1 == r->ncols;
      printf ("%s%*s%s", s, last ? 0 : (int) (w[c] - width (s)), "", last ? "\n" : "  ");
    }
  if (r->nrows == 0)
    printf ("(no rows)\n");
  rn_strv_free (&f);
  free (w);
}

/* One CSV field (RFC 4180 quoting); tty: cleaned first. */
static void
csv_cell (const char *s, int tty)
{
  char *c;

  if (strcmp (s, NULLCELL) == 0)
    return;
  c = tty ? clean (s, 0) : rn_strdup (s);
  if (strpbrk (c, ",\"\n\r") == NULL)
    fputs (c, stdout);
  else {
    putchar ('"');
    for (const char *p = c; *p; p++) {
      if (*p == '"')
        putchar ('"');
      putchar (*p);
    }
    putchar ('"');
  }
  free (c);
}

static void
print_csv (const struct rn_rows *r)
{
  int tty = isatty (1);

  for (size_t row = 0; row <= r->nrows; row++)
    for (size_t c = 0; c < r->ncols; c++) {
      csv_cell (row == 0 ? r->names.v[c] : cell (r, row - 1, c), tty);
      putchar (c + 1 == r->ncols ? '\n' : ',');
    }
}

/* JSON text from the database (numbers, saved values) as it is, except
 * that control characters, C1 ones included, and bytes that are not
 * UTF-8 become \u00XX: valid JSON as it was, and never raw on a screen. */
static void
json_text (struct rn_buf *b, const char *s)
{
  size_t n = strlen (s);

  for (size_t i = 0; i < n;) {
    const unsigned char *p = (const unsigned char *) s + i;
    size_t l = rn_utf8_len (p, n - i);
    if (l == 0 || (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') || *p == 0x7f)
      rn_buf_addf (b, "\\u%04x", *p);
    else if (rn_utf8_c1 (p, l))
      rn_buf_addf (b, "\\u%04x", p[1]);
    else
      rn_buf_add (b, (const char *) p, l);
    i += l ? l : 1;
  }
}

static void
print_json (const struct rn_rows *r)
{
  struct rn_buf b = { 0 };

  rn_buf_addc (&b, '[');
  for (size_t row = 0; row < r->nrows; row++) {
    rn_buf_adds (&b, row ? ",\n {" : "\n {");
    for (size_t c = 0; c < r->ncols; c++) {
      const char *s = cell (r, row, c);
      char k = r->kinds && c < strlen (r->kinds) ? r->kinds[c] : 's';
      if (c)
        rn_buf_addc (&b, ',');
      rn_json_strz (&b, r->names.v[c]);
      rn_buf_addc (&b, ':');
      if (strcmp (s, NULLCELL) == 0)
        rn_buf_adds (&b, "null");
      else if (k == 'n' || k == 'j')
        json_text (&b, s);
      else
        rn_json_strz (&b, s);
    }
    rn_buf_addc (&b, '}');
  }
  rn_buf_adds (&b, r->nrows ? "\n]\n" : "]\n");
  fputs (b.s, stdout);
  rn_buf_free (&b);
}

void
rn_rows_print (const struct rn_rows *r, enum rn_fmt f)
{
  if (f == RN_FMT_JSON)
    print_json (r);
  else if (f == RN_FMT_CSV)
    print_csv (r);
  else
    print_table (r);
}

void
rn_rows_free (struct rn_rows *r)
{
  rn_strv_free (&r->names);
  rn_strv_free (&r->cells);
}

/* ---- report ---- */

struct report_opts {
  const char *db;
  const char *run;            /* a run id, or NULL: the latest */
  int all;
  const char *image;          /* glob on the path or the file name */
  int failed;
  int view;                   /* 't' tasks, 'f' facts, 's' steps, 'c' changes */
  enum rn_fmt fmt;
};

static void
report_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit report [OPTION]...\n"
"\n"
"Print the results of a run: one row per task (default), per saved value\n"
"(--facts), per step (--steps), or per image over every run (--by-image).\n"
"\n"
"  --db FILE          results database (default ./guestkit.db)\n"
"  --run RUN          this run (default: the latest)\n"
"  --all              every run\n"
"  --image PATTERN    only images whose path or file name matches the glob\n"
"  --failed           only tasks that did not end ok (and failed steps)\n"
"  --facts            saved values (save_as) instead of tasks\n"
"  --steps            every step with its result or error\n"
"  --changes          what writing tasks changed: path, kind, type, mode,\n"
"                     owner, size and sha256 before and after\n"
"  --by-image         each image once: its tasks over all runs (or --run)\n"
"                     and its latest result\n"
"  --format FORMAT    table (default), json or csv\n"
"  -h, --help         this text\n"
"\n"
"In JSON, saved values and results keep their structure; tasks carry their\n"
"facts as an object.  For anything else, query the database with sqlite3\n"
"(schema: schemas/results.sql).\n");
  rn_report_fleet_usage (f);       /* report-fleet.c */
}

/* The WHERE clause shared by the views; ?1 run, ?2 image pattern. */
static const char *
where (const struct report_opts *o)
{
  static __thread char w[512];
  snprintf (w, sizeof w, " WHERE %s%s%s",
            o->all ? "1" : "t.run_id = ?1",
            o->image ? " AND (t.image GLOB ?2 OR t.image GLOB '*/' || ?2)" : "",
            o->failed ? (o->view == 's' ? " AND s.error IS NOT NULL"
                                        : " AND t.status <> 'ok'") : "");
  return w;
}

static char *
report_sql (const struct report_opts *o, const char **kinds)
{
  const char *w = where (o);

  if (o->view == 'f') {
    *kinds = "nnssssj";
    return rn_asprintf (
      "SELECT t.run_id AS run, t.seq AS task, t.image, t.instance, t.status, f.name, "
      "%s AS value FROM facts f JOIN tasks t ON t.id = f.task_id%s "
      "ORDER BY t.run_id, t.seq, f.name",
      o->fmt == RN_FMT_JSON ? "f.value" : "CASE json_type(f.value) WHEN 'text' "
      "THEN json_extract(f.value, '$') ELSE f.value END", w);
  }
  if (o->view == 's') {
    *kinds = "nnsnsjjsn";
    return rn_asprintf (
      "SELECT t.run_id AS run, t.seq AS task, t.image, s.seq AS step, s.call, "
      "s.args, s.result, s.error, round(s.duration_ms, 1) AS ms "
      "FROM steps s JOIN tasks t ON t.id = s.task_id%s ORDER BY t.run_id, t.seq, s.seq", w);
  }
  if (o->view == 'c') {
    *kinds = "nnssssssssnnss";
    return rn_asprintf (
      "SELECT t.run_id AS run, t.seq AS task, t.image, c.path, c.kind, c.type, "
      "printf('%%o', c.mode_before) AS mode_before, printf('%%o', c.mode_after) AS mode_after, "
      "c.uid_before || ':' || c.gid_before AS owner_before, "
      "c.uid_after || ':' || c.gid_after AS owner_after, "
      "c.size_before, c.size_after, c.sha256_before, c.sha256_after "
      "FROM changes c JOIN tasks t ON t.id = c.task_id%s ORDER BY t.run_id, t.seq, c.path", w);
  }
  if (o->view == 'i') {
    struct report_opts all = *o;
    all.failed = 0;                /* --failed: the latest result, below */
    *kinds = "snnnsnss";
    return rn_asprintf (
      "WITH g AS (SELECT t.image, count(*) AS tasks, sum(t.status = 'ok') AS ok, "
      "sum(t.status <> 'ok') AS not_ok, max(t.id) AS last FROM tasks t%s GROUP BY t.image) "
      "SELECT g.image, g.tasks, g.ok, g.not_ok, r.job_name AS last_job, "
      "l.run_id AS last_run, l.status AS last_status, l.error AS last_error "
      "FROM g JOIN tasks l ON l.id = g.last JOIN runs r ON r.id = l.run_id%s "
      "ORDER BY g.image", where (&all), o->failed ? " WHERE l.status <> 'ok'" : "");
  }
  if (o->fmt == RN_FMT_JSON) {
    *kinds = "nnsssnnsnsj";
    return rn_asprintf (
      "SELECT t.run_id AS run, t.seq AS task, t.image, t.instance, t.status, "
      "t.attempts, t.step_errors, t.error, round(t.duration_ms / 1000.0, 2) AS seconds, "
      "t.finished, (SELECT json_group_object(name, json(value)) FROM facts "
      "WHERE task_id = t.id) AS facts FROM tasks t%s ORDER BY t.run_id, t.seq", w);
  }
  *kinds = "nnsssnss";
  return rn_asprintf (
    "SELECT t.run_id AS run, t.seq AS task, t.status, t.image, t.instance, "
    "round(t.duration_ms / 1000.0, 1) AS seconds, t.step_errors AS step_errs, t.error "
    "FROM tasks t%s ORDER BY t.run_id, t.seq", w);
}

static int
parse_report_args (int argc, char **argv, struct report_opts *o)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' }, { "run", required_argument, NULL, 'r' },
    { "all", no_argument, NULL, 'a' }, { "image", required_argument, NULL, 'i' },
    { "failed", no_argument, NULL, 'F' }, { "facts", no_argument, NULL, 'f' },
    { "steps", no_argument, NULL, 's' }, { "format", required_argument, NULL, 'o' },
    { "by-image", no_argument, NULL, 'b' }, { "changes", no_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  int c;
  int64_t x;

  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': o->db = optarg; break;
    case 'r':
      if (rn_parse_int (optarg, &x) == -1 || x < 1) {
        fprintf (stderr, "%s: report: --run: expected a run number, got '%s'\n",
                 rn_progname, optarg);
        return -1;
      }
      o->run = optarg;
      break;
    case 'a': o->all = 1; break;
    case 'i': o->image = optarg; break;
    case 'F': o->failed = 1; break;
    case 'f': o->view = 'f'; break;
    case 's': o->view = 's'; break;
    case 'b': o->view = 'i'; break;
    case 'c': o->view = 'c'; break;
    case 'o':
      if (strcmp (optarg, "table") == 0) o->fmt = RN_FMT_TABLE;
      else if (strcmp (optarg, "json") == 0) o->fmt = RN_FMT_JSON;
      else if (strcmp (optarg, "csv") == 0) o->fmt = RN_FMT_CSV;
      else {
        fprintf (stderr, "%s: report: --format: expected table, json or csv, got '%s'\n",
                 rn_progname, optarg);
        return -1;
      }
      break;
    case 'h': return -2;
    default:
      fprintf (stderr, "Try 'guestkit report --help'.\n");
      return -1;
    }
  }
  if (optind < argc) {
    fprintf (stderr, "%s: report: unexpected argument '%s'\n", rn_progname, argv[optind]);
    return -1;
  }
  if (o->run && o->all) {
    fprintf (stderr, "%s: report: --run and --all do not go together\n", rn_progname);
    return -1;
  }
  if (o->view == 'i' && o->run == NULL)
    o->all = 1;                  /* per image: over every run by default */
  return 0;
}

static int
first_col (void *ctx, int ncols, char **cols, char **names)
{
  char **out = ctx;
  if (ncols > 0 && cols[0] && *out == NULL)
    *out = rn_strdup (cols[0]);
  return 1;
}

int
rn_cmd_report (int argc, char **argv)
{
  struct report_opts o = { .db = "guestkit.db", .view = 't' };
  struct rn_rows r = { 0 };
  struct rn_db *db;
  char *err = NULL, *sql, *latest = NULL;
  const char *params[2];
  int rc;

  if (rn_report_is_fleet (argc, argv))         /* audits: report-fleet.c */
    return rn_cmd_report_fleet (argc, argv);
  if ((rc = parse_report_args (argc, argv, &o)) != 0) {
    if (rc == -2)
      report_usage (stdout);
    return rc == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
  }
  if ((db = rn_db_open (o.db, 0, &err)) == NULL) {
    fprintf (stderr, "%s: report: %s\n", rn_progname, err);
    free (err);
    return RN_EXIT_USAGE;
  }
  if (!o.all && o.run == NULL) {
    rn_db_query (db, "SELECT max(id) FROM runs", NULL, 0, first_col, &latest, &err);
    if (latest == NULL) {
      fprintf (stderr, "%s: report: %s has no runs yet\n", rn_progname, o.db);
      rn_db_close (db);
      free (err);
      return RN_EXIT_FAILED;
    }
    o.run = latest;
  }
  params[0] = o.all ? "0" : o.run;
  params[1] = o.image ? o.image : "";
  sql = report_sql (&o, &r.kinds);
  if (rn_db_query (db, sql, params, 2, rn_rows_collect, &r, &err) == -1) {
    fprintf (stderr, "%s: report: %s\n", rn_progname, err);
    rc = RN_EXIT_FAILED;
  } else {
    if (o.fmt == RN_FMT_TABLE && !o.all && o.view == 't')
      printf ("run %s\n", o.run);
    rn_rows_print (&r, o.fmt);
    rc = RN_EXIT_OK;
  }
  free (sql);
  free (err);
  free (latest);
  rn_rows_free (&r);
  rn_db_close (db);
  return rc;
}

/* ---- status ---- */

static void
status_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit status [--db FILE] [--format FORMAT] [RUN]\n"
"\n"
"List the runs (the latest 20) with their tasks counted by state; with RUN,\n"
"that run's tasks that are not finished ok.  A run whose process is gone\n"
"without ending it shows as 'killed': resume it with guestkit run --resume RUN.\n"
"\n"
"  --db FILE          results database (default ./guestkit.db)\n"
"  --format FORMAT    table (default), json or csv\n"
"  -h, --help         this text\n");
}

/* Runs marked running whose process is gone (on this host) show as killed. */
static void
mark_killed (struct rn_rows *r)
{
  char host[256] = "";

  if (gethostname (host, sizeof host - 1) == -1)
    host[0] = '\0';
  for (size_t i = 0; i < r->nrows; i++) {
    char **st = &r->cells.v[i * r->ncols + 2];
    const char *pid = cell (r, i, r->ncols - 2), *h = cell (r, i, r->ncols - 1);
    if (strcmp (*st, "running") == 0 && strcmp (h, host) == 0 &&
        kill ((pid_t) atol (pid), 0) == -1 && errno == ESRCH) {
      free (*st);
      *st = rn_strdup ("killed");
    }
  }
  {                          /* pid and host were for this only: drop them */
    struct rn_strv keep = { 0 };
    for (size_t i = 0; i < r->cells.n; i++)
      if (i % r->ncols < r->ncols - 2)
        rn_strv_add (&keep, rn_strdup (r->cells.v[i]));
    rn_strv_free (&r->cells);
    r->cells = keep;
    r->ncols -= 2;
  }
}

static int
status_runs (struct rn_db *db, struct rn_rows *r, char **err)
{
  r->kinds = "nssnnnnnnsnss";
  if (rn_db_query (db,
      "SELECT r.id AS run, r.job_name AS job, r.status, r.ntasks AS tasks, "
      "sum(t.status = 'ok') AS ok, sum(t.status = 'failed') AS failed, "
      "sum(t.status = 'timeout') AS timeout, sum(t.status = 'interrupted') AS intr, "
      "sum(t.status IN ('pending', 'running')) AS left, r.started, "
      "round((julianday(coalesce(r.finished, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) "
      "- julianday(r.started)) * 86400, 1) AS seconds, r.pid, r.host "
      "FROM runs r LEFT JOIN tasks t ON t.run_id = r.id GROUP BY r.id "
      "ORDER BY r.id DESC LIMIT 20", NULL, 0, rn_rows_collect, r, err) == -1)
    return -1;
  mark_killed (r);
  return 0;
}

static int
status_tasks (struct rn_db *db, const char *run, struct rn_rows *r, char **err)
{
  const char *p[1] = { run };

  r->kinds = "nssnsss";
  return rn_db_query (db,
    "SELECT t.seq AS task, t.status, t.image, t.attempts, t.instance, t.started, t.error "
    "FROM tasks t WHERE t.run_id = ?1 AND t.status <> 'ok' ORDER BY t.seq",
    p, 1, rn_rows_collect, r, err);
}

/* Options of status; 0, or an exit status to return. */
static int
parse_status_args (int argc, char **argv, const char **dbpath, const char **run,
                   enum rn_fmt *fmt)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' }, { "format", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  int c;
  int64_t x;

  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'd')
      *dbpath = optarg;
    else if (c == 'o' && (strcmp (optarg, "table") == 0 || strcmp (optarg, "json") == 0 ||
                          strcmp (optarg, "csv") == 0))
      *fmt = optarg[0] == 't' ? RN_FMT_TABLE : optarg[0] == 'j' ? RN_FMT_JSON : RN_FMT_CSV;
    else if (c == 'h') {
      status_usage (stdout);
      return -RN_EXIT_OK - 1;
    } else {
      fprintf (stderr, "Try 'guestkit status --help'.\n");
      return RN_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    *run = argv[optind++];
    if (rn_parse_int (*run, &x) == -1 || x < 1 || optind < argc) {
      fprintf (stderr, "%s: status: expected one run number, got '%s'\n", rn_progname, *run);
      return RN_EXIT_USAGE;
    }
  }
  return 0;
}

int
rn_cmd_status (int argc, char **argv)
{
  const char *dbpath = "guestkit.db", *run = NULL;
  enum rn_fmt fmt = RN_FMT_TABLE;
  struct rn_rows r = { 0 };
  struct rn_db *db;
  char *err = NULL;
  int rc;

  if ((rc = parse_status_args (argc, argv, &dbpath, &run, &fmt)) != 0)
    return rc < 0 ? RN_EXIT_OK : rc;
  if ((db = rn_db_open (dbpath, 0, &err)) == NULL) {
    fprintf (stderr, "%s: status: %s\n", rn_progname, err);
    free (err);
    return RN_EXIT_USAGE;
  }
  if ((run ? status_tasks (db, run, &r, &err) : status_runs (db, &r, &err)) == -1) {
    fprintf (stderr, "%s: status: %s\n", rn_progname, err);
    rc = RN_EXIT_FAILED;
  } else {
    rn_rows_print (&r, fmt);
    rc = RN_EXIT_OK;
  }
  free (err);
  rn_rows_free (&r);
  rn_db_close (db);
  return rc;
}
