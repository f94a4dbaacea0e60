/* core/ internals: the handle, and the gk_* functions shared between the
 * files of the library.  Nothing here is exported (see libguestkit.syms).
 *
 * State machine (guestfs_get_state values):
 *
 *   CONFIG --launch--> LAUNCHING --daemon up--> READY <--call--> BUSY
 *     ^                    |                      |
 *     +---- appliance dies / kill_subprocess -----+
 */
#ifndef GK_H
#define GK_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guestfs.h"
#include "wire.h"
#include "actions-gen.h"

enum gk_state { GK_CONFIG = 0, GK_LAUNCHING = 1, GK_READY = 2, GK_BUSY = 3 };

struct gk_drive {
  char *filename;        /* as given by the caller */
  char *format;          /* qemu block driver: "raw", "qcow2", ... */
  int readonly;          /* opened read-only by qemu */
  int cdrom;             /* attached as a CD-ROM (read-only) */
  int trusted;           /* caller vouched for its backing files */
  int overlay;           /* add_drive_ro: image read-only, guest writes
                            go to a throw-away qcow2 in the temp dir */
  char **chain;          /* trusted: the image, then each backing file */
  char **chain_formats;  /* ... and their formats (both NULL-terminated) */
};
/* drives.c */
void gk_drive_free (struct gk_drive *d);     /* its fields */
char *gk_make_overlay (guestfs_h *g, const char *name, size_t i, int fd);
int gk_check_format (guestfs_h *g, const char *call, const char *format);
/* A trusted qcow2's chain [image, raw backing file] read from its header
 * (*chain, *formats NULL-terminated, caller frees): 1; 0 when the header
 * does not allow it (qemu-img must read the chain); -1 never. */
int gk_header_chain (guestfs_h *g, const char *filename, const char *format,
                     char ***chain, char ***formats);
/* The chain as `qemu-img info --backing-chain' reports it: 0, or -1 with
 * the error set. */
int gk_qemu_img_chain (guestfs_h *g, const char *call, const char *filename,
                       const char *format, char ***chain, char ***formats);

/* qcow2.c: empty qcow2 images, and what a qcow2 header names */
struct gk_qcow2 {
  uint32_t version;      /* 2 or 3 */
  uint32_t cluster_bits;
  uint32_t crypt;        /* crypt_method: 0 for none */
  uint64_t size;         /* virtual size */
  uint64_t incompat;     /* incompatible feature bits (version 3) */
  uint32_t backing_len;  /* length of the name in the header */
  char *backing;         /* backing file name as stored, or NULL */
  char *backing_format;  /* from its extension, or NULL */
  int data_file;         /* has an external data file extension */
  int other_ext;         /* has an extension beyond the backing format,
                            data file and feature name table */
};
/* Can an image of that size (and backing) be made?  0, or -1 and *why. */
int gk_qcow2_check (uint64_t size, const char *backing,
                    const char *backing_format, const char **why);
/* Write the empty image into the empty file open at fd.  0, or -1 with
 * errno and *why (a constant). */
int gk_qcow2_write (int fd, uint64_t size, const char *backing,
                    const char *backing_format, const char **why);
int gk_qcow2_read (guestfs_h *g, int fd, struct gk_qcow2 *q, const char **why);
void gk_qcow2_free (struct gk_qcow2 *q);

/* disk-create.c: a new image file (raw or qcow2), created O_EXCL (after
 * removing an old one if replace), removed again on error.  0 or -1 with
 * the error set, prefixed by call. */
int gk_create_image (guestfs_h *g, const char *call, const char *file,
                     const char *format, uint64_t size, const char *backing,
                     const char *backing_format, int replace);

#define GK_CONSOLE_TAIL 4096  /* console bytes kept for error messages */

struct guestfs_h {
  enum gk_state state;

  /* Configuration (CONFIG state). */
  struct gk_drive *drives;     /* in the order added: sda, sdb, ... */
  size_t ndrives;
  char **qemu_params;          /* extra qemu args from guestfs_config */
  size_t nqemu_params;
  char *path;                  /* appliance search path */
  char *qemu;                  /* qemu binary or wrapper */
  char *append;                /* extra kernel command line, or NULL */
  int memsize;                 /* appliance RAM, MiB */
  int verbose, trace, autosync, selinux, direct, recovery_proc;
  int network;                  /* set_network: user-mode NIC in the appliance */
  int call_timeout;            /* seconds a daemon call may take, 0: none */

  /* Errors and callbacks. */
  char *last_error;            /* owned; NULL before the first error */
  int error_pending;           /* set by gk_error during the current call */
  int quiet_errors;            /* > 0: keep errors from the error handler */
  guestfs_error_handler_cb error_cb;
  void *error_cb_data;
  guestfs_abort_cb abort_cb;
  guestfs_log_message_cb log_cb;
  void *log_cb_data;
  guestfs_subprocess_quit_cb quit_cb;
  void *quit_cb_data;
  guestfs_launch_done_cb launch_done_cb;
  void *launch_done_cb_data;
  guestfs_progress_cb progress_cb;
  void *progress_cb_data;
  /* The file transfer in progress, for progress_cb (rpc.c). */
  int xfer_proc;
  uint32_t xfer_serial;
  uint64_t xfer_pos, xfer_total;

  /* The running appliance. */
  pid_t pid;                   /* qemu, 0 when none */
  /* Across threads (child.c): the thread in a call or in close holds
   * use_lock (recursively, use_depth deep); kill_subprocess from another
   * thread only signals, through pidfd, which child_lock guards and which
   * is closed only after qemu has been reaped. */
  pthread_mutex_t use_lock;
  unsigned use_depth;          /* the holder's nesting, under use_lock */
  pthread_t user;              /* the thread of the last call, under use_lock */
  int has_user;                /* user is set */
  pthread_mutex_t child_lock;
  int pidfd;                   /* qemu's pidfd, -1 when none */
  pid_t recovery_pid;          /* watchdog process, 0 when none */
  int sock;                    /* channel to guestd, -1 when none */
  int console;                 /* qemu's stdout+stderr, -1 when none */
  char *tmpdir;                /* per-launch temp dir, removed at close */
  const char *accel;           /* "kvm" or "tcg": what launch used */
  uint32_t serial;             /* next RPC serial */
  char console_tail[GK_CONSOLE_TAIL]; /* last console bytes, for errors */
  size_t console_len;
  char *msgbuf;                /* GK_MESSAGE_MAX + 4 bytes, lazily */
  double call_deadline;        /* gk_now () when the current call's limit
                                  passes, 0: none */
  int call_timed_out;          /* set when the limit killed the appliance */

  /* Cache entries in use (cache.c): shared-flock'd fds, 0 = none (a
   * lock fd is always >= 3), held until qemu has exited. */
  int cache_appliance_lock;    /* the appliance-STAMP directory */
  int cache_snapshot_lock;     /* the snapshot-KEY file */
  int cache_keep;              /* > 0: a qemu ending now keeps them (launch) */

  /* prepare_launch (snapshot.c): a restored appliance waiting, paused and
   * with no drives, for add_drive + launch.  The handle stays CONFIG. */
  int prepared;                /* 1: pid is that waiting qemu */
  int prep_qmp;                /* its QMP socket */
  int prep_state_fd;           /* the state file it restored (held) */
  char *prep_path;             /* ... and its path */
  uint64_t prep_key;           /* the settings it was restored with */

  /* Inspection (core/inspect*.c): results of the last inspect_os. */
  struct gk_inspect *inspect;  /* owned; NULL before inspect_os */

  struct guestfs_h *next_handle; /* handle.c's list of open handles */
};

/* errors.c */
void gk_default_error_handler (guestfs_h *g, void *opaque, const char *msg);
void gk_error (guestfs_h *g, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
void gk_perror (guestfs_h *g, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
void gk_set_error_string (guestfs_h *g, const char *msg);
void *gk_malloc (guestfs_h *g, size_t n);
void *gk_calloc (guestfs_h *g, size_t n, size_t size);
void *gk_realloc (guestfs_h *g, void *p, size_t n);
char *gk_strdup (guestfs_h *g, const char *s);
char *gk_asprintf (guestfs_h *g, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
int gk_error_pending (guestfs_h *g);
void gk_debug (guestfs_h *g, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* state.c: the generic wrapper of every library call */
int gk_enter (guestfs_h *g, const struct gk_action *a, const union gk_val *args);
void gk_leave (guestfs_h *g, const struct gk_action *a, int failed);
void gk_not_supported (guestfs_h *g, const struct gk_action *a);
int gk_check_state (guestfs_h *g, const struct gk_action *a);
int gk_check_args (guestfs_h *g, const struct gk_action *a, const union gk_val *args);
void gk_trace_call (guestfs_h *g, const struct gk_action *a, const union gk_val *args);
void gk_free_struct (const struct gk_struct *s, void *p);
void gk_free_struct_list (const struct gk_struct *s, struct gk_list *l);

/* rpc.c: calls into the daemon */
int gk_call (guestfs_h *g, const struct gk_action *a, union gk_val *args,
             union gk_retval *ret);
ssize_t gk_read_full (guestfs_h *g, void *buf, size_t n);
int gk_write_full (guestfs_h *g, const void *buf, size_t n);
/* The decoders of what the daemon sends (also the fuzz targets' entry,
 * tests/fuzz/): see rpc.c. */
int gk_decode_reply (guestfs_h *g, const struct gk_action *a, const char *buf,
                     size_t len, uint32_t serial, union gk_retval *ret,
                     const char **why);
int gk_decode_chunk (const char *buf, size_t len, int *cancel, char **data,
                     u_int *n);

/* fault.c: fault injection for tests (GUESTKIT_FAULT), off by default */
enum gk_fault {
  GK_FAULT_NONE, GK_FAULT_FAIL, GK_FAULT_SHORT, GK_FAULT_GARBAGE,
  GK_FAULT_CLOSE, GK_FAULT_KILL,
};
int gk_fault_alloc (void);               /* 1: make this allocation fail */
/* Before a channel read or write: KILL and CLOSE are done here (NONE,
 * CLOSE returned); SHORT and GARBAGE are for the caller to act out. */
enum gk_fault gk_fault_io (guestfs_h *g, int writing);
void gk_fault_scramble (void *buf, size_t n);   /* in place */

/* console.c: qemu's output */
void gk_console_feed (guestfs_h *g, const char *buf, size_t n);
int gk_console_drain (guestfs_h *g);
const char *gk_console_tail (guestfs_h *g);
size_t gk_clean_text (char *s, size_t n);

/* child.c: the qemu process */
void gk_child_died (guestfs_h *g, const char *call);
void gk_shutdown (guestfs_h *g);
void gk_child_init (guestfs_h *g);     /* in create: locks, no pidfd */
void gk_child_fini (guestfs_h *g);     /* in close, before the free */
void gk_child_started (guestfs_h *g);  /* qemu is g->pid: take its pidfd */
/* Enter / leave a call or close on this thread (use_lock).  For
 * kill_subprocess (kill set) gk_use_begin returns 1 when the handle is
 * another thread's (in a call now, or the last to make one), or this
 * thread is inside a call: then nothing of the handle may be touched
 * but the pidfd, and gk_use_end is not called. */
int gk_use_begin (guestfs_h *g, int kill);
void gk_use_end (guestfs_h *g);
int gk_use_try (guestfs_h *g);         /* gk_use_begin, or -1 if held */
int gk_use_remote (int clear);         /* this thread's kill is such a one */

/* appliance.c: finding and caching the appliance */
struct gk_appliance {
  char *kernel, *initrd, *root;   /* owned paths */
};
int gk_appliance_get (guestfs_h *g, struct gk_appliance *ap);
void gk_appliance_free (struct gk_appliance *ap);
char *gk_cache_dir (guestfs_h *g);

/* cache.c: entries in use, and pruning (rule in the file's header) */
int gk_cache_hold (guestfs_h *g, const char *path, int is_dir);  /* fd or -1 */
void gk_cache_release (guestfs_h *g);
int gk_cache_vanished (guestfs_h *g);   /* the held appliance was removed */
void gk_cache_notice (guestfs_h *g, const char *msg);
int gk_cache_lock (guestfs_h *g, const char *cache);  /* build lock fd, -1 */
void gk_cache_prune (guestfs_h *g, const char *cache, const char *keep);
struct guestfs_cache_entry_list *gk_impl_cache_list (guestfs_h *g);
int gk_impl_cache_prune (guestfs_h *g);
int gk_impl_cache_clear (guestfs_h *g);

/* accel.c */
const char *gk_accel_choose (guestfs_h *g, int *probe_kvm);
void gk_accel_record (guestfs_h *g, const char *verdict);

/* confine.c: what the qemu child may do (see the file's header) */
struct gk_confine {
  int exe;             /* the qemu binary, opened O_RDONLY (fexecve) */
  char *qemu_path;     /* owned: where it was found */
  int drop;            /* 1: change to uid/gids before exec */
  uid_t uid;
  gid_t gids[2];       /* primary group, and /dev/kvm's */
  int ngids;
  char user[32];
  int ruleset;         /* Landlock rule set fd, -1 when none */
  int landlock_abi;    /* 0: no Landlock */
  int landlock_failed; /* errno of a failed rule, 0 */
  int keep[64];        /* fds qemu inherits (ours, closed by free) */
  size_t nkeep;
  int nfdsets;         /* -add-fd set ids handed out so far */
  char **envp;         /* owned */
};
int gk_confine_prepare (guestfs_h *g, struct gk_confine *c,
                        const struct gk_appliance *ap, int kvm);
int gk_confine_keep (guestfs_h *g, struct gk_confine *c, int fd);
void gk_confine_exec (const struct gk_confine *c, char **argv)
  __attribute__ ((noreturn));
void gk_confine_free (struct gk_confine *c);
char *gk_find_program (guestfs_h *g, const char *name);

/* launch.c */
enum gk_boot_mode {
  GK_BOOT_COLD,       /* boot the kernel, drives on the command line */
  GK_BOOT_TEMPLATE,   /* boot with no drives and QMP, to be saved */
  GK_BOOT_RESTORE,    /* restore a saved template from state_fd */
};
struct gk_boot {
  enum gk_boot_mode mode;
  int state_fd;       /* RESTORE: the saved state (qemu's fd 3), else -1 */
  int qmp;            /* TEMPLATE/RESTORE: connected QMP socket, -1 */
  int qmp_qemu_fd;    /* TEMPLATE/RESTORE: qemu's end of the QMP pair */
  double t_started;   /* seconds from spawn to usable */
};
char **gk_qemu_argv (guestfs_h *g, const struct gk_appliance *ap,
                     const char *accel, int chan_fd,
                     const struct gk_boot *boot, struct gk_confine *c);
char *gk_qemu_escape (guestfs_h *g, const char *s);
int gk_pass_file (guestfs_h *g, struct gk_confine *c, const char *file, int rw);
int gk_launch_boot (guestfs_h *g, const struct gk_appliance *ap,
                    const char *accel, double timeout, struct gk_boot *boot);
int gk_wait_readable (guestfs_h *g, int fd, double deadline);
double gk_now (void);
double gk_launch_timeout (void);

/* qmp.c: a minimal QMP client */
int gk_qmp_handshake (guestfs_h *g, int fd, double deadline);
int gk_qmp (guestfs_h *g, int fd, double deadline, char **reply,
            const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
int gk_qmp_pass (guestfs_h *g, int fd, int pass, double deadline, char **reply,
                 const char *fmt, ...) __attribute__ ((format (printf, 6, 7)));
char *gk_json_string (guestfs_h *g, const char *s);

/* snapshot.c: launch by restoring a saved, never-used appliance */
int gk_snapshot_launch (guestfs_h *g, const struct gk_appliance *ap,
                        const char *accel);
/* prepare_launch: restore, paused, no drives; -1 (debug says why) if not. */
int gk_snapshot_prepare (guestfs_h *g, const struct gk_appliance *ap,
                         const char *accel);
/* launch of a prepared handle: drives, cont, resume; -1: it was discarded
 * (settings changed since, or a failure: debug says which), boot normally. */
int gk_snapshot_finish (guestfs_h *g);
void gk_snapshot_unprepare (guestfs_h *g);   /* kill and reap it */

/* rpc.c */
int gk_rpc_resume (guestfs_h *g, int ndisks);

/* The hand-written bodies of library calls (called by core/actions-gen.c). */
int gk_impl_launch (guestfs_h *g);
int gk_impl_prepare_launch (guestfs_h *g);
int gk_impl_wait_ready (guestfs_h *g);
int gk_impl_kill_subprocess (guestfs_h *g);
int gk_impl_add_drive (guestfs_h *g, const char *filename);
int gk_impl_add_cdrom (guestfs_h *g, const char *filename);
int gk_impl_add_drive_ro (guestfs_h *g, const char *filename);
int gk_impl_config (guestfs_h *g, const char *param, const char *value);
int gk_impl_set_qemu (guestfs_h *g, const char *qemu);
const char *gk_impl_get_qemu (guestfs_h *g);
int gk_impl_set_path (guestfs_h *g, const char *path);
const char *gk_impl_get_path (guestfs_h *g);
int gk_impl_set_append (guestfs_h *g, const char *append);
const char *gk_impl_get_append (guestfs_h *g);
int gk_impl_set_autosync (guestfs_h *g, int v);
int gk_impl_get_autosync (guestfs_h *g);
int gk_impl_set_verbose (guestfs_h *g, int v);
int gk_impl_get_verbose (guestfs_h *g);
int gk_impl_is_ready (guestfs_h *g);
int gk_impl_is_config (guestfs_h *g);
int gk_impl_is_launching (guestfs_h *g);
int gk_impl_is_busy (guestfs_h *g);
int gk_impl_get_state (guestfs_h *g);
int gk_impl_set_memsize (guestfs_h *g, int v);
int gk_impl_get_memsize (guestfs_h *g);
int gk_impl_get_pid (guestfs_h *g);
struct guestfs_version *gk_impl_version (guestfs_h *g);
int gk_impl_set_selinux (guestfs_h *g, int v);
int gk_impl_get_selinux (guestfs_h *g);
int gk_impl_set_network (guestfs_h *g, int v);
int gk_impl_get_network (guestfs_h *g);
int gk_impl_set_trace (guestfs_h *g, int v);
int gk_impl_get_trace (guestfs_h *g);
int gk_impl_set_direct (guestfs_h *g, int v);
int gk_impl_get_direct (guestfs_h *g);
int gk_impl_set_recovery_proc (guestfs_h *g, int v);
int gk_impl_get_recovery_proc (guestfs_h *g);
int gk_impl_set_call_timeout (guestfs_h *g, int secs);
int gk_impl_get_call_timeout (guestfs_h *g);

/* inspect*.c: inspection (internals in core/inspect.h) */
void gk_inspect_free (guestfs_h *g);
char **gk_impl_inspect_os (guestfs_h *g);
char *gk_impl_inspect_get_type (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_distro (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_product_name (guestfs_h *g, const char *root);
int gk_impl_inspect_get_major_version (guestfs_h *g, const char *root);
int gk_impl_inspect_get_minor_version (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_arch (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_hostname (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_package_format (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_package_management (guestfs_h *g, const char *root);
char **gk_impl_inspect_get_mountpoints (guestfs_h *g, const char *root);
char **gk_impl_inspect_get_filesystems (guestfs_h *g, const char *root);
struct guestfs_application_list *
  gk_impl_inspect_list_applications (guestfs_h *g, const char *root);
int gk_impl_inspect_is_live (guestfs_h *g, const char *root);
char *gk_impl_inspect_get_format (guestfs_h *g, const char *root);
char **gk_impl_inspect_get_warnings (guestfs_h *g, const char *root);
int gk_impl_inspect_mount_root (guestfs_h *g, const char *root, int readonly);

#define GK_VERSION_MAJOR 1
#define GK_VERSION_MINOR 0
#define GK_VERSION_RELEASE 80
#define GK_VERSION_EXTRA "guestkit-0.1"

#endif /* GK_H */
