/* tests/quick-regex-cache.c: guestd/regex-cache.c on the host (no VM).
 *
 * The program links guestd's regex-cache.o, so its re_compile_pattern
 * and regfree are the ones every call here (and libc's callers through
 * the PLT) binds to, as in guestd.  Checked: a second compile of a
 * pattern is answered from the table and matches exactly as libc's own
 * compile does, over a set of patterns and texts; the syntax bits are
 * part of the key; errors, buffers with a fastmap and recompiles into a
 * held buffer go to libc; a freed copy leaves the other holders intact.
 * The counts come from gd_rx_stats, the text debug regex prints.
 */
#include <dlfcn.h>
#include <regex.h>

#include "harness.h"
#include "guestd.h"

/* libaugeas's syntax (its regexp.c) */
#define AUG_SYNTAX (RE_CONTEXT_INDEP_OPS | RE_CONTEXT_INVALID_OPS | RE_DOT_NOT_NULL | \
                    RE_INTERVALS | RE_NO_BK_BRACES | RE_NO_BK_PARENS | RE_NO_BK_REFS | \
                    RE_NO_BK_VBAR | RE_NO_EMPTY_RANGES | RE_NO_POSIX_BACKTRACKING | \
                    RE_CONTEXT_INVALID_DUP | RE_NO_GNU_OPS)

static const char *const patterns[] = {
  "[A-Za-z][A-Za-z0-9]*", "(Port|ListenAddress|PermitRootLogin)", "[ \t]+",
  "#[^\n]*", "([^ \t\n#\"]|\"[^\"\n]*\")+", "a{2,3}b?", "(x|xy)(z|yz)", "",
  "[[:digit:]]+(\\.[[:digit:]]+)*", "(Match)[ \t]+([^\n]*)",
};
static const char *const texts[] = {
  "Port 22", "PermitRootLogin no", "   \tx", "# comment\nnext", "\"a b\" c",
  "aaab", "xyz", "", "10.2.33 rest", "Match User bob", "9", "ListenAddressX",
};

/* A count from gd_rx_stats. */
static unsigned long long
stat_of (const char *name)
{
  char *s = gd_rx_stats ();
  unsigned long long v = th_line_value (s, name);

  free (s);
  return v;
}

typedef const char *compile_fn (const char *, size_t, struct re_pattern_buffer *);

/* p compiled into a zeroed b as libaugeas does it, by fn. */
static const char *
compile_with (compile_fn *fn, struct re_pattern_buffer *b, const char *p, reg_syntax_t syntax)
{
  reg_syntax_t old = re_syntax_options;
  const char *e;

  memset (b, 0, sizeof *b);
  re_syntax_options = syntax;
  e = fn (p, strlen (p), b);
  re_syntax_options = old;
  b->regs_allocated = REGS_REALLOCATE;
  return e;
}

/* Through the table (this program's re_compile_pattern is guestd's). */
static const char *
compile (struct re_pattern_buffer *b, const char *p, reg_syntax_t syntax)
{
  return compile_with (re_compile_pattern, b, p, syntax);
}

/* libc's own compile, for the expected answers. */
static const char *
libc_compile (struct re_pattern_buffer *b, const char *p, reg_syntax_t syntax)
{
  return compile_with ((compile_fn *) dlsym (RTLD_NEXT, "re_compile_pattern"), b, p, syntax);
}

static void
libc_regfree (regex_t *b)
{
  void (*real) (regex_t *) = (void (*) (regex_t *)) dlsym (RTLD_NEXT, "regfree");
  real (b);
}

/* Each pattern compiled twice (the second from the table) matches every
 * text as libc's compile does: same length, same groups. */
static void
t_same_matches (void)
{
  unsigned long long c0 = stat_of ("compiled"), r0 = stat_of ("reused");
  size_t np = sizeof patterns / sizeof patterns[0];

  for (size_t i = 0; i < np; i++)
    for (int round = 0; round < 2; round++) {
      struct re_pattern_buffer ours, want;
      CHECK (compile (&ours, patterns[i], AUG_SYNTAX) == NULL, "%s: no compile", patterns[i]);
      CHECK (libc_compile (&want, patterns[i], AUG_SYNTAX) == NULL, "%s: libc", patterns[i]);
      for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        struct re_registers a = { 0 }, b = { 0 };
        int la = re_match (&ours, texts[t], strlen (texts[t]), 0, &a);
        int lb = re_match (&want, texts[t], strlen (texts[t]), 0, &b);
        CHECK (la == lb, "/%s/ on '%s': %d, libc %d", patterns[i], texts[t], la, lb);
        for (unsigned k = 0; la >= 0 && k < a.num_regs && k <= ours.re_nsub; k++)
          CHECK (a.start[k] == b.start[k] && a.end[k] == b.end[k],
                 "/%s/ on '%s': group %u differs", patterns[i], texts[t], k);
        free (a.start); free (a.end); free (b.start); free (b.end);
      }
      regfree (&ours);
      libc_regfree (&want);
    }
  CHECK (stat_of ("compiled") - c0 == np, "compiled %llu, want %zu",
         stat_of ("compiled") - c0, np);
  CHECK (stat_of ("reused") - r0 == np, "reused %llu, want %zu", stat_of ("reused") - r0, np);
}

/* The syntax bits are part of the key: case-insensitive is another entry. */
static void
t_syntax_key (void)
{
  struct re_pattern_buffer plain, nocase;
  unsigned long long c0 = stat_of ("compiled");

  CHECK (compile (&plain, "port[0-9]+", AUG_SYNTAX) == NULL, "plain");
  CHECK (compile (&nocase, "port[0-9]+", AUG_SYNTAX | RE_ICASE) == NULL, "nocase");
  CHECK (stat_of ("compiled") - c0 == 2, "one entry for two syntaxes");
  CHECK (re_match (&plain, "PORT22", 6, 0, NULL) == -1, "plain matched PORT22");
  CHECK (re_match (&nocase, "PORT22", 6, 0, NULL) == 6, "nocase did not match PORT22");
  regfree (&plain);
  regfree (&nocase);
}

/* A pattern that does not compile gets libc's message and no entry. */
static void
t_error_passed (void)
{
  struct re_pattern_buffer b, w;
  unsigned long long k0 = stat_of ("kept");
  const char *e = compile (&b, "(unclosed", AUG_SYNTAX);
  const char *we = libc_compile (&w, "(unclosed", AUG_SYNTAX);

  CHECK (e && we && strcmp (e, we) == 0, "error '%s', libc '%s'", e ? e : "-", we ? we : "-");
  CHECK (stat_of ("kept") == k0, "an error was kept");
  regfree (&b);
  libc_regfree (&w);
}

/* A buffer with a fastmap is compiled by libc into that buffer. */
static void
t_fastmap_passed (void)
{
  struct re_pattern_buffer b;
  unsigned long long c0 = stat_of ("compiled"), r0 = stat_of ("reused");

  memset (&b, 0, sizeof b);
  b.fastmap = malloc (256);
  CHECK (b.fastmap, "malloc");
  re_syntax_options = AUG_SYNTAX;
  CHECK (re_compile_pattern ("[A-Za-z][A-Za-z0-9]*", 20, &b) == NULL, "compile");
  CHECK (stat_of ("compiled") == c0 && stat_of ("reused") == r0, "a fastmap buffer was cached");
  CHECK (re_search (&b, "  abc", 5, 0, 5, NULL) == 2, "search with the fastmap");
  regfree (&b);                       /* libc's: frees the fastmap too */
}

/* Holders share an automaton: freeing one, or compiling another pattern
 * into a held buffer, leaves the others matching. */
static void
t_holders (void)
{
  struct re_pattern_buffer a, b;

  CHECK (compile (&a, "(Port|ListenAddress|PermitRootLogin)", AUG_SYNTAX) == NULL, "a");
  CHECK (compile (&b, "(Port|ListenAddress|PermitRootLogin)", AUG_SYNTAX) == NULL, "b");
  CHECK (a.buffer == b.buffer, "the second compile did not share");
  regfree (&a);
  CHECK (re_match (&b, "Port", 4, 0, NULL) == 4, "b after a was freed");
  re_syntax_options = AUG_SYNTAX;
  CHECK (re_compile_pattern ("[0-9]+", 6, &b) == NULL, "recompile into b");
  CHECK (re_match (&b, "123x", 4, 0, NULL) == 3, "b's new pattern");
  CHECK (compile (&a, "(Port|ListenAddress|PermitRootLogin)", AUG_SYNTAX) == NULL, "a again");
  CHECK (re_match (&a, "ListenAddress", 13, 0, NULL) == 13, "the shared one was overwritten");
  regfree (&a);
  regfree (&b);
}

int
main (void)
{
  th_run ("regex-cache-same-matches", t_same_matches);
  th_run ("regex-cache-syntax-key", t_syntax_key);
  th_run ("regex-cache-error-passed", t_error_passed);
  th_run ("regex-cache-fastmap-passed", t_fastmap_passed);
  th_run ("regex-cache-holders", t_holders);
  return th_done ();
}
