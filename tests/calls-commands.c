/* tests/calls-commands.c: command, command_lines, sh, sh_lines (guest
 * programs, chrooted into the guest) and the appliance-side debug,
 * dmesg, drop_caches and sleep, against one real appliance.
 *
 * The scratch guest gets a shell to run: the host's dash as /bin/sh with
 * the C library it needs, uploaded into the guest tree.
 */
#include <time.h>

#include "harness.h"

static guestfs_h *g;

static const char *const guest_files[][2] = {
  { "/bin/dash", "/bin/sh" },
  { "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6" },
  { "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2" },
};

static void
t_setup (void)
{
  CHECK (guestfs_part_disk (g, "/dev/sda", "mbr") == 0, "part_disk: %s", guestfs_last_error (g));
  CHECK (guestfs_mkfs (g, "ext4", "/dev/sda1") == 0, "mkfs: %s", guestfs_last_error (g));
  CHECK (guestfs_mount (g, "/dev/sda1", "/") == 0, "mount: %s", guestfs_last_error (g));
  CHECK (guestfs_mkdir_p (g, "/lib/x86_64-linux-gnu") == 0 &&
         guestfs_mkdir (g, "/lib64") == 0 && guestfs_mkdir (g, "/bin") == 0 &&
         guestfs_mkdir (g, "/proc") == 0 && guestfs_mkdir (g, "/dev") == 0,
         "mkdir: %s", guestfs_last_error (g));
  for (size_t i = 0; i < sizeof guest_files / sizeof guest_files[0]; i++)
    CHECK (guestfs_upload (g, guest_files[i][0], guest_files[i][1]) == 0,
           "upload %s: %s", guest_files[i][0], guestfs_last_error (g));
  CHECK (guestfs_chmod (g, 0755, "/bin/sh") == 0 &&
         guestfs_chmod (g, 0755, "/lib64/ld-linux-x86-64.so.2") == 0,
         "chmod: %s", guestfs_last_error (g));
}

static void
t_command (void)
{
  char *a1[] = { "/bin/sh", "-c", "echo hello", NULL };
  char *a2[] = { "/bin/sh", "-c", "echo made > /made", NULL };
  char *a3[] = { "/bin/sh", "-c", "echo oops >&2; exit 3", NULL };
  char *a4[] = { "/no/such/program", NULL };
  char *a5[] = { "/bin/sh", "-c", "echo /*", NULL };
  char *empty[] = { NULL };
  char *s = guestfs_command (g, a1);

  CHECK (s && strcmp (s, "hello\n") == 0, "command gave '%s': %s", s ? s : "(null)",
         guestfs_last_error (g));
  free (s);
  s = guestfs_command (g, a2);
  CHECK (s && *s == '\0', "command a2: %s", guestfs_last_error (g));
  free (s);
  s = guestfs_cat (g, "/made");
  CHECK (s && strcmp (s, "made\n") == 0, "file written by the command: '%s'", s ? s : "(null)");
  free (s);
  /* chrooted: / is the guest's root. */
  s = guestfs_command (g, a5);
  CHECK (s && strstr (s, "/lost+found") && strstr (s, "/made") && !strstr (s, "sysroot"),
         "guest root seen as '%s'", s ? s : "(null)");
  free (s);
  CHECK (guestfs_command (g, a3) == NULL, "failing command succeeded");
  CHECK_ERR (g, "oops");
  CHECK (guestfs_command (g, a4) == NULL, "missing program ran");
  CHECK_ERR (g, "/no/such/program");
  CHECK (guestfs_command (g, empty) == NULL, "empty argument list accepted");
  CHECK_ERR (g, "arguments");
}

static void
t_command_lines (void)
{
  char *a1[] = { "/bin/sh", "-c", "echo a; echo; echo b", NULL };
  char *a2[] = { "/bin/sh", "-c", "exit 1", NULL };
  char **l = guestfs_command_lines (g, a1);

  CHECK (l && l[0] && strcmp (l[0], "a") == 0 && l[1] && *l[1] == '\0' &&
         l[2] && strcmp (l[2], "b") == 0 && l[3] == NULL, "command_lines: %s",
         guestfs_last_error (g));
  th_count_free (l);
  CHECK (guestfs_command_lines (g, a2) == NULL, "failing command_lines succeeded");
  CHECK_ERR (g, "command_lines");
}

static void
t_sh (void)
{
  char *s = guestfs_sh (g, "echo \"$PATH:$HOME\"; cd /; pwd");
  char **l;

  CHECK (s && strstr (s, "/usr/bin") && strstr (s, ":/root\n/\n"), "sh env: '%s' %s",
         s ? s : "(null)", guestfs_last_error (g));
  free (s);
  /* /proc is there for the command, and not left mounted afterwards. */
  s = guestfs_sh (g, "test -r /proc/self/status && echo yes");
  CHECK (s && strcmp (s, "yes\n") == 0, "/proc in the guest: '%s'", s ? s : "(null)");
  free (s);
  l = guestfs_ls (g, "/proc");
  CHECK (l && l[0] == NULL, "/proc left mounted in the guest tree");
  th_count_free (l);
  /* Guest programs run with address randomisation off (command.c). */
  s = guestfs_sh (g, "read p < /proc/self/personality; echo $p");
  CHECK (s && strcmp (s, "00040000\n") == 0, "personality of a guest program: '%s' (%s)",
         s ? s : "(null)", s ? "want 00040000, ADDR_NO_RANDOMIZE" : guestfs_last_error (g));
  free (s);
  CHECK (guestfs_sh (g, "echo bad >&2; false") == NULL, "failing sh succeeded");
  CHECK_ERR (g, "bad");
  CHECK (guestfs_sh (g, "") == NULL, "empty sh accepted");
  CHECK_ERR (g, "command");
}

static void
t_sh_lines (void)
{
  char **l = guestfs_sh_lines (g, "printf 'x\\ny\\n'");

  CHECK (l && th_has (l, "x") && th_has (l, "y") && l[2] == NULL, "sh_lines: %s",
         guestfs_last_error (g));
  th_count_free (l);
  CHECK (guestfs_sh_lines (g, "exit 7") == NULL, "failing sh_lines succeeded");
  CHECK_ERR (g, "sh_lines");
}

static void
t_debug (void)
{
  char *none[] = { NULL }, *root[] = { "/", NULL };
  char *s = guestfs_debug (g, "env", none);

  CHECK (s && strstr (s, "PATH="), "debug env: '%s'", s ? s : "(null)");
  free (s);
  s = guestfs_debug (g, "ls", root);
  CHECK (s && strstr (s, "sysroot"), "debug ls /: '%s'", s ? s : "(null)");
  free (s);
  s = guestfs_debug (g, "help", none);
  CHECK (s && strstr (s, "env"), "debug help");
  free (s);
  CHECK (guestfs_debug (g, "no-such-subcommand", none) == NULL, "unknown subcmd accepted");
  CHECK_ERR (g, "not supported");
}

static void
t_dmesg (void)
{
  char *s = guestfs_dmesg (g);
  guestfs_h *g2;

  CHECK (s && strstr (s, "Linux"), "dmesg: %s", guestfs_last_error (g));
  free (s);
  g2 = guestfs_create ();
  th_quiet (g2);
  CHECK (guestfs_dmesg (g2) == NULL, "dmesg before launch succeeded");
  guestfs_close (g2);
}

static void
t_drop_caches (void)
{
  char *s;
  CHECK (guestfs_drop_caches (g, 3) == 0, "drop_caches: %s", guestfs_last_error (g));
  s = guestfs_cat (g, "/made");
  CHECK (s != NULL, "a file after drop_caches");
  free (s);
  CHECK (guestfs_drop_caches (g, 7) == -1, "drop_caches 7 accepted");
  CHECK_ERR (g, "whattodrop");
}

static void
t_sleep (void)
{
  time_t t0 = time (NULL);

  CHECK (guestfs_sleep (g, 1) == 0, "sleep: %s", guestfs_last_error (g));
  CHECK (time (NULL) - t0 >= 1, "sleep 1 returned early");
  CHECK (guestfs_sleep (g, -1) == -1, "sleep -1 accepted");
  CHECK_ERR (g, "secs");
}

int
main (void)
{
  char *disk = th_scratch ("calls-commands", 64);
  const char *imgs[] = { disk, NULL };

  for (size_t i = 0; i < sizeof guest_files / sizeof guest_files[0]; i++)
    if (access (guest_files[i][0], R_OK) == -1) {
      fprintf (stderr, "calls-commands: no %s on this host\n", guest_files[i][0]);
      unlink (disk);
      return 77;
    }
  th_name = "commands-launch";
  g = th_launch (imgs, 0);
  if (g == NULL)
    return th_done ();
  th_run ("commands-setup", t_setup);
  th_run ("commands-command", t_command);
  th_run ("commands-command-lines", t_command_lines);
  th_run ("commands-sh", t_sh);
  th_run ("commands-sh-lines", t_sh_lines);
  th_run ("commands-debug", t_debug);
  th_run ("commands-dmesg", t_dmesg);
  th_run ("commands-drop-caches", t_drop_caches);
  th_run ("commands-sleep", t_sleep);
  guestfs_close (g);
  unlink (disk);
  free (disk);
  return th_done ();
}
