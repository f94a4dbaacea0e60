/* guestd command calls: run the guest's own programs (command, sh and
 * their _lines forms) chrooted into the sysroot, plus the appliance-side
 * debugging calls (debug, dmesg, drop_caches, sleep).
 *
 * Guest programs run through command.c's GD_ROOT_GUEST: a private mount
 * namespace with /dev, /proc and /sys bound into the guest tree, then a
 * chroot, with a fixed environment.  Their stdout is the result (at most
 * one protocol message); a non-zero exit is an error quoting stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guestd.h"

/* Room for the reply header and the string's length word. */
#define RESULT_MAX (GK_MESSAGE_MAX - 64)

static char *
run_in_guest (const char *const *argv)
{
  struct gd_cmd c = GD_CMD_INIT (argv);
  char *out = NULL;
  size_t outlen;

  if (!gd_sysroot_mounted ()) {
    reply_with_error ("no guest filesystem is mounted on /");
    return NULL;
  }
  c.root = GD_ROOT_GUEST;
  if (gd_cmd_run_or_reply (&c, &out, &outlen) == -1)
    return NULL;
  if (outlen > RESULT_MAX) {
    reply_with_error ("%s: output of %zu bytes is too large for the "
                      "protocol (at most %u)", argv[0], outlen, RESULT_MAX);
    free (out);
    return NULL;
  }
  return out;
}

static int
check_arguments (char *const *arguments)
{
  if (arguments == NULL || arguments[0] == NULL) {
    reply_with_error ("arguments: the list must name a program to run");
    return -1;
  }
  if (arguments[0][0] == '\0') {
    reply_with_error ("arguments: the program name is empty");
    return -1;
  }
  return 0;
}

char *
do_command (char *const *arguments)
{
  if (check_arguments (arguments) == -1)
    return NULL;
  return run_in_guest ((const char *const *) arguments);
}

static char **
lines_of (char *out)
{
  char **r;

  if (out == NULL)
    return NULL;
  r = gd_split_lines (out, strlen (out));
  free (out);
  if (r == NULL)
    reply_with_perror ("splitting the output");
  return r;
}

char **
do_command_lines (char *const *arguments)
{
  return lines_of (do_command (arguments));
}

char *
do_sh (const char *command)
{
  const char *argv[] = { "/bin/sh", "-c", command, NULL };

  if (*command == '\0') {
    reply_with_error ("command: must not be empty");
    return NULL;
  }
  return run_in_guest (argv);
}

char **
do_sh_lines (const char *command)
{
  return lines_of (do_sh (command));
}

char *
do_dmesg (void)
{
  const char *argv[] = { "dmesg", NULL };
  char *out = NULL;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return out;
}

int
do_drop_caches (int whattodrop)
{
  char v[16];
  int fd, n;

  if (whattodrop < 1 || whattodrop > 3) {
    reply_with_error ("whattodrop %d: must be 1 (page cache), 2 (dentries "
                      "and inodes) or 3 (both)", whattodrop);
    return -1;
  }
  sync ();
  n = snprintf (v, sizeof v, "%d\n", whattodrop);
  fd = open ("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd == -1 || write (fd, v, (size_t) n) != n) {
    reply_with_perror ("/proc/sys/vm/drop_caches");
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

int
do_sleep (int secs)
{
  if (secs < 0) {
    reply_with_error ("secs %d: must not be negative", secs);
    return -1;
  }
  for (unsigned left = (unsigned) secs; left > 0; )
    left = sleep (left);
  return 0;
}

/* debug subcommands: appliance-side views for a developer. */
static char *
debug_env (char *const *args)
{
  extern char **environ;
  char *r = strdup (""), *nr;

  for (size_t i = 0; r && environ[i]; i++) {
    if (gd_mkstr (&nr, "%s%s\n", r, environ[i]) == -1)
      nr = NULL;
    free (r);
    r = nr;
  }
  return r;
}

static char *
debug_ls (char *const *args, int longform)
{
  const char *argv[32];
  size_t n = 0;
  char *out = NULL;

  argv[n++] = "ls";
  argv[n++] = longform ? "-la" : "-a";
  argv[n++] = "--";
  for (size_t i = 0; args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return out;
}

static char *
debug_fds (char *const *args)
{
  const char *argv[] = { "ls", "-l", "/proc/self/fd", NULL };
  char *out = NULL;

  if (gd_run_or_reply (&out, -1, argv) == -1)
    return NULL;
  return out;
}

static char *
debug_help (char *const *args)
{
  return strdup ("debug subcommands: help, env, ls PATH..., ll PATH..., "
                 "fds, mountinfo, regex\n");
}

static char *
debug_mountinfo (char *const *args)
{
  return gd_read_small_file ("/proc/self/mountinfo");
}

char *
do_debug (const char *subcmd, char *const *extraargs)
{
  static char *const none[] = { NULL };
  char *r;

  if (extraargs == NULL)
    extraargs = none;
  if (strcmp (subcmd, "help") == 0)
    r = debug_help (extraargs);
  else if (strcmp (subcmd, "env") == 0)
    r = debug_env (extraargs);
  else if (strcmp (subcmd, "ls") == 0)
    return debug_ls (extraargs, 0);
  else if (strcmp (subcmd, "ll") == 0)
    return debug_ls (extraargs, 1);
  else if (strcmp (subcmd, "fds") == 0)
    return debug_fds (extraargs);
  else if (strcmp (subcmd, "mountinfo") == 0)
    r = debug_mountinfo (extraargs);
  else if (strcmp (subcmd, "regex") == 0)
    r = gd_rx_stats ();
  else {
    reply_with_error ("subcmd %s: not supported (try \"help\")", subcmd);
    return NULL;
  }
  if (r == NULL)
    reply_with_perror ("debug %s", subcmd);
  return r;
}
