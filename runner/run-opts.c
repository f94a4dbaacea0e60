/* runner/run-opts.c: the options of `guestkit run': --help, the parser, and
 * the options a run keeps in its database (as JSON, read back as YAML on
 * --resume, where what the command line gives again wins).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

void
rn_run_usage (FILE *f)
{
  fprintf (f,
"usage: guestkit run [OPTION]... JOB.yaml...\n"
"       guestkit run [OPTION]... --resume RUN\n"
"\n"
"Validate the job files (every error is reported, with file:line:column),\n"
"then run their tasks on a pool of worker threads, each task in a fresh\n"
"appliance, and record every step in the results database.\n"
"\n"
"  --db FILE          results database (default ./guestkit.db)\n"
"  -j, --workers N    worker threads (default: the job's, else what this\n"
"                     machine can hold: %d here)\n"
"  --timeout SECS     per-task timeout, overriding the jobs' (90, 10m, 1h)\n"
"  --retries N        retries of a task whose appliance failed\n"
"  --var NAME=VALUE   set a template variable (repeatable)\n"
"  --images PATH      run on these images (path or glob) instead of the\n"
"                     job's (repeatable)\n"
"  --format FORMAT    the format of --images (default: the job's, else raw)\n"
"  --resume RUN       run the unfinished tasks of RUN again\n"
"  --shard I/N        run only shard I (0..N-1) of the tasks (default: from\n"
"                     SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX and --shards)\n"
"  --shards N         the number of shards, the index from the environment\n"
"  --shard-group NAME the sharded run this shard belongs to (default: the\n"
"                     job's name and a hash of its text and options)\n"
"  --out DIR          copy the shard's database to DIR when it ends; start\n"
"                     from that copy if --db is missing\n"
"  -n, --check        validate and list the tasks; run nothing\n"
"  --dry-run          run every step on a throw-away overlay and record what\n"
"                     changed; commit nothing to the images\n"
"  -q, --quiet        print only tasks that are not ok, and the summary\n"
"  -v, --verbose      more messages\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 all tasks ok, 1 some task not ok, 2 invalid job or arguments.\n",
           rn_default_workers ());
}

static int
parse_var (struct rn_overrides *ov, const char *s)
{
  const char *eq = strchr (s, '=');
  char *name;

  if (eq == NULL) {
    fprintf (stderr, "%s: --var: expected NAME=VALUE, got '%s'\n", rn_progname, s);
    return -1;
  }
  name = rn_strndup (s, (size_t) (eq - s));
  if (!rn_var_name_ok (name)) {
    fprintf (stderr, "%s: --var: '%s' is not a variable name\n", rn_progname, name);
    free (name);
    return -1;
  }
  rn_strv_add (&ov->var_names, name);
  rn_strv_add (&ov->var_values, rn_strdup (eq + 1));
  return 0;
}

static int
shard_arg (struct rn_run_opts *o, int c, const char *arg)
{
  char *err = NULL;

  if (c == 'S' && rn_shard_parse (arg, &o->shard.index, &o->shard.count, &err) == 0)
    o->shard_given = 1;
  else if (c == 'N' && rn_int_arg ("--shards", arg, 1, 100000, &o->shards) == -1)
    return -1;
  else if (c == 'G' && !rn_shard_group_ok (arg))
    err = rn_asprintf ("--shard-group: '%s' is not a name (1 to 100 of A-Z a-z 0-9 "
                       ". _ -, not starting with . or -)", arg);
  else if (c == 'G')
    o->shard.group = rn_strdup (arg);
  else if (c == 'O')
    o->shard.out_dir = rn_strdup (arg);
  if (err) {
    fprintf (stderr, "%s: run: %s\n", rn_progname, err);
    free (err);
    return -1;
  }
  return 0;
}

/* Options; the index of the first job file, or -1 (exit 2), -2 (--help). */
int
rn_run_parse_args (int argc, char **argv, struct rn_run_opts *o)
{
  static const struct option opts[] = {
    { "db", required_argument, NULL, 'd' },
    { "workers", required_argument, NULL, 'j' },
    { "timeout", required_argument, NULL, 't' },
    { "retries", required_argument, NULL, 'r' },
    { "var", required_argument, NULL, 'V' },
    { "images", required_argument, NULL, 'I' },
    { "format", required_argument, NULL, 'F' },
    { "resume", required_argument, NULL, 'R' },
    { "shard", required_argument, NULL, 'S' },
    { "shards", required_argument, NULL, 'N' },
    { "shard-group", required_argument, NULL, 'G' },
    { "out", required_argument, NULL, 'O' },
    { "check", no_argument, NULL, 'n' },
    { "dry-run", no_argument, NULL, 'D' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, x;

  optind = 1;
  while ((c = getopt_long (argc, argv, "j:nqvh", opts, NULL)) != -1) {
    switch (c) {
    case 'd': o->db = optarg; o->db_given = 1; break;
    case 'j': if (rn_int_arg ("--workers", optarg, 1, 256, &o->workers) == -1) return -1; break;
    case 't': if (rn_int_arg ("--timeout", optarg, 1, 86400, &o->timeout) == -1) return -1; break;
    case 'r': if (rn_int_arg ("--retries", optarg, 0, 10, &o->retries) == -1) return -1; break;
    case 'V': if (parse_var (&o->ov, optarg) == -1) return -1; break;
    case 'I': {               /* absolute, so that --resume works anywhere */
      char cwd[4096];
      rn_strv_add (&o->ov.images, optarg[0] == '/' || getcwd (cwd, sizeof cwd) == NULL
                   ? rn_strdup (optarg) : rn_path_join (cwd, optarg));
      break;
    }
    case 'F':
      free (o->ov.format);
      o->ov.format = rn_strdup (optarg);
      break;
    case 'R':
      if (rn_int_arg ("--resume", optarg, 1, INT32_MAX, &x) == -1) return -1;
      o->resume = x;
      break;
    case 'S': case 'N': case 'G': case 'O':
      if (shard_arg (o, c, optarg) == -1) return -1;
      break;
    case 'n': o->check = 1; break;
    case 'D': rn_dry_run = 1; break;
    case 'q': o->quiet = 1; break;
    case 'v': o->verbose = 1; break;
    case 'h': return -2;
    default:
      fprintf (stderr, "Try 'guestkit run --help'.\n");
      return -1;
    }
  }
  if (o->resume && optind < argc) {
    fprintf (stderr, "%s: run: --resume takes no job files (the run has its own)\n",
             rn_progname);
    return -1;
  }
  if (o->resume && (o->shard_given || o->shards || o->shard.group)) {
    fprintf (stderr, "%s: run: --resume keeps the run's shard (only --out may be "
             "given)\n", rn_progname);
    return -1;
  }
  if (o->resume && (o->ov.var_names.n || o->ov.images.n || o->ov.format)) {
    fprintf (stderr, "%s: run: --resume keeps the run's --var, --images and --format\n",
             rn_progname);
    return -1;
  }
  if (o->ov.format && o->ov.images.n == 0) {
    fprintf (stderr, "%s: run: --format is the format of --images (a job file gives "
             "its images' formats)\n", rn_progname);
    return -1;
  }
  if (!o->resume && optind == argc) {
    fprintf (stderr, "%s: run: no job file given\nTry 'guestkit run --help'.\n",
             rn_progname);
    return -1;
  }
  return optind;
}

/* ---- the options a run keeps, as JSON (read back as YAML) ---- */

char *
rn_run_options_json (const struct rn_run_opts *o)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "{\"vars\":{");
  for (size_t i = 0; i < o->ov.var_names.n; i++) {
    if (i)
      rn_buf_addc (&b, ',');
    rn_json_strz (&b, o->ov.var_names.v[i]);
    rn_buf_addc (&b, ':');
    rn_json_strz (&b, o->ov.var_values.v[i]);
  }
  rn_buf_adds (&b, "},\"images\":");
  rn_json_strv (&b, o->ov.images.v);
  rn_buf_adds (&b, ",\"format\":");
  rn_json_strz (&b, o->ov.format);
  rn_buf_addf (&b, ",\"timeout\":%d,\"retries\":%d", o->timeout, o->retries);
  if (o->shard.count > 0) {
    rn_buf_adds (&b, ",\"shard\":{\"group\":");
    rn_json_strz (&b, o->shard.group);
    rn_buf_addf (&b, ",\"index\":%d,\"count\":%d,\"total\":%zu,\"keys\":\"%016llx\"}",
                 o->shard.index, o->shard.count, o->shard.total,
                 (unsigned long long) o->shard.keys);
  }
  rn_buf_addc (&b, '}');
  return rn_buf_take (&b);
}

/* The "shard" object of a run's options: {group, index, count, total}. */
static void
shard_read (const struct rn_node *m, struct rn_shard *sh)
{
  int64_t x;

  for (size_t j = 0; j < m->nkids; j += 2) {
    const char *k = m->kids[j]->str;
    const struct rn_node *v = m->kids[j + 1];
    if (v->kind != RN_Y_SCALAR)
      continue;
    if (strcmp (k, "group") == 0) {
      free (sh->group);
      sh->group = rn_strdup (v->str);
    } else if (rn_parse_int (v->str, &x) == 0 && x >= 0 && x <= INT32_MAX) {
      if (strcmp (k, "index") == 0)
        sh->index = (int) x;
      else if (strcmp (k, "count") == 0)
        sh->count = (int) x;
      else if (strcmp (k, "total") == 0)
        sh->total = (size_t) x;
    }
  }
  if (sh->group == NULL || !rn_shard_group_ok (sh->group) || sh->index >= sh->count)
    sh->count = 0;           /* not a shard's run (a merged one): all tasks */
}

void
rn_run_options_read (const char *json, struct rn_run_opts *o)
{
  struct rn_errs e = { 0 };
  struct rn_doc d;

  if (rn_yaml_parse (&d, "options", json, strlen (json), &e) == -1 || d.root == NULL ||
      d.root->kind != RN_Y_MAP) {
    rn_errs_free (&e);
    return;
  }
  for (size_t i = 0; i < d.root->nkids; i += 2) {
    const char *k = d.root->kids[i]->str;
    const struct rn_node *v = d.root->kids[i + 1];
    int64_t x;
    if (strcmp (k, "vars") == 0 && v->kind == RN_Y_MAP)
      for (size_t j = 0; j < v->nkids; j += 2) {
        rn_strv_add (&o->ov.var_names, rn_strdup (v->kids[j]->str));
        rn_strv_add (&o->ov.var_values, rn_strdup (v->kids[j + 1]->str));
      }
    else if (strcmp (k, "images") == 0 && v->kind == RN_Y_SEQ)
      for (size_t j = 0; j < v->nkids; j++)
        rn_strv_add (&o->ov.images, rn_strdup (v->kids[j]->str));
    else if (strcmp (k, "format") == 0 && v->kind == RN_Y_SCALAR && !rn_node_is_null (v))
      o->ov.format = rn_strdup (v->str);
    else if (strcmp (k, "shard") == 0 && v->kind == RN_Y_MAP)
      shard_read (v, &o->shard);
    else if (v->kind == RN_Y_SCALAR && rn_parse_int (v->str, &x) == 0 && x >= 0) {
      if (strcmp (k, "timeout") == 0 && o->timeout < 0)
        o->timeout = (int) x;
      else if (strcmp (k, "retries") == 0 && o->retries < 0)
        o->retries = (int) x;
    }
  }
  rn_yaml_free (&d);
}
