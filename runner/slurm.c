/* runner/slurm.c: `guestkit slurm' and `guestkit k8s': a sharded run on
 * a cluster's own scheduler.  We write what the scheduler runs; we do not
 * schedule anything ourselves.
 *
 *   guestkit slurm JOB.yaml --shards N ...   DIR/shard.sbatch: a job array
 *                                            of N tasks, one shard each
 *                                            (`guestkit run --shards N'
 *                                            takes its index from
 *                                            SLURM_ARRAY_TASK_ID), at most
 *                                            K at once (%K); DIR/merge.sbatch:
 *                                            `guestkit merge' of the shards'
 *                                            copies in DIR/shards into
 *                                            DIR/guestkit.db, submitted with
 *                                            --dependency=afterany on the
 *                                            array.  --submit submits both.
 *   guestkit k8s JOB.yaml --shards N ...     prints a ConfigMap with the job
 *                                            file, an Indexed Job (index in
 *                                            JOB_COMPLETION_INDEX) and a
 *                                            suspended merge Job.
 *
 * The job is validated first, and every path is made absolute: the
 * shards run elsewhere, and must see the job file, the images and the
 * output directory at the same paths.  Each shard keeps its database on
 * the node's local disk ($TMPDIR, else /var/tmp) and copies it into
 * DIR/shards when it ends; the merge works on a local copy too and puts
 * the result in place by rename.  SQLite's WAL never sits on a shared
 * filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runner.h"

extern char **environ;

struct gen_opts {
  int shards, max_running, workers, timeout, retries, backoff;  /* 0 / -1: not given */
  const char *partition, *time_limit, *group, *image, *images_claim, *results_claim;
  const char *images_path;
  char *out;                 /* absolute */
  char *self;                /* this guestkit binary, absolute */
  int submit;
  struct rn_overrides ov;
  struct rn_strv run_args;   /* --var/--images/--format as given to run */
};

/* ---- shell and YAML quoting ---- */

/* 'text' for sh, quotes inside written '\''. */
static void
sh_quote (struct rn_buf *b, const char *s)
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
static void
shard_argv (const struct gen_opts *o, const struct rn_job *j, const char *group,
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

/* A DNS-1123 name part: lower case letters, digits and '-', at most n. */
static char *
dns_name (const char *s, size_t n)
{
  struct rn_buf b = { 0 };

  for (const char *p = s; *p && b.len < n; p++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      rn_buf_addc (&b, c);
    else if (b.len && b.s[b.len - 1] != '-')
      rn_buf_addc (&b, '-');
  }
  while (b.len && b.s[b.len - 1] == '-')
    b.s[--b.len] = '\0';
  if (b.len == 0)
    rn_buf_adds (&b, "job");
  return rn_buf_take (&b);
}

/* ---- options ---- */

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

static char *
absolute (const char *p)
{
  char cwd[PATH_MAX];
  return p[0] == '/' || getcwd (cwd, sizeof cwd) == NULL ? rn_strdup (p)
                                                          : rn_path_join (cwd, p);
}

/* A --var, --images or --format for the job and for the shards' run. */
static int
pass_arg (struct gen_opts *o, int c, const char *arg)
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
    char *a = absolute (arg);
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
gen_option (struct gen_opts *o, int c, const char *arg)
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
  case 'O': free (o->out); o->out = absolute (arg); return 0;
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
gen_args (int argc, char **argv, struct gen_opts *o, int k8s)
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

static void
gen_free (struct gen_opts *o)
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
gen_job (const char *file, const struct gen_opts *o)
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
static int
shard_workers (const struct gen_opts *o, const struct rn_job *j)
{
  return o->workers > 0 ? o->workers : j->workers;
}

static int
shard_mib (const struct gen_opts *o, const struct rn_job *j)
{
  int ram = j->memsize > 0 ? j->memsize : RN_DEFAULT_MEMSIZE_MIB;

  return RN_HOST_RESERVE_MIB + shard_workers (o, j) * (ram + RN_APPLIANCE_OVER_MIB);
}

/* The default group: the job's name and the time, a new one each time. */
static char *
gen_group (const struct gen_opts *o, const struct rn_job *j)
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

/* ---- Slurm ---- */

/* Write text to path through a temp file and a rename. */
static int
write_text (const char *path, const char *text, mode_t mode)
{
  char *tmp = rn_asprintf ("%s.tmp-%ld", path, (long) getpid ());
  FILE *f = fopen (tmp, "we");
  int r = -1;

  if (f && fputs (text, f) >= 0 && fflush (f) == 0 && fsync (fileno (f)) == 0) {
    r = fclose (f);
    f = NULL;
    if (r == 0 && (chmod (tmp, mode & ~rn_umask) == -1 || rename (tmp, path) == -1))
      r = -1;
  }
  if (r == -1)
    fprintf (stderr, "%s: %s: %s\n", rn_progname, path, strerror (errno));
  if (f)
    fclose (f);
  if (r == -1)
    unlink (tmp);
  free (tmp);
  return r;
}

static void
sbatch_head (struct rn_buf *b, const struct gen_opts *o, const char *name,
             const char *log)
{
  rn_buf_adds (b, "#SBATCH --job-name=");
  rn_buf_adds (b, name);
  rn_buf_addf (b, "\n#SBATCH --output=%s/logs/%s\n", o->out, log);
  if (o->partition)
    rn_buf_addf (b, "#SBATCH --partition=%s\n", o->partition);
}

static char *
shard_script (const struct gen_opts *o, const struct rn_job *j, const char *group)
{
  struct rn_buf b = { 0 };
  struct rn_strv w = { 0 };
  char *name = rn_shard_clean (j->name);

  rn_buf_addf (&b, "#!/bin/sh\n"
               "# Written by guestkit slurm: shard $SLURM_ARRAY_TASK_ID of %d of the job\n"
               "# %s (group %s).\n"
               "# Each shard keeps its database on the node's local disk ($TMPDIR, else\n"
               "# /var/tmp) and copies it to %s/shards when it ends.\n"
               "# Rerun shard I alone (it goes on from its own database), then merge:\n"
               "#   jid=$(sbatch --parsable --array=I %s/shard.sbatch)\n"
               "#   sbatch --dependency=afterany:${jid%%%%;*} %s/merge.sbatch\n",
               o->shards, j->path, group, o->out, o->out, o->out);
  sbatch_head (&b, o, name, "shard-%a.out");
  rn_buf_addf (&b, "#SBATCH --array=0-%d", o->shards - 1);
  if (o->max_running > 0)
    rn_buf_addf (&b, "%%%d", o->max_running);
  rn_buf_addc (&b, '\n');
  if (shard_workers (o, j) > 0)
    rn_buf_addf (&b, "#SBATCH --cpus-per-task=%d\n#SBATCH --mem=%dM\n",
                 shard_workers (o, j), shard_mib (o, j));
  if (o->time_limit)
    rn_buf_addf (&b, "#SBATCH --time=%s\n", o->time_limit);
  rn_buf_adds (&b, "exec");
  shard_argv (o, j, group, &w);
  for (size_t i = 0; i < w.n; i++) {
    rn_buf_addc (&b, ' ');
    sh_quote (&b, w.v[i]);
  }
  rn_buf_addc (&b, '\n');
  rn_strv_free (&w);
  free (name);
  return rn_buf_take (&b);
}

/* The merge, on a local copy of DIR/guestkit.db, put back by rename. */
static void
merge_commands (struct rn_buf *b, const struct gen_opts *o, const char *group,
                const char *tmpdir)
{
  struct rn_buf q = { 0 };
  char *db = rn_asprintf ("%s/guestkit.db", o->out);
  char *shards = rn_asprintf ("%s/shards", o->out);

  rn_buf_addf (b, "tmp=%s/%s.merge-$$.db\n", tmpdir, group);
  rn_buf_adds (b, "rm -f \"$tmp\" \"$tmp-wal\" \"$tmp-shm\"\nif [ -f ");
  sh_quote (b, db);
  rn_buf_adds (b, " ]; then cp ");
  sh_quote (b, db);
  rn_buf_adds (b, " \"$tmp\" || exit 2; fi\n");
  sh_quote (&q, o->self);
  rn_buf_addf (b, "%s merge \"$tmp\" ", q.s);
  sh_quote (b, shards);
  rn_buf_addf (b, "/%s.shard-*.db\nrc=$?\n", group);
  rn_buf_adds (b, "if [ -f \"$tmp\" ]; then\n  cp \"$tmp\" ");
  sh_quote (b, db);
  rn_buf_adds (b, ".tmp-$$ && mv ");
  sh_quote (b, db);
  rn_buf_adds (b, ".tmp-$$ ");
  sh_quote (b, db);
  rn_buf_adds (b, " || rc=2\nfi\nrm -f \"$tmp\" \"$tmp-wal\" \"$tmp-shm\"\nexit $rc\n");
  rn_buf_free (&q);
  free (db);
  free (shards);
}

static char *
merge_script (const struct gen_opts *o, const struct rn_job *j, const char *group)
{
  struct rn_buf b = { 0 };
  char *name = rn_shard_clean (j->name), *mname = rn_asprintf ("%s-merge", name);

  rn_buf_addf (&b, "#!/bin/sh\n"
               "# Written by guestkit slurm: merges the shards of group %s into\n"
               "# %s/guestkit.db (run it again after rerunning a shard).\n",
               group, o->out);
  sbatch_head (&b, o, mname, "merge.out");
  merge_commands (&b, o, group, "\"${TMPDIR:-/var/tmp}\"");
  free (name);
  free (mname);
  return rn_buf_take (&b);
}

/* Is prog an executable in PATH? */
static int
in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  char *copy = rn_strdup (path && *path ? path : "/usr/bin:/bin"), *save = NULL;
  int found = 0;

  for (char *d = strtok_r (copy, ":", &save); d && !found; d = strtok_r (NULL, ":", &save)) {
    char *p = rn_path_join (d, prog);
    found = access (p, X_OK) == 0;
    free (p);
  }
  free (copy);
  return found;
}

/* sbatch --parsable [--dependency=afterany:AFTER] SCRIPT: the job id, or
 * NULL after printing why. */
static char *
sbatch (const char *script, const char *after)
{
  char *dep = after ? rn_asprintf ("--dependency=afterany:%s", after) : NULL;
  char *argv[] = { (char *) "sbatch", (char *) "--parsable", dep ? dep : (char *) script,
                   dep ? (char *) script : NULL, NULL };
  posix_spawn_file_actions_t fa;
  char out[4096];
  ssize_t n, got = 0;
  int p[2], status = -1;
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) == -1) {
    free (dep);
    return NULL;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  errno = posix_spawnp (&pid, "sbatch", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (errno == 0) {
    while ((n = read (p[0], out + got, sizeof out - 1 - (size_t) got)) > 0 ||
           (n == -1 && errno == EINTR))
      if (n > 0)
        got += n;
    while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
      ;
  } else
    fprintf (stderr, "%s: slurm: sbatch: %s\n", rn_progname, strerror (errno));
  close (p[0]);
  free (dep);
  out[got] = '\0';
  out[strcspn (out, ";\n")] = '\0';          /* "ID" or "ID;CLUSTER" */
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || out[0] < '0' || out[0] > '9') {
    fprintf (stderr, "%s: slurm: sbatch %s failed (its message is above)\n", rn_progname,
             script);
    return NULL;
  }
  return rn_strdup (out);
}

static int
slurm_submit (const struct gen_opts *o, const char *shard, const char *merge)
{
  char *a, *b;

  if (!in_path ("sbatch")) {
    fprintf (stderr, "%s: slurm: --submit: Slurm is not installed here (no sbatch in "
             "PATH); the scripts are written: submit them where Slurm is, as above\n",
             rn_progname);
    return RN_EXIT_FAILED;
  }
  if ((a = sbatch (shard, NULL)) == NULL)
    return RN_EXIT_FAILED;
  if ((b = sbatch (merge, a)) == NULL) {
    fprintf (stderr, "%s: slurm: the shards are submitted as job %s; the merge is not\n",
             rn_progname, a);
    free (a);
    return RN_EXIT_FAILED;
  }
  printf ("submitted: shards job %s (array 0-%d), merge job %s (after the array)\n",
          a, o->shards - 1, b);
  free (a);
  free (b);
  return RN_EXIT_OK;
}

/* DIR, DIR/shards, DIR/logs. */
static int
make_dirs (const char *out)
{
  const char *sub[] = { "", "/shards", "/logs" };

  for (size_t i = 0; i < 3; i++) {
    char *d = rn_asprintf ("%s%s", out, sub[i]);
    int r = mkdir (d, 0777);
    if (r == -1 && errno != EEXIST) {
      fprintf (stderr, "%s: %s: %s\n", rn_progname, d, strerror (errno));
      free (d);
      return -1;
    }
    free (d);
  }
  return 0;
}

/* What both commands need: options, the job, the group, the paths. */
static struct rn_job *
gen_setup (int argc, char **argv, struct gen_opts *o, int k8s, char **group, int *rc)
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
    o->out = k8s ? rn_strdup ("/results") : absolute (d);
    free (d);
  }
  return j;
}

int
rn_cmd_slurm (int argc, char **argv)
{
  struct gen_opts o = { .retries = -1 };
  struct rn_job *j;
  char *group = NULL, *shard = NULL, *merge = NULL, *s1 = NULL, *s2 = NULL;
  int rc;

  if ((j = gen_setup (argc, argv, &o, 0, &group, &rc)) == NULL)
    goto out;
  rc = RN_EXIT_FAILED;
  shard = rn_asprintf ("%s/shard.sbatch", o.out);
  merge = rn_asprintf ("%s/merge.sbatch", o.out);
  s1 = shard_script (&o, j, group);
  s2 = merge_script (&o, j, group);
  if (make_dirs (o.out) == -1 || write_text (shard, s1, 0777) == -1 ||
      write_text (merge, s2, 0777) == -1)
    goto out;
  printf ("group %s: %d shards of job %s\n  %s\n  %s\n", group, o.shards, j->name,
          shard, merge);
  if (!o.submit) {
    printf ("submit with:\n  jid=$(sbatch --parsable %s)\n"
            "  sbatch --dependency=afterany:${jid%%;*} %s\n", shard, merge);
    rc = RN_EXIT_OK;
  } else
    rc = slurm_submit (&o, shard, merge);
 out:
  rn_job_free (j);
  free (group), free (shard), free (merge), free (s1), free (s2);
  gen_free (&o);
  return rc;
}

/* ---- Kubernetes ---- */

/* Is dir the directory path is in, or one above it? */
static int
dir_holds (const char *dir, const char *path)
{
  size_t n = strlen (dir);
  return strcmp (dir, "/") == 0 || (strncmp (dir, path, n) == 0 && path[n] == '/');
}

/* The directory holding every image of the job (a build: the job's). */
static char *
images_dir (const struct rn_job *j)
{
  char *d;

  if (j->nimages == 0)
    return rn_strdup (j->dir);
  d = rn_dirname (j->images[0].path);
  for (size_t i = 1; i < j->nimages; i++)
    while (!dir_holds (d, j->images[i].path)) {
      char *up = rn_dirname (d);
      free (d);
      d = up;
    }
  return d;
}

static int
all_readonly (const struct rn_job *j)
{
  if (j->kind == RN_JOB_BUILD)
    return 0;
  for (size_t i = 0; i < j->nimages; i++)
    if (!j->images[i].readonly)
      return 0;
  return 1;
}

/* A YAML flow sequence of JSON strings: ["a", "b"]. */
static void
yaml_words (struct rn_buf *b, const struct rn_strv *w)
{
  rn_buf_addc (b, '[');
  for (size_t i = 0; i < w->n; i++) {
    if (i)
      rn_buf_adds (b, ", ");
    rn_json_strz (b, w->v[i]);
  }
  rn_buf_addc (b, ']');
}

static void
k8s_meta (struct rn_buf *b, const char *kind, const char *api, const char *name,
          const char *group)
{
  rn_buf_addf (b, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  labels:\n"
               "    app.kubernetes.io/name: guestkit\n    guestkit/group: ", api, kind, name);
  rn_json_strz (b, group);
  rn_buf_addc (b, '\n');
}

static void
k8s_volumes (struct rn_buf *b, const struct gen_opts *o, const char *name, int shard,
             int ro)
{
  rn_buf_adds (b, "      volumes:\n");
  if (shard) {
    rn_buf_addf (b, "      - name: job\n        configMap:\n          name: %s-job\n", name);
    rn_buf_adds (b, "      - name: images\n        persistentVolumeClaim:\n          claimName: ");
    rn_json_strz (b, o->images_claim ? o->images_claim : "guestkit-images");
    rn_buf_addf (b, "\n          readOnly: %s\n", ro ? "true" : "false");
  }
  rn_buf_adds (b, "      - name: results\n        persistentVolumeClaim:\n          claimName: ");
  rn_json_strz (b, o->results_claim ? o->results_claim : "guestkit-results");
  rn_buf_adds (b, "\n      - name: scratch\n        emptyDir: {}\n");
}

static void
k8s_container (struct rn_buf *b, const struct gen_opts *o, const char *cname,
               const struct rn_strv *cmd, int cpus, int mib)
{
  rn_buf_addf (b, "      restartPolicy: Never\n      containers:\n      - name: %s\n"
               "        image: ", cname);
  rn_json_strz (b, o->image ? o->image : "guestkit:latest");
  rn_buf_adds (b, "\n        command: ");
  yaml_words (b, cmd);
  rn_buf_adds (b, "\n        env:\n        - name: TMPDIR\n          value: /scratch\n"
               "        - name: GUESTKIT_CACHEDIR\n          value: /scratch/cache\n");
  if (cpus > 0)
    rn_buf_addf (b, "        resources:\n          requests:\n            cpu: \"%d\"\n"
                 "            memory: %dMi\n", cpus, mib);
}

static void
k8s_shards (struct rn_buf *b, const struct gen_opts *o, const struct rn_job *j,
            const char *name, const char *group)
{
  struct rn_strv w = { 0 };
  char *imgs = o->images_path ? absolute (o->images_path) : images_dir (j);
  int ro = all_readonly (j);

  k8s_meta (b, "Job", "batch/v1", name, group);
  rn_buf_addf (b, "spec:\n  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n"
               "  backoffLimitPerIndex: %d\n  maxFailedIndexes: %d\n  template:\n"
               "    metadata:\n      labels:\n        app.kubernetes.io/name: guestkit\n"
               "    spec:\n", o->shards,
               o->max_running > 0 && o->max_running < o->shards ? o->max_running : o->shards,
               o->backoff >= 0 ? o->backoff : 2, o->shards);
  shard_argv (o, j, group, &w);
  k8s_container (b, o, "shard", &w, shard_workers (o, j), shard_mib (o, j));
  rn_buf_adds (b, "        volumeMounts:\n        - name: job\n          mountPath: ");
  rn_json_strz (b, j->path);
  rn_buf_adds (b, "\n          subPath: job.yaml\n          readOnly: true\n"
               "        - name: images\n          mountPath: ");
  rn_json_strz (b, imgs);
  rn_buf_addf (b, "\n          readOnly: %s\n        - name: results\n          mountPath: ",
               ro ? "true" : "false");
  rn_json_strz (b, o->out);
  rn_buf_adds (b, "\n        - name: scratch\n          mountPath: /scratch\n");
  k8s_volumes (b, o, name, 1, ro);
  rn_strv_free (&w);
  free (imgs);
}

static void
k8s_merge (struct rn_buf *b, const struct gen_opts *o, const char *name, const char *group)
{
  struct rn_buf sh = { 0 };
  struct rn_strv w = { 0 };
  char *mname = rn_asprintf ("%s-merge", name);

  k8s_meta (b, "Job", "batch/v1", mname, group);
  rn_buf_adds (b, "spec:\n  suspend: true\n  backoffLimit: 2\n  template:\n    spec:\n");
  merge_commands (&sh, o, group, "/scratch");
  rn_strv_add (&w, rn_strdup ("/bin/sh"));
  rn_strv_add (&w, rn_strdup ("-c"));
  rn_strv_add (&w, rn_buf_take (&sh));
  k8s_container (b, o, "merge", &w, 0, 0);
  rn_buf_adds (b, "        volumeMounts:\n        - name: results\n          mountPath: ");
  rn_json_strz (b, o->out);
  rn_buf_adds (b, "\n        - name: scratch\n          mountPath: /scratch\n");
  k8s_volumes (b, o, name, 0, 0);
  rn_strv_free (&w);
  free (mname);
}

int
rn_cmd_k8s (int argc, char **argv)
{
  struct gen_opts o = { .retries = -1, .backoff = -1 };
  struct rn_buf b = { 0 };
  struct rn_job *j;
  char *group = NULL, *name = NULL, *dns = NULL, *cm = NULL;
  int rc;

  if ((j = gen_setup (argc, argv, &o, 1, &group, &rc)) == NULL)
    goto out;
  free (o.self);
  o.self = rn_strdup ("guestkit");  /* the container image's */
  dns = dns_name (group, 40);
  name = rn_asprintf ("guestkit-%s", dns);
  rn_buf_addf (&b, "# Written by guestkit k8s: job %s in %d shards (group %s).\n"
               "#   kubectl apply -f THIS-FILE\n"
               "#   kubectl wait --for=condition=complete --timeout=24h job/%s\n"
               "#     (or until it is Failed: a shard failed %d times)\n"
               "#   kubectl patch job/%s-merge --type=merge -p '{\"spec\":{\"suspend\":false}}'\n"
               "# The merged results: %s/guestkit.db on the results claim.\n",
               j->name, o.shards, group, name, (o.backoff >= 0 ? o.backoff : 2) + 1, name,
               o.out);
  cm = rn_asprintf ("%s-job", name);
  k8s_meta (&b, "ConfigMap", "v1", cm, group);
  rn_buf_adds (&b, "data:\n  job.yaml: ");
  rn_json_strz (&b, j->text);
  rn_buf_addc (&b, '\n');
  k8s_shards (&b, &o, j, name, group);
  k8s_merge (&b, &o, name, group);
  fputs (b.s, stdout);
  rc = RN_EXIT_OK;
 out:
  rn_buf_free (&b);
  rn_job_free (j);
  free (group), free (name), free (dns), free (cm);
  gen_free (&o);
  return rc;
}
