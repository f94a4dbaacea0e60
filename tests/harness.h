/* tests/harness.h: a tiny test harness shared by the C tests.
 *
 * A test program runs many checks and prints one line per check:
 *   PASS: name        FAIL: name: why        SKIP: name: why
 * tests/run-tests.sh counts these lines over all programs.  CHECK fails
 * the current check and returns from the check function.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestfs.h"

extern int th_failed;            /* checks failed so far */
extern const char *th_name;      /* the check being run */

#define CHECK(cond, ...)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      printf ("FAIL: %s: %s:%d: ", th_name, __FILE__, __LINE__);        \
      printf (__VA_ARGS__);                                             \
      putchar ('\n');                                                   \
      fflush (stdout);                                                  \
      th_failed++;                                                      \
      return;                                                           \
    }                                                                   \
  } while (0)

/* The last error must contain `needle'. */
#define CHECK_ERR(g, needle)                                            \
  CHECK (guestfs_last_error (g) && strstr (guestfs_last_error (g), needle), \
         "error '%s' does not contain '%s'",                            \
         guestfs_last_error (g) ? guestfs_last_error (g) : "(none)", needle)

typedef void (*th_fn) (void);
void th_run (const char *name, th_fn fn);
void th_skip (const char *name, const char *why);
int th_done (void);

/* Quiet the default handler: tests check guestfs_last_error instead. */
void th_quiet (guestfs_h *g);

/* Make a sparse scratch image of `mb' MiB under tests/out; returns a
 * malloc'd path. */
char *th_scratch (const char *name, int mb);

/* Launch a handle on the given images (NULL-terminated); NULL + FAIL line
 * if that fails. */
guestfs_h *th_launch (const char *const *images, int readonly);

/* Upload n bytes to the guest file path (write_file cannot carry NUL
 * bytes), through a temporary local file.  0 or -1. */
int th_upload_bytes (guestfs_h *g, const char *path, const void *data, size_t n);

/* Run a shell command made printf-style; system()'s status. */
int th_system (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Is s in the NULL-terminated list l (l may be NULL)? */
int th_has (char *const *l, const char *s);
/* Entries of /proc/self/fd: this process's open descriptors (plus the
 * one reading them). */
int th_count_fds (void);

/* Length of a NULL-terminated list (0 for NULL). */
size_t th_count (char *const *l);

/* Count a NULL-terminated string list and free it. */
size_t th_count_free (char **l);

/* The number after NAME on a "NAME NUMBER" line of text (which may be
 * NULL); ~0 if there is none. */
unsigned long long th_line_value (const char *text, const char *name);

#endif
