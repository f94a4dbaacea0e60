/* tests/fuzz/fuzz-guestdb.c: fuzz the decoders of binary guest data that
 * guestd runs for inspection, in process and without a VM: the rpm
 * database reader (SQLite rpmdb and the Berkeley DB hash walker, then
 * each rpm header) and the registry hive calls (libhivex, key lookup,
 * values, subkeys with named values).
 *
 * guestd/inspect-rpm.c, inspect-hive.c and utils.c are compiled into this
 * file (included below), so the code under test is guestd's own, static
 * functions included.  What would open a guest path is replaced by the
 * fuzz input in a memory file (memfd), reached as /proc/self/fd/N as
 * guestd reaches a guest file.
 *
 * Input: one selector byte, then the file.  Selector bit 0: 0 rpm
 * database, 1 registry hive; the other bits pick the START of the rpm
 * walk (0..127), so that paging is fuzzed too.
 */
#include <sys/mman.h>

#include "../../guestd/utils.c"
#include "../../guestd/inspect-rpm.c"
#include "../../guestd/inspect-hive.c"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* ---- stubs for what the rest of guestd provides ---- */

static size_t errors;

void
reply_with_error (const char *fmt, ...)
{
  errors++;
}

void
reply_with_perror (const char *fmt, ...)
{
  errors++;
}

void
gd_fd_path (char *buf, size_t size, int fd)
{
  snprintf (buf, size, "/proc/self/fd/%d", fd);
}

int
gd_open_regular_max (const char *path, int64_t max, size_t *size_r)
{
  errno = ENOENT;
  return -1;
}

/* Every string of a NULL-terminated list is readable; then free it. */
static void
consume (char **v)
{
  size_t sum = 0;

  for (size_t i = 0; v && v[i]; i++)
    sum += strlen (v[i]);
  gk_free_strings (v);
  (void) sum;
}

static void
fuzz_rpm (int fd, size_t size, int start)
{
  struct rpm_out o = { .start = start };

  rpm_packages (&o, fd, size);
  if (o.l.n % GD_RPM_ROW != 0)
    abort ();                   /* rows always whole */
  gd_strlist_free (&o.l);
}

static void
fuzz_hive (int fd)
{
  static char *const names[] = { "DisplayName", "", "Current", NULL };
  static const char *const keys[] = {
    "", "Select", "Microsoft\\Windows NT\\CurrentVersion", "a\\b\\c\\d", NULL,
  };
  char proc[64];
  hive_h *h;

  gd_fd_path (proc, sizeof proc, fd);
  if ((h = hivex_open (proc, 0)) == NULL)
    return;
  for (size_t i = 0; keys[i]; i++) {
    hive_node_h node = find_key (h, keys[i]), *kids;
    struct gd_strlist l = { 0 };
    size_t bytes = 0;

    if (node == 0)
      continue;
    consume (values_of (h, node));
    if ((kids = hivex_node_children (h, node)) == NULL)
      continue;
    for (size_t k = 0; kids[k] && k < 64 && bytes < REPLY_BUDGET; k++)
      if (add_subkey_row (&l, h, kids[k], names, &bytes) == -1)
        break;
    gd_strlist_free (&l);
    free (kids);
  }
  hivex_close (h);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd;

  if (size < 1)
    return 0;
  if ((fd = memfd_create ("fuzz-guestdb", MFD_CLOEXEC)) == -1)
    abort ();
  if (size > 1 && write (fd, data + 1, size - 1) != (ssize_t) (size - 1))
    abort ();
  if (data[0] & 1)
    fuzz_hive (fd);
  else
    fuzz_rpm (fd, size - 1, data[0] >> 1);
  close (fd);
  return 0;
}
