/* tests/fuzz/replay.c: run a fuzz target over files without libFuzzer.
 *
 * Linked with one target (fuzz-*.c) and built with the ordinary compiler
 * and flags (so under SANITIZE too), it is the regression test of that
 * target's committed corpus: `make check' runs it with no arguments,
 * which replays tests/fuzz/corpus/TARGET/ (FUZZ_CORPUS).  With arguments
 * it replays those files or directories, to reproduce a crash.
 * Prints one PASS line per corpus; a crash or a sanitizer report ends
 * the program, which the test runner counts as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf = NULL;
  long n;

  if (f == NULL || fseek (f, 0, SEEK_END) == -1 || (n = ftell (f)) < 0 ||
      fseek (f, 0, SEEK_SET) == -1) {
    perror (path);
    if (f) fclose (f);
    return -1;
  }
  /* An exact-size copy, so that a read past the end is caught. */
  buf = malloc (n ? (size_t) n : 1);
  if (buf == NULL || fread (buf, 1, (size_t) n, f) != (size_t) n) {
    perror (path);
    fclose (f);
    free (buf);
    return -1;
  }
  fclose (f);
  LLVMFuzzerTestOneInput (buf, (size_t) n);
  free (buf);
  return 0;
}

static int
cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every file of a directory, in name order; the count, -1 on error. */
static int
replay_dir (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0;
  int done = 0;

  if (d == NULL) {
    perror (dir);
    return -1;
  }
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    names = realloc (names, (n + 1) * sizeof *names);
    if (names == NULL || asprintf (&names[n], "%s/%s", dir, e->d_name) == -1)
      abort ();
    n++;
  }
  closedir (d);
  qsort (names, n, sizeof *names, cmp);
  for (size_t i = 0; i < n; i++) {
    if (replay_file (names[i]) == 0)
      done++;
    else
      done = -1000000;
    free (names[i]);
  }
  free (names);
  return done < 0 ? -1 : done;
}

static int
replay (const char *path)
{
  struct stat st;

  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    return replay_dir (path);
  return replay_file (path) == 0 ? 1 : -1;
}

int
main (int argc, char *argv[])
{
  const char *name = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  int failed = 0;

  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize (&argc, &argv);
  if (argc == 1) {
    int n = replay (FUZZ_CORPUS);
    if (n <= 0) {
      printf ("FAIL: %s: no corpus replayed from %s\n", name, FUZZ_CORPUS);
      return 1;
    }
    printf ("PASS: %s (%d inputs from %s)\n", name, n, FUZZ_CORPUS);
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    int n = replay (argv[i]);
    if (n < 0)
      failed = 1;
    fprintf (stderr, "%s: %s: %d inputs replayed\n", name, argv[i], n);
  }
  return failed;
}
