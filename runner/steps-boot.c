/* runner/steps-boot.c: what makes a built tree a machine that boots, and
 * boots as itself: bootloader, machine_id, ssh_host_keys, locale,
 * firstboot.
 *
 *   bootloader     grub for BIOS installed to the disk and its config
 *                  generated, both run in the guest tree (the guest's own
 *                  grub-install and update-grub; guestd binds /dev, /proc
 *                  and /sys in); serial console on, root by UUID
 *   machine_id     reset: an empty /etc/machine-id, so each clone makes
 *                  its own at first boot
 *   ssh_host_keys  reset: the host keys removed and a unit that makes new
 *                  ones at first boot, before sshd
 *   locale         /etc/default/locale, and the locale generated
 *   firstboot      a script run once at first boot by a systemd unit
 *                  that removes itself
 *
 * Root by UUID: update-grub asks grub-probe for the root filesystem's
 * UUID and uses root=UUID=... only when /dev/disk/by-uuid/UUID exists.
 * The appliance has no udev, so the step makes that link in the /dev the
 * command sees; otherwise grub.cfg would say root=/dev/sda1, which is
 * wrong as soon as the disk is a virtio-blk /dev/vda.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define UNIT_DIR "/etc/systemd/system"
#define WANTS_DIR UNIT_DIR "/multi-user.target.wants"

/* Run a shell command in the guest tree; its output into the result. */
static int
guest_sh (struct rn_sctx *c, const char *what, const char *cmd)
{
  char *out = guestfs_sh (c->g, cmd);

  if (out == NULL)
    return rn_step_gfail (c, what);
  if (c->result.len)
    rn_buf_addc (&c->result, ',');
  rn_json_strz (&c->result, what);
  rn_buf_addc (&c->result, ':');
  rn_json_strz (&c->result, out);
  free (out);
  return 0;
}

/* Enable a unit written to UNIT_DIR for multi-user.target. */
static int
enable_unit (struct rn_sctx *c, const char *unit, const char *text)
{
  char *path = rn_asprintf (UNIT_DIR "/%s", unit);
  char *link = rn_asprintf (WANTS_DIR "/%s", unit);
  int r = guestfs_mkdir_p (c->g, WANTS_DIR) == -1 ? rn_step_gfail (c, WANTS_DIR)
        : rn_gfile_write (c, path, text, strlen (text));

  if (r == 0 && guestfs_ln_sf (c->g, path, link) == -1)
    r = rn_step_gfail (c, "ln_sf");
  free (path);
  free (link);
  return r;
}

/* ---- bootloader ---- */

/* The device and UUID of the filesystem mounted at /. */
static int
root_fs (struct rn_sctx *c, char **dev, char **uuid)
{
  char **m = guestfs_mountpoints (c->g);

  *dev = *uuid = NULL;
  if (m == NULL)
    return rn_step_gfail (c, "mountpoints");
  for (size_t i = 0; m[i] && m[i + 1]; i += 2)
    if (strcmp (m[i + 1], "/") == 0)
      *dev = rn_strdup (m[i]);
  rn_free_strings (m);
  if (*dev == NULL)
    return rn_step_fail (c, "nothing is mounted at /: a filesystems step comes first");
  if ((*uuid = guestfs_get_e2uuid (c->g, *dev)) == NULL || **uuid == '\0')
    return rn_step_gfail (c, "get_e2uuid (the root filesystem must be ext2/3/4)");
  return 0;
}

static int
has_kernel (struct rn_sctx *c)
{
  char **k = guestfs_glob_expand (c->g, "/boot/vmlinuz-*");
  int some;

  if (k == NULL)
    return rn_step_gfail (c, "glob_expand /boot/vmlinuz-*");
  some = k[0] != NULL;
  rn_free_strings (k);
  if (!some)
    return rn_step_fail (c, "no kernel in the guest tree (no /boot/vmlinuz-*): "
                         "unpack a base with linux-image-amd64 first");
  if (guestfs_exists (c->g, "/usr/sbin/grub-install") != 1)
    return rn_step_fail (c, "no /usr/sbin/grub-install in the guest tree: the base "
                         "needs grub-pc");
  return 0;
}

int
rn_step_bootloader (struct rn_sctx *c)
{
  const char *disk = rn_sa_str (c, "device") ? rn_sa_str (c, "device") : "/dev/sda";
  const char *extra = rn_sa_str (c, "cmdline") ? rn_sa_str (c, "cmdline") : "";
  int64_t timeout = rn_sa_int (c, "timeout", 1);
  char *dev = NULL, *uuid = NULL, *conf = NULL, *cmd = NULL;
  int r = -1;

  if (strchr (extra, '"') || strchr (extra, '\\') || strchr (extra, '$') || strchr (extra, '`'))
    return rn_step_fail (c, "cmdline: quotes, backslashes, $ and ` are not allowed");
  if (timeout < 0 || timeout > 600)
    return rn_step_fail (c, "timeout: expected 0 to 600 seconds");
  if (has_kernel (c) == -1 || root_fs (c, &dev, &uuid) == -1)
    goto out;
  conf = rn_asprintf (
    "# written by guestkit (bootloader step)\n"
    "GRUB_DEFAULT=0\nGRUB_TIMEOUT=%lld\nGRUB_DISTRIBUTOR=Debian\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n"
    "GRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200n8 %s\"\n"
    "GRUB_TERMINAL=\"console serial\"\n"
    "GRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n"
    "GRUB_DISABLE_OS_PROBER=true\nGRUB_DISABLE_RECOVERY=true\n", (long long) timeout, extra);
  if (rn_gfile_write (c, "/etc/default/grub", conf, strlen (conf)) == -1)
    goto out;
  cmd = rn_asprintf ("mkdir -p /dev/disk/by-uuid && ln -sf %s /dev/disk/by-uuid/%s && "
                     "grub-install --target=i386-pc %s 2>&1", dev, uuid, disk);
  rn_buf_addc (&c->result, '{');
  if (guest_sh (c, "grub-install", cmd) == -1 ||
      guest_sh (c, "update-grub", "update-grub 2>&1") == -1)
    goto out;
  rn_buf_addc (&c->result, '}');
  r = 0;
 out:
  free (dev);
  free (uuid);
  free (conf);
  free (cmd);
  return r;
}

/* ---- machine_id, ssh_host_keys ---- */

static int
want_reset (struct rn_sctx *c)
{
  const char *a = rn_sa_str (c, "action");

  if (a == NULL || strcmp (a, "reset") != 0)
    return rn_step_fail (c, "expected 'reset', got '%s'", a ? a : "");
  return 0;
}

int
rn_step_machine_id (struct rn_sctx *c)
{
  if (want_reset (c) == -1 || rn_gfile_write (c, "/etc/machine-id", "", 0) == -1)
    return -1;
  /* dbus's copy, when it is a file of its own rather than a link */
  if (guestfs_is_file (c->g, "/var/lib/dbus/machine-id") == 1 &&
      guestfs_ln_sf (c->g, "/etc/machine-id", "/var/lib/dbus/machine-id") == -1)
    return rn_step_gfail (c, "/var/lib/dbus/machine-id");
  return 0;
}

static const char ssh_keygen_unit[] =
  "# written by guestkit (ssh_host_keys: reset)\n"
  "[Unit]\nDescription=Make this machine's SSH host keys\n"
  "Before=ssh.service\nConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key\n\n"
  "[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n\n"
  "[Install]\nWantedBy=multi-user.target\n";

int
rn_step_ssh_host_keys (struct rn_sctx *c)
{
  char **keys;
  size_t n = 0;

  if (want_reset (c) == -1)
    return -1;
  if ((keys = guestfs_glob_expand (c->g, "/etc/ssh/ssh_host_*")) == NULL)
    return rn_step_gfail (c, "glob_expand");
  for (; keys[n]; n++)
    if (guestfs_rm_rf (c->g, keys[n]) == -1) {
      rn_free_strings (keys);
      return rn_step_gfail (c, "rm_rf");
    }
  rn_free_strings (keys);
  rn_buf_addf (&c->result, "{\"removed\":%zu}", n);
  return enable_unit (c, "guestkit-ssh-keygen.service", ssh_keygen_unit);
}

/* ---- locale ---- */

int
rn_step_locale (struct rn_sctx *c)
{
  const char *lang = rn_sa_str (c, "lang");
  char *conf, *cmd;
  int r;

  for (const char *p = lang; *p; p++)
    if (!(*p == '_' || *p == '.' || *p == '-' || *p == '@' ||
          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
      return rn_step_fail (c, "lang: '%s' is not a locale name (like en_US.UTF-8)", lang);
  if (guestfs_exists (c->g, "/usr/sbin/locale-gen") != 1)
    return rn_step_fail (c, "no /usr/sbin/locale-gen in the guest tree: the base needs "
                         "the locales package");
  conf = rn_asprintf ("LANG=%s\n", lang);
  r = rn_gfile_write (c, "/etc/default/locale", conf, strlen (conf));
  /* locale.gen lines are "xx_YY.CHARSET CHARSET"; a name without a
   * charset is ISO-8859-1 */
  cmd = rn_asprintf ("l=%s; c=${l#*.}; [ \"$c\" = \"$l\" ] && c=ISO-8859-1; "
                     "grep -qx \"$l $c\" /usr/share/i18n/SUPPORTED || "
                     "{ echo \"$l is not a supported locale\"; exit 1; }; "
                     "echo \"$l $c\" > /etc/locale.gen && locale-gen 2>&1", lang);
  rn_buf_addc (&c->result, '{');
  if (r == 0)
    r = guest_sh (c, "locale-gen", cmd);
  rn_buf_addc (&c->result, '}');
  free (conf);
  free (cmd);
  return r;
}

/* ---- firstboot ---- */

int
rn_step_firstboot (struct rn_sctx *c)
{
  const char *script = rn_sa_str (c, "script");
  const char *name = rn_sa_str (c, "name") ? rn_sa_str (c, "name") : "firstboot";
  char *path, *unit_name, *unit;
  int r;

  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return rn_step_fail (c, "name: '%s': use a-z, 0-9 and '-' only", name);
  path = rn_asprintf ("/usr/local/lib/guestkit/%s.sh", name);
  unit_name = rn_asprintf ("guestkit-%s.service", name);
  unit = rn_asprintf (
    "# written by guestkit (firstboot): runs once, then removes itself\n"
    "[Unit]\nDescription=guestkit first boot: %s\nAfter=local-fs.target\n\n"
    "[Service]\nType=oneshot\nExecStart=/bin/sh %s\n"
    "ExecStartPost=/bin/rm -f " WANTS_DIR "/%s " UNIT_DIR "/%s %s\n"
    "StandardOutput=journal+console\n\n[Install]\nWantedBy=multi-user.target\n",
    name, path, unit_name, unit_name, path);
  r = guestfs_mkdir_p (c->g, "/usr/local/lib/guestkit") == -1
    ? rn_step_gfail (c, "mkdir_p") : rn_gfile_write (c, path, script, strlen (script));
  if (r == 0 && guestfs_chmod (c->g, 0755, path) == -1)
    r = rn_step_gfail (c, "chmod");
  if (r == 0)
    r = enable_unit (c, unit_name, unit);
  free (path);
  free (unit_name);
  free (unit);
  return r;
}
