/* runner/steps.c: the high-level job steps, described once.
 *
 * A high-level step (`hostname', `write', `set_config', `packages', ...)
 * sits beside the raw calls in a job's `steps:' list.  This table gives
 * each one its name, its typed arguments (required or optional, with a
 * line of doc), what it records and the function that runs it.
 * Everything else comes from the table: validation in job-steps.c (with
 * file:line:col, unknown arguments and did-you-mean), `guestkit steps'
 * and `guestkit help STEP', and the steps section of
 * schemas/job-schema.md (`guestkit steps --markdown', checked current by
 * tests/runner-steps-doc.sh).
 *
 * The run functions live in one file per area (steps-files.c,
 * steps-users.c, steps-config.c, steps-packages.c, steps-system.c) and
 * use the library only through guestfs.h: a step is a few library calls,
 * never a way around the library to the appliance.  This file also holds
 * what they share: argument accessors, errors, and mounting the guest.
 *
 * Adding a step: a row here (arguments, doc, records), a run function in
 * its area's file declared in runner.h, and a test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define REQ RN_SA_REQUIRED

/* ---- the table ---- */

static const struct rn_sarg hostname_args[] = {
  { "name", RN_ARG_STRING, REQ, "the host name (a label, or a dotted name)" },
};

static const struct rn_sarg partition_args[] = {
  { "layout", RN_ARG_STRINGLIST, 0, "partition sizes in order (512M, 4G, ...; the last may be 'rest'); default: one root partition filling the disk" },
  { "table", RN_ARG_STRING, 0, "mbr (default) or gpt (with a 1 MiB BIOS boot partition first)" },
  { "device", RN_ARG_STRING, 0, "the disk (default /dev/sda)" },
};
static const struct rn_sarg filesystems_args[] = {
  { "fstype", RN_ARG_STRING, 0, "filesystem type (default ext4)" },
  { "label", RN_ARG_STRING, 0, "its label (ext2/3/4)" },
  { "uuid", RN_ARG_STRING, 0, "its UUID (ext2/3/4; default random, or derived from SOURCE_DATE_EPOCH and the label when that is set)" },
  { "device", RN_ARG_STRING, 0, "the partition (default the last partition of /dev/sda)" },
  { "mountpoint", RN_ARG_STRING, 0, "where it is mounted for the steps after (default /)" },
};
static const struct rn_sarg unpack_args[] = {
  { "tar", RN_ARG_FILEIN, 0, "a plain tar of a root tree (default the job's base.tar)" },
  { "directory", RN_ARG_STRING, 0, "where in the guest (default /)" },
};
static const struct rn_sarg bootloader_args[] = {
  { "cmdline", RN_ARG_STRING, 0, "extra kernel arguments" },
  { "timeout", RN_ARG_INT, 0, "grub menu timeout in seconds (default 1)" },
  { "device", RN_ARG_STRING, 0, "the disk grub is installed to (default /dev/sda)" },
};
static const struct rn_sarg fstab_args[] = {
  { "root_options", RN_ARG_STRING, 0, "mount options of / (default errors=remount-ro)" },
};
static const struct rn_sarg reset_args[] = {
  { "action", RN_ARG_STRING, REQ, "reset" },
};
static const struct rn_sarg locale_args[] = {
  { "lang", RN_ARG_STRING, REQ, "the locale, e.g. en_US.UTF-8" },
};
static const struct rn_sarg firstboot_args[] = {
  { "script", RN_ARG_STRING, REQ, "a shell script run once, as root, at first boot" },
  { "name", RN_ARG_STRING, 0, "its name (a-z, 0-9, -; default firstboot), for more than one" },
};
static const struct rn_sarg write_args[] = {
  { "path", RN_ARG_PATHNAME, REQ, "the guest file" },
  { "content", RN_ARG_STRING, 0, "its content (this or file)" },
  { "file", RN_ARG_FILEIN, 0, "a host file with its content, relative to the job" },
  { "mode", RN_ARG_INT, 0, "permission bits, e.g. 0644 (default: kept, 0644 if new)" },
  { "owner", RN_ARG_STRING, 0, "user, user:group or :group, by name (the guest's) or number" },
};
static const struct rn_sarg append_line_args[] = {
  { "path", RN_ARG_PATHNAME, REQ, "the guest file (created if missing)" },
  { "line", RN_ARG_STRING, REQ, "the line, added at the end unless the file has it" },
};
static const struct rn_sarg delete_args[] = {
  { "paths", RN_ARG_STRINGLIST, REQ, "guest paths or glob patterns (a path or a list); "
    "directories go with their contents" },
};
static const struct rn_sarg copy_in_args[] = {
  { "from", RN_ARG_STRING, REQ, "a host file or directory, relative to the job" },
  { "to", RN_ARG_PATHNAME, REQ, "the guest directory it goes into (made if missing)" },
};
static const struct rn_sarg chmod_args[] = {
  { "mode", RN_ARG_INT, REQ, "permission bits, e.g. 0640" },
  { "path", RN_ARG_PATHNAME, REQ, "a guest path or glob pattern" },
};
static const struct rn_sarg chown_args[] = {
  { "owner", RN_ARG_STRING, REQ, "user name (looked up in the guest's /etc/passwd) or uid" },
  { "group", RN_ARG_STRING, 0, "group name (the guest's /etc/group) or gid (default: kept)" },
  { "path", RN_ARG_PATHNAME, REQ, "a guest path or glob pattern" },
};
static const struct rn_sarg timezone_args[] = {
  { "zone", RN_ARG_STRING, REQ, "a zone of the guest's tzdata, e.g. Europe/Paris" },
};
static const struct rn_sarg run_args[] = {
  { "command", RN_ARG_STRING, REQ, "a shell command, run by /bin/sh in the guest tree" },
  { "touches", RN_ARG_STRINGLIST, 0, "guest paths it changes, for the changes record" },
};
static const struct rn_sarg user_args[] = {
  { "name", RN_ARG_STRING, REQ, "the user name" },
  { "uid", RN_ARG_INT, 0, "its uid (default: the guest's useradd chooses)" },
  { "groups", RN_ARG_STRINGLIST, 0, "supplementary groups it must be in" },
  { "shell", RN_ARG_STRING, 0, "login shell, e.g. /bin/bash" },
  { "password_file", RN_ARG_FILEIN, 0, "host file with a crypt hash ($6$..., $y$...); "
    "the hash is never recorded" },
  { "ssh_keys", RN_ARG_STRINGLIST, 0, "public keys for ~/.ssh/authorized_keys" },
};
static const struct rn_sarg ssh_inject_args[] = {
  { "user", RN_ARG_STRING, REQ, "an existing user of the guest" },
  { "keys", RN_ARG_STRINGLIST, REQ, "public keys added to its ~/.ssh/authorized_keys" },
};
static const struct rn_sarg packages_args[] = {
  { "debs", RN_ARG_STRINGLIST, 0, "local .deb files (host paths, relative to the job) "
    "installed with the guest's dpkg" },
  { "remove", RN_ARG_STRINGLIST, 0, "packages to remove (when installed)" },
  { "install", RN_ARG_STRINGLIST, 0, "packages to install by name with the guest's apt, "
    "from its own sources (needs `network: true' in the job); NAME or NAME=VERSION" },
};
static const struct rn_sarg set_config_args[] = {
  { "file", RN_ARG_PATHNAME, REQ, "the guest's config file" },
  { "set", RN_ARG_STRINGLIST, RN_SA_MAP, "keys (Augeas paths below the file) and their values" },
  { "remove", RN_ARG_STRINGLIST, 0, "keys to remove" },
  { "lens", RN_ARG_STRING, 0, "the Augeas lens, e.g. Shellvars.lns (default: by the file's path)" },
};

#define STEP(n, area, flags, summary, records, args) \
  { #n, area, summary, records, args, sizeof args / sizeof args[0], flags, rn_step_##n, NULL }
/* A step with host-side work to start before the launch. */
#define STEP_PREFETCH(n, area, flags, summary, records, args) \
  { #n, area, summary, records, args, sizeof args / sizeof args[0], flags, rn_step_##n, \
    rn_prefetch_##n }

static const struct rn_sarg inventory_args[] = {
  { "applications", RN_ARG_BOOL, 0, "record the installed packages too (default true)" },
};

const struct rn_hstep rn_hsteps[] = {
  STEP (hostname, "system", RN_HS_WRITES,
        "set the host name: /etc/hostname, and the 127.0.1.1 line of /etc/hosts",
        "{\"old\": previous name or null, \"new\": name}", hostname_args),
  /* build: the disk (steps-disk.c) */
  STEP (partition, "disk", RN_HS_WRITES | RN_HS_DISK,
        "a new partition table on the disk: one root partition filling it, or a layout of sizes",
        "{\"table\": mbr or gpt, \"partitions\": [{\"start\": bytes, \"bytes\": n}]}",
        partition_args),
  STEP (filesystems, "disk", RN_HS_WRITES | RN_HS_DISK,
        "make a filesystem on a partition (label and UUID may be given) and mount it for the steps after",
        "{\"device\", \"fstype\", \"label\", \"uuid\", \"mountpoint\"}", filesystems_args),
  STEP (unpack, "disk", RN_HS_WRITES | RN_HS_DISK,
        "unpack a root tree tarball (the job's base.tar) into the mounted tree",
        "{\"tar\": host path, \"directory\": guest path}", unpack_args),
  STEP (fstab, "disk", RN_HS_WRITES | RN_HS_DISK,
        "write /etc/fstab from the mounted filesystems, by UUID", "the fstab text", fstab_args),
  /* build: booting as itself (steps-boot.c) */
  STEP (bootloader, "boot", RN_HS_WRITES | RN_HS_DISK,
        "install grub (BIOS) to the disk and generate its config in the guest tree: serial "
        "console, root by UUID; needs a kernel in /boot",
        "{\"grub-install\": its output, \"update-grub\": its output}", bootloader_args),
  STEP (machine_id, "boot", RN_HS_WRITES,
        "reset: an empty /etc/machine-id, so each clone makes its own at first boot", "null",
        reset_args),
  STEP (ssh_host_keys, "boot", RN_HS_WRITES,
        "reset: remove the SSH host keys; a unit makes new ones at first boot, before sshd",
        "{\"removed\": keys removed}", reset_args),
  STEP (locale, "boot", RN_HS_WRITES,
        "set LANG in /etc/default/locale and generate that locale (needs the locales package)",
        "{\"locale-gen\": its output}", locale_args),
  STEP (firstboot, "boot", RN_HS_WRITES,
        "a script run once at first boot by a systemd unit that then removes itself", "null",
        firstboot_args),
  STEP (write, "files", RN_HS_WRITES,
        "write a guest file (only if its content differs), with its mode and owner",
        "null", write_args),
  STEP (append_line, "files", RN_HS_WRITES,
        "add a line at the end of a guest file unless it has that line already",
        "{\"appended\": true or false}", append_line_args),
  STEP (delete, "files", RN_HS_WRITES,
        "delete guest files and directories by path or glob; none matching is not an error",
        "{\"deleted\": [paths]}", delete_args),
  STEP (copy_in, "files", RN_HS_WRITES,
        "copy a host file or directory tree into a guest directory",
        "null", copy_in_args),
  STEP (chmod, "files", RN_HS_WRITES,
        "set the mode of guest paths (the call chmod's arguments, plus globs)",
        "null", chmod_args),
  STEP (chown, "files", RN_HS_WRITES,
        "set the owner of guest paths, by the guest's user and group names or by number",
        "null", chown_args),
  STEP (timezone, "system", RN_HS_WRITES,
        "set the time zone: /etc/localtime (a link into tzdata) and /etc/timezone",
        "null", timezone_args),
  STEP (run, "system", RN_HS_WRITES,
        "run a shell command in the guest tree; a non-zero exit fails the step",
        "{\"output\": its standard output}", run_args),
  STEP (user, "users", RN_HS_WRITES,
        "create or modify an account (the guest's useradd/usermod), password, ssh keys",
        "{\"created\": true or false, \"keys_added\": N}", user_args),
  STEP (ssh_inject, "users", RN_HS_WRITES,
        "add ssh public keys to a user's ~/.ssh/authorized_keys (0600, owned by the user)",
        "{\"keys_added\": N}", ssh_inject_args),
  STEP_PREFETCH (packages, "packages", RN_HS_WRITES,
                 "install local .deb files or remove packages with the guest's package manager",
                 "{\"installed\": [name=version], \"removed\": [names]}", packages_args),
  STEP (set_config, "config", RN_HS_WRITES,
        "set or remove keys in a config file through Augeas, loading only that file",
        "{\"file\": path, \"changed\": {key: {\"old\": value or null, \"new\": value or null}}}",
        set_config_args),
  STEP (inventory, "audit", RN_HS_NOMOUNT,
        "record the OS (inspection), its packages and the filesystems with their "
        "size and use in the os, applications and filesystems tables; leaves the "
        "OS mounted",
        "{\"roots\": [root devices], \"applications\": count, \"filesystems\": "
        "count, \"cut\": true when a cap left rows out}", inventory_args),
};
const size_t rn_nhsteps = sizeof rn_hsteps / sizeof rn_hsteps[0];

const struct rn_hstep *
rn_hstep_find (const char *name)
{
  for (size_t i = 0; i < rn_nhsteps; i++)
    if (strcmp (rn_hsteps[i].name, name) == 0)
      return &rn_hsteps[i];
  return NULL;
}

const char *
rn_hstep_suggest (const char *name)
{
  const char *best = NULL;
  int bd = 3;
  for (size_t i = 0; i < rn_nhsteps; i++) {
    int d = rn_distance (rn_hsteps[i].name, name);
    if (d < bd)
      bd = d, best = rn_hsteps[i].name;
  }
  return best;
}

int
rn_hstep_arg (const struct rn_hstep *h, const char *name)
{
  for (int i = 0; i < h->nargs; i++)
    if (strcmp (h->args[i].name, name) == 0)
      return i;
  return -1;
}

/* ---- for the run functions ---- */

static int
arg_index (const struct rn_sctx *c, const char *name)
{
  int i = rn_hstep_arg (c->h, name);
  if (i == -1) {                /* a bug in a run function: say so loudly */
    fprintf (stderr, "%s: step %s has no argument '%s'\n", rn_progname,
             c->h->name, name);
    abort ();
  }
  return i;
}

int
rn_sa_given (const struct rn_sctx *c, const char *name)
{
  return c->given[arg_index (c, name)];
}

const char *
rn_sa_str (const struct rn_sctx *c, const char *name)
{
  int i = arg_index (c, name);
  return c->given[i] ? c->av[i].s : NULL;
}

char *const *
rn_sa_list (const struct rn_sctx *c, const char *name)
{
  static char *const empty[] = { NULL };
  int i = arg_index (c, name);
  return c->given[i] && c->av[i].sl ? c->av[i].sl : empty;
}

int64_t
rn_sa_int (const struct rn_sctx *c, const char *name, int64_t def)
{
  int i = arg_index (c, name);
  if (!c->given[i])
    return def;
  return c->h->args[i].type == RN_ARG_INT64 ? c->av[i].i64 : c->av[i].i;
}

int
rn_step_fail (struct rn_sctx *c, const char *fmt, ...)
{
  va_list ap;
  char *m;

  va_start (ap, fmt);
  if (vasprintf (&m, fmt, ap) == -1)
    m = NULL;
  va_end (ap);
  free (c->err);
  c->err = m ? m : rn_strdup ("out of memory");
  return -1;
}

int
rn_step_gfail (struct rn_sctx *c, const char *what)
{
  const char *e = guestfs_last_error (c->g);
  return rn_step_fail (c, "%s: %s", what, e ? e : "failed (no message)");
}

void
rn_step_before (struct rn_sctx *c, const char *path)
{
  rn_chg_before (c->chg, c->g, path);
}

/* The mountpoints of root, shortest first ("/" before "/boot"). */
static int
by_length (const void *a, const void *b)
{
  char *const *x = a, *const *y = b;
  size_t lx = strlen (x[0]), ly = strlen (y[0]);
  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x[0], y[0]);
}

int
rn_step_mount_root (struct rn_sctx *c, const char *root)
{
  char **mp = guestfs_inspect_get_mountpoints (c->g, root);
  size_t n = 0;
  int r = 0;

  if (mp == NULL)
    return rn_step_gfail (c, "the guest's mountpoints");
  while (mp[n])
    n += 2;
  qsort (mp, n / 2, 2 * sizeof *mp, by_length);
  for (size_t i = 0; i < n && r == 0; i += 2)
    if ((c->readonly ? guestfs_mount_ro (c->g, mp[i + 1], mp[i])
                     : guestfs_mount (c->g, mp[i + 1], mp[i])) == -1)
      r = rn_step_gfail (c, mp[i]);
  for (size_t i = 0; i < n; i++)
    free (mp[i]);
  free (mp);
  return r;
}

static int
mount_os (struct rn_sctx *c)
{
  char **roots = guestfs_inspect_os (c->g);
  int r;

  if (roots == NULL)
    return rn_step_gfail (c, "finding the guest's operating system");
  if (roots[0] == NULL) {
    free (roots);
    return rn_step_fail (c, "no operating system found on the image "
                         "(mount its filesystems with 'mount' steps first)");
  }
  r = rn_step_mount_root (c, roots[0]);
  rn_gfree_list (roots);
  return r;
}

int
rn_step_mount (struct rn_sctx *c)
{
  char **m = guestfs_mounts (c->g);
  int some;

  if (m == NULL)
    return rn_step_gfail (c, "mounts");
  some = m[0] != NULL;
  for (size_t i = 0; m[i]; i++)
    free (m[i]);
  free (m);
  return some ? 0 : mount_os (c);
}

int
rn_hstep_run (struct rn_sctx *c)
{
  if (!(c->h->flags & (RN_HS_DISK | RN_HS_NOMOUNT)) && rn_step_mount (c) == -1)
    return -1;
  return c->h->run (c);
}

/* ---- help: guestkit steps, guestkit help STEP ---- */

static const char *
sarg_type (const struct rn_sarg *a)
{
  if (a->flags & RN_SA_MAP)
    return "mapping of strings";
  switch (a->type) {
  case RN_ARG_PATHNAME: return "guest path";
  case RN_ARG_FILEIN: return "host path";
  default: return rn_argtype_name (a->type);
  }
}

static void
help_one (FILE *f, const struct rn_hstep *h)
{
  fprintf (f, "%s (%s): %s\n", h->name, h->area, h->summary);
  for (int i = 0; i < h->nargs; i++)
    fprintf (f, "  %-12s %-9s %-18s %s\n", h->args[i].name,
             h->args[i].flags & REQ ? "required" : "optional",
             sarg_type (&h->args[i]), h->args[i].doc);
  fprintf (f, "  records: %s\n", h->records);
}

static void
markdown_one (FILE *f, const struct rn_hstep *h)
{
  fprintf (f, "#### `%s`\n\n%s%s.\n\n", h->name,
           (h->flags & RN_HS_WRITES) ? "(writes) " : "", h->summary);
  fprintf (f, "| argument | | type | meaning |\n|---|---|---|---|\n");
  for (int i = 0; i < h->nargs; i++)
    fprintf (f, "| `%s` | %s | %s | %s |\n", h->args[i].name,
             h->args[i].flags & REQ ? "required" : "optional",
             sarg_type (&h->args[i]), h->args[i].doc);
  fprintf (f, "\nRecords: %s.\n\n", h->records);
}

/* The generated section of schemas/job-schema.md. */
static void
markdown (FILE *f)
{
  fprintf (f, "<!-- generated by `guestkit steps --markdown` from runner/steps.c: "
           "do not edit -->\n\n");
  for (size_t i = 0; i < rn_nhsteps; i++)
    markdown_one (f, &rn_hsteps[i]);
  fprintf (f, "<!-- end of generated steps -->\n");
}

int
rn_cmd_steps (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "--markdown") == 0) {
    markdown (stdout);
    return RN_EXIT_OK;
  }
  if (argc == 2 && argv[1][0] != '-') {
    const struct rn_hstep *h = rn_hstep_find (argv[1]);
    const char *near;
    if (h) {
      help_one (stdout, h);
      return RN_EXIT_OK;
    }
    near = rn_hstep_suggest (argv[1]);
    fprintf (stderr, "%s: no step '%s'%s%s%s\n", rn_progname, argv[1],
             near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return RN_EXIT_USAGE;
  }
  if (argc != 1) {
    fprintf (stderr, "usage: %s steps [--markdown | STEP]\n", rn_progname);
    return RN_EXIT_USAGE;
  }
  for (size_t i = 0; i < rn_nhsteps; i++)
    printf ("%-12s %s\n", rn_hsteps[i].name, rn_hsteps[i].summary);
  return RN_EXIT_OK;
}

/* ---- guest files, for the run functions ---- */

void
rn_gfree_list (char **l)
{
  for (size_t i = 0; l && l[i]; i++)
    free (l[i]);
  free (l);
}

char *
rn_gfile_read (struct rn_sctx *c, const char *path, size_t *len, int *missing)
{
  char *b;

  *missing = 0;
  if (guestfs_exists (c->g, path) == 0) {
    *missing = 1;
    return NULL;
  }
  b = guestfs_read_file (c->g, path, len);
  if (b == NULL)
    rn_step_gfail (c, path);
  return b;
}

int
rn_gfile_write (struct rn_sctx *c, const char *path, const char *s, size_t len)
{
  if (len > INT32_MAX)
    return rn_step_fail (c, "%s: content too big", path);
  rn_step_before (c, path);
  if (len == 0) {                  /* write_file's size 0 means strlen */
    if (guestfs_write_file (c->g, path, "", 0) == -1 ||
        guestfs_truncate (c->g, path) == -1)
      return rn_step_gfail (c, path);
  } else if (guestfs_write_file (c->g, path, s, (int) len) == -1)
    return rn_step_gfail (c, path);
  return 0;
}

int
rn_gfile_update (struct rn_sctx *c, const char *path, const char *s, size_t len)
{
  size_t olen;
  int missing, same;
  char *old = rn_gfile_read (c, path, &olen, &missing);

  if (old == NULL && !missing)
    return -1;
  same = old && olen == len && memcmp (old, s, len) == 0;
  free (old);
  return same ? 0 : rn_gfile_write (c, path, s, len);
}

static int
has_line (const char *s, size_t len, const char *line)
{
  size_t n = strlen (line);

  for (const char *p = s; p && p < s + len;) {
    const char *nl = memchr (p, '\n', (size_t) (s + len - p));
    size_t l = nl ? (size_t) (nl - p) : (size_t) (s + len - p);
    if (l == n && memcmp (p, line, n) == 0)
      return 1;
    p = nl ? nl + 1 : NULL;
  }
  return 0;
}

int
rn_gfile_add_lines (struct rn_sctx *c, const char *path, char *const *lines,
                    int *added)
{
  struct rn_buf b = { 0 };
  size_t len = 0;
  int missing, r = 0;
  char *old = rn_gfile_read (c, path, &len, &missing);

  *added = 0;
  if (old == NULL && !missing)
    return -1;
  rn_buf_add (&b, old ? old : "", len);
  for (size_t i = 0; lines[i]; i++)
    if (!has_line (b.s, b.len, lines[i])) {
      if (b.len > 0 && b.s[b.len - 1] != '\n')
        rn_buf_addc (&b, '\n');
      rn_buf_adds (&b, lines[i]);
      rn_buf_addc (&b, '\n');
      (*added)++;
    }
  if (*added)
    r = rn_gfile_write (c, path, b.s, b.len);
  rn_buf_free (&b);
  free (old);
  return r;
}
