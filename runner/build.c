/* runner/build.c: what a build job does on the host around its steps.
 *
 *   before launch: the image under a temp name beside its output (empty,
 *                  or a copy of `base: {image: ...}' grown to build.size)
 *   after close:   the output written from it (raw or qcow2, compressed
 *                  if asked; zero clusters dropped), its sha256, then the
 *                  boot check (`verify: boot'), and only then the rename
 *                  into place (exec.c)
 *
 * Host programs (qemu-img) run through rn_run_command, the runner's one
 * way to run a command and collect its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define OUTPUT_MAX (1u << 20)      /* a command's output kept, at most */

extern char **environ;

pid_t
rn_spawn_piped (char *const *argv, int *fd, char **err)
{
  posix_spawn_file_actions_t fa;
  int p[2];
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) == -1) {
    *err = rn_asprintf ("pipe: %s", strerror (errno));
    return -1;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 1);
  posix_spawn_file_actions_adddup2 (&fa, p[1], 2);
  errno = posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (p[1]);
  if (errno) {
    *err = rn_asprintf ("%s: %s", argv[0], strerror (errno));
    close (p[0]);
    return -1;
  }
  *fd = p[0];
  return pid;
}

int
rn_run_command_output (char *const *argv, char **out, char **err)
{
  struct rn_buf b = { 0 };
  int fd, status;
  pid_t pid;
  char chunk[4096];
  ssize_t n;

  if ((pid = rn_spawn_piped (argv, &fd, err)) == -1)
    return -1;
  while ((n = read (fd, chunk, sizeof chunk)) > 0 || (n == -1 && errno == EINTR))
    if (n > 0 && b.len < OUTPUT_MAX)
      rn_buf_add (&b, chunk, (size_t) n);
  close (fd);
  rn_buf_addc (&b, '\0');
  b.len--;
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    if (out)
      *out = rn_buf_take (&b);
    rn_buf_free (&b);
    return 0;
  }
  while (b.len > 0 && b.s[b.len - 1] == '\n')
    b.s[--b.len] = '\0';
  *err = rn_asprintf ("%s failed: %s", argv[0], b.len ? b.s : "no message");
  rn_buf_free (&b);
  return -1;
}

int
rn_run_command (char *const *argv, char **err)
{
  return rn_run_command_output (argv, NULL, err);
}

/* ---- the working image: empty, or a copy of the base image ---- */

int
rn_build_image_size (const char *path, const char *format, uint64_t *size, char **err)
{
  char *argv[] = { "qemu-img", "info", "--output=json", "-f", (char *) format,
                   (char *) path, NULL };
  char *out = NULL, *p;
  int r = -1;

  if (rn_run_command_output (argv, &out, err) == -1)
    return -1;
  if ((p = strstr (out, "\"virtual-size\":")) != NULL &&
      sscanf (p + 15, " %" SCNu64, size) == 1)
    r = 0;
  else
    *err = rn_asprintf ("%s: qemu-img info gave no virtual size", path);
  if (r == 0 && (strstr (out, "\"backing-filename\"") || strstr (out, "\"data-file\""))) {
    *err = rn_asprintf ("base.image %s names another file (a backing or data file); "
                        "refusing it", path);
    r = -1;
  }
  free (out);
  return r;
}

int
rn_build_work_image (const struct rn_job *j, const char *work, char **err)
{
  char size[32];
  uint64_t vsize;

  snprintf (size, sizeof size, "%" PRIu64, j->build_size);
  if (j->base_image == NULL) {
    if (truncate (work, (off_t) j->build_size) == -1) {
      *err = rn_asprintf ("%s: %s", work, strerror (errno));
      return -1;
    }
    return 0;
  }
  if (rn_build_image_size (j->base_image, j->base_format, &vsize, err) == -1)
    return -1;
  if (vsize > j->build_size) {
    *err = rn_asprintf ("base.image %s is %" PRIu64 " MiB, more than build.size "
                        "(%" PRIu64 " MiB)", j->base_image, vsize >> 20, j->build_size >> 20);
    return -1;
  }
  {
    char *conv[] = { "qemu-img", "convert", "-q", "-f", j->base_format, "-O", "raw",
                     j->base_image, (char *) work, NULL };
    char *grow[] = { "qemu-img", "resize", "-q", "-f", "raw", (char *) work, size, NULL };
    if (rn_run_command (conv, err) == -1 || rn_run_command (grow, err) == -1)
      return -1;
  }
  return 0;
}

/* After launch, for a base image: the last partition of /dev/sda and its
 * ext filesystem grown to the end of the disk. */
int
rn_build_grow_base (guestfs_h *g, const struct rn_job *j, char **err)
{
  struct guestfs_partition_list *pl;
  char dev[64], *type;
  int n, r = 0;

  if (j->base_image == NULL)
    return 0;
  if ((pl = guestfs_part_list (g, "/dev/sda")) == NULL || pl->len == 0) {
    *err = rn_asprintf ("base.image %s: no partition table on it: %s", j->base_image,
                        pl ? "no partitions" : guestfs_last_error (g));
    if (pl)
      guestfs_free_partition_list (pl);
    return -1;
  }
  n = pl->val[pl->len - 1].part_num;
  guestfs_free_partition_list (pl);
  snprintf (dev, sizeof dev, "/dev/sda%d", n);
  if (guestfs_sfdisk_N (g, "/dev/sda", n, 0, 0, 0, ",+") == -1) {
    *err = rn_asprintf ("growing %s: %s", dev, guestfs_last_error (g));
    return -1;
  }
  if ((type = guestfs_vfs_type (g, dev)) != NULL && strncmp (type, "ext", 3) == 0 &&
      (guestfs_e2fsck_f (g, dev) == -1 || guestfs_resize2fs (g, dev) == -1)) {
    *err = rn_asprintf ("resizing the filesystem on %s: %s", dev, guestfs_last_error (g));
    r = -1;
  }
  free (type);
  return r;
}

/* ---- after the steps: free space zeroed, then the output ---- */

/* Every ext2/3/4 filesystem's free blocks zeroed (they are unmounted
 * now), so the output conversion leaves them out.  Only a disk that
 * started as a copy of a base image can hold old data in free blocks: a
 * new disk's free blocks were never written (or hold only what the steps
 * deleted), and reading them all costs more than it saves. */
int
rn_build_zero_free (guestfs_h *g, const struct rn_job *j, char **err)
{
  char **parts;
  int r = 0;

  if (j->base_image == NULL)
    return 0;
  if ((parts = guestfs_list_partitions (g)) == NULL) {
    *err = rn_asprintf ("list_partitions: %s", guestfs_last_error (g));
    return -1;
  }
  for (size_t i = 0; parts[i]; i++) {
    char *type = guestfs_vfs_type (g, parts[i]);
    if (r == 0 && type && strncmp (type, "ext", 3) == 0 &&
        guestfs_zerofree (g, parts[i]) == -1) {
      *err = rn_asprintf ("zerofree %s: %s", parts[i], guestfs_last_error (g));
      r = -1;
    }
    free (type);
    free (parts[i]);
  }
  free (parts);
  return r;
}

static int
sha256_file (const char *path, char *hex, char **err)
{
  char *argv[] = { "sha256sum", "--", (char *) path, NULL };
  char *out = NULL;

  if (rn_run_command_output (argv, &out, err) == -1)
    return -1;
  if (strlen (out) < 64) {
    *err = rn_asprintf ("sha256sum %s: unexpected output", path);
    free (out);
    return -1;
  }
  memcpy (hex, out, 64);
  hex[64] = '\0';
  free (out);
  return 0;
}

int
rn_build_output (const struct rn_job *j, const char *work, const char *final,
                 struct rn_build_out *o, char **err)
{
  struct stat st;
  int fd;

  memset (o, 0, sizeof *o);
  if ((o->path = rn_temp_beside (final, &fd)) == NULL) {
    *err = rn_asprintf ("cannot create a file beside %s: %s", final, strerror (errno));
    return -1;
  }
  close (fd);
  {
    char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", j->build_format,
                     j->build_compress ? "-c" : "-q", (char *) work, o->path, NULL };
    if (rn_run_command (argv, err) == -1)
      goto fail;
  }
  if (stat (o->path, &st) == -1) {
    *err = rn_asprintf ("%s: %s", o->path, strerror (errno));
    goto fail;
  }
  o->bytes = (uint64_t) st.st_size;
  o->allocated = (uint64_t) st.st_blocks * 512;
  if (sha256_file (o->path, o->sha256, err) == -1)
    goto fail;
  return 0;
 fail:
  unlink (o->path);
  free (o->path);
  o->path = NULL;
  return -1;
}

/* The output's record: a step's result and the facts a report shows. */
char *
rn_build_out_json (const struct rn_build_out *o, const char *final, const char *format)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "{\"output\":");
  rn_json_strz (&b, final);
  rn_buf_addf (&b, ",\"format\":\"%s\",\"bytes\":%" PRIu64 ",\"allocated\":%" PRIu64
               ",\"sha256\":\"%s\"}", format, o->bytes, o->allocated, o->sha256);
  return rn_buf_take (&b);
}

char *
rn_boot_json (const struct rn_boot_result *r, const char *expect)
{
  struct rn_buf b = { 0 };

  rn_buf_adds (&b, "{\"expect\":");
  rn_json_strz (&b, expect);
  rn_buf_addf (&b, ",\"seconds\":%.2f,\"accel\":\"%s\",\"seen\":%s,\"console_tail\":",
               r->secs, r->accel, r->error ? "false" : "true");
  rn_json_strz (&b, r->tail ? r->tail : "");
  rn_buf_addc (&b, '}');
  return rn_buf_take (&b);
}

/* ---- the end of a build task ---- */

void
rn_taskrec_add_step (struct rn_taskrec *r, int seq, const char *call, char *args,
                     char *result, char *error, double ms, int line)
{
  struct rn_steprec *s;

  r->steps = rn_realloc (r->steps, (r->nsteps + 1) * sizeof *r->steps);
  s = &r->steps[r->nsteps++];
  s->seq = seq;
  s->call = call;
  s->args = args;
  s->result = result;
  s->error = error;
  s->ms = ms;
  s->line = line;
}

static void
add_fact (struct rn_taskrec *r, const char *name, char *json)
{
  rn_strv_add (&r->fact_names, rn_strdup (name));
  rn_strv_add (&r->fact_values, json);
}

/* The boot check of the output at o->path; recorded as step `verify_boot'
 * and the facts boot_seconds, boot_console. */
static int
verify_boot (const struct rn_build_end *e, const struct rn_build_out *o, char **why)
{
  const struct rn_job *j = e->t->job;
  struct rn_boot b = {
    .image = o->path, .format = j->build_format, .expect = e->expect,
    .timeout = j->verify_timeout, .bus = j->verify_bus,
    .on_pid = e->on_pid, .ctx = e->ctx, .stop = e->stop,
  };
  struct rn_boot_result br;
  struct rn_buf js = { 0 };
  double t0 = rn_now ();
  int r = rn_boot_test (&b, &br);

  rn_buf_adds (&js, "{\"expect\":");
  rn_json_strz (&js, e->expect);
  rn_buf_addf (&js, ",\"timeout\":%d}", j->verify_timeout);
  if (r == -1)
    *why = rn_asprintf ("verify: %s\n%s", br.error, br.tail ? br.tail : "");
  rn_taskrec_add_step (e->rec, e->seq + 1, "verify_boot", rn_buf_take (&js),
                       rn_boot_json (&br, e->expect), r == -1 ? rn_strdup (br.error) : NULL,
                       (rn_now () - t0) * 1000, 0);
  add_fact (e->rec, "boot_seconds", rn_asprintf ("%.2f", br.secs));
  {
    struct rn_buf t = { 0 };
    rn_json_strz (&t, br.tail ? br.tail : "");
    add_fact (e->rec, "boot_console", rn_buf_take (&t));
  }
  rn_boot_result_free (&br);
  return r;
}

int
rn_build_finish (const struct rn_build_end *e, char **out_tmp, char **why)
{
  const struct rn_task *t = e->t;
  struct rn_build_out o;
  double t0 = rn_now ();
  char *err = NULL;

  *out_tmp = NULL;
  if (rn_build_output (t->job, e->work, t->image_path, &o, &err) == -1) {
    *why = rn_asprintf ("output: %s", err);
    rn_taskrec_add_step (e->rec, e->seq, "output", rn_strdup ("{}"), NULL, err,
                         (rn_now () - t0) * 1000, 0);
    return -1;
  }
  rn_taskrec_add_step (e->rec, e->seq, "output", rn_strdup ("{}"),
                       rn_build_out_json (&o, t->image_path, t->job->build_format), NULL,
                       (rn_now () - t0) * 1000, 0);
  add_fact (e->rec, "output_sha256", rn_asprintf ("\"%s\"", o.sha256));
  add_fact (e->rec, "output_bytes", rn_asprintf ("%" PRIu64, o.bytes));
  if (t->job->verify_boot && verify_boot (e, &o, why) == -1) {
    unlink (o.path);
    free (o.path);
    return -1;
  }
  *out_tmp = o.path;
  return 0;
}
