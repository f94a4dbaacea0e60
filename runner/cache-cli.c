/* runner/cache-cli.c: `guestkit cache', the appliance cache of this user.
 *
 *   guestkit cache            list the entries: kind, size, last use, in use
 *   guestkit cache --prune    remove what the rule says (unused for
 *                             GUESTKIT_CACHE_DAYS, or beyond
 *                             GUESTKIT_CACHE_SIZE, oldest first)
 *   guestkit cache --clear    remove every entry not in use
 *
 * The cache, its locks and the rule are the library's (core/cache.c);
 * this is guestfs_cache_list / _prune / _clear with a table around them.
 * An entry in use (a handle holds it) is never removed.
 *
 * Exit status: 0, 1 when the cache cannot be read, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

static void
cache_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit cache [--prune | --clear]\n"
"\n"
"List the entries of the appliance cache ($GUESTKIT_CACHEDIR, else\n"
"/var/tmp/.guestkit-UID): built appliances and saved snapshots, with their\n"
"size on disk, how long ago they were last used, and whether a handle is\n"
"using them now.  Entries in use are never removed.\n"
"\n"
"  --prune     remove the entries not in use that were unused for\n"
"              GUESTKIT_CACHE_DAYS days (default 7) and, oldest first,\n"
"              those beyond GUESTKIT_CACHE_SIZE (default 4G) for the cache\n"
"  --clear     remove every entry not in use\n"
"  -h, --help  this text\n"
"\n"
"Exit status: 0 done, 1 the cache could not be read, 2 invalid arguments.\n");
}

/* "3.2G", "605M", "12K". */
static void
human_size (uint64_t n, char *buf, size_t len)
{
  const char *u = "BKMGT";
  double v = (double) n;

  while (v >= 1024 && u[1]) {
    v /= 1024;
    u++;
  }
  snprintf (buf, len, *u == 'B' ? "%.0f%c" : v < 10 ? "%.1f%c" : "%.0f%c", v, *u);
}

/* "42s", "5m", "3h", "2d". */
static void
human_age (int64_t secs, char *buf, size_t len)
{
  if (secs < 60)
    snprintf (buf, len, "%llds", (long long) (secs < 0 ? 0 : secs));
  else if (secs < 3600)
    snprintf (buf, len, "%lldm", (long long) secs / 60);
  else if (secs < 86400)
    snprintf (buf, len, "%lldh", (long long) secs / 3600);
  else
    snprintf (buf, len, "%lldd", (long long) secs / 86400);
}

static int
list_cache (guestfs_h *g)
{
  struct guestfs_cache_entry_list *l = guestfs_cache_list (g);
  time_t now = time (NULL);
  uint64_t total = 0;

  if (l == NULL)
    return -1;
  printf ("%-10s %7s %9s  %-6s  %s\n", "KIND", "SIZE", "LAST USE", "IN USE", "ENTRY");
  for (uint32_t i = 0; i < l->len; i++) {
    const struct guestfs_cache_entry *e = &l->val[i];
    char size[32], age[32];
    human_size (e->cache_size, size, sizeof size);
    human_age ((int64_t) now - e->cache_last_used, age, sizeof age);
    printf ("%-10s %7s %9s  %-6s  %s\n", e->cache_kind, size, age,
            e->cache_in_use ? "yes" : "no", e->cache_path);
    total += e->cache_size;
  }
  {
    char size[32];
    human_size (total, size, sizeof size);
    printf ("%u entries, %s\n", l->len, size);
  }
  guestfs_free_cache_entry_list (l);
  return 0;
}

/* 0 list, 1 prune, 2 clear; -1 usage error, -2 help. */
static int
parse_cache_args (int argc, char **argv)
{
  static const struct option opts[] = {
    { "prune", no_argument, NULL, 'p' },
    { "clear", no_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, what = 0;

  optind = 1;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h')
      return -2;
    if ((c != 'p' && c != 'c') || (what && what != (c == 'p' ? 1 : 2))) {
      if (c == 'p' || c == 'c')
        fprintf (stderr, "%s: cache: --prune and --clear exclude each other\n", rn_progname);
      fprintf (stderr, "Try 'guestkit cache --help'.\n");
      return -1;
    }
    what = c == 'p' ? 1 : 2;
  }
  if (optind < argc) {
    fprintf (stderr, "%s: cache: unexpected argument '%s'\n"
             "Try 'guestkit cache --help'.\n", rn_progname, argv[optind]);
    return -1;
  }
  return what;
}

int
rn_cmd_cache (int argc, char **argv)
{
  int what = parse_cache_args (argc, argv), r;
  guestfs_h *g;

  if (what < 0) {
    if (what == -2)
      cache_usage (stdout);
    return what == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
  }
  if ((g = guestfs_create ()) == NULL) {
    fprintf (stderr, "%s: cache: cannot create a handle\n", rn_progname);
    return RN_EXIT_FAILED;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  r = what == 0 ? list_cache (g)
      : what == 1 ? guestfs_cache_prune (g) : guestfs_cache_clear (g);
  if (r >= 0 && what)
    printf ("removed %d entr%s\n", r, r == 1 ? "y" : "ies");
  if (r < 0)
    fprintf (stderr, "%s: cache: %s\n", rn_progname,
             guestfs_last_error (g) ? guestfs_last_error (g) : "failed");
  guestfs_close (g);
  return r < 0 ? RN_EXIT_FAILED : RN_EXIT_OK;
}
