/* core/state.c: what every call does before and after its body: the state
 * check against the table's allowed states, argument checks, tracing,
 * and the "not supported" answer for calls not implemented yet.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk.h"

static const char *
state_name (enum gk_state s)
{
  switch (s) {
  case GK_CONFIG: return "CONFIG (not launched)";
  case GK_LAUNCHING: return "LAUNCHING";
  case GK_READY: return "READY";
  case GK_BUSY: return "BUSY (another call is in progress)";
  }
  return "unknown";
}

int
gk_check_state (guestfs_h *g, const struct gk_action *a)
{
  unsigned bit = 1u << g->state;

  if (a->states & bit)
    return 0;
  if (g->state == GK_CONFIG && (a->states & GK_ST_READY))
    gk_error (g, "%s: the appliance is not running: call guestfs_launch first",
              a->name);
  else if (a->states == GK_ST_CONFIG)
    gk_error (g, "%s: only allowed before guestfs_launch (handle is %s)",
              a->name, state_name (g->state));
  else
    gk_error (g, "%s: not allowed while the handle is %s",
              a->name, state_name (g->state));
  return -1;
}

int
gk_check_args (guestfs_h *g, const struct gk_action *a,
               const union gk_val *args)
{
  for (size_t i = 0; i < a->nargs; i++) {
    const struct gk_arg *arg = &a->args[i];
    switch (arg->type) {
    case GK_ARG_STRING: case GK_ARG_DEVICE: case GK_ARG_DEV_OR_PATH:
    case GK_ARG_FILEIN: case GK_ARG_FILEOUT:
      if (args[i].s == NULL) goto null;
      break;
    case GK_ARG_PATHNAME:
      if (args[i].s == NULL) goto null;
      if (args[i].s[0] != '/') {
        gk_error (g, "%s: %s: path must be absolute: '%s'",
                  a->name, arg->name, args[i].s);
        return -1;
      }
      break;
    case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST:
      if (args[i].sl == NULL) goto null;
      break;
    case GK_ARG_BUFFERIN:       /* NULL only for an empty buffer */
      if (args[i].b.buf == NULL && args[i].b.len > 0) goto null;
      break;
    default:
      break;
    }
    continue;
  null:
    gk_error (g, "%s: %s must not be NULL", a->name, arg->name);
    return -1;
  }
  return 0;
}

/* Print "name arg arg ..." as guestfish would accept it. */
void
gk_trace_call (guestfs_h *g, const struct gk_action *a,
               const union gk_val *args)
{
  if (!g->trace)
    return;
  flockfile (stdout);
  printf ("%s", a->name);
  for (size_t i = 0; i < a->nargs; i++) {
    switch (a->args[i].type) {
    case GK_ARG_BOOL:
      printf (" %s", args[i].i ? "true" : "false");
      break;
    case GK_ARG_INT:
      printf (" %d", args[i].i);
      break;
    case GK_ARG_INT64:
      printf (" %" PRIi64, args[i].i64);
      break;
    case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST:
      printf (" \"");
      for (size_t j = 0; args[i].sl && args[i].sl[j]; j++)
        printf ("%s%s", j ? " " : "", args[i].sl[j]);
      printf ("\"");
      break;
    case GK_ARG_BUFFERIN:       /* may hold NULs: its size only */
      printf (" <%zu bytes>", args[i].b.len);
      break;
    default:
      printf (args[i].s ? " \"%s\"" : " %s", args[i].s ? args[i].s : "NULL");
      break;
    }
  }
  putchar ('\n');
  fflush (stdout);
  funlockfile (stdout);
}

int
gk_enter (guestfs_h *g, const struct gk_action *a, const union gk_val *args)
{
  if (gk_use_begin (g, a == &gk_actions[GK_ACTION_kill_subprocess]) == 1)
    return 0;                   /* a kill from outside: see child.c */
  g->error_pending = 0;
  gk_trace_call (g, a, args);
  if (gk_check_state (g, a) == -1 || gk_check_args (g, a, args) == -1) {
    gk_use_end (g);
    return -1;
  }
  return 0;
}

void
gk_leave (guestfs_h *g, const struct gk_action *a, int failed)
{
  if (a == &gk_actions[GK_ACTION_kill_subprocess] && gk_use_remote (1))
    return;
  if (g->trace && failed) {
    printf ("%s = error\n", a->name);
    fflush (stdout);
  }
  gk_use_end (g);
}

void
gk_not_supported (guestfs_h *g, const struct gk_action *a)
{
  gk_error (g, "%s: not supported by this version of guestkit", a->name);
}

void
gk_free_struct (const struct gk_struct *s, void *p)
{
  if (p == NULL)
    return;
  gk_free_struct_fields (s, p);
  free (p);
}

void
gk_free_struct_list (const struct gk_struct *s, struct gk_list *l)
{
  if (l == NULL)
    return;
  for (uint32_t i = 0; i < l->len; i++)
    gk_free_struct_fields (s, (char *) l->val + (size_t) i * s->size);
  free (l->val);
  free (l);
}
