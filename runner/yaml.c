/* runner/yaml.c: read a YAML file (libyaml's event API) into a tree of
 * rn_node, keeping the line and column of every node for messages.
 *
 * The input is hostile: the file size, the nesting depth and the number
 * of nodes *with aliases expanded* are capped (an alias shares the
 * anchored node, it is never copied, and each node carries the weight of
 * its expanded subtree, so a "billion laughs" file is refused after a few
 * thousand events).  An alias may only name a finished node, so there
 * are no cycles.  Only the core tags !!str/!!seq/!!map are accepted.
 * Mapping keys must be scalars and may not repeat.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "runner.h"

/* ---- arena: every node and string of one document ---- */

struct chunk {
  struct chunk *next;
  size_t used, size;
  max_align_t data[];
};

static void *
arena_alloc (struct rn_doc *d, size_t n)
{
  struct chunk *c = d->arena;

  n = (n + sizeof (max_align_t) - 1) / sizeof (max_align_t) * sizeof (max_align_t);
  if (c == NULL || c->size - c->used < n) {
    size_t size = n > 65536 ? n : 65536;
    c = rn_malloc (sizeof *c + size);
    c->size = size;
    c->used = 0;
    c->next = d->arena;
    d->arena = c;
  }
  c->used += n;
  return (char *) c->data + c->used - n;
}

void
rn_yaml_free (struct rn_doc *d)
{
  struct chunk *c = d->arena, *next;

  for (; c; c = next) {
    next = c->next;
    free (c);
  }
  d->arena = NULL;
  d->root = NULL;
}

/* ---- anchors: name -> finished node ---- */

#define NBUCKETS 1024

struct anchor {
  struct anchor *next;
  char *name;
  struct rn_node *node;
};

struct builder {
  struct rn_doc *d;
  struct rn_errs *e;
  const char *file;
  struct anchor *buckets[NBUCKETS];
  /* Open collections: nodes, their kids so far (malloc'd), anchors. */
  struct open {
    struct rn_node *node;
    struct rn_node **kids;
    size_t n, cap;
    char *anchor;            /* malloc'd or NULL */
  } stack[RN_YAML_MAX_DEPTH];
  int depth;
  int docs;
  int failed;
};

static unsigned
hash (const char *s)
{
  unsigned h = 5381;
  for (; *s; s++)
    h = h * 33 + (unsigned char) *s;
  return h % NBUCKETS;
}

static void
anchor_set (struct builder *b, const char *name, struct rn_node *n)
{
  struct anchor *a = rn_malloc (sizeof *a);

  a->name = rn_strdup (name);
  a->node = n;
  a->next = b->buckets[hash (name)];
  b->buckets[hash (name)] = a;    /* a redefinition shadows the old one */
}

static struct rn_node *
anchor_get (struct builder *b, const char *name)
{
  for (struct anchor *a = b->buckets[hash (name)]; a; a = a->next)
    if (strcmp (a->name, name) == 0)
      return a->node;
  return NULL;
}

static void
anchors_free (struct builder *b)
{
  for (size_t i = 0; i < NBUCKETS; i++) {
    struct anchor *a = b->buckets[i], *next;
    for (; a; a = next) {
      next = a->next;
      free (a->name);
      free (a);
    }
  }
  for (int i = 0; i < b->depth; i++) {
    free (b->stack[i].kids);
    free (b->stack[i].anchor);
  }
}

/* ---- building ---- */

static void __attribute__((format (printf, 3, 4)))
fail (struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) == -1)
    abort ();
  va_end (ap);
  rn_err (b->e, b->file, (int) m->line + 1, (int) m->column + 1, "%s", msg);
  free (msg);
  b->failed = 1;
}

static struct rn_node *
new_node (struct builder *b, enum rn_ykind k, const yaml_mark_t *m)
{
  struct rn_node *n = arena_alloc (b->d, sizeof *n);

  memset (n, 0, sizeof *n);
  n->kind = k;
  n->line = (int) m->line + 1;
  n->col = (int) m->column + 1;
  n->weight = 1;
  return n;
}

/* Attach a finished node (or an alias of one) to the open collection, or
 * make it the root. */
static void
attach (struct builder *b, struct rn_node *n, const yaml_mark_t *m)
{
  struct open *o;

  if (b->depth == 0) {
    b->d->root = n;
    return;
  }
  o = &b->stack[b->depth - 1];
  if (o->node->kind == RN_Y_MAP && o->n % 2 == 0 && n->kind != RN_Y_SCALAR) {
    fail (b, m, "mapping keys must be plain scalars, not a %s", rn_node_what (n));
    return;
  }
  if (o->node->weight + n->weight > RN_YAML_MAX_NODES) {
    fail (b, m, "too many nodes once aliases are expanded (the limit is %d)",
          RN_YAML_MAX_NODES);
    return;
  }
  o->node->weight += n->weight;
  if (o->n == o->cap) {
    o->cap = o->cap ? o->cap * 2 : 8;
    o->kids = rn_realloc (o->kids, o->cap * sizeof *o->kids);
  }
  o->kids[o->n++] = n;
}

static int
cmp_keys (const void *pa, const void *pb)
{
  const struct rn_node *a = *(struct rn_node *const *) pa;
  const struct rn_node *b = *(struct rn_node *const *) pb;
  int c = strcmp (a->str, b->str);
  if (c == 0)
    c = (a->line > b->line) - (a->line < b->line);
  if (c == 0)
    c = (a->col > b->col) - (a->col < b->col);
  return c;
}

/* Each key of a finished mapping once. */
static void
check_dup_keys (struct builder *b, struct rn_node *map)
{
  size_t nk = map->nkids / 2;
  struct rn_node **keys;

  if (nk < 2)
    return;
  keys = rn_malloc (nk * sizeof *keys);
  for (size_t i = 0; i < nk; i++)
    keys[i] = map->kids[2 * i];
  qsort (keys, nk, sizeof *keys, cmp_keys);
  for (size_t i = 1; i < nk; i++)
    if (strcmp (keys[i]->str, keys[i - 1]->str) == 0 && keys[i] != keys[i - 1]) {
      rn_err (b->e, b->file, keys[i]->line, keys[i]->col,
              "duplicate key '%s' (first at line %d, column %d)",
              keys[i]->str, keys[i - 1]->line, keys[i - 1]->col);
      /* Not fatal: validation goes on (the last one is used) and the
       * caller sees the error count grow. */
    }
  free (keys);
}

static int
tag_ok (struct builder *b, const yaml_char_t *tag, const char *want,
        const yaml_mark_t *m)
{
  if (tag == NULL || strcmp ((const char *) tag, "!") == 0 ||
      strcmp ((const char *) tag, want) == 0)
    return 1;
  fail (b, m, "unsupported YAML tag '%s'", (const char *) tag);
  return 0;
}

static void
on_scalar (struct builder *b, yaml_event_t *ev)
{
  struct rn_node *n;

  if (!tag_ok (b, ev->data.scalar.tag, YAML_STR_TAG, &ev->start_mark))
    return;
  n = new_node (b, RN_Y_SCALAR, &ev->start_mark);
  n->len = ev->data.scalar.length;
  n->str = arena_alloc (b->d, n->len + 1);
  memcpy (n->str, ev->data.scalar.value, n->len);
  n->str[n->len] = '\0';
  n->plain = ev->data.scalar.tag == NULL &&
             ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  if (ev->data.scalar.anchor)
    anchor_set (b, (const char *) ev->data.scalar.anchor, n);
  attach (b, n, &ev->start_mark);
}

static void
on_start (struct builder *b, yaml_event_t *ev, enum rn_ykind k)
{
  const yaml_char_t *tag = k == RN_Y_MAP ? ev->data.mapping_start.tag
                                         : ev->data.sequence_start.tag;
  const yaml_char_t *anchor = k == RN_Y_MAP ? ev->data.mapping_start.anchor
                                            : ev->data.sequence_start.anchor;
  struct open *o;

  if (!tag_ok (b, tag, k == RN_Y_MAP ? YAML_MAP_TAG : YAML_SEQ_TAG, &ev->start_mark))
    return;
  if (b->depth == RN_YAML_MAX_DEPTH) {
    fail (b, &ev->start_mark, "nested deeper than %d levels", RN_YAML_MAX_DEPTH);
    return;
  }
  o = &b->stack[b->depth++];
  memset (o, 0, sizeof *o);
  o->node = new_node (b, k, &ev->start_mark);
  o->anchor = anchor ? rn_strdup ((const char *) anchor) : NULL;
}

static void
on_end (struct builder *b, yaml_event_t *ev)
{
  struct open *o = &b->stack[--b->depth];
  struct rn_node *n = o->node;

  n->nkids = o->n;
  n->kids = arena_alloc (b->d, (o->n ? o->n : 1) * sizeof *n->kids);
  if (o->n)
    memcpy (n->kids, o->kids, o->n * sizeof *n->kids);
  free (o->kids);
  if (n->kind == RN_Y_MAP)
    check_dup_keys (b, n);
  if (o->anchor) {
    anchor_set (b, o->anchor, n);
    free (o->anchor);
  }
  attach (b, n, &ev->start_mark);
}

static void
on_alias (struct builder *b, yaml_event_t *ev)
{
  const char *name = (const char *) ev->data.alias.anchor;
  struct rn_node *n = anchor_get (b, name);

  if (n == NULL) {
    fail (b, &ev->start_mark, "alias *%s names no anchor defined before it", name);
    return;
  }
  attach (b, n, &ev->start_mark);
}

/* One event; 0 to go on, 1 at the end of the stream. */
static int
on_event (struct builder *b, yaml_event_t *ev)
{
  switch (ev->type) {
  case YAML_STREAM_END_EVENT:
    return 1;
  case YAML_DOCUMENT_START_EVENT:
    if (b->docs++ > 0)
      fail (b, &ev->start_mark, "%s", "a job file holds one YAML document, not several");
    break;
  case YAML_SCALAR_EVENT:
    on_scalar (b, ev);
    break;
  case YAML_SEQUENCE_START_EVENT:
    on_start (b, ev, RN_Y_SEQ);
    break;
  case YAML_MAPPING_START_EVENT:
    on_start (b, ev, RN_Y_MAP);
    break;
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    on_end (b, ev);
    break;
  case YAML_ALIAS_EVENT:
    on_alias (b, ev);
    break;
  default:
    break;
  }
  return 0;
}

static void
syntax_error (struct builder *b, yaml_parser_t *p)
{
  const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->mark;
  const char *what = p->problem ? p->problem : "unreadable YAML";

  if (p->context)
    rn_err (b->e, b->file, (int) m->line + 1, (int) m->column + 1,
            "YAML syntax error: %s %s (line %d)", what, p->context,
            (int) p->context_mark.line + 1);
  else
    rn_err (b->e, b->file, (int) m->line + 1, (int) m->column + 1,
            "YAML syntax error: %s", what);
  b->failed = 1;
}

int
rn_yaml_parse (struct rn_doc *d, const char *file, const char *text,
               size_t len, struct rn_errs *e)
{
  yaml_parser_t p;
  yaml_event_t ev;
  struct builder *b;
  int failed;

  memset (d, 0, sizeof *d);
  d->file = file;
  if (len > RN_YAML_MAX_BYTES) {
    rn_err (e, file, 0, 0, "larger than %u bytes", RN_YAML_MAX_BYTES);
    return -1;
  }
  b = rn_calloc (1, sizeof *b);
  b->d = d;
  b->e = e;
  b->file = file;
  yaml_parser_initialize (&p);
  yaml_parser_set_input_string (&p, (const unsigned char *) text, len);
  for (;;) {
    int end;
    if (!yaml_parser_parse (&p, &ev)) {
      syntax_error (b, &p);
      break;
    }
    end = on_event (b, &ev);
    yaml_event_delete (&ev);
    if (end || b->failed)
      break;
  }
  yaml_parser_delete (&p);
  anchors_free (b);
  failed = b->failed;
  free (b);
  if (failed) {
    rn_yaml_free (d);
    return -1;
  }
  return 0;
}

int
rn_node_is_null (const struct rn_node *n)
{
  return n == NULL ||
         (n->kind == RN_Y_SCALAR && n->plain &&
          (n->len == 0 || strcmp (n->str, "~") == 0 || strcmp (n->str, "null") == 0 ||
           strcmp (n->str, "Null") == 0 || strcmp (n->str, "NULL") == 0));
}

const char *
rn_node_what (const struct rn_node *n)
{
  if (rn_node_is_null (n))
    return "null";
  switch (n->kind) {
  case RN_Y_SEQ: return "sequence";
  case RN_Y_MAP: return "mapping";
  default: break;
  }
  if (n->plain && rn_parse_bool (n->str) != -1)
    return "boolean";
  {
    int64_t v;
    if (n->plain && rn_parse_int (n->str, &v) == 0)
      return "integer";
  }
  return "string";
}
