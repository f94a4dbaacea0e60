/* guestkit — inspect and change virtual machine disk images safely.
 *
 * This is the public C interface, compatible with the guestfs_* API of
 * libguestfs as documented in 2009.  A handle runs a small appliance VM
 * (qemu + a kernel + guestd) that does all work on the images; guest
 * filesystems are never mounted on the host.
 *
 *   guestfs_h *g = guestfs_create ();
 *   guestfs_add_drive (g, "disk.img");
 *   guestfs_launch (g);
 *   guestfs_mount (g, "/dev/sda1", "/");
 *   guestfs_touch (g, "/hello");
 *   guestfs_sync (g);
 *   guestfs_close (g);
 *
 * Conventions: calls returning int return -1 on error; calls returning a
 * pointer return NULL on error.  The message is in guestfs_last_error and
 * is passed to the error handler (by default printed on stderr).  Each
 * prototype's comment says who frees what it returns.
 *
 * A handle may be used by one thread at a time; different handles may be
 * used in different threads at once.
 */
#ifndef GUESTFS_H_
#define GUESTFS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The opaque handle. */
typedef struct guestfs_h guestfs_h;

/* Create a handle in the CONFIG state; NULL if out of memory. */
extern guestfs_h *guestfs_create (void);

/* Shut down the appliance (after umount-all and sync when autosync is
 * on) and free the handle and everything it owns.  NULL is ignored. */
extern void guestfs_close (guestfs_h *g);

/* ---- Errors ---- */

/* The last error on this handle, or NULL if none yet.  Not to be freed;
 * valid until the next error or guestfs_close. */
extern const char *guestfs_last_error (guestfs_h *g);

/* Called on each error with the message; msg is not the caller's and is
 * freed once the callback returns.  cb == NULL: no handler is called. */
typedef void (*guestfs_error_handler_cb) (guestfs_h *g, void *opaque,
                                          const char *msg);
extern void guestfs_set_error_handler (guestfs_h *g,
                                       guestfs_error_handler_cb cb,
                                       void *opaque);
extern guestfs_error_handler_cb guestfs_get_error_handler (guestfs_h *g,
                                                           void **opaque_rtn);

/* Called when memory runs out; the default calls abort(). */
typedef void (*guestfs_abort_cb) (void);
extern void guestfs_set_out_of_memory_handler (guestfs_h *g,
                                               guestfs_abort_cb cb);
extern guestfs_abort_cb guestfs_get_out_of_memory_handler (guestfs_h *g);

/* ---- Events ----
 * Setting a callback replaces the previous one; cb == NULL removes it. */

/* Console output of the appliance (kernel and daemon messages).  buf is
 * not NUL-terminated and is only valid during the call. */
typedef void (*guestfs_log_message_cb) (guestfs_h *g, void *opaque,
                                        char *buf, int len);
/* The qemu child process has exited (or was killed). */
typedef void (*guestfs_subprocess_quit_cb) (guestfs_h *g, void *opaque);
/* The appliance became ready (LAUNCHING -> READY). */
typedef void (*guestfs_launch_done_cb) (guestfs_h *g, void *opaque);

extern void guestfs_set_log_message_callback (guestfs_h *g,
                                              guestfs_log_message_cb cb,
                                              void *opaque);
extern void guestfs_set_subprocess_quit_callback (guestfs_h *g,
                                                  guestfs_subprocess_quit_cb cb,
                                                  void *opaque);
extern void guestfs_set_launch_done_callback (guestfs_h *g,
                                              guestfs_launch_done_cb cb,
                                              void *opaque);

/* A guestkit addition (the later libguestfs practice): progress of a
 * file transfer (upload, download, tar_in, tar_out, ... : the FileIn and
 * FileOut calls), called in the calling thread after each chunk.
 * position is the bytes moved so far; total is the whole size when it
 * is known (a FileIn from a regular file), else 0.  proc_nr is the
 * call's procedure number, serial its request's serial. */
typedef void (*guestfs_progress_cb) (guestfs_h *g, void *opaque, int proc_nr,
                                     int serial, uint64_t position, uint64_t total);
extern void guestfs_set_progress_callback (guestfs_h *g, guestfs_progress_cb cb,
                                           void *opaque);

/* ---- Structs and calls (generated from schemas/) ---- */

#include "guestfs-structs.h"
#include "guestfs-actions.h"

/* ---- Additions beyond the 2009 API ---- */

/* Add a drive with options, given as (key, value) pairs ending with -1:
 *   GUESTFS_ADD_DRIVE_OPTS_FORMAT,   const char *  "raw" (default), "qcow2", ...
 *   GUESTFS_ADD_DRIVE_OPTS_READONLY, int           1: never written
 *   GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING, int      1: the caller made this
 *       image (a qcow2 overlay, say) and vouches for the backing files
 *       it names: they are opened by the library, read-only, and handed
 *       to qemu (see SECURITY.md); 0 (default): such an image is refused
 * The format is never probed from the image's contents. */
#define GUESTFS_ADD_DRIVE_OPTS_READONLY 0
#define GUESTFS_ADD_DRIVE_OPTS_FORMAT   1
#define GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING 2
extern int guestfs_add_drive_opts (guestfs_h *g, const char *filename, ...);

/* The same, with the options in a struct; set a bit in `bitmask' for each
 * field given. */
#define GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK (UINT64_C (1) << 0)
#define GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK   (UINT64_C (1) << 1)
#define GUESTFS_ADD_DRIVE_OPTS_TRUST_BACKING_BITMASK (UINT64_C (1) << 2)
struct guestfs_add_drive_opts_argv {
  uint64_t bitmask;    /* which fields below are set */
  int readonly;        /* 1: the image is opened read-only */
  const char *format;  /* "raw", "qcow2", ...; not copied */
  int trust_backing;   /* 1: the image's backing files are allowed */
};
extern int guestfs_add_drive_opts_argv (guestfs_h *g, const char *filename,
                                        const struct guestfs_add_drive_opts_argv *optargs);

/* Create a new, empty disk image file in the library (no appliance is
 * needed, any state): format "raw" (a sparse file) or "qcow2" (version 3,
 * 64 KiB clusters, as qemu-img create writes it); size in bytes, rounded
 * up to a multiple of 512, or -1 with a backing file for its size.  The
 * file must not exist: it is created, never overwritten, and removed
 * again if writing it fails.  Options, (key, value) pairs ending with -1:
 *   GUESTFS_DISK_CREATE_BACKINGFILE,    const char *  qcow2 only: the
 *       backing file's name, written as given; relative to the new
 *       file's directory unless absolute; it must exist (a regular file
 *       or block device); no protocol prefix ("json:", "nbd:", ...)
 *   GUESTFS_DISK_CREATE_BACKINGFORMAT,  const char *  its format, needed
 *       with a backing file (never probed); size -1 reads the size of a
 *       raw or qcow2 backing file only
 *   GUESTFS_DISK_CREATE_PREALLOCATION,  const char *  "off" or "sparse"
 *   GUESTFS_DISK_CREATE_COMPAT,         const char *  qcow2: "1.1" only
 *   GUESTFS_DISK_CREATE_CLUSTERSIZE,    int           qcow2: 65536 only
 * Other values are refused with an error that names them. */
#define GUESTFS_DISK_CREATE_BACKINGFILE   0
#define GUESTFS_DISK_CREATE_BACKINGFORMAT 1
#define GUESTFS_DISK_CREATE_PREALLOCATION 2
#define GUESTFS_DISK_CREATE_COMPAT        3
#define GUESTFS_DISK_CREATE_CLUSTERSIZE   4
extern int guestfs_disk_create (guestfs_h *g, const char *filename,
                                const char *format, int64_t size, ...);

/* The same, with the options in a struct; set a bit in `bitmask' for each
 * field given.  The strings are not copied. */
#define GUESTFS_DISK_CREATE_BACKINGFILE_BITMASK   (UINT64_C (1) << 0)
#define GUESTFS_DISK_CREATE_BACKINGFORMAT_BITMASK (UINT64_C (1) << 1)
#define GUESTFS_DISK_CREATE_PREALLOCATION_BITMASK (UINT64_C (1) << 2)
#define GUESTFS_DISK_CREATE_COMPAT_BITMASK        (UINT64_C (1) << 3)
#define GUESTFS_DISK_CREATE_CLUSTERSIZE_BITMASK   (UINT64_C (1) << 4)
struct guestfs_disk_create_argv {
  uint64_t bitmask;           /* which fields below are set */
  const char *backingfile;    /* backing file name (qcow2) */
  const char *backingformat;  /* its format: "raw", "qcow2", ... */
  const char *preallocation;  /* "off" or "sparse" */
  const char *compat;         /* "1.1" */
  int clustersize;            /* 65536 */
};
extern int guestfs_disk_create_argv (guestfs_h *g, const char *filename,
                                     const char *format, int64_t size,
                                     const struct guestfs_disk_create_argv *optargs);

#ifdef __cplusplus
}
#endif

#endif /* GUESTFS_H_ */
