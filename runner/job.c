/* runner/job.c: a job file -> a validated struct rn_job.
 *
 * Validation walks the whole tree and goes on after each mistake, so one
 * pass reports every error (unknown keys, wrong types, unknown or
 * unsupported calls, missing or extra arguments, images that do not
 * exist, undefined template variables), each at its file:line:column.
 * Nothing runs unless the job validates.  schemas/job-schema.md is the
 * reference of every key; keep the two in step.
 *
 * This file holds the top-level keys (settings, vars, matrix, images,
 * build) and the typed getters the other job*.c files share; the steps
 * list is checked in job-steps.c and each argument's value in
 * job-args.c.
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
  "base", "verify", "atomic", "checks", "network", NULL,
};

#define ERR RN_JV_ERR

int
rn_in_list (const char *const *l, const char *s)
{
  for (size_t i = 0; l[i]; i++)
    if (strcmp (l[i], s) == 0)
      return 1;
  return 0;
}

const char *
rn_nearest (const char *const *l, const char *s)
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

void
rn_jv_unknown_key (struct rn_jv *v, const struct rn_node *k, const char *where,
             const char *const *keys)
{
  const char *near = rn_nearest (keys, k->str);
  if (near)
    ERR (v, k, "unknown key '%s' in %s (did you mean '%s'?)", k->str, where, near);
  else
    ERR (v, k, "unknown key '%s' in %s", k->str, where);
}

/* ---- typed getters: each reports its own error and returns -1 ---- */

int
rn_jv_kind (struct rn_jv *v, const struct rn_node *n, enum rn_ykind k, const char *what)
{
  if (n->kind == k && !(k == RN_Y_SCALAR && rn_node_is_null (n)))
    return 0;
  ERR (v, n, "%s: expected %s, got %s", what,
       k == RN_Y_MAP ? "a mapping" : k == RN_Y_SEQ ? "a sequence" : "a string",
       rn_node_what (n));
  return -1;
}

int
rn_jv_str (struct rn_jv *v, const struct rn_node *n, const char *what, char **out)
{
  if (rn_jv_kind (v, n, RN_Y_SCALAR, what) == -1)
    return -1;
  if (strlen (n->str) != n->len) {
    ERR (v, n, "%s: the string contains a NUL byte", what);
    return -1;
  }
  *out = rn_strdup (n->str);
  return 0;
}

int
rn_jv_int (struct rn_jv *v, const struct rn_node *n, const char *what,
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

int
rn_jv_bool (struct rn_jv *v, const struct rn_node *n, const char *what, int *out)
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
int
rn_jv_map (struct rn_jv *v, const struct rn_node *n, const char *what,
         const char *const *keys, const struct rn_node **vals)
{
  if (rn_jv_kind (v, n, RN_Y_MAP, what) == -1)
    return -1;
  for (size_t i = 0; keys[i]; i++)
    vals[i] = NULL;
  for (size_t i = 0; i < n->nkids; i += 2) {
    const struct rn_node *k = n->kids[i];
    size_t x;
    for (x = 0; keys[x] && strcmp (keys[x], k->str) != 0; x++)
      ;
    if (keys[x] == NULL)
      rn_jv_unknown_key (v, k, what, keys);
    else
      vals[x] = n->kids[i + 1];
  }
  return 0;
}

const struct rn_node *
rn_jv_top (struct rn_jv *v, const char *key)
{
  for (size_t i = 0; top_keys[i]; i++)
    if (strcmp (top_keys[i], key) == 0)
      return v->top[i];
  abort ();
}

/* ---- variables ---- */

/* Known for templates?  "x.0" is known when x is: whether the element
 * exists is only known when the task runs. */
const char *
rn_jv_known (void *ctx, const char *name)
{
  struct rn_jv *v = ctx;
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

void
rn_jv_known_add (struct rn_jv *v, const char *name)
{
  if (rn_jv_known (v, name) == NULL)
    rn_strv_add (&v->known, rn_strdup (name));
}

void
rn_jv_tmpl (struct rn_jv *v, const struct rn_node *n, const char *s)
{
  rn_tmpl_check (s, v->file, n->line, n->col, rn_jv_known, v, v->e);
}

int
rn_jv_var_name (struct rn_jv *v, const struct rn_node *k, const char *what)
{
  if (!rn_var_name_ok (k->str)) {
    ERR (v, k, "%s: '%s' is not a variable name (a letter or '_', then "
         "letters, digits or '_')", what, k->str);
    return -1;
  }
  if (rn_in_list (rn_builtin_names, k->str)) {
    ERR (v, k, "%s: '%s' is a built-in variable and cannot be redefined", what, k->str);
    return -1;
  }
  return 0;
}

static void
parse_vars (struct rn_jv *v, const struct rn_overrides *o)
{
  const struct rn_node *n = rn_jv_top (v, "vars");
  struct rn_job *j = v->j;

  if (n && rn_jv_kind (v, n, RN_Y_MAP, "vars") == 0)
    for (size_t i = 0; i < n->nkids; i += 2) {
      char *val;
      if (rn_jv_var_name (v, n->kids[i], "vars") == 0 &&
          rn_jv_str (v, n->kids[i + 1], n->kids[i]->str, &val) == 0) {
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
matrix_list (struct rn_jv *v, const struct rn_node *n)
{
  if (n->nkids > MAX_INSTANCES) {
    ERR (v, n, "matrix: more than %d instances", MAX_INSTANCES);
    return;
  }
  for (size_t i = 0; i < n->nkids; i++) {
    const struct rn_node *m = n->kids[i];
    struct rn_instance *in;
    if (rn_jv_kind (v, m, RN_Y_MAP, "matrix instance") == -1)
      continue;
    in = add_instance (v->j);
    for (size_t k = 0; k < m->nkids; k += 2) {
      char *val;
      if (rn_jv_var_name (v, m->kids[k], "matrix") == 0 &&
          rn_jv_str (v, m->kids[k + 1], m->kids[k]->str, &val) == 0) {
        inst_set (in, m->kids[k]->str, val);
        free (val);
      }
    }
  }
}

/* matrix: a mapping of lists, one instance per combination. */
static void
matrix_product (struct rn_jv *v, const struct rn_node *n)
{
  struct rn_job *j = v->j;
  size_t total = 1, nk = n->nkids / 2;

  for (size_t k = 0; k < nk; k++) {
    const struct rn_node *l = n->kids[2 * k + 1];
    size_t len = l->kind == RN_Y_SEQ ? l->nkids : 1;
    if (rn_jv_var_name (v, n->kids[2 * k], "matrix") == -1)
      return;
    if (l->kind == RN_Y_MAP || rn_node_is_null (l) || len == 0) {
      ERR (v, l, "matrix '%s': expected a value or a non-empty list of values",
           n->kids[2 * k]->str);
      return;
    }
    for (size_t i = 0; l->kind == RN_Y_SEQ && i < len; i++)
      if (rn_jv_kind (v, l->kids[i], RN_Y_SCALAR, n->kids[2 * k]->str) == -1)
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
parse_matrix (struct rn_jv *v)
{
  const struct rn_node *n = rn_jv_top (v, "matrix");
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
      rn_jv_known_add (v, name);
  }
}

/* ---- images ---- */

static void
add_image (struct rn_jv *v, const struct rn_node *at, const char *path,
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
image_pattern (struct rn_jv *v, const struct rn_node *at, const char *pat,
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
format_check (struct rn_jv *v, const struct rn_node *n, const char *f)
{
  if (rn_in_list (formats, f))
    return 0;
  ERR (v, n, "format: expected one of raw, qcow2, vmdk, vdi, vhdx, vpc; got '%s'", f);
  return -1;
}

static void
image_entry (struct rn_jv *v, const struct rn_node *n, const char *deffmt, int defro)
{
  static const char *const keys[] = { "path", "format", "readonly", NULL };
  const struct rn_node *f[3];
  char *path = NULL, *fmt = NULL;
  int ro = defro;

  if (n->kind == RN_Y_SCALAR) {
    if (rn_jv_str (v, n, "images", &path) == 0)
      image_pattern (v, n, path, deffmt, defro);
    free (path);
    return;
  }
  if (rn_jv_map (v, n, "image", keys, f) == -1)
    return;
  if (f[0] == NULL) {
    ERR (v, n, "image: 'path' is required");
    return;
  }
  if (rn_jv_str (v, f[0], "path", &path) == -1 ||
      (f[1] && (rn_jv_str (v, f[1], "format", &fmt) == -1 || format_check (v, f[1], fmt) == -1)) ||
      (f[2] && rn_jv_bool (v, f[2], "readonly", &ro) == -1)) {
    free (path);
    free (fmt);
    return;
  }
  image_pattern (v, f[0], path, fmt ? fmt : deffmt, ro);
  free (path);
  free (fmt);
}

static void
parse_images (struct rn_jv *v, const struct rn_overrides *o)
{
  const struct rn_node *n = rn_jv_top (v, "images"), *fn = rn_jv_top (v, "format");
  const struct rn_node *ro = rn_jv_top (v, "readonly");
  char *fmt = NULL;
  int readonly = 1;

  if (fn && (rn_jv_str (v, fn, "format", &fmt) == -1 || format_check (v, fn, fmt) == -1)) {
    free (fmt);
    fmt = NULL;
  }
  if (ro)
    rn_jv_bool (v, ro, "readonly", &readonly);
  if (o && o->images.n > 0) {
    const char *f = o->format ? o->format : fmt ? fmt : "raw";
    if (!rn_in_list (formats, f))
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

/* All-or-nothing writes commit an overlay into the image: qemu-img
 * commits into raw and qcow2 images; refuse the others before anything
 * runs. */
static void
atomic_check (struct rn_jv *v)
{
  const struct rn_node *at = rn_jv_top (v, "images");
  struct rn_job *j = v->j;

  if (!j->atomic)
    return;
  for (size_t i = 0; i < j->nimages; i++) {
    const char *f = j->images[i].format;
    if (!j->images[i].readonly && strcmp (f, "raw") && strcmp (f, "qcow2"))
      rn_err (v->e, v->file, at ? at->line : 1, at ? at->col : 1,
              "all-or-nothing writes need a raw or qcow2 image, not %s: "
              "'%s' (set atomic: false to write it in place)",
              f, j->images[i].path);
  }
}

/* ---- build ---- */

static void
parse_build (struct rn_jv *v)
{
  static const char *const keys[] = { "size", "format", "output", "compress", NULL };
  const struct rn_node *n = rn_jv_top (v, "build"), *f[4];
  struct rn_job *j = v->j;

  j->kind = RN_JOB_BUILD;
  if (rn_jv_top (v, "images"))
    ERR (v, rn_jv_top (v, "images"), "a job has 'images' or 'build', not both");
  if (rn_jv_top (v, "readonly") || rn_jv_top (v, "format"))
    ERR (v, rn_jv_top (v, "readonly") ? rn_jv_top (v, "readonly") : rn_jv_top (v, "format"),
         "'readonly' and 'format' are image settings; a build job sets "
         "build.format and always writes its output");
  if (rn_jv_map (v, n, "build", keys, f) == -1)
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
    if (rn_jv_str (v, f[1], "format", &fmt) == 0) {
      if (strcmp (fmt, "raw") && strcmp (fmt, "qcow2"))
        ERR (v, f[1], "build.format: expected raw or qcow2, got '%s'", fmt);
      free (j->build_format);
      j->build_format = fmt;
    }
  }
  if (f[2] == NULL)
    ERR (v, n, "build: 'output' is required (a path pattern like out/{{name}}.img)");
  else if (rn_jv_str (v, f[2], "output", &j->build_output) == 0) {
    j->build_line = f[2]->line;
    j->build_col = f[2]->col;
    if (j->build_output[0] == '\0')
      ERR (v, f[2], "output: the path is empty");
    rn_jv_tmpl (v, f[2], j->build_output);
  }
  if (f[3] && rn_jv_bool (v, f[3], "build.compress", &j->build_compress) == 0 &&
      j->build_compress && strcmp (j->build_format, "qcow2") != 0)
    ERR (v, f[3], "build.compress: only a qcow2 output can be compressed");
}

/* ---- the top level ---- */

static void
parse_settings (struct rn_jv *v)
{
  struct rn_job *j = v->j;
  const struct rn_node *n;
  int64_t x;

  if ((n = rn_jv_top (v, "name")) != NULL) {
    free (j->name);
    j->name = NULL;
    if (rn_jv_str (v, n, "name", &j->name) == -1)
      j->name = rn_strdup ("job");
  }
  if ((n = rn_jv_top (v, "description")) != NULL)
    rn_jv_kind (v, n, RN_Y_SCALAR, "description");
  if ((n = rn_jv_top (v, "workers")) != NULL && rn_jv_int (v, n, "workers", 1, 256, &x) == 0)
    j->workers = (int) x;
  if ((n = rn_jv_top (v, "retries")) != NULL && rn_jv_int (v, n, "retries", 0, 10, &x) == 0)
    j->retries = (int) x;
  if ((n = rn_jv_top (v, "memsize")) != NULL && rn_jv_int (v, n, "memsize", 128, 65536, &x) == 0)
    j->memsize = (int) x;
  if ((n = rn_jv_top (v, "overwrite")) != NULL)
    rn_jv_bool (v, n, "overwrite", &j->overwrite);
  if ((n = rn_jv_top (v, "atomic")) != NULL)
    rn_jv_bool (v, n, "atomic", &j->atomic);
  if ((n = rn_jv_top (v, "network")) != NULL)
    rn_jv_bool (v, n, "network", &j->network);
  if ((n = rn_jv_top (v, "timeout")) != NULL) {
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
parse_top (struct rn_jv *v, const struct rn_node *root)
{
  if (root == NULL) {
    rn_err (v->e, v->file, 1, 1, "the job file is empty");
    return;
  }
  if (rn_jv_kind (v, root, RN_Y_MAP, "job") == -1)
    return;
  for (size_t i = 0; i < root->nkids; i += 2) {
    const struct rn_node *k = root->kids[i];
    size_t x;
    for (x = 0; top_keys[x] && strcmp (top_keys[x], k->str); x++)
      ;
    if (top_keys[x])
      v->top[x] = root->kids[i + 1];
    else {
      const char *near = rn_nearest (top_keys, k->str);
      const struct rn_call *c = rn_call_find (k->str);
      if (near)
        ERR (v, k, "unknown key '%s' (did you mean '%s'?)", k->str, near);
      else if (c)
        ERR (v, k, "unknown key '%s': calls go in the 'steps' list", k->str);
      else
        ERR (v, k, "unknown key '%s'; a job has: name, description, images, "
             "format, readonly, matrix, vars, steps, workers, timeout, retries, "
             "memsize, overwrite, build, atomic, checks, network", k->str);
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
validate (struct rn_jv *v, const struct rn_node *root, const struct rn_overrides *o)
{
  struct rn_job *j = v->j;

  parse_top (v, root);
  if (root == NULL || root->kind != RN_Y_MAP)
    return;
  parse_settings (v);
  for (size_t i = 0; rn_builtin_names[i]; i++)
    rn_jv_known_add (v, rn_builtin_names[i]);
  parse_vars (v, o);
  for (size_t i = 0; i < j->var_names.n; i++)
    rn_jv_known_add (v, j->var_names.v[i]);
  parse_matrix (v);
  if (rn_jv_top (v, "build")) {
    /* The output names the image: no image builtins in it. */
    struct rn_strv saved = v->known;
    memset (&v->known, 0, sizeof v->known);
    for (size_t i = 0; i < saved.n; i++)
      if (strncmp (saved.v[i], "image", 5) != 0)
        rn_jv_known_add (v, saved.v[i]);
    parse_build (v);
    rn_strv_free (&v->known);
    v->known = saved;
  } else {
    parse_images (v, o);
    atomic_check (v);
  }
  rn_jv_build_keys (v);          /* base, verify (build-job.c) */
  rn_jv_steps (v);
  rn_jv_checks (v);                /* checks.c */
}

struct rn_job *
rn_job_load (const char *file, const char *text, const struct rn_overrides *o,
             struct rn_errs *e)
{
  struct rn_jv v = { .e = e, .file = file };
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
  j->atomic = 1;
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
    int nargs = s->call ? s->call->nargs : s->hstep ? s->hstep->nargs : 0;
    for (int a = 0; s->args && a < nargs; a++)
      free_val (&s->args[a]);
    free (s->args);
    free (s->save_as);
  }
  free (j->steps);
  rn_checks_free (j);
  rn_strv_free (&j->var_names);
  rn_strv_free (&j->var_values);
  free (j->file);
  free (j->path);
  free (j->dir);
  free (j->text);
  free (j->name);
  free (j->build_format);
  free (j->build_output);
  rn_job_build_free (j);
  free (j);
}
