/* runner/task.c: a job expanded into tasks (job x image x instance, or
 * one per instance for a build) and the variables a task's templates
 * see.  Build outputs are templated and checked here: an output that
 * exists (without overwrite: true) or that two instances share is an
 * error before anything runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

const char *
rn_status_name (enum rn_status s)
{
  static const char *const names[] = {
    "pending", "running", "ok", "failed", "timeout", "committing", "interrupted",
  };
  return names[s];
}

static const char *
find (const struct rn_strv *names, const struct rn_strv *values, const char *name)
{
  const char *r = NULL;
  for (size_t i = 0; names && i < names->n; i++)
    if (strcmp (names->v[i], name) == 0)
      r = values->v[i];          /* the last one wins (facts) */
  return r;
}

static const char *
builtin (struct rn_vars *x, const char *name)
{
  const struct rn_task *t = x->t;

  if (strncmp (name, "image", 5) == 0 && t->image_path == NULL)
    return NULL;
  if (strcmp (name, "image") == 0)
    return t->image_path;
  if (strcmp (name, "image_name") == 0)
    return rn_basename (t->image_path);
  if (strcmp (name, "image_stem") == 0) {
    const char *b = rn_basename (t->image_path), *dot = strrchr (b, '.');
    snprintf (x->buf, sizeof x->buf, "%.*s",
              (int) (dot && dot != b ? dot - b : (long) strlen (b)), b);
    return x->buf;
  }
  if (strcmp (name, "job") == 0)
    return t->job->name;
  if (strcmp (name, "job_dir") == 0)
    return t->job->dir;
  if (strcmp (name, "run_id") == 0 || strcmp (name, "task") == 0) {
    snprintf (x->buf, sizeof x->buf, "%lld",
              (long long) (name[0] == 'r' ? t->run_id : t->seq));
    return x->buf;
  }
  if (strcmp (name, "date") == 0)
    return t->date;
  if (strcmp (name, "instance") == 0)
    return t->inst->name;
  return NULL;
}

const char *
rn_task_lookup (void *vars, const char *name)
{
  struct rn_vars *x = vars;
  const char *r;

  for (size_t i = 0; rn_builtin_names[i]; i++)
    if (strcmp (rn_builtin_names[i], name) == 0)
      return builtin (x, name);
  if ((r = find (x->fact_names, x->fact_values, name)) != NULL)
    return r;
  if ((r = find (&x->t->inst->names, &x->t->inst->values, name)) != NULL)
    return r;
  return find (&x->t->job->var_names, &x->t->job->var_values, name);
}

static struct rn_task *
push (struct rn_task **v, size_t *n, struct rn_job *j, int64_t run_id,
      const char *date, int seq)
{
  struct rn_task *t;

  *v = rn_realloc (*v, (*n + 1) * sizeof **v);
  t = &(*v)[(*n)++];
  memset (t, 0, sizeof *t);
  t->job = j;
  t->run_id = run_id;
  t->seq = seq;
  snprintf (t->date, sizeof t->date, "%s", date);
  return t;
}

/* A build output: templated, made absolute, checked. */
static char *
build_output (struct rn_job *j, struct rn_task *t, struct rn_errs *e)
{
  struct rn_vars x = { .t = t };
  char *err = NULL, *rel, *path, *dir, real[PATH_MAX];
  struct stat st;

  if ((rel = rn_tmpl_expand (j->build_output, rn_task_lookup, &x, &err)) == NULL) {
    rn_err (e, j->file, j->build_line, j->build_col, "output: %s", err);
    free (err);
    return NULL;
  }
  path = rn_path_join (j->dir, rel);
  dir = rn_dirname (path);
  free (rel);
  if (realpath (dir, real) == NULL || stat (real, &st) == -1 || !S_ISDIR (st.st_mode)) {
    rn_err (e, j->file, j->build_line, j->build_col,
            "output: directory '%s' does not exist", dir);
    free (dir);
    free (path);
    return NULL;
  }
  free (dir);
  dir = rn_path_join (real, rn_basename (path));
  free (path);
  path = dir;
  if (!j->overwrite && lstat (path, &st) == 0) {
    rn_err (e, j->file, j->build_line, j->build_col,
            "output '%s' exists (set overwrite: true to replace it)", path);
    free (path);
    return NULL;
  }
  return path;
}

static void
build_tasks (struct rn_job *j, int64_t run_id, const char *date,
             struct rn_task **v, size_t *n, struct rn_errs *e)
{
  size_t first = *n;

  for (size_t k = 0; k < j->ninsts; k++) {
    struct rn_task *t = push (v, n, j, run_id, date, (int) k + 1);
    t->inst = &j->insts[k];
    if ((t->image_path = build_output (j, t, e)) == NULL)
      continue;
    for (size_t o = first; o < *n - 1; o++)
      if ((*v)[o].image_path && strcmp ((*v)[o].image_path, t->image_path) == 0) {
        rn_err (e, j->file, j->build_line, j->build_col,
                "output: instances '%s' and '%s' would both write '%s'",
                (*v)[o].inst->name, t->inst->name, t->image_path);
        break;
      }
  }
}

int
rn_tasks_expand (struct rn_job *j, int64_t run_id, const char *date,
                 struct rn_task **v, size_t *n, struct rn_errs *e)
{
  size_t nerr = e->n, first = *n;
  int seq = 0;

  if (j->kind == RN_JOB_BUILD)
    build_tasks (j, run_id, date, v, n, e);
  else
    for (size_t i = 0; i < j->nimages; i++)
      for (size_t k = 0; k < j->ninsts; k++) {
        struct rn_task *t = push (v, n, j, run_id, date, ++seq);
        t->image = &j->images[i];
        t->inst = &j->insts[k];
        t->image_path = rn_strdup (j->images[i].path);
      }
  for (size_t i = first; i < *n; i++)
    (*v)[i].ntasks = (int) (*n - first);
  return e->n > nerr ? -1 : 0;
}

void
rn_tasks_free (struct rn_task *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i].image_path);
  free (v);
}
