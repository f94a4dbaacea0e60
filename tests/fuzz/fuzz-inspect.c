/* tests/fuzz/fuzz-inspect.c: fuzz the parsers of guest data that still
 * run in the library's process during inspection (core/inspect-*.c):
 * the dpkg status, apk installed and pacman desc text parsers and the ELF
 * header reader.  (Registry hives and rpm databases are decoded in the
 * appliance: tests/fuzz/fuzz-guestdb.c fuzzes those.)
 *
 * Input: one selector byte (mod 4: dpkg, apk, pacman, ELF), then the
 * guest file's bytes, handed over NUL-terminated as inspection does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
parse_text (int which, const uint8_t *data, size_t size)
{
  static void (*const parsers[]) (struct gk_apps *, char *) = {
    gk_inspect_parse_dpkg, gk_inspect_parse_apk, gk_inspect_parse_pacman,
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
  if (which < 3)
    parse_text (which, data + 1, size - 1);
  else
    free (gk_inspect_elf_arch (data + 1, size - 1));
  return 0;
}
