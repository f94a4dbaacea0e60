/* tests/manual-example.c: the program from the 2009 manual's HANDLES
 * section, in the shape its readers would write it (with the error checks
 * the manual asks for).  It uses nothing but <guestfs.h> and the library.
 *
 * usage: manual-example IMAGE
 * IMAGE must hold a filesystem on its first partition (/dev/sda1).
 */
#include <stdio.h>
#include <stdlib.h>

#include <guestfs.h>

static void
print_list (const char *what, char **l)
{
  printf ("%s:", what);
  for (size_t i = 0; l[i]; i++) {
    printf (" %s", l[i]);
    free (l[i]);
  }
  printf ("\n");
  free (l);
}

int
main (int argc, char *argv[])
{
  guestfs_h *handle;
  char **partitions, **logvols;

  if (argc != 2) {
    fprintf (stderr, "usage: %s IMAGE\n", argv[0]);
    return 2;
  }
  handle = guestfs_create ();
  if (handle == NULL)
    return 1;
  if (guestfs_add_drive (handle, argv[1]) == -1 ||
      guestfs_launch (handle) == -1)
    goto fail;

  /* What is on the disk? */
  partitions = guestfs_list_partitions (handle);
  if (partitions == NULL)
    goto fail;
  print_list ("partitions", partitions);
  logvols = guestfs_lvs (handle);
  if (logvols == NULL)
    goto fail;
  print_list ("logical volumes", logvols);

  /* Change the filesystem. */
  if (guestfs_mount (handle, "/dev/sda1", "/") == -1 ||
      guestfs_touch (handle, "/hello") == -1 ||
      guestfs_sync (handle) == -1)
    goto fail;
  printf ("touched /hello\n");

  guestfs_close (handle);
  return 0;
 fail:
  /* the default error handler has printed the message */
  guestfs_close (handle);
  return 1;
}
