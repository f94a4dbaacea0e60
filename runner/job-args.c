/* runner/job-args.c: a step argument's value, checked against its type
 * when the job is loaded (rn_jv_arg) and, when the task runs, expanded
 * and converted to what the call takes (rn_arg_convert).
 *
 * A templated value ({{name}}) can only be checked for its variables at
 * load time; its type is checked again after expansion.  Host paths
 * (FileIn / FileOut) are relative to the job file's directory; a FileOut
 * is written to a temp file beside its target and put in place after
 * the call succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

#define ERR RN_JV_ERR

/* ---- at load time ---- */

static int
scalar_or_tmpl_int (struct rn_jv *v, const struct rn_node *n, const struct rn_arg *a)
{
  int64_t x;
  int64_t min = a->type == RN_ARG_INT ? INT32_MIN : INT64_MIN;
  int64_t max = a->type == RN_ARG_INT ? INT32_MAX : INT64_MAX;

  if (n->kind == RN_Y_SCALAR && !rn_node_is_null (n) && rn_tmpl_has (n->str)) {
    rn_jv_tmpl (v, n, n->str);
    return 0;
  }
  return rn_jv_int (v, n, a->name, min, max, &x);
}

/* A host path argument: relative to the job's directory. */
static void
host_path_check (struct rn_jv *v, const struct rn_node *n, const struct rn_arg *a)
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
string_arg_check (struct rn_jv *v, const struct rn_node *n, const struct rn_arg *a)
{
  const char *s = n->str;

  rn_jv_tmpl (v, n, s);
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
void
rn_jv_arg (struct rn_jv *v, const struct rn_node *n, const struct rn_arg *a,
           struct rn_val *out)
{
  out->line = n->line;
  out->col = n->col;
  switch (a->type) {
  case RN_ARG_STRINGLIST:
  case RN_ARG_DEVICELIST:
    if (rn_jv_kind (v, n, RN_Y_SEQ, a->name) == -1)
      return;
    out->kind = RN_V_LIST;
    for (size_t i = 0; i < n->nkids; i++) {
      char *s;
      if (rn_jv_str (v, n->kids[i], a->name, &s) == 0) {
        rn_jv_tmpl (v, n->kids[i], s);
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
      rn_jv_tmpl (v, n, n->str);
    else if (rn_jv_bool (v, n, a->name, &b) == -1)
      return;
  } else if (a->type == RN_ARG_INT || a->type == RN_ARG_INT64) {
    if (scalar_or_tmpl_int (v, n, a) == -1)
      return;
  } else {
    if (rn_jv_str (v, n, a->name, &out->s) == -1)
      return;
    string_arg_check (v, n, a);
    out->kind = RN_V_SCALAR;
    return;
  }
  out->kind = RN_V_SCALAR;
  out->s = rn_strdup (n->str);
}
/* ---- when the task runs ---- */

/* A list argument, each item expanded, into list (NULL-terminated). */
static int
list_arg (struct rn_vars *vars, const struct rn_val *v, struct rn_strv *list,
          union rn_argval *out, struct rn_buf *js, char **err)
{
  for (size_t i = 0; i < v->list.n; i++) {
    char *e = rn_tmpl_expand (v->list.v[i], rn_task_lookup, vars, err);
    if (e == NULL)
      return -1;
    rn_strv_add (list, e);
  }
  if (list->v == NULL)
    list->v = rn_calloc (1, sizeof (char *));    /* an empty list */
  rn_json_strv (js, list->v);
  out->sl = list->v;
  return 0;
}

/* An expanded Bool or Int/Int64 argument. */
static int
number_arg (const struct rn_arg *d, const char *s, union rn_argval *out,
            struct rn_buf *js, char **err)
{
  int64_t x;
  int b;

  if (d->type == RN_ARG_BOOL) {
    if ((b = rn_parse_bool (s)) == -1) {
      *err = rn_asprintf ("%s: expected true or false, got '%s'", d->name, s);
      return -1;
    }
    out->i = b;
    rn_buf_adds (js, b ? "true" : "false");
    return 0;
  }
  if (rn_parse_int (s, &x) == -1 ||
      (d->type == RN_ARG_INT && (x < INT32_MIN || x > INT32_MAX))) {
    *err = rn_asprintf ("%s: expected an integer%s, got '%s'", d->name,
                        d->type == RN_ARG_INT ? " (32 bits)" : "", s);
    return -1;
  }
  if (d->type == RN_ARG_INT)
    out->i = (int) x;
  else
    out->i64 = x;
  rn_buf_addf (js, "%lld", (long long) x);
  return 0;
}

/* A FileIn/FileOut argument: a host path relative to the job file.  A
 * FileOut goes to a temp file (b->out) renamed into place after the call. */
static int
host_file_arg (const struct rn_job *j, const struct rn_arg *d, const char *s,
               union rn_argval *out, struct rn_argbufs *b, struct rn_buf *js,
               char **err)
{
  char *p = rn_path_join (j->dir, s);
  struct stat st;
  int fd;

  rn_strv_add (&b->owned, p);
  rn_json_strz (js, p);
  out->s = p;
  if (d->type == RN_ARG_FILEIN)
    return 0;
  if (!j->overwrite && lstat (p, &st) == 0) {
    *err = rn_asprintf ("%s: '%s' exists; not replacing it (overwrite: true would)",
                        d->name, p);
    return -1;
  }
  if ((b->out.tmp = rn_temp_beside (p, &fd)) == NULL) {
    *err = rn_asprintf ("%s: cannot create a file beside '%s': %s", d->name, p,
                        strerror (errno));
    return -1;
  }
  close (fd);
  b->out.final = rn_strdup (p);
  out->s = b->out.tmp;
  return 0;
}

static int
convert_arg (const struct rn_job *j, struct rn_vars *vars, const struct rn_arg *d,
             const struct rn_val *v, union rn_argval *out, struct rn_argbufs *b,
             int k, struct rn_buf *js, char **err)
{
  char *s;

  if (v->kind == RN_V_NULL) {
    out->s = NULL;
    rn_buf_adds (js, "null");
    return 0;
  }
  if (v->kind == RN_V_LIST)
    return list_arg (vars, v, &b->lists[k], out, js, err);
  if ((s = rn_tmpl_expand (v->s, rn_task_lookup, vars, err)) == NULL)
    return -1;
  rn_strv_add (&b->owned, s);
  switch (d->type) {
  case RN_ARG_BOOL:
  case RN_ARG_INT:
  case RN_ARG_INT64:
    return number_arg (d, s, out, js, err);
  case RN_ARG_FILEIN:
  case RN_ARG_FILEOUT:
    return host_file_arg (j, d, s, out, b, js, err);
  case RN_ARG_BUFFERIN:        /* the expanded string's bytes */
    out->b.buf = s;
    out->b.len = strlen (s);
    rn_json_strz (js, s);
    return 0;
  default:
    out->s = s;
    rn_json_strz (js, s);
    return 0;
  }
}

int
rn_arg_convert (const struct rn_job *j, struct rn_vars *vars,
                const struct rn_arg *d, const struct rn_val *v,
                union rn_argval *out, struct rn_argbufs *b, int k,
                struct rn_buf *js, char **err)
{
  struct rn_buf val = { 0 };
  int r = convert_arg (j, vars, d, v, out, b, k, &val, err);

  /* The step's arguments stay valid JSON whatever failed. */
  rn_json_strz (js, d->name);
  rn_buf_addc (js, ':');
  rn_buf_adds (js, r == 0 && val.s ? val.s : "null");
  rn_buf_free (&val);
  return r;
}

void
rn_argbufs_free (struct rn_argbufs *b)
{
  rn_strv_free (&b->owned);
  for (int k = 0; k < RN_MAX_ARGS; k++)
    rn_strv_free (&b->lists[k]);
  free (b->out.tmp);
  free (b->out.final);
  memset (b, 0, sizeof *b);
}

/* ---- the arguments of a high-level step (steps.c's table) ---- */

/* A mapping of strings, kept as key, value, ... in out->list. */
static void
map_arg (struct rn_jv *v, const struct rn_node *n, const struct rn_sarg *a,
         struct rn_val *out)
{
  out->line = n->line;
  out->col = n->col;
  if (rn_jv_kind (v, n, RN_Y_MAP, a->name) == -1)
    return;
  out->kind = RN_V_LIST;
  for (size_t i = 0; i < n->nkids; i += 2) {
    char *val;
    if (rn_jv_str (v, n->kids[i + 1], n->kids[i]->str, &val) == -1)
      continue;
    rn_jv_tmpl (v, n->kids[i], n->kids[i]->str);
    rn_jv_tmpl (v, n->kids[i + 1], val);
    rn_strv_add (&out->list, rn_strdup (n->kids[i]->str));
    rn_strv_add (&out->list, val);
  }
  if (out->list.v == NULL)
    out->list.v = rn_calloc (1, sizeof (char *));
}

static void
sarg_value (struct rn_jv *v, const struct rn_node *n, const struct rn_sarg *a,
            struct rn_val *out)
{
  struct rn_arg d = { a->name, a->type };

  if (a->flags & RN_SA_MAP)
    map_arg (v, n, a, out);
  else if (a->type == RN_ARG_STRINGLIST && n->kind == RN_Y_SCALAR &&
           !rn_node_is_null (n)) {
    char *s;                       /* one item: the list of it */
    out->line = n->line;
    out->col = n->col;
    if (rn_jv_str (v, n, a->name, &s) == 0) {
      rn_jv_tmpl (v, n, s);
      out->kind = RN_V_LIST;
      rn_strv_add (&out->list, s);
    }
  } else
    rn_jv_arg (v, n, &d, out);
}

static void
unknown_sarg (struct rn_jv *v, const struct rn_hstep *h, const struct rn_node *k)
{
  const char *names[RN_MAX_ARGS + 1];
  struct rn_buf all = { 0 };
  const char *near;

  for (int i = 0; i < h->nargs; i++) {
    names[i] = h->args[i].name;
    rn_buf_addf (&all, "%s%s", i ? ", " : "", h->args[i].name);
  }
  names[h->nargs] = NULL;
  near = rn_nearest (names, k->str);
  if (near)
    ERR (v, k, "%s: unknown argument '%s' (did you mean '%s'?)", h->name, k->str, near);
  else
    ERR (v, k, "%s: unknown argument '%s'; its arguments are: %s", h->name,
         k->str, all.s);
  rn_buf_free (&all);
}

/* Which node gives which argument: a mapping by name; a sequence in
 * order (as for a call); a single value for the first argument. */
static void
sarg_nodes (struct rn_jv *v, const struct rn_hstep *h, const struct rn_node *n,
            const struct rn_node **given)
{
  int list1 = h->args[0].type == RN_ARG_STRINGLIST && !(h->args[0].flags & RN_SA_MAP);

  if (n == NULL || rn_node_is_null (n))
    return;
  if (n->kind == RN_Y_MAP && !(h->args[0].flags & RN_SA_MAP && h->nargs == 1)) {
    for (size_t i = 0; i < n->nkids; i += 2) {
      int x = rn_hstep_arg (h, n->kids[i]->str);
      if (x == -1)
        unknown_sarg (v, h, n->kids[i]);
      else
        given[x] = n->kids[i + 1];
    }
  } else if (n->kind == RN_Y_SEQ && !list1) {
    if ((int) n->nkids > h->nargs)
      ERR (v, n, "%s: expected at most %d arguments in order, got %zu", h->name,
           h->nargs, n->nkids);
    for (size_t i = 0; i < n->nkids && (int) i < h->nargs; i++)
      given[i] = n->kids[i];
  } else
    given[0] = n;
}

void
rn_jv_hstep_args (struct rn_jv *v, struct rn_step *s, const struct rn_node *key,
                  const struct rn_node *n)
{
  const struct rn_hstep *h = s->hstep;
  const struct rn_node *given[RN_MAX_ARGS] = { 0 };

  s->args = rn_calloc ((size_t) h->nargs + 1, sizeof *s->args);
  if ((h->flags & RN_HS_WRITES) && rn_job_all_readonly (v->j, 0))
    ERR (v, key, "%s: this step changes the image, and the job is read-only "
         "(set readonly: false)", h->name);
  sarg_nodes (v, h, n, given);
  for (int i = 0; i < h->nargs; i++) {
    if (given[i])
      sarg_value (v, given[i], &h->args[i], &s->args[i]);
    else if (h->args[i].flags & RN_SA_REQUIRED)
      ERR (v, n && !rn_node_is_null (n) ? n : key, "%s: missing argument '%s' (%s)",
           h->name, h->args[i].name, rn_argtype_name (h->args[i].type));
  }
}

int
rn_job_all_readonly (const struct rn_job *j, int if_none)
{
  if (j->kind == RN_JOB_BUILD)
    return 0;
  if (j->nimages == 0)
    return if_none;
  for (size_t i = 0; i < j->nimages; i++)
    if (!j->images[i].readonly)
      return 0;
  return 1;
}
