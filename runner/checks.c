/* runner/checks.c: a job's `checks:', policy checks that become rows of
 * the findings table (schemas/results.sql).
 *
 * A check has an id, a severity (low, medium, high), a description and
 * one condition, which says what a compliant image looks like:
 *
 *   condition      passes when                          evidence
 *   file_exists    the path exists                      path, its type
 *   file_absent    it does not                          path, its type
 *   file           it exists and its mode (4 octal      path, the value that
 *                  digits), owner ("UID:GID"), content  failed (or was seen)
 *                  (some line matches) and no_content
 *                  (no line matches) match their regexes
 *   tree           no entry under the path (symlinks    first offender, its
 *                  aside) has a mode matching mode_not  mode, how many
 *   config         the value of key in file, read       Augeas path, value
 *                  through Augeas as set_config reads
 *                  it (/files/FILE/KEY), matches value
 *   package        installed (or not); not below        package, version
 *                  min_version (by its format's rules)
 *   fact           an OS fact or saved fact equals one  fact, its value
 *                  of the values
 *
 * Everything read from the guest is hostile: file content is matched by
 * grep inside the appliance (egrep), never read here; modes and owners
 * come from stat (a tree's from one find_modes call: names and modes,
 * walked in the appliance); every evidence string is capped; a tree
 * check looks at RN_CHECK_TREE_MAX entries at most.  A check that
 * cannot be evaluated (the appliance failed) fails the task, as a
 * failing step does; a file that is missing is an answer, not an error.
 *
 * Validation (rn_jv_checks, job-checks.c) runs with the job's other
 * keys; the checks run after the steps (rn_checks_run), with the OS mounted.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

#define RN_CHECK_TREE_MAX 100000   /* entries looked at under a tree */

/* ---- evaluation ---- */

struct rn_checkctx {
  guestfs_h *g;              /* the OS mounted */
  struct rn_audit *audit;    /* the inventory; findings are added here */
  struct rn_vars *vars;      /* for fact checks: saved facts, variables */
  const char *aug_error;     /* why the config files did not load, or NULL */
};

/* The outcome of one check: pass/fail and the evidence (malloc'd). */
struct outcome {
  int passed;
  char *path, *value;
};

static int
matches (const char *regex, const char *s)
{
  regex_t re;
  int r;

  if (regcomp (&re, regex, REG_EXTENDED | REG_NOSUB) != 0)
    return 0;                  /* validated already: cannot happen */
  r = regexec (&re, s, 0, NULL, 0) == 0;
  regfree (&re);
  return r;
}

static const char *
file_type (int64_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return "file";
  case S_IFDIR: return "directory";
  case S_IFLNK: return "symlink";
  default: return "other";
  }
}

/* The guest path's lstat: 1 found, 0 absent, -1 the appliance failed. */
static int
guest_lstat (guestfs_h *g, const char *path, int64_t *mode, int64_t *uid, int64_t *gid)
{
  struct guestfs_stat *st;
  int e = guestfs_exists (g, path);

  *mode = *uid = *gid = 0;
  if (e <= 0)
    return e;
  if ((st = guestfs_lstat (g, path)) == NULL)
    return -1;
  *mode = st->mode;
  *uid = st->uid;
  *gid = st->gid;
  guestfs_free_stat (st);
  return 1;
}

static int
eval_exists (guestfs_h *g, const struct rn_check *c, struct outcome *o)
{
  int64_t mode, uid, gid;
  int r = guest_lstat (g, c->path, &mode, &uid, &gid);

  if (r == -1)
    return -1;
  o->path = rn_strdup (c->path);
  o->value = rn_strdup (r ? file_type (mode) : "absent");
  o->passed = (r == 1) == (c->kind == RN_CK_EXISTS);
  return 0;
}

/* The first line of path matching regex (capped), or NULL; -1 error. */
static int
first_match (guestfs_h *g, const char *regex, const char *path, char **line)
{
  char **l = guestfs_egrep (g, regex, path);

  *line = NULL;
  if (l == NULL)
    return -1;
  if (l[0])
    *line = rn_audit_str (l[0], RN_AUDIT_EVIDENCE_MAX);
  rn_gfree_list (l);
  return 0;
}

/* Mode and owner of an existing file against the check; NULL if they
 * comply, else the evidence. */
static char *
mode_owner (const struct rn_check *c, int64_t mode, int64_t uid, int64_t gid)
{
  char m[16], ow[48];

  snprintf (m, sizeof m, "%04llo", (unsigned long long) (mode & 07777));
  snprintf (ow, sizeof ow, "%lld:%lld", (long long) uid, (long long) gid);
  if (c->mode && !matches (c->mode, m))
    return rn_asprintf ("mode %s", m);
  if (c->owner && !matches (c->owner, ow))
    return rn_asprintf ("owner %s", ow);
  return NULL;
}

static int
eval_file (guestfs_h *g, const struct rn_check *c, struct outcome *o)
{
  int64_t mode, uid, gid;
  int r = guest_lstat (g, c->path, &mode, &uid, &gid);
  char *line;

  if (r == -1)
    return -1;
  o->path = rn_strdup (c->path);
  if (r == 0) {
    o->value = rn_strdup ("absent");
    return 0;
  }
  if ((o->value = mode_owner (c, mode, uid, gid)) != NULL)
    return 0;
  if ((c->content || c->no_content) && (mode & S_IFMT) != S_IFREG) {
    o->value = rn_asprintf ("not a regular file (%s)", file_type (mode));
    return 0;                  /* grep would follow it, or block on a FIFO */
  }
  if (c->content) {
    if (first_match (g, c->content, c->path, &line) == -1)
      return -1;
    if (line == NULL) {
      o->value = rn_strdup ("no line matches");
      return 0;
    }
    o->value = line;
  }
  if (c->no_content) {
    if (first_match (g, c->no_content, c->path, &line) == -1)
      return -1;
    if (line) {
      free (o->value);
      o->value = line;
      return 0;
    }
  }
  if (o->value == NULL)
    o->value = rn_asprintf ("mode %04llo, owner %lld:%lld",
                            (unsigned long long) (mode & 07777), (long long) uid,
                            (long long) gid);
  o->passed = 1;
  return 0;
}

/* The entries of a tree, by directory, in the order the directories
 * first appear in find's sorted list (the order the first offender is
 * looked for in). */
struct dirgroup {
  char *dir;                 /* relative to the tree ("" for the top) */
  size_t *idx, n;            /* the entries' rows in find_modes' reply */
};

static void
group_add (struct dirgroup **g, size_t *n, const char *rel, size_t row)
{
  const char *slash = strrchr (rel, '/');
  size_t dl = slash ? (size_t) (slash - rel) : 0;
  size_t i;

  for (i = 0; i < *n; i++)
    if (strlen ((*g)[i].dir) == dl && strncmp ((*g)[i].dir, rel, dl) == 0)
      break;
  if (i == *n) {
    *g = rn_realloc (*g, (*n + 1) * sizeof **g);
    memset (&(*g)[i], 0, sizeof **g);
    (*g)[i].dir = rn_strndup (rel, dl);
    (*n)++;
  }
  (*g)[i].idx = rn_realloc ((*g)[i].idx, ((*g)[i].n + 1) * sizeof *(*g)[i].idx);
  (*g)[i].idx[(*g)[i].n++] = row;
}

/* One directory's entries against the regex; the first offender (and a
 * count) into o.  nm: find_modes' NAME MODE pairs. */
static void
tree_dir (const struct rn_check *c, const struct dirgroup *d, char *const *nm,
          struct outcome *o, size_t *bad)
{
  char *dir = *d->dir ? rn_asprintf ("%s/%s", c->path, d->dir) : rn_strdup (c->path);
  char m[16];

  for (size_t i = 0; i < d->n; i++) {
    const char *name = nm[2 * d->idx[i]], *base = strrchr (name, '/');
    long long mode = strtoll (nm[2 * d->idx[i] + 1], NULL, 8);
    if ((mode & S_IFMT) == S_IFLNK)
      continue;
    snprintf (m, sizeof m, "%04llo", (unsigned long long) (mode & 07777));
    if (matches (c->mode, m) && (*bad)++ == 0) {
      char *p = rn_path_join (dir, base ? base + 1 : name);
      o->path = rn_audit_str (p, RN_AUDIT_STR_MAX);
      o->value = rn_asprintf ("mode %s", m);
      free (p);
    }
  }
  free (dir);
}

/* Entries under c->path whose mode matches c->mode (symlinks aside):
 * one find_modes call gives every name and its mode. */
static int
eval_tree (guestfs_h *g, const struct rn_check *c, struct outcome *o)
{
  struct dirgroup *gr = NULL;
  size_t ng = 0, n = 0, bad = 0;
  char **nm;

  if (guestfs_is_dir (g, c->path) <= 0) {
    o->path = rn_strdup (c->path);
    o->value = rn_strdup ("not a directory");
    o->passed = 1;             /* nothing under it to be writable */
    return 0;
  }
  if ((nm = guestfs_find_modes (g, c->path)) == NULL)
    return -1;
  for (; nm[2 * n] && nm[2 * n + 1]; n++)
    if (n < RN_CHECK_TREE_MAX)
      group_add (&gr, &ng, nm[2 * n], n);
  for (size_t i = 0; i < ng; i++) {
    tree_dir (c, &gr[i], nm, o, &bad);
    free (gr[i].dir);
    free (gr[i].idx);
  }
  free (gr);
  rn_gfree_list (nm);
  o->passed = bad == 0;
  if (o->passed) {
    o->path = rn_strdup (c->path);
    o->value = rn_asprintf ("%zu entries, none matches", n < RN_CHECK_TREE_MAX ? n : RN_CHECK_TREE_MAX);
  } else if (bad > 1) {
    char *v = rn_asprintf ("%s (and %zu more)", o->value, bad - 1);
    free (o->value);
    o->value = v;
  }
  return 0;
}

/* ---- config: a value read through Augeas ---- */

#define AUG_NO_LOAD 32            /* augeas.h's flag (not in guestfs.h) */

/* The distinct files of j's config checks, each with its lens (given,
 * or set_config's default for the file, or "" when none is known). */
static void
config_files (const struct rn_job *j, struct rn_strv *files, struct rn_strv *lenses)
{
  for (size_t i = 0; i < j->nchecks; i++) {
    const struct rn_check *c = &j->checks[i];
    const char *lens;
    size_t k;
    if (c->kind != RN_CK_CONFIG)
      continue;
    lens = c->lens ? c->lens : rn_aug_default_lens (c->path);
    for (k = 0; k < files->n && strcmp (files->v[k], c->path) != 0; k++)
      ;
    if (k == files->n) {
      rn_strv_add (files, rn_strdup (c->path));
      rn_strv_add (lenses, rn_strdup (lens ? lens : ""));
    }
  }
}

/* No lens known for some file: every lens whose incl names one of the
 * files (Augeas compiles all its modules: seconds on TCG). */
static int
config_load_any (guestfs_h *g, const struct rn_strv *files)
{
  struct rn_buf rm = { 0 };
  int r;

  rn_buf_adds (&rm, "/augeas/load/*/incl[");
  for (size_t i = 0; i < files->n; i++)
    rn_buf_addf (&rm, "%s. != '%s'", i ? " and " : "", files->v[i]);
  rn_buf_addc (&rm, ']');
  r = guestfs_aug_init (g, "/", AUG_NO_LOAD) == -1 || guestfs_aug_rm (g, rm.s) == -1 ||
      guestfs_aug_load (g) == -1 ? -1 : 0;
  rn_buf_free (&rm);
  return r;
}

/* Open Augeas with only the config checks' files loaded, as set_config
 * does (rn_aug_load: one lens per file) when every file has a lens.
 * 0 nothing to load, 1 loaded, 2 not loaded but the appliance is fine
 * (a file Augeas cannot parse: *why, caller frees), -1 the library's
 * error (*why). */
static int
config_load (guestfs_h *g, const struct rn_job *j, char **why)
{
  struct rn_strv files = { 0 }, lenses = { 0 };
  struct rn_sctx c = { .g = g, .j = j };
  int all = 1, r;

  config_files (j, &files, &lenses);
  for (size_t i = 0; i < lenses.n; i++)
    all &= lenses.v[i][0] != '\0';
  if (files.n == 0)
    r = 0;
  else if (all)
    r = rn_aug_load (&c, files.n, (const char *const *) files.v,
                     (const char *const *) lenses.v) == -1 ? -1 : 1;
  else if ((r = config_load_any (g, &files)) == 0)
    r = 1;
  else
    c.err = rn_strdup (guestfs_last_error (g) ? guestfs_last_error (g) : "Augeas failed");
  if (r == -1) {
    *why = c.err ? c.err : rn_strdup ("Augeas failed");
    c.err = NULL;
    if (guestfs_is_ready (g) == 1) {
      guestfs_aug_close (g);
      r = 2;
    }
  }
  free (c.err);
  rn_buf_free (&c.result);
  rn_strv_free (&files);
  rn_strv_free (&lenses);
  return r;
}

/* The value at /files FILE / KEY: 1 and *value (caller frees), 0 not
 * set, -1 the library's error. */
static int
config_get (guestfs_h *g, const struct rn_check *c, char **path, char **value)
{
  char **m;
  int r = 0;

  *path = rn_asprintf ("/files%s/%s", c->path, c->key);
  *value = NULL;
  if ((m = guestfs_aug_match (g, *path)) == NULL)
    return -1;
  if (m[0]) {
    *value = guestfs_aug_get (g, m[0]);
    r = *value ? 1 : -1;
  }
  rn_gfree_list (m);
  return r;
}

static int
eval_config (const struct rn_checkctx *x, const struct rn_check *c, struct outcome *o)
{
  guestfs_h *g = x->g;
  char *value = NULL;
  int found;

  if (x->aug_error) {          /* the config could not be loaded: a finding */
    o->path = rn_asprintf ("/files%s/%s", c->path, c->key);
    o->value = rn_audit_str (x->aug_error, RN_AUDIT_EVIDENCE_MAX);
    return 0;
  }
  found = config_get (g, c, &o->path, &value);

  if (found == -1)
    return -1;
  if (found == 0) {
    o->value = rn_strdup (guestfs_is_file (g, c->path) == 1 ? "not set" : "no such file");
    o->passed = c->missing_pass;
    return 0;
  }
  o->value = rn_audit_str (value, RN_AUDIT_EVIDENCE_MAX);
  o->passed = matches (c->value, value);
  free (value);
  return 0;
}

/* The package format of the OS that root names (first OS: NULL root). */
static const char *
os_pkgfmt (const struct rn_audit *a, const char *root)
{
  for (size_t i = 0; i < a->nos; i++)
    if (root == NULL || strcmp (a->os[i].root, root) == 0)
      return a->os[i].package_format;
  return NULL;
}

/* "EPOCH:VERSION-RELEASE" as the package tools print it. */
static char *
app_version (const struct rn_apprec *p)
{
  char e[32] = "";

  if (p->epoch)
    snprintf (e, sizeof e, "%lld:", (long long) p->epoch);
  return rn_asprintf ("%s%s%s%s", e, p->version, p->release && *p->release ? "-" : "",
                      p->release ? p->release : "");
}

static int
eval_package (const struct rn_audit *a, const struct rn_check *c, struct outcome *o)
{
  const struct rn_apprec *found = NULL;
  struct rn_evr want;
  char *tmp;

  for (size_t i = 0; i < a->napps && !found; i++)
    if (strcmp (a->apps[i].name, c->name) == 0)
      found = &a->apps[i];
  o->path = rn_strdup (c->name);
  if (found == NULL) {
    o->value = rn_strdup ("not installed");
    o->passed = !c->installed || c->min_version != NULL;
    return 0;
  }
  o->value = app_version (found);
  o->passed = c->installed;
  if (c->min_version) {
    struct rn_evr have = { found->epoch, found->version, found->release };
    tmp = rn_strdup (c->min_version);
    rn_evr_parse (tmp, &want);
    o->passed = rn_evr_cmp (rn_pkgfmt_of (os_pkgfmt (a, found->root)), &have, &want) >= 0;
    free (tmp);
  }
  return 0;
}

/* An OS fact of the first OS by name, as text; NULL if none. */
static char *
os_fact (const struct rn_audit *a, const char *name)
{
  const struct rn_osrec *o = a->nos ? &a->os[0] : NULL;
  const char *s = NULL;

  if (o == NULL)
    return NULL;
  if (strcmp (name, "major_version") == 0)
    return rn_asprintf ("%d", o->major);
  if (strcmp (name, "minor_version") == 0)
    return rn_asprintf ("%d", o->minor);
  if (strcmp (name, "version") == 0)
    return rn_asprintf ("%d.%d", o->major, o->minor);
  if (strcmp (name, "type") == 0) s = o->type;
  else if (strcmp (name, "distro") == 0) s = o->distro;
  else if (strcmp (name, "product") == 0) s = o->product;
  else if (strcmp (name, "hostname") == 0) s = o->hostname;
  else if (strcmp (name, "arch") == 0) s = o->arch;
  else if (strcmp (name, "package_format") == 0) s = o->package_format;
  else if (strcmp (name, "package_management") == 0) s = o->package_management;
  return s ? rn_strdup (s) : NULL;
}

/* A variable of the task (a saved fact as plain text, a job variable). */
static char *
saved_fact (const struct rn_checkctx *x, const char *name)
{
  const char *v = x->vars ? rn_task_lookup (x->vars, name) : NULL;
  return v ? rn_strdup (v) : NULL;
}

static int
eval_fact (const struct rn_checkctx *x, const struct rn_check *c, struct outcome *o)
{
  char *v = os_fact (x->audit, c->name);

  if (v == NULL)
    v = saved_fact (x, c->name);
  o->path = rn_strdup (c->name);
  if (v == NULL) {
    o->value = rn_strdup ("unknown");
    return 0;
  }
  for (size_t i = 0; i < c->equals.n; i++)
    o->passed |= strcmp (c->equals.v[i], v) == 0;
  o->value = rn_audit_str (v, RN_AUDIT_EVIDENCE_MAX);
  free (v);
  return 0;
}

static int
eval (const struct rn_checkctx *x, const struct rn_check *c, struct outcome *o)
{
  switch (c->kind) {
  case RN_CK_EXISTS: case RN_CK_ABSENT: return eval_exists (x->g, c, o);
  case RN_CK_FILE: return eval_file (x->g, c, o);
  case RN_CK_TREE: return eval_tree (x->g, c, o);
  case RN_CK_CONFIG: return eval_config (x, c, o);
  case RN_CK_PACKAGE: return eval_package (x->audit, c, o);
  case RN_CK_FACT: return eval_fact (x, c, o);
  }
  return -1;
}

/* Do the checks need the inventory (packages, OS facts)? */
int
rn_checks_need_inventory (const struct rn_job *j)
{
  for (size_t i = 0; i < j->nchecks; i++)
    if (j->checks[i].kind == RN_CK_PACKAGE || j->checks[i].kind == RN_CK_FACT)
      return 1;
  return 0;
}

static int
checks_run (const struct rn_checkctx *x, const struct rn_job *j, int *high_failed,
            char **err)
{
  *high_failed = 0;
  for (size_t i = 0; i < j->nchecks; i++) {
    const struct rn_check *c = &j->checks[i];
    struct outcome o = { 0 };
    struct rn_findrec *f;
    if (eval (x, c, &o) == -1) {
      const char *e = guestfs_last_error (x->g);
      *err = rn_asprintf ("check %s (line %d): %s", c->id, c->line, e ? e : "failed");
      free (o.path);
      free (o.value);
      return -1;
    }
    f = rn_audit_new_finding (x->audit);
    f->check_id = rn_strdup (c->id);
    f->severity = rn_strdup (c->severity);
    f->description = rn_strdup (c->description);
    f->passed = o.passed;
    f->path = o.path;
    f->value = o.value;
    if (!o.passed && strcmp (c->severity, "high") == 0)
      (*high_failed)++;
  }
  return 0;
}

/* Mount the OS if nothing is mounted (as steps do), through a step
 * context of our own. */
static int
mount_for_checks (guestfs_h *g, const struct rn_job *j, int readonly, char **err)
{
  struct rn_sctx c = { .g = g, .j = j, .readonly = readonly };
  int r = rn_step_mount (&c);

  if (r == -1)
    *err = c.err ? c.err : rn_strdup ("mounting the guest failed");
  else
    free (c.err);
  rn_buf_free (&c.result);
  return r;
}

/* The inventory the checks need when no step took it, with the OS
 * mounted as the steps mount it before its packages are read (one
 * mount for both).  -1 with *err set. */
struct inv_mount {
  guestfs_h *g;
  const struct rn_job *j;
  int readonly;
  char *err;                 /* why the mount failed */
};

static int
inv_mount_root (void *arg, const char *root)
{
  struct inv_mount *m = arg;
  struct rn_sctx c = { .g = m->g, .j = m->j, .readonly = m->readonly };
  int r = rn_inventory_mount (&c, root);

  free (m->err);
  m->err = c.err;
  rn_buf_free (&c.result);
  return r;
}

static int
inventory_for_checks (guestfs_h *g, const struct rn_job *j, int readonly,
                      struct rn_audit *a, char **err)
{
  struct inv_mount m = { .g = g, .j = j, .readonly = readonly };
  char **roots = NULL;
  int cut = 0, r = -1;

  if (guestfs_umount_all (g) == 0)
    r = rn_inventory_collect (g, a, 1, &roots, &cut, inv_mount_root, &m);
  if (r == -2)
    *err = m.err ? m.err : rn_strdup ("mounting the guest failed");
  else if (r == -1) {
    const char *e = guestfs_last_error (g);
    *err = rn_asprintf ("inventory: %s", e ? e : "failed");
  }
  if (r != -2)
    free (m.err);
  rn_gfree_list (roots);
  return r == 0 ? 0 : -1;
}

int
rn_checks_task (guestfs_h *g, const struct rn_job *j, int readonly, struct rn_audit *a,
                struct rn_vars *vars, char **result, char **err)
{
  struct rn_checkctx x = { .g = g, .audit = a, .vars = vars };
  size_t first = a->nfindings, failed = 0;
  int high = 0, aug, r;
  char *why = NULL;

  *result = NULL;
  if (a->nos == 0 && rn_checks_need_inventory (j) &&
      inventory_for_checks (g, j, readonly, a, err) == -1)
    return -1;
  if (mount_for_checks (g, j, readonly, err) == -1)
    return -1;
  if ((aug = config_load (g, j, &why)) == -1) {
    *err = rn_asprintf ("Augeas: %s", why);
    free (why);
    return -1;
  }
  x.aug_error = why;
  r = checks_run (&x, j, &high, err);
  free (why);
  if (aug == 1)
    guestfs_aug_close (g);
  if (r == -1)
    return -1;
  for (size_t i = first; i < a->nfindings; i++)
    failed += !a->findings[i].passed;
  *result = rn_asprintf ("{\"passed\": %zu, \"failed\": %zu, \"high_failed\": %d}",
                         a->nfindings - first - failed, failed, high);
  return 0;
}
