/* runner/rn-mount.h: guestkit mount, a guest as a FUSE filesystem (mount.c,
 * mount-ops.c, mount-cache.c).
 *
 * Part of runner.h, which includes every rn-*.h in order; one section
 * per file of runner/.
 */
#ifndef RN_MOUNT_H
#define RN_MOUNT_H

#include <pthread.h>
#include <stddef.h>

#include "guestfs.h"

/* ---- mount.c, mount-ops.c, mount-cache.c: guestkit mount (FUSE) ---- */

struct rn_mcent;
/* The caches of one mount, by guest path (a hash table). */
struct rn_mcache {
  struct rn_mcent **tab;     /* chains */
  size_t size;               /* slots in tab, a power of two */
  size_t n;                  /* entries */
};
/* One mount: one handle, one appliance.  FUSE runs its requests in
 * several threads; lock serialises them on the handle (and guards the
 * caches and open files). */
struct rn_mnt {
  guestfs_h *g;
  pthread_mutex_t lock;
  int rw;                    /* --rw: writes allowed */
  int verbose;               /* -v: each request on stderr */
  int dead;                  /* the appliance is gone: everything is EIO */
  int failed;                /* set by the handle's error handler */
  int direct_io;             /* -o direct_io: no kernel page cache */
  unsigned gen;              /* bumped by every change (stale read-aheads) */
  struct rn_mcache cache;
};
int rn_cmd_mount (int argc, char **argv);
/* mount-ops.c: the FUSE operations (a struct fuse_operations *). */
const void *rn_mnt_operations (void);
/* -errno for the handle's last error (EIO when the appliance died,
 * which also sets m->dead). */
int rn_mnt_errno (struct rn_mnt *m);
/* The appliance is gone (why): said once on stderr; from now on every
 * request fails with EIO.  Under m->lock. */
void rn_mnt_gone (struct rn_mnt *m, const char *why);
/* mount-cache.c: stat, link and xattr caches, filled a directory at a
 * time (readdirplus, readlinklist, lxattrlist).  All under m->lock. */
struct stat;
int rn_mc_stat (struct rn_mnt *m, const char *path, struct stat *st);
/* The names in directory path (NULL-terminated, the cache's: valid until
 * the next cache call), or NULL with *err = -errno. */
char *const *rn_mc_kids (struct rn_mnt *m, const char *path, int *err);
/* The target of symlink path, the cache's; NULL with *err = -errno. */
const char *rn_mc_readlink (struct rn_mnt *m, const char *path, int *err);
/* The xattrs of path (not following a link) as the cache's list; NULL
 * with *err = -errno. */
const struct guestfs_xattr_list *rn_mc_xattrs (struct rn_mnt *m, const char *path,
                                               int *err);
void rn_mc_forget (struct rn_mnt *m, const char *path);  /* its attributes changed */
void rn_mc_clear (struct rn_mnt *m);                     /* names changed */

#endif /* RN_MOUNT_H */
