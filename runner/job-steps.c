/* runner/job-steps.c: validation of a job's `steps' list.
 *
 * Each step names one call (a scalar `- sync', or a mapping with the
 * call and its modifiers save_as / on_error); its arguments may be given
 * as a mapping by name, a sequence in order, or a single value.  Each
 * argument's value is checked by job-args.c.  Errors go to the job's
 * list with their file:line:column, like the rest of job.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define MAX_STEPS     10000

#define ERR RN_JV_ERR

static const char *const step_keys[] = { "save_as", "on_error", NULL };


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
step_args (struct rn_jv *v, struct rn_step *s, const struct rn_node *key,
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
      rn_jv_arg (v, given[i], &c->args[i], &s->args[i]);
    else if (!(n && n->kind == RN_Y_SEQ && !list1))
      ERR (v, n && !rn_node_is_null (n) ? n : key, "%s: missing argument '%s' (%s)",
           c->name, c->args[i].name, rn_argtype_name (c->args[i].type));
  }
  free (given);
}

/* The nearer of a call's and a step's name to a misspelt one, or NULL. */
static const char *
suggest (const char *name)
{
  const char *c = rn_call_suggest (name), *h = rn_hstep_suggest (name);
  if (c && h)
    return rn_distance (h, name) <= rn_distance (c, name) ? h : c;
  return c ? c : h;
}

/* What k names: a high-level step (s->hstep), which comes first, or a
 * call (s->call); neither if it is unknown (reported).  0 if found. */
static int
step_find (struct rn_jv *v, const struct rn_node *k, struct rn_step *s)
{
  char *name = rn_strdup (k->str);
  const char *why, *near;

  for (char *p = name; *p; p++)
    if (*p == '-')
      *p = '_';
  if ((s->hstep = rn_hstep_find (name)) == NULL &&
      (s->call = rn_call_find (name)) == NULL) {
    if ((near = suggest (name)) != NULL)
      ERR (v, k, "unknown call '%s' (did you mean '%s'?)", k->str, near);
    else
      ERR (v, k, "unknown call '%s'", k->str);
  } else if (s->call && (why = rn_call_step_refusal (s->call)) != NULL) {
    ERR (v, k, "'%s' cannot be a step: %s", k->str, why);
    s->call = NULL;
  }
  free (name);
  return s->call || s->hstep ? 0 : -1;
}

static void
step_arguments (struct rn_jv *v, struct rn_step *s, const struct rn_node *k,
                const struct rn_node *val)
{
  if (s->call)
    step_args (v, s, k, val);
  else
    rn_jv_hstep_args (v, s, k, val);
}

static void
step_modifiers (struct rn_jv *v, struct rn_step *s, const struct rn_node *k,
                const struct rn_node *val)
{
  if (strcmp (k->str, "save_as") == 0) {
    free (s->save_as);           /* given twice: an error already, keep one */
    s->save_as = NULL;
    if (rn_jv_str (v, val, "save_as", &s->save_as) == -1)
      return;
    if (rn_jv_var_name (v, val, "save_as") == -1)
      return;
    if (rn_jv_known (v, s->save_as))
      ERR (v, val, "save_as: '%s' is already a variable or saved name", s->save_as);
  } else {
    char *how;
    if (rn_jv_str (v, val, "on_error", &how) == -1)
      return;
    if (strcmp (how, "continue") == 0)
      s->on_error_continue = 1;
    else if (strcmp (how, "stop") != 0)
      ERR (v, val, "on_error: expected stop or continue, got '%s'", how);
    free (how);
  }
}

static void
parse_step (struct rn_jv *v, const struct rn_node *n, struct rn_step *s)
{
  const struct rn_node *ck = NULL, *cv = NULL;

  s->line = n->line;
  s->col = n->col;
  if (n->kind == RN_Y_SCALAR && !rn_node_is_null (n)) {
    if (step_find (v, n, s) == 0)
      step_arguments (v, s, n, NULL);
    return;
  }
  if (n->kind != RN_Y_MAP || n->nkids == 0) {
    ERR (v, n, "a step is a call, e.g. '- cat: /etc/hostname' or '- sync'; got %s",
         rn_node_what (n));
    return;
  }
  for (size_t i = 0; i < n->nkids; i += 2) {
    const struct rn_node *k = n->kids[i];
    if (rn_in_list (step_keys, k->str))
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
  if (step_find (v, ck, s) == 0)
    step_arguments (v, s, ck, cv);
}

void
rn_jv_steps (struct rn_jv *v)
{
  const struct rn_node *n = rn_jv_top (v, "steps");
  struct rn_job *j = v->j;

  if (n == NULL) {
    rn_err (v->e, v->file, 1, 1, "the job needs 'steps' (a list of calls)");
    return;
  }
  if (rn_jv_kind (v, n, RN_Y_SEQ, "steps") == -1)
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
    if (j->steps[i].save_as && !rn_jv_known (v, j->steps[i].save_as))
      rn_jv_known_add (v, j->steps[i].save_as);
  }
}
