/* runner/k8s.c: `guestkit k8s', a sharded run as Kubernetes objects.
 *
 *   guestkit k8s JOB.yaml --shards N ...     prints a ConfigMap with the job
 *                                            file, an Indexed Job (index in
 *                                            JOB_COMPLETION_INDEX) and a
 *                                            suspended merge Job.
 *
 * Nothing is applied: the manifests go to stdout for kubectl.  The
 * options, the job and the merge commands are shard-gen.c's, shared with
 * `guestkit slurm' (slurm.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard-gen.h"

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
k8s_volumes (struct rn_buf *b, const struct rn_gen_opts *o, const char *name, int shard,
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
k8s_container (struct rn_buf *b, const struct rn_gen_opts *o, const char *cname,
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
k8s_shards (struct rn_buf *b, const struct rn_gen_opts *o, const struct rn_job *j,
            const char *name, const char *group)
{
  struct rn_strv w = { 0 };
  char *imgs = o->images_path ? rn_gen_absolute (o->images_path) : images_dir (j);
  int ro = rn_job_all_readonly (j, 1);

  k8s_meta (b, "Job", "batch/v1", name, group);
  rn_buf_addf (b, "spec:\n  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n"
               "  backoffLimitPerIndex: %d\n  maxFailedIndexes: %d\n  template:\n"
               "    metadata:\n      labels:\n        app.kubernetes.io/name: guestkit\n"
               "    spec:\n", o->shards,
               o->max_running > 0 && o->max_running < o->shards ? o->max_running : o->shards,
               o->backoff >= 0 ? o->backoff : 2, o->shards);
  rn_gen_shard_argv (o, j, group, &w);
  k8s_container (b, o, "shard", &w, rn_gen_workers (o, j), rn_gen_mib (o, j));
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
k8s_merge (struct rn_buf *b, const struct rn_gen_opts *o, const char *name, const char *group)
{
  struct rn_buf sh = { 0 };
  struct rn_strv w = { 0 };
  char *mname = rn_asprintf ("%s-merge", name);

  k8s_meta (b, "Job", "batch/v1", mname, group);
  rn_buf_adds (b, "spec:\n  suspend: true\n  backoffLimit: 2\n  template:\n    spec:\n");
  rn_gen_merge_commands (&sh, o, group, "/scratch");
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
  struct rn_gen_opts o = { .retries = -1, .backoff = -1 };
  struct rn_buf b = { 0 };
  struct rn_job *j;
  char *group = NULL, *name = NULL, *dns = NULL, *cm = NULL;
  int rc;

  if ((j = rn_gen_setup (argc, argv, &o, 1, &group, &rc)) == NULL)
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
  rn_gen_free (&o);
  return rc;
}
