/* tests/fuzz/fuzz-reply.c: fuzz the library's decoders of what the
 * appliance sends: replies (OK with any return type, error replies,
 * stale replies) and the FileOut chunk stream that follows a reply.
 *
 * Input: two bytes choosing the call (any daemon call of the action
 * table), then the byte stream the daemon would write on the channel:
 * framed messages (4-byte length, then the body) exactly as core/rpc.c
 * reads them.  The call's serial is 1000, so stale replies (serials
 * 985..999) are exercised too.  Each message is decoded from a buffer of
 * its exact size, so any read past its end is caught.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gk.h"

#define SERIAL 1000u

static guestfs_h *g;
static const struct gk_action **calls;   /* daemon calls: proc >= 0 */
static size_t ncalls;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g = guestfs_create ();
  if (g == NULL)
    abort ();
  guestfs_set_error_handler (g, NULL, NULL);
  calls = calloc (gk_nactions, sizeof *calls);
  for (size_t i = 0; i < gk_nactions; i++)
    if (gk_actions[i].proc >= 0)
      calls[ncalls++] = &gk_actions[i];
  return 0;
}

/* The next framed message, as read_message in core/rpc.c takes it:
 * cancel words skipped, lengths outside [min, GK_MESSAGE_MAX] refused.
 * A malloc'd copy of exactly *len bytes, or NULL at the end or on a bad
 * length. */
static char *
next_message (const uint8_t **p, size_t *left, uint32_t min, size_t *len)
{
  uint32_t w;
  char *m;

  do {
    if (*left < 4)
      return NULL;
    w = gk_get_u32 (*p);
    *p += 4;
    *left -= 4;
  } while (w == GK_CANCEL_FLAG);
  if (w < min || w > GK_MESSAGE_MAX || w > *left)
    return NULL;
  m = malloc (w ? w : 1);
  memcpy (m, *p, w);
  *p += w;
  *left -= w;
  *len = w;
  return m;
}

static int
has_fileout (const struct gk_action *a)
{
  for (size_t i = 0; i < a->nargs; i++)
    if (a->args[i].type == GK_ARG_FILEOUT)
      return 1;
  return 0;
}

/* The chunk stream after an OK reply to a FileOut call. */
static void
chunks (const uint8_t *p, size_t left)
{
  for (;;) {
    size_t len;
    char *m = next_message (&p, &left, 8, &len), *data;
    int cancel = 0, r;
    u_int n;

    if (m == NULL)
      return;
    r = gk_decode_chunk (m, len, &cancel, &data, &n);
    free (m);
    if (r == -1)
      return;
    if (n > 0 && data[n - 1] == 0x7f)     /* touch the last byte */
      cancel = !cancel;
    free (data);
    if (n == 0)
      return;
  }
}

/* What a caller of the library may do with a result: walk lists to their
 * NULL, take the length of each string, read each buffer. */
static size_t
touch_struct (const struct gk_struct *s, const char *base)
{
  size_t t = 0;

  for (size_t i = 0; i < s->nfields; i++) {
    const struct gk_field *f = &s->fields[i];
    const char *v;
    uint32_t n;

    if (f->type == GK_F_STRING) {
      v = *(char *const *) (base + f->offset);
      t += strlen (v);
    } else if (f->type == GK_F_BUFFER) {
      v = *(char *const *) (base + f->offset);
      n = *(const uint32_t *) (base + f->len_offset);
      t += n ? (unsigned char) v[n - 1] : 0;
    }
  }
  return t;
}

static size_t
touch (const struct gk_action *a, const union gk_retval *r)
{
  size_t t = 0;

  switch (a->ret) {
  case GK_RET_STRING: case GK_RET_CONSTSTRING: case GK_RET_CONSTOPTSTRING:
    return r->s ? strlen (r->s) : 0;
  case GK_RET_STRINGLIST: case GK_RET_HASHTABLE:
    for (size_t i = 0; r->sl && r->sl[i]; i++)
      t += strlen (r->sl[i]);
    return t;
  case GK_RET_BUFFEROUT:
    return r->b.len ? (unsigned char) r->b.buf[r->b.len - 1] : 0;
  case GK_RET_STRUCT:
    return touch_struct (a->rstruct, r->st);
  case GK_RET_STRUCTLIST:
    for (uint32_t i = 0; i < r->list->len; i++)
      t += touch_struct (a->rstruct, (const char *) r->list->val +
                         (size_t) i * a->rstruct->size);
    return t;
  default:
    return 0;
  }
}

static volatile size_t fuzz_sink;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const struct gk_action *a;
  const uint8_t *p = data + 2;
  size_t left = size - 2;
  int r;

  if (size < 2 || ncalls == 0)
    return 0;
  a = calls[(data[0] << 8 | data[1]) % ncalls];
  do {
    union gk_retval ret;
    const char *why = "";
    size_t len;
    char *m = next_message (&p, &left, GK_HEADER_LEN, &len);

    if (m == NULL)
      return 0;
    memset (&ret, 0, sizeof ret);
    r = gk_decode_reply (g, a, m, len, SERIAL, &ret, &why);
    free (m);
    if (r == 0) {
      fuzz_sink += touch (a, &ret);
      gk_free_ret (a, &ret);
    }
    if (r == 1)                     /* no control characters get through */
      for (const char *e = guestfs_last_error (g); *e; e++)
        if ((*e > 0 && *e < 0x20 && *e != '\n' && *e != '\t') || *e == 0x7f)
          abort ();
  } while (r == 2);
  if (r == 0 && has_fileout (a))
    chunks (p, left);
  return 0;
}
