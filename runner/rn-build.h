/* runner/rn-build.h: templated builds: the host side of a build (build.c,
 * build-job.c) and the boot check of its output (boot-test.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_BUILD_H
#define RN_BUILD_H

#include <stdint.h>
#include <sys/types.h>

#include "guestfs.h"
#include "rn-db.h"

/* ---- build.c: a build's host side (outputs, commands) ---- */

/* Run argv (stdin empty); 0 if it exited 0, else -1 with *err naming the
 * program and what it printed (caller frees).  With out: its stdout and
 * stderr, caller frees. */
int rn_run_command (char *const *argv, char **err);
int rn_run_command_output (char *const *argv, char **out, char **err);
/* Start argv with stdin empty and stdout+stderr on a pipe (*fd, the
 * caller closes it and reaps the pid); -1 with *err. */
pid_t rn_spawn_piped (char *const *argv, int *fd, char **err);

/* A disk image's virtual size by qemu-img, in the format given; -1 if it
 * does not open so, or names a backing or data file. */
int rn_build_image_size (const char *path, const char *format, uint64_t *size,
                         char **err);
/* Build: the working image (always raw, sparse) at work, already
 * created empty: grown to build.size, or the base image copied into it. */
int rn_build_work_image (const struct rn_job *j, const char *work, char **err);
/* After launch: a base image's last partition and filesystem grown. */
int rn_build_grow_base (guestfs_h *g, const struct rn_job *j, char **err);
/* After umount_all: free blocks of ext filesystems zeroed (a disk copied
 * from base.image only). */
int rn_build_zero_free (guestfs_h *g, const struct rn_job *j, char **err);

/* A finished build's output, at a temp name beside the final path. */
struct rn_build_out {
  char *path;                /* the temp output (caller renames or unlinks) */
  uint64_t bytes, allocated; /* file size, blocks on disk */
  char sha256[65];
};
/* Convert work (raw) to the job's format (compressed if asked) at a temp
 * name beside final, and hash it; -1 with *err and nothing left. */
int rn_build_output (const struct rn_job *j, const char *work, const char *final,
                     struct rn_build_out *o, char **err);
/* JSON records of an output and of a boot check; caller frees. */
char *rn_build_out_json (const struct rn_build_out *o, const char *final,
                         const char *format);
struct rn_boot_result;
char *rn_boot_json (const struct rn_boot_result *r, const char *expect);

/* What a build task has when its appliance is closed. */
struct rn_build_end {
  const struct rn_task *t;
  struct rn_taskrec *rec;    /* steps and facts are added to it */
  int seq;                   /* step number for the records */
  const char *work;          /* the working raw image */
  const char *expect;        /* verify.expect expanded, or NULL */
  void (*on_pid) (void *ctx, pid_t pid);   /* the boot's qemu, for the watchdog */
  void *ctx;
  volatile int *stop;
};
/* Write the output, record it, boot-check it (verify); 0 with *out_tmp
 * the finished output at a temp name (caller renames it into place), or
 * -1 with *why and nothing left. */
int rn_build_finish (const struct rn_build_end *e, char **out_tmp, char **why);
/* Append a step record to r (takes args, result, error). */
void rn_taskrec_add_step (struct rn_taskrec *r, int seq, const char *call, char *args,
                          char *result, char *error, double ms, int line);
/* Is path a plain tar archive?  -1 with *err naming it and why not. */
int rn_tar_check (const char *path, char **err);

/* build-job.c: the `base' and `verify' keys of a build job */
struct rn_jv;
void rn_jv_build_keys (struct rn_jv *v);
void rn_job_build_free (struct rn_job *j);

/* ---- boot-test.c: does an image boot? ---- */

struct rn_boot {
  const char *image;         /* absolute path; opened read-only */
  const char *format;        /* given, never probed */
  const char *expect;        /* text that proves the boot */
  int timeout;               /* seconds */
  const char *bus;           /* "virtio-blk" (NULL: default) or "scsi" */
  void (*on_pid) (void *ctx, pid_t pid);   /* qemu's pid, 0 when gone */
  void *ctx;
  volatile int *stop;        /* or NULL: set to give up */
};

struct rn_boot_result {
  double secs;               /* from qemu's start to the text */
  char accel[8];             /* "kvm" or "tcg" */
  char *tail;                /* the console's last lines, cleaned */
  char *error;               /* why it failed, or NULL */
};

/* Boot b->image on a throw-away overlay; 0 when b->expect appeared.
 * Free r with rn_boot_result_free either way. */
int rn_boot_test (const struct rn_boot *b, struct rn_boot_result *r);
void rn_boot_result_free (struct rn_boot_result *r);
int rn_cmd_boot_test (int argc, char **argv);

#endif /* RN_BUILD_H */
