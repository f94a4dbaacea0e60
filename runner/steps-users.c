/* runner/steps-users.c: user (create or modify an account) and
 * ssh_inject (authorized keys).
 *
 * Accounts are made by the guest's own useradd / usermod, run in the
 * guest tree, so that the guest's rules (home skeleton, ids, groups)
 * apply.  A password is a crypt hash read from a host file; it is put in
 * the guest's /etc/shadow through Augeas and never appears in the step's
 * arguments, result or error (the arguments record the file's path).
 * What the account has already is read first (through Augeas, in the
 * appliance) and only what differs is changed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define HASH_MAX 512

static const char *const key_types[] = {
  "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com", NULL,
};

/* "TYPE BASE64 [comment]" on one line. */
static int
key_ok (const char *k)
{
  size_t t = strcspn (k, " "), b;

  if (strchr (k, '\n') || strchr (k, '\r') || k[t] != ' ')
    return 0;
  {
    char *type = rn_strndup (k, t);
    int known = rn_in_list (key_types, type);
    free (type);
    if (!known)
      return 0;
  }
  k += t + 1;
  b = strspn (k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
  return b >= 16 && (k[b] == '\0' || k[b] == ' ');
}

static void
add_arg (struct rn_strv *a, const char *opt, const char *val)
{
  rn_strv_add (a, rn_strdup (opt));
  rn_strv_add (a, rn_strdup (val));
}

static int
guest_run (struct rn_sctx *c, char **argv)
{
  char *out = guestfs_command (c->g, argv);
  if (out == NULL)
    return rn_step_gfail (c, argv[0]);
  free (out);
  return 0;
}

/* Load the guest's account files into Augeas. */
static int
accounts_load (struct rn_sctx *c)
{
  static const char *const f[] = { "/etc/passwd", "/etc/group", "/etc/shadow" };
  static const char *const l[] = { "Passwd.lns", "Group.lns", "Shadow.lns" };
  return rn_aug_load (c, 3, f, l);
}

/* A passwd field of user (uid, gid, home, shell), or NULL; after
 * accounts_load. */
static char *
passwd_field (struct rn_sctx *c, const char *user, const char *field)
{
  char *p = rn_asprintf ("/files/etc/passwd/%s/%s", user, field);
  char *v = guestfs_aug_get (c->g, p);
  free (p);
  return v;
}

/* Does user's passwd field differ from want (or is there no user)? */
static int
differs (struct rn_sctx *c, const char *user, const char *field, const char *want)
{
  char *have = passwd_field (c, user, field);
  int d = have == NULL || strcmp (have, want) != 0;
  free (have);
  return d;
}

/* Add keys to user's ~/.ssh/authorized_keys (after accounts_load). */
static int
add_keys (struct rn_sctx *c, const char *user, char *const *keys)
{
  char *home, *dir, *file, *g;
  int64_t uid = -1, gid = -1;
  int added = 0, r = 0;

  for (size_t i = 0; keys[i]; i++)
    if (!key_ok (keys[i]))
      return rn_step_fail (c, "keys: item %zu is not an ssh public key (TYPE "
                           "BASE64 [comment] on one line)", i + 1);
  if ((home = passwd_field (c, user, "home")) == NULL)
    return rn_step_fail (c, "no user '%s' in the guest's /etc/passwd", user);
  g = passwd_field (c, user, "uid");
  if (g == NULL || rn_parse_int (g, &uid) == -1)
    r = rn_step_fail (c, "%s: no uid in the guest's /etc/passwd", user);
  free (g);
  g = passwd_field (c, user, "gid");
  if (g == NULL || rn_parse_int (g, &gid) == -1)
    gid = uid;
  free (g);
  dir = rn_asprintf ("%s/.ssh", strcmp (home, "/") ? home : "");
  file = rn_asprintf ("%s/authorized_keys", dir);
  if (r == 0 && guestfs_is_dir (c->g, dir) != 1) {
    rn_step_before (c, dir);
    if (guestfs_mkdir_p (c->g, dir) == -1 || guestfs_chmod (c->g, 0700, dir) == -1 ||
        guestfs_chown (c->g, (int) uid, (int) gid, dir) == -1)
      r = rn_step_gfail (c, dir);
  }
  if (r == 0)
    r = rn_gfile_add_lines (c, file, keys, &added);
  if (r == 0 && added && (guestfs_chmod (c->g, 0600, file) == -1 ||
                          guestfs_chown (c->g, (int) uid, (int) gid, file) == -1))
    r = rn_step_gfail (c, file);
  if (r == 0)
    rn_buf_addf (&c->result, "%s\"keys_added\":%d}", c->result.len ? "," : "{", added);
  free (home);
  free (dir);
  free (file);
  return r;
}

int
rn_step_ssh_inject (struct rn_sctx *c)
{
  if (accounts_load (c) == -1)
    return -1;
  return add_keys (c, rn_sa_str (c, "user"), rn_sa_list (c, "keys"));
}

/* The password hash in a host file: one line, a crypt hash. */
static char *
read_hash (struct rn_sctx *c, const char *path)
{
  size_t len;
  char *err = NULL, *h = rn_read_file (path, HASH_MAX, &len, &err);

  if (h == NULL) {
    rn_step_fail (c, "password_file: %s", err);
    free (err);
    return NULL;
  }
  while (len > 0 && (h[len - 1] == '\n' || h[len - 1] == '\r'))
    h[--len] = '\0';
  if (len == 0 || strlen (h) != len || strpbrk (h, ":\n\r ") ||
      (h[0] != '$' && h[0] != '!' && h[0] != '*')) {
    free (h);
    rn_step_fail (c, "password_file %s: expected one crypt hash ($6$..., $y$...) "
                  "on one line", path);   /* never the content itself */
    return NULL;
  }
  return h;
}

static int
set_password (struct rn_sctx *c, const char *user, const char *hash)
{
  char *p = rn_asprintf ("/files/etc/shadow/%s/password", user);
  char *old = guestfs_aug_get (c->g, p);
  int r = 0;

  if (old == NULL || strcmp (old, hash) != 0) {
    rn_step_before (c, "/etc/shadow");
    if (guestfs_aug_set (c->g, p, hash) == -1 || guestfs_aug_save (c->g) == -1)
      r = rn_step_fail (c, "setting the password of %s in /etc/shadow failed", user);
  }
  if (old)
    memset (old, 0, strlen (old));
  free (old);
  free (p);
  return r;
}

/* useradd or usermod's options for what differs from what is asked. */
static void
account_args (struct rn_sctx *c, const char *name, int exists, struct rn_strv *a)
{
  const char *shell = rn_sa_str (c, "shell");
  char *const *groups = rn_sa_list (c, "groups");
  int64_t uid = rn_sa_int (c, "uid", -1);
  struct rn_buf g = { 0 };
  char buf[32];

  if (shell && (!exists || differs (c, name, "shell", shell)))
    add_arg (a, "-s", shell);
  snprintf (buf, sizeof buf, "%lld", (long long) uid);
  if (uid >= 0 && (!exists || differs (c, name, "uid", buf)))
    add_arg (a, "-u", buf);
  for (size_t i = 0; groups[i]; i++) {
    char *m = rn_asprintf ("/files/etc/group/%s/user[. = '%s']", groups[i], name);
    char **l = guestfs_aug_match (c->g, m);
    if (!(l && l[0]))
      rn_buf_addf (&g, "%s%s", g.len ? "," : "", groups[i]);
    rn_gfree_list (l);
    free (m);
  }
  if (g.len) {
    if (exists)
      rn_strv_add (a, rn_strdup ("-a"));
    add_arg (a, "-G", g.s);
  }
  rn_buf_free (&g);
}

static int
account (struct rn_sctx *c, const char *name, int *created)
{
  static const char *const touched[] = { "/etc/passwd", "/etc/group", "/etc/shadow",
                                         "/etc/gshadow", NULL };
  struct rn_strv a = { 0 };
  char *home = passwd_field (c, name, "home");
  int exists = home != NULL, r = 0;

  free (home);
  rn_strv_add (&a, rn_strdup (exists ? "usermod" : "useradd"));
  if (!exists)
    rn_strv_add (&a, rn_strdup ("-m"));
  account_args (c, name, exists, &a);
  rn_strv_add (&a, rn_strdup (name));
  if (!exists || a.n > 2) {
    for (size_t i = 0; touched[i]; i++)
      rn_step_before (c, touched[i]);
    if (!exists)
      rn_step_before (c, "/home");
    r = guest_run (c, a.v);
  }
  rn_strv_free (&a);
  *created = !exists;
  return r;
}

int
rn_step_user (struct rn_sctx *c)
{
  const char *name = rn_sa_str (c, "name"), *pwfile = rn_sa_str (c, "password_file");
  char *hash = NULL;
  int created = 0, r;

  if (strpbrk (name, "/:[]'\" ") || name[0] == '-' || name[0] == '\0')
    return rn_step_fail (c, "'%s' is not a user name", name);
  /* Bad keys are refused before anything in the guest changes. */
  for (char *const *k = rn_sa_list (c, "ssh_keys"); *k; k++)
    if (!key_ok (*k))
      return rn_step_fail (c, "ssh_keys: item %zu is not an ssh public key (TYPE "
                           "BASE64 [COMMENT])", (size_t) (k - rn_sa_list (c, "ssh_keys")) + 1);
  if (pwfile && (hash = read_hash (c, pwfile)) == NULL)
    return -1;
  r = accounts_load (c) == -1 ? -1 : account (c, name, &created);
  /* useradd changed the files: read them again. */
  if (r == 0 && (hash || rn_sa_list (c, "ssh_keys")[0]))
    r = accounts_load (c);
  if (r == 0 && hash)
    r = set_password (c, name, hash);
  if (hash) {
    memset (hash, 0, strlen (hash));
    free (hash);
  }
  rn_buf_addf (&c->result, "{\"created\":%s", created ? "true" : "false");
  if (r == 0 && rn_sa_list (c, "ssh_keys")[0])
    r = add_keys (c, name, rn_sa_list (c, "ssh_keys"));
  else
    rn_buf_addc (&c->result, '}');
  return r;
}
