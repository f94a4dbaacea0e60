/* runner/build.c: what a build job does on the host around its steps.
 *
 *   before launch: the image under a temp name beside its output (empty,
 *                  or a copy of `base: {image: ...}' grown to build.size)
 *   after close:   the output written from it (raw or qcow2, compressed
 *                  if asked; zero clusters dropped), its sha256, then the
 *                  boot check (`verify: boot'), and only then the rename
 *                  into place (exec.c)
 *
 * Host programs (qemu-img) run through rn_run_command, the runner's one
 * way to run a command and collect its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define OUTPUT_MAX (1u << 20)      /* a command's output kept, at most */

extern char **environ;

pid_t
rn_spawn_piped (char *const *argv, int *fd, char **err)
{
  posix_spawn_file_actions_t fa;
  int p[2];
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) == -1) {
    *err = rn_asprintf ("pipe: %s", strerror (errno));
    return -1;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 2);
  errno = posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (errno) {
    *err = rn_asprintf ("%s: %s", argv[0], strerror (errno));
    close (p[0]);
    return -1;
  }
  *fd = p[0];
  return pid;
}

int
rn_run_command_output (char *const *argv, char **out, char **err)
{
  struct rn_buf b = { 0 };
  int fd, status;
  pid_t pid;
  char chunk[4096];
  ssize_t n;

  if ((pid = rn_spawn_piped (argv, &fd, err)) == -1)
    return -1;
  while ((n = read (fd, chunk, sizeof chunk)) > 0 || (n == -1 && errno == EINTR))
    if (n > 0 && b.len < OUTPUT_MAX)
      rn_buf_add (&b, chunk, (size_t) n);
  close (fd);
  rn_buf_addc (&b, '\0');
  b.len--;
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    if (out)
      *out = rn_buf_take (&b);
    rn_buf_free (&b);
    return 0;
  }
  while (b.len > 0 && b.s[b.len - 1] == '\n')
    b.s[--b.len] = '\0';
  *err = rn_asprintf ("%s failed: %s", argv[0], b.len ? b.s : "no message");
  rn_buf_free (&b);
  return -1;
}

int
rn_run_command (char *const *argv, char **err)
{
  return rn_run_command_output (argv, NULL, err);
}
