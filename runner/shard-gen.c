/* runner/shard-gen.c: the part of `guestkit slurm' and `guestkit k8s'
 * that does not depend on the scheduler: their options, the job (checked
 * first, every path made absolute, since the shards run elsewhere and
 * must see the job file, the images and the output directory at the
 * same paths), the shard group's name, and the commands each shard and
 * the merge run.  The merge works on a local copy of DIR/guestkit.db
 * and puts the result in place by rename: SQLite's WAL never sits on a
 * shared filesystem.  The scripts and manifests themselves are written
 * by slurm.c and k8s.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shard-gen.h"

/* 'text' for sh, quotes inside written '\''. */
void
rn_gen_sh_quote (struct rn_buf *b, const char *s)
{
  rn_buf_addc (b, '\'');
  for (const char *p = s; *p; p++)
    if (*p == '\'')
      rn_buf_adds (b, "'\\''");
    else
      rn_buf_addc (b, *p);
  rn_buf_addc (b, '\'');
}

/* The `guestkit run' command of a shard, as argv words. */
void
rn_gen_shard_argv (const struct rn_gen_opts *o, const struct rn_job *j, const char *group,
            struct rn_strv *w)
{
  rn_strv_add (w, rn_strdup (o->self));
  rn_strv_add (w, rn_strdup ("run"));
  rn_strv_add (w, rn_asprintf ("--shards=%d", o->shards));
  rn_strv_add (w, rn_asprintf ("--shard-group=%s", group));
  rn_strv_add (w, rn_asprintf ("--out=%s/shards", o->out));
  if (o->workers > 0)
    rn_strv_add (w, rn_asprintf ("--workers=%d", o->workers));
  if (o->timeout > 0)
    rn_strv_add (w, rn_asprintf ("--timeout=%d", o->timeout));
  if (o->retries >= 0)
    rn_strv_add (w, rn_asprintf ("--retries=%d", o->retries));
  for (size_t i = 0; i < o->run_args.n; i++)
    rn_strv_add (w, rn_strdup (o->run_args.v[i]));
  rn_strv_add (w, rn_strdup (j->path));
}

static void
gen_usage (FILE *f, int k8s)
{
  fprintf (f,
"usage: guestkit %s JOB.yaml --shards N [OPTION]...\n"
"\n", k8s ? "k8s" : "slurm");
  if (k8s)
    fprintf (f,
"Print a Kubernetes manifest for a sharded run of JOB.yaml: a ConfigMap with\n"
"the job file, an Indexed Job of N pods (one shard each, the index from\n"
"JOB_COMPLETION_INDEX) and a suspended merge Job.  See runner/README.md.\n"
"\n"
"  --image IMAGE          the container image with guestkit (default guestkit:latest)\n"
"  --images-claim NAME    the PersistentVolumeClaim holding the images\n"
"  --images-path DIR      where it is mounted (default: the images' directory)\n"
"  --results-claim NAME   the PersistentVolumeClaim for results (mounted at --out)\n"
"  --backoff-per-index B  retries of one shard's pod (default 2)\n");
  else
    fprintf (f,
"Write a Slurm job array for a sharded run of JOB.yaml, DIR/shard.sbatch (one\n"
"shard per array task), and DIR/merge.sbatch, which merges the shards into\n"
"DIR/guestkit.db.  With --submit, submit both, the merge after the array\n"
"(afterany), and print the job ids.\n"
"\n"
"  --partition P          the Slurm partition\n"
"  --time LIMIT           the time limit of each shard (sbatch --time)\n"
"  --submit               submit with sbatch\n");
  fprintf (f,
"  --shards N             the number of shards (required)\n"
"  --max-running K        at most K shards at once (default: no limit)\n"
"  --out DIR              the output directory, on storage every node sees\n"
"                         (default ./guestkit-GROUP)\n"
"  --shard-group NAME     the sharded run's name (default: job name and time)\n"
"  -j, --workers N        worker threads per shard\n"
"  --timeout, --retries, --var, --images, --format: as for guestkit run\n"
"  -h, --help             this text\n");
}

char *
rn_gen_absolute (const char *p)
{
  char cwd[PATH_MAX];
  return p[0] == '/' || getcwd (cwd, sizeof cwd) == NULL ? rn_strdup (p)
                                                          : rn_path_join (cwd, p);
}

/* A --var, --images or --format for the job and for the shards' run. */
static int
pass_arg (struct rn_gen_opts *o, int c, const char *arg)
{
  if (c == 'V') {
    const char *eq = strchr (arg, '=');
    char *name = eq ? rn_strndup (arg, (size_t) (eq - arg)) : NULL;
    if (name == NULL || !rn_var_name_ok (name)) {
      fprintf (stderr, "%s: --var: expected NAME=VALUE, got '%s'\n", rn_progname, arg);
      free (name);
      return -1;
    }
    rn_strv_add (&o->ov.var_names, name);
    rn_strv_add (&o->ov.var_values, rn_strdup (eq + 1));
    rn_strv_add (&o->run_args, rn_asprintf ("--var=%s", arg));
  } else if (c == 'I') {
    char *a = rn_gen_absolute (arg);
    rn_strv_add (&o->ov.images, rn_strdup (a));
    rn_strv_add (&o->run_args, rn_asprintf ("--images=%s", a));
    free (a);
  } else {
    free (o->ov.format);
    o->ov.format = rn_strdup (arg);
    rn_strv_add (&o->run_args, rn_asprintf ("--format=%s", arg));
  }
  return 0;
}

static int
gen_option (struct rn_gen_opts *o, int c, const char *arg)
{
  switch (c) {
  case 'N': return rn_int_arg ("--shards", arg, 1, 100000, &o->shards);
  case 'K': return rn_int_arg ("--max-running", arg, 1, 100000, &o->max_running);
  case 'j': return rn_int_arg ("--workers", arg, 1, 256, &o->workers);
  case 't': return rn_int_arg ("--timeout", arg, 1, 86400, &o->timeout);
  case 'r': return rn_int_arg ("--retries", arg, 0, 10, &o->retries);
  case 'B': return rn_int_arg ("--backoff-per-index", arg, 0, 100, &o->backoff);
  case 'P': o->partition = arg; return 0;
  case 'T': o->time_limit = arg; return 0;
  case 'i': o->image = arg; return 0;
  case 'c': o->images_claim = arg; return 0;
  case 'p': o->images_path = arg; return 0;
  case 'R': o->results_claim = arg; return 0;
  case 's': o->submit = 1; return 0;
  case 'O': free (o->out); o->out = rn_gen_absolute (arg); return 0;
  case 'G':
    if (!rn_shard_group_ok (arg)) {
      fprintf (stderr, "%s: --shard-group: '%s' is not a name (1 to 100 of A-Z a-z "
               "0-9 . _ -)\n", rn_progname, arg);
      return -1;
    }
    o->group = arg;
    return 0;
  case 'V': case 'I': case 'F': return pass_arg (o, c, arg);
  default: return -1;
  }
}

/* Options; the job file's index in argv, -1 (exit 2) or -2 (--help). */
static int
gen_args (int argc, char **argv, struct rn_gen_opts *o, int k8s)
{
  static const struct option opts[] = {
    { "shards", required_argument, NULL, 'N' },
    { "max-running", required_argument, NULL, 'K' },
    { "workers", required_argument, NULL, 'j' },
    { "timeout", required_argument, NULL, 't' },
    { "retries", required_argument, NULL, 'r' },
    { "partition", required_argument, NULL, 'P' },
    { "time", required_argument, NULL, 'T' },
    { "image", required_argument, NULL, 'i' },
    { "images-claim", required_argument, NULL, 'c' },
    { "images-path", required_argument, NULL, 'p' },
    { "results-claim", required_argument, NULL, 'R' },
    { "backoff-per-index", required_argument, NULL, 'B' },
    { "submit", no_argument, NULL, 's' },
    { "out", required_argument, NULL, 'O' },
    { "shard-group", required_argument, NULL, 'G' },
    { "var", required_argument, NULL, 'V' },
    { "images", required_argument, NULL, 'I' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *cmd = k8s ? "k8s" : "slurm";
  static const char k8s_only[] = "icpRB", slurm_only[] = "PTs";
  int c, li = 0;

  optind = 1;
  while ((c = getopt_long (argc, argv, "j:h", opts, &li)) != -1) {
    if (c == 'h')
      return -2;
    if (c != '?' && strchr (k8s ? slurm_only : k8s_only, c)) {
      fprintf (stderr, "%s: %s: --%s is an option of guestkit %s\n", rn_progname, cmd,
               opts[li].name, k8s ? "slurm" : "k8s");
      return -1;
    }
    if (c == '?' || gen_option (o, c, optarg) == -1) {
      fprintf (stderr, "Try 'guestkit %s --help'.\n", cmd);
      return -1;
    }
  }
  if (o->shards == 0 || optind != argc - 1) {
    fprintf (stderr, "%s: %s: %s\nTry 'guestkit %s --help'.\n", rn_progname, cmd,
             o->shards == 0 ? "--shards N is required" : "give one job file", cmd);
    return -1;
  }
  if (o->ov.format && o->ov.images.n == 0) {
    fprintf (stderr, "%s: %s: --format is the format of --images\n", rn_progname, cmd);
    return -1;
  }
  return optind;
}

void
rn_gen_free (struct rn_gen_opts *o)
{
  rn_strv_free (&o->ov.var_names);
  rn_strv_free (&o->ov.var_values);
  rn_strv_free (&o->ov.images);
  free (o->ov.format);
  rn_strv_free (&o->run_args);
  free (o->out);
  free (o->self);
}

/* The job validated, as the shards will load it; NULL after printing
 * every error. */
static struct rn_job *
gen_job (const char *file, const struct rn_gen_opts *o)
{
  struct rn_errs e = { 0 };
  struct rn_job *j = rn_job_load (file, NULL, &o->ov, &e);

  if (j == NULL) {
    rn_errs_print (&e);
    fprintf (stderr, "%s: %zu error%s; nothing was written\n", rn_progname, e.n,
             e.n == 1 ? "" : "s");
  }
  rn_errs_free (&e);
  return j;
}

/* What one shard asks of its node: a CPU per worker, and the memory
 * the runner's own worker rule (pool.c) counts for that many appliances
 * of the job's guest RAM.  0 workers: not asked (the node chooses). */
int
rn_gen_workers (const struct rn_gen_opts *o, const struct rn_job *j)
{
  return o->workers > 0 ? o->workers : j->workers;
}

int
rn_gen_mib (const struct rn_gen_opts *o, const struct rn_job *j)
{
  int ram = j->memsize > 0 ? j->memsize : RN_DEFAULT_MEMSIZE_MIB;

  return RN_HOST_RESERVE_MIB + rn_gen_workers (o, j) * (ram + RN_APPLIANCE_OVER_MIB);
}

/* The default group: the job's name and the time, a new one each time. */
static char *
gen_group (const struct rn_gen_opts *o, const struct rn_job *j)
{
  char now[32], *stamp, *g, *name;

  if (o->group)
    return rn_strdup (o->group);
  rn_utc (now);              /* 2026-12-01T20:15:08.560Z -> 20261201-201508 */
  stamp = rn_asprintf ("%.4s%.2s%.2s-%.2s%.2s%.2s", now, now + 5, now + 8, now + 11,
                       now + 14, now + 17);
  name = rn_shard_clean (j->name);
  g = rn_asprintf ("%s-%s", name, stamp);
  free (name);
  free (stamp);
  return g;
}

/* The merge, on a local copy of DIR/guestkit.db, put back by rename. */
void
rn_gen_merge_commands (struct rn_buf *b, const struct rn_gen_opts *o, const char *group,
                const char *tmpdir)
{
  struct rn_buf q = { 0 };
  char *db = rn_asprintf ("%s/guestkit.db", o->out);
  char *shards = rn_asprintf ("%s/shards", o->out);

  rn_buf_addf (b, "tmp=%s/%s.merge-$$.db\n", tmpdir, group);
  rn_buf_adds (b, "rm -f \"$tmp\" \"$tmp-wal\" \"$tmp-shm\"\nif [ -f ");
  rn_gen_sh_quote (b, db);
  rn_buf_adds (b, " ]; then cp ");
  rn_gen_sh_quote (b, db);
  rn_buf_adds (b, " \"$tmp\" || exit 2; fi\n");
  rn_gen_sh_quote (&q, o->self);
  rn_buf_addf (b, "%s merge \"$tmp\" ", q.s);
  rn_gen_sh_quote (b, shards);
  rn_buf_addf (b, "/%s.shard-*.db\nrc=$?\n", group);
  rn_buf_adds (b, "if [ -f \"$tmp\" ]; then\n  cp \"$tmp\" ");
  rn_gen_sh_quote (b, db);
  rn_buf_adds (b, ".tmp-$$ && mv ");
  rn_gen_sh_quote (b, db);
  rn_buf_adds (b, ".tmp-$$ ");
  rn_gen_sh_quote (b, db);
  rn_buf_adds (b, " || rc=2\nfi\nrm -f \"$tmp\" \"$tmp-wal\" \"$tmp-shm\"\nexit $rc\n");
  rn_buf_free (&q);
  free (db);
  free (shards);
}

/* What both commands need: options, the job, the group, the paths. */
struct rn_job *
rn_gen_setup (int argc, char **argv, struct rn_gen_opts *o, int k8s, char **group, int *rc)
{
  struct rn_job *j;
  char self[PATH_MAX];
  ssize_t n;
  int first = gen_args (argc, argv, o, k8s);

  *rc = first == -2 ? RN_EXIT_OK : RN_EXIT_USAGE;
  if (first == -2)
    gen_usage (stdout, k8s);
  if (first < 0 || (j = gen_job (argv[first], o)) == NULL)
    return NULL;
  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  o->self = rn_strdup (n > 0 ? self : "guestkit");
  *group = gen_group (o, j);
  if (o->out == NULL) {
    char *d = rn_asprintf ("guestkit-%s", *group);
    o->out = k8s ? rn_strdup ("/results") : rn_gen_absolute (d);
    free (d);
  }
  return j;
}
