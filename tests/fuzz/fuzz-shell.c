/* tests/fuzz/fuzz-shell.c: fuzz the command-line parser of `guestkit
 * shell' (runner/shell-parse.c): reading lines of a script and cutting
 * them into words (quotes, escapes, comments), as the shell does with
 * every line of a -f script or of its input.
 *
 * Input: the text of a script.  Every line must end in words or in an
 * error message, never in a crash or a leak; every word is a C string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* runner/main.c's globals (main.c itself is not linked: it has main). */
const char *rn_progname = "guestkit";
mode_t rn_umask = 022;

static volatile size_t sink;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  FILE *f = fmemopen ((void *) data, size, "r");
  struct rn_buf line = { NULL, 0, 0 };

  if (f == NULL)
    return 0;
  while (rn_sh_read_line (f, &line) != 0) {
    struct rn_strv words = { NULL, 0 };
    char *err = NULL;

    if (rn_sh_split (line.s, line.len, &words, &err) == -1)
      sink += strlen (err);
    for (size_t i = 0; i < words.n; i++)
      sink += strlen (words.v[i]);
    free (err);
    rn_strv_free (&words);
  }
  rn_buf_free (&line);
  fclose (f);
  return 0;
}
