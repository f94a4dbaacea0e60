/* tests/fuzz/fuzz-job.c: fuzz the runner's job loader: the YAML parser
 * (runner/yaml.c) and the validator (runner/job.c) behind `guestkit run'
 * and `guestkit validate', through rn_job_load as the runner calls it.
 *
 * Input: the text of a job file.  Its path is in a directory that does
 * not exist, so relative image patterns match nothing on the host.
 * Every load must end in a job or in errors, never in a crash, a leak or
 * an endless loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* runner/main.c's globals (main.c itself is not linked: it has main). */
const char *rn_progname = "guestkit";
mode_t rn_umask = 022;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rn_errs e = { NULL, 0 };
  struct rn_job *j;
  char *text = malloc (size + 1);

  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';
  j = rn_job_load ("/nonexistent-guestkit-fuzz/job.yaml", text, NULL, &e);
  if (j)
    rn_job_free (j);
  rn_errs_free (&e);
  free (text);
  return 0;
}
