/* runner/inspect-cli.c: `guestkit inspect', what OS is inside some disk
 * images, as JSON (or virt-inspector's XML with --xml).
 *
 *   guestkit inspect [--format=FMT] [--ro] [--xml] -a IMG [-a IMG2 ...]
 *
 * The images are the disks of one machine: all go on one handle, always
 * read-only (inspection never writes; --ro is accepted for symmetry with
 * the shell).  The output is a list with one object per OS found:
 *
 *   key                 from
 *   root                inspect_os
 *   type .. package_management   inspect_get_TYPE (major/minor: numbers)
 *   mountpoints         inspect_get_mountpoints: {mountpoint: device}
 *   filesystems         inspect_get_filesystems, each [{device, type,
 *                       label, uuid}]: type from vfs_type, label and uuid
 *                       from get_e2label/get_e2uuid for ext2/3/4, else ""
 *   applications        inspect_list_applications: [{name, version,
 *                       release, arch}]
 *   warnings            inspect_get_warnings (after the applications)
 *
 * Exit status: 0 (also when no OS is found: `[]'), 1 when an image
 * cannot be read or the appliance fails, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "runner.h"

/* The per-OS facts, in output order. */
enum { F_TYPE, F_DISTRO, F_PRODUCT, F_MAJOR, F_MINOR, F_ARCH, F_HOSTNAME,
       F_PKGFMT, F_PKGMGMT, NFACTS };

static const struct fact {
  const char *json;          /* key in JSON */
  const char *xml;           /* virt-inspector's element */
  char *(*get_s) (guestfs_h *, const char *);
  int (*get_i) (guestfs_h *, const char *);
} facts[NFACTS] = {
  { "type", "name", guestfs_inspect_get_type, NULL },
  { "distro", "distro", guestfs_inspect_get_distro, NULL },
  { "product_name", "product_name", guestfs_inspect_get_product_name, NULL },
  { "major_version", "major_version", NULL, guestfs_inspect_get_major_version },
  { "minor_version", "minor_version", NULL, guestfs_inspect_get_minor_version },
  { "arch", "arch", guestfs_inspect_get_arch, NULL },
  { "hostname", "hostname", guestfs_inspect_get_hostname, NULL },
  { "package_format", "package_format", guestfs_inspect_get_package_format, NULL },
  { "package_management", "package_management",
    guestfs_inspect_get_package_management, NULL },
};

struct fsinfo {
  char *device, *type, *label, *uuid;   /* "" when unknown */
};

struct osinfo {
  char *root;
  char *val[NFACTS];         /* numbers as decimal text */
  char **mountpoints;        /* mountpoint, device, ... */
  struct fsinfo *fs;
  size_t nfs;
  struct guestfs_application_list *apps;
  char **warnings;
};

static void
strv_free (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

static void
os_free (struct osinfo *os)
{
  free (os->root);
  for (int i = 0; i < NFACTS; i++)
    free (os->val[i]);
  strv_free (os->mountpoints);
  for (size_t i = 0; i < os->nfs; i++) {
    free (os->fs[i].device);
    free (os->fs[i].type);
    free (os->fs[i].label);
    free (os->fs[i].uuid);
  }
  free (os->fs);
  if (os->apps)
    guestfs_free_application_list (os->apps);
  strv_free (os->warnings);
}

/* ---- Collecting ---- */

/* s, or "" when the call failed (a device without a filesystem). */
static char *
or_empty (char *s)
{
  return s ? s : rn_strdup ("");
}

static void
fs_info (guestfs_h *g, const char *dev, struct fsinfo *f)
{
  f->device = rn_strdup (dev);
  f->type = or_empty (guestfs_vfs_type (g, dev));
  if (strncmp (f->type, "ext", 3) == 0) {
    f->label = or_empty (guestfs_get_e2label (g, dev));
    f->uuid = or_empty (guestfs_get_e2uuid (g, dev));
  } else {
    f->label = rn_strdup ("");
    f->uuid = rn_strdup ("");
  }
}

static int
collect_facts (guestfs_h *g, struct osinfo *os)
{
  for (int i = 0; i < NFACTS; i++) {
    if (facts[i].get_s)
      os->val[i] = facts[i].get_s (g, os->root);
    else {
      int v = facts[i].get_i (g, os->root);
      os->val[i] = v == -1 ? NULL : rn_asprintf ("%d", v);
    }
    if (os->val[i] == NULL)
      return -1;
  }
  return 0;
}

/* Everything about one root; -1 when the library fails (its error is
 * in the handle). */
static int
collect (guestfs_h *g, struct osinfo *os)
{
  char **devs;

  if (collect_facts (g, os) == -1 ||
      (os->mountpoints = guestfs_inspect_get_mountpoints (g, os->root)) == NULL ||
      (devs = guestfs_inspect_get_filesystems (g, os->root)) == NULL)
    return -1;
  while (devs[os->nfs])
    os->nfs++;
  os->fs = rn_calloc (os->nfs, sizeof *os->fs);
  for (size_t i = 0; i < os->nfs; i++)
    fs_info (g, devs[i], &os->fs[i]);
  strv_free (devs);
  if ((os->apps = guestfs_inspect_list_applications (g, os->root)) == NULL ||
      (os->warnings = guestfs_inspect_get_warnings (g, os->root)) == NULL)
    return -1;
  return 0;
}

/* ---- JSON ---- */

static void
json_key (struct rn_buf *b, const char *indent, const char *key)
{
  rn_buf_addf (b, ",\n%s", indent);
  rn_json_strz (b, key);
  rn_buf_adds (b, ": ");
}

/* {"k0": v0, "k1": v1, ...} on one line. */
static void
json_object (struct rn_buf *b, const char *const *keys, const char *const *vals, size_t n)
{
  rn_buf_addc (b, '{');
  for (size_t i = 0; i < n; i++) {
    rn_buf_adds (b, i ? ", " : "");
    rn_json_strz (b, keys[i]);
    rn_buf_adds (b, ": ");
    rn_json_strz (b, vals[i]);
  }
  rn_buf_addc (b, '}');
}

static const char *const fs_keys[] = { "device", "type", "label", "uuid" };
static const char *const app_keys[] = { "name", "version", "release", "arch" };

/* A list, one item a line: item(b, i) writes the i-th. */
static void
json_list (struct rn_buf *b, size_t n, void (*item) (struct rn_buf *, const void *, size_t),
           const void *ctx)
{
  rn_buf_addc (b, '[');
  for (size_t i = 0; i < n; i++) {
    rn_buf_adds (b, i ? ",\n      " : "\n      ");
    item (b, ctx, i);
  }
  rn_buf_adds (b, n ? "\n    ]" : "]");
}

static void
fs_item (struct rn_buf *b, const void *ctx, size_t i)
{
  const struct fsinfo *f = &((const struct fsinfo *) ctx)[i];
  const char *v[] = { f->device, f->type, f->label, f->uuid };
  json_object (b, fs_keys, v, 4);
}

static void
app_item (struct rn_buf *b, const void *ctx, size_t i)
{
  const struct guestfs_application *a = &((const struct guestfs_application_list *) ctx)->val[i];
  const char *v[] = { a->app_name, a->app_version, a->app_release, a->app_arch };
  json_object (b, app_keys, v, 4);
}

static void
warning_item (struct rn_buf *b, const void *ctx, size_t i)
{
  rn_json_strz (b, ((char *const *) ctx)[i]);
}

static void
json_os (struct rn_buf *b, const struct osinfo *os)
{
  size_t nw = 0;

  rn_buf_adds (b, "  {\n    \"root\": ");
  rn_json_strz (b, os->root);
  for (int i = 0; i < NFACTS; i++) {
    json_key (b, "    ", facts[i].json);
    if (facts[i].get_i)
      rn_buf_adds (b, os->val[i]);
    else
      rn_json_strz (b, os->val[i]);
  }
  json_key (b, "    ", "mountpoints");
  rn_buf_addc (b, '{');
  for (size_t i = 0; os->mountpoints[i] && os->mountpoints[i + 1]; i += 2) {
    rn_buf_adds (b, i ? ", " : "");
    rn_json_strz (b, os->mountpoints[i]);
    rn_buf_adds (b, ": ");
    rn_json_strz (b, os->mountpoints[i + 1]);
  }
  rn_buf_addc (b, '}');
  json_key (b, "    ", "filesystems");
  json_list (b, os->nfs, fs_item, os->fs);
  json_key (b, "    ", "applications");
  json_list (b, os->apps->len, app_item, os->apps);
  while (os->warnings[nw])
    nw++;
  json_key (b, "    ", "warnings");
  json_list (b, nw, warning_item, os->warnings);
  rn_buf_adds (b, "\n  }");
}

static void
print_json (const struct osinfo *v, size_t n)
{
  struct rn_buf b = { NULL, 0, 0 };

  rn_buf_addc (&b, '[');
  for (size_t i = 0; i < n; i++) {
    rn_buf_adds (&b, i ? ",\n" : "\n");
    json_os (&b, &v[i]);
  }
  rn_buf_adds (&b, n ? "\n]\n" : "]\n");
  fwrite (b.s, 1, b.len, stdout);
  rn_buf_free (&b);
}

/* ---- XML ---- */

/* s as XML character data.  It goes through the JSON escaper first,
 * which already knows valid UTF-8: its \uXXXX (control bytes and bytes
 * that are not UTF-8, as their Latin-1 code) become character
 * references, except the controls XML 1.0 forbids, which become '?'. */
static void
xml_text (struct rn_buf *b, const char *s)
{
  struct rn_buf j = { NULL, 0, 0 };

  rn_json_strz (&j, s);
  for (size_t i = 1; i + 1 < j.len; i++) {
    char c = j.s[i], hex[5];
    unsigned long u;
    if (c == '\\') {
      c = j.s[++i];
      if (c == 'n') rn_buf_adds (b, "&#10;");
      else if (c == 't') rn_buf_adds (b, "&#9;");
      else if (c == 'r') rn_buf_adds (b, "&#13;");
      else if (c == '"') rn_buf_adds (b, "&quot;");
      else if (c == 'u') {
        memcpy (hex, j.s + i + 1, 4);
        hex[4] = '\0';
        i += 4;
        u = strtoul (hex, NULL, 16);
        if (u < 0x20)
          rn_buf_addc (b, '?');
        else
          rn_buf_addf (b, "&#x%lX;", u);
      } else
        rn_buf_addc (b, c);           /* the backslash itself */
    } else if (c == '<') rn_buf_adds (b, "&lt;");
    else if (c == '>') rn_buf_adds (b, "&gt;");
    else if (c == '&') rn_buf_adds (b, "&amp;");
    else if (c == '\'') rn_buf_adds (b, "&apos;");
    else rn_buf_addc (b, c);
  }
  rn_buf_free (&j);
}

/* <name>text</name> on its own line; nothing when text is empty, as
 * virt-inspector does. */
static void
xml_elem (struct rn_buf *b, const char *indent, const char *name, const char *text)
{
  if (text == NULL || *text == '\0')
    return;
  rn_buf_addf (b, "%s<%s>", indent, name);
  xml_text (b, text);
  rn_buf_addf (b, "</%s>\n", name);
}

static void
xml_filesystems (struct rn_buf *b, const struct osinfo *os)
{
  rn_buf_adds (b, "    <filesystems>\n");
  for (size_t i = 0; i < os->nfs; i++) {
    const char *v[] = { os->fs[i].type, os->fs[i].label, os->fs[i].uuid };
    rn_buf_adds (b, "      <filesystem dev=\"");
    xml_text (b, os->fs[i].device);
    rn_buf_adds (b, "\">\n");
    for (int k = 0; k < 3; k++)
      xml_elem (b, "        ", fs_keys[k + 1], v[k]);
    rn_buf_adds (b, "      </filesystem>\n");
  }
  rn_buf_adds (b, "    </filesystems>\n");
}

static void
xml_lists (struct rn_buf *b, const struct osinfo *os)
{
  rn_buf_adds (b, "    <mountpoints>\n");
  for (size_t i = 0; os->mountpoints[i] && os->mountpoints[i + 1]; i += 2) {
    rn_buf_adds (b, "      <mountpoint dev=\"");
    xml_text (b, os->mountpoints[i + 1]);
    rn_buf_adds (b, "\">");
    xml_text (b, os->mountpoints[i]);
    rn_buf_adds (b, "</mountpoint>\n");
  }
  rn_buf_adds (b, "    </mountpoints>\n");
  xml_filesystems (b, os);
  rn_buf_adds (b, "    <applications>\n");
  for (uint32_t i = 0; i < os->apps->len; i++) {
    const struct guestfs_application *a = &os->apps->val[i];
    const char *v[] = { a->app_name, a->app_version, a->app_release, a->app_arch };
    rn_buf_adds (b, "      <application>\n");
    for (int k = 0; k < 4; k++)
      xml_elem (b, "        ", app_keys[k], v[k]);
    rn_buf_adds (b, "      </application>\n");
  }
  rn_buf_adds (b, "    </applications>\n");
}

static void
print_xml (const struct osinfo *v, size_t n)
{
  struct rn_buf b = { NULL, 0, 0 };

  rn_buf_adds (&b, "<?xml version=\"1.0\"?>\n<operatingsystems>\n");
  for (size_t i = 0; i < n; i++) {
    rn_buf_adds (&b, "  <operatingsystem>\n");
    xml_elem (&b, "    ", "root", v[i].root);
    for (int k = 0; k < NFACTS; k++)
      xml_elem (&b, "    ", facts[k].xml, v[i].val[k]);
    xml_lists (&b, &v[i]);
    if (v[i].warnings[0]) {           /* a guestkit addition */
      rn_buf_adds (&b, "    <warnings>\n");
      for (size_t k = 0; v[i].warnings[k]; k++)
        xml_elem (&b, "      ", "warning", v[i].warnings[k]);
      rn_buf_adds (&b, "    </warnings>\n");
    }
    rn_buf_adds (&b, "  </operatingsystem>\n");
  }
  rn_buf_adds (&b, "</operatingsystems>\n");
  fwrite (b.s, 1, b.len, stdout);
  rn_buf_free (&b);
}

/* ---- Command line ---- */

struct inspect_opts {
  struct rn_drive_opts d;           /* -a IMG and its --format; --ro */
  int xml;
};

static void
inspect_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit inspect [--format=FMT] [--ro] [--xml] -a IMG [-a IMG...]\n"
"\n"
"Find the operating systems on the disk images of one machine and print\n"
"what is known of each as JSON: root, type, distro, product_name,\n"
"major_version, minor_version, arch, hostname, package_format,\n"
"package_management, mountpoints, filesystems, applications, warnings.\n"
"The images are always opened read-only.\n"
"\n"
"  -a, --add IMG     a disk image (repeatable)\n"
"  --format FMT      format of the following -a images (default raw,\n"
"                    never probed)\n"
"  --ro              accepted; inspection is always read-only\n"
"  --xml             virt-inspector's XML instead of JSON\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 done (no OS found prints []), 1 an image cannot be read,\n"
"2 invalid arguments.\n");
}

/* inspect's own option, --xml; 0. */
static int
take_inspect_opt (void *opaque, int c, const char *arg)
{
  struct inspect_opts *o = opaque;

  (void) arg;
  if (c == 'X')
    o->xml = 1;
  return 0;
}

/* 0, -1 (exit 2), -2 (--help).  --ro is taken and ignored: always
 * read-only. */
static int
parse_inspect_args (int argc, char **argv, struct inspect_opts *o)
{
  static const struct option opts[] = {
    { "xml", no_argument, NULL, 'X' },
    { NULL, 0, NULL, 0 },
  };
  const struct rn_cmd_opts cmd = { "inspect", "", opts, 0, take_inspect_opt, o };
  int first = rn_drive_opts_parse (argc, argv, &cmd, &o->d);

  if (first < 0)
    return first;
  if (first < argc) {
    fprintf (stderr, "%s: inspect: unexpected argument '%s' (images are given with -a)\n",
             rn_progname, argv[first]);
    return -1;
  }
  if (o->d.drives.paths.n == 0) {
    fprintf (stderr, "%s: inspect: no image given (-a IMG)\n", rn_progname);
    return -1;
  }
  return 0;
}

/* Can the image be opened for reading, and is it a file or a device? */
static int
check_image (const char *path)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd == -1 || fstat (fd, &st) == -1) {
    fprintf (stderr, "%s: inspect: %s: %s\n", rn_progname, path, strerror (errno));
    if (fd != -1)
      close (fd);
    return -1;
  }
  close (fd);
  if (S_ISDIR (st.st_mode)) {
    fprintf (stderr, "%s: inspect: %s: is a directory, not a disk image\n", rn_progname, path);
    return -1;
  }
  return 0;
}

/* The library's error, after what failed and on which images (what ==
 * NULL: the message names the image already). */
static int
lib_failed (guestfs_h *g, const struct inspect_opts *o, const char *what)
{
  const char *msg = guestfs_last_error (g);

  fprintf (stderr, "%s: inspect: ", rn_progname);
  if (what) {
    fputs (what, stderr);
    for (size_t i = 0; i < o->d.drives.paths.n; i++)
      fprintf (stderr, "%s%s", i ? ", " : " ", o->d.drives.paths.v[i]);
    fputs (": ", stderr);
  }
  fprintf (stderr, "%s\n", msg ? msg : "failed");
  return RN_EXIT_FAILED;
}

/* Launch on the images and inspect them; the exit status. */
static int
inspect_images (guestfs_h *g, const struct inspect_opts *o)
{
  struct osinfo *v = NULL;
  char **roots;
  size_t n = 0;
  int rc = RN_EXIT_OK;

  if (rn_drives_attach (g, &o->d.drives, 1) == -1)
    return lib_failed (g, o, NULL);
  if (guestfs_launch (g) == -1)
    return lib_failed (g, o, "cannot read");
  if ((roots = guestfs_inspect_os (g)) == NULL)
    return lib_failed (g, o, "cannot inspect");
  while (roots[n])
    n++;
  v = rn_calloc (n, sizeof *v);
  for (size_t i = 0; i < n; i++) {
    v[i].root = roots[i];
    if (rc == RN_EXIT_OK && collect (g, &v[i]) == -1)
      rc = lib_failed (g, o, "cannot inspect");
  }
  free (roots);
  if (rc == RN_EXIT_OK)
    (o->xml ? print_xml : print_json) (v, n);
  for (size_t i = 0; i < n; i++)
    os_free (&v[i]);
  free (v);
  return rc;
}

int
rn_cmd_inspect (int argc, char **argv)
{
  struct inspect_opts o = { .xml = 0 };
  int r = parse_inspect_args (argc, argv, &o), rc = RN_EXIT_FAILED;
  guestfs_h *g;

  if (r < 0) {
    if (r == -2)
      inspect_usage (stdout);
    rc = r == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
    goto out;
  }
  for (size_t i = 0; i < o.d.drives.paths.n; i++)
    if (check_image (o.d.drives.paths.v[i]) == -1)
      goto out;
  if ((g = guestfs_create ()) == NULL) {
    fprintf (stderr, "%s: inspect: cannot create a handle\n", rn_progname);
    goto out;
  }
  guestfs_set_error_handler (g, NULL, NULL);   /* reported by lib_failed */
  rc = inspect_images (g, &o);
  if (fflush (stdout) == EOF && rc == RN_EXIT_OK) {
    fprintf (stderr, "%s: inspect: writing the output: %s\n", rn_progname, strerror (errno));
    rc = RN_EXIT_FAILED;
  }
  guestfs_close (g);
 out:
  rn_drive_opts_free (&o.d);
  return rc;
}
