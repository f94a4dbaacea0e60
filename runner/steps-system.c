/* runner/steps-system.c: system-wide settings: hostname, timezone, and
 * run (a command in the guest tree).
 *
 * Each step reads what is there first and writes only what differs, so
 * that a step run twice changes nothing the second time (and the
 * changes record of a rerun is empty).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- hostname ---- */

/* A host name: dot-separated labels of letters, digits and '-', each 1 to
 * 63 long and not starting or ending with '-'; 253 in all. */
static int
hostname_ok (const char *s)
{
  size_t n = strlen (s), label = 0;

  if (n == 0 || n > 253)
    return 0;
  for (size_t i = 0; i <= n; i++) {
    if (s[i] == '.' || s[i] == '\0') {
      if (label == 0 || label > 63 || s[i - 1] == '-')
        return 0;
      label = 0;
    } else if (isalnum ((unsigned char) s[i]) || (s[i] == '-' && label > 0))
      label++;
    else
      return 0;
  }
  return 1;
}

/* /etc/hosts with its 127.0.1.1 line naming name (added if none). */
static char *
hosts_with (const char *old, size_t len, const char *name)
{
  struct rn_buf b = { 0 };
  size_t short_len = strcspn (name, ".");
  const char *p = old, *end = old ? old + len : NULL;
  int found = 0;

  while (p && p < end) {
    const char *nl = memchr (p, '\n', (size_t) (end - p));
    size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
    if (!found && n > 9 && strncmp (p, "127.0.1.1", 9) == 0 &&
        (p[9] == ' ' || p[9] == '\t')) {
      found = 1;
      rn_buf_addf (&b, "127.0.1.1\t%s", name);
      if (name[short_len])
        rn_buf_addf (&b, " %.*s", (int) short_len, name);
    } else
      rn_buf_add (&b, p, n);
    rn_buf_addc (&b, '\n');
    p += n + 1;
  }
  if (old == NULL)
    rn_buf_adds (&b, "127.0.0.1\tlocalhost\n");
  if (!found) {
    rn_buf_addf (&b, "127.0.1.1\t%s", name);
    if (name[short_len])
      rn_buf_addf (&b, " %.*s", (int) short_len, name);
    rn_buf_addc (&b, '\n');
  }
  return rn_buf_take (&b);
}

int
rn_step_hostname (struct rn_sctx *c)
{
  const char *name = rn_sa_str (c, "name");
  char *old, *hosts, *line;
  size_t len;
  int missing, r;

  if (!hostname_ok (name))
    return rn_step_fail (c, "'%s' is not a valid host name (letters, digits, "
                         "'-' and '.')", name);
  old = rn_gfile_read (c, "/etc/hostname", &len, &missing);
  if (old == NULL && !missing)
    return -1;
  rn_buf_adds (&c->result, "{\"old\":");
  if (old) {
    size_t n = strcspn (old, "\r\n");
    rn_json_str (&c->result, old, n < len ? n : len);
  } else
    rn_buf_adds (&c->result, "null");
  rn_buf_adds (&c->result, ",\"new\":");
  rn_json_strz (&c->result, name);
  rn_buf_addc (&c->result, '}');
  free (old);
  line = rn_asprintf ("%s\n", name);
  r = rn_gfile_update (c, "/etc/hostname", line, strlen (line));
  free (line);
  if (r == -1)
    return -1;
  old = rn_gfile_read (c, "/etc/hosts", &len, &missing);
  if (old == NULL && !missing)
    return -1;
  hosts = hosts_with (old, len, name);
  r = rn_gfile_update (c, "/etc/hosts", hosts, strlen (hosts));
  free (hosts);
  free (old);
  return r;
}

/* ---- timezone ---- */

static int
zone_ok (const char *z)
{
  if (z[0] == '\0' || z[0] == '/' || strstr (z, "..") || strlen (z) > 255)
    return 0;
  for (const char *p = z; *p; p++)
    if (!isalnum ((unsigned char) *p) && !strchr ("/_+-", *p))
      return 0;
  return 1;
}

int
rn_step_timezone (struct rn_sctx *c)
{
  const char *zone = rn_sa_str (c, "zone");
  char *file, *target, *old, *line;
  int r = 0;

  if (!zone_ok (zone))
    return rn_step_fail (c, "'%s' is not a time zone name (like Europe/Paris)", zone);
  file = rn_asprintf ("/usr/share/zoneinfo/%s", zone);
  target = rn_asprintf ("..%s", file);
  if (guestfs_is_file (c->g, file) != 1)
    r = rn_step_fail (c, "no time zone '%s' in the guest (%s)", zone, file);
  else {
    old = guestfs_readlink (c->g, "/etc/localtime");   /* NULL: not a link */
    if (old == NULL || strcmp (old, target) != 0) {
      rn_step_before (c, "/etc/localtime");
      if (guestfs_ln_sf (c->g, target, "/etc/localtime") == -1)
        r = rn_step_gfail (c, "/etc/localtime");
    }
    free (old);
    line = rn_asprintf ("%s\n", zone);
    if (r == 0)
      r = rn_gfile_update (c, "/etc/timezone", line, strlen (line));
    free (line);
  }
  free (file);
  free (target);
  return r;
}

/* ---- run ---- */

int
rn_step_run (struct rn_sctx *c)
{
  char *const *touches = rn_sa_list (c, "touches");
  char *out;

  for (size_t i = 0; touches[i]; i++)
    rn_step_before (c, touches[i]);
  out = guestfs_sh (c->g, rn_sa_str (c, "command"));
  if (out == NULL)
    return rn_step_gfail (c, "the command failed");
  rn_buf_adds (&c->result, "{\"output\":");
  rn_json_strz (&c->result, out);
  rn_buf_addc (&c->result, '}');
  free (out);
  return 0;
}
