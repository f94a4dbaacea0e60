/* tests/fuzz/make-seeds.c: write the seed corpora of the fuzz targets
 * (tests/fuzz/corpus/{reply,request}/) with the real encoders, so that
 * the seeds follow the wire format whatever the action table holds.
 * Run by `make fuzz-seeds'; the output is committed.
 *
 *   make-seeds DIR      writes DIR/reply/seed-* and DIR/request/seed-*
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk.h"

static const char *outdir;
static unsigned char buf[1 << 20];
static size_t used;

static void
put_word (uint32_t w)
{
  gk_put_u32 (buf + used, w);
  used += 4;
}

/* Frame what `fill' encodes: length word, then the XDR. */
static XDR x;
static size_t frame_at;

static void
begin (void)
{
  frame_at = used;
  used += 4;
  xdrmem_create (&x, (char *) buf + used, (u_int) (sizeof buf - used), XDR_ENCODE);
}

static void
end (void)
{
  u_int n = xdr_getpos (&x);
  gk_put_u32 (buf + frame_at, n);
  used += n;
  xdr_destroy (&x);
}

static void
header (uint32_t proc, uint32_t dir, uint32_t serial, uint32_t status,
        uint32_t vers)
{
  struct gk_header h = { GK_PROGRAM, vers, proc, dir, serial, status };
  if (!gk_xdr_header (&x, &h))
    abort ();
}

static void
chunk (int cancel, const char *data, u_int n)
{
  char *d = (char *) data;
  begin ();
  if (!gk_xdr_chunk (&x, &cancel, &d, &n))
    abort ();
  end ();
}

static void
save (const char *target, const char *name)
{
  char path[512];
  FILE *f;

  snprintf (path, sizeof path, "%s/%s/seed-%s", outdir, target, name);
  f = fopen (path, "wb");
  if (f == NULL || fwrite (buf, 1, used, f) != used || fclose (f) != 0) {
    perror (path);
    exit (1);
  }
  used = 0;
}

/* ---- reply seeds: 2 bytes choosing the call, then the daemon's bytes ---- */

static const struct gk_action *
daemon_call (size_t *index, int (*pred) (const struct gk_action *))
{
  size_t n = 0;
  for (size_t i = 0; i < gk_nactions; i++) {
    if (gk_actions[i].proc < 0)
      continue;
    if (pred (&gk_actions[i])) {
      *index = n;
      return &gk_actions[i];
    }
    n++;
  }
  return NULL;
}

static enum gk_rettype want_ret;
static int ret_is (const struct gk_action *a) { return a->ret == want_ret; }
static int
fileout (const struct gk_action *a)
{
  for (size_t i = 0; i < a->nargs; i++)
    if (a->args[i].type == GK_ARG_FILEOUT)
      return 1;
  return 0;
}

static void
sample_struct (const struct gk_struct *s, char *base)
{
  for (size_t i = 0; i < s->nfields; i++) {
    const struct gk_field *f = &s->fields[i];
    if (f->type == GK_F_STRING)
      *(char **) (base + f->offset) = (char *) "field";
    else if (f->type == GK_F_UUID)
      memset (base + f->offset, '7', 32);
    else if (f->type == GK_F_INT64 || f->type == GK_F_BYTES)
      *(int64_t *) (base + f->offset) = 4096;
  }
}

static void
reply_seed (enum gk_rettype t, const char *name)
{
  static char *list[] = { (char *) "key", (char *) "value", NULL };
  static char structs[2][4096];
  struct gk_list l = { 2, structs };
  union gk_retval r;
  size_t idx;
  const struct gk_action *a;

  want_ret = t;
  a = daemon_call (&idx, ret_is);
  if (a == NULL)
    return;
  memset (&r, 0, sizeof r);
  memset (structs, 0, sizeof structs);
  switch (t) {
  case GK_RET_INT: case GK_RET_BOOL: r.i = 1; break;
  case GK_RET_INT64: r.i64 = 1ll << 40; break;
  case GK_RET_STRING: case GK_RET_CONSTSTRING: case GK_RET_CONSTOPTSTRING:
    r.s = (char *) "a string"; break;
  case GK_RET_STRINGLIST: case GK_RET_HASHTABLE: r.sl = list; break;
  case GK_RET_BUFFEROUT: r.b.buf = (char *) "buf\0fer"; r.b.len = 7; break;
  case GK_RET_STRUCT:
    sample_struct (a->rstruct, structs[0]);
    r.st = structs[0];
    break;
  case GK_RET_STRUCTLIST:
    if (a->rstruct->size > sizeof structs[0])
      return;
    sample_struct (a->rstruct, structs[0]);
    sample_struct (a->rstruct, structs[0] + a->rstruct->size);
    r.list = &l;
    break;
  default: break;
  }
  buf[0] = (unsigned char) (idx >> 8);
  buf[1] = (unsigned char) idx;
  used = 2;
  begin ();
  header ((uint32_t) a->proc, GK_REPLY, 1000, GK_OK, GK_PROTOCOL_VERS);
  if (!gk_xdr_ret (&x, a, &r, GK_MESSAGE_MAX))
    abort ();
  end ();
  save ("reply", name);
}

static void
reply_seeds (void)
{
  struct gk_error e = { (char *) "mount: /dev/sdz: no such device", 2 };
  const struct gk_action *a;
  size_t idx;

  reply_seed (GK_RET_ERR, "ok-none");
  reply_seed (GK_RET_INT, "ok-int");
  reply_seed (GK_RET_INT64, "ok-int64");
  reply_seed (GK_RET_BOOL, "ok-bool");
  reply_seed (GK_RET_STRING, "ok-string");
  reply_seed (GK_RET_STRINGLIST, "ok-strings");
  reply_seed (GK_RET_HASHTABLE, "ok-hashtable");
  reply_seed (GK_RET_BUFFEROUT, "ok-buffer");
  reply_seed (GK_RET_STRUCT, "ok-struct");
  reply_seed (GK_RET_STRUCTLIST, "ok-structlist");

  /* an error reply, after a stale reply and a stray cancel word */
  want_ret = GK_RET_ERR;
  a = daemon_call (&idx, ret_is);
  buf[0] = (unsigned char) (idx >> 8);
  buf[1] = (unsigned char) idx;
  used = 2;
  put_word (GK_CANCEL_FLAG);
  begin ();
  header ((uint32_t) a->proc, GK_REPLY, 998, GK_OK, GK_PROTOCOL_VERS);
  end ();
  begin ();
  header ((uint32_t) a->proc, GK_REPLY, 1000, GK_ERROR, GK_PROTOCOL_VERS);
  if (!gk_xdr_error (&x, &e))
    abort ();
  end ();
  save ("reply", "stale-then-error");

  /* a FileOut call: OK, two chunks, the end; and one cancelled */
  a = daemon_call (&idx, fileout);
  for (int cancel = 0; a && cancel < 2; cancel++) {
    buf[0] = (unsigned char) (idx >> 8);
    buf[1] = (unsigned char) idx;
    used = 2;
    begin ();
    header ((uint32_t) a->proc, GK_REPLY, 1000, GK_OK, GK_PROTOCOL_VERS);
    end ();
    chunk (0, "first chunk", 11);
    chunk (0, "second", 6);
    chunk (cancel, NULL, 0);
    save ("reply", cancel ? "fileout-cancelled" : "fileout");
  }
}

/* ---- request seeds: the library's bytes ---- */

static void
request (const struct gk_action *a, uint32_t serial)
{
  union gk_val v[16];
  static char *list[] = { (char *) "/dev/sda", (char *) "/dev/sdb", NULL };

  memset (v, 0, sizeof v);
  for (size_t i = 0; i < a->nargs && i < 16; i++) {
    switch (a->args[i].type) {
    case GK_ARG_STRINGLIST: case GK_ARG_DEVICELIST: v[i].sl = list; break;
    case GK_ARG_BOOL: v[i].i = 1; break;
    case GK_ARG_INT: v[i].i = 7; break;
    case GK_ARG_INT64: v[i].i64 = 1ll << 33; break;
    case GK_ARG_DEVICE: v[i].s = (char *) "/dev/sda1"; break;
    default: v[i].s = (char *) "/etc/hostname"; break;
    }
  }
  begin ();
  header ((uint32_t) a->proc, GK_CALL, serial, GK_OK, GK_PROTOCOL_VERS);
  if (!gk_xdr_args (&x, a, v, GK_MESSAGE_MAX))
    abort ();
  end ();
}

static int has_type (const struct gk_action *a, enum gk_argtype t)
{
  for (size_t i = 0; i < a->nargs; i++)
    if (a->args[i].type == t)
      return 1;
  return 0;
}

static void
request_seeds (void)
{
  static const enum gk_argtype types[] = {
    GK_ARG_STRING, GK_ARG_OPTSTRING, GK_ARG_STRINGLIST, GK_ARG_DEVICELIST,
    GK_ARG_BOOL, GK_ARG_INT, GK_ARG_INT64, GK_ARG_DEVICE,
    GK_ARG_DEV_OR_PATH, GK_ARG_PATHNAME,
  };
  const struct gk_action *up = gk_action_by_name ("upload");
  const struct gk_action *down = gk_action_by_name ("download");
  struct gk_resume r = { 1700000000, 5, NULL, GK_SEED_LEN, 0, 2 };
  char seed[GK_SEED_LEN];

  /* one call per argument type, three calls in a row */
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    for (size_t i = 0, n = 0; i < gk_nactions && n < 3; i++)
      if (gk_actions[i].proc >= 0 && has_type (&gk_actions[i], types[t]) &&
          !has_type (&gk_actions[i], GK_ARG_FILEIN) &&
          !has_type (&gk_actions[i], GK_ARG_FILEOUT))
        request (&gk_actions[i], (uint32_t) n++);
    char name[32];
    snprintf (name, sizeof name, "args-%zu", t);
    save ("request", name);
  }
  /* uploads: complete, cancelled by the library, failed by the daemon */
  if (up) {
    request (up, 1); chunk (0, "hello", 5); chunk (0, "world", 5); chunk (0, NULL, 0);
    save ("request", "upload");
    request (up, 1); chunk (0, "hello", 5); chunk (1, NULL, 0);
    save ("request", "upload-cancelled");
    request (up, 1); chunk (0, "!fail", 5); chunk (0, "more", 4); chunk (0, NULL, 0);
    save ("request", "upload-daemon-cancels");
  }
  if (down) {
    request (down, 1); request (down, 2); put_word (GK_CANCEL_FLAG);
    save ("request", "download");
  }
  /* the resume call, then a call */
  memset (seed, 0x5a, sizeof seed);
  r.seed = seed;
  begin ();
  header (GK_PROC_RESUME, GK_CALL, 0, GK_OK, GK_PROTOCOL_VERS);
  if (!gk_xdr_resume (&x, &r))
    abort ();
  end ();
  if (gk_action_by_name ("ping_daemon"))
    request (gk_action_by_name ("ping_daemon"), 1);
  save ("request", "resume");
  /* an unknown procedure and a wrong version, which get error replies */
  begin ();
  header (0x7ffffff0u, GK_CALL, 3, GK_OK, GK_PROTOCOL_VERS);
  end ();
  begin ();
  header (1, GK_CALL, 4, GK_OK, 99);
  end ();
  save ("request", "unknown");
}

int
main (int argc, char *argv[])
{
  if (argc != 2) {
    fprintf (stderr, "usage: make-seeds DIR\n");
    return 2;
  }
  outdir = argv[1];
  reply_seeds ();
  request_seeds ();
  return 0;
}
