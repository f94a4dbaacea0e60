/* guestd internals: the one header shared by the daemon's files.
 *
 * guestd runs inside the appliance (normally as PID 1), reads calls from
 * the library over a virtio-serial port, runs them and writes replies.
 * Names here are the middle tier (gd_*), except the handler helpers that
 * the generated dispatcher expects (reply_with_error, reply_with_perror)
 * and the handlers themselves (do_NAME, declared in actions-gen.h).
 *
 * Sections follow the files: each declaration lives in the file named.
 */
#ifndef GD_GUESTD_H
#define GD_GUESTD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"                     /* schemas/: codec and descriptors */
#include "../schemas/actions-gen.h"   /* schemas/: action indexes */
#include "actions-gen.h"              /* guestd/: do_NAME prototypes */

#define GD_CHANNEL_NAME "org.guestkit.channel.0"

/* dispatch-gen.c (generated): check arguments, run the handler, reply. */
void gd_dispatch (const struct gk_action *a, union gk_val *args);

/* main.c */
extern int gd_verbose;          /* guestkit.verbose=1 or --verbose: log calls */
extern int gd_pid1;             /* running as init inside the appliance */
void gd_log (const char *fmt, ...)        /* console, only when verbose */
  __attribute__((format (printf, 1, 2)));
void gd_warn (const char *fmt, ...)       /* console, always */
  __attribute__((format (printf, 1, 2)));
_Noreturn void gd_fatal (const char *fmt, ...)  /* log, then power off */
  __attribute__((format (printf, 1, 2)));

/* init.c: the PID-1 duties (mounts, modules, console, power off). */
extern int gd_template;         /* guestkit.template=1: booted to be saved */
extern int gd_ndisks;           /* guestkit.ndisks=N: drives at a cold boot */
void gd_init_system (void);
_Noreturn void gd_poweroff (void);
void gd_reap_children (void);
int gd_find_channel (void);               /* open the virtio-serial port */
void gd_load_module (const char *name);   /* and its deps, if not loaded */

/* scan.c: find the disks at lun 0.. one by one, so names follow lun
 * order.  n >= 0: scan exactly luns 0..n-1; n < 0: until a lun is empty.
 * Returns how many were found, or -1. */
int gd_scan_disks (int n);
/* After a cold boot: wait for the `expected' disks the library added
 * (guestkit.ndisks=N), then make sure their names follow lun order. */
void gd_order_disks (int expected);
void gd_net_up (void);                   /* guestd/net.c: set_network */

/* resume.c: the first call after a restore from a snapshot. */
void gd_resume (XDR *x, uint32_t len, uint32_t serial);

/* proto.c: framing, replies and chunk streams on the channel. */
void gd_proto_init (int fd);
void gd_send_launch_flag (void);
int gd_read_message (unsigned char **buf_r, uint32_t *len_r);
void gd_call_begin (const struct gk_action *a, uint32_t proc,
                    uint32_t serial);
void gd_call_end (void);
const char *gd_call_name (void);

/* Send an error reply "CALL: message" (errnum 0).  Inside a FileIn call
 * whose stream is not read yet, the stream is cancelled and drained first;
 * after the library cancelled the stream, nothing is sent; inside a
 * FileOut stream that has started, the stream is ended by a cancel chunk
 * and the message only logged. */
void reply_with_error (const char *fmt, ...)
  __attribute__((format (printf, 1, 2)));
/* Same, with ": strerror(errno)" appended and errnum = errno. */
void reply_with_perror (const char *fmt, ...)
  __attribute__((format (printf, 1, 2)));
/* Encode and send the OK reply.  a == NULL: the current call; r == NULL:
 * no return value (RErr).  Too large a result becomes an error reply. */
void gd_reply_ok (const struct gk_action *a, union gk_retval *r);

/* FileIn: read the stream that follows the request, handing each chunk
 * to cb (cb may be NULL: discard).  Returns 0 when the stream completed,
 * -1 when cb failed (errno from cb; the stream is still open and the
 * next reply_with_* cancels it), -2 when the library cancelled (no reply
 * may be sent: reply_with_* then do nothing, so handlers can simply
 * report any non-zero return). */
int gd_receive_file (int (*cb) (void *opaque, const void *buf, size_t len),
                     void *opaque);
/* Daemon-side cancel: send GK_CANCEL_FLAG, drain chunks to the end. */
void gd_cancel_receive (void);
/* FileOut, after gd_reply_ok: send len bytes as chunks; len == 0 sends the
 * final chunk.  Returns -1 (errno ECANCELED) if the library asked to stop,
 * in which case the stream has already been ended. */
int gd_send_chunk (const void *buf, size_t len);
/* FileOut: end the stream with a cancel chunk (on a daemon-side error). */
void gd_cancel_send (void);

/* utils.c: the one string-list helper and small text/file helpers. */
struct gd_strlist {
  char **v;                     /* NULL-terminated once gd_strlist_end ran */
  size_t n;                     /* strings in v */
  size_t cap;                   /* slots allocated in v */
};
int gd_strlist_add (struct gd_strlist *l, const char *s);   /* copies s */
int gd_strlist_take (struct gd_strlist *l, char *s);        /* owns s */
char **gd_strlist_end (struct gd_strlist *l);  /* caller frees (gk_free_strings) */
void gd_strlist_free (struct gd_strlist *l);
void gd_sort_strings (char **v, size_t n);
char *gd_trim (char *s);                 /* in place, returns s */
char *gd_read_small_file (const char *path);  /* whole text file, caller frees */
ssize_t gd_read_fill (int fd, void *buf, size_t len); /* to len or EOF; -1 on error */
int gd_write_to_fd (void *opaque, const void *data, size_t len); /* FileIn chunks to fd *opaque */
int gd_mkstr (char **out, const char *fmt, ...)  /* asprintf, -1 on ENOMEM */
  __attribute__((format (printf, 2, 3)));
/* Lines of a buffer (no empty last line after a final '\n'), caller
 * frees with gk_free_strings; NULL on ENOMEM. */
char **gd_split_lines (const char *buf, size_t len);
/* Add one reply row of n strings (NULL as "") to l, each cut at
 * GD_ROW_FIELD_MAX bytes, adding what they cost on the wire to *bytes
 * (for a reply budget).  0, or -1 on ENOMEM (the row may be partial). */
#define GD_ROW_FIELD_MAX (64 * 1024)
int gd_row_add (struct gd_strlist *l, const char *const *f, size_t n,
                size_t *bytes);

/* command.c: run a program without a shell.  argv[0] is searched in PATH.
 * out/err (either may be NULL) receive the captured output, NUL-terminated,
 * caller frees.  cwd_fd >= 0: the child fchdir()s there first.  Returns
 * the exit status (0-255), or -1 if the program could not be run or was
 * killed (then *err explains). */
int gd_commandv (char **out, char **err, int cwd_fd,
                 const char *const *argv);
int gd_command (char **out, char **err, const char *prog, ...)
  __attribute__((sentinel));
/* Run argv and reply with an error naming the program and quoting its
 * stderr if it fails.  Returns 0 on success, -1 after replying. */
int gd_run_or_reply (char **out, int cwd_fd, const char *const *argv);

/* The general form.  Where the child runs: */
enum gd_cmd_root {
  GD_ROOT_APPLIANCE,    /* the appliance as it is */
  GD_ROOT_SANDBOX,      /* appliance tools; every mount outside the sysroot
                           read-only + nodev in a private mount namespace */
  GD_ROOT_GUEST,        /* chrooted into the sysroot (guest binaries), with
                           /dev /proc /sys bound in a private namespace */
};
struct gd_cmd {
  const char *const *argv;      /* NULL-terminated; argv[0] searched in PATH */
  enum gd_cmd_root root;
  int cwd_fd;                   /* >= 0: fchdir there (not with GUEST) */
  int in_fd;                    /* >= 0: stdin, else /dev/null */
  int out_fd;                   /* >= 0: stdout goes there, else captured */
  int err_fd;                   /* >= 0: stderr goes there, else captured */
  const int *keep_fds;          /* NULL or -1-terminated: fds the child keeps
                                   open under their numbers (/proc/self/fd) */
};
#define GD_CMD_INIT(av) { .argv = (av), .root = GD_ROOT_APPLIANCE, \
  .cwd_fd = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .keep_fds = NULL }
/* Run to completion, capturing stdout / stderr that have no fd.  *outlen
 * (may be NULL) is every byte the child wrote to stdout; at most
 * GK_MESSAGE_MAX are kept in *out, so *outlen > GK_MESSAGE_MAX means the
 * output did not fit.  Returns as gd_commandv. */
int gd_cmd_run (const struct gd_cmd *c, char **out, size_t *outlen,
                char **err);
/* Same, replying with an error quoting stderr on failure (-1). */
int gd_cmd_run_or_reply (const struct gd_cmd *c, char **out, size_t *outlen);
/* Start with out_fd and err_fd both given; returns the pid or -1. */
pid_t gd_cmd_spawn (const struct gd_cmd *c);
int gd_cmd_wait (pid_t pid);           /* exit status, -1 if killed */
/* Reply with "PROG: stderr text" for a failed status (err may be NULL). */
void gd_cmd_reply_error (const char *prog, int status, char *err);
/* A memory file for a child's stderr (no pipe to drain, so no deadlock
 * while the parent streams), and its text, trimmed, caller frees. */
int gd_memfd (void);
char *gd_memfd_text (int fd);

/* files.c */
struct stat;
/* The lstat fields of r, any result struct that has them by these names
 * (guestfs_stat, guestfs_direntplus), from st: the one place they are
 * copied. */
#define GD_FILL_STAT(r, st) do {                                  \
    (r)->dev = (int64_t) (st)->st_dev;                            \
    (r)->ino = (int64_t) (st)->st_ino;                            \
    (r)->mode = (st)->st_mode;                                    \
    (r)->nlink = (int64_t) (st)->st_nlink;                        \
    (r)->uid = (st)->st_uid;                                      \
    (r)->gid = (st)->st_gid;                                      \
    (r)->rdev = (int64_t) (st)->st_rdev;                          \
    (r)->size = (st)->st_size;                                    \
    (r)->blksize = (st)->st_blksize;                              \
    (r)->blocks = (st)->st_blocks;                                \
    (r)->atime = (st)->st_atim.tv_sec;                            \
    (r)->mtime = (st)->st_mtim.tv_sec;                            \
    (r)->ctime = (st)->st_ctim.tv_sec;                            \
  } while (0)
void gd_fill_stat (struct guestfs_stat *r, const struct stat *st);

/* sha256.c: the SHA-256 of the rest of fd's content (read to its end),
 * as 64 lower-case hex digits and a NUL in hex[65]; 0, or -1 with errno
 * when a read fails.  The caller opened fd and closes it. */
int gd_sha256_fd (int fd, char *hex);

/* paths.c: guest paths, always resolved inside the sysroot. */
extern const char *gd_sysroot;         /* "/sysroot", or --sysroot DIR */
extern int gd_sysroot_assume_mounted;  /* --sysroot given: no mount check */
int gd_sysroot_mounted (void);
int gd_open_in_root (const char *path, int flags, mode_t mode);
int gd_open_parent (const char *path, char **base_r);
/* gd_open_parent, replying "PATH: strerror" on failure. */
int gd_parent_or_reply (const char *path, char **base_r);
int gd_open_regular (const char *path, int flags);
/* gd_open_regular O_RDONLY of a file of at most max bytes (size in
 * *size_r); replies and returns -1 on failure. */
int gd_open_regular_max (const char *path, int64_t max, size_t *size_r);
int gd_open_for_write (const char *path, int trunc);
int gd_is_mount_root (const char *path);
/* Pathname arguments: absolute, not empty, and a guest filesystem must be
 * mounted on /.  Replies and returns -1 on failure. */
int gd_check_path (char **path, const char *argname);
/* Dev_or_Path arguments: /dev/... is checked as a device, else a path. */
int gd_check_dev_or_path (char **p, const char *argname);
void gd_fd_path (char *buf, size_t size, int fd);  /* "/proc/self/fd/N" */

/* devices.c */
/* Device arguments: translate /dev/sdX to /dev/hdX or /dev/vdX if needed
 * (replacing *dev), then require an existing block device that is not the
 * appliance's own disk.  Replies and returns -1 on failure. */
int gd_check_device (char **dev, const char *argname);
int gd_check_devices (char ***devs, const char *argname);
void gd_devices_init (void);               /* find the appliance's root disk */
char **gd_list_disks (void);               /* sorted /dev names, caller frees */
int gd_is_appliance_disk (dev_t rdev);
int gd_wait_partitions (const char *device);

/* mount.c */
/* The canonical appliance path of a guest directory; replies and returns
 * NULL if it cannot be opened or resolves outside the sysroot. */
char *gd_real_path (const char *path, const char *argname);

/* augeas.c: run with guestd chrooted into a guest directory (root,
 * resolved inside the sysroot now), and come back out.  Where guestd was
 * before: O_PATH fds of the appliance's / and cwd.  gd_enter_root
 * replies and returns -1 on failure; gd_leave_root cannot fail (it
 * exits guestd if it cannot get out). */
struct gd_outside {
  int root, cwd;
};
int gd_enter_root (const char *root, struct gd_outside *o);
void gd_leave_root (struct gd_outside *o);

/* aug-edit.c: compile the lens modules set_config uses most, in guestd
 * itself, before the snapshot template is saved (kept by every boot of
 * it).  Never replies; a lens that fails is just not warmed. */
void gd_aug_warm (void);

/* regex-cache.c: re_compile_pattern and regfree, defined here so that
 * libaugeas's compiles of the same pattern share one compiled copy.
 * gd_rx_stats: its counts as "NAME VALUE" lines (debug regex), caller
 * frees; NULL out of memory. */
char *gd_rx_stats (void);

/* probe.c: the filesystem TYPE libblkid finds on device (a safe probe, in
 * a child), caller frees; NULL when nothing or no one thing is found, or
 * the probe failed.  Never replies. */
char *gd_probe_type (const char *device);
/* In a template: libblkid loaded now, kept by every restore. */
void gd_probe_warm (void);

/* misc.c */
int gd_valid_fstype (const char *t);  /* [a-z0-9_.], not empty, no leading . */
/* mkfs -t fstype (with its never-ask flag), opts (NULL-terminated, may be
 * NULL), device.  Replies and returns -1 on failure. */
int gd_mkfs (const char *fstype, const char *const *opts, const char *device);

/* fs.c: argument checks shared with swap.c.  Reply and return -1 when
 * the label is longer than max bytes / the string is not a UUID. */
int gd_check_label (const char *label, size_t max, const char *argname);
int gd_check_uuid (const char *uuid, const char *argname);

/* lvm.c */
void gd_lvm_activate (void);               /* vgchange -ay, errors logged */
void gd_lvm_user_activation (void);  /* vg_activate*: stop activating for lvs */
/* Run `lvm args[0] --config (no udev) args[1]...'; replies and returns
 * -1 on failure.  *out (if out) receives stdout, caller frees. */
int gd_lvm (char **out, const char *const *args);

/* groups.c: optional groups, tested at run time. */
int gd_program_exists (const char *name);   /* on PATH and executable */
int gd_group_available (const char *name);  /* 1 yes, 0 no, -1 unknown */
/* Start of every handler of an optional group: replies "the GROUP feature
 * is not available in this appliance" and returns -1 when it is absent. */
int gd_check_group (void);

#endif /* GD_GUESTD_H */
