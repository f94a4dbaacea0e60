/* tests/fuzz/fuzz-inspect.c: fuzz the text parsers of guest package
 * databases that inspection uses: the dpkg status parser that guestd
 * runs for dpkg_packages (guestd/dpkg.c, compiled into this file with
 * guestd/utils.c, static functions included), and the apk installed and
 * pacman desc parsers and the ELF header reader that still run in the
 * library's process (core/inspect-*.c).  (Registry hives and rpm
 * databases: tests/fuzz/fuzz-guestdb.c.)
 *
 * Input: one selector byte (mod 4: dpkg, apk, pacman, ELF; for dpkg the
 * byte's upper bits pick the START of the walk, 0..63, and bit 2 a name
 * filter, so that paging and filtering are fuzzed too), then the guest
 * file's bytes: for dpkg as guestd reads them (any bytes, NULs
 * included), for apk and pacman NUL-terminated as inspection does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

#include "../../guestd/utils.c"
#include "../../guestd/dpkg.c"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* ---- stubs for what the rest of guestd provides ---- */

void
reply_with_error (const char *fmt, ...)
{
}

void
reply_with_perror (const char *fmt, ...)
{
}

int
gd_open_regular_max (const char *path, int64_t max, size_t *size_r)
{
  errno = ENOENT;
  return -1;
}

/* guestd's parser, as do_dpkg_packages runs it on the file's text. */
static void
parse_dpkg (int sel, const uint8_t *data, size_t size)
{
  static char *names[] = { "a", "bash", "libc6", "x" };
  struct dpkg_out o = { .start = sel >> 3 };
  char *text = malloc (size + 1);

  if (text == NULL)
    abort ();
  memcpy (text, data, size);
  text[size] = '\0';
  if (sel & 4) {
    o.names = names;
    o.nnames = sizeof names / sizeof names[0];
  }
  dpkg_rows (&o, text, size);
  if (o.l.n % GD_DPKG_ROW != 0)
    abort ();                   /* rows always whole */
  for (size_t i = 0; i < o.l.n; i += GD_DPKG_ROW)
    if (strchr ("PWN", o.l.v[i][0]) == NULL || o.l.v[i][1] != '\0')
      abort ();                 /* every row says what it is */
  gd_strlist_free (&o.l);
  seen_free (o.seen);
  free (text);
}

static void
parse_text (int which, const uint8_t *data, size_t size)
{
  static void (*const parsers[]) (struct gk_apps *, char *) = {
    NULL, gk_inspect_parse_apk, gk_inspect_parse_pacman,
  };
  struct gk_apps a = { 0 };
  struct guestfs_application_list *l;
  char *text = malloc (size + 1);

  if (text == NULL)
    abort ();
  memcpy (text, data, size);
  text[size] = '\0';
  parsers[which] (&a, text);
  free (text);
  if ((l = malloc (sizeof *l)) == NULL)
    abort ();
  l->len = (uint32_t) a.n;
  l->val = a.v;
  guestfs_free_application_list (l);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int which;

  if (size < 1)
    return 0;
  which = data[0] % 4;
  if (which == 0)
    parse_dpkg (data[0], data + 1, size - 1);
  else if (which < 3)
    parse_text (which, data + 1, size - 1);
  else
    free (gk_inspect_elf_arch (data + 1, size - 1));
  return 0;
}
