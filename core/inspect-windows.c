/* core/inspect-windows.c: what a Windows root is, from its registry.
 *
 * A filesystem is a Windows root when it has \Windows\System32 (or
 * \WINNT\System32), in any case.  The registry hives SOFTWARE and SYSTEM
 * under System32\config are decoded in the appliance, by guestd with
 * libhivex (internal_hive_values, internal_hive_subkeys); the library
 * only receives strings:
 *
 *   SOFTWARE  Microsoft\Windows NT\CurrentVersion   ProductName,
 *             CurrentMajorVersionNumber / CurrentMinorVersionNumber
 *             (Windows 10 on) or CurrentVersion "6.1", CurrentBuildNumber
 *   SOFTWARE  [WOW6432Node\]Microsoft\Windows\CurrentVersion\Uninstall\*
 *             the applications
 *   SYSTEM    Select\Current -> ControlSet00N\Services\Tcpip\Parameters
 *             Hostname, else ...\Control\ComputerName\ComputerName
 *
 * The architecture comes from the PE header of System32\cmd.exe.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inspect.h"

/* The path of a file as spelled on disk; NULL if it does not exist. */
static char *
real_path (guestfs_h *g, const char *dir, const char *rest)
{
  char *p, *r;

  p = gk_inspect_asprintf ("%s%s", dir, rest);
  r = guestfs_case_sensitive_path (g, p);
  free (p);
  if (r && guestfs_exists (g, r) != 1) {
    free (r);
    r = NULL;
  }
  return r;
}

char *
gk_inspect_windows_root (guestfs_h *g)
{
  static const char *const dirs[] = { "/windows", "/winnt", NULL };
  char *root, *sys;

  for (size_t i = 0; dirs[i]; i++) {
    if ((root = real_path (g, dirs[i], "")) == NULL)
      continue;
    if (guestfs_is_dir (g, root) == 1 &&
        (sys = real_path (g, root, "/system32")) != NULL &&
        guestfs_is_dir (g, sys) == 1) {
      free (sys);
      return root;
    }
    free (root);
  }
  return NULL;
}

/* ---- Hives ----
 *
 * The hives are decoded in the appliance (guestd/inspect-hive.c); here
 * they are only named and their answers, plain strings, are read.
 */

/* The guest path of System32\config\NAME, warned about when missing. */
static char *
hive_path (guestfs_h *g, struct gk_ios *os, const char *name)
{
  char rel[64], *path;

  snprintf (rel, sizeof rel, "/system32/config/%s", name);
  path = real_path (g, os->systemroot, rel);
  if (path == NULL && gk_inspect_alive (g))
    gk_inspect_warn (g, os, "no registry hive %s/System32/config/%s",
                     os->systemroot, name);
  return path;
}

/* The values of one key (a hashtable, caller frees); NULL (warned) if
 * the hive cannot be read. */
static char **
hive_values (guestfs_h *g, struct gk_ios *os, const char *hive, const char *key)
{
  char **kv = guestfs_internal_hive_values (g, hive, key);

  if (kv == NULL && gk_inspect_alive (g))
    gk_inspect_warn (g, os, "%s", guestfs_last_error (g));
  return kv;
}

/* The value called name in a hashtable (names are case-insensitive, as
 * in the registry); NULL if missing or empty.  Not copied. */
static const char *
hive_get (char **kv, const char *name)
{
  for (size_t i = 0; kv && kv[i] && kv[i+1]; i += 2)
    if (strcasecmp (kv[i], name) == 0)
      return *kv[i+1] ? kv[i+1] : NULL;
  return NULL;
}

/* A number value (a DWORD, in decimal); -1 if missing or not a number. */
static int64_t
hive_number (char **kv, const char *name)
{
  const char *s = hive_get (kv, name);
  char *end;
  unsigned long long n;

  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  n = strtoull (s, &end, 10);
  return *end || errno || n > UINT32_MAX ? -1 : (int64_t) n;
}

/* Windows 11 still says "Windows 10" in ProductName: its build tells. */
static void
fix_product (struct gk_ios *os, const char *build)
{
  char *p;

  if (os->major != 10 || build == NULL || atoi (build) < 22000 ||
      os->product_name == NULL || (p = strstr (os->product_name, "Windows 10")) == NULL)
    return;
  p[9] = '1';
}

static void
version (guestfs_h *g, struct gk_ios *os, char **cv)
{
  int64_t major = hive_number (cv, "CurrentMajorVersionNumber");
  int64_t minor = hive_number (cv, "CurrentMinorVersionNumber");
  const char *s = hive_get (cv, "CurrentVersion");

  if (major >= 0 && major < 1000) {
    os->major = (int) major;
    os->minor = minor >= 0 && minor < 1000 ? (int) minor : 0;
  } else if (s) {
    if (sscanf (s, "%3d.%3d", &os->major, &os->minor) != 2 || os->major < 0 ||
        os->minor < 0) {
      gk_inspect_warn (g, os, "SOFTWARE hive: CurrentVersion '%.32s' is not a "
                       "version", s);
      os->major = os->minor = 0;
    }
  } else
    gk_inspect_warn (g, os, "SOFTWARE hive: no version");
}

static void
software_hive (guestfs_h *g, struct gk_ios *os)
{
  char *hive = hive_path (g, os, "software"), **cv;

  if (hive == NULL)
    return;
  cv = hive_values (g, os, hive, "Microsoft\\Windows NT\\CurrentVersion");
  free (hive);
  if (cv == NULL)
    return;
  if (cv[0] == NULL)
    gk_inspect_warn (g, os, "SOFTWARE hive: no Microsoft\\Windows NT\\CurrentVersion");
  else {
    gk_inspect_set_opt (&os->product_name, hive_get (cv, "ProductName"), 256);
    version (g, os, cv);
    fix_product (os, hive_get (cv, "CurrentBuildNumber"));
  }
  gk_free_strings (cv);
}

/* The host name in one key of the current control set; NULL if none. */
static char *
computer_name (guestfs_h *g, struct gk_ios *os, const char *hive, int64_t cur,
               const char *key, const char *value)
{
  char path[128], **kv;
  const char *name;
  char *r = NULL;

  snprintf (path, sizeof path, "ControlSet%03d\\%s", (int) cur, key);
  if ((kv = hive_values (g, os, hive, path)) == NULL)
    return NULL;
  if ((name = hive_get (kv, value)) != NULL)
    r = gk_inspect_clean (name, 255);
  gk_free_strings (kv);
  return r;
}

static void
system_hive (guestfs_h *g, struct gk_ios *os)
{
  char *hive = hive_path (g, os, "system"), **sel, *name;
  int64_t cur;

  if (hive == NULL)
    return;
  if ((sel = hive_values (g, os, hive, "Select")) == NULL) {
    free (hive);
    return;
  }
  cur = hive_number (sel, "Current");
  gk_free_strings (sel);
  if (cur < 0 || cur > 999) {
    gk_inspect_warn (g, os, "SYSTEM hive: no Select\\Current control set");
    cur = 1;
  }
  name = computer_name (g, os, hive, cur, "Services\\Tcpip\\Parameters", "Hostname");
  if (name == NULL || *name == '\0') {
    free (name);
    name = computer_name (g, os, hive, cur,
                          "Control\\ComputerName\\ComputerName", "ComputerName");
  }
  gk_inspect_set_opt (&os->hostname, name, 255);
  free (name);
  free (hive);
}

/* The machine of a PE executable; NULL if not one we know. */
static const char *
pe_arch (const unsigned char *p, size_t n)
{
  uint32_t off;
  unsigned m;

  if (n < 0x40 || p[0] != 'M' || p[1] != 'Z')
    return NULL;
  off = p[0x3c] | p[0x3d] << 8 | p[0x3e] << 16 | (uint32_t) p[0x3f] << 24;
  if (off > n - 6 || memcmp (p + off, "PE\0\0", 4) != 0)
    return NULL;
  m = p[off + 4] | p[off + 5] << 8;
  switch (m) {
  case 0x14c: return "i386";
  case 0x8664: return "x86_64";
  case 0xaa64: return "aarch64";
  case 0x1c0: case 0x1c4: return "arm";
  case 0x200: return "ia64";
  default: return NULL;
  }
}

static void
architecture (guestfs_h *g, struct gk_ios *os)
{
  char *path = real_path (g, os->systemroot, "/system32/cmd.exe"), *buf;
  const char *arch = NULL;
  size_t n;

  if (path && (buf = guestfs_pread (g, path, 4096, 0, &n)) != NULL) {
    arch = pe_arch ((unsigned char *) buf, n);
    free (buf);
  }
  if (arch)
    gk_inspect_set (&os->arch, arch, 32);
  else
    gk_inspect_warn (g, os, "architecture unknown: no readable "
                     "System32\\cmd.exe executable");
  free (path);
}

void
gk_inspect_windows (guestfs_h *g, struct gk_ios *os)
{
  gk_inspect_set (&os->distro, "windows", 16);
  software_hive (g, os);
  system_hive (g, os);
  architecture (g, os);
}

/* ---- Applications ---- */

/* The values asked for each subkey of an Uninstall key, in row order
 * after the subkey's own name. */
static const char *const uninstall_values[] = {
  "DisplayName", "DisplayVersion", "Publisher", "InstallLocation",
  "URLInfoAbout", "Comments", NULL,
};
#define UNINSTALL_ROW 7

static void
uninstall_keys (guestfs_h *g, struct gk_ios *os, const char *hive,
                const char *key, struct gk_apps *a)
{
  char **v = guestfs_internal_hive_subkeys (g, hive, key,
                                            (char *const *) uninstall_values);
  struct guestfs_application *p;
  size_t n = 0;

  if (v == NULL) {
    if (gk_inspect_alive (g))
      gk_inspect_warn (g, os, "%s", guestfs_last_error (g));
    return;
  }
  while (v[n])
    n++;
  if (n % UNINSTALL_ROW != 0)
    gk_inspect_warn (g, os, "%s: the appliance sent a broken list of subkeys", key);
  for (size_t i = 0; n % UNINSTALL_ROW == 0 && i < n && !a->full; i += UNINSTALL_ROW) {
    char **r = v + i;
    if (*r[1] == '\0' || (p = gk_apps_add (a)) == NULL)
      continue;
    gk_inspect_set (&p->app_name, r[0], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_display_name, r[1], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_version, r[2], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_publisher, r[3], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_install_path, r[4], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_url, r[5], GK_FIELD_MAX);
    gk_inspect_set_opt (&p->app_description, r[6], GK_TEXT_MAX);
  }
  gk_free_strings (v);
}

void
gk_inspect_windows_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  char *hive = hive_path (g, os, "software");

  if (hive == NULL)
    return;
  uninstall_keys (g, os, hive, "Microsoft\\Windows\\CurrentVersion\\Uninstall", a);
  uninstall_keys (g, os, hive,
                  "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall", a);
  free (hive);
}
