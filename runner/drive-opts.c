/* runner/drive-opts.c: the options that say which disk images a command
 * opens and what it mounts, parsed in one place for guestkit shell,
 * mount and inspect, and the two things done with them (add the drives
 * to a handle, mount the -m specs).
 *
 *   -a, --add IMG          a disk image; in order, each with the --format
 *                          in force before it (default raw, never probed)
 *   --format F             the format of the -a images after it; one that
 *                          no -a follows is refused (it would change nothing)
 *   --ro                   read-only (the last of --ro, --rw wins)
 *   --rw                   read-write                       (RN_DO_RW)
 *   -i, --inspector        find the OS and mount it         (RN_DO_MOUNT)
 *   -m, --mount DEV[:MNT]  mount DEV on MNT (default /)     (RN_DO_MOUNT)
 *   -h, --help
 *
 * A command adds its own options (a getopt string and a long-option
 * table) and a function that takes them; the getopt loop is here, so an
 * option means the same thing in every command that has it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* getopt codes of the long-only options here; above any character, so
 * they cannot meet a command's own codes. */
enum { OPT_FORMAT = 0x100, OPT_RO, OPT_RW };

/* Ours, and the flags a command needs to have each. */
static const struct {
  struct option o;
  unsigned need;
} ours[] = {
  { { "add", required_argument, NULL, 'a' }, 0 },
  { { "format", required_argument, NULL, OPT_FORMAT }, 0 },
  { { "ro", no_argument, NULL, OPT_RO }, 0 },
  { { "rw", no_argument, NULL, OPT_RW }, RN_DO_RW },
  { { "inspector", no_argument, NULL, 'i' }, RN_DO_MOUNT },
  { { "mount", required_argument, NULL, 'm' }, RN_DO_MOUNT },
  { { "help", no_argument, NULL, 'h' }, 0 },
};
#define NOURS (sizeof ours / sizeof ours[0])

/* Ours that c has, then c's own: a table for getopt_long (caller frees). */
static struct option *
long_table (const struct rn_cmd_opts *c)
{
  size_t n = 0, k = 0;
  struct option *t;

  while (c->longs && c->longs[n].name)
    n++;
  t = rn_calloc (NOURS + n + 1, sizeof *t);
  for (size_t i = 0; i < NOURS; i++)
    if ((ours[i].need & c->flags) == ours[i].need)
      t[k++] = ours[i].o;
  for (size_t i = 0; i < n; i++)
    t[k++] = c->longs[i];
  return t;                              /* zeroed last entry */
}

/* "a:h", -i and -m if asked for, then the command's (a leading '+' of
 * theirs first: stop at the first operand). Caller frees. */
static char *
short_string (const struct rn_cmd_opts *c)
{
  const char *theirs = c->shorts ? c->shorts : "";
  int plus = theirs[0] == '+';

  return rn_asprintf ("%sa:h%s%s", plus ? "+" : "", c->flags & RN_DO_MOUNT ? "im:" : "",
                      theirs + plus);
}

static void
drives_add (struct rn_drives *d, const char *path, const char *format)
{
  rn_strv_add (&d->paths, rn_strdup (path));
  rn_strv_add (&d->formats, rn_strdup (format));
}

/* One of ours: 1 taken, 0 not ours, -2 --help.  *pending: a --format
 * that no -a has used yet. */
static int
take_ours (struct rn_drive_opts *d, int c, const char **format, int *pending)
{
  switch (c) {
  case 'a': drives_add (&d->drives, optarg, *format); *pending = 0; return 1;
  case OPT_FORMAT: *format = optarg; *pending = 1; return 1;
  case OPT_RO: d->ro = 1; return 1;
  case OPT_RW: d->ro = 0; return 1;
  case 'i': d->inspect = 1; return 1;
  case 'm': rn_strv_add (&d->mounts, rn_strdup (optarg)); return 1;
  case 'h': return -2;
  default: return 0;
  }
}

int
rn_drive_opts_parse (int argc, char **argv, const struct rn_cmd_opts *c,
                     struct rn_drive_opts *d)
{
  struct option *longs = long_table (c);
  char *shorts = short_string (c);
  const char *format = "raw";
  int opt, r = 0, pending = 0;

  optind = 1;
  while (r >= 0 && (opt = getopt_long (argc, argv, shorts, longs, NULL)) != -1) {
    if (opt == '?') {
      fprintf (stderr, "Try 'guestkit %s --help'.\n", c->name);
      r = -1;
    } else if ((r = take_ours (d, opt, &format, &pending)) == 0)
      r = c->take ? c->take (c->opaque, opt, optarg) : -1;
  }
  if (r >= 0 && pending) {
    fprintf (stderr, "%s: %s: --format %s: no -a IMG follows it (it sets the format of "
             "the images added after it)\n", rn_progname, c->name, format);
    r = -1;
  }
  free (longs);
  free (shorts);
  return r >= 0 ? optind : r;
}

void
rn_drive_opts_free (struct rn_drive_opts *d)
{
  rn_strv_free (&d->drives.paths);
  rn_strv_free (&d->drives.formats);
  rn_strv_free (&d->mounts);
}

/* ---- What is done with them ---- */

int
rn_drives_attach (guestfs_h *g, const struct rn_drives *d, int ro)
{
  for (size_t i = 0; i < d->paths.n; i++)
    if (guestfs_add_drive_opts (g, d->paths.v[i],
                                GUESTFS_ADD_DRIVE_OPTS_FORMAT, d->formats.v[i],
                                GUESTFS_ADD_DRIVE_OPTS_READONLY, ro, -1) == -1)
      return -1;
  return 0;
}

/* Components of a mountpoint: "/" 0, "/boot" 1, "/var/log" 2. */
static int
depth (const char *m)
{
  int d = 0;
  for (const char *p = m; *p; p++)
    if (*p != '/' && (p == m || p[-1] == '/'))
      d++;
  return d;
}

int
rn_mount_specs (guestfs_h *g, const struct rn_strv *mounts, int ro)
{
  int maxd = 0;

  for (size_t i = 0; i < mounts->n; i++) {
    const char *colon = strchr (mounts->v[i], ':');
    if (colon && depth (colon + 1) > maxd)
      maxd = depth (colon + 1);
  }
  for (int d = 0; d <= maxd; d++)      /* parents first, else as given */
    for (size_t i = 0; i < mounts->n; i++) {
      char *colon = strchr (mounts->v[i], ':');
      const char *dir = colon ? colon + 1 : "/";
      int r;
      if (depth (dir) != d)
        continue;
      if (colon)
        *colon = '\0';
      r = (ro ? guestfs_mount_ro : guestfs_mount) (g, mounts->v[i], dir);
      if (colon)
        *colon = ':';
      if (r == -1)
        return -1;
    }
  return 0;
}

int
rn_mount_inspected (guestfs_h *g, int ro, char **why)
{
  char **roots = guestfs_inspect_os (g);
  size_t n = 0;
  int r = -1;

  *why = NULL;
  if (roots == NULL)
    return -1;
  while (roots[n])
    n++;
  if (n == 0)
    *why = rn_strdup ("-i: no operating system was found on the disks");
  else if (n > 1)
    *why = rn_asprintf ("-i: %zu operating systems were found (%s, %s%s); use -m to choose",
                        n, roots[0], roots[1], n > 2 ? ", ..." : "");
  else
    r = guestfs_inspect_mount_root (g, roots[0], ro);
  rn_gfree_list (roots);
  return r;
}
