/* guestd/regex-cache.c: one compiled copy of each regexp libaugeas uses.
 *
 * libaugeas compiles a lens's regexps when a parse or print first needs
 * them, and frees them all when the call ends: aug_text_store,
 * aug_text_retrieve, aug_load and aug_save each end with lens_release
 * (its transform.c), which regfrees every regexp of the lens.  So every
 * call compiles the same patterns again: about 80 for an sshd_config
 * edit, 63 % of its instructions (callgrind, Debian 12's libaugeas
 * 1.14).  Under TCG that was 0.2 s of each edit.
 *
 * libaugeas compiles with re_compile_pattern and frees with regfree,
 * both called from libc through its PLT.  guestd defines both (the
 * executable's definitions come first, and the link exports them:
 * guestd.mk): re_compile_pattern looks the pattern up, by its bytes and
 * the syntax bits in re_syntax_options, in a table of compiled patterns
 * and hands out a copy of the compiled buffer, whose compiled automaton
 * (the `buffer' member) is shared; regfree leaves a shared automaton
 * alone and frees everything else through libc's own.  A buffer is a
 * function of its pattern and syntax only, so a copy is what compiling
 * again would give.  Matching only reads the automaton, apart from
 * libc's own cache of matcher states inside it, which it locks.
 *
 * Only buffers as libaugeas passes them are taken (no fastmap, no
 * translate table): anything else goes to libc unchanged, as do
 * patterns that fail to compile, and patterns once the table holds
 * CACHE_MAX of them or CACHE_BYTES of memory.  guestd has one thread.
 *
 * The snapshot template warms the Sshd lens (aug-edit.c), so a restored
 * appliance starts with its patterns compiled.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestd.h"

#define CACHE_MAX 4096                 /* patterns kept */
#define CACHE_BYTES (64 << 20)         /* heap they may take */
#define PATTERN_MAX (256 << 10)        /* longer patterns are not kept */
#define BUCKETS 1024                   /* of each hash table (a power of 2) */

struct rx {
  struct rx *next;                     /* in its pattern bucket */
  struct rx *next_dfa;                 /* in its automaton bucket */
  reg_syntax_t syntax;                 /* re_syntax_options when compiled */
  size_t len;                          /* of pat */
  char *pat;                           /* the pattern's bytes (not a string) */
  struct re_pattern_buffer re;         /* compiled; re.buffer is shared */
};

static struct rx *by_pattern[BUCKETS], *by_dfa[BUCKETS];
static size_t count, bytes;
static struct {
  unsigned long long compiled;         /* patterns compiled into the table */
  unsigned long long reused;           /* compiles answered from it */
  unsigned long long passed;           /* left to libc: no room, or no compile */
} stats;

typedef const char *compile_fn (const char *, size_t, struct re_pattern_buffer *);
typedef void free_fn (regex_t *);
static compile_fn *libc_compile;
static free_fn *libc_free;

static int
resolve (void)
{
  if (libc_compile == NULL) {
    libc_compile = (compile_fn *) dlsym (RTLD_NEXT, "re_compile_pattern");
    libc_free = (free_fn *) dlsym (RTLD_NEXT, "regfree");
  }
  return libc_compile && libc_free ? 0 : -1;
}

static uint32_t
hash_pattern (const char *p, size_t n, reg_syntax_t syntax)
{
  uint32_t h = 2166136261u ^ (uint32_t) syntax;   /* FNV-1a */

  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char) p[i]) * 16777619u;
  return h & (BUCKETS - 1);
}

static uint32_t
hash_dfa (const void *dfa)
{
  uintptr_t v = (uintptr_t) dfa;
  return (uint32_t) ((v >> 4) ^ (v >> 14)) & (BUCKETS - 1);
}

static int
shared (const void *dfa)
{
  for (const struct rx *e = by_dfa[hash_dfa (dfa)]; e; e = e->next_dfa)
    if (e->re.buffer == dfa)
      return 1;
  return 0;
}

static struct rx *
lookup (const char *p, size_t n)
{
  for (struct rx *e = by_pattern[hash_pattern (p, n, re_syntax_options)]; e; e = e->next)
    if (e->syntax == re_syntax_options && e->len == n && memcmp (e->pat, p, n) == 0)
      return e;
  return NULL;
}

/* Compile p into a new entry, added to the tables; NULL (nothing
 * added) when there is no memory, or when it does not compile: then
 * *error is libc's message. */
static struct rx *
add (const char *p, size_t n, const char **error)
{
  size_t before = mallinfo2 ().uordblks;
  struct rx *e = calloc (1, sizeof *e);

  if (e == NULL || (e->pat = malloc (n ? n : 1)) == NULL) {
    free (e);
    return NULL;
  }
  memcpy (e->pat, p, n);
  e->len = n;
  e->syntax = re_syntax_options;
  if ((*error = libc_compile (p, n, &e->re)) != NULL) {
    libc_free (&e->re);
    free (e->pat);
    free (e);
    return NULL;
  }
  bytes += mallinfo2 ().uordblks - before;
  count++;
  e->next = by_pattern[hash_pattern (p, n, e->syntax)];
  by_pattern[hash_pattern (p, n, e->syntax)] = e;
  e->next_dfa = by_dfa[hash_dfa (e->re.buffer)];
  by_dfa[hash_dfa (e->re.buffer)] = e;
  return e;
}

const char *
re_compile_pattern (const char *pattern, size_t length, struct re_pattern_buffer *buf)
{
  struct rx *e;

  if (resolve () == -1)
    return "regex: libc's re_compile_pattern not found";
  /* libc would compile into an automaton buf still holds: never into
   * the table's. */
  if (buf->buffer && shared (buf->buffer)) {
    buf->buffer = NULL;
    buf->allocated = 0;
  }
  if (buf->fastmap || buf->translate || length > PATTERN_MAX)
    return libc_compile (pattern, length, buf);
  if ((e = lookup (pattern, length)) == NULL) {
    const char *error = NULL;
    if (count >= CACHE_MAX || bytes >= CACHE_BYTES ||
        (e = add (pattern, length, &error)) == NULL) {
      stats.passed++;
      /* A pattern that does not compile is not compiled twice. */
      return error ? error : libc_compile (pattern, length, buf);
    }
    stats.compiled++;
  } else
    stats.reused++;
  if (buf->buffer)
    libc_free (buf);                 /* its own, which libc would have reused */
  *buf = e->re;
  return NULL;
}

void
regfree (regex_t *preg)
{
  if (preg->buffer && shared (preg->buffer)) {
    preg->buffer = NULL;             /* the table's; nothing else was allocated */
    preg->allocated = 0;
    preg->used = 0;
    return;
  }
  if (resolve () == 0)
    libc_free (preg);
}

/* debug regex: the table's counts since guestd started (the template's
 * included), for tests and for seeing what a lens costs. */
char *
gd_rx_stats (void)
{
  char *s;

  if (asprintf (&s, "kept %zu\nbytes %zu\ncompiled %llu\nreused %llu\npassed %llu\n",
                count, bytes, stats.compiled, stats.reused, stats.passed) == -1)
    return NULL;
  return s;
}
