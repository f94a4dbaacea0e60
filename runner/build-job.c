/* runner/build-job.c: the job keys of a build beside `build': `base' (what
 * the image starts from) and `verify' (boot it before it is put in
 * place), validated with file:line:col like the rest of the job (job.c
 * calls rn_jv_build_keys once the variables are known).
 *
 * A base is checked here, before anything runs: a tarball must exist and
 * start with a tar header; a base image must exist and open in the
 * format given (qemu-img info, which also refuses images that name a
 * backing or data file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

#define ERR RN_JV_ERR

static const char *const base_keys[] = { "tar", "image", "format", NULL };
static const char *const verify_keys[] = { "boot", "expect", "timeout", "bus", NULL };

int
rn_tar_check (const char *path, char **err)
{
  unsigned char h[512];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  ssize_t n;

  if (fd == -1 || fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)) {
    *err = rn_asprintf ("%s: %s", path, fd == -1 ? strerror (errno) : "not a regular file");
    if (fd != -1)
      close (fd);
    return -1;
  }
  n = read (fd, h, sizeof h);
  close (fd);
  if (n != (ssize_t) sizeof h || memcmp (h + 257, "ustar", 5) != 0) {
    *err = rn_asprintf ("%s is not a tar archive (no tar header)%s", path,
                        n >= 2 && h[0] == 0x1f && h[1] == 0x8b
                        ? "; it is gzip-compressed: give the plain tar" : "");
    return -1;
  }
  return 0;
}

/* A path key of base: absolute, existing. */
static char *
base_path (struct rn_jv *v, const struct rn_node *n, const char *what)
{
  char *s, *p;

  if (rn_jv_str (v, n, what, &s) == -1)
    return NULL;
  p = rn_path_join (v->j->dir, s);
  free (s);
  return p;
}

static void
parse_base (struct rn_jv *v, const struct rn_node *n)
{
  struct rn_job *j = v->j;
  const struct rn_node *f[3];
  char *err = NULL;

  if (rn_jv_map (v, n, "base", base_keys, f) == -1)
    return;
  if (!f[0] == !f[1]) {
    ERR (v, n, "base: give one of 'tar' (a root tree tarball) or 'image' (a disk image)");
    return;
  }
  if (f[0]) {
    if (f[2])
      ERR (v, f[2], "base.format goes with base.image, not base.tar");
    if ((j->base_tar = base_path (v, f[0], "base.tar")) && rn_tar_check (j->base_tar, &err) == -1)
      ERR (v, f[0], "base.tar: %s", err);
  } else if ((j->base_image = base_path (v, f[1], "base.image")) != NULL) {
    uint64_t size;
    j->base_format = rn_strdup ("raw");
    if (f[2]) {
      free (j->base_format);
      j->base_format = NULL;
      if (rn_jv_str (v, f[2], "base.format", &j->base_format) == 0 &&
          strcmp (j->base_format, "raw") && strcmp (j->base_format, "qcow2"))
        ERR (v, f[2], "base.format: expected raw or qcow2, got '%s'", j->base_format);
    }
    if (j->base_format && access (j->base_image, R_OK) == -1)
      ERR (v, f[1], "base.image: %s: %s", j->base_image, strerror (errno));
    else if (j->base_format && rn_build_image_size (j->base_image, j->base_format, &size, &err) == -1)
      ERR (v, f[1], "base.image: %s", err);
    else if (j->base_format && size > j->build_size && j->build_size)
      ERR (v, f[1], "base.image: %s is %llu MiB, more than build.size (%llu MiB)",
           j->base_image, (unsigned long long) (size >> 20),
           (unsigned long long) (j->build_size >> 20));
  }
  free (err);
}

static void
parse_verify (struct rn_jv *v, const struct rn_node *n)
{
  struct rn_job *j = v->j;
  const struct rn_node *f[4];
  int64_t secs;

  if (rn_jv_map (v, n, "verify", verify_keys, f) == -1)
    return;
  if (f[0] == NULL) {
    ERR (v, n, "verify: 'boot: true' is the check there is (boot the image)");
    return;
  }
  if (rn_jv_bool (v, f[0], "verify.boot", &j->verify_boot) == -1 || !j->verify_boot)
    return;
  if (f[1] == NULL)
    ERR (v, n, "verify: 'expect' is required (the console text that proves the boot, "
         "e.g. \"{{name}} login:\")");
  else if (rn_jv_str (v, f[1], "verify.expect", &j->verify_expect) == 0) {
    if (j->verify_expect[0] == '\0')
      ERR (v, f[1], "verify.expect: empty");
    rn_jv_tmpl (v, f[1], j->verify_expect);
  }
  j->verify_timeout = 300;
  if (f[2] && (f[2]->kind != RN_Y_SCALAR || rn_parse_duration (f[2]->str, &secs) == -1 ||
               secs < 1 || secs > 86400))
    ERR (v, f[2], "verify.timeout: expected a duration from 1 s to 24 h (90, 90s, 5m)");
  else if (f[2])
    j->verify_timeout = (int) secs;
  if (f[3] && rn_jv_str (v, f[3], "verify.bus", &j->verify_bus) == 0 &&
      strcmp (j->verify_bus, "virtio-blk") && strcmp (j->verify_bus, "scsi"))
    ERR (v, f[3], "verify.bus: expected virtio-blk or scsi, got '%s'", j->verify_bus);
}

void
rn_jv_build_keys (struct rn_jv *v)
{
  const struct rn_node *b = rn_jv_top (v, "base"), *ver = rn_jv_top (v, "verify");

  if ((b || ver) && v->j->kind != RN_JOB_BUILD) {
    ERR (v, b ? b : ver, "'%s' is for build jobs (a job with 'build')", b ? "base" : "verify");
    return;
  }
  if (b)
    parse_base (v, b);
  if (ver)
    parse_verify (v, ver);
}

void
rn_job_build_free (struct rn_job *j)
{
  free (j->base_tar);
  free (j->base_image);
  free (j->base_format);
  free (j->verify_expect);
  free (j->verify_bus);
}
