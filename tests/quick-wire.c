/* tests/quick-wire.c: the shared XDR codec (schemas/wire.c) without a VM:
 * round trips of arguments, results and structs, and hostile input
 * (truncations, lying lengths, random bytes) that must fail cleanly. */
#include "harness.h"
#include "wire.h"
#include "actions-gen.h"

static char buf[65536];

static size_t
encode_args (const struct gk_action *a, union gk_val *v)
{
  XDR x;
  size_t n;
  xdrmem_create (&x, buf, sizeof buf, XDR_ENCODE);
  if (!gk_xdr_args (&x, a, v, sizeof buf)) return 0;
  n = xdr_getpos (&x);
  xdr_destroy (&x);
  return n;
}

static int
decode_args (const struct gk_action *a, size_t len, union gk_val *v)
{
  XDR x;
  int ok;
  xdrmem_create (&x, buf, (u_int) len, XDR_DECODE);
  ok = gk_xdr_args (&x, a, v, len) && xdr_getpos (&x) == len;
  xdr_destroy (&x);
  return ok;
}

static void
t_args_roundtrip (void)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_mount_options];
  union gk_val in[3] = { { .s = "ro,noatime" }, { .s = "/dev/sda1" }, { .s = "/" } }, out[3];
  size_t n = encode_args (a, in);
  CHECK (n > 0, "encode failed");
  CHECK (decode_args (a, n, out), "decode failed");
  CHECK (strcmp (out[0].s, "ro,noatime") == 0 && strcmp (out[2].s, "/") == 0, "values differ");
  gk_free_args (a, out);
}

static void
t_stringlist_roundtrip (void)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_echo_daemon];
  char *words[] = { "a", "", "three words here", NULL };
  union gk_val in[1] = { { .sl = words } }, out[1];
  size_t n = encode_args (a, in);
  CHECK (n > 0 && decode_args (a, n, out), "round trip failed");
  CHECK (out[0].sl[3] == NULL && strcmp (out[0].sl[2], "three words here") == 0, "list differs");
  gk_free_args (a, out);
}

static void
t_truncated_args_fail (void)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_mount_options];
  union gk_val in[3] = { { .s = "ro" }, { .s = "/dev/sda1" }, { .s = "/mnt" } }, out[3];
  size_t n = encode_args (a, in);
  for (size_t cut = 0; cut < n; cut++) {
    CHECK (!decode_args (a, cut, out), "decode of %zu/%zu bytes succeeded", cut, n);
    gk_free_args (a, out);
  }
}

static void
t_lying_lengths (void)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_echo_daemon];
  union gk_val out[1];
  /* A list claiming 2^30 elements in a 8-byte message. */
  gk_put_u32 ((unsigned char *) buf, 1u << 30);
  gk_put_u32 ((unsigned char *) buf + 4, 0);
  CHECK (!decode_args (a, 8, out), "huge count accepted");
  gk_free_args (a, out);
  /* A string claiming 4 GiB - 1. */
  a = &gk_actions[GK_ACTION_touch];
  gk_put_u32 ((unsigned char *) buf, 0xffffffffu);
  CHECK (!decode_args (a, 8, out), "huge string accepted");
  gk_free_args (a, out);
}

static void
t_struct_list_roundtrip (void)
{
  const struct gk_action *a = &gk_actions[GK_ACTION_part_list];
  struct guestfs_partition p[2] = { { 1, 512, 1023, 512 }, { 2, 1024, 4095, 3072 } };
  struct gk_list l = { 2, p };
  union gk_retval in = { .list = &l }, out = { 0 };
  XDR x;
  size_t n;
  xdrmem_create (&x, buf, sizeof buf, XDR_ENCODE);
  CHECK (gk_xdr_ret (&x, a, &in, sizeof buf), "encode");
  n = xdr_getpos (&x);
  xdr_destroy (&x);
  xdrmem_create (&x, buf, (u_int) n, XDR_DECODE);
  CHECK (gk_xdr_ret (&x, a, &out, n), "decode");
  xdr_destroy (&x);
  struct guestfs_partition *q = out.list->val;
  CHECK (out.list->len == 2 && q[1].part_num == 2 && q[1].part_size == 3072, "values differ");
  gk_free_ret (a, &out);
  /* The same bytes with a count of 1000 must fail, not over-read. */
  gk_put_u32 ((unsigned char *) buf, 1000);
  xdrmem_create (&x, buf, (u_int) n, XDR_DECODE);
  out.list = NULL;
  CHECK (!gk_xdr_ret (&x, a, &out, n), "lying struct count accepted");
  xdr_destroy (&x);
  gk_free_ret (a, &out);
}

/* A hashtable reply of three strings (keys and values do not pair up)
 * is refused by the decoder, so no caller reads a key without a value;
 * the encoder refuses to send one too. */
static void
t_odd_hashtable (void)
{
  const struct gk_action *list = &gk_actions[GK_ACTION_internal_hive_subkeys];
  const struct gk_action *hash = &gk_actions[GK_ACTION_tune2fs_l];
  char *odd[] = { "Block size", "4096", "Inode count", NULL };
  char *even[] = { "Block size", "4096", NULL };
  union gk_retval in = { .sl = odd }, out = { 0 };
  XDR x;
  size_t n;

  CHECK (hash->ret == GK_RET_HASHTABLE && list->ret == GK_RET_STRINGLIST, "table");
  xdrmem_create (&x, buf, sizeof buf, XDR_ENCODE);
  CHECK (!gk_xdr_ret (&x, hash, &in, sizeof buf), "odd hashtable encoded");
  xdr_destroy (&x);
  xdrmem_create (&x, buf, sizeof buf, XDR_ENCODE);
  CHECK (gk_xdr_ret (&x, list, &in, sizeof buf), "encode as a string list");
  n = xdr_getpos (&x);
  xdr_destroy (&x);
  xdrmem_create (&x, buf, (u_int) n, XDR_DECODE);
  CHECK (!gk_xdr_ret (&x, hash, &out, n), "odd hashtable decoded");
  xdr_destroy (&x);
  gk_free_ret (hash, &out);
  /* An even one still passes both ways. */
  in.sl = even;
  xdrmem_create (&x, buf, sizeof buf, XDR_ENCODE);
  CHECK (gk_xdr_ret (&x, hash, &in, sizeof buf), "even hashtable refused");
  n = xdr_getpos (&x);
  xdr_destroy (&x);
  xdrmem_create (&x, buf, (u_int) n, XDR_DECODE);
  CHECK (gk_xdr_ret (&x, hash, &out, n) && out.sl[2] == NULL &&
         strcmp (out.sl[1], "4096") == 0, "even hashtable not decoded");
  xdr_destroy (&x);
  gk_free_ret (hash, &out);
}

static void
t_random_bytes (void)
{
  unsigned seed = 12345;
  for (int iter = 0; iter < 20000; iter++) {
    const struct gk_action *a = &gk_actions[(size_t) rand_r (&seed) % gk_nactions];
    size_t n = (size_t) rand_r (&seed) % 64;
    union gk_val v[16];
    union gk_retval r = { 0 };
    XDR x;
    for (size_t i = 0; i < n; i++)
      buf[i] = (char) (rand_r (&seed) & (i % 4 == 0 ? 0 : 0xff));
    if (a->nargs <= 16) {
      decode_args (a, n, v);
      gk_free_args (a, v);
    }
    xdrmem_create (&x, buf, (u_int) n, XDR_DECODE);
    gk_xdr_ret (&x, a, &r, n);
    xdr_destroy (&x);
    gk_free_ret (a, &r);
  }
}

static void
t_table_lookup (void)
{
  CHECK (gk_action_by_proc (1) == &gk_actions[GK_ACTION_mount], "proc 1 is not mount");
  CHECK (gk_action_by_proc (-1) == NULL, "proc -1 found");
  CHECK (gk_action_by_proc (99999) == NULL, "proc 99999 found");
  CHECK (gk_action_by_name ("launch")->proc == -1, "launch is not a library call");
}

int
main (void)
{
  th_run ("wire-args-roundtrip", t_args_roundtrip);
  th_run ("wire-stringlist-roundtrip", t_stringlist_roundtrip);
  th_run ("wire-truncated-args-fail", t_truncated_args_fail);
  th_run ("wire-lying-lengths", t_lying_lengths);
  th_run ("wire-struct-list-roundtrip", t_struct_list_roundtrip);
  th_run ("wire-odd-hashtable", t_odd_hashtable);
  th_run ("wire-random-bytes", t_random_bytes);
  th_run ("wire-table-lookup", t_table_lookup);
  return th_done ();
}
