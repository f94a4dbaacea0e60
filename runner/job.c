/* runner/job.c: a job file -> a validated struct rn_job.
 *
 * Validation walks the whole tree and goes on after each mistake, so one
 * pass reports every error (unknown keys, wrong types, unknown or
 * unsupported calls, missing or extra arguments, images that do not
 * exist, undefined template variables), each at its file:line:column.
 * Nothing runs unless the job validates.  schemas/job-schema.md is the
 * reference of every key; keep the two in step.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define MAX_STEPS     10000
#define MAX_INSTANCES 10000
#define MAX_IMAGES    100000
#define DEFAULT_TIMEOUT 600

const char *const rn_builtin_names[] = {
  "image", "image_name", "image_stem", "job", "job_dir", "run_id", "date",
  "task", "instance", NULL,
};

static const char *const formats[] = {
  "raw", "qcow2", "vmdk", "vdi", "vhdx", "vpc", NULL,
};

static const char *const top_keys[] = {
  "name", "description", "images", "format", "readonly", "matrix", "vars",
  "steps", "workers", "timeout", "retries", "memsize", "overwrite", "build",
  NULL,
};

struct v {                   /* validation state */
  struct rn_errs *e;
  const char *file;
  struct rn_job *j;
  const struct rn_node *top[16];   /* by index in top_keys */
  struct rn_strv known;      /* variables defined for the current check */
};

#define ERR(v, n, ...) rn_err ((v)->e, (v)->file, (n)->line, (n)->col, __VA_ARGS__)

static int
in_list (const char *const *l, const char *s)
{
  for (size_t i = 0; l[i]; i++)
    if (strcmp (l[i], s) == 0)
      return 1;
  return 0;
}

static const char *
nearest (const char *const *l, const char *s)
{
  const char *best = NULL;
  int bd = 3;
  for (size_t i = 0; l[i]; i++) {
    int d = rn_distance (l[i], s);
    if (d < bd)
      bd = d, best = l[i];
  }
  return best;
}

static void
unknown_key (struct v *v, const struct rn_node *k, const char *where,
             const char *const *keys)
{
  const char *near = nearest (keys, k->str);
  if (near)
    ERR (v, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, where, near);
  else
    ERR (v, k, "unknown key '%s' in %s", k->str, where);
}

/* ---- typed getters: each reports its own error and returns -1 ---- */

static int
want_kind (struct v *v, const struct rn_node *n, enum rn_ykind k, const char *what)
{
  if (n->kind == k && !(k == RN_Y_SCALAR && rn_node_is_null (n)))
    return 0;
  ERR (v, n, "%s: expected %s, got %s", what,
       k == RN_Y_MAP ? "a mapping" : k == RN_Y_SEQ ? "a sequence" : "a string",
       rn_node_what (n));
  return -1;
}

static int
get_str (struct v *v, const struct rn_node *n, const char *what, char **out)
{
  if (want_kind (v, n, RN_Y_SCALAR, what) == -1)
    return -1;
  if (strlen (n->str) != n->len) {
    ERR (v, n, "%s: the string contains a NUL byte", what);
    return -1;
  }
  *out = rn_strdup (n->str);
  return 0;
}

static int
get_int (struct v *v, const struct rn_node *n, const char *what,
         int64_t min, int64_t max, int64_t *out)
{
  if (n->kind != RN_Y_SCALAR || !n->plain || rn_parse_int (n->str, out) == -1) {
    ERR (v, n, "%s: expected an integer, got %s", what, rn_node_what (n));
    return -1;
  }
  if (*out < min || *out > max) {
    ERR (v, n, "%s: %s is out of range (%lld to %lld)", what, n->str,
         (long long) min, (long long) max);
    return -1;
  }
  return 0;
}

static int
get_bool (struct v *v, const struct rn_node *n, const char *what, int *out)
{
  int b = n->kind == RN_Y_SCALAR && n->plain ? rn_parse_bool (n->str) : -1;
  if (b == -1) {
    ERR (v, n, "%s: expected true or false, got %s", what, rn_node_what (n));
    return -1;
  }
  *out = b;
  return 0;
}

/* The keys of a mapping, checked against a list; values by index. */
static int
get_map (struct v *v, const struct rn_node *n, const char *what,
         const char *const *keys, const struct rn_node **vals)
{
  if (want_kind (v, n, RN_Y_MAP, what) == -1)
    return -1;
  for (size_t i = 0; keys[i]; i++)
    vals[i] = NULL;
  for (size_t i = 0; i < n->nkids; i += 2) {
    const struct rn_node *k = n->kids[i];
    size_t x;
    for (x = 0; keys[x] && strcmp (keys[x], k->str) != 0; x++)
      ;
    if (keys[x] == NULL)
      unknown_key (v, k, what, keys);
    else
      vals[x] = n->kids[i + 1];
  }
  return 0;
}

static const struct rn_node *
top (struct v *v, const char *key)
{
  for (size_t i = 0; top_keys[i]; i++)
    if (strcmp (top_keys[i], key) == 0)
      return v->top[i];
  abort ();
}

/* ---- variables ---- */

/* Known for templates?  "x.0" is known when x is: whether the element
 * exists is only known when the task runs. */
static const char *
lookup_known (void *ctx, const char *name)
{
  struct v *v = ctx;
  size_t n = strcspn (name, ".");
  for (size_t i = 0; i < v->known.n; i++)
    if (strncmp (v->known.v[i], name, n) == 0 && v->known.v[i][n] == '\0')
      return "";
  return NULL;
}

static const char *
lookup_vars (void *ctx, const char *name)
{
  struct rn_job *j = ctx;
  for (size_t i = 0; i < j->var_names.n; i++)
    if (strcmp (j->var_names.v[i], name) == 0)
      return j->var_values.v[i];
  return NULL;
}

static void
known_add (struct v *v, const char *name)
{
  if (lookup_known (v, name) == NULL)
    rn_strv_add (&v->known, rn_strdup (name));
}

static void
check_tmpl (struct v *v, const struct rn_node *n, const char *s)
{
  rn_tmpl_check (s, v->file, n->line, n->col, lookup_known, v, v->e);
}

static int
var_name_check (struct v *v, const struct rn_node *k, const char *what)
{
  if (!rn_var_name_ok (k->str)) {
    ERR (v, k, "%s: '%s' is not a variable name (a letter or '_', then "
         "letters, digits or '_')", what, k->str);
    return -1;
  }
  if (in_list (rn_builtin_names, k->str)) {
    ERR (v, k, "%s: '%s' is a built-in variable and cannot be redefined", what, k->str);
    return -1;
  }
  return 0;
}

static void
parse_vars (struct v *v, const struct rn_overrides *o)
{
  const struct rn_node *n = top (v, "vars");
  struct rn_job *j = v->j;

  if (n && want_kind (v, n, RN_Y_MAP, "vars") == 0)
    for (size_t i = 0; i < n->nkids; i += 2) {
      char *val;
      if (var_name_check (v, n->kids[i], "vars") == 0 &&
          get_str (v, n->kids[i + 1], n->kids[i]->str, &val) == 0) {
        rn_strv_add (&j->var_names, rn_strdup (n->kids[i]->str));
        rn_strv_add (&j->var_values, val);
      }
    }
  for (size_t i = 0; o && i < o->var_names.n; i++) {
    size_t x;
    for (x = 0; x < j->var_names.n && strcmp (j->var_names.v[x], o->var_names.v[i]); x++)
      ;
    if (x < j->var_names.n) {
      free (j->var_values.v[x]);
      j->var_values.v[x] = rn_strdup (o->var_values.v[i]);
    } else {
      rn_strv_add (&j->var_names, rn_strdup (o->var_names.v[i]));
      rn_strv_add (&j->var_values, rn_strdup (o->var_values.v[i]));
    }
  }
}

/* ---- matrix ---- */

static struct rn_instance *
add_instance (struct rn_job *j)
{
  j->insts = rn_realloc (j->insts, (j->ninsts + 1) * sizeof *j->insts);
  memset (&j->insts[j->ninsts], 0, sizeof *j->insts);
  return &j->insts[j->ninsts++];
}

static void
inst_set (struct rn_instance *in, const char *name, const char *val)
{
  rn_strv_add (&in->names, rn_strdup (name));
  rn_strv_add (&in->values, rn_strdup (val));
}

/* matrix: a list of mappings, one instance each. */
static void
matrix_list (struct v *v, const struct rn_node *n)
{
  if (n->nkids > MAX_INSTANCES) {
    ERR (v, n, "matrix: more than %d instances", MAX_INSTANCES);
    return;
  }
  for (size_t i = 0; i < n->nkids; i++) {
    const struct rn_node *m = n->kids[i];
    struct rn_instance *in;
    if (want_kind (v, m, RN_Y_MAP, "matrix instance") == -1)
      continue;
    in = add_instance (v->j);
    for (size_t k = 0; k < m->nkids; k += 2) {
      char *val;
      if (var_name_check (v, m->kids[k], "matrix") == 0 &&
          get_str (v, m->kids[k + 1], m->kids[k]->str, &val) == 0) {
        inst_set (in, m->kids[k]->str, val);
        free (val);
      }
    }
  }
}

/* matrix: a mapping of lists, one instance per combination. */
static void
matrix_product (struct v *v, const struct rn_node *n)
{
  struct rn_job *j = v->j;
  size_t total = 1, nk = n->nkids / 2;

  for (size_t k = 0; k < nk; k++) {
    const struct rn_node *l = n->kids[2 * k + 1];
    size_t len = l->kind == RN_Y_SEQ ? l->nkids : 1;
    if (var_name_check (v, n->kids[2 * k], "matrix") == -1)
      return;
    if (l->kind == RN_Y_MAP || rn_node_is_null (l) || len == 0) {
      ERR (v, l, "matrix '%s': expected a value or a non-empty list of values",
           n->kids[2 * k]->str);
      return;
    }
    for (size_t i = 0; l->kind == RN_Y_SEQ && i < len; i++)
      if (want_kind (v, l->kids[i], RN_Y_SCALAR, n->kids[2 * k]->str) == -1)
        return;
    if (total * len > MAX_INSTANCES) {
      ERR (v, n, "matrix: more than %d combinations", MAX_INSTANCES);
      return;
    }
    total *= len;
  }
  for (size_t x = 0; x < total; x++) {
    struct rn_instance *in = add_instance (j);
    size_t r = x;
    for (size_t k = nk; k-- > 0;) {      /* the last key varies fastest */
      const struct rn_node *l = n->kids[2 * k + 1];
      size_t len = l->kind == RN_Y_SEQ ? l->nkids : 1;
      const struct rn_node *val = l->kind == RN_Y_SEQ ? l->kids[r % len] : l;
      inst_set (in, n->kids[2 * k]->str, val->str);
      r /= len;
    }
  }
}

/* Variables every instance defines are known to templates. */
static void
parse_matrix (struct v *v)
{
  const struct rn_node *n = top (v, "matrix");
  struct rn_job *j = v->j;

  if (n && n->kind == RN_Y_SEQ)
    matrix_list (v, n);
  else if (n && n->kind == RN_Y_MAP)
    matrix_product (v, n);
  else if (n && !rn_node_is_null (n))
    ERR (v, n, "matrix: expected a list of mappings or a mapping of lists, got %s",
         rn_node_what (n));
  if (j->ninsts == 0)
    add_instance (j);
  for (size_t i = 0; i < j->ninsts; i++) {
    struct rn_instance *in = &j->insts[i];
    const char *nm = NULL;
    for (size_t k = 0; k < in->names.n; k++)
      if (strcmp (in->names.v[k], "name") == 0)
        nm = in->values.v[k];
    in->name = nm ? rn_strdup (nm) : j->ninsts > 1 ? rn_asprintf ("#%zu", i + 1)
                                                   : rn_strdup ("");
  }
  for (size_t k = 0; k < j->insts[0].names.n; k++) {
    const char *name = j->insts[0].names.v[k];
    size_t i;
    for (i = 1; i < j->ninsts; i++) {
      size_t x;
      for (x = 0; x < j->insts[i].names.n && strcmp (j->insts[i].names.v[x], name); x++)
        ;
      if (x == j->insts[i].names.n)
        break;
    }
    if (i == j->ninsts)
      known_add (v, name);
  }
}

/* ---- images ---- */

static void
add_image (struct v *v, const struct rn_node *at, const char *path,
           const char *format, int readonly)
{
  struct rn_job *j = v->j;
  char real[PATH_MAX];

  if (realpath (path, real) == NULL) {
    if (at)
      ERR (v, at, "image '%s': %s", path, strerror (errno));
    else
      rn_err (v->e, NULL, 0, 0, "--images: image '%s': %s", path, strerror (errno));
    return;
  }
  for (size_t i = 0; i < j->nimages; i++)
    if (strcmp (j->images[i].path, real) == 0)
      return;                 /* listed twice (e.g. by two globs): once */
  if (j->nimages == MAX_IMAGES) {
    rn_err (v->e, v->file, at ? at->line : 0, at ? at->col : 0,
            "more than %d images", MAX_IMAGES);
    return;
  }
  j->images = rn_realloc (j->images, (j->nimages + 1) * sizeof *j->images);
  j->images[j->nimages].path = rn_strdup (real);
  j->images[j->nimages].format = rn_strdup (format);
  j->images[j->nimages].readonly = readonly;
  j->nimages++;
}

static int
usable (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && (S_ISREG (st.st_mode) || S_ISBLK (st.st_mode));
}

/* One path or glob pattern, relative to the job's directory.  at is NULL
 * for --images. */
static void
image_pattern (struct v *v, const struct rn_node *at, const char *pat,
               const char *format, int readonly)
{
  char *err = NULL, *exp = rn_tmpl_expand (pat, lookup_vars, v->j, &err);
  char *path;

  if (exp == NULL) {
    if (at) ERR (v, at, "image '%s': %s", pat, err);
    else rn_err (v->e, NULL, 0, 0, "--images '%s': %s", pat, err);
    free (err);
    return;
  }
  path = at ? rn_path_join (v->j->dir, exp) : rn_strdup (exp);
  if (strpbrk (exp, "*?[")) {
    glob_t g;
    size_t before = v->j->nimages;
    int r = glob (path, GLOB_ERR, NULL, &g);
    for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
      if (usable (g.gl_pathv[i]))
        add_image (v, at, g.gl_pathv[i], format, readonly);
    if (r == 0)
      globfree (&g);
    if (v->j->nimages == before) {
      if (at) ERR (v, at, "no image matches '%s'", exp);
      else rn_err (v->e, NULL, 0, 0, "--images: no image matches '%s'", exp);
    }
  } else if (!usable (path)) {
    struct stat st;
    const char *why = stat (path, &st) == -1 ? strerror (errno)
                                             : "not a regular file or block device";
    if (at) ERR (v, at, "image '%s' does not exist or is unusable: %s", exp, why);
    else rn_err (v->e, NULL, 0, 0, "--images: image '%s': %s", exp, why);
  } else
    add_image (v, at, path, format, readonly);
  free (path);
  free (exp);
}

static int
format_check (struct v *v, const struct rn_node *n, const char *f)
{
  if (in_list (formats, f))
    return 0;
  ERR (v, n, "format: expected one of raw, qcow2, vmdk, vdi, vhdx, vpc; got '%s'", f);
  return -1;
}

static void
image_entry (struct v *v, const struct rn_node *n, const char *deffmt, int defro)
{
  static const char *const keys[] = { "path", "format", "readonly", NULL };
  const struct rn_node *f[3];
  char *path = NULL, *fmt = NULL;
  int ro = defro;

  if (n->kind == RN_Y_SCALAR) {
    if (get_str (v, n, "images", &path) == 0)
      image_pattern (v, n, path, deffmt, defro);
    free (path);
    return;
  }
  if (get_map (v, n, "image", keys, f) == -1)
    return;
  if (f[0] == NULL) {
    ERR (v, n, "image: 'path' is required");
    return;
  }
  if (get_str (v, f[0], "path", &path) == -1 ||
      (f[1] && (get_str (v, f[1], "format", &fmt) == -1 || format_check (v, f[1], fmt) == -1)) ||
      (f[2] && get_bool (v, f[2], "readonly", &ro) == -1)) {
    free (path);
    free (fmt);
    return;
  }
  image_pattern (v, f[0], path, fmt ? fmt : deffmt, ro);
  free (path);
  free (fmt);
}

static void
parse_images (struct v *v, const struct rn_overrides *o)
{
  const struct rn_node *n = top (v, "images"), *fn = top (v, "format");
  const struct rn_node *ro = top (v, "readonly");
  char *fmt = NULL;
  int readonly = 1;

  if (fn && (get_str (v, fn, "format", &fmt) == -1 || format_check (v, fn, fmt) == -1)) {
    free (fmt);
    fmt = NULL;
  }
  if (ro)
    get_bool (v, ro, "readonly", &readonly);
  if (o && o->images.n > 0) {
    const char *f = o->format ? o->format : fmt ? fmt : "raw";
    if (!in_list (formats, f))
      rn_err (v->e, NULL, 0, 0, "--format: expected one of raw, qcow2, vmdk, vdi, "
              "vhdx, vpc; got '%s'", f);
    for (size_t i = 0; i < o->images.n; i++)
      image_pattern (v, NULL, o->images.v[i], f, readonly);
  } else if (n == NULL) {
    rn_err (v->e, v->file, 1, 1, "the job needs 'images' (or 'build' to make new images)");
  } else if (n->kind == RN_Y_SEQ) {
    if (n->nkids == 0)
      ERR (v, n, "images: the list is empty");
    for (size_t i = 0; i < n->nkids; i++)
      image_entry (v, n->kids[i], fmt ? fmt : "raw", readonly);
  } else
    image_entry (v, n, fmt ? fmt : "raw", readonly);
  free (fmt);
}

/* ---- build ---- */

static void
parse_build (struct v *v)
{
  static const char *const keys[] = { "size", "format", "output", NULL };
  const struct rn_node *n = top (v, "build"), *f[3];
  struct rn_job *j = v->j;

  j->kind = RN_JOB_BUILD;
  if (top (v, "images"))
    ERR (v, top (v, "images"), "a job has 'images' or 'build', not both");
  if (top (v, "readonly") || top (v, "format"))
    ERR (v, top (v, "readonly") ? top (v, "readonly") : top (v, "format"),
         "'readonly' and 'format' are image settings; a build job sets "
         "build.format and always writes its output");
  if (get_map (v, n, "build", keys, f) == -1)
    return;
  if (f[0] == NULL)
    ERR (v, n, "build: 'size' is required (bytes, or with K, M, G or T)");
  else if (f[0]->kind != RN_Y_SCALAR || rn_parse_size (f[0]->str, &j->build_size) == -1)
    ERR (v, f[0], "size: expected a size like 64M or 2G, got %s",
         f[0]->kind == RN_Y_SCALAR ? f[0]->str : rn_node_what (f[0]));
  else if (j->build_size < (1u << 20) || j->build_size > (1ull << 40))
    ERR (v, f[0], "size: %s is out of range (1M to 1T)", f[0]->str);
  j->build_format = rn_strdup ("raw");
  if (f[1]) {
    char *fmt;
    if (get_str (v, f[1], "format", &fmt) == 0) {
      if (strcmp (fmt, "raw") && strcmp (fmt, "qcow2"))
        ERR (v, f[1], "build.format: expected raw or qcow2, got '%s'", fmt);
      free (j->build_format);
      j->build_format = fmt;
    }
  }
  if (f[2] == NULL)
    ERR (v, n, "build: 'output' is required (a path pattern like out/{{name}}.img)");
  else if (get_str (v, f[2], "output", &j->build_output) == 0) {
    j->build_line = f[2]->line;
    j->build_col = f[2]->col;
    if (j->build_output[0] == '\0')
      ERR (v, f[2], "output: the path is empty");
    check_tmpl (v, f[2], j->build_output);
  }
}

/* ---- steps ---- */

static const char *const step_keys[] = { "save_as", "on_error", NULL };

static int
scalar_or_tmpl_int (struct v *v, const struct rn_node *n, const struct rn_arg *a)
{
  int64_t x;
  int64_t min = a->type == RN_ARG_INT ? INT32_MIN : INT64_MIN;
  int64_t max = a->type == RN_ARG_INT ? INT32_MAX : INT64_MAX;

  if (n->kind == RN_Y_SCALAR && !rn_node_is_null (n) && rn_tmpl_has (n->str)) {
    check_tmpl (v, n, n->str);
    return 0;
  }
  return get_int (v, n, a->name, min, max, &x);
}

/* A host path argument: relative to the job's directory. */
static void
host_path_check (struct v *v, const struct rn_node *n, const struct rn_arg *a)
{
  char *p, *dir;
  struct stat st;

  if (rn_tmpl_has (n->str) || n->str[0] == '\0') {
    if (n->str[0] == '\0')
      ERR (v, n, "%s: the host path is empty", a->name);
    return;
  }
  p = rn_path_join (v->j->dir, n->str);
  if (a->type == RN_ARG_FILEIN) {
    if (stat (p, &st) == -1)
      ERR (v, n, "%s: host file '%s': %s", a->name, n->str, strerror (errno));
    else if (!S_ISREG (st.st_mode))
      ERR (v, n, "%s: host file '%s' is not a regular file", a->name, n->str);
  } else {
    dir = rn_dirname (p);
    if (stat (dir, &st) == -1 || !S_ISDIR (st.st_mode))
      ERR (v, n, "%s: directory of '%s' does not exist", a->name, n->str);
    else if (!v->j->overwrite && lstat (p, &st) == 0)
      ERR (v, n, "%s: '%s' exists (set overwrite: true to replace it)", a->name, n->str);
    free (dir);
  }
  free (p);
}

static void
string_arg_check (struct v *v, const struct rn_node *n, const struct rn_arg *a)
{
  const char *s = n->str;

  check_tmpl (v, n, s);
  if (rn_tmpl_has (s))
    return;
  switch (a->type) {
  case RN_ARG_PATHNAME:
  case RN_ARG_DEV_OR_PATH:
    if (s[0] != '/')
      ERR (v, n, "%s: expected an absolute guest path, got '%s'", a->name, s);
    break;
  case RN_ARG_DEVICE:
    if (strncmp (s, "/dev/", 5) != 0)
      ERR (v, n, "%s: expected a device like /dev/sda1, got '%s'", a->name, s);
    break;
  case RN_ARG_FILEIN:
  case RN_ARG_FILEOUT:
    host_path_check (v, n, a);
    break;
  default:
    break;
  }
}

/* One argument's node -> out; errors reported. */
static void
arg_value (struct v *v, const struct rn_node *n, const struct rn_arg *a,
           struct rn_val *out)
{
  out->line = n->line;
  out->col = n->col;
  switch (a->type) {
  case RN_ARG_STRINGLIST:
  case RN_ARG_DEVICELIST:
    if (want_kind (v, n, RN_Y_SEQ, a->name) == -1)
      return;
    out->kind = RN_V_LIST;
    for (size_t i = 0; i < n->nkids; i++) {
      char *s;
      if (get_str (v, n->kids[i], a->name, &s) == 0) {
        check_tmpl (v, n->kids[i], s);
        rn_strv_add (&out->list, s);
      }
    }
    if (out->list.v == NULL)
      out->list.v = rn_calloc (1, sizeof (char *));   /* an empty list */
    return;
  case RN_ARG_OPTSTRING:
    if (rn_node_is_null (n)) {
      out->kind = RN_V_NULL;
      return;
    }
    /* fall through */
  default:
    break;
  }
  if (a->type == RN_ARG_BOOL) {
    int b;
    if (n->kind == RN_Y_SCALAR && !rn_node_is_null (n) && rn_tmpl_has (n->str))
      check_tmpl (v, n, n->str);
    else if (get_bool (v, n, a->name, &b) == -1)
      return;
  } else if (a->type == RN_ARG_INT || a->type == RN_ARG_INT64) {
    if (scalar_or_tmpl_int (v, n, a) == -1)
      return;
  } else {
    if (get_str (v, n, a->name, &out->s) == -1)
      return;
    string_arg_check (v, n, a);
    out->kind = RN_V_SCALAR;
    return;
  }
  out->kind = RN_V_SCALAR;
  out->s = rn_strdup (n->str);
}

static const char *
arg_names (const struct rn_call *c)
{
  static __thread char buf[256];
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < c->nargs && o < sizeof buf - 40; i++)
    o += (size_t) snprintf (buf + o, sizeof buf - o, "%s%s (%s)", i ? ", " : "",
                            c->args[i].name, rn_argtype_name (c->args[i].type));
  return buf;
}

/* The arguments of a call, as a mapping, a sequence, a scalar or null. */
static void
step_args (struct v *v, struct rn_step *s, const struct rn_node *key,
           const struct rn_node *n)
{
  const struct rn_call *c = s->call;
  const struct rn_node **given = rn_calloc ((size_t) c->nargs + 1, sizeof *given);
  int list1 = c->nargs == 1 && (c->args[0].type == RN_ARG_STRINGLIST ||
                                c->args[0].type == RN_ARG_DEVICELIST);

  s->args = rn_calloc ((size_t) c->nargs + 1, sizeof *s->args);
  if (rn_node_is_null (n)) {
    if (c->nargs == 1 && c->args[0].type == RN_ARG_OPTSTRING) {
      s->args[0].kind = RN_V_NULL;             /* `set_append:' */
      free (given);
      return;
    }
  } else if (n->kind == RN_Y_MAP) {
    for (size_t i = 0; i < n->nkids; i += 2) {
      const struct rn_node *k = n->kids[i];
      int x;
      for (x = 0; x < c->nargs && strcmp (c->args[x].name, k->str); x++)
        ;
      if (x == c->nargs)
        ERR (v, k, "%s: unknown argument '%s'; its arguments are: %s", c->name,
             k->str, c->nargs ? arg_names (c) : "none");
      else
        given[x] = n->kids[i + 1];
    }
  } else if (n->kind == RN_Y_SEQ && !list1) {
    if ((int) n->nkids != c->nargs)
      ERR (v, n, "%s: expected %d argument%s (%s), got %zu", c->name, c->nargs,
           c->nargs == 1 ? "" : "s", c->nargs ? arg_names (c) : "none", n->nkids);
    for (size_t i = 0; i < n->nkids && (int) i < c->nargs; i++)
      given[i] = n->kids[i];
  } else if (c->nargs == 1) {
    given[0] = n;
  } else {
    ERR (v, n, "%s: expected %d arguments (%s) as a mapping or a sequence, got a %s",
         c->name, c->nargs, c->nargs ? arg_names (c) : "none",
         n->kind == RN_Y_SEQ ? "sequence" : "single value");
    free (given);
    return;
  }
  for (int i = 0; i < c->nargs; i++) {
    if (given[i])
      arg_value (v, given[i], &c->args[i], &s->args[i]);
    else if (!(n && n->kind == RN_Y_SEQ && !list1))
      ERR (v, n && !rn_node_is_null (n) ? n : key, "%s: missing argument '%s' (%s)",
           c->name, c->args[i].name, rn_argtype_name (c->args[i].type));
  }
  free (given);
}

static const struct rn_call *
step_call (struct v *v, const struct rn_node *k)
{
  char *name = rn_strdup (k->str);
  const struct rn_call *c;
  const char *why;

  for (char *p = name; *p; p++)
    if (*p == '-')
      *p = '_';
  c = rn_call_find (name);
  if (c == NULL) {
    const char *near = rn_call_suggest (name);
    if (near)
      ERR (v, k, "unknown call '%s' (did you mean '%s'?)", k->str, near);
    else
      ERR (v, k, "unknown call '%s'", k->str);
  } else if ((why = rn_call_step_refusal (c)) != NULL) {
    ERR (v, k, "'%s' cannot be a step: %s", k->str, why);
    c = NULL;
  }
  free (name);
  return c;
}

static void
step_modifiers (struct v *v, struct rn_step *s, const struct rn_node *k,
                const struct rn_node *val)
{
  if (strcmp (k->str, "save_as") == 0) {
    free (s->save_as);           /* given twice: an error already, keep one */
    s->save_as = NULL;
    if (get_str (v, val, "save_as", &s->save_as) == -1)
      return;
    if (var_name_check (v, val, "save_as") == -1)
      return;
    if (lookup_known (v, s->save_as))
      ERR (v, val, "save_as: '%s' is already a variable or saved name", s->save_as);
  } else {
    char *how;
    if (get_str (v, val, "on_error", &how) == -1)
      return;
    if (strcmp (how, "continue") == 0)
      s->on_error_continue = 1;
    else if (strcmp (how, "stop") != 0)
      ERR (v, val, "on_error: expected stop or continue, got '%s'", how);
    free (how);
  }
}

static void
parse_step (struct v *v, const struct rn_node *n, struct rn_step *s)
{
  const struct rn_node *ck = NULL, *cv = NULL;

  s->line = n->line;
  s->col = n->col;
  if (n->kind == RN_Y_SCALAR && !rn_node_is_null (n)) {
    if ((s->call = step_call (v, n)) != NULL)
      step_args (v, s, n, NULL);
    return;
  }
  if (n->kind != RN_Y_MAP || n->nkids == 0) {
    ERR (v, n, "a step is a call, e.g. '- cat: /etc/hostname' or '- sync'; got %s",
         rn_node_what (n));
    return;
  }
  for (size_t i = 0; i < n->nkids; i += 2) {
    const struct rn_node *k = n->kids[i];
    if (in_list (step_keys, k->str))
      step_modifiers (v, s, k, n->kids[i + 1]);
    else if (ck) {
      ERR (v, k, "a step makes one call: '%s' and '%s' are both here (or is "
           "'%s' a misspelt save_as/on_error?)", ck->str, k->str, k->str);
    } else
      ck = k, cv = n->kids[i + 1];
  }
  if (ck == NULL) {
    ERR (v, n, "this step names no call");
    return;
  }
  if ((s->call = step_call (v, ck)) != NULL)
    step_args (v, s, ck, cv);
}

static void
parse_steps (struct v *v)
{
  const struct rn_node *n = top (v, "steps");
  struct rn_job *j = v->j;

  if (n == NULL) {
    rn_err (v->e, v->file, 1, 1, "the job needs 'steps' (a list of calls)");
    return;
  }
  if (want_kind (v, n, RN_Y_SEQ, "steps") == -1)
    return;
  if (n->nkids == 0)
    ERR (v, n, "steps: the list is empty");
  if (n->nkids > MAX_STEPS) {
    ERR (v, n, "steps: more than %d steps", MAX_STEPS);
    return;
  }
  j->steps = rn_calloc (n->nkids, sizeof *j->steps);
  j->nsteps = n->nkids;
  for (size_t i = 0; i < n->nkids; i++) {
    parse_step (v, n->kids[i], &j->steps[i]);
    if (j->steps[i].save_as && !lookup_known (v, j->steps[i].save_as))
      known_add (v, j->steps[i].save_as);
  }
}

/* ---- the top level ---- */

static void
parse_settings (struct v *v)
{
  struct rn_job *j = v->j;
  const struct rn_node *n;
  int64_t x;

  if ((n = top (v, "name")) != NULL) {
    free (j->name);
    j->name = NULL;
    if (get_str (v, n, "name", &j->name) == -1)
      j->name = rn_strdup ("job");
  }
  if ((n = top (v, "description")) != NULL)
    want_kind (v, n, RN_Y_SCALAR, "description");
  if ((n = top (v, "workers")) != NULL && get_int (v, n, "workers", 1, 256, &x) == 0)
    j->workers = (int) x;
  if ((n = top (v, "retries")) != NULL && get_int (v, n, "retries", 0, 10, &x) == 0)
    j->retries = (int) x;
  if ((n = top (v, "memsize")) != NULL && get_int (v, n, "memsize", 128, 65536, &x) == 0)
    j->memsize = (int) x;
  if ((n = top (v, "overwrite")) != NULL)
    get_bool (v, n, "overwrite", &j->overwrite);
  if ((n = top (v, "timeout")) != NULL) {
    if (n->kind != RN_Y_SCALAR || rn_parse_duration (n->str, &x) == -1)
      ERR (v, n, "timeout: expected seconds (or 90s, 10m, 1h), got %s",
           n->kind == RN_Y_SCALAR ? n->str : rn_node_what (n));
    else if (x < 1 || x > 86400)
      ERR (v, n, "timeout: %s is out of range (1s to 24h)", n->str);
    else
      j->timeout = (int) x;
  }
}

static void
parse_top (struct v *v, const struct rn_node *root)
{
  if (root == NULL) {
    rn_err (v->e, v->file, 1, 1, "the job file is empty");
    return;
  }
  if (want_kind (v, root, RN_Y_MAP, "job") == -1)
    return;
  for (size_t i = 0; i < root->nkids; i += 2) {
    const struct rn_node *k = root->kids[i];
    size_t x;
    for (x = 0; top_keys[x] && strcmp (top_keys[x], k->str); x++)
      ;
    if (top_keys[x])
      v->top[x] = root->kids[i + 1];
    else {
      const char *near = nearest (top_keys, k->str);
      const struct rn_call *c = rn_call_find (k->str);
      if (near)
        ERR (v, k, "unknown key '%s' (did you mean '%s'?)", k->str, near);
      else if (c)
        ERR (v, k, "unknown key '%s': calls go in the 'steps' list", k->str);
      else
        ERR (v, k, "unknown key '%s'; a job has: name, description, images, "
             "format, readonly, matrix, vars, steps, workers, timeout, retries, "
             "memsize, overwrite, build", k->str);
    }
  }
}

static char *
file_stem (const char *file)
{
  const char *b = rn_basename (file), *dot = strrchr (b, '.');
  return dot && dot != b ? rn_strndup (b, (size_t) (dot - b)) : rn_strdup (b);
}

static void
validate (struct v *v, const struct rn_node *root, const struct rn_overrides *o)
{
  struct rn_job *j = v->j;

  parse_top (v, root);
  if (root == NULL || root->kind != RN_Y_MAP)
    return;
  parse_settings (v);
  for (size_t i = 0; rn_builtin_names[i]; i++)
    known_add (v, rn_builtin_names[i]);
  parse_vars (v, o);
  for (size_t i = 0; i < j->var_names.n; i++)
    known_add (v, j->var_names.v[i]);
  parse_matrix (v);
  if (top (v, "build")) {
    /* The output names the image: no image builtins in it. */
    struct rn_strv saved = v->known;
    memset (&v->known, 0, sizeof v->known);
    for (size_t i = 0; i < saved.n; i++)
      if (strncmp (saved.v[i], "image", 5) != 0)
        known_add (v, saved.v[i]);
    parse_build (v);
    rn_strv_free (&v->known);
    v->known = saved;
  } else
    parse_images (v, o);
  parse_steps (v);
}

struct rn_job *
rn_job_load (const char *file, const char *text, const struct rn_overrides *o,
             struct rn_errs *e)
{
  struct v v = { .e = e, .file = file };
  struct rn_doc d;
  struct rn_job *j;
  char *buf = NULL, *err = NULL, real[PATH_MAX];
  size_t len, nerr = e->n;

  if (text == NULL) {
    if ((buf = rn_read_file (file, RN_YAML_MAX_BYTES, &len, &err)) == NULL) {
      rn_err (e, NULL, 0, 0, "%s", err);
      free (err);
      return NULL;
    }
    text = buf;
  } else
    len = strlen (text);
  j = v.j = rn_calloc (1, sizeof *j);
  j->file = rn_strdup (file);
  j->path = rn_strdup (realpath (file, real) ? real : file);
  j->dir = rn_dirname (j->path);
  j->text = buf ? buf : rn_strdup (text);
  j->name = file_stem (file);
  j->timeout = DEFAULT_TIMEOUT;
  if (rn_yaml_parse (&d, file, j->text, len, e) == 0) {
    validate (&v, d.root, o);
    rn_yaml_free (&d);
  }
  rn_strv_free (&v.known);
  if (e->n > nerr) {
    rn_job_free (j);
    return NULL;
  }
  return j;
}

static void
free_val (struct rn_val *a)
{
  free (a->s);
  rn_strv_free (&a->list);
}

void
rn_job_free (struct rn_job *j)
{
  if (j == NULL)
    return;
  for (size_t i = 0; i < j->nimages; i++) {
    free (j->images[i].path);
    free (j->images[i].format);
  }
  free (j->images);
  for (size_t i = 0; i < j->ninsts; i++) {
    rn_strv_free (&j->insts[i].names);
    rn_strv_free (&j->insts[i].values);
    free (j->insts[i].name);
  }
  free (j->insts);
  for (size_t i = 0; i < j->nsteps; i++) {
    struct rn_step *s = &j->steps[i];
    for (int a = 0; s->call && s->args && a < s->call->nargs; a++)
      free_val (&s->args[a]);
    free (s->args);
    free (s->save_as);
  }
  free (j->steps);
  rn_strv_free (&j->var_names);
  rn_strv_free (&j->var_values);
  free (j->file);
  free (j->path);
  free (j->dir);
  free (j->text);
  free (j->name);
  free (j->build_format);
  free (j->build_output);
  free (j);
}
