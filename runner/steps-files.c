/* runner/steps-files.c: files in the guest: write, append_line, delete,
 * copy_in, chmod, chown.
 *
 * Owners are names or numbers; names are looked up in the guest's own
 * /etc/passwd and /etc/group (steps-config.c, through Augeas in the
 * appliance), never the host's.  Each step changes only what differs
 * from what it asks for, and calls rn_step_before first, so that the
 * changes record sees the state before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

#define HOST_FILE_MAX (64u << 20)   /* write: file: at most this much */

/* The paths a pattern names: itself, or its glob expansion (caller
 * frees).  NULL with c->err. */
static char **
expand (struct rn_sctx *c, const char *pattern)
{
  char **l;

  if (strpbrk (pattern, "*?[") == NULL) {
    l = rn_calloc (2, sizeof *l);
    l[0] = rn_strdup (pattern);
    return l;
  }
  if ((l = guestfs_glob_expand (c->g, pattern)) == NULL)
    rn_step_gfail (c, pattern);
  return l;
}

/* Set path's mode and owner to what is asked (mode -1, uid/gid -1: keep). */
static int
set_attrs (struct rn_sctx *c, const char *path, int64_t mode, int64_t uid, int64_t gid)
{
  struct guestfs_stat *st = guestfs_lstat (c->g, path);
  int r = 0;

  if (st == NULL)
    return rn_step_gfail (c, path);
  if (mode >= 0 && (st->mode & 07777) != mode) {
    rn_step_before (c, path);
    if (guestfs_chmod (c->g, (int) mode, path) == -1)
      r = rn_step_gfail (c, path);
  }
  if (r == 0 && ((uid >= 0 && st->uid != uid) || (gid >= 0 && st->gid != gid))) {
    rn_step_before (c, path);
    if (guestfs_chown (c->g, uid >= 0 ? (int) uid : (int) st->uid,
                       gid >= 0 ? (int) gid : (int) st->gid, path) == -1)
      r = rn_step_gfail (c, path);
  }
  guestfs_free_stat (st);
  return r;
}

/* owner "user", "user:group" or ":group" into ids (-1: not given). */
static int
owner_ids (struct rn_sctx *c, const char *owner, int64_t *uid, int64_t *gid)
{
  char *u = rn_strdup (owner), *g = strchr (u, ':');
  int r;

  *uid = *gid = -1;
  if (g)
    *g++ = '\0';
  r = rn_guest_ids (c, u[0] ? u : NULL, g && g[0] ? g : NULL, uid, gid);
  free (u);
  return r;
}

static int
mode_arg (struct rn_sctx *c, int64_t *mode)
{
  *mode = rn_sa_int (c, "mode", -1);
  if (*mode > 07777 || (*mode < 0 && rn_sa_given (c, "mode")))
    return rn_step_fail (c, "mode: %llo is not a file mode (0 to 07777)",
                         (unsigned long long) *mode);
  return 0;
}

/* ---- write ---- */

int
rn_step_write (struct rn_sctx *c)
{
  const char *path = rn_sa_str (c, "path"), *content = rn_sa_str (c, "content");
  const char *file = rn_sa_str (c, "file"), *owner = rn_sa_str (c, "owner");
  int64_t mode, uid = -1, gid = -1;
  int r;

  if (!content == !file)
    return rn_step_fail (c, "give either 'content' or 'file', not %s",
                         content ? "both" : "neither");
  if (mode_arg (c, &mode) == -1 || (owner && owner_ids (c, owner, &uid, &gid) == -1))
    return -1;
  if (content)
    r = rn_gfile_update (c, path, content, strlen (content));
  else {
    size_t len;
    char *err = NULL, *buf = rn_read_file (file, HOST_FILE_MAX, &len, &err);
    if (buf == NULL) {
      r = rn_step_fail (c, "file: %s", err);
      free (err);
    } else {
      r = rn_gfile_update (c, path, buf, len);
      free (buf);
    }
  }
  return r == 0 ? set_attrs (c, path, mode, uid, gid) : -1;
}

/* ---- append_line ---- */

int
rn_step_append_line (struct rn_sctx *c)
{
  const char *line = rn_sa_str (c, "line");
  char *lines[] = { (char *) line, NULL };
  int added = 0;

  if (strchr (line, '\n'))
    return rn_step_fail (c, "line: one line, without a newline");
  if (rn_gfile_add_lines (c, rn_sa_str (c, "path"), lines, &added) == -1)
    return -1;
  rn_buf_addf (&c->result, "{\"appended\":%s}", added ? "true" : "false");
  return 0;
}

/* ---- delete ---- */

/* Is there anything at path (a dangling symlink too)? */
static int
present (struct rn_sctx *c, const char *path)
{
  struct guestfs_stat *st = guestfs_lstat (c->g, path);
  int r = st != NULL;
  guestfs_free_stat (st);
  return r;
}

int
rn_step_delete (struct rn_sctx *c)
{
  char *const *pats = rn_sa_list (c, "paths");
  struct rn_strv done = { 0 };
  int r = 0;

  for (size_t i = 0; pats[i] && r == 0; i++) {
    char **l = expand (c, pats[i]);
    if (l == NULL)
      return -1;
    for (size_t k = 0; l[k] && r == 0; k++) {
      if (strcmp (l[k], "/") == 0)
        r = rn_step_fail (c, "%s: refusing to delete the whole guest", pats[i]);
      else if (present (c, l[k])) {
        rn_step_before (c, l[k]);
        if (guestfs_rm_rf (c->g, l[k]) == -1)
          r = rn_step_gfail (c, l[k]);
        else
          rn_strv_add (&done, rn_strdup (l[k]));
      }
    }
    rn_gfree_list (l);
  }
  rn_buf_adds (&c->result, "{\"deleted\":");
  rn_json_strv (&c->result, done.v ? done.v : (char *[]) { NULL });
  rn_buf_addc (&c->result, '}');
  rn_strv_free (&done);
  return r;
}

/* ---- copy_in ---- */

/* A host directory as a tar file (its last component at the top). */
static char *
tar_of (struct rn_sctx *c, const char *dir)
{
  char *parent = rn_dirname (dir), *tmp = rn_strdup ("/tmp/guestkit-copy-XXXXXX");
  char *base = rn_strdup (rn_basename (dir)), *err = NULL;
  char *argv[] = { "tar", "--numeric-owner", "--owner=0", "--group=0", "-C",
                   parent, "-cf", tmp, base, NULL };
  int fd = mkstemp (tmp);

  if (fd == -1 || (close (fd), rn_run_command (argv, &err)) == -1) {
    rn_step_fail (c, "from: %s", err ? err : strerror (errno));
    if (fd != -1)
      unlink (tmp);
    free (tmp);
    tmp = NULL;
  }
  free (err);
  free (parent);
  free (base);
  return tmp;
}

int
rn_step_copy_in (struct rn_sctx *c)
{
  char *from = rn_path_join (c->j->dir, rn_sa_str (c, "from"));
  const char *to = rn_sa_str (c, "to");
  char *dest = rn_asprintf ("%s%s%s", to, strcmp (to, "/") ? "/" : "", rn_basename (from));
  struct stat st;
  int r = 0;

  if (stat (from, &st) == -1)
    r = rn_step_fail (c, "from: %s: %s", from, strerror (errno));
  else if (guestfs_is_dir (c->g, to) != 1 && present (c, to))
    r = rn_step_fail (c, "to: %s is not a directory in the guest", to);
  else if (guestfs_is_dir (c->g, to) != 1 &&
           (rn_step_before (c, to), guestfs_mkdir_p (c->g, to)) == -1)
    r = rn_step_gfail (c, to);
  else {
    rn_step_before (c, dest);
    if (S_ISREG (st.st_mode)) {
      if (guestfs_upload (c->g, from, dest) == -1)
        r = rn_step_gfail (c, dest);
    } else if (S_ISDIR (st.st_mode)) {
      char *tar = tar_of (c, from);
      if (tar == NULL || guestfs_tar_in (c->g, tar, to) == -1)
        r = tar ? rn_step_gfail (c, dest) : -1;
      if (tar)
        unlink (tar);
      free (tar);
    } else
      r = rn_step_fail (c, "from: %s is not a file or directory", from);
  }
  free (from);
  free (dest);
  return r;
}

/* ---- chmod, chown ---- */

static int
each_path (struct rn_sctx *c, int64_t mode, int64_t uid, int64_t gid)
{
  char **l = expand (c, rn_sa_str (c, "path"));
  int r = 0;

  if (l == NULL)
    return -1;
  if (l[0] == NULL)
    r = rn_step_fail (c, "%s: no such file in the guest", rn_sa_str (c, "path"));
  for (size_t i = 0; l[i] && r == 0; i++)
    r = set_attrs (c, l[i], mode, uid, gid);
  rn_gfree_list (l);
  return r;
}

int
rn_step_chmod (struct rn_sctx *c)
{
  int64_t mode;

  if (mode_arg (c, &mode) == -1)
    return -1;
  return each_path (c, mode, -1, -1);
}

int
rn_step_chown (struct rn_sctx *c)
{
  const char *o = rn_sa_str (c, "owner"), *g = rn_sa_str (c, "group");
  int64_t uid = -1, gid = -1;

  if (rn_guest_ids (c, o, g, &uid, &gid) == -1)
    return -1;
  return each_path (c, -1, uid, gid);
}
