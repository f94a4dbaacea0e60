/* runner/shard-gen.h: what `guestkit slurm' (slurm.c) and `guestkit k8s'
 * (k8s.c) share, from shard-gen.c: the options, the job they shard, and
 * the commands a shard and the merge run.  Private to those three files.
 */
#ifndef RN_SHARD_GEN_H
#define RN_SHARD_GEN_H

#include "runner.h"

/* The options of both commands. */
struct rn_gen_opts {
  int shards, max_running, workers, timeout, retries, backoff;  /* 0 / -1: not given */
  const char *partition, *time_limit, *group, *image, *images_claim, *results_claim;
  const char *images_path;
  char *out;                 /* absolute */
  char *self;                /* this guestkit binary, absolute */
  int submit;
  struct rn_overrides ov;
  struct rn_strv run_args;   /* --var/--images/--format as given to run */
};

/* Parse argv (k8s: the Kubernetes options), load and check the job, make
 * every path absolute; the job, or NULL with *rc the exit status (0 for
 * --help).  *group is the shard group's name (allocated). */
struct rn_job *rn_gen_setup (int argc, char **argv, struct rn_gen_opts *o, int k8s,
                             char **group, int *rc);
void rn_gen_free (struct rn_gen_opts *o);
/* p, made absolute against the current directory if it is not. */
char *rn_gen_absolute (const char *p);
/* 'text' for sh, quotes inside written '\''. */
void rn_gen_sh_quote (struct rn_buf *b, const char *s);
/* The `guestkit run' command of a shard, as argv words added to w. */
void rn_gen_shard_argv (const struct rn_gen_opts *o, const struct rn_job *j,
                        const char *group, struct rn_strv *w);
/* What one shard asks of its node: workers (the job's unless --workers
 * says; 0: the node chooses), and MiB of memory, as the runner's own
 * worker rule (pool.c) counts that many appliances of the job's RAM. */
int rn_gen_workers (const struct rn_gen_opts *o, const struct rn_job *j);
int rn_gen_mib (const struct rn_gen_opts *o, const struct rn_job *j);
/* The merge's shell commands, on a local copy in tmpdir (a shell word). */
void rn_gen_merge_commands (struct rn_buf *b, const struct rn_gen_opts *o,
                            const char *group, const char *tmpdir);

#endif
