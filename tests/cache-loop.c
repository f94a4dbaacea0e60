/* tests/cache-loop.c: launch handles one after the other, for
 * tests/launch-cache.sh (many trees and versions sharing one cache).
 *
 *   cache-loop N IMAGE [MARKER]
 *
 * Each round: create a handle, add IMAGE read-only, launch, list the
 * devices (one call through the appliance), close.  After the first
 * round that succeeds, MARKER is created (the test waits for it).
 * Prints "cache-loop: N ok, M failed" and each failure's error on
 * stderr; exit 0 only when every round succeeded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guestfs.h"

static int
one_round (const char *image)
{
  guestfs_h *g = guestfs_create ();
  char **devs;
  int ok = 0;

  if (g == NULL)
    return 0;
  guestfs_set_error_handler (g, NULL, NULL);
  if (guestfs_add_drive_ro (g, image) == 0 && guestfs_launch (g) == 0 &&
      (devs = guestfs_list_devices (g)) != NULL) {
    ok = devs[0] != NULL;
    for (size_t i = 0; devs[i]; i++)
      free (devs[i]);
    free (devs);
  }
  if (!ok)
    fprintf (stderr, "cache-loop: %s\n",
             guestfs_last_error (g) ? guestfs_last_error (g) : "no devices");
  guestfs_close (g);
  return ok;
}

int
main (int argc, char **argv)
{
  int n = argc >= 3 ? atoi (argv[1]) : 0, good = 0, bad = 0;

  if (n <= 0) {
    fprintf (stderr, "usage: cache-loop N IMAGE [MARKER]\n");
    return 2;
  }
  for (int i = 0; i < n; i++) {
    if (one_round (argv[2]))
      good++;
    else
      bad++;
    if (good == 1 && argc > 3)
      close (open (argv[3], O_WRONLY | O_CREAT, 0644));
  }
  printf ("cache-loop: %d ok, %d failed\n", good, bad);
  return bad ? 1 : 0;
}
