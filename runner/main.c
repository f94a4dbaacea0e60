/* runner/main.c: the `guestkit' command line: one command per file
 * (run-cli.c, report.c, status.c, shell.c, inspect-cli.c, mount.c,
 * cache-cli.c, boot-test.c, merge.c, slurm.c, test-tool.c, steps.c),
 * dispatched here; --help and --version for all of them.
 *
 * Exit status: 0 ok, 1 failed, 2 invalid arguments.  See runner/README.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

const char *rn_progname = "guestkit";
mode_t rn_umask = 022;


static void
usage (FILE *f)
{
  fprintf (f,
"usage: guestkit COMMAND [OPTION]...\n"
"\n"
"Inspect and change virtual machine disk images in batches: YAML job files\n"
"run on a pool of appliances, results in SQLite.\n"
"\n"
"Commands:\n"
"  run JOB.yaml...    validate and run job files (guestkit run --help)\n"
"  report             print results: table, JSON or CSV (guestkit report --help)\n"
"  status             runs and their progress (guestkit status --help)\n"
"  shell              a guestfish-compatible shell (guestkit shell --help)\n"
"  inspect -a IMG...  the operating systems on disk images, as JSON or XML\n"
"  mount -a IMG -i DIR  a guest filesystem on DIR through FUSE (--help)\n"
"  cache              the appliance cache: list, --prune, --clear (guestkit cache --help)\n"
"  boot-test -a IMG   boot an image and wait for a console text (--help)\n"
"  steps [STEP]       the high-level job steps (help STEP: one of them)\n"
"  merge OUT SHARD...\n"
"                     merge the databases of a sharded run (guestkit merge --help)\n"
"  slurm JOB.yaml     a Slurm job array of shards and a merge job (guestkit slurm --help)\n"
"  k8s JOB.yaml       a Kubernetes Indexed Job of shards and a merge Job\n"
"  test-tool          launch a scratch appliance and say what works (--help)\n"
"\n"
"guestkit --version, or guestkit COMMAND --version, prints the version.\n"
"\n"
"Reference: runner/README.md; job format: schemas/job-schema.md.\n");
}

/* "guestkit VERSION": the library's version, from guestfs_version. */
static int
print_version (void)
{
  guestfs_h *g = guestfs_create ();
  struct guestfs_version *v = g ? guestfs_version (g) : NULL;

  if (v == NULL) {
    fprintf (stderr, "%s: cannot read the library's version\n", rn_progname);
    if (g)
      guestfs_close (g);
    return RN_EXIT_FAILED;
  }
  printf ("guestkit %s (libguestfs API %" PRId64 ".%" PRId64 ".%" PRId64 ")\n",
          strncmp (v->extra, "guestkit-", 9) == 0 ? v->extra + 9 : v->extra,
          v->major, v->minor, v->release);
  guestfs_free_version (v);
  guestfs_close (g);
  return RN_EXIT_OK;
}

int
main (int argc, char **argv)
{
  rn_umask = umask (022);           /* read it once, before any thread */
  umask (rn_umask);
  if (argc < 2) {
    usage (stderr);
    return RN_EXIT_USAGE;
  }
  if (strcmp (argv[1], "help") == 0 && argc == 3)
    return rn_cmd_steps (argc - 1, argv + 1);      /* help STEP */
  if (strcmp (argv[1], "steps") == 0)
    return rn_cmd_steps (argc - 1, argv + 1);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0) {
    usage (stdout);
    return RN_EXIT_OK;
  }
  /* guestkit --version, and guestkit COMMAND --version for every command. */
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0 ||
      (argc >= 3 && strcmp (argv[2], "--version") == 0))
    return print_version ();
  if (strcmp (argv[1], "run") == 0)
    return rn_cmd_run (argc - 1, argv + 1);
  if (strcmp (argv[1], "report") == 0)
    return rn_cmd_report (argc - 1, argv + 1);
  if (strcmp (argv[1], "status") == 0)
    return rn_cmd_status_main (argc - 1, argv + 1);
  if (strcmp (argv[1], "shell") == 0)
    return rn_cmd_shell (argc - 1, argv + 1);
  if (strcmp (argv[1], "inspect") == 0)
    return rn_cmd_inspect (argc - 1, argv + 1);
  if (strcmp (argv[1], "mount") == 0)
    return rn_cmd_mount (argc - 1, argv + 1);
  if (strcmp (argv[1], "cache") == 0)
    return rn_cmd_cache (argc - 1, argv + 1);
  if (strcmp (argv[1], "boot-test") == 0)
    return rn_cmd_boot_test (argc - 1, argv + 1);
  if (strcmp (argv[1], "merge") == 0)
    return rn_cmd_merge (argc - 1, argv + 1);
  if (strcmp (argv[1], "slurm") == 0)
    return rn_cmd_slurm (argc - 1, argv + 1);
  if (strcmp (argv[1], "k8s") == 0)
    return rn_cmd_k8s (argc - 1, argv + 1);
  if (strcmp (argv[1], "test-tool") == 0)
    return rn_cmd_test_tool (argc - 1, argv + 1);
  fprintf (stderr, "%s: unknown command '%s'\n", rn_progname, argv[1]);
  usage (stderr);
  return RN_EXIT_USAGE;
}
