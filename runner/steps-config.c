/* runner/steps-config.c: set_config, Augeas loads for the other steps,
 * and the guest's user and group names.
 *
 * set_config edits its one file with one lens in one call
 * (aug_edit_file): guestd parses the text with the lens, sets the keys
 * and writes the file back only if it changed.  rn_aug_load (the user
 * step, the config checks) opens Augeas with nothing loaded
 * (AUG_NO_LOAD | AUG_NO_MODL_AUTOLOAD) and tells it to load one lens per
 * file (/augeas/load/gkN/lens and incl): loading every lens on every
 * file of a Debian image takes seconds, one file takes milliseconds.
 * User and group names (owner "root:root") need no Augeas at all:
 * lookup_ids reads the guest's /etc/passwd and /etc/group in guestd,
 * without the lenses' regexps to compile.  Guest files are parsed inside
 * the appliance, never by the host.
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

/* A name a passwd or group line can hold: 1 to 256 bytes, no ':', '/',
 * blank or control character, not starting with '+' or '-' (NIS). */
static int
name_ok (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > 256 || s[0] == '+' || s[0] == '-')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == ':' || s[i] == '/' || s[i] == ' ' || (unsigned char) s[i] < 0x20 ||
        s[i] == 0x7f)
      return 0;
  return 1;
}

/* The id for name from lookup_ids' answer v (uid or gid, "" none). */
static int
answer_id (struct rn_sctx *c, const char *v, const char *name, int user, int64_t *id)
{
  if (v[0] == '\0')
    return rn_step_fail (c, "no %s '%s' in the guest's %s", user ? "user" : "group", name,
                         user ? "/etc/passwd" : "/etc/group");
  if (!numeric (v, id))
    return rn_step_fail (c, "lookup_ids: bad id '%s' for %s", v, name);
  return 0;
}

int
rn_guest_ids (struct rn_sctx *c, const char *user, const char *group,
              int64_t *uid, int64_t *gid)
{
  const char *u = user && !numeric (user, uid) ? user : NULL;
  const char *g = group && !numeric (group, gid) ? group : NULL;
  char *users[] = { (char *) u, NULL }, *groups[] = { (char *) g, NULL }, *none[] = { NULL };
  char **v;
  int r;

  if (u == NULL && g == NULL)
    return 0;
  if ((u && !name_ok (u)) || (g && !name_ok (g)))
    return rn_step_fail (c, "'%s' is not a user or group name", u && !name_ok (u) ? u : g);
  if ((v = guestfs_lookup_ids (c->g, u ? users : none, g ? groups : none)) == NULL)
    return rn_step_gfail (c, "user and group names");
  if (v[0] == NULL || (u && g && v[1] == NULL))
    r = rn_step_fail (c, "lookup_ids: fewer answers than names");
  else
    r = (u && answer_id (c, v[0], u, 1, uid) == -1) ||
        (g && answer_id (c, v[u ? 1 : 0], g, 0, gid) == -1) ? -1 : 0;
  rn_gfree_list (v);
  return r;
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
