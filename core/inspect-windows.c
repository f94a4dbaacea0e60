/* core/inspect-windows.c: what a Windows root is, from its registry.
 *
 * A filesystem is a Windows root when it has \Windows\System32 (or
 * \WINNT\System32), in any case.  The registry hives SOFTWARE and SYSTEM
 * under System32\config are copied to temporary files on the host (at
 * most GK_BLOB_FILE_MAX bytes each) and read with libhivex:
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivex.h>

#include "inspect.h"

/* The path of a file as spelled on disk; NULL if it does not exist. */
static char *
real_path (guestfs_h *g, const char *dir, const char *rest)
{
  char *p, *r;

  if (asprintf (&p, "%s%s", dir, rest) == -1)
    abort ();
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

/* ---- Hives ---- */

static hive_h *
open_hive (guestfs_h *g, struct gk_ios *os, const char *name)
{
  char *rel, *path, *tmp = NULL;
  hive_h *h = NULL;
  int fd;

  if (asprintf (&rel, "/system32/config/%s", name) == -1)
    abort ();
  path = real_path (g, os->systemroot, rel);
  free (rel);
  if (path == NULL) {
    if (gk_inspect_alive (g))
      gk_inspect_warn (g, os, "no registry hive %s/System32/config/%s",
                       os->systemroot, name);
    return NULL;
  }
  if ((fd = gk_inspect_tmpfile (g, &tmp)) == -1) {
    gk_inspect_warn (g, os, "%s: no temporary file: %s", path, strerror (errno));
    free (path);
    return NULL;
  }
  if (gk_inspect_read_to_fd (g, os, path, GK_BLOB_FILE_MAX, fd) == 0 &&
      (h = hivex_open (tmp, 0)) == NULL)
    gk_inspect_warn (g, os, "%s: not a registry hive libhivex can read: %s",
                     path, strerror (errno));
  close (fd);
  unlink (tmp);                 /* hivex keeps its own copy or mapping */
  free (tmp);
  free (path);
  return h;
}

/* Follow a backslash-separated key path; 0 if it is not there. */
static hive_node_h
hive_node (hive_h *h, const char *path)
{
  char buf[512], *save = NULL;
  hive_node_h n = hivex_root (h);

  snprintf (buf, sizeof buf, "%s", path);
  for (char *k = strtok_r (buf, "\\", &save); k && n; k = strtok_r (NULL, "\\", &save))
    n = hivex_node_get_child (h, n, k);
  return n;
}

/* A string value, malloc'd UTF-8; NULL if missing or not a string. */
static char *
hive_string (hive_h *h, hive_node_h node, const char *key)
{
  hive_value_h v;

  if (node == 0 || (v = hivex_node_get_value (h, node, key)) == 0)
    return NULL;
  return hivex_value_string (h, v);
}

/* A DWORD value; -1 if missing or not a DWORD. */
static int64_t
hive_dword (hive_h *h, hive_node_h node, const char *key)
{
  hive_value_h v;
  hive_type t;
  size_t len;

  if (node == 0 || (v = hivex_node_get_value (h, node, key)) == 0 ||
      hivex_value_type (h, v, &t, &len) == -1 ||
      (t != hive_t_REG_DWORD && t != hive_t_REG_DWORD_BIG_ENDIAN) || len != 4)
    return -1;
  return (uint32_t) hivex_value_dword (h, v);
}

static void
set_string (char **field, char *s, size_t max)
{
  if (s && *s)
    gk_inspect_set (field, s, max);
  free (s);
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
software_hive (guestfs_h *g, struct gk_ios *os)
{
  hive_h *h = open_hive (g, os, "software");
  hive_node_h cv;
  int64_t major, minor;
  char *s;

  if (h == NULL)
    return;
  if ((cv = hive_node (h, "Microsoft\\Windows NT\\CurrentVersion")) == 0) {
    gk_inspect_warn (g, os, "SOFTWARE hive: no Microsoft\\Windows NT\\CurrentVersion");
    hivex_close (h);
    return;
  }
  set_string (&os->product_name, hive_string (h, cv, "ProductName"), 256);
  major = hive_dword (h, cv, "CurrentMajorVersionNumber");
  minor = hive_dword (h, cv, "CurrentMinorVersionNumber");
  if (major >= 0 && major < 1000) {
    os->major = (int) major;
    os->minor = minor >= 0 && minor < 1000 ? (int) minor : 0;
  } else if ((s = hive_string (h, cv, "CurrentVersion")) != NULL) {
    if (sscanf (s, "%3d.%3d", &os->major, &os->minor) != 2 || os->major < 0 ||
        os->minor < 0) {
      gk_inspect_warn (g, os, "SOFTWARE hive: CurrentVersion '%.32s' is not a "
                       "version", s);
      os->major = os->minor = 0;
    }
    free (s);
  } else
    gk_inspect_warn (g, os, "SOFTWARE hive: no version");
  s = hive_string (h, cv, "CurrentBuildNumber");
  fix_product (os, s);
  free (s);
  hivex_close (h);
}

static void
system_hive (guestfs_h *g, struct gk_ios *os)
{
  hive_h *h = open_hive (g, os, "system");
  int64_t cur;
  char key[128], *name;

  if (h == NULL)
    return;
  cur = hive_dword (h, hive_node (h, "Select"), "Current");
  if (cur < 0 || cur > 999) {
    gk_inspect_warn (g, os, "SYSTEM hive: no Select\\Current control set");
    cur = 1;
  }
  snprintf (key, sizeof key, "ControlSet%03d\\Services\\Tcpip\\Parameters", (int) cur);
  name = hive_string (h, hive_node (h, key), "Hostname");
  if (name == NULL || *name == '\0') {
    free (name);
    snprintf (key, sizeof key, "ControlSet%03d\\Control\\ComputerName\\ComputerName",
              (int) cur);
    name = hive_string (h, hive_node (h, key), "ComputerName");
  }
  set_string (&os->hostname, name, 255);
  hivex_close (h);
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

static void
uninstall_keys (hive_h *h, const char *path, struct gk_apps *a)
{
  hive_node_h node = hive_node (h, path), *kids;
  struct guestfs_application *p;
  char *name;

  if (node == 0 || (kids = hivex_node_children (h, node)) == NULL)
    return;
  for (size_t i = 0; kids[i] && !a->full; i++) {
    char *display = hive_string (h, kids[i], "DisplayName");
    if (display == NULL || *display == '\0' || (p = gk_apps_add (a)) == NULL) {
      free (display);
      continue;
    }
    name = hivex_node_name (h, kids[i]);
    set_string (&p->app_name, name, GK_FIELD_MAX);
    set_string (&p->app_display_name, display, GK_FIELD_MAX);
    set_string (&p->app_version, hive_string (h, kids[i], "DisplayVersion"), GK_FIELD_MAX);
    set_string (&p->app_publisher, hive_string (h, kids[i], "Publisher"), GK_FIELD_MAX);
    set_string (&p->app_install_path, hive_string (h, kids[i], "InstallLocation"), GK_FIELD_MAX);
    set_string (&p->app_url, hive_string (h, kids[i], "URLInfoAbout"), GK_FIELD_MAX);
    set_string (&p->app_description, hive_string (h, kids[i], "Comments"), GK_TEXT_MAX);
    if (p->app_name == NULL)
      p->app_name = strdup ("");
  }
  free (kids);
}

void
gk_inspect_windows_apps (guestfs_h *g, struct gk_ios *os, struct gk_apps *a)
{
  hive_h *h = open_hive (g, os, "software");

  if (h == NULL)
    return;
  uninstall_keys (h, "Microsoft\\Windows\\CurrentVersion\\Uninstall", a);
  uninstall_keys (h, "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall", a);
  hivex_close (h);
}
