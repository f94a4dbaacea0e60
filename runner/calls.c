/* runner/calls.c: helpers over the generated call table (calls-gen.c):
 * invoking a call, freeing what it returned, and deciding which calls a
 * job may use as steps.  Written against calls-gen.h and guestfs.h only,
 * so that `guestkit shell' can share it.
 */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

int
rn_call_invoke (const struct rn_call *c, guestfs_h *g,
                const union rn_argval *args, struct rn_ret *ret)
{
  memset (ret, 0, sizeof *ret);
  ret->type = c->ret;
  ret->struct_index = c->struct_index;
  if (c->invoke == NULL)
    return -1;
  if (c->invoke (g, args, ret) == -1) {
    memset (&ret->v, 0, sizeof ret->v);   /* nothing to free */
    return -1;
  }
  return 0;
}

void
rn_ret_free (struct rn_ret *r)
{
  switch (r->type) {
  case RN_RET_STRING:
  case RN_RET_BUFFEROUT:
    free (r->v.s);
    break;
  case RN_RET_STRINGLIST:
  case RN_RET_HASHTABLE:
    for (size_t i = 0; r->v.sl && r->v.sl[i]; i++)
      free (r->v.sl[i]);
    free (r->v.sl);
    break;
  case RN_RET_STRUCT:
    if (r->v.p)
      rn_structs[r->struct_index].free (r->v.p);
    break;
  case RN_RET_STRUCTLIST:
    if (r->v.p)
      rn_structs[r->struct_index].free_list (r->v.p);
    break;
  default:
    break;
  }
  memset (&r->v, 0, sizeof r->v);
}

/* Steps are the calls that work on a launched appliance: every daemon
 * call, and the library calls allowed only once it is ready (inspection).
 * The other library calls are the runner's own business (it creates the
 * handle, adds the drives and launches for each task), only read or change
 * settings, or would end the appliance (kill_subprocess). */
const char *
rn_call_step_refusal (const struct rn_call *c)
{
  if ((c->flags & RN_CALL_LIB) &&
      (c->states != RN_ST_READY || strcmp (c->name, "kill_subprocess") == 0)) {
    if (strncmp (c->name, "add_", 4) == 0)
      return "the runner adds the job's images itself (see 'images')";
    if (strcmp (c->name, "launch") == 0 || strcmp (c->name, "wait_ready") == 0)
      return "the runner launches a fresh appliance for each task itself";
    if (strcmp (c->name, "set_memsize") == 0)
      return "set 'memsize' in the job instead";
    if (strcmp (c->name, "kill_subprocess") == 0)
      return "it would end the task's appliance; use 'timeout' instead";
    return "it only reads or changes handle settings; the runner owns the handle";
  }
  if (!(c->flags & RN_CALL_DONE))
    return "not supported by this version of guestkit";
  if (c->invoke == NULL)
    return "it has no generic form";
  return NULL;
}

const char *
rn_argtype_name (enum rn_argtype t)
{
  switch (t) {
  case RN_ARG_STRING: return "string";
  case RN_ARG_OPTSTRING: return "string or null";
  case RN_ARG_STRINGLIST: return "list of strings";
  case RN_ARG_DEVICELIST: return "list of devices";
  case RN_ARG_BOOL: return "true/false";
  case RN_ARG_INT: return "integer";
  case RN_ARG_INT64: return "64-bit integer";
  case RN_ARG_FILEIN: return "host file to read";
  case RN_ARG_FILEOUT: return "host file to write";
  case RN_ARG_DEVICE: return "device";
  case RN_ARG_DEV_OR_PATH: return "device or guest path";
  case RN_ARG_PATHNAME: return "guest path";
  case RN_ARG_BUFFERIN: return "bytes (a string's)";
  }
  return "?";
}

const char *
rn_call_suggest (const char *name)
{
  const char *best = NULL;
  int bd = 3;

  for (size_t i = 0; i < rn_ncalls; i++) {
    int d;
    if (rn_calls[i].flags & RN_CALL_LIB)
      continue;
    d = rn_distance (rn_calls[i].name, name);
    if (d < bd)
      bd = d, best = rn_calls[i].name;
  }
  return best;
}
