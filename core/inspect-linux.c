/* core/inspect-linux.c: what a Linux root is.
 *
 * Called with the candidate root mounted on "/" (and its /usr and /var on
 * top when they are separate).  The sources, best first:
 *
 *   /etc/os-release, /usr/lib/os-release   ID, ID_LIKE, VERSION_ID, PRETTY_NAME
 *   /etc/debian_version                     Debian's minor version (12.5)
 *   /etc/redhat-release, /etc/SuSE-release, /etc/lsb-release,
 *   /etc/alpine-release, /etc/arch-release, /etc/gentoo-release
 *                                           guests too old for os-release
 *   /etc/hostname, /etc/HOSTNAME, /etc/sysconfig/network   the host name
 *   the ELF header of /bin/ls and friends   the architecture
 *
 * A missing or strange file is a warning, and the facts that other files
 * can give are still given.  An unknown distribution ID still yields the
 * package format from ID_LIKE, or from which package database exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

/* Known distributions: os-release ID -> our name and package tools.
 * dnf_since: first major version that uses dnf instead of yum (0: n/a). */
struct distro {
  const char *id, *name, *fmt, *mgmt;
  int dnf_since;
};

static const struct distro distros[] = {
  { "debian", "debian", "deb", "apt", 0 },
  { "ubuntu", "ubuntu", "deb", "apt", 0 },
  { "linuxmint", "linuxmint", "deb", "apt", 0 },
  { "kali", "kalilinux", "deb", "apt", 0 },
  { "fedora", "fedora", "rpm", "dnf", 22 },
  { "rhel", "rhel", "rpm", "dnf", 8 },
  { "centos", "centos", "rpm", "dnf", 8 },
  { "rocky", "rocky", "rpm", "dnf", 8 },
  { "almalinux", "almalinux", "rpm", "dnf", 8 },
  { "ol", "oraclelinux", "rpm", "dnf", 8 },
  { "scientific", "scientificlinux", "rpm", "yum", 0 },
  { "opensuse", "opensuse", "rpm", "zypper", 0 },
  { "opensuse-leap", "opensuse", "rpm", "zypper", 0 },
  { "opensuse-tumbleweed", "opensuse", "rpm", "zypper", 0 },
  { "opensuse-microos", "opensuse", "rpm", "zypper", 0 },
  { "sles", "sles", "rpm", "zypper", 0 },
  { "sled", "sles", "rpm", "zypper", 0 },
  { "mageia", "mageia", "rpm", "urpmi", 0 },
  { "altlinux", "altlinux", "rpm", "apt", 0 },
  { "alpine", "alpinelinux", "apk", "apk", 0 },
  { "arch", "archlinux", "pacman", "pacman", 0 },
  { "gentoo", "gentoo", "ebuild", "portage", 0 },
  { "void", "voidlinux", "xbps", "xbps", 0 },
  /* Families only reached through ID_LIKE. */
  { "suse", "unknown", "rpm", "zypper", 0 },
  { NULL, NULL, NULL, NULL, 0 },
};

static const struct distro *
find_distro (const char *id)
{
  for (const struct distro *d = distros; d->id; d++)
    if (strcmp (d->id, id) == 0)
      return d;
  return NULL;
}

/* ---- KEY=value files (os-release, lsb-release, SuSE-release, ...) ---- */

#define KV_MAX 64

struct kv {
  char *key[KV_MAX], *val[KV_MAX];
  size_t n;
};

/* A value: "quoted" (with \ escapes), 'quoted', or bare; in place. */
static char *
kv_value (char *p)
{
  char q = *p, *o, *v;

  if (q != '"' && q != '\'') {
    p[strcspn (p, "#")] = '\0';
    for (size_t n = strlen (p); n > 0 && (p[n-1] == ' ' || p[n-1] == '\t'); n--)
      p[n-1] = '\0';
    return p;
  }
  v = o = ++p;
  for (; *p && *p != q; p++) {
    if (q == '"' && p[0] == '\\' && p[1])
      p++;
    *o++ = *p;
  }
  *o = '\0';
  return v;
}

static void
parse_kv (char *text, struct kv *kv)
{
  char *save = NULL, *line, *k, *p;

  for (line = strtok_r (text, "\n", &save); line && kv->n < KV_MAX;
       line = strtok_r (NULL, "\n", &save)) {
    k = line + strspn (line, " \t");
    p = k + strspn (k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789_");
    if (p == k)
      continue;
    line = p + strspn (p, " \t");
    if (*line != '=')
      continue;
    *p = '\0';
    line++;
    kv->key[kv->n] = k;
    kv->val[kv->n++] = kv_value (line + strspn (line, " \t"));
  }
}

static const char *
kv_get (const struct kv *kv, const char *key)
{
  for (size_t i = kv->n; i-- > 0;)
    if (strcmp (kv->key[i], key) == 0)
      return kv->val[i];
  return NULL;
}

/* ---- Versions ---- */

/* A number of at most 9 digits at *p, moving *p past it; -1 if none. */
static int
number (const char **p)
{
  int n = 0, d = 0;

  while (**p >= '0' && **p <= '9') {
    if (++d > 9)
      return -1;
    n = n * 10 + (**p - '0');
    (*p)++;
  }
  return d ? n : -1;
}

/* "12", "22.04", "3.19.1", "7.9.2009": 1 if at least a major was found. */
static int
parse_version (const char *s, int *major, int *minor)
{
  int a, b = 0;

  if ((a = number (&s)) < 0)
    return 0;
  if (*s == '.' && (s++, (b = number (&s))) < 0)
    b = 0;
  *major = a;
  *minor = b;
  return 1;
}

/* ---- What we learn, before it goes into the root ---- */

struct ident {
  const struct distro *d;      /* the distribution, or its family */
  int known;                   /* d names the distribution itself */
  char *product;               /* malloc'd, or NULL */
  int major, minor, have_version;
};

static void
set_product (struct ident *id, const char *s)
{
  if (s && *s) {
    free (id->product);
    id->product = strdup (s);
  }
}

static void
set_version (struct ident *id, const char *s)
{
  if (s && parse_version (s, &id->major, &id->minor))
    id->have_version = 1;
}

static const struct distro *
family_of (const char *like)
{
  char buf[256], *save = NULL;
  const struct distro *d;

  snprintf (buf, sizeof buf, "%s", like);
  for (char *w = strtok_r (buf, " \t", &save); w; w = strtok_r (NULL, " \t", &save))
    if ((d = find_distro (w)) != NULL)
      return d;
  return NULL;
}

/* os-release: 1 if it was there. */
static int
from_os_release (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  char *text = gk_inspect_read (g, os, "/etc/os-release", GK_SMALL_FILE_MAX, NULL);
  struct kv kv = { 0 };
  const char *v, *name;

  if (text == NULL)
    text = gk_inspect_read (g, os, "/usr/lib/os-release", GK_SMALL_FILE_MAX, NULL);
  if (text == NULL)
    return 0;
  parse_kv (text, &kv);
  if ((v = kv_get (&kv, "ID")) != NULL && (id->d = find_distro (v)) != NULL &&
      strcmp (id->d->name, "unknown") != 0)
    id->known = 1;
  else {
    id->d = NULL;
    if ((name = kv_get (&kv, "ID_LIKE")) != NULL)
      id->d = family_of (name);
    gk_inspect_warn (g, os, "os-release: unknown distribution ID '%.64s'%s%s",
                     v ? v : "", id->d ? "; like " : "", id->d ? id->d->id : "");
  }
  set_version (id, kv_get (&kv, "VERSION_ID"));
  set_product (id, kv_get (&kv, "NAME"));
  set_product (id, kv_get (&kv, "PRETTY_NAME"));
  free (text);
  return 1;
}

/* "Fedora release 39 (Thirty Nine)", "CentOS Linux release 7.9.2009 (Core)" */
static int
from_redhat_release (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  static const struct { const char *prefix, *id; } rh[] = {
    { "Fedora", "fedora" }, { "Red Hat Enterprise Linux", "rhel" },
    { "CentOS", "centos" }, { "Rocky Linux", "rocky" },
    { "AlmaLinux", "almalinux" }, { "Oracle Linux", "ol" },
    { "Scientific Linux", "scientific" }, { NULL, NULL },
  };
  char *text = gk_inspect_read (g, os, "/etc/redhat-release", GK_SMALL_FILE_MAX, NULL);
  const char *rel;

  if (text == NULL)
    return 0;
  text[strcspn (text, "\n")] = '\0';
  id->d = find_distro ("fedora");    /* the family, until the name is known */
  for (size_t i = 0; rh[i].prefix; i++)
    if (strncmp (text, rh[i].prefix, strlen (rh[i].prefix)) == 0) {
      id->d = find_distro (rh[i].id);
      id->known = 1;
    }
  if ((rel = strstr (text, "release ")) != NULL)
    set_version (id, rel + 8);
  set_product (id, text);
  free (text);
  return 1;
}

/* "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4" */
static int
from_suse_release (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  char *text = gk_inspect_read (g, os, "/etc/SuSE-release", GK_SMALL_FILE_MAX, NULL);
  struct kv kv = { 0 };
  char first[256];
  const char *v;
  int patch;

  if (text == NULL)
    return 0;
  snprintf (first, sizeof first, "%.*s", (int) strcspn (text, "\n"), text);
  parse_kv (text, &kv);
  id->d = find_distro (strstr (first, "openSUSE") ? "opensuse" : "sles");
  id->known = 1;
  set_version (id, kv_get (&kv, "VERSION"));
  if (id->have_version && id->minor == 0 && (v = kv_get (&kv, "PATCHLEVEL")) &&
      (patch = number (&v)) >= 0)
    id->minor = patch;
  first[strcspn (first, "(")] = '\0';
  set_product (id, first);
  free (text);
  return 1;
}

static int
from_lsb_release (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  char *text = gk_inspect_read (g, os, "/etc/lsb-release", GK_SMALL_FILE_MAX, NULL);
  struct kv kv = { 0 };
  const char *v;
  char lower[64];
  size_t i;

  if (text == NULL)
    return 0;
  parse_kv (text, &kv);
  if ((v = kv_get (&kv, "DISTRIB_ID")) != NULL) {
    for (i = 0; v[i] && i + 1 < sizeof lower; i++)
      lower[i] = (char) (v[i] >= 'A' && v[i] <= 'Z' ? v[i] - 'A' + 'a' : v[i]);
    lower[i] = '\0';
    if ((id->d = find_distro (lower)) != NULL)
      id->known = 1;
  }
  set_version (id, kv_get (&kv, "DISTRIB_RELEASE"));
  set_product (id, kv_get (&kv, "DISTRIB_DESCRIPTION"));
  free (text);
  return id->known;
}

/* A one-line file holding a version: debian_version, alpine-release. */
static int
from_version_file (guestfs_h *g, struct gk_ios *os, struct ident *id,
                   const char *path, const char *distro)
{
  char *text = gk_inspect_read (g, os, path, GK_SMALL_FILE_MAX, NULL);

  if (text == NULL)
    return 0;
  id->d = find_distro (distro);
  id->known = 1;
  set_version (id, text);
  free (text);
  return 1;
}

static int
exists (guestfs_h *g, const char *path)
{
  return guestfs_exists (g, path) == 1;
}

/* Guests without os-release, or with an ID we do not know. */
static void
from_legacy_files (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  if (from_redhat_release (g, os, id) || from_suse_release (g, os, id) ||
      from_lsb_release (g, os, id) ||
      from_version_file (g, os, id, "/etc/debian_version", "debian") ||
      from_version_file (g, os, id, "/etc/alpine-release", "alpine"))
    return;
  if (exists (g, "/etc/arch-release")) {
    id->d = find_distro ("arch");
    id->known = 1;
  } else if (exists (g, "/etc/gentoo-release")) {
    id->d = find_distro ("gentoo");
    id->known = 1;
  }
}

/* Debian's os-release says "12"; /etc/debian_version says "12.5". */
static void
debian_minor (guestfs_h *g, struct gk_ios *os, struct ident *id)
{
  char *text = gk_inspect_read (g, os, "/etc/debian_version", GK_SMALL_FILE_MAX, NULL);
  int a, b;

  if (text && parse_version (text, &a, &b) && (!id->have_version || a == id->major)) {
    id->major = a;
    id->minor = b;
    id->have_version = 1;
  }
  free (text);
}

/* The package database that exists, for a distribution we do not know. */
static void
probe_packages (guestfs_h *g, struct gk_ios *os)
{
  static const struct { const char *path, *fmt, *mgmt; } db[] = {
    { "/var/lib/dpkg/status", "deb", "apt" },
    { "/var/lib/rpm", "rpm", NULL },
    { "/usr/lib/sysimage/rpm", "rpm", NULL },
    { "/lib/apk/db/installed", "apk", "apk" },
    { "/var/lib/pacman/local", "pacman", "pacman" },
    { NULL, NULL, NULL },
  };
  static const char *const rpm_tools[][2] = {
    { "/usr/bin/zypper", "zypper" }, { "/usr/bin/dnf", "dnf" },
    { "/usr/bin/yum", "yum" }, { NULL, NULL },
  };
  const char *mgmt = NULL;

  for (size_t i = 0; db[i].path; i++)
    if (exists (g, db[i].path)) {
      mgmt = db[i].mgmt;
      for (size_t j = 0; !mgmt && rpm_tools[j][0]; j++)
        if (exists (g, rpm_tools[j][0]))
          mgmt = rpm_tools[j][1];
      gk_inspect_set (&os->pkg_format, db[i].fmt, 16);
      gk_inspect_set (&os->pkg_mgmt, mgmt ? mgmt : "unknown", 16);
      return;
    }
}

static void
packaging (guestfs_h *g, struct gk_ios *os, const struct ident *id)
{
  const char *mgmt;

  if (id->d == NULL) {
    probe_packages (g, os);
    return;
  }
  mgmt = id->d->mgmt;
  if (id->d->dnf_since) {
    if (id->have_version && id->major > 0)
      mgmt = id->major >= id->d->dnf_since ? "dnf" : "yum";
    else
      mgmt = exists (g, "/usr/bin/dnf") ? "dnf" : "yum";
  }
  gk_inspect_set (&os->pkg_format, id->d->fmt, 16);
  gk_inspect_set (&os->pkg_mgmt, mgmt, 16);
}

/* ---- Host name ---- */

static int
valid_hostname (const char *s)
{
  size_t n = strlen (s);

  return n > 0 && n <= 255 &&
    strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789-._") == n;
}

/* The first line that is not blank or a comment, without the comment
 * and surrounding blanks. */
static char *
first_line (char *text)
{
  char *save = NULL;
  size_t n;

  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
    l += strspn (l, " \t\r");
    l[strcspn (l, "#")] = '\0';
    for (n = strlen (l); n > 0 && strchr (" \t\r", l[n-1]); n--)
      l[n-1] = '\0';
    if (*l)
      return l;
  }
  return NULL;
}

static void
hostname (guestfs_h *g, struct gk_ios *os)
{
  static const char *const files[] = { "/etc/hostname", "/etc/HOSTNAME", NULL };
  const char *h = NULL, *from = NULL;
  char *text = NULL;
  struct kv kv = { 0 };

  for (size_t i = 0; !h && files[i]; i++) {
    free (text);
    if ((text = gk_inspect_read (g, os, files[i], GK_SMALL_FILE_MAX, NULL)))
      h = first_line (text), from = files[i];
  }
  if (!h) {
    free (text);
    from = "/etc/sysconfig/network";
    if ((text = gk_inspect_read (g, os, from, GK_SMALL_FILE_MAX, NULL))) {
      parse_kv (text, &kv);
      h = kv_get (&kv, "HOSTNAME");
    }
  }
  if (h && valid_hostname (h))
    gk_inspect_set (&os->hostname, h, 255);
  else if (h)
    gk_inspect_warn (g, os, "%s: not a usable host name: '%.64s'", from, h);
  free (text);
}

/* ---- Architecture ---- */

/* The architecture an ELF header (n bytes of it) is for; NULL if none. */
char *
gk_inspect_elf_arch (const unsigned char *h, size_t n)
{
  unsigned machine;
  int is64, le;

  if (n < 20 || memcmp (h, "\177ELF", 4) != 0 || (h[4] != 1 && h[4] != 2) ||
      (h[5] != 1 && h[5] != 2))
    return NULL;
  is64 = h[4] == 2;
  le = h[5] == 1;
  machine = le ? (unsigned) (h[18] | h[19] << 8) : (unsigned) (h[18] << 8 | h[19]);
  switch (machine) {
  case 3: return strdup ("i386");
  case 62: return strdup ("x86_64");
  case 40: return strdup ("arm");
  case 183: return strdup ("aarch64");
  case 8: return strdup (is64 ? (le ? "mips64el" : "mips64") : (le ? "mipsel" : "mips"));
  case 20: return strdup ("ppc");
  case 21: return strdup (le ? "ppc64le" : "ppc64");
  case 22: return strdup (is64 ? "s390x" : "s390");
  case 243: return strdup (is64 ? "riscv64" : "riscv32");
  case 2: return strdup ("sparc");
  case 43: return strdup ("sparc64");
  case 50: return strdup ("ia64");
  case 258: return strdup ("loongarch64");
  default: return NULL;
  }
}

static void
architecture (guestfs_h *g, struct gk_ios *os)
{
  static const char *const bins[] = { "/bin/ls", "/usr/bin/ls", "/bin/sh",
    "/usr/bin/sh", "/bin/busybox", "/sbin/init", "/usr/lib/systemd/systemd",
    "/bin/bash", "/usr/bin/bash", NULL };
  char *h, *arch = NULL;
  size_t n;

  for (size_t i = 0; !arch && bins[i]; i++) {
    if ((h = guestfs_pread (g, bins[i], 64, 0, &n)) == NULL)
      continue;
    arch = gk_inspect_elf_arch ((unsigned char *) h, n);
    free (h);
  }
  if (arch == NULL) {
    gk_inspect_warn (g, os, "architecture unknown: no ELF executable among "
                     "/bin/ls, /bin/sh, /sbin/init and the like");
    return;
  }
  gk_inspect_set (&os->arch, arch, 32);
  free (arch);
}

/* ---- The root ---- */

/* 1 if the filesystem mounted on "/" looks like a Linux root. */
int
gk_inspect_is_linux_root (guestfs_h *g)
{
  if (guestfs_is_dir (g, "/etc") != 1)
    return gk_inspect_alive (g) ? 0 : -1;
  return guestfs_is_file (g, "/etc/fstab") == 1 ||
    guestfs_is_file (g, "/etc/passwd") == 1 ||
    guestfs_exists (g, "/etc/os-release") == 1;
}

void
gk_inspect_linux (guestfs_h *g, struct gk_ios *os)
{
  struct ident id = { 0 };

  if (!from_os_release (g, os, &id)) {
    gk_inspect_warn (g, os, "no /etc/os-release or /usr/lib/os-release");
    from_legacy_files (g, os, &id);
  } else if (id.d == NULL)
    from_legacy_files (g, os, &id);
  if (id.known && strcmp (id.d->name, "debian") == 0)
    debian_minor (g, os, &id);
  if (id.d == NULL && !id.known)
    gk_inspect_warn (g, os, "distribution not recognised");
  gk_inspect_set (&os->distro, id.known ? id.d->name : "unknown", 32);
  if (id.product)
    gk_inspect_set (&os->product_name, id.product, 256);
  os->major = id.have_version ? id.major : 0;
  os->minor = id.have_version ? id.minor : 0;
  free (id.product);
  packaging (g, os, &id);
  hostname (g, os);
  architecture (g, os);
}
