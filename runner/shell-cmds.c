/* runner/shell-cmds.c: the shell's commands that are not calls.
 *
 *   edit FILE (vi, emacs)   download to a private temporary file, run
 *                           $EDITOR (default vi) on it, upload it back
 *                           only if it changed: through a new name in the
 *                           same guest directory, then a rename, so a
 *                           failed upload leaves the old file whole
 *   more FILE (less)        show a guest file with $PAGER (default more;
 *                           `less' runs less)
 *   glob CMD ARG...         expand guest wildcards in the arguments and
 *                           run CMD once for every combination of matches
 *                           (a pattern that matches nothing stays as it is)
 *
 * The host files live in a fresh 0700 directory under $TMPDIR and are
 * removed afterwards, whatever happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runner.h"

/* A private directory with one file in it. */
struct scratch {
  char *dir;
  char *file;
  char *copy;                /* edit: the file as downloaded */
};

static int
scratch_make (struct rn_shell *sh, const char *cmd, const char *guest, struct scratch *s)
{
  const char *tmp = getenv ("TMPDIR");
  const char *base = rn_basename (guest);

  s->dir = rn_asprintf ("%s/guestkit-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", cmd);
  s->file = s->copy = NULL;
  if (mkdtemp (s->dir) == NULL) {
    rn_sh_err (sh, "%s: cannot make a temporary directory: %s", cmd, strerror (errno));
    free (s->dir);
    return -1;
  }
  /* The guest's name, so the editor picks its mode from the suffix; a
   * name that is empty or a dot gets a plain one. */
  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    base = "file";
  s->file = rn_asprintf ("%s/%s", s->dir, base);
  s->copy = rn_asprintf ("%s/.orig", s->dir);
  return 0;
}

static void
scratch_remove (struct scratch *s)
{
  unlink (s->file);
  unlink (s->copy);
  rmdir (s->dir);
  free (s->file);
  free (s->copy);
  free (s->dir);
}

/* Run `PROG FILE' through /bin/sh, so that $EDITOR may carry options. */
static int
run_on_file (struct rn_shell *sh, const char *cmd, const char *prog, const char *file)
{
  pid_t pid;
  int st;

  fflush (stdout);
  if ((pid = fork ()) == -1) {
    rn_sh_err (sh, "%s: fork: %s", cmd, strerror (errno));
    return -1;
  }
  if (pid == 0) {
    execl ("/bin/sh", "sh", "-c", "exec $0 \"$1\"", prog, file, (char *) NULL);
    _exit (127);
  }
  while (waitpid (pid, &st, 0) == -1)
    if (errno != EINTR)
      return -1;
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0)
    return 0;
  rn_sh_err (sh, "%s: '%s' %s %d", cmd, prog,
             WIFSIGNALED (st) ? "was killed by signal" : "exited with status",
             WIFSIGNALED (st) ? WTERMSIG (st) : WEXITSTATUS (st));
  return -1;
}

/* Copy a host file; 0 or -1. */
static int
copy_file (const char *from, const char *to)
{
  char buf[65536];
  ssize_t n;
  int in = open (from, O_RDONLY | O_CLOEXEC), out, r = 0;

  if (in == -1)
    return -1;
  if ((out = open (to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
    close (in);
    return -1;
  }
  while ((n = read (in, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t) n) != n) {
      r = -1;
      break;
    }
  if (n < 0 || close (out) == -1)
    r = -1;
  close (in);
  return r;
}

/* Do two host files hold the same bytes?  1, 0, or -1 on error. */
static int
same_file (const char *a, const char *b)
{
  char ba[65536], bb[65536];
  FILE *fa = fopen (a, "re"), *fb = fopen (b, "re");
  int r = -1;

  if (fa && fb)
    for (;;) {
      size_t na = fread (ba, 1, sizeof ba, fa), nb = fread (bb, 1, sizeof bb, fb);
      if (na != nb || memcmp (ba, bb, na) != 0) {
        r = ferror (fa) || ferror (fb) ? -1 : 0;
        break;
      }
      if (na == 0) {
        r = ferror (fa) || ferror (fb) ? -1 : 1;
        break;
      }
    }
  if (fa)
    fclose (fa);
  if (fb)
    fclose (fb);
  return r;
}

static int
want_one_path (struct rn_shell *sh, const char *cmd, char **w, size_t n)
{
  if (n != 2) {
    rn_sh_err (sh, "%s: expected 1 argument, got %zu (usage: %s FILE)", cmd, n - 1, cmd);
    return -1;
  }
  if (w[1][0] != '/') {
    rn_sh_err (sh, "%s: %s: a guest path must be absolute", cmd, w[1]);
    return -1;
  }
  return rn_sh_need_appliance (sh);
}

/* Upload file to guest path through a new name beside it, keeping the
 * old file's mode and owner; the old file stays if anything fails. */
static int
upload_replace (struct rn_shell *sh, const char *file, const char *path)
{
  struct guestfs_stat *st = guestfs_stat (sh->g, path);
  char *dir = rn_dirname (path);
  char *tmp = NULL;
  int r = -1;

  if (st == NULL)
    goto out;
  for (int i = 0; i < 16 && tmp == NULL; i++) {
    tmp = rn_asprintf ("%s%s.guestkit-edit-%08lx", dir, strcmp (dir, "/") ? "/" : "",
                       (unsigned long) random ());
    if (guestfs_exists (sh->g, tmp) != 0) {
      free (tmp);
      tmp = NULL;
    }
  }
  if (tmp == NULL) {
    rn_sh_err (sh, "edit: %s: no free temporary name beside it", path);
    goto out;
  }
  if (guestfs_upload (sh->g, file, tmp) == -1 ||
      guestfs_chmod (sh->g, (int) (st->mode & 07777), tmp) == -1 ||
      guestfs_chown (sh->g, (int) st->uid, (int) st->gid, tmp) == -1 ||
      guestfs_mv (sh->g, tmp, path) == -1) {
    guestfs_error_handler_cb cb;
    void *opaque;
    cb = guestfs_get_error_handler (sh->g, &opaque);
    guestfs_set_error_handler (sh->g, NULL, NULL);
    guestfs_rm (sh->g, tmp);            /* it may not exist */
    guestfs_set_error_handler (sh->g, cb, opaque);
    goto out;
  }
  r = 0;
 out:
  if (st)
    guestfs_free_stat (st);
  free (tmp);
  free (dir);
  return r;
}

int
rn_sh_cmd_edit (struct rn_shell *sh, char **w, size_t n)
{
  const char *editor = getenv ("EDITOR");
  struct scratch s;
  int r = -1, same;

  if (want_one_path (sh, "edit", w, n) == -1 || scratch_make (sh, "edit", w[1], &s) == -1)
    return -1;
  if (guestfs_download (sh->g, w[1], s.file) == -1)
    goto out;
  if (copy_file (s.file, s.copy) == -1) {
    rn_sh_err (sh, "edit: cannot copy %s: %s", s.file, strerror (errno));
    goto out;
  }
  if (run_on_file (sh, "edit", editor && *editor ? editor : "vi", s.file) == -1)
    goto out;                           /* an editor that failed: keep the old */
  if ((same = same_file (s.file, s.copy)) == -1) {
    rn_sh_err (sh, "edit: cannot read back %s: %s", s.file, strerror (errno));
    goto out;
  }
  r = same ? 0 : upload_replace (sh, s.file, w[1]);
 out:
  scratch_remove (&s);
  return r;
}

int
rn_sh_cmd_more (struct rn_shell *sh, char **w, size_t n)
{
  const char *pager = getenv ("PAGER");
  struct scratch s;
  int r = -1;

  if (strcmp (w[0], "less") == 0)
    pager = "less";
  else if (pager == NULL || *pager == '\0')
    pager = "more";
  if (want_one_path (sh, w[0], w, n) == -1 || scratch_make (sh, "more", w[1], &s) == -1)
    return -1;
  if (guestfs_download (sh->g, w[1], s.file) == 0)
    r = run_on_file (sh, w[0], pager, s.file);
  scratch_remove (&s);
  return r;
}

/* ---- glob ---- */

static int
is_pattern (const char *w)
{
  return w[0] == '/' && strpbrk (w, "*?[") != NULL;
}

/* Run w with word i onward expanded; each expansion in turn. */
static int
glob_from (struct rn_shell *sh, char **w, size_t n, size_t i, int *ran)
{
  char **m;
  char *orig;
  int r = 0;

  for (; i < n && !is_pattern (w[i]); i++)
    ;
  if (i == n) {
    (*ran)++;
    return rn_sh_run_command (sh, w, n);
  }
  if ((m = guestfs_glob_expand (sh->g, w[i])) == NULL)
    return -1;
  orig = w[i];
  if (m[0] == NULL)                     /* no match: the pattern itself */
    r = glob_from (sh, w, n, i + 1, ran);
  for (size_t k = 0; m[k] && r == 0; k++) {
    w[i] = m[k];
    r = glob_from (sh, w, n, i + 1, ran);
  }
  w[i] = orig;
  for (size_t k = 0; m[k]; k++)
    free (m[k]);
  free (m);
  return r;
}

int
rn_sh_cmd_glob (struct rn_shell *sh, char **w, size_t n)
{
  int ran = 0;

  if (n < 2) {
    rn_sh_err (sh, "glob: usage: glob COMMAND [ARG...]");
    return -1;
  }
  if (rn_sh_need_appliance (sh) == -1)
    return -1;
  return glob_from (sh, w + 1, n - 1, 1, &ran);
}
