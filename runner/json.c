/* runner/json.c: JSON text for the results database: strings (with
 * invalid UTF-8 and control bytes escaped), string lists, hashtables as
 * objects, structs as objects of their fields, buffers as strings when
 * they are valid UTF-8 and {"base64": ...} otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "runner.h"

size_t
rn_utf8_len (const unsigned char *s, size_t n)
{
  size_t len;
  uint32_t c;

  if (s[0] < 0x80) return 1;
  if ((s[0] & 0xe0) == 0xc0) len = 2, c = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0) len = 3, c = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0) len = 4, c = s[0] & 0x07;
  else return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
      c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  return len;
}

static int
valid_utf8 (const char *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    size_t l = rn_utf8_len ((const unsigned char *) s + i, n - i);
    if (l == 0)
      return 0;
    i += l;
  }
  return 1;
}

void
rn_json_str (struct rn_buf *b, const char *s, size_t len)
{
  rn_buf_addc (b, '"');
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char) s[i];
    size_t l;
    if (c == '"' || c == '\\') {
      rn_buf_addc (b, '\\');
      rn_buf_addc (b, (char) c);
    } else if (c == '\n')
      rn_buf_adds (b, "\\n");
    else if (c == '\t')
      rn_buf_adds (b, "\\t");
    else if (c == '\r')
      rn_buf_adds (b, "\\r");
    else if (c < 0x20 || c == 0x7f ||
             (l = rn_utf8_len ((const unsigned char *) s + i, len - i)) == 0)
      rn_buf_addf (b, "\\u%04x", c);   /* a stray byte: as its Latin-1 code */
    else {
      rn_buf_add (b, s + i, l);
      i += l;
      continue;
    }
    i++;
  }
  rn_buf_addc (b, '"');
}

void
rn_json_strz (struct rn_buf *b, const char *s)
{
  if (s == NULL)
    rn_buf_adds (b, "null");
  else
    rn_json_str (b, s, strlen (s));
}

void
rn_json_strv (struct rn_buf *b, char *const *l)
{
  rn_buf_addc (b, '[');
  for (size_t i = 0; l && l[i]; i++) {
    if (i)
      rn_buf_addc (b, ',');
    rn_json_strz (b, l[i]);
  }
  rn_buf_addc (b, ']');
}

static void
json_hash (struct rn_buf *b, char *const *l)
{
  rn_buf_addc (b, '{');
  for (size_t i = 0; l && l[i] && l[i + 1]; i += 2) {
    if (i)
      rn_buf_addc (b, ',');
    rn_json_strz (b, l[i]);
    rn_buf_addc (b, ':');
    rn_json_strz (b, l[i + 1]);
  }
  rn_buf_addc (b, '}');
}

static void
base64 (struct rn_buf *b, const unsigned char *p, size_t n)
{
  static const char t[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    char o[4] = { t[v >> 18], t[(v >> 12) & 63],
                  i + 1 < n ? t[(v >> 6) & 63] : '=', i + 2 < n ? t[v & 63] : '=' };
    rn_buf_add (b, o, 4);
  }
}

static void
json_buffer (struct rn_buf *b, const char *p, size_t n)
{
  if (valid_utf8 (p, n) && memchr (p, '\0', n) == NULL) {
    rn_json_str (b, p, n);
    return;
  }
  rn_buf_adds (b, "{\"base64\":\"");
  base64 (b, (const unsigned char *) p, n);
  rn_buf_adds (b, "\"}");
}

static void
json_field (struct rn_buf *b, const struct rn_field *f, const char *base)
{
  const char *p = base + f->offset;

  switch (f->type) {
  case RN_F_STRING: rn_json_strz (b, *(char *const *) p); break;
  case RN_F_UUID: rn_json_str (b, p, 32); break;
  case RN_F_BYTES: rn_buf_addf (b, "%llu", (unsigned long long) *(const uint64_t *) p); break;
  case RN_F_INT64: rn_buf_addf (b, "%lld", (long long) *(const int64_t *) p); break;
  case RN_F_INT32: rn_buf_addf (b, "%d", (int) *(const int32_t *) p); break;
  case RN_F_UINT32: rn_buf_addf (b, "%u", (unsigned) *(const uint32_t *) p); break;
  case RN_F_CHAR: rn_json_str (b, p, 1); break;
  case RN_F_OPTPERCENT: {
    float x = *(const float *) p;
    if (x < 0) rn_buf_adds (b, "null");
    else rn_buf_addf (b, "%g", (double) x);
    break;
  }
  case RN_F_BUFFER:
    json_buffer (b, *(char *const *) p, *(const uint32_t *) (base + f->len_offset));
    break;
  }
}

static void
json_struct (struct rn_buf *b, const struct rn_struct *s, const char *p)
{
  rn_buf_addc (b, '{');
  for (int i = 0; i < s->nfields; i++) {
    if (i)
      rn_buf_addc (b, ',');
    rn_json_strz (b, s->fields[i].name);
    rn_buf_addc (b, ':');
    json_field (b, &s->fields[i], p);
  }
  rn_buf_addc (b, '}');
}

/* Every guestfs_NAME_list is { uint32_t len; struct guestfs_NAME *val; }. */
struct any_list {
  uint32_t len;
  char *val;
};

void
rn_json_ret (struct rn_buf *b, const struct rn_ret *r)
{
  const struct rn_struct *s = r->struct_index >= 0 ? &rn_structs[r->struct_index] : NULL;

  switch (r->type) {
  case RN_RET_ERR: rn_buf_adds (b, "null"); break;
  case RN_RET_INT: rn_buf_addf (b, "%d", r->v.i); break;
  case RN_RET_INT64: rn_buf_addf (b, "%lld", (long long) r->v.i64); break;
  case RN_RET_BOOL: rn_buf_adds (b, r->v.i ? "true" : "false"); break;
  case RN_RET_CONSTSTRING:
  case RN_RET_CONSTOPTSTRING: rn_json_strz (b, r->v.cs); break;
  case RN_RET_STRING: rn_json_strz (b, r->v.s); break;
  case RN_RET_STRINGLIST: rn_json_strv (b, r->v.sl); break;
  case RN_RET_HASHTABLE: json_hash (b, r->v.sl); break;
  case RN_RET_BUFFEROUT: json_buffer (b, r->v.s, r->size); break;
  case RN_RET_STRUCT: json_struct (b, s, r->v.p); break;
  case RN_RET_STRUCTLIST: {
    const struct any_list *l = r->v.p;
    rn_buf_addc (b, '[');
    for (uint32_t i = 0; i < l->len; i++) {
      if (i)
        rn_buf_addc (b, ',');
      json_struct (b, s, l->val + (size_t) i * s->size);
    }
    rn_buf_addc (b, ']');
    break;
  }
  }
}
