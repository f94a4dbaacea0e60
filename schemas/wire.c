/* guestkit wire codecs: one generic XDR encoder/decoder driven by the action
 * and struct descriptors, used by both the library and the daemon.
 *
 * Decoding is done on hostile bytes: XDR memory streams never read past
 * their buffer, every string and array length is checked against `limit'
 * (the size of the message being decoded) before anything is allocated,
 * and a failed decode leaves only allocations that gk_free_* releases.
 */
#include <stdlib.h>
#include <string.h>

#include "wire.h"

const struct gk_action *
gk_action_by_proc (int proc)
{
  for (size_t i = 0; i < gk_nactions; i++)
    if (gk_actions[i].proc == proc && proc >= 0)
      return &gk_actions[i];
  return NULL;
}

const struct gk_action *
gk_action_by_name (const char *name)
{
  for (size_t i = 0; i < gk_nactions; i++)
    if (strcmp (gk_actions[i].name, name) == 0)
      return &gk_actions[i];
  return NULL;
}

bool_t
gk_xdr_header (XDR *xdrs, struct gk_header *h)
{
  return xdr_u_int (xdrs, &h->prog) && xdr_u_int (xdrs, &h->vers) &&
         xdr_u_int (xdrs, &h->proc) && xdr_u_int (xdrs, &h->direction) &&
         xdr_u_int (xdrs, &h->serial) && xdr_u_int (xdrs, &h->status);
}

bool_t
gk_xdr_error (XDR *xdrs, struct gk_error *e)
{
  return xdr_string (xdrs, &e->message, GK_ERROR_LEN) &&
         xdr_int (xdrs, &e->errnum);
}

/* A NULL-terminated string list, as an XDR counted array of strings. */
static bool_t
xdr_strings (XDR *xdrs, char ***slp, size_t limit)
{
  u_int n = 0;

  if (xdrs->x_op == XDR_ENCODE)
    while ((*slp)[n]) n++;
  if (xdrs->x_op == XDR_FREE) {
    gk_free_strings (*slp);
    *slp = NULL;
    return TRUE;
  }
  if (!xdr_u_int (xdrs, &n))
    return FALSE;
  if (xdrs->x_op == XDR_DECODE) {
    if (n > limit / 4)            /* each string takes >= 4 bytes */
      return FALSE;
    *slp = calloc ((size_t) n + 1, sizeof (char *));
    if (*slp == NULL)
      return FALSE;
  }
  for (u_int i = 0; i < n; i++)
    if (!xdr_string (xdrs, &(*slp)[i], limit))
      return FALSE;
  return TRUE;
}

static bool_t
xdr_optstring (XDR *xdrs, char **sp, size_t limit)
{
  bool_t present = *sp != NULL;

  if (!xdr_bool (xdrs, &present))
    return FALSE;
  if (!present) {
    if (xdrs->x_op == XDR_DECODE)
      *sp = NULL;
    return TRUE;
  }
  return xdr_string (xdrs, sp, limit);
}

static bool_t
xdr_one_arg (XDR *xdrs, enum gk_argtype t, union gk_val *v, size_t limit)
{
  switch (t) {
  case GK_ARG_STRING: case GK_ARG_DEVICE: case GK_ARG_DEV_OR_PATH:
  case GK_ARG_PATHNAME:
    return xdr_string (xdrs, &v->s, limit);
  case GK_ARG_OPTSTRING:
    return xdr_optstring (xdrs, &v->s, limit);
  case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST:
    return xdr_strings (xdrs, &v->sl, limit);
  case GK_ARG_BOOL: {
    bool_t b = v->i != 0;
    if (!xdr_bool (xdrs, &b)) return FALSE;
    v->i = b != 0;
    return TRUE;
  }
  case GK_ARG_INT:
    return xdr_int (xdrs, &v->i);
  case GK_ARG_INT64:
    return xdr_int64_t (xdrs, &v->i64);
  case GK_ARG_FILEIN: case GK_ARG_FILEOUT:
    return TRUE;                  /* carried by chunk streams, not here */
  case GK_ARG_BUFFERIN: {
    u_int len = (u_int) v->b.len;
    if (xdrs->x_op == XDR_ENCODE && v->b.len > limit)
      return FALSE;
    /* xdr_bytes checks the decoded length against limit before it
     * allocates; an empty buffer decodes to a NULL pointer. */
    if (!xdr_bytes (xdrs, &v->b.buf, &len, (u_int) limit))
      return FALSE;
    v->b.len = len;
    return TRUE;
  }
  }
  return FALSE;
}

bool_t
gk_xdr_args (XDR *xdrs, const struct gk_action *a, union gk_val *vals,
             size_t limit)
{
  if (xdrs->x_op == XDR_DECODE)
    memset (vals, 0, a->nargs * sizeof *vals);
  for (size_t i = 0; i < a->nargs; i++)
    if (!xdr_one_arg (xdrs, a->args[i].type, &vals[i], limit))
      return FALSE;
  return TRUE;
}

void
gk_free_strings (char **sl)
{
  if (sl == NULL)
    return;
  for (size_t i = 0; sl[i]; i++)
    free (sl[i]);
  free (sl);
}

void
gk_free_args (const struct gk_action *a, union gk_val *vals)
{
  for (size_t i = 0; i < a->nargs; i++) {
    switch (a->args[i].type) {
    case GK_ARG_STRING: case GK_ARG_DEVICE: case GK_ARG_DEV_OR_PATH:
    case GK_ARG_PATHNAME: case GK_ARG_OPTSTRING:
      free (vals[i].s);
      vals[i].s = NULL;
      break;
    case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST:
      gk_free_strings (vals[i].sl);
      vals[i].sl = NULL;
      break;
    case GK_ARG_BUFFERIN:
      free (vals[i].b.buf);
      vals[i].b.buf = NULL;
      vals[i].b.len = 0;
      break;
    default:
      break;
    }
  }
}

static bool_t
xdr_field (XDR *xdrs, const struct gk_field *f, char *base)
{
  void *p = base + f->offset;

  switch (f->type) {
  case GK_F_STRING:
    return xdr_string (xdrs, (char **) p, GK_MESSAGE_MAX);
  case GK_F_UUID:
    return xdr_opaque (xdrs, (char *) p, 32);
  case GK_F_BYTES:
    return xdr_uint64_t (xdrs, (uint64_t *) p);
  case GK_F_INT64:
    return xdr_int64_t (xdrs, (int64_t *) p);
  case GK_F_INT32:
    return xdr_int32_t (xdrs, (int32_t *) p);
  case GK_F_UINT32:
    return xdr_uint32_t (xdrs, (uint32_t *) p);
  case GK_F_CHAR: {
    int32_t c = *(char *) p;
    if (!xdr_int32_t (xdrs, &c)) return FALSE;
    *(char *) p = (char) c;
    return TRUE;
  }
  case GK_F_OPTPERCENT:
    return xdr_float (xdrs, (float *) p);
  case GK_F_BUFFER: {
    u_int len = *(uint32_t *) (base + f->len_offset);
    if (!xdr_bytes (xdrs, (char **) p, &len, GK_MESSAGE_MAX)) return FALSE;
    *(uint32_t *) (base + f->len_offset) = len;
    return TRUE;
  }
  }
  return FALSE;
}

bool_t
gk_xdr_struct (XDR *xdrs, const struct gk_struct *s, void *base)
{
  for (size_t i = 0; i < s->nfields; i++)
    if (!xdr_field (xdrs, &s->fields[i], base))
      return FALSE;
  return TRUE;
}

void
gk_free_struct_fields (const struct gk_struct *s, void *base)
{
  for (size_t i = 0; i < s->nfields; i++) {
    const struct gk_field *f = &s->fields[i];
    if (f->type == GK_F_STRING || f->type == GK_F_BUFFER) {
      char **pp = (char **) ((char *) base + f->offset);
      free (*pp);
      *pp = NULL;
    }
  }
}

/* Smallest encoding of one struct: 4 bytes a field, 32 for a UUID. */
static size_t
struct_min_size (const struct gk_struct *s)
{
  size_t n = 0;
  for (size_t i = 0; i < s->nfields; i++)
    n += s->fields[i].type == GK_F_UUID ? 32 :
         (s->fields[i].type == GK_F_BYTES || s->fields[i].type == GK_F_INT64) ? 8 : 4;
  return n ? n : 1;
}

static bool_t
xdr_struct_list (XDR *xdrs, const struct gk_struct *s, struct gk_list **lp,
                 size_t limit)
{
  u_int n;

  if (xdrs->x_op == XDR_DECODE) {
    if (!xdr_u_int (xdrs, &n) || n > limit / struct_min_size (s))
      return FALSE;
    *lp = calloc (1, sizeof **lp);
    if (*lp == NULL)
      return FALSE;
    (*lp)->val = calloc (n ? n : 1, s->size);
    if ((*lp)->val == NULL)
      return FALSE;
    (*lp)->len = n;
  } else {
    n = (*lp)->len;
    if (!xdr_u_int (xdrs, &n))
      return FALSE;
  }
  for (u_int i = 0; i < n; i++)
    if (!gk_xdr_struct (xdrs, s, (char *) (*lp)->val + (size_t) i * s->size))
      return FALSE;
  return TRUE;
}

static int
even_count (char *const *sl)
{
  size_t n = 0;

  while (sl[n])
    n++;
  return n % 2 == 0;
}

bool_t
gk_xdr_ret (XDR *xdrs, const struct gk_action *a, union gk_retval *r,
            size_t limit)
{
  switch (a->ret) {
  case GK_RET_ERR:
    return TRUE;
  case GK_RET_INT: case GK_RET_BOOL:
    return xdr_int (xdrs, &r->i);
  case GK_RET_INT64:
    return xdr_int64_t (xdrs, &r->i64);
  case GK_RET_STRING: case GK_RET_CONSTSTRING: case GK_RET_CONSTOPTSTRING:
    return xdr_string (xdrs, &r->s, limit);
  case GK_RET_STRINGLIST:
    return xdr_strings (xdrs, &r->sl, limit);
  case GK_RET_HASHTABLE:       /* key, value pairs: never an odd count */
    return xdr_strings (xdrs, &r->sl, limit) &&
      (xdrs->x_op == XDR_FREE || even_count (r->sl));
  case GK_RET_BUFFEROUT: {
    u_int len = (u_int) r->b.len;
    if (!xdr_bytes (xdrs, &r->b.buf, &len, (u_int) limit)) return FALSE;
    r->b.len = len;
    return TRUE;
  }
  case GK_RET_STRUCT:
    if (xdrs->x_op == XDR_DECODE && (r->st = calloc (1, a->rstruct->size)) == NULL)
      return FALSE;
    return gk_xdr_struct (xdrs, a->rstruct, r->st);
  case GK_RET_STRUCTLIST:
    return xdr_struct_list (xdrs, a->rstruct, &r->list, limit);
  }
  return FALSE;
}

void
gk_free_ret (const struct gk_action *a, union gk_retval *r)
{
  switch (a->ret) {
  case GK_RET_STRING: case GK_RET_CONSTSTRING: case GK_RET_CONSTOPTSTRING:
    free (r->s); r->s = NULL;
    break;
  case GK_RET_STRINGLIST: case GK_RET_HASHTABLE:
    gk_free_strings (r->sl); r->sl = NULL;
    break;
  case GK_RET_BUFFEROUT:
    free (r->b.buf); r->b.buf = NULL;
    break;
  case GK_RET_STRUCT:
    if (r->st) gk_free_struct_fields (a->rstruct, r->st);
    free (r->st); r->st = NULL;
    break;
  case GK_RET_STRUCTLIST:
    if (r->list) {
      for (uint32_t i = 0; i < r->list->len; i++)
        gk_free_struct_fields (a->rstruct, (char *) r->list->val + (size_t) i * a->rstruct->size);
      free (r->list->val);
      free (r->list);
    }
    r->list = NULL;
    break;
  default:
    break;
  }
}

bool_t
gk_xdr_chunk (XDR *xdrs, int *cancel, char **data, u_int *len)
{
  return xdr_int (xdrs, cancel) && xdr_bytes (xdrs, data, len, GK_CHUNK_MAX);
}

bool_t
gk_xdr_resume (XDR *xdrs, struct gk_resume *r)
{
  return xdr_int64_t (xdrs, &r->time_sec) &&
         xdr_int32_t (xdrs, &r->time_nsec) &&
         xdr_bytes (xdrs, &r->seed, &r->seed_len, GK_SEED_LEN) &&
         xdr_int32_t (xdrs, &r->verbose) &&
         xdr_int32_t (xdrs, &r->ndisks);
}
