/* runner/slurm.c: `guestkit slurm', a sharded run as a Slurm job array.
 * We write what the scheduler runs; we do not schedule anything
 * ourselves.
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
 *
 * Each shard keeps its database on the node's local disk ($TMPDIR, else
 * /var/tmp) and copies it into DIR/shards when it ends.  The options,
 * the job and the merge commands are shard-gen.c's, shared with
 * `guestkit k8s' (k8s.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "shard-gen.h"

extern char **environ;

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
sbatch_head (struct rn_buf *b, const struct rn_gen_opts *o, const char *name,
             const char *log)
{
  rn_buf_adds (b, "#SBATCH --job-name=");
  rn_buf_adds (b, name);
  rn_buf_addf (b, "\n#SBATCH --output=%s/logs/%s\n", o->out, log);
  if (o->partition)
    rn_buf_addf (b, "#SBATCH --partition=%s\n", o->partition);
}

static char *
shard_script (const struct rn_gen_opts *o, const struct rn_job *j, const char *group)
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
  if (rn_gen_workers (o, j) > 0)
    rn_buf_addf (&b, "#SBATCH --cpus-per-task=%d\n#SBATCH --mem=%dM\n",
                 rn_gen_workers (o, j), rn_gen_mib (o, j));
  if (o->time_limit)
    rn_buf_addf (&b, "#SBATCH --time=%s\n", o->time_limit);
  rn_buf_adds (&b, "exec");
  rn_gen_shard_argv (o, j, group, &w);
  for (size_t i = 0; i < w.n; i++) {
    rn_buf_addc (&b, ' ');
    rn_gen_sh_quote (&b, w.v[i]);
  }
  rn_buf_addc (&b, '\n');
  rn_strv_free (&w);
  free (name);
  return rn_buf_take (&b);
}

static char *
merge_script (const struct rn_gen_opts *o, const struct rn_job *j, const char *group)
{
  struct rn_buf b = { 0 };
  char *name = rn_shard_clean (j->name), *mname = rn_asprintf ("%s-merge", name);

  rn_buf_addf (&b, "#!/bin/sh\n"
               "# Written by guestkit slurm: merges the shards of group %s into\n"
               "# %s/guestkit.db (run it again after rerunning a shard).\n",
               group, o->out);
  sbatch_head (&b, o, mname, "merge.out");
  rn_gen_merge_commands (&b, o, group, "\"${TMPDIR:-/var/tmp}\"");
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
slurm_submit (const struct rn_gen_opts *o, const char *shard, const char *merge)
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

int
rn_cmd_slurm (int argc, char **argv)
{
  struct rn_gen_opts o = { .retries = -1 };
  struct rn_job *j;
  char *group = NULL, *shard = NULL, *merge = NULL, *s1 = NULL, *s2 = NULL;
  int rc;

  if ((j = rn_gen_setup (argc, argv, &o, 0, &group, &rc)) == NULL)
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
  rn_gen_free (&o);
  return rc;
}
