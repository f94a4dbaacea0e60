/* runner/steps-config.c: set_config, and the guest's user and group
 * names, both through Augeas in the appliance.
 *
 * set_config edits its one file with one lens in one call
 * (aug_edit_file): guestd parses the text with the lens, sets the keys
 * and writes the file back only if it changed.  For the names, Augeas is
 * opened with nothing loaded (AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD) and
 * told to load one lens on the two files (/augeas/load/gk/lens and
 * incl): loading every lens on every file of a Debian image takes
 * seconds, one file takes milliseconds.  Guest files are parsed by Augeas inside the
 * appliance, never by the host.  The handle with the guest's passwd and
 * group loaded (for user and group names) stays open for the task's
 * later steps as long as neither file changes (struct rn_augstate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define AUG_NO_LOAD          32     /* augeas.h's flags (not in guestfs.h) */
#define AUG_NO_MODL_AUTOLOAD 64

/* The lens for a file when the step does not name one. */
static const char *const lenses[][2] = {
  { "/etc/ssh/sshd_config", "Sshd.lns" },
  { "/etc/ssh/ssh_config", "Ssh.lns" },
  { "/etc/login.defs", "Login_defs.lns" },
  { "/etc/sysctl.conf", "Sysctl.lns" },
  { "/etc/sysctl.d/", "Sysctl.lns" },
  { "/etc/default/", "Shellvars.lns" },
  { "/etc/passwd", "Passwd.lns" },
  { "/etc/group", "Group.lns" },
  { "/etc/hosts", "Hosts.lns" },
  { "/etc/fstab", "Fstab.lns" },
  { "/etc/sudoers", "Sudoers.lns" },
  { "/etc/security/limits.conf", "Limits.lns" },
  { "/etc/systemd/", "Systemd.lns" },
  { "/etc/pam.d/", "Pam.lns" },
  { "/etc/chrony/chrony.conf", "Chrony.lns" },
  { "/etc/resolv.conf", "Resolv.lns" },
};

const char *
rn_aug_default_lens (const char *file)
{
  for (size_t i = 0; i < sizeof lenses / sizeof lenses[0]; i++) {
    size_t n = strlen (lenses[i][0]);
    if (lenses[i][0][n - 1] == '/' ? strncmp (file, lenses[i][0], n) == 0
                                   : strcmp (file, lenses[i][0]) == 0)
      return lenses[i][1];
  }
  return NULL;
}

static int
nmatch (struct rn_sctx *c, const char *path, char ***out)
{
  char **m = guestfs_aug_match (c->g, path);
  int n = 0;

  if (m == NULL)
    return -1;
  while (m[n])
    n++;
  if (out)
    *out = m;
  else {
    for (int i = 0; i < n; i++)
      free (m[i]);
    free (m);
  }
  return n;
}

int
rn_aug_load (struct rn_sctx *c, size_t n, const char *const *files,
             const char *const *lens)
{
  char **errs;
  int ne;

  if (c->aug)
    c->aug->ids = 0;               /* a new handle from here on */
  if (guestfs_aug_init (c->g, "/", AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD) == -1)
    return rn_step_gfail (c, "aug_init");
  for (size_t i = 0; i < n; i++) {
    char *l = rn_asprintf ("/augeas/load/gk%zu/lens", i);
    char *f = rn_asprintf ("/augeas/load/gk%zu/incl", i);
    int r = guestfs_aug_set (c->g, l, lens[i]) == -1 || guestfs_aug_set (c->g, f, files[i]) == -1;
    free (l);
    free (f);
    if (r)
      return rn_step_gfail (c, "augeas");
  }
  if (guestfs_aug_load (c->g) == -1)
    return rn_step_gfail (c, "aug_load");
  if ((ne = nmatch (c, "/augeas/files//error", &errs)) > 0) {
    char *msg = guestfs_aug_get (c->g, errs[0]);
    char *p = errs[0] + strlen ("/augeas/files");
    p[strlen (p) - strlen ("/error")] = '\0';
    rn_step_fail (c, "%s: Augeas cannot parse it: %s", p, msg ? msg : "error");
    free (msg);
    rn_gfree_list (errs);
    return -1;
  }
  if (ne == -1)
    return rn_step_gfail (c, "aug_match");
  rn_gfree_list (errs);
  return 0;
}

/* ---- names to ids, from the guest's /etc/passwd and /etc/group ---- */

static int
numeric (const char *s, int64_t *id)
{
  return s[0] >= '0' && s[0] <= '9' && rn_parse_int (s, id) == 0 && *id >= 0 &&
         *id <= 0xfffffffe;
}

/* The id of name in file (passwd: uid, group: gid); -1 if none. */
static int
lookup_id (struct rn_sctx *c, const char *file, const char *name, const char *field,
           int64_t *id)
{
  char *p = rn_asprintf ("/files%s/%s/%s", file, name, field), *v;
  int n;

  if (strpbrk (name, "/[]*'\"") != NULL) {
    free (p);
    return rn_step_fail (c, "'%s' is not a user or group name", name);
  }
  n = nmatch (c, p, NULL);
  if (n != 1 || (v = guestfs_aug_get (c->g, p)) == NULL) {
    free (p);
    return n == -1 ? rn_step_gfail (c, "aug_match")
                   : rn_step_fail (c, "no %s '%s' in the guest's %s",
                                   strcmp (field, "uid") ? "group" : "user", name, file);
  }
  free (p);
  n = rn_parse_int (v, id) == 0 ? 0 : rn_step_fail (c, "%s: bad id '%s' for %s", file, v, name);
  free (v);
  return n;
}

/* Augeas has /etc/passwd and /etc/group loaded as they are now: loaded
 * by an earlier step of the task, and neither file changed since (their
 * size, mode, owner and sha256 are the same). */
static int
ids_loaded (struct rn_sctx *c, const char *const *files)
{
  struct rn_fstate now[2];

  if (c->aug == NULL || !c->aug->ids)
    return 0;
  rn_fstates_take (c->g, files, 2, now);
  return !rn_fstate_differs (&now[0], &c->aug->passwd) &&
         !rn_fstate_differs (&now[1], &c->aug->group);
}

/* Load both files (once per task while they stay the same). */
static int
ids_load (struct rn_sctx *c)
{
  static const char *const files[] = { "/etc/passwd", "/etc/group" };
  static const char *const lens[] = { "Passwd.lns", "Group.lns" };
  struct rn_fstate st[2];

  if (ids_loaded (c, files))
    return 0;
  if (c->aug)
    rn_fstates_take (c->g, files, 2, st);    /* before: a change after is seen */
  if (rn_aug_load (c, 2, files, lens) == -1)
    return -1;
  if (c->aug) {
    c->aug->passwd = st[0];
    c->aug->group = st[1];
    c->aug->ids = 1;
  }
  return 0;
}

int
rn_guest_ids (struct rn_sctx *c, const char *user, const char *group,
              int64_t *uid, int64_t *gid)
{
  int need = (user && !numeric (user, uid)) || (group && !numeric (group, gid));

  if (!need)
    return 0;
  if (ids_load (c) == -1)
    return -1;
  if (user && !numeric (user, uid) && lookup_id (c, "/etc/passwd", user, "uid", uid) == -1)
    return -1;
  if (group && !numeric (group, gid) && lookup_id (c, "/etc/group", group, "gid", gid) == -1)
    return -1;
  return 0;
}

/* ---- set_config ---- */

/* The result's "changed" object from aug_edit_file's pairs KEY OLD
 * (OLD "=value", "+" none before, "-" removed). */
static void
add_changes (struct rn_sctx *c, char *const *ch, char *const *set)
{
  for (size_t i = 0; ch[i] && ch[i + 1]; i += 2) {
    const char *val = NULL;
    for (size_t j = 0; set[j] && set[j + 1]; j += 2)
      if (strcmp (set[j], ch[i]) == 0)
        val = set[j + 1];
    rn_buf_addf (&c->result, "%s", i ? "," : "");
    rn_json_strz (&c->result, ch[i]);
    if (ch[i + 1][0] == '-') {
      rn_buf_adds (&c->result, ":null");
      continue;
    }
    rn_buf_adds (&c->result, ":{\"old\":");
    rn_json_strz (&c->result, ch[i + 1][0] == '=' ? ch[i + 1] + 1 : NULL);
    rn_buf_adds (&c->result, ",\"new\":");
    rn_json_strz (&c->result, val);
    rn_buf_addc (&c->result, '}');
  }
}

/* One round trip: guestd reads the file, edits it through the lens and
 * writes it back only if its text changed (aug_edit_file).  A simple
 * key not there yet goes before the first Match block of an
 * sshd_config: appended after it, it would apply only to what the block
 * matches. */
int
rn_step_set_config (struct rn_sctx *c)
{
  const char *file = rn_sa_str (c, "file"), *lens = rn_sa_str (c, "lens");
  char *const *set = rn_sa_list (c, "set"), *const *remove = rn_sa_list (c, "remove");
  char **ch;

  if (!lens && !(lens = rn_aug_default_lens (file)))
    return rn_step_fail (c, "%s: no lens known for this file; give one "
                         "(lens: Shellvars.lns, say)", file);
  if (!set[0] && !remove[0])
    return rn_step_fail (c, "nothing to do: give 'set' or 'remove'");
  rn_step_before (c, file);
  if ((ch = guestfs_aug_edit_file (c->g, lens, file, set, remove, "Match")) == NULL) {
    const char *e = guestfs_last_error (c->g);
    return rn_step_fail (c, "%s", e ? e : "aug_edit_file failed (no message)");
  }
  rn_buf_adds (&c->result, "{\"file\":");
  rn_json_strz (&c->result, file);
  rn_buf_adds (&c->result, ",\"changed\":{");
  add_changes (c, ch, set);
  rn_buf_adds (&c->result, "}}");
  rn_gfree_list (ch);
  return 0;
}
