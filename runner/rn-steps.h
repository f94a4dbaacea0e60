/* runner/rn-steps.h: running a task: raw calls (calls.c), the high-level
 * steps (steps*.c) and what they changed (steps-changes.c), one task on
 * one handle (exec.c) and its all-or-nothing commit (exec-commit.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_STEPS_H
#define RN_STEPS_H

#include <pthread.h>
#include <stdint.h>

#include "guestfs.h"
#include "calls-gen.h"
#include "rn-db.h"

/* ---- calls.c: helpers over the generated call table ---- */

/* Call c with args; fills *ret (free with rn_ret_free). */
int rn_call_invoke (const struct rn_call *c, guestfs_h *g,
                    const union rn_argval *args, struct rn_ret *ret);
void rn_ret_free (struct rn_ret *r);
/* May the call be a job step?  NULL if yes, else why not. */
const char *rn_call_step_refusal (const struct rn_call *c);
const char *rn_argtype_name (enum rn_argtype t);
/* The nearest step-callable name to a misspelt one, or NULL. */
const char *rn_call_suggest (const char *name);

/* ---- steps.c: the high-level steps, one table ---- */

#define RN_SA_REQUIRED 1u    /* the argument must be given */
#define RN_SA_MAP      2u    /* a mapping of strings, kept as key, value, ...
                              * in a RN_ARG_STRINGLIST */

/* One argument of a high-level step. */
struct rn_sarg {
  const char *name;
  enum rn_argtype type;      /* checked and converted as a call's would be */
  unsigned flags;            /* RN_SA_* */
  const char *doc;           /* one line */
};

#define RN_HS_WRITES   1u    /* changes the image: not in a read-only job */
#define RN_HS_DISK     2u    /* works on the bare disk: nothing mounted first */
#define RN_HS_NOMOUNT  2u    /* the dispatcher does not mount the OS first:
                              * the step inspects and mounts by itself */

/* ---- steps-changes.c: what the steps changed ---- */

/* A guest path's state. */
struct rn_fstate {
  int exists;
  uint32_t mode;             /* st_mode: type and permission bits */
  int64_t uid, gid, size;    /* size 0 for directories */
  char sha256[65];           /* regular files; else "" */
};
struct rn_change {
  char *path;
  struct rn_fstate before, after;
  const char *kind;          /* after rn_chg_finish: added, changed, removed */
};
/* The paths a task's steps touched; after rn_chg_finish, only those that
 * changed. */
struct rn_changes {
  struct rn_change *v;
  size_t n;
  int overflow;              /* more paths than it keeps */
};
/* Record path's state (and everything below a directory) once, before
 * it is first changed.  ch may be NULL (not tracking). */
void rn_chg_before (struct rn_changes *ch, guestfs_h *g, const char *path);
/* The same for n paths in one batch; with skip_dirs, a path that is a
 * directory now is not recorded. */
void rn_chg_before_list (struct rn_changes *ch, guestfs_h *g, const char *const *paths,
                         size_t n, int skip_dirs);
/* Take the states after and keep the differences. */
void rn_chg_finish (struct rn_changes *ch, guestfs_h *g);
void rn_chg_free (struct rn_changes *ch);
/* "file", "directory", "symlink", "other", or NULL if absent. */
const char *rn_fstate_type (const struct rn_fstate *f);

struct rn_sctx;

/* One high-level step: a row of the table in steps.c. */
struct rn_hstep {
  const char *name;
  const char *area;          /* files, users, config, packages, system */
  const char *summary;       /* one line, for help and the doc */
  const char *records;       /* what its result (JSON) holds */
  const struct rn_sarg *args;
  int nargs;
  unsigned flags;            /* RN_HS_* */
  /* Run it: 0, or -1 with c->err set. */
  int (*run) (struct rn_sctx *c);
  /* Or NULL.  Host-side work the step will want, started before the
   * task's launch (exec.c) with the arguments as they convert then
   * (c->g is NULL): it copies what it needs and returns at once. */
  void (*prefetch) (const struct rn_sctx *c);
};
extern const struct rn_hstep rn_hsteps[];
extern const size_t rn_nhsteps;
const struct rn_hstep *rn_hstep_find (const char *name);
/* The nearest step name to a misspelt one, or NULL. */
const char *rn_hstep_suggest (const char *name);
/* Index of argument name in h->args, or -1. */
int rn_hstep_arg (const struct rn_hstep *h, const char *name);

/* What a run function gets and gives back. */
struct rn_sctx {
  guestfs_h *g;
  const struct rn_job *j;
  const struct rn_hstep *h;
  const union rn_argval *av; /* by index in h->args, converted */
  const unsigned char *given;/* by index: was the argument given? */
  int readonly;              /* the image is read-only */
  struct rn_buf result;      /* the step's result as JSON; empty: null */
  struct rn_changes *chg;    /* the task's record of changes, or NULL */
  struct rn_audit *audit;    /* the task's inventory and findings */
  char *err;                 /* why it failed (caller frees) */
};
/* Arguments by name (the name must be one of the step's). */
int rn_sa_given (const struct rn_sctx *c, const char *name);
const char *rn_sa_str (const struct rn_sctx *c, const char *name); /* or NULL */
char *const *rn_sa_list (const struct rn_sctx *c, const char *name); /* never NULL */
int64_t rn_sa_int (const struct rn_sctx *c, const char *name, int64_t def);
/* Set c->err (printf style); returns -1. */
int rn_step_fail (struct rn_sctx *c, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));
/* c->err = "what: the handle's last error"; returns -1. */
int rn_step_gfail (struct rn_sctx *c, const char *what);
/* Call before changing a guest path: its state goes to the changes
 * record (once per task). */
void rn_step_before (struct rn_sctx *c, const char *path);
/* Mount the guest's operating system (by inspection) if nothing is
 * mounted yet. */
int rn_step_mount (struct rn_sctx *c);
/* Mount the filesystems of root (an inspect_os root) at their
 * mountpoints, read-only when c->readonly. */
int rn_step_mount_root (struct rn_sctx *c, const char *root);
/* Free a NULL-terminated list the library returned (NULL is fine). */
void rn_gfree_list (char **l);
/* A guest file's content (caller frees): NULL with *missing set if it
 * does not exist, NULL with c->err on another error. */
char *rn_gfile_read (struct rn_sctx *c, const char *path, size_t *len,
                     int *missing);
/* Write a guest file (created 0644 if new, else its mode and owner kept),
 * noted as touched.  rn_gfile_update writes only if the content differs. */
int rn_gfile_write (struct rn_sctx *c, const char *path, const char *s, size_t len);
int rn_gfile_update (struct rn_sctx *c, const char *path, const char *s, size_t len);
/* Add each line the file lacks at its end (created if missing); *added
 * counts them. */
int rn_gfile_add_lines (struct rn_sctx *c, const char *path, char *const *lines,
                        int *added);
/* The dispatcher: mount if needed, then run c->h. */
int rn_hstep_run (struct rn_sctx *c);
/* guestkit steps [--markdown | STEP], guestkit help STEP */
int rn_cmd_steps (int argc, char **argv);

/* steps-system.c */
int rn_step_hostname (struct rn_sctx *c);
int rn_step_timezone (struct rn_sctx *c);
int rn_step_run (struct rn_sctx *c);

/* steps-inventory.c */
int rn_step_inventory (struct rn_sctx *c);
/* The inventory of every OS on g into a (strings and rows capped; the
 * packages if with_apps), and rn_inventory_usage the size and use of
 * what is mounted afterwards; *roots (caller frees,
 * NULL-terminated).  mount_root (may be NULL) mounts the first root the
 * caller's way before its packages are read; it stays mounted.  -1 with
 * the handle's error; -2 when mount_root failed (its error is the
 * caller's). */
int rn_inventory_collect (guestfs_h *g, struct rn_audit *a, int with_apps, char ***roots,
                          int *cut, int (*mount_root) (void *arg, const char *root),
                          void *arg);
void rn_inventory_usage (guestfs_h *g, struct rn_audit *a);
/* Mount root (inspected) for what follows: read-only without probing
 * its filesystems again, else as rn_step_mount_root.  -1 with c->err. */
int rn_inventory_mount (struct rn_sctx *c, const char *root);

/* steps-packages.c */
int rn_step_packages (struct rn_sctx *c);
/* Read the step's .deb files (dpkg-deb -f and -c) in a thread of their
 * own, for the step to find done. */
void rn_prefetch_packages (const struct rn_sctx *c);

/* steps-users.c */
int rn_step_user (struct rn_sctx *c);
int rn_step_ssh_inject (struct rn_sctx *c);

/* steps-files.c */
int rn_step_write (struct rn_sctx *c);
int rn_step_append_line (struct rn_sctx *c);
int rn_step_delete (struct rn_sctx *c);
int rn_step_copy_in (struct rn_sctx *c);
int rn_step_chmod (struct rn_sctx *c);
int rn_step_chown (struct rn_sctx *c);

/* steps-config.c */
int rn_step_set_config (struct rn_sctx *c);
/* Open Augeas on the guest with only these n files loaded, each with its
 * lens; a file Augeas cannot parse is an error. */
int rn_aug_load (struct rn_sctx *c, size_t n, const char *const *files,
                 const char *const *lens);
/* The lens set_config uses for a file it is not told one for, or NULL
 * (also for the config checks of checks.c). */
const char *rn_aug_default_lens (const char *file);
/* user and group (names, looked up in the guest's /etc/passwd and
 * /etc/group, or numbers; NULL: not wanted) into *uid and *gid. */
int rn_guest_ids (struct rn_sctx *c, const char *user, const char *group,
                  int64_t *uid, int64_t *gid);

/* steps-disk.c (build) */
int rn_step_partition (struct rn_sctx *c);
int rn_step_filesystems (struct rn_sctx *c);
int rn_step_unpack (struct rn_sctx *c);
int rn_step_fstab (struct rn_sctx *c);
/* Free a NULL-terminated list of strings from the library. */
void rn_free_strings (char **l);

/* steps-boot.c (build) */
int rn_step_bootloader (struct rn_sctx *c);
int rn_step_machine_id (struct rn_sctx *c);
int rn_step_ssh_host_keys (struct rn_sctx *c);
int rn_step_locale (struct rn_sctx *c);
int rn_step_firstboot (struct rn_sctx *c);

/* ---- exec.c: one task on one handle ---- */

/* A new temp file beside path (same directory, so a rename into place is
 * atomic), its fd in *fd; NULL with errno.  Caller frees the name. */
char *rn_temp_beside (const char *path, int *fd);

/* What the watchdog may do to a worker's appliance. */
struct rn_slot {
  pthread_mutex_t lock;
  int pidfd;                 /* pidfd of qemu while the task runs, else -1 */
  double deadline;           /* monotonic time the task must end by */
  int killed;                /* 0, or RN_TIMEOUT / RN_INTERRUPTED */
  int worker;                /* 1.. */
  void *pool;                /* pool.c's state */
  /* Prepare ahead (pool.c): the handle for this worker's next task,
   * restored with no drives while the current task runs. */
  guestfs_h *spare;          /* prepared, never launched, or NULL */
  int spare_memsize, spare_network;   /* the settings it was made with */
  pthread_t spare_thread;    /* preparing it ... */
  int spare_busy;            /* ... while this is 1: join before use */
};

/* A new handle for task t, set as its job says (memsize, network, no
 * error handler): the slot's prepared spare when its settings match,
 * else a fresh one.  NULL: out of memory.  (pool.c) */
guestfs_h *rn_slot_handle (struct rn_slot *slot, const struct rn_task *t);
/* t has launched: prepare the worker's next handle in the background,
 * unless GUESTKIT_PREPARE_AHEAD=0 or no task is left to take it. */
void rn_slot_launched (struct rn_slot *slot, const struct rn_task *t);

struct rn_runctx {
  struct rn_db *db;
  int *stop;                 /* set by SIGINT/SIGTERM: read with rn_stopping */
  int verbose;
};

/* Has a signal stopped the run?  The watchdog thread sets *stop while
 * workers read it: an atomic access, not a plain one (a data race). */
static inline int
rn_stopping (const struct rn_runctx *ctx)
{
  return __atomic_load_n (ctx->stop, __ATOMIC_ACQUIRE);
}

/* Run t (with its retries) and record the result; returns its status.
 * *overhead_ms: the runner's own time on it (not in the library or
 * qemu-img), its database writes included; *error: why it did not end
 * ok (caller frees) or NULL. */
enum rn_status rn_task_run (struct rn_runctx *ctx, struct rn_slot *slot,
                            struct rn_task *t, double *overhead_ms, char **error);

/* ---- exec-commit.c: all-or-nothing writes (an overlay, committed) ---- */

extern int rn_dry_run;       /* --dry-run: steps on an overlay, no commit */
/* Does t write through an overlay? */
int rn_task_atomic (const struct rn_task *t);
/* The overlay's path, fixed by the run and task (caller frees). */
char *rn_overlay_path (const struct rn_task *t);
/* Create it over the image (checked first); -1 and *err. */
int rn_overlay_make (const struct rn_task *t, char **overlay, char **err);
/* fsync it and its directory before 'committing' is recorded. */
int rn_overlay_sync (const char *overlay, char **err);
/* qemu-img commit it into image, then fsync the image. */
int rn_overlay_commit (const char *overlay, const char *image, char **err);
/* --resume of a task left 'committing': commit again, record it. */
int rn_task_resume_commit (struct rn_db *db, struct rn_task *t);

#endif /* RN_STEPS_H */
