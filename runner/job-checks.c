/* runner/job-checks.c: a job's `checks:' read and checked with the job's
 * other keys (rn_jv_checks), before anything runs: each check has an
 * unique id, a severity, a description and exactly one condition, whose
 * arguments are checked here (paths absolute, regexes that compile,
 * Augeas keys and package versions well-formed), each error naming the
 * file, line and column.  What the conditions mean and how they are
 * evaluated against a guest: checks.c.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define RN_CHECK_MAX 1000          /* checks in a job */

#define ERR RN_JV_ERR

static const char *const kinds[] = {
  "file_exists", "file_absent", "file", "tree", "config", "package", "fact", NULL,
};
static const char *const severities[] = { "low", "medium", "high", NULL };
static const char *const check_keys[] = {
  "id", "severity", "description", "file_exists", "file_absent", "file", "tree",
  "config", "package", "fact", NULL,
};

/* A regex argument: a string that compiles as an ERE. */
static char *
jv_regex (struct rn_jv *v, const struct rn_node *n, const char *what)
{
  char *s = NULL;
  regex_t re;
  int r;

  if (n == NULL || rn_jv_str (v, n, what, &s) == -1)
    return NULL;
  if ((r = regcomp (&re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
    char msg[128];
    regerror (r, &re, msg, sizeof msg);
    ERR (v, n, "%s: not a valid regular expression: %s", what, msg);
    free (s);
    return NULL;
  }
  regfree (&re);
  return s;
}

static char *
jv_path (struct rn_jv *v, const struct rn_node *n, const char *what)
{
  char *s = NULL;
  if (n == NULL || rn_jv_str (v, n, what, &s) == -1)
    return NULL;
  if (s[0] != '/') {
    ERR (v, n, "%s: expected an absolute path, got '%s'", what, s);
    free (s);
    return NULL;
  }
  return s;
}

static void
jv_file (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  static const char *const keys[] = { "path", "mode", "owner", "content", "no_content", NULL };
  const struct rn_node *f[5];

  if (rn_jv_map (v, n, "file", keys, f) == -1)
    return;
  if (f[0] == NULL)
    ERR (v, n, "file: 'path' is required");
  else
    c->path = jv_path (v, f[0], "file: path");
  c->mode = jv_regex (v, f[1], "file: mode");
  c->owner = jv_regex (v, f[2], "file: owner");
  c->content = jv_regex (v, f[3], "file: content");
  c->no_content = jv_regex (v, f[4], "file: no_content");
  if (!f[1] && !f[2] && !f[3] && !f[4])
    ERR (v, n, "file: give at least one of mode, owner, content, no_content "
         "(or use file_exists)");
}

static void
jv_tree (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  static const char *const keys[] = { "path", "mode_not", NULL };
  const struct rn_node *f[2];

  if (rn_jv_map (v, n, "tree", keys, f) == -1)
    return;
  if (f[0] == NULL || f[1] == NULL)
    ERR (v, n, "tree: 'path' and 'mode_not' are required");
  c->path = jv_path (v, f[0], "tree: path");
  c->mode = jv_regex (v, f[1], "tree: mode_not");
}

/* A key below a config file, as set_config takes it: an Augeas path
 * relative to the file (PermitRootLogin, Match[1]/X11Forwarding). */
static char *
jv_key (struct rn_jv *v, const struct rn_node *n)
{
  char *s = NULL;
  if (n == NULL || rn_jv_str (v, n, "config: key", &s) == -1)
    return NULL;
  if (*s == '\0' || *s == '/' || strpbrk (s, "'\"*") || strstr (s, "..")) {
    ERR (v, n, "config: key: '%s' is not a key below the file (no leading /, "
         "quotes, * or ..)", s);
    free (s);
    return NULL;
  }
  return s;
}

static void
jv_config (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  static const char *const keys[] = { "file", "key", "value", "lens", "missing", NULL };
  const struct rn_node *f[5];
  char *m = NULL;

  if (rn_jv_map (v, n, "config", keys, f) == -1)
    return;
  if (f[0] == NULL || f[1] == NULL || f[2] == NULL)
    ERR (v, n, "config: 'file', 'key' and 'value' are required");
  c->path = jv_path (v, f[0], "config: file");
  if (c->path && strpbrk (c->path, "'\"[]*"))
    ERR (v, f[0], "config: file: no quotes, brackets or wildcards, got '%s'", c->path);
  c->key = jv_key (v, f[1]);
  c->value = jv_regex (v, f[2], "config: value");
  if (f[3])
    rn_jv_str (v, f[3], "config: lens", &c->lens);
  if (f[4] && rn_jv_str (v, f[4], "config: missing", &m) == 0) {
    if (strcmp (m, "pass") && strcmp (m, "fail"))
      ERR (v, f[4], "config: missing: expected pass or fail, got '%s'", m);
    c->missing_pass = strcmp (m, "pass") == 0;
  }
  free (m);
}

static void
jv_package (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  static const char *const keys[] = { "name", "installed", "min_version", NULL };
  const struct rn_node *f[3];

  c->installed = 1;
  if (rn_jv_map (v, n, "package", keys, f) == -1)
    return;
  if (f[0] == NULL)
    ERR (v, n, "package: 'name' is required");
  else
    rn_jv_str (v, f[0], "package: name", &c->name);
  if (f[1])
    rn_jv_bool (v, f[1], "package: installed", &c->installed);
  if (f[2] && rn_jv_str (v, f[2], "package: min_version", &c->min_version) == 0) {
    struct rn_evr e;
    char *tmp = rn_strdup (c->min_version);
    if (rn_evr_parse (tmp, &e) == -1)
      ERR (v, f[2], "package: min_version: '%s' is not a version "
           "([EPOCH:]VERSION[-RELEASE])", c->min_version);
    free (tmp);
    if (!c->installed)
      ERR (v, f[2], "package: min_version goes with installed: true");
  }
}

static void
jv_fact (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  static const char *const keys[] = { "name", "equals", NULL };
  const struct rn_node *f[2];

  if (rn_jv_map (v, n, "fact", keys, f) == -1)
    return;
  if (f[0] == NULL || f[1] == NULL) {
    ERR (v, n, "fact: 'name' and 'equals' are required");
    return;
  }
  rn_jv_str (v, f[0], "fact: name", &c->name);
  if (f[1]->kind == RN_Y_SEQ) {
    for (size_t i = 0; i < f[1]->nkids; i++) {
      char *s;
      if (rn_jv_str (v, f[1]->kids[i], "fact: equals", &s) == 0)
        rn_strv_add (&c->equals, s);
    }
    if (f[1]->nkids == 0)
      ERR (v, f[1], "fact: equals: the list is empty");
  } else {
    char *s;
    if (rn_jv_str (v, f[1], "fact: equals", &s) == 0)
      rn_strv_add (&c->equals, s);
  }
}

/* The condition of check n: exactly one of the kinds. */
static void
jv_condition (struct rn_jv *v, const struct rn_node *n, const struct rn_node **f,
              struct rn_check *c)
{
  int found = -1;

  for (int k = 0; kinds[k]; k++) {
    if (f[3 + k] == NULL)
      continue;
    if (found >= 0) {
      ERR (v, f[3 + k], "check: one condition per check ('%s' and '%s' given)",
           kinds[found], kinds[k]);
      return;
    }
    found = k;
  }
  if (found < 0) {
    ERR (v, n, "check: no condition: give one of file_exists, file_absent, file, "
         "tree, config, package, fact");
    return;
  }
  c->kind = (enum rn_checkkind) found;
  n = f[3 + found];
  switch (c->kind) {
  case RN_CK_EXISTS: case RN_CK_ABSENT: c->path = jv_path (v, n, kinds[found]); break;
  case RN_CK_FILE: jv_file (v, n, c); break;
  case RN_CK_TREE: jv_tree (v, n, c); break;
  case RN_CK_CONFIG: jv_config (v, n, c); break;
  case RN_CK_PACKAGE: jv_package (v, n, c); break;
  case RN_CK_FACT: jv_fact (v, n, c); break;
  }
}

static int
id_ok (const char *s)
{
  if (*s == '\0' || strlen (s) > 64)
    return 0;
  for (; *s; s++)
    if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
        !(*s >= '0' && *s <= '9') && !strchr ("-_.", *s))
      return 0;
  return 1;
}

static void
jv_check (struct rn_jv *v, const struct rn_node *n, struct rn_check *c)
{
  const struct rn_node *f[10];

  c->line = n->line;
  c->col = n->col;
  if (rn_jv_map (v, n, "check", check_keys, f) == -1)
    return;
  if (!f[0] || !f[1] || !f[2])
    ERR (v, n, "check: 'id', 'severity' and 'description' are required");
  if (f[0] && rn_jv_str (v, f[0], "check: id", &c->id) == 0 && !id_ok (c->id))
    ERR (v, f[0], "check: id: '%s' is not an id (letters, digits, - _ . ; "
         "at most 64)", c->id);
  if (f[1] && rn_jv_str (v, f[1], "check: severity", &c->severity) == 0 &&
      !rn_in_list (severities, c->severity))
    ERR (v, f[1], "check: severity: expected low, medium or high, got '%s'", c->severity);
  if (f[2])
    rn_jv_str (v, f[2], "check: description", &c->description);
  jv_condition (v, n, f, c);
}

void
rn_jv_checks (struct rn_jv *v)
{
  const struct rn_node *n = rn_jv_top (v, "checks");
  struct rn_job *j = v->j;

  if (n == NULL || rn_jv_kind (v, n, RN_Y_SEQ, "checks") == -1)
    return;
  if (n->nkids > RN_CHECK_MAX) {
    ERR (v, n, "checks: %zu checks, at most %d", n->nkids, RN_CHECK_MAX);
    return;
  }
  j->checks = rn_calloc (n->nkids, sizeof *j->checks);
  j->nchecks = n->nkids;
  for (size_t i = 0; i < n->nkids; i++) {
    jv_check (v, n->kids[i], &j->checks[i]);
    for (size_t k = 0; k < i && j->checks[i].id; k++)
      if (j->checks[k].id && strcmp (j->checks[k].id, j->checks[i].id) == 0)
        ERR (v, n->kids[i], "check: id '%s' is used twice (first at line %d)",
             j->checks[i].id, j->checks[k].line);
  }
}

void
rn_checks_free (struct rn_job *j)
{
  for (size_t i = 0; i < j->nchecks; i++) {
    struct rn_check *c = &j->checks[i];
    free (c->id); free (c->severity); free (c->description); free (c->path);
    free (c->mode); free (c->owner); free (c->content); free (c->no_content);
    free (c->value); free (c->name); free (c->min_version); free (c->key);
    free (c->lens);
    rn_strv_free (&c->equals);
  }
  free (j->checks);
  j->checks = NULL;
  j->nchecks = 0;
}
