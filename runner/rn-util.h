/* runner/rn-util.h: the runner's base: memory, strings, lists, paths
 * and time (util.c); validation errors (errors.c); YAML as a node tree
 * (yaml.c); templates (template.c); main.c's process-wide names.  It
 * depends on nothing else of runner/.
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_UTIL_H
#define RN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RN_EXIT_OK      0   /* every task ended ok */
#define RN_EXIT_FAILED  1   /* some task failed, timed out or was interrupted */
#define RN_EXIT_USAGE   2   /* invalid job file or arguments */

/* ---- util.c: memory, strings, lists, paths, time ---- */

/* Allocation never fails: out of memory ends the process. */
void *rn_malloc (size_t n);
void *rn_calloc (size_t n, size_t size);
void *rn_realloc (void *p, size_t n);
char *rn_strdup (const char *s);
char *rn_strndup (const char *s, size_t n);
char *rn_asprintf (const char *fmt, ...) __attribute__((format (printf, 1, 2)));

/* A growable string; s is always NUL-terminated once anything was added. */
struct rn_buf {
  char *s;
  size_t len, cap;
};
void rn_buf_add (struct rn_buf *b, const char *p, size_t n);
void rn_buf_adds (struct rn_buf *b, const char *s);
void rn_buf_addc (struct rn_buf *b, char c);
void rn_buf_addf (struct rn_buf *b, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
char *rn_buf_take (struct rn_buf *b);     /* caller frees; b is emptied */
void rn_buf_free (struct rn_buf *b);

/* A NULL-terminated list of malloc'd strings. */
struct rn_strv {
  char **v;
  size_t n;
};
void rn_strv_add (struct rn_strv *l, char *s);   /* takes s */
void rn_strv_free (struct rn_strv *l);

/* rel if absolute, else dir/rel; caller frees. */
char *rn_path_join (const char *dir, const char *rel);
/* The directory part of path ("." if none); caller frees. */
char *rn_dirname (const char *path);
/* The last component of path; points into path. */
const char *rn_basename (const char *path);

double rn_now (void);                      /* monotonic seconds */
/* UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf[32]. */
void rn_utc (char *buf);
/* Read a whole regular file of at most max bytes; NULL and *err set. */
char *rn_read_file (const char *path, size_t max, size_t *len, char **err);
/* Edit distance capped at 3 (for "did you mean" hints). */
int rn_distance (const char *a, const char *b);
/* Parse an integer in YAML style: decimal, 0x hex, 0o or 0 octal, with
 * sign; 0 on success. */
int rn_parse_int (const char *s, int64_t *v);
/* Is s a YAML 1.1 boolean?  -1 if not, else its value. */
int rn_parse_bool (const char *s);
/* A size: bytes, or with K M G T suffix (powers of 1024); 0 on success. */
int rn_parse_size (const char *s, uint64_t *v);
/* Seconds: a number, or with s m h suffix; 0 on success. */
int rn_parse_duration (const char *s, int64_t *v);
/* "1m02s", "3.1s" into buf[32]. */
void rn_fmt_secs (char *buf, double secs);
/* An option's number (a duration for --timeout) in min..max into *out;
 * -1 after printing "OPT: expected a number from MIN to MAX". */
int rn_int_arg (const char *opt, const char *s, int min, int max, int *out);

/* ---- errors.c: the list of validation errors ---- */

struct rn_errent {
  char *file;                /* or NULL: not about a file (command line) */
  int line, col;             /* 0: no position */
  char *msg;
  size_t order;              /* order found, to keep sorting stable */
};

struct rn_errs {
  struct rn_errent *v;
  size_t n;
};
/* Add "file:line:col: message" (positions omitted when 0). */
void rn_err (struct rn_errs *e, const char *file, int line, int col,
             const char *fmt, ...) __attribute__((format (printf, 5, 6)));
/* Print them on stderr, sorted by file, line and column; duplicates once. */
void rn_errs_print (struct rn_errs *e);
void rn_errs_free (struct rn_errs *e);

/* ---- yaml.c: a YAML file as a tree of nodes with positions ---- */

enum rn_ykind { RN_Y_SCALAR, RN_Y_SEQ, RN_Y_MAP };

struct rn_node {
  enum rn_ykind kind;
  int line, col;             /* 1-based position in the file */
  char *str;                 /* scalar: its text (NUL-terminated) */
  size_t len;                /* scalar: its length (may hold NULs) */
  int plain;                 /* scalar was unquoted: null/bool/int apply */
  struct rn_node **kids;     /* seq: items; map: key, value, key, value... */
  size_t nkids;
  size_t weight;             /* nodes in this subtree, aliases expanded */
};

/* Limits on what a job file may hold. */
#define RN_YAML_MAX_BYTES  (4u << 20)   /* file size */
#define RN_YAML_MAX_DEPTH  64           /* nesting */
#define RN_YAML_MAX_NODES  100000       /* nodes, aliases expanded */

struct rn_doc {
  const char *file;          /* for messages; not owned */
  struct rn_node *root;      /* NULL for an empty file */
  void *arena;               /* every node and string, freed at once */
};

/* Parse text; 0, or -1 with the errors added to e. */
int rn_yaml_parse (struct rn_doc *d, const char *file, const char *text,
                   size_t len, struct rn_errs *e);
void rn_yaml_free (struct rn_doc *d);
/* A plain scalar meaning null (empty, ~, null)? */
int rn_node_is_null (const struct rn_node *n);
/* What a node is, for "expected X, got Y" messages. */
const char *rn_node_what (const struct rn_node *n);

/* ---- template.c: {{name}} in strings ---- */

/* Look a variable up; NULL if undefined.  The result stays valid until
 * the expansion returns. */
typedef const char *(*rn_lookup_fn) (void *ctx, const char *name);

/* Does s contain a template? */
int rn_tmpl_has (const char *s);
/* Check every {{name}} in s against lookup (NULL value = undefined),
 * adding one error per bad reference at the node's position. */
void rn_tmpl_check (const char *s, const char *file, int line, int col,
                    rn_lookup_fn lookup, void *ctx, struct rn_errs *e);
/* Expand s; NULL and *err set (caller frees) if a name is undefined. */
char *rn_tmpl_expand (const char *s, rn_lookup_fn lookup, void *ctx, char **err);
/* Is name a valid variable name? */
int rn_var_name_ok (const char *name);

/* ---- main.c ---- */

extern const char *rn_progname;
extern mode_t rn_umask;            /* the process's umask, read at start */

#endif /* RN_UTIL_H */
