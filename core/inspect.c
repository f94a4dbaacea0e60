/* core/inspect.c: the inspect_* calls, the per-handle results they read,
 * and the helpers every inspection file shares (warnings, cleaning of
 * guest strings, the string list).
 *
 * inspect_os unmounts everything, then mounts each filesystem it finds
 * read-only on "/" by itself and asks whether it is the root of an OS
 * (inspect-linux.c, inspect-windows.c).  For a root it reads the OS's
 * fstab (inspect-fs.c), mounts /usr and /var on top when they are
 * separate, reads what identifies the OS, and unmounts everything again.
 * The results stay in g->inspect until the next inspect_os or close; the
 * getters only read them.  inspect_list_applications reads the package
 * database when asked, mounting the OS read-only for the call if nothing
 * is mounted.
 *
 * The daemon calls made on the caller's behalf neither trace nor reach
 * the error handler (quiet_errors): a file that is missing or a
 * filesystem that will not mount is an answer, not an error.  Whatever
 * inspection could not read or understand becomes a warning on that
 * root (inspect_get_warnings, a guestkit extension).  Only misuse (an
 * unknown root) and a dead appliance are errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

/* ---- Memory ----
 *
 * Out of memory in inspection goes where it goes for the rest of the
 * library (errors.c: the handle's error handler, then its out-of-memory
 * handler, then abort) and counts for GUESTKIT_FAULT=alloc:N.  The
 * handle is the one whose inspect_* call runs on this thread: each entry
 * point sets it (a handle is used by one thread at a time); parsers run
 * outside any call (the fuzz targets) just abort.
 */
static __thread guestfs_h *oom_handle;

static void
oom_for (guestfs_h *g)
{
  oom_handle = g;
}

void *
gk_inspect_realloc (void *p, size_t n)
{
  return gk_realloc (oom_handle, p, n);
}

char *
gk_inspect_strdup (const char *s)
{
  return gk_strdup (oom_handle, s);
}

char *
gk_inspect_strndup (const char *s, size_t n)
{
  size_t len = strnlen (s, n);
  char *r = gk_malloc (oom_handle, len + 1);

  memcpy (r, s, len);
  r[len] = '\0';
  return r;
}

static char *
vformat (const char *fmt, va_list ap)
{
  va_list ap2;
  int n;
  char *r;

  va_copy (ap2, ap);
  n = vsnprintf (NULL, 0, fmt, ap2);
  va_end (ap2);
  r = gk_malloc (oom_handle, n < 0 ? 1 : (size_t) n + 1);
  if (n < 0)
    *r = '\0';
  else
    vsnprintf (r, (size_t) n + 1, fmt, ap);
  return r;
}

char *
gk_inspect_asprintf (const char *fmt, ...)
{
  va_list ap;
  char *r;

  va_start (ap, fmt);
  r = vformat (fmt, ap);
  va_end (ap);
  return r;
}

#define xrealloc gk_inspect_realloc
#define xstrdup gk_inspect_strdup

/* ---- The string list ---- */

void
gk_strv_take (struct gk_strv *l, char *s)
{
  if (l->n + 2 > l->cap) {
    l->cap = l->cap ? 2 * l->cap : 8;
    l->v = xrealloc (l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = s;
  l->v[l->n] = NULL;
}

void
gk_strv_add (struct gk_strv *l, const char *s)
{
  gk_strv_take (l, xstrdup (s));
}

int
gk_strv_has (const struct gk_strv *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp (l->v[i], s) == 0)
      return 1;
  return 0;
}

char **
gk_strv_copy (const struct gk_strv *l)
{
  char **r = xrealloc (NULL, (l->n + 1) * sizeof *r);

  for (size_t i = 0; i < l->n; i++)
    r[i] = xstrdup (l->v[i]);
  r[l->n] = NULL;
  return r;
}

void
gk_strv_free (struct gk_strv *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* ---- Cleaning guest strings ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len (const unsigned char *s, size_t n)
{
  size_t len;
  uint32_t c;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; c = s[0] & 0x1f; }
  else if (s[0] >= 0xe0 && s[0] <= 0xef) { len = 3; c = s[0] & 0x0f; }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4) { len = 4; c = s[0] & 0x07; }
  else return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
      (c >= 0xd800 && c <= 0xdfff))
    return 0;
  return len;
}

/* A copy of s that is valid UTF-8, without control characters other
 * than newline and tab, trimmed of surrounding blanks and cut to at
 * most max bytes (on a character boundary).  Caller frees. */
char *
gk_inspect_clean (const char *s, size_t max)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t n = strlen (s), o = 0;
  char *r;

  while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++, n--;
  while (n > 0 && (p[n-1] == ' ' || p[n-1] == '\t' || p[n-1] == '\n' ||
                   p[n-1] == '\r'))
    n--;
  r = xrealloc (NULL, (n < max ? n : max) + 1);
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len (p + i, n - i);
    if (k == 0 || (k == 1 && ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
                              p[i] == 0x7f))) {
      if (o + 1 > max)
        break;
      r[o++] = '?';
      i++;
      continue;
    }
    if (o + k > max)
      break;
    memcpy (r + o, p + i, k);
    o += k;
    i += k;
  }
  r[o] = '\0';
  return r;
}

/* Replace *field by a cleaned copy of value. */
void
gk_inspect_set (char **field, const char *value, size_t max)
{
  free (*field);
  *field = gk_inspect_clean (value, max);
}

/* The same, only when value is not NULL nor empty (else *field stays). */
void
gk_inspect_set_opt (char **field, const char *value, size_t max)
{
  if (value && *value)
    gk_inspect_set (field, value, max);
}

/* ---- Warnings ---- */

void
gk_inspect_warn (guestfs_h *g, struct gk_ios *os, const char *fmt, ...)
{
  va_list ap;
  char *msg, *clean;

  va_start (ap, fmt);
  msg = vformat (fmt, ap);
  va_end (ap);
  clean = gk_inspect_clean (msg, GK_FIELD_MAX);
  free (msg);
  gk_debug (g, "inspect: %s: %s", os ? os->root : "-", clean);
  if (os == NULL || gk_strv_has (&os->warnings, clean) ||
      os->warnings.n > GK_MAX_WARNINGS) {
    free (clean);
    return;
  }
  if (os->warnings.n == GK_MAX_WARNINGS) {
    free (clean);
    clean = xstrdup ("too many warnings: the rest were dropped");
  }
  gk_strv_take (&os->warnings, clean);
}

/* Is the appliance still there?  A failed daemon call is an answer only
 * while it is. */
int
gk_inspect_alive (guestfs_h *g)
{
  return g->state == GK_READY;
}

/* ---- The results ---- */

static void
free_os (struct gk_ios *os)
{
  free (os->root); free (os->type); free (os->distro);
  free (os->product_name); free (os->arch); free (os->hostname);
  free (os->pkg_format); free (os->pkg_mgmt); free (os->format);
  free (os->systemroot);
  for (size_t i = 0; i < os->nmnts; i++) {
    free (os->mnts[i].mountpoint);
    free (os->mnts[i].device);
    free (os->mnts[i].vfstype);
  }
  free (os->mnts);
  gk_strv_free (&os->fss);
  gk_strv_free (&os->warnings);
}

static void
free_results (struct gk_inspect *in)
{
  if (in == NULL)
    return;
  for (size_t i = 0; i < in->nfs; i++) {
    free (in->fs[i].device); free (in->fs[i].type);
    free (in->fs[i].label); free (in->fs[i].uuid);
  }
  free (in->fs);
  for (size_t i = 0; i < in->nos; i++)
    free_os (&in->os[i]);
  free (in->os);
  free (in);
}

void
gk_inspect_free (guestfs_h *g)
{
  free_results (g->inspect);
  g->inspect = NULL;
}

/* Calls made for the caller neither trace nor reach the error handler. */
struct inner {
  int trace;
};

static void
inner_begin (guestfs_h *g, struct inner *s)
{
  oom_for (g);
  g->quiet_errors++;
  s->trace = g->trace;
  g->trace = 0;
}

static void
inner_end (guestfs_h *g, const struct inner *s)
{
  g->quiet_errors--;
  g->trace = s->trace;
}

/* After inner_end: report the inner failure as call's error. */
static void
inner_failed (guestfs_h *g, const char *call)
{
  char *m = xstrdup (g->last_error ? g->last_error : "unknown error");

  if (!gk_inspect_alive (g))
    gk_error (g, "%s: the appliance is gone: %s", call, m);
  else
    gk_error (g, "%s: %s", call, m);
  free (m);
}

static struct gk_ios *
new_os (struct gk_inspect *in, const char *root, const char *type)
{
  struct gk_ios *os;

  in->os = xrealloc (in->os, (in->nos + 1) * sizeof *in->os);
  os = &in->os[in->nos++];
  memset (os, 0, sizeof *os);
  os->root = xstrdup (root);
  os->type = xstrdup (type);
  os->format = xstrdup ("installed");
  gk_strv_add (&os->fss, root);
  return os;
}

/* Fill what identification left unknown. */
static void
finish_os (struct gk_ios *os)
{
  char **f[] = { &os->distro, &os->product_name, &os->arch, &os->hostname,
                 &os->pkg_format, &os->pkg_mgmt };

  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    if (*f[i] == NULL || **f[i] == '\0')
      gk_inspect_set (f[i], "unknown", 16);
}

/* Mount /usr and /var of a Linux root on top of it (identification reads
 * /usr/lib/os-release, /usr/bin/ls and probes /var/lib). */
static int
want_usr_var (const char *mp)
{
  return strcmp (mp, "/usr") == 0 || strcmp (mp, "/var") == 0;
}

static void
inspect_linux_root (guestfs_h *g, struct gk_inspect *in, const char *device)
{
  struct gk_ios *os = new_os (in, device, "linux");
  char *fstab = gk_inspect_read (g, os, "/etc/fstab", GK_SMALL_FILE_MAX, NULL);

  if (fstab == NULL)
    gk_inspect_warn (g, os, "no readable /etc/fstab: only / is known");
  gk_inspect_fstab (g, in, os, fstab);
  free (fstab);
  for (size_t i = 1; i < os->nmnts; i++)
    if (want_usr_var (os->mnts[i].mountpoint) &&
        gk_inspect_mount_fs (g, os->mnts[i].device, os->mnts[i].vfstype,
                             os->mnts[i].mountpoint, 1) == -1 &&
        gk_inspect_alive (g))
      gk_inspect_warn (g, os, "could not mount %s on %s: %s",
                       os->mnts[i].device, os->mnts[i].mountpoint,
                       guestfs_last_error (g));
  gk_inspect_linux (g, os);
  finish_os (os);
}

static void
inspect_windows_root (guestfs_h *g, struct gk_inspect *in, const char *device,
                      char *systemroot)
{
  struct gk_ios *os = new_os (in, device, "windows");
  const struct gk_ifs *fs = gk_inspect_fs (in, device);

  os->systemroot = systemroot;
  os->mnts = xrealloc (NULL, sizeof *os->mnts);
  os->mnts[0].mountpoint = xstrdup ("/");
  os->mnts[0].device = xstrdup (device);
  os->mnts[0].vfstype = xstrdup (fs ? fs->type : "");
  os->nmnts = 1;
  gk_inspect_windows (g, os);
  finish_os (os);
}

static int
mountable (const char *type)
{
  static const char *const no[] = { "", "swap", "LVM2_member", "crypto_LUKS",
    "linux_raid_member", "iso9660", "squashfs", "zfs_member", NULL };

  for (size_t i = 0; no[i]; i++)
    if (strcmp (type, no[i]) == 0)
      return 0;
  return 1;
}

/* Mount one filesystem alone on "/" and inspect it if it is a root.
 * -1 only when the appliance is gone or will not unmount. */
static int
try_root (guestfs_h *g, struct gk_inspect *in, const struct gk_ifs *fs)
{
  char *systemroot;
  int r;

  if (gk_inspect_mount_fs (g, fs->device, fs->type, "/", 1) == -1) {
    gk_debug (g, "inspect: %s: not mountable: %s", fs->device,
              guestfs_last_error (g));
    return gk_inspect_alive (g) ? 0 : -1;
  }
  if ((r = gk_inspect_is_linux_root (g)) == 1)
    inspect_linux_root (g, in, fs->device);
  else if (r == 0 && (systemroot = gk_inspect_windows_root (g)) != NULL)
    inspect_windows_root (g, in, fs->device, systemroot);
  return guestfs_umount_all (g);
}

char **
gk_impl_inspect_os (guestfs_h *g)
{
  struct gk_inspect *in = xrealloc (NULL, sizeof *in);
  struct gk_strv roots = { 0 };
  struct inner s;
  int r;

  memset (in, 0, sizeof *in);
  inner_begin (g, &s);
  r = guestfs_umount_all (g) == -1 ? -1 : gk_inspect_find_filesystems (g, in);
  for (size_t i = 0; r == 0 && i < in->nfs; i++)
    if (mountable (in->fs[i].type))
      r = try_root (g, in, &in->fs[i]);
  inner_end (g, &s);
  if (r == -1) {
    inner_failed (g, "inspect_os");
    free_results (in);
    return NULL;
  }
  gk_inspect_free (g);
  g->inspect = in;
  for (size_t i = 0; i < in->nos; i++)
    gk_strv_add (&roots, in->os[i].root);
  if (roots.v == NULL)
    return gk_calloc (g, 1, sizeof (char *));     /* no OS: an empty list */
  return roots.v;
}

/* ---- The getters ---- */

static struct gk_ios *
find_root (guestfs_h *g, const char *call, const char *root)
{
  oom_for (g);
  if (g->inspect == NULL) {
    gk_error (g, "%s: %s: no inspection results: call guestfs_inspect_os first",
              call, root);
    return NULL;
  }
  for (size_t i = 0; i < g->inspect->nos; i++)
    if (strcmp (g->inspect->os[i].root, root) == 0)
      return &g->inspect->os[i];
  gk_error (g, "%s: %s: not a root that guestfs_inspect_os found", call, root);
  return NULL;
}

#define STRING_GETTER(name, field)                                      \
  char *                                                                \
  gk_impl_inspect_get_##name (guestfs_h *g, const char *root)           \
  {                                                                     \
    struct gk_ios *os = find_root (g, "inspect_get_" #name, root);      \
    return os ? gk_strdup (g, os->field) : NULL;                        \
  }

STRING_GETTER (type, type)
STRING_GETTER (distro, distro)
STRING_GETTER (product_name, product_name)
STRING_GETTER (arch, arch)
STRING_GETTER (hostname, hostname)
STRING_GETTER (package_format, pkg_format)
STRING_GETTER (package_management, pkg_mgmt)
STRING_GETTER (format, format)

int
gk_impl_inspect_get_major_version (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_get_major_version", root);
  return os ? os->major : -1;
}

int
gk_impl_inspect_get_minor_version (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_get_minor_version", root);
  return os ? os->minor : -1;
}

int
gk_impl_inspect_is_live (guestfs_h *g, const char *root)
{
  return find_root (g, "inspect_is_live", root) ? 0 : -1;
}

char **
gk_impl_inspect_get_mountpoints (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_get_mountpoints", root);
  struct gk_strv l = { 0 };

  if (os == NULL)
    return NULL;
  for (size_t i = 0; i < os->nmnts; i++) {
    gk_strv_add (&l, os->mnts[i].mountpoint);
    gk_strv_add (&l, os->mnts[i].device);
  }
  return l.v ? l.v : gk_calloc (g, 1, sizeof (char *));
}

char **
gk_impl_inspect_get_filesystems (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_get_filesystems", root);
  return os ? gk_strv_copy (&os->fss) : NULL;
}

char **
gk_impl_inspect_get_warnings (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_get_warnings", root);
  return os ? gk_strv_copy (&os->warnings) : NULL;
}

/* ---- Mounting and applications ---- */

int
gk_impl_inspect_mount_root (guestfs_h *g, const char *root, int readonly)
{
  struct gk_ios *os = find_root (g, "inspect_mount_root", root);
  struct inner s;
  int r;

  if (os == NULL)
    return -1;
  inner_begin (g, &s);
  r = guestfs_umount_all (g);
  if (r == 0)
    r = gk_inspect_mount_os (g, os, readonly, NULL);
  inner_end (g, &s);
  if (r == -1)
    inner_failed (g, "inspect_mount_root");
  return r;
}

/* Where package databases live: what list_applications mounts. */
static int
want_pkgdb (const char *mp)
{
  return want_usr_var (mp) || strncmp (mp, "/var/lib", 8) == 0;
}

/* Is this OS's root what is mounted on "/" now?  1 yes, 0 nothing is
 * mounted, -1 something else is (or the call failed). */
static int
root_mounted (guestfs_h *g, struct gk_ios *os)
{
  char **mp = guestfs_mountpoints (g);
  int r = -1;

  if (mp == NULL)
    return -1;
  if (mp[0] == NULL)
    r = 0;
  for (size_t i = 0; mp[i] && mp[i+1]; i += 2)
    if (strcmp (mp[i+1], "/") == 0 && strcmp (mp[i], os->root) == 0)
      r = 1;
  for (size_t i = 0; mp[i]; i++)
    free (mp[i]);
  free (mp);
  if (r == -1)
    gk_error (g, "%s: other filesystems are mounted: call guestfs_umount_all "
              "or mount this OS with guestfs_inspect_mount_root first", os->root);
  return r;
}

static int
cmp_app (const void *a, const void *b)
{
  const struct guestfs_application *x = a, *y = b;
  int c = strcmp (x->app_name, y->app_name);
  return c ? c : strcmp (x->app_version, y->app_version);
}

/* Every string field set (empty when unknown), sorted by name. */
static struct guestfs_application_list *
finish_apps (struct gk_apps *a)
{
  struct guestfs_application_list *l = xrealloc (NULL, sizeof *l);

  for (size_t i = 0; i < a->n; i++) {
    struct guestfs_application *p = &a->v[i];
    char **f[] = { &p->app_name, &p->app_display_name, &p->app_version,
                   &p->app_release, &p->app_arch, &p->app_install_path,
                   &p->app_trans_path, &p->app_publisher, &p->app_url,
                   &p->app_source_package, &p->app_summary,
                   &p->app_description };
    for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
      if (*f[j] == NULL)
        *f[j] = xstrdup ("");
  }
  if (a->n > 1)
    qsort (a->v, a->n, sizeof *a->v, cmp_app);
  l->len = (uint32_t) a->n;
  l->val = a->v ? a->v : xrealloc (NULL, sizeof *l->val);
  return l;
}

struct guestfs_application_list *
gk_impl_inspect_list_applications (guestfs_h *g, const char *root)
{
  struct gk_ios *os = find_root (g, "inspect_list_applications", root);
  struct gk_apps a = { 0 };
  struct inner s;
  int m, r = 0;

  if (os == NULL)
    return NULL;
  inner_begin (g, &s);
  m = root_mounted (g, os);
  if (m == 0)
    r = gk_inspect_mount_os (g, os, 1, want_pkgdb);
  if (m >= 0 && r == 0) {
    gk_inspect_apps (g, os, &a);
    if (a.full)
      gk_inspect_warn (g, os, "more than %d applications: the rest were dropped",
                       GK_MAX_APPS);
  }
  if (m == 0 && guestfs_umount_all (g) == -1)
    r = -1;
  if (!gk_inspect_alive (g))
    r = -1;
  inner_end (g, &s);
  if (m == -1 || r == -1) {
    guestfs_free_application_list (finish_apps (&a));
    inner_failed (g, "inspect_list_applications");
    return NULL;
  }
  return finish_apps (&a);
}
